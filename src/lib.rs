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

/// Mounts the whole app on `<body>`; panics are reported to the browser console, not swallowed:
/// with their message, or in the release bundle, whose std stops at a panic at once (xtask's
/// `bundle.rs`), as the wasm's "unreachable" trap.
pub fn start() {
    milestones::reached(milestones::Milestone::Started);
    // Such a std never calls a panic hook; setting one would only keep its formatting code.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
