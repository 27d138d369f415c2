//! The users page's "Delete selected": the confirmation (who exactly goes, the connection's name
//! typed to confirm, and, for App CRM, whom their records go to) and the deleting itself. Both
//! are fetched with the screens the list leads to (`lazy`), not on a first visit.

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::User;

use crate::components::dialog::ConfirmDialog;
use crate::components::user_picker::TransferTo;
use crate::state::selection::Selection;
use crate::state::session::{ApiClient, Sessions, describe};
use crate::state::toast::{ToastKind, notify};

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

/// One confirmed bulk delete: whom, and the page's signals it reports in.
pub struct DeleteJob {
    pub client: Rc<ApiClient>,
    /// The connection, for the session's status.
    pub conn_id: String,
    pub sessions: Option<Sessions>,
    pub ids: Vec<u64>,
    /// Whom the records go to (App CRM).
    pub heir: Option<u64>,
    /// Users leave it as they are deleted; a failure stays ticked for another try.
    pub selected: RwSignal<Selection>,
    /// `(done, total)` while it runs.
    pub progress: RwSignal<Option<(usize, usize)>>,
}

/// Deletes the users of `job` one after another (the client paces them by the rate limit) and
/// says in toasts how many went and why any did not.
pub async fn run(job: DeleteJob) {
    let DeleteJob {
        client,
        conn_id,
        sessions,
        ids,
        heir,
        selected,
        progress,
    } = job;
    let total = ids.len();
    let mut failures = Vec::new();
    for (done, user) in ids.iter().enumerate() {
        // The page may be left mid-run: the deletes go on, as confirmed, with nothing to show.
        let _ = progress.try_set(Some((done, total)));
        let outcome = client.delete_transferring(*user, heir).await;
        if let Some(s) = sessions {
            s.report_write(&conn_id, &client, &outcome);
        }
        match outcome {
            Ok(()) => {
                let _ = selected.try_update(|s| s.remove(*user));
            }
            Err(e) => failures.push(format!("#{user}: {}", describe(&e))),
        }
    }
    let _ = progress.try_set(None);
    let ok = total - failures.len();
    if ok > 0 {
        let moved = heir
            .map(|t| format!(" Their records went to user #{t}."))
            .unwrap_or_default();
        notify(
            ToastKind::Success,
            format!("Deleted {ok} of {total} users.{moved}"),
        );
    }
    if !failures.is_empty() {
        notify(
            ToastKind::Error,
            format!("Could not delete: {}", failures.join("; ")),
        );
    }
}
