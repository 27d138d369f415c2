//! The harness of the end-to-end journeys: a real chromedriver and headless Chromium driving the
//! release bundle, served by the proxy in front of the sandbox (both started per test by
//! [`Stack`]).
//!
//! `cargo xtask test` builds the bundle and passes `USERDECK_DIST`, `USERDECK_AXE_JS`,
//! `CHROMEDRIVER` and `USERDECK_TEST_OUTPUT` (screenshots and logs CI keeps).

mod axe;
mod browser;
mod stack;

use std::path::PathBuf;

pub use axe::Violation;
pub use browser::{Browser, Theme};
pub use stack::{Stack, dist_dir, free_port};

/// The folder CI keeps: screenshots of every main screen and of failures.
pub fn output_dir() -> PathBuf {
    let dir = std::env::var_os("USERDECK_TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("userdeck-test-output"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}
