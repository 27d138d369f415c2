//! The OAuth 2.0 authorisation-code flow for Capsule, done the backend-for-frontend way: the proxy
//! is the OAuth client (with its secret and PKCE), the tokens stay in the sealed session cookie,
//! and the browser only ever sees redirects. `/start` seals state + PKCE verifier + return path
//! into a ten-minute cookie; `/callback` checks state, exchanges the code and sends the user back
//! to the app with no code in the URL; calls refresh tokens shortly before expiry and once after a
//! 401; `/logout` revokes and clears. Every failure lands back in the app with a readable reason.
//! The protocol itself (URLs, PKCE, request bodies, parsing) is `userdeck_client::oauth`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{self, HeaderValue};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use url::Url;
use userdeck_client::ApiError;
use userdeck_client::oauth::{self as protocol, OAuthClient, Pkce, TokenSet};

use crate::config::OAuthSettings;
use crate::error::Error;
use crate::exchange::send_value;
use crate::forward::{Call, UpstreamResponse, bearer_header, send};
use crate::server::{Shared, Upstream};
use crate::session::{PendingAuthorisation, Session, StoredTokens, cookie_value, now_secs};

/// Refresh this long before the access token's stated expiry.
const REFRESH_MARGIN_SECS: u64 = 60;
/// How long a user may take at the consent page.
const PENDING_TTL_SECS: u64 = 600;
/// How long a refresh result is shared with concurrent requests that held the same refresh token.
const FLIGHT_TTL: Duration = Duration::from_secs(30);

/// The sans-IO client description for a connection's OAuth settings.
pub fn client_for(settings: &OAuthSettings) -> OAuthClient {
    OAuthClient {
        client_id: settings.client_id.clone(),
        client_secret: settings
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_string()),
        authorise_url: settings.authorise_url.to_string(),
        token_url: settings.token_url.to_string(),
        revoke_url: settings.revoke_url.as_ref().map(Url::to_string),
        redirect_uri: settings.redirect_url.to_string(),
        scope: settings.scopes.clone(),
    }
}

/// Why a refresh did not produce tokens: the grant is dead, or the token endpoint failed.
#[derive(Clone, Debug)]
enum RefreshError {
    Rejected(String),
    Failed(String),
}

type Flight = Arc<OnceCell<Result<TokenSet, RefreshError>>>;

/// Single-flight refreshes: parallel calls holding the same refresh token share one token request,
/// so a rotating refresh token is not spent twice by one browser's burst of requests.
#[derive(Default)]
pub struct RefreshFlights {
    flights: Mutex<HashMap<[u8; 32], (Instant, Flight)>>,
}

impl RefreshFlights {
    async fn run<F, Fut>(&self, refresh_token: &str, refresh: F) -> Result<TokenSet, RefreshError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenSet, RefreshError>>,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.retain(|_, (started, _)| started.elapsed() < FLIGHT_TTL);
            flights
                .entry(key)
                .or_insert_with(|| (Instant::now(), Flight::default()))
                .1
                .clone()
        };
        flight.get_or_init(refresh).await.clone()
    }
}

fn random_token() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn oauth_upstream(shared: &Shared, id: &str) -> Option<(Arc<Upstream>, OAuthClient)> {
    let upstream = shared.upstreams.get(id)?.clone();
    let client = upstream.oauth.clone()?;
    Some((upstream, client))
}

/// Query parameter lookup on a raw query string.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Accepts a root-relative path, or an absolute URL on an allowed origin; anything else is `/`,
/// so the redirect can never be turned into an open redirect.
fn safe_return_to(shared: &Shared, requested: Option<String>) -> String {
    let Some(target) = requested else {
        return "/".into();
    };
    if target.chars().any(|c| c.is_control() || c == '\\') {
        return "/".into();
    }
    if target.starts_with('/') && !target.starts_with("//") {
        return target;
    }
    match Url::parse(&target) {
        Ok(url)
            if shared
                .config
                .allowed_origins
                .contains(&url.origin().ascii_serialization()) =>
        {
            target
        }
        _ => "/".into(),
    }
}

/// `return_to` with the outcome appended as query parameters (before any fragment).
fn with_outcome(return_to: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = match return_to.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (return_to, None),
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{}", query.finish());
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Sends the user back to the app with a readable reason.
fn back_with_error(return_to: &str, id: &str, reason: &str, cookies: &[String]) -> Response {
    tracing::info!(connection = id, reason, "OAuth sign-in failed");
    redirect(
        &with_outcome(
            return_to,
            &[("oauth", "error"), ("connection", id), ("reason", reason)],
        ),
        cookies,
    )
}

/// `GET /oauth/{id}/start[?return_to=/path]`: seal state + PKCE, redirect to the consent page.
pub async fn start(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((_, client)) = oauth_upstream(&shared, &id) else {
        return Error::NotFound("no OAuth connection by that name".into()).into_response();
    };
    let return_to = safe_return_to(&shared, query_param(query.as_deref(), "return_to"));
    let state = base64_url(&random_token());
    let pkce = Pkce::from_random(random_token());
    let pending = PendingAuthorisation {
        state: state.clone(),
        verifier: pkce.verifier.clone(),
        return_to,
    };
    let name = shared.sealer.oauth_state_name(&id);
    let Some(sealed) = shared
        .sealer
        .seal(&name, &pending, now_secs() + PENDING_TTL_SECS)
    else {
        return Error::Internal("could not seal the sign-in state".into()).into_response();
    };
    let cookie =
        shared
            .sealer
            .set_cookie(&name, &sealed, &format!("/oauth/{id}"), PENDING_TTL_SECS);
    redirect(&protocol::authorise_url(&client, &state, &pkce), &[cookie])
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `GET /oauth/{id}/callback?code=…&state=…`: verify, exchange, store, and return to the app.
pub async fn callback(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((upstream, client)) = oauth_upstream(&shared, &id) else {
        return Error::NotFound("no OAuth connection by that name".into()).into_response();
    };
    let crm = upstream.conn.name.as_str();
    let name = shared.sealer.oauth_state_name(&id);
    // The hand-off is single use whatever happens next.
    let clear_pending = shared.sealer.clear_cookie(&name, &format!("/oauth/{id}"));
    let pending: Option<PendingAuthorisation> =
        cookie_value(&headers, &name).and_then(|v| shared.sealer.open(&name, v));
    let Some(pending) = pending else {
        let reason = "The sign-in could not be matched to this browser (it took too long or began elsewhere). Please sign in again.";
        return back_with_error("/", &id, reason, &[clear_pending]);
    };
    let code = match protocol::parse_callback(query.as_deref().unwrap_or_default(), &pending.state)
    {
        Ok(code) => code,
        Err(error) => {
            let reason = match error {
                ApiError::OAuthStateMismatch => {
                    "The sign-in answer did not match the request made from this browser, so it was ignored. Please sign in again.".to_string()
                }
                ApiError::OAuth { error, .. } if error == "access_denied" => {
                    format!("Access to {crm} was not granted.")
                }
                ApiError::OAuth { error, description } => {
                    format!("{crm} refused the sign-in: {}", description.unwrap_or(error))
                }
                _ => format!("{crm} sent the user back without an authorisation code."),
            };
            return back_with_error(&pending.return_to, &id, &reason, &[clear_pending]);
        }
    };
    let request = protocol::exchange_code_request(&client, &code, &pending.verifier);
    let tokens = match send_value(&shared.http, request, &shared.config.limits).await {
        Err(e) => Err(format!("{crm}'s token endpoint could not be used: {e}")),
        Ok(answer) => protocol::parse_token_response(&answer).map_err(|e| match e {
            ApiError::OAuth { error, description } if error == "invalid_grant" => format!(
                "{crm} did not accept the sign-in code (it may have been used already or expired). Please sign in again.{}",
                description.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            other => format!("{crm} did not issue tokens: {other}"),
        }),
    };
    match tokens {
        Err(reason) => back_with_error(&pending.return_to, &id, &reason, &[clear_pending]),
        Ok(tokens) => {
            let mut session = shared.sealer.session(&headers);
            session.tokens.insert(id.clone(), stored(tokens, None));
            let cookie = shared
                .sealer
                .store_session(&session, shared.config.session_ttl.as_secs());
            tracing::info!(connection = %id, "OAuth sign-in complete");
            let location = with_outcome(
                &pending.return_to,
                &[("oauth", "signed_in"), ("connection", &id)],
            );
            redirect(&location, &[clear_pending, cookie])
        }
    }
}

/// `GET|POST /oauth/{id}/logout[?return_to=/path]`: revoke the tokens and forget them.
/// Answers JSON to `Accept: application/json` callers, otherwise redirects back to the app.
pub async fn logout(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((_, client)) = oauth_upstream(&shared, &id) else {
        return Error::NotFound("no OAuth connection by that name".into()).into_response();
    };
    let mut session = shared.sealer.session(&headers);
    let mut revoked = true;
    if let Some(tokens) = session.tokens.remove(&id) {
        let all = tokens
            .refresh_token
            .iter()
            .chain(std::iter::once(&tokens.access_token));
        for token in all {
            let request = protocol::revoke_request(&client, token);
            match send_value(&shared.http, request, &shared.config.limits).await {
                Ok(answer) if (200..300).contains(&answer.status) => {}
                Ok(answer) => {
                    revoked = false;
                    tracing::warn!(connection = %id, status = answer.status, "token revocation refused");
                }
                Err(e) => {
                    revoked = false;
                    tracing::warn!(connection = %id, error = %e, "token revocation failed");
                }
            }
        }
    }
    let cookie = shared
        .sealer
        .store_session(&session, shared.config.session_ttl.as_secs());
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let mut response =
            Json(serde_json::json!({"signed_out": true, "revoked": revoked})).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let return_to = safe_return_to(&shared, query_param(query.as_deref(), "return_to"));
    redirect(
        &with_outcome(&return_to, &[("oauth", "signed_out"), ("connection", &id)]),
        &[cookie],
    )
}

fn stored(tokens: TokenSet, previous: Option<&StoredTokens>) -> StoredTokens {
    StoredTokens {
        access_token: tokens.access_token,
        // Refresh tokens may rotate: keep the newest, or the old one if none came back.
        refresh_token: tokens
            .refresh_token
            .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        expires_at: tokens.expires_in.map(|s| now_secs().saturating_add(s)),
        scope: tokens
            .scope
            .or_else(|| previous.and_then(|p| p.scope.clone())),
        subdomain: tokens
            .subdomain
            .or_else(|| previous.and_then(|p| p.subdomain.clone())),
    }
}

async fn refresh(
    shared: &Shared,
    client: &OAuthClient,
    refresh_token: &str,
) -> Result<TokenSet, RefreshError> {
    shared
        .refreshes
        .run(refresh_token, || async {
            let request = protocol::refresh_request(client, refresh_token);
            let answer = send_value(&shared.http, request, &shared.config.limits)
                .await
                .map_err(|e| RefreshError::Failed(e.to_string()))?;
            protocol::parse_token_response(&answer).map_err(|e| match e {
                ApiError::OAuth { .. } | ApiError::Unauthorized { .. } => {
                    RefreshError::Rejected(e.to_string())
                }
                other => RefreshError::Failed(other.to_string()),
            })
        })
        .await
}

/// Refreshes the connection's tokens in `session`; on a dead grant the tokens are dropped.
async fn refresh_session(
    shared: &Shared,
    upstream: &Upstream,
    client: &OAuthClient,
    session: &mut Session,
) -> Result<StoredTokens, Error> {
    let id = &upstream.conn.id;
    let current = session.tokens.get(id).cloned();
    let Some(refresh_token) = current.as_ref().and_then(|t| t.refresh_token.clone()) else {
        session.tokens.remove(id);
        return Err(Error::Unauthorized(format!(
            "the sign-in to {} has expired; sign in again",
            upstream.conn.name
        )));
    };
    match refresh(shared, client, &refresh_token).await {
        Ok(tokens) => {
            let fresh = stored(tokens, current.as_ref());
            session.tokens.insert(id.clone(), fresh.clone());
            tracing::info!(connection = %id, "OAuth tokens refreshed");
            Ok(fresh)
        }
        Err(RefreshError::Rejected(why)) => {
            session.tokens.remove(id);
            tracing::info!(connection = %id, why, "refresh refused; sign-in needed");
            Err(Error::Unauthorized(format!(
                "the sign-in to {} has ended; sign in again",
                upstream.conn.name
            )))
        }
        Err(RefreshError::Failed(why)) => Err(Error::UpstreamInvalid(format!(
            "could not refresh the sign-in: {why}"
        ))),
    }
}

/// Forwards `call` with the session's bearer token for this connection: refreshes shortly before
/// expiry, and once more after a 401. Returns the answer and a `Set-Cookie` when tokens changed.
pub async fn send_authorised(
    shared: &Shared,
    upstream: &Upstream,
    call: &Call,
    browser_headers: &HeaderMap,
) -> (Result<UpstreamResponse, Error>, Option<String>) {
    let Some(client) = upstream.oauth.as_ref() else {
        return (Err(Error::Internal("not an OAuth connection".into())), None);
    };
    let mut session = shared.sealer.session(browser_headers);
    let before = session.clone();
    let result = send_with_refresh(shared, upstream, client, call, &mut session).await;
    let cookie = (session != before).then(|| {
        shared
            .sealer
            .store_session(&session, shared.config.session_ttl.as_secs())
    });
    (result, cookie)
}

async fn send_with_refresh(
    shared: &Shared,
    upstream: &Upstream,
    client: &OAuthClient,
    call: &Call,
    session: &mut Session,
) -> Result<UpstreamResponse, Error> {
    let id = &upstream.conn.id;
    let Some(mut tokens) = session.tokens.get(id).cloned() else {
        return Err(Error::Unauthorized(format!(
            "not signed in to {}; sign in first",
            upstream.conn.name
        )));
    };
    let mut refreshed = false;
    if tokens
        .expires_at
        .is_some_and(|at| at <= now_secs() + REFRESH_MARGIN_SECS)
    {
        tokens = refresh_session(shared, upstream, client, session).await?;
        refreshed = true;
    }
    let answer = send(
        shared,
        call,
        &[(header::AUTHORIZATION, bearer_header(&tokens.access_token)?)],
    )
    .await?;
    if answer.status() != StatusCode::UNAUTHORIZED || refreshed || tokens.refresh_token.is_none() {
        return Ok(answer.into());
    }
    drop(answer);
    tracing::info!(connection = %id, "upstream answered 401; refreshing once");
    let tokens = refresh_session(shared, upstream, client, session).await?;
    let answer = send(
        shared,
        call,
        &[(header::AUTHORIZATION, bearer_header(&tokens.access_token)?)],
    )
    .await?;
    Ok(answer.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_appended_before_the_fragment() {
        assert_eq!(
            with_outcome("/", &[("oauth", "error"), ("reason", "a b")]),
            "/?oauth=error&reason=a+b"
        );
        assert_eq!(
            with_outcome("/users?x=1#top", &[("oauth", "signed_in")]),
            "/users?x=1&oauth=signed_in#top"
        );
    }
}
