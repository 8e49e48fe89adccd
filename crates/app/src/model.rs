//! Choosing the model: the built-in test model, or any SAM-contract ONNX pair
//! by address (downloaded with progress, cached by the browser for the next
//! visit), and forgetting downloaded models.

use leptos::ev;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use twinseg::protocol::{ModelChoice, ModelPart, MODEL_CACHE};
use wasm_bindgen_futures::JsFuture;

use crate::app::{ModelState, ModelStatus};
use crate::worker::describe;

/// A folded panel with the model in use, load progress and the choices.
#[component]
pub fn ModelPicker(model: RwSignal<ModelStatus>, on_load: Callback<ModelChoice>) -> impl IntoView {
    let encoder = NodeRef::<Input>::new();
    let decoder = NodeRef::<Input>::new();
    let note = RwSignal::new(None::<String>);
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
            <form class="model-form" on:submit=on_submit>
                <label for="encoder-url">"Encoder ONNX address"</label>
                <input id="encoder-url" node_ref=encoder type="text" inputmode="url" spellcheck="false"
                    placeholder="https://…/mobile_sam_encoder.onnx" />
                <label for="decoder-url">"Decoder ONNX address"</label>
                <input id="decoder-url" node_ref=decoder type="text" inputmode="url" spellcheck="false"
                    placeholder="https://…/mobile_sam_decoder.onnx" />
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
            <p class="model-note" aria-live="polite">{move || note.get()}</p>
        </details>
    }
}

fn model_name(model: &ModelChoice) -> String {
    match model {
        ModelChoice::Builtin => "the built-in test model".into(),
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
