//! Assembles the proxy: shared state, the router, and an accept loop with header-read timeouts
//! and graceful shutdown. [`Proxy::start`] is the library entry point used by the binary, the
//! integration tests and the lead's benchmarks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get};
use http::HeaderValue;
use http::header;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tower_http::compression::CompressionLayer;

use crate::config::{Config, Connection};
use crate::cors::{self, CorsPolicy};
use crate::error::Error;
use crate::session::CookieSealer;
use crate::statics::{self, Statics};
use crate::{connections, forward, oauth, zurmo};

/// State shared by every request; built once from the config.
pub struct Shared {
    pub config: Config,
    pub sealer: CookieSealer,
    pub http: reqwest::Client,
    pub upstreams: HashMap<String, Arc<Upstream>>,
    pub cors: CorsPolicy,
    pub statics: Option<Statics>,
    pub refreshes: oauth::RefreshFlights,
}

/// One configured connection and its per-connection runtime state.
pub struct Upstream {
    pub conn: Connection,
    /// Caps concurrent upstream requests for this connection.
    pub slots: Arc<Semaphore>,
    /// The OAuth client, for Capsule connections that sign users in.
    pub oauth: Option<userdeck_client::oauth::OAuthClient>,
    /// The proxy's own Zurmo session, for Zurmo connections with server-side credentials.
    pub zurmo: zurmo::SessionCache,
}

impl Shared {
    fn new(config: Config) -> Result<Shared, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.limits.connect_timeout)
            .read_timeout(config.limits.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("userdeck-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let upstreams = config
            .connections
            .iter()
            .map(|conn| {
                let upstream = Upstream {
                    conn: conn.clone(),
                    slots: Arc::new(Semaphore::new(config.limits.max_concurrent)),
                    oauth: conn.oauth.as_ref().map(oauth::client_for),
                    zurmo: zurmo::SessionCache::default(),
                };
                (conn.id.clone(), Arc::new(upstream))
            })
            .collect();
        let public_origin = config
            .public_url
            .as_ref()
            .map(|u| u.origin().ascii_serialization());
        let statics = config
            .static_dir
            .as_deref()
            .map(|dir| Statics::load(dir, &config.csp_connect_src))
            .transpose()?;
        Ok(Shared {
            sealer: CookieSealer::new(&config.cookie_key, config.cookie_secure),
            cors: CorsPolicy::new(config.allowed_origins.clone(), public_origin),
            http,
            upstreams,
            statics,
            refreshes: oauth::RefreshFlights::default(),
            config,
        })
    }

    /// The prefix for URLs the proxy hands to the browser: the public origin, or "" (root-relative).
    pub fn public_prefix(&self) -> String {
        self.config
            .public_url
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// The whole HTTP surface of the proxy.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/connections", get(connections::list))
        .route("/proxy/{*rest}", any(forward::forward))
        .route("/oauth/{id}/logout", get(oauth::logout).post(oauth::logout))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            cors::enforce,
        ));
    Router::new()
        .merge(api)
        .route("/oauth/{id}/start", get(oauth::start))
        .route("/oauth/{id}/callback", get(oauth::callback))
        .fallback(statics::serve)
        .with_state(shared)
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(common_headers))
}

/// Hardening headers on every answer, and one log line per request without query or secrets.
async fn common_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(200).collect();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// A running proxy; dropping it does not stop it, call [`Proxy::shutdown`].
pub struct Proxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Checks `config`, binds `config.listen` (port 0 picks a free port) and serves in a task.
    pub async fn start(config: Config) -> Result<Proxy, Error> {
        let listen = config.listen;
        if config.cookie_key_generated {
            tracing::warn!(
                "no cookie_key configured: generated one; sessions end at restart and copies behind a load balancer will not share them"
            );
        }
        let shared = Arc::new(Shared::new(config)?);
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: listen,
            source,
        })?;
        let app = router(shared);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, app, stopped));
        tracing::info!(%addr, "userdeck-proxy listening");
        Ok(Proxy {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for tests and benchmarks.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn accept_loop(listener: TcpListener, app: Router, mut stopped: oneshot::Receiver<()>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Without it, Nagle's algorithm holds a response's last small write until the
                // browser acknowledges the one before, which it may delay by 40 ms: a file
                // streamed in pieces (the stylesheet, which scripts wait for) then ends 40 ms
                // late.
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                let service = TowerToHyperService::new(app.clone());
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}
