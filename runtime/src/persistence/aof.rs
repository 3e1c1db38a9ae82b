//! The append-only file, in Redis 7's multi-part layout: under `appenddirname`
//! a manifest names one base file (the dataset as commands) and the increment
//! files after it (every change since, as the commands that redo it). Both
//! kinds are plain RESP, so Redis's `redis-check-aof` reads them.
//!
//! # Writing
//! Commands record their effects while they hold their shards
//! ([`slotkv_core::effects`]) and append them here before releasing them, so
//! the file's order agrees with the order in which writes to the same keys
//! happened. Before a connection writes replies it calls
//! [`Aof::before_reply`]: the appended bytes are written to the file (one
//! `write` for everything buffered by every client), and with `appendfsync
//! always` it waits until a sync covers them, so no reply acknowledges a
//! write the disk does not hold. One thread syncs: on demand for `always`
//! (one sync serves every client waiting then), once a second for `everysec`.
//!
//! # Rewriting
//! [`Aof::rewrite`] starts a new increment file and copies the dataset while
//! holding every shard (a pause proportional to the data, where Redis forks),
//! then writes the base from the copy on its own thread while clients go on
//! writing to the new increment. The manifest is replaced atomically at each
//! step, so a crash at any point leaves files that load to the same data.
//!
//! # Loading
//! The base, then each increment in order. A last increment cut short by a
//! crash (an incomplete command, or a MULTI without its EXEC) is truncated to
//! its last whole command, with a warning (`aof-load-truncated yes`, as
//! Redis); anything else unreadable stops the start with the file and offset.

use super::write_durably;
use crate::server::host::{ClientInfo, ServerHost};
use crate::server::{now_ms, Shared};
use anyhow::{bail, Context, Result};
use slotkv_core::effects::Effects;
use slotkv_core::resp::request::RequestLimits;
use slotkv_core::{ClientState, ReplyBuf, RequestParser};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tracing::{info, warn};

/// When appended data is synced to disk (`appendfsync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Before any reply acknowledges it.
    Always = 0,
    /// About once a second.
    EverySec = 1,
    /// When the operating system decides.
    No = 2,
}

impl FsyncPolicy {
    /// Parses `always`, `everysec` or `no`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "always" => Some(FsyncPolicy::Always),
            "everysec" => Some(FsyncPolicy::EverySec),
            "no" => Some(FsyncPolicy::No),
            _ => None,
        }
    }
    fn from_u8(v: u8) -> Self {
        match v {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::EverySec,
            _ => FsyncPolicy::No,
        }
    }
}

/// Where the files live and what they are called.
#[derive(Clone, Debug)]
pub struct AofPaths {
    /// `dir/appenddirname`.
    pub dir: PathBuf,
    /// `appendfilename`: the prefix of every file name.
    pub name: String,
}

impl AofPaths {
    fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.name))
    }
    fn base(&self, seq: u64, rdb: bool) -> String {
        format!("{}.{seq}.base.{}", self.name, if rdb { "rdb" } else { "aof" })
    }
    fn incr(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.name)
    }
}

/// The files the manifest lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file and its sequence number.
    pub base: Option<(String, u64)>,
    /// Increment files and their sequence numbers, oldest first.
    pub incrs: Vec<(String, u64)>,
}

impl Manifest {
    /// Reads Redis's manifest format: `file <name> seq <n> type <b|h|i>` lines.
    pub fn parse(text: &str) -> Result<Manifest> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split(' ').collect();
            let field = |k: &str| words.chunks(2).find(|c| c.len() == 2 && c[0] == k).map(|c| c[1]);
            let (Some(file), Some(seq), Some(kind)) = (field("file"), field("seq"), field("type")) else {
                bail!("invalid AOF manifest line {}: {line}", i + 1);
            };
            let seq: u64 = seq.parse().with_context(|| format!("invalid seq in AOF manifest line {}", i + 1))?;
            if file.contains('/') {
                bail!("invalid file name in AOF manifest line {}: {file}", i + 1);
            }
            match kind {
                "b" => m.base = Some((file.to_string(), seq)),
                "i" => m.incrs.push((file.to_string(), seq)),
                "h" => {}
                _ => bail!("unknown file type in AOF manifest line {}: {kind}", i + 1),
            }
        }
        Ok(m)
    }

    /// The manifest's text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some((f, seq)) = &self.base {
            s.push_str(&format!("file {f} seq {seq} type b\n"));
        }
        for (f, seq) in &self.incrs {
            s.push_str(&format!("file {f} seq {seq} type i\n"));
        }
        s
    }
}

/// Effects appended and not yet written.
struct Pending {
    buf: Vec<u8>,
    /// The database the file's text last selected (`None` at a new file).
    db: Option<usize>,
}

/// The increment file being appended to.
struct Current {
    file: Arc<File>,
    manifest: Manifest,
    /// Bytes in the current increment file.
    incr_size: u64,
    /// Bytes in the base when it was written (for automatic rewrites).
    base_size: u64,
}

/// The append-only file of a running server.
pub struct Aof {
    paths: AofPaths,
    policy: AtomicU8,
    pending: Mutex<Pending>,
    current: Mutex<Current>,
    /// Bytes ever appended, written, and synced (positions in one stream
    /// that runs across files).
    appended: AtomicU64,
    written: AtomicU64,
    synced: AtomicU64,
    synced_notify: Notify,
    sync_wanted: (Mutex<bool>, Condvar),
    rewriting: AtomicBool,
    /// Unix seconds of the last successful rewrite, and whether the last one failed.
    last_rewrite_failed: AtomicBool,
}

impl Aof {
    /// Opens (creating if missing) the files under `paths` and returns them
    /// with the files to load, in order.
    pub fn open(paths: AofPaths, policy: FsyncPolicy) -> Result<(Arc<Aof>, Vec<PathBuf>)> {
        fs::create_dir_all(&paths.dir).with_context(|| format!("creating {}", paths.dir.display()))?;
        let manifest_path = paths.manifest();
        let mut manifest = if manifest_path.exists() {
            let text = fs::read_to_string(&manifest_path)
                .with_context(|| format!("reading the AOF manifest {}", manifest_path.display()))?;
            Manifest::parse(&text)?
        } else {
            Manifest::default()
        };
        for (f, _) in manifest.base.iter().chain(&manifest.incrs) {
            if !paths.dir.join(f).exists() {
                bail!("the AOF file {f} named by the manifest {} does not exist", manifest_path.display());
            }
        }
        let to_load: Vec<PathBuf> =
            manifest.base.iter().chain(&manifest.incrs).map(|(f, _)| paths.dir.join(f)).collect();
        let base_size =
            manifest.base.as_ref().and_then(|(f, _)| fs::metadata(paths.dir.join(f)).ok()).map_or(0, |m| m.len());
        if manifest.base.is_none() && manifest.incrs.is_empty() {
            // A new file: an empty base, as Redis starts one.
            let base = paths.base(1, false);
            write_durably(&paths.dir, &base, b"")?;
            manifest.base = Some((base, 1));
        }
        if manifest.incrs.is_empty() {
            let seq = manifest.base.as_ref().map_or(1, |b| b.1);
            manifest.incrs.push((paths.incr(seq), seq));
        }
        let (incr, _) = manifest.incrs.last().cloned().expect("an increment file");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(paths.dir.join(&incr))
            .with_context(|| format!("opening {incr}"))?;
        write_durably(&paths.dir, &format!("{}.manifest", paths.name), manifest.render().as_bytes())?;
        let incr_size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let aof = Arc::new(Aof {
            paths,
            policy: AtomicU8::new(policy as u8),
            pending: Mutex::new(Pending { buf: Vec::new(), db: None }),
            current: Mutex::new(Current { file: Arc::new(file), manifest, incr_size, base_size }),
            appended: AtomicU64::new(0),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            synced_notify: Notify::new(),
            sync_wanted: (Mutex::new(false), Condvar::new()),
            rewriting: AtomicBool::new(false),
            last_rewrite_failed: AtomicBool::new(false),
        });
        Ok((aof, to_load))
    }

    /// The fsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        FsyncPolicy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// Changes the fsync policy (CONFIG SET appendfsync).
    pub fn set_policy(&self, p: FsyncPolicy) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    /// Appends what one command changed. Called while it holds its shards.
    pub fn append(&self, effects: &mut Effects) {
        if effects.is_empty() {
            return;
        }
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let before = p.buf.len();
        let Pending { buf, db } = &mut *p;
        effects.drain_into(buf, db);
        self.appended.fetch_add((p.buf.len() - before) as u64, Ordering::Release);
    }

    /// Makes everything appended so far safe as the policy promises before a
    /// reply is written: written to the file, and with `always` synced.
    pub async fn before_reply(&self) {
        let target = self.appended.load(Ordering::Acquire);
        if self.written.load(Ordering::Acquire) < target {
            self.write_pending();
        }
        if self.policy() != FsyncPolicy::Always {
            return;
        }
        loop {
            let notified = self.synced_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.synced.load(Ordering::Acquire) >= target {
                return;
            }
            self.want_sync();
            notified.await;
        }
    }

    /// Writes the pending bytes to the current increment file.
    fn write_pending(&self) {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let (bytes, end) = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            (std::mem::take(&mut p.buf), self.appended.load(Ordering::Acquire))
        };
        if bytes.is_empty() {
            return;
        }
        if let Err(e) = (&*cur.file).write_all(&bytes) {
            // Redis's answer to a failed write it cannot take back: stop
            // rather than acknowledge writes that are not in the file.
            tracing::error!("Can't write to the append only file: {e}. Exiting...");
            std::process::exit(1);
        }
        cur.incr_size += bytes.len() as u64;
        self.written.fetch_max(end, Ordering::AcqRel);
    }

    /// Writes and syncs everything appended (at shutdown).
    pub fn flush(&self) {
        self.write_pending();
        self.sync_now();
    }

    fn want_sync(&self) {
        let (m, cv) = &self.sync_wanted;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_one();
    }

    /// Syncs what was written; returns the position now safe.
    fn sync_now(&self) {
        let written = self.written.load(Ordering::Acquire);
        if self.synced.load(Ordering::Acquire) >= written {
            return;
        }
        let file = self.current.lock().unwrap_or_else(|e| e.into_inner()).file.clone();
        let written = self.written.load(Ordering::Acquire);
        if let Err(e) = file.sync_data() {
            tracing::error!("Can't sync the append only file: {e}. Exiting...");
            std::process::exit(1);
        }
        self.synced.fetch_max(written, Ordering::AcqRel);
        self.synced_notify.notify_waiters();
    }

    /// The syncing thread: on demand (`always`), else once a second; it also
    /// writes what was appended by commands no reply waits for (active
    /// expiry) and starts automatic rewrites.
    pub fn spawn_syncer(self: &Arc<Self>, shared: std::sync::Weak<Shared>) {
        let aof = self.clone();
        std::thread::Builder::new()
            .name("aof-sync".into())
            .spawn(move || {
                let mut last = Instant::now();
                loop {
                    {
                        let (m, cv) = &aof.sync_wanted;
                        let mut wanted = m.lock().unwrap_or_else(|e| e.into_inner());
                        if !*wanted {
                            wanted = cv
                                .wait_timeout(wanted, Duration::from_millis(100))
                                .unwrap_or_else(|e| e.into_inner())
                                .0;
                        }
                        *wanted = false;
                    }
                    let Some(shared) = shared.upgrade() else { return };
                    if shared.shutting_down() {
                        aof.write_pending();
                        aof.sync_now();
                        return;
                    }
                    if aof.written.load(Ordering::Acquire) < aof.appended.load(Ordering::Acquire) {
                        aof.write_pending();
                    }
                    match aof.policy() {
                        FsyncPolicy::Always => aof.sync_now(),
                        FsyncPolicy::EverySec if last.elapsed() >= Duration::from_secs(1) => {
                            aof.sync_now();
                            last = Instant::now();
                        }
                        _ => {}
                    }
                    aof.maybe_auto_rewrite(&shared);
                }
            })
            .expect("spawning the AOF sync thread");
    }

    fn maybe_auto_rewrite(self: &Arc<Self>, shared: &Arc<Shared>) {
        let (pct, min) = {
            let c = shared.config.read().unwrap_or_else(|e| e.into_inner());
            (c.get_i64("auto-aof-rewrite-percentage") as u64, c.get_i64("auto-aof-rewrite-min-size") as u64)
        };
        if pct == 0 || self.rewriting.load(Ordering::Acquire) {
            return;
        }
        let (incr, base) = {
            let c = self.current.lock().unwrap_or_else(|e| e.into_inner());
            (c.incr_size, c.base_size)
        };
        let total = incr + base;
        if total >= min && incr * 100 >= base.max(1) * pct {
            info!("Starting automatic rewriting of AOF on {}% growth", incr * 100 / base.max(1));
            let _ = self.rewrite(shared.clone());
        }
    }

    /// True while a rewrite runs.
    pub fn rewriting(&self) -> bool {
        self.rewriting.load(Ordering::Acquire)
    }

    /// True if the last rewrite failed.
    pub fn last_rewrite_failed(&self) -> bool {
        self.last_rewrite_failed.load(Ordering::Relaxed)
    }

    /// Starts a background rewrite; `Err` with Redis's text if one runs.
    pub fn rewrite(self: &Arc<Self>, shared: Arc<Shared>) -> std::result::Result<(), &'static str> {
        if self.rewriting.swap(true, Ordering::AcqRel) {
            return Err("ERR Background append only file rewriting already in progress");
        }
        let aof = self.clone();
        let spawned = std::thread::Builder::new().name("aof-rewrite".into()).spawn(move || {
            let result = aof.rewrite_now(&shared);
            if let Err(e) = &result {
                warn!("Background AOF rewrite failed: {e:#}");
            }
            aof.last_rewrite_failed.store(result.is_err(), Ordering::Relaxed);
            aof.rewriting.store(false, Ordering::Release);
        });
        if spawned.is_err() {
            self.rewriting.store(false, Ordering::Release);
            return Err("ERR Can't start the background rewrite");
        }
        Ok(())
    }

    fn rewrite_now(&self, shared: &Shared) -> Result<()> {
        let started = Instant::now();
        let now = now_ms();
        // 1. Hold every shard: nothing is appended while the file switches
        //    and the data is copied, so the copy and the new increment meet
        //    exactly.
        let (copy, old, pause) = {
            let guards = shared.shards.lock_all();
            let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
            drop(cur);
            self.write_pending();
            cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
            cur.file.sync_data().context("syncing the increment file")?;
            let old = cur.manifest.clone();
            let next_incr = old.incrs.last().map_or(1, |i| i.1 + 1);
            let incr_name = self.paths.incr(next_incr);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.paths.dir.join(&incr_name))
                .with_context(|| format!("creating {incr_name}"))?;
            let mut during = old.clone();
            during.incrs.push((incr_name, next_incr));
            write_durably(&self.paths.dir, &format!("{}.manifest", self.paths.name), during.render().as_bytes())?;
            cur.file = Arc::new(file);
            cur.manifest = during;
            cur.incr_size = 0;
            // The new file starts with no database selected.
            self.pending.lock().unwrap_or_else(|e| e.into_inner()).db = None;
            let copy = super::copy_dataset(&guards, shared);
            (copy, old, started.elapsed())
        };
        // 2. The base, from the copy, while clients write to the new increment.
        let preamble = shared.config.read().unwrap_or_else(|e| e.into_inner()).get_bool("aof-use-rdb-preamble");
        let mut text = Vec::new();
        if preamble {
            super::snapshot::encode(&copy, now, |chunk| {
                text.extend_from_slice(chunk);
                Ok(())
            })?;
        } else {
            for code in &copy.libraries {
                slotkv_core::effects::encode_command(&mut text, &[b"FUNCTION".as_slice(), b"LOAD", code]);
            }
            for (db, slots) in &copy.dbs {
                slotkv_core::effects::rewrite_db(&mut text, *db, slots, now);
            }
        }
        drop(copy);
        let base_seq = old.base.as_ref().map_or(1, |b| b.1 + 1);
        let base_name = self.paths.base(base_seq, preamble);
        write_durably(&self.paths.dir, &base_name, &text)?;
        // 3. The manifest names the new base and the increments since.
        let obsolete = {
            let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
            let mut next = cur.manifest.clone();
            let keep = next.incrs.len() - (next.incrs.len() - old.incrs.len());
            let obsolete: Vec<String> =
                old.base.iter().map(|b| b.0.clone()).chain(next.incrs.drain(..keep).map(|i| i.0)).collect();
            next.base = Some((base_name, base_seq));
            write_durably(&self.paths.dir, &format!("{}.manifest", self.paths.name), next.render().as_bytes())?;
            cur.manifest = next;
            cur.base_size = text.len() as u64;
            obsolete
        };
        for f in obsolete {
            let _ = fs::remove_file(self.paths.dir.join(f));
        }
        info!(
            "Background AOF rewrite finished successfully: {} bytes, clients paused {} ms, {} ms in all",
            text.len(),
            pause.as_millis(),
            started.elapsed().as_millis()
        );
        Ok(())
    }
}

/// Replays `files` (base first) into the server's shards. A base in RDB form
/// (`aof-use-rdb-preamble`) loads as a snapshot. The last file may end in an
/// incomplete command or transaction, which is cut off with a warning when
/// `truncated_ok`; any other damage is an error naming the file and offset.
pub fn load(shared: &Arc<Shared>, files: &[PathBuf], truncated_ok: bool) -> Result<u64> {
    let mut commands = 0u64;
    for (i, path) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = fs::read(path).with_context(|| format!("reading the append only file {name}"))?;
        if bytes.starts_with(b"REDIS") {
            commands += super::snapshot::load_bytes(shared, &bytes)
                .with_context(|| format!("loading the RDB preamble of the append only file {name}"))?;
            continue;
        }
        let truncated_ok = last && truncated_ok;
        let (n, keep) =
            with_loader(shared, |host, client| load_resp(shared, host, client, &name, &bytes, truncated_ok))?;
        commands += n;
        if keep < bytes.len() {
            warn!("!!! Warning: short read while loading the AOF file {name}!!!");
            warn!("!!! Truncating the AOF {name} at offset {keep} !!!");
            let f =
                OpenOptions::new().write(true).open(path).with_context(|| format!("opening {name} to truncate it"))?;
            f.set_len(keep as u64).with_context(|| format!("truncating {name}"))?;
            f.sync_all().ok();
            warn!("AOF loaded anyway because aof-load-truncated is enabled");
        }
    }
    Ok(commands)
}

/// Runs whole RESP commands (`bytes`, from `what`) as the loader does.
pub fn replay(shared: &Arc<Shared>, what: &str, bytes: &[u8]) -> Result<u64> {
    with_loader(shared, |host, client| load_resp(shared, host, client, what, bytes, false)).map(|(n, _)| n)
}

/// Runs `f` with a client and host for loading, the shards in loading mode
/// (no expiry while the data comes in).
fn with_loader<T>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut ServerHost<'_>, &mut ClientState) -> Result<T>,
) -> Result<T> {
    let (mailbox, _rx) = tokio::sync::mpsc::unbounded_channel();
    let nowhere: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    let info = Arc::new(ClientInfo::new(0, nowhere, nowhere, mailbox));
    let mut rng = slotkv_core::rng::Rng::new(1);
    let mut host = ServerHost { shared, me: &info, rng: &mut rng };
    let mut client = ClientState::new(0, false);
    shared.shards.set_loading(true);
    let result = f(&mut host, &mut client);
    shared.shards.set_loading(false);
    result
}

/// Runs the commands in `bytes`; the number run and the length of the whole
/// commands (and transactions) read, which is less than the input only when
/// `truncated_ok` let a cut-off tail go.
fn load_resp(
    shared: &Arc<Shared>,
    host: &mut ServerHost<'_>,
    client: &mut ClientState,
    name: &str,
    bytes: &[u8],
    truncated_ok: bool,
) -> Result<(u64, usize)> {
    let limits =
        RequestLimits { max_bulk_len: usize::MAX / 2, max_multibulk_len: usize::MAX / 2, ..Default::default() };
    let mut parser = RequestParser::new(limits);
    let mut argv = slotkv_core::Argv::new();
    let (mut at, mut commands) = (0usize, 0u64);
    // Where the open MULTI began: a crash may cut a transaction short.
    let mut multi_at: Option<usize> = None;
    let now = now_ms();
    let mut out = ReplyBuf::new(false);
    let mut wake = Vec::new();
    loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break;
        }
        if rest[0] != b'*' {
            bail!(
                "Bad file format reading the append only file {name} at offset {at}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
            );
        }
        match parser.parse(rest, &mut argv) {
            Ok(Some(used)) => {
                let args = argv.bind(rest);
                let resolved = slotkv_core::resolve(&args);
                if slotkv_core::commands::lookup(args.get(0)).is_none() {
                    bail!(
                        "Unknown command '{}' reading the append only file {name} at offset {at}",
                        String::from_utf8_lossy(args.get(0))
                    );
                }
                if args.get(0).eq_ignore_ascii_case(b"multi") {
                    multi_at = Some(at);
                }
                if let Some(cmd) = slotkv_core::exec::admit(client, resolved, &args, &mut out, None) {
                    shared.shards.run(cmd, args, client, host, &mut out, now, &mut wake);
                }
                if client.multi.is_none() {
                    multi_at = None;
                }
                out.buf.clear();
                wake.clear();
                commands += 1;
                at += used;
            }
            Ok(None) => {
                if !truncated_ok {
                    bail!("Unexpected end of file reading the append only file {name} at offset {at}");
                }
                break;
            }
            Err(e) => bail!(
                "Bad file format reading the append only file {name} at offset {at} ({e}): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
            ),
        }
    }
    let mut keep = at;
    if let Some(m) = multi_at {
        if !truncated_ok {
            bail!("Unexpected end of file reading the append only file {name}: a MULTI at offset {m} has no EXEC");
        }
        warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name} at offset {m}");
        client.multi = None;
        keep = m;
    }
    Ok((commands, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_refuses_garbage() {
        let text = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base, Some(("appendonly.aof.2.base.aof".into(), 2)));
        assert_eq!(m.incrs, vec![("appendonly.aof.3.incr.aof".into(), 3)]);
        assert_eq!(m.render(), text);
        assert!(Manifest::parse("file x seq y type b").is_err());
        assert!(Manifest::parse("file ../x seq 1 type b").is_err());
        assert!(Manifest::parse("nonsense").is_err());
        assert!(Manifest::parse("file a seq 1 type z").is_err());
    }
}
