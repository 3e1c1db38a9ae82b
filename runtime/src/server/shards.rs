//! The shards: the slot ranges of the keyspace, each behind its own lock, and
//! the dispatch that runs a command holding exactly the shards it needs.
//!
//! A command runs on the connection's own worker thread while it holds the locks
//! of the shards its keys hash to (every shard for keyspace-wide commands),
//! taken in shard order so two multi-shard commands cannot deadlock. Holding the
//! locks for the whole command makes multi-key commands across slots atomic,
//! while commands on other shards proceed in parallel on other threads. This
//! costs no thread hop per command, which on a small machine is most of the time
//! a request takes; a script will run the same way, on a per-thread Lua state,
//! holding its keys' shards.
// Hot path: every command.

use crate::persistence::aof::Aof;
use slotkv_core::commands::{flags, Resolved};
use slotkv_core::effects::Effects;
use slotkv_core::exec::{execute, unblock, unwatch_all, ClientState, ExecCtx, Host};
use slotkv_core::resp::request::Args;
use slotkv_core::{key_slot, Data, Keyspace, ReplyBuf, SLOTS};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use tokio::sync::Notify;

/// The keyspace, split into slot ranges.
pub struct Shards {
    shards: Vec<Shard>,
    databases: usize,
    /// The append-only file every command's effects go to, once attached.
    log: OnceLock<Arc<Aof>>,
    /// Replaying the append-only file ([`ExecCtx::loading`]).
    loading: AtomicBool,
}

/// One slot range behind its lock, with the means to wait for it without
/// blocking a thread: a script may hold a shard for a long time, and the I/O
/// thread must go on serving the other shards meanwhile.
struct Shard {
    data: Mutex<Keyspace>,
    /// Tasks waiting for the lock ([`Shards::wait_for`]).
    waiters: AtomicUsize,
    /// Signalled on release while there are waiters.
    released: Notify,
}

/// A held shard; releasing it wakes the tasks waiting for it.
pub struct ShardGuard<'a> {
    guard: Option<MutexGuard<'a, Keyspace>>,
    shard: &'a Shard,
}

impl Deref for ShardGuard<'_> {
    type Target = Keyspace;
    fn deref(&self) -> &Keyspace {
        self.guard.as_deref().expect("held until dropped")
    }
}

impl DerefMut for ShardGuard<'_> {
    fn deref_mut(&mut self) -> &mut Keyspace {
        self.guard.as_deref_mut().expect("held until dropped")
    }
}

impl Drop for ShardGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        if self.shard.waiters.load(Ordering::SeqCst) > 0 {
            self.shard.released.notify_waiters();
        }
    }
}

/// What running a command asked of its caller.
#[derive(Default)]
pub struct RunOutcome {
    /// Changes made.
    pub dirty: u64,
    /// A script ran past the time it may take on the I/O thread; it wrote
    /// nothing and is to run again on a script thread.
    pub offload: bool,
}

impl Shards {
    /// Number of logical databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// `n` shards over the 16384 slots, with `databases` logical databases.
    pub fn new(n: usize, databases: usize, seed: u64) -> Self {
        let n = n.clamp(1, SLOTS);
        let shards = (0..n)
            .map(|i| {
                let (first, end) = (i * SLOTS / n, (i + 1) * SLOTS / n);
                Shard {
                    data: Mutex::new(Keyspace::new(first, end - first, databases, seed)),
                    waiters: AtomicUsize::new(0),
                    released: Notify::new(),
                }
            })
            .collect();
        Shards { shards, databases, log: OnceLock::new(), loading: AtomicBool::new(false) }
    }

    /// Sends every later change to `aof`: commands record their effects, and
    /// shards keep the keys they remove by expiry or eviction.
    pub fn attach_log(&self, aof: Arc<Aof>) {
        for i in 0..self.shards.len() {
            self.lock(i).record_deletions(true);
        }
        let _ = self.log.set(aof);
    }

    /// The append-only file, if one is attached.
    #[inline]
    pub fn log(&self) -> Option<&Arc<Aof>> {
        self.log.get()
    }

    /// While `on`, commands run as an append-only file replays them: keys do
    /// not expire on access and past expiry times do not delete.
    pub fn set_loading(&self, on: bool) {
        for i in 0..self.shards.len() {
            self.lock(i).set_loading(on);
        }
        self.loading.store(on, Ordering::Release);
    }

    /// Every shard, locked in order (a rewrite's copy of the dataset).
    pub fn lock_all(&self) -> Vec<ShardGuard<'_>> {
        (0..self.shards.len()).map(|i| self.lock(i)).collect()
    }

    /// Appends the keys `shard` removed by expiry or eviction to the
    /// append-only file; called while the shard is still held.
    pub fn log_deletions(&self, shard: &mut Keyspace) {
        if let Some(aof) = self.log.get() {
            let mut effects = Effects::recording(true);
            shard.take_deletions(&mut effects);
            aof.append(&mut effects);
        }
    }

    /// Keys in database `db` (expired ones not yet removed included).
    pub fn dbsize(&self, db: usize) -> usize {
        (0..self.shards.len()).map(|i| self.lock(i).counts(db).keys).sum()
    }

    /// Number of shards.
    pub fn count(&self) -> usize {
        self.shards.len()
    }

    /// The shard owning `slot`.
    #[inline]
    pub fn shard_of(&self, slot: usize) -> usize {
        // Inverse of the range split in `new`.
        let n = self.shards.len();
        let mut i = slot * n / SLOTS;
        while (i + 1) * SLOTS / n <= slot {
            i += 1;
        }
        while i * SLOTS / n > slot {
            i -= 1;
        }
        i
    }

    /// Locks shard `i`. A panic in another command while it held the lock does not
    /// make the data unreachable: the shard's structures are only changed through
    /// methods that leave them consistent.
    pub fn lock(&self, i: usize) -> ShardGuard<'_> {
        let shard = &self.shards[i];
        ShardGuard { guard: Some(shard.data.lock().unwrap_or_else(|p| p.into_inner())), shard }
    }

    /// Locks shard `i` if it is free.
    pub fn try_lock(&self, i: usize) -> Option<ShardGuard<'_>> {
        let shard = &self.shards[i];
        let guard = match shard.data.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(ShardGuard { guard: Some(guard), shard })
    }

    /// Waits, without blocking the thread, until shard `i` was free at least once.
    pub async fn wait_for(&self, i: usize) {
        let shard = &self.shards[i];
        shard.waiters.fetch_add(1, Ordering::SeqCst);
        let released = shard.released.notified();
        tokio::pin!(released);
        released.as_mut().enable();
        let free = self.try_lock(i).is_some();
        if !free {
            released.await;
        }
        shard.waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// The shards `cmd` needs, in lock order (every shard for keyspace-wide commands).
    fn needed(&self, cmd: Resolved, args: &Args<'_>) -> Needed {
        if cmd.spec.has(flags::KEYSPACE) {
            return Needed::All;
        }
        let mut keys = cmd.spec.key_indexes(args);
        let Some(first) = keys.next() else { return Needed::None };
        let s0 = self.shard_of(key_slot(args.get(first)) as usize);
        let mut more: Vec<usize> =
            keys.map(|i| self.shard_of(key_slot(args.get(i)) as usize)).filter(|&s| s != s0).collect();
        if more.is_empty() {
            return Needed::One(s0);
        }
        more.push(s0);
        more.sort_unstable();
        more.dedup();
        Needed::Some(more)
    }

    /// Locks `needed`, waiting on a thread (`wait`) or giving up at the first
    /// busy shard (returned).
    fn acquire(&self, needed: &Needed, wait: bool) -> Result<Vec<ShardGuard<'_>>, usize> {
        let take = |i: usize| if wait { Some(self.lock(i)) } else { self.try_lock(i) };
        let ids: Vec<usize> = match needed {
            Needed::None => return Ok(Vec::new()),
            Needed::One(i) => vec![*i],
            Needed::Some(v) => v.clone(),
            Needed::All => (0..self.shards.len()).collect(),
        };
        let mut guards = Vec::with_capacity(ids.len());
        for i in ids {
            match take(i) {
                Some(g) => guards.push(g),
                None => return Err(i),
            }
        }
        Ok(guards)
    }

    /// Runs `cmd` if every shard it needs is free now; otherwise returns the
    /// first busy shard, for the caller to [`Shards::wait_for`] it and try
    /// again. Clients blocked on keys it wrote are appended to `wake`.
    #[allow(clippy::too_many_arguments)]
    pub fn try_run(
        &self,
        cmd: Resolved,
        args: Args<'_>,
        client: &mut ClientState,
        host: &mut dyn Host,
        out: &mut ReplyBuf,
        now: u64,
        wake: &mut Vec<u64>,
    ) -> Result<RunOutcome, usize> {
        self.run_with(cmd, args, client, host, out, now, wake, false)
    }

    /// Runs `cmd`, waiting on this thread for the shards it needs (script threads).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        cmd: Resolved,
        args: Args<'_>,
        client: &mut ClientState,
        host: &mut dyn Host,
        out: &mut ReplyBuf,
        now: u64,
        wake: &mut Vec<u64>,
    ) -> RunOutcome {
        match self.run_with(cmd, args, client, host, out, now, wake, true) {
            Ok(o) => o,
            Err(_) => unreachable!("waiting acquisition never gives up"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_with(
        &self,
        cmd: Resolved,
        args: Args<'_>,
        client: &mut ClientState,
        host: &mut dyn Host,
        out: &mut ReplyBuf,
        now: u64,
        wake: &mut Vec<u64>,
        wait: bool,
    ) -> Result<RunOutcome, usize> {
        let mut needed = self.needed(cmd, &args);
        let mut outcome = RunOutcome::default();
        loop {
            let mut guards = self.acquire(&needed, wait)?;
            let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
            let mut ctx = ExecCtx::new(Data::new(&mut parts[..]), client, host, out, now, self.databases);
            ctx.may_block = true;
            let log = self.log.get();
            ctx.effects = Effects::recording(log.is_some());
            ctx.loading = self.loading.load(Ordering::Relaxed);
            execute(&mut ctx, cmd, args);
            if let Some(aof) = log {
                // Appended before the shards are released, so the file's
                // order is the order of the writes to each key.
                aof.append(&mut ctx.effects);
            }
            for p in ctx.data.shards() {
                p.take_ready(wake);
            }
            outcome.dirty += ctx.dirty;
            outcome.offload = ctx.wants_offload;
            if !ctx.wants_all_shards || matches!(needed, Needed::All) {
                return Ok(outcome);
            }
            // A script touched keys it did not declare: it was rolled back and
            // runs again holding every shard, so it stays atomic.
            needed = Needed::All;
        }
    }

    /// Takes `client` out of every line it waits in (timeout, CLIENT UNBLOCK).
    /// Clients that move up a line are appended to `wake`.
    pub fn release_wait(&self, client: &mut ClientState, wake: &mut Vec<u64>) {
        let Some(b) = client.blocked.as_ref() else { return };
        let mut held: Vec<usize> = b.keys.iter().map(|k| self.shard_of(key_slot(k) as usize)).collect();
        held.sort_unstable();
        held.dedup();
        let mut guards: Vec<_> = held.iter().map(|&i| self.lock(i)).collect();
        let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
        let mut data = Data::new(&mut parts[..]);
        unblock(&mut data, client);
        for p in data.shards() {
            p.take_ready(wake);
        }
    }

    /// Takes `client` out of every line it waits in and forgets the keys it
    /// WATCHes (on disconnection). Clients that move up a line are appended to `wake`.
    pub fn release(&self, client: &mut ClientState, wake: &mut Vec<u64>) {
        if client.blocked.is_none() && client.watching.is_empty() {
            return;
        }
        let mut guards: Vec<_> = (0..self.shards.len()).map(|i| self.lock(i)).collect();
        let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
        let mut data = Data::new(&mut parts[..]);
        unblock(&mut data, client);
        unwatch_all(&mut data, client);
        for p in data.shards() {
            p.take_ready(wake);
        }
    }

    /// One active-expiry step over every free shard (a shard a script holds
    /// is visited next time); returns the keys removed.
    pub fn active_expire(&self, now: u64, budget_per_shard: usize) -> usize {
        (0..self.shards.len())
            .filter_map(|i| self.try_lock(i))
            .map(|mut g| {
                let n = g.active_expire(now, budget_per_shard);
                self.log_deletions(&mut g);
                n
            })
            .sum()
    }
}

/// Which shards a command needs.
enum Needed {
    None,
    One(usize),
    Some(Vec<usize>),
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_of_inverts_the_split() {
        for n in [1, 2, 3, 7, 16, 100] {
            let s = Shards::new(n, 1, 0);
            for slot in 0..SLOTS {
                let i = s.shard_of(slot);
                let (first, count) = s.lock(i).range();
                assert!(slot >= first && slot < first + count, "n={n} slot={slot}");
            }
        }
    }
}
