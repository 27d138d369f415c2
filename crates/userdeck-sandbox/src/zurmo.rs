//! Zurmo REST API (users), under `/zurmo/index.php`.
//!
//! Wire facts kept here: every API result is HTTP 200 with the four-key envelope
//! `{status,data,message,errors}` encoded like PHP's `json_encode` (`\/`, `\uXXXX`); sessions from
//! `zurmo/api/login` via `ZURMO_AUTH_*` headers and "Sign in required." otherwise; PHP-bracket
//! form bodies (a JSON body is "Please provide data."); `"1"`/`"0"` booleans; nested validation
//! errors; `items` absent at zero results and a page past the end repeating the last page;
//! `list/filter/{http_build_query}` paths and POSTed dynamic search with an `and`/`or`/parentheses
//! structure. Unknown routes get the framework's HTML error page. Without `json` in `Accept`
//! the envelope comes back as XML.
//!
//! Zurmo documents no rate limit; a forced window (sandbox switch) answers HTTP 429 with
//! `Retry-After` and a FAILURE envelope, as a fronting proxy would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::faults::Decision;
use crate::ojson::J;
use crate::php_query::{self, PhpValue};
use crate::request::{ApiRequest, escape_html, html, respond, set_header};
use crate::store::{ZurmoAddress, ZurmoEmail, ZurmoStore, ZurmoUser, hash_password};
use crate::{Crm, Shared, clock, oauth, obj, urlcoding};

const DEFAULT_PAGE_SIZE: u64 = 10;
const SIGN_IN_REQUIRED: &str = "Sign in required.";
const NO_RIGHTS: &str = "You do not have rights to perform this action.";
const INVALID_ID: &str = "The ID specified was invalid.";
const NO_DATA: &str = "Please provide data.";
/// Attributes a list can be sorted by.
const SORTABLE: &[&str] = &[
    "id",
    "username",
    "firstName",
    "lastName",
    "jobTitle",
    "department",
    "mobilePhone",
    "officePhone",
    "createdDateTime",
    "modifiedDateTime",
    "timeZone",
    "language",
    "lastLoginDateTime",
];
/// Attributes `search[…]` and dynamic clauses accept.
const SEARCHABLE: &[&str] = &[
    "username",
    "firstName",
    "lastName",
    "jobTitle",
    "department",
    "mobilePhone",
    "officePhone",
    "officeFax",
    "primaryEmail",
    "manager",
    "isActive",
    "anyEmail",
    "fullName",
];

/// Live API sessions: sessionId -> (token, user id). Memory only, like PHP sessions.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, (String, u64)>>);

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (String, u64)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends every session.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

// ---------------------------------------------------------------- envelope and encoding

fn envelope(ok: bool, data: J, message: J, errors: J) -> J {
    obj! { "status" => if ok { "SUCCESS" } else { "FAILURE" }, "data" => data, "message" => message, "errors" => errors }
}

fn success(data: J) -> J {
    envelope(true, data, J::Null, J::Null)
}

fn failure(message: &str) -> J {
    envelope(false, J::Null, J::from(message), J::Null)
}

fn reply(req: &ApiRequest, status: StatusCode, body: &J) -> Response {
    let accept = req.header("accept").unwrap_or("");
    if accept.to_ascii_lowercase().contains("json") {
        respond(status, "application/json", body.to_php_json())
    } else {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>");
        if let J::Obj(pairs) = body {
            for (k, v) in pairs {
                write_xml(k, v, &mut xml);
            }
        }
        xml.push_str("</response>");
        respond(status, "application/xml", xml)
    }
}

fn write_xml(key: &str, value: &J, out: &mut String) {
    let tag: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tag = if tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
        tag
    } else {
        format!("item{tag}")
    };
    match value {
        J::Null => out.push_str(&format!("<{tag}/>")),
        J::Bool(b) => out.push_str(&format!("<{tag}>{}</{tag}>", u8::from(*b))),
        J::Int(i) => out.push_str(&format!("<{tag}>{i}</{tag}>")),
        J::Str(s) => out.push_str(&format!("<{tag}>{}</{tag}>", escape_html(s))),
        J::Arr(items) => {
            out.push_str(&format!("<{tag}>"));
            for item in items {
                write_xml("item", item, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
        J::Obj(pairs) => {
            out.push_str(&format!("<{tag}>"));
            for (k, v) in pairs {
                write_xml(k, v, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
    }
}

fn error_page(status: StatusCode, text: &str) -> Response {
    html(
        status,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Zurmo - Error</title></head>\
             <body><h2>Error {}</h2><div class=\"error\">{}</div></body></html>",
            status.as_u16(),
            escape_html(text)
        ),
    )
}

fn flag(b: bool) -> J {
    J::from(if b { "1" } else { "0" })
}

// ---------------------------------------------------------------- routing

enum Action {
    Login,
    Logout,
    Read(String),
    Create,
    Update(String),
    Delete(String),
    List(Option<String>),
    Search,
    Me,
}

fn action(req: &ApiRequest) -> Option<Action> {
    let rest = req.path.strip_prefix("/index.php/")?;
    let m = &req.method;
    if let Some(raw) = rest.strip_prefix("users/user/api/list/filter/") {
        return match *m {
            Method::GET if !raw.is_empty() => Some(Action::List(Some(raw.to_string()))),
            Method::GET => Some(Action::List(None)),
            Method::POST => Some(Action::Search),
            _ => None,
        };
    }
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| urlcoding::decode(s, false))
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (m.clone(), segs.as_slice()) {
        (Method::POST, ["zurmo", "api", "login"]) => Some(Action::Login),
        (Method::GET, ["zurmo", "api", "logout"]) => Some(Action::Logout),
        (Method::GET, ["users", "user", "api", "read", id]) => Some(Action::Read(id.to_string())),
        (Method::POST, ["users", "user", "api", "create"]) => Some(Action::Create),
        (Method::PUT, ["users", "user", "api", "update", id]) => {
            Some(Action::Update(id.to_string()))
        }
        (Method::DELETE, ["users", "user", "api", "delete", id]) => {
            Some(Action::Delete(id.to_string()))
        }
        (Method::GET, ["users", "user", "api", "list"]) => Some(Action::List(None)),
        (Method::GET, ["users", "user", "api", "list", "filter"]) => Some(Action::List(None)),
        (Method::POST, ["users", "user", "api", "list", "filter"]) => Some(Action::Search),
        (Method::GET, ["users", "user", "api", "getAuthenticatedUser"]) => Some(Action::Me),
        _ => None,
    }
}

/// Entry point for everything under `/zurmo`.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    // PHP silently drops a body over post_max_size; the action then sees no data.
    let req = ApiRequest::read(req, "/zurmo", shared.config.max_body_bytes).await;
    // Zurmo 2.x has no `getAuthenticatedUser`: the route is unknown there.
    let action =
        action(&req).filter(|a| !(matches!(a, Action::Me) && shared.config.zurmo_major < 3));
    let Some(action) = action else {
        return error_page(StatusCode::NOT_FOUND, "Unable to resolve the request.");
    };
    // Only forced windows apply (Zurmo has no limit), so one bucket suffices and callers
    // cannot grow the limiter's table with made-up session ids.
    if let Decision::Limited {
        retry_after,
        reset,
        limit,
    } = shared
        .limits
        .check(Crm::Zurmo, "all", u32::MAX, Duration::from_secs(60))
    {
        let mut res = reply(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            &failure("Too many requests. Please try again later."),
        );
        set_header(&mut res, "retry-after", &retry_after.to_string());
        set_header(&mut res, "x-ratelimit-reset", &reset.to_string());
        set_header(&mut res, "x-ratelimit-limit", &limit.to_string());
        set_header(&mut res, "x-ratelimit-remaining", "0");
        return res;
    }
    let body = match action {
        Action::Login => login(&shared, &req),
        action => match session_user(&shared, &req) {
            None => failure(SIGN_IN_REQUIRED),
            Some(caller) => {
                let writes = matches!(
                    action,
                    Action::Create | Action::Update(_) | Action::Delete(_)
                );
                let body = act(&shared, &req, action, &caller);
                if writes && body.get("status") == Some(&J::from("SUCCESS")) {
                    shared.stores.persist().await;
                }
                body
            }
        },
    };
    reply(&req, StatusCode::OK, &body)
}

fn act(shared: &Shared, req: &ApiRequest, action: Action, caller: &ZurmoUser) -> J {
    match action {
        Action::Logout => {
            if let Some(id) = req.header("zurmo_session_id") {
                shared.zurmo_sessions.lock().remove(id);
            }
            success(J::Null)
        }
        Action::Me => success(user_json(caller, &shared.stores.zurmo())),
        Action::Read(id) => {
            let store = shared.stores.zurmo();
            match id.parse::<u64>().ok().and_then(|n| store.users.get(&n)) {
                Some(u) => success(user_json(u, &store)),
                None => failure(INVALID_ID),
            }
        }
        Action::List(raw) => {
            // The server decodes the path once, then parse_str decodes again: that is why
            // values with `/`, `&`, `+` or `%` must be POSTed instead.
            let params = raw.map_or_else(PhpValue::empty, |r| {
                php_query::parse_str(&urlcoding::decode(&r, false))
            });
            let params = params.get("data").cloned().unwrap_or(params);
            list(shared, &params)
        }
        Action::Search => {
            let body = php_query::parse_str(&String::from_utf8_lossy(&req.body));
            list(shared, body.get("data").unwrap_or(&PhpValue::empty()))
        }
        Action::Create | Action::Update(_) | Action::Delete(_) if !caller.is_super => {
            failure(NO_RIGHTS)
        }
        Action::Create => match data(req) {
            Some(d) => write(shared, None, &d, caller),
            None => failure(NO_DATA),
        },
        Action::Update(id) => {
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|n| shared.stores.zurmo().users.contains_key(n))
            else {
                return failure(INVALID_ID);
            };
            match data(req) {
                Some(d) => write(shared, Some(id), &d, caller),
                None => failure(NO_DATA),
            }
        }
        Action::Delete(id) => delete(shared, &id),
        Action::Login => failure(SIGN_IN_REQUIRED),
    }
}

// ---------------------------------------------------------------- sessions

fn login(shared: &Shared, req: &ApiRequest) -> J {
    let username = req.header("zurmo_auth_username").unwrap_or("");
    let password = req.header("zurmo_auth_password").unwrap_or("");
    let mut store = shared.stores.zurmo();
    let Some(user) = store.users.values_mut().find(|u| {
        u.username == username && hash_password(&u.password_salt, password) == u.password_hash
    }) else {
        return failure("Invalid username or password.");
    };
    if !user.api_login || !user.is_active {
        return failure("An error occured during login. Please try again.");
    }
    user.last_login = Some(clock::now());
    let user_id = user.id;
    drop(store);
    let session: String = oauth::random_token()
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(26)
        .collect();
    let token = crate::store::hex(&rand_bytes());
    shared
        .zurmo_sessions
        .lock()
        .insert(session.clone(), (token.clone(), user_id));
    success(obj! { "sessionId" => session, "token" => token })
}

fn rand_bytes() -> [u8; 16] {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn session_user(shared: &Shared, req: &ApiRequest) -> Option<ZurmoUser> {
    let id = req.header("zurmo_session_id")?;
    let token = req.header("zurmo_token")?;
    let user_id = {
        let sessions = shared.zurmo_sessions.lock();
        let (expected, user_id) = sessions.get(id)?;
        (expected == token).then_some(*user_id)?
    };
    shared
        .stores
        .zurmo()
        .users
        .get(&user_id)
        .filter(|u| u.is_active)
        .cloned()
}

// ---------------------------------------------------------------- user JSON

fn user_ref(id: u64, store: &ZurmoStore) -> J {
    obj! { "id" => id, "username" => store.users.get(&id).map(|u| u.username.as_str()) }
}

fn email_json(e: &Option<ZurmoEmail>) -> J {
    match e {
        None => J::Null,
        Some(e) => obj! {
            "id" => e.id,
            "emailAddress" => e.email_address.as_deref(),
            "isInvalid" => e.is_invalid.map(flag),
            "optOut" => e.opt_out.map(flag),
        },
    }
}

/// The user object exactly as Zurmo's API returns it.
fn user_json(u: &ZurmoUser, store: &ZurmoStore) -> J {
    obj! {
        "id" => u.id,
        "createdDateTime" => clock::zurmo(u.created),
        "modifiedDateTime" => clock::zurmo(u.modified),
        "createdByUser" => user_ref(u.created_by, store),
        "modifiedByUser" => user_ref(u.modified_by, store),
        "language" => u.language.as_deref(),
        "locale" => u.locale.as_deref(),
        "timeZone" => u.time_zone.as_deref(),
        "username" => u.username.as_str(),
        "serializedAvatarData" => "",
        "isActive" => flag(u.is_active),
        "lastLoginDateTime" => u.last_login.map(clock::zurmo),
        "isRootUser" => if u.is_root_user { flag(true) } else { J::Null },
        "hideFromSelecting" => J::Null,
        "isSystemUser" => J::Null,
        "hideFromLeaderboard" => J::Null,
        "currency" => u.currency_id.map_or(J::Null, |id| obj! { "id" => id }),
        "manager" => u.manager_id.map_or(J::Null, |id| user_ref(id, store)),
        "secondaryEmail" => email_json(&u.secondary_email),
        "department" => u.department.as_deref(),
        "firstName" => u.first_name.as_deref(),
        "jobTitle" => u.job_title.as_deref(),
        "lastName" => u.last_name.as_deref(),
        "mobilePhone" => u.mobile_phone.as_deref(),
        "officePhone" => u.office_phone.as_deref(),
        "officeFax" => u.office_fax.as_deref(),
        "primaryAddress" => match &u.primary_address {
            None => J::Null,
            Some(a) => obj! {
                "id" => a.id,
                "city" => a.city.as_deref(),
                "country" => a.country.as_deref(),
                "invalid" => J::Null,
                "latitude" => J::Null,
                "longitude" => J::Null,
                "postalCode" => a.postal_code.as_deref(),
                "street1" => a.street1.as_deref(),
                "street2" => a.street2.as_deref(),
                "state" => a.state.as_deref(),
            },
        },
        "primaryEmail" => email_json(&u.primary_email),
        "title" => u.title.as_ref().map_or(J::Null, |(id, value)| obj! { "id" => *id, "value" => value.as_str() }),
    }
}

// ---------------------------------------------------------------- list and search

fn php_int(v: Option<&PhpValue>) -> i64 {
    let s = v.and_then(PhpValue::as_str).unwrap_or("").trim();
    let (neg, digits) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let n = digits
        .parse::<i64>()
        .unwrap_or(if digits.is_empty() { 0 } else { i64::MAX });
    if neg { -n } else { n }
}

fn starts_with_ci(value: Option<&str>, prefix: &str) -> bool {
    value.is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase()))
}

/// A compiled search condition.
type Pred = Box<dyn Fn(&ZurmoUser) -> bool>;

/// One attribute condition; Err is the exception text Zurmo would put in `message`.
fn condition(attr: &str, value: &PhpValue) -> Result<Option<Pred>, String> {
    if !SEARCHABLE.contains(&attr) {
        return Err(format!(
            "Property \"User.{attr}\" is not defined. (CException) in ModelAttributeToMixedTypeUtil"
        ));
    }
    let text = |v: &PhpValue| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let cond: Option<Pred> = match attr {
        "primaryEmail" => value.get("emailAddress").and_then(text).map(|p| {
            Box::new(move |u: &ZurmoUser| {
                starts_with_ci(
                    u.primary_email
                        .as_ref()
                        .and_then(|e| e.email_address.as_deref()),
                    &p,
                )
            }) as Pred
        }),
        "anyEmail" => text(value).map(|p| {
            Box::new(move |u: &ZurmoUser| {
                [&u.primary_email, &u.secondary_email].iter().any(|e| {
                    starts_with_ci(e.as_ref().and_then(|e| e.email_address.as_deref()), &p)
                })
            }) as Pred
        }),
        "manager" => value.get("id").and_then(text).map(|id| {
            let id = id.parse::<u64>().ok();
            Box::new(move |u: &ZurmoUser| id.is_some() && u.manager_id == id) as Pred
        }),
        "isActive" => text(value).map(|v| {
            let want = v == "1" || v.eq_ignore_ascii_case("true");
            Box::new(move |u: &ZurmoUser| u.is_active == want) as Pred
        }),
        "fullName" => text(value).map(|p| {
            Box::new(move |u: &ZurmoUser| {
                let first = u.first_name.as_deref().unwrap_or("");
                let last = u.last_name.as_deref().unwrap_or("");
                starts_with_ci(Some(first), &p)
                    || starts_with_ci(Some(last), &p)
                    || starts_with_ci(Some(&format!("{first} {last}")), &p)
            }) as Pred
        }),
        _ => {
            let attr = attr.to_string();
            text(value).map(|p| {
                Box::new(move |u: &ZurmoUser| starts_with_ci(text_attr(u, &attr), &p)) as Pred
            })
        }
    };
    Ok(cond)
}

fn text_attr<'a>(u: &'a ZurmoUser, attr: &str) -> Option<&'a str> {
    match attr {
        "username" => Some(u.username.as_str()),
        "firstName" => u.first_name.as_deref(),
        "lastName" => u.last_name.as_deref(),
        "jobTitle" => u.job_title.as_deref(),
        "department" => u.department.as_deref(),
        "mobilePhone" => u.mobile_phone.as_deref(),
        "officePhone" => u.office_phone.as_deref(),
        "officeFax" => u.office_fax.as_deref(),
        "timeZone" => u.time_zone.as_deref(),
        "language" => u.language.as_deref(),
        _ => None,
    }
}

/// The boolean structure of a dynamic search: `(1 or 2) AND 3`.
#[derive(Debug, PartialEq)]
pub enum Structure {
    Clause(u64),
    And(Box<Structure>, Box<Structure>),
    Or(Box<Structure>, Box<Structure>),
}

#[derive(Debug, PartialEq)]
enum Token {
    Num(u64),
    And,
    Or,
    Open,
    Close,
}

/// Parses `dynamicStructure`; AND binds tighter than OR, as in SQL.
pub fn parse_structure(text: &str) -> Result<Structure, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push(Token::Open);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            tokens.push(Token::Num(
                digits
                    .parse()
                    .map_err(|_| format!("Invalid structure position \"{digits}\""))?,
            ));
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word.to_ascii_lowercase().as_str() {
                "and" => tokens.push(Token::And),
                "or" => tokens.push(Token::Or),
                _ => return Err(format!("Invalid structure: unexpected \"{word}\"")),
            }
        } else {
            return Err(format!("Invalid structure: unexpected \"{c}\""));
        }
    }
    if tokens.len() > 1000 {
        return Err("Invalid structure: too long".into());
    }
    let mut pos = 0;
    let tree = parse_or(&tokens, &mut pos, 0)?;
    if pos != tokens.len() {
        return Err("Invalid structure: unbalanced parentheses or trailing operator".into());
    }
    Ok(tree)
}

fn parse_or(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Structure, String> {
    let mut left = parse_and(tokens, pos, depth)?;
    while tokens.get(*pos) == Some(&Token::Or) {
        *pos += 1;
        left = Structure::Or(Box::new(left), Box::new(parse_and(tokens, pos, depth)?));
    }
    Ok(left)
}

fn parse_and(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Structure, String> {
    let mut left = parse_atom(tokens, pos, depth)?;
    while tokens.get(*pos) == Some(&Token::And) {
        *pos += 1;
        left = Structure::And(Box::new(left), Box::new(parse_atom(tokens, pos, depth)?));
    }
    Ok(left)
}

fn parse_atom(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Structure, String> {
    if depth > 64 {
        return Err("Invalid structure: nested too deeply".into());
    }
    match tokens.get(*pos) {
        Some(Token::Num(n)) => {
            *pos += 1;
            Ok(Structure::Clause(*n))
        }
        Some(Token::Open) => {
            *pos += 1;
            let inner = parse_or(tokens, pos, depth + 1)?;
            if tokens.get(*pos) != Some(&Token::Close) {
                return Err("Invalid structure: missing \")\"".into());
            }
            *pos += 1;
            Ok(inner)
        }
        Some(t) => Err(format!("Invalid structure: unexpected {t:?}")),
        None => Err("Invalid structure: unexpected end".into()),
    }
}

fn eval(s: &Structure, clauses: &HashMap<u64, Option<Pred>>, u: &ZurmoUser) -> bool {
    match s {
        Structure::Clause(n) => clauses
            .get(n)
            .is_none_or(|c| c.as_ref().is_none_or(|p| p(u))),
        Structure::And(a, b) => eval(a, clauses, u) && eval(b, clauses, u),
        Structure::Or(a, b) => eval(a, clauses, u) || eval(b, clauses, u),
    }
}

fn list(shared: &Shared, params: &PhpValue) -> J {
    match run_list(shared, params) {
        Ok(data) => success(data),
        Err(message) => failure(&message),
    }
}

fn run_list(shared: &Shared, params: &PhpValue) -> Result<J, String> {
    let page_size = match php_int(params.path(&["pagination", "pageSize"])) {
        n if n <= 0 => DEFAULT_PAGE_SIZE,
        n => n.unsigned_abs(),
    };
    let page = php_int(params.path(&["pagination", "page"]))
        .max(1)
        .unsigned_abs();
    let (sort_attr, desc) = match params
        .get("sort")
        .and_then(PhpValue::as_str)
        .filter(|s| !s.is_empty())
    {
        None => ("lastName".to_string(), false),
        Some(s) => {
            let (attr, dir) = s.split_once('.').unwrap_or((s, "asc"));
            if !SORTABLE.contains(&attr)
                || !matches!(dir.to_ascii_lowercase().as_str(), "asc" | "desc")
            {
                return Err(format!(
                    "CDbCommand failed to execute the SQL statement: SQLSTATE[42S22]: Column not found: \
                     1054 Unknown column '_user.{s}' in 'order clause'"
                ));
            }
            (attr.to_string(), dir.eq_ignore_ascii_case("desc"))
        }
    };
    let mut filters: Vec<Pred> = Vec::new();
    for (attr, value) in params.get("search").map(PhpValue::entries).unwrap_or(&[]) {
        if let Some(c) = condition(attr, value)? {
            filters.push(c);
        }
    }
    let dynamic = params.get("dynamicSearch");
    let clauses = dynamic
        .and_then(|d| d.get("dynamicClauses"))
        .filter(|c| !c.is_empty());
    let structure = dynamic
        .and_then(|d| d.get("dynamicStructure"))
        .and_then(PhpValue::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut dynamic_search = None;
    if let (Some(clauses), Some(structure)) = (clauses, structure) {
        let tree = parse_structure(structure)?;
        let mut by_position = HashMap::new();
        for (index, clause) in clauses.entries() {
            let attr = clause
                .get("attributeIndexOrDerivedType")
                .and_then(PhpValue::as_str)
                .unwrap_or("");
            let position = php_int(clause.get("structurePosition"));
            if position <= 0 {
                return Err(format!("Invalid structurePosition for clause {index}"));
            }
            let value = clause
                .get(attr)
                .cloned()
                .unwrap_or_else(|| PhpValue::Str(String::new()));
            by_position.insert(position.unsigned_abs(), condition(attr, &value)?);
        }
        check_positions(&tree, &by_position)?;
        dynamic_search = Some((tree, by_position));
    }
    let store = shared.stores.zurmo();
    let mut users: Vec<&ZurmoUser> = store
        .users
        .values()
        .filter(|u| filters.iter().all(|f| f(u)))
        .filter(|u| {
            dynamic_search
                .as_ref()
                .is_none_or(|(tree, clauses)| eval(tree, clauses, u))
        })
        .collect();
    users.sort_by(|a, b| {
        let ord = sort_value(a, &sort_attr).cmp(&sort_value(b, &sort_attr));
        (if desc { ord.reverse() } else { ord }).then(a.id.cmp(&b.id))
    });
    let total = users.len() as u64;
    let mut data = obj! { "totalCount" => total, "currentPage" => page };
    if total > 0 {
        // A page past the end shows the last page, while currentPage echoes the request.
        let last_page = total.div_ceil(page_size);
        let shown = page.min(last_page);
        let start = usize::try_from((shown - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let items = users
            .iter()
            .skip(start)
            .take(usize::try_from(page_size).unwrap_or(usize::MAX))
            .map(|u| user_json(u, &store))
            .collect();
        data.set("items", J::Arr(items));
    }
    Ok(data)
}

fn check_positions(tree: &Structure, clauses: &HashMap<u64, Option<Pred>>) -> Result<(), String> {
    match tree {
        Structure::Clause(n) if clauses.contains_key(n) => Ok(()),
        Structure::Clause(n) => Err(format!("Invalid structure: no clause at position {n}")),
        Structure::And(a, b) | Structure::Or(a, b) => {
            check_positions(a, clauses)?;
            check_positions(b, clauses)
        }
    }
}

fn sort_value(u: &ZurmoUser, attr: &str) -> (String, i64) {
    match attr {
        "id" => (String::new(), i64::try_from(u.id).unwrap_or(i64::MAX)),
        "createdDateTime" => (String::new(), u.created),
        "modifiedDateTime" => (String::new(), u.modified),
        "lastLoginDateTime" => (String::new(), u.last_login.unwrap_or(0)),
        other => (text_attr(u, other).unwrap_or("").to_lowercase(), 0),
    }
}

// ---------------------------------------------------------------- writes

/// The `data[…]` of a form body; None when there is none (JSON bodies included).
fn data(req: &ApiRequest) -> Option<PhpValue> {
    if req.content_type().contains("json") {
        return None;
    }
    let body = php_query::parse_str(&String::from_utf8_lossy(&req.body));
    body.get("data")
        .filter(|d| matches!(d, PhpValue::Map(e) if !e.is_empty()))
        .cloned()
}

fn label(attr: &str) -> &'static str {
    match attr {
        "username" => "Username",
        "firstName" => "First Name",
        "lastName" => "Last Name",
        "jobTitle" => "Job Title",
        "department" => "Department",
        "mobilePhone" => "Mobile Phone",
        "officePhone" => "Office Phone",
        "officeFax" => "Office Fax",
        "language" => "Language",
        "locale" => "Locale",
        "timeZone" => "Time Zone",
        "city" => "City",
        "country" => "Country",
        "state" => "State",
        "street1" => "Street 1",
        "street2" => "Street 2",
        "postalCode" => "Postal Code",
        "emailAddress" => "Email Address",
        "value" => "Value",
        _ => "Value",
    }
}

/// Validation errors, nested for sub-objects.
#[derive(Default)]
struct Errors(Vec<(String, J)>);

impl Errors {
    fn add(&mut self, path: &[&str], msg: String) {
        let mut node = &mut self.0;
        for (i, key) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let pos = match node.iter().position(|(k, _)| k == key) {
                Some(p) => p,
                None => {
                    node.push((
                        key.to_string(),
                        if last {
                            J::Arr(Vec::new())
                        } else {
                            J::Obj(Vec::new())
                        },
                    ));
                    node.len() - 1
                }
            };
            let slot = &mut node[pos].1;
            if last {
                if let J::Arr(msgs) = slot {
                    msgs.push(J::from(msg));
                }
                return;
            }
            let J::Obj(children) = slot else { return };
            node = children;
        }
    }
}

/// Applies a string attribute: absent leaves it, "" clears it, too long is an error.
fn apply_text(
    errors: &mut Errors,
    path: &[&str],
    value: Option<&PhpValue>,
    max: usize,
    slot: &mut Option<String>,
) {
    let Some(value) = value else { return };
    let text = value.as_str().unwrap_or("").trim().to_string();
    let attr = path.last().copied().unwrap_or("");
    if text.chars().count() > max {
        errors.add(
            path,
            format!("{} is too long (maximum is {max} characters).", label(attr)),
        );
        return;
    }
    *slot = (!text.is_empty()).then_some(text);
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.chars().all(|c| c.is_ascii_graphic())
        && !domain.contains('@')
}

fn apply_email(
    errors: &mut Errors,
    attr: &str,
    d: Option<&PhpValue>,
    slot: &mut Option<ZurmoEmail>,
    next_id: &mut u64,
) {
    let Some(d) = d else { return };
    let mut email = slot.clone().unwrap_or(ZurmoEmail {
        id: 0,
        email_address: None,
        is_invalid: None,
        opt_out: Some(false),
    });
    apply_text(
        errors,
        &[attr, "emailAddress"],
        d.get("emailAddress"),
        128,
        &mut email.email_address,
    );
    if email
        .email_address
        .as_deref()
        .is_some_and(|a| !valid_email(a))
    {
        errors.add(
            &[attr, "emailAddress"],
            "Email Address is not a valid email address.".into(),
        );
    }
    let flag = |v: Option<&PhpValue>, old: Option<bool>| {
        v.and_then(PhpValue::as_str)
            .map(|s| matches!(s.trim(), "1" | "true"))
            .or(old)
    };
    email.opt_out = flag(d.get("optOut"), email.opt_out);
    email.is_invalid = flag(d.get("isInvalid"), email.is_invalid);
    if email.email_address.is_none() && slot.is_none() {
        return;
    }
    if email.id == 0 {
        email.id = *next_id;
        *next_id += 1;
    }
    *slot = Some(email);
}

fn write(shared: &Shared, id: Option<u64>, d: &PhpValue, caller: &ZurmoUser) -> J {
    let mut store = shared.stores.zurmo();
    let now = clock::now();
    let mut u = match id.and_then(|id| store.users.get(&id)) {
        Some(u) => u.clone(),
        None => ZurmoUser {
            id: 0,
            username: String::new(),
            password_salt: String::new(),
            password_hash: String::new(),
            created: now,
            modified: now,
            created_by: caller.id,
            modified_by: caller.id,
            language: Some("en".into()),
            locale: None,
            time_zone: Some("UTC".into()),
            is_active: true,
            last_login: None,
            is_root_user: false,
            is_super: false,
            api_login: true,
            currency_id: Some(1),
            manager_id: None,
            department: None,
            first_name: None,
            job_title: None,
            last_name: None,
            mobile_phone: None,
            office_phone: None,
            office_fax: None,
            primary_address: None,
            primary_email: None,
            secondary_email: None,
            title: None,
        },
    };
    let creating = id.is_none();
    let failed = if creating {
        "Model was not created."
    } else {
        "Model was not updated."
    };
    let mut errors = Errors::default();
    let mut next_sub = store.next_sub_id;

    // Relations whose id does not resolve fail with an empty message, as in Zurmo.
    if let Some(m) = d.get("manager") {
        match m.get("id").and_then(PhpValue::as_str).map(str::trim) {
            None | Some("") => u.manager_id = None,
            Some(v) => match v
                .parse::<u64>()
                .ok()
                .filter(|n| store.users.contains_key(n))
            {
                Some(n) => u.manager_id = Some(n),
                None => return failure(""),
            },
        }
    }
    if let Some(c) = d.get("currency") {
        match c.get("id").and_then(PhpValue::as_str).map(str::trim) {
            Some("1") => u.currency_id = Some(1),
            _ => return failure(""),
        }
    }

    if let Some(v) = d.get("username") {
        let name = v.as_str().unwrap_or("").trim().to_string();
        if name.is_empty() {
            errors.add(&["username"], "Username cannot be blank.".into());
        } else if name.chars().count() > 64 {
            errors.add(
                &["username"],
                "Username is too long (maximum is 64 characters).".into(),
            );
        } else if name != name.to_lowercase() {
            errors.add(&["username"], "Username must be lowercase.".into());
        } else if store
            .users
            .values()
            .any(|o| o.username == name && Some(o.id) != id)
        {
            errors.add(
                &["username"],
                format!("Username \"{name}\" is already in use."),
            );
        } else {
            u.username = name;
        }
    } else if creating {
        errors.add(&["username"], "Username cannot be blank.".into());
    }
    apply_text(
        &mut errors,
        &["firstName"],
        d.get("firstName"),
        32,
        &mut u.first_name,
    );
    apply_text(
        &mut errors,
        &["jobTitle"],
        d.get("jobTitle"),
        64,
        &mut u.job_title,
    );
    apply_text(
        &mut errors,
        &["lastName"],
        d.get("lastName"),
        32,
        &mut u.last_name,
    );
    if u.last_name.is_none()
        && (creating || d.get("lastName").is_some())
        && !has_error(&errors, "lastName")
    {
        errors.add(&["lastName"], "Last Name cannot be blank.".into());
    }
    apply_text(
        &mut errors,
        &["department"],
        d.get("department"),
        64,
        &mut u.department,
    );
    apply_text(
        &mut errors,
        &["mobilePhone"],
        d.get("mobilePhone"),
        24,
        &mut u.mobile_phone,
    );
    apply_text(
        &mut errors,
        &["officePhone"],
        d.get("officePhone"),
        24,
        &mut u.office_phone,
    );
    apply_text(
        &mut errors,
        &["officeFax"],
        d.get("officeFax"),
        24,
        &mut u.office_fax,
    );
    apply_text(
        &mut errors,
        &["language"],
        d.get("language"),
        10,
        &mut u.language,
    );
    apply_text(&mut errors, &["locale"], d.get("locale"), 10, &mut u.locale);
    apply_text(
        &mut errors,
        &["timeZone"],
        d.get("timeZone"),
        64,
        &mut u.time_zone,
    );
    apply_email(
        &mut errors,
        "primaryEmail",
        d.get("primaryEmail"),
        &mut u.primary_email,
        &mut next_sub,
    );
    apply_email(
        &mut errors,
        "secondaryEmail",
        d.get("secondaryEmail"),
        &mut u.secondary_email,
        &mut next_sub,
    );
    for (attr, e) in [
        ("primaryEmail", &u.primary_email),
        ("secondaryEmail", &u.secondary_email),
    ] {
        let Some(addr) = e.as_ref().and_then(|e| e.email_address.as_deref()) else {
            continue;
        };
        let taken = store.users.values().filter(|o| Some(o.id) != id).any(|o| {
            [&o.primary_email, &o.secondary_email].iter().any(|oe| {
                oe.as_ref()
                    .and_then(|x| x.email_address.as_deref())
                    .is_some_and(|x| x.eq_ignore_ascii_case(addr))
            })
        });
        if taken {
            errors.add(
                &[attr, "emailAddress"],
                "Email address already exists in system.".into(),
            );
        }
    }
    if let Some(a) = d.get("primaryAddress") {
        let mut addr = u.primary_address.clone().unwrap_or_default();
        for (key, max) in [
            ("street1", 128),
            ("street2", 128),
            ("city", 32),
            ("state", 32),
            ("postalCode", 16),
            ("country", 32),
        ] {
            let slot = match key {
                "street1" => &mut addr.street1,
                "street2" => &mut addr.street2,
                "city" => &mut addr.city,
                "state" => &mut addr.state,
                "postalCode" => &mut addr.postal_code,
                _ => &mut addr.country,
            };
            apply_text(&mut errors, &["primaryAddress", key], a.get(key), max, slot);
        }
        if addr.id == 0 {
            addr.id = next_sub;
            next_sub += 1;
        }
        u.primary_address = Some(ZurmoAddress { ..addr });
    }
    if let Some(t) = d.get("title") {
        match t
            .get("value")
            .and_then(PhpValue::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => u.title = None,
            Some(v) => {
                let tid = u.title.as_ref().map_or_else(
                    || {
                        next_sub += 1;
                        next_sub - 1
                    },
                    |(tid, _)| *tid,
                );
                u.title = Some((tid, v.to_string()));
            }
        }
    }
    if let Some(pw) = d
        .get("password")
        .and_then(PhpValue::as_str)
        .filter(|p| !p.is_empty())
    {
        u.password_salt = oauth::random_token();
        u.password_hash = hash_password(&u.password_salt, pw);
    }
    if !errors.0.is_empty() {
        return envelope(false, J::Null, J::from(failed), J::Obj(errors.0));
    }
    if creating {
        u.id = store.next_id;
        store.next_id += 1;
    }
    u.modified = now;
    u.modified_by = caller.id;
    store.next_sub_id = next_sub;
    store.users.insert(u.id, u.clone());
    let body = success(user_json(&u, &store));
    drop(store);
    shared.stores.touch();
    body
}

fn has_error(errors: &Errors, attr: &str) -> bool {
    errors.0.iter().any(|(k, _)| k == attr)
}

fn delete(shared: &Shared, id: &str) -> J {
    let mut store = shared.stores.zurmo();
    let Some(target) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| store.users.get(&n))
        .cloned()
    else {
        return failure(INVALID_ID);
    };
    if target.is_super && store.users.values().filter(|u| u.is_super).count() <= 1 {
        return failure("");
    }
    store.users.remove(&target.id);
    for u in store.users.values_mut() {
        if u.manager_id == Some(target.id) {
            u.manager_id = None;
        }
    }
    drop(store);
    shared
        .zurmo_sessions
        .lock()
        .retain(|_, (_, owner)| *owner != target.id);
    shared.stores.touch();
    success(J::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_precedence_and_case() {
        let s = parse_structure("1 OR 2 and 3").unwrap();
        assert_eq!(
            s,
            Structure::Or(
                Box::new(Structure::Clause(1)),
                Box::new(Structure::And(
                    Box::new(Structure::Clause(2)),
                    Box::new(Structure::Clause(3))
                ))
            )
        );
        let s = parse_structure("(1 or 2) AND 3").unwrap();
        assert!(matches!(s, Structure::And(_, _)));
    }

    #[test]
    fn bad_structures_are_errors() {
        for bad in [
            "",
            "1 or",
            "(1",
            "1)",
            "1 2",
            "1 xor 2",
            "and",
            "1 & 2",
            &"(".repeat(500),
        ] {
            assert!(parse_structure(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn random_structures_never_panic() {
        let pieces = [
            "1", "2", "37", " ", "(", ")", "and", "OR", "x", "&", "\u{e9}",
        ];
        let mut rng = crate::seed::SplitMix64::new(3);
        for _ in 0..5_000 {
            let n = rng.below(12);
            let text: String = (0..n)
                .map(|_| pieces[rng.below(pieces.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ");
            let _ = parse_structure(&text);
        }
    }

    #[test]
    fn nested_errors() {
        let mut e = Errors::default();
        e.add(&["primaryEmail", "emailAddress"], "a".into());
        e.add(&["primaryEmail", "emailAddress"], "b".into());
        e.add(&["username"], "c".into());
        assert_eq!(
            J::Obj(e.0).to_json(),
            r#"{"primaryEmail":{"emailAddress":["a","b"]},"username":["c"]}"#
        );
    }
}
