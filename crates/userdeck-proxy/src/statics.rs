//! Static hosting of the Trunk `dist/` directory: the files themselves with the right content
//! types (wasm as `application/wasm`), precompressed `.br`/`.gz` siblings when present, a year of
//! caching for content-hashed assets, `no-cache` for `index.html`, and `index.html` for any
//! extension-less path so the app's client-side routes survive a reload. `index.html` carries a
//! strict Content-Security-Policy whose script and style hashes are taken from the file itself,
//! and this request's connection list (`/api/connections`) in a JSON data block the app reads at
//! start (a data block is never run, so the policy needs no hash for it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::error::Error;
use crate::server::Shared;

/// The element id the app looks for (`EMBEDDED_ID` in src/state/connections.rs).
const CONNECTIONS_ELEMENT_ID: &str = "userdeck-connections";

/// The served directory plus the prepared `index.html` and its policy.
pub struct Statics {
    dir: PathBuf,
    index: Bytes,
    /// Where the connection list goes: before `</head>` (else before `<body`, else the end).
    splice_at: usize,
    csp: HeaderValue,
}

impl Statics {
    /// Reads `index.html` once and derives the Content-Security-Policy from it.
    pub fn load(dir: &Path, extra_connect_src: &[String]) -> Result<Statics, Error> {
        let index = std::fs::read(dir.join("index.html")).map_err(|e| {
            Error::config(
                "(static_dir)",
                "static_dir",
                format!("cannot read {}/index.html: {e}", dir.display()),
            )
        })?;
        let text = String::from_utf8_lossy(&index);
        let policy = content_security_policy(&text, extra_connect_src);
        let csp = HeaderValue::from_str(&policy).map_err(|_| {
            Error::config("(static_dir)", "csp_connect_src", "not valid in a header")
        })?;
        // Found in the bytes themselves: offsets in a lossily decoded copy could differ.
        let lower = index.to_ascii_lowercase();
        let find = |tag: &[u8]| lower.windows(tag.len()).position(|w| w == tag);
        let splice_at = find(b"</head>")
            .or_else(|| find(b"<body"))
            .unwrap_or(index.len());
        Ok(Statics {
            dir: dir.to_path_buf(),
            index: Bytes::from(index),
            splice_at,
            csp,
        })
    }

    /// `index.html`, with `connections` (JSON safe inside a `<script>`) spliced in when given.
    fn index_response(&self, method: &Method, connections: Option<String>) -> Response {
        let body = match connections {
            _ if method == Method::HEAD => Body::empty(),
            None => Body::from(self.index.clone()),
            Some(json) => {
                let (before, after) = self.index.split_at(self.splice_at);
                let block = format!(
                    r#"<script id="{CONNECTIONS_ELEMENT_ID}" type="application/json">{json}</script>"#
                );
                Body::from([before, block.as_bytes(), after].concat())
            }
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        response
    }
}

/// Builds the policy: only this origin, wasm compilation allowed, inline blocks only by hash.
fn content_security_policy(index_html: &str, extra_connect_src: &[String]) -> String {
    let scripts = inline_hashes(index_html, "script");
    let styles = inline_hashes(index_html, "style");
    let connect: String = extra_connect_src.iter().map(|s| format!(" {s}")).collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; style-src 'self'{styles}; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'{connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// `'sha256-…'` sources for each inline `<tag>` block (those without `src`), as CSP needs them.
fn inline_hashes(html: &str, tag: &str) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let lower = html.to_ascii_lowercase();
    let mut out = String::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find(&open).map(|i| i + from) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let attributes = &lower[start + open.len()..tag_end];
        if !attributes
            .chars()
            .next()
            .is_none_or(|c| c.is_ascii_whitespace())
        {
            from = tag_end;
            continue;
        }
        let Some(end) = lower[tag_end..].find(&close).map(|i| i + tag_end) else {
            break;
        };
        if !attributes.contains("src=") {
            let content = &html[tag_end + 1..end];
            let digest = Sha256::digest(content.as_bytes());
            out.push_str(&format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = end + close.len();
    }
    out
}

/// True for Trunk's content-hashed names (`app-1a2b3c4d_bg.wasm`), which never change content.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let bytes = name.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        if *b != b'-' {
            return false;
        }
        let run = bytes[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let next = bytes.get(i + 1 + run);
        run >= 6 && matches!(next, None | Some(b'_') | Some(b'.'))
    })
}

/// Fallback handler serving the directory; unknown extension-less paths get `index.html`.
pub async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let Some(statics) = shared.statics.as_ref() else {
        return Error::NotFound("no static directory is configured".into()).into_response();
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = request.uri().path().to_string();
    if path == "/" || path == "/index.html" {
        let connections = crate::connections::embedded(&shared, request.headers());
        return statics.index_response(request.method(), connections);
    }
    let method = request.method().clone();
    let last_segment = path.rsplit('/').next().unwrap_or("");
    // A client-side route (no extension) ends as `index.html`, whose list depends on the session.
    let route_headers = (!last_segment.contains('.')).then(|| request.headers().clone());
    let served = ServeDir::new(&statics.dir)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await;
    let mut response = match served {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        if let Some(headers) = route_headers {
            let connections = crate::connections::embedded(&shared, &headers);
            return statics.index_response(&method, connections);
        }
        return Error::NotFound(format!("no file {path}")).into_response();
    }
    let cache = if is_hashed_asset(&path) && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed_asset("/app-abc123_bg.wasm"));
        assert!(is_hashed_asset("/userdeck-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_asset("/style-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/favicon.ico"));
        assert!(!is_hashed_asset("/my-app.js"));
        assert!(!is_hashed_asset("/app-abc12.js"));
    }

    #[test]
    fn csp_hashes_inline_blocks_only() {
        let html = "<script type=\"module\">init()</script><script src=\"/a.js\"></script><style>b{}</style><scripts>x</scripts>";
        let csp = content_security_policy(html, &["http://127.0.0.1:9".into()]);
        let init_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{init_hash}';"
        )));
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:9;"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
