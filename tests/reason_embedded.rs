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
