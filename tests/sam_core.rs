//! End-to-end checks of the SAM core with the built-in test model on generated scenes.

use twinseg::decoder::{PointPrompt, Prompt};
use twinseg::mask::Mask;
use twinseg::model::{ModelError, ModelSource, SamModel};
use twinseg::scenes;

/// A pixel deep inside the object (and outside anything nested in it).
fn inner_point(scene: &scenes::Scene, id: usize) -> (f32, f32) {
    let mut own = scene.objects[id].mask.clone();
    for child in scene.children(id) {
        own.subtract(&scene.objects[child].mask);
    }
    let (w, h) = (own.width(), own.height());
    let mut best = (0u32, 0u32, 0u32);
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            if own.get(x, y) {
                let d = (1..60)
                    .take_while(|&r| {
                        own.get(x + r, y)
                            && own.get(x.saturating_sub(r), y)
                            && own.get(x, y + r)
                            && own.get(x, y.saturating_sub(r))
                    })
                    .count() as u32;
                if d > best.2 {
                    best = (x, y, d);
                }
            }
        }
    }
    (best.0 as f32 + 0.5, best.1 as f32 + 0.5)
}

fn segment(model: &SamModel, image: &image::RgbImage, prompt: &Prompt) -> Mask {
    let emb = model.embed(image).expect("embedding");
    let pred = model.predict(&emb, prompt).expect("prediction");
    pred.best().expect("a mask").to_mask(emb.frame(), 0.0)
}

#[test]
fn a_point_inside_each_object_returns_that_object() {
    let model = SamModel::builtin().expect("built-in model loads");
    let mut checked = 0;
    let mut seed = 0;
    while checked < 32 {
        let scene = scenes::generate(seed);
        seed += 1;
        let emb = model.embed(&scene.image).unwrap();
        for obj in &scene.objects {
            let (x, y) = inner_point(&scene, obj.id);
            let pred = model.predict(&emb, &Prompt::point(x, y)).unwrap();
            let mask = pred.best().unwrap().to_mask(emb.frame(), 0.0);
            let iou = mask.iou(&obj.mask);
            assert!(
                iou >= 0.9,
                "scene {} object {} ({} {}) at ({x},{y}): IoU {iou}",
                seed - 1,
                obj.id,
                obj.colour,
                obj.shape
            );
            checked += 1;
        }
    }
}

#[test]
fn negative_point_on_nested_shape_cuts_it_out_and_box_selects() {
    let model = SamModel::builtin().unwrap();
    let scene = (0..200)
        .map(scenes::generate)
        .find(|s| s.objects.iter().any(|o| o.parent.is_some()))
        .expect("a nested scene");
    let child = scene.objects.iter().find(|o| o.parent.is_some()).unwrap();
    let host = &scene.objects[child.parent.unwrap()];
    let (hx, hy) = inner_point(&scene, host.id);
    let (cx, cy) = inner_point(&scene, child.id);
    let whole = segment(&model, &scene.image, &Prompt::point(hx, hy));
    assert!(whole.iou(&host.mask) >= 0.9);
    let mut prompt = Prompt::point(hx, hy);
    prompt.points.push(PointPrompt {
        x: cx,
        y: cy,
        positive: false,
    });
    let ring = segment(&model, &scene.image, &prompt);
    let mut expected = host.mask.clone();
    expected.subtract(&child.mask);
    assert!(
        ring.iou(&expected) >= 0.9,
        "ring IoU {}",
        ring.iou(&expected)
    );
    let b = child.bbox();
    let boxed = segment(
        &model,
        &scene.image,
        &Prompt::boxed([b.x0 as f32, b.y0 as f32, b.x1 as f32, b.y1 as f32]),
    );
    assert!(
        boxed.iou(&child.mask) >= 0.9,
        "box IoU {}",
        boxed.iou(&child.mask)
    );
}

#[test]
fn broken_models_get_clear_errors() {
    let (enc, dec) = SamModel::builtin_bytes();
    let err = SamModel::load(
        ModelSource::Bytes(dec.to_vec()),
        ModelSource::Bytes(dec.to_vec()),
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::Contract { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("encoder") && text.contains("input"), "{text}");
    let err = SamModel::load(
        ModelSource::Bytes(enc.to_vec()),
        ModelSource::Bytes(dec[..dec.len() / 2].to_vec()),
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::NotOnnx { .. }), "{err}");
    let err = SamModel::load(
        ModelSource::Bytes(enc.to_vec()),
        ModelSource::Bytes(enc.to_vec()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("`input_image`"), "{err}");
}
