//! Getting an image from the person: a file picker (keyboard reachable, with
//! a label), a drop anywhere on the page, or a paste.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, FileList, HtmlInputElement};

/// The picker, plus page-wide drop and paste handlers; each gives the first
/// file to `on_file`.
#[component]
pub fn ImagePicker(on_file: Callback<File>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    listen_for_drops(on_file, dragging);
    listen_for_pastes(on_file);
    let on_change = move |event: ev::Event| {
        let Some(input) = event
            .target()
            .and_then(|target| target.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = first_file(input.files()) {
            on_file.run(file);
        }
        // Lets the person pick the same file again.
        input.set_value("");
    };
    view! {
        <section class="picker" class:dragging=move || dragging.get()>
            <input
                id="image-file"
                class="visually-hidden"
                type="file"
                accept="image/*"
                on:change=on_change
            />
            <label for="image-file" class="button primary">"Choose an image"</label>
            <p class="hint">"or drop one anywhere on this page, or paste it with Ctrl+V."</p>
        </section>
    }
}

fn listen_for_drops(on_file: Callback<File>, dragging: RwSignal<bool>) {
    let over = window_event_listener(ev::dragover, move |event: DragEvent| {
        event.prevent_default();
        dragging.set(true);
    });
    let leave = window_event_listener(ev::dragleave, move |event: DragEvent| {
        // Leaving the window reports no element underneath.
        if event.related_target().is_none() {
            dragging.set(false);
        }
    });
    let drop = window_event_listener(ev::drop, move |event: DragEvent| {
        event.prevent_default();
        dragging.set(false);
        let files = event.data_transfer().and_then(|transfer| transfer.files());
        if let Some(file) = first_file(files) {
            on_file.run(file);
        }
    });
    on_cleanup(move || {
        over.remove();
        leave.remove();
        drop.remove();
    });
}

fn listen_for_pastes(on_file: Callback<File>) {
    let paste = window_event_listener(ev::paste, move |event: web_sys::ClipboardEvent| {
        let files = event.clipboard_data().and_then(|data| data.files());
        if let Some(file) = first_file(files) {
            event.prevent_default();
            on_file.run(file);
        }
    });
    on_cleanup(move || paste.remove());
}

fn first_file(files: Option<FileList>) -> Option<File> {
    files.and_then(|files| files.get(0))
}
