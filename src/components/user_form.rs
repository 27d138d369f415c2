//! The create / edit / profile form, rendered from the provider's field schema: required marks,
//! length limits, format selects with a live preview, the browser's time zones, roles, Zurmo's
//! manager picker, and password with confirmation.
//!
//! Validation runs on the client with the schema's own rules before anything is sent; the
//! server's field errors land on the same fields. What is typed survives errors, reloads and
//! accidental navigation: the draft is kept in `sessionStorage` under the form's key (passwords
//! excepted) until the save succeeds or the user discards it.

use std::collections::BTreeMap;
use std::rc::Rc;

use leptos::prelude::*;
use serde_json::Value;
use userdeck_client::{
    ApiError, FieldKind, FieldSpec, FormMode, Provider, Schema, User, UserDraft,
};

use crate::components::field_value::{user_ref, weekday_text};
use crate::components::focus;
use crate::components::formats::{language_name, now, php_date, time_zones};
use crate::components::user_picker::UserPicker;
use crate::components::when::When;
use crate::state::session::{ApiClient, Sessions, describe};
use crate::state::storage::{self, Store};
use crate::state::toast::{ToastKind, notify};

/// Key of the password confirmation (App CRM's name for it).
pub const CONFIRMATION: &str = "password_confirmation";

/// Form values by schema key, as typed.
pub type Values = BTreeMap<String, Value>;

/// The form's starting values from a user (edit) or nothing (create).
pub fn initial_values(schema: &Schema, mode: FormMode, user: Option<&User>) -> Values {
    let mut values = Values::new();
    for f in schema.form_fields(mode) {
        let v = user.and_then(|u| value_from_user(f, u));
        if let Some(v) = v {
            values.insert(f.key.to_string(), v);
        }
    }
    values
}

fn value_from_user(f: &FieldSpec, u: &User) -> Option<Value> {
    match f.kind {
        FieldKind::Password => None,
        FieldKind::Bool => Some(Value::Bool(matches!(f.display(u)?.as_str(), "1" | "true"))),
        FieldKind::List => {
            let raw = u.raw.get(f.key)?.as_array()?;
            let names: Vec<String> = raw
                .iter()
                .filter_map(|r| {
                    r.get("name")
                        .and_then(Value::as_str)
                        .or_else(|| r.as_str())
                        .map(str::to_string)
                })
                .collect();
            Some(Value::String(names.join(", ")))
        }
        _ => f.display(u).map(Value::String),
    }
}

/// The value a field holds in a draft: lists split on commas, user ids parsed, text as typed.
fn draft_value(f: &FieldSpec, v: &Value) -> Value {
    match (f.kind, v) {
        (FieldKind::List, Value::String(s)) => Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| Value::String(x.into()))
                .collect(),
        ),
        (FieldKind::UserRef | FieldKind::Weekday, Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or(Value::String(s.clone())),
        _ => v.clone(),
    }
}

/// A draft of every value (for validation) and a draft of the changed ones (to send).
pub fn drafts(
    schema: &Schema,
    mode: FormMode,
    values: &Values,
    initial: &Values,
) -> (UserDraft, UserDraft) {
    let mut full = UserDraft::default();
    let mut changed = UserDraft::default();
    for f in schema.form_fields(mode) {
        let Some(v) = values.get(f.key) else { continue };
        let dv = draft_value(f, v);
        full.set(f.key, dv.clone());
        let is_empty_password =
            f.kind == FieldKind::Password && v.as_str().is_none_or(str::is_empty);
        let unchanged = mode != FormMode::Create && initial.get(f.key) == Some(v);
        let empty_new = mode == FormMode::Create && v.as_str().is_some_and(|s| s.trim().is_empty());
        if !is_empty_password && !unchanged && !empty_new {
            changed.set(f.key, dv);
        }
    }
    if let Some(c) = values.get(CONFIRMATION)
        && schema.provider == Provider::AppCrm
        && changed.password.is_some()
    {
        changed.extra.insert(CONFIRMATION.into(), c.clone());
    }
    (full, changed)
}

/// Client-side validation: the schema's rules plus the password confirmation.
pub fn validate(schema: &Schema, mode: FormMode, values: &Values) -> BTreeMap<String, Vec<String>> {
    let (full, _) = drafts(schema, mode, values, &Values::new());
    let mut errors = schema.validate(&full, mode);
    let password = values.get("password").and_then(Value::as_str).unwrap_or("");
    let confirmation = values
        .get(CONFIRMATION)
        .and_then(Value::as_str)
        .unwrap_or("");
    if !password.is_empty() && password != confirmation {
        errors
            .entry(CONFIRMATION.into())
            .or_default()
            .push("The password confirmation does not match.".into());
    }
    errors
}

fn field_id(key: &str) -> String {
    format!("f-{}", key.replace('.', "-"))
}

fn text_of(values: &Values, key: &str) -> String {
    match values.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The form. On success the draft is dropped and `on_saved` gets the saved user.
#[component]
pub fn UserForm(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    mode: FormMode,
    /// The user being edited (None when creating; the signed-in user for the profile).
    #[prop(optional)]
    user: Option<User>,
    /// `sessionStorage` key of this form's draft.
    #[prop(into)]
    draft_key: String,
    on_saved: Callback<User>,
    /// The connection's id, so a rejected session ends it and the gate asks for a sign-in (this
    /// form then comes back from its draft), and a save forgets the lists of users kept for it.
    #[prop(optional, into)]
    connection: Option<String>,
) -> impl IntoView {
    let sessions = use_context::<Sessions>();
    let provider = client.with_value(|c| c.connection().provider);
    // The client's schema, for the release the CRM named (App CRM v1.2 asks for one more field).
    // It can grow while the form is open: a release the browser cannot read asks for that field
    // in its answer to the first save, and the form then shows it (see `submit`).
    let schema = client.with_value(|c| c.schema());
    let initial = initial_values(&schema, mode, user.as_ref());
    let stored: Option<Values> = storage::get_json(Store::Session, &draft_key);
    let restored = stored.is_some();
    let values = RwSignal::new(
        stored
            .map(|s| {
                let mut v = initial.clone();
                v.extend(s);
                v
            })
            .unwrap_or_else(|| initial.clone()),
    );
    let restored_note = RwSignal::new(restored);
    let errors = RwSignal::new(BTreeMap::<String, Vec<String>>::new());
    let general = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let schema_s = RwSignal::new(schema);
    let initial_s = StoredValue::new(initial);
    let key_s = StoredValue::new(draft_key);
    let user_id = user.as_ref().map(|u| u.id);

    // Keep the draft (without passwords) whenever it differs from the starting values.
    Effect::new(move |_| {
        let v = values.get();
        let key = key_s.get_value();
        let keep: Values = v
            .into_iter()
            .filter(|(k, _)| k != "password" && k != CONFIRMATION)
            .collect();
        let changed = initial_s.with_value(|i| keep.iter().any(|(k, v)| i.get(k) != Some(v)));
        if changed {
            storage::set_json(Store::Session, &key, &keep);
        } else {
            storage::remove(Store::Session, &key);
        }
    });

    let set = move |key: &str, v: Value| {
        let key = key.to_string();
        values.update(|m| {
            m.insert(key.clone(), v);
        });
        errors.update(|e| {
            e.remove(&key);
        });
    };
    let discard = move |_| {
        storage::remove(Store::Session, &key_s.get_value());
        values.set(initial_s.get_value());
        errors.set(BTreeMap::new());
        restored_note.set(false);
    };

    let form = NodeRef::<leptos::html::Form>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let vals = values.get_untracked();
        let found = schema_s.with_untracked(|s| validate(s, mode, &vals));
        general.set(None);
        if !found.is_empty() {
            errors.set(found);
            general.set(Some("Please correct the highlighted fields.".into()));
            focus::first_invalid(form);
            return;
        }
        let (_, changed) =
            schema_s.with_untracked(|s| initial_s.with_value(|i| drafts(s, mode, &vals, i)));
        busy.set(true);
        let client = client.get_value();
        let connection = connection.clone();
        // Read now: the user may leave the form while it saves, and its stored values go with
        // it (reading them after the `await` would panic).
        let draft_key = key_s.get_value();
        leptos::task::spawn_local(async move {
            let outcome = match (mode, user_id) {
                (FormMode::Create, _) => client.create(&changed).await,
                (FormMode::Update, Some(id)) => client.update(id, &changed).await,
                (FormMode::Profile, _) => client.update_profile(&changed).await,
                (FormMode::Update, None) => Err(ApiError::Unsupported {
                    message: "no user to update".into(),
                }),
            };
            busy.set(false);
            if let (Some(s), Some(id)) = (sessions, &connection) {
                s.report_write(id, &client, &outcome);
            }
            match outcome {
                Ok(saved) => {
                    storage::remove(Store::Session, &draft_key);
                    errors.set(BTreeMap::new());
                    restored_note.set(false);
                    notify(ToastKind::Success, format!("Saved {}", saved.display_name));
                    on_saved.try_run(saved);
                }
                Err(ApiError::Validation { message, fields }) => {
                    // The answer may have taught the client a field the CRM requires (App CRM
                    // v1.2's first day of the week, when its release could not be read): the
                    // form grows it, keeping every value typed, and its error lands on it.
                    let learned = client.schema();
                    if schema_s.try_with_untracked(|s| *s != learned) == Some(true) {
                        schema_s.try_set(learned);
                    }
                    let known: Vec<String> = schema_s
                        .try_with_untracked(|s| {
                            s.form_fields(mode).map(|f| f.key.to_string()).collect()
                        })
                        .unwrap_or_default();
                    let mut on_fields = BTreeMap::new();
                    let mut other = Vec::new();
                    for (k, msgs) in fields {
                        if known.contains(&k) || k == CONFIRMATION {
                            on_fields.insert(k, msgs);
                        } else {
                            other.extend(
                                msgs.into_iter()
                                    .map(|m| if k.is_empty() { m } else { format!("{k}: {m}") }),
                            );
                        }
                    }
                    errors.set(on_fields);
                    let text = if other.is_empty() {
                        message
                    } else {
                        other.join(" ")
                    };
                    general.set(Some(format!("The CRM did not accept the changes: {text}")));
                    focus::first_invalid(form);
                }
                Err(e) => general.set(Some(describe(&e))),
            }
        });
    };

    let rendered = move || {
        let fields = schema_s.with(|s| s.form_fields(mode).cloned().collect::<Vec<_>>());
        fields
            .into_iter()
            .map(|f| {
                // The name the CRM sends beside a reference's id, so an edit shows who it is.
                let named = user
                    .as_ref()
                    .filter(|_| f.kind == FieldKind::UserRef)
                    .and_then(|u| user_ref(&f, u))
                    .and_then(|(id, name)| Some((id, name?)));
                render_field(f, mode, values, errors, set, client, named)
            })
            .collect_view()
    };
    let submit_label = match mode {
        FormMode::Create => "Create user",
        FormMode::Update => "Save changes",
        FormMode::Profile => "Save profile",
    };
    view! {
        <form class="user-form" novalidate on:submit=submit node_ref=form data-testid="user-form" data-provider=provider.as_str()>
            <When when=move || restored_note.get()>
                <p class="note" role="status" data-testid="draft-restored">
                    "Restored your unsaved changes. "
                    <button type="button" class="link" on:click=discard>"Discard them"</button>
                </p>
            </When>
            <p class="hint">"Fields marked "<span class="req" aria-hidden="true">"*"</span>" are required."</p>
            {rendered}
            {move || general.get().map(|g| view! { <p class="error" role="alert" data-testid="form-error">{g}</p> })}
            <div class="actions">
                // `aria-disabled` while it saves, not `disabled`: a disabled button loses the
                // focus to the page, and a failed save would leave the keyboard user at the top.
                <button type="submit" class="primary" data-testid="save" aria-disabled=move || busy.get().to_string()>
                    {move || if busy.get() { "Saving…" } else { submit_label }}
                </button>
            </div>
        </form>
    }
}

fn render_field(
    f: FieldSpec,
    mode: FormMode,
    values: RwSignal<Values>,
    errors: RwSignal<BTreeMap<String, Vec<String>>>,
    set: impl Fn(&str, Value) + Copy + Send + Sync + 'static,
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    named: Option<(String, String)>,
) -> AnyView {
    let key: &'static str = f.key;
    let id = field_id(key);
    let err_id = format!("{id}-error");
    let help_id = format!("{id}-help");
    let required = f.required.in_mode(mode);
    let text = move || values.with(|v| text_of(v, key));
    let invalid = move || errors.with(|e| e.contains_key(key));
    let error_view = move |k: &'static str, err_id: String| {
        move || {
            errors.with(|e| e.get(k).cloned()).map(|msgs| {
                view! { <p class="field-error" id=err_id.clone() data-testid=format!("error-{k}")>{msgs.join(" ")}</p> }
            })
        }
    };
    let describedby = format!("{help_id} {err_id}");
    let label = view! {
        <span class="label">
            {f.label}
            {required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}
        </span>
    };
    let max = f.max_len.map(|m| m.to_string());
    // Only what is typed counts its characters: a chosen time zone or day has nothing to count.
    let typed = matches!(
        f.kind,
        FieldKind::Text | FieldKind::Email | FieldKind::List | FieldKind::Locale
    );
    // An edit sends no password unless one is typed; a new user has no current one to keep.
    let help = match f.kind {
        FieldKind::Password if mode != FormMode::Create => {
            format!("{} Leave empty to keep the current one.", f.help)
                .trim_start()
                .to_string()
        }
        _ => f.help.to_string(),
    };
    let help_view = (!help.is_empty())
        .then(|| view! { <p class="help" id=help_id.clone()>{help}</p> })
        .into_any();
    let (help_below_password, help_below_field) = match f.kind {
        FieldKind::Password => (help_view, ().into_any()),
        _ => (().into_any(), help_view),
    };
    // A password's own error goes under it, not under the confirmation that follows it.
    let own_error = error_view(key, err_id.clone());
    let (error_below_password, error_below_field) = match f.kind {
        FieldKind::Password => (own_error.into_any(), ().into_any()),
        _ => (().into_any(), own_error.into_any()),
    };
    let input: AnyView = match f.kind {
        FieldKind::Bool => view! {
            <input type="checkbox" id=id.clone() name=key
                prop:checked=move || values.with(|v| v.get(key).is_some_and(|x| x.as_bool() == Some(true) || x.as_str() == Some("1")))
                on:change=move |ev| set(key, Value::Bool(event_target_checked(&ev)))/>
        }
        .into_any(),
        FieldKind::Choice => {
            let options = f.allowed;
            let preview = move || {
                let fmt = text();
                (!fmt.is_empty()).then(|| view! { <span class="preview" data-testid=format!("preview-{key}")>{format!("e.g. {}", php_date(&fmt, now()))}</span> })
            };
            view! {
                <select id=id.clone() name=key required=required aria-invalid=move || invalid().to_string()
                    aria-describedby=describedby.clone()
                    prop:value=text on:change=move |ev| set(key, Value::String(event_target_value(&ev)))>
                    <option value="">"Choose…"</option>
                    {move || {
                        // A stored value outside the list stays visible (validation says why).
                        let current = text();
                        (!current.is_empty() && !options.contains(&current.as_str())).then(|| view! { <option value=current.clone()>{current.clone()}</option> })
                    }}
                    {options.iter().copied().map(|o| {
                        let sample = php_date(o, now());
                        view! { <option value=o>{format!("{o}  ({sample})")}</option> }
                    }).collect_view()}
                </select>
                {preview}
            }
            .into_any()
        }
        FieldKind::Weekday => {
            let days = f.allowed;
            view! {
                <select id=id.clone() name=key required=required aria-invalid=move || invalid().to_string()
                    aria-describedby=describedby.clone()
                    prop:value=text on:change=move |ev| set(key, Value::String(event_target_value(&ev)))>
                    <option value="">"Choose…"</option>
                    {days.iter().copied().map(|d| view! { <option value=d>{weekday_text(d)}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::TimeZone => {
            let zones = time_zones();
            view! {
                <select id=id.clone() name=key required=required aria-invalid=move || invalid().to_string()
                    aria-describedby=describedby.clone()
                    prop:value=text on:change=move |ev| set(key, Value::String(event_target_value(&ev)))>
                    <option value="">"Choose…"</option>
                    {move || {
                        // Keep a stored zone the browser does not list selectable.
                        let current = text();
                        (!current.is_empty() && !zones.contains(&current)).then(|| view! { <option value=current.clone()>{current.clone()}</option> })
                    }}
                    {time_zones().into_iter().map(|z| view! { <option value=z.clone()>{z.clone()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::UserRef => view! { <ManagerPicker client=client key=key values=values set=set field_id=id.clone() named=named/> }.into_any(),
        FieldKind::Password => {
            let conf_id = field_id(CONFIRMATION);
            let conf_err = format!("{conf_id}-error");
            view! {
                <input type="password" id=id.clone() name=key autocomplete="new-password" required=required
                    aria-invalid=move || invalid().to_string() aria-describedby=describedby.clone()
                    prop:value=text on:input=move |ev| set(key, Value::String(event_target_value(&ev)))/>
                {error_below_password}
                {help_below_password}
                <label class="field nested" for=conf_id.clone()>
                    <span class="label">"Confirm password"</span>
                </label>
                <input type="password" id=conf_id.clone() name=CONFIRMATION autocomplete="new-password"
                    aria-invalid=move || errors.with(|e| e.contains_key(CONFIRMATION)).to_string()
                    aria-describedby=conf_err.clone()
                    prop:value=move || values.with(|v| text_of(v, CONFIRMATION))
                    on:input=move |ev| set(CONFIRMATION, Value::String(event_target_value(&ev)))/>
                {error_view(CONFIRMATION, conf_err)}
            }
            .into_any()
        }
        kind => {
            let input_type = match kind {
                FieldKind::Email => "email",
                _ => "text",
            };
            let placeholder = if kind == FieldKind::List { "Comma-separated names" } else { "" };
            // A locale code reads back as its language while it is typed, so `pt_PT` for `pt_BR`
            // shows before the CRM answers; the CRM alone knows which locales it has installed.
            let preview = (kind == FieldKind::Locale).then_some(move || {
                let code = text();
                (!code.trim().is_empty()).then(|| {
                    let line = language_name(&code)
                        .unwrap_or_else(|| "Not a language this browser can name".into());
                    view! { <span class="preview" data-testid=format!("preview-{key}")>{line}</span> }
                })
            });
            view! {
                <input type=input_type id=id.clone() name=key maxlength=max required=required
                    placeholder=placeholder
                    autocomplete=if key == "email" || key.ends_with("emailAddress") { "email" } else { "off" }
                    aria-invalid=move || invalid().to_string() aria-describedby=describedby.clone()
                    prop:value=text on:input=move |ev| set(key, Value::String(event_target_value(&ev)))/>
                {preview}
            }
            .into_any()
        }
    };
    view! {
        <div class="field" class:invalid=invalid data-field=key>
            <label for=id.clone()>{label}</label>
            {input}
            {help_below_field}
            {f.max_len.filter(|_| typed).map(|m| view! { <p class="counter" aria-hidden="true">{move || format!("{}/{m}", text().chars().count())}</p> })}
            {error_below_field}
        </div>
    }
    .into_any()
}

/// Zurmo's manager: search users by name and pick one; the form keeps the id under `key`.
#[component]
fn ManagerPicker(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    key: &'static str,
    values: RwSignal<Values>,
    set: impl Fn(&str, Value) + Copy + Send + Sync + 'static,
    field_id: String,
    /// The manager the user has now, `(id, name)`.
    named: Option<(String, String)>,
) -> impl IntoView {
    // A name belongs to the id it came with: a restored draft may hold another id.
    let chosen = RwSignal::new(named);
    let current = move || values.with(|v| text_of(v, key));
    let chosen_name = move || {
        let id = current();
        chosen.with(|c| {
            c.as_ref()
                .filter(|(cid, _)| *cid == id)
                .map(|(_, n)| n.clone())
        })
    };
    let on_pick = Callback::new(move |(id, name): (u64, String)| {
        set(key, Value::String(id.to_string()));
        chosen.set(Some((id.to_string(), name)));
    });
    view! {
        <div class="manager-picker">
            <UserPicker client=client input_id=field_id search_label="Search a manager"
                testid="manager-search" on_pick=on_pick/>
            <p class="hint">
                {move || match (chosen_name(), current()) {
                    (Some(n), id) if !id.is_empty() => format!("Manager: {n} (#{id})"),
                    (_, id) if !id.is_empty() => format!("Manager: user #{id}"),
                    _ => "No manager".to_string(),
                }}
                {move || (!current().is_empty()).then(|| view! {
                    <button type="button" class="link" on:click=move |_| { set(key, Value::String(String::new())); chosen.set(None); }>" Clear"</button>
                })}
            </p>
        </div>
    }
}
