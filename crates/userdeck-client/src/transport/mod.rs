//! The edge where bytes move: a [`Transport`] sends an [`HttpRequest`] and also supplies what the
//! sans-IO core may not touch itself — sleeping, the clock and randomness. Browser (gloo-net) and
//! native (reqwest + tokio) implementations live behind the `browser` and `native` features.

#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub mod browser;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod native;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::ApiError;
use crate::http::{HttpRequest, HttpResponse};

/// Sends requests and supplies time and randomness. Futures need not be `Send` (the browser's
/// are not); a native implementation's are, so a native client works in multi-threaded tokio.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends one request. A transport error (no HTTP answer) is `ApiError::Network`; a cancelled
    /// request is `ApiError::Cancelled`. Any HTTP status is `Ok`.
    async fn send(
        &self,
        req: HttpRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<HttpResponse, ApiError>;
    /// Waits (used for pacing and backoff).
    async fn sleep(&self, duration: Duration);
    /// The current time in unix milliseconds.
    fn now_ms(&self) -> u64;
    /// A random value for retry jitter.
    fn random_u64(&self) -> u64;
    /// Aborts the in-flight request started with `token`, if the transport can.
    fn abort(&self, token: &CancelToken) {
        let _ = token;
    }
}

/// Identifies one logical request so it can be cancelled when a newer one supersedes it.
#[derive(Debug, Clone)]
pub struct CancelToken {
    id: u64,
    cancelled: Arc<AtomicBool>,
}

impl CancelToken {
    /// A fresh token with the caller's id (the client uses its generation counter).
    pub fn new(id: u64) -> CancelToken {
        CancelToken {
            id,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The id given at creation.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Marks the request as cancelled; the transport is told separately via `Transport::abort`.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}
