//! Zurmo REST users: every result is HTTP 200 with a `{"status","data","message","errors"}`
//! envelope (FAILURE is only visible in `status`); bodies are PHP-bracket form data; filters go in
//! the path as `http_build_query` output, or as a `dynamicSearch` POST when they need OR logic or
//! contain characters the path form cannot carry. Booleans arrive as `"1"`/`"0"`.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::lenient::{self, Obj, RawList};
use super::scan;
use super::{
    Target, bad_id, decode_users, flatten_errors, generic_status_error, iso_time, text, typed_user,
};
use crate::error::{ApiError, FieldErrors};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::{Page, User, UserDraft, display_name};
use crate::php::http_build_query;
use crate::query::{Direction, Match, Op, Sort, UserField, UserQuery};
use crate::raw::RawJson;

mod page;

/// Zurmo's default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 10;
/// The message of an expired or missing session.
pub const SIGN_IN_REQUIRED: &str = "Sign in required.";

const FORM: &str = "application/x-www-form-urlencoded";

/// A Zurmo API session from a successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZurmoSession {
    pub session_id: String,
    pub token: String,
}

impl ZurmoSession {
    /// The headers that authenticate later calls.
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("ZURMO_SESSION_ID".into(), self.session_id.clone()),
            ("ZURMO_TOKEN".into(), self.token.clone()),
            ("ZURMO_API_REQUEST_TYPE".into(), "REST".into()),
        ]
    }
}

/// `POST zurmo/api/login` with the credentials in headers and no body.
pub fn login_request(base_url: &str, username: &str, password: &str) -> HttpRequest {
    Target::new(base_url, Vec::new())
        .request(Method::Post, "/zurmo/api/login")
        .header("ZURMO_AUTH_USERNAME", username)
        .header("ZURMO_AUTH_PASSWORD", password)
        .header("ZURMO_API_REQUEST_TYPE", "REST")
}

/// Whether `body` is Zurmo's HTTP-200 "Sign in required." envelope: the session expired or was
/// never valid. For code that relays Zurmo answers (the proxy) and must re-sign in on it.
pub fn is_sign_in_required(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        status: Option<String>,
        message: Option<String>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|p| {
        p.status.as_deref() == Some("FAILURE") && p.message.as_deref() == Some(SIGN_IN_REQUIRED)
    })
}

/// `GET zurmo/api/logout`.
pub fn logout_request(t: &Target) -> HttpRequest {
    t.request(Method::Get, "/zurmo/api/logout")
}

/// Decodes the login answer into a session, or `InvalidCredentials`/`Forbidden`.
pub fn decode_login(resp: &HttpResponse, at_ms: u64) -> Result<ZurmoSession, ApiError> {
    let data = match envelope(resp, "Zurmo login", at_ms) {
        Ok(data) => data,
        Err(ApiError::Upstream {
            status: 200,
            message,
        }) if message.contains("username or password") => {
            return Err(ApiError::InvalidCredentials { message });
        }
        Err(ApiError::Upstream {
            status: 200,
            message,
        }) => return Err(ApiError::Forbidden { message }),
        Err(e) => return Err(e),
    };
    match (text(&data, "sessionId"), text(&data, "token")) {
        (Some(session_id), Some(token)) => Ok(ZurmoSession { session_id, token }),
        _ => Err(ApiError::decode(
            "Zurmo login (no sessionId/token)",
            &resp.body,
        )),
    }
}

/// `GET users/user/api/read/{id}`.
pub fn get_request(t: &Target, id: u64) -> HttpRequest {
    t.request(Method::Get, &format!("/users/user/api/read/{id}"))
}

/// `GET users/user/api/getAuthenticatedUser` (Zurmo 3.x).
pub fn me_request(t: &Target) -> HttpRequest {
    t.request(Method::Get, "/users/user/api/getAuthenticatedUser")
}

/// Whether `error`, the answer to [`me_request`], says the route does not exist: Zurmo 2.x has
/// no `getAuthenticatedUser`, and an unknown route gets the framework's HTML error page with a
/// 404 (Yii sends the status of its `CHttpException`).
pub fn lacks_authenticated_user(error: &ApiError) -> bool {
    matches!(error, ApiError::NotFound { .. })
}

/// Why Me cannot be answered directly by such a Zurmo.
pub const NO_AUTHENTICATED_USER: &str =
    "this Zurmo cannot say who is signed in (getAuthenticatedUser came with Zurmo 3)";

/// Where Zurmo 2.x finds the signed-in user instead: by the username they signed in with.
/// Zurmo matches text by prefix, so the list is sorted by username, which puts the exact name
/// (if any) first; [`named`] picks it.
pub fn username_query(username: &str) -> UserQuery {
    UserQuery {
        sort: Some(Sort {
            field: UserField::Username,
            direction: Direction::Asc,
        }),
        page_size: DEFAULT_PAGE_SIZE,
        ..UserQuery::default().with(UserField::Username, Op::StartsWith, username)
    }
}

/// The user among `users` whose username is `username` (Zurmo compares usernames without case:
/// it keeps them lowercase).
pub fn named(users: Vec<User>, username: &str) -> Option<User> {
    users.into_iter().find(|u| {
        u.username
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(username))
    })
}

/// `DELETE users/user/api/delete/{id}`.
pub fn delete_request(t: &Target, id: u64) -> HttpRequest {
    t.request(Method::Delete, &format!("/users/user/api/delete/{id}"))
}

/// `POST users/user/api/create/` with `data[…]` form fields.
pub fn create_request(t: &Target, draft: &UserDraft) -> HttpRequest {
    let body = http_build_query(&json!({ "data": draft_data(draft) }));
    t.request(Method::Post, "/users/user/api/create/")
        .body(FORM, body.into_bytes())
}

/// `PUT users/user/api/update/{id}`: partial, only the draft's fields change.
pub fn update_request(t: &Target, id: u64, draft: &UserDraft) -> HttpRequest {
    let body = http_build_query(&json!({ "data": draft_data(draft) }));
    t.request(Method::Put, &format!("/users/user/api/update/{id}"))
        .body(FORM, body.into_bytes())
}

/// The `data` object for create/update; dotted extra keys (`primaryAddress.city`) nest.
pub fn draft_data(d: &UserDraft) -> Value {
    let mut data = Map::new();
    let mut put = |path: &str, v: Value| insert_path(&mut data, path, v);
    let s = |v: &Option<String>| v.clone().map(Value::String);
    for (path, v) in [
        ("username", s(&d.username)),
        ("firstName", s(&d.first_name)),
        ("lastName", s(&d.last_name)),
        ("primaryEmail.emailAddress", s(&d.email)),
        ("password", s(&d.password).filter(|p| p != "")),
        ("timeZone", s(&d.time_zone)),
        ("locale", s(&d.locale)),
        (
            "isActive",
            d.active.map(|a| json!(if a { "1" } else { "0" })),
        ),
    ] {
        if let Some(v) = v {
            put(path, v);
        }
    }
    for (k, v) in &d.extra {
        put(k, v.clone());
    }
    Value::Object(data)
}

fn insert_path(map: &mut Map<String, Value>, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), v);
        }
        Some((head, rest)) => {
            let child = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(m) = child {
                insert_path(m, rest, v);
            }
        }
    }
}

/// A list/search request. Plain paging and AND-only conditions with path-safe values use
/// `GET list/filter/{http_build_query}`; free text, OR matching, a custom structure
/// ([`UserQuery::structure`], checked first: a bad one is `InvalidQuery`), or values with
/// `/ & + % = # ?` use `POST list/filter/` with a `dynamicSearch` and its structure string.
pub fn list_request(t: &Target, q: &UserQuery) -> Result<HttpRequest, ApiError> {
    let custom = q.checked_structure()?;
    let page_size = if q.page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        q.page_size
    };
    let mut params = Map::new();
    params.insert(
        "pagination".into(),
        json!({"page": q.page.max(1), "pageSize": page_size}),
    );
    if let Some(sort) = &q.sort {
        let attr = sort_attribute(&sort.field)?;
        let value = match sort.direction {
            Direction::Asc => attr,
            Direction::Desc => format!("{attr}.desc"),
        };
        params.insert("sort".into(), Value::String(value));
    }
    let conditions: Vec<_> = q.active_conditions().collect();
    let mut clauses = Vec::new();
    for c in &conditions {
        clauses.push((
            search_attribute(&c.field, c.op)?,
            c.value.trim().to_string(),
        ));
    }
    let text = q.search_text();
    let all_safe = clauses.iter().all(|(_, v)| path_safe(v));
    // `search[...]` holds one value per attribute: two conditions on one field need clauses.
    let distinct = clauses
        .iter()
        .enumerate()
        .all(|(i, (a, _))| clauses.iter().skip(i + 1).all(|(b, _)| a != b));
    if custom.is_none()
        && distinct
        && text.is_none()
        && (q.match_mode == Match::All || clauses.len() < 2)
        && all_safe
    {
        if !clauses.is_empty() {
            let mut search = Map::new();
            for (attr, value) in clauses {
                insert_path(&mut search, &attr, Value::String(value));
            }
            params.insert("search".into(), Value::Object(search));
        }
        let path = format!(
            "/users/user/api/list/filter/{}",
            http_build_query(&Value::Object(params))
        );
        return Ok(t.request(Method::Get, &path));
    }
    let (dynamic_clauses, structure) = dynamic_search(text, &clauses, q.match_mode, custom);
    params.insert(
        "dynamicSearch".into(),
        json!({"dynamicClauses": dynamic_clauses, "dynamicStructure": structure}),
    );
    let body = http_build_query(&json!({ "data": Value::Object(params) }));
    Ok(t.request(Method::Post, "/users/user/api/list/filter/")
        .body(FORM, body.into_bytes()))
}

/// Builds `dynamicClauses` and the structure string: free text as `(1 OR 2 OR 3)` over full name,
/// username and any email, then the conditions joined with AND or OR, or by `custom` (a checked
/// structure numbering the conditions from 1; shifted past the free-text clauses when there are any).
pub fn dynamic_search(
    text: Option<&str>,
    clauses: &[(String, String)],
    mode: Match,
    custom: Option<&str>,
) -> (Vec<Value>, String) {
    let mut out = Vec::new();
    let mut groups = Vec::new();
    let add = |attr: &str, value: &str, out: &mut Vec<Value>| -> usize {
        let pos = out.len() + 1;
        let mut clause = Map::new();
        let head = attr.split('.').next().unwrap_or(attr);
        clause.insert(
            "attributeIndexOrDerivedType".into(),
            Value::String(head.to_string()),
        );
        clause.insert("structurePosition".into(), json!(pos));
        insert_path(&mut clause, attr, Value::String(value.to_string()));
        out.push(Value::Object(clause));
        pos
    };
    if let Some(text) = text {
        let positions: Vec<String> = ["fullName", "username", "anyEmail"]
            .iter()
            .map(|a| add(a, text, &mut out).to_string())
            .collect();
        groups.push(positions);
    }
    if !clauses.is_empty() {
        groups.push(
            clauses
                .iter()
                .map(|(a, v)| add(a, v, &mut out).to_string())
                .collect(),
        );
    }
    let joiner = match mode {
        Match::All => " AND ",
        Match::Any => " OR ",
    };
    let offset = groups
        .first()
        .filter(|_| text.is_some())
        .map_or(0, Vec::len);
    let conds_structure = |conds: &[String]| match custom {
        Some(c) => shift_positions(c, offset),
        None => conds.join(joiner),
    };
    let structure = match groups.as_slice() {
        [only] if text.is_some() => only.join(" OR "),
        [only] => conds_structure(only),
        [text_group, conds] => {
            format!(
                "({}) AND ({})",
                text_group.join(" OR "),
                conds_structure(conds)
            )
        }
        _ => String::new(),
    };
    (out, structure)
}

/// Adds `offset` to every position number of a structure, leaving the rest as written.
fn shift_positions(structure: &str, offset: usize) -> String {
    if offset == 0 {
        return structure.to_string();
    }
    let mut out = String::with_capacity(structure.len() + 8);
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if !digits.is_empty() {
            // Checked structures hold only small numbers; anything else is kept as written.
            match digits.parse::<usize>() {
                Ok(n) => out.push_str(&(n + offset).to_string()),
                Err(_) => out.push_str(digits),
            }
            digits.clear();
        }
    };
    for c in structure.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// Values the path form carries unchanged through the server's decoding.
fn path_safe(v: &str) -> bool {
    !v.chars()
        .any(|c| matches!(c, '/' | '&' | '+' | '%' | '=' | '#' | '?' | '\\'))
}

fn search_attribute(f: &UserField, op: Op) -> Result<String, ApiError> {
    let (attr, text_like) = match f {
        UserField::Username => ("username".to_string(), true),
        UserField::FirstName => ("firstName".to_string(), true),
        UserField::LastName => ("lastName".to_string(), true),
        UserField::DisplayName => ("fullName".to_string(), true),
        UserField::Email => ("primaryEmail.emailAddress".to_string(), true),
        UserField::Active => ("isActive".to_string(), false),
        UserField::Native(n) if valid_attr(n) => {
            let id_like = n.ends_with(".id") || n == "isActive";
            (n.clone(), !id_like)
        }
        other => {
            return Err(ApiError::Unsupported {
                message: format!("Zurmo cannot search on {}", short_name(other)),
            });
        }
    };
    match (op, text_like) {
        (Op::StartsWith, true) | (Op::Equals, false) => Ok(attr),
        _ => Err(ApiError::Unsupported {
            message: format!(
                "Zurmo matches {attr} {}",
                if text_like {
                    "by prefix only"
                } else {
                    "exactly only"
                }
            ),
        }),
    }
}

fn sort_attribute(f: &UserField) -> Result<String, ApiError> {
    Ok(match f {
        UserField::Id => "id".into(),
        UserField::Username => "username".into(),
        UserField::FirstName => "firstName".into(),
        UserField::LastName | UserField::DisplayName => "lastName".into(),
        UserField::CreatedAt => "createdDateTime".into(),
        UserField::UpdatedAt => "modifiedDateTime".into(),
        UserField::LastLoginAt => "lastLoginDateTime".into(),
        UserField::Native(n) if valid_attr(n) && !n.contains('.') => n.clone(),
        other => {
            return Err(ApiError::Unsupported {
                message: format!("Zurmo cannot sort on {}", short_name(other)),
            });
        }
    })
}

/// A field as an error names it, cut short: a link's field name can be of any length.
fn short_name(f: &UserField) -> String {
    let full = format!("{f:?}");
    match full.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &full[..at]),
        None => full,
    }
}

/// Zurmo's attributes nest a relation or two deep (`primaryAddress.city`, `manager.id`).
/// Deeper paths are refused: a link's field name reaches here, and each segment is one more level
/// of the nested search the filter is built from (20,000 segments overflowed the browser's stack).
const MAX_ATTR_DEPTH: usize = 4;
const MAX_ATTR_LEN: usize = 64;

fn valid_attr(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_ATTR_LEN
        && n.split('.').count() <= MAX_ATTR_DEPTH
        && n.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Opens the envelope: `data` on SUCCESS, a classified error on FAILURE or a non-JSON body.
pub fn envelope(resp: &HttpResponse, what: &str, at_ms: u64) -> Result<Value, ApiError> {
    open(resp, what, at_ms)
}

/// `{"status","data","message","errors"}` with `data` decoded as `D` straight from the body (so
/// a list page is read once); `message` and `errors` are only read again on FAILURE.
#[derive(Deserialize)]
struct Envelope<D> {
    #[serde(default, deserialize_with = "lenient::text")]
    status: Option<String>,
    #[serde(default)]
    data: D,
}

/// [`envelope`] with `data` decoded as `D` (its `Default` when absent).
fn open<'a, D: Deserialize<'a> + Default>(
    resp: &'a HttpResponse,
    what: &str,
    at_ms: u64,
) -> Result<D, ApiError> {
    if !resp.is_success() {
        return Err(generic_status_error(resp, at_ms));
    }
    let body = lenient::object::<Envelope<D>>(&resp.body)
        .map_err(|_| ApiError::decode(what, &resp.body))?;
    match body {
        Some(Envelope {
            status: Some(s),
            data,
        }) if s == "SUCCESS" => Ok(data),
        Some(Envelope {
            status: Some(s), ..
        }) if s == "FAILURE" => {
            let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
            Err(failure(&body))
        }
        _ => Err(ApiError::decode(
            format!("{what} (no SUCCESS/FAILURE status)"),
            &resp.body,
        )),
    }
}

fn failure(body: &Value) -> ApiError {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut fields = FieldErrors::new();
    if let Some(errors) = body.get("errors") {
        flatten_errors("", errors, &mut fields);
    }
    if !fields.is_empty() {
        return ApiError::Validation { message, fields };
    }
    match message.as_str() {
        SIGN_IN_REQUIRED => ApiError::SessionExpired,
        "The ID specified was invalid." => ApiError::NotFound { message },
        "You do not have rights to perform this action." => ApiError::Forbidden { message },
        "Please provide data." => ApiError::Validation {
            fields: FieldErrors::from([(String::new(), vec![message.clone()])]),
            message,
        },
        "" => ApiError::Validation {
            message:
                "Zurmo refused the change without a reason (an unknown manager or currency id?)"
                    .into(),
            fields,
        },
        _ => ApiError::Upstream {
            status: 200,
            message,
        },
    }
}

/// Decodes a user result (read, create, update, current user).
pub fn decode_user(resp: &HttpResponse, at_ms: u64) -> Result<User, ApiError> {
    match open::<Option<&RawValue>>(resp, "Zurmo user", at_ms)? {
        Some(data) if lenient::is_object(data) => user_from_raw(data),
        _ => Err(ApiError::decode(
            "Zurmo user (data is not an object)",
            &resp.body,
        )),
    }
}

/// Decodes a delete result. An empty FAILURE message here means "the last super administrator".
pub fn decode_deleted(resp: &HttpResponse, at_ms: u64) -> Result<(), ApiError> {
    match envelope(resp, "Zurmo delete", at_ms) {
        Ok(_) => Ok(()),
        Err(ApiError::Validation { fields, .. }) if fields.is_empty() => Err(ApiError::Conflict {
            message: "Zurmo refused to delete this user (the last super administrator?)".into(),
        }),
        Err(e) => Err(e),
    }
}

/// Decodes logout (SUCCESS, data null).
pub fn decode_logout(resp: &HttpResponse, at_ms: u64) -> Result<(), ApiError> {
    envelope(resp, "Zurmo logout", at_ms).map(|_| ())
}

/// Decodes a list page `{totalCount, currentPage[, items]}`; `items` is absent when there are
/// none and counts may be numeric strings. `page_size` is what was asked for.
///
/// A plain SUCCESS page is read in one pass (`page.rs`); anything else (FAILURE, an error,
/// any shape the one pass does not take) goes through the two-pass decode, which defines the
/// answer, errors included.
pub fn decode_list(
    resp: &HttpResponse,
    page_size: u32,
    at_ms: u64,
) -> Result<Page<User>, ApiError> {
    let fast = if resp.is_success() {
        page::read(&resp.body)
    } else {
        None
    };
    let list = match fast {
        Some(list) => list,
        None => two_pass_list(resp, at_ms)?,
    };
    let total = list.total;
    let page = list.current_page.unwrap_or(1).clamp(1, u64::from(u32::MAX)) as u32;
    let page_size = if page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        page_size
    };
    let has_next = total.is_some_and(|t| u64::from(page).saturating_mul(u64::from(page_size)) < t);
    Ok(Page {
        items: list.items,
        total,
        page,
        page_size,
        has_next,
    })
}

/// A list answer as the page asked for: past the end, Zurmo answers with the last page's users
/// while `currentPage` echoes the page asked for, so those users are not on it and the page is
/// empty (as App CRM's and Capsule's are).
pub fn decode_page(
    resp: &HttpResponse,
    page_size: u32,
    at_ms: u64,
) -> Result<Page<User>, ApiError> {
    let mut page = decode_list(resp, page_size, at_ms)?;
    let before = u64::from(page.page - 1).saturating_mul(u64::from(page.page_size));
    if page.page > 1 && page.total.is_some_and(|t| before >= t) {
        page.items.clear();
    }
    Ok(page)
}

/// A list page's decoded `data`, before paging is worked out.
#[cfg_attr(test, derive(Debug, PartialEq))]
struct UserList {
    total: Option<u64>,
    current_page: Option<u64>,
    items: Vec<User>,
}

/// The page read twice: the envelope with each user captured as text, then each user's text.
fn two_pass_list(resp: &HttpResponse, at_ms: u64) -> Result<UserList, ApiError> {
    let Obj(Some(data)) = open::<Obj<ListData>>(resp, "Zurmo users list", at_ms)? else {
        return Err(ApiError::decode(
            "Zurmo users list (data is not an object)",
            &resp.body,
        ));
    };
    let items = match data.items {
        RawList::Absent => Vec::new(),
        RawList::Items(items) => decode_users(&items, user_from_raw)?,
        RawList::NotArray => {
            return Err(ApiError::decode(
                "Zurmo users list (items is not an array)",
                &resp.body,
            ));
        }
    };
    Ok(UserList {
        total: data.total_count,
        current_page: data.current_page,
        items,
    })
}

/// A list result `{totalCount, currentPage[, items]}`; counts may be numeric strings and
/// `items` is absent when there are none.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ListData<'a> {
    #[serde(deserialize_with = "lenient::id")]
    total_count: Option<u64>,
    #[serde(deserialize_with = "lenient::id")]
    current_page: Option<u64>,
    #[serde(borrow)]
    items: RawList<'a>,
}

/// The fields of a Zurmo user the unified model needs. Booleans are `"1"`/`"0"`/null (sometimes
/// real booleans); strings carry PHP's `\/` and `\uXXXX` escapes, so they are owned.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default, rename_all = "camelCase")]
struct ZurmoUser {
    #[serde(deserialize_with = "lenient::id")]
    id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    username: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_name: Option<String>,
    primary_email: Obj<PrimaryEmail>,
    #[serde(deserialize_with = "lenient::flag")]
    is_active: Option<bool>,
    #[serde(deserialize_with = "lenient::flag")]
    is_root_user: Option<bool>,
    #[serde(deserialize_with = "lenient::text")]
    time_zone: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    locale: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    language: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    created_date_time: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    modified_date_time: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_login_date_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(default, rename_all = "camelCase")]
struct PrimaryEmail {
    #[serde(deserialize_with = "lenient::text")]
    email_address: Option<String>,
}

impl ZurmoUser {
    /// The same fields as the derive reads, skimmed from text serde_json already validated: the
    /// user is scanned once more without serde's per-key work on the ~17 keys nobody reads.
    /// `None` (a key with escapes, a repeated field, not an object) leaves it to the derive,
    /// which decides those cases.
    fn skim(text: &str) -> Option<ZurmoUser> {
        let mut u = ZurmoUser::default();
        let mut seen = 0u16;
        scan::members(text, |key, value| u.member(&mut seen, key, value))?;
        Some(u)
    }

    /// Reads one member, given its unescaped key and its value's JSON text, as the derive reads
    /// it. `None` for a field already `seen` (the derive refuses repeats). Shared by [`skim`] and
    /// the one-pass page reader (`page.rs`), so both apply one rule.
    ///
    /// [`skim`]: ZurmoUser::skim
    fn member(&mut self, seen: &mut u16, key: &str, value: &str) -> Option<()> {
        let mut first = |bit: u16| scan::first_time(seen, bit);
        let v = || scan::scalar(value).ok();
        match key {
            "id" => {
                first(1)?;
                self.id = v()?.into_id();
            }
            "username" => {
                first(1 << 1)?;
                self.username = v()?.into_text();
            }
            "firstName" => {
                first(1 << 2)?;
                self.first_name = v()?.into_text();
            }
            "lastName" => {
                first(1 << 3)?;
                self.last_name = v()?.into_text();
            }
            "primaryEmail" => {
                first(1 << 4)?;
                self.primary_email = skim_email(value)?;
            }
            "isActive" => {
                first(1 << 5)?;
                self.is_active = v()?.into_flag();
            }
            "isRootUser" => {
                first(1 << 6)?;
                self.is_root_user = v()?.into_flag();
            }
            "timeZone" => {
                first(1 << 7)?;
                self.time_zone = v()?.into_text();
            }
            "locale" => {
                first(1 << 8)?;
                self.locale = v()?.into_text();
            }
            "language" => {
                first(1 << 9)?;
                self.language = v()?.into_text();
            }
            "createdDateTime" => {
                first(1 << 10)?;
                self.created_date_time = v()?.into_text();
            }
            "modifiedDateTime" => {
                first(1 << 11)?;
                self.modified_date_time = v()?.into_text();
            }
            "lastLoginDateTime" => {
                first(1 << 12)?;
                self.last_login_date_time = v()?.into_text();
            }
            _ => {}
        }
        Some(())
    }
}

/// `primaryEmail` as `Obj<PrimaryEmail>` reads it: an object's `emailAddress`, else nothing.
fn skim_email(value: &str) -> Option<Obj<PrimaryEmail>> {
    scan::object(value, |email: &mut PrimaryEmail, seen, key, v| {
        if key == "emailAddress" {
            scan::first_time(seen, 1)?;
            email.email_address = scan::scalar(v).ok()?.into_text();
        }
        Some(())
    })
}

/// The skimmer against the derive it shortcuts: whenever it answers, it answers the same.
/// (Property tests run natively: proptest is a native-only dev-dependency.)
#[cfg(all(test, not(target_arch = "wasm32")))]
mod skim_tests {
    use super::*;
    use crate::provider::onepass::testing::{key, value};
    use proptest::prelude::*;

    /// The derive's reading, the definition of every rule.
    fn derived(text: &str) -> Option<ZurmoUser> {
        lenient::object_str::<ZurmoUser>(text).ok().flatten()
    }

    #[test]
    fn reference_user_is_skimmed_like_the_derive() {
        let text = tests::USER;
        let fast = ZurmoUser::skim(text).expect("the reference user takes the fast path");
        assert_eq!(Some(&fast), derived(text).as_ref());
        assert_eq!(fast.time_zone.as_deref(), Some("America/Chicago"));
        assert_eq!(fast.is_active, Some(true));
        // Escaped or repeated keys go to the derive, which reads or refuses them.
        for text in [
            r#"{"id":1,"user\u006eame":"x"}"#,
            r#"{"id":1,"id":2}"#,
            r#"{"id":1,"primaryEmail":{"emailAddress":"a","emailAddress":"b"}}"#,
        ] {
            assert!(ZurmoUser::skim(text).is_none(), "{text}");
        }
        // A scalar where an object belongs is still read by serde before it is found not to be
        // an object, and some scalars it refuses: the skim leaves those to the derive too.
        for text in [
            r#"{"id":1,"primaryEmail":1e400}"#,
            r#"{"id":1,"primaryEmail":"\ud800"}"#,
        ] {
            assert!(derived(text).is_none(), "{text}");
            assert!(ZurmoUser::skim(text).is_none(), "{text}");
        }
        assert_eq!(
            ZurmoUser::skim(r#"{"id":1,"primaryEmail":["\ud800",1e400]}"#),
            derived(r#"{"id":1,"primaryEmail":["\ud800",1e400]}"#)
        );
        assert!(ZurmoUser::skim("[1]").is_none());
    }

    /// The fields the skimmer reads, near misses, and an escaped one (which it leaves to serde).
    pub(super) const KEYS: &[&str] = &[
        "id",
        "username",
        "firstName",
        "lastName",
        "primaryEmail",
        "isActive",
        "isRootUser",
        "timeZone",
        "locale",
        "language",
        "createdDateTime",
        "modifiedDateTime",
        "lastLoginDateTime",
        "emailAddress",
        "manager",
        "x",
        "first_name",
        "user\\u006eame",
        "ID",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn skim_agrees_with_the_derive(members in prop::collection::vec((key(KEYS), value(KEYS)), 0..10)) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let text = format!("{{{}}}", body.join(","));
            prop_assert!(serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(), "{}", text);
            if let Some(fast) = ZurmoUser::skim(&text) {
                prop_assert_eq!(Some(fast), derived(&text), "{}", text);
            }
        }
    }
}

/// Maps a Zurmo user object to the unified model (for callers holding a `Value`).
pub fn user_from_json(owned: Value) -> Result<User, ApiError> {
    let raw = RawJson::from(owned);
    let user = user_from_raw(raw.as_raw_value())?;
    Ok(User { raw, ..user })
}

/// Maps one user's JSON text to the unified model, keeping the text as `raw`.
pub fn user_from_raw(raw: &RawValue) -> Result<User, ApiError> {
    const WHAT: &str = "Zurmo user";
    let u = match ZurmoUser::skim(raw.get()) {
        Some(u) => u,
        None => typed_user(raw, WHAT)?,
    };
    to_user(u, || RawJson::from_raw(raw)).ok_or_else(|| bad_id(WHAT, raw))
}

/// The unified user from the fields read and the user's whole JSON (made only when there is an
/// id); `None` without an id.
fn to_user(u: ZurmoUser, raw: impl FnOnce() -> RawJson) -> Option<User> {
    let id = u.id?;
    let email = u.primary_email.0.and_then(|e| e.email_address);
    Some(User {
        id,
        display_name: display_name(
            None,
            u.first_name.as_deref(),
            u.last_name.as_deref(),
            u.username.as_deref(),
            email.as_deref(),
            id,
        ),
        username: u.username,
        email,
        first_name: u.first_name,
        last_name: u.last_name,
        active: u.is_active,
        status: None,
        admin: u.is_root_user,
        time_zone: u.time_zone,
        locale: u.locale.or(u.language),
        created_at: iso_time(u.created_date_time),
        updated_at: iso_time(u.modified_date_time),
        last_login_at: iso_time(u.last_login_date_time),
        avatar_url: None,
        raw: raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_get_authenticated_user_the_exact_name_is_the_signed_in_user() {
        let user = |id: u64, name: &str| User {
            id,
            username: Some(name.into()),
            ..User::default()
        };
        // Prefix matches of `super`, in whatever order the server sends them.
        let found = named(vec![user(7, "super0"), user(1, "Super")], "super");
        assert_eq!(found.map(|u| u.id), Some(1));
        assert_eq!(named(vec![user(7, "super0")], "super"), None);
        let query = username_query("super");
        assert_eq!(query.conditions[0].op, Op::StartsWith);
        assert_eq!(query.sort.map(|s| s.field), Some(UserField::Username));
        // An unknown route (Zurmo 2.x); not a refusal, nor a 3.x answer that cannot be read.
        assert!(lacks_authenticated_user(&ApiError::NotFound {
            message: "Unable to resolve the request.".into()
        }));
        assert!(!lacks_authenticated_user(&ApiError::Unauthorized {
            message: SIGN_IN_REQUIRED.into()
        }));
        assert!(!lacks_authenticated_user(&ApiError::decode(
            "Zurmo user",
            b"{\"status\""
        )));
    }

    #[test]
    fn recognises_only_the_sign_in_required_envelope() {
        assert!(is_sign_in_required(
            br#"{"status":"FAILURE","data":null,"message":"Sign in required.","errors":null}"#
        ));
        assert!(!is_sign_in_required(
            br#"{"status":"FAILURE","data":null,"message":"The ID specified was invalid.","errors":null}"#
        ));
        assert!(!is_sign_in_required(
            br#"{"status":"SUCCESS","data":null,"message":"Sign in required.","errors":null}"#
        ));
        assert!(!is_sign_in_required(b"<html>Sign in required.</html>"));
    }
    use crate::php::{parse_pairs, urldecode};

    pub(super) const USER: &str = r#"{"id":5,"createdDateTime":"2016-02-01 10:00:00","modifiedDateTime":"2016-02-02 11:00:00",
 "createdByUser":{"id":1,"username":"super"},"modifiedByUser":{"id":1,"username":"super"},
 "language":"en","locale":null,"timeZone":"America\/Chicago","username":"diggy011",
 "serializedAvatarData":"","isActive":"1","lastLoginDateTime":null,"isRootUser":null,
 "hideFromSelecting":null,"isSystemUser":null,"hideFromLeaderboard":null,
 "currency":{"id":1},"manager":{"id":4,"username":"smith45"},
 "secondaryEmail":null,"department":"Sales","firstName":"Michael","jobTitle":"President",
 "lastName":"Smith","mobilePhone":"653-235-7821","officePhone":"653-235-7824","officeFax":null,
 "primaryAddress":{"id":3,"city":"Noodleville","country":"\u00c9tats-Unis","invalid":null,"latitude":null,
   "longitude":null,"postalCode":"23453","street1":"1 Main","street2":"","state":null},
 "primaryEmail":{"id":6,"emailAddress":"a@example.com","isInvalid":null,"optOut":"1"},
 "title":{"id":9,"value":"Dr."}}"#;

    fn t() -> Target {
        Target::new(
            "http://h/app/index.php",
            ZurmoSession {
                session_id: "s".into(),
                token: "k".into(),
            }
            .headers(),
        )
    }

    fn ok(data: &str) -> HttpResponse {
        HttpResponse::new(
            200,
            format!(r#"{{"status":"SUCCESS","data":{data},"message":null,"errors":null}}"#),
        )
    }

    fn form(r: &HttpRequest) -> Vec<(String, String)> {
        parse_pairs(std::str::from_utf8(r.body.as_deref().unwrap()).unwrap())
    }

    #[test]
    fn reference_user_decodes() {
        let u = decode_user(&ok(USER), 0).unwrap();
        assert_eq!(u.id, 5);
        assert_eq!(u.display_name, "Michael Smith");
        assert_eq!(u.time_zone.as_deref(), Some("America/Chicago"));
        assert_eq!(u.email.as_deref(), Some("a@example.com"));
        assert_eq!(u.active, Some(true));
        assert_eq!(u.admin, None);
        assert_eq!(u.locale.as_deref(), Some("en"));
        assert_eq!(u.created_at.as_deref(), Some("2016-02-01T10:00:00Z"));
        assert_eq!(
            u.raw_text("primaryAddress.country").as_deref(),
            Some("États-Unis")
        );
        assert_eq!(u.raw_text("manager.id").as_deref(), Some("4"));
        let bool_user = USER.replace(r#""isActive":"1""#, r#""isActive":false"#);
        assert_eq!(decode_user(&ok(&bool_user), 0).unwrap().active, Some(false));
    }

    #[test]
    fn login_and_session() {
        let r = login_request("http://h/app/index.php/", "super", "pa ss");
        assert_eq!(r.url, "http://h/app/index.php/zurmo/api/login");
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.header_value("ZURMO_AUTH_USERNAME"), Some("super"));
        assert_eq!(r.body, None);
        let resp = ok(
            r#"{"sessionId":"9g4hl42qq55kuoblje038fmef4","token":"f357a171e8cba6e8aad92a971922a5b3"}"#,
        );
        let s = decode_login(&resp, 0).unwrap();
        assert_eq!(s.session_id, "9g4hl42qq55kuoblje038fmef4");
        let bad = HttpResponse::new(
            200,
            r#"{"status":"FAILURE","data":null,"message":"Invalid username or password.","errors":null}"#,
        );
        assert_eq!(
            decode_login(&bad, 0),
            Err(ApiError::InvalidCredentials {
                message: "Invalid username or password.".into()
            })
        );
        let no_right = HttpResponse::new(
            200,
            r#"{"status":"FAILURE","data":null,"message":"An error occured during login. Please try again.","errors":null}"#,
        );
        assert!(matches!(
            decode_login(&no_right, 0),
            Err(ApiError::Forbidden { .. })
        ));
        let expired = HttpResponse::new(
            200,
            r#"{"status":"FAILURE","data":null,"message":"Sign in required.","errors":null}"#,
        );
        assert_eq!(decode_user(&expired, 0), Err(ApiError::SessionExpired));
        assert_eq!(
            logout_request(&t()).header_value("zurmo_session_id"),
            Some("s")
        );
    }

    #[test]
    fn list_pages_with_missing_items_and_string_counts() {
        let page =
            decode_list(&ok(r#"{"totalCount":8,"currentPage":2,"items":[]}"#), 3, 0).unwrap();
        assert_eq!((page.total, page.page, page.has_next), (Some(8), 2, true));
        let page = decode_list(
            &ok(&format!(
                r#"{{"totalCount":"8","currentPage":"3","items":[{USER}]}}"#
            )),
            3,
            0,
        )
        .unwrap();
        assert_eq!(
            (page.total, page.page, page.has_next, page.items.len()),
            (Some(8), 3, false, 1)
        );
        let empty = decode_list(&ok(r#"{"totalCount":0,"currentPage":1}"#), 10, 0).unwrap();
        assert!(empty.items.is_empty() && !empty.has_next);
        // Past the end Zurmo repeats the last page's users under the page asked for.
        let past = decode_page(
            &ok(&format!(
                r#"{{"totalCount":8,"currentPage":9999,"items":[{USER}]}}"#
            )),
            3,
            0,
        )
        .unwrap();
        assert_eq!(
            (past.total, past.page, past.has_next, past.items.len()),
            (Some(8), 9999, false, 0)
        );
        let last = decode_page(
            &ok(&format!(
                r#"{{"totalCount":8,"currentPage":3,"items":[{USER}]}}"#
            )),
            3,
            0,
        )
        .unwrap();
        assert_eq!(last.items.len(), 1, "the last page itself keeps its users");
        assert!(matches!(
            decode_list(&ok(r#"{"totalCount":1,"currentPage":1,"items":{}}"#), 10, 0),
            Err(ApiError::Decode { .. })
        ));
        let html = HttpResponse::new(200, "<html><body>CHttpException</body></html>");
        assert!(matches!(
            decode_list(&html, 10, 0),
            Err(ApiError::Decode { .. })
        ));
    }

    #[test]
    fn failures_classified() {
        let f = |msg: &str, errors: &str| {
            HttpResponse::new(
                200,
                format!(r#"{{"status":"FAILURE","data":null,"message":{msg},"errors":{errors}}}"#),
            )
        };
        let v = decode_user(&f(r#""Model was not created.""#, r#"{"username":["Username cannot be blank."],"primaryEmail":{"emailAddress":["Email address already exists in system."]}}"#), 0).unwrap_err();
        assert_eq!(v.field_messages("username"), ["Username cannot be blank."]);
        assert_eq!(
            v.field_messages("primaryEmail.emailAddress"),
            ["Email address already exists in system."]
        );
        assert!(matches!(
            decode_user(&f(r#""The ID specified was invalid.""#, "null"), 0),
            Err(ApiError::NotFound { .. })
        ));
        assert!(matches!(
            decode_user(
                &f(
                    r#""You do not have rights to perform this action.""#,
                    "null"
                ),
                0
            ),
            Err(ApiError::Forbidden { .. })
        ));
        assert!(matches!(
            decode_user(&f(r#""Please provide data.""#, "null"), 0),
            Err(ApiError::Validation { .. })
        ));
        assert!(matches!(
            decode_user(&f(r#""""#, "null"), 0),
            Err(ApiError::Validation { .. })
        ));
        assert!(matches!(
            decode_deleted(&f(r#""""#, "null"), 0),
            Err(ApiError::Conflict { .. })
        ));
        assert!(matches!(
            decode_user(&f(r#""CDbException: SQLSTATE""#, "null"), 0),
            Err(ApiError::Upstream { status: 200, .. })
        ));
        assert_eq!(decode_deleted(&ok("null"), 0), Ok(()));
    }

    #[test]
    fn get_filter_in_path_with_php_brackets() {
        let q = UserQuery::page(2, 3)
            .with(UserField::Username, Op::StartsWith, "Fi")
            .with(UserField::Email, Op::StartsWith, "zoë@x.com")
            .sorted(UserField::LastName, Direction::Desc);
        let r = list_request(&t(), &q).unwrap();
        assert_eq!(r.method, Method::Get);
        let (prefix, query) = r.url.split_once("/list/filter/").unwrap();
        assert_eq!(prefix, "http://h/app/index.php/users/user/api");
        assert!(query.contains("pagination%5Bpage%5D=2"), "{query}");
        let pairs = parse_pairs(query);
        assert!(pairs.contains(&("pagination[pageSize]".into(), "3".into())));
        assert!(pairs.contains(&("search[username]".into(), "Fi".into())));
        assert!(pairs.contains(&(
            "search[primaryEmail][emailAddress]".into(),
            "zoë@x.com".into()
        )));
        assert!(pairs.contains(&("sort".into(), "lastName.desc".into())));
        let plain = list_request(&t(), &UserQuery::default()).unwrap();
        assert_eq!(
            urldecode(plain.url.split_once("/list/filter/").unwrap().1),
            "pagination[page]=1&pagination[pageSize]=10"
        );
    }

    #[test]
    fn dynamic_search_for_or_text_and_unsafe_values() {
        let q = UserQuery::page(1, 2)
            .with(UserField::Username, Op::StartsWith, "Fi")
            .with(UserField::Username, Op::StartsWith, "Se")
            .matching(Match::Any);
        let r = list_request(&t(), &q).unwrap();
        assert_eq!(r.method, Method::Post);
        assert!(r.url.ends_with("/users/user/api/list/filter/"));
        let p = form(&r);
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicStructure]".into(),
            "1 OR 2".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][0][attributeIndexOrDerivedType]".into(),
            "username".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][1][structurePosition]".into(),
            "2".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][1][username]".into(),
            "Se".into()
        )));
        assert!(p.contains(&("data[pagination][pageSize]".into(), "2".into())));
        let text = UserQuery::default()
            .text("smi")
            .with(UserField::Email, Op::StartsWith, "a/b")
            .with(UserField::Active, Op::Equals, "1");
        let p = form(&list_request(&t(), &text).unwrap());
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicStructure]".into(),
            "(1 OR 2 OR 3) AND (4 AND 5)".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][3][primaryEmail][emailAddress]".into(),
            "a/b".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][3][attributeIndexOrDerivedType]".into(),
            "primaryEmail".into()
        )));
        let unsafe_only =
            UserQuery::default().with(UserField::LastName, Op::StartsWith, "O'Neil & Co");
        assert_eq!(
            list_request(&t(), &unsafe_only).unwrap().method,
            Method::Post
        );
        let bad = UserQuery::default().with(UserField::LastName, Op::Contains, "x");
        assert!(matches!(
            list_request(&t(), &bad),
            Err(ApiError::Unsupported { .. })
        ));
    }

    #[test]
    fn custom_structure_is_sent_and_checked_first() {
        let q = UserQuery::page(1, 10)
            .with(UserField::Username, Op::StartsWith, "a")
            .with(UserField::Username, Op::StartsWith, "b")
            .with(UserField::LastName, Op::StartsWith, "c")
            .structured("(1 or 2) and 3");
        let r = list_request(&t(), &q).unwrap();
        assert_eq!(r.method, Method::Post);
        let body = String::from_utf8(r.body.clone().unwrap()).unwrap();
        assert!(
            body.contains("data%5BdynamicSearch%5D%5BdynamicStructure%5D=%281+or+2%29+and+3"),
            "{body}"
        );
        let p = form(&r);
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicStructure]".into(),
            "(1 or 2) and 3".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][2][lastName]".into(),
            "c".into()
        )));
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicClauses][2][structurePosition]".into(),
            "3".into()
        )));
        // With free text first, the structure's numbers move past the three text clauses.
        let p = form(&list_request(&t(), &q.clone().text("smi")).unwrap());
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicStructure]".into(),
            "(1 OR 2 OR 3) AND ((4 or 5) and 6)".into()
        )));
        // Two conditions on one field cannot share `search[username]`: they go as clauses.
        let twice = UserQuery::default()
            .with(UserField::Username, Op::StartsWith, "a")
            .with(UserField::Username, Op::StartsWith, "b");
        let p = form(&list_request(&t(), &twice).unwrap());
        assert!(p.contains(&(
            "data[dynamicSearch][dynamicStructure]".into(),
            "1 AND 2".into()
        )));
        // Even all-AND path-safe conditions go by POST when a structure is given.
        let one = UserQuery::default()
            .with(UserField::Username, Op::StartsWith, "a")
            .structured("1");
        assert_eq!(list_request(&t(), &one).unwrap().method, Method::Post);
        for bad in ["(1 or 2 and 3", "1 or 4", "1 + 2"] {
            assert!(
                matches!(
                    list_request(&t(), &q.clone().structured(bad)),
                    Err(ApiError::InvalidQuery { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(shift_positions("(1 or 12) AND 3", 3), "(4 or 15) AND 6");
    }

    #[test]
    fn bodies_are_php_bracket_forms() {
        let mut d = UserDraft {
            username: Some("jdoe".into()),
            last_name: Some("Doe".into()),
            email: Some("j@x.io".into()),
            active: Some(true),
            ..UserDraft::default()
        };
        d.set("manager.id", json!(4));
        d.set("primaryAddress.city", json!("São Paulo"));
        d.set("title.value", json!("Mr."));
        let r = create_request(&t(), &d);
        assert_eq!(r.header_value("content-type"), Some(FORM));
        let body = String::from_utf8(r.body.clone().unwrap()).unwrap();
        assert!(
            body.contains("data%5BprimaryEmail%5D%5BemailAddress%5D=j%40x.io"),
            "{body}"
        );
        let p = form(&r);
        assert!(p.contains(&("data[manager][id]".into(), "4".into())));
        assert!(p.contains(&("data[primaryAddress][city]".into(), "São Paulo".into())));
        assert!(p.contains(&("data[isActive]".into(), "1".into())));
        assert!(p.contains(&("data[title][value]".into(), "Mr.".into())));
        let u = update_request(
            &t(),
            5,
            &UserDraft {
                first_name: Some("M".into()),
                ..UserDraft::default()
            },
        );
        assert_eq!(u.method, Method::Put);
        assert!(u.url.ends_with("/users/user/api/update/5"));
        assert_eq!(form(&u), [("data[firstName]".to_string(), "M".to_string())]);
    }

    #[test]
    fn typed_decode_keeps_wire_rules_and_raw_text() {
        let page = decode_list(
            &ok(&format!(
                r#"{{"totalCount":"8","currentPage":null,"items":[{USER}]}}"#
            )),
            3,
            0,
        )
        .unwrap();
        assert_eq!((page.total, page.page, page.has_next), (Some(8), 1, true));
        assert_eq!(page.items[0].raw.text(), USER);
        assert!(page.items[0].raw.text().contains(r#""America\/Chicago""#));
        let flag = |v: &str| {
            let user = USER.replace(r#""isActive":"1""#, &format!(r#""isActive":{v}"#));
            decode_user(&ok(&user), 0).unwrap().active
        };
        assert_eq!(
            [
                flag(r#""1""#),
                flag(r#""0""#),
                flag("true"),
                flag("false"),
                flag("null")
            ],
            [Some(true), Some(false), Some(true), Some(false), None]
        );
        let empty = decode_list(
            &ok(r#"{"totalCount":"0","currentPage":"1","items":null}"#),
            10,
            0,
        )
        .unwrap();
        assert!(empty.items.is_empty() && empty.total == Some(0));
        for bad in [
            HttpResponse::new(200, r#"[{"status":"SUCCESS"}]"#),
            HttpResponse::new(
                200,
                r#"{"status":"SUCCESS","data":[],"message":null,"errors":null}"#,
            ),
            ok(r#"{"totalCount":1,"items":[["id",1]]}"#),
            ok(r#"{"totalCount":1,"items":[{"username":"x"}]}"#),
        ] {
            assert!(matches!(
                decode_list(&bad, 10, 0),
                Err(ApiError::Decode { .. })
            ));
        }
        let failure = HttpResponse::new(
            200,
            r#"{"status":"FAILURE","data":{"items":7},"message":"Sign in required.","errors":null}"#,
        );
        assert_eq!(decode_list(&failure, 10, 0), Err(ApiError::SessionExpired));
    }

    /// A field name from a link becomes a nested search, a level per segment: a few levels are
    /// Zurmo's own, a path deeper than that is refused rather than built.
    #[test]
    fn deep_attribute_paths_are_refused_before_the_filter_is_built() {
        let on_op = |field: &str, op| {
            list_request(
                &t(),
                &UserQuery::default().with(UserField::Native(field.into()), op, "1"),
            )
        };
        let on = |field: &str| on_op(field, Op::StartsWith);
        assert!(on("primaryAddress.city").is_ok());
        assert!(on_op("manager.id", Op::Equals).is_ok());
        let deep = vec!["a"; 20_000].join(".");
        for refused in [deep.as_str(), "a.b.c.d.e", &"x".repeat(65)] {
            match on(refused) {
                Err(ApiError::Unsupported { message }) => {
                    assert!(message.chars().count() < 120, "named short: {message}")
                }
                other => panic!("{}: {other:?}", &refused[..refused.len().min(20)]),
            }
        }
    }
}
