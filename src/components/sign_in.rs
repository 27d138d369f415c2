//! Getting from a connection id to a ready client: the gate renders its children with the
//! connection and its client, or the sign-in the connection needs (token, email/username and
//! password, or "Connect with Capsule" through the proxy's OAuth start).

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use userdeck_client::{ApiError, Provider};

use crate::components::focus;
use crate::router::{Address, Query};
use crate::state::connections::{ConnectionInfo, Connections, LoadState, SignIn, typed_secret};
use crate::state::session::{ApiClient, NotReady, Sessions, connection_for, describe_for};
use crate::state::toast::{ToastKind, notify};

/// The opt-in that keeps a secret across reloads, worded once for the sign-in and the
/// connection form: it is `sessionStorage`, so "this device" lasts as long as the tab does.
pub const REMEMBER_LABEL: &str = "Remember on this device while this tab is open";
pub const REMEMBER_HELP: &str = "Survives a reload. Forgotten when the tab closes or you sign out; never written to local storage.";

/// Why a sign-in failed. A refused credential is this one, just typed ("no longer accepts", the
/// words for a session that ends later, would be wrong here).
fn refusal(error: &ApiError, method: SignIn, info: &ConnectionInfo) -> String {
    match error {
        ApiError::Unauthorized { .. } | ApiError::SessionExpired => match method {
            SignIn::Password => "The CRM did not accept this login and password: check both and try again.".into(),
            _ => "The CRM did not accept this API token: check that it is complete and still valid, then try again.".into(),
        },
        other => describe_for(other, info),
    }
}

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
    gate(id, Arc::new(move |ready| children(ready).into_any()))
}

/// The gate itself, compiled once for all its pages (each page's children are a type of their
/// own; only the line above is compiled per page).
fn gate(id: Signal<String>, children: Arc<dyn Fn(Ready) -> AnyView + Send + Sync>) -> AnyView {
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    let key = Memo::new(move |_| {
        let id = id.get();
        let info = connections.find(&id);
        let has_secret = connections.has_secret(&id);
        let ended = sessions.has_ended(&id);
        let loading = connections.state.with(|s| *s == LoadState::Loading);
        (id, info, has_secret, ended, loading)
    });
    let view = move || {
        let (id, info, _, ended, loading) = key.get();
        match info {
            None if loading => view! { <p role="status" class="loading">"Loading…"</p> }.into_any(),
            None => view! {
                <h1>"Unknown connection"</h1>
                <p>"No connection is called “"{id}"”. "<a href="/">"Choose one"</a>" or "<a href="/connections">"add it"</a>"."</p>
            }
            .into_any(),
            Some(info) if ended && info.sign_in_method() != SignIn::None => {
                // The CRM rejected what the tab held: ask again (a proxy that holds the
                // credentials cannot be helped from here, so its errors just show).
                let reason = match (&info.oauth, info.sign_in_method()) {
                    (Some(o), SignIn::OAuth) => NotReady::NeedsOAuth(o.start.clone()),
                    _ => NotReady::SessionEnded,
                };
                crate::lazy::show(crate::lazy::sign_in(info, reason))
            }
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
                Err(reason) => crate::lazy::show(crate::lazy::sign_in(info, reason)),
            },
        }
    };
    view.into_any()
}

/// The sign-in a connection needs. Credentials are checked against the CRM before they are kept.
#[component]
pub fn SignInPanel(info: ConnectionInfo, reason: NotReady) -> impl IntoView {
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    let provider = info.provider_kind();
    let method = RwSignal::new(info.sign_in_method());
    // App CRM accepts either credential; the others take exactly one kind.
    let can_choose = provider == Some(Provider::AppCrm)
        && matches!(method.get_untracked(), SignIn::Token | SignIn::Password);
    let login = RwSignal::new(info.login.clone().unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let error_id = format!("sign-in-error-{}", info.id);
    // A refusal sends the focus back to the secret, selected, for the next try.
    let secret_input = NodeRef::<leptos::html::Input>::new();
    let refuse = move |message: String| {
        error.set(Some(message));
        if let Some(input) = secret_input.try_get_untracked().flatten() {
            let _ = input.focus();
            input.select();
        }
    };
    let info_s = StoredValue::new(info.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // One sign-in at a time: each App CRM password sign-in mints a token that never expires.
        if busy.get_untracked() {
            return;
        }
        let chosen = method.get_untracked();
        let info = ConnectionInfo {
            login: Some(login.get_untracked())
                .filter(|l| !l.is_empty() && chosen == SignIn::Password),
            sign_in: chosen,
            ..info_s.get_value()
        };
        let secret_now = typed_secret(chosen, &secret.get_untracked());
        // Read now: after the sign-in's `await` the panel may be gone with its signals.
        let remember_now = remember.get_untracked();
        if secret_now.is_empty() {
            let what = if chosen == SignIn::Password {
                "password"
            } else {
                "API token"
            };
            refuse(format!("Enter the {what} first."));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let (client, outcome) = match connection_for(&info, Some(secret_now.clone())) {
                Ok(conn) => {
                    let client = sessions.new_client(&info.id, conn, connections);
                    let outcome = match client.sign_in().await {
                        Ok(()) => client.me().await.map(|u| u.display_name),
                        Err(e) => Err(e),
                    };
                    (client, outcome)
                }
                Err(reason) => {
                    busy.set(false);
                    refuse(reason.message());
                    return;
                }
            };
            busy.set(false);
            match outcome {
                Ok(name) => {
                    if let Some(l) = &info.login {
                        connections.set_login(&info.id, l);
                    }
                    connections.set_sign_in(&info.id, chosen);
                    sessions.forget(&info.id);
                    // Before the secret is set: that opens the gate, whose page then asks for
                    // the connection's client and must get this one.
                    sessions.adopt(&info.id, client);
                    connections.set_secret(&info.id, secret_now, remember_now);
                    sessions.set_user(&info.id, Some(name.clone()));
                    // The page replaces this panel, and the focus on its button goes with it.
                    focus::into_main_if_dropped();
                    notify(
                        ToastKind::Success,
                        format!("Signed in to {} as {name}", info.name),
                    );
                }
                Err(e) => {
                    // A password taken and then a failure (the profile would not load): the
                    // token it got is not this connection's to use.
                    connections.forget_token(&info.id);
                    refuse(refusal(&e, chosen, &info));
                }
            }
        });
    };
    let error_for_input = error_id.clone();
    let login_label = match provider {
        Some(Provider::Zurmo) => "Username",
        _ => "Email",
    };
    let form = match &reason {
        NotReady::NeedsOAuth(start) => {
            // The consent page sends the browser back here (a full page load), with the
            // proxy's reason when the sign-in did not happen.
            // Read from the address bar itself: the panel also renders outside a router (in
            // component tests).
            let here = Address::current();
            let outcome = Query::parse(&here.search);
            let failure = (outcome.get("oauth") == Some("error")
                && outcome.get("connection") == Some(info.id.as_str()))
            .then(|| outcome.get("reason").unwrap_or("no reason was given.").to_string());
            let href = format!("{start}?return_to={}", js_sys::encode_uri_component(&here.path));
            view! {
                {failure.map(|reason| view! {
                    <p class="error" role="alert" data-testid="oauth-error">
                        {format!("Capsule did not connect: {reason} You can try again.")}
                    </p>
                })}
                <p>"This connection signs in with your CRM account."</p>
                <a class="button primary" href=href rel="external" data-testid="oauth-start">"Connect with Capsule"</a>
            }
            .into_any()
        }
        NotReady::UnknownProvider(_) => ().into_any(),
        _ => view! {
            <form class="sign-in" on:submit=submit data-testid="sign-in">
                {can_choose.then(|| view! {
                    <fieldset class="choice">
                        <legend>"Sign in with"</legend>
                        <label class="check"><input type="radio" name="sign-in-method" data-testid="method-token"
                            prop:checked=move || method.get() == SignIn::Token
                            on:change=move |_| method.set(SignIn::Token)/>"API token"</label>
                        <label class="check"><input type="radio" name="sign-in-method" data-testid="method-password"
                            prop:checked=move || method.get() == SignIn::Password
                            on:change=move |_| method.set(SignIn::Password)/>"Email and password"</label>
                    </fieldset>
                })}
                {move || (method.get() == SignIn::Password).then(|| view! {
                    <label class="field">
                        <span>{login_label}</span>
                        <input type="text" autocomplete="username" required data-testid="login" prop:value=move || login.get()
                            on:input=move |ev| login.set(event_target_value(&ev))/>
                    </label>
                })}
                <label class="field">
                    <span>{move || if method.get() == SignIn::Password { "Password" } else { "API token" }}</span>
                    <input type="password" autocomplete=move || if method.get() == SignIn::Password { "current-password" } else { "off" }
                        node_ref=secret_input
                        aria-invalid=move || error.with(Option::is_some).then_some("true")
                        aria-describedby=move || error.with(Option::is_some).then(|| error_for_input.clone())
                        data-testid="secret" prop:value=move || secret.get()
                        on:input=move |ev| secret.set(event_target_value(&ev))/>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || remember.get() on:change=move |_| remember.update(|r| *r = !*r)/>
                    {REMEMBER_LABEL}
                </label>
                <p class="help">{REMEMBER_HELP}</p>
                // `aria-disabled` while the CRM answers, not `disabled`, which would drop the
                // focus of a keyboard user who pressed it to the page.
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
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
            {move || error.get().map(|e| view! { <p class="error" role="alert" id=error_id.clone()>{e}</p> })}
        </div>
    }
}
