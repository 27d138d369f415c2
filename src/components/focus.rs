//! Where the keyboard focus went. A single-page app removes and disables elements under the
//! focus (a pressed row's page replaced by the next, a button busy with what it started), and the
//! browser then leaves the focus on the page's body: the next Tab starts over from the top.

use leptos::prelude::*;

/// Whether the focus is nowhere in particular: on the body, or on nothing.
pub fn dropped() -> bool {
    let document = document();
    document
        .active_element()
        .is_none_or(|e| document.body().is_some_and(|body| *body == e))
}
