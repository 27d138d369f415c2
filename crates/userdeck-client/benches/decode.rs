//! Decode a 1,000-user page per CRM and encode a complex Zurmo dynamic search.
//! Run: `cargo bench -p userdeck-client --bench decode`.

#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(not(target_arch = "wasm32"))]
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use userdeck_client::provider::{Target, appcrm, capsule, zurmo};
use userdeck_client::{HttpResponse, Match, Op, UserField, UserQuery};

/// Criterion does not build for wasm32; the benchmarks are native only.
#[cfg(target_arch = "wasm32")]
fn main() {}

const N: usize = 1000;

fn capsule_page() -> HttpResponse {
    let users: Vec<Value> = (0..N)
        .map(|i| {
            json!({"id": i + 1, "locale": "en_GB", "currency": "EUR", "status": "ACTIVE",
                "party": {"id": i + 1, "type": "person", "firstName": format!("First{i}"), "lastName": format!("Lást{i}"),
                    "pictureURL": "https://facehub.appspot.com/default/person?text=SS&size=100",
                    "emailAddresses": [{"id": i, "type": "Work", "address": format!("user{i}@example.com")}]},
                "username": format!("user{i}"), "timezone": "Europe/London", "lastLoginAt": "2015-12-11T14:01:15Z",
                "name": format!("First{i} Lást{i}"), "taskReminder": true})
        })
        .collect();
    HttpResponse::new(200, serde_json::to_vec(&json!({"users": users})).unwrap()).with_header(
        "Link",
        "<https://api.capsulecrm.com/api/v2/users?page=2&perPage=100>; rel=\"next\"",
    )
}

fn appcrm_page() -> HttpResponse {
    let users: Vec<Value> = (0..N)
        .map(|i| {
            json!({"id": i + 1, "name": format!("Usér {i}"), "email": format!("user{i}@example.com"),
                "timezone": "America/Sao_Paulo", "locale": "pt_BR", "avatar": null, "uploaded_avatar_url": null,
                "avatar_url": "https://acme.appcrm.com.br/avatar/1.png", "mail_signature": "<p>Hi</p>",
                "guest_email": format!("user{i}@example.com"), "guest_display_name": "U", "teams": [],
                "super_admin": i % 10 == 0, "access_api": true, "time_format": "H:i", "date_format": "m/d/Y",
                "default_landing_page": "dashboard", "notifications": {"unread_count": 0, "settings": []},
                "display_name": format!("Usér {i}"), "created_at": "2024-05-01T10:20:30.000000Z",
                "updated_at": "2024-05-01T10:20:30.000000Z",
                "authorizations": {"viewAny": true, "view": true, "create": true, "update": true, "delete": true},
                "was_recently_created": false})
        })
        .collect();
    let body = json!({"data": users, "links": {"first": "x", "last": "x", "prev": null, "next": "x"},
        "meta": {"current_page": 1, "from": 1, "last_page": 3, "links": [], "path": "x", "per_page": N, "to": N, "total": 3 * N}});
    HttpResponse::new(200, serde_json::to_vec(&body).unwrap())
}

fn zurmo_page() -> HttpResponse {
    let users: Vec<Value> = (0..N)
        .map(|i| {
            json!({"id": i + 1, "createdDateTime": "2016-02-01 10:00:00", "modifiedDateTime": "2016-02-01 10:00:00",
                "createdByUser": {"id": 1, "username": "super"}, "modifiedByUser": {"id": 1, "username": "super"},
                "language": "en", "locale": null, "timeZone": "America/Chicago", "username": format!("user{i}"),
                "serializedAvatarData": "", "isActive": "1", "lastLoginDateTime": null, "isRootUser": null,
                "hideFromSelecting": null, "isSystemUser": null, "hideFromLeaderboard": null,
                "currency": {"id": 1}, "manager": {"id": 4, "username": "smith45"}, "secondaryEmail": null,
                "department": "Sales", "firstName": format!("Fírst{i}"), "jobTitle": "President", "lastName": format!("Last{i}"),
                "mobilePhone": "653-235-7821", "officePhone": "653-235-7824", "officeFax": null,
                "primaryAddress": {"id": 3, "city": "Noodleville", "country": "US", "invalid": null, "latitude": null,
                    "longitude": null, "postalCode": "23453", "street1": "1 Main", "street2": "", "state": null},
                "primaryEmail": {"id": 6, "emailAddress": format!("user{i}@example.com"), "isInvalid": null, "optOut": "1"},
                "title": {"id": 9, "value": "Dr."}})
        })
        .collect();
    let body = json!({"status": "SUCCESS", "data": {"totalCount": 3 * N, "currentPage": 1, "items": users}, "message": null, "errors": null});
    // PHP escapes slashes.
    let text = serde_json::to_string(&body).unwrap().replace('/', "\\/");
    HttpResponse::new(200, text)
}

/// The Zurmo page with each user kept as text: the first of the decoder's two passes.
#[derive(Deserialize)]
struct ZurmoPage<'a> {
    #[serde(borrow)]
    data: ZurmoData<'a>,
}

#[derive(Deserialize)]
struct ZurmoData<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
}

#[cfg(not(target_arch = "wasm32"))]
fn benches(c: &mut Criterion) {
    let capsule = capsule_page();
    let appcrm = appcrm_page();
    let zurmo = zurmo_page();
    eprintln!(
        "page bodies: capsule {} B, appcrm {} B, zurmo {} B",
        capsule.body.len(),
        appcrm.body.len(),
        zurmo.body.len()
    );
    c.bench_function("decode capsule 1000 users", |b| {
        b.iter(|| capsule::decode_list(black_box(&capsule), 1, 100, 0).map(|p| p.items.len()))
    });
    c.bench_function("decode appcrm 1000 users", |b| {
        b.iter(|| appcrm::decode_list(black_box(&appcrm), 0).map(|p| p.items.len()))
    });
    c.bench_function("decode zurmo 1000 users", |b| {
        b.iter(|| zurmo::decode_list(black_box(&zurmo), 1000, 0).map(|p| p.items.len()))
    });
    c.bench_function("baseline: serde_json::Value parse of the zurmo page", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&zurmo.body)).map(|v| v.is_object()))
    });
    c.bench_function("baseline: IgnoredAny scan of the zurmo page", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&zurmo.body)).is_ok())
    });
    c.bench_function("split: zurmo page to raw users (pass 1 only)", |b| {
        b.iter(|| {
            // As the decoder does it: one UTF-8 check, then parse from `&str`.
            std::str::from_utf8(black_box(&zurmo.body))
                .ok()
                .and_then(|text| serde_json::from_str::<ZurmoPage>(text).ok())
                .map(|p| p.data.items.len())
        })
    });
    let split = serde_json::from_slice::<ZurmoPage>(&zurmo.body).unwrap();
    c.bench_function("split: 1000 raw zurmo users to User (pass 2 only)", |b| {
        b.iter(|| {
            black_box(&split.data.items)
                .iter()
                .map(|raw| zurmo::user_from_raw(raw).map(|u| u.id))
                .sum::<Result<u64, _>>()
        })
    });
    let target = Target::new(
        "https://crm.example.com/app/index.php",
        vec![("ZURMO_SESSION_ID".into(), "s".into())],
    );
    let query = UserQuery::page(3, 50)
        .text("smi")
        .with(UserField::Username, Op::StartsWith, "a/b")
        .with(UserField::FirstName, Op::StartsWith, "Jo")
        .with(UserField::LastName, Op::StartsWith, "Sm")
        .with(UserField::Email, Op::StartsWith, "jo@")
        .with(
            UserField::Native("department".into()),
            Op::StartsWith,
            "Sales & Marketing",
        )
        .with(UserField::Native("manager.id".into()), Op::Equals, "4")
        .with(UserField::Active, Op::Equals, "1")
        .matching(Match::Any)
        .sorted(UserField::LastName, userdeck_client::Direction::Desc);
    c.bench_function("encode zurmo dynamic search (10 clauses)", |b| {
        b.iter(|| {
            zurmo::list_request(black_box(&target), black_box(&query))
                .map(|r| r.body.map(|b| b.len()))
        })
    });
}

#[cfg(not(target_arch = "wasm32"))]
criterion_group!(decode, benches);
#[cfg(not(target_arch = "wasm32"))]
criterion_main!(decode);
