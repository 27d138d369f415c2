//! Zurmo connections with server-side credentials: the proxy signs in itself, keeps the session
//! in memory (each proxy copy keeps its own; nothing to share), injects `ZURMO_SESSION_ID` and
//! `ZURMO_TOKEN`, and signs in again once when Zurmo answers its HTTP-200 "Sign in required.".

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{HeaderName, HeaderValue};
use tokio::sync::Mutex;
use userdeck_client::provider::zurmo::{self as protocol, ZurmoSession};

use crate::config::ServerCredentials;
use crate::error::Error;
use crate::exchange::send_value;
use crate::forward::{Call, UpstreamResponse};
use crate::server::{Shared, Upstream};

/// Bodies longer than this cannot be Zurmo's "Sign in required." envelope, so stop peeking.
const PEEK_BYTES: usize = 1024;

/// The proxy's current Zurmo session for one connection; the lock also makes sign-ins single-flight.
#[derive(Default)]
pub struct SessionCache {
    current: Mutex<Option<ZurmoSession>>,
}

/// Forwards `call` with the proxy's Zurmo session, re-signing in once if Zurmo asks for it.
pub async fn send(
    shared: &Shared,
    upstream: &Upstream,
    call: &Call,
) -> Result<UpstreamResponse, Error> {
    let path = call.path.trim_end_matches('/');
    if path == "zurmo/api/login" || path == "zurmo/api/logout" {
        return Err(Error::Forbidden(
            "this connection signs in on the server; no login or logout through it".into(),
        ));
    }
    let session = current(shared, upstream, None).await?;
    let first = peek(send_forward(shared, call, &session).await?.into()).await;
    match first {
        Peeked::SignInRequired => {
            tracing::info!(connection = %upstream.conn.id, "Zurmo session expired; signing in again");
            let fresh = current(shared, upstream, Some(&session.session_id)).await?;
            Ok(send_forward(shared, call, &fresh).await?.into())
        }
        Peeked::Other(response) => Ok(response),
    }
}

async fn send_forward(
    shared: &Shared,
    call: &Call,
    session: &ZurmoSession,
) -> Result<reqwest::Response, Error> {
    let mut id = HeaderValue::from_str(&session.session_id)
        .map_err(|_| Error::UpstreamInvalid("Zurmo returned an unusable session id".into()))?;
    let mut token = HeaderValue::from_str(&session.token)
        .map_err(|_| Error::UpstreamInvalid("Zurmo returned an unusable token".into()))?;
    id.set_sensitive(true);
    token.set_sensitive(true);
    let headers = [
        (HeaderName::from_static("zurmo_session_id"), id),
        (HeaderName::from_static("zurmo_token"), token),
    ];
    crate::forward::send(shared, call, &headers).await
}

enum Peeked {
    SignInRequired,
    Other(UpstreamResponse),
}

/// Reads just enough of the body to recognise "Sign in required.", then puts it back in front.
async fn peek(mut response: UpstreamResponse) -> Peeked {
    let mut prefix: Vec<Result<Bytes, reqwest::Error>> = Vec::new();
    let mut seen = Vec::new();
    let mut ended = false;
    while seen.len() <= PEEK_BYTES {
        match response.body.next().await {
            None => {
                ended = true;
                break;
            }
            Some(Ok(chunk)) => {
                seen.extend_from_slice(&chunk);
                prefix.push(Ok(chunk));
            }
            Some(Err(e)) => {
                prefix.push(Err(e));
                break;
            }
        }
    }
    if ended && response.status.is_success() && protocol::is_sign_in_required(&seen) {
        return Peeked::SignInRequired;
    }
    let rest = std::mem::replace(&mut response.body, futures_util::stream::empty().boxed());
    response.body = futures_util::stream::iter(prefix).chain(rest).boxed();
    Peeked::Other(response)
}

/// The cached session, or a fresh sign-in when there is none or it is the `stale` one.
async fn current(
    shared: &Shared,
    upstream: &Upstream,
    stale: Option<&str>,
) -> Result<ZurmoSession, Error> {
    let mut current = upstream.zurmo.current.lock().await;
    if let Some(session) = current.as_ref()
        && stale != Some(session.session_id.as_str())
    {
        return Ok(session.clone());
    }
    let fresh = login(shared, upstream).await?;
    *current = Some(fresh.clone());
    Ok(fresh)
}

async fn login(shared: &Shared, upstream: &Upstream) -> Result<ZurmoSession, Error> {
    let Some(ServerCredentials::ZurmoLogin { username, password }) = &upstream.conn.credentials
    else {
        return Err(Error::Internal(
            "not a Zurmo connection with server credentials".into(),
        ));
    };
    let base = upstream.conn.base_url.as_str().trim_end_matches('/');
    let request = protocol::login_request(base, username.as_str(), password.expose());
    let answer = send_value(&shared.http, request, &shared.config.limits).await?;
    let session = protocol::decode_login(&answer, now_ms()).map_err(|e| {
        Error::UpstreamInvalid(format!(
            "the proxy could not sign in to Zurmo connection `{}`: {e}",
            upstream.conn.id
        ))
    })?;
    tracing::info!(connection = %upstream.conn.id, "signed in to Zurmo");
    Ok(session)
}

/// Wall-clock milliseconds, which the client's sans-IO decoders take as an argument.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
