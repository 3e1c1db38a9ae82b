//! Key slots: Redis Cluster's CRC16 (XMODEM) of the key, or of its `{hash tag}`,
//! modulo 16384.

/// Number of hash slots in the keyspace.
pub const SLOTS: usize = 16384;

/// The hash slot of `key`, as Redis Cluster computes it.
///
/// If the key contains `{` followed later by `}` with at least one byte between
/// them, only the bytes between the first `{` and the first `}` after it are hashed,
/// so `{user1000}.a` and `{user1000}.b` share a slot. `{}` and an unclosed `{` hash
/// the whole key.
#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) & 0x3FFF
}

/// The part of `key` that decides its slot: the hash tag if there is one, else the key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(close) = key[open + 1..].iter().position(|&b| b == b'}') {
            if close > 0 {
                return &key[open + 1..open + 1 + close];
            }
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16::State::<crc16::XMODEM>::calculate(b"123456789"), 0x31C3);
    }

    #[test]
    fn known_slots() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
        assert_eq!(key_slot(b"{user1000}.following"), 3443);
        assert_eq!(key_slot(b"{user1000}.followers"), 3443);
    }

    #[test]
    fn hash_tag_rules() {
        assert_eq!(hash_tag(b"{user1000}.a"), b"user1000");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{"), b"{");
        assert_eq!(hash_tag(b"abc{"), b"abc{");
        assert_eq!(hash_tag(b"}{x}"), b"x");
        assert_eq!(key_slot(b"{}"), key_slot(b"{}"));
        assert_ne!(key_slot(b"a{}"), key_slot(b""));
    }
}
