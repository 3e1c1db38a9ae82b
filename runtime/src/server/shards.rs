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
use std::sync::{Mutex, MutexGuard};

/// The keyspace, split into slot ranges.
pub struct Shards {
    shards: Vec<Mutex<Keyspace>>,
    databases: usize,
}

impl Shards {
    /// `n` shards over the 16384 slots, with `databases` logical databases.
    pub fn new(n: usize, databases: usize, seed: u64) -> Self {
        let n = n.clamp(1, SLOTS);
        let shards = (0..n)
            .map(|i| {
                let (first, end) = (i * SLOTS / n, (i + 1) * SLOTS / n);
                Mutex::new(Keyspace::new(first, end - first, databases, seed))
            })
            .collect();
        Shards { shards, databases }
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
    pub fn lock(&self, i: usize) -> MutexGuard<'_, Keyspace> {
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `cmd`, holding the shards it needs; returns the changes it made.
    /// Clients blocked on keys it wrote are appended to `wake`, to be woken
    /// once the locks are released.
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
    ) -> u64 {
        let spec = cmd.spec;
        let databases = self.databases;
        let mut rerun = false;
        let mut go = |parts, client, host, out| {
            let mut ctx = ExecCtx::new(Data::new(parts), client, host, out, now, databases);
            ctx.may_block = true;
            execute(&mut ctx, cmd, args);
            for p in ctx.data.shards() {
                p.take_ready(wake);
            }
            rerun = ctx.wants_all_shards;
            ctx.dirty
        };
        let dirty = if spec.has(flags::KEYSPACE) {
            let mut guards: Vec<_> = (0..self.shards.len()).map(|i| self.lock(i)).collect();
            let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
            return go(&mut parts[..], client, host, out);
        } else {
            let mut keys = spec.key_indexes(&args);
            match keys.next() {
                None => go(&mut [], client, host, out),
                Some(first) => {
                    let s0 = self.shard_of(key_slot(args.get(first)) as usize);
                    let mut more: Vec<usize> =
                        keys.map(|i| self.shard_of(key_slot(args.get(i)) as usize)).filter(|&s| s != s0).collect();
                    if more.is_empty() {
                        let mut g = self.lock(s0);
                        go(&mut [&mut *g], client, host, out)
                    } else {
                        more.push(s0);
                        more.sort_unstable();
                        more.dedup();
                        let mut guards: Vec<_> = more.iter().map(|&i| self.lock(i)).collect();
                        let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
                        go(&mut parts[..], client, host, out)
                    }
                }
            }
        };
        if !rerun {
            return dirty;
        }
        // A script touched keys it did not declare: it was rolled back and runs
        // again holding every shard, so it stays atomic.
        let mut guards: Vec<_> = (0..self.shards.len()).map(|i| self.lock(i)).collect();
        let mut parts: Vec<&mut Keyspace> = guards.iter_mut().map(|g| &mut **g).collect();
        let mut ctx = ExecCtx::new(Data::new(&mut parts[..]), client, host, out, now, databases);
        ctx.may_block = true;
        execute(&mut ctx, cmd, args);
        for p in ctx.data.shards() {
            p.take_ready(wake);
        }
        dirty + ctx.dirty
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

    /// One active-expiry step over every shard; returns the keys removed.
    pub fn active_expire(&self, now: u64, budget_per_shard: usize) -> usize {
        (0..self.shards.len()).map(|i| self.lock(i).active_expire(now, budget_per_shard)).sum()
    }
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
