//! The twinseg web page: a Leptos client-side app that hands all heavy work
//! to a Web Worker and shows what comes back. `main` only mounts the app.

mod app;
mod canvas;
mod model;
mod picker;
mod status;
mod worker;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
