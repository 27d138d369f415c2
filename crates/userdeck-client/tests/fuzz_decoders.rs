//! Property tests over every decoder: arbitrary statuses, headers and bodies — raw bytes and
//! JSON shaped like each CRM's envelopes — must produce a value or an `ApiError`, never a panic.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::{Value, json};
use userdeck_client::HttpResponse;
use userdeck_client::oauth::{parse_callback, parse_token_response};
use userdeck_client::provider::{appcrm, capsule, zurmo};
use userdeck_client::ratelimit::RateLimiter;

fn run_all(resp: &HttpResponse, n: u32) {
    let _ = capsule::decode_list(resp, n, n, u64::from(n));
    let _ = capsule::decode_user(resp, u64::MAX);
    let _ = capsule::next_link(resp);
    let _ = appcrm::decode_list(resp, 0);
    let _ = appcrm::decode_user(resp, 0);
    let _ = appcrm::decode_search(resp, 0);
    let _ = appcrm::decode_empty(resp, 0);
    let _ = appcrm::decode_token(resp, 0);
    let _ = zurmo::decode_list(resp, n, 0);
    let _ = zurmo::decode_user(resp, 0);
    let _ = zurmo::decode_deleted(resp, 0);
    let _ = zurmo::decode_login(resp, 0);
    let _ = zurmo::decode_logout(resp, 0);
    let _ = parse_token_response(resp);
    let mut limiter = RateLimiter::new(u64::from(n));
    limiter.observe(resp, u64::MAX - 1);
    let _ = limiter.delay_before_next(u64::from(n));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9 ./:é\\-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("1"),
            Just("0"),
            Just("SUCCESS"),
            Just("FAILURE"),
            Just("Sign in required."),
            Just("")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("id"),
            Just("users"),
            Just("user"),
            Just("data"),
            Just("items"),
            Just("totalCount"),
            Just("currentPage"),
            Just("status"),
            Just("message"),
            Just("errors"),
            Just("party"),
            Just("emailAddresses"),
            Just("address"),
            Just("meta"),
            Just("total"),
            Just("last_page"),
            Just("current_page"),
            Just("primaryEmail"),
            Just("emailAddress"),
            Just("isActive"),
            Just("name"),
            Just("accessToken"),
            Just("sessionId"),
            Just("token"),
            Just("links"),
            Just("next"),
            Just("access_token"),
            Just("error"),
            Just("createdDateTime"),
            Just("roles"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.prop_map(String::from), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("Link"),
        Just("X-RateLimit-Remaining"),
        Just("X-RateLimit-Reset"),
        Just("X-RateLimit-Limit"),
        Just("Retry-After"),
        Just("X-Pagination-Has-More"),
    ];
    let value = prop_oneof![
        "[0-9]{0,25}",
        "<[a-z:/?=&.0-9]{0,40}>; rel=\"(next|prev)\"(, <[a-z:/?=&.0-9]{0,30}>; rel=\"next\")?",
        ".{0,30}",
    ];
    prop::collection::vec((name.prop_map(String::from), value), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn raw_bytes_never_panic(status in 0u16..1000, body in prop::collection::vec(any::<u8>(), 0..300), headers in headers(), n in any::<u32>()) {
        run_all(&HttpResponse { status, headers, body }, n);
    }

    #[test]
    fn json_shapes_never_panic(status in prop_oneof![Just(200u16), Just(201), Just(204), Just(401), Just(403), Just(404), Just(409), Just(422), Just(429), Just(500), 0u16..600],
                               value in json_value(), headers in headers(), n in any::<u32>()) {
        for wrapped in [
            value.clone(),
            json!({"users": [value.clone()]}),
            json!({"user": value.clone()}),
            json!({"data": [value.clone()], "meta": value.clone()}),
            json!({"status": "SUCCESS", "data": value.clone(), "message": null, "errors": null}),
            json!({"status": "SUCCESS", "data": {"totalCount": value.clone(), "currentPage": value.clone(), "items": [value.clone()]}}),
            json!({"status": "FAILURE", "data": null, "message": value.clone(), "errors": value.clone()}),
        ] {
            let body = serde_json::to_vec(&wrapped).unwrap();
            run_all(&HttpResponse { status, headers: headers.clone(), body }, n);
        }
    }

    #[test]
    fn callbacks_never_panic(query in ".{0,80}", state in ".{0,10}") {
        let _ = parse_callback(&query, &state);
    }
}
