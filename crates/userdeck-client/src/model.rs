//! The unified user model every provider decodes into and encodes from, plus paging and the
//! per-connection capabilities the UI uses to show only what a CRM can do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::scan;
use crate::raw::RawJson;

/// Which CRM a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Capsule,
    AppCrm,
    Zurmo,
}

impl Provider {
    /// All providers, for pickers.
    pub const ALL: [Provider; 3] = [Provider::Capsule, Provider::AppCrm, Provider::Zurmo];

    /// Stable identifier (`capsule`, `appcrm`, `zurmo`) used in URLs and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Capsule => "capsule",
            Provider::AppCrm => "appcrm",
            Provider::Zurmo => "zurmo",
        }
    }

    /// Human name for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Capsule => "Capsule CRM",
            Provider::AppCrm => "App CRM",
            Provider::Zurmo => "Zurmo",
        }
    }

    /// Parses [`Provider::as_str`] back.
    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }

    /// What connections to this CRM can do.
    pub fn capabilities(self) -> Capabilities {
        Capabilities::of(self)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A CRM user in one shape for all providers. Fields a CRM lacks are `None`; the provider's own
/// JSON is kept in `raw` for the "raw" view and provider-specific columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct User {
    pub id: u64,
    /// What to show as the user's name (never empty: falls back to username, email or `#id`).
    pub display_name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `Some(false)` for deactivated users when the CRM says so.
    pub active: Option<bool>,
    /// The CRM's own status word (Capsule `ACTIVE`, …).
    pub status: Option<String>,
    /// Super admin / root / account admin.
    pub admin: Option<bool>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    /// Timestamps as ISO-8601 UTC (`2024-05-01T10:20:30Z`), normalised from each CRM's format.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub last_login_at: Option<String>,
    pub avatar_url: Option<String>,
    /// The user's JSON as the CRM sent it; reads as a `serde_json::Value` (parsed on first use).
    pub raw: RawJson,
}

impl User {
    /// A value from the raw JSON by dotted path (`primaryEmail.emailAddress`), rendered as text
    /// for a table cell; `None` when absent or null.
    pub fn raw_text(&self, path: &str) -> Option<String> {
        // A table column reads one member of each user on every new page; skimming the text for
        // it is far cheaper than building the user's whole `Value` tree (a Zurmo user is ~1 KB
        // of nested JSON) just to read one string from it.
        if !self.raw.is_parsed()
            && let Some(found) = skim_path(self.raw.text(), path)
        {
            return found;
        }
        let mut cur: &Value = &self.raw;
        for part in path.split('.') {
            cur = match cur {
                Value::Object(m) => m.get(part)?,
                Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match cur {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        }
    }
}

/// [`User::raw_text`] on the JSON text without parsing it into a `Value`: `Some(answer)`, the
/// same answer the parsed path gives, or `None` where only the parsed path can tell (an escaped
/// key, which the skimmer does not compare). The text is valid JSON (a [`RawJson`] is never
/// anything else), which the skimmer relies on. Repeated keys: the last one counts, as in a
/// parsed `Value`.
fn skim_path(text: &str, path: &str) -> Option<Option<String>> {
    let mut cur = text.trim_start();
    for part in path.split('.') {
        let mut hit = None;
        match cur.as_bytes().first() {
            Some(b'{') => scan::members(cur, |key, value| {
                if key == part {
                    hit = Some(value);
                }
                Some(())
            })?,
            Some(b'[') => {
                let wanted = part.parse::<usize>().ok();
                let mut at = 0;
                scan::elements(cur, |value| {
                    if wanted == Some(at) {
                        hit = Some(value);
                    }
                    at += 1;
                    Some(())
                })?
            }
            _ => {}
        }
        match hit {
            Some(value) => cur = value,
            None => return Some(None),
        }
    }
    match cur.as_bytes() {
        b"null" => Some(None),
        [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
            std::str::from_utf8(inner).ok().map(|s| Some(s.to_owned()))
        }
        // Escapes, numbers (as serde_json writes them back), containers: through serde_json,
        // which reads one small value here.
        _ => serde_json::from_str::<Value>(cur).ok().map(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }),
    }
}

/// Input for create and update. `None` means "not given": on create it is left to the CRM's
/// default, on update it keeps the current value (the client fills full-replace PUTs itself).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserDraft {
    /// App CRM's `name` (its only name field).
    pub name: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: Option<String>,
    pub active: Option<bool>,
    pub admin: Option<bool>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    /// Provider-specific fields by schema key (`date_format`, `jobTitle`, `roles`, …).
    pub extra: BTreeMap<String, Value>,
}

impl UserDraft {
    /// Sets a field by its schema key (what a schema-driven form holds), routing common keys to
    /// the typed fields and everything else to `extra`. An empty string clears nothing: it is
    /// stored as given so required-field checks can see it.
    pub fn set(&mut self, key: &str, value: Value) {
        let text = || match &value {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        let flag = || match &value {
            Value::Bool(b) => Some(*b),
            Value::String(s) => Some(matches!(s.as_str(), "1" | "true" | "on" | "yes")),
            Value::Number(n) => Some(n.as_u64() == Some(1)),
            _ => None,
        };
        match key {
            "name" => self.name = text(),
            "username" => self.username = text(),
            "email" | "primaryEmail.emailAddress" => self.email = text(),
            "first_name" | "firstName" => self.first_name = text(),
            "last_name" | "lastName" => self.last_name = text(),
            "password" => self.password = text(),
            "active" | "isActive" => self.active = flag(),
            "admin" | "super_admin" => self.admin = flag(),
            "time_zone" | "timezone" | "timeZone" => self.time_zone = text(),
            "locale" => self.locale = text(),
            _ => {
                self.extra.insert(key.to_string(), value);
            }
        }
    }

    /// Reads a field by schema key, the inverse of [`UserDraft::set`].
    pub fn get(&self, key: &str) -> Option<Value> {
        let s = |v: &Option<String>| v.clone().map(Value::String);
        let b = |v: &Option<bool>| v.map(Value::Bool);
        match key {
            "name" => s(&self.name),
            "username" => s(&self.username),
            "email" | "primaryEmail.emailAddress" => s(&self.email),
            "first_name" | "firstName" => s(&self.first_name),
            "last_name" | "lastName" => s(&self.last_name),
            "password" => s(&self.password),
            "active" | "isActive" => b(&self.active),
            "admin" | "super_admin" => b(&self.admin),
            "time_zone" | "timezone" | "timeZone" => s(&self.time_zone),
            "locale" => s(&self.locale),
            _ => self.extra.get(key).cloned(),
        }
    }
}

/// A password change for the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
    pub confirmation: String,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Total matching items when the CRM reports it.
    pub total: Option<u64>,
    /// 1-based page number this is.
    pub page: u32,
    pub page_size: u32,
    pub has_next: bool,
}

/// The kind of sign-in a connection uses, so the UI shows the right form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInKind {
    /// A pasted API token (Capsule personal access token, App CRM Sanctum token).
    Token,
    /// OAuth redirect flow (Capsule).
    OAuth,
    /// Email + password exchanged for a token (App CRM `POST /api/token`).
    EmailPassword,
    /// Username + password opening a session (Zurmo login).
    UsernamePassword,
}

/// What a connection can do; the UI shows only these actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    pub provider: Provider,
    pub list: bool,
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    /// Reading the signed-in user.
    pub me: bool,
    /// Updating the signed-in user's own profile.
    pub profile: bool,
    /// Changing the signed-in user's password.
    pub password: bool,
    /// Whether search and sort run on the server (false: the client fetches every page and
    /// filters locally, which costs requests).
    pub server_search: bool,
    /// The CRM reports a total count with each page.
    pub total_count: bool,
    /// Conditions can be combined with "any" (OR) matching.
    pub match_any: bool,
    /// Free text and per-field conditions can be combined in one query.
    pub text_with_conditions: bool,
    /// Deleting a user can hand their records to another user (App CRM `transfer_data_to`).
    pub delete_transfer: bool,
    /// Conditions can be combined by a custom boolean structure such as `(1 or 2) and 3`
    /// (Zurmo's `dynamicStructure`), see [`crate::query::UserQuery::structure`].
    pub custom_structure: bool,
    /// Partial update (false: every required field must be sent again; the client handles it).
    pub partial_update: bool,
    pub max_page_size: u32,
    pub default_page_size: u32,
    pub sign_in: Vec<SignInKind>,
}

impl Capabilities {
    /// The fixed capabilities of each provider, from the reference.
    pub fn of(provider: Provider) -> Capabilities {
        match provider {
            Provider::Capsule => Capabilities {
                provider,
                list: true,
                read: true,
                create: false,
                update: false,
                delete: false,
                me: true,
                profile: false,
                password: false,
                server_search: false,
                total_count: false,
                match_any: true,
                text_with_conditions: true,
                delete_transfer: false,
                custom_structure: false,
                partial_update: false,
                max_page_size: 100,
                default_page_size: 50,
                sign_in: vec![SignInKind::Token, SignInKind::OAuth],
            },
            Provider::AppCrm => Capabilities {
                provider,
                list: true,
                read: true,
                create: true,
                update: true,
                delete: true,
                me: true,
                profile: true,
                password: true,
                server_search: true,
                total_count: true,
                match_any: true,
                text_with_conditions: false,
                delete_transfer: true,
                custom_structure: false,
                partial_update: false,
                max_page_size: 100,
                default_page_size: 15,
                sign_in: vec![SignInKind::Token, SignInKind::EmailPassword],
            },
            Provider::Zurmo => Capabilities {
                provider,
                list: true,
                read: true,
                create: true,
                update: true,
                delete: true,
                me: true,
                profile: false,
                password: false,
                server_search: true,
                total_count: true,
                match_any: true,
                text_with_conditions: true,
                delete_transfer: false,
                custom_structure: true,
                partial_update: true,
                max_page_size: 100,
                default_page_size: 10,
                sign_in: vec![SignInKind::UsernamePassword],
            },
        }
    }
}

/// Builds a display name from the best parts available.
pub(crate) fn display_name(
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
    username: Option<&str>,
    email: Option<&str>,
    id: u64,
) -> String {
    if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    // Built in one string, sized once: this runs for every user of every page.
    let parts = [first, last].map(|p| p.map(str::trim).filter(|s| !s.is_empty()));
    let mut full = String::with_capacity(parts.iter().flatten().map(|s| s.len() + 1).sum());
    for part in parts.into_iter().flatten() {
        if !full.is_empty() {
            full.push(' ');
        }
        full.push_str(part);
    }
    if !full.is_empty() {
        return full;
    }
    username
        .or(email)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("#{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_falls_back_in_order() {
        let n = display_name;
        assert_eq!(n(Some(" Ann "), Some("X"), None, None, None, 1), "Ann");
        assert_eq!(n(Some("  "), Some(" A "), Some("B"), None, None, 1), "A B");
        assert_eq!(n(None, Some(""), Some("Ünal"), None, None, 1), "Ünal");
        assert_eq!(n(None, Some("Zoë"), Some(" "), None, None, 1), "Zoë");
        assert_eq!(n(None, None, None, Some("u1"), Some("e@x"), 1), "u1");
        assert_eq!(n(None, Some(" "), None, None, Some("e@x"), 1), "e@x");
        // An empty username is not skipped for the email: the id is shown instead.
        assert_eq!(n(None, None, None, Some(""), Some("e@x"), 3), "#3");
        assert_eq!(n(None, None, None, None, None, 7), "#7");
    }

    /// `raw_text` by the parsed `Value`, the definition the skimming path must match.
    fn parsed_text(raw: &str, path: &str) -> Option<String> {
        let user = User {
            raw: RawJson::from_text(raw).unwrap(),
            ..User::default()
        };
        let _ = user.raw.value();
        assert!(user.raw.is_parsed());
        user.raw_text(path)
    }

    fn skimmed_text(raw: &str, path: &str) -> Option<String> {
        let user = User {
            raw: RawJson::from_text(raw).unwrap(),
            ..User::default()
        };
        let text = user.raw_text(path);
        assert!(!user.raw.is_parsed(), "{raw} {path}: read without parsing");
        text
    }

    #[test]
    fn raw_text_skims_the_same_answers_the_parsed_value_gives() {
        let raw = r#" {"jobTitle":"Chef","status":"ACTIVE","n":12,"f":1.50,"e":1e2,"neg":-0,
            "t":true,"no":false,"nil":null,"esc":"a\/b \u00e9\n","uni":"Zoë",
            "primaryEmail":{"emailAddress":"a@b.io","optOut":"0"},"manager":{"id":4},
            "list":[{"x":1},[2,3],"s"],"obj":{"k":[1,{"z":null}]},"dup":1,"dup":"second",
            "empty":{},"arr":[] } "#;
        let paths = [
            "jobTitle",
            "status",
            "n",
            "f",
            "e",
            "neg",
            "t",
            "no",
            "nil",
            "esc",
            "uni",
            "primaryEmail.emailAddress",
            "primaryEmail.optOut",
            "primaryEmail.missing",
            "manager.id",
            "manager.id.deeper",
            "list",
            "list.0",
            "list.0.x",
            "list.1.1",
            "list.2",
            "list.3",
            "list.x",
            "obj",
            "obj.k.1.z",
            "dup",
            "empty",
            "arr",
            "arr.0",
            "missing",
            "jobTitle.x",
            "",
            ".",
            "primaryEmail.",
        ];
        for path in paths {
            assert_eq!(skimmed_text(raw, path), parsed_text(raw, path), "{path}");
        }
        assert_eq!(skimmed_text(raw, "esc").as_deref(), Some("a/b é\n"));
        assert_eq!(skimmed_text(raw, "dup").as_deref(), Some("second"));
        assert_eq!(skimmed_text(raw, "f").as_deref(), Some("1.5"));
        assert_eq!(skimmed_text(raw, "list.0.x").as_deref(), Some("1"));
        // Not an object at the top: nothing to find, as with the parsed value.
        for raw in ["[1]", "\"s\"", "null", "3"] {
            assert_eq!(skimmed_text(raw, "a"), parsed_text(raw, "a"), "{raw}");
        }
    }

    #[test]
    fn raw_text_with_an_escaped_key_asks_the_parsed_value() {
        let raw = r#"{"a\u0062":1,"ab":2}"#;
        let user = User {
            raw: RawJson::from_text(raw).unwrap(),
            ..User::default()
        };
        assert_eq!(user.raw_text("ab").as_deref(), Some("2"));
        assert!(
            user.raw.is_parsed(),
            "the skimmer cannot compare escaped keys"
        );
    }
}
