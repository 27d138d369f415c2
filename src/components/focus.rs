//! Where the keyboard focus went. A single-page app removes and disables elements under the
//! focus (a pressed row's page replaced by the next, a button busy with what it started), and the
//! browser then leaves the focus on the page's body: the next Tab starts over from the top.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The id of the page's main area ([`crate::components::layout::Layout`]).
pub const MAIN_ID: &str = "main";

/// A frame from now, once the new content is in (and anything that places the focus itself,
/// such as a row come back to, has done so): puts the focus in the main area if it fell to the
/// body with what was pressed to get there. The next Tab then goes into the new content, not
/// back through the header.
pub fn into_main_if_dropped() {
    request_animation_frame(|| {
        let main = document()
            .get_element_by_id(MAIN_ID)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(main) = main.filter(|_| dropped()) {
            let _ = main.focus();
        }
    });
}

/// Whether the focus is nowhere in particular: on the body, or on nothing.
pub fn dropped() -> bool {
    let document = document();
    document
        .active_element()
        .is_none_or(|e| document.body().is_some_and(|body| *body == e))
}

/// Puts the focus on the first field of `form` marked invalid, once the errors just set are
/// drawn (a timeout runs after the reactive updates), so the user lands on what to mend.
pub fn first_invalid(form: NodeRef<leptos::html::Form>) {
    set_timeout(
        move || {
            let field = form
                .try_get_untracked()
                .flatten()
                .and_then(|f| f.query_selector("[aria-invalid=true]").ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(field) = field {
                let _ = field.focus();
            }
        },
        Duration::ZERO,
    );
}
