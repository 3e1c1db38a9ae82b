//! Streams: an append-only log of entries with increasing ids, and the
//! consumer groups that read it.
//!
//! Entries are kept in nodes of at most [`NODE_MAX_ENTRIES`] entries (or about
//! [`NODE_MAX_BYTES`] of listpack encoding), as Redis keeps them in listpacks
//! under a radix tree. The node boundaries are observable: approximate trimming
//! (`MAXLEN ~`) removes only whole nodes, and XDEL only marks an entry deleted
//! until its node empties. So the nodes here are cut where Redis cuts them,
//! sizing each node with the listpack encoding rules.

use crate::rdb::{lp_int_size as lp_int, lp_str_size as lp_str};
use std::collections::{BTreeMap, BTreeSet};

/// Entries per node before a new one starts (`stream-node-max-entries`).
pub const NODE_MAX_ENTRIES: usize = 100;
/// Encoded bytes per node before a new one starts (`stream-node-max-bytes`).
pub const NODE_MAX_BYTES: usize = 4096;

/// A stream entry id: milliseconds and a sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest id.
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    /// The next id, if any.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    /// The previous id, if any.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_sub(1).map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }

    /// `ms-seq`.
    pub fn to_text(self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }
}

/// Field-value pairs of one entry.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// One entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its id.
    pub id: StreamId,
    /// Its field-value pairs, in order.
    pub fields: Fields,
    deleted: bool,
}

/// A run of entries, as one Redis listpack node.
#[derive(Clone, Debug)]
struct Node {
    master_fields: Vec<Vec<u8>>,
    master_id: StreamId,
    entries: Vec<Entry>,
    live: usize,
    /// Listpack bytes of everything but the live and deleted counters.
    bytes: usize,
}

impl Node {
    fn new(id: StreamId, fields: &Fields) -> Node {
        let master_fields: Vec<Vec<u8>> = fields.iter().map(|(f, _)| f.clone()).collect();
        let bytes = 7 // header and end marker
            + lp_int(master_fields.len() as i64)
            + master_fields.iter().map(|f| lp_str(f)).sum::<usize>()
            + lp_int(0);
        Node { master_fields, master_id: id, entries: Vec::new(), live: 0, bytes }
    }

    fn total_bytes(&self) -> usize {
        self.bytes + lp_int(self.live as i64) + lp_int((self.entries.len() - self.live) as i64)
    }

    fn push(&mut self, id: StreamId, fields: Fields) {
        let same = fields.len() == self.master_fields.len()
            && fields.iter().zip(&self.master_fields).all(|((f, _), m)| f == m);
        let ms_diff = id.ms.wrapping_sub(self.master_id.ms) as i64;
        let seq_diff = id.seq.wrapping_sub(self.master_id.seq) as i64;
        let n = fields.len();
        let (body, lp_count) = if same {
            (fields.iter().map(|(_, v)| lp_str(v)).sum::<usize>(), n + 3)
        } else {
            (lp_int(n as i64) + fields.iter().map(|(f, v)| lp_str(f) + lp_str(v)).sum::<usize>(), 2 * n + 4)
        };
        self.bytes +=
            lp_int(if same { 2 } else { 0 }) + lp_int(ms_diff) + lp_int(seq_diff) + body + lp_int(lp_count as i64);
        self.entries.push(Entry { id, fields, deleted: false });
        self.live += 1;
    }

    fn last_id(&self) -> StreamId {
        self.entries.last().map_or(self.master_id, |e| e.id)
    }
}

/// One node as the RDB format stores it: the master entry's id and fields,
/// and every entry in it, deleted ones included.
pub(crate) struct NodeView<'a> {
    pub master_id: StreamId,
    pub master_fields: &'a [Vec<u8>],
    pub entries: &'a [Entry],
    pub live: usize,
}

impl Entry {
    /// True for an entry XDEL marked deleted (still in its node).
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted
    }
}

/// An entry delivered to a group and not yet acknowledged.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The consumer it was delivered to.
    pub consumer: Vec<u8>,
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    /// Number of deliveries.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default)]
pub struct Consumer {
    /// Unix ms of its last interaction.
    pub seen_time: u64,
    /// Ids pending for it.
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug)]
pub struct Group {
    /// The last id delivered to the group.
    pub last_id: StreamId,
    /// Logical count of entries read, or -1 when unknown.
    pub entries_read: i64,
    /// Pending entries of the whole group.
    pub pending: BTreeMap<StreamId, Pending>,
    /// Consumers by name.
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    /// A group that delivers entries after `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pending: BTreeMap::new(), consumers: BTreeMap::new() }
    }

    /// The consumer `name`, created when missing; true if it was created.
    pub fn consumer(&mut self, name: &[u8], now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c =
            self.consumers.entry(name.to_vec()).or_insert_with(|| Consumer { seen_time: now, ..Default::default() });
        (c, created)
    }
}

/// How to trim: keep at most `maxlen` entries, or drop ids below `minid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// `MAXLEN n`.
    MaxLen(u64),
    /// `MINID id`.
    MinId(StreamId),
}

/// A stream.
#[derive(Clone, Debug, Default)]
pub struct StreamValue {
    nodes: Vec<Node>,
    /// Live entries.
    pub length: u64,
    /// The last id ever added.
    pub last_id: StreamId,
    /// The first live id (0-0 when empty).
    pub first_id: StreamId,
    /// The largest id ever deleted.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl StreamValue {
    /// Appends an entry; `id` must be greater than [`StreamValue::last_id`].
    pub fn append(&mut self, id: StreamId, fields: Fields) {
        let raw: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let need_node = match self.nodes.last() {
            None => true,
            Some(n) => n.total_bytes() + raw >= NODE_MAX_BYTES || n.entries.len() >= NODE_MAX_ENTRIES,
        };
        if need_node {
            self.nodes.push(Node::new(id, &fields));
        }
        if let Some(n) = self.nodes.last_mut() {
            n.push(id, fields);
        }
        if self.length == 0 {
            self.first_id = id;
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The nodes, in id order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = NodeView<'_>> {
        self.nodes.iter().map(|n| NodeView {
            master_id: n.master_id,
            master_fields: &n.master_fields,
            entries: &n.entries,
            live: n.live,
        })
    }

    /// Number of nodes (Redis's radix tree keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Live entries from the first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.nodes.iter().flat_map(|n| n.entries.iter()).filter(|e| !e.deleted)
    }

    /// Live entries with ids in `start..=end`, ascending (or descending with
    /// `rev`), at most `count`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, count: Option<usize>) -> Vec<&Entry> {
        let limit = count.unwrap_or(usize::MAX);
        if start > end || limit == 0 {
            return Vec::new();
        }
        let first_node = self.nodes.partition_point(|n| n.last_id() < start);
        let in_range = move |e: &&Entry| !e.deleted && e.id >= start && e.id <= end;
        // A node's entries are all at or after its master id.
        let forward = self.nodes[first_node..].iter().take_while(move |n| n.master_id <= end);
        if rev {
            let nodes: Vec<&Node> = forward.collect();
            nodes.into_iter().rev().flat_map(|n| n.entries.iter().rev()).filter(in_range).take(limit).collect()
        } else {
            forward.flat_map(|n| n.entries.iter()).filter(in_range).take(limit).collect()
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<&Entry> {
        let i = self.nodes.partition_point(|n| n.last_id() < id);
        let n = self.nodes.get(i)?;
        let j = n.entries.binary_search_by(|e| e.id.cmp(&id)).ok()?;
        Some(&n.entries[j]).filter(|e| !e.deleted)
    }

    /// The first (or last) live entry.
    pub fn edge(&self, last: bool) -> Option<&Entry> {
        if last {
            self.iter().next_back()
        } else {
            self.iter().next()
        }
    }

    /// Deletes entry `id`; false if there is no such live entry.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let i = self.nodes.partition_point(|n| n.last_id() < id);
        let Some(n) = self.nodes.get_mut(i) else { return false };
        let Ok(j) = n.entries.binary_search_by(|e| e.id.cmp(&id)) else { return false };
        if n.entries[j].deleted {
            return false;
        }
        n.entries[j].deleted = true;
        n.live -= 1;
        if n.live == 0 {
            self.nodes.remove(i);
        }
        self.length -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        self.refresh_first_id();
        true
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self.edge(false).map_or(StreamId::ZERO, |e| e.id);
    }

    /// Trims as XTRIM does: whole nodes first; `approx` stops at the first
    /// node it cannot drop whole; `limit` (0: none) bounds the entries removed.
    /// Returns the number of entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(node) = self.nodes.first() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let entries = node.live as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last_id() < min,
            };
            if remove_node {
                self.nodes.remove(0);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let node = &mut self.nodes[0];
            for e in node.entries.iter_mut() {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted {
                    e.deleted = true;
                    node.live -= 1;
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        self.refresh_first_id();
        deleted
    }

    /// True if a deleted entry may lie in `start..=end` (lag cannot be exact then).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id == StreamId::ZERO || self.first_id > self.max_deleted_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::ZERO);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// How many entries were added up to and including `id`, when that can be
    /// known; -1 otherwise (Redis's `streamEstimateDistanceFromFirstEverEntry`).
    pub fn entries_before(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted_id == StreamId::ZERO || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        -1
    }

    /// The lag of `group` (entries not yet delivered), when it can be known.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != -1 && !self.range_has_tombstones(Some(group.last_id), None) {
            return Some(self.entries_added as i64 - group.entries_read);
        }
        match self.entries_before(group.last_id) {
            -1 => None,
            read => Some(self.entries_added as i64 - read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    fn fields() -> Fields {
        vec![(b"f".to_vec(), b"v".to_vec())]
    }

    #[test]
    fn nodes_split_at_one_hundred_entries_and_approx_trim_drops_whole_nodes() {
        let mut s = StreamValue::default();
        for i in 1..=250 {
            s.append(id(i, 0), fields());
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 0, "the first node holds 100, dropping it leaves 150 < 200");
        assert_eq!(s.trim(Trim::MaxLen(150), true, 0), 100);
        assert_eq!(s.length, 150);
        assert_eq!(s.first_id, id(101, 0));
        assert_eq!(s.trim(Trim::MaxLen(10), false, 0), 140);
        assert_eq!(s.iter().map(|e| e.id.ms).collect::<Vec<_>>(), (241..=250).collect::<Vec<_>>());
    }

    #[test]
    fn delete_marks_then_drops_empty_nodes() {
        let mut s = StreamValue::default();
        for i in 1..=3 {
            s.append(id(i, 0), fields());
        }
        assert!(s.delete(id(2, 0)));
        assert!(!s.delete(id(2, 0)));
        assert_eq!(s.length, 2);
        assert_eq!(s.max_deleted_id, id(2, 0));
        assert!(s.get(id(2, 0)).is_none());
        assert!(s.delete(id(1, 0)) && s.delete(id(3, 0)));
        assert_eq!((s.length, s.node_count(), s.first_id), (0, 0, StreamId::ZERO));
    }

    #[test]
    fn ranges_both_ways() {
        let mut s = StreamValue::default();
        for i in 1..=300 {
            s.append(id(i, 0), fields());
        }
        let ids = |v: Vec<&Entry>| v.iter().map(|e| e.id.ms).collect::<Vec<_>>();
        assert_eq!(ids(s.range(id(99, 0), id(102, 0), false, None)), [99, 100, 101, 102]);
        assert_eq!(ids(s.range(id(99, 0), id(102, 0), true, Some(2))), [102, 101]);
        assert_eq!(ids(s.range(StreamId::ZERO, StreamId::MAX, true, Some(1))), [300]);
        assert!(s.range(id(5, 0), id(4, 0), false, None).is_empty());
    }

    #[test]
    fn big_entries_fill_nodes_by_bytes() {
        let mut s = StreamValue::default();
        let big = vec![(b"f".to_vec(), vec![b'x'; 1000])];
        for i in 1..=10 {
            s.append(id(i, 0), big.clone());
        }
        assert!(s.node_count() >= 3, "{} nodes", s.node_count());
    }
}
