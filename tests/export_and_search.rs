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
use userdeck::components::advanced_search::{AdvancedSearch, searchable_fields};
use userdeck::components::csv_export::{csv_field, fetch_all, to_csv};
use userdeck::pages::users::UsersView;
use userdeck::state::connections::ConnectionInfo;
use userdeck::state::list_query::{ConditionParam, ListParams};
use userdeck_client::{Direction, Op, Provider, Schema, User, UserQuery};
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
    let back = ListParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(back, p);
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
    let applied = RwSignal::new(None::<(Vec<ConditionParam>, bool)>);
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
    let (conditions, any) = applied.get_untracked().expect("applied");
    assert!(any);
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
