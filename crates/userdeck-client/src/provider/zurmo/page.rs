//! A Zurmo list page read in one pass: the strict walker ([`onepass`]) goes over the body once,
//! checking every token, and each user's members are read as they are met (the fields by the
//! skimmer's own rule, `ZurmoUser::member`), each user's text being the span just walked. The
//! two-pass decode (serde_json capturing each user, then reading each user's text again) cost
//! twice the scan.
//!
//! The two-pass decode stays the definition. This reader only answers for a plain SUCCESS page
//! (keys without escapes, no repeated field, users with an id, nesting under
//! [`onepass::MAX_DEPTH`]) on JSON that serde_json accepts too; for anything else (including
//! every malformed body) it answers `None` and the caller runs the two-pass decode, which gives
//! the page or the error. Being stricter than serde_json can only send a page down the slower
//! path, never change an answer.

use super::{UserList, ZurmoUser, to_user};
use crate::model::User;
use crate::provider::onepass::{self, Reader, once};

/// The page in `body`, or `None` when the two-pass decode has to decide (see the module docs).
pub(super) fn read(body: &[u8]) -> Option<UserList> {
    onepass::read(body, envelope)
}

/// `{"status":"SUCCESS","data":{…},…}` in any key order.
fn envelope(r: &mut Reader<'_>) -> Option<UserList> {
    let mut success = None;
    let mut data = None;
    r.object(|r, key| match key {
        "status" => {
            let status = r.value_text(1)?;
            once(&mut success, status == r#""SUCCESS""#)
        }
        "data" => {
            let list = list_data(r)?;
            once(&mut data, list)
        }
        _ => r.value(1),
    })?;
    data.filter(|_| success == Some(true))
}

/// `data`: an object with `totalCount`, `currentPage` and `items`, read as `ListData` is.
fn list_data(r: &mut Reader<'_>) -> Option<UserList> {
    let mut total = None;
    let mut current_page = None;
    let mut items = None;
    r.object(|r, key| match key {
        "totalCount" => {
            let n = r.id(2)?;
            once(&mut total, n)
        }
        "currentPage" => {
            let n = r.id(2)?;
            once(&mut current_page, n)
        }
        "items" => {
            let users = list_items(r)?;
            once(&mut items, users)
        }
        _ => r.value(2),
    })?;
    Some(UserList {
        total: total.flatten(),
        current_page: current_page.flatten(),
        items: items.unwrap_or_default(),
    })
}

/// `items`: an array of users, or `null` for none.
fn list_items(r: &mut Reader<'_>) -> Option<Vec<User>> {
    if r.peek()? == b'n' {
        r.literal(b"null")?;
        return Some(Vec::new());
    }
    r.users(2, user)
}

/// One user object `depth` containers down; its text is the span just walked.
fn user(r: &mut Reader<'_>, depth: u32) -> Option<User> {
    let (user, raw) = r.user(depth, ZurmoUser::member)?;
    to_user(user, || raw)
}

/// The one-pass reader against the two-pass decode it shortcuts: whenever it answers, it answers
/// the same page, raw texts included; and plain pages do take it. (Property tests run natively:
/// proptest is a native-only dev-dependency.)
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::provider::onepass::testing::{
        self, assert_pages_often_take_the_one_pass, damage, damaged, one_pass_matches, value, ws,
    };
    use crate::provider::zurmo::skim_tests::KEYS;
    use crate::provider::zurmo::{decode_list, tests::USER, two_pass_list};
    use proptest::prelude::*;

    fn two_pass(body: &[u8]) -> Result<UserList, crate::error::ApiError> {
        two_pass_list(&HttpResponse::new(200, body.to_vec()), 0)
    }

    /// `read` agrees with the two-pass decode, raw text for raw text, and `decode_list` answers
    /// what the two passes do, errors included; answers whether the one pass read the page.
    fn agrees(body: &[u8]) -> bool {
        let slow = two_pass(body);
        let listed = decode_list(&HttpResponse::new(200, body.to_vec()), 0, 0);
        assert_eq!(
            listed.as_ref().map(|p| (p.total, &p.items)),
            slow.as_ref().map(|l| (l.total, &l.items)),
            "{}",
            String::from_utf8_lossy(body)
        );
        one_pass_matches(read(body), slow, |l| &l.items, body)
    }

    fn envelope(data: &str) -> String {
        format!(r#"{{"status":"SUCCESS","data":{data},"message":null,"errors":null}}"#)
    }

    #[test]
    fn plain_pages_take_the_one_pass_reader() {
        let second = USER
            .replace(r#""id":5"#, r#""id":"6""#)
            .replace(r#""isActive":"1""#, r#""isActive":false"#);
        let users = format!("{USER},\n {second}");
        for data in [
            format!(r#"{{"totalCount":8,"currentPage":2,"items":[{users}]}}"#),
            format!(r#"{{ "items" : [ {USER} ] , "totalCount" : "8" , "currentPage" : null }}"#),
            r#"{"totalCount":0,"currentPage":1}"#.to_string(),
            r#"{"totalCount":"0","currentPage":"1","items":null}"#.to_string(),
            r#"{"totalCount":0,"currentPage":1,"items":[]}"#.to_string(),
        ] {
            assert!(agrees(envelope(&data).as_bytes()), "{data}");
        }
        let pretty: serde_json::Value =
            serde_json::from_str(&envelope(&format!(r#"{{"items":[{users}]}}"#))).unwrap();
        let pretty = serde_json::to_string_pretty(&pretty).unwrap();
        assert!(agrees(pretty.as_bytes()));
        // The reference user's quirks come through: `\/`, `\u00c9`, string booleans, shared text.
        let page = read(envelope(&format!(r#"{{"items":[{users}]}}"#)).as_bytes()).unwrap();
        let (first, second) = (&page.items[0], &page.items[1]);
        assert_eq!(first.time_zone.as_deref(), Some("America/Chicago"));
        assert_eq!(first.active, Some(true));
        assert_eq!(second.active, Some(false));
        assert_eq!(second.id, 6);
        assert_eq!(first.raw.text(), USER);
        assert_eq!(
            first.raw_text("primaryAddress.country").as_deref(),
            Some("États-Unis")
        );
    }

    #[test]
    fn anything_unusual_goes_to_the_two_pass_decode() {
        let page = |items: &str| envelope(&format!(r#"{{"totalCount":1,"items":[{items}]}}"#));
        let user = |extra: &str| page(&format!(r#"{{"id":1{extra}}}"#));
        let bodies = [
            // Not SUCCESS, or not said plainly.
            r#"{"status":"FAILURE","data":null,"message":"Sign in required.","errors":null}"#
                .to_string(),
            r#"{"status":"SUCC\u0045SS","data":{"items":[]}}"#.to_string(),
            r#"{"status":"SUCCESS","status":"SUCCESS","data":{"items":[]}}"#.to_string(),
            r#"{"data":{"items":[]}}"#.to_string(),
            r#"{"status":"SUCCESS","data":null}"#.to_string(),
            r#"{"status":"SUCCESS","data":{"items":{}}}"#.to_string(),
            r#"{"status":"SUCCESS","data":{"items":[],"items":[]}}"#.to_string(),
            r#"{"status":"SUCCESS","data":{"totalCount":1,"totalCount":2}}"#.to_string(),
            r#"{"status":"SUCCESS","data":{"totalCount":1e400}}"#.to_string(),
            r#"{"st\u0061tus":"SUCCESS","data":{"items":[]}}"#.to_string(),
            // Users the derive must read or refuse.
            page(r#"{"username":"x"}"#),
            page("{}"),
            page("[1]"),
            page("7"),
            user(r#","user\u006eame":"x""#),
            user(r#","id":2"#),
            user(r#","primaryEmail":{"emailAddress":"a","emailAddress":"b"}"#),
            user(r#","firstName":"\ud800""#),
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
            "<html>CHttpException</html>".to_string(),
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

    /// A user from the skimmer's keys and values, usually with a usable id somewhere.
    fn user() -> impl Strategy<Value = String> {
        testing::user(KEYS, value(KEYS))
    }

    /// A page: mostly plain SUCCESS pages, sometimes another status, items shape, count or key.
    fn page() -> impl Strategy<Value = String> {
        let status = prop_oneof![
            8 => Just(r#""SUCCESS""#),
            1 => prop::sample::select(vec![r#""FAILURE""#, r#""SUCC\u0045SS""#, "null"]),
        ];
        let count = prop_oneof![
            8 => prop::sample::select(vec!["3", r#""8""#, "null", "[]"]),
            1 => prop::sample::select(vec!["-1", "1e400"]),
        ];
        let items = prop_oneof![
            8 => prop::collection::vec(user(), 0..5).prop_map(|u| format!("[{}]", u.join(","))),
            1 => prop::sample::select(vec!["null", "{}", r#""x""#, "[1]"]).prop_map(String::from),
        ];
        let extra = prop_oneof![
            8 => prop::sample::select(vec!["", r#","message":null"#, r#","errors":{"a":["b"]}"#]),
            1 => prop::sample::select(vec![r#","status":"SUCCESS""#, r#","d\u0061ta":null"#]),
        ];
        (status, count, items, extra, ws(), any::<bool>()).prop_map(
            |(status, count, items, extra, ws, data_first)| {
                let data = format!(
                    r#"{{{ws}"totalCount":{count},"currentPage":1,{ws}"items":{ws}{items}}}"#
                );
                if data_first {
                    format!(r#"{ws}{{"data":{data},"status":{status}{extra}}}{ws}"#)
                } else {
                    format!(r#"{{"status":{status},{ws}"data":{data}{extra}}}"#)
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
