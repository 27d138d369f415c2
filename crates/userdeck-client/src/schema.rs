//! Each provider's user fields, declared once: type, required-ness, limits, allowed values and
//! help. The UI renders table columns and create/edit forms from it, validates drafts on the
//! client with it, and maps server errors back to fields by the same keys (which are the paths
//! the server uses in its validation errors).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::error::FieldErrors;
use crate::model::{Provider, User, UserDraft};
use crate::provider::appcrm::{DATE_FORMATS, TIME_FORMATS};
use crate::query::UserField;

/// How a field is entered and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FieldKind {
    Text,
    Email,
    Password,
    Bool,
    /// One of `allowed`.
    Choice,
    /// IANA time zone name.
    TimeZone,
    DateTime,
    /// Read-only HTML (App CRM mail signature).
    Html,
    /// A list of names (App CRM roles).
    List,
    /// A CRM's code word (Capsule's `ACTIVE`, `SEND_AND_LOG`): shown as words, sent as it came.
    Code,
    /// Another user of the same CRM, held by its id (Zurmo's `manager.id`): picked by searching
    /// users, and read as the name the CRM sends beside the id (`{"id":3,"username":"…"}`).
    UserRef,
    /// A locale or language code (`en`, `pt_BR`, Capsule's `en_GB`): read as the language's
    /// name, sent exactly as typed (the CRM decides which are installed).
    Locale,
    /// A day of the week as its number, Sunday 0 (App CRM's `first_day_of_week`), one of `allowed`.
    Weekday,
}

/// When a field must be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Required {
    Never,
    OnCreate,
    /// Only on the signed-in user's profile form (App CRM's `locale`).
    InProfile,
    Always,
}

impl Required {
    /// Whether a form in `mode` must have a value.
    pub fn in_mode(self, mode: FormMode) -> bool {
        match self {
            Required::Always => true,
            Required::OnCreate => mode == FormMode::Create,
            Required::InProfile => mode == FormMode::Profile,
            Required::Never => false,
        }
    }
}

/// Whether a form is creating or editing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FormMode {
    Create,
    Update,
    Profile,
}

/// One field of a provider's user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldSpec {
    /// Draft key and server error path (`email`, `primaryEmail.emailAddress`).
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: Required,
    pub min_len: Option<usize>,
    pub max_len: Option<usize>,
    pub allowed: &'static [&'static str],
    pub help: &'static str,
    /// Shown as a list column by default.
    pub column: bool,
    /// Can be written on create/update (false: display only).
    pub writable: bool,
    /// Appears on the signed-in user's profile form.
    pub profile: bool,
    /// Must be lowercase (Zurmo usernames).
    pub lowercase: bool,
    /// The unified field for sorting/filtering and reading the value, when there is one.
    pub field: Option<UserField>,
}

impl FieldSpec {
    const fn new(key: &'static str, label: &'static str, kind: FieldKind) -> FieldSpec {
        FieldSpec {
            key,
            label,
            kind,
            required: Required::Never,
            min_len: None,
            max_len: None,
            allowed: &[],
            help: "",
            column: false,
            writable: true,
            profile: false,
            lowercase: false,
            field: None,
        }
    }
    const fn required(mut self, r: Required) -> Self {
        self.required = r;
        self
    }
    const fn max(mut self, n: usize) -> Self {
        self.max_len = Some(n);
        self
    }
    const fn min(mut self, n: usize) -> Self {
        self.min_len = Some(n);
        self
    }
    const fn help(mut self, h: &'static str) -> Self {
        self.help = h;
        self
    }
    const fn column(mut self) -> Self {
        self.column = true;
        self
    }
    const fn read_only(mut self) -> Self {
        self.writable = false;
        self
    }
    const fn lowercase(mut self) -> Self {
        self.lowercase = true;
        self
    }
    const fn profile(mut self) -> Self {
        self.profile = true;
        self
    }
    const fn allowed(mut self, values: &'static [&'static str]) -> Self {
        self.allowed = values;
        self
    }
    const fn field(mut self, f: UserField) -> Self {
        // A plain assignment would drop the old value, which a `const fn` cannot do for a type
        // that may hold a `String` (`UserField::Native`). A spec names its field once, so the
        // old value is `None` (checked, at compile time for the tables) and forgetting it
        // leaks nothing.
        let old = self.field.replace(f);
        assert!(old.is_none(), "a field spec names its unified field once");
        std::mem::forget(old);
        self
    }

    /// The cell text for this field of a user.
    pub fn display(&self, user: &User) -> Option<String> {
        match &self.field {
            Some(f) => f.value_of(user),
            None => user.raw_text(self.key),
        }
    }

    /// Client-side checks of one value; messages read like the servers' own.
    pub fn check(&self, value: Option<&Value>, mode: FormMode) -> Vec<String> {
        let text = match value {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(Value::Array(a)) if a.is_empty() => None,
            Some(other) => Some(other.to_string()),
        };
        let must = self.required.in_mode(mode);
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return if must {
                vec![format!("{} is required.", self.label)]
            } else {
                Vec::new()
            };
        };
        let mut out = Vec::new();
        let chars = text.chars().count();
        if let Some(max) = self.max_len.filter(|m| chars > *m) {
            out.push(format!(
                "{} is too long (maximum is {max} characters).",
                self.label
            ));
        }
        if let Some(min) = self.min_len.filter(|m| chars < *m) {
            out.push(format!("{} must be at least {min} characters.", self.label));
        }
        if matches!(self.kind, FieldKind::Choice | FieldKind::Weekday)
            && !self.allowed.is_empty()
            && !self.allowed.contains(&text.as_str())
        {
            out.push(format!(
                "{} must be one of: {}.",
                self.label,
                self.allowed.join(", ")
            ));
        }
        if self.kind == FieldKind::Email && !looks_like_email(&text) {
            out.push(format!("{} must be a valid email address.", self.label));
        }
        if self.lowercase && text.chars().any(char::is_uppercase) {
            out.push(format!("{} must be lowercase.", self.label));
        }
        out
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(' ')
        }
        None => false,
    }
}

/// A provider's user fields in display order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    pub provider: Provider,
    pub fields: Cow<'static, [FieldSpec]>,
}

impl Schema {
    /// The declared schema of a provider.
    pub fn of(provider: Provider) -> Schema {
        use FieldKind::*;
        use Required::*;
        // Tables in the binary's data, not built on each call: the table header asks once per
        // column, and the first users list's query needs it before the request can leave.
        const CAPSULE: &[FieldSpec] = &[
            FieldSpec::new("name", "Name", Text)
                .read_only()
                .column()
                .field(UserField::DisplayName)
                .help("The user's party name; change it on the party in Capsule."),
            FieldSpec::new("username", "Username", Text)
                .read_only()
                .column()
                .field(UserField::Username),
            FieldSpec::new("email", "Email", Email)
                .read_only()
                .column()
                .field(UserField::Email)
                .help("Taken from the user's party (embed=party)."),
            FieldSpec::new("status", "Status", Code)
                .read_only()
                .column(),
            FieldSpec::new("timezone", "Time zone", TimeZone).read_only(),
            FieldSpec::new("locale", "Locale", Locale).read_only(),
            FieldSpec::new("currency", "Currency", Text).read_only(),
            FieldSpec::new("emailPreference", "Email preference", Code).read_only(),
            FieldSpec::new("lastLoginAt", "Last login", DateTime)
                .read_only()
                .column()
                .field(UserField::LastLoginAt),
        ];
        const APP_CRM: &[FieldSpec] = &[
            FieldSpec::new("name", "Name", Text)
                .required(Always)
                .max(191)
                .column()
                .profile()
                .field(UserField::DisplayName),
            FieldSpec::new("email", "Email", Email)
                .required(Always)
                .max(191)
                .column()
                .profile()
                .field(UserField::Email)
                .help("Must be unique."),
            FieldSpec::new("password", "Password", Password)
                .required(OnCreate)
                .min(6)
                .help("At least 6 characters."),
            FieldSpec::new("timezone", "Time zone", TimeZone)
                .required(Always)
                .profile()
                .help("An IANA identifier such as Europe/Lisbon (case-sensitive)."),
            // Nullable on a user, but the profile form requires it.
            FieldSpec::new("locale", "Locale", Locale)
                .required(InProfile)
                .profile()
                .help("An installed locale: en, es, pt_BR, …"),
            FieldSpec::new("date_format", "Date format", Choice)
                .required(Always)
                .profile()
                .allowed(&DATE_FORMATS),
            FieldSpec::new("time_format", "Time format", Choice)
                .required(Always)
                .profile()
                .allowed(&TIME_FORMATS)
                .help("The server accepts only these three."),
            FieldSpec::new("super_admin", "Super admin", Bool)
                .column()
                .help("Also grants API access."),
            FieldSpec::new("access_api", "API access", Bool),
            FieldSpec::new("roles", "Roles", List)
                .help("Role names; only visible to super admins."),
            FieldSpec::new("created_at", "Created", DateTime)
                .read_only()
                .column()
                .field(UserField::CreatedAt),
        ];
        const ZURMO: &[FieldSpec] = &[
            FieldSpec::new("username", "Username", Text)
                .required(Always)
                .lowercase()
                .max(64)
                .column()
                .field(UserField::Username)
                .help("Unique, lowercase only."),
            FieldSpec::new("firstName", "First name", Text)
                .max(32)
                .column()
                .field(UserField::FirstName),
            FieldSpec::new("lastName", "Last name", Text)
                .required(Always)
                .max(32)
                .column()
                .field(UserField::LastName),
            FieldSpec::new("primaryEmail.emailAddress", "Email", Email)
                .column()
                .field(UserField::Email)
                .help("Must be unique across all users."),
            FieldSpec::new("password", "Password", Password),
            FieldSpec::new("jobTitle", "Job title", Text)
                .max(64)
                .column(),
            FieldSpec::new("department", "Department", Text).max(64),
            FieldSpec::new("officePhone", "Office phone", Text).max(24),
            FieldSpec::new("mobilePhone", "Mobile phone", Text).max(24),
            FieldSpec::new("timeZone", "Time zone", TimeZone).max(64),
            FieldSpec::new("language", "Language", Locale).max(10),
            FieldSpec::new("primaryAddress.city", "City", Text).max(32),
            FieldSpec::new("primaryAddress.postalCode", "Postal code", Text).max(16),
            FieldSpec::new("manager.id", "Manager", UserRef),
            FieldSpec::new("isActive", "Active", Bool)
                .read_only()
                .column()
                .field(UserField::Active),
        ];
        let fields = match provider {
            Provider::Capsule => CAPSULE,
            Provider::AppCrm => APP_CRM,
            Provider::Zurmo => ZURMO,
        };
        Schema {
            provider,
            fields: Cow::Borrowed(fields),
        }
    }

    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The schema of a provider as a CRM of release `version` has it (None: not yet known).
    /// App CRM up to v1.2 adds a required first day of the week.
    pub fn for_server(provider: Provider, version: Option<&str>) -> Schema {
        let schema = Schema::of(provider);
        if provider == Provider::AppCrm
            && version.is_some_and(crate::provider::appcrm::requires_first_day_of_week)
        {
            schema.with_first_day_of_week()
        } else {
            schema
        }
    }

    /// App CRM's schema with the required first day of the week of its v1.1–1.2, after the time
    /// format: for a release that names itself so, or that asked for the field in a save's 422.
    /// A schema that has the field already, or another CRM's, is returned as it is.
    pub fn with_first_day_of_week(mut self) -> Schema {
        if self.provider != Provider::AppCrm || self.field("first_day_of_week").is_some() {
            return self;
        }
        let at = self
            .fields
            .iter()
            .position(|f| f.key == "time_format")
            .map_or(self.fields.len(), |i| i + 1);
        self.fields.to_mut().insert(
            at,
            FieldSpec::new("first_day_of_week", "First day of week", FieldKind::Weekday)
                .required(Required::Always)
                .profile()
                .allowed(&crate::provider::appcrm::FIRST_DAYS_OF_WEEK)
                .help("Where this user's calendars start."),
        );
        self
    }

    /// Default list columns.
    pub fn columns(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().filter(|f| f.column)
    }

    /// Fields a form shows in `mode`.
    pub fn form_fields(&self, mode: FormMode) -> impl Iterator<Item = &FieldSpec> {
        self.fields
            .iter()
            .filter(move |f| f.writable && (mode != FormMode::Profile || f.profile))
    }

    /// Client-side validation of a draft, keyed like server errors so both show the same way.
    pub fn validate(&self, draft: &UserDraft, mode: FormMode) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for f in self.form_fields(mode) {
            let messages = f.check(draft.get(f.key).as_ref(), mode);
            if !messages.is_empty() {
                errors.insert(f.key.to_string(), messages);
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn app_crm_create_validation() {
        let s = Schema::of(Provider::AppCrm);
        let mut d = UserDraft::default();
        d.set("email", json!("not-an-email"));
        d.set("time_format", json!("G:i A"));
        let e = s.validate(&d, FormMode::Create);
        assert_eq!(e["name"], ["Name is required."]);
        assert_eq!(e["email"], ["Email must be a valid email address."]);
        assert_eq!(e["password"], ["Password is required."]);
        assert!(e["time_format"][0].contains("must be one of: H:i, h:i A, h:i a"));
        let upd = s.validate(&d, FormMode::Update);
        assert!(!upd.contains_key("password"));
        assert!(
            s.form_fields(FormMode::Profile)
                .all(|f| f.key != "password" && f.key != "roles")
        );
    }

    #[test]
    fn app_crm_profile_requires_a_locale() {
        let s = Schema::of(Provider::AppCrm);
        let d = UserDraft::default();
        assert_eq!(
            s.validate(&d, FormMode::Profile)["locale"],
            ["Locale is required."]
        );
        for mode in [FormMode::Create, FormMode::Update] {
            assert!(!s.validate(&d, mode).contains_key("locale"), "{mode:?}");
        }
    }

    #[test]
    fn app_crm_up_to_1_2_asks_for_the_first_day_of_week() {
        let keys = |s: &Schema, mode| s.form_fields(mode).map(|f| f.key).collect::<Vec<_>>();
        for version in [None, Some("1.5.1"), Some("1.3.0")] {
            let s = Schema::for_server(Provider::AppCrm, version);
            assert_eq!(s, Schema::of(Provider::AppCrm), "{version:?}");
        }
        let old = Schema::for_server(Provider::AppCrm, Some("1.2.1"));
        for mode in [FormMode::Create, FormMode::Update, FormMode::Profile] {
            let k = keys(&old, mode);
            let at = k.iter().position(|k| *k == "first_day_of_week");
            assert_eq!(at.map(|i| k[i - 1]), Some("time_format"), "{mode:?}: {k:?}");
            let mut d = UserDraft::default();
            assert_eq!(
                old.validate(&d, mode)["first_day_of_week"],
                ["First day of week is required."]
            );
            d.set("first_day_of_week", json!(2));
            assert!(old.validate(&d, mode)["first_day_of_week"][0].contains("one of: 0, 1, 6"));
            d.set("first_day_of_week", json!(6));
            assert!(!old.validate(&d, mode).contains_key("first_day_of_week"));
        }
        // Only App CRM has releases that differ.
        let zurmo = Schema::for_server(Provider::Zurmo, Some("1.2.1"));
        assert_eq!(zurmo, Schema::of(Provider::Zurmo));
        assert_eq!(
            Schema::of(Provider::Zurmo).with_first_day_of_week(),
            Schema::of(Provider::Zurmo)
        );
        // Learnt from a 422, the field is the same, and added once.
        let asked = Schema::of(Provider::AppCrm).with_first_day_of_week();
        assert_eq!(asked, old);
        assert_eq!(asked.clone().with_first_day_of_week(), old);
    }

    #[test]
    fn zurmo_lengths_and_lowercase() {
        let s = Schema::of(Provider::Zurmo);
        let mut d = UserDraft {
            username: Some("Élodie".into()),
            last_name: Some("x".repeat(33)),
            ..UserDraft::default()
        };
        d.set("primaryAddress.postalCode", json!("12345678901234567"));
        let e = s.validate(&d, FormMode::Create);
        assert_eq!(e["username"], ["Username must be lowercase."]);
        assert_eq!(
            e["lastName"],
            ["Last name is too long (maximum is 32 characters)."]
        );
        assert!(e.contains_key("primaryAddress.postalCode"));
        let ok = UserDraft {
            username: Some("élodie".into()),
            last_name: Some("Ünal".into()),
            ..UserDraft::default()
        };
        assert!(s.validate(&ok, FormMode::Create).is_empty());
    }

    #[test]
    fn capsule_is_read_only_and_columns_render() {
        let s = Schema::of(Provider::Capsule);
        assert_eq!(s.form_fields(FormMode::Create).count(), 0);
        let u = User {
            id: 1,
            display_name: "A".into(),
            email: Some("a@x.io".into()),
            raw: json!({"status":"ACTIVE"}).into(),
            ..User::default()
        };
        let cells: Vec<_> = s.columns().map(|c| c.display(&u)).collect();
        assert_eq!(cells[0].as_deref(), Some("A"));
        assert_eq!(cells[2].as_deref(), Some("a@x.io"));
        assert_eq!(cells[3].as_deref(), Some("ACTIVE"));
    }
}
