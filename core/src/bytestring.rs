//! `ByteString`: the byte string every key and string value is stored as.
//!
//! Most keys and values are short (`user:1000`, a counter, a session token), so
//! strings up to [`INLINE_CAP`] bytes live inside the 24-byte value itself and cost
//! no allocation; longer ones are one boxed slice. Hash and equality follow `[u8]`,
//! so maps keyed by `ByteString` are looked up with a borrowed `&[u8]`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Longest string stored inline, without a heap allocation.
pub const INLINE_CAP: usize = 22;

/// A byte string, inline when short (see the module docs).
#[derive(Clone)]
pub enum ByteString {
    /// Up to [`INLINE_CAP`] bytes, stored in place.
    Inline {
        /// Number of bytes used in `buf`.
        len: u8,
        /// The bytes; only `buf[..len]` is meaningful.
        buf: [u8; INLINE_CAP],
    },
    /// Longer strings.
    Heap(Box<[u8]>),
}

impl ByteString {
    /// The empty string.
    pub const EMPTY: ByteString = ByteString::Inline { len: 0, buf: [0; INLINE_CAP] };

    /// Copies `b` into a new string.
    #[inline]
    pub fn from_slice(b: &[u8]) -> Self {
        if b.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..b.len()].copy_from_slice(b);
            ByteString::Inline { len: b.len() as u8, buf }
        } else {
            ByteString::Heap(b.into())
        }
    }

    /// Takes ownership of `v`, inlining it when short.
    pub fn from_vec(v: Vec<u8>) -> Self {
        if v.len() <= INLINE_CAP {
            Self::from_slice(&v)
        } else {
            ByteString::Heap(v.into_boxed_slice())
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            ByteString::Inline { len, buf } => &buf[..*len as usize],
            ByteString::Heap(b) => b,
        }
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            ByteString::Inline { len, .. } => *len as usize,
            ByteString::Heap(b) => b.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated on the heap for this string (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            ByteString::Inline { .. } => 0,
            ByteString::Heap(b) => b.len(),
        }
    }

    /// Copies the bytes into a `Vec` for in-place editing (APPEND, SETRANGE).
    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }
}

impl Default for ByteString {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl std::ops::Deref for ByteString {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for ByteString {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for ByteString {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for ByteString {}

impl PartialOrd for ByteString {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByteString {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl Hash for ByteString {
    // Must hash exactly as `[u8]` does, so that `Borrow<[u8]>` lookups find entries.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for ByteString {
    fn from(b: &[u8]) -> Self {
        Self::from_slice(b)
    }
}
impl From<Vec<u8>> for ByteString {
    fn from(v: Vec<u8>) -> Self {
        Self::from_vec(v)
    }
}
impl From<&str> for ByteString {
    fn from(s: &str) -> Self {
        Self::from_slice(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_three_words() {
        assert_eq!(std::mem::size_of::<ByteString>(), 24);
    }

    #[test]
    fn inline_and_heap_round_trip() {
        for n in [0usize, 1, INLINE_CAP, INLINE_CAP + 1, 1000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let s = ByteString::from_slice(&v);
            assert_eq!(s.as_slice(), &v[..]);
            assert_eq!(s.len(), n);
            assert_eq!(matches!(s, ByteString::Inline { .. }), n <= INLINE_CAP);
            assert_eq!(ByteString::from_vec(v.clone()), s);
        }
    }
}
