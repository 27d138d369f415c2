//! Adding or editing a connection: provider, name, route (straight to the CRM, or through one of
//! the proxy's routes) and the credentials that provider takes. The connection is saved without
//! its secret; the secret stays in memory, or in `sessionStorage` on "remember on this device".

use leptos::prelude::*;
use userdeck_client::Provider;
use userdeck_client::query::lowercase;

use crate::components::sign_in::{REMEMBER_HELP, REMEMBER_LABEL};
use crate::components::when::When;
use crate::state::connections::{ConnectionInfo, Connections, SignIn, typed_secret};
use crate::state::session::Sessions;
use crate::state::toast::{ToastKind, notify};

/// A URL-safe id from a name (`"Sales team"` → `sales-team`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in lowercase(name.trim()).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "connection".into()
    } else {
        out
    }
}

/// The sign-in methods a provider offers in this form.
pub fn methods(provider: Provider) -> Vec<(SignIn, &'static str)> {
    match provider {
        Provider::Capsule => vec![
            (SignIn::Token, "Personal access token"),
            (SignIn::OAuth, "Connect with Capsule (OAuth)"),
        ],
        Provider::AppCrm => vec![
            (SignIn::Token, "API token"),
            (SignIn::Password, "Email and password"),
        ],
        Provider::Zurmo => vec![(SignIn::Password, "Username and password")],
    }
}

/// The form. `editing` is the connection being edited, if any; `on_done` runs after save/cancel.
#[component]
pub fn ConnectionForm(
    #[prop(default = None)] editing: Option<ConnectionInfo>,
    on_done: Callback<()>,
) -> impl IntoView {
    let connections = expect_context::<Connections>();
    let sessions = use_context::<Sessions>();
    let start = editing
        .clone()
        .unwrap_or_else(|| ConnectionInfo::new_saved("", "", Provider::AppCrm, ""));
    let editing_id = editing.as_ref().map(|e| e.id.clone());
    let provider = RwSignal::new(start.provider_kind().unwrap_or(Provider::AppCrm));
    let name = RwSignal::new(start.name.clone());
    let via_proxy = RwSignal::new(start.base_url.starts_with("/proxy/"));
    let base_url = RwSignal::new(if start.base_url.starts_with("/proxy/") {
        String::new()
    } else {
        start.base_url.clone()
    });
    let proxy_route = RwSignal::new(
        start
            .base_url
            .strip_prefix("/proxy/")
            .unwrap_or_default()
            .to_string(),
    );
    let method = RwSignal::new(start.sign_in);
    let login = RwSignal::new(start.login.clone().unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let remember = RwSignal::new(
        editing
            .as_ref()
            .is_some_and(|e| connections.is_remembered(&e.id)),
    );
    let error = RwSignal::new(None::<String>);

    // Proxy routes the user may send their own credentials through.
    let routes = move || {
        let p = provider.get();
        connections.list.with(|l| {
            l.iter()
                .filter(|c| !c.saved && c.auth == "browser" && c.provider_kind() == Some(p))
                .map(|c| (c.id.clone(), c.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let oauth_links = move || {
        connections.list.with(|l| {
            l.iter()
                .filter(|c| {
                    !c.saved && c.oauth.is_some() && c.provider_kind() == Some(Provider::Capsule)
                })
                .map(|c| {
                    (
                        c.name.clone(),
                        c.oauth
                            .as_ref()
                            .map(|o| o.start.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    Effect::new(move |_| {
        let p = provider.get();
        let offered = methods(p);
        if !offered.iter().any(|(m, _)| *m == method.get_untracked())
            && let Some((first, _)) = offered.first()
        {
            method.set(*first);
        }
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = provider.get_untracked();
        let n = name.get_untracked().trim().to_string();
        let m = method.get_untracked();
        if n.is_empty() {
            error.set(Some("Give the connection a name.".into()));
            return;
        }
        if m == SignIn::OAuth {
            error.set(Some("OAuth connections are declared by the proxy: use “Connect with Capsule” on one of them.".into()));
            return;
        }
        let url = if via_proxy.get_untracked() {
            let r = proxy_route.get_untracked();
            if r.is_empty() {
                error.set(Some("Choose one of the proxy's routes.".into()));
                return;
            }
            format!("/proxy/{r}")
        } else {
            let u = base_url
                .get_untracked()
                .trim()
                .trim_end_matches('/')
                .to_string();
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                error.set(Some(
                    "The base URL must start with https:// (or http:// for a local CRM).".into(),
                ));
                return;
            }
            u
        };
        let l = login.get_untracked().trim().to_string();
        if m == SignIn::Password && l.is_empty() {
            error.set(Some(
                if p == Provider::Zurmo {
                    "Enter the username."
                } else {
                    "Enter the email."
                }
                .into(),
            ));
            return;
        }
        let id = match &editing_id {
            Some(id) => id.clone(),
            None => {
                let base = slug(&n);
                let mut id = base.clone();
                let mut i = 2;
                while connections.find(&id).is_some() {
                    id = format!("{base}-{i}");
                    i += 1;
                }
                id
            }
        };
        let info = ConnectionInfo {
            login: (m == SignIn::Password).then_some(l),
            sign_in: m,
            ..ConnectionInfo::new_saved(&id, &n, p, &url)
        };
        let s = typed_secret(m, &secret.get_untracked());
        connections.save(
            info,
            Some(s).filter(|s| !s.is_empty()),
            remember.get_untracked(),
        );
        if let Some(sessions) = sessions {
            sessions.forget(&id);
        }
        secret.set(String::new());
        error.set(None);
        notify(ToastKind::Success, format!("Saved connection {n}"));
        on_done.run(());
    };

    view! {
        <form class="connection-form" on:submit=save novalidate data-testid="connection-form">
            <div class="field">
                <label for="cf-provider"><span class="label">"CRM"</span></label>
                <select id="cf-provider" data-testid="cf-provider" prop:value=move || provider.get().as_str()
                    on:change=move |ev| if let Some(p) = Provider::parse(&event_target_value(&ev)) { provider.set(p) }>
                    {Provider::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="cf-name"><span class="label">"Name"<span class="req" aria-hidden="true">" *"</span></span></label>
                <input id="cf-name" data-testid="cf-name" required maxlength="80" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <fieldset class="field">
                <legend>"Route"</legend>
                <label class="check"><input type="radio" name="cf-route" prop:checked=move || !via_proxy.get() on:change=move |_| via_proxy.set(false)/>"Straight to the CRM (it must allow this site, CORS)"</label>
                <label class="check"><input type="radio" name="cf-route" prop:checked=move || via_proxy.get() on:change=move |_| via_proxy.set(true)/>"Through the proxy"</label>
            </fieldset>
            <When when=move || !via_proxy.get() fallback=move || view! {
                <div class="field">
                    <label for="cf-route"><span class="label">"Proxy route"</span></label>
                    <select id="cf-route" prop:value=move || proxy_route.get() on:change=move |ev| proxy_route.set(event_target_value(&ev))>
                        <option value="">"Choose…"</option>
                        {move || routes().into_iter().map(|(id, n)| view! { <option value=id.clone()>{n}</option> }).collect_view()}
                    </select>
                    {move || routes().is_empty().then(|| view! { <p class="hint">"This proxy offers no route for this CRM."</p> })}
                </div>
            }>
                <div class="field">
                    <label for="cf-url"><span class="label">"Base URL"<span class="req" aria-hidden="true">" *"</span></span></label>
                    <input id="cf-url" data-testid="cf-url" type="url" placeholder=move || match provider.get() {
                        Provider::Capsule => "https://api.capsulecrm.com",
                        Provider::AppCrm => "https://yours.appcrm.com.br",
                        Provider::Zurmo => "https://crm.example.com/app/index.php",
                    } prop:value=move || base_url.get() on:input=move |ev| base_url.set(event_target_value(&ev))/>
                    // Capsule does not document CORS: a browser is likely to be refused.
                    <When when=move || provider.get() == Provider::Capsule>
                        <p class="hint" data-testid="cf-cors-hint">"Capsule does not say that it lets other sites call its API (CORS), so a browser may be refused: if this connection cannot reach it, route it through the proxy."</p>
                    </When>
                </div>
            </When>
            <fieldset class="field">
                <legend>"Sign in with"</legend>
                {move || methods(provider.get()).into_iter().map(|(m, label)| view! {
                    <label class="check"><input type="radio" name="cf-method" prop:checked=move || method.get() == m on:change=move |_| method.set(m)/>{label}</label>
                }).collect_view()}
            </fieldset>
            {move || match method.get() {
                SignIn::OAuth => view! {
                    <div class="field">
                        <p class="hint">"Capsule's OAuth runs through the proxy, which keeps the tokens."</p>
                        <ul>{oauth_links().into_iter().map(|(n, start)| view! { <li><a href=start rel="external">{format!("Connect {n} with Capsule")}</a></li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
                SignIn::Password => view! {
                    <div class="field">
                        <label for="cf-login"><span class="label">{move || if provider.get() == Provider::Zurmo { "Username" } else { "Email" }}</span></label>
                        <input id="cf-login" data-testid="cf-login" autocomplete="username" prop:value=move || login.get() on:input=move |ev| login.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="cf-secret"><span class="label">"Password"</span></label>
                        <input id="cf-secret" data-testid="cf-secret" type="password" autocomplete="current-password" prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                    </div>
                }.into_any(),
                _ => view! {
                    <div class="field">
                        <label for="cf-secret"><span class="label">"Token"</span></label>
                        <input id="cf-secret" data-testid="cf-secret" type="password" autocomplete="off" prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                        <p class="help">"Kept in this tab's memory only, unless you tick “remember”."</p>
                    </div>
                }.into_any(),
            }}
            <label class="check">
                <input type="checkbox" data-testid="cf-remember" prop:checked=move || remember.get() on:change=move |ev| remember.set(event_target_checked(&ev))/>
                {REMEMBER_LABEL}
            </label>
            <p class="help">{REMEMBER_HELP}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="cf-error">{e}</p> })}
            <div class="actions">
                <button type="button" on:click=move |_| on_done.run(())>"Cancel"</button>
                <button type="submit" class="primary" data-testid="cf-save">"Save connection"</button>
            </div>
        </form>
    }
}
