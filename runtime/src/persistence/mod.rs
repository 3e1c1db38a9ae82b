//! Persistence: what keeps the data across restarts.
//!
//! - [`aof`]: the append-only file (Redis 7's multi-part layout), its
//!   rewriting and its loading at start
//! - [`snapshot`]: RDB snapshots (SAVE, BGSAVE, `save` rules), loaded at
//!   start when the append-only file is off

pub mod aof;
pub mod snapshot;

use crate::server::shards::ShardGuard;
use crate::server::Shared;
use anyhow::{Context, Result};
use slotkv_core::keyspace::SlotDict;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A copy of the whole dataset at one moment: every non-empty slot of every
/// database, and the function libraries' sources.
pub struct DatasetCopy {
    /// (database, its non-empty slots).
    pub dbs: Vec<(usize, Vec<SlotDict>)>,
    /// Function library sources.
    pub libraries: Vec<Arc<[u8]>>,
}

/// Copies the dataset one shard at a time: each shard (so each slot) is
/// copied at one moment and only its clients wait, for its copy alone.
pub fn copy_dataset_by_shard(shared: &Shared) -> DatasetCopy {
    let databases = shared.shards.databases();
    let mut dbs: Vec<(usize, Vec<SlotDict>)> = (0..databases).map(|db| (db, Vec::new())).collect();
    for i in 0..shared.shards.count() {
        let g = shared.shards.lock(i);
        for (db, slots) in dbs.iter_mut() {
            slots.extend(g.db_slots(*db).iter().filter(|d| !d.is_empty()).cloned());
        }
    }
    dbs.retain(|(_, slots)| !slots.is_empty());
    let libraries =
        shared.functions.lock().unwrap_or_else(|e| e.into_inner()).libraries().map(|l| l.code.clone()).collect();
    DatasetCopy { dbs, libraries }
}

/// Copies the dataset; `guards` hold every shard, so the copy is one moment.
pub fn copy_dataset(guards: &[ShardGuard<'_>], shared: &Shared) -> DatasetCopy {
    let databases = guards.first().map_or(0, |g| g.databases());
    let dbs = (0..databases)
        .map(|db| (db, guards.iter().flat_map(|g| g.db_slots(db).iter().filter(|d| !d.is_empty()).cloned()).collect()))
        .filter(|(_, slots): &(usize, Vec<_>)| !slots.is_empty())
        .collect();
    let libraries =
        shared.functions.lock().unwrap_or_else(|e| e.into_inner()).libraries().map(|l| l.code.clone()).collect();
    DatasetCopy { dbs, libraries }
}

/// Writes `name` in `dir` so that a crash leaves the old file or the new one:
/// a temporary file, synced, renamed over it, and the directory synced.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("temp-{name}.{}", std::process::id()));
    let mut f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes).with_context(|| format!("writing {}", tmp.display()))?;
    f.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
    fs::rename(&tmp, dir.join(name)).with_context(|| format!("renaming {} to {name}", tmp.display()))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
