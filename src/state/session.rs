//! One typed client per connection, built from the connection and the secret held for it, plus
//! what the status chip shows: who is signed in, the rate-limit quota left, and the last error.
//!
//! Clients are kept for the life of the tab so their sessions, rate-limit knowledge and Capsule
//! cache carry from page to page; editing a connection or signing out drops its client. The last
//! lists of users each connection showed are kept beside it (see [`Sessions::recall_list`]).

use std::rc::Rc;
use std::sync::Arc;

use futures_channel::oneshot;
use leptos::prelude::*;
use userdeck_client::ratelimit::Quota;
use userdeck_client::{ApiError, Auth, Client, Connection, Page, Provider, User, UserQuery};

use crate::state::connections::{ConnectionInfo, Connections, SignIn};
use crate::state::keyed::{KeySet, Keyed};

/// The transport: `fetch` in the browser.
#[cfg(target_arch = "wasm32")]
pub type AppTransport = userdeck_client::BrowserTransport;
/// The transport off the browser (native builds of the app compile; they are not shipped).
#[cfg(not(target_arch = "wasm32"))]
pub type AppTransport = userdeck_client::NativeTransport;

/// The client type the app uses.
pub type ApiClient = Client<AppTransport>;

/// A client for `connection` over the app's transport.
pub fn new_client(connection: Connection) -> ApiClient {
    Client::new(connection, AppTransport::new())
}

/// What the status chip of a connection shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Display name of the signed-in user, once known.
    pub user: Option<String>,
    pub quota: Option<Quota>,
    pub error: Option<String>,
    /// While the client waits out the rate limit: until when (ms since the epoch).
    pub waiting_until: Option<u64>,
}

/// Why no client can be made for a connection yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotReady {
    /// The connection needs a token or password the tab does not hold.
    NeedsCredentials,
    /// The connection signs in through the proxy's OAuth flow at this URL.
    NeedsOAuth(String),
    /// The provider is not one this app supports.
    UnknownProvider(String),
    /// The CRM stopped accepting the credentials the tab held (a revoked token, a changed
    /// password): the user signs in again, and unsaved forms come back from their drafts.
    SessionEnded,
}

impl NotReady {
    /// A sentence telling the user what to do.
    pub fn message(&self) -> String {
        match self {
            NotReady::NeedsCredentials => "Sign in to this connection to see its users.".into(),
            NotReady::NeedsOAuth(_) => {
                "Connect this connection with its CRM to see its users.".into()
            }
            NotReady::UnknownProvider(p) => format!("“{p}” is not a CRM Userdeck supports."),
            NotReady::SessionEnded => "The CRM no longer accepts the credentials this tab held. \
                 Sign in again to carry on: unsaved changes in forms are kept."
                .into(),
        }
    }
}

/// The clients and statuses of all connections, provided as context at the app root.
#[derive(Clone, Copy)]
pub struct Sessions {
    clients: StoredValue<Keyed<Rc<ApiClient>>, LocalStorage>,
    pub status: RwSignal<Keyed<Status>>,
    /// Connections whose credentials the CRM rejected; their gate asks for a sign-in again.
    pub ended: RwSignal<KeySet>,
    /// The last pages of users shown, oldest first: (connection, query, page).
    lists: StoredValue<Vec<(String, UserQuery, Page<User>)>, LocalStorage>,
    /// The query string of the list each connection showed last (`page=3&q=ann`).
    list_queries: StoredValue<Keyed<String>, LocalStorage>,
    /// The list this page load asked for before the page rendered (`state::first_list`).
    early_list: StoredValue<Option<EarlyList>, LocalStorage>,
    /// The user each connection's page showed last, whose row the list focuses when shown again.
    opened: StoredValue<Keyed<u64>, LocalStorage>,
}

/// A list asked for early: its connection, its query, and where its answer arrives.
type EarlyList = (String, UserQuery, oneshot::Receiver<ListAnswer>);

/// What a request for a page of users ends with.
pub type ListAnswer = Result<Page<User>, ApiError>;

/// How many pages of users a tab keeps to show again at once (at most 100 users each).
const REMEMBERED_LISTS: usize = 8;

impl Default for Sessions {
    fn default() -> Self {
        Self::new()
    }
}

impl Sessions {
    pub fn new() -> Self {
        Self {
            clients: StoredValue::new_local(Keyed::default()),
            status: RwSignal::new(Keyed::default()),
            ended: RwSignal::new(KeySet::default()),
            lists: StoredValue::new_local(Vec::new()),
            list_queries: StoredValue::new_local(Keyed::default()),
            early_list: StoredValue::new_local(None),
            opened: StoredValue::new_local(Keyed::default()),
        }
    }

    /// The client for `info`, made on first use from the secret `connections` holds for it.
    pub fn client(
        &self,
        info: &ConnectionInfo,
        connections: &Connections,
    ) -> Result<Rc<ApiClient>, NotReady> {
        if let Some(client) = self.clients.with_value(|c| c.get(&info.id).cloned()) {
            return Ok(client);
        }
        let connection = match (
            connections.secret(&info.id),
            connections.exchanged_token(&info.id),
        ) {
            // A password this tab exchanged before, remembered as its token: the token, as if
            // pasted. Refused, it ends the session, and the sign-in asks for the password.
            (None, Some(token)) if info.trades_password_for_token() => connection_for(
                &ConnectionInfo {
                    sign_in: SignIn::Token,
                    ..info.clone()
                },
                Some(token),
            ),
            (secret, _) => connection_for(info, secret),
        }?;
        let client = self.new_client(&info.id, connection, *connections);
        self.adopt(&info.id, client.clone());
        Ok(client)
    }

    /// A client for connection `id` that reports its rate-limit waits to the status chip and
    /// the tokens its password is exchanged for to `connections`, not yet the one in use: a
    /// sign-in tries it first, and [`Sessions::adopt`]s it if the CRM accepts the credentials.
    pub fn new_client(
        &self,
        id: &str,
        connection: Connection,
        connections: Connections,
    ) -> Rc<ApiClient> {
        let status = self.status;
        let waiting = id.to_string();
        let exchanged = id.to_string();
        let client = new_client(connection)
            .with_wait_observer(Arc::new(move |until: Option<u64>, quota: Option<Quota>| {
                status.update(|s| {
                    let entry = s.entry_or_default(&waiting);
                    entry.waiting_until = until;
                    entry.quota = quota.or(entry.quota);
                });
            }))
            .with_token_observer(Arc::new(move |token: &str| {
                connections.keep_token(&exchanged, token);
            }));
        Rc::new(client)
    }

    /// Makes `client` the one this tab uses for `id`. A sign-in hands over the client it signed
    /// in with, so the token or session it got is the one used, not a second one asked for
    /// with the same credentials (each App CRM sign-in mints a token that never expires, and a
    /// Zurmo session left behind stays open on the server).
    pub fn adopt(&self, id: &str, client: Rc<ApiClient>) {
        self.clients.update_value(|c| {
            c.insert(id.to_string(), client);
        });
    }

    /// Drops the client of `id` (its credentials changed, or the user signed out), and the users
    /// it showed: whoever signs in next may not be allowed to see them.
    pub fn forget(&self, id: &str) {
        self.clients.update_value(|c| {
            c.remove(id);
        });
        self.users_changed(id);
        self.ended.update(|e| {
            e.remove(id);
        });
        self.status.update(|s| {
            s.remove(id);
        });
    }

    /// Records the outcome of a call for the status chip: the quota the client last saw and the
    /// error, if any (a superseded search is not an error). Rejected credentials (after the
    /// client's own attempt to sign in again) end the connection's session in this tab.
    pub fn report<T>(&self, id: &str, client: &ApiClient, outcome: &Result<T, ApiError>) {
        // A call made by a client that has since been replaced (the user signed in again while
        // it was in flight) says nothing about the session in use now.
        if !self.is_current(id, client) {
            return;
        }
        let quota = client.quota();
        let error = match outcome {
            Err(ApiError::Cancelled) => return,
            Err(e) if e.needs_sign_in() => {
                self.end(id);
                Some(describe(e))
            }
            Err(e) => Some(describe(e)),
            Ok(_) => None,
        };
        self.status.update(|s| {
            let entry = s.entry_or_default(id);
            entry.quota = quota.or(entry.quota);
            entry.error = error;
        });
    }

    /// [`Sessions::report`] for a call that creates, changes or deletes users: once it succeeds,
    /// the lists kept for `id` are forgotten, so a list shown again cannot bring back what is
    /// gone, even for a moment. Every write reports through here; none forgets on its own.
    pub fn report_write<T>(&self, id: &str, client: &ApiClient, outcome: &Result<T, ApiError>) {
        self.report(id, client, outcome);
        if outcome.is_ok() {
            self.users_changed(id);
        }
    }

    /// Whether `client` is the one this tab uses for `id` now.
    pub fn is_current(&self, id: &str, client: &ApiClient) -> bool {
        // `try_`: an answer that comes after the app was unmounted (in tests) is nobody's.
        self.clients
            .try_with_value(|c| {
                c.get(id)
                    .is_some_and(|current| std::ptr::eq(&**current, client))
            })
            .unwrap_or(false)
    }

    /// Drops the client of `id` and marks its session ended (see [`NotReady::SessionEnded`]).
    pub fn end(&self, id: &str) {
        self.clients.update_value(|c| {
            c.remove(id);
        });
        self.users_changed(id);
        self.ended.update(|e| {
            e.insert(id.to_string());
        });
    }

    /// Whether the CRM rejected the credentials of `id` since they were entered (reactive).
    pub fn has_ended(&self, id: &str) -> bool {
        self.ended.with(|e| e.contains(id))
    }

    /// Keeps `page`, the answer to `query` on connection `id`, to show again at once.
    pub fn remember_list(&self, id: &str, query: &UserQuery, page: &Page<User>) {
        self.lists.update_value(|lists| {
            lists.retain(|(i, q, _)| !(i == id && q == query));
            if lists.len() >= REMEMBERED_LISTS {
                lists.remove(0);
            }
            lists.push((id.to_string(), query.clone(), page.clone()));
        });
    }

    /// The page last shown for `query` on `id`, if it is kept. Coming back to a list (Back from a
    /// user, a switch between connections) shows it at once while it is fetched again, instead
    /// of skeleton rows for a round trip to the CRM.
    pub fn recall_list(&self, id: &str, query: &UserQuery) -> Option<Page<User>> {
        self.lists.with_value(|lists| {
            lists
                .iter()
                .find(|(i, q, _)| i == id && q == query)
                .map(|(_, _, page)| page.clone())
        })
    }

    /// Notes that the list `query` of `id` was asked for early; its answer comes on `answer`.
    pub fn expect_list(&self, id: &str, query: UserQuery, answer: oneshot::Receiver<ListAnswer>) {
        self.early_list
            .set_value(Some((id.to_string(), query, answer)));
    }

    /// The answer to the list asked for early, if it was `query` of `id`. Only the first list a
    /// page shows may take it, so the slot is emptied whatever it held: a later list of the
    /// same query asks the CRM again, as it would without the head start.
    pub fn take_early_list(
        &self,
        id: &str,
        query: &UserQuery,
    ) -> Option<oneshot::Receiver<ListAnswer>> {
        let (early_id, early_query, answer) = self.early_list.try_update_value(Option::take)??;
        (early_id == id && early_query == *query).then_some(answer)
    }

    /// Forgets the lists kept for `id` (see [`Sessions::report_write`]).
    fn users_changed(&self, id: &str) {
        self.lists
            .update_value(|lists| lists.retain(|(i, _, _)| i != id));
    }

    /// Notes the query string of the list of `id` on screen, for [`Sessions::list_href`].
    pub fn note_list_query(&self, id: &str, query_string: String) {
        self.list_queries.update_value(|q| {
            q.insert(id.to_string(), query_string);
        });
    }

    /// The address of the list of `id` as it was last shown in this tab (its search, sort and
    /// page), for the ways back to it from a user's page.
    pub fn list_href(&self, id: &str) -> String {
        let query = self
            .list_queries
            .with_value(|q| q.get(id).filter(|s| !s.is_empty()).cloned());
        match query {
            Some(query) => format!("/c/{id}/users?{query}"),
            None => format!("/c/{id}/users"),
        }
    }

    /// Notes that the page of `user` of `id` is on screen.
    pub fn note_opened(&self, id: &str, user: u64) {
        self.opened.update_value(|o| {
            o.insert(id.to_string(), user);
        });
    }

    /// The user of `id` whose page was on screen since its list was last shown, if any: coming
    /// back (Back, "All users"), the list puts the focus on that user's row, so someone working
    /// down the list by keyboard carries on where they were. Taken once.
    pub fn take_opened(&self, id: &str) -> Option<u64> {
        self.opened.try_update_value(|o| o.remove(id)).flatten()
    }

    /// Records who is signed in on `id`.
    pub fn set_user(&self, id: &str, name: Option<String>) {
        self.status.update(|s| s.entry_or_default(id).user = name);
    }
}

/// Builds the client's connection: declared proxy routes are made absolute against this page's
/// origin, and the credential kind follows the connection's sign-in method.
pub fn connection_for(
    info: &ConnectionInfo,
    secret: Option<String>,
) -> Result<Connection, NotReady> {
    let provider = info
        .provider_kind()
        .ok_or_else(|| NotReady::UnknownProvider(info.provider.clone()))?;
    let auth = match info.sign_in_method() {
        SignIn::None => Auth::None,
        SignIn::OAuth if info.signed_in => Auth::None,
        SignIn::OAuth => {
            let start = info
                .oauth
                .as_ref()
                .map(|o| o.start.clone())
                .unwrap_or_default();
            return Err(NotReady::NeedsOAuth(start));
        }
        SignIn::Token => Auth::Token(secret.ok_or(NotReady::NeedsCredentials)?),
        SignIn::Password => {
            let password = secret.ok_or(NotReady::NeedsCredentials)?;
            let login = info.login.clone().unwrap_or_default();
            match provider {
                Provider::Zurmo => Auth::UsernamePassword {
                    username: login,
                    password,
                },
                _ => Auth::EmailPassword {
                    email: login,
                    password,
                },
            }
        }
    };
    Ok(Connection {
        provider,
        base_url: absolute(&info.base_url),
        auth,
    })
}

fn absolute(base_url: &str) -> String {
    let trimmed = base_url.trim_end_matches('/');
    if trimmed.starts_with('/') {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// [`describe`] for a call on connection `info`. A browser reports a CRM that does not allow
/// this site (CORS) exactly as it reports one it cannot reach, so a network failure on a
/// connection that calls another origin names that cause too, and the way around it.
pub fn describe_for(error: &ApiError, info: &ConnectionInfo) -> String {
    let text = describe(error);
    // A refusal comes at once; a call that went unanswered was not refused.
    if matches!(error, ApiError::Network { .. })
        && !error.is_timeout()
        && info.calls_another_origin()
    {
        format!(
            "{text} If the address is right, the CRM may not allow this site to call it (CORS): \
             reach it through Userdeck's proxy instead."
        )
    } else {
        text
    }
}

/// A sentence for an error, saying what to do about it where there is something to do.
pub fn describe(error: &ApiError) -> String {
    match error {
        ApiError::Unauthorized { .. } | ApiError::SessionExpired => {
            "The CRM no longer accepts these credentials: sign in again.".into()
        }
        ApiError::InvalidCredentials { message } => format!("Sign-in refused: {message}"),
        ApiError::Forbidden { message } => format!("Not allowed: {message}"),
        ApiError::NotFound { message } => format!("Not found: {message}"),
        ApiError::Validation { message, .. } => {
            format!("Please correct the highlighted fields. {message}")
        }
        ApiError::RateLimited { until_ms, .. } => {
            let wait = until_ms
                .saturating_sub(js_sys::Date::now() as u64)
                .div_ceil(1000);
            format!("The CRM's rate limit is used up: try again in {wait} s.")
        }
        ApiError::Network { message } => {
            format!(
                "Could not reach the CRM ({message}). Check the connection's address and your network."
            )
        }
        ApiError::Unsupported { message } => format!("Not possible here: {message}"),
        // Zurmo's HTTP-200 FAILURE without field errors, and a 409 (App CRM: deleting yourself).
        ApiError::Upstream {
            status: 200,
            message,
        }
        | ApiError::Conflict { message } => format!("The CRM refused: {message}"),
        ApiError::Upstream {
            status: status @ (502 | 504),
            message,
        } => format!(
            "Could not reach the CRM (HTTP {status}: {message}). It may be down or overloaded: try again in a moment."
        ),
        ApiError::Upstream {
            status: 503,
            message,
        } => format!(
            "The CRM is busy or under maintenance (HTTP 503: {message}). Try again in a moment."
        ),
        ApiError::Upstream { status, message } if *status >= 500 => format!(
            "The CRM failed on its side (HTTP {status}: {message}). Try again; if it keeps failing, the CRM's logs say why."
        ),
        ApiError::Upstream { status, message } => {
            format!("The CRM answered HTTP {status}: {message}")
        }
        ApiError::Decode { what, snippet } => format!(
            "Userdeck cannot read the answer as the {what}. Check that the connection's address is the CRM's API. The answer began: {snippet}"
        ),
        ApiError::InvalidQuery { message } => format!("This search cannot be sent: {message}"),
        ApiError::OAuth { error, description } => match description {
            Some(d) if !d.is_empty() => format!("Capsule refused the sign-in ({error}): {d}"),
            _ => format!("Capsule refused the sign-in ({error})."),
        },
        ApiError::OAuthStateMismatch => {
            "The sign-in answer does not belong to this browser's request: start the sign-in again."
                .into()
        }
        ApiError::Cancelled => "Superseded by a newer request.".into(),
    }
}
