//! The users page's keyboard shortcuts, listed under the table in a disclosure that `?` opens,
//! so the keys the table and search answer to can be found without reading a manual. Plain
//! `<details>`: it needs no script to open and close, and costs the bundle least.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The element `?` opens.
const HELP_ID: &str = "keyboard-help";

/// The keys, and what each does; `Space` only where rows can be selected.
fn shortcuts(selectable: bool) -> Vec<(&'static str, &'static str)> {
    let mut keys = vec![
        ("/", "Search users"),
        ("↑ ↓", "Move between rows"),
        ("Home End", "First or last row"),
        ("Enter", "Open the user"),
    ];
    if selectable {
        keys.push(("Space", "Select the row, or clear it"));
    }
    keys.push(("Esc", "Close a dialog"));
    keys.push(("?", "Show these shortcuts"));
    keys
}

/// The list of shortcuts, closed until asked for.
#[component]
pub fn KeyboardHelp(selectable: bool) -> impl IntoView {
    view! {
        <details id=HELP_ID class="keys-hint" data-testid="shortcuts">
            <summary aria-keyshortcuts="?">"Keyboard shortcuts"</summary>
            <dl class="shortcuts">
                {shortcuts(selectable)
                    .into_iter()
                    .map(|(keys, what)| view! {
                        <dt>{keys.split(' ').map(|k| view! { <kbd>{k}</kbd> }).collect_view()}</dt>
                        <dd>{what}</dd>
                    })
                    .collect_view()}
            </dl>
        </details>
    }
}

/// Opens the list, moves the focus to it and shows it whole (`?`); nothing when the page has
/// none.
pub fn show_keyboard_help() {
    let Some(help) = document()
        .get_element_by_id(HELP_ID)
        .and_then(|e| e.dyn_into::<web_sys::HtmlDetailsElement>().ok())
    else {
        return;
    };
    help.set_open(true);
    if let Some(summary) = help
        .query_selector("summary")
        .ok()
        .flatten()
        .and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = summary.focus();
    }
    // The list opens below the pager, often under the fold: bring its end into view.
    help.scroll_into_view_with_bool(false);
}
