//! Rate-limit awareness, pure: remembers the quota the last response reported and decides how
//! long to wait before the next request so bulk work spreads over the window instead of hitting
//! a 429 (Capsule: 4,000/hour with `X-RateLimit-Reset`; App CRM: 90/minute, no reset header on
//! normal responses, so the worst case — a full minute — is assumed).

use serde::{Deserialize, Serialize};

use crate::http::HttpResponse;
use crate::model::Provider;

/// The quota as last reported by the server, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub limit: Option<u64>,
    pub remaining: u64,
    /// When the window resets (unix ms): reported, or assumed from the window length.
    pub reset_at_ms: u64,
    /// Whether `reset_at_ms` came from the server rather than an assumption.
    pub reset_reported: bool,
    pub observed_at_ms: u64,
}

/// Tracks one connection's quota and paces requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimiter {
    window_ms: u64,
    quota: Option<Quota>,
    blocked_until_ms: u64,
}

impl RateLimiter {
    /// A limiter for a window of `window_ms` (used when the server does not report resets).
    pub fn new(window_ms: u64) -> RateLimiter {
        RateLimiter {
            window_ms,
            quota: None,
            blocked_until_ms: 0,
        }
    }

    /// The documented window per provider (Zurmo has no limit; its window is irrelevant).
    pub fn for_provider(provider: Provider) -> RateLimiter {
        RateLimiter::new(match provider {
            Provider::Capsule => 3_600_000,
            Provider::AppCrm | Provider::Zurmo => 60_000,
        })
    }

    /// Records the rate-limit headers of a response received at `at_ms`.
    pub fn observe(&mut self, resp: &HttpResponse, at_ms: u64) {
        let Some(remaining) = resp.header_u64("X-RateLimit-Remaining") else {
            return;
        };
        let reported = resp
            .header_u64("X-RateLimit-Reset")
            .map(|s| s.saturating_mul(1000))
            .filter(|r| *r > at_ms);
        self.quota = Some(Quota {
            limit: resp.header_u64("X-RateLimit-Limit"),
            remaining,
            reset_at_ms: reported.unwrap_or(at_ms.saturating_add(self.window_ms)),
            reset_reported: reported.is_some(),
            observed_at_ms: at_ms,
        });
    }

    /// Records a 429: nothing may be sent before `until_ms`.
    pub fn block_until(&mut self, until_ms: u64) {
        self.blocked_until_ms = self.blocked_until_ms.max(until_ms);
    }

    /// The last reported quota, if the server reports one.
    pub fn quota(&self) -> Option<Quota> {
        self.quota
    }

    /// Milliseconds to wait before sending the next request at `now_ms`: zero while the quota is
    /// comfortable; once it runs low, the rest of the window divided by the requests left; the
    /// whole rest of the window when nothing is left or a 429 said so.
    pub fn delay_before_next(&self, now_ms: u64) -> u64 {
        if self.blocked_until_ms > now_ms {
            return self.blocked_until_ms - now_ms;
        }
        let Some(q) = self.quota else { return 0 };
        if now_ms >= q.reset_at_ms {
            return 0;
        }
        let left_ms = q.reset_at_ms - now_ms;
        // Keep one request in reserve for the user's own clicks while bulk work runs.
        let usable = q.remaining.saturating_sub(1);
        if usable == 0 {
            return left_ms;
        }
        let low_water = q.limit.map(|l| (l / 10).max(5)).unwrap_or(10);
        if q.remaining > low_water {
            0
        } else {
            left_ms / usable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(limit: u64, remaining: u64, reset_s: Option<u64>) -> HttpResponse {
        let r = HttpResponse::new(200, "")
            .with_header("X-RateLimit-Limit", limit.to_string())
            .with_header("X-RateLimit-Remaining", remaining.to_string());
        match reset_s {
            Some(s) => r.with_header("X-RateLimit-Reset", s.to_string()),
            None => r,
        }
    }

    #[test]
    fn no_delay_while_quota_is_comfortable() {
        let mut l = RateLimiter::for_provider(Provider::Capsule);
        assert_eq!(l.delay_before_next(0), 0);
        l.observe(&resp(4000, 3999, Some(3600)), 0);
        assert_eq!(l.delay_before_next(10), 0);
        assert_eq!(l.quota().unwrap().reset_at_ms, 3_600_000);
    }

    #[test]
    fn spreads_the_last_requests_over_the_window() {
        let mut l = RateLimiter::for_provider(Provider::Capsule);
        l.observe(&resp(4000, 101, Some(1000)), 0);
        assert_eq!(l.delay_before_next(0), 10_000);
        l.observe(&resp(4000, 1, Some(1000)), 500_000);
        assert_eq!(l.delay_before_next(500_000), 500_000);
        assert_eq!(l.delay_before_next(1_000_000), 0);
    }

    #[test]
    fn app_crm_assumes_a_full_minute_without_reset() {
        let mut l = RateLimiter::for_provider(Provider::AppCrm);
        l.observe(&resp(90, 5, None), 1_000);
        assert_eq!(l.delay_before_next(1_000), 15_000);
        assert!(!l.quota().unwrap().reset_reported);
    }

    #[test]
    fn a_429_blocks_until_told() {
        let mut l = RateLimiter::for_provider(Provider::AppCrm);
        l.block_until(5_000);
        assert_eq!(l.delay_before_next(1_000), 4_000);
        assert_eq!(l.delay_before_next(6_000), 0);
        l.observe(&HttpResponse::new(200, ""), 7_000);
        assert_eq!(l.quota(), None);
    }
}
