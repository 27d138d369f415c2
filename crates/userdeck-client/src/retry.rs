//! When to retry, pure: 429s are waited out as the server says, 5xx and network failures back
//! off exponentially with jitter (capped), and only idempotent requests are ever repeated.

use crate::error::ApiError;

/// Retry limits; the defaults suit an interactive console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A 429 asking for a longer wait than this is returned to the caller instead.
    pub max_rate_limit_wait_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay_ms: 250,
            max_delay_ms: 8_000,
            max_rate_limit_wait_ms: 120_000,
        }
    }
}

impl RetryPolicy {
    /// Never retry (for callers that handle failures themselves).
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Backoff before retry number `attempt` (0-based): `min(cap, base·2^attempt)`, of which the
    /// upper half is jittered by `random` so clients that failed together do not retry together.
    pub fn backoff_ms(&self, attempt: u32, random: u64) -> u64 {
        let exp = self
            .base_delay_ms
            .saturating_mul(1u64 << attempt.min(32))
            .min(self.max_delay_ms);
        let half = exp / 2;
        half + random % (exp - half + 1)
    }

    /// How long to wait before retrying after `err` on attempt `attempt` (0-based), or `None` to
    /// give up and return the error.
    pub fn decide(
        &self,
        attempt: u32,
        idempotent: bool,
        err: &ApiError,
        now_ms: u64,
        random: u64,
    ) -> Option<u64> {
        if !idempotent || attempt >= self.max_retries {
            return None;
        }
        match err {
            ApiError::RateLimited { until_ms, .. } => {
                let wait = until_ms.saturating_sub(now_ms);
                // A small jitter keeps several tabs from stampeding at the reset instant.
                (wait <= self.max_rate_limit_wait_ms).then(|| wait + random % 250)
            }
            e if e.is_transient() => Some(self.backoff_ms(attempt, random)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped_with_bounded_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ms(0, 0), 125);
        assert_eq!(p.backoff_ms(0, 125), 250);
        assert_eq!(p.backoff_ms(2, 0), 500);
        assert_eq!(p.backoff_ms(30, 0), 4_000);
        assert!(p.backoff_ms(30, u64::MAX) <= 8_000);
        assert!(p.backoff_ms(u32::MAX, 7) <= 8_000);
    }

    #[test]
    fn only_idempotent_transient_or_rate_limited_requests_retry() {
        let p = RetryPolicy::default();
        let e500 = ApiError::Upstream {
            status: 503,
            message: String::new(),
        };
        let net = ApiError::Network {
            message: "reset".into(),
        };
        let rl = ApiError::RateLimited {
            until_ms: 3_000,
            message: String::new(),
        };
        assert!(p.decide(0, true, &e500, 0, 0).is_some());
        assert!(p.decide(0, true, &net, 0, 0).is_some());
        assert_eq!(p.decide(0, true, &rl, 1_000, 0), Some(2_000));
        assert_eq!(p.decide(0, false, &rl, 1_000, 0), None);
        assert_eq!(p.decide(0, false, &e500, 0, 0), None);
        assert_eq!(p.decide(3, true, &e500, 0, 0), None);
        assert_eq!(
            p.decide(
                0,
                true,
                &ApiError::Upstream {
                    status: 400,
                    message: String::new()
                },
                0,
                0
            ),
            None
        );
        assert_eq!(p.decide(0, true, &ApiError::SessionExpired, 0, 0), None);
        let far = ApiError::RateLimited {
            until_ms: 10_000_000,
            message: String::new(),
        };
        assert_eq!(p.decide(0, true, &far, 0, 0), None);
        assert_eq!(RetryPolicy::none().decide(0, true, &net, 0, 0), None);
    }
}
