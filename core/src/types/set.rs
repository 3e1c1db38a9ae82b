//! Sets. A set of integers stays a sorted vector (Redis's intset: same
//! `OBJECT ENCODING`, members listed in ascending order) until a non-integer
//! member arrives or it grows past `set-max-intset-entries`; then it becomes a
//! hash set, and stays one.

use crate::bytestring::ByteString;
use crate::numeric::parse_i64;
use hashbrown::HashSet;

/// Most members a set keeps in its integer form (`set-max-intset-entries`).
pub const MAX_INTSET_ENTRIES: usize = 512;

/// A set value.
#[derive(Clone, Debug)]
pub enum SetValue {
    /// Integer members, sorted.
    Ints(Vec<i64>),
    /// Any members.
    Table(HashSet<ByteString, foldhash::fast::RandomState>),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(Vec::new())
    }
}

impl SetValue {
    /// A set for members like `first`: integer form when it is an integer.
    pub fn for_member(first: &[u8]) -> Self {
        if parse_i64(first).is_some() {
            SetValue::Ints(Vec::new())
        } else {
            SetValue::Table(HashSet::default())
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len(),
            SetValue::Table(s) => s.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `intset` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }

    /// True if `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => parse_i64(m).is_some_and(|n| v.binary_search(&n).is_ok()),
            SetValue::Table(s) => s.contains(m),
        }
    }

    /// Adds `m`; true if it was not a member.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if let SetValue::Ints(v) = self {
            match parse_i64(m) {
                Some(n) => match v.binary_search(&n) {
                    Ok(_) => return false,
                    Err(i) if v.len() < MAX_INTSET_ENTRIES => {
                        v.insert(i, n);
                        return true;
                    }
                    Err(_) => self.convert(),
                },
                None => self.convert(),
            }
        }
        match self {
            SetValue::Table(s) => s.insert(ByteString::from_slice(m)),
            SetValue::Ints(_) => unreachable!("converted above"),
        }
    }

    fn convert(&mut self) {
        if let SetValue::Ints(v) = self {
            let mut s = HashSet::with_capacity_and_hasher(v.len() + 1, Default::default());
            let mut buf = itoa::Buffer::new();
            s.extend(v.iter().map(|n| ByteString::from_slice(buf.format(*n).as_bytes())));
            *self = SetValue::Table(s);
        }
    }

    /// Removes `m`; true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => match parse_i64(m).map(|n| v.binary_search(&n)) {
                Some(Ok(i)) => {
                    v.remove(i);
                    true
                }
                _ => false,
            },
            SetValue::Table(s) => s.remove(m),
        }
    }

    /// The members, as byte strings, in the set's order (ascending for integers).
    pub fn members(&self) -> Vec<Vec<u8>> {
        match self {
            SetValue::Ints(v) => {
                let mut buf = itoa::Buffer::new();
                v.iter().map(|n| buf.format(*n).as_bytes().to_vec()).collect()
            }
            SetValue::Table(s) => s.iter().map(|m| m.to_vec()).collect(),
        }
    }

    /// The member at position `i` of [`SetValue::members`] order.
    pub fn nth(&self, i: usize) -> Option<Vec<u8>> {
        match self {
            SetValue::Ints(v) => v.get(i).map(|n| n.to_string().into_bytes()),
            SetValue::Table(s) => s.iter().nth(i).map(|m| m.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_sorted_until_a_string_arrives() {
        let mut s = SetValue::for_member(b"3");
        for m in ["3", "1", "2", "1"] {
            s.insert(m.as_bytes());
        }
        assert_eq!(s.members(), vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(s.encoding(), "intset");
        s.insert(b"x");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"2") && s.contains(b"x") && !s.contains(b"02"));
    }

    #[test]
    fn intset_converts_past_its_limit() {
        let mut s = SetValue::default();
        for i in 0..=MAX_INTSET_ENTRIES {
            s.insert(i.to_string().as_bytes());
        }
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), MAX_INTSET_ENTRIES + 1);
    }
}
