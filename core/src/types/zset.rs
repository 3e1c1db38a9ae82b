//! Sorted sets: a member → score map beside a skip list ordered by (score,
//! member) whose links carry spans, so rank, range by rank and range by score
//! or by member are O(log n), as in Redis. Small sorted sets report Redis's
//! `listpack` encoding (and DUMP as one) until they outgrow its limits.

use crate::bytestring::ByteString;
use hashbrown::HashMap;
use std::cmp::Ordering;

/// Most members a sorted set keeps in its compact form (`zset-max-listpack-entries`).
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Longest member kept in the compact form (`zset-max-listpack-value`).
pub const MAX_LISTPACK_VALUE: usize = 64;

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Clone, Debug)]
struct Level {
    next: u32,
    span: u32,
}

/// Three in four nodes have one level and almost all have at most four, so
/// levels are stored inline up to four: a hop reads one node, not a node and a
/// separate allocation.
type Levels = smallvec::SmallVec<[Level; 4]>;

#[derive(Clone, Debug)]
struct Node {
    member: ByteString,
    score: f64,
    back: u32,
    levels: Levels,
}

/// Orders (score, member) pairs as Redis does.
fn cmp(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

/// True if `n` orders before (score, member); reads the member only on a tie.
#[inline(always)]
fn before(n: &Node, score: f64, member: &[u8]) -> bool {
    n.score < score || (n.score == score && n.member.as_slice() < member)
}

/// The skip list. Nodes live in an arena; index 0 is the header.
#[derive(Clone, Debug)]
struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    level: usize,
    len: usize,
    seed: u64,
}

impl SkipList {
    fn new() -> Self {
        let head = Node {
            member: ByteString::EMPTY,
            score: 0.0,
            back: NIL,
            levels: (0..MAX_LEVEL).map(|_| Level { next: NIL, span: 0 }).collect::<Levels>(),
        };
        SkipList { nodes: vec![head], free: Vec::new(), tail: NIL, level: 1, len: 0, seed: 0x2545_F491_4F6C_DD1D }
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            if self.seed & 3 != 0 || level >= MAX_LEVEL {
                return level;
            }
            level += 1;
        }
    }

    fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    fn insert(&mut self, score: f64, member: ByteString) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let next = self.node(x).levels[i].next;
                if next != NIL && before(self.node(next), score, &member) {
                    rank[i] += self.node(x).levels[i].span;
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].levels[i].span = self.len as u32;
            }
            self.level = level;
        }
        let node =
            Node { member, score, back: NIL, levels: (0..level).map(|_| Level { next: NIL, span: 0 }).collect() };
        let x = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let u = update[i] as usize;
            let (unext, uspan) = (self.nodes[u].levels[i].next, self.nodes[u].levels[i].span);
            self.nodes[x as usize].levels[i] = Level { next: unext, span: uspan - (rank[0] - rank[i]) };
            self.nodes[u].levels[i] = Level { next: x, span: (rank[0] - rank[i]) + 1 };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.nodes[u as usize].levels[i].span += 1;
        }
        self.nodes[x as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        let next0 = self.node(x).levels[0].next;
        if next0 != NIL {
            self.nodes[next0 as usize].back = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// The last node before (score, member) at every level, and the node after
    /// it at level 0: what unlinking or inserting there needs.
    fn find(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], u32) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.node(x).levels[i].next;
                if next != NIL && before(self.node(next), score, member) {
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, self.node(x).levels[0].next)
    }

    /// Unlinks `target`, found with [`SkipList::find`], and frees its slot;
    /// returns its member.
    fn unlink(&mut self, update: &[u32; MAX_LEVEL], target: u32) -> ByteString {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].levels[i].next == target {
                let t = &self.nodes[target as usize].levels[i];
                let (tn, ts) = (t.next, t.span);
                self.nodes[u].levels[i].span += ts;
                self.nodes[u].levels[i].span -= 1;
                self.nodes[u].levels[i].next = tn;
            } else {
                self.nodes[u].levels[i].span -= 1;
            }
        }
        let (next0, back) = (self.node(target).levels[0].next, self.node(target).back);
        if next0 != NIL {
            self.nodes[next0 as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.node(HEAD).levels[self.level - 1].next == NIL {
            self.level -= 1;
        }
        let member = std::mem::replace(&mut self.nodes[target as usize].member, ByteString::EMPTY);
        self.nodes[target as usize].levels = Levels::new();
        self.free.push(target);
        self.len -= 1;
        member
    }

    fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, target) = self.find(score, member);
        if target == NIL || cmp(self.node(target).score, &self.node(target).member, score, member) != Ordering::Equal {
            return false;
        }
        self.unlink(&update, target);
        true
    }

    /// Moves a present element from score `old` to `new`: in place when its
    /// neighbours allow (as Redis's `zslUpdateScore`), else unlinked and
    /// inserted again.
    fn update_score(&mut self, old: f64, member: &[u8], new: f64) {
        let (update, target) = self.find(old, member);
        if target == NIL {
            return;
        }
        let t = self.node(target);
        let (back, next) = (t.back, t.levels[0].next);
        if (back == NIL || self.node(back).score < new) && (next == NIL || self.node(next).score > new) {
            self.nodes[target as usize].score = new;
            return;
        }
        let m = self.unlink(&update, target);
        self.insert(new, m);
    }

    /// 1-based rank of an element known to be present.
    fn rank(&self, score: f64, member: &[u8]) -> usize {
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.node(x).levels[i].next;
                if next != NIL
                    && cmp(self.node(next).score, &self.node(next).member, score, member) != Ordering::Greater
                {
                    rank += self.node(x).levels[i].span as usize;
                    x = next;
                } else {
                    break;
                }
            }
            if x != HEAD && self.node(x).member.as_slice() == member {
                return rank;
            }
        }
        rank
    }

    /// The node at 1-based `rank`.
    fn at_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.node(x).levels[i].next;
                if next != NIL && traversed + self.node(x).levels[i].span as usize <= rank {
                    traversed += self.node(x).levels[i].span as usize;
                    x = next;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return x;
            }
        }
        NIL
    }

    /// The first node for which `before(node)` is false (nodes where it is true
    /// form a prefix of the order).
    fn first_where_not(&self, before: impl Fn(&Node) -> bool) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.node(x).levels[i].next;
                if next != NIL && before(self.node(next)) {
                    x = next;
                } else {
                    break;
                }
            }
        }
        self.node(x).levels[0].next
    }
}

/// A score bound: inclusive or exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreBound {
    /// The score.
    pub value: f64,
    /// Excludes the score itself (`(1.5`).
    pub exclusive: bool,
}

/// A member bound for lexical ranges: `-`, `+`, `[x`, `(x`.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    /// Below every member.
    Min,
    /// Above every member.
    Max,
    /// `[x` (`true`) or `(x` (`false`).
    Value(Vec<u8>, bool),
}

impl LexBound {
    /// True if `m` is at or past this bound taken as a minimum.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Value(v, incl) => {
                if *incl {
                    m >= v.as_slice()
                } else {
                    m > v.as_slice()
                }
            }
        }
    }
    /// True if `m` is at or before this bound taken as a maximum.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Value(v, incl) => {
                if *incl {
                    m <= v.as_slice()
                } else {
                    m < v.as_slice()
                }
            }
        }
    }
}

/// A sorted set.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    dict: HashMap<ByteString, f64, foldhash::fast::RandomState>,
    list: SkipList,
    /// Outgrew the compact form once (Redis never converts back).
    big: bool,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue { dict: HashMap::default(), list: SkipList::new(), big: false }
    }
}

impl ZSetValue {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.dict.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }
    /// `listpack` or `skiplist`.
    pub fn encoding(&self) -> &'static str {
        if self.big {
            "skiplist"
        } else {
            "listpack"
        }
    }
    /// True while the set is in the compact form.
    pub fn is_compact(&self) -> bool {
        !self.big
    }
    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.dict.get(m).copied()
    }
    /// Sets the score of `m`; returns the previous score.
    pub fn insert(&mut self, m: &[u8], score: f64) -> Option<f64> {
        if let Some(cur) = self.dict.get_mut(m) {
            let old = *cur;
            if old != score {
                *cur = score;
                self.list.update_score(old, m, score);
            }
            return Some(old);
        }
        let old = None;
        let key = ByteString::from_slice(m);
        self.list.insert(score, key.clone());
        self.dict.insert(key, score);
        if m.len() > MAX_LISTPACK_VALUE || self.dict.len() > MAX_LISTPACK_ENTRIES {
            self.big = true;
        }
        old
    }
    /// Removes `m`; true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.dict.remove(m) {
            Some(s) => {
                self.list.delete(s, m);
                true
            }
            None => false,
        }
    }
    /// 0-based rank of `m` in ascending order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        Some(self.list.rank(s, m) - 1)
    }
    /// Members with scores from 0-based rank `start` to `end` inclusive, ascending.
    pub fn range_by_rank(&self, start: usize, end: usize) -> Vec<(ByteString, f64)> {
        let mut out = Vec::with_capacity(end.saturating_sub(start) + 1);
        let mut x = self.list.at_rank(start + 1);
        while x != NIL && out.len() < end - start + 1 {
            let n = self.list.node(x);
            out.push((n.member.clone(), n.score));
            x = n.levels[0].next;
        }
        out
    }
    /// Same as [`ZSetValue::range_by_rank`], in descending order from the top.
    pub fn rev_range_by_rank(&self, start: usize, end: usize) -> Vec<(ByteString, f64)> {
        let len = self.len();
        let mut out = Vec::with_capacity(end.saturating_sub(start) + 1);
        let mut x = self.list.at_rank(len - start);
        while x != NIL && out.len() < end - start + 1 {
            let n = self.list.node(x);
            out.push((n.member.clone(), n.score));
            x = n.back;
        }
        out
    }
    /// Elements with `min <= score <= max` (bounds may exclude), ascending,
    /// skipping `offset` and returning at most `limit`.
    pub fn range_by_score(
        &self,
        min: ScoreBound,
        max: ScoreBound,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(ByteString, f64)> {
        let below = |n: &Node| if min.exclusive { n.score <= min.value } else { n.score < min.value };
        let within = |s: f64| if max.exclusive { s < max.value } else { s <= max.value };
        let x = self.list.first_where_not(below);
        self.collect(x, false, offset, limit, |n| within(n.score))
    }
    /// Elements with `max >= score >= min`, descending.
    pub fn rev_range_by_score(
        &self,
        max: ScoreBound,
        min: ScoreBound,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(ByteString, f64)> {
        let le_max = |n: &Node| if max.exclusive { n.score < max.value } else { n.score <= max.value };
        let above_min = |s: f64| if min.exclusive { s > min.value } else { s >= min.value };
        let first_past = self.list.first_where_not(le_max);
        let x = if first_past == NIL { self.list.tail } else { self.list.node(first_past).back };
        self.collect(x, true, offset, limit, |n| above_min(n.score))
    }
    /// Elements whose members are within the lexical bounds, ascending.
    pub fn range_by_lex(
        &self,
        min: &LexBound,
        max: &LexBound,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(ByteString, f64)> {
        let x = self.list.first_where_not(|n| !min.gte_min(&n.member));
        self.collect(x, false, offset, limit, |n| max.lte_max(&n.member))
    }
    /// Elements within lexical bounds, descending.
    pub fn rev_range_by_lex(
        &self,
        max: &LexBound,
        min: &LexBound,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(ByteString, f64)> {
        let first_past = self.list.first_where_not(|n| max.lte_max(&n.member));
        let x = if first_past == NIL { self.list.tail } else { self.list.node(first_past).back };
        self.collect(x, true, offset, limit, |n| min.gte_min(&n.member))
    }

    /// Walks from node `x` (towards the tail, or the head when `backward`) while
    /// `ok` holds, skipping `offset` elements and keeping at most `limit`.
    fn collect(
        &self,
        mut x: u32,
        backward: bool,
        offset: usize,
        limit: Option<usize>,
        ok: impl Fn(&Node) -> bool,
    ) -> Vec<(ByteString, f64)> {
        let mut out = Vec::new();
        let mut skip = offset;
        while x != NIL && x != HEAD && limit.is_none_or(|l| out.len() < l) {
            let n = self.list.node(x);
            if !ok(n) {
                break;
            }
            if skip > 0 {
                skip -= 1;
            } else {
                out.push((n.member.clone(), n.score));
            }
            x = if backward { n.back } else { n.levels[0].next };
        }
        out
    }

    /// Every element in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (&ByteString, f64)> + '_ {
        let mut x = self.list.node(HEAD).levels[0].next;
        std::iter::from_fn(move || {
            if x == NIL {
                return None;
            }
            let n = self.list.node(x);
            x = n.levels[0].next;
            Some((&n.member, n.score))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inc(v: f64) -> ScoreBound {
        ScoreBound { value: v, exclusive: false }
    }

    proptest! {
        /// The skip list agrees with a sorted vector on every operation.
        #[test]
        fn matches_a_sorted_model(ops in proptest::collection::vec((0u8..20, -5i32..5, any::<bool>()), 1..300)) {
            let mut z = ZSetValue::default();
            let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
            for (m, s, add) in ops {
                let m = vec![b'a' + m];
                if add {
                    z.insert(&m, s as f64);
                    model.insert(m, s as f64);
                } else {
                    prop_assert_eq!(z.remove(&m), model.remove(&m).is_some());
                }
                let mut sorted: Vec<(Vec<u8>, f64)> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
                sorted.sort_by(|a, b| cmp(a.1, &a.0, b.1, &b.0));
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(k, v)| (k.to_vec(), v)).collect();
                prop_assert_eq!(&got, &sorted);
                for (i, (k, _)) in sorted.iter().enumerate() {
                    prop_assert_eq!(z.rank(k), Some(i));
                }
                if !sorted.is_empty() {
                    let n = sorted.len();
                    let r: Vec<Vec<u8>> = z.range_by_rank(1.min(n - 1), n - 1).into_iter().map(|(k, _)| k.to_vec()).collect();
                    let want: Vec<Vec<u8>> = sorted[1.min(n - 1)..].iter().map(|(k, _)| k.clone()).collect();
                    prop_assert_eq!(r, want);
                    let rev: Vec<Vec<u8>> = z.rev_range_by_rank(0, n - 1).into_iter().map(|(k, _)| k.to_vec()).collect();
                    let want: Vec<Vec<u8>> = sorted.iter().rev().map(|(k, _)| k.clone()).collect();
                    prop_assert_eq!(rev, want);
                }
                let by_score: Vec<Vec<u8>> = z.range_by_score(inc(-1.0), ScoreBound { value: 2.0, exclusive: true }, 0, None).into_iter().map(|(k, _)| k.to_vec()).collect();
                let want: Vec<Vec<u8>> = sorted.iter().filter(|(_, s)| *s >= -1.0 && *s < 2.0).map(|(k, _)| k.clone()).collect();
                prop_assert_eq!(by_score, want);
                let rev_score: Vec<Vec<u8>> = z.rev_range_by_score(inc(3.0), ScoreBound { value: -2.0, exclusive: true }, 1, Some(3)).into_iter().map(|(k, _)| k.to_vec()).collect();
                let want: Vec<Vec<u8>> = sorted.iter().rev().filter(|(_, s)| *s <= 3.0 && *s > -2.0).skip(1).take(3).map(|(k, _)| k.clone()).collect();
                prop_assert_eq!(rev_score, want);
            }
        }
    }
}
