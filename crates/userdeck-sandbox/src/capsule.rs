//! Capsule CRM API v2 (users) and its OAuth endpoints, under `/capsule`.
//!
//! Wire facts kept here: one-key envelopes (`{"users":[…]}`, `{"user":…}`), `{"message":…}`
//! errors with `WWW-Authenticate` on 401, `page`/`perPage` with an RFC 5988 `Link` header of
//! absolute URLs and `X-Pagination-Has-More`, `embed=party`/`embed=meta`, and the 4,000/hour
//! limit with `X-RateLimit-*` headers and its different `{"error":"rate limit reached"}` 429.
//!
//! `perPage` above 100 (or below 1) and a `page` below 1 are refused with 400 rather than
//! clamped: the reference gives the maximum but not the server's reaction, and a client that
//! never exceeds it works against either behaviour.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::faults::Decision;
use crate::ojson::J;
use crate::request::{ApiRequest, json, set_header};
use crate::store::CapsuleUser;
use crate::{Crm, Shared, clock, demo, oauth, obj, urlcoding};

const DEFAULT_PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 100;

fn message(status: StatusCode, text: &str) -> Response {
    json(status, &obj! { "message" => text })
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Could not find resource")
}

/// Entry point for everything under `/capsule`.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let req = ApiRequest::read(req, "/capsule", shared.config.max_body_bytes).await;
    if req.body_too_large {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    match req.path.trim_end_matches('/') {
        "/oauth/authorise" => oauth::authorise(&shared, &req),
        "/oauth/token" => oauth::token(&shared, &req),
        "/oauth/revoke" | "/oauth/token/revoke" => oauth::revoke(&shared, &req),
        "/.well-known/oauth-authorization-server" => oauth::metadata(&req),
        _ => match req.segments_after("/api/v2") {
            Some(segments) => api(&shared, &req, &segments),
            None => not_found(),
        },
    }
}

fn unauthorized() -> Response {
    let mut res = message(
        StatusCode::UNAUTHORIZED,
        "authentication failed: invalid or expired access token",
    );
    set_header(
        &mut res,
        "www-authenticate",
        "Bearer realm=\"Capsule\", error=\"invalid_token\"",
    );
    res
}

fn api(shared: &Shared, req: &ApiRequest, segments: &[String]) -> Response {
    let Some(token) = req.bearer() else {
        return unauthorized();
    };
    let user_id = if token == demo::CAPSULE_TOKEN {
        1
    } else {
        match shared.oauth.user_for(token) {
            Some((id, scope)) if scope.split(' ').any(|s| s == "read") => id,
            Some(_) => {
                let mut res = message(
                    StatusCode::FORBIDDEN,
                    "insufficient scope: read is required",
                );
                set_header(
                    &mut res,
                    "www-authenticate",
                    "Bearer realm=\"Capsule\", error=\"insufficient_scope\", scope=\"read\"",
                );
                return res;
            }
            None => return unauthorized(),
        }
    };
    // Capsule counts per user, not per token: a personal token and an OAuth token of the same
    // user draw on one quota.
    let decision = shared.limits.check(
        Crm::Capsule,
        &user_id.to_string(),
        shared.config.capsule_rate_limit,
        Duration::from_secs(3600),
    );
    let mut res = match decision {
        Decision::Limited { .. } => json(
            StatusCode::TOO_MANY_REQUESTS,
            &obj! { "error" => "rate limit reached" },
        ),
        Decision::Allowed { .. } => route(shared, req, segments, user_id),
    };
    let (limit, remaining, reset) = match decision {
        Decision::Allowed {
            limit,
            remaining,
            reset,
        } => (limit, remaining, reset),
        Decision::Limited { limit, reset, .. } => (limit, 0, reset),
    };
    set_header(&mut res, "x-ratelimit-limit", &limit.to_string());
    set_header(&mut res, "x-ratelimit-remaining", &remaining.to_string());
    set_header(&mut res, "x-ratelimit-reset", &reset.to_string());
    res
}

fn route(shared: &Shared, req: &ApiRequest, segments: &[String], me: u64) -> Response {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let known = matches!(segs.as_slice(), ["users"] | ["users", _]);
    if !known {
        return not_found();
    }
    if req.method != Method::GET && req.method != Method::HEAD {
        return message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let q = req.query_pairs();
    let embed: Vec<String> = urlcoding::last(&q, "embed")
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let with_party = embed.iter().any(|e| e == "party");
    let store = shared.stores.capsule();
    match segs.as_slice() {
        ["users"] => list(
            req,
            &q,
            &store.users,
            with_party,
            embed.iter().any(|e| e == "meta"),
        ),
        ["users", "current"] => match store.users.iter().find(|u| u.id == me) {
            Some(u) => json(StatusCode::OK, &obj! { "user" => user_json(u, with_party) }),
            None => unauthorized(),
        },
        ["users", id] => match id
            .parse::<u64>()
            .ok()
            .and_then(|id| store.users.iter().find(|u| u.id == id))
        {
            Some(u) => json(StatusCode::OK, &obj! { "user" => user_json(u, with_party) }),
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn parse_positive(q: &[(String, String)], key: &str, default: u64) -> Result<u64, ()> {
    match urlcoding::last(q, key) {
        None | Some("") => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| ())
            .and_then(|n| if n == 0 { Err(()) } else { Ok(n) }),
    }
}

fn list(
    req: &ApiRequest,
    q: &[(String, String)],
    users: &[CapsuleUser],
    with_party: bool,
    with_meta: bool,
) -> Response {
    let Ok(page) = parse_positive(q, "page", 1) else {
        return message(
            StatusCode::BAD_REQUEST,
            "page must be a whole number greater than 0",
        );
    };
    let per_page = match parse_positive(q, "perPage", DEFAULT_PER_PAGE) {
        Ok(n) if n <= MAX_PER_PAGE => n,
        _ => return message(StatusCode::BAD_REQUEST, "perPage must be between 1 and 100"),
    };
    let total = users.len() as u64;
    let start = (page - 1).saturating_mul(per_page);
    let items: Vec<J> = users
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|u| user_json(u, with_party))
        .collect();
    let has_more = start.saturating_add(per_page) < total;
    let mut body = obj! { "users" => J::Arr(items) };
    if with_meta {
        body.set("meta", obj! { "totalCount" => total });
    }
    let mut res = json(StatusCode::OK, &body);
    let link_to = |p: u64| {
        let mut query = format!("page={p}");
        for (k, v) in q.iter().filter(|(k, _)| k != "page") {
            query.push('&');
            query.push_str(&urlcoding::encode(k));
            query.push('=');
            query.push_str(&urlcoding::encode(v));
        }
        format!("{}/capsule/api/v2/users?{query}", req.origin)
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
    }
    if has_more {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
    }
    if !links.is_empty() {
        set_header(&mut res, "link", &links.join(", "));
    }
    set_header(
        &mut res,
        "x-pagination-has-more",
        if has_more { "true" } else { "false" },
    );
    res
}

fn initials(u: &CapsuleUser) -> String {
    [u.first_name.as_deref(), u.last_name.as_deref()]
        .iter()
        .flatten()
        .filter_map(|n| n.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

fn display_name(u: &CapsuleUser) -> String {
    [u.first_name.as_deref(), u.last_name.as_deref()]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Capsule user object; `full_party` is `embed=party`.
fn user_json(u: &CapsuleUser, full_party: bool) -> J {
    let picture = format!(
        "https://facehub.appspot.com/default/person?text={}&size=100",
        urlcoding::encode(&initials(u))
    );
    let mut party = obj! {
        "id" => u.party_id,
        "type" => "person",
        "firstName" => u.first_name.as_deref(),
        "lastName" => u.last_name.as_deref(),
        "pictureURL" => picture.as_str(),
    };
    if full_party {
        party = obj! {
            "id" => u.party_id,
            "type" => "person",
            "about" => J::Null,
            "title" => J::Null,
            "firstName" => u.first_name.as_deref(),
            "lastName" => u.last_name.as_deref(),
            "jobTitle" => u.job_title.as_deref(),
            "createdAt" => clock::iso_z(u.created_at),
            "updatedAt" => clock::iso_z(u.created_at),
            "organisation" => J::Null,
            "lastContactedAt" => J::Null,
            "pictureURL" => picture.as_str(),
            "emailAddresses" => vec![obj! { "id" => u.email_id, "type" => "Work", "address" => u.email.as_str() }],
            "phoneNumbers" => J::Arr(Vec::new()),
            "addresses" => J::Arr(Vec::new()),
            "websites" => J::Arr(Vec::new()),
        };
    }
    obj! {
        "id" => u.id,
        "locale" => u.locale.as_str(),
        "currency" => u.currency.as_str(),
        "status" => u.status.as_str(),
        "party" => party,
        "username" => u.username.as_str(),
        "timezone" => u.timezone.as_str(),
        "lastLoginAt" => u.last_login_at.map(clock::iso_z),
        "name" => display_name(u),
        "taskReminder" => u.task_reminder,
        "emailPreference" => u.email_preference.as_str(),
        "clickToCallPreference" => u.click_to_call.as_str(),
        "preferredEmailFromAddress" => u.email.as_str(),
    }
}
