//! Per-CRM wire codecs: pure functions from a request to an [`HttpRequest`] and from an
//! [`HttpResponse`] to a typed result. Shared JSON helpers live here; each CRM's quirks live in
//! its own module.

pub mod appcrm;
pub mod capsule;
pub(crate) mod lenient;
pub(crate) mod onepass;
pub(crate) mod scan;
pub mod zurmo;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{ApiError, FieldErrors};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::{Provider, User};
use crate::query::{Direction, Op, UserField, UserQuery};

/// `GET` one user by id, as `provider` spells it.
pub fn get_request(provider: Provider, t: &Target, id: u64) -> HttpRequest {
    match provider {
        Provider::Capsule => capsule::get_request(t, id),
        Provider::AppCrm => appcrm::get_request(t, id),
        Provider::Zurmo => zurmo::get_request(t, id),
    }
}

/// `GET` the signed-in user, as `provider` spells it.
pub fn me_request(provider: Provider, t: &Target) -> HttpRequest {
    match provider {
        Provider::Capsule => capsule::me_request(t),
        Provider::AppCrm => appcrm::me_request(t),
        Provider::Zurmo => zurmo::me_request(t),
    }
}

/// Decodes `provider`'s answer carrying one user (read, current user).
pub fn decode_user(provider: Provider, resp: &HttpResponse, at_ms: u64) -> Result<User, ApiError> {
    match provider {
        Provider::Capsule => capsule::decode_user(resp, at_ms),
        Provider::AppCrm => appcrm::decode_user(resp, at_ms),
        Provider::Zurmo => zurmo::decode_user(resp, at_ms),
    }
}

/// Whether `provider`'s user list can be sorted on `field`. Capsule sorts on the client, so every
/// field works there; the others answer what their request builder accepts.
pub fn can_sort(provider: Provider, field: &UserField) -> bool {
    builder_accepts(
        provider,
        &UserQuery::default().sorted(field.clone(), Direction::Asc),
    )
}

/// The operators `provider` can search `field` with; empty when the field cannot be searched.
pub fn search_ops(provider: Provider, field: &UserField) -> Vec<Op> {
    [Op::Contains, Op::StartsWith, Op::Equals, Op::In]
        .into_iter()
        .filter(|op| {
            builder_accepts(
                provider,
                &UserQuery::default().with(field.clone(), *op, "x"),
            )
        })
        .collect()
}

/// Asks the provider's own list-request builder, so these answers can never drift from what is
/// really sent (Capsule filters and sorts on the client: it accepts everything).
fn builder_accepts(provider: Provider, query: &UserQuery) -> bool {
    let target = Target::new("http://capability.check", Vec::new());
    match provider {
        Provider::Capsule => true,
        Provider::AppCrm => appcrm::list_request(&target, query).is_ok(),
        Provider::Zurmo => zurmo::list_request(&target, query).is_ok(),
    }
}

/// Where and as whom to send: the connection's base URL and the headers that authenticate it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// Base URL without a trailing slash (`https://x.capsulecrm.com`, `…/index.php` for Zurmo).
    pub base_url: String,
    /// `Authorization: Bearer …` or Zurmo's session headers.
    pub auth_headers: Vec<(String, String)>,
}

impl Target {
    /// A target for `base_url` (trailing slashes dropped) with the given auth headers.
    pub fn new(base_url: &str, auth_headers: Vec<(String, String)>) -> Target {
        Target {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth_headers,
        }
    }

    /// A bearer-token target.
    pub fn bearer(base_url: &str, token: &str) -> Target {
        Target::new(
            base_url,
            vec![("Authorization".into(), format!("Bearer {token}"))],
        )
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> HttpRequest {
        HttpRequest::new(method, format!("{}{path}", self.base_url))
            .header("Accept", "application/json")
            .headers(&self.auth_headers)
    }
}

/// Parses a body as JSON or fails with a `Decode` error naming what was expected.
pub(crate) fn parse_json(resp: &HttpResponse, what: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(&resp.body).map_err(|_| ApiError::decode(what, &resp.body))
}

/// A string field, tolerating numbers; `None` for null, missing or empty.
pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes one user's JSON into the provider's typed struct: a non-object is a `Decode` error
/// quoting the text (as a missing id is), so is JSON the struct cannot take (a repeated key).
pub(crate) fn typed_user<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    what: &str,
) -> Result<T, ApiError> {
    match lenient::object_str::<T>(raw.get()) {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(bad_id(what, raw)),
        Err(_) => Err(ApiError::decode(what, raw.get().as_bytes())),
    }
}

/// Decodes every captured user of a page with `one`, into a list sized up front (a page of
/// `User`s is a few hundred KB; growing it by doubling would copy it again and again).
pub(crate) fn decode_users(
    items: &[&RawValue],
    one: fn(&RawValue) -> Result<User, ApiError>,
) -> Result<Vec<User>, ApiError> {
    let mut users = Vec::with_capacity(items.len());
    for raw in items {
        users.push(one(raw)?);
    }
    Ok(users)
}

/// The `Decode` error for a user without a usable id, quoting its JSON.
pub(crate) fn bad_id(what: &str, raw: &RawValue) -> ApiError {
    ApiError::decode(format!("{what} (missing or bad id)"), raw.get().as_bytes())
}

/// Normalises `YYYY-MM-DD HH:MM:SS` (Zurmo, UTC) and `…T…000000Z` (Laravel) to `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn iso_time(raw: Option<String>) -> Option<String> {
    let raw = raw?;
    let b = raw.as_bytes();
    let looks_like = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':'
        && raw.is_char_boundary(19);
    if !looks_like {
        return Some(raw);
    }
    let rest = &raw[19..];
    let plain_utc =
        rest.is_empty() || rest == "Z" || (rest.starts_with('.') && rest.ends_with('Z'));
    if !plain_utc {
        return Some(raw);
    }
    // In place: this runs for every timestamp of every user on a page.
    let mut out = raw;
    out.truncate(19);
    out.replace_range(10..11, "T");
    out.push('Z');
    Some(out)
}

/// Flattens nested validation errors (`{"primaryEmail":{"emailAddress":["…"]}}`) into dotted paths.
pub(crate) fn flatten_errors(prefix: &str, v: &Value, out: &mut FieldErrors) {
    let path = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                flatten_errors(&path(k), child, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(s) => out.entry(prefix.to_string()).or_default().push(s.clone()),
                    other => flatten_errors(prefix, other, out),
                }
            }
        }
        Value::String(s) => out.entry(prefix.to_string()).or_default().push(s.clone()),
        Value::Null => {}
        other => out
            .entry(prefix.to_string())
            .or_default()
            .push(other.to_string()),
    }
}

/// The instant a 429 says to wait until: `X-RateLimit-Reset` (epoch seconds) when present and in
/// the future, else `Retry-After` seconds from `at_ms`, else a minute.
pub(crate) fn rate_limit_until(resp: &HttpResponse, at_ms: u64) -> u64 {
    let reset = resp
        .header_u64("X-RateLimit-Reset")
        .map(|s| s.saturating_mul(1000));
    let retry = resp
        .header_u64("Retry-After")
        .map(|s| at_ms.saturating_add(s.saturating_mul(1000)));
    match (retry, reset) {
        (Some(r), _) => r,
        (None, Some(r)) if r > at_ms => r,
        (None, Some(_)) => at_ms,
        (None, None) => at_ms.saturating_add(60_000),
    }
}

/// The message of a JSON error body: a CRM's `message`, App CRM's `error` string, or the
/// Userdeck proxy's own `{"error":{"kind","message"}}` (a CRM it could not reach); else an
/// excerpt of the body.
pub(crate) fn error_message(resp: &HttpResponse) -> String {
    serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| {
            text(&v, "message")
                .or_else(|| text(&v, "error"))
                .or_else(|| text(v.get("error")?, "message"))
        })
        .unwrap_or_else(|| {
            // An HTML error page reads as its text, not as its markup.
            if crate::html::is_page(&resp.body) {
                let text = crate::html::text_of(&String::from_utf8_lossy(&resp.body));
                crate::error::snippet(text.as_bytes())
            } else {
                crate::error::snippet(&resp.body)
            }
        })
}

/// Classification shared by the JSON APIs (Capsule, App CRM) for statuses with no special meaning.
pub(crate) fn generic_status_error(resp: &HttpResponse, at_ms: u64) -> ApiError {
    let message = error_message(resp);
    match resp.status {
        401 => ApiError::Unauthorized { message },
        403 => ApiError::Forbidden { message },
        404 => ApiError::NotFound { message },
        409 => ApiError::Conflict { message },
        429 => ApiError::RateLimited {
            until_ms: rate_limit_until(resp, at_ms),
            message,
        },
        status => ApiError::Upstream { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_per_field_follow_each_crms_request_rules() {
        // App CRM searches only name, email and id (the reference's `search_fields`).
        assert!(!search_ops(Provider::AppCrm, &UserField::Email).is_empty());
        assert!(search_ops(Provider::AppCrm, &UserField::Native("timezone".into())).is_empty());
        // Capsule filters and sorts on the client: everything is allowed.
        assert!(can_sort(
            Provider::Capsule,
            &UserField::Native("anything".into())
        ));
        assert_eq!(search_ops(Provider::Capsule, &UserField::Email).len(), 4);
        // A column name that is not an identifier is never sent as a sort.
        assert!(!can_sort(
            Provider::AppCrm,
            &UserField::Native("drop table".into())
        ));
        assert!(can_sort(Provider::AppCrm, &UserField::DisplayName));
    }
    use serde_json::json;

    /// The wire's boolean reader, applied to one key of a `Value`.
    fn flag(v: &Value, key: &str) -> Option<bool> {
        lenient::flag(v.get(key)?).ok()?
    }

    #[test]
    fn error_messages_come_from_each_body_shape() {
        let message =
            |status, body: &str| match generic_status_error(&HttpResponse::new(status, body), 0) {
                ApiError::Upstream { message, .. } | ApiError::Forbidden { message } => message,
                other => panic!("{other:?}"),
            };
        assert_eq!(
            message(500, r#"{"message":"Server Error"}"#),
            "Server Error"
        );
        assert_eq!(
            message(
                403,
                r#"{"error":"Your account is not authorized to perform API requests."}"#
            ),
            "Your account is not authorized to perform API requests."
        );
        // The proxy's answer when the CRM behind it is down: its message, not its JSON.
        assert_eq!(
            message(
                502,
                r#"{"error":{"kind":"upstream_unreachable","message":"the CRM could not be reached (connection failed)"}}"#
            ),
            "the CRM could not be reached (connection failed)"
        );
        assert_eq!(message(502, "<html>Bad Gateway</html>"), "Bad Gateway");
    }

    #[test]
    fn flags_accept_php_shapes() {
        let v = json!({"a":"1","b":"0","c":true,"d":null,"e":1,"f":"weird","g":""});
        assert_eq!(flag(&v, "a"), Some(true));
        assert_eq!(flag(&v, "b"), Some(false));
        assert_eq!(flag(&v, "c"), Some(true));
        assert_eq!(flag(&v, "d"), None);
        assert_eq!(flag(&v, "e"), Some(true));
        assert_eq!(flag(&v, "f"), None);
        assert_eq!(flag(&v, "g"), Some(false));
        assert_eq!(flag(&v, "missing"), None);
    }

    #[test]
    fn times_normalise() {
        assert_eq!(
            iso_time(Some("2016-02-01 10:00:00".into())).as_deref(),
            Some("2016-02-01T10:00:00Z")
        );
        assert_eq!(
            iso_time(Some("2024-05-01T10:20:30.000000Z".into())).as_deref(),
            Some("2024-05-01T10:20:30Z")
        );
        assert_eq!(
            iso_time(Some("2015-12-11T14:01:15Z".into())).as_deref(),
            Some("2015-12-11T14:01:15Z")
        );
        assert_eq!(
            iso_time(Some("2015-12-11T14:01:15+02:00".into())).as_deref(),
            Some("2015-12-11T14:01:15+02:00")
        );
        assert_eq!(iso_time(Some("soon".into())).as_deref(), Some("soon"));
        assert_eq!(
            iso_time(Some("2016-02-01 10:00:0é".into())).as_deref(),
            Some("2016-02-01 10:00:0é")
        );
    }

    #[test]
    fn nested_errors_flatten() {
        let mut out = FieldErrors::new();
        flatten_errors(
            "",
            &json!({"username":["a","b"],"primaryEmail":{"emailAddress":["c"]}}),
            &mut out,
        );
        assert_eq!(out["username"], ["a", "b"]);
        assert_eq!(out["primaryEmail.emailAddress"], ["c"]);
    }

    #[test]
    fn rate_limit_instants() {
        let r = HttpResponse::new(429, "").with_header("Retry-After", "30");
        assert_eq!(rate_limit_until(&r, 1_000), 31_000);
        let r = HttpResponse::new(429, "").with_header("X-RateLimit-Reset", "1700000000");
        assert_eq!(rate_limit_until(&r, 1_000), 1_700_000_000_000);
        assert_eq!(rate_limit_until(&HttpResponse::new(429, ""), 5), 60_005);
    }
}
