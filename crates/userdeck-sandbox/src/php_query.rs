//! PHP's `parse_str`: bracketed form keys (`data[primaryEmail][emailAddress]=…`) into a tree.
//!
//! Zurmo reads every request body and the `list/filter/{query}` path this way. PHP's limits are
//! kept (nesting depth 64, 1000 variables) so hostile input cannot blow the stack or memory.

use crate::urlcoding;

/// PHP's `max_input_nesting_level`.
const MAX_DEPTH: usize = 64;
/// PHP's `max_input_vars`.
const MAX_VARS: usize = 1000;

/// A parsed PHP request variable: a string or an ordered array.
#[derive(Clone, Debug, PartialEq)]
pub enum PhpValue {
    Str(String),
    Map(Vec<(String, PhpValue)>),
}

impl PhpValue {
    /// An empty PHP array.
    pub fn empty() -> PhpValue {
        PhpValue::Map(Vec::new())
    }

    /// The child under `key` when this is an array.
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        match self {
            PhpValue::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            PhpValue::Str(_) => None,
        }
    }

    /// Follows a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&PhpValue> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            PhpValue::Map(_) => None,
        }
    }

    /// The array entries, if this is an array.
    pub fn entries(&self) -> &[(String, PhpValue)] {
        match self {
            PhpValue::Map(entries) => entries,
            PhpValue::Str(_) => &[],
        }
    }

    /// PHP's `empty()`: "", "0" and empty arrays are empty.
    pub fn is_empty(&self) -> bool {
        match self {
            PhpValue::Str(s) => s.is_empty() || s == "0",
            PhpValue::Map(entries) => entries.is_empty(),
        }
    }

    fn slot(&mut self, key: Option<String>) -> &mut PhpValue {
        if !matches!(self, PhpValue::Map(_)) {
            *self = PhpValue::empty();
        }
        let PhpValue::Map(entries) = self else {
            unreachable!("just made a map")
        };
        let key = key.unwrap_or_else(|| {
            let next = entries
                .iter()
                .filter_map(|(k, _)| k.parse::<i64>().ok())
                .max()
                .map_or(0, |m| m.saturating_add(1));
            next.to_string()
        });
        let pos = match entries.iter().position(|(k, _)| *k == key) {
            Some(pos) => pos,
            None => {
                entries.push((key, PhpValue::Str(String::new())));
                entries.len() - 1
            }
        };
        &mut entries[pos].1
    }
}

/// Parses a query string or form body the way PHP fills `$_GET`/`$_POST`.
pub fn parse_str(input: &str) -> PhpValue {
    let mut root = PhpValue::empty();
    for (raw_key, value) in urlcoding::pairs(input).into_iter().take(MAX_VARS) {
        let Some(path) = split_key(&raw_key) else {
            continue;
        };
        let mut node = &mut root;
        for segment in path {
            node = node.slot(segment);
        }
        *node = PhpValue::Str(value);
    }
    root
}

/// `a[b][]` -> [Some("a"), Some("b"), None]; None when PHP would drop the variable.
fn split_key(key: &str) -> Option<Vec<Option<String>>> {
    let (base, mut rest) = match key.find('[') {
        Some(i) if i > 0 => (&key[..i], &key[i..]),
        Some(_) => return None,
        None => (key, ""),
    };
    if base.is_empty() {
        return None;
    }
    // PHP turns spaces and dots in the top-level name into underscores.
    let base: String = base
        .chars()
        .map(|c| if c == ' ' || c == '.' { '_' } else { c })
        .collect();
    let mut path = vec![Some(base)];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            // An unclosed first bracket becomes part of the name, as in PHP (`a[b` -> `a_b`).
            if let (1, Some(Some(name))) = (path.len(), path.first_mut()) {
                name.push('_');
                name.push_str(stripped);
            }
            break;
        };
        let inner = &stripped[..close];
        path.push(if inner.is_empty() {
            None
        } else {
            Some(inner.to_string())
        });
        rest = &stripped[close + 1..];
        if path.len() > MAX_DEPTH {
            return None;
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_brackets() {
        let v = parse_str(
            "data[firstName]=Zo%C3%AB&data[primaryEmail][emailAddress]=a%40x.com&data[manager][id]=4",
        );
        assert_eq!(
            v.path(&["data", "firstName"]).and_then(PhpValue::as_str),
            Some("Zoë")
        );
        assert_eq!(
            v.path(&["data", "primaryEmail", "emailAddress"])
                .and_then(PhpValue::as_str),
            Some("a@x.com")
        );
        assert_eq!(
            v.path(&["data", "manager", "id"])
                .and_then(PhpValue::as_str),
            Some("4")
        );
    }

    #[test]
    fn appends_and_overwrites() {
        let v = parse_str("a[]=x&a[]=y&a[5]=z&a[]=w&b=1&b=2");
        let a = v.get("a").unwrap();
        let keys: Vec<&str> = a.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["0", "1", "5", "6"]);
        assert_eq!(v.get("b").and_then(PhpValue::as_str), Some("2"));
    }

    #[test]
    fn random_input_never_panics_and_stays_bounded() {
        let alphabet = b"[]=&%+aZ09.\x20\xc3\xab";
        let mut rng = crate::seed::SplitMix64::new(9);
        for _ in 0..5_000 {
            let len = rng.below(80) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let parsed = parse_str(&text);
            assert!(parsed.entries().len() <= MAX_VARS);
        }
    }

    #[test]
    fn survives_hostile_input() {
        let deep = format!("a{}=1", "[x]".repeat(10_000));
        assert_eq!(parse_str(&deep), PhpValue::empty());
        assert_eq!(parse_str("[a]=1&=2&&"), PhpValue::empty());
        let v = parse_str("a=1&a[b]=2");
        assert_eq!(v.path(&["a", "b"]).and_then(PhpValue::as_str), Some("2"));
        let v = parse_str("a[b=1");
        assert_eq!(v.get("a_b").and_then(PhpValue::as_str), Some("1"));
    }
}
