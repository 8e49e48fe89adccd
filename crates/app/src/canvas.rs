//! Drawing the decoded image with its two overlays: the found objects (each
//! in its own colour with an outline) and the current mask (answer or
//! prompt) with the prompt's points and box. Every canvas holds the image at
//! its own size (so canvas pixels are image pixels); CSS scales them alike.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, PointerEvent};

use crate::app::{AppState, Picture};
use crate::overlay::{self, Drag};
use crate::worker::describe;

/// The image and its overlays, redrawn whenever their data change; hidden
/// while there is no image. Clicks and drags on it are prompts.
#[component]
pub fn ImageCanvas(state: AppState) -> impl IntoView {
    let picture = state.picture;
    let error = state.error;
    let flow = state.flow;
    let image = NodeRef::<Canvas>::new();
    let objects = NodeRef::<Canvas>::new();
    let mask = NodeRef::<Canvas>::new();
    Effect::new(move || {
        let Some(element) = image.get() else {
            return;
        };
        picture.with(|picture| {
            if let Some(picture) = picture {
                if let Err(message) = draw(&element, picture) {
                    error.set(Some(message));
                }
            }
        });
    });
    Effect::new(move || {
        let (Some(element), Some((width, height))) = (objects.get(), picture_size(picture)) else {
            return;
        };
        let hover = flow.hover.get();
        let rgba = flow
            .objects
            .with(|objects| overlay::paint_objects(objects, hover, width, height));
        if let Err(message) = put(&element, rgba, width, height) {
            error.set(Some(message));
        }
    });
    let drag = StoredValue::new(None::<Drag>);
    let preview = RwSignal::new(None::<[f32; 4]>);
    Effect::new(move || {
        let (Some(element), Some((width, height))) = (mask.get(), picture_size(picture)) else {
            return;
        };
        let rgba = flow.mask.with(|shown| {
            overlay::paint_mask(shown.as_ref().map(|m| m.bits.as_slice()), width, height)
        });
        let result = put(&element, rgba, width, height).and_then(|()| {
            let bbox = preview.get().or(flow.bbox.get());
            flow.points
                .with(|points| overlay::draw_prompt(&element, points, bbox, width))
        });
        if let Err(message) = result {
            error.set(Some(message));
        }
    });
    let on_down = move |event: PointerEvent| {
        if let Some(at) = image_point(&event) {
            drag.set_value(Some(Drag::start(at, &event)));
            if let Some(target) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlCanvasElement>().ok())
            {
                let _ = target.set_pointer_capture(event.pointer_id());
            }
        }
    };
    let on_move = move |event: PointerEvent| {
        let Some(at) = image_point(&event) else {
            return;
        };
        match drag.get_value() {
            Some(start) if start.is_box(at, &event) => preview.set(Some(start.bbox(at))),
            Some(_) => {}
            None => {
                let id = flow
                    .objects
                    .with_untracked(|objects| overlay::object_at(objects, at));
                if flow.hover.get_untracked() != id {
                    flow.hover.set(id);
                }
            }
        }
    };
    let on_up = move |event: PointerEvent| {
        let Some(start) = drag.get_value() else {
            return;
        };
        drag.set_value(None);
        preview.set(None);
        let at = image_point(&event).unwrap_or(start.at);
        if start.is_box(at, &event) {
            flow.bbox.set(Some(start.bbox(at)));
        } else {
            flow.points.update(|points| points.push(start.point()));
        }
        state.segment_prompt();
    };
    let on_leave = move |_| flow.hover.set(None);
    let label = move || {
        picture.with(|picture| match picture {
            Some(picture) => format!(
                "The image, {} by {} pixels. Click to add a point of the object, Shift- or Alt-click a point that is not, drag to draw a box.",
                picture.width, picture.height
            ),
            None => "No image yet".into(),
        })
    };
    view! {
        <figure class="stage" class:empty=move || picture.with(Option::is_none)>
            <div class="layers">
                <canvas id="image-canvas" node_ref=image role="img" aria-label=label></canvas>
                <canvas id="objects-canvas" class="overlay" node_ref=objects aria-hidden="true"></canvas>
                <canvas
                    id="mask-canvas"
                    class="overlay prompt-surface"
                    node_ref=mask
                    aria-hidden="true"
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointerleave=on_leave
                ></canvas>
            </div>
            <figcaption class="prompt-tools">
                "Click: a point of the object. Shift- or Alt-click: a point that is not. Drag: a box."
                <Show when=move || flow.points.with(|p| !p.is_empty()) || flow.bbox.with(Option::is_some)>
                    <button type="button" class="button clear-prompts" on:click=move |_| state.clear_prompts()>
                        "Clear prompts"
                    </button>
                </Show>
            </figcaption>
        </figure>
    }
}

fn picture_size(picture: RwSignal<Option<Picture>, LocalStorage>) -> Option<(u32, u32)> {
    picture.with(|p| p.as_ref().map(|p| (p.width, p.height)))
}

/// The pointer's position in image pixels.
fn image_point(event: &PointerEvent) -> Option<[f32; 2]> {
    // The target, not the current target: Leptos delegates pointer events to
    // the document, where `currentTarget` is no longer the canvas.
    let canvas: HtmlCanvasElement = event.target()?.dyn_into().ok()?;
    let shown_width = f64::from(canvas.client_width());
    let shown_height = f64::from(canvas.client_height());
    if shown_width <= 0.0 || shown_height <= 0.0 {
        return None;
    }
    let x = event.offset_x() as f64 * f64::from(canvas.width()) / shown_width;
    let y = event.offset_y() as f64 * f64::from(canvas.height()) / shown_height;
    Some([
        x.clamp(0.0, f64::from(canvas.width())) as f32,
        y.clamp(0.0, f64::from(canvas.height())) as f32,
    ])
}

/// The 2D context of a canvas.
pub fn context(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, String> {
    canvas
        .get_context("2d")
        .map_err(|error| format!("The image could not be drawn: {}", describe(&error)))?
        .and_then(|context| context.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| "This browser gave no 2D canvas to draw on.".to_string())
}

fn draw(canvas: &HtmlCanvasElement, picture: &Picture) -> Result<(), String> {
    let fail = |error: wasm_bindgen::JsValue| {
        format!("The image could not be drawn: {}", describe(&error))
    };
    let context = context(canvas)?;
    let pixels = ImageData::new_with_js_u8_clamped_array_and_sh(
        &picture.rgba,
        picture.width,
        picture.height,
    )
    .map_err(fail)?;
    canvas.set_width(picture.width);
    canvas.set_height(picture.height);
    context.put_image_data(&pixels, 0.0, 0.0).map_err(fail)
}

/// Replaces a canvas's pixels with `rgba`.
fn put(canvas: &HtmlCanvasElement, rgba: Vec<u8>, width: u32, height: u32) -> Result<(), String> {
    let fail = |error: wasm_bindgen::JsValue| {
        format!("The overlay could not be drawn: {}", describe(&error))
    };
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let pixels =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba.as_slice()), width, height)
            .map_err(fail)?;
    context(canvas)?
        .put_image_data(&pixels, 0.0, 0.0)
        .map_err(fail)
}

/// The image's RGBA pixels with the mask as alpha: a cut-out.
pub fn cut_out(picture: &Picture, bits: &[u8]) -> Vec<u8> {
    let mut rgba = picture.rgba.to_vec();
    for (pixel, &bit) in rgba.chunks_exact_mut(4).zip(bits) {
        pixel[3] = if bit != 0 { u8::MAX } else { 0 };
    }
    rgba
}
