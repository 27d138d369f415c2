//! The list of connections on the home page, with a filter box for people who run many CRMs.

use leptos::prelude::*;
use userdeck_client::query::lowercase;

use crate::components::when::When;
use crate::state::connections::{ConnectionInfo, Connections};

/// Case-insensitive match on the name, the id and the provider's label.
pub fn matches(connection: &ConnectionInfo, filter: &str) -> bool {
    let needle = lowercase(filter.trim());
    needle.is_empty()
        || [
            connection.name.as_str(),
            connection.id.as_str(),
            connection.provider_label(),
        ]
        .iter()
        .any(|hay| lowercase(hay).contains(&needle))
}

/// Renders `connections` as links to their users, narrowed by what is typed in the filter.
#[component]
pub fn ConnectionList(#[prop(into)] connections: Signal<Vec<ConnectionInfo>>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    // A connection signed in from this tab counts as ready too.
    let held = use_context::<Connections>();
    let shown = move || {
        let needle = filter.get();
        connections.with(|all| {
            all.iter()
                .filter(|c| matches(c, &needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="connection-list">
            <label class="filter">
                <span>"Filter connections"</span>
                <input
                    type="search"
                    placeholder="Name or CRM"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </label>
            <ul role="list">
                {move || shown().into_iter().map(|c| view! {
                    <li class="connection" data-provider=c.provider.clone()>
                        <a href=format!("/c/{}/users", c.id)>
                            <span class="name">{c.name.clone()}</span>
                            <span class="provider">{c.provider_label()}</span>
                        </a>
                        {
                            let id = c.id.clone();
                            let ready_now = c.signed_in || c.is_ready();
                            let ready = move || ready_now || held.is_some_and(|h| h.has_secret(&id));
                            let label = ready.clone();
                            view! {
                                <span class="chip" class:ok=ready>
                                    {move || if label() { "ready" } else { "sign-in needed" }}
                                </span>
                            }
                        }
                    </li>
                }).collect::<Vec<_>>()}
            </ul>
            <When when=move || shown().is_empty()>
                <p class="empty">"No connection matches."</p>
            </When>
        </div>
    }
}
