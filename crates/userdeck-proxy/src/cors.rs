//! Origin policy for the API routes (`/api`, `/proxy`, `/oauth/…/logout`). Only the proxy's own
//! origin and the configured `allowed_origins` may call with credentials; anything else is refused
//! before a byte goes upstream, which is also the CSRF defence for the cookie session. Preflights
//! for allowed origins are answered here and never forwarded.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use std::sync::Arc;

use crate::error::Error;
use crate::server::Shared;

/// Request headers a browser may send through the proxy (the union the three CRMs need).
const ALLOWED_HEADERS: &str = "accept, accept-language, authorization, content-type, if-match, \
    if-none-match, zurmo_api_request_type, zurmo_auth_password, zurmo_auth_username, zurmo_lang, \
    zurmo_session_id, zurmo_token";

/// Response headers the app must be able to read cross-origin (paging, rate limits, and App
/// CRM's release).
const EXPOSED_HEADERS: &str = "link, location, etag, retry-after, x-app-version, \
    x-pagination-has-more, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset";

/// Which origins may call; built once from the config.
pub struct CorsPolicy {
    allowed: Vec<String>,
    public_origin: Option<String>,
}

/// The verdict on a request's `Origin`.
#[derive(Debug, PartialEq, Eq)]
pub enum OriginVerdict {
    /// No `Origin` header: not a cross-origin browser call (curl, same-origin GET, navigation).
    Absent,
    /// The proxy's own origin: no CORS headers needed.
    SameOrigin,
    /// A configured cross-origin caller: answer with CORS headers for it.
    Allowed(HeaderValue),
}

impl CorsPolicy {
    /// A policy allowing `allowed` (normalised origins) plus the proxy's `public_origin`.
    pub fn new(allowed: Vec<String>, public_origin: Option<String>) -> CorsPolicy {
        CorsPolicy {
            allowed,
            public_origin,
        }
    }

    /// Classifies the request's origin, refusing origins that are neither ours nor allowed.
    /// `host` is the authority the request was sent to (`Host`, or `:authority` over HTTP/2).
    pub fn check(&self, headers: &HeaderMap, host: Option<&str>) -> Result<OriginVerdict, Error> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(OriginVerdict::Absent);
        };
        let text = origin
            .to_str()
            .map_err(|_| Error::OriginNotAllowed("(not text)".into()))?;
        if self.allowed.iter().any(|a| a == text) {
            return Ok(OriginVerdict::Allowed(origin.clone()));
        }
        if self.public_origin.as_deref() == Some(text) || host.is_some_and(|h| same_host(text, h)) {
            return Ok(OriginVerdict::SameOrigin);
        }
        Err(Error::OriginNotAllowed(text.chars().take(100).collect()))
    }

    /// Adds the CORS response headers for an allowed cross-origin caller.
    pub fn decorate(&self, verdict: &OriginVerdict, headers: &mut HeaderMap) {
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        if let OriginVerdict::Allowed(origin) = verdict {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }

    fn preflight(&self, verdict: &OriginVerdict) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        self.decorate(verdict, headers);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        response
    }
}

/// True when the `Origin` names the host the request was sent to. Only the authority is compared
/// because TLS may end at a load balancer in front of the proxy.
fn same_host(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// Middleware applying the policy: refuses foreign origins, answers preflights, decorates the rest.
pub async fn enforce(
    State(shared): State<Arc<Shared>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let verdict = match shared.cors.check(request.headers(), host) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        return shared.cors.preflight(&verdict);
    }
    let mut response = next.run(request).await;
    shared.cors.decorate(&verdict, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        policy: &CorsPolicy,
        origin: Option<&str>,
        host: &str,
    ) -> Result<OriginVerdict, Error> {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        policy.check(&h, Some(host))
    }

    #[test]
    fn origins_are_classified() {
        let policy = CorsPolicy::new(
            vec!["http://app.example".into()],
            Some("https://ud.example".into()),
        );
        assert_eq!(check(&policy, None, "p:1").unwrap(), OriginVerdict::Absent);
        assert_eq!(
            check(&policy, Some("http://p:1"), "p:1").unwrap(),
            OriginVerdict::SameOrigin
        );
        assert_eq!(
            check(&policy, Some("https://ud.example"), "internal:8080").unwrap(),
            OriginVerdict::SameOrigin
        );
        assert!(matches!(
            check(&policy, Some("http://app.example"), "p:1").unwrap(),
            OriginVerdict::Allowed(_)
        ));
        assert!(check(&policy, Some("http://evil.example"), "p:1").is_err());
        assert!(check(&policy, Some("null"), "p:1").is_err());
        assert!(check(&policy, Some("http://p:1.evil"), "p:1").is_err());
    }
}
