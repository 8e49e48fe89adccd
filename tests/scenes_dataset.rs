//! End-to-end checks of the scene generator, its queries, the ReasonSeg
//! dataset round trip and the scoring, over many seeds.

use std::collections::BTreeSet;

use twinseg::mask::Mask;
use twinseg::palette::{by_name, PALETTE};
use twinseg::scenes::{self, QueryKind, Scene, SceneConfig, SceneObject, ShapeKind};

const SEEDS: std::ops::Range<u64> = 0..60;

fn boundary(mask: &Mask) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for y in 0..mask.height() {
        for x in 0..mask.width() {
            let edge = mask.get(x, y)
                && (x == 0
                    || y == 0
                    || !mask.get(x - 1, y)
                    || !mask.get(x + 1, y)
                    || !mask.get(x, y - 1)
                    || !mask.get(x, y + 1));
            if edge {
                out.push((i64::from(x), i64::from(y)));
            }
        }
    }
    out
}

fn min_distance(a: &[(i64, i64)], b: &[(i64, i64)]) -> f64 {
    let mut best = i64::MAX;
    for p in a {
        for q in b {
            best = best.min((p.0 - q.0).pow(2) + (p.1 - q.1).pow(2));
        }
    }
    (best as f64).sqrt()
}

fn colour_distance(a: [u8; 3], b: [u8; 3]) -> i32 {
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
        .max()
        .unwrap_or(0)
}

fn top_level(scene: &Scene) -> Vec<&SceneObject> {
    scene
        .objects
        .iter()
        .filter(|o| o.parent.is_none())
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_scene_and_queries() {
    for seed in [0, 7, 123_456_789] {
        let (a, b) = (scenes::generate(seed), scenes::generate(seed));
        assert_eq!(a, b);
        assert_eq!(scenes::queries(&a), scenes::queries(&b));
    }
    assert_ne!(scenes::generate(7).image, scenes::generate(8).image);
}

#[test]
fn image_size_background_and_corner_follow_the_contract() {
    for seed in SEEDS {
        let scene = scenes::generate(seed);
        let (w, h) = scene.image.dimensions();
        assert!(
            (320..=800).contains(&w) && (320..=800).contains(&h),
            "seed {seed}: {w}x{h}"
        );
        assert!(
            scene.background.iter().all(|&v| v >= 215),
            "seed {seed}: background {:?}",
            scene.background
        );
        for y in 0..16 {
            for x in 0..16 {
                let px = scene.image.get_pixel(x, y).0;
                assert!(
                    colour_distance(px, scene.background) <= 6,
                    "seed {seed}: corner pixel {px:?}"
                );
            }
        }
        for colour in PALETTE.iter().filter(|c| c.name != "white") {
            assert!(
                colour_distance(colour.rgb, scene.background) > 60,
                "seed {seed}: {} near background",
                colour.name
            );
        }
    }
}

#[test]
fn objects_keep_sizes_margins_gaps_and_palette_colours() {
    for seed in SEEDS {
        let scene = scenes::generate(seed);
        let (w, h) = scene.image.dimensions();
        let tops = top_level(&scene);
        assert!(
            (2..=6).contains(&tops.len()),
            "seed {seed}: {} top-level objects",
            tops.len()
        );
        for o in &scene.objects {
            let colour = by_name(&o.colour)
                .unwrap_or_else(|| panic!("seed {seed}: colour {} not in palette", o.colour));
            assert_ne!(colour.name, "white");
            assert!(
                o.size >= 40.0,
                "seed {seed}: object {} size {}",
                o.id,
                o.size
            );
            let b = o.bbox();
            assert!(
                b.width().max(b.height()) >= 30,
                "seed {seed}: object {} box {b:?}",
                o.id
            );
            assert!(
                b.x0 >= 16 && b.y0 >= 16 && b.x1 + 16 <= w && b.y1 + 16 <= h,
                "seed {seed}: object {} at {b:?}",
                o.id
            );
        }
        let edges: Vec<_> = tops.iter().map(|o| boundary(&o.mask)).collect();
        for i in 0..tops.len() {
            for j in i + 1..tops.len() {
                assert_eq!(tops[i].mask.intersection_area(&tops[j].mask), 0);
                let gap = min_distance(&edges[i], &edges[j]);
                assert!(
                    gap >= 24.0,
                    "seed {seed}: objects {} and {} are {gap:.1} px apart",
                    tops[i].id,
                    tops[j].id
                );
            }
        }
    }
}

#[test]
fn pixels_are_flat_object_colours_with_small_noise() {
    for seed in 0..10 {
        let scene = scenes::generate(seed);
        for o in &scene.objects {
            let rgb = by_name(&o.colour).map(|c| c.rgb).unwrap_or_default();
            let mut own = o.mask.clone();
            for child in scene.children(o.id) {
                own.subtract(&scene.objects[child].mask);
            }
            for y in 0..own.height() {
                for x in 0..own.width() {
                    if own.get(x, y) {
                        assert!(
                            colour_distance(scene.image.get_pixel(x, y).0, rgb) <= 6,
                            "seed {seed}: object {} pixel {x},{y}",
                            o.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn nested_shapes_sit_inside_their_host_with_a_margin_and_another_colour() {
    let config = SceneConfig {
        nested_probability: 1.0,
        ..SceneConfig::default()
    };
    let mut nested_seen = 0;
    for seed in SEEDS {
        let scene = scenes::generate_with(seed, &config);
        for child in scene.objects.iter().filter(|o| o.parent.is_some()) {
            nested_seen += 1;
            let host = &scene.objects[child.parent.unwrap_or_default()];
            assert!(host.parent.is_none());
            assert_ne!(host.colour, child.colour, "seed {seed}");
            assert_eq!(
                child.mask.intersection_area(&host.mask),
                child.area(),
                "seed {seed}: child leaks out of host"
            );
            let mut ring = host.mask.clone();
            ring.subtract(&child.mask);
            let outside: Vec<_> = boundary(&host.mask);
            let margin = min_distance(&boundary(&child.mask), &outside);
            assert!(
                margin >= 12.0,
                "seed {seed}: child {margin:.1} px from host edge"
            );
            assert!(ring.area() > 0);
        }
    }
    assert!(
        nested_seen >= 55,
        "only {nested_seen} of 60 forced-nesting scenes nest"
    );
}

#[test]
fn defaults_mix_nesting_shared_colours_and_every_shape() {
    let mut nested = 0;
    let mut shared_colour = 0;
    let mut shapes = BTreeSet::new();
    for seed in SEEDS {
        let scene = scenes::generate(seed);
        nested += usize::from(scene.objects.iter().any(|o| o.parent.is_some()));
        let colours: BTreeSet<_> = scene.objects.iter().map(|o| o.colour.clone()).collect();
        shared_colour += usize::from(colours.len() < scene.objects.len());
        shapes.extend(scene.objects.iter().map(|o| o.shape));
    }
    assert!((8..=35).contains(&nested), "{nested} of 60 scenes nest");
    assert!(
        shared_colour >= 8,
        "{shared_colour} of 60 scenes share a colour"
    );
    assert_eq!(shapes.len(), ShapeKind::ALL.len());
}

fn reference_in(scene: &Scene, text: &str) -> Option<usize> {
    scene
        .objects
        .iter()
        .find(|o| text.ends_with(&format!("the {} {}", o.colour, o.shape)))
        .map(|o| o.id)
}

/// Whether a colour or shape query's wording describes `o`, by an
/// independent reading of the generator's vocabulary.
fn described_by(text: &str, o: &SceneObject) -> bool {
    let words: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let padded = format!(" {words} ");
    let has = |phrase: &str| padded.contains(&format!(" {phrase} "));
    let colour_words: [(&str, &[&str]); 11] = [
        ("red", &["red", "tomato", "fire engine"]),
        ("orange", &["orange", "pumpkin", "carrot"]),
        ("yellow", &["yellow", "banana", "lemon"]),
        ("green", &["green", "grass", "leaf"]),
        ("cyan", &["cyan", "turquoise", "teal", "lagoon"]),
        ("blue", &["blue", "sky on a clear day", "sapphire"]),
        ("purple", &["purple", "violet", "grape", "lavender"]),
        ("pink", &["pink", "flamingo", "bubble gum"]),
        ("brown", &["brown", "chocolate", "tree trunk"]),
        ("black", &["black", "coal", "night sky"]),
        ("grey", &["grey", "gray", "elephant", "rain cloud"]),
    ];
    let warm = ["red", "orange", "yellow"].contains(&o.colour.as_str());
    if has("warm") || has("cool") {
        return warm == has("warm");
    }
    if let Some((colour, _)) = colour_words
        .iter()
        .find(|(_, words)| words.iter().any(|w| has(w)))
    {
        return o.colour == *colour;
    }
    use ShapeKind::*;
    let shapes: &[ShapeKind] = if has("three") {
        &[Triangle]
    } else if has("four") {
        &[Square, Rectangle]
    } else if has("six") {
        &[Hexagon]
    } else if has("five") {
        &[Star]
    } else if has("roll") {
        &[Circle]
    } else if has("round") || has("no corners") || has("curved") {
        &[Circle, Ellipse]
    } else if has("corners") || has("straight") {
        &[Square, Rectangle, Triangle, Star, Hexagon]
    } else if has("elongated") || has("longer") || has("stretched") {
        &[Rectangle, Ellipse]
    } else {
        return has(o.shape.name()) || has(&o.shape.plural());
    };
    shapes.contains(&o.shape)
}

/// The objects a query ranks: those its colour or shape words describe, or
/// all of them when it names no group.
fn group<'s>(scene: &'s Scene, text: &str) -> Vec<&'s SceneObject> {
    let named: Vec<&SceneObject> = scene
        .objects
        .iter()
        .filter(|o| described_by(text, o))
        .collect();
    if named.is_empty() {
        scene.objects.iter().collect()
    } else {
        named
    }
}

fn check_query(scene: &Scene, q: &scenes::SceneQuery) {
    let text = &q.text[0];
    let tops = top_level(scene);
    let cx = |id: usize| scene.objects[id].centre.0;
    let cy = |id: usize| scene.objects[id].centre.1;
    let t = q.targets[0];
    match q.kind {
        QueryKind::Colour | QueryKind::Shape | QueryKind::Plural => {
            let targets: BTreeSet<usize> = q.targets.iter().copied().collect();
            for phrasing in &q.text {
                let expected: BTreeSet<usize> = scene
                    .objects
                    .iter()
                    .filter(|o| described_by(phrasing, o))
                    .map(|o| o.id)
                    .collect();
                assert_eq!(targets, expected, "{phrasing}");
            }
            assert_eq!(q.kind == QueryKind::Plural, targets.len() >= 2, "{text}");
        }
        QueryKind::Superlative => {
            let areas: Vec<u64> = group(scene, text).iter().map(|o| o.area()).collect();
            let expected = if text.contains("biggest") {
                areas.iter().max()
            } else {
                areas.iter().min()
            };
            assert_eq!(Some(&scene.objects[t].area()), expected, "{text}");
        }
        QueryKind::Extreme if text.contains("corner") || text.contains("middle") => {
            let (w, h) = scene.image.dimensions();
            let (w, h) = (w as f32, h as f32);
            let point = match text.as_str() {
                s if s.contains("middle") => (w / 2.0, h / 2.0),
                s if s.contains("top-left") => (0.0, 0.0),
                s if s.contains("top-right") => (w, 0.0),
                s if s.contains("bottom-left") => (0.0, h),
                _ => (w, h),
            };
            let d = |id: usize| (cx(id) - point.0).hypot(cy(id) - point.1);
            assert!(tops.iter().all(|o| o.id == t || d(o.id) > d(t)), "{text}");
        }
        QueryKind::Extreme => {
            let key = |id: usize| match text.as_str() {
                s if s.contains("left") => cx(id),
                s if s.contains("right") => -cx(id),
                s if s.contains("top") => cy(id),
                _ => -cy(id),
            };
            assert!(scene.objects[t].parent.is_none());
            let members = group(scene, text);
            assert!(members.iter().any(|o| o.id == t), "{text}");
            assert!(
                members
                    .iter()
                    .filter(|o| o.parent.is_none())
                    .all(|o| o.id == t || key(o.id) > key(t)),
                "{text}"
            );
        }
        QueryKind::Ordinal => {
            let mut order: Vec<usize> = tops.iter().map(|o| o.id).collect();
            let (horizontal, reversed) = (
                text.contains("left") || text.contains("right"),
                text.contains("right") || text.contains("bottom"),
            );
            order.sort_by(|&a, &b| {
                let (ka, kb) = if horizontal {
                    (cx(a), cx(b))
                } else {
                    (cy(a), cy(b))
                };
                if reversed {
                    kb.total_cmp(&ka)
                } else {
                    ka.total_cmp(&kb)
                }
            });
            let rank = if text.contains("second") { 1 } else { 2 };
            assert_eq!(order[rank], t, "{text}");
        }
        QueryKind::Relation if text.contains("closest to") => {
            let r = reference_in(scene, text).unwrap_or_else(|| panic!("no reference in {text}"));
            let d = |id: usize| (cx(id) - cx(r)).hypot(cy(id) - cy(r));
            assert!(
                tops.iter()
                    .all(|o| o.id == t || o.id == r || d(o.id) > d(t)),
                "{text}"
            );
        }
        QueryKind::Relation if text.contains("between") => {
            let names: Vec<usize> = scene
                .objects
                .iter()
                .filter(|o| text.contains(&format!("the {} {}", o.colour, o.shape)))
                .map(|o| o.id)
                .collect();
            let [a, b] = names.as_slice() else {
                panic!("{text}: references {names:?}")
            };
            let (dx, dy) = (cx(*b) - cx(*a), cy(*b) - cy(*a));
            let along = ((cx(t) - cx(*a)) * dx + (cy(t) - cy(*a)) * dy) / (dx * dx + dy * dy);
            assert!((0.2..=0.8).contains(&along), "{text}: target at {along}");
        }
        QueryKind::Relation => {
            let r = reference_in(scene, text).unwrap_or_else(|| panic!("no reference in {text}"));
            let rb = scene.objects[r].bbox();
            for &id in &q.targets {
                let b = scene.objects[id].bbox();
                let side = if text.contains("left") {
                    b.x1 <= rb.x0
                } else if text.contains("right") {
                    b.x0 >= rb.x1
                } else if text.contains("above") {
                    b.y1 <= rb.y0
                } else {
                    b.y0 >= rb.y1
                };
                assert!(side, "{text}: target {id} {b:?} vs {rb:?}");
            }
        }
        QueryKind::Containment => {
            if text.contains("inside") && !text.contains("inside of") {
                assert!(
                    q.targets
                        .iter()
                        .all(|&id| scene.objects[id].parent.is_some()),
                    "{text}"
                );
            } else {
                assert!(
                    q.targets.iter().all(|&id| !scene.children(id).is_empty()),
                    "{text}"
                );
            }
        }
        QueryKind::Negation => {
            let union = scene.union_mask(&q.targets);
            let excluded: Vec<&SceneObject> = scene
                .objects
                .iter()
                .filter(|o| !q.targets.contains(&o.id))
                .collect();
            assert!(!excluded.is_empty());
            for o in excluded {
                let mut own = o.mask.clone();
                for child in scene.children(o.id) {
                    own.subtract(&scene.objects[child].mask);
                }
                assert_eq!(
                    union.intersection_area(&own),
                    0,
                    "{text}: excluded object {} in answer",
                    o.id
                );
                assert!(
                    text.contains(o.colour.as_str()) || text.contains(o.shape.name()),
                    "{text}"
                );
            }
        }
        QueryKind::Counting => assert!(q.targets.len() >= 2, "{text}"),
        QueryKind::ColourShape | QueryKind::Comparative => {}
    }
}

#[test]
fn query_answers_agree_with_the_geometry() {
    let mut kinds = BTreeSet::new();
    for seed in SEEDS {
        let scene = scenes::generate(seed);
        let queries = scenes::queries(&scene);
        assert!(
            queries.len() >= 5,
            "seed {seed}: only {} queries",
            queries.len()
        );
        for q in &queries {
            assert!(
                !q.text.is_empty() && !q.targets.is_empty(),
                "seed {seed}: {q:?}"
            );
            assert!(q.targets.iter().all(|&id| id < scene.objects.len()));
            check_query(&scene, q);
            kinds.insert(q.kind);
        }
    }
    assert_eq!(kinds.len(), QueryKind::ALL.len(), "kinds seen: {kinds:?}");
}

#[test]
fn the_smaller_of_two_same_coloured_objects_is_really_smaller() {
    let mut asked = 0;
    for seed in SEEDS {
        let scene = scenes::generate(seed);
        for q in scenes::queries(&scene)
            .iter()
            .filter(|q| q.text[0].starts_with("the smaller of the two"))
        {
            let word = q.text[0]
                .trim_start_matches("the smaller of the two ")
                .trim_end_matches(" objects")
                .trim_end_matches('s');
            let pair: Vec<&SceneObject> = scene
                .objects
                .iter()
                .filter(|o| o.colour == word || o.shape.name() == word)
                .collect();
            assert_eq!(pair.len(), 2, "{}", q.text[0]);
            let other = pair
                .iter()
                .find(|o| o.id != q.targets[0])
                .map(|o| o.area())
                .unwrap_or(0);
            assert!(
                scene.objects[q.targets[0]].area() * 13 <= other * 10,
                "{}",
                q.text[0]
            );
            asked += 1;
        }
    }
    assert!(asked >= 5, "only {asked} comparative queries in 60 scenes");
}

mod dataset_round_trip {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;
    use twinseg::dataset::{self, Annotation, DatasetError, Shape, ShapeLabel};
    use twinseg::eval::Scores;
    use twinseg::mask::Mask;
    use twinseg::scenes::{self, QueryKind};

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("twinseg-scenes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn written_scene_samples_load_back_with_their_answer_masks() {
        let dir = temp_dir("round-trip");
        let base = 2024;
        let written: Vec<_> = (0..24)
            .map(|i| dataset::write_scene_sample(&dir, base, i).expect("write sample"))
            .collect();
        let mut per_kind = std::collections::BTreeMap::new();
        for w in &written {
            *per_kind.entry(w.kind).or_insert(0) += 1;
        }
        assert!(
            QueryKind::ALL.iter().all(|k| per_kind.get(k) == Some(&2)),
            "24 samples should hold every kind twice: {per_kind:?}"
        );

        let samples = dataset::load_dir(&dir).expect("load dataset");
        assert_eq!(samples.len(), written.len());
        let mut scores = Scores::new();
        for (index, (sample, w)) in samples.iter().zip(&written).enumerate() {
            assert_eq!(sample.name, w.name);
            let (_, scene, _, query) = dataset::scene_sample(base, index as u64).expect("scene");
            assert_eq!(sample.queries(), query.text.as_slice());
            assert_eq!(sample.query_type(), Some(w.kind.name()));
            assert_eq!((sample.width, sample.height), scene.image.dimensions());
            let truth = scene.union_mask(&query.targets);
            let gt = sample.ground_truth();
            assert!(gt.ignore.is_empty());
            let iou = gt.target.iou(&truth);
            assert!(iou >= 0.99, "{}: IoU {iou}", sample.name);
            scores
                .add_prediction(sample.query_type(), &truth, &gt.target, &gt.ignore)
                .expect("same size");
        }
        assert!(
            scores.giou() >= 0.99 && scores.ciou() >= 0.99,
            "{}",
            scores.summary_line()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn polygon_scenes_round_trip_exactly() {
        let dir = temp_dir("exact");
        let mut checked = 0;
        for index in 0..40 {
            let (seed, scene, _, query) = dataset::scene_sample(7, index).expect("scene");
            let polygons_only = query.targets.iter().all(|&id| {
                !matches!(
                    scene.objects[id].shape,
                    scenes::ShapeKind::Circle | scenes::ShapeKind::Ellipse
                )
            });
            if !polygons_only {
                continue;
            }
            let annotation = Annotation::for_scene_query(&scene, &query, Some(seed));
            let json = dataset::write_sample(&dir, &format!("s{index}"), &scene.image, &annotation)
                .expect("write");
            let sample = dataset::load_sample(&json).expect("load");
            assert_eq!(
                sample.ground_truth().target,
                scene.union_mask(&query.targets),
                "sample {index}"
            );
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} polygon-only samples");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ignore_regions_are_excluded_from_scoring() {
        let dir = temp_dir("ignore");
        let image = image::RgbImage::from_pixel(20, 10, image::Rgb([200, 200, 200]));
        let annotation = Annotation {
            text: vec!["the left half".into()],
            shapes: vec![
                Shape {
                    label: ShapeLabel::Target,
                    points: vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
                },
                Shape {
                    label: ShapeLabel::Ignore,
                    points: vec![[10.0, 0.0], [15.0, 0.0], [15.0, 10.0], [10.0, 10.0]],
                },
            ],
            ..Annotation::default()
        };
        let json = dataset::write_sample(&dir, "half", &image, &annotation).expect("write");
        let gt = dataset::load_sample(&json).expect("load").ground_truth();
        assert_eq!((gt.target.area(), gt.ignore.area()), (100, 50));
        let predicted = Mask::from_fn(20, 10, |x, _| x < 15);
        let mut scores = Scores::new();
        let score = scores
            .add_prediction(None, &predicted, &gt.target, &gt.ignore)
            .expect("same size");
        assert_eq!((score.intersection, score.union), (100, 100));
        assert_eq!(scores.summary_line(), "gIoU=1.000 cIoU=1.000 n=1");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn broken_datasets_give_errors_that_name_the_file() {
        let dir = temp_dir("broken");
        std::fs::create_dir_all(&dir).expect("dir");
        assert!(matches!(
            dataset::load_dir(&dir),
            Err(DatasetError::NoSamples { .. })
        ));
        assert!(matches!(
            dataset::load_dir(&dir.join("absent")),
            Err(DatasetError::Io { .. })
        ));

        let json = dir.join("lonely.json");
        std::fs::write(
            &json,
            r#"{"text": ["q"], "is_sentence": false, "shapes": []}"#,
        )
        .expect("write");
        let err = dataset::load_dir(&dir).expect_err("image missing");
        assert!(matches!(err, DatasetError::MissingImage { .. }));
        assert!(err.to_string().contains("lonely.jpg"), "{err}");

        std::fs::write(dir.join("lonely.jpg"), b"not an image").expect("write");
        let err = dataset::load_dir(&dir).expect_err("image unreadable");
        assert!(matches!(err, DatasetError::Image { .. }), "{err}");

        std::fs::write(
            &json,
            r#"{"text": ["q"], "shapes": [{"label": "target", "points": "x"}]}"#,
        )
        .expect("write");
        let err = dataset::load_sample(&json).expect_err("bad points");
        assert!(
            err.to_string().contains("lonely.json") && err.to_string().contains("shapes[0]"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            "[a-z]{0,6}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::from("target")),
            Just(serde_json::Value::from("ignore")),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("text".to_string()),
                        Just("shapes".to_string()),
                        Just("label".to_string()),
                        Just("points".to_string()),
                        Just("is_sentence".to_string()),
                        "[a-z]{1,4}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn parsing_and_rasterising_arbitrary_annotations_never_panics(value in any_json(), w in 0u32..40, h in 0u32..40) {
            if let Ok(annotation) = Annotation::parse(Path::new("p.json"), &value.to_string()) {
                let gt = annotation.rasterise(w, h);
                prop_assert_eq!(gt.target.intersection_area(&gt.ignore), 0);
            }
        }

        #[test]
        fn arbitrary_polygons_rasterise_inside_the_image(points in prop::collection::vec((-1e6f64..1e6, -1e6f64..1e6), 0..12), w in 0u32..30, h in 0u32..30) {
            let points: Vec<[f64; 2]> = points.into_iter().map(|(x, y)| [x, y]).collect();
            let mask = dataset::raster::polygon_mask(w, h, &points);
            prop_assert_eq!(dataset::raster::polygon_pixel_count(w, h, &points), mask.area());
            prop_assert!(mask.area() <= u64::from(w) * u64::from(h));
        }
    }
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::Command;

    #[test]
    fn scenes_command_writes_a_loadable_set_and_reports_it() {
        let dir = std::env::temp_dir().join(format!("twinseg-scenes-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_twinseg"))
            .args([
                "scenes",
                dir.to_str().unwrap_or_default(),
                "--n",
                "5",
                "--seed",
                "11",
            ])
            .output()
            .expect("run twinseg");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("wrote 5 samples"), "{stdout}");
        let samples = twinseg::dataset::load_dir(&dir).expect("load written set");
        assert_eq!(samples.len(), 5);
        for s in &samples {
            assert!(stdout.contains(&s.name), "{} not reported", s.name);
            assert!(s.query_type().is_some() && !s.ground_truth().target.is_empty());
        }

        let bad = Command::new(env!("CARGO_BIN_EXE_twinseg"))
            .args(["scenes", dir.to_str().unwrap_or_default(), "--n", "0"])
            .output()
            .expect("run twinseg");
        assert!(!bad.status.success());
        let stderr = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--n"), "{stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
