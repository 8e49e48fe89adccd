//! The embedded reasoner over Digital Twins of generated scenes: every query
//! kind the generator asks, in all its phrasings, must select exactly the
//! ground-truth objects.

mod reason_support;

use std::collections::BTreeMap;

use reason_support::{answer_iou, ground_truth_twin};
use twinseg::reason::EmbeddedReasoner;
use twinseg::scenes::{generate, queries, scene_seed};

#[test]
fn answers_every_generated_query_kind() {
    let reasoner = EmbeddedReasoner;
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for index in 0..60 {
        let scene = generate(scene_seed(7, index));
        let (twin, masks) = ground_truth_twin(&scene);
        for query in queries(&scene) {
            for text in &query.text {
                let answer = reasoner.answer(&twin, text);
                let iou = answer_iou(&scene, &twin, &masks, &answer, &query.targets);
                let entry = per_kind.entry(query.kind.name()).or_default();
                entry.1 += 1;
                if iou > 0.99 {
                    entry.0 += 1;
                } else {
                    failures.push(format!(
                        "scene {index} [{}] {text:?}: iou {iou:.2}; {:?}",
                        query.kind, answer.steps
                    ));
                }
            }
        }
    }
    for (kind, (right, total)) in &per_kind {
        println!("{kind}: {right}/{total}");
    }
    for failure in failures.iter().take(40) {
        println!("{failure}");
    }
    assert_eq!(
        per_kind.len(),
        12,
        "every query kind was asked: {per_kind:?}"
    );
    for (kind, (right, total)) in &per_kind {
        assert!(
            *right as f64 >= 0.95 * *total as f64,
            "{kind}: only {right} of {total} right"
        );
    }
}

/// The objects of `twin` whose shape word is `shape` and whose dominant colour is `colour`.
fn shaped(twin: &twinseg::twin::DigitalTwin, shape: &str, colour: &str) -> Vec<u32> {
    twin.objects
        .iter()
        .filter(|o| o.shape.word.is_some_and(|w| w.word() == shape))
        .filter(|o| o.colours.first().is_some_and(|c| c.name == colour))
        .map(|o| o.id)
        .collect()
}

/// The ground-truth twins of the 80 scenes the shape-word tests read.
fn shape_scene_twins() -> impl Iterator<Item = (u64, twinseg::twin::DigitalTwin)> {
    (0..80).map(|index| (index, ground_truth_twin(&generate(scene_seed(11, index))).0))
}

/// Each object's dominant colour name, in object order.
fn dominant_colours(twin: &twinseg::twin::DigitalTwin) -> Vec<&str> {
    twin.objects
        .iter()
        .filter_map(|o| o.colours.first().map(|c| c.name.as_str()))
        .collect()
}

#[test]
fn a_general_shape_word_finds_its_special_case_when_nothing_else_fits() {
    let reasoner = EmbeddedReasoner;
    let mut checked = 0;
    for (index, twin) in shape_scene_twins() {
        for (general, special) in [("rectangle", "square"), ("ellipse", "circle")] {
            for colour in dominant_colours(&twin) {
                let specials = shaped(&twin, special, colour);
                if specials.len() != 1 || !shaped(&twin, general, colour).is_empty() {
                    continue;
                }
                let answer = reasoner.answer(&twin, &format!("the {colour} {general}"));
                assert_eq!(
                    answer.ids, specials,
                    "scene {index}: \"the {colour} {general}\" is the {colour} {special}; steps {:?}",
                    answer.steps
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} cases in the scenes");
}

#[test]
fn an_exact_shape_word_still_wins_over_its_special_case() {
    let reasoner = EmbeddedReasoner;
    let mut checked = 0;
    for (index, twin) in shape_scene_twins() {
        for colour in dominant_colours(&twin) {
            let rectangles = shaped(&twin, "rectangle", colour);
            if rectangles.len() != 1 || shaped(&twin, "square", colour).is_empty() {
                continue;
            }
            let answer = reasoner.answer(&twin, &format!("the {colour} rectangle"));
            assert_eq!(answer.ids, rectangles, "scene {index}: {:?}", answer.steps);
            checked += 1;
        }
    }
    assert!(
        checked >= 1,
        "no scene has a rectangle and a square of one colour"
    );
}
