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

use slotkv_core::commands::{flags, Resolved};
use slotkv_core::exec::{execute, unblock, unwatch_all, ClientState, ExecCtx, Host};
use slotkv_core::resp::request::Args;
use slotkv_core::{key_slot, Data, Keyspace, ReplyBuf, SLOTS};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use tokio::sync::Notify;

/// The keyspace, split into slot ranges.
pub struct Shards {
    shards: Vec<Shard>,
    databases: usize,
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
        Shards { shards, databases }
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
            execute(&mut ctx, cmd, args);
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
            .map(|mut g| g.active_expire(now, budget_per_shard))
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
