//! The users page's keyboard shortcuts, listed in a dialog that `?` (or its button) opens, so
//! the keys the table and search answer to can be found without reading a manual.

use leptos::prelude::*;

use crate::components::dialog::InfoDialog;

/// The keys, and what each does; `Space` only where rows can be selected.
fn shortcuts(selectable: bool) -> Vec<(&'static [&'static str], &'static str)> {
    let mut keys: Vec<(&'static [&'static str], &'static str)> = vec![
        (&["/"], "Search users"),
        (&["↑", "↓"], "Move between rows"),
        (&["Home", "End"], "First or last row"),
        (&["Enter"], "Open the user"),
    ];
    if selectable {
        keys.push((&["Space"], "Select the row, or clear it"));
    }
    keys.push((&["Esc"], "Close a dialog"));
    keys.push((&["?"], "Show these shortcuts"));
    keys
}

/// The dialog listing the shortcuts.
#[component]
pub fn ShortcutsDialog(selectable: bool, on_close: Callback<()>) -> impl IntoView {
    view! {
        <InfoDialog title="Keyboard shortcuts" on_close=on_close testid="shortcuts">
            <dl class="shortcuts">
                {shortcuts(selectable)
                    .into_iter()
                    .map(|(keys, what)| view! {
                        <dt>{keys.iter().map(|k| view! { <kbd>{*k}</kbd> }).collect_view()}</dt>
                        <dd>{what}</dd>
                    })
                    .collect_view()}
            </dl>
        </InfoDialog>
    }
}
