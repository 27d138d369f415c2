//! The async client: one typed API over the three CRMs. It builds requests with the provider
//! codecs, sends them through a [`Transport`], and adds what needs state or time: sessions and
//! re-login, rate-limit pacing, retries, client-side search for Capsule, full-replace updates for
//! App CRM, and "latest request wins" cancellation for search-as-you-type.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::error::ApiError;
use crate::http::{HttpRequest, HttpResponse};
use crate::model::{Capabilities, Page, PasswordChange, Provider, User, UserDraft};
use crate::provider::zurmo::ZurmoSession;
use crate::provider::{self, Target, appcrm, capsule, zurmo};
use crate::query::UserQuery;
use crate::ratelimit::{Quota, RateLimiter};
use crate::retry::RetryPolicy;
use crate::schema::Schema;
use crate::transport::{CancelToken, Transport};

/// How a connection authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A bearer token: Capsule personal access or OAuth access token, App CRM Sanctum token.
    Token(String),
    /// App CRM email + password, exchanged for a token at sign-in (and again if it is rejected).
    EmailPassword { email: String, password: String },
    /// Zurmo username + password, opening a session at sign-in (and again on "Sign in required.").
    UsernamePassword { username: String, password: String },
    /// No credentials from the client: a proxy in front adds them.
    None,
}

/// One configured CRM connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub provider: Provider,
    /// Capsule: host (`https://api.capsulecrm.com` or a proxy route); App CRM: host; Zurmo: the
    /// install's `…/index.php`.
    pub base_url: String,
    pub auth: Auth,
}

/// Device name App CRM records for tokens this client creates.
const DEVICE_NAME: &str = "userdeck";
/// Hard stop for "fetch every page" loops, against a server that never says "last page".
const MAX_PAGES: u32 = 10_000;
/// How long Capsule's full user list is reused for client-side search.
const CAPSULE_CACHE_MS: u64 = 30_000;

#[derive(Default)]
struct State {
    bearer: Option<String>,
    zurmo: Option<ZurmoSession>,
    limiter: Option<RateLimiter>,
    capsule_all: Option<(u64, Vec<User>)>,
    /// The release the CRM last named (App CRM's `X-App-Version`).
    server_version: Option<String>,
    /// An App CRM save's 422 asked for `first_day_of_week`, so the CRM requires it whatever
    /// release it names, or whether its release can be read at all.
    asks_first_day_of_week: bool,
}

/// Told when the client starts waiting for the rate limit (`Some(until_ms)`, the transport's
/// clock) and when the wait is over (`None`), so a UI can say why nothing happens yet. The quota
/// comes along: a call that waits has not finished, and the quota it waits on (the 429's
/// `X-RateLimit-Remaining: 0`) is not otherwise seen until it does.
pub type WaitObserver = std::sync::Arc<dyn Fn(Option<u64>, Option<Quota>) + Send + Sync>;

/// Told the token an App CRM password was exchanged for, each time it is: a caller that keeps
/// credentials across page loads can keep that token instead of the password.
pub type TokenObserver = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// The users client for one connection.
pub struct Client<T> {
    connection: Connection,
    transport: T,
    retry: RetryPolicy,
    on_wait: Option<WaitObserver>,
    on_token: Option<TokenObserver>,
    state: Mutex<State>,
    generation: AtomicU64,
    inflight: Mutex<Option<CancelToken>>,
}

impl<T: Transport> Client<T> {
    /// A client for `connection` sending through `transport`. Nothing is sent until first use.
    pub fn new(connection: Connection, transport: T) -> Client<T> {
        let bearer = match &connection.auth {
            Auth::Token(t) => Some(t.clone()),
            _ => None,
        };
        let limiter = Some(RateLimiter::for_provider(connection.provider));
        Client {
            connection,
            transport,
            retry: RetryPolicy::default(),
            on_wait: None,
            on_token: None,
            state: Mutex::new(State {
                bearer,
                limiter,
                ..State::default()
            }),
            generation: AtomicU64::new(0),
            inflight: Mutex::new(None),
        }
    }

    /// Replaces the retry policy (builder style).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Client<T> {
        self.retry = retry;
        self
    }

    /// Reports rate-limit waits to `observer` (builder style).
    pub fn with_wait_observer(mut self, observer: WaitObserver) -> Client<T> {
        self.on_wait = Some(observer);
        self
    }

    /// Reports the tokens App CRM passwords are exchanged for to `observer` (builder style).
    pub fn with_token_observer(mut self, observer: TokenObserver) -> Client<T> {
        self.on_token = Some(observer);
        self
    }

    /// The connection this client talks to.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The transport, e.g. to share it.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// What this connection can do.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities::of(self.connection.provider)
    }

    /// The provider's field schema for forms and columns, for the release the CRM last named
    /// (an older App CRM requires a field the current one does not have), with the first day of
    /// the week once a save's answer has asked for it.
    pub fn schema(&self) -> Schema {
        let (version, asked) = {
            let s = self.lock();
            (s.server_version.clone(), s.asks_first_day_of_week)
        };
        let schema = Schema::for_server(self.connection.provider, version.as_deref());
        if asked {
            schema.with_first_day_of_week()
        } else {
            schema
        }
    }

    /// The CRM's release as it last named it (App CRM's `X-App-Version`); None before the first
    /// answer, or from a CRM that does not say.
    pub fn server_version(&self) -> Option<String> {
        self.lock().server_version.clone()
    }

    /// The last quota the server reported (Capsule, App CRM), for the UI.
    pub fn quota(&self) -> Option<Quota> {
        self.lock().limiter.as_ref().and_then(RateLimiter::quota)
    }

    /// True when the client holds a token or session (or needs none).
    pub fn is_signed_in(&self) -> bool {
        let s = self.lock();
        match (&self.connection.provider, &self.connection.auth) {
            (_, Auth::None) => true,
            (Provider::Zurmo, _) => s.zurmo.is_some(),
            _ => s.bearer.is_some(),
        }
    }

    /// Replaces the bearer token (after an OAuth refresh, say).
    pub fn set_token(&self, token: impl Into<String>) {
        self.lock().bearer = Some(token.into());
    }

    /// The current bearer token, e.g. to persist an App CRM token obtained by password sign-in.
    pub fn token(&self) -> Option<String> {
        self.lock().bearer.clone()
    }

    /// Signs in with the connection's credentials: App CRM email+password → token, Zurmo login →
    /// session. With a token (or no auth) there is nothing to do.
    pub async fn sign_in(&self) -> Result<(), ApiError> {
        let base = self.connection.base_url.as_str();
        match (&self.connection.provider, &self.connection.auth) {
            (Provider::AppCrm, Auth::EmailPassword { email, password }) => {
                let resp = self
                    .send_once(appcrm::token_request(base, email, password, DEVICE_NAME))
                    .await?;
                let token = appcrm::decode_token(&resp, self.transport.now_ms())?;
                if let Some(observe) = &self.on_token {
                    observe(&token);
                }
                self.lock().bearer = Some(token);
                Ok(())
            }
            (Provider::Zurmo, Auth::UsernamePassword { username, password }) => {
                let resp = self
                    .send_once(zurmo::login_request(base, username, password))
                    .await?;
                let session = zurmo::decode_login(&resp, self.transport.now_ms())?;
                self.lock().zurmo = Some(session);
                Ok(())
            }
            (_, Auth::EmailPassword { .. } | Auth::UsernamePassword { .. }) => {
                Err(ApiError::Unsupported {
                    message: format!(
                        "{} does not sign in with a password",
                        self.connection.provider
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// Signs out: Zurmo logs the session out; tokens are forgotten locally (App CRM has no revoke
    /// endpoint; Capsule OAuth tokens are revoked with `oauth::revoke_request`).
    pub async fn sign_out(&self) -> Result<(), ApiError> {
        let session = self.lock().zurmo.take();
        if let Some(session) = session {
            let target = Target::new(&self.connection.base_url, session.headers());
            let resp = self.send_once(zurmo::logout_request(&target)).await?;
            match zurmo::decode_logout(&resp, self.transport.now_ms()) {
                Ok(()) | Err(ApiError::SessionExpired) => {}
                Err(e) => return Err(e),
            }
        }
        if !matches!(self.connection.auth, Auth::Token(_)) {
            self.lock().bearer = None;
        }
        Ok(())
    }

    /// One page of users matching `query`.
    pub async fn list(&self, query: &UserQuery) -> Result<Page<User>, ApiError> {
        self.list_with(query, None).await
    }

    /// Like [`Client::list`], but a newer call supersedes this one: the older fetch is aborted
    /// and its result is never delivered (`ApiError::Cancelled`). For search-as-you-type.
    pub async fn list_latest(&self, query: &UserQuery) -> Result<Page<User>, ApiError> {
        let id = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = CancelToken::new(id);
        let previous = self
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(token.clone());
        if let Some(previous) = previous {
            previous.cancel();
            self.transport.abort(&previous);
        }
        let result = self.list_with(query, Some(&token)).await;
        let mut slot = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|t| t.id() == id) {
            *slot = None;
        }
        drop(slot);
        if token.is_cancelled() || self.generation.load(Ordering::SeqCst) != id {
            return Err(ApiError::Cancelled);
        }
        result
    }

    /// Every user matching `query` (all pages), pacing requests to the quota.
    pub async fn list_all(&self, query: &UserQuery) -> Result<Vec<User>, ApiError> {
        self.list_all_reporting(query, |_, _| true).await
    }

    /// [`Client::list_all`], telling `progress` the users fetched so far and the total the CRM
    /// gave after each page; `progress` answering false stops it there, with the users so far.
    /// The walk ends at the last page, once the users fetched reach the CRM's total, or after
    /// 10,000 pages (a CRM that ignored `page` and always offered more would never end).
    pub async fn list_all_reporting(
        &self,
        query: &UserQuery,
        mut progress: impl FnMut(u64, Option<u64>) -> bool,
    ) -> Result<Vec<User>, ApiError> {
        if self.connection.provider == Provider::Capsule {
            if query
                .structure
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
            {
                return Err(self.unsupported("combine conditions by a custom structure"));
            }
            let mut all = self.capsule_all(None).await?;
            all.retain(|u| query.matches(u));
            query.sort_users(&mut all);
            let n = all.len() as u64;
            progress(n, Some(n));
            return Ok(all);
        }
        let mut q = query.clone();
        q.page = 1;
        if q.page_size == 0 {
            q.page_size = self.capabilities().max_page_size;
        }
        let mut out = Vec::new();
        loop {
            let page = self.list_with(&q, None).await?;
            let done = !page.has_next || page.items.is_empty();
            out.extend(page.items);
            let fetched = out.len() as u64;
            let all_there = page.total.is_some_and(|total| fetched >= total);
            let go_on = progress(fetched, page.total);
            if done || all_there || q.page >= MAX_PAGES || !go_on {
                return Ok(out);
            }
            q.page += 1;
        }
    }

    async fn list_with(
        &self,
        q: &UserQuery,
        cancel: Option<&CancelToken>,
    ) -> Result<Page<User>, ApiError> {
        match self.connection.provider {
            Provider::Capsule => self.capsule_list(q, cancel).await,
            Provider::AppCrm => {
                self.call(
                    true,
                    cancel,
                    |t| appcrm::list_request(t, q),
                    appcrm::decode_list,
                )
                .await
            }
            Provider::Zurmo => {
                let size = q.page_size;
                self.call(
                    true,
                    cancel,
                    |t| zurmo::list_request(t, q),
                    |r, now| zurmo::decode_page(r, size, now),
                )
                .await
            }
        }
    }

    async fn capsule_list(
        &self,
        q: &UserQuery,
        cancel: Option<&CancelToken>,
    ) -> Result<Page<User>, ApiError> {
        if q.structure.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            return Err(self.unsupported("combine conditions by a custom structure"));
        }
        let page_size = match q.page_size {
            0 => capsule::DEFAULT_PER_PAGE,
            n => n.min(capsule::MAX_PER_PAGE),
        };
        let page = q.page.max(1);
        if !q.is_filtered() && q.sort.is_none() {
            return self
                .call(
                    true,
                    cancel,
                    |t| Ok(capsule::list_request(t, page, page_size)),
                    |r, now| capsule::decode_list(r, page, page_size, now),
                )
                .await;
        }
        // Capsule cannot search: fetch every user (cached briefly), then filter, sort and slice.
        let mut all = self.capsule_all(cancel).await?;
        all.retain(|u| q.matches(u));
        q.sort_users(&mut all);
        let total = all.len();
        let start = (page as usize - 1)
            .saturating_mul(page_size as usize)
            .min(total);
        let end = start.saturating_add(page_size as usize).min(total);
        let items = all.drain(start..end).collect();
        Ok(Page {
            items,
            total: Some(total as u64),
            page,
            page_size,
            has_next: end < total,
        })
    }

    async fn capsule_all(&self, cancel: Option<&CancelToken>) -> Result<Vec<User>, ApiError> {
        let now = self.transport.now_ms();
        if let Some((at, users)) = &self.lock().capsule_all
            && now.saturating_sub(*at) < CAPSULE_CACHE_MS
        {
            return Ok(users.clone());
        }
        let mut all = Vec::new();
        let mut page = 1;
        let per_page = capsule::MAX_PER_PAGE;
        loop {
            let (p, next) = self
                .call(
                    true,
                    cancel,
                    |t| Ok(capsule::list_request(t, page, per_page)),
                    |r, now| {
                        Ok((
                            capsule::decode_list(r, page, per_page, now)?,
                            capsule::next_link(r),
                        ))
                    },
                )
                .await?;
            let has_next = p.has_next && !p.items.is_empty();
            all.extend(p.items);
            // Follow the Link's page number, but against our own base URL.
            let next_page = next.map(|(n, _)| n).unwrap_or(page.saturating_add(1));
            if !has_next || next_page <= page || page >= MAX_PAGES {
                break;
            }
            page = next_page;
        }
        self.lock().capsule_all = Some((self.transport.now_ms(), all.clone()));
        Ok(all)
    }

    /// One user by id.
    pub async fn get(&self, id: u64) -> Result<User, ApiError> {
        let provider = self.connection.provider;
        self.call(
            true,
            None,
            |t| Ok(provider::get_request(provider, t, id)),
            |r, now| provider::decode_user(provider, r, now),
        )
        .await
    }

    /// Creates a user (never retried automatically: a create is not idempotent).
    pub async fn create(&self, draft: &UserDraft) -> Result<User, ApiError> {
        match self.connection.provider {
            Provider::Capsule => Err(self.unsupported("create users")),
            Provider::AppCrm => self
                .call(
                    false,
                    None,
                    |t| Ok(appcrm::create_request(t, draft)),
                    appcrm::decode_user,
                )
                .await
                .map_err(|e| appcrm::blame_unknown_roles(e, draft)),
            Provider::Zurmo => {
                self.call(
                    false,
                    None,
                    |t| Ok(zurmo::create_request(t, draft)),
                    zurmo::decode_user,
                )
                .await
            }
        }
    }

    /// Updates a user with the draft's fields; unset fields keep their values (App CRM's
    /// full-replace PUT is filled from the current user first).
    pub async fn update(&self, id: u64, draft: &UserDraft) -> Result<User, ApiError> {
        match self.connection.provider {
            Provider::Capsule => Err(self.unsupported("update users")),
            Provider::AppCrm => {
                let current = self.get(id).await?;
                self.call(
                    true,
                    None,
                    |t| Ok(appcrm::update_request(t, &current, draft)),
                    appcrm::decode_user,
                )
                .await
                .map_err(|e| appcrm::blame_unknown_roles(e, draft))
            }
            Provider::Zurmo => {
                self.call(
                    true,
                    None,
                    |t| Ok(zurmo::update_request(t, id, draft)),
                    zurmo::decode_user,
                )
                .await
            }
        }
    }

    /// Deletes a user.
    pub async fn delete(&self, id: u64) -> Result<(), ApiError> {
        self.delete_transferring(id, None).await
    }

    /// Deletes a user, handing their records (deals, contacts, activities…) to the user
    /// `transfer_to` first, so nothing is orphaned. Only App CRM can transfer (see
    /// `Capabilities::delete_transfer`); asking another CRM to is an `Unsupported` error, never a
    /// silent plain delete.
    pub async fn delete_transferring(
        &self,
        id: u64,
        transfer_to: Option<u64>,
    ) -> Result<(), ApiError> {
        if transfer_to.is_some() && !self.capabilities().delete_transfer {
            return Err(self.unsupported("transfer a deleted user's records"));
        }
        match self.connection.provider {
            Provider::Capsule => Err(self.unsupported("delete users")),
            Provider::AppCrm => {
                self.call(
                    true,
                    None,
                    |t| Ok(appcrm::delete_request(t, id, transfer_to)),
                    appcrm::decode_empty,
                )
                .await
            }
            Provider::Zurmo => {
                self.call(
                    true,
                    None,
                    |t| Ok(zurmo::delete_request(t, id)),
                    zurmo::decode_deleted,
                )
                .await
            }
        }
    }

    /// The signed-in user.
    pub async fn me(&self) -> Result<User, ApiError> {
        let provider = self.connection.provider;
        let me = self
            .call(
                true,
                None,
                |t| Ok(provider::me_request(provider, t)),
                |r, now| provider::decode_user(provider, r, now),
            )
            .await;
        match me {
            Err(e) if provider == Provider::Zurmo && zurmo::lacks_authenticated_user(&e) => {
                self.zurmo_me_by_name().await
            }
            me => me,
        }
    }

    /// Me on a Zurmo 2.x, which cannot say who is signed in: the user listed under the name the
    /// client signed in with. Through a proxy that signs in itself, that name is not known here.
    async fn zurmo_me_by_name(&self) -> Result<User, ApiError> {
        let Auth::UsernamePassword { username, .. } = &self.connection.auth else {
            return Err(ApiError::Unsupported {
                message: zurmo::NO_AUTHENTICATED_USER.into(),
            });
        };
        let matches = self.list(&zurmo::username_query(username)).await?;
        zurmo::named(matches.items, username).ok_or_else(|| ApiError::NotFound {
            message: format!(
                "{}, and lists no user named {username}",
                zurmo::NO_AUTHENTICATED_USER
            ),
        })
    }

    /// Updates the signed-in user's profile (App CRM only; unset fields keep their values).
    pub async fn update_profile(&self, draft: &UserDraft) -> Result<User, ApiError> {
        match self.connection.provider {
            Provider::AppCrm => {
                let current = self.me().await?;
                self.call(
                    true,
                    None,
                    |t| Ok(appcrm::profile_request(t, &current, draft)),
                    appcrm::decode_user,
                )
                .await
            }
            _ => Err(self.unsupported("update the profile")),
        }
    }

    /// Changes the signed-in user's password (App CRM only). A wrong old password is a
    /// `Validation` error on `old_password`.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), ApiError> {
        match self.connection.provider {
            Provider::AppCrm => {
                self.call(
                    false,
                    None,
                    |t| Ok(appcrm::password_request(t, change)),
                    appcrm::decode_empty,
                )
                .await
            }
            _ => Err(self.unsupported("change passwords")),
        }
    }

    fn unsupported(&self, what: &str) -> ApiError {
        ApiError::Unsupported {
            message: format!("{} cannot {what} through its API", self.connection.provider),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn target(&self) -> Target {
        let s = self.lock();
        let headers = match self.connection.provider {
            Provider::Zurmo => s
                .zurmo
                .as_ref()
                .map(ZurmoSession::headers)
                .unwrap_or_default(),
            _ => s
                .bearer
                .as_ref()
                .map(|t| vec![("Authorization".into(), format!("Bearer {t}"))])
                .unwrap_or_default(),
        };
        Target::new(&self.connection.base_url, headers)
    }

    /// Whether the client can recover from a rejected token/session by signing in again.
    fn can_sign_in_again(&self) -> bool {
        matches!(
            (&self.connection.provider, &self.connection.auth),
            (Provider::AppCrm, Auth::EmailPassword { .. })
                | (Provider::Zurmo, Auth::UsernamePassword { .. })
        )
    }

    async fn send_once(&self, req: HttpRequest) -> Result<HttpResponse, ApiError> {
        req.check_headers()?;
        let resp = self.transport.send(req, None).await?;
        let now = self.transport.now_ms();
        if let Some(l) = self.lock().limiter.as_mut() {
            l.observe(&resp, now);
        }
        Ok(resp)
    }

    /// Sends a request built by `build`, decodes it with `decode`, and handles sign-in,
    /// re-login (once), pacing, 429 waits and retries of idempotent requests.
    async fn call<R: Send>(
        &self,
        idempotent: bool,
        cancel: Option<&CancelToken>,
        build: impl Fn(&Target) -> Result<HttpRequest, ApiError> + Sync,
        decode: impl Fn(&HttpResponse, u64) -> Result<R, ApiError> + Sync,
    ) -> Result<R, ApiError> {
        let mut decoded = None;
        self.call_loop(idempotent, cancel, &build, &mut |resp, now| {
            decoded = Some(decode(resp, now)?);
            Ok(())
        })
        .await?;
        // `call_loop` succeeds only after `decode` did, so this is always `Some`.
        decoded.ok_or_else(|| ApiError::decode("response", b""))
    }

    /// The loop behind [`Client::call`], written once over erased closures: generic over each
    /// call's result type, this loop and its sign-in, pacing and retry states were compiled once
    /// per call site, about a tenth of the browser bundle's client code.
    async fn call_loop(
        &self,
        idempotent: bool,
        cancel: Option<&CancelToken>,
        build: &(dyn Fn(&Target) -> Result<HttpRequest, ApiError> + Sync),
        decode: &mut (dyn FnMut(&HttpResponse, u64) -> Result<(), ApiError> + Send),
    ) -> Result<(), ApiError> {
        let mut attempt = 0;
        let mut signed_in_again = false;
        loop {
            if !self.is_signed_in() && self.can_sign_in_again() {
                self.sign_in().await?;
            }
            let req = build(&self.target())?;
            req.check_headers()?;
            let now = self.transport.now_ms();
            let pause = self
                .lock()
                .limiter
                .as_ref()
                .map_or(0, |l| l.delay_before_next(now));
            if pause > self.retry.max_rate_limit_wait_ms {
                return Err(ApiError::RateLimited {
                    until_ms: now + pause,
                    message: "the rate limit quota is used up".into(),
                });
            }
            if pause > 0 {
                if let Some(observe) = &self.on_wait {
                    observe(Some(now + pause), self.quota());
                }
                self.transport.sleep(Duration::from_millis(pause)).await;
                if let Some(observe) = &self.on_wait {
                    observe(None, self.quota());
                }
            }
            if cancel.is_some_and(CancelToken::is_cancelled) {
                return Err(ApiError::Cancelled);
            }
            let outcome = match self.transport.send(req, cancel).await {
                Ok(resp) => {
                    let now = self.transport.now_ms();
                    {
                        let mut state = self.lock();
                        if let Some(l) = state.limiter.as_mut() {
                            l.observe(&resp, now);
                        }
                        if let Some(v) = resp.header(appcrm::VERSION_HEADER) {
                            state.server_version = Some(v.trim().to_string());
                        }
                    }
                    decode(&resp, now)
                }
                Err(e) => Err(e),
            };
            let err = match outcome {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if self.connection.provider == Provider::AppCrm
                && appcrm::asks_for_first_day_of_week(&err)
            {
                self.lock().asks_first_day_of_week = true;
            }
            if let ApiError::RateLimited { until_ms, .. } = &err
                && let Some(l) = self.lock().limiter.as_mut()
            {
                l.block_until(*until_ms);
            }
            if err.needs_sign_in() && !signed_in_again && self.can_sign_in_again() {
                signed_in_again = true;
                {
                    let mut s = self.lock();
                    s.zurmo = None;
                    s.bearer = None;
                }
                continue;
            }
            let now = self.transport.now_ms();
            match self
                .retry
                .decide(attempt, idempotent, &err, now, self.transport.random_u64())
            {
                Some(wait) => {
                    attempt += 1;
                    // A 429's wait is enforced by the limiter's block before the next send.
                    if !matches!(err, ApiError::RateLimited { .. }) {
                        self.transport.sleep(Duration::from_millis(wait)).await;
                    }
                }
                None => return Err(err),
            }
        }
    }
}
