//! Small maps and sets keyed by connection id.
//!
//! The app keeps a handful of entries per connection (its client, status, secret, last list
//! query); a linear scan over so few is as fast as hashing, and a `HashMap` per value type put
//! hashbrown and SipHash code for each into the first-visit bundle (3.5 KB of it gzipped).

/// A map from connection id to `V`, in insertion order.
#[derive(Clone, Debug)]
pub struct Keyed<V>(Vec<(String, V)>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<V> Keyed<V> {
    fn position(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| k == key)
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.position(&key) {
            Some(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Sets `key` to `value` unless it has one already.
    pub fn insert_if_absent(&mut self, key: String, value: V) {
        if !self.contains_key(&key) {
            self.0.push((key, value));
        }
    }

    /// The value of `key`, set to its default first when it has none.
    pub fn entry_or_default(&mut self, key: &str) -> &mut V
    where
        V: Default,
    {
        let at = match self.position(key) {
            Some(at) => at,
            None => {
                self.0.push((key.to_string(), V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.position(key).map(|at| self.0.remove(at).1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for Keyed<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(pairs: I) -> Self {
        let mut out = Keyed::default();
        for (k, v) in pairs {
            out.insert(k, v);
        }
        out
    }
}

impl<V> IntoIterator for Keyed<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A set of connection ids.
#[derive(Clone, Debug, Default)]
pub struct KeySet(Keyed<()>);

impl KeySet {
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Adds `key`; false when it was there already.
    pub fn insert(&mut self, key: String) -> bool {
        self.0.insert(key, ()).is_none()
    }

    /// Takes `key` out; false when it was not there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_one_value() {
        let mut m: Keyed<u32> = [
            ("a".to_string(), 1),
            ("b".to_string(), 2),
            ("a".to_string(), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(m.get("a"), Some(&3));
        assert_eq!(m.insert("b".into(), 4), Some(2));
        m.insert_if_absent("b".into(), 9);
        m.insert_if_absent("c".into(), 5);
        assert_eq!((m.get("b"), m.get("c")), (Some(&4), Some(&5)));
        *m.entry_or_default("d") += 7;
        *m.entry_or_default("d") += 1;
        assert_eq!(m.get("d"), Some(&8));
        assert_eq!(m.remove("a"), Some(3));
        assert!(!m.contains_key("a") && m.remove("a").is_none());
        let pairs: Vec<(String, u32)> = m.into_iter().collect();
        assert_eq!(pairs, [("b".into(), 4), ("c".into(), 5), ("d".into(), 8)]);

        let mut s = KeySet::default();
        assert!(s.insert("x".into()) && !s.insert("x".into()));
        assert!(s.contains("x") && !s.contains("y"));
        assert!(s.remove("x") && !s.remove("x") && !s.contains("x"));
    }
}
