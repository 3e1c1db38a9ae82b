//! The keyspace: keys live in one dictionary per hash slot (per logical
//! database), with an expiry index beside each.
//!
//! A [`Keyspace`] holds a contiguous range of slots, the part one shard owns; a
//! single `Keyspace` holding every slot is the whole store (the playground, tests).
//! [`Data`] is a command's view over the shards it locked, routing each key to the
//! shard of its slot. Expiry is lazy (a key past its time is removed when touched)
//! plus an active cycle ([`Keyspace::active_expire`]) the runtime calls on a timer.
// Hot path: every key access.

mod interest;
pub mod scan;

pub use scan::ScanCursor;

use crate::bytestring::ByteString;
use crate::slot::{key_slot, SLOTS};
use crate::types::Value;
use foldhash::fast::FixedState;
use hashbrown::HashMap;
use interest::Interest;

type Dict<V> = HashMap<ByteString, V, FixedState>;

/// A value with its access record: the LRU clock of its last access, or its
/// LFU counter and decay time, as Redis keeps in an object's `lru` field.
#[derive(Clone)]
struct Stored {
    value: Value,
    access: u32,
}

/// The keys of one slot in one database.
#[derive(Clone)]
pub struct SlotDict {
    keys: Dict<Stored>,
    /// Absolute expiry times (unix ms) of the keys that have one.
    expires: Dict<u64>,
}

impl SlotDict {
    fn new(h: FixedState) -> Self {
        SlotDict { keys: HashMap::with_hasher(h.clone()), expires: HashMap::with_hasher(h) }
    }
    /// Number of keys (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// True when the slot holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Iterates over the keys and values.
    pub fn iter(&self) -> impl Iterator<Item = (&ByteString, &Value)> {
        self.keys.iter().map(|(k, s)| (k, &s.value))
    }
    /// The expiry time of `key`, if it has one.
    pub fn expire_of(&self, key: &[u8]) -> Option<u64> {
        if self.expires.is_empty() {
            None
        } else {
            self.expires.get(key).copied()
        }
    }
}

/// The slots of one logical database held by one shard.
struct Db {
    slots: Box<[SlotDict]>,
    keys: usize,
    expires: usize,
}

/// Counters a keyspace keeps for INFO stats.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyspaceStats {
    /// Lookups that found their key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Keys removed because they expired.
    pub expired: u64,
    /// Keys removed to free memory.
    pub evicted: u64,
}

/// The keys of a contiguous range of slots, for every logical database.
pub struct Keyspace {
    first_slot: usize,
    slot_count: usize,
    dbs: Vec<Option<Db>>,
    hasher: FixedState,
    /// Counters for INFO.
    pub stats: KeyspaceStats,
    expire_cursor: (usize, usize),
    interest: Interest,
    access: AccessPolicy,
    rng: crate::rng::Rng,
    /// The time of the latest lookup: new keys' access records start there.
    last_now: u64,
    /// Keys removed because they expired or were evicted, kept while
    /// effects are recorded ([`Keyspace::record_deletions`]).
    deletions: Option<Vec<(usize, ByteString)>>,
    /// Replaying an append-only file: keys do not expire on access, since the
    /// file itself says when each expired key was removed.
    loading: bool,
}

/// What a key's access record tracks, from `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPolicy {
    /// The time of the last access (LRU policies and no eviction).
    Lru,
    /// A logarithmic access counter that decays (`allkeys-lfu`, `volatile-lfu`):
    /// `lfu-log-factor` and `lfu-decay-time` (minutes).
    Lfu {
        /// `lfu-log-factor`.
        log_factor: u32,
        /// `lfu-decay-time` in minutes.
        decay_minutes: u32,
    },
}

/// LRU clock units: seconds, 24 bits, as Redis's `LRU_CLOCK`.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// A new key's LFU counter.
const LFU_INIT: u32 = 5;

fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) as u32) & LRU_CLOCK_MAX
}

fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Which keys eviction may pick, and by what measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionPool {
    /// Every key (`allkeys-*`).
    AllKeys,
    /// Keys with an expiry time (`volatile-*`).
    Volatile,
}

/// One key eviction may remove, with its score (higher: evict sooner).
#[derive(Clone, Debug)]
pub struct EvictionCandidate {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: ByteString,
    /// Idle time, inverse frequency, nearness of expiry, or a random number.
    pub score: u64,
}

/// How candidates are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionRank {
    /// Longest idle first.
    Lru,
    /// Least frequently used first.
    Lfu,
    /// Soonest expiry first.
    Ttl,
    /// Any.
    Random,
}

/// Size and expiry counts of one database, for INFO keyspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbCounts {
    /// Keys in the database.
    pub keys: usize,
    /// Keys with an expiry time.
    pub expires: usize,
}

impl Keyspace {
    /// A keyspace holding slots `first..first + count`, with `databases` logical
    /// databases, hashing with `seed`. Shards of one server must share the seed so
    /// SCAN cursors mean the same in each.
    pub fn new(first: usize, count: usize, databases: usize, seed: u64) -> Self {
        assert!(first + count <= SLOTS && databases > 0);
        Keyspace {
            first_slot: first,
            slot_count: count,
            dbs: (0..databases).map(|_| None).collect(),
            hasher: FixedState::with_seed(seed),
            stats: KeyspaceStats::default(),
            expire_cursor: (0, 0),
            interest: Interest::default(),
            access: AccessPolicy::Lru,
            rng: crate::rng::Rng::new(seed ^ first as u64),
            last_now: 0,
            deletions: None,
            loading: false,
        }
    }

    /// A keyspace holding every slot.
    pub fn whole(databases: usize, seed: u64) -> Self {
        Self::new(0, SLOTS, databases, seed)
    }

    /// Number of logical databases.
    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// True if `slot` belongs to this keyspace.
    #[inline]
    pub fn owns(&self, slot: usize) -> bool {
        slot >= self.first_slot && slot < self.first_slot + self.slot_count
    }

    /// The slot range held, as `(first, count)`.
    pub fn range(&self) -> (usize, usize) {
        (self.first_slot, self.slot_count)
    }

    #[inline]
    fn dict(&self, db: usize, slot: usize) -> Option<&SlotDict> {
        self.dbs.get(db)?.as_ref().map(|d| &d.slots[slot - self.first_slot])
    }

    #[inline]
    fn db_mut(&mut self, db: usize) -> &mut Db {
        let (h, n) = (&self.hasher, self.slot_count);
        self.dbs[db].get_or_insert_with(|| Db {
            slots: (0..n).map(|_| SlotDict::new(h.clone())).collect(),
            keys: 0,
            expires: 0,
        })
    }

    /// The slot dictionary of `slot` in `db`, if that database was ever written.
    pub fn slot_dict(&self, db: usize, slot: usize) -> Option<&SlotDict> {
        self.dict(db, slot)
    }

    /// Every slot dictionary of `db` held here, in slot order (empty if the
    /// database was never written).
    pub fn db_slots(&self, db: usize) -> &[SlotDict] {
        match self.dbs.get(db).and_then(|d| d.as_ref()) {
            Some(d) => &d.slots,
            None => &[],
        }
    }

    /// Removes `key` if its time has passed; true if it is (still) expired-and-removed.
    #[inline]
    fn expire_if_needed(&mut self, db: usize, slot: usize, key: &[u8], now: u64) -> bool {
        self.last_now = now;
        let Some(d) = self.dbs.get_mut(db).and_then(|d| d.as_mut()) else { return false };
        let dict = &mut d.slots[slot - self.first_slot];
        if dict.expires.is_empty() || self.loading {
            return false;
        }
        match dict.expires.get(key) {
            Some(&at) if at <= now => {
                dict.expires.remove(key);
                let removed = dict.keys.remove_entry(key);
                d.keys -= 1;
                d.expires -= 1;
                self.stats.expired += 1;
                self.touch(db, key);
                if let (Some(log), Some((k, _))) = (self.deletions.as_mut(), removed) {
                    log.push((db, k));
                }
                true
            }
            _ => false,
        }
    }

    /// Starts or stops keeping the keys removed by expiry and eviction, for
    /// [`Keyspace::take_deletions`].
    pub fn record_deletions(&mut self, on: bool) {
        self.deletions = on.then(Vec::new);
    }

    /// Moves the keys removed by expiry or eviction since the last call into `effects`.
    pub fn take_deletions(&mut self, effects: &mut crate::effects::Effects) {
        if let Some(log) = self.deletions.as_mut() {
            for (db, key) in log.drain(..) {
                effects.record_deletion(db, key);
            }
        }
    }

    /// While `on`, keys do not expire when looked up (replaying a log).
    pub fn set_loading(&mut self, on: bool) {
        self.loading = on;
    }

    /// Looks `key` up for reading; an expired key is removed and not found.
    #[inline]
    pub fn get(&mut self, db: usize, slot: usize, key: &[u8], now: u64) -> Option<&Value> {
        self.expire_if_needed(db, slot, key, now);
        let (first, policy) = (self.first_slot, self.access);
        let rng = &mut self.rng;
        let v = self.dbs.get_mut(db).and_then(|d| d.as_mut()).and_then(|d| d.slots[slot - first].keys.get_mut(key));
        match v {
            Some(s) => {
                s.access = touched(s.access, policy, now, rng);
                self.stats.hits += 1;
                Some(&s.value)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Looks `key` up without counting it as an access (OBJECT, TYPE): the
    /// value and its access record.
    pub fn peek(&mut self, db: usize, slot: usize, key: &[u8], now: u64) -> Option<(&Value, u32)> {
        self.expire_if_needed(db, slot, key, now);
        let first = self.first_slot;
        let s = self.dbs.get(db).and_then(|d| d.as_ref()).and_then(|d| d.slots[slot - first].keys.get(key));
        if s.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        s.map(|s| (&s.value, s.access))
    }

    /// Seconds since the access recorded in `access` (LRU policies).
    pub fn idle_seconds(access: u32, now: u64) -> u64 {
        let clock = lru_clock(now);
        let ticks = if clock >= access { clock - access } else { clock + (LRU_CLOCK_MAX - access) };
        ticks as u64
    }

    /// The access frequency recorded in `access`, decayed to `now` (LFU policies).
    pub fn frequency(&self, access: u32, now: u64) -> u32 {
        match self.access {
            AccessPolicy::Lfu { decay_minutes, .. } => lfu_decayed(access, decay_minutes, now),
            AccessPolicy::Lru => 0,
        }
    }

    /// What access records track; set from `maxmemory-policy`.
    pub fn set_access_policy(&mut self, policy: AccessPolicy) {
        self.access = policy;
    }

    /// The current access policy.
    pub fn access_policy(&self) -> AccessPolicy {
        self.access
    }

    /// Looks `key` up for writing; an expired key is removed and not found.
    #[inline]
    pub fn get_mut(&mut self, db: usize, slot: usize, key: &[u8], now: u64) -> Option<&mut Value> {
        self.expire_if_needed(db, slot, key, now);
        // Only an existing key is written through this lookup: a missing one
        // is no change for WATCH and nothing to wake a waiter for.
        if self.interest.active() && self.dict(db, slot).is_some_and(|d| d.keys.contains_key(key)) {
            self.interest.touch(db, key);
        }
        let (first, policy) = (self.first_slot, self.access);
        let rng = &mut self.rng;
        let s = self.dbs.get_mut(db)?.as_mut()?.slots[slot - first].keys.get_mut(key)?;
        s.access = touched(s.access, policy, now, rng);
        Some(&mut s.value)
    }

    /// True if `key` exists (and has not expired). Does not count as a hit or miss.
    pub fn contains(&mut self, db: usize, slot: usize, key: &[u8], now: u64) -> bool {
        self.expire_if_needed(db, slot, key, now);
        self.dict(db, slot).is_some_and(|d| d.keys.contains_key(key))
    }

    /// Stores `value` at `key` at time `now`. Without `keep_ttl` any expiry
    /// time is cleared, as SET does.
    #[inline]
    pub fn insert(&mut self, db: usize, slot: usize, key: &[u8], value: Value, keep_ttl: bool, now: u64) {
        self.last_now = now;
        self.touch(db, key);
        let first = self.first_slot;
        let access = fresh_access(self.access, self.last_now);
        let d = self.db_mut(db);
        let dict = &mut d.slots[slot - first];
        if let Some(v) = dict.keys.get_mut(key) {
            *v = Stored { value, access };
            if !keep_ttl && !dict.expires.is_empty() && dict.expires.remove(key).is_some() {
                d.expires -= 1;
            }
        } else {
            dict.keys.insert(ByteString::from_slice(key), Stored { value, access });
            d.keys += 1;
        }
    }

    /// Removes `key` (expired or not) and returns its value.
    pub fn remove(&mut self, db: usize, slot: usize, key: &[u8]) -> Option<Value> {
        self.touch(db, key);
        let first = self.first_slot;
        let d = self.dbs.get_mut(db)?.as_mut()?;
        let dict = &mut d.slots[slot - first];
        let v = dict.keys.remove(key)?;
        d.keys -= 1;
        if !dict.expires.is_empty() && dict.expires.remove(key).is_some() {
            d.expires -= 1;
        }
        Some(v.value)
    }

    /// The expiry time of `key` (unix ms), if it has one.
    pub fn expire_at(&self, db: usize, slot: usize, key: &[u8]) -> Option<u64> {
        self.dict(db, slot)?.expire_of(key)
    }

    /// Sets the expiry time of an existing `key`.
    pub fn set_expire(&mut self, db: usize, slot: usize, key: &[u8], at: u64) {
        let first = self.first_slot;
        let d = self.db_mut(db);
        let dict = &mut d.slots[slot - first];
        if !dict.keys.contains_key(key) {
            return;
        }
        if let Some(t) = dict.expires.get_mut(key) {
            *t = at;
        } else {
            dict.expires.insert(ByteString::from_slice(key), at);
            d.expires += 1;
        }
        self.touch(db, key);
    }

    /// Clears the expiry time of `key`; true if it had one.
    pub fn persist(&mut self, db: usize, slot: usize, key: &[u8]) -> bool {
        let first = self.first_slot;
        let Some(d) = self.dbs.get_mut(db).and_then(|d| d.as_mut()) else { return false };
        let removed = d.slots[slot - first].expires.remove(key).is_some();
        if removed {
            d.expires -= 1;
            self.touch(db, key);
        }
        removed
    }

    /// A copy of `key`'s value and expiry time, without counting an access or
    /// expiring it (a script's undo log).
    pub fn snapshot(&self, db: usize, slot: usize, key: &[u8]) -> Option<(Value, Option<u64>)> {
        let d = self.dict(db, slot)?;
        let v = d.keys.get(key)?;
        Some((v.value.clone(), d.expire_of(key)))
    }

    /// Puts `key` back as [`Keyspace::snapshot`] saw it (`None`: absent).
    pub fn restore(&mut self, db: usize, slot: usize, key: &[u8], saved: Option<(Value, Option<u64>)>, now: u64) {
        self.remove(db, slot, key);
        if let Some((value, expire)) = saved {
            self.insert(db, slot, key, value, false, now);
            if let Some(at) = expire {
                self.set_expire(db, slot, key, at);
            }
        }
    }

    /// Copies of every key of `db` with its value and expiry time.
    pub fn db_snapshot(&self, db: usize) -> Vec<(Vec<u8>, Value, Option<u64>)> {
        let Some(d) = self.dbs.get(db).and_then(|d| d.as_ref()) else { return Vec::new() };
        d.slots
            .iter()
            .flat_map(|sd| sd.keys.iter().map(move |(k, v)| (k.to_vec(), v.value.clone(), sd.expire_of(k))))
            .collect()
    }

    /// Key and expiry counts of `db`.
    pub fn counts(&self, db: usize) -> DbCounts {
        match self.dbs.get(db).and_then(|d| d.as_ref()) {
            Some(d) => DbCounts { keys: d.keys, expires: d.expires },
            None => DbCounts::default(),
        }
    }

    /// Removes every key of `db`.
    pub fn flush_db(&mut self, db: usize) {
        if self.interest.active() {
            let (dbs, first) = (&self.dbs, self.first_slot);
            self.interest.touch_db(db, |k| db_has(dbs, first, db, k));
        }
        if let Some(d) = self.dbs.get_mut(db) {
            *d = None;
        }
    }

    /// Swaps the contents of two databases (SWAPDB).
    pub fn swap_db(&mut self, a: usize, b: usize) {
        if self.interest.active() {
            let (dbs, first) = (&self.dbs, self.first_slot);
            for d in [a, b] {
                self.interest.touch_db(d, |k| db_has(dbs, first, a, k) || db_has(dbs, first, b, k));
            }
        }
        self.dbs.swap(a, b);
    }

    /// One step of active expiry: visits slots in turn, removing keys whose time has
    /// passed, until about `budget` expiry entries were examined. Returns how many
    /// keys it removed.
    pub fn active_expire(&mut self, now: u64, budget: usize) -> usize {
        let (mut db, mut slot) = self.expire_cursor;
        let (mut examined, mut removed) = (0usize, 0usize);
        let mut expired: Vec<ByteString> = Vec::new();
        // Bounded work per step: at most `budget` entries examined and one pass
        // over the slots of each database; databases without expiring keys are
        // skipped whole.
        let mut slots_left = self.slot_count.max(1) * 2;
        let mut dbs_left = self.dbs.len();
        while examined < budget && slots_left > 0 && dbs_left > 0 {
            let Some(d) = self.dbs[db].as_mut().filter(|d| d.expires > 0) else {
                db = (db + 1) % self.dbs.len();
                slot = 0;
                dbs_left -= 1;
                continue;
            };
            let dict = &mut d.slots[slot];
            if !dict.expires.is_empty() {
                examined += dict.expires.len();
                expired.extend(dict.expires.iter().filter(|(_, &t)| t <= now).map(|(k, _)| k.clone()));
                for k in expired.drain(..) {
                    if self.interest.active() {
                        self.interest.touch(db, &k);
                    }
                    dict.expires.remove(k.as_slice());
                    dict.keys.remove(k.as_slice());
                    d.keys -= 1;
                    d.expires -= 1;
                    removed += 1;
                    if let Some(log) = self.deletions.as_mut() {
                        log.push((db, k));
                    }
                }
            }
            slots_left -= 1;
            slot += 1;
            if slot == self.slot_count {
                slot = 0;
                db = (db + 1) % self.dbs.len();
                dbs_left -= 1;
            }
        }
        self.expire_cursor = (db, slot);
        self.stats.expired += removed as u64;
        removed
    }

    /// Samples up to `samples` keys of each database for eviction, ranked by
    /// `rank`, into `out`.
    pub fn eviction_candidates(
        &mut self,
        pool: EvictionPool,
        rank: EvictionRank,
        samples: usize,
        now: u64,
        out: &mut Vec<EvictionCandidate>,
    ) {
        let policy = self.access;
        for db in 0..self.dbs.len() {
            let Some(d) = self.dbs[db].as_ref() else { continue };
            if d.keys == 0 || (pool == EvictionPool::Volatile && d.expires == 0) {
                continue;
            }
            for _ in 0..samples {
                let start = self.rng.below(self.slot_count);
                // The first slot from a random one that has candidates.
                let found = (0..self.slot_count).map(|i| (start + i) % self.slot_count).find(|&i| match pool {
                    EvictionPool::AllKeys => !d.slots[i].keys.is_empty(),
                    EvictionPool::Volatile => !d.slots[i].expires.is_empty(),
                });
                let Some(i) = found else { break };
                let dict = &d.slots[i];
                let key = match pool {
                    EvictionPool::AllKeys => dict.keys.keys().nth(self.rng.below(dict.keys.len())),
                    EvictionPool::Volatile => dict.expires.keys().nth(self.rng.below(dict.expires.len())),
                };
                let Some(key) = key else { continue };
                let Some(stored) = dict.keys.get(key.as_slice()) else { continue };
                let score = match rank {
                    EvictionRank::Lru => Self::idle_seconds(stored.access, now),
                    EvictionRank::Lfu => match policy {
                        AccessPolicy::Lfu { decay_minutes, .. } => {
                            255 - lfu_decayed(stored.access, decay_minutes, now) as u64
                        }
                        AccessPolicy::Lru => 0,
                    },
                    EvictionRank::Ttl => u64::MAX - dict.expires.get(key.as_slice()).copied().unwrap_or(u64::MAX),
                    EvictionRank::Random => self.rng.next_u64(),
                };
                out.push(EvictionCandidate { db, key: key.clone(), score });
            }
        }
    }

    /// Removes `key` to free memory; true if it was there.
    pub fn evict(&mut self, db: usize, key: &[u8]) -> bool {
        let slot = key_slot(key) as usize;
        let removed = self.remove(db, slot, key).is_some();
        if removed {
            self.stats.evicted += 1;
            if let Some(log) = self.deletions.as_mut() {
                log.push((db, ByteString::from_slice(key)));
            }
        }
        removed
    }

    /// A write to `key`: WATCH sees it, clients blocked on it are woken.
    #[inline]
    fn touch(&mut self, db: usize, key: &[u8]) {
        if self.interest.active() {
            self.interest.touch(db, key);
        }
    }

    /// Starts watching `key` for one client; returns the version EXEC compares.
    pub fn watch(&mut self, db: usize, key: &[u8]) -> u64 {
        self.interest.watch(db, key)
    }

    /// The version of a watched key; it changes with every write to the key.
    pub fn watch_version(&self, db: usize, key: &[u8]) -> u64 {
        self.interest.version(db, key)
    }

    /// One client stops watching `key`.
    pub fn unwatch(&mut self, db: usize, key: &[u8]) {
        self.interest.unwatch(db, key)
    }

    /// Client `id` blocks on `key`, behind earlier waiters.
    pub fn add_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        self.interest.add_waiter(db, key, id)
    }

    /// Client `id` stops waiting on `key`.
    pub fn remove_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        self.interest.remove_waiter(db, key, id)
    }

    /// Appends to `wake` the client first in line on each key written since the
    /// last call; that client retries its blocking command.
    #[inline]
    pub fn take_ready(&mut self, wake: &mut Vec<u64>) {
        if self.interest.active() {
            self.interest.take_ready(wake);
        }
    }

    /// The hash SCAN orders keys by within a slot.
    pub(crate) fn scan_hash(&self, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }
}

/// The access record of a key created now.
fn fresh_access(policy: AccessPolicy, now: u64) -> u32 {
    match policy {
        AccessPolicy::Lru => lru_clock(now),
        AccessPolicy::Lfu { .. } => (lfu_minutes(now) << 8) | LFU_INIT,
    }
}

/// The access record after one more access at `now`.
#[inline]
fn touched(access: u32, policy: AccessPolicy, now: u64, rng: &mut crate::rng::Rng) -> u32 {
    match policy {
        AccessPolicy::Lru => lru_clock(now),
        AccessPolicy::Lfu { log_factor, decay_minutes } => {
            let mut counter = lfu_decayed(access, decay_minutes, now);
            if counter < 255 {
                // Redis's LFULogIncr: the counter grows logarithmically.
                let base = counter.saturating_sub(LFU_INIT) as f64;
                let p = 1.0 / (base * log_factor as f64 + 1.0);
                if (rng.next_u64() as f64 / u64::MAX as f64) < p {
                    counter += 1;
                }
            }
            (lfu_minutes(now) << 8) | counter
        }
    }
}

/// An LFU counter after its decay: one step per `decay_minutes` elapsed.
fn lfu_decayed(access: u32, decay_minutes: u32, now: u64) -> u32 {
    let (then, counter) = (access >> 8, access & 255);
    let now_min = lfu_minutes(now);
    let elapsed = if now_min >= then { now_min - then } else { 65535 - then + now_min };
    let periods = elapsed.checked_div(decay_minutes).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// True if `key` is in database `db` (expired or not).
fn db_has(dbs: &[Option<Db>], first_slot: usize, db: usize, key: &[u8]) -> bool {
    let slot = key_slot(key) as usize - first_slot;
    dbs.get(db).and_then(|d| d.as_ref()).is_some_and(|d| d.slots[slot].keys.contains_key(key))
}

/// A command's view over the shards it holds: routes every key to its slot's shard.
pub struct Data<'a> {
    parts: &'a mut [&'a mut Keyspace],
}

impl<'a> Data<'a> {
    /// A view over `parts`, ordered by slot range.
    pub fn new(parts: &'a mut [&'a mut Keyspace]) -> Self {
        Data { parts }
    }

    /// True if this view holds no shard (a command that touches no key).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The shard holding `slot`, if this view holds it.
    #[inline]
    pub fn shard(&mut self, slot: usize) -> Option<&mut Keyspace> {
        if self.parts.len() == 1 {
            let p = &mut *self.parts[0];
            return if p.owns(slot) { Some(p) } else { None };
        }
        self.parts.iter_mut().find(|p| p.owns(slot)).map(|p| &mut **p)
    }

    /// Every shard in the view.
    pub fn shards(&mut self) -> impl Iterator<Item = &mut Keyspace> + use<'_, 'a> {
        self.parts.iter_mut().map(|p| &mut **p)
    }

    /// Every shard in the view, read only.
    pub fn shards_ref(&self) -> impl Iterator<Item = &Keyspace> {
        self.parts.iter().map(|p| &**p)
    }

    /// The shard and slot of `key`.
    #[inline]
    pub fn locate(&mut self, key: &[u8]) -> Result<(&mut Keyspace, usize), crate::CmdError> {
        let slot = key_slot(key) as usize;
        match self.shard(slot) {
            Some(s) => Ok((s, slot)),
            None => Err(crate::CmdError::msg("ERR internal error: key outside the locked shards")),
        }
    }

    /// Key and expiry counts of `db` across the view.
    pub fn counts(&self, db: usize) -> DbCounts {
        self.shards_ref().fold(DbCounts::default(), |acc, s| {
            let c = s.counts(db);
            DbCounts { keys: acc.keys + c.keys, expires: acc.expires + c.expires }
        })
    }

    /// True if the view holds every slot (all shards).
    pub fn covers_all(&self) -> bool {
        self.parts.iter().map(|p| p.range().1).sum::<usize>() == crate::SLOTS
    }

    /// Number of logical databases.
    pub fn databases(&self) -> usize {
        self.parts.first().map_or(0, |p| p.databases())
    }
}
