//! Hashes. Small hashes are a vector in insertion order (Redis's listpack: same
//! order for HGETALL, same `OBJECT ENCODING`); past the configured limits they
//! become a hash table, and stay one.

use crate::bytestring::ByteString;
use hashbrown::HashMap;

/// Most fields a hash keeps in its compact form (`hash-max-listpack-entries`).
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Longest field or value a hash keeps in its compact form (`hash-max-listpack-value`).
pub const MAX_LISTPACK_VALUE: usize = 64;

/// A hash value.
#[derive(Clone, Debug)]
pub enum HashValue {
    /// Compact form, insertion ordered.
    Small(Vec<(ByteString, ByteString)>),
    /// Hash table form.
    Table(HashMap<ByteString, ByteString, foldhash::fast::RandomState>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Small(Vec::new())
    }
}

impl HashValue {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashValue::Small(v) => v.len(),
            HashValue::Table(m) => m.len(),
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Small(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&ByteString> {
        match self {
            HashValue::Small(v) => v.iter().find(|(f, _)| f.as_slice() == field).map(|(_, val)| val),
            HashValue::Table(m) => m.get(field),
        }
    }

    /// Sets `field`; returns true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let HashValue::Small(v) = self {
            if field.len() > MAX_LISTPACK_VALUE || value.len() > MAX_LISTPACK_VALUE {
                self.convert();
            } else if let Some(slot) = v.iter_mut().find(|(f, _)| f.as_slice() == field) {
                slot.1 = ByteString::from_slice(value);
                return false;
            } else if v.len() < MAX_LISTPACK_ENTRIES {
                v.push((ByteString::from_slice(field), ByteString::from_slice(value)));
                return true;
            } else {
                self.convert();
            }
        }
        match self {
            HashValue::Table(m) => m.insert(ByteString::from_slice(field), ByteString::from_slice(value)).is_none(),
            HashValue::Small(_) => unreachable!("converted above"),
        }
    }

    fn convert(&mut self) {
        if let HashValue::Small(v) = self {
            let mut m = HashMap::with_capacity_and_hasher(v.len() + 1, Default::default());
            m.extend(v.drain(..));
            *self = HashValue::Table(m);
        }
    }

    /// Removes `field`; returns true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Small(v) => match v.iter().position(|(f, _)| f.as_slice() == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            HashValue::Table(m) => m.remove(field).is_some(),
        }
    }

    /// Iterates over (field, value) pairs: insertion order in the compact form.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&ByteString, &ByteString)> + '_> {
        match self {
            HashValue::Small(v) => Box::new(v.iter().map(|(f, v)| (f, v))),
            HashValue::Table(m) => Box::new(m.iter()),
        }
    }

    /// The pair at position `i` of the iteration order (for random picks).
    pub fn nth(&self, i: usize) -> Option<(&ByteString, &ByteString)> {
        match self {
            HashValue::Small(v) => v.get(i).map(|(f, v)| (f, v)),
            HashValue::Table(m) => m.iter().nth(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_past_limits_and_keeps_fields() {
        let mut h = HashValue::default();
        for i in 0..MAX_LISTPACK_ENTRIES {
            assert!(h.set(format!("f{i}").as_bytes(), b"v"));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"one-more", b"v"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), MAX_LISTPACK_ENTRIES + 1);
        assert_eq!(h.get(b"f7").map(|v| v.as_slice()), Some(&b"v"[..]));
        let mut h = HashValue::default();
        h.set(b"a", &[b'x'; 65]);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn small_form_keeps_insertion_order() {
        let mut h = HashValue::default();
        h.set(b"b", b"1");
        h.set(b"a", b"2");
        h.set(b"b", b"3");
        let order: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(order, vec![(b"b".to_vec(), b"3".to_vec()), (b"a".to_vec(), b"2".to_vec())]);
    }
}
