//! App CRM (white-labelled Concord CRM, Laravel) users: lists in `data` with `meta` paging, single
//! objects bare, search results a bare array; validation as `{"errors":{field:[…]}}`; full-replace
//! PUTs; tokens from `POST /api/token`. Query translation: `q`, `search_fields`, `search_match`,
//! `order`, `select`, `per_page`.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::lenient::{self, Obj, RawList, Scalar};
use super::scan;
use super::{
    Target, bad_id, decode_users, flatten_errors, generic_status_error, iso_time, parse_json, text,
    typed_user,
};
use crate::error::{ApiError, FieldErrors};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::{Page, PasswordChange, User, UserDraft, display_name};
use crate::php::encode_component;
use crate::query::{Direction, Match, Op, UserField, UserQuery};
use crate::raw::RawJson;

mod page;

/// The header every App CRM answer names its release in (`1.5.1`).
pub const VERSION_HEADER: &str = "x-app-version";

/// `first_day_of_week`'s accepted values: Sunday, Monday, Saturday.
pub const FIRST_DAYS_OF_WEEK: [&str; 3] = ["0", "1", "6"];

/// Whether a release requires `first_day_of_week` on create, update and profile: v1.1 and v1.2 do
/// (and show it in the user object), later ones neither ask for it nor show it. A version that
/// does not read as `major.minor` is taken as a current one.
pub fn requires_first_day_of_week(version: &str) -> bool {
    let mut parts = version.trim().trim_start_matches(['v', 'V']).split('.');
    let number = |p: Option<&str>| p.and_then(|p| p.trim().parse::<u32>().ok());
    match (number(parts.next()), number(parts.next())) {
        (Some(major), Some(minor)) => major < 1 || (major == 1 && minor <= 2),
        _ => false,
    }
}

/// Whether a save's answer asks for `first_day_of_week`: how a client learns that the CRM is a
/// release that requires it when the release cannot be read (a browser sees `X-App-Version` only
/// if the CRM's CORS exposes it, and a Laravel app exposes no header unless configured to).
pub fn asks_for_first_day_of_week(error: &ApiError) -> bool {
    !error.field_messages("first_day_of_week").is_empty()
}

/// Time formats the server really accepts (the seed document's `G:i A`, `G:i a`, `H:i:s` are rejected).
pub const TIME_FORMATS: [&str; 3] = ["H:i", "h:i A", "h:i a"];
/// Date formats the server accepts (all eleven of the reference's list).
pub const DATE_FORMATS: [&str; 11] = [
    "d-m-Y",
    "d/m/Y",
    "m-d-Y",
    "m.d.Y",
    "m/d/Y",
    "Y-m-d",
    "d.m.Y",
    "F j, Y",
    "j F, Y",
    "D, F j, Y",
    "l, F j, Y",
];
/// Columns the server can search on (anything else is a 403).
pub const SEARCH_FIELDS: [&str; 3] = ["name", "email", "id"];
/// Columns known to exist for `order` (an unknown column is a 500).
pub const SORT_FIELDS: [&str; 7] = [
    "id",
    "name",
    "email",
    "created_at",
    "updated_at",
    "timezone",
    "locale",
];
/// Page size used when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 15;

const JSON: &str = "application/json";

/// A call without a body. The reference has every call carry `Content-Type: application/json`
/// beside `Accept`, reads and deletes included; calls with a body get it from the body.
fn bodiless(t: &Target, method: Method, path: &str) -> HttpRequest {
    t.request(method, path).header("Content-Type", JSON)
}

/// `GET /api/users?…` with the query translated to App CRM's parameters. Free text and
/// per-field conditions cannot be combined (both use `q`): that is an `Unsupported` error.
pub fn list_request(t: &Target, q: &UserQuery) -> Result<HttpRequest, ApiError> {
    if q.structure.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Err(ApiError::Unsupported {
            message: "App CRM can only match all or any conditions, not a custom structure".into(),
        });
    }
    let mut params: Vec<(&str, String)> = vec![
        ("page", q.page.max(1).to_string()),
        (
            "per_page",
            if q.page_size == 0 {
                DEFAULT_PER_PAGE
            } else {
                q.page_size
            }
            .to_string(),
        ),
    ];
    let conditions: Vec<_> = q.active_conditions().collect();
    match (q.search_text(), conditions.is_empty()) {
        (Some(_), false) => {
            return Err(ApiError::Unsupported {
                message: "App CRM cannot combine free text with field conditions".into(),
            });
        }
        (Some(text), true) => params.push(("q", text.to_string())),
        (None, false) => {
            let mut values = Vec::new();
            let mut fields = Vec::new();
            for c in conditions {
                let column = search_column(&c.field)?;
                let op = match c.op {
                    Op::Equals => "=",
                    Op::Contains => "like",
                    Op::In => "in",
                    Op::StartsWith => {
                        return Err(ApiError::Unsupported {
                            message: "App CRM has no starts-with search".into(),
                        });
                    }
                };
                let value = c.value.trim();
                if value.contains(';') {
                    return Err(ApiError::Unsupported {
                        message: "App CRM search values cannot contain ';'".into(),
                    });
                }
                values.push(format!("{column}:{value}"));
                fields.push(format!("{column}:{op}"));
            }
            params.push(("q", values.join(";")));
            params.push(("search_fields", fields.join(";")));
            if q.match_mode == Match::All {
                params.push(("search_match", "and".into()));
            }
        }
        (None, true) => {}
    }
    if let Some(sort) = &q.sort {
        let column = sort_column(&sort.field)?;
        params.push((
            "order",
            match sort.direction {
                Direction::Asc => column.to_string(),
                Direction::Desc => format!("{column}|desc"),
            },
        ));
    }
    if !q.fields.is_empty() {
        let mut cols: Vec<String> = vec!["id".into(), "name".into(), "email".into()];
        for f in &q.fields {
            let c = select_column(f)?;
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        params.push(("select", cols.join(";")));
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    Ok(bodiless(
        t,
        Method::Get,
        &format!("/api/users?{}", query.join("&")),
    ))
}

fn search_column(f: &UserField) -> Result<&'static str, ApiError> {
    match f {
        UserField::Id => Ok("id"),
        UserField::DisplayName => Ok("name"),
        UserField::Email => Ok("email"),
        UserField::Native(n) => {
            SEARCH_FIELDS
                .into_iter()
                .find(|c| c == n)
                .ok_or_else(|| ApiError::Unsupported {
                    message: format!("App CRM cannot search on {n}"),
                })
        }
        other => Err(ApiError::Unsupported {
            message: format!("App CRM cannot search on {other:?}"),
        }),
    }
}

fn sort_column(f: &UserField) -> Result<&'static str, ApiError> {
    let name = match f {
        UserField::Id => "id",
        UserField::DisplayName => "name",
        UserField::Email => "email",
        UserField::CreatedAt => "created_at",
        UserField::UpdatedAt => "updated_at",
        UserField::Native(n) => n.as_str(),
        _ => "",
    };
    SORT_FIELDS
        .into_iter()
        .find(|c| *c == name)
        .ok_or_else(|| ApiError::Unsupported {
            message: format!("App CRM cannot sort on {f:?}"),
        })
}

fn select_column(f: &UserField) -> Result<String, ApiError> {
    Ok(match f {
        UserField::Id => "id".into(),
        UserField::DisplayName => "name".into(),
        UserField::Email => "email".into(),
        UserField::CreatedAt => "created_at".into(),
        UserField::UpdatedAt => "updated_at".into(),
        UserField::Native(n) if n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            n.clone()
        }
        other => {
            return Err(ApiError::Unsupported {
                message: format!("App CRM cannot select {other:?}"),
            });
        }
    })
}

/// `GET /api/users/search?q=…&take=…` (quick lookups; a bare array, no paging).
pub fn search_request(t: &Target, text: &str, take: Option<u32>) -> HttpRequest {
    let mut path = format!("/api/users/search?q={}", encode_component(text));
    if let Some(n) = take {
        path.push_str(&format!("&take={n}"));
    }
    bodiless(t, Method::Get, &path)
}

/// `GET /api/users/{id}`.
pub fn get_request(t: &Target, id: u64) -> HttpRequest {
    bodiless(t, Method::Get, &format!("/api/users/{id}"))
}

/// `GET /api/me`.
pub fn me_request(t: &Target) -> HttpRequest {
    bodiless(t, Method::Get, "/api/me")
}

/// `DELETE /api/users/{id}`, optionally moving the user's records to another user.
pub fn delete_request(t: &Target, id: u64, transfer_to: Option<u64>) -> HttpRequest {
    match transfer_to {
        Some(to) => bodiless(
            t,
            Method::Delete,
            &format!("/api/users/{id}?transfer_data_to={to}"),
        ),
        None => bodiless(t, Method::Delete, &format!("/api/users/{id}")),
    }
}

/// `POST /api/token` exchanging email + password for a Sanctum token.
pub fn token_request(
    base_url: &str,
    email: &str,
    password: &str,
    device_name: &str,
) -> HttpRequest {
    let body = json!({"email": email, "password": password, "device_name": device_name});
    Target::new(base_url, Vec::new())
        .request(Method::Post, "/api/token")
        .body(JSON, body.to_string().into_bytes())
}

/// `POST /api/users` with every required field (defaults for formats and time zone).
pub fn create_request(t: &Target, draft: &UserDraft) -> HttpRequest {
    let mut body = Map::new();
    body.insert("timezone".into(), json!("UTC"));
    body.insert("date_format".into(), json!("Y-m-d"));
    body.insert("time_format".into(), json!("H:i"));
    apply_draft(&mut body, draft, false);
    t.request(Method::Post, "/api/users")
        .body(JSON, Value::Object(body).to_string().into_bytes())
}

/// `PUT /api/users/{id}`: a full replace, so the current user's values are sent again with the
/// draft's changes on top.
pub fn update_request(t: &Target, current: &User, draft: &UserDraft) -> HttpRequest {
    let mut body = replace_base(
        current,
        &[
            "super_admin",
            "access_api",
            "mail_signature",
            "first_day_of_week",
        ],
    );
    if let Some(Value::Array(roles)) = current.raw.get("roles") {
        let names: Vec<Value> = roles
            .iter()
            .filter_map(|r| text(r, "name"))
            .map(Value::String)
            .collect();
        body.insert("roles".into(), Value::Array(names));
    }
    apply_draft(&mut body, draft, false);
    t.request(Method::Put, &format!("/api/users/{}", current.id))
        .body(JSON, Value::Object(body).to_string().into_bytes())
}

/// App CRM answers a role name it does not have with a bare 500: its role library throws before
/// validation can name the field. When a create or update that names roles fails that way, the
/// likeliest cause goes on the roles field, where the admin can mend it. Any other failure, or a
/// save that named no roles, passes through unchanged.
pub fn blame_unknown_roles(error: ApiError, draft: &UserDraft) -> ApiError {
    let named_roles = matches!(draft.extra.get("roles"), Some(Value::Array(r)) if !r.is_empty());
    match error {
        ApiError::Upstream {
            status: 500,
            message,
        } if named_roles => ApiError::Validation {
            message: format!(
                "App CRM failed while saving ({message}), as it does for a role it does not have."
            ),
            fields: FieldErrors::from([(
                "roles".to_string(),
                vec![
                    "App CRM may have no role by one of these names: check each against its roles."
                        .to_string(),
                ],
            )]),
        },
        other => other,
    }
}

/// `PUT /api/profile`: the signed-in user's own settings. Only the profile keys are ever sent —
/// the real server passes unvalidated `password`/`roles` through.
pub fn profile_request(t: &Target, current: &User, draft: &UserDraft) -> HttpRequest {
    let mut body = replace_base(current, &["first_day_of_week"]);
    apply_draft(&mut body, draft, true);
    t.request(Method::Put, "/api/profile")
        .body(JSON, Value::Object(body).to_string().into_bytes())
}

/// `PUT /api/profile/password`.
pub fn password_request(t: &Target, change: &PasswordChange) -> HttpRequest {
    let body = json!({"old_password": change.old_password, "password": change.new_password,
        "password_confirmation": change.confirmation});
    t.request(Method::Put, "/api/profile/password")
        .body(JSON, body.to_string().into_bytes())
}

const PROFILE_KEYS: [&str; 7] = [
    "name",
    "email",
    "time_format",
    "date_format",
    "locale",
    "timezone",
    "first_day_of_week",
];

fn replace_base(current: &User, extra_keys: &[&str]) -> Map<String, Value> {
    let mut body = Map::new();
    for key in ["name", "email", "timezone", "date_format"]
        .iter()
        .chain(extra_keys)
    {
        if let Some(v) = current.raw.get(*key).filter(|v| !v.is_null()) {
            body.insert((*key).into(), v.clone());
        }
    }
    // Locale must be omitted rather than sent as null.
    if let Some(l) = text(&current.raw, "locale") {
        body.insert("locale".into(), Value::String(l));
    }
    if let Some(tf) = text(&current.raw, "time_format") {
        body.insert(
            "time_format".into(),
            Value::String(accepted_time_format(&tf).to_string()),
        );
    }
    body
}

/// Maps formats the server stores but rejects on input to the accepted equivalent, so saving an
/// unrelated change does not fail on a value the user never touched.
pub fn accepted_time_format(tf: &str) -> &str {
    match tf {
        "G:i A" | "g:i A" => "h:i A",
        "G:i a" | "g:i a" => "h:i a",
        "H:i:s" | "G:i" => "H:i",
        other => other,
    }
}

fn apply_draft(body: &mut Map<String, Value>, d: &UserDraft, profile: bool) {
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            body.insert(k.into(), Value::String(v.clone()));
        }
    };
    put("name", &d.name);
    put("email", &d.email);
    put("timezone", &d.time_zone);
    put("locale", &d.locale);
    if !profile {
        if let Some(p) = d.password.as_ref().filter(|p| !p.is_empty()) {
            let confirmation = d
                .extra
                .get("password_confirmation")
                .cloned()
                .unwrap_or_else(|| Value::String(p.clone()));
            body.insert("password".into(), Value::String(p.clone()));
            body.insert("password_confirmation".into(), confirmation);
        }
        if let Some(a) = d.admin {
            body.insert("super_admin".into(), Value::Bool(a));
        }
    }
    for (k, v) in &d.extra {
        let allowed = if profile {
            PROFILE_KEYS.contains(&k.as_str())
        } else {
            k != "password_confirmation"
        };
        if allowed {
            body.insert(k.clone(), v.clone());
        }
    }
    if body.get("locale").is_some_and(Value::is_null) {
        body.remove("locale");
    }
}

/// Decodes a list page from `{data, links, meta}`.
///
/// A plain paginated page is read in one pass (`appcrm/page.rs`); anything else goes through
/// the two-pass decode, which defines the answer, errors included.
pub fn decode_list(resp: &HttpResponse, at_ms: u64) -> Result<Page<User>, ApiError> {
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    let list = match page::read(&resp.body) {
        Some(list) => list,
        None => two_pass_list(resp)?,
    };
    Ok(to_page(list))
}

/// The page the decoded `data`, `meta` and `links` describe.
fn to_page(list: UserList) -> Page<User> {
    let UserList {
        items,
        meta,
        next_link,
    } = list;
    let page = u32::try_from(meta.current_page.unwrap_or(1)).unwrap_or(u32::MAX);
    Page {
        page_size: meta
            .per_page
            .map(|n| n as u32)
            .unwrap_or(items.len() as u32),
        total: meta.total,
        has_next: next_link || meta.last_page.is_some_and(|l| u64::from(page) < l),
        page,
        items,
    }
}

/// A list page's users, `meta` and whether `links.next` is a link, before paging is worked out.
#[cfg_attr(test, derive(Debug, PartialEq))]
struct UserList {
    items: Vec<User>,
    meta: Meta,
    next_link: bool,
}

/// The page read twice: the body with each user captured as text, then each user's text.
fn two_pass_list(resp: &HttpResponse) -> Result<UserList, ApiError> {
    let body = lenient::object::<ListBody>(&resp.body)
        .map_err(|_| ApiError::decode("App CRM users list", &resp.body))?
        .unwrap_or_default();
    let RawList::Items(items) = body.data else {
        return Err(ApiError::decode(
            "App CRM users list (no \"data\" array)",
            &resp.body,
        ));
    };
    Ok(UserList {
        items: decode_users(&items, user_from_raw)?,
        meta: body.meta.0.unwrap_or_default(),
        next_link: body.links.0.is_some_and(|l| l.next),
    })
}

/// Decodes the bare array of `/api/users/search`.
pub fn decode_search(resp: &HttpResponse, at_ms: u64) -> Result<Vec<User>, ApiError> {
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    match lenient::from_body::<RawList>(&resp.body) {
        Ok(RawList::Items(items)) => decode_users(&items, user_from_raw),
        Ok(_) => Err(ApiError::decode(
            "App CRM user search (not an array)",
            &resp.body,
        )),
        Err(_) => Err(ApiError::decode("App CRM user search", &resp.body)),
    }
}

/// Decodes a bare user object (read, create, update, me, profile). Tolerates a `data` wrapper.
pub fn decode_user(resp: &HttpResponse, at_ms: u64) -> Result<User, ApiError> {
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    let body = lenient::from_body::<&RawValue>(&resp.body)
        .map_err(|_| ApiError::decode("App CRM user", &resp.body))?;
    let probe = lenient::object_str::<Probe>(body.get())
        .map_err(|_| ApiError::decode("App CRM user", &resp.body))?;
    let obj = match probe {
        Some(Probe {
            id: false,
            data: Some(data),
        }) if lenient::is_object(data) => data,
        Some(_) => body,
        None => return Err(ApiError::decode("App CRM user (not an object)", &resp.body)),
    };
    user_from_raw(obj)
}

/// Decodes an empty success (delete 204, password 204).
pub fn decode_empty(resp: &HttpResponse, at_ms: u64) -> Result<(), ApiError> {
    if resp.is_success() {
        Ok(())
    } else {
        Err(status_error(resp, at_ms))
    }
}

/// Decodes `POST /api/token`: the access token, or `InvalidCredentials` for a 422.
pub fn decode_token(resp: &HttpResponse, at_ms: u64) -> Result<String, ApiError> {
    if resp.status == 422 {
        let message = match status_error(resp, at_ms) {
            ApiError::Validation { fields, message } => {
                fields.values().flatten().next().cloned().unwrap_or(message)
            }
            other => other.to_string(),
        };
        return Err(ApiError::InvalidCredentials { message });
    }
    if !resp.is_success() {
        return Err(status_error(resp, at_ms));
    }
    let body = parse_json(resp, "App CRM token")?;
    text(&body, "accessToken")
        .ok_or_else(|| ApiError::decode("App CRM token (no accessToken)", &resp.body))
}

/// `{data:[…], links:{…,next}, meta:{current_page,last_page,per_page,total,…}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ListBody<'a> {
    #[serde(borrow)]
    data: RawList<'a>,
    meta: Obj<Meta>,
    links: Obj<Links>,
}

#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default)]
struct Meta {
    #[serde(deserialize_with = "lenient::id")]
    current_page: Option<u64>,
    #[serde(deserialize_with = "lenient::id")]
    last_page: Option<u64>,
    #[serde(deserialize_with = "lenient::id")]
    per_page: Option<u64>,
    #[serde(deserialize_with = "lenient::id")]
    total: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Links {
    #[serde(deserialize_with = "lenient::is_string")]
    next: bool,
}

impl Meta {
    /// One member of `meta`, as the derive reads it (for the one-pass page reader).
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        let mut first = |bit: u16| scan::first_time(seen, bit);
        let v = || scan::scalar(value).ok();
        match key {
            "current_page" => {
                first(1)?;
                self.current_page = v()?.into_id();
            }
            "last_page" => {
                first(1 << 1)?;
                self.last_page = v()?.into_id();
            }
            "per_page" => {
                first(1 << 2)?;
                self.per_page = v()?.into_id();
            }
            "total" => {
                first(1 << 3)?;
                self.total = v()?.into_id();
            }
            _ => {}
        }
        Some(())
    }
}

impl Links {
    /// One member of `links`, as the derive reads it (`next` is a link when it is a string).
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        if key == "next" {
            scan::first_time(seen, 1)?;
            self.next = matches!(scan::scalar(value).ok()?, Scalar::Str(_));
        }
        Some(())
    }
}

/// What tells a bare user from one wrapped in `data`: an `id` key (any value) and a `data` object.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Probe<'a> {
    #[serde(deserialize_with = "lenient::present")]
    id: bool,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// The fields of an App CRM user the unified model needs; `notifications` (`[]` or an object),
/// `roles` and the rest stay in the raw text.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default)]
struct AppCrmUser {
    #[serde(deserialize_with = "lenient::id")]
    id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    display_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    email: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    super_admin: Option<bool>,
    #[serde(deserialize_with = "lenient::text")]
    timezone: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    locale: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    created_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    updated_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_active_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    avatar_url: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    uploaded_avatar_url: Option<String>,
}

/// Maps an App CRM user object to the unified model (for callers holding a `Value`).
pub fn user_from_json(owned: Value) -> Result<User, ApiError> {
    let raw = RawJson::from(owned);
    let user = user_from_raw(raw.as_raw_value())?;
    Ok(User { raw, ..user })
}

impl AppCrmUser {
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
            "display_name" => {
                first(1 << 2)?;
                self.display_name = v()?.into_text();
            }
            "email" => {
                first(1 << 3)?;
                self.email = v()?.into_text();
            }
            "super_admin" => {
                first(1 << 4)?;
                self.super_admin = v()?.into_flag();
            }
            "timezone" => {
                first(1 << 5)?;
                self.timezone = v()?.into_text();
            }
            "locale" => {
                first(1 << 6)?;
                self.locale = v()?.into_text();
            }
            "created_at" => {
                first(1 << 7)?;
                self.created_at = v()?.into_text();
            }
            "updated_at" => {
                first(1 << 8)?;
                self.updated_at = v()?.into_text();
            }
            "last_active_at" => {
                first(1 << 9)?;
                self.last_active_at = v()?.into_text();
            }
            "avatar_url" => {
                first(1 << 10)?;
                self.avatar_url = v()?.into_text();
            }
            "uploaded_avatar_url" => {
                first(1 << 11)?;
                self.uploaded_avatar_url = v()?.into_text();
            }
            _ => {}
        }
        Some(())
    }
}

/// Maps one user's JSON text to the unified model, keeping the text as `raw`.
pub fn user_from_raw(raw: &RawValue) -> Result<User, ApiError> {
    const WHAT: &str = "App CRM user";
    let u: AppCrmUser = typed_user(raw, WHAT)?;
    to_user(u, || RawJson::from_raw(raw)).ok_or_else(|| bad_id(WHAT, raw))
}

/// The unified user from the fields read and the user's whole JSON (made only when there is an
/// id); `None` without an id. Shared by both decodes.
fn to_user(u: AppCrmUser, raw: impl FnOnce() -> RawJson) -> Option<User> {
    let id = u.id?;
    Some(User {
        id,
        display_name: display_name(
            u.name.as_deref().or(u.display_name.as_deref()),
            None,
            None,
            None,
            u.email.as_deref(),
            id,
        ),
        username: None,
        email: u.email,
        first_name: None,
        last_name: None,
        active: None,
        status: None,
        admin: u.super_admin,
        time_zone: u.timezone,
        locale: u.locale,
        created_at: iso_time(u.created_at),
        updated_at: iso_time(u.updated_at),
        last_login_at: iso_time(u.last_active_at),
        avatar_url: u.avatar_url.or(u.uploaded_avatar_url),
        raw: raw(),
    })
}

/// App CRM errors: 422 `{"message","errors":{field:[…]}}`; 403 may use the key `error`; 429
/// carries `Retry-After`.
pub fn status_error(resp: &HttpResponse, at_ms: u64) -> ApiError {
    if resp.status == 422 {
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let mut fields = FieldErrors::new();
        if let Some(errors) = body.get("errors") {
            flatten_errors("", errors, &mut fields);
        }
        let message = text(&body, "message").unwrap_or_else(|| crate::error::snippet(&resp.body));
        return ApiError::Validation { message, fields };
    }
    generic_status_error(resp, at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::php::parse_pairs;

    #[test]
    fn releases_up_to_1_2_require_the_first_day_of_week() {
        for v in ["1.1.7", "1.2.1", "1.2", "v1.2.0", " 1.0.3 "] {
            assert!(requires_first_day_of_week(v), "{v}");
        }
        for v in [
            "1.3.0", "1.5.1", "2.0", "1.10.2", "", "1", "dev-main", "1.x",
        ] {
            assert!(!requires_first_day_of_week(v), "{v}");
        }
    }

    fn t() -> Target {
        Target::bearer("https://acme.appcrm.com.br", "1|abc")
    }

    #[test]
    fn every_call_names_json_both_ways_once() {
        let mut draft = UserDraft {
            name: Some("Ann".into()),
            email: Some("ann@example.com".into()),
            password: Some("secret-12".into()),
            ..Default::default()
        };
        draft.set("time_zone", json!("UTC"));
        let me = User {
            id: 7,
            ..User::default()
        };
        let change = PasswordChange {
            old_password: "old-secret".into(),
            new_password: "new-secret-1".into(),
            confirmation: "new-secret-1".into(),
        };
        let calls = [
            list_request(&t(), &UserQuery::default()).unwrap(),
            search_request(&t(), "ann", Some(5)),
            get_request(&t(), 7),
            me_request(&t()),
            delete_request(&t(), 7, None),
            delete_request(&t(), 7, Some(1)),
            token_request("https://acme.appcrm.com.br", "a@b.c", "pw", "userdeck"),
            create_request(&t(), &draft),
            update_request(&t(), &me, &draft),
            profile_request(&t(), &me, &draft),
            password_request(&t(), &change),
        ];
        for call in calls {
            for name in ["Accept", "Content-Type"] {
                let values: Vec<_> = call
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                assert_eq!(values, [JSON], "{name} of {:?} {}", call.method, call.url);
            }
        }
    }

    #[test]
    fn date_formats_are_the_references_eleven() {
        assert_eq!(
            DATE_FORMATS,
            [
                "d-m-Y",
                "d/m/Y",
                "m-d-Y",
                "m.d.Y",
                "m/d/Y",
                "Y-m-d",
                "d.m.Y",
                "F j, Y",
                "j F, Y",
                "D, F j, Y",
                "l, F j, Y",
            ]
        );
    }

    #[test]
    fn delete_can_transfer_records() {
        let plain = delete_request(&t(), 7, None);
        assert_eq!(plain.method, Method::Delete);
        assert_eq!(plain.url, "https://acme.appcrm.com.br/api/users/7");
        let moved = delete_request(&t(), 7, Some(3));
        assert_eq!(
            moved.url,
            "https://acme.appcrm.com.br/api/users/7?transfer_data_to=3"
        );
    }

    fn params(r: &HttpRequest) -> Vec<(String, String)> {
        parse_pairs(r.url.split_once('?').unwrap().1)
    }

    pub(super) const USER: &str = r#"{"id":2,"name":"Jos\u00e9 Silva","email":"jose@example.com","timezone":"America/Sao_Paulo",
        "locale":"pt_BR","avatar":null,"uploaded_avatar_url":null,"avatar_url":"https://acme.appcrm.com.br/avatar\/2.png",
        "mail_signature":"<p>Hi</p>","guest_email":"jose@example.com","guest_display_name":"José","teams":[],
        "super_admin":true,"access_api":true,"time_format":"G:i A","date_format":"m/d/Y","default_landing_page":"dashboard",
        "notifications":[],"display_name":"José Silva","created_at":"2024-05-01T10:20:30.000000Z",
        "updated_at":"2024-05-02T10:20:30.000000Z","authorizations":{"viewAny":true,"view":true,"create":true,"update":true,"delete":true},
        "was_recently_created":false,"roles":[{"id":1,"name":"Sales","permissions":[]}]}"#;

    #[test]
    fn list_query_translation() {
        let q = UserQuery::page(2, 25)
            .sorted(UserField::DisplayName, Direction::Desc)
            .text(" josé ");
        let p = params(&list_request(&t(), &q).unwrap());
        assert_eq!(
            p,
            [
                ("page".into(), "2".into()),
                ("per_page".into(), "25".into()),
                ("q".into(), "josé".into()),
                ("order".into(), "name|desc".into())
            ]
        );
        let q = UserQuery::default()
            .with(UserField::Email, Op::Equals, "a@b.com")
            .with(UserField::DisplayName, Op::Contains, "John")
            .with(UserField::Id, Op::In, "1,2");
        let p = params(&list_request(&t(), &q).unwrap());
        assert!(p.contains(&("q".into(), "email:a@b.com;name:John;id:1,2".into())));
        assert!(p.contains(&("search_fields".into(), "email:=;name:like;id:in".into())));
        assert!(p.contains(&("search_match".into(), "and".into())));
        assert!(p.contains(&("per_page".into(), "15".into())));
        let any = list_request(&t(), &q.clone().matching(Match::Any)).unwrap();
        assert!(!params(&any).iter().any(|(k, _)| k == "search_match"));
        let sel = UserQuery {
            fields: vec![UserField::CreatedAt, UserField::Email],
            ..UserQuery::default()
        };
        assert!(
            params(&list_request(&t(), &sel).unwrap())
                .contains(&("select".into(), "id;name;email;created_at".into()))
        );
    }

    #[test]
    fn unsupported_queries_fail_before_sending() {
        let both = UserQuery::default()
            .text("x")
            .with(UserField::Email, Op::Equals, "y");
        assert!(matches!(
            list_request(&t(), &both),
            Err(ApiError::Unsupported { .. })
        ));
        let bad_field = UserQuery::default().with(UserField::Username, Op::Equals, "y");
        assert!(matches!(
            list_request(&t(), &bad_field),
            Err(ApiError::Unsupported { .. })
        ));
        let bad_sort =
            UserQuery::default().sorted(UserField::Native("drop table".into()), Direction::Asc);
        assert!(matches!(
            list_request(&t(), &bad_sort),
            Err(ApiError::Unsupported { .. })
        ));
    }

    #[test]
    fn decodes_reference_shapes() {
        let list = format!(
            r#"{{"data":[{USER}],"links":{{"first":"https://x/api/users?page=1","last":"https://x/api/users?page=3","prev":null,"next":"https://x/api/users?page=2"}},
            "meta":{{"current_page":1,"from":1,"last_page":3,"links":[{{"url":null,"label":"&laquo; Previous","active":false}}],"path":"https://x/api/users","per_page":15,"to":15,"total":31}}}}"#
        );
        let page = decode_list(&HttpResponse::new(200, list), 0).unwrap();
        assert_eq!(
            (page.page, page.page_size, page.total, page.has_next),
            (1, 15, Some(31), true)
        );
        let u = &page.items[0];
        assert_eq!(u.display_name, "José Silva");
        assert_eq!(u.admin, Some(true));
        assert_eq!(
            u.avatar_url.as_deref(),
            Some("https://acme.appcrm.com.br/avatar/2.png")
        );
        assert_eq!(u.created_at.as_deref(), Some("2024-05-01T10:20:30Z"));
        let single = decode_user(&HttpResponse::new(200, USER), 0).unwrap();
        assert_eq!(single.id, 2);
        let found = decode_search(&HttpResponse::new(200, format!("[{USER}]")), 0).unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            decode_search(&HttpResponse::new(200, "[]"), 0)
                .unwrap()
                .is_empty()
        );
        let empty = r#"{"data":[],"links":{"first":null,"last":null,"prev":null,"next":null},"meta":{"current_page":1,"from":null,"last_page":1,"per_page":15,"to":null,"total":0}}"#;
        let page = decode_list(&HttpResponse::new(200, empty), 0).unwrap();
        assert_eq!(
            (page.items.len(), page.total, page.has_next),
            (0, Some(0), false)
        );
        assert!(matches!(
            decode_list(&HttpResponse::new(200, USER), 0),
            Err(ApiError::Decode { .. })
        ));
    }

    #[test]
    fn update_is_a_full_replace_with_accepted_formats() {
        let current = decode_user(&HttpResponse::new(200, USER), 0).unwrap();
        let draft = UserDraft {
            name: Some("New".into()),
            ..UserDraft::default()
        };
        let req = update_request(&t(), &current, &draft);
        assert_eq!(req.method, Method::Put);
        assert!(req.url.ends_with("/api/users/2"));
        let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["name"], "New");
        assert_eq!(body["email"], "jose@example.com");
        assert_eq!(body["timezone"], "America/Sao_Paulo");
        assert_eq!(body["time_format"], "h:i A");
        assert_eq!(body["date_format"], "m/d/Y");
        assert_eq!(body["locale"], "pt_BR");
        assert_eq!(body["roles"], json!(["Sales"]));
        assert!(body.get("password").is_none());
        let profile = profile_request(
            &t(),
            &current,
            &UserDraft {
                password: Some("x".into()),
                admin: Some(true),
                ..draft
            },
        );
        let body: Value = serde_json::from_slice(profile.body.as_deref().unwrap()).unwrap();
        assert!(
            body.get("password").is_none()
                && body.get("roles").is_none()
                && body.get("super_admin").is_none()
        );
        assert_eq!(body["time_format"], "h:i A");
    }

    #[test]
    fn create_and_password_bodies() {
        let mut d = UserDraft {
            name: Some("A".into()),
            email: Some("a@x.io".into()),
            password: Some("secret1".into()),
            ..UserDraft::default()
        };
        d.set("time_format", json!("h:i a"));
        d.locale = None;
        let body: Value =
            serde_json::from_slice(create_request(&t(), &d).body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"name":"A","email":"a@x.io","password":"secret1","password_confirmation":"secret1",
            "timezone":"UTC","date_format":"Y-m-d","time_format":"h:i a"})
        );
        let pw = password_request(
            &t(),
            &PasswordChange {
                old_password: "o".into(),
                new_password: "n".into(),
                confirmation: "n".into(),
            },
        );
        assert!(pw.url.ends_with("/api/profile/password"));
        let tok = token_request("https://x/", "a@b", "pw", "userdeck");
        assert_eq!(tok.url, "https://x/api/token");
        assert!(tok.header_value("Authorization").is_none());
    }

    #[test]
    fn errors_and_token() {
        let r = HttpResponse::new(
            422,
            r#"{"message":"The name field is required. (and 2 more errors)","errors":{"name":["The name field is required."],"email":["The email has already been taken."]}}"#,
        );
        let e = decode_user(&r, 0).unwrap_err();
        assert_eq!(
            e.field_messages("email"),
            ["The email has already been taken."]
        );
        let r = HttpResponse::new(
            422,
            r#"{"message":"x","errors":{"email":["These credentials do not match our records."]}}"#,
        );
        assert_eq!(
            decode_token(&r, 0),
            Err(ApiError::InvalidCredentials {
                message: "These credentials do not match our records.".into()
            })
        );
        let ok = HttpResponse::new(
            200,
            r#"{"accessToken":"5|abcdef","userId":1,"email":"a@b","name":"A"}"#,
        );
        assert_eq!(decode_token(&ok, 0), Ok("5|abcdef".into()));
        let r = HttpResponse::new(
            403,
            r#"{"error":"Your account is not authorized to perform API requests."}"#,
        );
        assert_eq!(
            decode_user(&r, 0),
            Err(ApiError::Forbidden {
                message: "Your account is not authorized to perform API requests.".into()
            })
        );
        let r = HttpResponse::new(409, r#"{"message":"You cannot delete your own account."}"#);
        assert!(matches!(
            decode_empty(&r, 0),
            Err(ApiError::Conflict { .. })
        ));
        let r = HttpResponse::new(429, r#"{"message":"Too Many Attempts."}"#)
            .with_header("Retry-After", "12")
            .with_header("X-RateLimit-Remaining", "0");
        assert_eq!(
            decode_list(&r, 1_000),
            Err(ApiError::RateLimited {
                until_ms: 13_000,
                message: "Too Many Attempts.".into()
            })
        );
        assert_eq!(decode_empty(&HttpResponse::new(204, ""), 0), Ok(()));
        assert!(matches!(
            decode_user(&HttpResponse::new(500, r#"{"message":"Server Error"}"#), 0),
            Err(ApiError::Upstream { status: 500, .. })
        ));
        assert!(matches!(
            decode_user(
                &HttpResponse::new(401, r#"{"message":"Unauthenticated."}"#),
                0
            ),
            Err(ApiError::Unauthorized { .. })
        ));
    }

    #[test]
    fn typed_decode_keeps_wire_rules_and_raw_text() {
        let mine = USER.replace(
            r#""notifications":[]"#,
            r#""notifications":{"unread_count":2,"settings":[]}"#,
        );
        let u = decode_user(&HttpResponse::new(200, mine.clone()), 0).unwrap();
        assert_eq!(u.raw["notifications"]["unread_count"], 2);
        assert_eq!(u.raw.text(), mine.trim());
        let wrapped =
            decode_user(&HttpResponse::new(200, format!(r#"{{"data":{USER}}}"#)), 0).unwrap();
        assert_eq!(wrapped.id, 2);
        assert_eq!(wrapped.raw.text(), USER);
        // An `id` key (even null) means the body is the user itself, not a wrapper.
        assert!(matches!(
            decode_user(
                &HttpResponse::new(200, format!(r#"{{"id":null,"data":{USER}}}"#)),
                0
            ),
            Err(ApiError::Decode { .. })
        ));
        let page = decode_list(
            &HttpResponse::new(200, r#"{"data":[{"id":"4","super_admin":"0","name":""}],"links":{"next":null},"meta":{"current_page":"2","last_page":2,"per_page":"10","total":"11"}}"#),
            0,
        )
        .unwrap();
        assert_eq!(
            (page.page, page.page_size, page.total, page.has_next),
            (2, 10, Some(11), false)
        );
        assert_eq!(
            (page.items[0].admin, page.items[0].display_name.as_str()),
            (Some(false), "#4")
        );
        assert!(matches!(
            decode_search(&HttpResponse::new(200, r#"{"data":[]}"#), 0),
            Err(ApiError::Decode { .. })
        ));
        assert!(matches!(
            decode_list(&HttpResponse::new(200, r#"{"data":[[4]]}"#), 0),
            Err(ApiError::Decode { .. })
        ));
    }

    #[test]
    fn a_500_on_a_save_that_names_roles_lands_on_the_roles_field() {
        let server_error = || ApiError::Upstream {
            status: 500,
            message: "Server Error".into(),
        };
        let mut draft = UserDraft::default();
        draft.set("roles", json!(["Sales Manager", "Suport"]));
        match blame_unknown_roles(server_error(), &draft) {
            ApiError::Validation { message, fields } => {
                assert!(message.contains("Server Error"), "{message}");
                assert_eq!(fields.keys().collect::<Vec<_>>(), ["roles"]);
            }
            other => panic!("{other:?}"),
        }
        // No roles named, no roles blamed; and only a 500 is the role library's.
        assert_eq!(
            blame_unknown_roles(server_error(), &UserDraft::default()),
            server_error()
        );
        draft.set("roles", json!([]));
        assert_eq!(blame_unknown_roles(server_error(), &draft), server_error());
        draft.set("roles", json!(["Suport"]));
        let unreachable = ApiError::Upstream {
            status: 502,
            message: "down".into(),
        };
        assert_eq!(
            blame_unknown_roles(unreachable.clone(), &draft),
            unreachable
        );
    }
}
