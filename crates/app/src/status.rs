//! Where the person reads what is happening: the worker's state, the image's
//! size, the stage with a progress bar, the time each stage took, and errors.

use leptos::prelude::*;
use twinseg::protocol::{Stage, Timings};

use crate::app::{ImageStatus, MemoryUse, WorkerState};

/// The progress of the current image, announced politely to screen readers.
/// `data-stage` (idle, reading, a stage id, failed or cancelled) and
/// `data-worker` let styles and tests follow along. While the worker is busy
/// a Cancel button (and the Escape key) stops it.
#[component]
pub fn StatusPanel(
    worker: RwSignal<WorkerState>,
    threads: RwSignal<u32>,
    image: RwSignal<Option<ImageStatus>>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let stage_id = move || {
        image.with(|image| match image {
            None => "idle",
            Some(image) if image.failed.is_some() => "failed",
            Some(image) if image.cancelled => "cancelled",
            Some(image) => image.stage.map_or("reading", Stage::id),
        })
    };
    let worker_id = move || match worker.get() {
        WorkerState::Starting => "starting",
        WorkerState::Ready => "ready",
        WorkerState::Broken => "broken",
    };
    view! {
        <section class="status" role="status" aria-live="polite" data-stage=stage_id data-worker=worker_id data-threads=move || threads.get()>
            <p class="status-line">{move || headline(worker.get(), image.get().as_ref())}</p>
            <Show when=move || worker.get() == WorkerState::Ready>
                <p class="threads">{move || threads_line(threads.get())}</p>
            </Show>
            {move || image.get().map(|image| view! { <ImageProgress image=image /> })}
            <Show when=move || image.with(|image| image.as_ref().is_some_and(ImageStatus::is_working))>
                <button type="button" class="button cancel" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </Show>
        </section>
    }
}

/// The size, progress bar and timings of one image.
#[component]
fn ImageProgress(image: ImageStatus) -> impl IntoView {
    let last_step = Stage::Done.step();
    let step = image.stage.map_or(0, Stage::step);
    let size = image
        .size
        .map(|(width, height)| format!("{width} \u{d7} {height} px"));
    view! {
        <p class="image-name">
            <span class="file-name">{image.name.clone()}</span>
            {size.map(|size| view! { <span class="image-size">{size}</span> })}
        </p>
        <progress
            class="stage-progress"
            max=last_step
            value=step
            aria-label="Progress"
            aria-valuetext=image.stage.map(Stage::label)
        ></progress>
        {image.timings.map(|timings| view! { <Timeline timings=timings memory=image.memory /> })}
    }
}

/// How long each stage took, and the memory in use afterwards.
#[component]
fn Timeline(timings: Timings, memory: Option<MemoryUse>) -> impl IntoView {
    let rows = [
        ("Decoded", timings.decode_ms),
        ("Model loaded", timings.load_model_ms),
        ("Prepared", timings.prepare_ms),
        ("Encoded", timings.encode_ms),
        ("Total", timings.total_ms()),
    ];
    let memory_row = memory.map(|memory| {
        view! {
            <div class="memory-use">
                <dt>"Memory"</dt>
                <dd>{memory_text(&memory)}</dd>
            </div>
        }
    });
    view! {
        <dl
            class="timings"
            data-prepare-ms=timings.prepare_ms
            data-encode-ms=timings.encode_ms
            data-worker-memory=memory.map(|m| m.worker_bytes)
            data-worker-heap=memory.map(|m| m.worker_heap_bytes)
            data-page-memory=memory.map(|m| m.page_bytes)
        >
            {rows
                .into_iter()
                .filter(|(_, ms)| *ms > 0.0)
                .map(|(label, ms)| view! {
                    <div class="timing">
                        <dt>{label}</dt>
                        <dd>{format_ms(ms)}</dd>
                    </div>
                })
                .collect_view()}
            {memory_row}
        </dl>
    }
}

/// A failure, as a sentence the person can act on. Assistive technology
/// reads it out as soon as it appears.
#[component]
pub fn ErrorAlert(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <div class="error" role="alert">
                    <p>{message}</p>
                    <button type="button" class="dismiss" on:click=move |_| error.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}

/// Says how many threads the model runs on, and for what: the encoder and
/// the search for every object use them all, a single prompt only one (see
/// the worker's `threads` module).
fn threads_line(threads: u32) -> String {
    match threads {
        0 | 1 => "The model runs on one thread.".into(),
        threads => {
            format!("The image encoder and the search for objects run on {threads} threads.")
        }
    }
}

fn headline(worker: WorkerState, image: Option<&ImageStatus>) -> String {
    match (worker, image) {
        (WorkerState::Broken, _) => "The worker is not running.".into(),
        (_, Some(image)) if image.failed.is_some() => {
            let stage = image.failed.map_or("Working", Stage::label);
            format!("{stage} failed.")
        }
        (_, Some(image)) if image.cancelled => "Cancelled.".into(),
        (_, Some(image)) => match image.stage {
            Some(Stage::Done) => "Encoded. Ready for prompts.".into(),
            Some(stage) => format!("{}\u{2026}", stage.label()),
            None => "Reading the file\u{2026}".into(),
        },
        (WorkerState::Starting, None) => "Starting the model worker\u{2026}".into(),
        (WorkerState::Ready, None) => "Drop, paste or choose an image to begin.".into(),
    }
}

fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// Bytes as whole MiB.
fn mebibytes(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}

/// The memory row: the worker's wasm memory and, when the worker counted
/// it, how much of that is in use; then the page's.
fn memory_text(memory: &MemoryUse) -> String {
    let worker = mebibytes(memory.worker_bytes);
    let page = mebibytes(memory.page_bytes);
    match memory.worker_heap_bytes {
        0 => format!("worker {worker} \u{b7} page {page}"),
        heap => format!(
            "worker {worker} ({} in use) \u{b7} page {page}",
            mebibytes(heap)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_says_how_much_of_the_worker_is_in_use_when_known() {
        let mut memory = MemoryUse {
            worker_bytes: 130 << 20,
            worker_heap_bytes: (57 << 20) + 1,
            page_bytes: 4 << 20,
        };
        assert_eq!(
            memory_text(&memory),
            "worker 130 MiB (58 MiB in use) \u{b7} page 4 MiB"
        );
        memory.worker_heap_bytes = 0;
        assert_eq!(memory_text(&memory), "worker 130 MiB \u{b7} page 4 MiB");
    }

    #[test]
    fn the_threads_line_names_what_runs_on_more_than_one() {
        assert_eq!(threads_line(1), "The model runs on one thread.");
        assert_eq!(threads_line(0), "The model runs on one thread.");
        assert_eq!(
            threads_line(4),
            "The image encoder and the search for objects run on 4 threads."
        );
    }
}
