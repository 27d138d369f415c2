//! Tolerant serde pieces for decoding CRM JSON straight into typed structs: PHP-style booleans,
//! ids as numbers or numeric strings, text that may be a number, objects that may be `null` or
//! `[]`, and lists whose items stay raw JSON text. Each one accepts exactly what the
//! `Value`-walking helpers it replaced accepted (`text`, `flag`, the id reader, `get` on a
//! non-object), and turns anything else into "absent" instead of failing the whole page.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Visitor methods that ignore a scalar and answer `$value`.
macro_rules! scalars_give {
    ($value:expr) => {
        fn visit_bool<E: Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// Visitor method that skips over an array and answers `$value`.
macro_rules! seqs_give {
    ($value:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

/// Visitor method that skips over an object and answers `$value`.
macro_rules! maps_give {
    ($value:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

/// Any JSON value reduced to the scalar the field helpers look at; arrays and objects are
/// skipped and become `Other`. Shared with the skimmer in `scan.rs`, which builds the same
/// scalars without serde so both paths apply one rule.
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Other,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Signed(v))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Unsigned(v))
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: Error>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_unit<E: Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E: Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            seqs_give!(Scalar::Other);
            maps_give!(Scalar::Other);
        }
        d.deserialize_any(V)
    }
}

impl Scalar<'_> {
    /// Text: a non-empty string, or a number written out as JSON writes it; else `None`.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Scalar::Str(s) if !s.is_empty() => Some(s.into_owned()),
            Scalar::Unsigned(n) => Some(n.to_string()),
            Scalar::Signed(n) => Some(n.to_string()),
            Scalar::Float(x) => serde_json::Number::from_f64(x).map(|n| n.to_string()),
            _ => None,
        }
    }

    /// A boolean in the shapes PHP servers send (see [`flag`]).
    pub(crate) fn into_flag(self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(b),
            Scalar::Unsigned(n) => Some(n != 0),
            Scalar::Signed(n) => Some(n != 0),
            Scalar::Float(x) => Some(x != 0.0),
            Scalar::Str(s) => {
                let s = s.trim();
                let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
                if is(&["1", "true", "yes", "on"]) {
                    Some(true)
                } else if is(&["0", "false", "no", "off", ""]) {
                    Some(false)
                } else {
                    None
                }
            }
            Scalar::Other => None,
        }
    }

    /// An id or count (see [`id`]).
    pub(crate) fn into_id(self) -> Option<u64> {
        match self {
            Scalar::Unsigned(n) => Some(n),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Text: a non-empty string, or a number written out as JSON writes it; else `None`.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Scalar::deserialize(d).map(Scalar::into_text)
}

/// A boolean in the shapes PHP servers send: `true`, `1`, `"1"`, `"true"`, `"yes"`, `"on"` (and
/// their negatives, `""` being false); `None` for null or anything else.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Scalar::deserialize(d).map(Scalar::into_flag)
}

/// An id or count: a non-negative integer, or a string holding one (`8` or `"8"`).
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Scalar::deserialize(d).map(Scalar::into_id)
}

/// True for any string (even empty), false for anything else (`links.next` may be `null`).
pub(crate) fn is_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(matches!(Scalar::deserialize(d)?, Scalar::Str(_)))
}

/// True when the key is present at all, whatever its value (`null` included).
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// `Some` whenever the key is present, so `null` and absence can be told apart.
pub(crate) fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `T` when the JSON is an object; `None` for `null`, `[]`, scalars (the old `get` on a
/// non-object). Also stops serde's derive from reading a struct out of an array.
#[derive(Debug, PartialEq)]
pub(crate) struct Obj<T>(pub Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_unit<E: Error>(self) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            scalars_give!(Obj(None));
            seqs_give!(Obj(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An array of anything, kept; anything else reads as an empty list.
#[derive(Debug, PartialEq)]
pub(crate) struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(List(out))
            }
            fn visit_unit<E: Error>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            scalars_give!(List(Vec::new()));
            maps_give!(List(Vec::new()));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A page's items, each kept as its JSON text (borrowed from the body) to be decoded one by one.
#[derive(Default)]
pub(crate) enum RawList<'a> {
    /// Missing or `null`.
    #[default]
    Absent,
    Items(Vec<&'a RawValue>),
    /// An object, string, number or boolean where an array belongs.
    NotArray,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawList<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    out.push(item);
                }
                Ok(RawList::Items(out))
            }
            fn visit_unit<E: Error>(self) -> Result<RawList<'de>, E> {
                Ok(RawList::Absent)
            }
            scalars_give!(RawList::NotArray);
            maps_give!(RawList::NotArray);
        }
        d.deserialize_any(V)
    }
}

/// Decodes a whole JSON document into `T` when it is an object; `Ok(None)` when it is valid JSON
/// of another kind; `Err` when it is not JSON (or repeats a key `T` reads).
pub(crate) fn object<'a, T: Deserialize<'a>>(
    json: &'a [u8],
) -> Result<Option<T>, serde_json::Error> {
    from_body::<Obj<T>>(json).map(|o| o.0)
}

/// [`object`] for text already known to be UTF-8 (a captured user).
pub(crate) fn object_str<'a, T: Deserialize<'a>>(
    json: &'a str,
) -> Result<Option<T>, serde_json::Error> {
    serde_json::from_str::<Obj<T>>(json).map(|o| o.0)
}

/// Decodes a body as `T`. The UTF-8 check is done once for the whole body, up front: reading from
/// `&str` spares serde_json validating every key and string again (a tenth of a page's decode).
pub(crate) fn from_body<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(json).map_err(<serde_json::Error as Error>::custom)?;
    serde_json::from_str(text)
}

/// Whether a captured value is a JSON object (captured text starts at the value's first byte).
pub(crate) fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "text")]
        t: Option<String>,
        #[serde(deserialize_with = "flag")]
        f: Option<bool>,
        #[serde(deserialize_with = "id")]
        n: Option<u64>,
        #[serde(deserialize_with = "is_string")]
        s: bool,
        #[serde(deserialize_with = "present")]
        p: bool,
        #[serde(deserialize_with = "some")]
        o: Option<Obj<Inner>>,
        l: List<Obj<Inner>>,
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Inner {
        #[serde(deserialize_with = "text")]
        a: Option<String>,
    }

    fn probe(json: &str) -> Probe {
        object::<Probe>(json.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn php_booleans() {
        let f = |v: &str| probe(&format!(r#"{{"f":{v}}}"#)).f;
        assert_eq!(f(r#""1""#), Some(true));
        assert_eq!(f(r#""0""#), Some(false));
        assert_eq!(f("true"), Some(true));
        assert_eq!(f("false"), Some(false));
        assert_eq!(f("null"), None);
        assert_eq!(f("1"), Some(true));
        assert_eq!(f("0"), Some(false));
        assert_eq!(f("-2"), Some(true));
        assert_eq!(f("0.0"), Some(false));
        assert_eq!(f(r#"" TRUE ""#), Some(true));
        assert_eq!(f(r#""off""#), Some(false));
        assert_eq!(f(r#""""#), Some(false));
        assert_eq!(f(r#""weird""#), None);
        assert_eq!(f(r#"{"x":"1"}"#), None);
        assert_eq!(f(r#"["1"]"#), None);
        assert_eq!(probe("{}").f, None);
    }

    #[test]
    fn ids_and_counts_as_numbers_or_strings() {
        let n = |v: &str| probe(&format!(r#"{{"n":{v}}}"#)).n;
        assert_eq!(n("8"), Some(8));
        assert_eq!(n(r#""8""#), Some(8));
        assert_eq!(n(r#"" 8 ""#), Some(8));
        assert_eq!(n(r#""\u0038""#), Some(8));
        assert_eq!(n("-8"), None);
        assert_eq!(n("8.0"), None);
        assert_eq!(n(r#""8x""#), None);
        assert_eq!(n(r#""""#), None);
        assert_eq!(n("null"), None);
        assert_eq!(n("true"), None);
        assert_eq!(n("[8]"), None);
        assert_eq!(n("18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn text_tolerates_numbers_and_escapes() {
        let t = |v: &str| probe(&format!(r#"{{"t":{v}}}"#)).t;
        assert_eq!(
            t(r#""America\/Chicago""#).as_deref(),
            Some("America/Chicago")
        );
        assert_eq!(t(r#""\u00c9tats""#).as_deref(), Some("États"));
        assert_eq!(t(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(t(r#""""#), None);
        assert_eq!(t("12").as_deref(), Some("12"));
        assert_eq!(t("-3").as_deref(), Some("-3"));
        assert_eq!(t("1.5").as_deref(), Some("1.5"));
        assert_eq!(t("true"), None);
        assert_eq!(t("null"), None);
        assert_eq!(t(r#"{"a":"b"}"#), None);
        assert_eq!(t(r#"["a"]"#), None);
    }

    #[test]
    fn objects_lists_and_presence() {
        let p = probe(r#"{"s":"","p":null,"o":null,"l":[{"a":"x"},[],7,{"a":2}],"zz":{"k":[1]}}"#);
        assert!(p.s && p.p);
        assert_eq!(p.o, Some(Obj(None)));
        assert_eq!(
            p.l.0,
            [
                Obj(Some(Inner {
                    a: Some("x".into())
                })),
                Obj(None),
                Obj(None),
                Obj(Some(Inner {
                    a: Some("2".into())
                }))
            ]
        );
        let p = probe(r#"{"s":null,"o":{"a":"y"},"l":{"a":"x"}}"#);
        assert!(!p.s && !p.p);
        assert_eq!(
            p.o,
            Some(Obj(Some(Inner {
                a: Some("y".into())
            })))
        );
        assert!(p.l.0.is_empty());
        assert_eq!(probe("{}").o, None);
        // An array must not be read as a struct by position.
        assert!(object::<Inner>(br#"["x"]"#).unwrap().is_none());
        assert!(object::<Inner>(b"null").unwrap().is_none());
        assert!(object::<Inner>(b"{").is_err());
        assert!(object::<Inner>(b"{} x").is_err());
        // Invalid UTF-8 fails even inside a value nothing reads, as a full parse did.
        assert!(object::<Inner>(b"{\"a\":\"\xff\"}").is_err());
        assert!(object::<Inner>(b"{\"zz\":\"\xff\"}").is_err());
        assert_eq!(
            object_str::<Inner>(r#"{"a":"\u00e9"}"#)
                .unwrap()
                .unwrap()
                .a
                .as_deref(),
            Some("é")
        );
    }

    #[test]
    fn raw_lists_keep_item_text() {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Page<'a> {
            #[serde(borrow)]
            items: RawList<'a>,
        }
        let body = br#"{"items":[ {"id":1,"u":"a\/b"} , [2], "x" ]}"#;
        let page = object::<Page>(body).unwrap().unwrap();
        let RawList::Items(items) = page.items else {
            panic!("not items")
        };
        let texts: Vec<&str> = items.iter().map(|r| r.get()).collect();
        assert_eq!(texts, [r#"{"id":1,"u":"a\/b"}"#, "[2]", r#""x""#]);
        assert!(is_object(items[0]) && !is_object(items[1]));
        let kind = |b: &[u8]| match object::<Page>(b).unwrap().unwrap().items {
            RawList::Absent => "absent",
            RawList::Items(_) => "items",
            RawList::NotArray => "not array",
        };
        assert_eq!(kind(b"{}"), "absent");
        assert_eq!(kind(br#"{"items":null}"#), "absent");
        assert_eq!(kind(br#"{"items":[]}"#), "items");
        assert_eq!(kind(br#"{"items":{}}"#), "not array");
        assert_eq!(kind(br#"{"items":"[]"}"#), "not array");
    }
}
