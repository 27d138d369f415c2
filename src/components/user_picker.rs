//! A search-as-you-type user picker: type part of a name, choose one of the matches. Used for
//! Zurmo's manager field and for App CRM's "transfer this user's records to" on delete.

use std::rc::Rc;
use std::time::Duration;

use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
use leptos::prelude::*;
use userdeck_client::UserQuery;

use crate::state::session::ApiClient;

/// How long typing must pause before a search is sent, so each keystroke is not a request.
const DEBOUNCE_MS: u64 = 250;
/// Matches offered at once.
const MATCHES: u32 = 10;

/// The search box and its matches. `on_pick` receives the chosen user's id and display name;
/// users in `exclude` are never offered (the users being deleted cannot inherit their own
/// records).
#[component]
pub fn UserPicker(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    /// `id` of the search input, for a `<label for>`.
    #[prop(into)]
    input_id: String,
    /// The input's accessible name when no visible label points at it.
    #[prop(into)]
    search_label: String,
    /// `data-testid` of the search input.
    #[prop(into)]
    testid: String,
    #[prop(optional)] exclude: Vec<u64>,
    on_pick: Callback<(u64, String)>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<(u64, String)>::new());
    let pending: StoredValue<Option<TimeoutHandle>, LocalStorage> = StoredValue::new_local(None);
    let cancel_pending = move || {
        if let Some(h) = pending.try_update_value(Option::take).flatten() {
            h.clear();
        }
    };
    // A search typed just before the picker goes (its dialog closed, its page left) must not
    // run afterwards: its client may be gone with the page, and reading it would panic.
    on_cleanup(cancel_pending);
    let lookup = move |text: String| {
        cancel_pending();
        if text.trim().is_empty() {
            found.set(Vec::new());
            return;
        }
        let exclude = exclude.clone();
        let handle = set_timeout_with_handle(
            move || {
                let Some(client) = client.try_get_value() else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    let q = UserQuery::page(1, MATCHES).text(text);
                    if let Ok(page) = client.list(&q).await {
                        found.set(
                            page.items
                                .into_iter()
                                .filter(|u| !exclude.contains(&u.id))
                                .map(|u| (u.id, u.display_name))
                                .collect(),
                        );
                    }
                });
            },
            Duration::from_millis(DEBOUNCE_MS),
        );
        pending.set_value(handle.ok());
    };
    view! {
        <div class="user-picker">
            <input type="search" id=input_id placeholder="Search a user by name" aria-label=search_label
                data-testid=testid autocomplete="off"
                prop:value=move || search.get()
                on:input=move |ev| {
                    let t = event_target_value(&ev);
                    search.set(t.clone());
                    lookup(t);
                }/>
            <ul class="suggestions" aria-label="Matching users">
                <For each=move || found.get() key=|(id, _)| *id let:item>
                    <li>
                        <button type="button" data-testid="pick-user" on:click=move |_| {
                            on_pick.run(item.clone());
                            found.set(Vec::new());
                            search.set(String::new());
                        }>{format!("{} (#{})", item.1, item.0)}</button>
                    </li>
                </For>
            </ul>
        </div>
    }
}

/// App CRM's "transfer this user's records to" choice in a delete dialog: search a user, or
/// leave it empty and the records are not moved.
#[component]
pub fn TransferTo(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    /// The chosen heir (id, display name).
    heir: RwSignal<Option<(u64, String)>>,
    /// The users being deleted.
    exclude: Vec<u64>,
) -> impl IntoView {
    let label = if exclude.len() > 1 {
        "Transfer these users' records to"
    } else {
        "Transfer this user's records to"
    };
    view! {
        <div class="field transfer" data-testid="transfer-to">
            <label for="transfer-to">{label}</label>
            <UserPicker client=client input_id="transfer-to" search_label=label
                testid="transfer-search" exclude=exclude
                on_pick=Callback::new(move |picked| heir.set(Some(picked)))/>
            <p class="hint" aria-live="polite" data-testid="transfer-choice">
                {move || match heir.get() {
                    Some((id, name)) => format!("Records go to {name} (#{id})."),
                    None => "No one chosen: the records are not transferred.".to_string(),
                }}
                {move || heir.get().is_some().then(|| view! {
                    <button type="button" class="link" on:click=move |_| heir.set(None)>" Clear"</button>
                })}
            </p>
        </div>
    }
}
