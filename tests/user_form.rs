//! Each provider's user form in headless Chromium against the sandbox: client-side validation
//! from the schema, the server's field errors landing on their fields, nothing typed lost, and the
//! draft surviving a remount (a reload or an accidental navigation) without its password.
#![cfg(target_arch = "wasm32")]

mod common;

use std::rc::Rc;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::user_form::UserForm;
use userdeck_client::{Auth, BrowserTransport, Client, Connection, FormMode, Provider, User};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DRAFT: &str = "userdeck.draft.test.new";

fn mount_form(
    provider: Provider,
    saved: RwSignal<Option<User>>,
) -> (web_sys::HtmlElement, impl Sized) {
    let root = test_root();
    let c = client(provider);
    let handle = mount_to(root.clone(), move || {
        view! {
            <UserForm client=StoredValue::new_local(c.clone()) mode=FormMode::Create draft_key=DRAFT
                on_saved=Callback::new(move |u| saved.set(Some(u)))/>
        }
    });
    (root, handle)
}

fn field(root: &web_sys::Element, key: &str) -> web_sys::Element {
    query(root, &format!("[name=\"{key}\"]")).unwrap_or_else(|| panic!("no field {key}"))
}

fn error_text(root: &web_sys::Element, key: &str) -> Option<String> {
    query(root, &format!("[data-testid=\"error-{key}\"]")).and_then(|e| e.text_content())
}

/// Fills every field App CRM requires to create a user (the password `secret1`).
fn fill_app_crm(root: &web_sys::Element, name: &str, email: &str) {
    type_into(&field(root, "name"), name);
    type_into(&field(root, "email"), email);
    type_into(&field(root, "password"), "secret1");
    type_into(&field(root, "password_confirmation"), "secret1");
    choose(&field(root, "timezone"), "Europe/Lisbon");
    choose(&field(root, "date_format"), "Y-m-d");
    choose(&field(root, "time_format"), "H:i");
}

/// Fills a new App CRM user named `name`, with an email no earlier run has taken; returns it.
fn fill_new_app_crm(root: &web_sys::Element, name: &str) -> String {
    let email = format!(
        "{}{}@appcrm.example",
        name.to_ascii_lowercase().replace(' ', "."),
        js_sys::Date::now() as u64
    );
    fill_app_crm(root, name, &email);
    email
}

/// Presses Save and waits for the user the CRM saved.
async fn save(root: &web_sys::Element, saved: RwSignal<Option<User>>) -> User {
    click(&query(root, "[data-testid=save]").unwrap());
    until("the saved user", move || {
        saved.with_untracked(Option::is_some)
    })
    .await;
    saved.get_untracked().unwrap()
}

/// The values a select offers (without its empty "Choose…").
fn offered(root: &web_sys::Element, key: &str) -> Vec<String> {
    query_all(root, &format!("select[name={key}] option"))
        .iter()
        .filter_map(|o| o.get_attribute("value"))
        .filter(|v| !v.is_empty())
        .collect()
}

fn value(el: &web_sys::Element) -> String {
    el.dyn_ref::<web_sys::HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn app_crm_checks_required_fields_and_the_confirmation_before_sending() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    assert!(
        query(&root, "label[for=f-name] .req").is_some(),
        "required mark"
    );
    assert_eq!(
        field(&root, "name").get_attribute("maxlength").as_deref(),
        Some("191")
    );
    type_into(&field(&root, "email"), "not-an-email");
    type_into(&field(&root, "password"), "secret1");
    type_into(&field(&root, "password_confirmation"), "secret2");
    let before = sandbox_requests().await;
    click(&query(&root, "[data-testid=save]").unwrap());
    tick().await;
    assert_eq!(
        error_text(&root, "name").as_deref(),
        Some("Name is required.")
    );
    assert_eq!(
        error_text(&root, "email").as_deref(),
        Some("Email must be a valid email address.")
    );
    assert!(
        error_text(&root, "password_confirmation")
            .unwrap()
            .contains("does not match")
    );
    assert!(error_text(&root, "timezone").is_some());
    assert_eq!(
        field(&root, "name")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    // Long enough for a sent form to have reached the sandbox (it counts calls as they arrive).
    sleep_ms(300).await;
    assert_eq!(
        sandbox_requests().await,
        before,
        "an invalid form is never sent"
    );
}

#[wasm_bindgen_test]
async fn app_crm_server_errors_land_on_their_fields_and_keep_the_input() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    // The time-zone list comes from the browser.
    let zones = texts(&root, "select[name=timezone] option");
    assert!(
        zones.iter().any(|z| z == "Europe/Lisbon"),
        "{} zones",
        zones.len()
    );
    fill_app_crm(&root, "Second Admin", "admin@appcrm.example");
    tick().await;
    let year = js_sys::Date::new_0().get_full_year().to_string();
    let preview = query(&root, "[data-testid=preview-date_format]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        preview.contains(&year) && preview.contains('-'),
        "{preview}"
    );
    click(&query(&root, "[data-testid=save]").unwrap());
    let r = root.clone();
    until("the server's email error", move || {
        error_text(&r, "email").is_some()
    })
    .await;
    assert!(
        error_text(&root, "email").unwrap().contains("taken"),
        "{:?}",
        error_text(&root, "email")
    );
    assert!(query(&root, "[data-testid=form-error]").is_some());
    assert_eq!(value(&field(&root, "name")), "Second Admin");
    assert_eq!(value(&field(&root, "email")), "admin@appcrm.example");
    assert!(saved.get_untracked().is_none());
}

/// An App CRM v1.2 whose CORS hides its release (`X-App-Version`) from the page: the form cannot
/// know that the CRM requires the first day of the week until the first save's 422 asks for it.
/// The form then grows the field with the CRM's message on it and the focus in it, keeps all that
/// was typed, and the second save creates the user.
#[wasm_bindgen_test]
async fn app_crm_asking_for_a_field_the_form_lacked_grows_it() {
    clear_storage();
    let root = test_root();
    let saved = RwSignal::new(None::<User>);
    let c = Rc::new(Client::new(
        Connection {
            provider: Provider::AppCrm,
            base_url: format!("{}/appcrm-v1.2", sandbox().trim_end_matches('/')),
            auth: Auth::Token(APPCRM_ADMIN_TOKEN.into()),
        },
        BrowserTransport::new(),
    ));
    let form_client = c.clone();
    let _m = mount_to(root.clone(), move || {
        view! {
            <UserForm client=StoredValue::new_local(form_client.clone()) mode=FormMode::Create draft_key=DRAFT
                on_saved=Callback::new(move |u| saved.set(Some(u)))/>
        }
    });
    tick().await;
    assert!(query(&root, "[name=first_day_of_week]").is_none());
    let email = fill_new_app_crm(&root, "Week Learner");

    sandbox_exposes_app_version(false).await;
    click(&query(&root, "[data-testid=save]").unwrap());
    let r = root.clone();
    until("the CRM's first day of week error", move || {
        error_text(&r, "first_day_of_week").is_some()
    })
    .await;
    sandbox_exposes_app_version(true).await;
    // The release stayed unread: the field came from the answer, not from a version.
    assert_eq!(c.server_version(), None);
    assert_eq!(
        error_text(&root, "first_day_of_week").as_deref(),
        Some("The first day of week field is required.")
    );
    let day = field(&root, "first_day_of_week");
    assert_eq!(day.get_attribute("aria-invalid").as_deref(), Some("true"));
    two_frames().await;
    assert!(has_focus(&day), "the focus is on the field to mend");
    assert_eq!(value(&field(&root, "name")), "Week Learner");
    assert_eq!(value(&field(&root, "email")), email);
    assert_eq!(value(&field(&root, "password")), "secret1");
    assert!(saved.with_untracked(Option::is_none));

    choose(&day, "1");
    let user = save(&root, saved).await;
    assert_eq!(user.email.as_deref(), Some(email.as_str()));
    assert_eq!(user.raw["first_day_of_week"], 1);
}

/// A save the CRM fails (a server error, not a field's) says so, keeps what was typed, and
/// leaves the focus on Save, ready to try again; the button is never disabled under it.
#[wasm_bindgen_test]
async fn a_failed_save_keeps_the_input_and_the_focus_on_save() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    let email = fill_new_app_crm(&root, "Failing Save");
    sandbox_faults(1.0).await;
    let button = query(&root, "[data-testid=save]").unwrap();
    press(&button);
    let r = root.clone();
    until("the error", move || {
        query(&r, "[data-testid=form-error]").is_some()
    })
    .await;
    sandbox_faults(0.0).await;
    assert_keeps_the_focus(&button).await;
    assert_eq!(value(&field(&root, "email")), email);
    assert!(saved.with_untracked(Option::is_none));
}

#[wasm_bindgen_test]
async fn the_draft_survives_a_remount_without_its_password() {
    clear_storage();
    let saved = RwSignal::new(None);
    {
        let (root, _m) = mount_form(Provider::AppCrm, saved);
        tick().await;
        type_into(&field(&root, "name"), "Draft Person");
        type_into(&field(&root, "password"), "hunter22");
        tick().await;
        let stored = window()
            .session_storage()
            .unwrap()
            .unwrap()
            .get_item(DRAFT)
            .unwrap()
            .unwrap();
        assert!(stored.contains("Draft Person"));
        assert!(
            !stored.contains("hunter22"),
            "passwords are never kept in a draft"
        );
    }
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    assert_eq!(value(&field(&root, "name")), "Draft Person");
    assert!(query(&root, "[data-testid=draft-restored]").is_some());
    click(&query(&root, "[data-testid=draft-restored] button").unwrap());
    tick().await;
    assert_eq!(value(&field(&root, "name")), "");
    assert!(
        window()
            .session_storage()
            .unwrap()
            .unwrap()
            .get_item(DRAFT)
            .unwrap()
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn zurmo_checks_lowercase_usernames_then_reports_the_servers_uniqueness_error() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::Zurmo, saved);
    tick().await;
    assert!(
        query(&root, "[data-testid=manager-search]").is_some(),
        "Zurmo's manager picker"
    );
    type_into(&field(&root, "username"), "Super");
    click(&query(&root, "[data-testid=save]").unwrap());
    tick().await;
    assert_eq!(
        error_text(&root, "username").as_deref(),
        Some("Username must be lowercase.")
    );
    assert_eq!(
        error_text(&root, "lastName").as_deref(),
        Some("Last name is required.")
    );

    type_into(&field(&root, "username"), "super");
    type_into(&field(&root, "lastName"), "Duplicate");
    tick().await;
    assert_eq!(
        error_text(&root, "username"),
        None,
        "typing clears the field's error"
    );
    click(&query(&root, "[data-testid=save]").unwrap());
    let r = root.clone();
    until("the server's username error", move || {
        error_text(&r, "username").is_some()
    })
    .await;
    assert!(
        error_text(&root, "username").unwrap().contains("in use"),
        "{:?}",
        error_text(&root, "username")
    );
    assert_eq!(value(&field(&root, "lastName")), "Duplicate");
}

#[wasm_bindgen_test]
async fn zurmo_creates_a_valid_user() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::Zurmo, saved);
    tick().await;
    let name = format!("ui{}", js_sys::Date::now() as u64);
    type_into(&field(&root, "username"), &name);
    type_into(&field(&root, "lastName"), "Tester");
    assert_eq!(
        save(&root, saved).await.username.as_deref(),
        Some(name.as_str())
    );
    assert!(
        window()
            .session_storage()
            .unwrap()
            .unwrap()
            .get_item(DRAFT)
            .unwrap()
            .is_none(),
        "a saved draft is dropped"
    );
}

#[wasm_bindgen_test]
async fn capsule_offers_no_create_form_fields() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::Capsule, saved);
    tick().await;
    assert!(
        query(&root, "form.user-form[data-provider=capsule]").is_some(),
        "the form is drawn"
    );
    assert!(
        query_all(&root, ".field input, .field select").is_empty(),
        "Capsule's users are read-only"
    );
}

#[wasm_bindgen_test]
async fn app_crm_offers_all_eleven_date_formats_with_a_preview_each() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    let offered = offered(&root, "date_format");
    assert_eq!(
        offered,
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
    // Every format renders a sample, and "l" is the full weekday name.
    let now = js_sys::Date::new_0();
    let year = now.get_full_year().to_string();
    let weekday = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ][now.get_day() as usize];
    for label in texts(&root, "select[name=date_format] option") {
        if label != "Choose…" {
            assert!(label.contains(&year), "{label}");
        }
    }
    choose(&field(&root, "date_format"), "l, F j, Y");
    tick().await;
    let preview = query(&root, "[data-testid=preview-date_format]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        preview.starts_with(&format!("e.g. {weekday}, ")) && preview.ends_with(&year),
        "{preview}"
    );
}

#[wasm_bindgen_test]
async fn leaving_the_form_while_it_saves_is_safe() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, handle) = mount_form(Provider::AppCrm, saved);
    tick().await;
    // A taken email: the server answers 422, which the form reads against its schema.
    fill_app_crm(&root, "Leaving Early", "admin@appcrm.example");
    tick().await;
    let before = answered("/appcrm/api/users");
    let panicked = panicked_during(async move {
        click(&query(&root, "[data-testid=save]").unwrap());
        // The user navigates away before the CRM answers.
        drop(handle);
        until("the CRM's answer", || {
            answered("/appcrm/api/users") > before
        })
        .await;
        // The save's task resumes after the answer has been read.
        sleep_ms(100).await;
    })
    .await;
    assert!(
        !panicked,
        "the save read the form's values after the form was gone"
    );
}

/// The password's hint sits under the password itself and fits the form: a new user states the
/// rule only; an edit adds that an empty password keeps the current one (Zurmo, with no rule,
/// says just that).
#[wasm_bindgen_test]
async fn the_password_hint_fits_creating_and_editing() {
    clear_storage();
    let hint = |provider: Provider, mode: FormMode| {
        let root = test_root();
        let c = client(provider);
        let handle = mount_to(root.clone(), move || {
            view! {
                <UserForm client=StoredValue::new_local(c.clone()) mode=mode user=User::default()
                    draft_key="userdeck.draft.test.hint" on_saved=Callback::new(|_| {})/>
            }
        });
        (root, handle)
    };
    for (provider, mode, expected) in [
        (
            Provider::AppCrm,
            FormMode::Create,
            Some("At least 6 characters."),
        ),
        (
            Provider::AppCrm,
            FormMode::Update,
            Some("At least 6 characters. Leave empty to keep the current one."),
        ),
        (Provider::Zurmo, FormMode::Create, None),
        (
            Provider::Zurmo,
            FormMode::Update,
            Some("Leave empty to keep the current one."),
        ),
    ] {
        let (root, _m) = hint(provider, mode);
        tick().await;
        // The element right after the password input, before the confirmation.
        let next = field(&root, "password").next_element_sibling();
        let text = next
            .filter(|e| e.class_list().contains("help"))
            .and_then(|e| e.text_content());
        assert_eq!(text.as_deref(), expected, "{provider:?} {mode:?}");
        let described = field(&root, "password")
            .get_attribute("aria-describedby")
            .unwrap_or_default();
        assert!(described.contains("f-password-help"), "{described}");
    }
}

/// Zurmo's manager is picked by name and saved by id; editing that user then names the manager
/// the CRM sends back, and a restored draft naming another manager does not borrow that name.
#[wasm_bindgen_test]
async fn zurmo_manager_is_picked_by_name_and_named_when_editing() {
    clear_storage();
    let hint = |root: &web_sys::Element| {
        query(root, ".manager-picker .hint")
            .and_then(|h| h.text_content())
            .unwrap_or_default()
    };
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::Zurmo, saved);
    tick().await;
    assert_eq!(hint(&root).trim(), "No manager");
    let name = format!("mgr{}", js_sys::Date::now() as u64);
    type_into(&field(&root, "username"), &name);
    type_into(&field(&root, "lastName"), "Managed");
    type_into(
        &query(&root, "[data-testid=manager-search]").unwrap(),
        "Super",
    );
    click(&appears(&root, "[data-testid=pick-user]").await);
    tick().await;
    assert_eq!(
        hint(&root).trim_end_matches(" Clear"),
        "Manager: Super User (#1)"
    );
    let user = save(&root, saved).await;
    assert_eq!(user.raw_text("manager.id").as_deref(), Some("1"));

    // Editing: the name comes from the user's own record, as the CRM sent it.
    let edit = |user: User| {
        let root = test_root();
        let c = client(Provider::Zurmo);
        let handle = mount_to(root.clone(), move || {
            view! {
                <UserForm client=StoredValue::new_local(c.clone()) mode=FormMode::Update user=user.clone()
                    draft_key="userdeck.draft.test.manager" on_saved=Callback::new(|_| {})/>
            }
        });
        (root, handle)
    };
    let (root, _edit) = edit(user.clone());
    tick().await;
    assert_eq!(
        hint(&root).trim_end_matches(" Clear"),
        "Manager: super (#1)"
    );

    // A draft that chose manager 2 (whose name was not kept) shows the id only.
    window()
        .session_storage()
        .unwrap()
        .unwrap()
        .set_item("userdeck.draft.test.manager", r#"{"manager.id":"2"}"#)
        .unwrap();
    let (root, _edit) = edit(user);
    tick().await;
    assert_eq!(hint(&root).trim_end_matches(" Clear"), "Manager: user #2");
}

/// App CRM's roles are typed as comma-separated names and sent as a list; the saved user comes
/// back with those roles.
/// A misspelt role makes App CRM answer a bare 500; the form says so on the roles field, keeps
/// what was typed, and saves once the name is mended.
#[wasm_bindgen_test]
async fn app_crm_points_a_failed_save_at_an_unknown_role() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    let email = fill_new_app_crm(&root, "Role Speller");
    type_into(&field(&root, "roles"), "Sales Manager, Suport");
    click(&query(&root, "[data-testid=save]").unwrap());
    let r = root.clone();
    until("the roles field's error", move || {
        error_text(&r, "roles").is_some()
    })
    .await;
    let said = error_text(&root, "roles").unwrap_or_default();
    assert!(said.contains("no role by one of these names"), "{said}");
    let general = query(&root, "[data-testid=form-error]")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(general.contains("Server Error"), "{general}");
    assert_eq!(value(&field(&root, "roles")), "Sales Manager, Suport");
    assert_eq!(value(&field(&root, "email")), email);
    assert!(saved.get_untracked().is_none());

    type_into(&field(&root, "roles"), "Sales Manager, Support");
    let user = save(&root, saved).await;
    assert_eq!(user.raw["roles"].as_array().map(Vec::len), Some(2));
}

#[wasm_bindgen_test]
async fn app_crm_creates_a_user_with_roles() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    fill_new_app_crm(&root, "Role Holder");
    type_into(&field(&root, "roles"), " Sales Manager, Support ,");
    let user = save(&root, saved).await;
    let roles: Vec<String> = user.raw["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    assert_eq!(roles, ["Sales Manager", "Support"]);
}

/// A locale (App CRM) or language (Zurmo) reads back as the language while it is typed, says so
/// when the browser cannot name it, and goes to the CRM exactly as typed.
#[wasm_bindgen_test]
async fn a_locale_is_named_while_typed_and_sent_as_typed() {
    clear_storage();
    let preview = |root: &web_sys::Element, key: &str| {
        query(root, &format!("[data-testid=preview-{key}]")).and_then(|p| p.text_content())
    };
    {
        let (root, _m) = mount_form(Provider::Zurmo, RwSignal::new(None));
        tick().await;
        type_into(&field(&root, "language"), "de");
        tick().await;
        assert_eq!(preview(&root, "language").as_deref(), Some("German"));
    }
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    assert_eq!(
        preview(&root, "locale"),
        None,
        "nothing typed, nothing named"
    );
    let locale = field(&root, "locale");
    type_into(&locale, "en_");
    tick().await;
    assert_eq!(
        preview(&root, "locale").as_deref(),
        Some("Not a language this browser can name")
    );
    type_into(&locale, "pt_BR");
    tick().await;
    assert_eq!(
        preview(&root, "locale").as_deref(),
        Some("Brazilian Portuguese")
    );

    fill_new_app_crm(&root, "Locale Holder");
    let user = save(&root, saved).await;
    assert_eq!(user.raw["locale"], "pt_BR");
}

/// A saved form forgets the lists of users kept for its connection, so the way back to a list
/// cannot show the user as they were before the save.
#[wasm_bindgen_test]
async fn a_save_forgets_the_kept_lists_of_its_connection() {
    use userdeck::state::session::Sessions;
    use userdeck_client::{Page, UserQuery};
    clear_storage();
    let sessions = Sessions::new();
    let query = UserQuery::default();
    let kept = Page {
        items: vec![User::default()],
        ..Page::default()
    };
    sessions.remember_list("form-conn", &query, &kept);
    sessions.remember_list("other-conn", &query, &kept);
    let saved = RwSignal::new(None);
    let root = test_root();
    let c = client(Provider::AppCrm);
    let _m = mount_to(root.clone(), move || {
        provide_context(sessions);
        view! {
            <UserForm client=StoredValue::new_local(c.clone()) mode=FormMode::Create draft_key=DRAFT
                on_saved=Callback::new(move |u| saved.set(Some(u))) connection="form-conn"/>
        }
    });
    tick().await;
    assert_eq!(
        sessions.recall_list("form-conn", &query),
        Some(kept.clone())
    );
    fill_new_app_crm(&root, "List Forgetter");
    save(&root, saved).await;
    assert_eq!(sessions.recall_list("form-conn", &query), None);
    assert_eq!(
        sessions.recall_list("other-conn", &query),
        Some(kept),
        "another connection's lists stay"
    );
}

/// The time-zone picker offers only names the CRM accepts: every zone the browser lists, under
/// its current IANA name (the browser's own list still says `Asia/Calcutta` and `Europe/Kiev`,
/// which App CRM refuses), plus UTC. A user in India is saved with `Asia/Kolkata`.
#[wasm_bindgen_test]
async fn every_offered_time_zone_is_one_the_crm_accepts() {
    clear_storage();
    // The list PHP validates with, as the sandbox holds it.
    let php: Vec<&str> = include_str!("../crates/userdeck-sandbox/src/timezones.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    let offered = offered(&root, "timezone");
    assert!(offered.len() > 400, "{} zones", offered.len());
    let refused: Vec<&String> = offered
        .iter()
        .filter(|z| !php.contains(&z.as_str()))
        .collect();
    assert!(
        refused.is_empty(),
        "offered but refused by the CRM: {refused:?}"
    );
    for zone in ["Asia/Kolkata", "Europe/Kyiv", "UTC"] {
        assert!(offered.iter().any(|z| z == zone), "{zone} is missing");
    }
    fill_new_app_crm(&root, "Priya Kolkata");
    choose(&field(&root, "timezone"), "Asia/Kolkata");
    let user = save(&root, saved).await;
    assert_eq!(user.time_zone.as_deref(), Some("Asia/Kolkata"));
}

/// A password's error sits under the password, and marks only it, not the confirmation that
/// follows; a select (Zurmo's time zone) shows no character counter, a typed field does.
#[wasm_bindgen_test]
async fn errors_and_counters_sit_with_their_own_input() {
    clear_storage();
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::AppCrm, saved);
    tick().await;
    click(&query(&root, "[data-testid=save]").unwrap());
    tick().await;
    let error = query(&root, "[data-testid=error-password]").expect("the password's error");
    assert_eq!(
        error.text_content().as_deref(),
        Some("Password is required.")
    );
    let confirmation = field(&root, "password_confirmation");
    let following =
        error.compare_document_position(&confirmation) & web_sys::Node::DOCUMENT_POSITION_FOLLOWING;
    assert!(following != 0, "the error comes after the confirmation");
    assert_eq!(
        confirmation.get_attribute("aria-invalid").as_deref(),
        Some("false")
    );
    // The app's own stylesheet, as the page has it.
    let style = window()
        .document()
        .unwrap()
        .create_element("style")
        .unwrap();
    style.set_text_content(Some(include_str!("../style/main.css")));
    window()
        .document()
        .unwrap()
        .head()
        .unwrap()
        .append_child(&style)
        .unwrap();
    let border = |el: &web_sys::Element| {
        window()
            .get_computed_style(el)
            .unwrap()
            .unwrap()
            .get_property_value("border-top-color")
            .unwrap()
    };
    assert_ne!(
        border(&field(&root, "password")),
        border(&confirmation),
        "only the password is marked"
    );
    style.remove();
    drop(_m);

    clear_storage();
    let (root, _m) = mount_form(Provider::Zurmo, RwSignal::new(None));
    tick().await;
    assert!(query(&root, "[data-field=timeZone] .counter").is_none());
    assert!(query(&root, "[data-field=username] .counter").is_some());
}

/// The manager's matches answer the keyboard, as a combobox does: Down and Up walk them (the
/// focus stays in the search box, which names the active one), Enter picks it without sending
/// the form, and Escape closes them.
#[wasm_bindgen_test]
async fn zurmo_manager_is_picked_from_the_keyboard() {
    clear_storage();
    // Two users only this test's search finds, so it does not hang on what earlier runs left.
    let stamp = js_sys::Date::now() as u64;
    let zurmo = client(Provider::Zurmo);
    for suffix in ["a", "b"] {
        let draft = userdeck_client::UserDraft {
            username: Some(format!("kbd{stamp}{suffix}")),
            last_name: Some("Keys".into()),
            ..Default::default()
        };
        zurmo.create(&draft).await.unwrap();
    }
    let saved = RwSignal::new(None);
    let (root, _m) = mount_form(Provider::Zurmo, saved);
    tick().await;
    let search = query(&root, "[data-testid=manager-search]").unwrap();
    type_into(&search, &format!("kbd{stamp}"));
    appears(&root, "[data-testid=pick-user]").await;
    let r = root.clone();
    until("both matches", move || {
        query_all(&r, "[data-testid=pick-user]").len() == 2
    })
    .await;
    assert_eq!(
        search.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    let options = query_all(&root, "[data-testid=pick-user]");
    let active = |search: &web_sys::Element| search.get_attribute("aria-activedescendant");
    key(&search, "ArrowDown");
    tick().await;
    assert_eq!(active(&search), options[0].get_attribute("id"));
    assert_eq!(
        options[0].get_attribute("aria-selected").as_deref(),
        Some("true")
    );
    key(&search, "ArrowDown");
    tick().await;
    assert_eq!(active(&search), options[1].get_attribute("id"));
    key(&search, "ArrowUp");
    tick().await;
    assert_eq!(active(&search), options[0].get_attribute("id"));
    let chosen = options[0].text_content().unwrap_or_default();
    // A real Enter would submit the form unless its keydown is cancelled.
    assert!(
        !key(&search, "Enter"),
        "Enter on a match is kept from submitting the form"
    );
    tick().await;
    let hint = query(&root, ".manager-picker .hint")
        .and_then(|h| h.text_content())
        .unwrap_or_default();
    assert_eq!(
        hint.trim_end_matches(" Clear"),
        format!("Manager: {chosen}")
    );

    type_into(&search, &format!("kbd{stamp}"));
    appears(&root, "[data-testid=pick-user]").await;
    key(&search, "Escape");
    tick().await;
    assert!(query(&root, "[data-testid=pick-user]").is_none());
    assert_eq!(
        search.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
}
