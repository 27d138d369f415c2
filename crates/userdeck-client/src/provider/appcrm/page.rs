//! An App CRM list page, Laravel's paginated `{"data":[…],"links":{…},"meta":{…}}`, read in
//! one pass: the strict walker ([`onepass`]) goes over the body once and each user's members are
//! read as they are met, by the same rules as the derive (`AppCrmUser::member`), each user's
//! text being the span just walked. The two-pass decode (serde_json capturing each user, then
//! the derive reading each user's text again) scanned every user twice and copied it once.
//!
//! The two-pass decode stays the definition: this reader answers only for a plain paginated page
//! (an object with a `data` array of users that have an id, keys without escapes, no repeated
//! field, nesting under [`onepass::MAX_DEPTH`]) on JSON that serde_json accepts too; for
//! anything else, every malformed body included, it answers `None` and the caller runs the
//! two-pass decode, which gives the page or the error. The other shapes (a bare user, the
//! search's bare array) are single users or short lists and keep the two-pass decode.

use super::{AppCrmUser, Links, Meta, UserList, to_user};
use crate::model::User;
use crate::provider::onepass::{self, Reader, once};
use crate::provider::scan;

/// The page in `body`, or `None` when the two-pass decode has to decide (see the module docs).
pub(super) fn read(body: &[u8]) -> Option<UserList> {
    onepass::read(body, list)
}

/// `{"data":[…],"links":{"next":…},"meta":{…}}` in any key order, as `ListBody` reads it.
fn list(r: &mut Reader<'_>) -> Option<UserList> {
    let mut data = None;
    let mut meta = None;
    let mut links = None;
    r.object(|r, key| match key {
        "data" => {
            let items = r.users(1, user)?;
            once(&mut data, items)
        }
        "meta" => {
            let text = r.value_text(1)?;
            once(&mut meta, scan::object(text, Meta::member)?)
        }
        "links" => {
            let text = r.value_text(1)?;
            once(&mut links, scan::object(text, Links::member)?)
        }
        _ => r.value(1),
    })?;
    Some(UserList {
        items: data?,
        meta: meta.and_then(|m| m.0).unwrap_or_default(),
        next_link: links.and_then(|l| l.0).is_some_and(|l| l.next),
    })
}

/// One user object `depth` containers down; its text is the span just walked.
fn user(r: &mut Reader<'_>, depth: u32) -> Option<User> {
    let (user, raw) = r.user(depth, AppCrmUser::member)?;
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
    use crate::provider::appcrm::{decode_list, tests::USER, to_page, two_pass_list};
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
        let listed = decode_list(&HttpResponse::new(200, body.to_vec()), 0);
        assert_eq!(
            listed,
            two_pass(body).map(to_page),
            "{}",
            String::from_utf8_lossy(body)
        );
        one_pass_matches(read(body), slow, |l| &l.items, body)
    }

    /// Laravel's paginator around `users`.
    fn paginated(users: &str) -> String {
        format!(
            r#"{{"data":[{users}],"links":{{"first":"https:\/\/x\/api\/users?page=1","last":"https:\/\/x\/api\/users?page=3","prev":null,"next":"https:\/\/x\/api\/users?page=2"}},"meta":{{"current_page":1,"from":1,"last_page":3,"links":[{{"url":null,"label":"&laquo; Previous","active":false}}],"path":"https:\/\/x\/api\/users","per_page":15,"to":15,"total":31}}}}"#
        )
    }

    #[test]
    fn plain_pages_take_the_one_pass_reader() {
        let second = USER
            .replace(r#""id":2"#, r#""id":"3""#)
            .replace(r#""super_admin":true"#, r#""super_admin":"0""#)
            .replace(r#""name":"Jos\u00e9 Silva""#, r#""name":"""#);
        let users = format!("{USER},\n {second}");
        for body in [
            paginated(USER),
            paginated(&users),
            paginated(""),
            r#"{"data":[],"links":{"first":null,"last":null,"prev":null,"next":null},"meta":{"current_page":1,"from":null,"last_page":1,"per_page":15,"to":null,"total":0}}"#.to_string(),
            r#"{"data":[{"id":"4","super_admin":"0","name":""}],"links":{"next":null},"meta":{"current_page":"2","last_page":2,"per_page":"10","total":"11"}}"#.to_string(),
            format!(r#"{{ "meta" : null , "links" : [] , "data" : [ {USER} ] }}"#),
            format!(r#"{{"data":[{USER}]}}"#),
            r#"{"data":[{"id":1,"last_active_at":"2024-05-01 10:20:30","avatar_url":null,"uploaded_avatar_url":"u","display_name":"Zoë","x":{"y":[1,"\u00e9"]}}]}"#.to_string(),
        ] {
            assert!(agrees(body.as_bytes()), "{body}");
        }
        let pretty: serde_json::Value = serde_json::from_str(&paginated(&users)).unwrap();
        let pretty = serde_json::to_string_pretty(&pretty).unwrap();
        assert!(agrees(pretty.as_bytes()));
        // The fields come through, the raw text is the user's own span of the shared body.
        let page = read(paginated(&users).as_bytes()).unwrap();
        let (first, second) = (&page.items[0], &page.items[1]);
        assert_eq!(first.display_name, "José Silva");
        assert_eq!((first.admin, second.admin), (Some(true), Some(false)));
        assert_eq!(
            second.display_name, "José Silva",
            "display_name when name is empty"
        );
        assert_eq!(second.id, 3);
        assert_eq!(
            first.avatar_url.as_deref(),
            Some("https://acme.appcrm.com.br/avatar/2.png")
        );
        assert_eq!(first.raw.text(), USER);
        assert!(!first.raw.is_parsed());
        assert_eq!(
            (
                page.meta.current_page,
                page.meta.last_page,
                page.meta.total,
                page.next_link
            ),
            (Some(1), Some(3), Some(31), true)
        );
    }

    #[test]
    fn anything_unusual_goes_to_the_two_pass_decode() {
        let page = |users: &str| format!(r#"{{"data":[{users}],"meta":{{"total":1}}}}"#);
        let user = |extra: &str| page(&format!(r#"{{"id":1{extra}}}"#));
        let bodies = [
            // Not the paginated shape, or not said plainly.
            "{}".to_string(),
            "[]".to_string(),
            USER.to_string(),
            format!("[{USER}]"),
            r#"{"data":null}"#.to_string(),
            r#"{"data":{}}"#.to_string(),
            r#"{"data":[],"data":[]}"#.to_string(),
            r#"{"d\u0061ta":[]}"#.to_string(),
            r#"{"data":[],"meta":{},"meta":{}}"#.to_string(),
            r#"{"data":[],"links":{},"links":{}}"#.to_string(),
            r#"{"data":[],"meta":{"total":1,"total":2}}"#.to_string(),
            r#"{"data":[],"meta":{"current_page":1e400}}"#.to_string(),
            r#"{"data":[],"links":{"next":"a","next":null}}"#.to_string(),
            r#"{"data":[],"links":{"next":"\ud800"}}"#.to_string(),
            r#"{"data":[],"links":1e400}"#.to_string(),
            // Users the derive must read or refuse.
            page(r#"{"name":"x"}"#),
            page(r#"{"id":null}"#),
            page("{}"),
            page("[4]"),
            page("7"),
            user(r#","n\u0061me":"x""#),
            user(r#","id":2"#),
            user(r#","email":"a","email":"b""#),
            user(r#","name":"\ud800""#),
            user(r#","super_admin":1e400"#),
            // Malformed JSON, each in a value the reader would otherwise skip.
            user(r#","x":"a\qb""#),
            user(r#","x":"a\u12g4""#),
            user(",\"x\":\"tab\there\""),
            user(r#","x":01"#),
            user(r#","x":1."#),
            user(r#","x":-"#),
            user(r#","x":nul"#),
            user(r#","x":[1,]"#),
            user(r#","x":{"a":1,}"#),
            user(r#","x":{1:2}"#),
            user(&format!(
                r#","x":{}{}"#,
                "{\"a\":".repeat(70),
                "}".repeat(70)
            )),
            format!("{} x", user("")),
            user("").replace(']', ""),
            String::new(),
            "<html>".to_string(),
        ];
        for body in bodies {
            assert!(read(body.as_bytes()).is_none(), "{body}");
            // The fallback answers for it: the same as the two passes, error for error.
            agrees(body.as_bytes());
        }
        assert!(read(&[b'{', 0xff, b'}']).is_none());
        // Deep but within the limit is still read.
        assert!(agrees(
            user(&format!(r#","x":{}{}"#, "[".repeat(50), "]".repeat(50))).as_bytes()
        ));
    }

    const KEYS: &[&str] = &[
        "id",
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
        "notifications",
        "data",
    ];

    /// A page: mostly plain, sometimes another `data`, `meta`, `links` or extra key.
    fn page() -> impl Strategy<Value = String> {
        let data = prop_oneof![
            8 => prop::collection::vec(user(KEYS, value(KEYS)), 0..5)
                .prop_map(|u| format!("[{}]", u.join(","))),
            1 => prop::sample::select(vec!["null", "{}", r#""x""#, "[1]", "[[]]"]).prop_map(String::from),
        ];
        let meta = prop::sample::select(vec![
            "",
            r#","meta":{"current_page":1,"last_page":3,"per_page":15,"total":31}"#,
            r#","meta":{"current_page":1,"last_page":3,"per_page":15,"total":31}"#,
            r#","meta":{"current_page":"2","last_page":"2","per_page":"10","total":"11","links":[{"url":null}]}"#,
            r#","meta":{"current_page":2,"last_page":1,"per_page":null,"total":-1}"#,
            r#","meta":null"#,
            r#","meta":[]"#,
            r#","meta":{"total":1e400}"#,
            r#","meta":{"total":1,"total":1}"#,
        ]);
        let links = prop::sample::select(vec![
            "",
            r#","links":{"first":"a","last":"b","prev":null,"next":"https:\/\/x\/api\/users?page=2"}"#,
            r#","links":{"next":null}"#,
            r#","links":{"next":null}"#,
            r#","links":{"next":""}"#,
            r#","links":{"next":7}"#,
            r#","links":null"#,
            r#","links":{"next":1,"next":2}"#,
        ]);
        let extra = prop::sample::select(vec![
            "",
            "",
            "",
            r#","x":[1,{"a":null}]"#,
            r#","x":[1,{"a":null}]"#,
            r#","data":[]"#,
        ]);
        (data, meta, links, extra, ws(), any::<bool>()).prop_map(
            |(data, meta, links, extra, ws, first)| {
                if first {
                    format!(r#"{ws}{{{ws}"data"{ws}:{ws}{data}{links}{meta}{extra}}}{ws}"#)
                } else {
                    format!(r#"{{"x":0{meta}{extra}{links},{ws}"data":{data}}}"#)
                }
            },
        )
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
