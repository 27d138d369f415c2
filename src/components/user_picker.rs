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
    // The matches form a listbox the keyboard walks from the search box (the ARIA combobox
    // pattern): Down and Up move through them, Enter picks the one shown as active, Escape closes
    // them. The focus stays in the box, so typing goes on where it was.
    let active = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        found.track();
        active.set(None);
    });
    let list_id = format!("{input_id}-matches");
    let option_id = {
        let list_id = list_id.clone();
        move |id: u64| format!("{list_id}-{id}")
    };
    let pick = move |item: (u64, String)| {
        on_pick.run(item);
        found.set(Vec::new());
        search.set(String::new());
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let count = found.with(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            // With matches open, Enter belongs to them: it never submits the form around.
            "Enter" if count > 0 => {
                ev.prevent_default();
                let chosen = active
                    .get_untracked()
                    .and_then(|i| found.with_untracked(|f| f.get(i).cloned()));
                if let Some(item) = chosen {
                    pick(item);
                }
            }
            // The first Escape closes the matches; the next one reaches a dialog around.
            "Escape" if count > 0 => {
                ev.prevent_default();
                ev.stop_propagation();
                found.set(Vec::new());
            }
            _ => {}
        }
    };
    let active_id = {
        let option_id = option_id.clone();
        move || {
            active
                .get()
                .and_then(|i| found.with(|f| f.get(i).map(|(id, _)| option_id(*id))))
        }
    };
    view! {
        <div class="user-picker">
            <input type="search" id=input_id placeholder="Search a user by name" aria-label=search_label
                data-testid=testid autocomplete="off"
                role="combobox" aria-autocomplete="list" aria-controls=list_id.clone()
                aria-expanded=move || found.with(|f| !f.is_empty()).to_string()
                aria-activedescendant=active_id
                prop:value=move || search.get()
                on:keydown=on_keydown
                on:blur=move |_| found.set(Vec::new())
                on:input=move |ev| {
                    let t = event_target_value(&ev);
                    search.set(t.clone());
                    lookup(t);
                }/>
            <ul class="suggestions" id=list_id role="listbox" aria-label="Matching users">
                <For each=move || found.get().into_iter().enumerate() key=|(i, (id, _))| (*i, *id) let:entry>
                    {
                        let (index, item) = entry;
                        let text = format!("{} (#{})", item.1, item.0);
                        view! {
                            <li role="option" id=option_id(item.0) data-testid="pick-user"
                                class:active=move || active.get() == Some(index)
                                aria-selected=move || (active.get() == Some(index)).to_string()
                                // Keep the focus in the box: a blur would close the matches before the click lands.
                                on:mousedown=|ev| ev.prevent_default()
                                on:click=move |_| pick(item.clone())>{text}</li>
                        }
                    }
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
