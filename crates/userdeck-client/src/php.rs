//! URL and form encoding the way the CRMs expect it: PHP's `urlencode`/`http_build_query` with
//! bracketed keys (`data[primaryEmail][emailAddress]=…`) for Zurmo, and plain
//! `application/x-www-form-urlencoded` pairs for OAuth and query strings.

use serde_json::Value;

/// Percent-encodes like PHP's `urlencode`: letters, digits and `-_.` stay, space becomes `+`,
/// every other byte becomes `%XX` (so `[`/`]` become `%5B`/`%5D`, as `http_build_query` emits).
pub fn urlencode(input: &str) -> String {
    encode(
        input,
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'),
        true,
    )
}

/// Percent-encodes a query-string component per RFC 3986 (unreserved characters kept, space `%20`).
pub fn encode_component(input: &str) -> String {
    encode(
        input,
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'),
        false,
    )
}

fn encode(input: &str, keep: impl Fn(u8) -> bool, space_as_plus: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() + 8);
    for &b in input.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as space) of a form-encoded component; bad escapes stay literal.
pub fn urldecode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `a=1&b=2` (a leading `?` is skipped) into decoded pairs.
pub fn parse_pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (urldecode(k), urldecode(v)),
            None => (urldecode(p), String::new()),
        })
        .collect()
}

/// Encodes flat pairs as `application/x-www-form-urlencoded`.
pub fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&urlencode(k.as_ref()));
        out.push('=');
        out.push_str(&urlencode(v.as_ref()));
    }
    out
}

/// PHP's `http_build_query` over a JSON tree: objects and arrays become bracketed keys, `true`/
/// `false` become `1`/`0`, `null` is skipped (as PHP skips it), keys and values are `urlencode`d.
pub fn http_build_query(value: &Value) -> String {
    let mut pairs = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            flatten(k.clone(), v, &mut pairs);
        }
    }
    form_encode(&pairs)
}

/// The flattened `(bracketed key, value)` pairs `http_build_query` would encode.
pub fn flatten_pairs(value: &Value) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            flatten(k.clone(), v, &mut pairs);
        }
    }
    pairs
}

fn flatten(key: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((key, if *b { "1" } else { "0" }.to_string())),
        Value::Number(n) => out.push((key, n.to_string())),
        Value::String(s) => out.push((key, s.clone())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(format!("{key}[{i}]"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten(format!("{key}[{k}]"), v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urlencode_matches_php() {
        assert_eq!(urlencode("a b+c/d~é"), "a+b%2Bc%2Fd%7E%C3%A9");
        assert_eq!(urlencode("data[firstName]"), "data%5BfirstName%5D");
        assert_eq!(encode_component("a b~"), "a%20b~");
    }

    #[test]
    fn http_build_query_brackets_and_scalars() {
        let v = json!({"data": {"firstName": "John", "primaryEmail": {"emailAddress": "a@x.com"},
            "manager": {"id": 4}, "isActive": true, "locale": null, "list": ["x", "y"]}});
        let q = http_build_query(&v);
        let pairs = parse_pairs(&q);
        assert!(pairs.contains(&("data[firstName]".into(), "John".into())));
        assert!(pairs.contains(&("data[primaryEmail][emailAddress]".into(), "a@x.com".into())));
        assert!(pairs.contains(&("data[manager][id]".into(), "4".into())));
        assert!(pairs.contains(&("data[isActive]".into(), "1".into())));
        assert!(pairs.contains(&("data[list][1]".into(), "y".into())));
        assert!(!q.contains("locale"));
        assert!(q.contains("data%5BprimaryEmail%5D%5BemailAddress%5D=a%40x.com"));
    }

    #[test]
    fn urldecode_tolerates_bad_escapes() {
        assert_eq!(urldecode("%zz%4"), "%zz%4");
        assert_eq!(urldecode("a+b%20c"), "a b c");
        assert_eq!(urldecode("%C3%A9"), "é");
    }
}
