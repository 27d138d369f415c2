//! A user's own JSON as the CRM sent it: kept as text when a page is decoded and parsed into a
//! [`Value`] only when something reads it (the raw view, a provider-specific column), because
//! building a `Value` tree for every user of a page cost far more than the rest of the decode.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// JSON text plus its [`Value`], parsed on first use. Reads go through `Deref<Target = Value>`
/// (`user.raw.get("roles")`, `&*user.raw`), so it stands in for the `Value` it replaced.
pub struct RawJson {
    /// The text this value is a span of: its own copy, or a whole page body that the page's users
    /// share (one copy and one allocation per page instead of one per user; the body then lives
    /// as long as any of them). Every constructor takes text serde_json accepts, or a span of a
    /// body checked as strictly, so `text[span]` is always exactly one JSON value.
    text: Arc<str>,
    span: Range<usize>,
    /// Shared by clones: a list keeps its users and hands out copies (the Capsule cache, each
    /// table row's own copy), and a copy must neither parse again nor deep-copy the tree.
    parsed: Arc<OnceLock<Value>>,
}

impl RawJson {
    /// Keeps a copy of already-validated JSON text (what the decoders hold for each user).
    pub fn from_raw(raw: &RawValue) -> RawJson {
        RawJson::from_valid(raw.get())
    }

    /// Keeps a copy of `text`, which the caller has seen serde_json accept as exactly one JSON
    /// value with no surrounding whitespace.
    pub(crate) fn from_valid(text: &str) -> RawJson {
        RawJson::shared(&Arc::from(text), 0..text.len())
    }

    /// The value at `span` of `page`, sharing the page's text rather than copying it. The caller
    /// has checked that span as one JSON value with no surrounding whitespace.
    pub(crate) fn shared(page: &Arc<str>, span: Range<usize>) -> RawJson {
        RawJson {
            text: Arc::clone(page),
            span,
            parsed: Arc::default(),
        }
    }

    /// Validates `text` as one JSON value and keeps it; for tests and callers holding text.
    pub fn from_text(text: &str) -> Result<RawJson, serde_json::Error> {
        RawValue::from_string(text.trim().to_string()).map(RawJson::from)
    }

    /// The JSON text, exactly as received (no parse).
    pub fn text(&self) -> &str {
        // The span is checked when the value is made; `null` is never seen in practice.
        self.text.get(self.span.clone()).unwrap_or("null")
    }

    /// The text as a `RawValue`, to decode it again into a typed struct. This borrows it through
    /// serde_json, which scans the text once more; the text was validated when it was captured, so
    /// a failure cannot happen in practice, and if it ever did this would read as `null`.
    pub fn as_raw_value(&self) -> &RawValue {
        serde_json::from_str(self.text()).unwrap_or(RawValue::NULL)
    }

    /// The parsed value. The text was validated when it was captured, so a failure cannot happen
    /// in practice; if it ever did, the value reads as `null` rather than panicking.
    pub fn value(&self) -> &Value {
        self.parsed
            .get_or_init(|| serde_json::from_str(self.text()).unwrap_or(Value::Null))
    }

    /// Whether the text has been parsed yet (lets tests check the parse is lazy).
    pub fn is_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }
}

impl Deref for RawJson {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(text: Box<RawValue>) -> RawJson {
        RawJson::from_valid(text.get())
    }
}

impl From<&RawValue> for RawJson {
    fn from(raw: &RawValue) -> RawJson {
        RawJson::from_raw(raw)
    }
}

impl From<Value> for RawJson {
    /// Serialises the value once and keeps it as the already-parsed form.
    fn from(value: Value) -> RawJson {
        // Serialising a `Value` cannot fail (its keys are strings, its numbers finite).
        let text = serde_json::to_string(&value).unwrap_or_else(|_| "null".to_string());
        RawJson {
            span: 0..text.len(),
            text: Arc::from(text),
            parsed: Arc::new(OnceLock::from(value)),
        }
    }
}

impl Default for RawJson {
    /// `null`, like `Value::default()`.
    fn default() -> RawJson {
        RawJson::from_raw(RawValue::NULL)
    }
}

impl Clone for RawJson {
    fn clone(&self) -> RawJson {
        RawJson {
            text: Arc::clone(&self.text),
            span: self.span.clone(),
            parsed: Arc::clone(&self.parsed),
        }
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawJson").field(&self.text()).finish()
    }
}

impl PartialEq for RawJson {
    /// Equal texts are equal without parsing; different texts (other spacing, `\/` escapes, key
    /// order after a round trip) fall back to comparing the parsed values.
    fn eq(&self, other: &RawJson) -> bool {
        self.text() == other.text() || self.value() == other.value()
    }
}

impl PartialEq<Value> for RawJson {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl Serialize for RawJson {
    /// As the JSON value itself, in any serde format (pretty printers indent it too).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    /// From any JSON value, in any self-describing serde format.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawJson, D::Error> {
        Value::deserialize(deserializer).map(RawJson::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_lazily_and_once() {
        let raw = RawJson::from_text(r#" {"a":{"b":[1,"x"]},"u":"\/p"} "#).unwrap();
        assert!(!raw.is_parsed());
        assert_eq!(raw.text(), r#"{"a":{"b":[1,"x"]},"u":"\/p"}"#);
        assert!(!raw.is_parsed());
        assert_eq!(raw["a"]["b"][1], "x");
        assert!(raw.is_parsed());
        assert_eq!(raw.get("u").and_then(Value::as_str), Some("/p"));
        let copy = raw.clone();
        assert!(copy.is_parsed());
        assert!(
            std::ptr::eq(copy.value(), raw.value()),
            "a copy shares the parsed tree"
        );
        // A copy made before the first read shares the parse that read makes.
        let early = RawJson::from_text(r#"{"k":1}"#).unwrap();
        let copy = early.clone();
        assert_eq!(copy["k"], 1);
        assert!(early.is_parsed());
        assert!(RawJson::from_text("{").is_err());
        assert!(RawJson::from_text("1 2").is_err());
    }

    #[test]
    fn equality_by_text_then_value() {
        let a = RawJson::from_text(r#"{"a":1,"b":"\/"}"#).unwrap();
        let b = RawJson::from_text(r#"{"a":1,"b":"\/"}"#).unwrap();
        assert_eq!(a, b);
        assert!(!a.is_parsed() && !b.is_parsed());
        let reordered = RawJson::from_text(r#"{ "b" : "/", "a" : 1 }"#).unwrap();
        assert_eq!(a, reordered);
        assert_ne!(a, RawJson::from_text(r#"{"a":2,"b":"/"}"#).unwrap());
        assert_eq!(a, json!({"a":1,"b":"/"}));
        assert_eq!(RawJson::default().text(), "null");
        assert_eq!(*RawJson::default(), Value::Null);
        assert_eq!(RawJson::from(json!({"k":[true]})).text(), r#"{"k":[true]}"#);
        let boxed = RawValue::from_string("[1]".into()).unwrap();
        assert_eq!(RawJson::from(boxed.as_ref()), RawJson::from(json!([1])));
        assert_eq!(format!("{:?}", RawJson::from(json!(1))), r#"RawJson("1")"#);
    }

    #[test]
    fn spans_of_a_shared_page_read_as_their_own_text() {
        let page: Arc<str> = Arc::from(r#"{"items":[{"id":1,"tz":"a\/b"}, {"id":2}]}"#);
        let first = RawJson::shared(&page, 10..30);
        let second = RawJson::shared(&page, 32..40);
        assert_eq!(first.text(), r#"{"id":1,"tz":"a\/b"}"#);
        assert_eq!(second.text(), r#"{"id":2}"#);
        assert_eq!(first["tz"], "a/b");
        assert_eq!(second, json!({"id":2}));
        assert_eq!(
            first,
            RawJson::from_text(r#"{"id":1,"tz":"a\/b"}"#).unwrap()
        );
        assert_eq!(format!("{second:?}"), r#"RawJson("{\"id\":2}")"#);
        assert_eq!(
            first.as_raw_value().get(),
            first.text(),
            "borrowed again through serde_json"
        );
        // The users share the page: one allocation, kept while any of them lives.
        let copy = first.clone();
        assert_eq!(Arc::strong_count(&page), 4);
        drop((first, second));
        assert_eq!(copy.text(), r#"{"id":1,"tz":"a\/b"}"#);
    }

    #[test]
    fn serde_round_trip_is_the_value_itself() {
        let raw = RawJson::from_text(r#"{"id":5,"tz":"America\/Chicago","n":null}"#).unwrap();
        let text = serde_json::to_string(&raw).unwrap();
        assert!(!text.contains('\\'), "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"id":5,"n":null,"tz":"America/Chicago"})
        );
        let back: RawJson = serde_json::from_str(&text).unwrap();
        assert_eq!(back, raw);
        assert_eq!(back.text(), text);
        let via_value: RawJson = serde_json::from_value(json!({"x":[1,2]})).unwrap();
        assert_eq!(via_value, json!({"x":[1,2]}));
        assert_eq!(
            serde_json::to_string_pretty(&RawJson::from(json!({"a":1}))).unwrap(),
            "{\n  \"a\": 1\n}"
        );
    }
}
