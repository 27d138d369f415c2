//! A page load's milestones as User Timing marks (`performance.mark`): when the app's code
//! starts, when the first users list is requested, and when it has been received and decoded.
//! `ui-bench` reads them to split the time to the first row into phases (BENCHMARKS.md), and a
//! browser's performance panel shows them to anyone profiling a load. Each is set once per page
//! load: a later list (a search, a sort) is not part of a load's story.

use std::sync::atomic::{AtomicBool, Ordering};

/// A point in a page load.
#[derive(Clone, Copy)]
pub enum Milestone {
    /// The module is compiled and instantiated, and Rust's `main` runs.
    Started = 0,
    /// The first users list is about to be requested: as the app starts when the address is a
    /// list it can ask for at once (`state::first_list`), otherwise once the page has rendered.
    ListRequested = 1,
    /// The users page holds that list, decoded; the table renders it next.
    ListReceived = 2,
}

impl Milestone {
    /// The mark's name, as `ui-bench` looks it up.
    pub const fn name(self) -> &'static str {
        match self {
            Milestone::Started => "userdeck:started",
            Milestone::ListRequested => "userdeck:list-requested",
            Milestone::ListReceived => "userdeck:list-received",
        }
    }
}

static REACHED: [AtomicBool; 3] = [
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
];

/// Marks `milestone` the first time it is reached in this page load.
pub fn reached(milestone: Milestone) {
    if REACHED[milestone as usize].swap(true, Ordering::Relaxed) {
        return;
    }
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        // A browser without User Timing loses a measurement, not a feature.
        let _ = performance.mark(milestone.name());
    }
}
