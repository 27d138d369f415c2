//! The signed-in user of a connection: their profile, profile update and password change where
//! the CRM offers them (App CRM), and signing out.

use leptos::prelude::*;
use userdeck_client::{ApiError, FormMode, PasswordChange, User};

use crate::components::focus;
use crate::components::sign_in::ConnectionGate;
use crate::components::user_form::UserForm;
use crate::pages::user_detail::UserFields;
use crate::router::{Go, Route, use_location};
use crate::state::connections::{Connections, SignIn};
use crate::state::session::{Sessions, describe};
use crate::state::toast::{ToastKind, notify};

/// `/c/{conn}/me`.
#[component]
pub fn MePage() -> impl IntoView {
    let location = use_location();
    let conn = Memo::new(move |_| location.route.with(Route::conn_id));
    let sessions = expect_context::<Sessions>();
    let connections = expect_context::<Connections>();
    view! {
        <section class="page me">
            <ConnectionGate id=conn let:ready>
                {
                    let (info, client) = ready;
                    let caps = client.with_value(|c| c.capabilities());
                    let me = RwSignal::new(None::<Result<User, ApiError>>);
                    let reload = RwSignal::new(0u32);
                    let cid = info.id.clone();
                    Effect::new(move |_| {
                        reload.track();
                        let client = client.get_value();
                        let cid = cid.clone();
                        leptos::task::spawn_local(async move {
                            let outcome = client.me().await;
                            sessions.report(&cid, &client, &outcome);
                            if let Ok(u) = &outcome {
                                sessions.set_user(&cid, Some(u.display_name.clone()));
                            }
                            me.set(Some(outcome));
                        });
                    });
                    let cid = info.id.clone();
                    let method = info.sign_in_method();
                    let logout = info.oauth.as_ref().and_then(|o| o.logout.clone());
                    // Once: a second press before the first is through signed out again and
                    // said so twice.
                    let leaving = StoredValue::new(false);
                    let sign_out = move |_| {
                        if leaving.get_value() {
                            return;
                        }
                        leaving.set_value(true);
                        let client = client.get_value();
                        let cid = cid.clone();
                        leptos::task::spawn_local(async move {
                            let outcome = client.sign_out().await;
                            connections.forget_secret(&cid);
                            sessions.forget(&cid);
                            match outcome {
                                Ok(()) => notify(ToastKind::Success, "Signed out."),
                                Err(e) => notify(ToastKind::Error, format!("Signed out here; the CRM said: {}", describe(&e))),
                            }
                            location.navigate("/", Go::default());
                        });
                    };
                    let draft_key = format!("userdeck.draft.{}.profile", info.id);
                    let users_href = format!("/c/{}/users", info.id);
                    view! {
                        <header class="page-head">
                            <h1>"My profile"</h1>
                            <div class="actions">
                                {match (method, logout) {
                                    (SignIn::OAuth, Some(url)) => view! { <a class="button" href=url rel="external">"Sign out"</a> }.into_any(),
                                    (SignIn::Token | SignIn::Password, _) => view! { <button type="button" data-testid="sign-out" on:click=sign_out>"Sign out"</button> }.into_any(),
                                    _ => ().into_any(),
                                }}
                            </div>
                        </header>
                        {move || match me.get() {
                            None => view! { <p role="status" class="loading">"Loading profile…"</p> }.into_any(),
                            Some(Err(e)) => view! { <div class="error-state" role="alert"><p>{describe(&e)}</p></div> }.into_any(),
                            Some(Ok(u)) => {
                                let profile = caps.profile.then(|| view! {
                                    <h2>"Update profile"</h2>
                                    <UserForm client=client mode=FormMode::Profile user=u.clone() draft_key=draft_key.clone() connection=info.id.clone()
                                        on_saved=Callback::new(move |_| reload.update(|n| *n += 1))/>
                                });
                                view! {
                                    <UserFields user=u.clone() schema=client.with_value(|c| c.schema()) users_href=users_href.clone()/>
                                    {profile}
                                }.into_any()
                            }
                        }}
                        {caps.password.then(|| view! { <PasswordForm client=client/> })}
                    }
                }
            </ConnectionGate>
        </section>
    }
}

/// Changing the signed-in user's password (App CRM): old, new, confirmation; the server's
/// errors (a wrong current password) land on their fields.
#[component]
pub fn PasswordForm(
    client: StoredValue<std::rc::Rc<crate::state::session::ApiClient>, LocalStorage>,
) -> impl IntoView {
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(std::collections::BTreeMap::<String, Vec<String>>::new());
    let general = RwSignal::new(None::<String>);
    // Sent once: a second press while the first is out would send the old password again,
    // which the CRM, the password changed, refuses; the user would read a failure.
    let busy = RwSignal::new(false);
    let form = NodeRef::<leptos::html::Form>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let change = PasswordChange {
            old_password: old.get_untracked(),
            new_password: new.get_untracked(),
            confirmation: confirm.get_untracked(),
        };
        let mut found = std::collections::BTreeMap::new();
        if change.old_password.chars().count() < 6 {
            found.insert(
                "old_password".to_string(),
                vec!["The current password has at least 6 characters.".to_string()],
            );
        }
        if change.new_password.chars().count() < 6 {
            found.insert(
                "password".to_string(),
                vec!["The new password must be at least 6 characters.".to_string()],
            );
        } else if change.new_password == change.old_password {
            found.insert(
                "password".to_string(),
                vec!["The new password must differ from the current one.".to_string()],
            );
        }
        if change.new_password != change.confirmation {
            found.insert(
                "password_confirmation".to_string(),
                vec!["The password confirmation does not match.".to_string()],
            );
        }
        let invalid = !found.is_empty();
        errors.set(found);
        general.set(None);
        if invalid {
            focus::first_invalid(form);
            return;
        }
        busy.set(true);
        let client = client.get_value();
        leptos::task::spawn_local(async move {
            let outcome = client.change_password(&change).await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    old.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    notify(ToastKind::Success, "Password changed.");
                }
                Err(ApiError::Validation { fields, message }) => {
                    errors.set(fields);
                    general.set(Some(message));
                    focus::first_invalid(form);
                }
                Err(e) => general.set(Some(describe(&e))),
            }
        });
    };
    let field = move |key: &'static str,
                      label: &'static str,
                      sig: RwSignal<String>,
                      auto: &'static str| {
        view! {
            <div class="field" class:invalid=move || errors.with(|e| e.contains_key(key))>
                <label for=format!("pw-{key}")><span class="label">{label}<span class="req" aria-hidden="true">" *"</span></span></label>
                <input type="password" id=format!("pw-{key}") autocomplete=auto required
                    aria-invalid=move || errors.with(|e| e.contains_key(key)).to_string()
                    aria-describedby=move || errors.with(|e| e.contains_key(key)).then(|| format!("pw-{key}-error"))
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
                {move || errors.with(|e| e.get(key).cloned()).map(|m| view! { <p class="field-error" id=format!("pw-{key}-error") data-testid=format!("error-{key}")>{m.join(" ")}</p> })}
            </div>
        }
    };
    view! {
        <form class="password-form" on:submit=submit novalidate node_ref=form data-testid="password-form">
            <h2>"Change password"</h2>
            {field("old_password", "Current password", old, "current-password")}
            {field("password", "New password", new, "new-password")}
            {field("password_confirmation", "Confirm new password", confirm, "new-password")}
            {move || general.get().map(|g| view! { <p class="error" role="alert">{g}</p> })}
            <div class="actions">
                // `aria-disabled`, not `disabled`, while it is sent: the focus stays on it.
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    {move || if busy.get() { "Changing…" } else { "Change password" }}
                </button>
            </div>
        </form>
    }
}
