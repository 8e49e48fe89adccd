//! Choosing the model: the built-in test model, any SAM-contract ONNX pair
//! by address (downloaded with progress, cached by the browser for the next
//! visit), or a pair of files the person picks from disk (handed to the
//! worker as `blob:` addresses, so their bytes never leave the machine), and
//! forgetting downloaded models.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::ev;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use twinseg::protocol::{ModelChoice, ModelPart, MODEL_CACHE};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, Url};

use crate::app::{ModelState, ModelStatus};
use crate::worker::describe;

/// A folded panel with the model in use, load progress and the choices.
#[component]
pub fn ModelPicker(
    model: RwSignal<ModelStatus>,
    stall_s: RwSignal<u32>,
    on_load: Callback<ModelChoice>,
    on_stop: Callback<()>,
) -> impl IntoView {
    let encoder = NodeRef::<Input>::new();
    let decoder = NodeRef::<Input>::new();
    let encoder_file = NodeRef::<Input>::new();
    let decoder_file = NodeRef::<Input>::new();
    let note = RwSignal::new(None::<String>);
    let on_files = move |event: ev::SubmitEvent| {
        event.prevent_default();
        let picked = |input: NodeRef<Input>| {
            input
                .get()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
        };
        match (picked(encoder_file), picked(decoder_file)) {
            (Some(encoder), Some(decoder)) => match file_pair(&encoder, &decoder) {
                Ok(choice) => {
                    note.set(None);
                    on_load.run(choice);
                }
                Err(message) => note.set(Some(message)),
            },
            _ => note.set(Some(
                "Pick both files: the encoder and the decoder ONNX.".into(),
            )),
        }
    };
    let on_submit = move |event: ev::SubmitEvent| {
        event.prevent_default();
        let (Some(encoder), Some(decoder)) = (encoder.get(), decoder.get()) else {
            return;
        };
        let (encoder, decoder) = (
            encoder.value().trim().to_string(),
            decoder.value().trim().to_string(),
        );
        if encoder.is_empty() || decoder.is_empty() {
            note.set(Some(
                "Give the addresses of both the encoder and the decoder.".into(),
            ));
            return;
        }
        note.set(None);
        on_load.run(ModelChoice::Url { encoder, decoder });
    };
    let on_stall = move |event: ev::Event| {
        if let Ok(seconds) = event_target_value(&event).trim().parse::<u32>() {
            stall_s.set(seconds.max(1));
        }
    };
    let loading = move || model.with(|status| matches!(status.state, ModelState::Loading { .. }));
    let state_id = move || match model.with(|status| status.state) {
        ModelState::Loading { .. } => "loading",
        ModelState::Ready { .. } => "ready",
        ModelState::Failed => "failed",
    };
    view! {
        <details class="model-panel">
            <summary>"Model: " {move || model.with(|status| model_name(&status.in_use))}</summary>
            <p class="model-state" data-model-state=state_id>{move || model.with(describe_status)}</p>
            {move || model.with(|status| download_progress(status.state))}
            <Show when=loading>
                <button type="button" class="button stop-model" on:click=move |_| on_stop.run(())>
                    "Stop loading"
                </button>
            </Show>
            <form class="model-form" on:submit=on_submit>
                <label for="encoder-url">"Encoder ONNX address"</label>
                <input id="encoder-url" node_ref=encoder type="text" inputmode="url" spellcheck="false"
                    placeholder="https://…/mobile_sam_encoder.onnx" />
                <label for="decoder-url">"Decoder ONNX address"</label>
                <input id="decoder-url" node_ref=decoder type="text" inputmode="url" spellcheck="false"
                    placeholder="https://…/mobile_sam_decoder.onnx" />
                <label for="model-timeout">"Give up when the server sends nothing for (seconds)"</label>
                <input id="model-timeout" type="number" min="1" step="1" inputmode="numeric"
                    prop:value=move || stall_s.get().to_string() on:change=on_stall />
                <div class="model-actions">
                    <button type="submit" class="button primary">"Load model"</button>
                    <button type="button" class="button" on:click=move |_| on_load.run(ModelChoice::Builtin)>
                        "Use the built-in model"
                    </button>
                    <button type="button" class="button" on:click=move |_| forget_downloads(note)>
                        "Forget downloaded models"
                    </button>
                </div>
            </form>
            <form class="model-files" on:submit=on_files>
                <label for="encoder-file">"Encoder ONNX file"</label>
                <input id="encoder-file" node_ref=encoder_file type="file" accept=".onnx,application/octet-stream" />
                <label for="decoder-file">"Decoder ONNX file"</label>
                <input id="decoder-file" node_ref=decoder_file type="file" accept=".onnx,application/octet-stream" />
                <div class="model-actions">
                    <button type="submit" class="button">"Load these files"</button>
                </div>
            </form>
            <p class="model-note" aria-live="polite">{move || note.get()}</p>
        </details>
    }
}

thread_local! {
    /// File names of the `blob:` addresses made for picked model files.
    static PICKED_NAMES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Gives the worker picked files as `blob:` addresses: it reads them like a
/// download, and they stay valid for as long as the page is open, so a
/// restarted worker can read them again.
fn file_pair(encoder: &File, decoder: &File) -> Result<ModelChoice, String> {
    let address = |file: &File| {
        let url = Url::create_object_url_with_blob(file).map_err(|error| {
            format!(
                "\u{201c}{}\u{201d} cannot be read: {}",
                file.name(),
                describe(&error)
            )
        })?;
        PICKED_NAMES.with_borrow_mut(|names| names.insert(url.clone(), file.name()));
        Ok::<_, String>(url)
    };
    Ok(ModelChoice::Url {
        encoder: address(encoder)?,
        decoder: address(decoder)?,
    })
}

fn model_name(model: &ModelChoice) -> String {
    match model {
        ModelChoice::Builtin => "the built-in test model".into(),
        ModelChoice::Url { encoder, .. } if encoder.starts_with("blob:") => PICKED_NAMES
            .with_borrow(|names| names.get(encoder).cloned())
            .map_or_else(
                || "the picked files".into(),
                |name| format!("the picked file {name}"),
            ),
        ModelChoice::Url { encoder, .. } => {
            let file = encoder.rsplit('/').next().unwrap_or(encoder);
            file.trim_end_matches(".onnx")
                .trim_end_matches("_encoder")
                .trim_end_matches("-encoder")
                .to_string()
        }
    }
}

fn describe_status(status: &ModelStatus) -> String {
    let name = model_name(&status.in_use);
    match status.state {
        ModelState::Loading { part: None, .. } => "Loading the model\u{2026}".into(),
        ModelState::Loading {
            part: Some(part),
            loaded,
            total,
        } => {
            let part = match part {
                ModelPart::Encoder => "encoder",
                ModelPart::Decoder => "decoder",
            };
            match total {
                Some(total) => format!("Getting the {part}: {} of {}", size(loaded), size(total)),
                None => format!("Getting the {part}: {}", size(loaded)),
            }
        }
        ModelState::Ready {
            from_cache,
            load_ms: Some(ms),
        } => {
            let origin = if from_cache {
                "from this browser's cache"
            } else {
                "downloaded"
            };
            format!("Using {name} ({origin}, ready in {ms:.0} ms).")
        }
        ModelState::Ready { load_ms: None, .. } => format!("Using {name}."),
        ModelState::Failed => format!("That model could not be loaded; still using {name}."),
    }
}

fn download_progress(state: ModelState) -> Option<impl IntoView> {
    match state {
        ModelState::Loading {
            loaded,
            total: Some(total),
            ..
        } => Some(view! {
            <progress class="model-progress" max=total as f64 value=loaded as f64 aria-label="Model download"></progress>
        }),
        _ => None,
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KB", (bytes as f64 / 1024.0).ceil())
    }
}

fn forget_downloads(note: RwSignal<Option<String>>) {
    let Some(storage) = web_sys::window().and_then(|window| window.caches().ok()) else {
        note.set(Some("This browser keeps no model cache.".into()));
        return;
    };
    spawn_local(async move {
        let message = match JsFuture::from(storage.delete(MODEL_CACHE)).await {
            Ok(_) => "Downloaded models forgotten; the next load downloads them again.".to_string(),
            Err(error) => format!("The model cache could not be cleared: {}", describe(&error)),
        };
        note.set(Some(message));
    });
}
