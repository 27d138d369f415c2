//! Capsule CRM API v2 users: read-only (list, read, current user). Bodies wrap data in one key
//! (`{"users":[…]}`, `{"user":…}`); paging is `page`/`perPage` with an RFC 5988 `Link` header whose
//! absolute URLs point at the upstream host, so only their query is reused; the user's email
//! lives on the embedded party.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::lenient::{self, List, Obj, RawList};
use super::scan;
use super::{Target, bad_id, decode_users, generic_status_error, iso_time, text, typed_user};
use crate::error::{ApiError, FieldErrors};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::{Page, User, display_name};
use crate::php::parse_pairs;
use crate::raw::RawJson;

mod page;

/// Capsule's own page-size limit.
pub const MAX_PER_PAGE: u32 = 100;
/// Capsule's default page size.
pub const DEFAULT_PER_PAGE: u32 = 50;

/// `GET /api/v2/users?page=…&perPage=…&embed=party,meta`: the party carries the email, and
/// `meta.totalCount` the number of users, so a page can say "1–25 of 300" and how many pages
/// there are (without it, only whether there is a next one).
pub fn list_request(t: &Target, page: u32, per_page: u32) -> HttpRequest {
    let per_page = match per_page {
        0 => DEFAULT_PER_PAGE,
        n => n.min(MAX_PER_PAGE),
    };
    t.request(
        Method::Get,
        &format!(
            "/api/v2/users?page={}&perPage={per_page}&embed=party,meta",
            page.max(1)
        ),
    )
}

/// `GET /api/v2/users/{id}?embed=party`.
pub fn get_request(t: &Target, id: u64) -> HttpRequest {
    t.request(Method::Get, &format!("/api/v2/users/{id}?embed=party"))
}

/// `GET /api/v2/users/current?embed=party` (`/users/me` does not exist).
pub fn me_request(t: &Target) -> HttpRequest {
    t.request(Method::Get, "/api/v2/users/current?embed=party")
}

/// Decodes a list page. `page`/`per_page` are what was asked for; `has_next` comes from the `Link`
/// header (or `X-Pagination-Has-More`).
///
/// A plain `{"users":[…]}` page is read in one pass (`capsule/page.rs`); anything else goes
/// through the two-pass decode, which defines the answer, errors included.
pub fn decode_list(
    resp: &HttpResponse,
    page: u32,
    per_page: u32,
    at_ms: u64,
) -> Result<Page<User>, ApiError> {
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    let list = match self::page::read(&resp.body) {
        Some(list) => list,
        None => two_pass_list(resp)?,
    };
    let link_next = next_link(resp);
    let has_more = resp
        .header("X-Pagination-Has-More")
        .map(|v| v.trim().eq_ignore_ascii_case("true"));
    let per_page = match per_page {
        0 => DEFAULT_PER_PAGE,
        n => n.min(MAX_PER_PAGE),
    };
    Ok(Page {
        items: list.items,
        total: list.total,
        page: page.max(1),
        page_size: per_page,
        has_next: link_next.is_some() || has_more == Some(true),
    })
}

/// A list page's users and `meta.totalCount`, before paging is worked out.
#[cfg_attr(test, derive(Debug, PartialEq))]
struct UserList {
    total: Option<u64>,
    items: Vec<User>,
}

/// The page read twice: the body with each user captured as text, then each user's text.
fn two_pass_list(resp: &HttpResponse) -> Result<UserList, ApiError> {
    let body = lenient::object::<ListBody>(&resp.body)
        .map_err(|_| ApiError::decode("Capsule users list", &resp.body))?
        .unwrap_or_default();
    let RawList::Items(items) = body.users else {
        return Err(ApiError::decode(
            "Capsule users list (no \"users\" array)",
            &resp.body,
        ));
    };
    Ok(UserList {
        items: decode_users(&items, user_from_raw)?,
        total: body.meta.0.and_then(|m| m.total_count),
    })
}

/// Decodes `{"user":{…}}` (read and current user).
pub fn decode_user(resp: &HttpResponse, at_ms: u64) -> Result<User, ApiError> {
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    let body = lenient::object::<UserBody>(&resp.body)
        .map_err(|_| ApiError::decode("Capsule user", &resp.body))?
        .unwrap_or_default();
    match body.user {
        Some(u) if lenient::is_object(u) => user_from_raw(u),
        _ => Err(ApiError::decode(
            "Capsule user (no \"user\" object)",
            &resp.body,
        )),
    }
}

/// The `page` and `perPage` of the `rel="next"` link, to re-apply to our own base URL (the link's
/// host is the upstream's, which breaks proxied routes).
pub fn next_link(resp: &HttpResponse) -> Option<(u32, Option<u32>)> {
    let mut rest = resp.header("Link")?;
    // Each link is `<url>; param; …`, and links are separated by commas. A URL repeats every
    // query parameter and may hold commas of its own (`embed=party,meta`), so it is read up to
    // its `>`, and only what follows it is split.
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let url = &after[..close];
        let tail = &after[close + 1..];
        let params_end = tail.find('<').unwrap_or(tail.len());
        let is_next = tail[..params_end].split([';', ',']).any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if is_next {
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
            let pairs = parse_pairs(query);
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.parse::<u32>().ok())
            };
            return get("page").map(|p| (p, get("perPage")));
        }
        rest = &tail[params_end..];
    }
    None
}

/// `{"users":[…],"meta":{"totalCount":N}}`, each user kept as text.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ListBody<'a> {
    #[serde(borrow)]
    users: RawList<'a>,
    meta: Obj<Meta>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    #[serde(deserialize_with = "lenient::id")]
    total_count: Option<u64>,
}

impl Meta {
    /// One member of `meta`, as the derive reads it (for the one-pass page reader).
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        if key == "totalCount" {
            scan::first_time(seen, 1)?;
            self.total_count = scan::scalar(value).ok()?.into_id();
        }
        Some(())
    }
}

/// `{"user":{…}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UserBody<'a> {
    #[serde(borrow)]
    user: Option<&'a RawValue>,
}

/// The fields of a Capsule user the unified model needs; the rest stay in the raw text.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default, rename_all = "camelCase")]
struct CapsuleUser {
    #[serde(deserialize_with = "lenient::id")]
    id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    username: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    timezone: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    locale: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    created_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    updated_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_login_at: Option<String>,
    party: Obj<Party>,
    /// `Some` whenever the key is there: any `roles` value means "admin is known".
    #[serde(deserialize_with = "lenient::some")]
    roles: Option<Obj<Roles>>,
}

/// The embedded party: names, picture and email addresses.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default, rename_all = "camelCase")]
struct Party {
    #[serde(deserialize_with = "lenient::text")]
    first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_name: Option<String>,
    #[serde(rename = "pictureURL", deserialize_with = "lenient::text")]
    picture_url: Option<String>,
    email_addresses: List<Obj<EmailAddress>>,
}

#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default)]
struct EmailAddress {
    #[serde(deserialize_with = "lenient::text")]
    address: Option<String>,
}

#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default, rename_all = "camelCase")]
struct Roles {
    #[serde(deserialize_with = "lenient::flag")]
    is_account_admin: Option<bool>,
    #[serde(deserialize_with = "lenient::flag")]
    is_account_owner: Option<bool>,
}

impl CapsuleUser {
    /// Reads one member, given its unescaped key and its value's JSON text, as the derive reads
    /// it (the derive stays the definition; tests hold the two together). `None` for a field
    /// already `seen` (the derive refuses repeats) or a value the derive refuses or might:
    /// the caller then leaves the user to the derive. Used by the one-pass page reader.
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        let mut first = |bit: u16| scan::first_time(seen, bit);
        let v = || scan::scalar(value).ok();
        match key {
            "id" => {
                first(1)?;
                self.id = v()?.into_id();
            }
            "name" => {
                first(1 << 1)?;
                self.name = v()?.into_text();
            }
            "username" => {
                first(1 << 2)?;
                self.username = v()?.into_text();
            }
            "status" => {
                first(1 << 3)?;
                self.status = v()?.into_text();
            }
            "timezone" => {
                first(1 << 4)?;
                self.timezone = v()?.into_text();
            }
            "locale" => {
                first(1 << 5)?;
                self.locale = v()?.into_text();
            }
            "createdAt" => {
                first(1 << 6)?;
                self.created_at = v()?.into_text();
            }
            "updatedAt" => {
                first(1 << 7)?;
                self.updated_at = v()?.into_text();
            }
            "lastLoginAt" => {
                first(1 << 8)?;
                self.last_login_at = v()?.into_text();
            }
            "party" => {
                first(1 << 9)?;
                self.party = scan::object(value, Party::member)?;
            }
            "roles" => {
                first(1 << 10)?;
                self.roles = Some(scan::object(value, Roles::member)?);
            }
            _ => {}
        }
        Some(())
    }
}

impl Party {
    /// One member of the embedded party, as the derive reads it (see [`CapsuleUser::member`]).
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        let mut first = |bit: u16| scan::first_time(seen, bit);
        let v = || scan::scalar(value).ok();
        match key {
            "firstName" => {
                first(1)?;
                self.first_name = v()?.into_text();
            }
            "lastName" => {
                first(1 << 1)?;
                self.last_name = v()?.into_text();
            }
            "pictureURL" => {
                first(1 << 2)?;
                self.picture_url = v()?.into_text();
            }
            "emailAddresses" => {
                first(1 << 3)?;
                self.email_addresses =
                    scan::list(value, |item| scan::object(item, EmailAddress::member))?;
            }
            _ => {}
        }
        Some(())
    }
}

impl EmailAddress {
    /// One member of a party's email address, as the derive reads it.
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        if key == "address" {
            scan::first_time(seen, 1)?;
            self.address = scan::scalar(value).ok()?.into_text();
        }
        Some(())
    }
}

impl Roles {
    /// One member of `roles`, as the derive reads it.
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        let mut first = |bit: u16| scan::first_time(seen, bit);
        let v = || scan::scalar(value).ok();
        match key {
            "isAccountAdmin" => {
                first(1)?;
                self.is_account_admin = v()?.into_flag();
            }
            "isAccountOwner" => {
                first(1 << 1)?;
                self.is_account_owner = v()?.into_flag();
            }
            _ => {}
        }
        Some(())
    }
}

/// Maps a Capsule user object to the unified model (for callers holding a `Value`).
pub fn user_from_json(owned: Value) -> Result<User, ApiError> {
    let raw = RawJson::from(owned);
    let user = user_from_raw(raw.as_raw_value())?;
    Ok(User { raw, ..user })
}

/// Maps one user's JSON text to the unified model, keeping the text as `raw`.
pub fn user_from_raw(raw: &RawValue) -> Result<User, ApiError> {
    const WHAT: &str = "Capsule user";
    let u: CapsuleUser = typed_user(raw, WHAT)?;
    to_user(u, || RawJson::from_raw(raw)).ok_or_else(|| bad_id(WHAT, raw))
}

/// The unified user from the fields read and the user's whole JSON (made only when there is an
/// id); `None` without an id. Shared by both decodes.
fn to_user(u: CapsuleUser, raw: impl FnOnce() -> RawJson) -> Option<User> {
    let id = u.id?;
    let party = u.party.0.unwrap_or_default();
    let email = party
        .email_addresses
        .0
        .into_iter()
        .find_map(|e| e.0.and_then(|e| e.address));
    let admin = u.roles.map(|r| {
        r.0.is_some_and(|r| r.is_account_admin == Some(true) || r.is_account_owner == Some(true))
    });
    Some(User {
        id,
        display_name: display_name(
            u.name.as_deref(),
            party.first_name.as_deref(),
            party.last_name.as_deref(),
            u.username.as_deref(),
            email.as_deref(),
            id,
        ),
        active: u
            .status
            .as_deref()
            .map(|s| s.eq_ignore_ascii_case("ACTIVE")),
        status: u.status,
        username: u.username,
        email,
        first_name: party.first_name,
        last_name: party.last_name,
        admin,
        time_zone: u.timezone,
        locale: u.locale,
        created_at: iso_time(u.created_at),
        updated_at: iso_time(u.updated_at),
        last_login_at: iso_time(u.last_login_at),
        avatar_url: party.picture_url,
        raw: raw(),
    })
}

/// Capsule errors: `{"message":…,"errors":[{message,resource,field}]}` for 400/422, `{"message"}`
/// for auth/not-found, `{"error":"rate limit reached"}` for 429 (wait until `X-RateLimit-Reset`).
pub fn status_error(resp: &HttpResponse, at_ms: u64) -> ApiError {
    if matches!(resp.status, 400 | 422) {
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let mut fields = FieldErrors::new();
        if let Some(Value::Array(errors)) = body.get("errors") {
            for e in errors {
                let field = text(e, "field").unwrap_or_default();
                if let Some(m) = text(e, "message") {
                    fields.entry(field).or_default().push(m);
                }
            }
        }
        let message = text(&body, "message").unwrap_or_else(|| crate::error::snippet(&resp.body));
        return ApiError::Validation { message, fields };
    }
    generic_status_error(resp, at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const REFERENCE_LIST: &str = r#"{"users":[{"id":1,"locale":"en_GB","currency":"EUR","status":"ACTIVE",
 "party":{"id":1,"type":"person","firstName":"Scott","lastName":"Spacey",
          "pictureURL":"https://facehub.appspot.com/default/person?text=SS&size=100"},
 "username":"scott","timezone":"Europe/London","lastLoginAt":"2015-12-11T14:01:15Z",
 "name":"Scott Spacey","taskReminder":true}]}"#;

    fn target() -> Target {
        Target::bearer("http://127.0.0.1:1/proxy/c1/", "tok")
    }

    #[test]
    fn requests() {
        let r = list_request(&target(), 2, 500);
        assert_eq!(
            r.url,
            "http://127.0.0.1:1/proxy/c1/api/v2/users?page=2&perPage=100&embed=party,meta"
        );
        assert_eq!(r.header_value("authorization"), Some("Bearer tok"));
        assert_eq!(r.method, Method::Get);
        assert_eq!(
            get_request(&target(), 7).url,
            "http://127.0.0.1:1/proxy/c1/api/v2/users/7?embed=party"
        );
        assert_eq!(
            me_request(&target()).url,
            "http://127.0.0.1:1/proxy/c1/api/v2/users/current?embed=party"
        );
        assert!(
            list_request(&target(), 0, 0)
                .url
                .ends_with("page=1&perPage=50&embed=party,meta")
        );
    }

    #[test]
    fn reference_list_decodes() {
        let resp = HttpResponse::new(200, REFERENCE_LIST)
            .with_header(
                "Link",
                "<https://api.capsulecrm.com/api/v2/users?page=2&perPage=50>; rel=\"next\"",
            )
            .with_header("X-RateLimit-Remaining", "3999");
        let page = decode_list(&resp, 1, 50, 0).unwrap();
        assert!(page.has_next);
        assert_eq!(page.total, None);
        let u = &page.items[0];
        assert_eq!(u.id, 1);
        assert_eq!(u.display_name, "Scott Spacey");
        assert_eq!(u.username.as_deref(), Some("scott"));
        assert_eq!(u.first_name.as_deref(), Some("Scott"));
        assert_eq!(u.active, Some(true));
        assert_eq!(u.status.as_deref(), Some("ACTIVE"));
        assert_eq!(u.time_zone.as_deref(), Some("Europe/London"));
        assert_eq!(u.locale.as_deref(), Some("en_GB"));
        assert_eq!(u.last_login_at.as_deref(), Some("2015-12-11T14:01:15Z"));
        assert_eq!(
            u.avatar_url.as_deref(),
            Some("https://facehub.appspot.com/default/person?text=SS&size=100")
        );
        assert_eq!(u.email, None);
        assert_eq!(u.raw["taskReminder"], Value::Bool(true));
    }

    #[test]
    fn link_paging_and_last_page() {
        let resp = HttpResponse::new(200, "{}").with_header(
            "link",
            "<https://api.capsulecrm.com/api/v2/users?page=1&perPage=20>; rel=\"prev\", <https://api.capsulecrm.com/api/v2/users?page=3&perPage=20&embed=party>; rel=\"next\"",
        );
        assert_eq!(next_link(&resp), Some((3, Some(20))));
        // Commas inside a URL are part of it, not a separator.
        let commas = HttpResponse::new(200, "{}").with_header(
            "Link",
            "<https://api.capsulecrm.com/api/v2/users?embed=party,meta&page=1&perPage=20>; rel=\"prev\", <https://api.capsulecrm.com/api/v2/users?embed=party,meta&page=3&perPage=20>; rel=\"next\"",
        );
        assert_eq!(next_link(&commas), Some((3, Some(20))));
        let only_prev = HttpResponse::new(200, "{}").with_header(
            "Link",
            "<https://x.io/api/v2/users?a=1,2&page=1>; rel=\"prev\"",
        );
        assert_eq!(next_link(&only_prev), None);
        let last = HttpResponse::new(200, r#"{"users":[]}"#)
            .with_header(
                "Link",
                "<https://api.capsulecrm.com/api/v2/users?page=2>; rel=\"prev\"",
            )
            .with_header("X-Pagination-Has-More", "false");
        let page = decode_list(&last, 3, 20, 0).unwrap();
        assert!(!page.has_next);
        assert!(page.items.is_empty());
        assert_eq!(page.page, 3);
    }

    #[test]
    fn party_email_nulls_and_unicode() {
        let body = r#"{"user":{"id":"12","username":"zoë","name":null,"status":"INACTIVE",
            "party":{"firstName":null,"lastName":"Ünal","pictureURL":null,
                     "emailAddresses":[{"id":3,"type":"Work","address":"z\u00f6e@example.com"}]},
            "roles":{"isAccountAdmin":true},"newField":{"x":1}}}"#;
        let u = decode_user(&HttpResponse::new(200, body), 0).unwrap();
        assert_eq!(u.id, 12);
        assert_eq!(u.display_name, "Ünal");
        assert_eq!(u.email.as_deref(), Some("zöe@example.com"));
        assert_eq!(u.active, Some(false));
        assert_eq!(u.admin, Some(true));
        assert_eq!(u.avatar_url, None);
    }

    #[test]
    fn errors() {
        let r = HttpResponse::new(429, r#"{"error":"rate limit reached"}"#)
            .with_header("X-RateLimit-Reset", "1700000100")
            .with_header("X-RateLimit-Remaining", "0");
        assert_eq!(
            decode_list(&r, 1, 50, 1_700_000_000_000),
            Err(ApiError::RateLimited {
                until_ms: 1_700_000_100_000,
                message: "rate limit reached".into()
            })
        );
        let r = HttpResponse::new(401, r#"{"message":"Invalid token"}"#);
        assert!(matches!(
            decode_user(&r, 0),
            Err(ApiError::Unauthorized { .. })
        ));
        let r = HttpResponse::new(404, r#"{"message":"Could not find resource"}"#);
        assert_eq!(
            decode_user(&r, 0),
            Err(ApiError::NotFound {
                message: "Could not find resource".into()
            })
        );
        let r = HttpResponse::new(
            422,
            r#"{"message":"Validation Failed","errors":[{"message":"is invalid","resource":"user","field":"username"}]}"#,
        );
        assert_eq!(
            decode_user(&r, 0).unwrap_err().field_messages("username"),
            ["is invalid"]
        );
        assert!(matches!(
            decode_user(&HttpResponse::new(200, r#"{"users":[]}"#), 0),
            Err(ApiError::Decode { .. })
        ));
        assert!(matches!(
            decode_list(&HttpResponse::new(200, "<html>"), 1, 1, 0),
            Err(ApiError::Decode { .. })
        ));
        assert!(matches!(
            decode_list(
                &HttpResponse::new(200, r#"{"users":[{"name":"x"}]}"#),
                1,
                1,
                0
            ),
            Err(ApiError::Decode { .. })
        ));
    }

    #[test]
    fn typed_decode_keeps_wire_rules_and_raw_text() {
        let list = |body: &str| decode_list(&HttpResponse::new(200, body.to_string()), 1, 50, 0);
        let page = list(
            r#"{"users":[{"id":3,"roles":null,"party":{"emailAddresses":[{"address":null},7,{"address":"b@x.io"}]},"u":"a\/b"},
                {"id":4,"party":[],"status":5}],"meta":{"totalCount":"8"}}"#,
        )
        .unwrap();
        assert_eq!(page.total, Some(8));
        let (a, b) = (&page.items[0], &page.items[1]);
        assert_eq!(
            a.admin,
            Some(false),
            "roles present (even null) means known"
        );
        assert_eq!(a.email.as_deref(), Some("b@x.io"));
        assert!(
            a.raw.text().contains(r#""u":"a\/b""#),
            "raw text kept verbatim"
        );
        assert_eq!(a.raw["u"], "a/b");
        assert_eq!((b.admin, b.email.as_deref()), (None, None));
        assert_eq!((b.status.as_deref(), b.active), (Some("5"), Some(false)));
        for bad in [
            r#"{"users":[[1]]}"#,
            r#"{"users":null}"#,
            r#"{"users":{}}"#,
            r#"[{"users":[]}]"#,
            r#"{"users":[{"id":-1}]}"#,
            r#"{"users":[{"id":1}],"users":[]}"#,
        ] {
            assert!(matches!(list(bad), Err(ApiError::Decode { .. })), "{bad}");
        }
        let one = decode_user(&HttpResponse::new(200, r#" {"user":{"id":"9"}} "#), 0).unwrap();
        assert_eq!((one.id, one.raw.text()), (9, r#"{"id":"9"}"#));
        assert!(matches!(
            decode_user(&HttpResponse::new(200, r#"{"user":[{"id":1}]}"#), 0),
            Err(ApiError::Decode { .. })
        ));
    }
}
