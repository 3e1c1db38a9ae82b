//! Snapshots: `SAVE`, `BGSAVE`, the `save <seconds> <changes>` rules, the
//! save at shutdown and the load at start, in Redis's RDB file format
//! ([`slotkv_core::snapshot`]) under `dir/dbfilename`.
//!
//! BGSAVE copies the dataset one shard at a time (each slot is copied at one
//! moment, and a shard's clients wait only for its own copy, where Redis
//! forks), then writes the copy on its own thread while clients go on. SAVE
//! and the save at exit copy every shard at one moment. The file is written under a temporary
//! name, synced, and renamed over the old one, so a crash mid-write leaves
//! the previous snapshot whole.

use super::{copy_dataset, copy_dataset_by_shard, DatasetCopy};
use crate::server::{now_ms, Shared};
use anyhow::{bail, Context, Result};
use slotkv_core::snapshot::{read_snapshot, SnapshotItem, SnapshotWriter};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tracing::{info, warn};

/// After a failed background save, rules wait this long before trying again
/// (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_MS: u64 = 5000;

/// The state of snapshotting.
#[derive(Default)]
pub struct Snapshots {
    in_progress: AtomicBool,
    scheduled: AtomicBool,
    last_failed: AtomicBool,
    /// The change counter when the last successful save copied the data.
    dirty_at_save: AtomicU64,
    /// Unix ms of the last attempt.
    last_try_ms: AtomicU64,
}

impl Snapshots {
    /// True while a background save runs.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// True if the last save failed.
    pub fn last_failed(&self) -> bool {
        self.last_failed.load(Ordering::Relaxed)
    }

    /// Changes since the last successful save.
    pub fn changes_since_save(&self, dirty: u64) -> u64 {
        dirty.saturating_sub(self.dirty_at_save.load(Ordering::Relaxed))
    }
}

/// `dir/dbfilename`.
pub fn snapshot_path(shared: &Shared) -> PathBuf {
    let cfg = shared.config.read().unwrap_or_else(|p| p.into_inner());
    Path::new(cfg.get("dir")).join(cfg.get("dbfilename"))
}

/// SAVE: writes a snapshot on the calling thread.
pub fn save(shared: &Arc<Shared>) -> std::result::Result<(), &'static str> {
    let snaps = &shared.snapshots;
    if snaps.in_progress.swap(true, Ordering::AcqRel) {
        return Err("ERR Background save already in progress");
    }
    let result = save_now(shared, true);
    snaps.in_progress.store(false, Ordering::Release);
    result.map_err(|e| {
        warn!("Error saving DB on disk: {e:#}");
        "ERR"
    })
}

/// BGSAVE: starts a snapshot on its own thread; the reply text.
pub fn bgsave(shared: &Arc<Shared>, schedule: bool) -> std::result::Result<&'static str, &'static str> {
    let snaps = &shared.snapshots;
    if snaps.in_progress.swap(true, Ordering::AcqRel) {
        if schedule {
            snaps.scheduled.store(true, Ordering::Release);
            return Ok("Background saving scheduled");
        }
        return Err("ERR Background save already in progress");
    }
    let sh = shared.clone();
    let spawned = std::thread::Builder::new().name("bgsave".into()).spawn(move || loop {
        if let Err(e) = save_now(&sh, false) {
            warn!("Background saving error: {e:#}");
        }
        if !sh.snapshots.scheduled.swap(false, Ordering::AcqRel) {
            sh.snapshots.in_progress.store(false, Ordering::Release);
            // A schedule that came in just now still gets its save.
            if !sh.snapshots.scheduled.swap(false, Ordering::AcqRel)
                || sh.snapshots.in_progress.swap(true, Ordering::AcqRel)
            {
                return;
            }
        }
    });
    if spawned.is_err() {
        snaps.in_progress.store(false, Ordering::Release);
        return Err("ERR Can't start the background save");
    }
    Ok("Background saving started")
}

/// Copies the dataset and writes it; updates LASTSAVE and the change counter.
/// `whole`: one moment for every shard (SAVE, which Redis also runs with
/// everything stopped, and the save at exit); otherwise shard by shard
/// (BGSAVE), so that no client waits for more than its shard's copy.
fn save_now(shared: &Shared, whole: bool) -> Result<()> {
    let started = std::time::Instant::now();
    shared.snapshots.last_try_ms.store(now_ms(), Ordering::Relaxed);
    // Changes counted from here on may or may not be in the copy: the next
    // save rule counts them again, never misses them.
    let dirty = shared.stats.dirty.get();
    let copy = if whole {
        let guards = shared.shards.lock_all();
        copy_dataset(&guards, shared)
    } else {
        copy_dataset_by_shard(shared)
    };
    let pause = started.elapsed();
    let path = snapshot_path(shared);
    let result = write_snapshot(&path, &copy, now_ms());
    drop(copy);
    match result {
        Ok(bytes) => {
            shared.snapshots.dirty_at_save.store(dirty, Ordering::Relaxed);
            shared.lastsave.store((now_ms() / 1000) as i64, Ordering::Relaxed);
            shared.snapshots.last_failed.store(false, Ordering::Relaxed);
            info!(
                "DB saved on disk: {bytes} bytes, copied in {} ms, {} ms in all",
                pause.as_millis(),
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Err(e) => {
            shared.snapshots.last_failed.store(true, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// The snapshot of `copy` as bytes, handed to `sink` in pieces of about a
/// megabyte. Keys already expired at `now` are left out.
pub fn encode(copy: &DatasetCopy, now: u64, mut sink: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let ctime = (now / 1000).to_string();
    let used = crate::server::memory::used_memory().to_string();
    let mut w = SnapshotWriter::new(&[
        ("redis-ver", slotkv_core::commands::connection_version()),
        ("redis-bits", "64"),
        ("ctime", &ctime),
        ("used-mem", &used),
        ("aof-base", "0"),
    ]);
    for code in &copy.libraries {
        w.function(code);
    }
    for (db, slots) in &copy.dbs {
        let live = |at: Option<u64>| at.is_none_or(|t| t > now);
        let (mut keys, mut expires) = (0, 0);
        for sd in slots {
            for (k, _) in sd.iter() {
                let at = sd.expire_of(k);
                if live(at) {
                    keys += 1;
                    expires += usize::from(at.is_some());
                }
            }
        }
        if keys == 0 {
            continue;
        }
        w.select_db(*db, keys, expires);
        for sd in slots {
            for (k, v) in sd.iter() {
                let at = sd.expire_of(k);
                if live(at) {
                    w.key(k, v, at);
                    if w.buffered() >= 1 << 20 {
                        sink(&w.take())?;
                    }
                }
            }
        }
    }
    sink(&w.take())?;
    sink(&w.finish())
}

/// The directory a snapshot file is in (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The temporary file a snapshot is written to before its rename.
fn temp_path(path: &Path) -> PathBuf {
    dir_of(path).join(format!("temp-{}.rdb", std::process::id()))
}

/// Writes `copy` to `path` through a temporary file; the bytes written.
pub fn write_snapshot(path: &Path, copy: &DatasetCopy, now: u64) -> Result<u64> {
    let (dir, tmp) = (dir_of(path), temp_path(path));
    let mut f = File::create(&tmp).with_context(|| format!("Failed opening the temp RDB file {}", tmp.display()))?;
    let mut bytes = 0u64;
    let written = encode(copy, now, |chunk| {
        bytes += chunk.len() as u64;
        f.write_all(chunk).with_context(|| format!("writing {}", tmp.display()))
    })
    .and_then(|()| f.sync_all().with_context(|| format!("syncing {}", tmp.display())))
    .and_then(|()| fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display())));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(bytes)
}

/// Checks before a shutdown that promises a save that the snapshot's
/// directory takes a file, so the save at exit does not fail late.
pub fn check_writable(shared: &Shared) -> Result<()> {
    let probe = temp_path(&snapshot_path(shared));
    File::create(&probe).with_context(|| format!("Failed opening the temp RDB file {}", probe.display()))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Saves at shutdown (SHUTDOWN SAVE, or `save` rules set and no NOSAVE).
pub fn save_at_exit(shared: &Shared) {
    info!("Saving the final RDB snapshot before exiting.");
    match save_now(shared, true) {
        Ok(()) => {}
        Err(e) => warn!("Error trying to save the DB: {e:#}"),
    }
}

/// The `save` rules: (seconds, changes) pairs.
pub fn rules(shared: &Shared) -> Vec<(u64, u64)> {
    let cfg = shared.config.read().unwrap_or_else(|p| p.into_inner());
    parse_rules(cfg.get("save")).unwrap_or_default()
}

/// Parses `save`'s words; `None` if they are not pairs of numbers.
pub fn parse_rules(words: &str) -> Option<Vec<(u64, u64)>> {
    let w: Vec<&str> = words.split_whitespace().collect();
    if !w.len().is_multiple_of(2) {
        return None;
    }
    w.chunks(2).map(|p| Some((p[0].parse().ok()?, p[1].parse().ok()?))).collect()
}

/// Runs the `save` rules: ten times a second, a background save starts when
/// some rule's changes happened within its seconds since the last save.
pub async fn rules_loop(shared: Arc<Shared>) {
    let mut sig = shared.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
            _ = sig.wait_for(|v| *v) => return,
        }
        let snaps = &shared.snapshots;
        if snaps.in_progress() {
            continue;
        }
        let now = now_ms();
        if snaps.last_failed() && now.saturating_sub(snaps.last_try_ms.load(Ordering::Relaxed)) < RETRY_DELAY_MS {
            continue;
        }
        let changes = snaps.changes_since_save(shared.stats.dirty.get());
        let elapsed = (now / 1000).saturating_sub(shared.lastsave.load(Ordering::Relaxed).max(0) as u64);
        if let Some((secs, n)) = rules(&shared).into_iter().find(|&(secs, n)| changes >= n && elapsed >= secs) {
            info!("{n} changes in {secs} seconds. Saving...");
            let _ = bgsave(&shared, false);
        }
    }
}

/// Loads `path` at start (if it exists): the function libraries, then every
/// key not yet expired. A damaged file stops the start, naming the file.
pub fn load(shared: &Arc<Shared>, path: &Path) -> Result<Option<u64>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading the snapshot {}", path.display())),
    };
    load_bytes(shared, &bytes).with_context(|| format!("loading the snapshot {}", path.display())).map(Some)
}

/// Loads a snapshot held in memory (a file, or an AOF base in RDB form).
pub fn load_bytes(shared: &Arc<Shared>, bytes: &[u8]) -> Result<u64> {
    let now = now_ms();
    let databases = shared.shards.databases();
    let mut libraries = Vec::new();
    let mut too_many_dbs = None;
    let mut loaded = 0u64;
    {
        let mut guards = shared.shards.lock_all();
        let keys = read_snapshot(bytes, |item| match item {
            SnapshotItem::Function(code) => libraries.push(code),
            SnapshotItem::Key { db, key, value, expire_at } => {
                if db >= databases {
                    too_many_dbs = Some(db);
                    return;
                }
                if expire_at.is_some_and(|at| at <= now) {
                    return;
                }
                let slot = slotkv_core::slot::key_slot(&key) as usize;
                let ks = &mut guards[shared.shards.shard_of(slot)];
                ks.insert(db, slot, &key, value, false, now);
                if let Some(at) = expire_at {
                    ks.set_expire(db, slot, &key, at);
                }
                loaded += 1;
            }
        })
        .map_err(anyhow::Error::from)?;
        let _ = keys;
    }
    if let Some(db) = too_many_dbs {
        bail!("FATAL: Data file was created with a Redis server configured to handle more than {databases} databases (it holds database {db}). Exiting");
    }
    let mut commands = Vec::new();
    for code in &libraries {
        slotkv_core::effects::encode_command(&mut commands, &[b"FUNCTION".as_slice(), b"LOAD", b"REPLACE", code]);
    }
    super::aof::replay(shared, "the snapshot's functions", &commands)?;
    Ok(loaded)
}
