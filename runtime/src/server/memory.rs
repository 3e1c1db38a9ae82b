//! Memory: how much the server uses, and eviction past `maxmemory`.
//!
//! `used_memory` is what the allocator (jemalloc, the process's global
//! allocator) reports as allocated to the program, so it follows the real heap,
//! not an estimate per value. Past `maxmemory`, keys are evicted before a
//! command runs, chosen as Redis chooses them: sample a few keys
//! (`maxmemory-samples`) and remove the best one by the policy's measure (idle
//! time, access frequency, nearest expiry, or at random). Under `noeviction`,
//! or with nothing left to evict, commands that may grow memory are refused.

use super::shards::Shards;
use crate::config::Config;
use slotkv_core::keyspace::{AccessPolicy, EvictionCandidate, EvictionPool, EvictionRank};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Bytes allocated by the program now.
pub fn used_memory() -> u64 {
    // Statistics are refreshed when the epoch advances.
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().map_or(0, |n| n as u64)
}

/// Turns jemalloc's background purging on or off (`jemalloc-bg-thread`, on
/// by default as in Redis). Without it an arena returns freed pages to the
/// system only when it next allocates, so the buffers of a thousand clients
/// that have left stay resident for as long as their arenas sit idle; with it,
/// a thread hands them back after the decay time (10 s).
pub fn set_background_purge(on: bool) {
    // Fails only where jemalloc was built without threads; then there is
    // nothing to turn on, and nothing else to do.
    let _ = tikv_jemalloc_ctl::background_thread::write(on);
}

/// The eviction settings, read on every command while `maxmemory` is set.
#[derive(Default)]
pub struct MemoryLimit {
    /// `maxmemory` (0: no limit).
    pub maxmemory: AtomicU64,
    /// `maxmemory-samples`.
    samples: AtomicUsize,
    /// The policy, as [`encode_policy`] numbers it.
    policy: AtomicUsize,
    /// Which shard the next eviction samples (round robin).
    next_shard: AtomicUsize,
    /// Serialises eviction, so concurrent commands do not evict twice over.
    evicting: Mutex<()>,
    /// `used_memory` as last read, and the millisecond it was read in:
    /// refreshing the allocator's statistics costs microseconds, too much to
    /// pay on every command.
    cached: AtomicU64,
    cached_at: AtomicU64,
}

/// `maxmemory-policy` as (pool, rank); `None` for noeviction.
fn decode_policy(n: usize) -> Option<(EvictionPool, EvictionRank)> {
    use EvictionPool::*;
    use EvictionRank::*;
    Some(match n {
        1 => (AllKeys, Lru),
        2 => (AllKeys, Lfu),
        3 => (AllKeys, Random),
        4 => (Volatile, Lru),
        5 => (Volatile, Lfu),
        6 => (Volatile, Random),
        7 => (Volatile, Ttl),
        _ => return None,
    })
}

fn encode_policy(name: &str) -> usize {
    match name {
        "allkeys-lru" => 1,
        "allkeys-lfu" => 2,
        "allkeys-random" => 3,
        "volatile-lru" => 4,
        "volatile-lfu" => 5,
        "volatile-random" => 6,
        "volatile-ttl" => 7,
        _ => 0,
    }
}

impl MemoryLimit {
    /// Copies the settings from the configuration and tells the shards what
    /// their keys' access records track (LFU policies need counters).
    pub fn apply(&self, c: &Config, shards: &Shards) {
        self.maxmemory.store(c.get_i64("maxmemory") as u64, Ordering::Relaxed);
        self.samples.store(c.get_i64("maxmemory-samples").clamp(1, 1024) as usize, Ordering::Relaxed);
        set_background_purge(c.get("jemalloc-bg-thread") == "yes");
        let policy = c.get("maxmemory-policy");
        self.policy.store(encode_policy(policy), Ordering::Relaxed);
        let access = if policy.ends_with("-lfu") {
            AccessPolicy::Lfu {
                log_factor: c.get_i64("lfu-log-factor") as u32,
                decay_minutes: c.get_i64("lfu-decay-time") as u32,
            }
        } else {
            AccessPolicy::Lru
        };
        for i in 0..shards.count() {
            shards.lock(i).set_access_policy(access);
        }
    }

    /// Evicts keys until the memory used is under `maxmemory`. True if it is
    /// (or there is no limit); false if the policy forbids eviction or nothing
    /// evictable is left.
    pub fn make_room(&self, shards: &Shards, now: u64) -> bool {
        let max = self.maxmemory.load(Ordering::Relaxed);
        if max == 0 || self.used_at(now) <= max {
            return true;
        }
        // Over the limit by the cached figure: read it afresh before refusing
        // or evicting, since a command in the same millisecond may have freed memory.
        let used = used_memory();
        self.cached.store(used, Ordering::Relaxed);
        if used <= max {
            return true;
        }
        let Some((pool, rank)) = decode_policy(self.policy.load(Ordering::Relaxed)) else { return false };
        let _one_at_a_time = self.evicting.lock().unwrap_or_else(|p| p.into_inner());
        let samples = self.samples.load(Ordering::Relaxed);
        let mut candidates: Vec<EvictionCandidate> = Vec::new();
        // Frees are counted in batches: reading the allocator's statistics costs
        // more than one eviction.
        loop {
            for _ in 0..16 {
                if !self.evict_one(shards, pool, rank, samples, now, &mut candidates) {
                    return used_memory() <= max;
                }
            }
            let used = used_memory();
            self.cached.store(used, Ordering::Relaxed);
            if used <= max {
                return true;
            }
        }
    }

    /// `used_memory`, read at most once per millisecond.
    fn used_at(&self, now: u64) -> u64 {
        if self.cached_at.load(Ordering::Relaxed) == now {
            return self.cached.load(Ordering::Relaxed);
        }
        let used = used_memory();
        self.cached.store(used, Ordering::Relaxed);
        self.cached_at.store(now, Ordering::Relaxed);
        used
    }

    /// Samples the next shards that have candidates and evicts the best one.
    fn evict_one(
        &self,
        shards: &Shards,
        pool: EvictionPool,
        rank: EvictionRank,
        samples: usize,
        now: u64,
        candidates: &mut Vec<EvictionCandidate>,
    ) -> bool {
        let n = shards.count();
        for _ in 0..n {
            let i = self.next_shard.fetch_add(1, Ordering::Relaxed) % n;
            // A shard a script holds is passed over this time.
            let Some(mut shard) = shards.try_lock(i) else { continue };
            candidates.clear();
            shard.eviction_candidates(pool, rank, samples, now, candidates);
            if let Some(best) = candidates.iter().max_by_key(|c| c.score) {
                if shard.evict(best.db, &best.key) {
                    shards.log_deletions(&mut shard);
                    return true;
                }
            }
        }
        false
    }
}
