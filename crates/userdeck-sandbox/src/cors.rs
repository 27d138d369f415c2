//! CORS, off by default like the real CRMs; `--cors` lets a browser origin call directly.
//!
//! Preflights are answered here, before any CRM handler (or fault) sees them, and every answer
//! exposes the headers a client needs to read (paging links, rate limits).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::request::{empty, set_header};
use crate::{Cors, Shared};

const EXPOSED: &str = "Link, X-Pagination-Has-More, X-RateLimit-Limit, X-RateLimit-Remaining, \
                       X-RateLimit-Reset, Retry-After, X-App-Version, WWW-Authenticate, Location";
/// [`EXPOSED`] without `X-App-Version`, while the `cors` switch hides it.
const EXPOSED_BUT_VERSION: &str = "Link, X-Pagination-Has-More, X-RateLimit-Limit, \
                                   X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, \
                                   WWW-Authenticate, Location";

fn allowed(cors: &Cors, origin: &str) -> Option<String> {
    match cors {
        Cors::Off => None,
        Cors::Any => Some("*".to_string()),
        Cors::Origins(list) => list.iter().any(|o| o == origin).then(|| origin.to_string()),
    }
}

/// Adds CORS headers for allowed origins and answers their preflights.
pub(crate) async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // The `cors` switch refuses the CRMs' calls, never its own: a page that turned it off can
    // turn it on again.
    let switched_off = !shared.knobs.cors_allowed() && !req.uri().path().starts_with("/_sandbox/");
    let Some(allow) = origin
        .as_deref()
        .filter(|_| !switched_off)
        .and_then(|o| allowed(&shared.config.cors, o))
    else {
        return next.run(req).await;
    };
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if is_preflight {
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut res = empty(StatusCode::NO_CONTENT);
        set_header(
            &mut res,
            "access-control-allow-methods",
            "GET, POST, PUT, DELETE, OPTIONS",
        );
        if !requested.is_empty() {
            set_header(&mut res, "access-control-allow-headers", &requested);
        }
        set_header(&mut res, "access-control-max-age", "600");
        res
    } else {
        next.run(req).await
    };
    set_header(&mut res, "access-control-allow-origin", &allow);
    let exposed = if shared.knobs.app_version_exposed() {
        EXPOSED
    } else {
        EXPOSED_BUT_VERSION
    };
    set_header(&mut res, "access-control-expose-headers", exposed);
    if allow != "*" {
        set_header(&mut res, "vary", "Origin");
    }
    res
}
