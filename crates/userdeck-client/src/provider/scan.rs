//! A skimmer for JSON text that serde_json has already validated (a captured `RawValue`): it
//! walks an object's members and hands back each key and value as borrowed text, so a decoder
//! can read the dozen fields it needs from a thirty-key user without a second full serde pass.
//!
//! It only has to be right for valid JSON; on anything it does not handle plainly (a key with
//! escapes, text that is not an object) it answers `None` and the caller decodes with serde,
//! which stays the definition of every rule. It never indexes out of bounds on any input. Its
//! word-at-a-time search also finds where a string's plain text stops for the validating
//! one-pass page readers ([`string_stop`], used by `onepass.rs`). [`object`] and [`list`] read a
//! nested value as `lenient::Obj` and `lenient::List` do, so a CRM's member rules can be written
//! once over value texts and shared by its skim and its one-pass page reader.

use std::borrow::Cow;

use serde::Deserialize;

use super::lenient::{List, Obj, Scalar};

/// JSON's four whitespace bytes.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    i
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// A word with the high bit set in (at least) the lowest byte of `w` that is zero; bits above
/// that byte may be spurious, so only the lowest set bit is meaningful.
fn zero_byte(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The index of the first byte at or after `i` for which `hit` (a word-at-a-time test built from
/// [`zero_byte`]) or, on the last few bytes, `byte` says yes. Eight bytes per step: string and
/// container bodies are where a user's bytes are, and a byte loop was half the decode.
#[inline(always)]
fn find(
    b: &[u8],
    mut i: usize,
    hit: impl Fn(u64) -> u64,
    byte: impl Fn(u8) -> bool,
) -> Option<usize> {
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let m = hit(u64::from_le_bytes(*chunk));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| byte(c)).map(|k| i + k)
}

/// Given `i` just past an opening quote, the index of the closing quote and whether the string
/// holds any escape.
fn string_end(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = find(
            b,
            i,
            |w| zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\'))),
            |c| c == b'"' || c == b'\\',
        )?;
        if *b.get(i)? == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        i += 2;
    }
}

/// The index of the first quote, backslash or control character at or after `i`: where a plain
/// run of string text stops. JSON forbids raw control characters in strings, so the validating
/// page reader (`zurmo/page.rs`) stops on them too. (`w - 0x20` sets the high bit of a byte
/// whose own high bit is clear only when that byte is below 0x20 or a lower byte borrowed, so,
/// as with [`zero_byte`], the lowest set bit is always a real hit.)
#[inline(always)]
pub(crate) fn string_stop(b: &[u8], i: usize) -> Option<usize> {
    find(
        b,
        i,
        |w| {
            zero_byte(w ^ (ONES * u64::from(b'"')))
                | zero_byte(w ^ (ONES * u64::from(b'\\')))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
        },
        |c| c == b'"' || c == b'\\' || c < 0x20,
    )
}

/// The index of the next quote, opener or closer at or after `i`. Setting bit 5 folds `[` onto
/// `{` and `]` onto `}` (and nothing else onto either), so three tests find all five.
fn structural(b: &[u8], i: usize) -> Option<usize> {
    find(
        b,
        i,
        |w| {
            let folded = w | (ONES * 0x20);
            zero_byte(w ^ (ONES * u64::from(b'"')))
                | zero_byte(folded ^ (ONES * u64::from(b'{')))
                | zero_byte(folded ^ (ONES * u64::from(b'}')))
        },
        |c| matches!(c, b'"' | b'{' | b'[' | b'}' | b']'),
    )
}

/// The index just past the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i + 1).map(|(end, _)| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                j = structural(b, j)?;
                match *b.get(j)? {
                    b'"' => j = string_end(b, j + 1)?.0,
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                }
                j += 1;
            }
        }
        // A number or literal runs to the next separator.
        _ => {
            let rest = b.get(i..)?;
            let len = rest
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']') || is_ws(c))
                .unwrap_or(rest.len());
            (len > 0).then_some(i + len)
        }
    }
}

/// Calls `each(key, value_text)` for every member of the object `text`, in order, stopping with
/// `None` when `each` does. `None` also when `text` is not an object or a key has escapes (its
/// raw text would not be the key serde compares).
pub(crate) fn members<'a>(
    text: &'a str,
    mut each: impl FnMut(&'a str, &'a str) -> Option<()>,
) -> Option<()> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(());
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (key_end, escaped) = string_end(b, i + 1)?;
        if escaped {
            return None;
        }
        let key = text.get(i + 1..key_end)?;
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        each(key, text.get(start..end)?)?;
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(()),
            _ => return None,
        }
    }
}

/// Calls `each(item_text)` for every element of the array `text`, in order, stopping with `None`
/// when `each` does. `None` also when `text` is not an array.
pub(crate) fn elements<'a>(
    text: &'a str,
    mut each: impl FnMut(&'a str) -> Option<()>,
) -> Option<()> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Some(());
    }
    loop {
        let end = value_end(b, i)?;
        each(text.get(i..end)?)?;
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b']' => return Some(()),
            _ => return None,
        }
    }
}

/// Marks field `bit` as `seen`; `None` when it already was (serde's derive refuses a repeated
/// field), so a skimming `member` function gives the value up to the derive.
pub(crate) fn first_time(seen: &mut u16, bit: u16) -> Option<()> {
    let fresh = *seen & bit == 0;
    *seen |= bit;
    fresh.then_some(())
}

/// `value` (valid JSON) as [`Obj<T>`] reads it: an object's members each read by `member`
/// (which marks the fields it has seen, see [`first_time`]), anything else absent. A scalar
/// still goes through [`scalar`], because serde reads it (and refuses, say, `1e400`) before
/// deciding it is not an object.
pub(crate) fn object<T: Default>(
    value: &str,
    mut member: impl FnMut(&mut T, &mut u16, &str, &str) -> Option<()>,
) -> Option<Obj<T>> {
    if !value.starts_with('{') {
        scalar(value).ok()?;
        return Some(Obj(None));
    }
    let mut out = T::default();
    let mut seen = 0;
    members(value, |key, v| member(&mut out, &mut seen, key, v))?;
    Some(Obj(Some(out)))
}

/// `value` (valid JSON) as [`List<T>`] reads it: an array's elements each read by `item`,
/// anything else empty (a scalar read as [`object`] reads one).
pub(crate) fn list<T>(value: &str, mut item: impl FnMut(&str) -> Option<T>) -> Option<List<T>> {
    let mut out = Vec::new();
    if value.starts_with('[') {
        elements(value, |v| {
            out.push(item(v)?);
            Some(())
        })?;
    } else {
        scalar(value).ok()?;
    }
    Some(List(out))
}

/// One value's text (valid JSON) as the [`Scalar`] serde would make of it: plain strings,
/// `null`, booleans and unsigned integers directly, anything else (escapes, signs, fractions,
/// containers) through serde_json.
pub(crate) fn scalar(value: &str) -> Result<Scalar<'_>, serde_json::Error> {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        if !inner.bytes().any(|c| c == b'\\' || c == b'"') {
            return Ok(Scalar::Str(Cow::Borrowed(inner)));
        }
        if let Some(text) = unescape_slashes(inner) {
            return Ok(Scalar::Str(Cow::Owned(text)));
        }
    }
    match value {
        "null" => return Ok(Scalar::Other),
        "true" => return Ok(Scalar::Bool(true)),
        "false" => return Ok(Scalar::Bool(false)),
        _ => {}
    }
    if !value.is_empty()
        && value.bytes().all(|c| c.is_ascii_digit())
        && let Ok(n) = value.parse::<u64>()
    {
        return Ok(Scalar::Unsigned(n));
    }
    Scalar::deserialize(&mut serde_json::Deserializer::from_str(value))
}

/// A string's inner text whose only escapes are `\/` (PHP escapes every slash, so Zurmo's time
/// zones and URLs all have them), unescaped without serde; `None` for any other escape.
fn unescape_slashes(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        let (plain, tail) = rest.split_at(at);
        out.push_str(plain);
        out.push('/');
        rest = tail.strip_prefix("\\/")?;
    }
    out.push_str(rest);
    (!out.contains('"')).then_some(out)
}

// Native only: the property tests need proptest, a native-only dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn all(text: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        members(text, |k, v| {
            out.push((k, v));
            Some(())
        })
        .map(|()| out)
    }

    #[test]
    fn members_borrow_keys_and_value_text() {
        let text =
            r#" { "a" : "x\"}" , "b":{"c":[1,{"d":"]"}]},"e":-1.5e3,"f":null,"g":[],"h":"" } "#;
        assert_eq!(
            all(text).unwrap(),
            [
                ("a", r#""x\"}""#),
                ("b", r#"{"c":[1,{"d":"]"}]}"#),
                ("e", "-1.5e3"),
                ("f", "null"),
                ("g", "[]"),
                ("h", r#""""#)
            ]
        );
        assert_eq!(all("{}").unwrap(), []);
        assert_eq!(all(" {\n}\t").unwrap(), []);
        // Not an object, or a key serde would unescape: the caller's serde path decides.
        assert!(all("[1]").is_none());
        assert!(all(r#"{"\u0061":1}"#).is_none());
        // Stopping early is passed through.
        assert!(members(r#"{"a":1}"#, |_, _| None).is_none());
        // Truncated or malformed text never panics.
        for bad in [
            r#"{"a""#,
            r#"{"a":"#,
            r#"{"a":"x"#,
            r#"{"a":[1"#,
            r#"{"a":1"#,
            "{",
            r#"{"a":1 x"#,
        ] {
            assert!(all(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn elements_borrow_item_text() {
        let all = |text| {
            let mut out = Vec::new();
            elements(text, |v| {
                out.push(v);
                Some(())
            })
            .map(|()| out)
        };
        assert_eq!(
            all(r#" [ 1 , "a]" , {"b":[2,"]"]} ,[], -2.5e1 ] "#).unwrap(),
            ["1", r#""a]""#, r#"{"b":[2,"]"]}"#, "[]", "-2.5e1"]
        );
        assert_eq!(all("[\n]").unwrap(), Vec::<&str>::new());
        assert!(all(r#"{"a":1}"#).is_none());
        assert!(elements("[1,2]", |_| None).is_none());
        for bad in ["[", "[1", "[1,", "[1 2]", r#"["a"#, "[[1]"] {
            assert!(all(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn object_and_list_read_as_obj_and_list_do() {
        use crate::provider::lenient::{self, List, Obj};
        #[derive(Deserialize, Default, Debug, PartialEq)]
        #[serde(default)]
        struct Probe {
            #[serde(deserialize_with = "lenient::text")]
            a: Option<String>,
        }
        fn member(p: &mut Probe, seen: &mut u16, key: &str, v: &str) -> Option<()> {
            if key == "a" {
                first_time(seen, 1)?;
                p.a = scalar(v).ok()?.into_text();
            }
            Some(())
        }
        for v in [
            r#"{"a":"x","b":[1]}"#,
            r#"{"a":7}"#,
            r#"{"a":"x","a":"y"}"#,
            "{}",
            "null",
            "[]",
            r#"[{"a":"x"},null,5,{"a":"z"}]"#,
            r#"[{"a":1,"a":2}]"#,
            r#""s""#,
            r#""a\/b""#,
            r#""\ud800""#,
            r#"["\ud800",1e400]"#,
            "1e400",
            "-1",
            "true",
        ] {
            let obj: Result<Obj<Probe>, _> = serde_json::from_str(v);
            assert_eq!(object(v, member), obj.ok(), "{v}");
            let items: Result<List<Obj<Probe>>, _> = serde_json::from_str(v);
            assert_eq!(list(v, |item| object(item, member)), items.ok(), "{v}");
        }
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            // Quotes, backslashes, brackets and multibyte text at every offset of a word.
            "[a-z\"\\\\{}\\[\\]/é\u{1F600} ,:]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"\\\\ {]{0,12}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every member of any object, compact or pretty, comes back with its exact value text;
        /// and a cut-short text never panics.
        #[test]
        fn members_of_any_object(map in prop::collection::btree_map("[a-zA-Z0-9é]{0,12}", json(), 0..10), pretty in any::<bool>(), cut in any::<prop::sample::Index>()) {
            let object = Value::Object(map.into_iter().collect());
            let text = if pretty {
                serde_json::to_string_pretty(&object).unwrap()
            } else {
                serde_json::to_string(&object).unwrap()
            };
            let mut seen = 0;
            members(&text, |k, v| {
                // Through text on both sides: float parsing need not round-trip exactly.
                let parsed: Value = serde_json::from_str(v).ok()?;
                let expected: Value = serde_json::from_str(&object.get(k)?.to_string()).ok()?;
                (parsed == expected).then(|| seen += 1)
            })
            .expect("members");
            prop_assert_eq!(seen, object.as_object().map_or(0, |m| m.len()));
            let end = cut.index(text.len().max(1));
            if let Some(short) = text.get(..end) {
                let _ = members(short, |_, _| Some(()));
            }
        }
    }

    proptest! {
        /// The word-at-a-time search stops where a byte loop would, at every offset of a word.
        #[test]
        fn string_stop_finds_the_first_stop(bytes in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(0x1f), Just(0x7f), Just(0x80), Just(0xff), Just(b' '), Just(b'a'), any::<u8>()], 0..40), from in any::<prop::sample::Index>()) {
            let start = from.index(bytes.len() + 1);
            let expected = bytes
                .iter()
                .skip(start)
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map(|k| start + k);
            prop_assert_eq!(string_stop(&bytes, start), expected);
        }
    }

    #[test]
    fn scalars_match_serde() {
        fn serde(v: &str) -> Result<Scalar<'_>, serde_json::Error> {
            Scalar::deserialize(&mut serde_json::Deserializer::from_str(v))
        }
        for v in [
            r#""plain""#,
            r#""""#,
            r#""a\/b""#,
            r#""\/\/x\/""#,
            r#""a\\/b""#,
            r#""a\/\"b""#,
            r#""a\/\u00e9""#,
            r#""\u00e9""#,
            "null",
            "true",
            "false",
            "0",
            "8",
            "18446744073709551615",
            "18446744073709551616",
            "-3",
            "1.5",
            "1e2",
            "[1]",
            r#"{"a":1}"#,
        ] {
            let (fast, slow) = (scalar(v).unwrap(), serde(v).unwrap());
            let show = |s: &Scalar<'_>| match s {
                Scalar::Str(s) => format!("str {s}"),
                Scalar::Unsigned(n) => format!("u {n}"),
                Scalar::Signed(n) => format!("i {n}"),
                Scalar::Float(x) => format!("f {x}"),
                Scalar::Bool(b) => format!("b {b}"),
                Scalar::Other => "other".into(),
            };
            assert_eq!(show(&fast), show(&slow), "{v}");
        }
        assert!(matches!(
            scalar(r#""plain""#),
            Ok(Scalar::Str(Cow::Borrowed("plain")))
        ));
    }
}
