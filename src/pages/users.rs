//! The users of one connection: search, advanced conditions, sortable and pickable columns,
//! paging, selection with bulk delete, and CSV export. The query lives in the URL
//! (`/c/{conn}/users?q=…&sort=…&dir=…&page=…&size=…`), so reload, back/forward and shared links
//! show the same list.

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::{ApiError, Page, Schema, User, UserQuery};
use wasm_bindgen::JsCast;

use crate::components::advanced_search::Applied;
use crate::components::bulk_delete::{BulkDelete, DeleteJob};
use crate::components::column_picker::{ColumnPicker, pickable};
use crate::components::csv_export::CsvExport;
use crate::components::focus;
use crate::components::pager::{PageInfo, Pager};
use crate::components::search_bar::{SEARCH_ID, SearchBar};
use crate::components::shortcuts::{KeyboardHelp, show_keyboard_help};
use crate::components::sign_in::ConnectionGate;
use crate::components::users_table::{Column, UsersTable};
use crate::components::when::When;
use crate::lazy::{self, Unavailable};
use crate::milestones::{Milestone, reached};
use crate::router::{Go, Route, use_location};
use crate::state::columns::{load_columns, save_columns};
use crate::state::connections::ConnectionInfo;
use crate::state::list_query::{ListParams, can_sort};
use crate::state::selection::Selection;
use crate::state::session::{ApiClient, ListAnswer, Sessions, describe_for};
use crate::state::toast::{ToastKind, notify};

/// The routed page: reads the connection and the list query from the URL.
#[component]
pub fn UsersPage() -> impl IntoView {
    let location = use_location();
    let id = Memo::new(move |_| location.route.with(Route::conn_id));
    let list_params =
        Memo::new(move |_| location.query.with(|q| ListParams::from_pairs(q.pairs())));
    let on_params = Callback::new(move |p: ListParams| {
        let qs = p.to_query_string();
        let path = if qs.is_empty() {
            format!("/c/{}/users", id.get_untracked())
        } else {
            format!("/c/{}/users?{qs}", id.get_untracked())
        };
        // Typing a search replaces the history entry, so Back skips the keystrokes.
        let only_text = ListParams {
            q: p.q.clone(),
            ..list_params.get_untracked()
        } == p;
        location.navigate(
            &path,
            Go {
                scroll: false,
                replace: only_text,
            },
        );
    });
    // The way back from a user's page leads to this list as it is now.
    if let Some(sessions) = use_context::<Sessions>() {
        Effect::new(move |_| {
            let query_string = list_params.with(ListParams::to_query_string);
            sessions.note_list_query(&id.get(), query_string);
        });
    }
    let on_open = Callback::new(move |user: u64| {
        location.navigate(
            &format!("/c/{}/users/{user}", id.get_untracked()),
            Go::default(),
        );
    });
    view! {
        <section
            class="page users"
            on:pointerover=|_| lazy::prefetch_screens()
            on:focusin=|_| lazy::prefetch_screens()
        >
            <ConnectionGate id=id let:ready>
                <UsersView
                    info=ready.0
                    client=ready.1
                    params=list_params
                    on_params=on_params
                    on_open=on_open
                />
            </ConnectionGate>
        </section>
    }
}

/// The list itself, given a ready client and the query; `on_params` changes the query (the page
/// puts it in the URL), `on_open` opens one user.
#[component]
pub fn UsersView(
    info: ConnectionInfo,
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    #[prop(into)] params: Signal<ListParams>,
    on_params: Callback<ListParams>,
    on_open: Callback<u64>,
) -> impl IntoView {
    let provider = client.with_value(|c| c.connection().provider);
    let provider_label = info.provider_label();
    let schema = Schema::of(provider);
    let caps = provider.capabilities();
    let conn_id = info.id.clone();
    let sessions = use_context::<Sessions>();
    let info_for_errors = info.clone();

    let chosen = RwSignal::new(load_columns(&conn_id, &schema));
    {
        let conn_id = conn_id.clone();
        Effect::new(move |_| chosen.with(|c| save_columns(&conn_id, c)));
    }
    let schema_s = StoredValue::new(schema.clone());
    let columns = Memo::new(move |_| {
        let keys = chosen.get();
        schema_s.with_value(|s| {
            keys.iter()
                .filter_map(|k| s.field(k))
                .map(|spec| Column {
                    spec: spec.clone(),
                    sortable: can_sort(provider, spec),
                })
                .collect::<Vec<_>>()
        })
    });
    let query = Memo::new(move |_| {
        params.with(|p| chosen.with(|c| schema_s.with_value(|s| p.list_query(s, c))))
    });

    let refocus = sessions.and_then(|s| s.take_opened(&conn_id));
    let rows = RwSignal::new(Vec::<User>::new());
    let page_info = RwSignal::new(PageInfo::default());
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<ApiError>);
    let reload = RwSignal::new(0u32);
    let selected = RwSignal::new(Selection::default());

    let show = move |list: Page<User>| {
        page_info.set(PageInfo {
            page: list.page,
            size: list.page_size,
            total: list.total,
            has_next: list.has_next,
            shown: list.items.len(),
        });
        rows.set(list.items);
        error.set(None);
    };
    // A list's outcome: its rows (kept to show again at once) or its error.
    let settle = move |id: &str, client: &ApiClient, q: &UserQuery, outcome: ListAnswer| {
        if let Some(s) = sessions {
            s.report(id, client, &outcome);
        }
        match outcome {
            Err(ApiError::Cancelled) => {}
            Ok(list) => {
                reached(Milestone::ListReceived);
                // Not from a client signed out of since: its users are not the next session's
                // to see.
                if let Some(s) = sessions.filter(|s| s.is_current(id, client)) {
                    s.remember_list(id, q, &list);
                }
                show(list);
                loading.set(false);
            }
            Err(e) => {
                error.set(Some(e));
                rows.set(Vec::new());
                loading.set(false);
            }
        }
    };
    // The first list of a page load may have been asked for as the app started
    // (`state::first_list`). An answer already in goes into the table's first drawing, with no
    // placeholder rows before it; one still on its way is awaited instead of asking again.
    let mut early = sessions.and_then(|s| s.take_early_list(&conn_id, &query.get_untracked()));
    let arrived = early
        .as_mut()
        .and_then(|answer| answer.try_recv().ok().flatten());
    let settled_early = arrived.is_some();
    if let Some(outcome) = arrived {
        settle(
            &conn_id,
            &client.get_value(),
            &query.get_untracked(),
            outcome,
        );
    }
    let early = StoredValue::new_local(early.filter(|_| !settled_early));

    let id_for_fetch = conn_id.clone();
    Effect::new(move |before: Option<()>| {
        let q: UserQuery = query.get();
        reload.track();
        if before.is_none() && settled_early {
            return;
        }
        loading.set(true);
        // Coming back to this list shows it as it was last seen, at once; the fetch below
        // brings it up to date (the old rows dim if that takes a while). Later queries of this
        // view keep their own rows on screen while they load, so only the first run looks.
        if before.is_none()
            && let Some(kept) = sessions.and_then(|s| s.recall_list(&id_for_fetch, &q))
        {
            show(kept);
        }
        let early = early.try_update_value(Option::take).flatten();
        let client = client.get_value();
        let id = id_for_fetch.clone();
        leptos::task::spawn_local(async move {
            reached(Milestone::ListRequested);
            let early = match early {
                Some(answer) => answer.await.ok(),
                None => None,
            };
            // No early answer, or its request was given up: ask now.
            let outcome = match early {
                Some(outcome) => outcome,
                None => client.list_latest(&q).await,
            };
            settle(&id, &client, &q, outcome);
        });
    });

    // From anywhere but a text field or an open dialog (whose page behind is out of reach):
    // `/` focuses the search box, `?` lists the shortcuts.
    let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
        let pressed = ev.key();
        if !matches!(pressed.as_str(), "/" | "?") || ev.ctrl_key() || ev.meta_key() || ev.alt_key()
        {
            return;
        }
        let elsewhere = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| {
                matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || e.closest("[aria-modal=true]").ok().flatten().is_some()
            });
        if elsewhere {
            return;
        }
        if pressed == "?" {
            ev.prevent_default();
            show_keyboard_help();
        } else if focus_search() {
            ev.prevent_default();
        }
    });
    on_cleanup(move || shortcut.remove());

    let on_search = Callback::new(move |text: String| {
        on_params.run(ListParams {
            q: text,
            page: 1,
            ..params.get_untracked()
        });
    });
    let on_sort =
        Callback::new(move |key: String| on_params.run(params.get_untracked().toggled_sort(&key)));
    let on_page = Callback::new(move |page: u32| {
        on_params.run(ListParams {
            page,
            ..params.get_untracked()
        })
    });
    let on_size = Callback::new(move |size: u32| {
        on_params.run(ListParams {
            size,
            page: 1,
            ..params.get_untracked()
        })
    });
    let sort = Signal::derive(move || params.with(|p| p.sort.clone().map(|k| (k, p.dir))));
    let show_advanced = RwSignal::new(!params.with_untracked(|p| p.conditions.is_empty()));
    let on_apply = Callback::new(move |applied: Applied| {
        on_params.run(ListParams {
            conditions: applied.conditions,
            match_any: applied.match_any,
            structure: applied.structure,
            page: 1,
            ..params.get_untracked()
        });
    });
    let text_blocked = Signal::derive(move || {
        !caps.text_with_conditions && params.with(|p| !p.conditions.is_empty())
    });

    // Bulk delete: confirm by typing the connection's name; App CRM may hand the records on.
    let confirming = RwSignal::new(false);
    let heir = RwSignal::new(None::<(u64, String)>);
    let deleting = RwSignal::new(None::<(usize, usize)>);
    let bulk_button = NodeRef::<leptos::html::Button>::new();
    let name_phrase = info.name.clone();
    let id_for_delete = conn_id.clone();
    let do_delete = Callback::new(move |()| {
        confirming.set(false);
        let job = DeleteJob {
            client: client.get_value(),
            conn_id: id_for_delete.clone(),
            sessions,
            ids: selected.with_untracked(|s| s.ids().to_vec()),
            heir: heir.get_untracked().map(|(to, _)| to),
            selected,
            progress: deleting,
        };
        heir.set(None);
        leptos::task::spawn_local(async move {
            // The work comes with the dialog's module, which the confirmation just used.
            match lazy::bulk_delete_run(job).await {
                Ok(work) => work.await,
                Err(Unavailable) => notify(
                    ToastKind::Error,
                    "Nothing was deleted: this part of Userdeck could not be downloaded. Check \
                     the network and try again.",
                ),
            }
            // "Delete selected" had the focus back from the dialog, and the browser drops it to
            // the page once the button is disabled for the emptied selection: the search box
            // takes it instead, at the head of the users that are left.
            let on_button = bulk_button
                .try_get_untracked()
                .flatten()
                .is_some_and(|b| document().active_element().as_ref() == Some(&b));
            let emptied = selected
                .try_with_untracked(Selection::is_empty)
                .unwrap_or(false);
            if focus::dropped() || (on_button && emptied) {
                focus_search();
            }
            let _ = reload.try_update(|n| *n += 1);
        });
    });

    let export_columns = Signal::derive(move || {
        columns.with(|c| c.iter().map(|c| c.spec.clone()).collect::<Vec<_>>())
    });
    let export_query = Signal::derive(move || query.get());
    let filename = format!("{}-users.csv", conn_id);
    let users_base = format!("/c/{}/users", conn_id);
    let new_href = format!("{users_base}/new");
    let initial_conditions =
        params.with_untracked(|p| (p.conditions.clone(), p.match_any, p.structure.clone()));

    view! {
        <header class="page-head">
            <div>
                <h1>{info.name.clone()}</h1>
                <p class="provider">{info.provider_label()}" · users"</p>
            </div>
            {caps.create.then(|| view! {
                <a class="button primary" href=new_href data-testid="new-user">"New user"</a>
            })}
        </header>
        <div class="toolbar" role="toolbar" aria-label="Users list tools">
            <SearchBar value=Signal::derive(move || params.with(|p| p.q.clone())) on_search=on_search disabled=text_blocked/>
            <button
                type="button"
                aria-expanded=move || show_advanced.get().to_string()
                aria-controls="advanced-panel"
                data-testid="toggle-advanced"
                on:click=move |_| show_advanced.update(|v| *v = !*v)
            >"Advanced"</button>
            <ColumnPicker fields=pickable(&schema) chosen=chosen
                defaults=schema.columns().map(|f| f.key.to_string()).collect()/>
            <CsvExport client=client query=export_query columns=export_columns filename=filename/>
            {caps.delete.then(|| view! {
                <button
                    type="button"
                    class="danger"
                    data-testid="bulk-delete"
                    node_ref=bulk_button
                    // `aria-disabled` while the users go, so it keeps the focus the dialog gave
                    // back; `disabled` only with nothing selected (the search box then takes
                    // the focus, above).
                    prop:disabled=move || selected.with(Selection::is_empty)
                    aria-disabled=move || deleting.with(Option::is_some).to_string()
                    on:click=move |_| {
                        if deleting.with_untracked(Option::is_none) {
                            confirming.set(true);
                        }
                    }
                >{move || format!("Delete selected ({})", selected.with(Selection::len))}</button>
            })}
        </div>
        <When when=move || text_blocked.get()>
            <p class="hint">{format!("{} cannot combine free text with field conditions; clear the conditions to search by text.", provider.label())}</p>
        </When>
        <When when=move || show_advanced.get()>
            <div id="advanced-panel">
                {lazy::show(lazy::advanced_search(provider, initial_conditions.clone(), on_apply))}
            </div>
        </When>
        {move || deleting.get().map(|(done, total)| view! {
            <p role="status" class="hint">
                <progress max=total.to_string() value=done.to_string()></progress>
                {format!(" Deleting {done} of {total}…")}
            </p>
        })}
        {move || params.with(|p| schema_s.with_value(|s| p.unknown_sort(s).map(str::to_string))).map(|key| {
            let remove = move |_| on_params.run(ListParams { sort: None, ..params.get_untracked() });
            view! {
                <p class="notice" role="status" data-testid="unknown-sort">
                    {format!("This link sorts by “{key}”, which {} cannot sort by, so the users are in its own order. ", provider_label)}
                    <button type="button" class="link" on:click=remove>"Take the sort out of the link"</button>
                </p>
            }
        })}
        {move || error.get().map(|e| {
            let needs_sign_in = e.needs_sign_in();
            view! {
                <div class="error-state" role="alert" data-testid="list-error">
                    <p>{describe_for(&e, &info_for_errors)}</p>
                    <button type="button" on:click=move |_| reload.update(|n| *n += 1)>"Try again"</button>
                    {needs_sign_in.then(|| view! { <a href="/connections">" Manage connections"</a> })}
                </div>
            }
        })}
        <UsersTable
            columns=columns
            rows=rows
            sort=sort
            on_sort=on_sort
            on_open=on_open
            selected=selected
            loading=loading
            detail_base=users_base.clone()
            selectable=caps.delete
            refocus=refocus
        />
        <When when=move || !loading.get() && error.with(Option::is_none) && rows.with(Vec::is_empty)>
            <div class="empty-state" data-testid="empty">
                {move || if params.with(|p| !p.q.trim().is_empty() || !p.conditions.is_empty()) {
                    view! {
                        <p>"No users match this search."</p>
                        <button type="button" on:click=move |_| on_params.run(ListParams { size: params.get_untracked().size, ..ListParams::default() })>"Clear the search"</button>
                    }.into_any()
                } else if params.with(|p| p.page > 1) {
                    view! {
                        <p>"This page is past the end of the list."</p>
                        <button type="button" on:click=move |_| on_page.run(1)>"Go to the first page"</button>
                    }.into_any()
                } else {
                    view! { <p>"This connection has no users yet."</p> }.into_any()
                }}
            </div>
        </When>
        <Pager info=page_info on_page=on_page on_size=on_size/>
        <KeyboardHelp selectable=caps.delete/>
        <When when=move || confirming.get()>
            {
                let args = BulkDelete {
                    phrase: name_phrase.clone(),
                    selected,
                    rows,
                    transfer: caps.delete_transfer,
                    client,
                    heir,
                    on_confirm: do_delete,
                    on_cancel: Callback::new(move |()| { confirming.set(false); heir.set(None); }),
                };
                lazy::show(lazy::bulk_delete(args))
            }
        </When>
    }
}

/// Puts the focus in the users search box; false when the page has none.
fn focus_search() -> bool {
    let Some(input) = document()
        .get_element_by_id(SEARCH_ID)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    let _ = input.focus();
    true
}
