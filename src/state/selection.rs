//! The users ticked on the users page, across its pages: a set of user ids.
//!
//! A sorted `Vec` rather than a `BTreeSet`: ticked by hand, a page at a time, a selection stays
//! small enough (thousands of ids at the very most) that shifting a `Vec` on insert costs
//! microseconds, and the B-tree's code was 1.9 KB of the first visit's gzipped bundle.

/// A set of user ids, in ascending order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection(Vec<u64>);

impl Selection {
    pub fn contains(&self, id: u64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// Adds `id`; false when it was already there.
    pub fn insert(&mut self, id: u64) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Takes `id` out; false when it was not there.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.0.binary_search(&id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids, ascending.
    pub fn ids(&self) -> &[u64] {
        &self.0
    }
}

impl<const N: usize> From<[u64; N]> for Selection {
    fn from(ids: [u64; N]) -> Self {
        ids.into_iter().collect()
    }
}

impl FromIterator<u64> for Selection {
    fn from_iter<I: IntoIterator<Item = u64>>(ids: I) -> Self {
        let mut out = Selection::default();
        for id in ids {
            out.insert(id);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_unique_and_ascending() {
        let mut s = Selection::from([5, 1, 5, 3]);
        assert_eq!(s.ids(), [1, 3, 5]);
        assert!(s.insert(2) && !s.insert(2));
        assert!(s.remove(5) && !s.remove(5));
        assert_eq!(s.ids(), [1, 2, 3]);
        assert!(s.contains(3) && !s.contains(4));
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty() && Selection::default().is_empty());
    }
}
