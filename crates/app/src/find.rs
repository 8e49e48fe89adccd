//! The "find all objects" panel: the button, the run's progress with a
//! Stop button (Escape works too), how many were found, the object under
//! the pointer, and the thresholds.

use leptos::ev;
use leptos::prelude::*;
use twinseg::proposals::ProposalSettings;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::app::AppState;
use crate::flow::RunState;

/// The panel.
#[component]
pub fn FindPanel(state: AppState) -> impl IntoView {
    let flow = state.flow;
    let running = move || matches!(flow.run.get(), RunState::Running { .. });
    let run_id = move || match flow.run.get() {
        RunState::Idle => "idle",
        RunState::Running { .. } => "running",
        RunState::Finished {
            cancelled: true, ..
        } => "cancelled",
        RunState::Finished { .. } => "done",
    };
    let count = move || flow.objects.with(Vec::len);
    let finished_times = move || match flow.run.get() {
        RunState::Finished { times, .. } => Some(times),
        _ => None,
    };
    let prompts = move || match flow.run.get() {
        RunState::Finished { done, .. } => Some(done),
        _ => None,
    };
    let summary = move || match flow.run.get() {
        RunState::Idle => {
            "Find every object in the image, then hover over them or ask a question.".to_string()
        }
        RunState::Running { done, total } => {
            format!(
                "Finding objects\u{2026} {done} of {total} grid points, {} kept so far.",
                count()
            )
        }
        RunState::Finished {
            cancelled,
            done,
            total,
            ..
        } => {
            let stopped = if cancelled {
                format!(" Stopped after {done} of {total} grid points; what was found is kept.")
            } else {
                String::new()
            };
            format!("Found {} objects.{stopped}", count())
        }
    };
    let progress = move || match flow.run.get() {
        RunState::Running { done, total } => Some((done, total.max(1))),
        _ => None,
    };
    view! {
        <section class="find-panel" data-run=run_id data-count=count
            data-proposals-ms=move || finished_times().map(|t| t.proposals_ms)
            data-twin-ms=move || finished_times().map(|t| t.twin_ms)
            data-prompts=prompts
            aria-labelledby="find-heading">
            <h2 id="find-heading">"Objects"</h2>
            <div class="find-actions">
                <button
                    type="button"
                    class="button primary find-all"
                    disabled=move || running() || state.picture.with(Option::is_none)
                    on:click=move |_| state.find_objects()
                >
                    "Find all objects"
                </button>
                <Show when=running>
                    <button type="button" class="button cancel-run" on:click=move |_| state.cancel_run()>
                        "Stop (Esc)"
                    </button>
                </Show>
            </div>
            <p class="find-summary" role="status" aria-live="polite">{summary}</p>
            {move || progress().map(|(done, total)| view! {
                <progress class="find-progress" max=total value=done aria-label="Prompts run"></progress>
            })}
            <HoverInfo state=state />
            <SettingsPanel settings=flow.settings />
        </section>
    }
}

/// The object under the pointer: id, level and scores. Once there are
/// objects the line is always there (a hint when nothing is under the
/// pointer), so hovering never moves the image under the pointer.
#[component]
fn HoverInfo(state: AppState) -> impl IntoView {
    let flow = state.flow;
    let details = move || {
        let id = flow.hover.get()?;
        flow.objects.with(|objects| {
            let shown = objects.iter().find(|shown| shown.info.id == id)?;
            let info = &shown.info;
            let level = if info.level.is_empty() {
                "proposal".to_string()
            } else {
                info.level.clone()
            };
            let parent = info
                .parent
                .map(|p| format!(", part of #{p}"))
                .unwrap_or_default();
            Some(format!(
                "#{} \u{b7} {level}{parent} \u{b7} predicted IoU {:.2} \u{b7} stability {:.2} \u{b7} {} px",
                info.id, info.predicted_iou, info.stability_score, info.area
            ))
        })
    };
    let text = move || {
        details().or_else(|| {
            flow.objects
                .with(|objects| !objects.is_empty())
                .then(|| "Point at an object in the image to see its details.".to_string())
        })
    };
    view! { <p class="hover-info" data-hover=move || flow.hover.get()>{text}</p> }
}

/// The thresholds of the run.
#[component]
fn SettingsPanel(settings: RwSignal<ProposalSettings>) -> impl IntoView {
    view! {
        <details class="find-settings">
            <summary>"Thresholds"</summary>
            <div class="settings-grid">
                <NumberField id="points-per-side" label="Points per side" min="1" max="64" step="1"
                    get=move || f64::from(settings.with(|s| s.points_per_side))
                    set=move |v: f64| settings.update(|s| s.points_per_side = v.round().clamp(1.0, 64.0) as u32) />
                <label for="skip-covered">"Skip points inside found objects"</label>
                <input id="skip-covered" type="checkbox"
                    title="Much faster: a grid point that an earlier prompt's mask already covers is not prompted (can miss a small object inside a larger one)"
                    prop:checked=move || settings.with(|s| s.skip_covered)
                    on:change=move |event: ev::Event| {
                        let checked = event
                            .target()
                            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                            .is_some_and(|input| input.checked());
                        settings.update(|s| s.skip_covered = checked);
                    } />
                <NumberField id="pred-iou" label="Predicted IoU at least" min="0" max="1" step="0.01"
                    get=move || f64::from(settings.with(|s| s.pred_iou_thresh))
                    set=move |v: f64| settings.update(|s| s.pred_iou_thresh = v.clamp(0.0, 1.0) as f32) />
                <NumberField id="stability" label="Stability at least" min="0" max="1" step="0.01"
                    get=move || f64::from(settings.with(|s| s.stability_score_thresh))
                    set=move |v: f64| settings.update(|s| s.stability_score_thresh = v.clamp(0.0, 1.0) as f32) />
                <NumberField id="nms" label="Box overlap (NMS) above" min="0" max="1" step="0.01"
                    get=move || f64::from(settings.with(|s| s.box_nms_thresh))
                    set=move |v: f64| settings.update(|s| s.box_nms_thresh = v.clamp(0.0, 1.0) as f32) />
                <NumberField id="min-area" label="Smallest region (px)" min="0" max="100000" step="1"
                    get=move || settings.with(|s| s.min_mask_region_area) as f64
                    set=move |v: f64| settings.update(|s| s.min_mask_region_area = v.max(0.0) as u64) />
            </div>
        </details>
    }
}

/// One labelled number input; invalid text is ignored.
#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    min: &'static str,
    max: &'static str,
    step: &'static str,
    get: impl Fn() -> f64 + Send + Sync + 'static,
    set: impl Fn(f64) + 'static,
) -> impl IntoView {
    let on_change = move |event: ev::Event| {
        let value = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .map(|input| input.value_as_number());
        if let Some(value) = value.filter(|v| v.is_finite()) {
            set(value);
        }
    };
    view! {
        <label for=id>{label}</label>
        <input id=id type="number" min=min max=max step=step prop:value=move || shown_number(get()) on:change=on_change />
    }
}

/// A setting as a person would type it: at most four decimals, so an `f32`
/// threshold such as 0.88 does not show as 0.8799999952316284.
fn shown_number(value: f64) -> String {
    ((value * 10_000.0).round() / 10_000.0).to_string()
}
