//! Property tests over every decoder: arbitrary statuses, headers and bodies — raw bytes and
//! JSON shaped like each CRM's envelopes — must produce a value or an `ApiError`, never a panic.
//! And the list decoders' two ways of reading a page (the one-pass reader and the two-pass serde
//! decode it falls back to) must give the same answer for any page.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use userdeck_client::oauth::{parse_callback, parse_token_response};
use userdeck_client::provider::{appcrm, capsule, zurmo};
use userdeck_client::ratelimit::RateLimiter;
use userdeck_client::{ApiError, HttpResponse};

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
            Just("firstName"),
            Just("isAccountAdmin"),
            Just("super_admin"),
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

/// `body` (a JSON object) with an unknown member whose key is escaped (`"\u0078"`, that is
/// `x`) put first. Every decoder ignores that member, but the one-pass page readers leave any
/// escaped key to the two-pass decode: so this is the same page, read the other way.
fn two_pass_only(body: &[u8]) -> Vec<u8> {
    let rest = body.get(1..).unwrap_or_default();
    let sep: &[u8] = if rest.first() == Some(&b'}') {
        b""
    } else {
        b","
    };
    [br#"{"\u0078":0"#.as_slice(), sep, rest].concat()
}

/// Both reads of a page answer alike: the same page, raw texts included, or the same error (a
/// `Decode` error about the whole page quotes the body, which differs by the added member, so
/// only what it could not decode is compared).
fn same_page(
    one: Result<userdeck_client::Page<userdeck_client::User>, ApiError>,
    two: Result<userdeck_client::Page<userdeck_client::User>, ApiError>,
) -> Result<(), TestCaseError> {
    match (one, two) {
        (Ok(one), Ok(two)) => {
            let texts = |p: &userdeck_client::Page<userdeck_client::User>| {
                p.items
                    .iter()
                    .map(|u| u.raw.text().to_string())
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(texts(&one), texts(&two));
            prop_assert_eq!(one, two);
        }
        (Err(ApiError::Decode { what: one, .. }), Err(ApiError::Decode { what: two, .. })) => {
            prop_assert_eq!(one, two);
        }
        (one, two) => prop_assert_eq!(one, two),
    }
    Ok(())
}

/// A user of one CRM: members from its field names with any values, usually with an id.
fn crm_user(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(
            prop::sample::select(keys).prop_map(String::from),
            json_value(),
            0..6,
        ),
        prop::option::weighted(
            0.9,
            prop_oneof![
                any::<u32>().prop_map(|n| json!(n)),
                "[0-9]{1,4}".prop_map(Value::String)
            ],
        ),
    )
        .prop_map(|(members, id)| {
            let mut user: Map<String, Value> = members.into_iter().collect();
            if let Some(id) = id {
                user.insert("id".into(), id);
            }
            Value::Object(user)
        })
}

const CAPSULE_KEYS: &[&str] = &[
    "name",
    "username",
    "status",
    "timezone",
    "locale",
    "createdAt",
    "updatedAt",
    "lastLoginAt",
    "party",
    "roles",
    "taskReminder",
];
const APPCRM_KEYS: &[&str] = &[
    "name",
    "display_name",
    "email",
    "super_admin",
    "timezone",
    "locale",
    "created_at",
    "updated_at",
    "last_active_at",
    "avatar_url",
    "uploaded_avatar_url",
    "roles",
];
const ZURMO_KEYS: &[&str] = &[
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
    "manager",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any page of any users: the one-pass reader (when it takes the page) and the two-pass
    /// decode give the same answer, for each CRM; PHP's `\/` escapes or not.
    #[test]
    fn one_pass_and_two_passes_agree(
        capsule in prop::collection::vec(crm_user(CAPSULE_KEYS), 0..4),
        appcrm in prop::collection::vec(crm_user(APPCRM_KEYS), 0..4),
        zurmo in prop::collection::vec(crm_user(ZURMO_KEYS), 0..4),
        count in json_value(),
        next in json_value(),
        php_slashes in any::<bool>(),
    ) {
        let body = |page: Value| {
            let text = page.to_string();
            let text = if php_slashes { text.replace('/', "\\/") } else { text };
            let one = text.into_bytes();
            let two = two_pass_only(&one);
            (HttpResponse::new(200, one), HttpResponse::new(200, two))
        };
        let (one, two) = body(json!({"users": capsule, "meta": {"totalCount": count}}));
        same_page(capsule::decode_list(&one, 1, 50, 0), capsule::decode_list(&two, 1, 50, 0))?;
        let (one, two) = body(json!({"data": appcrm, "links": {"next": next},
            "meta": {"current_page": 1, "last_page": count, "per_page": 15, "total": count}}));
        same_page(appcrm::decode_list(&one, 0), appcrm::decode_list(&two, 0))?;
        let (one, two) = body(json!({"status": "SUCCESS", "data": {"totalCount": count,
            "currentPage": next, "items": zurmo}, "message": null, "errors": null}));
        same_page(zurmo::decode_list(&one, 10, 0), zurmo::decode_list(&two, 10, 0))?;
    }
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
