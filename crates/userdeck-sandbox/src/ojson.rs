//! An ordered JSON value for responses.
//!
//! The real servers emit object keys in a fixed order (Laravel's validation errors follow the rule
//! order, PHP arrays keep insertion order), and Zurmo's PHP `json_encode` escapes `/` and non-ASCII
//! text differently from serde_json. Responses are therefore built as `J` and encoded either way.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose objects keep their key order.
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Builds an ordered JSON object: `obj! { "id" => 1, "name" => "x" }`.
#[macro_export]
macro_rules! obj {
    ($($k:expr => $v:expr),* $(,)?) => {
        $crate::ojson::J::Obj(vec![$(($k.to_string(), $crate::ojson::J::from($v))),*])
    };
}

impl J {
    /// Looks a key up in an object (None for other values).
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Adds or replaces a key in an object, keeping its position if present.
    pub fn set(&mut self, key: &str, value: J) {
        if let J::Obj(pairs) = self {
            if let Some(slot) = pairs.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            } else {
                pairs.push((key.to_string(), value));
            }
        }
    }

    /// Standard JSON text (serde_json escaping).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
    }

    /// JSON text the way PHP's `json_encode` writes it: `\/` and `\uXXXX` escapes.
    pub fn to_php_json(&self) -> String {
        let mut out = String::new();
        write_php(self, &mut out);
        out
    }
}

fn write_php(value: &J, out: &mut String) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) => out.push_str(&i.to_string()),
        J::Str(s) => write_php_str(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_php(item, out);
            }
            out.push(']');
        }
        J::Obj(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_php_str(k, out);
                out.push(':');
                write_php(v, out);
            }
            out.push('}');
        }
    }
}

fn write_php_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => serializer.serialize_unit(),
            J::Bool(b) => serializer.serialize_bool(*b),
            J::Int(i) => serializer.serialize_i64(*i),
            J::Str(s) => serializer.serialize_str(s),
            J::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::Obj(pairs) => {
                let mut map = serializer.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::Str(s.to_string())
    }
}
impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(s)
    }
}
impl From<&String> for J {
    fn from(s: &String) -> J {
        J::Str(s.clone())
    }
}
impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}
impl From<i64> for J {
    fn from(i: i64) -> J {
        J::Int(i)
    }
}
impl From<i32> for J {
    fn from(i: i32) -> J {
        J::Int(i64::from(i))
    }
}
impl From<u32> for J {
    fn from(i: u32) -> J {
        J::Int(i64::from(i))
    }
}
impl From<u64> for J {
    fn from(i: u64) -> J {
        J::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<usize> for J {
    fn from(i: usize) -> J {
        J::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<Vec<J>> for J {
    fn from(items: Vec<J>) -> J {
        J::Arr(items)
    }
}
impl From<Vec<String>> for J {
    fn from(items: Vec<String>) -> J {
        J::Arr(items.into_iter().map(J::Str).collect())
    }
}
impl<T: Into<J>> From<Option<T>> for J {
    fn from(v: Option<T>) -> J {
        v.map_or(J::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn php_escaping_matches_json_encode() {
        let v = obj! { "tz" => "America/Chicago", "name" => "Zoë 田中 😀" };
        assert_eq!(
            v.to_php_json(),
            r#"{"tz":"America\/Chicago","name":"Zo\u00eb \u7530\u4e2d \ud83d\ude00"}"#
        );
        assert_eq!(
            v.to_json(),
            r#"{"tz":"America/Chicago","name":"Zoë 田中 😀"}"#
        );
    }
}
