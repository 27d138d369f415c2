//! One user: every field the CRM returned, the raw JSON, and edit/delete where the CRM allows.
//! HTML from the CRM (mail signatures) is shown as text, never injected.

use std::rc::Rc;

use leptos::prelude::*;
use serde_json::Value;
use userdeck_client::{ApiError, FieldKind, Schema, User};

use crate::components::dialog::ConfirmDialog;
use crate::components::field_value::{pair_view, user_ref, user_ref_text};
use crate::components::formats::{now, php_date};
use crate::components::sign_in::ConnectionGate;
use crate::components::user_picker::TransferTo;
use crate::components::users_table::cell_text;
use crate::components::when::When;
use crate::router::{Go, Route, use_location};
use crate::state::connections::ConnectionInfo;
use crate::state::session::{ApiClient, Sessions, describe};
use crate::state::toast::{ToastKind, notify};

/// The routed page `/c/{conn}/users/{id}`.
#[component]
pub fn UserDetailPage() -> impl IntoView {
    let location = use_location();
    let conn = Memo::new(move |_| location.route.with(Route::conn_id));
    let user_id = Memo::new(move |_| location.route.with(Route::user_id));
    let sessions = expect_context::<Sessions>();
    Effect::new(move |_| {
        if let Some(user) = user_id.get() {
            sessions.note_opened(&conn.get(), user);
        }
    });
    view! {
        <section class="page user-detail">
            <ConnectionGate id=conn let:ready>
                {
                    let (info, client) = ready;
                    let caps = client.with_value(|c| c.capabilities());
                    let user = load_user(client, info.id.clone(), user_id, sessions);
                    let confirming = RwSignal::new(false);
                    // App CRM: who inherits the deleted user's records (none: they are not moved).
                    let heir = RwSignal::new(None::<(u64, String)>);
                    let users_href = format!("/c/{}/users", info.id);
                    // Back to the list this user was opened from: its search, sort and page.
                    let list_href = sessions.list_href(&info.id);
                    let back = list_href.clone();
                    let cid = info.id.clone();
                    // Taken now: after the delete's `await` there is no reactive owner to ask.
                    let do_delete = Callback::new(move |()| {
                        confirming.set(false);
                        let Some(id) = user_id.get_untracked() else { return };
                        let client = client.get_value();
                        let back = back.clone();
                        let cid = cid.clone();
                        let to = heir.get_untracked().map(|(to, _)| to);
                        let name = user.with_untracked(|u| match u {
                            Some(Ok(u)) => u.display_name.clone(),
                            _ => format!("user #{id}"),
                        });
                        leptos::task::spawn_local(async move {
                            let outcome = client.delete_transferring(id, to).await;
                            sessions.report_write(&cid, &client, &outcome);
                            match outcome {
                                Ok(()) => {
                                    let moved = to.map(|t| format!("; records moved to user #{t}")).unwrap_or_default();
                                    let text = format!("Deleted {name}{moved}");
                                    notify(ToastKind::Success, text);
                                    location.navigate(&back, Go::default());
                                }
                                Err(e) => notify(ToastKind::Error, describe(&e)),
                            }
                        });
                    });
                    view! {
                        <p><a href=list_href data-testid="back-to-list">"← All users"</a></p>
                        {move || match user.get() {
                            None => view! { <p role="status" class="loading">"Loading user…"</p> }.into_any(),
                            Some(Err(e)) => view! {
                                <div class="error-state" role="alert"><p>{load_error(&e, &info, user_id.get_untracked())}</p></div>
                            }.into_any(),
                            Some(Ok(u)) => {
                                let edit_href = format!("{}/{}/edit", users_href, u.id);
                                view! {
                                    <header class="page-head">
                                        <h1>{u.display_name.clone()}</h1>
                                        <div class="actions">
                                            {caps.update.then(|| view! { <a class="button" href=edit_href.clone() data-testid="edit-user">"Edit"</a> })}
                                            {caps.delete.then(|| view! {
                                                <button type="button" class="danger" data-testid="delete-user" on:click=move |_| confirming.set(true)>"Delete"</button>
                                            })}
                                        </div>
                                    </header>
                                    <UserFields user=u.clone() schema=client.with_value(|c| c.schema()) users_href=users_href.clone()/>
                                    <details class="raw">
                                        <summary>"Raw JSON"</summary>
                                        <pre data-testid="raw-json">{serde_json::to_string_pretty(&u.raw).unwrap_or_default()}</pre>
                                    </details>
                                }.into_any()
                            }
                        }}
                        <When when=move || confirming.get()>
                            <ConfirmDialog
                                title="Delete user"
                                confirm_label="Delete"
                                on_confirm=do_delete
                                on_cancel=Callback::new(move |()| { confirming.set(false); heir.set(None); })
                            >
                                <p>{move || format!("Delete {}? This cannot be undone.", user.with(|u| u.as_ref().and_then(|r| r.as_ref().ok()).map(|u| u.display_name.clone()).unwrap_or_default()))}</p>
                                {caps.delete_transfer.then(|| view! {
                                    <TransferTo client=client heir=heir exclude=user_id.get_untracked().into_iter().collect()/>
                                })}
                            </ConfirmDialog>
                        </When>
                    }
                }
            </ConnectionGate>
        </section>
    }
}

/// Why a user could not be shown: a user the CRM does not have is named as such (deleted since, or
/// a wrong link), not by the CRM's internal words ("No query results for model …").
pub fn load_error(error: &ApiError, info: &ConnectionInfo, id: Option<u64>) -> String {
    match (error, id) {
        (ApiError::NotFound { .. }, Some(id)) => format!(
            "{} has no user #{id}: they may have been deleted, or the link is wrong.",
            info.name
        ),
        (ApiError::NotFound { .. }, None) => {
            "This link names no user: check it, or find them in the list.".to_string()
        }
        _ => describe(error),
    }
}

/// The user the route names, fetched with `client` whenever the id changes (and reported for
/// the status chip): `None` while loading, `NotFound` for an id that is not a number.
pub fn load_user(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    connection: String,
    user_id: Memo<Option<u64>>,
    sessions: Sessions,
) -> RwSignal<Option<Result<User, ApiError>>> {
    let user = RwSignal::new(None);
    Effect::new(move |_| {
        let Some(id) = user_id.get() else {
            user.set(Some(Err(ApiError::NotFound {
                message: "not a user id".into(),
            })));
            return;
        };
        let client = client.get_value();
        let connection = connection.clone();
        leptos::task::spawn_local(async move {
            let outcome = client.get(id).await;
            sessions.report(&connection, &client, &outcome);
            user.set(Some(outcome));
        });
    });
    user
}

/// Every field: the schema's fields first (with their labels), then anything else the CRM sent,
/// each shown by [`pair_view`]. Another user the record names (Zurmo's manager) links to that
/// user's page under `users_href` (`/c/{conn}/users`).
#[component]
pub fn UserFields(user: User, schema: Schema, #[prop(into)] users_href: String) -> impl IntoView {
    let known: Vec<&str> = schema
        .fields
        .iter()
        .map(|f| f.key.split('.').next().unwrap_or(f.key))
        .collect();
    let declared = schema
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Password)
        .map(|f| {
            if f.kind == FieldKind::UserRef {
                let value = match user_ref(f, &user) {
                    Some((id, name)) => {
                        let text = user_ref_text(&id, name.as_deref());
                        view! { <a href=format!("{users_href}/{id}")>{text}</a> }.into_any()
                    }
                    None => "—".into_any(),
                };
                return view! { <div class="pair"><dt title=f.key>{f.label}</dt><dd>{value}</dd></div> }.into_any();
            }
            let text = cell_text(f, &user);
            // A PHP date format (App CRM's date/time formats) also reads as today in it.
            let example = (f.kind == FieldKind::Choice && !text.is_empty())
                .then(|| view! { <span class="example">{format!("e.g. {}", php_date(&text, now()))}</span> });
            let text = if text.is_empty() { "—".to_string() } else { text };
            view! { <div class="pair"><dt title=f.key>{f.label}</dt><dd>{text}{example}</dd></div> }.into_any()
        })
        .collect_view();
    let others = match &*user.raw {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| pair_view(k, v))
            .collect_view(),
        _ => Vec::new().collect_view(),
    };
    view! {
        <dl class="fields" data-testid="user-fields">
            {declared}
            {others}
        </dl>
    }
}
