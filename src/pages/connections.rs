//! Managing connections: every known connection with its status, switching to it, and adding,
//! editing or removing the user's own.

use leptos::prelude::*;

use crate::components::connection_form::ConnectionForm;
use crate::components::dialog::ConfirmDialog;
use crate::components::status_chip::StatusChip;
use crate::components::when::When;
use crate::state::connections::{ConnectionInfo, Connections};
use crate::state::session::Sessions;
use crate::state::toast::{ToastKind, notify};

/// `/connections`.
#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    // None: list; Some(None): adding; Some(Some(c)): editing c.
    let editing = RwSignal::new(None::<Option<ConnectionInfo>>);
    let removing = RwSignal::new(None::<ConnectionInfo>);
    let done = Callback::new(move |()| editing.set(None));
    let confirm_remove = Callback::new(move |()| {
        if let Some(c) = removing.get_untracked() {
            connections.remove(&c.id);
            sessions.forget(&c.id);
            notify(ToastKind::Success, format!("Removed {}", c.name));
        }
        removing.set(None);
    });
    view! {
        <section class="page connections" aria-labelledby="connections-title">
            <header class="page-head">
                <h1 id="connections-title">"Manage connections"</h1>
                <button type="button" class="primary" data-testid="add-connection" on:click=move |_| editing.set(Some(None))>"Add connection"</button>
            </header>
            {move || editing.get().map(|e| view! { <ConnectionForm editing=e on_done=done/> }.into_any())}
            <ul class="manage-list" role="list">
                <For each=move || connections.list.get() key=|c| (c.id.clone(), c.name.clone(), c.base_url.clone(), c.login.clone()) let:c>
                    {
                        let edit = c.clone();
                        let remove = c.clone();
                        view! {
                            <li class="managed" data-testid="managed-connection">
                                <div>
                                    <a href=format!("/c/{}/users", c.id) class="name">{c.name.clone()}</a>
                                    <span class="provider">{format!(" {} · {}", c.provider_label(), if c.saved { "added here" } else { "from the proxy" })}</span>
                                    <div class="url">{c.base_url.clone()}</div>
                                </div>
                                <StatusChip id=c.id.clone()/>
                                <a class="button" href=format!("/c/{}/me", c.id)>"Profile"</a>
                                {c.saved.then(|| view! {
                                    <button type="button" on:click=move |_| editing.set(Some(Some(edit.clone())))>"Edit"</button>
                                    <button type="button" class="danger" on:click=move |_| removing.set(Some(remove.clone()))>"Remove"</button>
                                })}
                            </li>
                        }
                    }
                </For>
            </ul>
            <When when=move || removing.with(Option::is_some)>
                <ConfirmDialog title="Remove connection" confirm_label="Remove" on_confirm=confirm_remove on_cancel=Callback::new(move |()| removing.set(None))>
                    <p>{move || format!("Remove {} from this browser? Its users stay in the CRM.", removing.with(|r| r.as_ref().map(|c| c.name.clone()).unwrap_or_default()))}</p>
                </ConfirmDialog>
            </When>
        </section>
    }
}
