//! CSV export and advanced search in headless Chromium: CSV quoting and formula defusing, the
//! export walking every page with progress, the URL form of the list query, and field
//! conditions matched with any/all through the CRM's own search.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::advanced_search::{AdvancedSearch, Applied, searchable_fields};
use userdeck::components::csv_export::{csv_field, fetch_all, to_csv};
use userdeck::pages::users::UsersView;
use userdeck::state::connections::ConnectionInfo;
use userdeck::state::list_query::{ConditionParam, ListParams};
use userdeck_client::{Direction, Op, Provider, Schema, User, UserQuery};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn csv_quotes_and_defuses_formulas() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(csv_field("+1"), "'+1");
    let schema = Schema::of(Provider::AppCrm);
    let cols: Vec<_> = schema.columns().take(2).cloned().collect();
    let user = User {
        id: 7,
        display_name: "Ann, Jr".into(),
        email: Some("a@x.io".into()),
        ..User::default()
    };
    assert_eq!(
        to_csv(&cols, &[user]),
        "id,Name,Email\r\n7,\"Ann, Jr\",a@x.io\r\n"
    );
    // A date-time leaves as the CRM sent it, zone and all: the table's local, minute-long form
    // belongs to one browser, and a file travels.
    let created = schema.field("created_at").expect("App CRM's created_at");
    let sent = "2023-04-29T15:39:14.000000Z";
    let user = User {
        id: 8,
        created_at: Some(sent.into()),
        raw: userdeck_client::RawJson::from_text(&format!(r#"{{"id":8,"created_at":"{sent}"}}"#))
            .unwrap(),
        ..User::default()
    };
    assert_eq!(
        to_csv(std::slice::from_ref(created), &[user]),
        format!("id,Created\r\n8,{sent}\r\n")
    );
    // So does a locale: the table's "Brazilian Portuguese (pt_BR)" is for people.
    let locale = schema.field("locale").expect("App CRM's locale");
    let user = User {
        id: 9,
        raw: userdeck_client::RawJson::from_text(r#"{"id":9,"locale":"pt_BR"}"#).unwrap(),
        ..User::default()
    };
    assert_eq!(
        to_csv(std::slice::from_ref(locale), &[user]),
        "id,Locale\r\n9,pt_BR\r\n"
    );
}

#[wasm_bindgen_test]
fn the_list_query_round_trips_through_the_url() {
    let p = ListParams {
        q: "ann & bob".into(),
        sort: Some("email".into()),
        dir: Direction::Desc,
        page: 3,
        size: 50,
        conditions: vec![ConditionParam {
            field: "name".into(),
            op: Op::Contains,
            value: "a~b".into(),
        }],
        match_any: true,
        structure: "(1 or 2) and 3".into(),
    };
    let qs = p.to_query_string();
    let pairs: Vec<(String, String)> = qs
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (
                k.to_string(),
                js_sys::decode_uri_component(v)
                    .unwrap()
                    .as_string()
                    .unwrap(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("structure".to_string(), "(1 or 2) and 3".to_string())),
        "{qs}"
    );
    let back = ListParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(back, p);
    // Only Zurmo's query carries the structure.
    let zurmo = back.to_query(&Schema::of(Provider::Zurmo), Vec::new());
    assert_eq!(zurmo.structure.as_deref(), Some("(1 or 2) and 3"));
    let app = back.to_query(&Schema::of(Provider::AppCrm), Vec::new());
    assert_eq!(app.structure, None);
    assert_eq!(ListParams::default().to_query_string(), "");
    let junk = ListParams::from_pairs([("page", "-4"), ("size", "7"), ("c", "broken")]);
    assert_eq!((junk.page, junk.size, junk.conditions.len()), (1, 25, 0));
}

#[wasm_bindgen_test]
async fn export_walks_every_page_and_reports_progress() {
    let client = client(Provider::AppCrm);
    let first = client.list(&UserQuery::page(1, 10)).await.unwrap();
    let total = first.total.expect("App CRM reports totals");
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let users = fetch_all(
        client,
        UserQuery::default(),
        move |n, t| s.borrow_mut().push((n, t)),
        || false,
    )
    .await
    .unwrap();
    assert_eq!(users.len() as u64, total);
    let progress = seen.borrow();
    assert_eq!(
        progress.len() as u64,
        total.div_ceil(100),
        "one step per page of 100"
    );
    assert_eq!(progress.last(), Some(&(total, Some(total))));
}

/// Stop ends the export after the page in flight, with the users fetched so far.
#[wasm_bindgen_test]
async fn a_stopped_export_ends_after_the_page_in_flight() {
    let client = client(Provider::AppCrm);
    let total = client.list(&UserQuery::page(1, 10)).await.unwrap().total;
    assert!(
        total.is_some_and(|t| t > 200),
        "{total:?}: more than two pages"
    );
    let pages = Rc::new(RefCell::new(0));
    let p = pages.clone();
    let users = fetch_all(
        client,
        UserQuery::default(),
        move |_, _| *p.borrow_mut() += 1,
        // Pressed while the second page was on its way.
        || *pages.borrow() >= 2,
    )
    .await
    .unwrap();
    assert_eq!(users.len(), 200);
}

#[wasm_bindgen_test]
fn only_fields_the_crm_can_search_are_offered() {
    let app: Vec<_> = searchable_fields(Provider::AppCrm)
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(app, ["name", "email"]);
    let zurmo = searchable_fields(Provider::Zurmo);
    let username = zurmo.iter().find(|f| f.key == "username").unwrap();
    assert_eq!(
        username.ops,
        [Op::StartsWith],
        "Zurmo matches text by prefix"
    );
    assert!(zurmo.iter().all(|f| f.key != "password"));
}

#[wasm_bindgen_test]
async fn the_panel_applies_conditions_and_the_list_matches_any() {
    clear_storage();
    let root = test_root();
    let applied = RwSignal::new(None::<Applied>);
    let _m = mount_to(root.clone(), move || {
        view! { <AdvancedSearch provider=Provider::AppCrm initial=Vec::new() initial_any=false on_apply=Callback::new(move |a| applied.set(Some(a)))/> }
    });
    tick().await;
    let row = query(&root, "[data-testid=condition]").unwrap();
    choose(&query(&row, "select[aria-label=Field]").unwrap(), "email");
    tick().await;
    choose(&query(&row, "select[aria-label=Operator]").unwrap(), "eq");
    type_into(
        &query(&row, "input[aria-label=Value]").unwrap(),
        "admin@appcrm.example",
    );
    click(&query_all(&root, "input[type=radio]")[1]);
    click(&query(&root, "[data-testid=apply-search]").unwrap());
    tick().await;
    let Applied {
        conditions,
        match_any: any,
        structure,
    } = applied.get_untracked().expect("applied");
    assert!(any);
    assert_eq!(structure, "", "App CRM has no structure");
    assert!(query(&root, "[data-testid=structure]").is_none());
    assert_eq!(
        conditions,
        [ConditionParam {
            field: "email".into(),
            op: Op::Equals,
            value: "admin@appcrm.example".into()
        }]
    );

    // The list with those conditions plus one that matches nobody, matched with "any".
    let list_root = test_root();
    let mut with_miss = conditions.clone();
    with_miss.push(ConditionParam {
        field: "name".into(),
        op: Op::Contains,
        value: "zzz-nobody".into(),
    });
    let params = RwSignal::new(ListParams {
        conditions: with_miss,
        match_any: true,
        ..ListParams::default()
    });
    let c = client(Provider::AppCrm);
    let _l = mount_to(list_root.clone(), move || {
        view! {
            <UsersView info=ConnectionInfo::new_saved("adv", "Adv", Provider::AppCrm, "") client=StoredValue::new_local(c.clone())
                params=params on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
        }
    });
    let r = list_root.clone();
    until("the admin row", move || {
        let rows = query_all(&r, "tbody tr[data-id]");
        rows.len() == 1
            && rows[0]
                .text_content()
                .unwrap_or_default()
                .contains("admin@appcrm.example")
    })
    .await;
    // With "all", nobody matches both.
    params.update(|p| p.match_any = false);
    let r = list_root.clone();
    until("the empty state", move || {
        query(&r, "[data-testid=empty]").is_some()
    })
    .await;
}

#[wasm_bindgen_test]
async fn zurmo_structure_is_prefilled_checked_and_applied() {
    clear_storage();
    let root = test_root();
    let applied = RwSignal::new(None::<Applied>);
    let initial: Vec<ConditionParam> = ["ab", "cd", "ef"]
        .iter()
        .map(|v| ConditionParam {
            field: "username".into(),
            op: Op::StartsWith,
            value: v.to_string(),
        })
        .collect();
    let _m = mount_to(root.clone(), move || {
        view! { <AdvancedSearch provider=Provider::Zurmo initial=initial.clone() initial_any=false on_apply=Callback::new(move |a| applied.set(Some(a)))/> }
    });
    tick().await;
    let field: web_sys::HtmlInputElement = query(&root, "[data-testid=structure]")
        .expect("a structure field for Zurmo")
        .dyn_into()
        .unwrap();
    assert_eq!(field.value(), "1 and 2 and 3");
    assert_eq!(texts(&root, "[data-testid=position]"), ["1", "2", "3"]);
    // "any" re-fills it while it is untouched.
    click(&query_all(&root, "input[type=radio]")[1]);
    tick().await;
    assert_eq!(field.value(), "1 or 2 or 3");

    // A structure naming a missing condition: the client's message, and nothing applied.
    type_into(&field, "(1 or 2) and 4");
    tick().await;
    let error = texts(&root, "[data-testid=structure-error]").join("");
    assert!(error.contains("condition 4 does not exist"), "{error}");
    assert_eq!(field.get_attribute("aria-invalid").as_deref(), Some("true"));
    click(&query(&root, "[data-testid=apply-search]").unwrap());
    tick().await;
    assert_eq!(applied.get_untracked(), None);

    type_into(&field, "(1 or 2");
    tick().await;
    assert!(
        texts(&root, "[data-testid=structure-error]")
            .join("")
            .contains("never closed")
    );

    type_into(&field, "(1 OR 2) and 3");
    tick().await;
    assert_eq!(texts(&root, "[data-testid=structure-error]").join(""), "");
    click(&query(&root, "[data-testid=apply-search]").unwrap());
    tick().await;
    let a = applied.get_untracked().expect("applied");
    assert_eq!(a.structure, "(1 OR 2) and 3");
    assert_eq!(a.conditions.len(), 3);
}

#[wasm_bindgen_test]
async fn zurmo_list_follows_the_structure_in_the_url() {
    clear_storage();
    let c = client(Provider::Zurmo);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    let prefix = |u: &User| {
        u.username
            .as_deref()
            .and_then(|n| n.get(..2))
            .map(str::to_string)
    };
    let a = prefix(&all[0]).unwrap();
    let b = all.iter().filter_map(prefix).find(|p| *p != a).unwrap();
    let starts = |v: Option<&str>, p: &str| {
        v.is_some_and(|v| v.to_lowercase().starts_with(&p.to_lowercase()))
    };
    let either = |u: &User| starts(u.username.as_deref(), &a) || starts(u.username.as_deref(), &b);
    let initial = all
        .iter()
        .filter(|u| either(u))
        .find_map(|u| {
            u.last_name
                .as_deref()
                .and_then(|n| n.get(..1))
                .map(str::to_string)
        })
        .unwrap();
    let expected = all
        .iter()
        .filter(|u| either(u) && starts(u.last_name.as_deref(), &initial))
        .count();
    let cond = |field: &str, value: &str| ConditionParam {
        field: field.into(),
        op: Op::StartsWith,
        value: value.into(),
    };
    let params = RwSignal::new(ListParams {
        conditions: vec![
            cond("username", &a),
            cond("username", &b),
            cond("lastName", &initial),
        ],
        structure: "(1 or 2) and 3".into(),
        size: 100,
        ..ListParams::default()
    });
    let root = test_root();
    let _l = mount_to(root.clone(), move || {
        view! {
            <UsersView info=ConnectionInfo::new_saved("zs", "Zs", Provider::Zurmo, "") client=StoredValue::new_local(c.clone())
                params=params on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
        }
    });
    let r = root.clone();
    until("the structured rows", move || {
        query_all(&r, "tbody tr[data-id]").len() == expected
    })
    .await;
    // A broken structure in the URL is the client's readable error, not a request.
    params.update(|p| p.structure = "(1 or 2) and 9".into());
    let r = root.clone();
    until("the structure error", move || {
        texts(&r, "[data-testid=list-error]")
            .join("")
            .contains("condition 9 does not exist")
    })
    .await;
}
