//! Drawing the decoded image. The canvas holds the image at its own size (so
//! its pixels are the image's); CSS scales it to fit the page.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::app::Picture;
use crate::worker::describe;

/// The image, drawn whenever new pixels arrive; hidden while there are none.
#[component]
pub fn ImageCanvas(
    picture: RwSignal<Option<Picture>, LocalStorage>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move || {
        let Some(element) = canvas.get() else {
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
    let label = move || {
        picture.with(|picture| match picture {
            Some(picture) => format!("The image, {} by {} pixels", picture.width, picture.height),
            None => "No image yet".into(),
        })
    };
    view! {
        <figure class="stage" class:empty=move || picture.with(Option::is_none)>
            <canvas id="image-canvas" node_ref=canvas role="img" aria-label=label></canvas>
        </figure>
    }
}

fn draw(canvas: &HtmlCanvasElement, picture: &Picture) -> Result<(), String> {
    let fail = |error: wasm_bindgen::JsValue| {
        format!("The image could not be drawn: {}", describe(&error))
    };
    let context = canvas
        .get_context("2d")
        .map_err(fail)?
        .and_then(|context| context.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| "This browser gave no 2D canvas to draw on.".to_string())?;
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
