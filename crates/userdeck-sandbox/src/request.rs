//! The request as the CRM modules see it, and the response builders they share.
//!
//! Bodies are read here with a size limit, so no handler ever buffers an unbounded body, and
//! the request's own origin is worked out once for the absolute URLs some CRMs return.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::ojson::J;
use crate::urlcoding;

/// A buffered API request with the CRM prefix removed from its path.
pub struct ApiRequest {
    pub method: Method,
    /// Raw (still percent-encoded) path after the prefix, e.g. `/api/v2/users`.
    pub path: String,
    /// Raw query string ("" when absent).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body was larger than the limit (and `body` is empty).
    pub body_too_large: bool,
    /// `http://host[:port]` as the client addressed us.
    pub origin: String,
}

impl ApiRequest {
    /// Splits and buffers `req`; `prefix` is `/capsule`, `/appcrm` or `/zurmo`.
    pub async fn read(req: Request, prefix: &str, limit: usize) -> ApiRequest {
        let (parts, body) = req.into_parts();
        let full = parts.uri.path();
        let path = full.strip_prefix(prefix).unwrap_or(full).to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plausible_host(h))
            .unwrap_or("127.0.0.1")
            .to_string();
        let (body, body_too_large) = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => (bytes, false),
            Err(_) => (Bytes::new(), true),
        };
        ApiRequest {
            method: parts.method,
            path,
            query,
            headers: parts.headers,
            body,
            body_too_large,
            origin: format!("http://{host}"),
        }
    }

    /// A header as text: its bytes read as UTF-8, as PHP and Laravel hand them on (so a Zurmo
    /// password `zażółć` sent as its UTF-8 bytes matches); None when absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// The token of an `Authorization: Bearer …` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    /// Decoded query pairs in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        urlcoding::pairs(&self.query)
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Path segments after `base`, percent-decoded (None when the path is not under `base`).
    pub fn segments_after(&self, base: &str) -> Option<Vec<String>> {
        let rest = self.path.strip_prefix(base)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(
            rest.split('/')
                .filter(|s| !s.is_empty())
                .map(|s| urlcoding::decode(s, false))
                .collect(),
        )
    }
}

/// Host headers are echoed into absolute URLs, so only host-name characters pass.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// A response with a body and content type.
pub fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut res = Response::new(body.into());
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A JSON response (serde_json escaping).
pub fn json(status: StatusCode, body: &J) -> Response {
    respond(status, "application/json", body.to_json())
}

/// An HTML response.
pub fn html(status: StatusCode, body: String) -> Response {
    respond(status, "text/html; charset=UTF-8", body)
}

/// An empty response.
pub fn empty(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

/// Adds a header whose value we built ourselves (ignored if it is somehow not a valid value).
pub fn set_header(res: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
