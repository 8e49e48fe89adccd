//! The twinseg web page: a Leptos client-side app that hands all heavy work
//! to a Web Worker and shows what comes back. `main` only mounts the app.

mod app;
mod ask;
mod canvas;
mod downloads;
mod find;
mod flow;
mod model;
mod overlay;
mod params;
mod picker;
mod reasoner;
mod status;
mod worker;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
