//! The strict JSON walker behind every one-pass list page reader (`capsule/page.rs`,
//! `appcrm/page.rs`, `zurmo/page.rs`): it walks a body once, checking every token, and lets each
//! CRM's page reader pick out the members it needs as it meets them. A user's `raw` text is the
//! span just walked, shared with the rest of the page through one `Arc<str>` copy of the body.
//!
//! It accepts only JSON that is valid by RFC 8259 (and that serde_json therefore accepts too),
//! and it is stricter than serde_json on purpose: keys with escapes, nesting deeper than
//! [`MAX_DEPTH`], invalid UTF-8 and anything malformed make it answer `None`. The page readers
//! then fall back to their two-pass serde decode, which stays the definition of every answer
//! and every error: being stricter can only send a page down the slower path, never change what
//! it decodes to.

use std::ops::Range;
use std::sync::Arc;

use crate::model::User;
use crate::provider::scan;
use crate::raw::RawJson;

/// Nesting deeper than this goes to the two-pass decode (serde_json's own limit is 128).
pub(crate) const MAX_DEPTH: u32 = 64;

/// The most users a list is sized for up front.
const MAX_RESERVE: usize = 1024;

/// The whole of `body` read by `page` (called at the first value), or `None` when the body is
/// not UTF-8, `page` does not take it, or anything but whitespace follows.
pub(crate) fn read<T>(body: &[u8], page: impl FnOnce(&mut Reader<'_>) -> Option<T>) -> Option<T> {
    // The whole body is UTF-8 (checked once, as the two-pass decode does), so every span
    // between ASCII delimiters is a `&str` without further checks.
    let text = std::str::from_utf8(body).ok()?;
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        i: 0,
        shared: None,
    };
    r.ws();
    let out = page(&mut r)?;
    r.ws();
    (r.i == r.b.len()).then_some(out)
}

/// Sets `slot` once; `None` on a repeat (serde's derive refuses repeated fields).
pub(crate) fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

/// A position in the body. Every method answers `None` on anything it does not take.
pub(crate) struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    /// The body as the users' shared `raw` text, copied when the first user is read.
    shared: Option<Arc<str>>,
}

impl<'a> Reader<'a> {
    /// The byte at the cursor.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Skips JSON's four whitespace bytes.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// An object `depth` containers down whose members `member` reads, given each key and its
    /// value's text; answers the object's span, for [`Reader::raw`].
    pub(crate) fn members(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&'a str, &'a str) -> Option<()>,
    ) -> Option<Range<usize>> {
        let start = self.i;
        let inner = depth.checked_add(1)?;
        self.object(|r, key| {
            let value = r.value_text(inner)?;
            member(key, value)
        })?;
        Some(start..self.i)
    }

    /// A user object `depth` containers down, read member by member into a fresh `U` by the
    /// CRM's `member` rule (the one its serde definition is tested against; `seen` marks the
    /// fields met, so a repeat is refused), with its span of the page as the user's raw text.
    #[inline]
    pub(crate) fn user<U: Default>(
        &mut self,
        depth: u32,
        member: impl Fn(&mut U, &mut u16, &str, &str) -> Option<()>,
    ) -> Option<(U, RawJson)> {
        let mut user = U::default();
        let mut seen = 0;
        let span = self.members(depth, |key, value| member(&mut user, &mut seen, key, value))?;
        Some((user, self.raw(span)))
    }

    /// An array of users `depth` containers down, each read by `one` (given its own depth).
    pub(crate) fn users(
        &mut self,
        depth: u32,
        mut one: impl FnMut(&mut Self, u32) -> Option<User>,
    ) -> Option<Vec<User>> {
        let inner = depth.checked_add(1)?;
        let mut users = Vec::new();
        let first = self.i;
        self.array(|r| {
            let start = r.i;
            users.push(one(r, inner)?);
            if users.len() == 1 {
                // Sized once from the first user: a page of `User`s is a few hundred KB, and
                // growing it by doubling would copy it again and again. Capped, so a small
                // first user before a large body costs no more than a big page would.
                let each = r.i.saturating_sub(start).max(1);
                let rest = r.b.len().saturating_sub(first) / each;
                users.reserve(rest.min(MAX_RESERVE));
            }
            Some(())
        })?;
        Some(users)
    }

    /// `span` of the body (one walked by [`Reader::members`]), as a user's `raw` text sharing
    /// the page's one copy, made with the first user.
    #[inline]
    pub(crate) fn raw(&mut self, span: Range<usize>) -> RawJson {
        let text = self.text;
        RawJson::shared(self.shared.get_or_insert_with(|| Arc::from(text)), span)
    }

    /// A count or id, by the same rule as `lenient::id`.
    #[inline]
    pub(crate) fn id(&mut self, depth: u32) -> Option<Option<u64>> {
        let text = self.value_text(depth)?;
        Some(scan::scalar(text).ok()?.into_id())
    }

    /// Walks an object, calling `each` with every key (no escapes) to read its value.
    pub(crate) fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
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
    pub(crate) fn array(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
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

    /// Checks one value `depth` containers down and answers its text.
    #[inline]
    pub(crate) fn value_text(&mut self, depth: u32) -> Option<&'a str> {
        let start = self.i;
        self.value(depth)?;
        self.text.get(start..self.i)
    }

    /// Checks one value of any kind, `depth` containers down.
    #[inline(always)]
    pub(crate) fn value(&mut self, depth: u32) -> Option<()> {
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

    /// `word` (`null`, `true`, `false`) at the cursor.
    #[inline]
    pub(crate) fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; what follows is the container's to check.
    #[inline]
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

    #[inline]
    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    #[inline]
    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// A string at the cursor: its text between the quotes and whether it holds escapes. Raw
    /// control characters and malformed escapes are refused, as JSON requires.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<(&'a str, bool)> {
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
    #[inline]
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

/// Generators shared by the three page readers' property tests (native only: proptest is a
/// native-only dev-dependency).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod testing {
    use proptest::prelude::*;

    /// Scalars in the shapes the CRMs send, and now and then one serde refuses when it reads
    /// it as a field (`1e400`, a lone surrogate) though it skips it anywhere else.
    pub(crate) fn leaf() -> impl Strategy<Value = String> {
        prop_oneof![
            12 => prop::sample::select(vec![
                "null",
                "true",
                "false",
                "0",
                "1",
                "7",
                "-1",
                "1.5",
                "1e2",
                "-0",
                "18446744073709551615",
                "18446744073709551616",
                r#""""#,
                r#"" ""#,
                r#""1""#,
                r#""0""#,
                r#""yes""#,
                r#""off""#,
                r#""ACTIVE""#,
                r#""active""#,
                r#""8""#,
                r#"" 8 ""#,
                r#""a\/b""#,
                r#""\u00e9t\u00e9""#,
                r#""\"q\"""#,
                r#""tab\there""#,
                r#""2015-12-11T14:01:15Z""#,
                r#""2024-05-01T10:20:30.000000Z""#,
                "[]",
                "{}",
                r#"["a",{"b":"}"}]"#,
            ])
            .prop_map(String::from),
            4 => "\"[a-zA-Z0-9 é.@:/-]{0,10}\"",
            1 => prop::sample::select(vec!["1e400", r#""\ud800""#]).prop_map(String::from),
        ]
    }

    /// A key: one of `keys` (a CRM's field names), any short word, or now and then a key with
    /// an escape (which serde unescapes and the one pass leaves to it).
    pub(crate) fn key(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![
            30 => prop::sample::select(keys).prop_map(String::from),
            10 => "[a-zA-Z_]{0,6}",
            1 => prop::sample::select(vec!["n\\u0061me", "\\u0069d", "x\\ty"]).prop_map(String::from),
        ]
    }

    /// Any value up to two containers deep, objects keyed from `keys`, compact or spaced.
    pub(crate) fn value(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
        leaf().prop_recursive(2, 16, 4, move |inner| {
            prop_oneof![
                prop::collection::vec((key(keys), inner.clone(), ws()), 0..4).prop_map(|members| {
                    let body: Vec<String> = members
                        .iter()
                        .map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}"))
                        .collect();
                    format!("{{{}}}", body.join(","))
                }),
                prop::collection::vec((inner, ws()), 0..3).prop_map(|items| {
                    let body: Vec<String> =
                        items.iter().map(|(v, ws)| format!("{ws}{v}{ws}")).collect();
                    format!("[{}]", body.join(","))
                }),
            ]
        })
    }

    /// A user object from `keys` and `value`s, usually with a usable `id` and now and then
    /// with a member repeated.
    pub(crate) fn user(
        keys: &'static [&'static str],
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = String> {
        let id = prop::option::weighted(
            0.98,
            prop_oneof![
                30 => prop::sample::select(vec!["1", "7", r#""8""#, r#"" 9 ""#]),
                1 => prop::sample::select(vec!["null", "-1", "1.5", r#""x""#, "1e400"]),
            ],
        );
        (
            prop::collection::btree_map(key(keys), value, 0..6),
            id,
            any::<prop::sample::Index>(),
            prop::option::weighted(0.05, any::<prop::sample::Index>()),
            ws(),
        )
            .prop_map(|(members, id, at, repeat, ws)| {
                let mut members: Vec<(String, String)> =
                    members.into_iter().filter(|(k, _)| k != "id").collect();
                if let Some(id) = id {
                    let at = at.index(members.len() + 1);
                    members.insert(at, ("id".into(), id.into()));
                }
                if let Some(which) = repeat {
                    let again = members.get(which.index(members.len().max(1))).cloned();
                    members.extend(again);
                }
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!(r#"{ws}"{k}"{ws}:{ws}{v}{ws}"#))
                    .collect();
                format!("{{{}}}", members.join(","))
            })
    }

    /// Whitespace between tokens: mostly none, as the CRMs send it.
    pub(crate) fn ws() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\n  ", "\t"])
    }

    /// A quarter of the time, a place to cut the body or to insert a stray byte.
    pub(crate) fn damage() -> impl Strategy<Value = Option<(prop::sample::Index, u8, bool)>> {
        prop::option::weighted(
            0.25,
            (
                any::<prop::sample::Index>(),
                prop::sample::select(vec![
                    b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'-', b'e', 0x01, 0xc3,
                    b' ',
                ]),
                any::<bool>(),
            ),
        )
    }

    /// `page` with `damage` done to it.
    pub(crate) fn damaged(
        page: String,
        damage: Option<(prop::sample::Index, u8, bool)>,
    ) -> Vec<u8> {
        let mut body = page.into_bytes();
        if let Some((at, byte, cut)) = damage {
            let at = at.index(body.len());
            if cut {
                body.truncate(at);
            } else {
                body.insert(at, byte);
            }
        }
        body
    }

    /// The users a page reader and the two-pass decode made are equal, and so are their raw
    /// texts byte for byte (`User`'s own equality would accept the same JSON written otherwise).
    pub(crate) fn assert_same_users(
        fast: &[crate::model::User],
        slow: &[crate::model::User],
        body: &[u8],
    ) {
        assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
        let texts = |users: &[crate::model::User]| {
            users
                .iter()
                .map(|u| u.raw.text().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            texts(fast),
            texts(slow),
            "{}",
            String::from_utf8_lossy(body)
        );
    }

    /// The end of each page reader's `agrees`: when the one pass read `body` (`fast`), the two
    /// passes read the same page (`slow`), users and raw texts included. Answers whether the one
    /// pass read it.
    pub(crate) fn one_pass_matches<L: PartialEq + std::fmt::Debug>(
        fast: Option<L>,
        slow: Result<L, crate::error::ApiError>,
        users: impl Fn(&L) -> &[crate::model::User],
        body: &[u8],
    ) -> bool {
        let Some(fast) = fast else {
            return false;
        };
        let slow = slow.expect("a page the one pass reads decodes in two");
        assert_same_users(users(&fast), users(&slow), body);
        assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
        true
    }

    /// Checks that a good share (a fifth) of 1,000 generated pages, damaged a quarter of the
    /// time, take the one pass by `agrees` (which answers whether the one pass read the page):
    /// a page reader's property test is only as good as its pages, and would compare nothing if
    /// they all went to the two-pass decode.
    pub(crate) fn assert_pages_often_take_the_one_pass(
        pages: impl Strategy<Value = String>,
        agrees: impl Fn(&[u8]) -> bool,
    ) {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let pages = (pages, damage());
        let read = (0..1000)
            .filter(|_| {
                let (page, damage) = pages.new_tree(&mut runner).unwrap().current();
                agrees(&damaged(page, damage))
            })
            .count();
        eprintln!("one pass read {read} of 1000 generated pages");
        assert!(
            read >= 200,
            "only {read} of 1000 generated pages took the one pass"
        );
    }
}

/// The walker alone: it never takes what serde_json refuses, and takes plain JSON.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::testing::{damage, damaged, value};
    use super::*;
    use proptest::prelude::*;

    fn walks(body: &[u8]) -> bool {
        read(body, |r| r.value(0)).is_some()
    }

    fn serde_takes(body: &[u8]) -> bool {
        serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    }

    #[test]
    fn plain_json_is_walked_and_malformed_json_is_not() {
        for good in [
            "null",
            " [1, -0.5e+3, \"a\\u00e9\\/\", {\"k\": [true, false, {}]}] ",
            "{\"a\":\"\\ud800\",\"b\":1e400}",
            &format!("{}{}", "[".repeat(64), "]".repeat(64)),
        ] {
            assert!(
                walks(good.as_bytes()) && serde_takes(good.as_bytes()),
                "{good}"
            );
        }
        for bad in [
            "",
            "nul",
            "01",
            "1.",
            "-",
            "1e",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "'a'",
            "\"a\\qb\"",
            "\"a\\u12g4\"",
            "\"tab\there\"",
            "[1] x",
            "{\"\\u0061\":1}",
            &format!("{}{}", "[".repeat(66), "]".repeat(66)),
        ] {
            assert!(!walks(bad.as_bytes()), "{bad}");
        }
        assert!(!walks(b"\"\xff\""));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the walker takes, whole or damaged, serde_json takes too.
        #[test]
        fn walker_is_never_laxer_than_serde(text in value(&["a", "id", "\\u0061"]), damage in damage()) {
            let body = damaged(text, damage);
            if walks(&body) {
                prop_assert!(serde_takes(&body), "{}", String::from_utf8_lossy(&body));
            }
        }
    }
}
