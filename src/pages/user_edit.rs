//! Create and edit pages: load the user (for edit), then the schema-driven form.

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::{FormMode, Provider, User};

use crate::components::sign_in::ConnectionGate;
use crate::components::user_form::UserForm;
use crate::pages::user_detail::{load_error, load_user};
use crate::router::{Go, Route, use_location};
use crate::state::session::{ApiClient, Sessions};

/// `/c/{conn}/users/new`.
#[component]
pub fn UserCreatePage() -> impl IntoView {
    let location = use_location();
    let conn = Memo::new(move |_| location.route.with(Route::conn_id));
    view! {
        <section class="page user-edit">
            <ConnectionGate id=conn let:ready>
                {
                    let (info, client) = ready;
                    let caps = client.with_value(|c| c.capabilities());
                    let base = format!("/c/{}/users", info.id);
                    let base2 = base.clone();
                    let on_saved = Callback::new(move |u: User| location.navigate(&format!("{base2}/{}", u.id), Go::default()));
                    if caps.create {
                        let release_known = learn_release(client);
                        let draft_key = format!("userdeck.draft.{}.new", info.id);
                        let conn_id = info.id.clone();
                        view! {
                            <p><a href=base.clone()>"← All users"</a></p>
                            <h1>"New user"</h1>
                            {move || if release_known.get() {
                                view! { <UserForm client=client mode=FormMode::Create draft_key=draft_key.clone() on_saved=on_saved connection=conn_id.clone()/> }.into_any()
                            } else {
                                view! { <p role="status" class="loading">"Loading the form…"</p> }.into_any()
                            }}
                        }.into_any()
                    } else {
                        view! { <p class="hint">{format!("{} cannot create users through its API.", info.provider_label())}</p> }.into_any()
                    }
                }
            </ConnectionGate>
        </section>
    }
}

/// Whether the form's fields are known: an App CRM's release decides them (v1.2 asks for the first
/// day of the week), and only an answer names it. A create page opened before any list (a
/// reload, a shared link) asks for the signed-in user first; if that fails, the form shows the
/// current release's fields and the save's own answer says what is wrong.
fn learn_release(client: StoredValue<Rc<ApiClient>, LocalStorage>) -> RwSignal<bool> {
    let known = client.with_value(|c| {
        c.connection().provider != Provider::AppCrm || c.server_version().is_some()
    });
    let release_known = RwSignal::new(known);
    if !known {
        let client = client.get_value();
        leptos::task::spawn_local(async move {
            let _ = client.me().await;
            // The page may be gone by now; then there is nothing to tell.
            let _ = release_known.try_set(true);
        });
    }
    release_known
}

/// `/c/{conn}/users/{id}/edit`.
#[component]
pub fn UserEditPage() -> impl IntoView {
    let location = use_location();
    let conn = Memo::new(move |_| location.route.with(Route::conn_id));
    let user_id = Memo::new(move |_| location.route.with(Route::user_id));
    let sessions = expect_context::<Sessions>();
    view! {
        <section class="page user-edit">
            <ConnectionGate id=conn let:ready>
                {
                    let (info, client) = ready;
                    let user = load_user(client, info.id.clone(), user_id, sessions);
                    let base = format!("/c/{}/users", info.id);
                    let conn_id = info.id.clone();
                    move || match user.get() {
                        None => view! { <p role="status" class="loading">"Loading user…"</p> }.into_any(),
                        Some(Err(e)) => view! {
                            <div class="error-state" role="alert">
                                <p>{load_error(&e, &info, user_id.get_untracked())}</p>
                                <p><a href=base.clone()>"All users"</a></p>
                            </div>
                        }.into_any(),
                        Some(Ok(u)) => {
                            let back = format!("{base}/{}", u.id);
                            let target = back.clone();
                            let on_saved = Callback::new(move |_: User| location.navigate(&target, Go::default()));
                            view! {
                                <p><a href=back>"← Back to the user"</a></p>
                                <h1>{format!("Edit {}", u.display_name)}</h1>
                                <UserForm client=client mode=FormMode::Update user=u.clone()
                                    draft_key=format!("userdeck.draft.{}.{}", conn_id, u.id) on_saved=on_saved connection=conn_id.clone()/>
                            }.into_any()
                        }
                    }
                }
            </ConnectionGate>
        </section>
    }
}
