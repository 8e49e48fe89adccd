//! Downloads: the current mask as a PNG, the cut-out with transparency, and
//! the JSON documents the worker writes (COCO proposals, the Digital Twin).

use leptos::prelude::*;
use twinseg::protocol::ExportKind;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlCanvasElement, ImageData, Url};

use crate::app::AppState;
use crate::worker::describe;

/// The download buttons; each is enabled once there is something to save.
#[component]
pub fn Downloads(state: AppState) -> impl IntoView {
    let flow = state.flow;
    let no_mask = move || flow.mask.with(Option::is_none);
    let no_objects = move || {
        !matches!(flow.run.get(), crate::flow::RunState::Finished { .. })
            || flow.objects.with(Vec::is_empty)
    };
    let save_mask = move |cut: bool| {
        if let Err(message) = save_mask_png(state, cut) {
            state.error.set(Some(message));
        }
    };
    view! {
        <section class="downloads" aria-label="Downloads">
            <button type="button" class="button download-mask" disabled=no_mask on:click=move |_| save_mask(false)>
                "Mask PNG"
            </button>
            <button type="button" class="button download-cutout" disabled=no_mask on:click=move |_| save_mask(true)>
                "Cut-out PNG"
            </button>
            <button type="button" class="button download-coco" disabled=no_objects on:click=move |_| state.export(ExportKind::Coco)>
                "Objects (COCO JSON)"
            </button>
            <button type="button" class="button download-twin" disabled=no_objects on:click=move |_| state.export(ExportKind::Twin)>
                "Digital Twin JSON"
            </button>
        </section>
    }
}

fn save_mask_png(state: AppState, cut: bool) -> Result<(), String> {
    let rgba = state.picture.with_untracked(|picture| {
        state.flow.mask.with_untracked(|mask| {
            let (picture, mask) = (picture.as_ref()?, mask.as_ref()?);
            let rgba = if cut {
                crate::canvas::cut_out(picture, &mask.bits)
            } else {
                mask.bits
                    .iter()
                    .flat_map(|&bit| {
                        let v = if bit != 0 { u8::MAX } else { 0 };
                        [v, v, v, u8::MAX]
                    })
                    .collect()
            };
            Some((rgba, picture.width, picture.height))
        })
    });
    let Some((rgba, width, height)) = rgba else {
        return Err("There is no mask to save yet.".into());
    };
    let name = if cut { "cutout.png" } else { "mask.png" };
    let url = png_data_url(&rgba, width, height)?;
    click_link(&url, name)
}

fn png_data_url(rgba: &[u8], width: u32, height: u32) -> Result<String, String> {
    let fail = |e: wasm_bindgen::JsValue| format!("The PNG could not be made: {}", describe(&e));
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("There is no document to draw in.")?;
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "The browser made no canvas.".to_string())?;
    canvas.set_width(width);
    canvas.set_height(height);
    let pixels =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width, height).map_err(fail)?;
    crate::canvas::context(&canvas)?
        .put_image_data(&pixels, 0.0, 0.0)
        .map_err(fail)?;
    canvas.to_data_url_with_type("image/png").map_err(fail)
}

/// Saves JSON text as a file.
pub fn save_text(name: &str, text: &str) -> Result<(), String> {
    let fail = |e: wasm_bindgen::JsValue| format!("{name} could not be saved: {}", describe(&e));
    let parts = js_sys::Array::of1(&text.into());
    let options = BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let result = click_link(&url, name);
    // The download starts after this returns; the address must live until then.
    leptos::leptos_dom::helpers::set_timeout(
        move || {
            let _ = Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    result
}

fn click_link(url: &str, name: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("There is no document to download from.")?;
    let link: HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| "The browser made no link.".to_string())?;
    link.set_href(url);
    link.set_download(name);
    link.click();
    Ok(())
}
