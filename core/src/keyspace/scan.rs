//! SCAN cursors that stay correct while keys come and go.
//!
//! A cursor names a slot (low 14 bits) and a position inside it (the high 50
//! bits): keys of a slot are visited in order of their hash, so a position is
//! "every key whose hash is at least this". Keys added or removed elsewhere never
//! shift that order, hence every key present for the whole scan is returned, and
//! none twice while it stays. Small slots are returned whole without sorting.

use super::{Data, Keyspace};
use crate::bytestring::ByteString;
use crate::slot::SLOTS;

/// A decoded SCAN cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanCursor {
    /// Slot to resume in.
    pub slot: usize,
    /// Resume at keys whose position (hash >> 14) is at least this.
    pub pos: u64,
}

impl ScanCursor {
    /// Splits the number a client sent back.
    pub fn decode(c: u64) -> Self {
        ScanCursor { slot: (c & 0x3FFF) as usize, pos: c >> 14 }
    }
    /// The number sent to the client.
    pub fn encode(self) -> u64 {
        (self.pos << 14) | self.slot as u64
    }
}

/// Picks up to `count` items with position `>= from`, in position order, keeping
/// items of equal position together. Returns them and the next position, if any
/// item is left.
pub fn take_ordered<T>(mut items: Vec<(u64, T)>, count: usize) -> (Vec<T>, Option<u64>) {
    if items.len() <= count {
        return (items.into_iter().map(|(_, t)| t).collect(), None);
    }
    items.sort_unstable_by_key(|(h, _)| *h);
    let mut end = count;
    let last = items[end - 1].0;
    while end < items.len() && items[end].0 == last {
        end += 1;
    }
    let next = items.get(end).map(|(h, _)| *h);
    items.truncate(end);
    (items.into_iter().map(|(_, t)| t).collect(), next)
}

impl Data<'_> {
    /// One SCAN step over `db`: returns the next cursor (0 when done) and the keys
    /// visited (expired keys skipped), with their type names.
    pub fn scan(&mut self, db: usize, cursor: u64, count: usize, now: u64) -> (u64, Vec<(ByteString, &'static str)>) {
        let mut cur = ScanCursor::decode(cursor);
        let mut out = Vec::new();
        if cur.slot >= SLOTS {
            return (0, out);
        }
        loop {
            let slot = cur.slot;
            let mut next_pos = None;
            if let Some(ks) = self.shard(slot) {
                next_pos = scan_slot(ks, db, slot, cur.pos, count.saturating_sub(out.len()).max(1), now, &mut out);
            }
            match next_pos {
                Some(pos) => return (ScanCursor { slot, pos }.encode(), out),
                None if slot + 1 == SLOTS => return (0, out),
                None => cur = ScanCursor { slot: slot + 1, pos: 0 },
            }
            if out.len() >= count {
                return (cur.encode(), out);
            }
        }
    }
}

fn scan_slot(
    ks: &Keyspace,
    db: usize,
    slot: usize,
    from: u64,
    budget: usize,
    now: u64,
    out: &mut Vec<(ByteString, &'static str)>,
) -> Option<u64> {
    let dict = ks.slot_dict(db, slot)?;
    let live = |k: &[u8]| dict.expire_of(k).is_none_or(|t| t > now);
    if from == 0 && dict.len() <= budget {
        out.extend(dict.iter().filter(|(k, _)| live(k)).map(|(k, v)| (k.clone(), v.type_name())));
        return None;
    }
    let items: Vec<(u64, (&ByteString, &'static str))> = dict
        .iter()
        .filter_map(|(k, v)| {
            let pos = ks.scan_hash(k) >> 14;
            (pos >= from).then_some((pos, (k, v.type_name())))
        })
        .collect();
    let (taken, next) = take_ordered(items, budget);
    out.extend(taken.into_iter().filter(|(k, _)| live(k)).map(|(k, t)| (k.clone(), t)));
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::key_slot;
    use crate::types::Value;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn put(ks: &mut Keyspace, k: &str) {
        ks.insert(0, key_slot(k.as_bytes()) as usize, k.as_bytes(), Value::Str("v".into()), false, 0);
    }

    fn full_scan(ks: &mut Keyspace, count: usize) -> Vec<String> {
        let mut parts = [&mut *ks];
        let mut data = Data::new(&mut parts);
        let mut cursor = 0;
        let mut seen = Vec::new();
        loop {
            let (next, keys) = data.scan(0, cursor, count, 0);
            seen.extend(keys.into_iter().map(|(k, _)| String::from_utf8(k.to_vec()).unwrap()));
            if next == 0 {
                return seen;
            }
            cursor = next;
        }
    }

    #[test]
    fn one_big_slot_is_scanned_in_steps() {
        let mut ks = Keyspace::whole(1, 7);
        for i in 0..1000 {
            put(&mut ks, &format!("{{tag}}:{i}"));
        }
        let seen = full_scan(&mut ks, 10);
        let set: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(set.len(), 1000);
        assert_eq!(seen.len(), 1000, "no key returned twice");
    }

    proptest! {
        /// Keys present for the whole scan are all returned, whatever is added or
        /// removed between steps.
        #[test]
        fn scan_completeness(
            stable in proptest::collection::btree_set("[a-z]{1,6}(\\{t\\})?", 0..200),
            churn in proptest::collection::vec(("[a-z]{1,6}", any::<bool>()), 0..200),
            count in 1usize..20,
        ) {
            let mut ks = Keyspace::whole(1, 42);
            for k in &stable { put(&mut ks, k); }
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            let mut churn = churn.into_iter();
            loop {
                let (next, keys) = {
                    let mut parts = [&mut ks];
                    let mut data = Data::new(&mut parts);
                    data.scan(0, cursor, count, 0)
                };
                seen.extend(keys.into_iter().map(|(k, _)| String::from_utf8(k.to_vec()).unwrap()));
                if let Some((k, add)) = churn.next() {
                    let k = format!("churn-{k}");
                    if add { put(&mut ks, &k) } else { ks.remove(0, key_slot(k.as_bytes()) as usize, k.as_bytes()); }
                }
                if next == 0 { break; }
                cursor = next;
            }
            for k in &stable {
                prop_assert!(seen.contains(k), "missed {}", k);
            }
        }
    }
}
