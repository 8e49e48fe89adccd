//! Asking: the question field (Enter asks), the reasoner settings with a
//! view of the exact payload a remote reasoner gets, and the answer with its
//! reasoning steps or the reason nothing matched.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, SubmitEvent};

use crate::app::AppState;
use crate::flow::PromptResult;
use crate::reasoner::{self, ReasonerChoice};

/// The question form and the answer.
#[component]
pub fn AskPanel(state: AppState) -> impl IntoView {
    let flow = state.flow;
    let query = RwSignal::new(crate::params::start_query());
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        state.ask(query.get_untracked());
    };
    view! {
        <section class="ask-panel" aria-labelledby="ask-heading" data-asking=move || flow.asking.get().to_string()>
            <h2 id="ask-heading">"Ask"</h2>
            <form class="ask-form" on:submit=on_submit>
                <label for="question">"Question about the image"</label>
                <input
                    id="question"
                    type="text"
                    autocomplete="off"
                    placeholder="e.g. the red square on the left"
                    prop:value=move || query.get()
                    on:input=move |event| query.set(event_target_value(&event))
                />
                <button type="submit" class="button primary ask-button" disabled=move || flow.asking.get()>
                    "Ask"
                </button>
            </form>
            <AnswerView state=state />
            <ReasonerSettings state=state query=query />
        </section>
    }
}

/// The answer: a sentence, the steps, and the prompt's score when the mask
/// came from the person's own prompt.
#[component]
fn AnswerView(state: AppState) -> impl IntoView {
    let flow = state.flow;
    move || {
        if flow.asking.get() {
            let remote = flow.reasoner.with(ReasonerChoice::is_remote);
            return view! {
                <p class="answer-state thinking">
                    "Thinking\u{2026} "
                    <Show when=move || remote>
                        <button type="button" class="button stop-ask" on:click=move |_| { flow.stop_asking(); }>
                            "Stop (Esc)"
                        </button>
                    </Show>
                </p>
            }
            .into_any();
        }
        if let Some(PromptResult { score, times }) = flow.prompt_result.get() {
            let area = flow.mask.with(|m| m.as_ref().map_or(0, |m| m.area));
            return view! {
                <p class="answer-state prompt-result"
                    data-decoder-ms=times.decoder_ms data-mask-ms=times.mask_ms>
                    {format!("Prompt mask: {area} px, predicted IoU {score:.2}.")}
                </p>
            }
            .into_any();
        }
        let Some(view) = flow.answer.get() else {
            return ().into_any();
        };
        let area = flow.mask.with(|m| m.as_ref().map_or(0, |m| m.area));
        let headline = if view.answer.ids.is_empty() {
            format!(
                "None of them. {}",
                view.answer
                    .none_reason
                    .clone()
                    .unwrap_or_else(|| "Nothing in the image fits the question.".into())
            )
        } else {
            let ids: Vec<String> = view.answer.ids.iter().map(|id| format!("#{id}")).collect();
            format!("Answer: {} ({area} px).", ids.join(", "))
        };
        let none = view.answer.ids.is_empty();
        let id_list = view
            .answer
            .ids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        view! {
            <div class="answer" data-none=none.to_string() data-ids=id_list
                data-reason-ms=(view.reason_ms > 0.0).then_some(view.reason_ms)>
                <p class="answer-state" class:none=none>{headline}</p>
                <p class="answer-meta">{answer_meta(&view)}</p>
                <ol class="steps" aria-label="Reasoning steps">
                    {view.answer.steps.into_iter().map(|step| view! { <li>{step}</li> }).collect_view()}
                </ol>
            </div>
        }
        .into_any()
    }
}

/// Embedded or remote reasoner; the remote's address, model and key; and
/// the payload it gets.
#[component]
fn ReasonerSettings(state: AppState, query: RwSignal<String>) -> impl IntoView {
    let flow = state.flow;
    let choice = flow.reasoner;
    let update = move |change: &dyn Fn(&mut ReasonerChoice)| {
        choice.update(|c| change(c));
        choice.with_untracked(reasoner::save);
    };
    let checked = |event: &ev::Event| {
        event
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .is_some_and(|input| input.checked())
    };
    let summary = move || {
        choice.with(|c| {
            if c.remote {
                format!(
                    "Reasoner: remote ({})",
                    if c.url.is_empty() {
                        "no address yet"
                    } else {
                        &c.url
                    }
                )
            } else {
                "Reasoner: embedded (offline)".to_string()
            }
        })
    };
    view! {
        <details class="reasoner-panel">
            <summary>{summary}</summary>
            <fieldset class="reasoner-kind">
                <legend>"Who answers"</legend>
                <label>
                    <input type="radio" name="reasoner" id="reasoner-embedded"
                        prop:checked=move || !choice.with(|c| c.remote)
                        on:change=move |_| update(&|c| c.remote = false) />
                    " Embedded: offline, nothing leaves this page"
                </label>
                <label>
                    <input type="radio" name="reasoner" id="reasoner-remote"
                        prop:checked=move || choice.with(|c| c.remote)
                        on:change=move |_| update(&|c| c.remote = true) />
                    " OpenAI-compatible endpoint: gets the object list below and the question, never the image"
                </label>
            </fieldset>
            <div class="reasoner-form">
                <label for="reasoner-url">"Endpoint address"</label>
                <input id="reasoner-url" type="url" placeholder="http://127.0.0.1:8000/v1"
                    prop:value=move || choice.with(|c| c.url.clone())
                    on:input=move |e| { let v = event_target_value(&e); update(&|c| c.url = v.clone()) } />
                <label for="reasoner-model">"Model"</label>
                <input id="reasoner-model" type="text" placeholder="gpt-4o-mini"
                    prop:value=move || choice.with(|c| c.model.clone())
                    on:input=move |e| { let v = event_target_value(&e); update(&|c| c.model = v.clone()) } />
                <label for="reasoner-timeout">"Timeout per attempt (s)"</label>
                <input id="reasoner-timeout" type="number" min="1" max="600" step="1"
                    prop:value=move || choice.with(|c| c.timeout().as_secs().to_string())
                    on:change=move |e| {
                        let seconds = event_target_value(&e).trim().parse::<f64>().ok().filter(|s| s.is_finite());
                        if let Some(seconds) = seconds {
                            let seconds = seconds.round().clamp(1.0, 600.0) as u32;
                            update(&|c| c.timeout_s = seconds);
                        }
                    } />
                <label for="reasoner-key">"API key"</label>
                <input id="reasoner-key" type="password" autocomplete="off"
                    prop:value=move || choice.with(|c| c.key.clone())
                    on:input=move |e| { let v = event_target_value(&e); update(&|c| c.key = v.clone()) } />
                <label class="remember">
                    <input id="reasoner-remember" type="checkbox"
                        prop:checked=move || choice.with(|c| c.remember)
                        on:change=move |e| { let on = checked(&e); update(&|c| c.remember = on) } />
                    " Remember these settings (and the key) in this browser"
                </label>
            </div>
            <button type="button" class="button show-payload" on:click=move |_| state.preview_payload(query.get_untracked())>
                "Show what would be sent"
            </button>
            {move || flow.payload.get().map(|payload| view! {
                <pre class="payload" aria-label="The exact request body for the remote reasoner">{payload}</pre>
            })}
        </details>
    }
}

/// Who answered the question, and how fast when it was answered here.
fn answer_meta(view: &crate::flow::AnswerView) -> String {
    let timing = if view.reason_ms > 0.0 {
        format!(" in {:.1} ms", view.reason_ms)
    } else {
        String::new()
    };
    format!(
        "\u{201c}{}\u{201d}, answered by the {} reasoner{timing}.",
        view.query, view.by
    )
}
