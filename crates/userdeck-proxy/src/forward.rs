//! `/proxy/{connection}/{path}`: forwards one browser call to that connection's upstream and
//! nowhere else. The path is checked segment by segment (no dot segments, no encoded separators,
//! no `@` or backslash tricks) and the final URL must still sit under the connection's base URL.
//! Only an allow-list of request headers goes up (never cookies, `Host` or hop-by-hop headers);
//! credentials are injected according to the connection's auth mode. Request bodies are read in
//! full under a size cap and a deadline (so a slow upload cannot hold an upstream slot, and a
//! 401 can be replayed after a token refresh); responses stream back with their status and the
//! headers the app needs, `Link`/`Location` rewritten to point at the proxy.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use crate::config::{AuthMode, Limits, ServerCredentials};
use crate::error::Error;
use crate::server::{Shared, Upstream};
use crate::{oauth, zurmo};

/// Request headers that carry meaning for the CRMs and no credentials.
const FORWARDED: &[&str] = &[
    "accept",
    "accept-language",
    "content-type",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "zurmo_api_request_type",
    "zurmo_lang",
];

/// Credential headers passed through only when the proxy holds no credentials of its own.
const BROWSER_CREDENTIALS: &[&str] = &[
    "authorization",
    "zurmo_auth_password",
    "zurmo_auth_username",
    "zurmo_session_id",
    "zurmo_token",
];

/// Response headers the app needs back (paging, rate limits, caching, content description, and
/// App CRM's release, which decides the fields its forms need).
const RETURNED: &[&str] = &[
    "cache-control",
    "content-encoding",
    "content-language",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "last-modified",
    "retry-after",
    "x-app-version",
    "x-pagination-has-more",
];

/// One upstream call, kept whole so it can be replayed after a refresh or a Zurmo re-login.
#[derive(Clone)]
pub struct Call {
    pub method: Method,
    pub url: Url,
    /// The API path below the base URL, as the browser sent it.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An upstream answer whose body may still be streaming.
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
}

impl From<reqwest::Response> for UpstreamResponse {
    fn from(response: reqwest::Response) -> UpstreamResponse {
        UpstreamResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes_stream().boxed(),
        }
    }
}

/// The `/proxy/{*rest}` handler.
pub async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match forward_request(&shared, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn forward_request(shared: &Arc<Shared>, request: Request) -> Result<Response, Error> {
    let (parts, body) = request.into_parts();
    let raw = parts.uri.path().strip_prefix("/proxy/").unwrap_or_default();
    let (id, rest) = raw.split_once('/').unwrap_or((raw, ""));
    let upstream = shared
        .upstreams
        .get(id)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("no connection named `{}`", printable(id))))?;
    let method = forwardable_method(&parts.method)?;
    let url = target_url(&upstream.conn.base_url, rest, parts.uri.query())?;
    let body = read_body(body, &parts.headers, &shared.config.limits).await?;
    let mode = upstream.conn.auth_mode();
    let call = Call {
        method,
        url,
        path: rest.to_string(),
        headers: request_headers(&parts.headers, mode == AuthMode::Browser),
        body,
    };
    let permit = acquire_slot(shared, &upstream).await?;
    let (result, set_cookie) = match (&upstream.conn.credentials, mode) {
        (_, AuthMode::OAuth) => {
            oauth::send_authorised(shared, &upstream, &call, &parts.headers).await
        }
        (Some(ServerCredentials::Token(token)), _) => {
            let bearer = bearer_header(token.expose())?;
            (
                send(shared, &call, &[(header::AUTHORIZATION, bearer)])
                    .await
                    .map(Into::into),
                None,
            )
        }
        (Some(ServerCredentials::ZurmoLogin { .. }), _) => {
            (zurmo::send(shared, &upstream, &call).await, None)
        }
        (None, _) => (send(shared, &call, &[]).await.map(Into::into), None),
    };
    let mut response = match result {
        Ok(answer) => respond(shared, &upstream, answer, permit),
        Err(error) => error.into_response(),
    };
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

fn forwardable_method(method: &Method) -> Result<Method, Error> {
    match *method {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE => Ok(method.clone()),
        _ => Err(Error::MethodNotAllowed(method.to_string())),
    }
}

/// `Authorization: Bearer …` as a sensitive header value (kept out of debug output).
pub fn bearer_header(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::Internal("the token contains characters not allowed in a header".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

async fn acquire_slot(shared: &Shared, upstream: &Upstream) -> Result<OwnedSemaphorePermit, Error> {
    let wait = shared.config.limits.queue_timeout;
    match tokio::time::timeout(wait, upstream.slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Error::Busy(upstream.conn.id.clone())),
    }
}

/// Builds the upstream URL for `rest` (the raw, still percent-encoded path after the connection
/// id) and proves it stays under `base`.
pub fn target_url(base: &Url, rest: &str, query: Option<&str>) -> Result<Url, Error> {
    check_path(rest)?;
    let base_text = base.as_str().trim_end_matches('/');
    let mut text = format!("{base_text}/{rest}");
    if let Some(query) = query {
        text.push('?');
        text.push_str(query);
    }
    let url = Url::parse(&text)
        .map_err(|_| Error::BadRequest("the path does not form a valid URL".into()))?;
    let base_path = base.path().trim_end_matches('/');
    let same_origin = url.scheme() == base.scheme()
        && url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    if !same_origin || !url.path().starts_with(&format!("{base_path}/")) {
        return Err(Error::BadRequest(
            "the path leaves the connection's upstream".into(),
        ));
    }
    Ok(url)
}

/// Refuses anything that could change the target's meaning once an upstream decodes it.
fn check_path(rest: &str) -> Result<(), Error> {
    if rest.is_empty() {
        return Err(Error::NotFound(
            "name an API path after the connection, e.g. /proxy/{id}/api/…".into(),
        ));
    }
    let bad = |why: &str| Err(Error::BadRequest(format!("refused path: {why}")));
    let segments: Vec<&str> = rest.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() && i + 1 != segments.len() {
            return bad("empty segment");
        }
        if segment
            .bytes()
            .any(|b| matches!(b, b'\\' | b'@') || b.is_ascii_control() || b == b' ')
        {
            return bad("backslash, '@', space or control character");
        }
        // Decode repeatedly: an upstream or a framework in front of it may decode more than once.
        let mut current = segment.to_string();
        for _ in 0..3 {
            let bytes: Vec<u8> = percent_decode_str(&current).collect();
            if bytes
                .iter()
                .any(|b| matches!(b, b'/' | b'\\') || b.is_ascii_control())
            {
                return bad("encoded separator or control character");
            }
            let decoded = String::from_utf8_lossy(&bytes).into_owned();
            let name = decoded.split(';').next().unwrap_or_default();
            if name == "." || name == ".." {
                return bad("dot segment");
            }
            if decoded == current {
                break;
            }
            current = decoded;
        }
    }
    Ok(())
}

async fn read_body(body: Body, headers: &HeaderMap, limits: &Limits) -> Result<Bytes, Error> {
    let max = limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(Error::PayloadTooLarge(max));
    }
    let limited = http_body_util::Limited::new(body, max);
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Err(_) => Err(Error::RequestTimeout(limits.body_timeout.as_millis() as u64)),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Error::PayloadTooLarge(max))
        }
        Ok(Err(_)) => Err(Error::BadRequest(
            "the request body could not be read".into(),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn request_headers(incoming: &HeaderMap, pass_credentials: bool) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        let n = name.as_str();
        if FORWARDED.contains(&n) || (pass_credentials && BROWSER_CREDENTIALS.contains(&n)) {
            let mut value = value.clone();
            if BROWSER_CREDENTIALS.contains(&n) {
                value.set_sensitive(true);
            }
            out.append(name.clone(), value);
        }
    }
    out
}

/// Sends `call` with `extra` headers (credentials), mapping failures to 502/504 errors.
pub async fn send(
    shared: &Shared,
    call: &Call,
    extra: &[(HeaderName, HeaderValue)],
) -> Result<reqwest::Response, Error> {
    let mut headers = call.headers.clone();
    for (name, value) in extra {
        headers.insert(name.clone(), value.clone());
    }
    let mut builder = shared
        .http
        .request(call.method.clone(), call.url.clone())
        .headers(headers);
    if !call.body.is_empty() || matches!(call.method, Method::POST | Method::PUT | Method::PATCH) {
        builder = builder.body(call.body.clone());
    }
    let limits = &shared.config.limits;
    let deadline = limits.connect_timeout + limits.read_timeout;
    match tokio::time::timeout(deadline, builder.send()).await {
        Err(_) => Err(timeout_error(deadline)),
        Ok(Err(e)) => Err(classify(&e, limits)),
        Ok(Ok(response)) => Ok(response),
    }
}

fn timeout_error(after: std::time::Duration) -> Error {
    Error::UpstreamTimeout(format!(
        "the CRM did not answer within {} ms",
        after.as_millis()
    ))
}

/// Maps a client error to the error the browser sees, logging the detail (no URL) for operators.
pub fn classify(error: &reqwest::Error, limits: &Limits) -> Error {
    tracing::warn!(error = %error.to_string().replace(|c: char| c.is_control(), " "), "upstream call failed");
    if error.is_timeout() {
        let after = if error.is_connect() {
            limits.connect_timeout
        } else {
            limits.read_timeout
        };
        timeout_error(after)
    } else if error.is_connect() {
        Error::UpstreamUnreachable("the CRM could not be reached (connection failed)".into())
    } else {
        Error::UpstreamInvalid(
            "the CRM sent a response that is not valid HTTP, or closed the connection".into(),
        )
    }
}

fn respond(
    shared: &Shared,
    upstream: &Upstream,
    answer: UpstreamResponse,
    permit: OwnedSemaphorePermit,
) -> Response {
    let base = upstream
        .conn
        .base_url
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let prefix = format!("{}/proxy/{}", shared.public_prefix(), upstream.conn.id);
    let mut headers = HeaderMap::new();
    for (name, value) in &answer.headers {
        let n = name.as_str();
        let keep = RETURNED.contains(&n) || n.starts_with("x-ratelimit-");
        if keep {
            headers.append(name.clone(), value.clone());
        } else if n == "link" || n == "location" {
            let Ok(text) = value.to_str() else { continue };
            let rewritten = if n == "link" {
                rewrite_link(text, &base, &prefix)
            } else {
                rewrite_url(text, &base, &prefix).unwrap_or_else(|| text.to_string())
            };
            if let Ok(v) = HeaderValue::from_str(&rewritten) {
                headers.append(name.clone(), v);
            }
        } else if n == "www-authenticate"
            && !value.as_bytes().to_ascii_lowercase().starts_with(b"basic")
        {
            // A Basic challenge would make the browser pop up a password dialog; Bearer is harmless.
            headers.append(name.clone(), value.clone());
        }
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // The permit rides along with the body, so the slot is held until the last byte is sent.
    let body = answer.body.map(move |chunk| {
        let _slot = &permit;
        chunk
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = headers;
    response
}

/// Points an upstream URL under `base` at the proxy instead; `None` for any other URL.
fn rewrite_url(url: &str, base: &str, prefix: &str) -> Option<String> {
    let rest = url.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        .then(|| format!("{prefix}{rest}"))
}

/// Rewrites every `<…>` target of an RFC 8288 `Link` header.
fn rewrite_link(value: &str, base: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|i| i + open) else {
            break;
        };
        out.push_str(&rest[..=open]);
        let target = &rest[open + 1..close];
        out.push_str(&rewrite_url(target, base, prefix).unwrap_or_else(|| target.to_string()));
        out.push('>');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Up to 64 printable characters of untrusted text, for error messages.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:9/capsule").unwrap()
    }

    #[test]
    fn targets_stay_under_the_base() {
        assert_eq!(
            target_url(&base(), "api/v2/users", Some("page=2"))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/capsule/api/v2/users?page=2"
        );
        assert_eq!(
            target_url(
                &Url::parse("https://api.capsulecrm.com/").unwrap(),
                "api/v2/users",
                None
            )
            .unwrap()
            .as_str(),
            "https://api.capsulecrm.com/api/v2/users"
        );
        let zurmo = Url::parse("http://h/zurmo/index.php").unwrap();
        let filter =
            "users/user/api/list/filter/pagination%5Bpage%5D=1&pagination%5BpageSize%5D=10";
        assert!(target_url(&zurmo, filter, None).is_ok());
        assert!(target_url(&zurmo, "users/user/api/list/", None).is_ok());
        for evil in [
            "..",
            "../x",
            "api/../../x",
            "%2e%2e/x",
            "%2E%2e/x",
            ".%2e/x",
            "%252e%252e/x",
            "api/%2fetc",
            "api/%5c..",
            "a\\b",
            "@evil.com/x",
            "api//x",
            "api/..;/x",
            "api/%00",
            "api/%0d%0aX-Injected:%20yes",
            "",
        ] {
            assert!(target_url(&base(), evil, None).is_err(), "{evil} accepted");
        }
    }

    #[test]
    fn links_point_at_the_proxy() {
        let link = "<http://127.0.0.1:9/capsule/api/v2/users?page=2&perPage=5>; rel=\"next\", <https://other/x>; rel=\"prev\"";
        assert_eq!(
            rewrite_link(link, "http://127.0.0.1:9/capsule", "/proxy/c"),
            "</proxy/c/api/v2/users?page=2&perPage=5>; rel=\"next\", <https://other/x>; rel=\"prev\""
        );
        assert_eq!(
            rewrite_url(
                "http://127.0.0.1:9/capsulex",
                "http://127.0.0.1:9/capsule",
                "/p"
            ),
            None
        );
    }

    #[test]
    fn only_allowed_headers_go_up() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "userdeck_session=x".parse().unwrap());
        h.insert("host", "evil".parse().unwrap());
        h.insert("x-forwarded-host", "evil".parse().unwrap());
        h.insert("connection", "keep-alive".parse().unwrap());
        h.insert("authorization", "Bearer mine".parse().unwrap());
        h.insert("zurmo_session_id", "s".parse().unwrap());
        h.insert("accept", "application/json".parse().unwrap());
        let out = request_headers(&h, false);
        assert_eq!(out.len(), 1);
        assert!(out.contains_key("accept"));
        let out = request_headers(&h, true);
        assert_eq!(out.len(), 3);
        assert!(out.contains_key("authorization") && out.contains_key("zurmo_session_id"));
    }
}
