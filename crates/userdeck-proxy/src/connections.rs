//! `GET /api/connections`: tells the app which connections the proxy offers and how to use each
//! (where to send calls, how to sign in, whether it is ready). Never includes a secret.
//!
//! The same list also travels inside the app's `index.html` ([`embedded`]), so that a first visit
//! starts with its connections instead of asking for them once the wasm runs: that request sat
//! between the app's first render and its first call to a CRM.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use http::header;
use serde::Serialize;

use crate::config::AuthMode;
use crate::server::Shared;

/// The answer's top level.
#[derive(Serialize)]
struct ConnectionList {
    connections: Vec<ConnectionInfo>,
}

/// One connection as the app sees it.
#[derive(Serialize)]
struct ConnectionInfo {
    id: String,
    name: String,
    provider: &'static str,
    /// Where the app sends this CRM's API paths (e.g. `{base_url}/api/v2/users`).
    base_url: String,
    /// `oauth` (sign in via `oauth.start`), `server` (proxy holds credentials), `browser` (the app
    /// sends its own token or Zurmo headers, passed through).
    auth: &'static str,
    /// True when calls will be authenticated without further user action.
    signed_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth: Option<OAuthLinks>,
}

#[derive(Serialize)]
struct OAuthLinks {
    start: String,
    logout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subdomain: Option<String>,
}

/// Lists the configured connections; `signed_in` for OAuth ones comes from the session cookie.
pub async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(declared(&shared, &headers)),
    )
        .into_response()
}

/// The same answer as [`list`], as JSON that can sit inside an HTML `<script>` element: every
/// `<` is written `\u003c` (still the same JSON), so no connection name can close the element.
/// `None` only if it cannot be written, and then the app asks [`list`] as it would on its own.
pub fn embedded(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    serde_json::to_string(&declared(shared, headers))
        .ok()
        .map(|json| json.replace('<', "\\u003c"))
}

/// What this request's session may use.
fn declared(shared: &Shared, headers: &HeaderMap) -> ConnectionList {
    let session = shared.sealer.session(headers);
    let prefix = shared.public_prefix();
    let connections = shared
        .config
        .connections
        .iter()
        .map(|conn| {
            let mode = conn.auth_mode();
            let tokens = session.tokens.get(&conn.id);
            ConnectionInfo {
                id: conn.id.clone(),
                name: conn.name.clone(),
                provider: conn.provider.as_str(),
                base_url: format!("{prefix}/proxy/{}", conn.id),
                auth: mode.as_str(),
                signed_in: match mode {
                    AuthMode::OAuth => tokens.is_some(),
                    AuthMode::Server => true,
                    AuthMode::Browser => false,
                },
                oauth: (mode == AuthMode::OAuth).then(|| OAuthLinks {
                    start: format!("{prefix}/oauth/{}/start", conn.id),
                    logout: format!("{prefix}/oauth/{}/logout", conn.id),
                    subdomain: tokens.and_then(|t| t.subdomain.clone()),
                }),
            }
        })
        .collect();
    ConnectionList { connections }
}
