//! Berth's admin console: a client-side Leptos app served by `berth serve` at `/`.

mod api;
mod app;
mod components;
mod format;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
