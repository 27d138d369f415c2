//! The users page's "Delete selected" confirmation: who exactly goes, the connection's name
//! typed to confirm, and (App CRM) whom their records go to.

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::User;

use crate::components::dialog::ConfirmDialog;
use crate::components::user_picker::TransferTo;
use crate::state::selection::Selection;
use crate::state::session::ApiClient;

/// What the dialog reads from the page and hands back to it.
#[derive(Clone)]
pub struct BulkDelete {
    /// The connection's name, typed to confirm.
    pub phrase: String,
    pub selected: RwSignal<Selection>,
    /// The page's rows, for the names of the selected users on it.
    pub rows: RwSignal<Vec<User>>,
    /// Offer "transfer data to" (App CRM).
    pub transfer: bool,
    pub client: StoredValue<Rc<ApiClient>, LocalStorage>,
    pub heir: RwSignal<Option<(u64, String)>>,
    pub on_confirm: Callback<()>,
    pub on_cancel: Callback<()>,
}

/// How many names the dialog spells out before "and N more".
const SHOWN: usize = 8;

#[component]
pub fn BulkDeleteDialog(args: BulkDelete) -> impl IntoView {
    let BulkDelete {
        phrase,
        selected,
        rows,
        transfer,
        client,
        heir,
        on_confirm,
        on_cancel,
    } = args;
    view! {
        <ConfirmDialog title="Delete users" confirm_label="Delete" phrase=phrase on_confirm=on_confirm on_cancel=on_cancel>
            <p>{move || format!("Delete {} selected users? This cannot be undone.", selected.with(Selection::len))}</p>
            // Who exactly, so a wrong tick is caught before the names are gone.
            <p class="hint" data-testid="delete-names">{move || {
                let names: Vec<String> = rows.with(|rows| selected.with(|s| {
                    rows.iter().filter(|u| s.contains(u.id)).map(|u| u.display_name.clone()).collect()
                }));
                let named = names.len().min(SHOWN);
                // Users ticked on another page count, though their names are not at hand.
                let more = selected.with(Selection::len).saturating_sub(named);
                let mut text = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
                if more > 0 {
                    text.push_str(&format!(" and {more} more"));
                }
                text
            }}</p>
            {transfer.then(|| view! {
                <TransferTo client=client heir=heir exclude=selected.with_untracked(|s| s.ids().to_vec())/>
            })}
        </ConfirmDialog>
    }
}
