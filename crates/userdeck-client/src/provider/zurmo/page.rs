//! A Zurmo list page read in one pass: a strict JSON reader walks the body once, checking every
//! token, and reads each user's members as it meets them (the fields by the skimmer's own rule,
//! `ZurmoUser::member`), taking each user's text as the span it just walked. The two-pass decode
//! (serde_json capturing each user, then reading each user's text again) cost twice the scan.
//!
//! The two-pass decode stays the definition. This reader only answers for a plain SUCCESS page
//! (keys without escapes, no repeated field, users with an id, nesting under [`MAX_DEPTH`]) and
//! accepts only JSON that is valid by RFC 8259 and that serde_json therefore accepts too; for
//! anything else (including every malformed body) it answers `None` and the caller runs the
//! two-pass decode, which gives the page or the error. Being stricter than serde_json can only
//! send a page down the slower path, never change an answer.

use std::sync::Arc;

use super::{UserList, ZurmoUser, to_user};
use crate::model::User;
use crate::provider::scan;
use crate::raw::RawJson;

/// Nesting deeper than this goes to the two-pass decode (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 64;

/// The page in `body`, or `None` when the two-pass decode has to decide (see the module docs).
pub(super) fn read(body: &[u8]) -> Option<UserList> {
    // The whole body is UTF-8 (checked once, as the two-pass decode does), so every span
    // between ASCII delimiters is a `&str` without further checks.
    let text = std::str::from_utf8(body).ok()?;
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        i: 0,
        shared: Arc::from(text),
    };
    r.ws();
    let list = r.envelope()?;
    r.ws();
    (r.i == r.b.len()).then_some(list)
}

/// Sets `slot` once; `None` on a repeat (serde's derive refuses repeated fields).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

/// A position in the body. Every method answers `None` on anything it does not take.
struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    /// The body as the users' shared `raw` text.
    shared: Arc<str>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Skips JSON's four whitespace bytes.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// `{"status":"SUCCESS","data":{…},…}` in any key order.
    fn envelope(&mut self) -> Option<UserList> {
        let mut success = None;
        let mut data = None;
        self.object(|r, key| match key {
            "status" => {
                let status = r.value_text(1)?;
                once(&mut success, status == r#""SUCCESS""#)
            }
            "data" => {
                let list = r.data()?;
                once(&mut data, list)
            }
            _ => r.value(1),
        })?;
        data.filter(|_| success == Some(true))
    }

    /// `data`: an object with `totalCount`, `currentPage` and `items`, read as `ListData` is.
    fn data(&mut self) -> Option<UserList> {
        let mut total = None;
        let mut current_page = None;
        let mut items = None;
        self.object(|r, key| match key {
            "totalCount" => {
                let n = r.id()?;
                once(&mut total, n)
            }
            "currentPage" => {
                let n = r.id()?;
                once(&mut current_page, n)
            }
            "items" => {
                let users = r.items()?;
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

    /// A count, by the same rule as `lenient::id`.
    fn id(&mut self) -> Option<Option<u64>> {
        let text = self.value_text(2)?;
        Some(scan::scalar(text).ok()?.into_id())
    }

    /// `items`: an array of users, or `null` for none.
    fn items(&mut self) -> Option<Vec<User>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(Vec::new());
        }
        let mut users = Vec::new();
        self.array(|r| {
            users.push(r.user()?);
            Some(())
        })?;
        Some(users)
    }

    /// One user object; its text is the span just walked.
    fn user(&mut self) -> Option<User> {
        let start = self.i;
        let mut user = ZurmoUser::default();
        let mut seen = 0;
        self.object(|r, key| {
            let value = r.value_text(4)?;
            user.member(&mut seen, key, value)
        })?;
        to_user(user, || RawJson::shared(&self.shared, start..self.i))
    }

    /// Walks an object, calling `each` with every key (no escapes) to read its value.
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let (key, escaped) = self.string()?;
            if escaped {
                // Not the text serde compares: let the derive match it.
                return None;
            }
            self.ws();
            self.eat(b':')?;
            self.ws();
            each(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Walks an array, calling `each` to read every element.
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            each(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Checks one value at `depth` and answers its text.
    fn value_text(&mut self, depth: u32) -> Option<&'a str> {
        let start = self.i;
        self.value(depth)?;
        self.text.get(start..self.i)
    }

    /// Checks one value of any kind, `depth` containers down.
    #[inline(always)]
    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'n' => self.literal(b"null"),
            b'{' | b'[' => self.container(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object or array `depth` containers down (out of line: [`Reader::value`] is inlined
    /// into every loop and strings and nulls are most values).
    #[inline(never)]
    fn container(&mut self, depth: u32) -> Option<()> {
        let inner = depth.checked_add(1).filter(|&d| d <= MAX_DEPTH)?;
        if self.peek()? == b'{' {
            self.object(|r, _| r.value(inner))
        } else {
            self.array(|r| r.value(inner))
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; what follows is the container's to check.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// A string at the cursor: its text between the quotes and whether it holds escapes. Raw
    /// control characters and malformed escapes are refused, as JSON requires.
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let stop = scan::string_stop(self.b, self.i)?;
            self.i = stop + 1;
            match self.b.get(stop)? {
                b'"' => return Some((self.text.get(start..stop)?, escaped)),
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return None,
            }
        }
    }

    /// The rest of an escape, just past its backslash.
    fn escape(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
            b'u' => {
                let end = self.i.checked_add(5)?;
                let hex = self.b.get(self.i + 1..end)?;
                hex.iter().all(u8::is_ascii_hexdigit).then_some(())?;
                self.i = end;
            }
            _ => return None,
        }
        Some(())
    }
}

/// The one-pass reader against the two-pass decode it shortcuts: whenever it answers, it answers
/// the same page, raw texts included; and plain pages do take it. (Property tests run natively:
/// proptest is a native-only dev-dependency.)
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::provider::zurmo::skim_tests::{key, value};
    use crate::provider::zurmo::{tests::USER, two_pass_list};
    use proptest::prelude::*;

    fn two_pass(body: &[u8]) -> Result<UserList, crate::error::ApiError> {
        two_pass_list(&HttpResponse::new(200, body.to_vec()), 0)
    }

    /// `read` agrees with the two-pass decode, raw text for raw text; answers whether it read.
    fn agrees(body: &[u8]) -> bool {
        let Some(fast) = read(body) else {
            return false;
        };
        let slow = two_pass(body).expect("a page the one pass reads decodes in two");
        assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
        let texts = |l: &UserList| {
            l.items
                .iter()
                .map(|u| u.raw.text().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&fast), texts(&slow));
        true
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
        }
        assert!(read(&[b'{', 0xff, b'}']).is_none());
        // Deep but within the limit is still read.
        assert!(agrees(
            user(&format!(r#","x":{}{}"#, "[".repeat(50), "]".repeat(50))).as_bytes()
        ));
    }

    fn ws() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", " ", "\n  ", "\t"])
    }

    /// A user from the skimmer's keys and values (no repeats), usually with a usable id somewhere.
    fn user() -> impl Strategy<Value = String> {
        let id = prop::option::weighted(
            0.95,
            prop_oneof![
                8 => prop::sample::select(vec!["1", "7", r#""8""#, r#"" 9 ""#]),
                1 => prop::sample::select(vec!["null", "-1", "1.5", r#""x""#]),
            ],
        );
        (
            prop::collection::btree_map(key(), value(), 0..6),
            id,
            any::<prop::sample::Index>(),
            ws(),
        )
            .prop_map(|(members, id, at, ws)| {
                let mut members: Vec<(String, String)> =
                    members.into_iter().filter(|(k, _)| k != "id").collect();
                if let Some(id) = id {
                    members.insert(at.index(members.len() + 1), ("id".into(), id.into()));
                }
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!(r#"{ws}"{k}"{ws}:{ws}{v}{ws}"#))
                    .collect();
                format!("{{{}}}", members.join(","))
            })
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whenever the one pass reads a page, valid or damaged, the two passes read the same.
        #[test]
        fn one_pass_agrees_with_two_passes(
            page in page(),
            damage in prop::option::weighted(0.25, (any::<prop::sample::Index>(), prop::sample::select(vec![b'"', b'\\', b'{', b'}', b'[', b',', b':', b'0', b'-', b'e', 0x01, 0xc3, b' ']), any::<bool>())),
        ) {
            let mut body = page.into_bytes();
            if let Some((at, byte, cut)) = damage {
                let at = at.index(body.len());
                if cut {
                    body.truncate(at);
                } else {
                    body.insert(at, byte);
                }
            }
            agrees(&body);
        }
    }
}
