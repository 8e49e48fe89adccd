//! Everything mode end to end: the project's test model on generated scenes,
//! through proposals, the hierarchy and the COCO export.
//!
//! Recall is checked on 30 scenes at the default 32×32 grid with covered grid
//! points skipped (the mode the page and `ask` use): every object, nested
//! shapes included, must come back as a proposal with IoU >= 0.9. The other
//! tests use a 16×16 grid, which is enough for what they check.

use std::collections::BTreeSet;

use twinseg::export::{to_coco, CocoProposals, SegmentationFormat};
use twinseg::hierarchy::{self, HierarchySettings, Segment};
use twinseg::mask::{Mask, PixelBox};
use twinseg::model::SamModel;
use twinseg::proposals::{self, Control, ProposalSettings};
use twinseg::scenes;

const SCENES: u64 = 30;
const SEED_BASE: u64 = 5;

/// The smaller grid of the tests that check streaming, cancelling and export.
fn settings() -> ProposalSettings {
    ProposalSettings {
        points_per_side: 16,
        ..ProposalSettings::default()
    }
}

/// The `n` x `n` prompt grid over the whole scene image, in pixels.
fn image_grid(scene: &scenes::Scene, n: u32) -> Vec<[f32; 2]> {
    let (width, height) = scene.image.dimensions();
    proposals::point_grid(
        n,
        PixelBox {
            x0: 0,
            y0: 0,
            x1: width,
            y1: height,
        },
    )
}

/// Whether any point of the prompt grid lands on the object.
fn prompted_object(object: &Mask, grid: &[[f32; 2]]) -> bool {
    grid.iter()
        .any(|[x, y]| object.get(x.floor() as u32, y.floor() as u32))
}

/// The pixels of an object not covered by the shapes drawn on it: what a
/// colour-region model sees of a host with nested shapes.
fn visible_part(scene: &scenes::Scene, object: &scenes::SceneObject) -> Mask {
    let mut visible = object.mask.clone();
    for child in scene.objects.iter().filter(|o| o.parent == Some(object.id)) {
        visible.subtract(&child.mask);
    }
    visible
}

/// The segment closest to the object, counting a host either with or without
/// the holes its nested shapes leave (SAM's granularities may give either).
fn best_object_match<'a>(
    segments: &'a [Segment],
    scene: &scenes::Scene,
    object: &scenes::SceneObject,
) -> Option<(&'a Segment, f64)> {
    let whole = best_match(segments, &object.mask)?;
    let visible = best_match(segments, &visible_part(scene, object))?;
    Some(if visible.1 > whole.1 { visible } else { whole })
}

fn best_match<'a>(segments: &'a [Segment], target: &Mask) -> Option<(&'a Segment, f64)> {
    segments
        .iter()
        .map(|s| (s, s.mask.iou(target)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[test]
fn every_object_is_recovered_and_nested_shapes_sit_under_their_host() {
    let model = SamModel::builtin().expect("built-in model loads");
    let settings = ProposalSettings {
        skip_covered: true,
        ..ProposalSettings::default()
    };
    let (mut objects, mut nested, mut prompted, mut total) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    for i in 0..SCENES {
        let seed = scenes::scene_seed(SEED_BASE, i);
        let scene = scenes::generate(seed);
        let embedding = model.embed(&scene.image).expect("embedding");
        let set = proposals::run(&model, &embedding, &settings, |_| Control::Continue)
            .expect("proposals");
        assert!(!set.cancelled);
        assert_eq!(set.done, set.total, "every grid point is dealt with");
        prompted += set.prompted;
        total += set.total;
        let segments = hierarchy::build(set.proposals, &HierarchySettings::default());
        let grid = image_grid(&scene, settings.points_per_side);
        for object in &scene.objects {
            objects += 1;
            let (segment, iou) =
                best_object_match(&segments, &scene, object).expect("some segment");
            if iou < 0.9 {
                let on_grid = prompted_object(&visible_part(&scene, object), &grid);
                missed.push(format!(
                    "scene seed {seed}: object {} ({:?}, grid point on it: {on_grid}) best IoU \
                     {iou:.3} (segment {})",
                    object.id, object.shape, segment.id
                ));
                continue;
            }
            if let Some(host) = object.parent {
                let (host_segment, _) = best_object_match(&segments, &scene, &scene.objects[host])
                    .expect("host segment");
                let chain = hierarchy::ancestors(&segments, segment.id);
                assert!(
                    chain.contains(&host_segment.id),
                    "scene seed {seed}: nested object {} (segment {}) has ancestors {chain:?}, \
                     its host {host} is segment {}",
                    object.id,
                    segment.id,
                    host_segment.id
                );
                assert!(segment.level > host_segment.level);
                nested += 1;
            }
        }
    }
    eprintln!(
        "{} of {objects} objects recovered with IoU >= 0.9 from {prompted} prompts of {total} \
         grid points\n{}",
        objects - missed.len(),
        missed.join("\n")
    );
    assert!(objects >= 100, "only {objects} objects checked");
    assert!(
        missed.is_empty(),
        "{} of {objects} objects not recovered:\n{}",
        missed.len(),
        missed.join("\n")
    );
    assert!(nested >= 2, "only {nested} nested shapes checked");
    assert!(
        prompted * 5 <= total,
        "{prompted} prompts for {total} grid points: skipping saved too little"
    );
}

#[test]
fn cancelling_stops_within_one_batch_and_keeps_what_was_found() {
    let model = SamModel::builtin().expect("built-in model loads");
    let scene = scenes::generate(scenes::scene_seed(SEED_BASE, 0));
    let embedding = model.embed(&scene.image).expect("embedding");
    let settings = ProposalSettings {
        points_per_batch: Some(8),
        ..settings()
    };
    let mut calls = 0;
    let set = proposals::run(&model, &embedding, &settings, |batch| {
        calls += 1;
        assert_eq!(batch.done, calls * 8);
        if calls == 2 {
            Control::Cancel
        } else {
            Control::Continue
        }
    })
    .expect("proposals");
    assert_eq!(calls, 2);
    assert!(set.cancelled);
    assert_eq!(set.done, 16);
    assert_eq!(set.total, 256);
}

#[test]
fn streamed_batches_add_up_to_the_final_set() {
    let model = SamModel::builtin().expect("built-in model loads");
    let scene = scenes::generate(scenes::scene_seed(SEED_BASE, 1));
    let embedding = model.embed(&scene.image).expect("embedding");
    let settings = ProposalSettings {
        points_per_batch: Some(32),
        ..settings()
    };
    let mut live = BTreeSet::new();
    let mut batches = 0;
    let set = proposals::run(&model, &embedding, &settings, |batch| {
        batches += 1;
        for index in &batch.removed {
            assert!(live.remove(index), "removed {index} was never added");
        }
        for p in &batch.new {
            assert!(live.insert(p.index));
        }
        Control::Continue
    })
    .expect("proposals");
    assert_eq!(batches, 8);
    let kept: BTreeSet<usize> = set.proposals.iter().map(|p| p.index).collect();
    assert_eq!(live, kept);
    assert!(!kept.is_empty());
}

#[test]
fn coco_export_of_real_proposals_decodes_to_the_same_masks() {
    let model = SamModel::builtin().expect("built-in model loads");
    let scene = scenes::generate(scenes::scene_seed(SEED_BASE, 2));
    let embedding = model.embed(&scene.image).expect("embedding");
    let set =
        proposals::run(&model, &embedding, &settings(), |_| Control::Continue).expect("proposals");
    let segments = hierarchy::build(set.proposals, &HierarchySettings::default());
    assert!(!segments.is_empty());
    let (w, h) = scene.image.dimensions();
    for format in [SegmentationFormat::CompressedRle, SegmentationFormat::Rle] {
        let text = serde_json::to_string(&to_coco(&segments, w, h, None, format)).unwrap();
        let back: CocoProposals = serde_json::from_str(&text).unwrap();
        for (ann, segment) in back.annotations.iter().zip(&segments) {
            assert_eq!(ann.id, segment.id);
            assert_eq!(ann.parent, segment.parent);
            assert_eq!(ann.segmentation.to_mask(w, h).unwrap(), segment.mask);
        }
    }
}
