//! End-to-end checks of the Digital Twin on generated scenes: the builder is
//! fed the scenes' ground-truth masks, and the twin must name every object's
//! colour and shape, keep the nesting, and place objects where they are.

use std::collections::HashMap;

use twinseg::scenes::{self, Scene};
use twinseg::twin::{self, DigitalTwin, Level, RelationKind, TwinError, TwinInput, FRAME};

const SCENES: u64 = 40;
const SCHEMA_PATH: &str = "schema/digital-twin.v1.schema.json";

fn inputs(scene: &Scene) -> Vec<TwinInput> {
    scene
        .objects
        .iter()
        .map(|o| TwinInput {
            mask: o.mask.clone(),
            parent: o.parent,
            predicted_iou: 0.95,
            stability_score: 0.97,
            label: None,
        })
        .collect()
}

fn twin_of(seed: u64) -> (Scene, DigitalTwin) {
    let scene = scenes::generate(scenes::scene_seed(7, seed));
    let twin = twin::build(&scene.image, &inputs(&scene));
    (scene, twin)
}

/// Maps scene object index to twin object.
fn by_segment(twin: &DigitalTwin) -> HashMap<usize, &twin::TwinObject> {
    twin.objects
        .iter()
        .map(|o| (o.segment as usize, o))
        .collect()
}

#[test]
fn colour_and_shape_words_are_right_on_generated_scenes() {
    let (mut total, mut colour_ok, mut shape_ok) = (0, 0, 0);
    let mut misses = Vec::new();
    for seed in 0..SCENES {
        let (scene, twin) = twin_of(seed);
        assert_eq!(twin.objects.len(), scene.objects.len(), "scene {seed}");
        let objects = by_segment(&twin);
        for truth in &scene.objects {
            let o = objects[&truth.id];
            total += 1;
            if o.colours.first().map(|c| c.name.as_str()) == Some(truth.colour.as_str()) {
                colour_ok += 1;
            } else {
                misses.push(format!(
                    "scene {seed} #{}: colour {:?} want {}",
                    truth.id, o.colours, truth.colour
                ));
            }
            if o.shape.word.map(|w| w.word()) == Some(truth.shape.name()) {
                shape_ok += 1;
            } else {
                misses.push(format!(
                    "scene {seed} #{}: shape {:?} want {}",
                    truth.id, o.shape, truth.shape
                ));
            }
        }
    }
    assert!(total >= 60, "only {total} objects in {SCENES} scenes");
    let colour_rate = f64::from(colour_ok) / f64::from(total);
    let shape_rate = f64::from(shape_ok) / f64::from(total);
    eprintln!(
        "{total} objects: colour {colour_rate:.3}, shape {shape_rate:.3}; misses: {misses:?}"
    );
    assert!(
        colour_rate >= 0.95,
        "colour {colour_ok}/{total}: {misses:#?}"
    );
    assert!(shape_rate >= 0.95, "shape {shape_ok}/{total}: {misses:#?}");
}

#[test]
fn nesting_becomes_parent_and_child_with_levels() {
    let mut nested = 0;
    for seed in 0..SCENES {
        let (scene, twin) = twin_of(seed);
        let objects = by_segment(&twin);
        for truth in &scene.objects {
            let o = objects[&truth.id];
            let want_parent = truth.parent.map(|p| objects[&p].id);
            assert_eq!(o.parent, want_parent, "scene {seed} object {}", truth.id);
            let want_level = if truth.parent.is_some() {
                Level::Part
            } else {
                Level::Object
            };
            assert_eq!(o.level, want_level, "scene {seed} object {}", truth.id);
            if let Some(p) = o.parent {
                nested += 1;
                assert!(
                    twin.objects.iter().position(|x| x.id == p)
                        < twin.objects.iter().position(|x| x.id == o.id)
                );
                let host = &scene.objects[truth.parent.unwrap_or_default()];
                let own_colour = &objects[&host.id].colours[0].name;
                assert_eq!(
                    own_colour, &host.colour,
                    "host colour must exclude its child"
                );
            }
        }
        twin.validate().unwrap();
    }
    assert!(
        nested >= 3,
        "only {nested} nested objects: the test does not exercise nesting"
    );
}

fn frame(v: f64, extent: u32) -> f64 {
    v / f64::from(extent) * f64::from(FRAME)
}

#[test]
fn boxes_centroids_and_position_words_agree_with_the_scene_geometry() {
    for seed in 0..SCENES {
        let (scene, twin) = twin_of(seed);
        let (w, h) = scene.image.dimensions();
        let objects = by_segment(&twin);
        for truth in &scene.objects {
            let o = objects[&truth.id];
            let b = truth.bbox();
            let want = [
                frame(f64::from(b.x0), w),
                frame(f64::from(b.y0), h),
                frame(f64::from(b.x1), w),
                frame(f64::from(b.y1), h),
            ];
            for (got, want) in o.bbox.iter().zip(want) {
                assert!(
                    (f64::from(*got) - want).abs() <= 1.0,
                    "bbox {:?} vs {want:?}",
                    o.bbox
                );
            }
            let (cx, cy) = (
                frame(f64::from(truth.centre.0), w),
                frame(f64::from(truth.centre.1), h),
            );
            assert!(
                (f64::from(o.centroid[0]) - cx).abs() <= 2.0,
                "scene {seed}: centroid {:?} vs {cx},{cy}",
                o.centroid
            );
            assert!(
                (f64::from(o.centroid[1]) - cy).abs() <= 2.0,
                "scene {seed}: centroid {:?} vs {cx},{cy}",
                o.centroid
            );
            let column = (f64::from(truth.centre.0) * 3.0 / f64::from(w)).floor() as i32;
            let row = (f64::from(truth.centre.1) * 3.0 / f64::from(h)).floor() as i32;
            let word = o.position.word();
            let horizontal = match column {
                0 => word.ends_with("left"),
                1 => !word.contains("left") && !word.contains("right"),
                _ => word.ends_with("right"),
            };
            let vertical = match row {
                0 => word.starts_with("top"),
                1 => !word.starts_with("top") && !word.starts_with("bottom"),
                _ => word.starts_with("bottom"),
            };
            let near_a_line = [cx, cy]
                .iter()
                .any(|v| ((v / 333.3) - (v / 333.3).round()).abs() < 0.01);
            assert!(
                near_a_line || (horizontal && vertical),
                "scene {seed}: {word} for centre {:?} in {w}x{h}",
                truth.centre
            );
            let area = truth.area() as f64 * 100.0 / (f64::from(w) * f64::from(h));
            assert!(
                (f64::from(o.area_pct) - area).abs() < 0.006,
                "area {} vs {area}",
                o.area_pct
            );
        }
    }
}

#[test]
fn relations_hold_in_the_scene_and_clear_ones_are_listed() {
    let mut side_relations = 0;
    for seed in 0..SCENES {
        let (scene, twin) = twin_of(seed);
        let (w, h) = scene.image.dimensions();
        let truth_of: HashMap<u32, usize> = twin
            .objects
            .iter()
            .map(|o| (o.id, o.segment as usize))
            .collect();
        for r in &twin.relations {
            let (a, b) = (
                &scene.objects[truth_of[&r.a]],
                &scene.objects[truth_of[&r.b]],
            );
            let (ba, bb) = (a.bbox(), b.bbox());
            match r.kind {
                RelationKind::LeftOf => assert!(ba.x1 <= bb.x0, "scene {seed}: {r:?}"),
                RelationKind::Above => assert!(ba.y1 <= bb.y0, "scene {seed}: {r:?}"),
                RelationKind::Touching => {
                    panic!("scene {seed}: scene objects keep a gap, yet {r:?}")
                }
            }
            side_relations += 1;
        }
        let top: Vec<_> = scene
            .objects
            .iter()
            .filter(|o| o.parent.is_none())
            .collect();
        for a in &top {
            for b in &top {
                let (ba, bb) = (a.bbox(), b.bbox());
                let wide_gap = f64::from(bb.x0) - f64::from(ba.x1) > 0.03 * f64::from(w);
                let tall_gap = f64::from(bb.y0) - f64::from(ba.y1) > 0.03 * f64::from(h);
                let id = |o: &scenes::SceneObject| {
                    twin.objects
                        .iter()
                        .find(|t| t.segment as usize == o.id)
                        .map(|t| t.id)
                };
                let has = |kind| {
                    twin.relations
                        .iter()
                        .any(|r| r.kind == kind && Some(r.a) == id(a) && Some(r.b) == id(b))
                };
                if wide_gap {
                    assert!(
                        has(RelationKind::LeftOf),
                        "scene {seed}: {} left of {} missing",
                        a.id,
                        b.id
                    );
                }
                if tall_gap {
                    assert!(
                        has(RelationKind::Above),
                        "scene {seed}: {} above {} missing",
                        a.id,
                        b.id
                    );
                }
            }
        }
    }
    assert!(side_relations > 20);
}

#[test]
fn touching_objects_are_reported() {
    let scene = scenes::generate(scenes::scene_seed(7, 0));
    let mut segments = inputs(&scene);
    let first = segments[0].mask.bbox().unwrap();
    let neighbour =
        twinseg::mask::Mask::from_fn(scene.image.width(), scene.image.height(), |x, y| {
            (first.x1..first.x1 + 10).contains(&x) && (first.y0..first.y1).contains(&y)
        });
    segments.push(TwinInput {
        mask: neighbour,
        parent: None,
        predicted_iou: 0.5,
        stability_score: 0.5,
        label: Some("bar".into()),
    });
    let twin = twin::build(&scene.image, &segments);
    let id = |segment: usize| {
        twin.objects
            .iter()
            .find(|o| o.segment as usize == segment)
            .unwrap()
            .id
    };
    let (a, b) = (id(0), id(segments.len() - 1));
    assert!(
        twin.relations
            .iter()
            .any(|r| r.kind == RelationKind::Touching && [r.a, r.b] == [a.min(b), a.max(b)]),
        "{:?}",
        twin.relations
    );
    let compact = twin.compact();
    let line = compact
        .lines()
        .find(|l| l.starts_with("touching:"))
        .unwrap_or_default();
    assert!(
        line.split(' ')
            .any(|p| p == format!("{}-{}", a.min(b), a.max(b))),
        "{compact}"
    );
    assert!(compact.contains("\"bar\""), "{compact}");
}

#[test]
fn json_round_trip_and_clear_errors() {
    let (_, twin) = twin_of(3);
    let text = twin.to_json();
    assert_eq!(DigitalTwin::from_json(&text).unwrap(), twin);

    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["version"] = "2".into();
    let err = DigitalTwin::from_json(&value.to_string()).unwrap_err();
    assert!(matches!(err, TwinError::Version { .. }), "{err}");
    assert!(err.to_string().contains("\"2\""));

    let mut bad_parent = twin.clone();
    bad_parent.objects[0].parent = Some(99);
    let err = DigitalTwin::from_json(&serde_json::to_string(&bad_parent).unwrap()).unwrap_err();
    assert!(err.to_string().contains("parent 99"), "{err}");

    let mut twice = twin.clone();
    twice.objects.push(twin.objects[0].clone());
    let err = DigitalTwin::from_json(&serde_json::to_string(&twice).unwrap()).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");

    let mut off_frame = twin.clone();
    off_frame.objects[0].bbox[2] = 1001;
    assert!(DigitalTwin::from_json(&serde_json::to_string(&off_frame).unwrap()).is_err());

    let err = DigitalTwin::from_json("{\"version\": \"1\"").unwrap_err();
    assert!(matches!(err, TwinError::Json(_)), "{err}");
    let err = DigitalTwin::from_json("{\"version\":\"1\",\"image\":{\"width\":1,\"height\":1},\"objects\":[],\"relations\":[],\"extra\":1}").unwrap_err();
    assert!(err.to_string().contains("extra"), "{err}");
}

#[test]
fn compact_form_lists_every_object_once_and_is_much_shorter() {
    for seed in 0..5 {
        let (_, twin) = twin_of(seed);
        let compact = twin.compact();
        let rows: Vec<&str> = compact
            .lines()
            .skip(2)
            .filter(|l| !l.contains(':'))
            .collect();
        assert_eq!(rows.len(), twin.objects.len(), "{compact}");
        for (row, o) in rows.iter().zip(&twin.objects) {
            let fields: Vec<&str> = row.split(' ').collect();
            assert_eq!(fields[0], o.id.to_string());
            assert_eq!(fields[4], format!("{},{}", o.centroid[0], o.centroid[1]));
            assert_eq!(fields[5], o.position.word());
            assert_eq!(
                fields[7].split('/').next(),
                o.colours.first().map(|c| c.name.as_str())
            );
        }
        assert!(twin::estimate_tokens(&compact) * 3 < twin::estimate_tokens(&twin.to_json()));
    }
}

#[test]
fn committed_schema_matches_the_types() {
    let fresh = twin::schema_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
    if std::env::var_os("TWINSEG_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{SCHEMA_PATH} is out of date; regenerate with TWINSEG_UPDATE_SCHEMA=1 cargo test --test twin committed_schema"
    );
}

#[test]
fn real_twins_validate_against_the_committed_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for seed in 0..10 {
        let (_, twin) = twin_of(seed);
        let value: serde_json::Value = serde_json::from_str(&twin.to_json()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "scene {seed}: {errors:#?}");
    }
    let (_, twin) = twin_of(0);
    let mut broken: serde_json::Value = serde_json::from_str(&twin.to_json()).unwrap();
    broken["objects"][0]["position"] = "middle-ish".into();
    assert!(
        !validator.is_valid(&broken),
        "the schema must reject an unknown position word"
    );
    broken = serde_json::from_str(&twin.to_json()).unwrap();
    broken["objects"][0]["bbox"] = serde_json::json!([1, 2, 3]);
    assert!(
        !validator.is_valid(&broken),
        "the schema must reject a three-number bbox"
    );
    broken = serde_json::from_str(&twin.to_json()).unwrap();
    broken["objects"][0]["centroid"] = serde_json::json!([500, 1001]);
    assert!(
        !validator.is_valid(&broken),
        "the schema must reject a centroid off the frame"
    );
    broken = serde_json::from_str(&twin.to_json()).unwrap();
    broken["version"] = "2".into();
    assert!(
        !validator.is_valid(&broken),
        "the schema must reject another version"
    );
}

/// The whole perception pipeline with the project's own test model: the
/// twin built from the model's proposals names the scene's objects right.
/// Objects the proposals miss (no segment with IoU >= 0.9) are counted as
/// perception misses, not held against the twin.
#[cfg(feature = "inference")]
#[test]
fn twins_through_the_test_model_name_the_scene_objects() {
    use twinseg::hierarchy::{self, HierarchySettings};
    use twinseg::model::SamModel;
    use twinseg::proposals::{self, Control, ProposalSettings};

    let model = SamModel::builtin().unwrap();
    let settings = ProposalSettings {
        points_per_side: 16,
        ..ProposalSettings::default()
    };
    let (mut matched, mut right, mut nested, mut missed) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for seed in 0..6 {
        let scene = scenes::generate(scenes::scene_seed(11, seed));
        let embedding = model.embed(&scene.image).unwrap();
        let set = proposals::run(&model, &embedding, &settings, |_| Control::Continue).unwrap();
        let segments = hierarchy::build(set.proposals, &HierarchySettings::default());
        let twin = twin::build(&scene.image, &TwinInput::from_segments(&segments));
        twin.validate().unwrap();
        let object_of = |mask: &twinseg::mask::Mask| {
            twin.objects
                .iter()
                .map(|o| (o, segments[o.segment as usize].mask.iou(mask)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, iou)| *iou >= 0.9)
                .map(|(o, _)| o)
        };
        for truth in &scene.objects {
            let Some(o) = object_of(&truth.mask) else {
                missed += 1;
                continue;
            };
            matched += 1;
            let colour = o.colours.first().map(|c| c.name.as_str());
            let shape = o.shape.word.map(|w| w.word());
            if colour == Some(truth.colour.as_str()) && shape == Some(truth.shape.name()) {
                right += 1;
            } else {
                misses.push(format!(
                    "scene {seed} #{}: {colour:?} {shape:?} want {} {}",
                    truth.id, truth.colour, truth.shape
                ));
            }
            let host = truth.parent.and_then(|h| object_of(&scene.objects[h].mask));
            if let Some(host) = host {
                let mut chain = Vec::new();
                let mut current = o.parent;
                while let Some(p) = current {
                    chain.push(p);
                    current = twin.object(p).and_then(|x| x.parent);
                }
                assert!(
                    chain.contains(&host.id),
                    "scene {seed}: object {} not under its host",
                    truth.id
                );
                nested += 1;
            }
        }
    }
    eprintln!(
        "through the model: {right}/{matched} matched objects with the right colour and shape, \
         {nested} nested, {missed} missed by the proposals"
    );
    assert!(matched >= 18, "only {matched} objects matched a segment");
    assert!(
        right * 100 >= matched * 90,
        "{right}/{matched}: {misses:#?}"
    );
}
