//! A Capsule list page, `{"users":[…],"meta":{…}}`, read in one pass: the strict walker
//! ([`onepass`]) goes over the body once and each user's members are read as they are met, by
//! the same rules as the derive (`CapsuleUser::member`), each user's text being the span just
//! walked. The two-pass decode (serde_json capturing each user, then the derive reading each
//! user's text again) scanned every user twice and copied it once.
//!
//! The two-pass decode stays the definition: this reader answers only for a plain page (an
//! object with a `users` array of users that have an id, keys without escapes, no repeated
//! field, nesting under [`onepass::MAX_DEPTH`]) on JSON that serde_json accepts too; for
//! anything else, every malformed body included, it answers `None` and the caller runs the
//! two-pass decode, which gives the page or the error.

use super::{CapsuleUser, Meta, UserList, to_user};
use crate::model::User;
use crate::provider::onepass::{self, Reader, once};
use crate::provider::scan;

/// The page in `body`, or `None` when the two-pass decode has to decide (see the module docs).
pub(super) fn read(body: &[u8]) -> Option<UserList> {
    onepass::read(body, list)
}

/// `{"users":[…],"meta":{"totalCount":N},…}` in any key order, as `ListBody` reads it.
fn list(r: &mut Reader<'_>) -> Option<UserList> {
    let mut users = None;
    let mut meta = None;
    r.object(|r, key| match key {
        "users" => {
            let items = r.users(1, user)?;
            once(&mut users, items)
        }
        "meta" => {
            let text = r.value_text(1)?;
            once(&mut meta, scan::object(text, Meta::member)?)
        }
        _ => r.value(1),
    })?;
    Some(UserList {
        items: users?,
        total: meta.and_then(|m| m.0).and_then(|m| m.total_count),
    })
}

/// One user object `depth` containers down; its text is the span just walked.
fn user(r: &mut Reader<'_>, depth: u32) -> Option<User> {
    let (user, raw) = r.user(depth, CapsuleUser::member)?;
    to_user(user, || raw)
}

/// The one-pass reader against the two-pass decode it shortcuts: whenever it answers, it answers
/// the same page, raw texts included; and plain pages do take it. (Property tests run natively:
/// proptest is a native-only dev-dependency.)
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::http::HttpResponse;
    use crate::provider::capsule::{decode_list, tests::REFERENCE_LIST, two_pass_list};
    use crate::provider::onepass::testing::{
        assert_pages_often_take_the_one_pass, damage, damaged, one_pass_matches, user, value, ws,
    };
    use proptest::prelude::*;

    fn two_pass(body: &[u8]) -> Result<UserList, ApiError> {
        two_pass_list(&HttpResponse::new(200, body.to_vec()))
    }

    /// `read` agrees with the two-pass decode, raw text for raw text, and `decode_list` answers
    /// what the two passes do, errors included; answers whether the one pass read the page.
    fn agrees(body: &[u8]) -> bool {
        let slow = two_pass(body);
        let listed =
            decode_list(&HttpResponse::new(200, body.to_vec()), 1, 50, 0).map(|p| UserList {
                total: p.total,
                items: p.items,
            });
        assert_eq!(listed, slow, "{}", String::from_utf8_lossy(body));
        one_pass_matches(read(body), slow, |l| &l.items, body)
    }

    /// The bench's user: party, email, non-ASCII.
    const USER: &str = r#"{"id":7,"locale":"en_GB","currency":"EUR","status":"ACTIVE","party":{"id":7,"type":"person","firstName":"First6","lastName":"Lást6","pictureURL":"https:\/\/facehub.appspot.com\/default\/person?text=SS&size=100","emailAddresses":[{"id":6,"type":"Work","address":"user6@example.com"}]},"username":"user6","timezone":"Europe/London","lastLoginAt":"2015-12-11T14:01:15Z","name":"First6 Lást6","taskReminder":true}"#;

    #[test]
    fn plain_pages_take_the_one_pass_reader() {
        let second = USER
            .replace(r#""id":7"#, r#""id":"8""#)
            .replace(r#""status":"ACTIVE""#, r#""status":"INACTIVE""#)
            .replace(
                r#""taskReminder":true"#,
                r#""roles":{"isAccountOwner":"1"}"#,
            );
        let users = format!("{USER},\n {second}");
        for body in [
            REFERENCE_LIST.to_string(),
            format!(r#"{{"users":[{users}]}}"#),
            format!(r#"{{ "meta" : {{ "totalCount" : "8" }} , "users" : [ {USER} ] }}"#),
            format!(r#"{{"users":[{users}],"meta":{{"totalCount":2}},"x":[{{"y":null}}]}}"#),
            format!(r#"{{"users":[{USER}],"meta":null}}"#),
            format!(r#"{{"users":[{USER}],"meta":[]}}"#),
            r#"{"users":[]}"#.to_string(),
            r#"{"users":[],"meta":{"totalCount":0}}"#.to_string(),
            // Nulls, unknown fields, escapes, non-ASCII, `roles` without a role.
            r#"{"users":[{"id":"12","username":"zoë","name":null,"status":"INACTIVE","party":{"firstName":null,"lastName":"Ünal","pictureURL":null,"emailAddresses":[{"id":3,"type":"Work","address":"z\u00f6e@example.com"}]},"roles":{"isAccountAdmin":true},"newField":{"x":1}}]}"#.to_string(),
            r#"{"users":[{"id":3,"roles":null,"party":{"emailAddresses":[{"address":null},7,{"address":"b@x.io"}]},"u":"a\/b"},{"id":4,"party":[],"status":5}],"meta":{"totalCount":"8"}}"#.to_string(),
        ] {
            assert!(agrees(body.as_bytes()), "{body}");
        }
        let pretty: serde_json::Value =
            serde_json::from_str(&format!(r#"{{"users":[{users}]}}"#)).unwrap();
        let pretty = serde_json::to_string_pretty(&pretty).unwrap();
        assert!(agrees(pretty.as_bytes()));
        // The fields come through, the raw text is the user's own span of the shared body.
        let page = read(format!(r#"{{"users":[{users}]}}"#).as_bytes()).unwrap();
        let (first, second) = (&page.items[0], &page.items[1]);
        assert_eq!(first.display_name, "First6 Lást6");
        assert_eq!(first.email.as_deref(), Some("user6@example.com"));
        assert_eq!(
            first.avatar_url.as_deref(),
            Some("https://facehub.appspot.com/default/person?text=SS&size=100")
        );
        assert_eq!((first.active, first.admin), (Some(true), None));
        assert_eq!(
            (second.id, second.active, second.admin),
            (8, Some(false), Some(true))
        );
        assert_eq!(first.raw.text(), USER);
        assert!(!first.raw.is_parsed());
    }

    #[test]
    fn anything_unusual_goes_to_the_two_pass_decode() {
        let page = |users: &str| format!(r#"{{"users":[{users}]}}"#);
        let user = |extra: &str| page(&format!(r#"{{"id":1{extra}}}"#));
        let bodies = [
            // Not the list shape, or not said plainly.
            "{}".to_string(),
            r#"{"users":null}"#.to_string(),
            r#"{"users":{}}"#.to_string(),
            r#"{"users":"[]"}"#.to_string(),
            r#"[{"users":[]}]"#.to_string(),
            r#"{"users":[],"users":[]}"#.to_string(),
            r#"{"users":[{"id":1}],"users":[]}"#.to_string(),
            r#"{"us\u0065rs":[]}"#.to_string(),
            r#"{"users":[],"meta":{},"meta":{}}"#.to_string(),
            r#"{"users":[],"meta":{"totalCount":1,"totalCount":2}}"#.to_string(),
            r#"{"users":[],"meta":{"totalCount":1e400}}"#.to_string(),
            r#"{"users":[],"meta":1e400}"#.to_string(),
            // Users the derive must read or refuse.
            page(r#"{"name":"x"}"#),
            page(r#"{"id":-1}"#),
            page("{}"),
            page("[1]"),
            page("[[1]]"),
            page("7"),
            user(r#","n\u0061me":"x""#),
            user(r#","id":2"#),
            user(r#","name":"\ud800""#),
            user(r#","party":"\ud800""#),
            user(r#","party":1e400"#),
            user(r#","party":{"firstName":"a","firstName":"b"}"#),
            user(r#","party":{"pictureURL":"a","pictureURL":"b"}"#),
            user(r#","party":{"emailAddresses":[],"emailAddresses":[]}"#),
            user(r#","party":{"emailAddresses":[{"address":"a","address":"b"}]}"#),
            user(r#","party":{"emailAddresses":[{"address":"a"},{"address":"b","address":"c"}]}"#),
            user(r#","party":{"emailAddresses":1e400}"#),
            user(r#","party":{"emailAddresses":[1e400]}"#),
            user(r#","roles":{"isAccountAdmin":true,"isAccountAdmin":false}"#),
            user(r#","roles":1,"roles":2"#),
            // Malformed JSON, each in a value the reader would otherwise skip.
            user(r#","x":"a\qb""#),
            user(r#","x":"a\u12g4""#),
            user(",\"x\":\"tab\there\""),
            user(r#","x":01"#),
            user(r#","x":1."#),
            user(r#","x":-"#),
            user(r#","x":1e"#),
            user(r#","x":nul"#),
            user(r#","x":[1,]"#),
            user(r#","x":{"a":1,}"#),
            user(r#","x":{"a" 1}"#),
            user(r#","x":{1:2}"#),
            user(r#","x":'a'"#),
            user(&format!(r#","x":{}{}"#, "[".repeat(70), "]".repeat(70))),
            format!("{} x", user("")),
            format!("{},", user("")),
            user("").replace('}', ""),
            String::new(),
            "<html>".to_string(),
        ];
        for body in bodies {
            assert!(read(body.as_bytes()).is_none(), "{body}");
            // The fallback answers for it: the same as the two passes, error for error.
            agrees(body.as_bytes());
        }
        assert!(read(&[b'{', 0xff, b'}']).is_none());
        assert!(matches!(
            two_pass(r#"{"users":[{"id":1,"party":1e400}]}"#.as_bytes()),
            Err(ApiError::Decode { .. })
        ));
        // Deep but within the limit is still read.
        assert!(agrees(
            user(&format!(r#","x":{}{}"#, "[".repeat(50), "]".repeat(50))).as_bytes()
        ));
    }

    const KEYS: &[&str] = &[
        "id",
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
        "firstName",
        "lastName",
        "pictureURL",
        "emailAddresses",
        "address",
        "isAccountAdmin",
        "isAccountOwner",
        "taskReminder",
    ];

    /// A page: mostly plain, sometimes another `users`, `meta` or extra key.
    fn page() -> impl Strategy<Value = String> {
        let users = prop_oneof![
            8 => prop::collection::vec(user(KEYS, value(KEYS)), 0..5)
                .prop_map(|u| format!("[{}]", u.join(","))),
            1 => prop::sample::select(vec!["null", "{}", r#""x""#, "[1]", "[[]]"]).prop_map(String::from),
        ];
        let meta = prop::sample::select(vec![
            "",
            "",
            r#","meta":{"totalCount":3}"#,
            r#","meta":{"totalCount":3}"#,
            r#","meta":{"totalCount":"8","x":[]}"#,
            r#","meta":null"#,
            r#","meta":[]"#,
            r#","meta":{"totalCount":1e400}"#,
            r#","meta":{"totalCount":1,"totalCount":1}"#,
        ]);
        let extra = prop::sample::select(vec![
            "",
            "",
            "",
            "",
            r#","x":[1,{"a":null}]"#,
            r#","x":[1,{"a":null}]"#,
            r#","users":[]"#,
            r#","us\u0065rs":[]"#,
        ]);
        (users, meta, extra, ws(), any::<bool>()).prop_map(|(users, meta, extra, ws, first)| {
            if first {
                format!(r#"{ws}{{{ws}"users"{ws}:{ws}{users}{meta}{extra}}}{ws}"#)
            } else {
                format!(r#"{{"x":0{meta}{extra},{ws}"users":{users}}}"#)
            }
        })
    }

    /// The property test below is only as good as its pages.
    #[test]
    fn generated_pages_often_take_the_one_pass() {
        assert_pages_often_take_the_one_pass(page(), agrees);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whenever the one pass reads a page, valid or damaged, the two passes read the same.
        #[test]
        fn one_pass_agrees_with_two_passes(page in page(), damage in damage()) {
            agrees(&damaged(page, damage));
        }
    }
}
