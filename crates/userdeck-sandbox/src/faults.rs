//! What goes wrong on purpose: added latency, injected failures and rate limits.
//!
//! `gate` runs before every CRM handler: it counts the request, waits the configured latency,
//! and with the configured probability answers with a 500, a dropped connection or a truncated
//! body instead. Rate limits are per CRM and per caller, checked by each CRM module after it
//! knows who is calling (the limits' headers differ per CRM); a forced window makes every call
//! of one CRM answer 429 until it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::request::{html, respond};
use crate::{Crm, Shared, clock};

/// Runtime switches that tests and the control endpoints change.
pub struct Knobs {
    latency_us: AtomicU64,
    fault_rate_bits: AtomicU64,
    requests: AtomicU64,
    rng: AtomicU64,
    /// Off: CORS answers leave `X-App-Version` out of the headers they expose, as a Laravel
    /// app does unless configured otherwise, so a browser cannot read App CRM's release.
    app_version_exposed: AtomicBool,
    /// Off: no origin is allowed, whatever `--cors` said, as a CRM that does not know the site
    /// (the browser then refuses every direct call).
    cors_allowed: AtomicBool,
}

impl Knobs {
    pub(crate) fn new(latency: Duration, fault_rate: f64, seed: u64) -> Knobs {
        let knobs = Knobs {
            latency_us: AtomicU64::new(0),
            fault_rate_bits: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            rng: AtomicU64::new(seed ^ 0xFA17_5EED),
            app_version_exposed: AtomicBool::new(true),
            cors_allowed: AtomicBool::new(true),
        };
        knobs.set_latency(latency);
        knobs.set_fault_rate(fault_rate);
        knobs
    }

    /// Sets the added delay.
    pub fn set_latency(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.store(us, Ordering::Relaxed);
    }

    /// The added delay.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    /// Sets the failure share, clamped to 0..=1 (NaN counts as 0).
    pub fn set_fault_rate(&self, rate: f64) {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.fault_rate_bits
            .store(rate.to_bits(), Ordering::Relaxed);
    }

    /// The failure share.
    pub fn fault_rate(&self) -> f64 {
        f64::from_bits(self.fault_rate_bits.load(Ordering::Relaxed))
    }

    /// Whether CORS answers expose `X-App-Version` to the page (they do unless turned off).
    pub fn set_app_version_exposed(&self, exposed: bool) {
        self.app_version_exposed.store(exposed, Ordering::Relaxed);
    }

    /// See [`Knobs::set_app_version_exposed`].
    pub fn app_version_exposed(&self) -> bool {
        self.app_version_exposed.load(Ordering::Relaxed)
    }

    /// Whether the origins `--cors` allows are allowed now (they are unless turned off).
    pub fn set_cors_allowed(&self, allowed: bool) {
        self.cors_allowed.store(allowed, Ordering::Relaxed);
    }

    /// See [`Knobs::set_cors_allowed`].
    pub fn cors_allowed(&self) -> bool {
        self.cors_allowed.load(Ordering::Relaxed)
    }

    /// API requests seen so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A uniform float in [0, 1) from a lock-free SplitMix64 stream.
    fn roll(&self) -> f64 {
        let state = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Counts, delays and sometimes breaks an API request before its CRM sees it.
pub(crate) async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    shared.knobs.requests.fetch_add(1, Ordering::Relaxed);
    let latency = shared.knobs.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let rate = shared.knobs.fault_rate();
    if rate > 0.0 && shared.knobs.roll() < rate {
        let path = req.uri().path();
        let crm = crm_of(path);
        let pick = shared.knobs.roll();
        let mut res = if pick < 1.0 / 3.0 {
            server_error(crm)
        } else if pick < 2.0 / 3.0 {
            dropped_connection()
        } else {
            malformed_body(crm)
        };
        // Every App CRM answer names its release, a failing one too.
        if crm == Crm::AppCrm {
            crate::appcrm::stamp_version(&mut res, crate::appcrm::Release::of_path(path));
        }
        return res;
    }
    next.run(req).await
}

fn crm_of(path: &str) -> Crm {
    if path.starts_with("/appcrm") {
        Crm::AppCrm
    } else if path.starts_with("/zurmo") {
        Crm::Zurmo
    } else {
        Crm::Capsule
    }
}

/// The CRM's own 500 answer.
pub(crate) fn server_error(crm: Crm) -> Response {
    match crm {
        Crm::Capsule => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            r#"{"message":"Internal Server Error"}"#,
        ),
        Crm::AppCrm => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            r#"{"message":"Server Error"}"#,
        ),
        Crm::Zurmo => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>PHP Error [500]</h1>\
             <p>Internal server error.</p></body></html>"
                .to_string(),
        ),
    }
}

/// Headers go out, then the body stream fails, so the client sees the connection die mid-reply.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox fault: dropped connection",
        ))
    });
    respond(
        StatusCode::OK,
        "application/json",
        Body::from_stream(stream),
    )
}

/// A 200 whose JSON stops half-way.
fn malformed_body(crm: Crm) -> Response {
    let body = match crm {
        Crm::Capsule => r#"{"users":[{"id":1,"username":"sc"#,
        Crm::AppCrm => r#"{"data":[{"id":1,"name":"Am\u00e9"#,
        Crm::Zurmo => r#"{"status":"SUCCESS","data":{"totalCount":3,"items":[{"id":1,"#,
    };
    respond(StatusCode::OK, "application/json", body)
}

/// The outcome of a rate-limit check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Go ahead; `reset` is the window's end in epoch seconds.
    Allowed {
        limit: u32,
        remaining: u32,
        reset: i64,
    },
    /// Refuse; retry after `retry_after` seconds (at `reset`).
    Limited {
        limit: u32,
        reset: i64,
        retry_after: u64,
    },
}

struct Window {
    started: Instant,
    started_epoch: i64,
    count: u32,
}

/// Fixed-window counters per (CRM, caller), plus forced windows per CRM.
#[derive(Default)]
pub struct RateLimiter {
    forced: Mutex<[Option<Instant>; 3]>,
    windows: Mutex<HashMap<(Crm, String), Window>>,
}

impl RateLimiter {
    /// Makes every call of `crm` answer 429 for `for_` (zero lifts it).
    pub fn force(&self, crm: Crm, for_: Duration) {
        let mut forced = self
            .forced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        forced[crm.index()] = (!for_.is_zero()).then(|| Instant::now() + for_);
    }

    /// Forgets every counter and forced window.
    pub fn clear(&self) {
        *self
            .forced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = [None; 3];
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Counts one call by `caller` against `limit` calls per `window`.
    pub fn check(&self, crm: Crm, caller: &str, limit: u32, window: Duration) -> Decision {
        let now = Instant::now();
        let now_epoch = clock::now();
        let forced = self
            .forced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)[crm.index()];
        if let Some(until) = forced.filter(|until| *until > now) {
            let left = until.duration_since(now);
            let retry_after = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Decision::Limited {
                limit,
                reset: now_epoch + i64::try_from(retry_after).unwrap_or(0),
                retry_after,
            };
        }
        let window_secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = windows
            .entry((crm, caller.to_string()))
            .or_insert_with(|| Window {
                started: now,
                started_epoch: now_epoch,
                count: 0,
            });
        if now.duration_since(entry.started) >= window {
            *entry = Window {
                started: now,
                started_epoch: now_epoch,
                count: 0,
            };
        }
        let reset = entry.started_epoch.saturating_add(window_secs);
        if entry.count >= limit {
            let left = window.saturating_sub(now.duration_since(entry.started));
            let retry_after = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
            return Decision::Limited {
                limit,
                reset,
                retry_after,
            };
        }
        entry.count += 1;
        Decision::Allowed {
            limit,
            remaining: limit - entry.count,
            reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_then_limits() {
        let limiter = RateLimiter::default();
        let minute = Duration::from_secs(60);
        for expected in (0..3).rev() {
            match limiter.check(Crm::AppCrm, "1", 3, minute) {
                Decision::Allowed { remaining, .. } => assert_eq!(remaining, expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(matches!(
            limiter.check(Crm::AppCrm, "1", 3, minute),
            Decision::Limited { .. }
        ));
        assert!(matches!(
            limiter.check(Crm::AppCrm, "2", 3, minute),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check(Crm::Capsule, "1", 3, minute),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn forced_window_limits_everyone() {
        let limiter = RateLimiter::default();
        limiter.force(Crm::Zurmo, Duration::from_secs(30));
        match limiter.check(Crm::Zurmo, "x", 100, Duration::from_secs(60)) {
            Decision::Limited { retry_after, .. } => assert!((29..=30).contains(&retry_after)),
            other => panic!("unexpected {other:?}"),
        }
        limiter.force(Crm::Zurmo, Duration::ZERO);
        assert!(matches!(
            limiter.check(Crm::Zurmo, "x", 100, Duration::from_secs(60)),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn fault_rate_is_clamped() {
        let knobs = Knobs::new(Duration::ZERO, 7.0, 1);
        assert_eq!(knobs.fault_rate(), 1.0);
        knobs.set_fault_rate(f64::NAN);
        assert_eq!(knobs.fault_rate(), 0.0);
    }
}
