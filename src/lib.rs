//! Userdeck, the browser console for the users of Capsule CRM, App CRM and Zurmo.
//!
//! The app is a library so that the wasm-bindgen tests in `tests/` can mount its components one by
//! one; `main.rs` only calls [`start`].

pub mod app;
pub mod components;
pub mod lazy;
pub mod milestones;
pub mod pages;
pub mod router;
pub mod state;

/// Mounts the whole app on `<body>`; panics are reported to the browser console, not swallowed.
pub fn start() {
    milestones::reached(milestones::Milestone::Started);
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
