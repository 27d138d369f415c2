//! Capsule's OAuth 2.0 server: authorisation code with `state` and PKCE, token, revoke.
//!
//! The consent page is a real HTML form (Allow / Deny) that 302s back to the client. Parameters
//! are kept server-side between the page and the POST, so the form carries only an opaque
//! request id and cannot be tampered with. Codes are single-use and short-lived; a replayed code
//! also revokes what it issued (RFC 6749 §4.1.2). Refresh tokens rotate on every use.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::ojson::J;
use crate::request::{ApiRequest, empty, escape_html, html, json, set_header};
use crate::{Shared, demo, obj, urlcoding};

/// Scopes Capsule knows.
const SCOPES: &[&str] = &["read", "write", "user_preference"];
/// Pending consent pages kept at most (older ones are dropped first).
const MAX_PENDING: usize = 10_000;
/// How long a consent page stays usable.
const PENDING_TTL_SECS: u64 = 600;
/// The Capsule user who "logs in" on the consent page.
const CONSENTING_USER: u64 = 1;

struct Pending {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    challenge: Option<(String, String)>,
    created: Instant,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<(String, String)>,
    expires: Instant,
    used: bool,
    issued: Vec<String>,
}

struct Access {
    user_id: u64,
    scope: String,
    expires: Instant,
}

struct Refresh {
    client_id: String,
    user_id: u64,
    scope: String,
}

#[derive(Default)]
struct Inner {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    /// refresh token -> access tokens issued with it (revoking one revokes the family)
    family: HashMap<String, Vec<String>>,
}

/// Live OAuth state (memory only: a restart logs every OAuth client out, like a key rotation).
#[derive(Default)]
pub struct OAuthState(Mutex<Inner>);

impl OAuthState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user and scope an access token carries, if it is live.
    pub fn user_for(&self, token: &str) -> Option<(u64, String)> {
        let inner = self.lock();
        inner
            .access
            .get(token)
            .filter(|a| a.expires > Instant::now())
            .map(|a| (a.user_id, a.scope.clone()))
    }

    /// Invalidates every access token (refresh tokens stay usable).
    pub fn expire_access_tokens(&self) {
        self.lock().access.clear();
    }

    /// Forgets everything.
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone, Copy, PartialEq)]
enum ClientKind {
    Confidential,
    Public,
}

fn client_kind(client_id: &str) -> Option<ClientKind> {
    if client_id == demo::OAUTH_CLIENT_ID {
        Some(ClientKind::Confidential)
    } else if client_id == demo::OAUTH_PUBLIC_CLIENT_ID {
        Some(ClientKind::Public)
    } else {
        None
    }
}

/// Only loopback `http` redirect URIs are registered for the demo clients (RFC 8252 §7.3).
fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    if uri.contains('#') {
        return false;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = if let Some(v6) = authority.strip_prefix("[::1]") {
        ("[::1]", v6)
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
        });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok
}

fn redirect(to: &str) -> Response {
    let mut res = empty(StatusCode::FOUND);
    set_header(&mut res, "location", to);
    set_header(&mut res, "cache-control", "no-store");
    res
}

fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = redirect_uri.to_string();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&urlcoding::encode(v));
        sep = '&';
    }
    url
}

fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(&with_params(redirect_uri, &params))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let mut res = html(
        status,
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} – Capsule (sandbox)</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}\
             button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}}</style></head>\
             <body><h1>{t}</h1>{body}</body></html>",
            t = escape_html(title)
        ),
    );
    set_header(&mut res, "cache-control", "no-store");
    set_header(&mut res, "x-frame-options", "DENY");
    set_header(
        &mut res,
        // No `form-action`: Chrome applies it to the redirect after the form, which would block
        // the 302 back to the client's redirect_uri.
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    res
}

fn valid_challenge(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `GET|POST /oauth/authorise`: the consent page and its answer.
pub(crate) fn authorise(shared: &Shared, req: &ApiRequest) -> Response {
    if req.method == Method::POST {
        return decide(shared, req);
    }
    if req.method != Method::GET {
        return page(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", "");
    }
    let q = req.query_pairs();
    let get = |k: &str| urlcoding::last(&q, k).filter(|v| !v.is_empty());
    let Some(client_id) = get("client_id") else {
        return page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "<p>client_id is missing.</p>",
        );
    };
    let Some(kind) = client_kind(client_id) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "<p>No application is registered with this client_id.</p>",
        );
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|r| is_loopback_redirect(r)) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI",
            "<p>The redirect_uri is missing or not registered for this application.</p>",
        );
    };
    let state = get("state");
    if get("response_type") != Some("code") {
        return error_redirect(
            redirect_uri,
            "unsupported_response_type",
            "Only response_type=code is supported",
            state,
        );
    }
    let scope = get("scope")
        .unwrap_or("read")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    if scope.is_empty() || scope.iter().any(|s| !SCOPES.contains(s)) {
        return error_redirect(
            redirect_uri,
            "invalid_scope",
            "The requested scope is invalid",
            state,
        );
    }
    let challenge = match (
        get("code_challenge"),
        get("code_challenge_method").unwrap_or("plain"),
    ) {
        (None, _) if kind == ClientKind::Public => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "code_challenge is required for this client",
                state,
            );
        }
        (None, _) => None,
        (Some(c), m @ ("S256" | "plain")) if valid_challenge(c) => {
            Some((m.to_string(), c.to_string()))
        }
        (Some(_), "S256" | "plain") => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "code_challenge is malformed",
                state,
            );
        }
        (Some(_), _) => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "Unsupported code_challenge_method",
                state,
            );
        }
    };
    let id = random_token();
    let scope = scope.join(" ");
    {
        let mut inner = shared.oauth.lock();
        inner
            .pending
            .retain(|_, p| p.created.elapsed().as_secs() < PENDING_TTL_SECS);
        if inner.pending.len() >= MAX_PENDING {
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "<p>Too many pending authorisations; try again later.</p>",
            );
        }
        inner.pending.insert(
            id.clone(),
            Pending {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                scope: scope.clone(),
                state: state.map(str::to_string),
                challenge,
                created: Instant::now(),
            },
        );
    }
    let user = shared
        .stores
        .capsule()
        .users
        .iter()
        .find(|u| u.id == CONSENTING_USER)
        .map(|u| u.username.clone())
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Authorise access",
        &format!(
            "<p>The application <strong>{client}</strong> wants <strong>{scope}</strong> access to your \
             Capsule account <strong>{user}</strong>.</p><p>It will be sent back to <code>{uri}</code>.</p>\
             <form method=\"post\" action=\"authorise\"><input type=\"hidden\" name=\"request\" value=\"{id}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            client = escape_html(client_id),
            scope = escape_html(&scope),
            user = escape_html(&user),
            uri = escape_html(redirect_uri),
        ),
    )
}

fn decide(shared: &Shared, req: &ApiRequest) -> Response {
    let form = urlcoding::pairs(&String::from_utf8_lossy(&req.body));
    let id = urlcoding::last(&form, "request").unwrap_or("");
    let pending = shared.oauth.lock().pending.remove(id);
    let Some(p) = pending.filter(|p| p.created.elapsed().as_secs() < PENDING_TTL_SECS) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Request expired",
            "<p>This authorisation request is unknown or has expired. Start again from the application.</p>",
        );
    };
    if urlcoding::last(&form, "decision") != Some("allow") {
        return error_redirect(
            &p.redirect_uri,
            "access_denied",
            "The user denied access",
            p.state.as_deref(),
        );
    }
    let code = random_token();
    let mut inner = shared.oauth.lock();
    let now = Instant::now();
    inner.codes.retain(|_, c| c.expires > now);
    inner.codes.insert(
        code.clone(),
        Code {
            client_id: p.client_id,
            redirect_uri: p.redirect_uri.clone(),
            scope: p.scope,
            challenge: p.challenge,
            expires: Instant::now() + shared.config.oauth_code_ttl,
            used: false,
            issued: Vec::new(),
        },
    );
    drop(inner);
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = p.state.as_deref() {
        params.push(("state", state));
    }
    redirect(&with_params(&p.redirect_uri, &params))
}

/// An RFC 6749 §5.2 error.
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut res = json(
        status,
        &obj! { "error" => error, "error_description" => description },
    );
    set_header(&mut res, "cache-control", "no-store");
    set_header(&mut res, "pragma", "no-cache");
    if status == StatusCode::UNAUTHORIZED {
        set_header(&mut res, "www-authenticate", "Basic realm=\"Capsule\"");
    }
    res
}

/// Form or JSON body parameters of the token and revoke endpoints.
fn params(req: &ApiRequest) -> Result<Vec<(String, String)>, Response> {
    if req.content_type() == "application/json" {
        let value: serde_json::Value = serde_json::from_slice(&req.body).map_err(|_| {
            token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body is not valid JSON",
            )
        })?;
        let Some(map) = value.as_object() else {
            return Err(token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body must be a JSON object",
            ));
        };
        Ok(map
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect())
    } else {
        Ok(urlcoding::pairs(&String::from_utf8_lossy(&req.body)))
    }
}

/// Authenticates the client by HTTP Basic or by body parameters; returns its id.
fn client(req: &ApiRequest, params: &[(String, String)]) -> Result<String, Response> {
    let invalid = || {
        token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        )
    };
    let basic = req
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, b64)| b64.trim().to_string());
    let (id, secret) = if let Some(b64) = basic {
        let decoded = STANDARD.decode(b64).map_err(|_| invalid())?;
        let text = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (id, secret) = text.split_once(':').ok_or_else(invalid)?;
        (
            urlcoding::decode(id, true),
            Some(urlcoding::decode(secret, true)),
        )
    } else {
        let id = urlcoding::last(params, "client_id").ok_or_else(|| {
            token_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client_id is required",
            )
        })?;
        (
            id.to_string(),
            urlcoding::last(params, "client_secret").map(str::to_string),
        )
    };
    match client_kind(&id) {
        Some(ClientKind::Confidential) if secret.as_deref() == Some(demo::OAUTH_CLIENT_SECRET) => {
            Ok(id)
        }
        Some(ClientKind::Public) => Ok(id),
        _ => Err(invalid()),
    }
}

/// `POST /oauth/token`: authorization_code and refresh_token grants.
pub(crate) fn token(shared: &Shared, req: &ApiRequest) -> Response {
    if req.method != Method::POST {
        return token_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Use POST",
        );
    }
    let params = match params(req) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let client_id = match client(req, &params) {
        Ok(id) => id,
        Err(res) => return res,
    };
    let get = |k: &str| urlcoding::last(&params, k).filter(|v| !v.is_empty());
    match get("grant_type") {
        None => token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required",
        ),
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (get("code"), get("redirect_uri")) else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code and redirect_uri are required",
                );
            };
            exchange_code(shared, &client_id, code, redirect_uri, get("code_verifier"))
        }
        Some("refresh_token") => {
            let Some(refresh) = get("refresh_token") else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            refresh_grant(shared, &client_id, refresh)
        }
        Some(_) => token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported",
        ),
    }
}

fn exchange_code(
    shared: &Shared,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Response {
    let invalid = |why: &str| token_error(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let mut inner = shared.oauth.lock();
    let Some(entry) = inner.codes.get_mut(code) else {
        return invalid("The authorization code is invalid or has expired");
    };
    if entry.used {
        let issued = std::mem::take(&mut entry.issued);
        for token in issued {
            inner.access.remove(&token);
            inner.refresh.remove(&token);
            inner.family.remove(&token);
        }
        return invalid("The authorization code has already been used");
    }
    entry.used = true;
    if entry.expires <= Instant::now() {
        return invalid("The authorization code is invalid or has expired");
    }
    if entry.client_id != client_id {
        return invalid("The authorization code was issued to another client");
    }
    if entry.redirect_uri != redirect_uri {
        return invalid("redirect_uri does not match the authorisation request");
    }
    let pkce_ok = match (&entry.challenge, verifier) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some((method, challenge)), Some(verifier)) => {
            valid_challenge(verifier)
                && if method == "S256" {
                    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *challenge
                } else {
                    verifier == challenge
                }
        }
    };
    if !pkce_ok {
        return invalid("PKCE verification failed");
    }
    let scope = entry.scope.clone();
    let (body, access, refresh) = issue(shared, &mut inner, client_id, CONSENTING_USER, &scope);
    if let Some(entry) = inner.codes.get_mut(code) {
        entry.issued = vec![access, refresh];
    }
    // Used codes are kept until they expire, to recognise replays; drop the stale ones.
    let now = Instant::now();
    inner.codes.retain(|_, c| c.expires > now);
    body
}

fn refresh_grant(shared: &Shared, client_id: &str, refresh: &str) -> Response {
    let mut inner = shared.oauth.lock();
    let Some(old) = inner
        .refresh
        .get(refresh)
        .filter(|r| r.client_id == client_id)
    else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token is invalid",
        );
    };
    let (user_id, scope) = (old.user_id, old.scope.clone());
    inner.refresh.remove(refresh);
    inner.family.remove(refresh);
    issue(shared, &mut inner, client_id, user_id, &scope).0
}

fn issue(
    shared: &Shared,
    inner: &mut Inner,
    client_id: &str,
    user_id: u64,
    scope: &str,
) -> (Response, String, String) {
    let now = Instant::now();
    inner.access.retain(|_, a| a.expires > now);
    let access = random_token();
    let refresh = random_token();
    let ttl = shared.config.oauth_token_ttl;
    inner.access.insert(
        access.clone(),
        Access {
            user_id,
            scope: scope.to_string(),
            expires: now + ttl,
        },
    );
    inner.refresh.insert(
        refresh.clone(),
        Refresh {
            client_id: client_id.to_string(),
            user_id,
            scope: scope.to_string(),
        },
    );
    inner.family.insert(refresh.clone(), vec![access.clone()]);
    let mut res = json(
        StatusCode::OK,
        &obj! {
            "access_token" => access.as_str(),
            "token_type" => "bearer",
            "expires_in" => ttl.as_secs(),
            "refresh_token" => refresh.as_str(),
            "scope" => scope,
            "subdomain" => "sandbox",
        },
    );
    set_header(&mut res, "cache-control", "no-store");
    set_header(&mut res, "pragma", "no-cache");
    (res, access, refresh)
}

/// `POST /oauth/revoke` (and `/oauth/token/revoke`): RFC 7009, always 200 for a known client.
pub(crate) fn revoke(shared: &Shared, req: &ApiRequest) -> Response {
    if req.method != Method::POST {
        return token_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Use POST",
        );
    }
    let params = match params(req) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let client_id = match client(req, &params) {
        Ok(id) => id,
        Err(res) => return res,
    };
    let Some(token) = urlcoding::last(&params, "token").filter(|t| !t.is_empty()) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    let mut inner = shared.oauth.lock();
    inner.access.remove(token);
    if inner
        .refresh
        .get(token)
        .is_some_and(|r| r.client_id == client_id)
    {
        inner.refresh.remove(token);
        for access in inner.family.remove(token).unwrap_or_default() {
            inner.access.remove(&access);
        }
    }
    let mut res = empty(StatusCode::OK);
    set_header(&mut res, "cache-control", "no-store");
    res
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), URLs built from the Host header.
pub(crate) fn metadata(req: &ApiRequest) -> Response {
    let base = format!("{}/capsule", req.origin);
    let list = |items: &[&str]| J::Arr(items.iter().map(|s| J::from(*s)).collect());
    json(
        StatusCode::OK,
        &obj! {
            "issuer" => base.as_str(),
            "authorization_endpoint" => format!("{base}/oauth/authorise"),
            "token_endpoint" => format!("{base}/oauth/token"),
            "revocation_endpoint" => format!("{base}/oauth/revoke"),
            "response_types_supported" => list(&["code"]),
            "response_modes_supported" => list(&["query"]),
            "grant_types_supported" => list(&["authorization_code", "refresh_token"]),
            "code_challenge_methods_supported" => list(&["plain", "S256"]),
            "token_endpoint_auth_methods_supported" => list(&["client_secret_basic", "client_secret_post"]),
            "revocation_endpoint_auth_methods_supported" => list(&["client_secret_basic", "client_secret_post"]),
            "scopes_supported" => list(SCOPES),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_only() {
        assert!(is_loopback_redirect("http://127.0.0.1:8080/callback"));
        assert!(is_loopback_redirect("http://localhost:3000/oauth/cb?x=1"));
        assert!(is_loopback_redirect("http://[::1]:9/cb"));
        assert!(is_loopback_redirect("http://localhost/cb"));
        assert!(!is_loopback_redirect("https://127.0.0.1/cb"));
        assert!(!is_loopback_redirect("http://evil.example/cb"));
        assert!(!is_loopback_redirect("http://127.0.0.1.evil.example/cb"));
        assert!(!is_loopback_redirect("http://localhost@evil.example/cb"));
        assert!(!is_loopback_redirect("http://localhost:80x/cb"));
        assert!(!is_loopback_redirect("http://localhost:1/cb#frag"));
    }
}
