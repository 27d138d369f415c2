//! The one error type of the client: every failure a CRM, the network or a decoder can produce,
//! classified so the UI can act on it (sign in again, show field errors, wait, retry, report).

use std::collections::BTreeMap;

/// How a transport's timeout begins its `Network` message ("no answer within 30 s").
const NO_ANSWER: &str = "no answer within";

/// Field path (`"email"`, `"primaryEmail.emailAddress"`) to the server's messages for it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Why a call failed, in terms the UI can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The token or API key was rejected (HTTP 401): ask for new credentials.
    #[error("not authorised: {message}")]
    Unauthorized { message: String },
    /// A session that worked before has expired (Zurmo "Sign in required."): sign in again.
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// A sign-in with username/email and password was refused.
    #[error("sign-in refused: {message}")]
    InvalidCredentials { message: String },
    /// Authenticated but not allowed (missing scope, not super admin, no API access).
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    /// The user (or route) does not exist.
    #[error("not found: {message}")]
    NotFound { message: String },
    /// The server rejected the input; `fields` maps field paths to messages (nested paths flattened
    /// with dots). Messages that belong to no field are under the key `""`.
    #[error("validation failed: {message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    /// Too many requests: nothing should be sent before `until_ms` (unix milliseconds).
    #[error("rate limited until {until_ms} ms")]
    RateLimited { until_ms: u64, message: String },
    /// The request conflicts with the server's state (e.g. deleting your own account).
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// The server failed or answered with something unexpected for the status.
    #[error("upstream error {status}: {message}")]
    Upstream { status: u16, message: String },
    /// The request never got an HTTP answer (DNS, connection, CORS, timeout).
    #[error("network error: {message}")]
    Network { message: String },
    /// The answer was not what the reference says; `snippet` is a short excerpt of the body.
    #[error("could not decode {what}: {snippet}")]
    Decode { what: String, snippet: String },
    /// The query was refused before sending: it is malformed (e.g. a Zurmo search structure that
    /// names a condition that does not exist or has unbalanced parentheses). `message` says why.
    #[error("invalid query: {message}")]
    InvalidQuery { message: String },
    /// The connection's CRM cannot do this (see `Capabilities`), or the query cannot be expressed.
    #[error("not supported: {message}")]
    Unsupported { message: String },
    /// The OAuth server returned an error (`access_denied`, `invalid_grant`, …).
    #[error("OAuth error {error}: {}", description.as_deref().unwrap_or(""))]
    OAuth {
        error: String,
        description: Option<String>,
    },
    /// The OAuth callback's `state` did not match ours: possible CSRF, never continue.
    #[error("OAuth state mismatch")]
    OAuthStateMismatch,
    /// A newer request superseded this one; its result must not be shown.
    #[error("superseded by a newer request")]
    Cancelled,
}

impl ApiError {
    /// True when signing in again may fix the failure.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            ApiError::Unauthorized { .. } | ApiError::SessionExpired
        )
    }

    /// Messages for one field path, empty when the error is not a validation error.
    pub fn field_messages(&self, path: &str) -> &[String] {
        match self {
            ApiError::Validation { fields, .. } => {
                fields.get(path).map(Vec::as_slice).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    /// What a transport answers when nothing came back within `timeout`: "no answer within
    /// 30 s" (or "… 300 ms"). Whole numbers only: formatting a float would add ~8 KB gzipped to
    /// the browser bundle, a `u128` its wide division.
    pub fn no_answer(timeout: std::time::Duration) -> ApiError {
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let within = if millis.is_multiple_of(1000) {
            format!("{} s", millis / 1000)
        } else {
            format!("{millis} ms")
        };
        ApiError::Network {
            message: format!("{NO_ANSWER} {within}"),
        }
    }

    /// A network failure because nothing answered in time ([`ApiError::no_answer`]), as opposed
    /// to a refused or failed connection.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ApiError::Network { message } if message.starts_with(NO_ANSWER))
    }

    /// Worth retrying the same request after a pause (5xx and network failures).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network { .. } => true,
            ApiError::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Builds a `Decode` error with a short, char-boundary-safe excerpt of the offending body.
    pub fn decode(what: impl Into<String>, body: &[u8]) -> ApiError {
        ApiError::Decode {
            what: what.into(),
            snippet: snippet(body),
        }
    }
}

/// First ~120 characters of a body, lossily decoded, for error messages and logs.
pub fn snippet(body: &[u8]) -> String {
    const MAX: usize = 120;
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}
