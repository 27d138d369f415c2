//! The connections the app knows about: those a proxy declares and those the user adds.
//!
//! A proxy (or the demo) declares its connections at `GET /api/connections`, and hands the same
//! list over inside the page it serves, so the app starts with them rather than asking once it
//! runs. On a plain static host neither exists, which is not an error: the app then starts with
//! the user's own connections only. User-added connections are kept in `localStorage`
//! **without** their secrets; a token or password lives in memory, or in `sessionStorage` when
//! the user ticks "remember on this device", so a stolen profile folder or a shared machine
//! never yields a CRM credential. An App CRM password is remembered as the token it was
//! exchanged for, never itself.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use userdeck_client::{Capabilities, Provider, SignInKind};

use crate::state::keyed::{KeySet, Keyed};
use crate::state::storage::{self, Store};

/// `localStorage` key of the user's own connections (no secrets).
pub const SAVED_KEY: &str = "userdeck.connections";
/// `sessionStorage` key prefix of secrets the user chose to remember.
pub const SECRET_PREFIX: &str = "userdeck.secret.";
/// `sessionStorage` key prefix of the App CRM token a remembered password was exchanged for,
/// kept instead of that password: a password often opens more than one door, and a reload
/// that signed in with it again minted one more token that never expires.
pub const TOKEN_PREFIX: &str = "userdeck.token.";
/// `sessionStorage` key prefix of how a remembered declared connection signs in (its login and
/// method). A user-added connection keeps these in its saved entry; a declared one has no saved
/// entry, and without them its remembered password would come back without the email it goes
/// with.
pub const SIGN_IN_PREFIX: &str = "userdeck.sign-in.";
/// Id of the `<script type="application/json">` in which a proxy puts its connection list
/// (crates/userdeck-proxy/src/statics.rs).
pub const EMBEDDED_ID: &str = "userdeck-connections";

/// The proxy's OAuth endpoints for a connection that signs in with OAuth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthLinks {
    pub start: String,
    #[serde(default)]
    pub logout: Option<String>,
}

/// How the app signs a connection in, which decides the credential form it shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignIn {
    /// Nothing to do: a proxy in front holds the credentials.
    #[default]
    None,
    /// A pasted API token (Capsule personal token, App CRM Sanctum token).
    Token,
    /// App CRM email + password (exchanged for a token) or Zurmo username + password (session).
    Password,
    /// Capsule OAuth through the proxy's `oauth.start`.
    OAuth,
}

/// One CRM connection. Never carries a secret, so it can be stored and logged freely.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    /// `capsule`, `appcrm` or `zurmo`.
    pub provider: String,
    /// Where the app sends API calls for this connection (a `/proxy/{id}` path or a CRM URL).
    pub base_url: String,
    /// How a declared connection authenticates: `oauth`, `server` (the proxy holds the
    /// credentials) or `browser` (the user signs in from the app).
    #[serde(default)]
    pub auth: String,
    #[serde(default)]
    pub signed_in: bool,
    #[serde(default)]
    pub oauth: Option<OAuthLinks>,
    /// Added by the user in this browser (editable), as opposed to declared by the proxy.
    #[serde(default)]
    pub saved: bool,
    /// The email (App CRM) or username (Zurmo) for password sign-in; not a secret.
    #[serde(default)]
    pub login: Option<String>,
    /// How a user-added connection signs in; declared ones derive it from `auth`.
    #[serde(default)]
    pub sign_in: SignIn,
}

/// The secret to keep from what was typed for a sign-in `method`: a token is pasted, often with
/// a space or a line end around it that the CRM would take as part of it, so it is trimmed; a
/// password is kept exactly as typed (a space in it may be meant).
pub fn typed_secret(method: SignIn, typed: &str) -> String {
    match method {
        SignIn::Token => typed.trim().to_string(),
        _ => typed.to_string(),
    }
}

/// Whether calls to `base_url` go to another origin than `page_origin` (`scheme://host:port`).
/// A path (`/proxy/sales`) stays on the page's; so does a URL of the page's own origin.
pub fn leaves_origin(base_url: &str, page_origin: &str) -> bool {
    let base = base_url.trim();
    if base.starts_with('/') && !base.starts_with("//") {
        return false;
    }
    let origin = base.find("://").map(|at| {
        let host_at = at + 3;
        let end = base[host_at..]
            .find(['/', '?', '#'])
            .map_or(base.len(), |i| host_at + i);
        &base[..end]
    });
    origin.is_none_or(|o| !o.eq_ignore_ascii_case(page_origin))
}

impl ConnectionInfo {
    /// A user-added connection with no credentials yet.
    pub fn new_saved(id: &str, name: &str, provider: Provider, base_url: &str) -> Self {
        ConnectionInfo {
            id: id.into(),
            name: name.into(),
            provider: provider.as_str().into(),
            base_url: base_url.into(),
            auth: "browser".into(),
            signed_in: false,
            oauth: None,
            saved: true,
            login: None,
            sign_in: SignIn::Token,
        }
    }

    /// The label users know the provider by.
    pub fn provider_label(&self) -> &'static str {
        self.provider_kind().map_or("Unknown CRM", Provider::label)
    }

    /// The provider as the client knows it; `None` for a provider this app does not support.
    pub fn provider_kind(&self) -> Option<Provider> {
        Provider::parse(&self.provider)
    }

    /// Whether it signs in with a password its CRM exchanges for a token that lasts (App CRM's
    /// email and password, as the client's capabilities say): the token is what a tab
    /// remembers and signs in with again, never the password.
    pub fn trades_password_for_token(&self) -> bool {
        self.sign_in_method() == SignIn::Password
            && self.provider_kind().is_some_and(|p| {
                Capabilities::of(p)
                    .sign_in
                    .contains(&SignInKind::EmailPassword)
            })
    }

    /// How this connection signs in, whoever declared it.
    pub fn sign_in_method(&self) -> SignIn {
        if self.saved {
            return self.sign_in;
        }
        match self.auth.as_str() {
            "oauth" => SignIn::OAuth,
            "browser" => match (self.provider_kind(), self.sign_in) {
                (Some(Provider::Zurmo), _) => SignIn::Password,
                // App CRM takes a token or email + password; the user picks at sign-in.
                (_, chosen @ (SignIn::Token | SignIn::Password)) => chosen,
                _ => SignIn::Token,
            },
            _ => SignIn::None,
        }
    }

    /// Whether its calls leave the page's origin, so the browser lets them through only if the
    /// CRM allows this site (CORS); a proxy route stays on the page's origin.
    pub fn calls_another_origin(&self) -> bool {
        let page = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        leaves_origin(&self.base_url, &page)
    }

    /// True when the connection can be used without asking the user anything.
    pub fn is_ready(&self) -> bool {
        match self.sign_in_method() {
            SignIn::None => true,
            SignIn::OAuth => self.signed_in,
            SignIn::Token | SignIn::Password => false,
        }
    }
}

#[derive(Deserialize)]
struct Declared {
    connections: Vec<ConnectionInfo>,
}

/// Where loading the declared connections stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadState {
    Loading,
    Loaded,
    /// No proxy answered: the app is on a static host.
    NoProxy,
    Failed(String),
}

/// The connection list, its load state and the secrets held for this tab, provided as context.
#[derive(Clone, Copy)]
pub struct Connections {
    pub list: RwSignal<Vec<ConnectionInfo>>,
    pub state: RwSignal<LoadState>,
    /// Secrets by connection id, in memory only (mirrored to `sessionStorage` when remembered).
    secrets: RwSignal<Keyed<String>>,
    /// The tokens App CRM passwords were exchanged for, by connection id. Not a signal: a
    /// token arrives in the middle of a sign-in, and the sign-in decides when the connection
    /// counts as signed in (it sets the secret once the CRM has also named the user).
    tokens: StoredValue<Keyed<String>>,
    /// Connections whose exchanged token is to be remembered once it comes (their password is
    /// remembered, but not stored: the form that took it does not ask the CRM).
    token_wanted: StoredValue<KeySet>,
}

impl Connections {
    /// Starts with the user's saved connections (and any secrets remembered in this tab).
    pub fn new() -> Self {
        let saved: Vec<ConnectionInfo> =
            storage::get_json(Store::Local, SAVED_KEY).unwrap_or_default();
        let remembered = |key: fn(&str) -> String| {
            saved
                .iter()
                .filter_map(|c| Some((c.id.clone(), storage::get(Store::Session, &key(&c.id))?)))
                .collect::<Keyed<_>>()
        };
        let secrets = remembered(secret_key);
        let tokens = remembered(token_key);
        let saved = saved
            .into_iter()
            .map(|c| ConnectionInfo { saved: true, ..c })
            .collect();
        Self {
            list: RwSignal::new(saved),
            state: RwSignal::new(LoadState::Loading),
            secrets: RwSignal::new(secrets),
            tokens: StoredValue::new(tokens),
            token_wanted: StoredValue::new(KeySet::default()),
        }
    }

    /// Takes the declared connections from the page when a proxy put them there; otherwise
    /// fetches them from `{origin}/api/connections` in the background. Taking them from the page
    /// lets the first render show a connection's users at once: no request, and no second
    /// render, stand before the first call to the CRM.
    pub fn start(self, origin: String) {
        match take_embedded() {
            Some(outcome) => self.apply(outcome.map(Some)),
            None => leptos::task::spawn_local(async move { self.load(&origin).await }),
        }
    }

    /// Fetches `{origin}/api/connections` and puts what it declares before the user's own.
    pub async fn load(self, origin: &str) {
        self.apply(fetch_declared(origin).await);
    }

    fn apply(self, outcome: Result<Option<Vec<ConnectionInfo>>, String>) {
        match outcome {
            Ok(Some(mut declared)) => {
                // What the user chose to remember in this tab comes back after a reload.
                let mut remembered = Keyed::default();
                let mut tokens = Keyed::default();
                for c in declared.iter_mut() {
                    let secret = storage::get(Store::Session, &secret_key(&c.id));
                    let token = storage::get(Store::Session, &token_key(&c.id));
                    if secret.is_none() && token.is_none() {
                        continue;
                    }
                    if let Some(how) =
                        storage::get_json::<RememberedSignIn>(Store::Session, &sign_in_key(&c.id))
                    {
                        c.login = how.login;
                        c.sign_in = how.sign_in;
                    }
                    if let Some(secret) = secret {
                        remembered.insert(c.id.clone(), secret);
                    }
                    if let Some(token) = token {
                        tokens.insert(c.id.clone(), token);
                    }
                }
                self.list.update(|list| {
                    let own: Vec<ConnectionInfo> = list
                        .drain(..)
                        .filter(|c| c.saved && !declared.iter().any(|d| d.id == c.id))
                        .collect();
                    *list = declared;
                    list.extend(own);
                });
                if !remembered.is_empty() {
                    self.secrets.update(|s| {
                        for (id, secret) in remembered {
                            s.insert_if_absent(id, secret);
                        }
                    });
                }
                if !tokens.is_empty() {
                    self.tokens.update_value(|t| {
                        for (id, token) in tokens {
                            t.insert_if_absent(id, token);
                        }
                    });
                }
                self.state.set(LoadState::Loaded);
            }
            Ok(None) => self.state.set(LoadState::NoProxy),
            Err(message) => self.state.set(LoadState::Failed(message)),
        }
    }

    pub fn find(&self, id: &str) -> Option<ConnectionInfo> {
        self.list
            .with(|list| list.iter().find(|c| c.id == id).cloned())
    }

    /// Adds or replaces a user-added connection and persists the list (without secrets). A new
    /// `secret` replaces the old one; `remember` keeps it in `sessionStorage` for this tab.
    pub fn save(&self, info: ConnectionInfo, secret: Option<String>, remember: bool) {
        let info = ConnectionInfo {
            saved: true,
            signed_in: false,
            ..info
        };
        let id = info.id.clone();
        self.list
            .update(|list| match list.iter_mut().find(|c| c.id == id) {
                Some(existing) => *existing = info,
                None => list.push(info),
            });
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            self.secrets.update(|s| {
                s.insert(id.clone(), secret);
            });
        }
        self.remember_secret(&id, remember);
        self.persist();
    }

    /// Forgets a user-added connection and its secret everywhere.
    pub fn remove(&self, id: &str) {
        self.list
            .update(|list| list.retain(|c| !(c.saved && c.id == id)));
        self.forget_secret(id);
        self.persist();
    }

    /// The secret held for a connection in this tab.
    pub fn secret(&self, id: &str) -> Option<String> {
        self.secrets.with_untracked(|s| s.get(id).cloned())
    }

    /// Whether a secret is held, or the token a password was exchanged for (reactive, for
    /// "signed in" chips and forms).
    pub fn has_secret(&self, id: &str) -> bool {
        self.secrets.with(|s| s.contains_key(id)) || self.tokens.with_value(|t| t.contains_key(id))
    }

    /// The token an App CRM password of `id` was exchanged for, if this tab holds one.
    pub fn exchanged_token(&self, id: &str) -> Option<String> {
        self.tokens.with_value(|t| t.get(id).cloned())
    }

    /// Keeps the token a password of `id` was just exchanged for, and remembers it in
    /// `sessionStorage`, in the password's place, when the user asked to be remembered.
    pub fn keep_token(&self, id: &str, token: &str) {
        self.tokens.update_value(|t| {
            t.insert(id.to_string(), token.to_string());
        });
        // `try_`: the client tells after an `await`, and the app may be gone by then (tests).
        if self
            .token_wanted
            .try_with_value(|w| w.contains(id))
            .unwrap_or(false)
        {
            self.remember_secret(id, true);
        }
    }

    /// Sets the secret for this tab only (a sign-in form), optionally remembered.
    pub fn set_secret(&self, id: &str, secret: String, remember: bool) {
        self.secrets.update(|s| {
            s.insert(id.to_string(), secret);
        });
        self.remember_secret(id, remember);
    }

    /// Sets the email/username a password sign-in uses (kept with a saved connection; in memory
    /// only for a declared one).
    pub fn set_login(&self, id: &str, login: &str) {
        self.list.update(|list| {
            if let Some(c) = list.iter_mut().find(|c| c.id == id) {
                c.login = Some(login.to_string());
            }
        });
        self.persist();
    }

    /// Sets how a connection signs in (the choice made on its sign-in form).
    pub fn set_sign_in(&self, id: &str, method: SignIn) {
        self.list.update(|list| {
            if let Some(c) = list.iter_mut().find(|c| c.id == id) {
                c.sign_in = method;
            }
        });
        self.persist();
    }

    /// Drops the token exchanged for a password of `id`: the sign-in that got it did not go
    /// through (the CRM took the password, then failed), or the CRM no longer takes it.
    pub fn forget_token(&self, id: &str) {
        self.tokens.update_value(|t| {
            t.remove(id);
        });
        storage::remove(Store::Session, &token_key(id));
    }

    /// Drops the secret, and any token exchanged for it, from memory and `sessionStorage`
    /// (sign out).
    pub fn forget_secret(&self, id: &str) {
        self.secrets.update(|s| {
            s.remove(id);
        });
        self.tokens.update_value(|t| {
            t.remove(id);
        });
        self.token_wanted.update_value(|w| {
            w.remove(id);
        });
        forget_remembered(id);
    }

    /// Mirrors what `id` signs in with to `sessionStorage`, or removes it. For an App CRM
    /// password that is the token it was exchanged for, once there is one; never the password.
    fn remember_secret(&self, id: &str, remember: bool) {
        let exchanged = self.find(id).is_some_and(|c| c.trades_password_for_token());
        self.token_wanted.update_value(|w| {
            if remember && exchanged {
                w.insert(id.to_string());
            } else {
                w.remove(id);
            }
        });
        let kept = if exchanged {
            self.exchanged_token(id).map(|t| (token_key(id), t))
        } else {
            self.secret(id).map(|s| (secret_key(id), s))
        };
        match (remember, kept) {
            (true, Some((key, secret))) => {
                forget_remembered(id);
                storage::set(Store::Session, &key, &secret);
                match self.find(id).filter(|c| !c.saved) {
                    Some(declared) => storage::set_json(
                        Store::Session,
                        &sign_in_key(id),
                        &RememberedSignIn {
                            login: declared.login,
                            sign_in: declared.sign_in,
                        },
                    ),
                    None => storage::remove(Store::Session, &sign_in_key(id)),
                }
            }
            _ => forget_remembered(id),
        }
    }

    /// Whether what `id` signs in with is remembered in `sessionStorage` (or will be, once its
    /// password is exchanged).
    pub fn is_remembered(&self, id: &str) -> bool {
        storage::get(Store::Session, &secret_key(id)).is_some()
            || storage::get(Store::Session, &token_key(id)).is_some()
            || self.token_wanted.with_value(|w| w.contains(id))
    }

    fn persist(&self) {
        let own: Vec<ConnectionInfo> = self
            .list
            .with_untracked(|list| list.iter().filter(|c| c.saved).cloned().collect());
        storage::set_json(Store::Local, SAVED_KEY, &own);
    }
}

impl Default for Connections {
    fn default() -> Self {
        Self::new()
    }
}

fn secret_key(id: &str) -> String {
    format!("{SECRET_PREFIX}{id}")
}

fn token_key(id: &str) -> String {
    format!("{TOKEN_PREFIX}{id}")
}

/// Removes from `sessionStorage` all this tab remembered of how `id` signs in.
fn forget_remembered(id: &str) {
    for key in [secret_key(id), token_key(id), sign_in_key(id)] {
        storage::remove(Store::Session, &key);
    }
}

fn sign_in_key(id: &str) -> String {
    format!("{SIGN_IN_PREFIX}{id}")
}

/// How a declared connection was signed in to, kept beside its remembered secret.
#[derive(Serialize, Deserialize)]
struct RememberedSignIn {
    login: Option<String>,
    sign_in: SignIn,
}

/// The list a proxy put in the page, removed from it as it is read (it describes the page's
/// first moment, not later ones); `None` when the page has none.
pub fn take_embedded() -> Option<Result<Vec<ConnectionInfo>, String>> {
    let element = web_sys::window()?
        .document()?
        .get_element_by_id(EMBEDDED_ID)?;
    let text = element.text_content().unwrap_or_default();
    element.remove();
    Some(parse_declared(&text))
}

/// `Ok(None)` when nothing declares connections (404, or an HTML page from a static host's
/// fallback); an error only when a proxy answered with something we cannot use.
pub async fn fetch_declared(origin: &str) -> Result<Option<Vec<ConnectionInfo>>, String> {
    let url = format!("{}/api/connections", origin.trim_end_matches('/'));
    let response = gloo_net::http::Request::get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("Could not reach {url}: {e}"))?;
    let is_json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.contains("json"));
    if response.status() == 404 || !is_json {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!(
            "{url} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let body = response
        .text()
        .await
        .map_err(|e| format!("Could not read {url}: {e}"))?;
    parse_declared(&body).map(Some)
}

/// Parses the body of `/api/connections`; a short excerpt of a bad body goes into the message.
pub fn parse_declared(body: &str) -> Result<Vec<ConnectionInfo>, String> {
    serde_json::from_str::<Declared>(body)
        .map(|d| {
            d.connections
                .into_iter()
                .map(|c| ConnectionInfo { saved: false, ..c })
                .collect()
        })
        .map_err(|e| {
            let excerpt: String = body.chars().take(80).collect();
            format!("The proxy's connection list is not valid ({e}): {excerpt}")
        })
}

#[cfg(test)]
mod tests {
    use super::{SignIn, leaves_origin, typed_secret};

    #[test]
    fn a_pasted_token_is_trimmed_and_a_password_kept_as_typed() {
        assert_eq!(typed_secret(SignIn::Token, "  1|abc\n"), "1|abc");
        assert_eq!(typed_secret(SignIn::Password, " pass word "), " pass word ");
    }

    #[test]
    fn only_another_origin_needs_the_crms_leave() {
        let page = "https://deck.example.com";
        for same in [
            "/proxy/sales",
            "/proxy/sales/",
            "https://deck.example.com/proxy/sales",
            "HTTPS://DECK.EXAMPLE.COM",
        ] {
            assert!(!leaves_origin(same, page), "{same}");
        }
        for other in [
            "https://acme.appcrm.com.br",
            "https://deck.example.com:8443/api",
            "http://deck.example.com",
            "https://deck.example.com.evil.example/",
            "//acme.capsulecrm.com",
            "acme.capsulecrm.com",
        ] {
            assert!(leaves_origin(other, page), "{other}");
        }
    }
}
