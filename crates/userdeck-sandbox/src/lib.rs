//! A local HTTP server that speaks the user APIs of Capsule CRM, App CRM (Concord CRM) and Zurmo.
//!
//! One process, one port, three prefixes: `/capsule/…`, `/appcrm/…`, `/zurmo/index.php/…`. The
//! wire behaviour (status codes, envelopes, headers, quirks) follows `shared/reference/`, so a
//! client that works here works against the real servers. Each CRM's wire details live in its
//! own module; `store` keeps the users, `seed` makes them, `faults` adds latency, failures and
//! rate limits, and `control` exposes test switches under `/_sandbox/`.

// Request handlers return a finished `Response` as their error so they can answer at once;
// boxing it would only add noise, hence the allowance.
#![allow(clippy::result_large_err)]

pub mod appcrm;
pub mod capsule;
mod clock;
mod control;
mod cors;
pub mod faults;
pub mod oauth;
#[doc(hidden)]
pub mod ojson;
pub mod php_query;
mod request;
pub mod seed;
pub mod store;
mod urlcoding;
pub mod zurmo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The sandbox's one error type (start-up and data-file problems; request errors are responses).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding the port or reading/writing the data file failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The data file is not a sandbox snapshot.
    #[error("data file: {0}")]
    Data(String),
    /// A command-line argument is wrong.
    #[error("usage: {0}")]
    Usage(String),
}

/// Which browser origins may call the sandbox directly (the real CRMs send no CORS headers).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Cors {
    /// No CORS headers, like the real services.
    #[default]
    Off,
    /// Any origin.
    Any,
    /// Only these exact origins (`http://localhost:8080`).
    Origins(Vec<String>),
}

/// One of the three emulated CRMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Crm {
    Capsule,
    AppCrm,
    Zurmo,
}

impl Crm {
    /// Parses the names used by the control endpoints: `capsule`, `appcrm`, `zurmo`.
    pub fn parse(name: &str) -> Option<Crm> {
        match name.to_ascii_lowercase().as_str() {
            "capsule" => Some(Crm::Capsule),
            "appcrm" | "app-crm" => Some(Crm::AppCrm),
            "zurmo" => Some(Crm::Zurmo),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Crm::Capsule => 0,
            Crm::AppCrm => 1,
            Crm::Zurmo => 2,
        }
    }
}

/// How the sandbox is seeded and what it simulates.
#[derive(Clone, Debug)]
pub struct Config {
    /// Seed for the deterministic demo data.
    pub seed: u64,
    /// Users per CRM (the demo accounts are always among them).
    pub users: usize,
    /// Browser access; off like the real services.
    pub cors: Cors,
    /// Added to every API request.
    pub latency: Duration,
    /// Share of API requests (0.0–1.0) that fail with a 500, a dropped connection or a broken body.
    pub fault_rate: f64,
    /// Keeps the stores in this file across restarts; memory only when None.
    pub data: Option<PathBuf>,
    /// App CRM requests per minute per user (the real default is 90).
    pub appcrm_rate_limit: u32,
    /// Capsule requests per hour per user, whichever token they come with (the real limit is 4,000).
    pub capsule_rate_limit: u32,
    /// Lifetime of Capsule OAuth access tokens (`expires_in`; Capsule says 604799 s).
    pub oauth_token_ttl: Duration,
    /// Lifetime of an OAuth authorisation code.
    pub oauth_code_ttl: Duration,
    /// Largest request body accepted; bigger ones get each CRM's "too large" answer.
    pub max_body_bytes: usize,
    /// The Zurmo release the sandbox acts as: 3 (3.x) answers `getAuthenticatedUser`; 2 (2.2.5,
    /// still installed in places) has no such route and answers its HTML error page.
    pub zurmo_major: u8,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 42,
            users: 300,
            cors: Cors::Off,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            data: None,
            appcrm_rate_limit: 90,
            capsule_rate_limit: 4000,
            oauth_token_ttl: Duration::from_secs(604_799),
            oauth_code_ttl: Duration::from_secs(120),
            max_body_bytes: 1 << 20,
            zurmo_major: 3,
        }
    }
}

/// Demo credentials, also printed at start and shown on `GET /`.
pub mod demo {
    /// Capsule personal access token (user 1, "Scott Spacey").
    pub const CAPSULE_TOKEN: &str = "sandbox-capsule-pat-6f1c2e9b8d7a4c3e9f0a1b2c3d4e5f60";
    /// Confidential OAuth client (any loopback `redirect_uri`).
    pub const OAUTH_CLIENT_ID: &str = "userdeck-sandbox-client";
    /// Secret of the confidential client.
    pub const OAUTH_CLIENT_SECRET: &str = "sandbox-client-secret-2f8e7d6c5b4a39281706f5e4d3c2b1a0";
    /// Public ("installed application") client: PKCE required, no secret.
    pub const OAUTH_PUBLIC_CLIENT_ID: &str = "userdeck-sandbox-public";
    /// App CRM super admin (user 1).
    pub const APPCRM_ADMIN_EMAIL: &str = "admin@appcrm.example";
    /// Password of the App CRM super admin.
    pub const APPCRM_ADMIN_PASSWORD: &str = "admin-password";
    /// Sanctum token of the App CRM super admin.
    pub const APPCRM_ADMIN_TOKEN: &str = "1|sAnDbOxAdMiNtOkEn0123456789abcdefABCDEFgh";
    /// App CRM ordinary user (user 2, not super admin).
    pub const APPCRM_USER_EMAIL: &str = "user@appcrm.example";
    /// Password of the ordinary App CRM user.
    pub const APPCRM_USER_PASSWORD: &str = "user-password";
    /// Sanctum token of the ordinary App CRM user.
    pub const APPCRM_USER_TOKEN: &str = "2|sAnDbOxUsErToKeN0123456789abcdefABCDEFghi";
    /// App CRM user without API access (user 3), to exercise the `{"error":…}` 403.
    pub const APPCRM_NOAPI_EMAIL: &str = "noapi@appcrm.example";
    /// Sanctum token of the user without API access.
    pub const APPCRM_NOAPI_TOKEN: &str = "3|sAnDbOxNoApItOkEn0123456789abcdefABCDEFgh";
    /// Zurmo super user (user 1).
    pub const ZURMO_USERNAME: &str = "super";
    /// Password of the Zurmo super user.
    pub const ZURMO_PASSWORD: &str = "super";
    /// Zurmo ordinary user (user 2): may read, not write.
    pub const ZURMO_USER_USERNAME: &str = "jim";
    /// Password of the ordinary Zurmo user.
    pub const ZURMO_USER_PASSWORD: &str = "jim-password";

    /// The proxy configuration (TOML, as `crates/userdeck-proxy/README.md` describes it) of the
    /// demo in front of a sandbox at `sandbox_url`: one ready connection per CRM (the proxy holds
    /// the credentials), Capsule through the OAuth consent page, and App CRM and Zurmo
    /// connections the user signs in to from the app. The demo and the end-to-end tests both
    /// start the proxy from it, so they exercise the configuration path a deployment uses.
    ///
    /// `listen` is where the proxy will listen (the OAuth redirect URL names it) and
    /// `static_dir` the app bundle it serves.
    pub fn proxy_config(
        listen: std::net::SocketAddr,
        sandbox_url: &str,
        static_dir: &std::path::Path,
    ) -> String {
        let dist = static_dir.display();
        let sandbox = sandbox_url.trim_end_matches('/');
        format!(
            r#"listen = "{listen}"
static_dir = "{dist}"
# `trunk serve` on 8082 (Trunk.toml) is a second origin for the same app during development.
allowed_origins = ["http://127.0.0.1:8082"]

[connections.capsule]
name = "Capsule CRM (sandbox)"
provider = "capsule"
base_url = "{sandbox}/capsule"
token = "{CAPSULE_TOKEN}"

[connections.capsule-oauth]
name = "Capsule CRM (sandbox, OAuth)"
provider = "capsule"
base_url = "{sandbox}/capsule"
[connections.capsule-oauth.oauth]
client_id = "{OAUTH_CLIENT_ID}"
client_secret = "{OAUTH_CLIENT_SECRET}"
authorise_url = "{sandbox}/capsule/oauth/authorise"
token_url = "{sandbox}/capsule/oauth/token"
revoke_url = "{sandbox}/capsule/oauth/revoke"
scopes = ["read", "write"]
redirect_url = "http://{listen}/oauth/capsule-oauth/callback"

[connections.appcrm]
name = "App CRM (sandbox)"
provider = "appcrm"
base_url = "{sandbox}/appcrm"
token = "{APPCRM_ADMIN_TOKEN}"

[connections.appcrm-signin]
name = "App CRM (sandbox, sign in)"
provider = "appcrm"
base_url = "{sandbox}/appcrm"

[connections.zurmo]
name = "Zurmo (sandbox)"
provider = "zurmo"
base_url = "{sandbox}/zurmo/index.php"
username = "{ZURMO_USERNAME}"
password = "{ZURMO_PASSWORD}"

[connections.zurmo-signin]
name = "Zurmo (sandbox, sign in)"
provider = "zurmo"
base_url = "{sandbox}/zurmo/index.php"
"#
        )
    }
}

/// State shared by every handler.
pub(crate) struct Shared {
    pub config: Config,
    pub stores: store::Stores,
    pub knobs: faults::Knobs,
    pub limits: faults::RateLimiter,
    pub oauth: oauth::OAuthState,
    pub zurmo_sessions: zurmo::Sessions,
}

impl Shared {
    fn new(config: Config) -> Result<Shared, Error> {
        let stores = store::Stores::open(config.seed, config.users, config.data.as_deref())?;
        Ok(Shared {
            knobs: faults::Knobs::new(config.latency, config.fault_rate, config.seed),
            limits: faults::RateLimiter::default(),
            oauth: oauth::OAuthState::default(),
            zurmo_sessions: zurmo::Sessions::default(),
            stores,
            config,
        })
    }

    pub(crate) fn expire_sessions(&self, crm: Crm) {
        match crm {
            Crm::Capsule => self.oauth.expire_access_tokens(),
            Crm::AppCrm => {
                self.stores.appcrm().tokens.clear();
                self.stores.touch();
            }
            Crm::Zurmo => self.zurmo_sessions.clear(),
        }
    }

    pub(crate) async fn reset(&self) {
        self.stores.reset(self.config.seed, self.config.users);
        self.stores.persist().await;
        self.oauth.clear();
        self.zurmo_sessions.clear();
        self.limits.clear();
    }
}

/// A running sandbox server.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Binds `listen` (use 127.0.0.1:0 in tests) and serves in a tokio task.
    pub async fn start(config: Config, listen: SocketAddr) -> std::io::Result<Sandbox> {
        let shared = Arc::new(Shared::new(config).map_err(|e| match e {
            Error::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        })?);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Nagle's algorithm would hold a trickled body's small pieces (`faults`) until the
            // client acknowledged the one before, which clients delay by up to 40 ms.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    eprintln!("userdeck-sandbox: cannot set TCP_NODELAY: {e}");
                }
            });
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("userdeck-sandbox: server error: {e}");
            }
        });
        Ok(Sandbox {
            shared,
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base for Capsule clients (they append `/api/v2/users`, `/oauth/token`, …).
    pub fn capsule_base(&self) -> String {
        format!("{}/capsule", self.url())
    }

    /// Base for App CRM clients (they append `/api/users`).
    pub fn appcrm_base(&self) -> String {
        format!("{}/appcrm", self.url())
    }

    /// Base for clients of the same App CRM answering as v1.2 (see [`appcrm::Release`]).
    pub fn appcrm_legacy_base(&self) -> String {
        format!("{}{}", self.url(), appcrm::Release::Legacy.prefix())
    }

    /// Base for Zurmo clients (they append `/users/user/api/…`, `/zurmo/api/login`).
    pub fn zurmo_base(&self) -> String {
        format!("{}/zurmo/index.php", self.url())
    }

    /// Stops accepting, lets in-flight requests finish (at most 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
        self.shared.stores.persist().await;
    }

    /// Makes every API call of `crm` answer 429 for `for_`.
    pub fn force_rate_limit(&self, crm: Crm, for_: Duration) {
        self.shared.limits.force(crm, for_);
    }

    /// Invalidates Zurmo sessions, App CRM tokens or Capsule OAuth access tokens.
    pub fn expire_sessions(&self, crm: Crm) {
        self.shared.expire_sessions(crm);
    }

    /// Sets the share of API requests that fail (0.0–1.0).
    pub fn set_fault_rate(&self, rate: f64) {
        self.shared.knobs.set_fault_rate(rate);
    }

    /// Sets the delay added to every API request.
    pub fn set_latency(&self, d: Duration) {
        self.shared.knobs.set_latency(d);
    }

    /// Total API requests received (control endpoints and `/` not counted).
    pub fn requests_seen(&self) -> u64 {
        self.shared.knobs.requests()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/capsule", any(capsule::handle))
        .route("/capsule/{*rest}", any(capsule::handle))
        .route("/appcrm", any(appcrm::handle))
        .route("/appcrm/{*rest}", any(appcrm::handle))
        .route("/appcrm-v1.2", any(appcrm::handle_legacy))
        .route("/appcrm-v1.2/{*rest}", any(appcrm::handle_legacy))
        .route("/zurmo", any(zurmo::handle))
        .route("/zurmo/{*rest}", any(zurmo::handle))
        .route_layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::gate,
        ));
    Router::new()
        .route("/", get(control::index))
        .route("/_sandbox/{action}", any(control::handle))
        .merge(api)
        .fallback(control::not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            cors::layer,
        ))
        .with_state(shared)
}
