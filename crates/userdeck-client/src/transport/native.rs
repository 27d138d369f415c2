//! Native transport (feature `native`): reqwest with rustls for HTTP, tokio for sleeping, the
//! system clock, and std's randomly keyed hasher for jitter. For tests, scripts and servers.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{CancelToken, Transport};
use crate::error::ApiError;
use crate::http::{HttpRequest, HttpResponse, Method};

/// How long a request may take, answer included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// reqwest-backed transport. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct NativeTransport {
    http: reqwest::Client,
}

impl Default for NativeTransport {
    fn default() -> Self {
        NativeTransport::new()
    }
}

impl NativeTransport {
    /// A transport with a 30-second request timeout and no automatic redirects (a redirect from
    /// these APIs means a missing `Accept` header or a login page, which should surface).
    pub fn new() -> NativeTransport {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        NativeTransport { http }
    }

    /// Wraps an existing reqwest client.
    pub fn with_client(http: reqwest::Client) -> NativeTransport {
        NativeTransport { http }
    }

    async fn fetch(&self, req: HttpRequest) -> Result<HttpResponse, ApiError> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, &req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        // A timeout reads as the browser transport's does ("no answer within 30 s").
        let network = |e: reqwest::Error| {
            if e.is_timeout() {
                ApiError::no_answer(TIMEOUT)
            } else {
                ApiError::Network {
                    message: e.to_string(),
                }
            }
        };
        let resp = builder.send().await.map_err(network)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await.map_err(network)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl Transport for NativeTransport {
    async fn send(
        &self,
        req: HttpRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<HttpResponse, ApiError> {
        let Some(token) = cancel else {
            return self.fetch(req).await;
        };
        // Dropping the reqwest future aborts the request; poll the token while it runs.
        let watch = async {
            while !token.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            result = self.fetch(req) => result,
            () = watch => Err(ApiError::Cancelled),
        }
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn random_u64(&self) -> u64 {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.finish()
    }
}
