//! Keys some client is interested in: WATCHed keys, whose version every write
//! advances (EXEC compares it with the version seen at WATCH time), and keys
//! clients are blocked on, each with its queue of waiting client ids in the order
//! they blocked. A write to a key with waiters marks it ready; the runtime takes
//! the ready keys after the command and wakes the first waiter of each, which
//! retries its command. Serving the first waiter only, and letting its pop mark
//! the key ready again for the next, keeps Redis's first blocked, first served.
//!
//! Both tables are empty nearly always, so [`Interest::active`] is the only cost
//! a write pays.

use std::collections::{HashMap, VecDeque};

type Key = (usize, Vec<u8>);

/// One watched key.
struct Watched {
    /// Clients watching it.
    clients: u32,
    /// Value of the clock at its last write.
    version: u64,
}

/// The watch and wait tables of one shard.
#[derive(Default)]
pub(crate) struct Interest {
    watched: HashMap<Key, Watched>,
    waiting: HashMap<Key, VecDeque<u64>>,
    /// Keys with waiters written since the runtime last took them, in order.
    ready: Vec<Key>,
    clock: u64,
}

impl Interest {
    /// True if any key here is watched or waited on.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        !self.watched.is_empty() || !self.waiting.is_empty()
    }

    /// A write to `key`: advances its version if watched, marks it ready if waited on.
    #[cold]
    pub(crate) fn touch(&mut self, db: usize, key: &[u8]) {
        let k = (db, key.to_vec());
        if let Some(w) = self.watched.get_mut(&k) {
            self.clock += 1;
            w.version = self.clock;
        }
        if self.waiting.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// Every watched key of `db` for which `affected` holds is touched (FLUSHDB,
    /// SWAPDB), and every waited-on key of `db` is marked ready.
    pub(crate) fn touch_db(&mut self, db: usize, mut affected: impl FnMut(&[u8]) -> bool) {
        for ((d, key), w) in self.watched.iter_mut() {
            if *d == db && affected(key) {
                self.clock += 1;
                w.version = self.clock;
            }
        }
        for k in self.waiting.keys() {
            if k.0 == db && !self.ready.contains(k) {
                self.ready.push(k.clone());
            }
        }
    }

    /// Starts watching `key`; returns its current version.
    pub(crate) fn watch(&mut self, db: usize, key: &[u8]) -> u64 {
        let w = self.watched.entry((db, key.to_vec())).or_insert(Watched { clients: 0, version: 0 });
        w.clients += 1;
        w.version
    }

    /// The current version of a watched key (0 if nobody watches it).
    pub(crate) fn version(&self, db: usize, key: &[u8]) -> u64 {
        self.watched.get(&(db, key.to_vec())).map_or(0, |w| w.version)
    }

    /// One client stops watching `key`.
    pub(crate) fn unwatch(&mut self, db: usize, key: &[u8]) {
        let k = (db, key.to_vec());
        if let Some(w) = self.watched.get_mut(&k) {
            w.clients -= 1;
            if w.clients == 0 {
                self.watched.remove(&k);
            }
        }
    }

    /// Client `id` waits on `key`, behind those already waiting.
    pub(crate) fn add_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        self.waiting.entry((db, key.to_vec())).or_default().push_back(id);
    }

    /// Client `id` no longer waits on `key`. Whoever is now first is woken: the
    /// write that woke the one leaving may not have been consumed.
    pub(crate) fn remove_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        let k = (db, key.to_vec());
        let Some(q) = self.waiting.get_mut(&k) else { return };
        q.retain(|&w| w != id);
        if q.is_empty() {
            self.waiting.remove(&k);
            self.ready.retain(|r| r != &k);
        } else if !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// Appends the first waiter of each ready key to `wake` and forgets the ready keys.
    pub(crate) fn take_ready(&mut self, wake: &mut Vec<u64>) {
        for k in self.ready.drain(..) {
            if let Some(&first) = self.waiting.get(&k).and_then(|q| q.front()) {
                if !wake.contains(&first) {
                    wake.push(first);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_advance_watched_versions_only() {
        let mut i = Interest::default();
        assert!(!i.active());
        let v = i.watch(0, b"k");
        assert!(i.active());
        i.touch(0, b"other");
        i.touch(1, b"k");
        assert_eq!(i.version(0, b"k"), v);
        i.touch(0, b"k");
        assert_ne!(i.version(0, b"k"), v);
        i.unwatch(0, b"k");
        assert!(!i.active());
    }

    #[test]
    fn first_waiter_is_woken_and_leaving_wakes_the_next() {
        let mut i = Interest::default();
        i.add_waiter(0, b"k", 7);
        i.add_waiter(0, b"k", 9);
        let mut wake = Vec::new();
        i.take_ready(&mut wake);
        assert!(wake.is_empty());
        i.touch(0, b"k");
        i.touch(0, b"k");
        i.take_ready(&mut wake);
        assert_eq!(wake, [7]);
        wake.clear();
        i.remove_waiter(0, b"k", 7);
        i.take_ready(&mut wake);
        assert_eq!(wake, [9]);
        i.remove_waiter(0, b"k", 9);
        assert!(!i.active());
    }
}
