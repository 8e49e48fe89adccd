//! Shared by the reasoner tests: Digital Twins built from generated scenes'
//! ground-truth masks (no model), and scoring an answer against targets.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]
use twinseg::compose::compose;
use twinseg::mask::Mask;
use twinseg::reason::Answer;
use twinseg::scenes::Scene;
use twinseg::twin::{self, DigitalTwin, TwinInput};

/// A scene's twin, built from its exact object masks, and those masks.
pub fn ground_truth_twin(scene: &Scene) -> (DigitalTwin, Vec<Mask>) {
    let inputs: Vec<TwinInput> = scene
        .objects
        .iter()
        .map(|o| TwinInput {
            mask: o.mask.clone(),
            parent: o.parent,
            predicted_iou: 1.0,
            stability_score: 1.0,
            label: None,
        })
        .collect();
    let masks = inputs.iter().map(|i| i.mask.clone()).collect();
    (twin::build(&scene.image, &inputs), masks)
}

/// IoU of the answer's composed mask with the union of the target objects.
pub fn answer_iou(
    scene: &Scene,
    twin: &DigitalTwin,
    masks: &[Mask],
    answer: &Answer,
    targets: &[usize],
) -> f64 {
    let predicted = compose(twin, masks, &answer.ids).expect("answer ids are twin ids");
    let truth = scene.union_mask(targets);
    if predicted.is_empty() && truth.is_empty() {
        return 1.0;
    }
    predicted.iou(&truth)
}
