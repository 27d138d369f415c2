//! Getting from a connection id to a ready client: the gate renders its children with the
//! connection and its client, or the sign-in the connection needs (token, email/username and
//! password, or "Connect with Capsule" through the proxy's OAuth start).

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::Provider;

use crate::state::connections::{ConnectionInfo, Connections, LoadState, SignIn};
use crate::state::session::{ApiClient, NotReady, Sessions, connection_for, describe, new_client};
use crate::state::toast::{ToastKind, notify};

/// What the gate hands its children.
pub type Ready = (ConnectionInfo, StoredValue<Rc<ApiClient>, LocalStorage>);

/// Renders `children` once the connection `id` has a client; otherwise loading, "unknown
/// connection" or the sign-in form.
#[component]
pub fn ConnectionGate<F, IV>(#[prop(into)] id: Signal<String>, children: F) -> impl IntoView
where
    F: Fn(Ready) -> IV + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    let key = Memo::new(move |_| {
        let id = id.get();
        let info = connections.find(&id);
        let has_secret = connections.has_secret(&id);
        let loading = connections.state.with(|s| *s == LoadState::Loading);
        (id, info, has_secret, loading)
    });
    move || {
        let (id, info, _, loading) = key.get();
        match info {
            None if loading => view! { <p role="status" class="loading">"Loading…"</p> }.into_any(),
            None => view! {
                <h1>"Unknown connection"</h1>
                <p>"No connection is called “"{id}"”. "<a href="/">"Choose one"</a>" or "<a href="/connections">"add it"</a>"."</p>
            }
            .into_any(),
            Some(info) => match sessions.client(&info, &connections) {
                Ok(client) => {
                    if sessions.status.with_untracked(|s| s.get(&info.id).and_then(|x| x.user.clone()).is_none()) {
                        let c = client.clone();
                        let cid = info.id.clone();
                        leptos::task::spawn_local(async move {
                            let me = c.me().await;
                            sessions.report(&cid, &c, &me);
                            if let Ok(u) = me {
                                sessions.set_user(&cid, Some(u.display_name));
                            }
                        });
                    }
                    children((info, StoredValue::new_local(client))).into_any()
                }
                Err(reason) => view! { <SignInPanel info=info reason=reason/> }.into_any(),
            },
        }
    }
}

/// The sign-in a connection needs. Credentials are checked against the CRM before they are kept.
#[component]
pub fn SignInPanel(info: ConnectionInfo, reason: NotReady) -> impl IntoView {
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    let provider = info.provider_kind();
    let method = info.sign_in_method();
    let login = RwSignal::new(info.login.clone().unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let info_s = StoredValue::new(info.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let info = ConnectionInfo {
            login: Some(login.get_untracked()).filter(|l| !l.is_empty()),
            ..info_s.get_value()
        };
        let secret_now = secret.get_untracked();
        if secret_now.is_empty() {
            error.set(Some("Enter the credential first.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let outcome = match connection_for(&info, Some(secret_now.clone())) {
                Ok(conn) => {
                    let client = new_client(conn);
                    match client.sign_in().await {
                        Ok(()) => client.me().await.map(|u| u.display_name),
                        Err(e) => Err(e),
                    }
                }
                Err(reason) => {
                    busy.set(false);
                    error.set(Some(reason.message()));
                    return;
                }
            };
            busy.set(false);
            match outcome {
                Ok(name) => {
                    if let Some(l) = &info.login {
                        connections.set_login(&info.id, l);
                    }
                    sessions.forget(&info.id);
                    connections.set_secret(&info.id, secret_now, remember.get_untracked());
                    sessions.set_user(&info.id, Some(name.clone()));
                    notify(
                        ToastKind::Success,
                        format!("Signed in to {} as {name}", info.name),
                    );
                }
                Err(e) => error.set(Some(describe(&e))),
            }
        });
    };
    let login_label = match provider {
        Some(Provider::Zurmo) => "Username",
        _ => "Email",
    };
    let form = match (&reason, method) {
        (NotReady::NeedsOAuth(start), _) => view! {
            <p>"This connection signs in with your CRM account."</p>
            <a class="button primary" href=start.clone() rel="external" data-testid="oauth-start">"Connect with Capsule"</a>
        }
        .into_any(),
        (NotReady::UnknownProvider(_), _) => ().into_any(),
        (_, m) => view! {
            <form class="sign-in" on:submit=submit data-testid="sign-in">
                {(m == SignIn::Password).then(|| view! {
                    <label class="field">
                        <span>{login_label}</span>
                        <input type="text" autocomplete="username" required prop:value=move || login.get()
                            on:input=move |ev| login.set(event_target_value(&ev))/>
                    </label>
                })}
                <label class="field">
                    <span>{if m == SignIn::Password { "Password" } else { "API token" }}</span>
                    <input type="password" autocomplete=if m == SignIn::Password { "current-password" } else { "off" }
                        data-testid="secret" prop:value=move || secret.get()
                        on:input=move |ev| secret.set(event_target_value(&ev))/>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || remember.get() on:change=move |_| remember.update(|r| *r = !*r)/>
                    "Remember on this device (for this browser tab's session)"
                </label>
                <button type="submit" class="primary" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        }
        .into_any(),
    };
    view! {
        <div class="sign-in-panel">
            <h1>{info.name.clone()}</h1>
            <p class="provider">{info.provider_label()}</p>
            <p>{reason.message()}</p>
            {form}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
