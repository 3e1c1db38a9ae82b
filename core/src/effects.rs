//! Effects: what a command changed, written as the commands that redo it. The
//! append-only file (and, later, a replica's stream) is made of them.
//!
//! Replaying effects must rebuild the same data at any later time, so a
//! command is recorded as it ran, not as it was sent: relative expiry times
//! become absolute (`SET .. PXAT`, `PEXPIREAT`), random choices become the
//! elements chosen (`SPOP` → `SREM`), float arithmetic becomes its result
//! (`INCRBYFLOAT` → `SET .. KEEPTTL`), and a script or transaction becomes the
//! write commands it ran, in `MULTI`/`EXEC` when there are several. Keys that
//! expire or are evicted are recorded as `DEL` ahead of the command that
//! noticed them, so a replay never finds a key the original had already lost.
//!
//! Recording is off unless the host turns it on ([`Effects::recording`]), and
//! then costs nothing for commands that change nothing.
// Hot path: every write command while the append-only file is on.

use crate::bytestring::ByteString;
use crate::numeric::fmt_g17;
use crate::types::stream::{StreamId, StreamValue};
use crate::types::Value;

/// The effects of one top-level command.
#[derive(Debug, Default)]
pub struct Effects {
    on: bool,
    /// Keys removed because their time had passed (db, key).
    deletions: Vec<(usize, ByteString)>,
    /// Each recorded command: its database and where it starts in `buf`.
    ops: Vec<(usize, usize)>,
    /// The recorded commands, RESP-encoded.
    buf: Vec<u8>,
}

/// A position in the record, to drop what a rolled-back script recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectsMark(usize, usize);

impl Effects {
    /// A record that keeps effects when `on`, and ignores them otherwise.
    pub fn recording(on: bool) -> Self {
        Effects { on, ..Effects::default() }
    }

    /// True when effects are being kept.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.deletions.is_empty()
    }

    /// Number of commands recorded (deletions of expired keys not counted).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Records `argv` run in database `db`.
    pub fn record<A: AsRef<[u8]>>(&mut self, db: usize, argv: &[A]) {
        if !self.on {
            return;
        }
        self.ops.push((db, self.buf.len()));
        encode_command(&mut self.buf, argv);
    }

    /// Records that `key` of `db` was removed because it expired or was evicted.
    pub fn record_deletion(&mut self, db: usize, key: ByteString) {
        if self.on {
            self.deletions.push((db, key));
        }
    }

    /// The current end of the record.
    pub fn mark(&self) -> EffectsMark {
        EffectsMark(self.ops.len(), self.buf.len())
    }

    /// Forgets the commands recorded since `mark` (a script that was rolled
    /// back). Deletions of expired keys stay: those keys are gone either way.
    pub fn truncate(&mut self, mark: EffectsMark) {
        self.ops.truncate(mark.0);
        self.buf.truncate(mark.1);
    }

    /// True if commands were recorded since `mark`.
    pub fn grew_since(&self, mark: EffectsMark) -> bool {
        self.ops.len() > mark.0
    }

    /// Appends the record to `out` as append-only file text and clears it.
    /// `db` is the database `out` last selected (`None`: unknown); `SELECT`
    /// is written where the database changes. Several commands are wrapped in
    /// `MULTI`/`EXEC`, so a replay applies all or none of them.
    pub fn drain_into(&mut self, out: &mut Vec<u8>, db: &mut Option<usize>) {
        for (d, key) in self.deletions.drain(..) {
            select(out, db, d);
            encode_command(out, &[b"DEL".as_slice(), key.as_slice()]);
        }
        let wrap = self.ops.len() > 1;
        if wrap {
            encode_command(out, &[b"MULTI"]);
        }
        for (i, &(d, start)) in self.ops.iter().enumerate() {
            let end = self.ops.get(i + 1).map_or(self.buf.len(), |o| o.1);
            select(out, db, d);
            out.extend_from_slice(&self.buf[start..end]);
        }
        if wrap {
            encode_command(out, &[b"EXEC"]);
        }
        self.ops.clear();
        self.buf.clear();
    }
}

fn select(out: &mut Vec<u8>, current: &mut Option<usize>, db: usize) {
    if *current != Some(db) {
        let mut n = itoa::Buffer::new();
        encode_command(out, &[b"SELECT".as_slice(), n.format(db).as_bytes()]);
        *current = Some(db);
    }
}

/// Writes `argv` as a RESP array of bulk strings, as a client sends a command.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Elements per command when a collection is rewritten (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`): bounded commands, few of them.
const ITEMS_PER_COMMAND: usize = 64;

/// Appends the commands that recreate `key` holding `value`, expiring at
/// `expire_at` (unix ms): the body of an append-only file's base, which is
/// the dataset written as commands rather than the history that made it.
pub fn rewrite_key(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: Option<u64>) {
    match value {
        Value::Str(s) => encode_command(out, &[b"SET".as_slice(), key, s.as_slice()]),
        Value::List(l) => {
            let items: Vec<&[u8]> = l.iter().map(|e| e.as_slice()).collect();
            chunked(out, b"RPUSH", key, &items, 1);
        }
        Value::Set(set) => {
            let members = set.members();
            let items: Vec<&[u8]> = members.iter().map(|m| m.as_slice()).collect();
            chunked(out, b"SADD", key, &items, 1);
        }
        Value::Hash(h) => {
            let items: Vec<&[u8]> = h.iter().flat_map(|(f, v)| [f.as_slice(), v.as_slice()]).collect();
            chunked(out, b"HSET", key, &items, 2);
        }
        Value::ZSet(z) => {
            let scores: Vec<(String, &ByteString)> = z.iter().map(|(m, sc)| (fmt_g17(sc), m)).collect();
            let items: Vec<&[u8]> = scores.iter().flat_map(|(sc, m)| [sc.as_bytes(), m.as_slice()]).collect();
            chunked(out, b"ZADD", key, &items, 2);
        }
        Value::Stream(s) => rewrite_stream(out, key, s),
    }
    if let Some(at) = expire_at {
        let mut n = itoa::Buffer::new();
        encode_command(out, &[b"PEXPIREAT".as_slice(), key, n.format(at).as_bytes()]);
    }
}

/// Appends the commands that recreate every key of database `db` held in
/// `slots` that has not expired at `now`, after a `SELECT`.
pub fn rewrite_db(out: &mut Vec<u8>, db: usize, slots: &[crate::keyspace::SlotDict], now: u64) {
    let mut selected = false;
    for dict in slots {
        for (key, value) in dict.iter() {
            let expire = dict.expire_of(key);
            if expire.is_some_and(|at| at <= now) {
                continue;
            }
            if !selected {
                let mut n = itoa::Buffer::new();
                encode_command(out, &[b"SELECT".as_slice(), n.format(db).as_bytes()]);
                selected = true;
            }
            rewrite_key(out, key.as_slice(), value, expire);
        }
    }
}

/// `cmd key items..`, at most [`ITEMS_PER_COMMAND`] elements (of `width`
/// items each) per command.
fn chunked(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]], width: usize) {
    for chunk in items.chunks(ITEMS_PER_COMMAND * width) {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(chunk.len() + 2);
        argv.push(cmd);
        argv.push(key);
        argv.extend_from_slice(chunk);
        encode_command(out, &argv);
    }
}

/// A stream: its entries, its ids and counters (XSETID), its groups, their
/// pending entries (XCLAIM .. FORCE) and consumers. A pending entry whose
/// stream entry is gone (XDEL, trimming) cannot be claimed back, so it is
/// added, claimed and deleted again (Redis's command rewrite loses these).
fn rewrite_stream(out: &mut Vec<u8>, key: &[u8], s: &StreamValue) {
    let text = |id: StreamId| id.to_text();
    let gone: std::collections::BTreeSet<StreamId> =
        s.groups.values().flat_map(|g| g.pending.keys()).filter(|&&id| s.get(id).is_none()).copied().collect();
    if s.length == 0 && gone.is_empty() {
        // An empty stream is made by adding an entry and trimming it away.
        encode_command(out, &[b"XADD".as_slice(), key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let mut phantoms = gone.iter().peekable();
    for e in s.iter() {
        while let Some(id) = phantoms.next_if(|&&id| id < e.id) {
            encode_command(out, &[b"XADD".as_slice(), key, text(*id).as_bytes(), b"x", b"y"]);
        }
        let id = text(e.id);
        let mut argv: Vec<&[u8]> = vec![b"XADD", key, id.as_bytes()];
        argv.extend(e.fields.iter().flat_map(|(f, v)| [f.as_slice(), v.as_slice()]));
        encode_command(out, &argv);
    }
    for id in phantoms {
        encode_command(out, &[b"XADD".as_slice(), key, text(*id).as_bytes(), b"x", b"y"]);
    }
    let mut n = itoa::Buffer::new();
    for (name, g) in &s.groups {
        let (gid, read) = (text(g.last_id), n.format(g.entries_read).to_string());
        encode_command(
            out,
            &[b"XGROUP".as_slice(), b"CREATE", key, name, gid.as_bytes(), b"ENTRIESREAD", read.as_bytes()],
        );
        for (id, p) in &g.pending {
            let (id, time, count) = (text(*id), p.delivery_time.to_string(), p.delivery_count.to_string());
            encode_command(
                out,
                &[
                    b"XCLAIM".as_slice(),
                    key,
                    name,
                    &p.consumer,
                    b"0",
                    id.as_bytes(),
                    b"TIME",
                    time.as_bytes(),
                    b"RETRYCOUNT",
                    count.as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ],
            );
        }
        for (consumer, c) in &g.consumers {
            if c.pending.is_empty() {
                encode_command(out, &[b"XGROUP".as_slice(), b"CREATECONSUMER", key, name, consumer]);
            }
        }
    }
    // Entries before the first one left may have been trimmed, which leaves
    // max-deleted-entry-id alone, so they go as a trim does; entries after
    // it can only have been deleted (XDEL), which the XSETID below restores.
    let first = s.edge(false).map(|e| e.id);
    let trimmed = gone.iter().any(|&id| first.is_none_or(|f| id < f));
    match first {
        Some(f) if trimmed => encode_command(out, &[b"XTRIM".as_slice(), key, b"MINID", text(f).as_bytes()]),
        None if trimmed => encode_command(out, &[b"XTRIM".as_slice(), key, b"MAXLEN", b"0"]),
        _ => {}
    }
    let deleted: Vec<String> = gone.iter().filter(|&&id| first.is_some_and(|f| id > f)).map(|&id| text(id)).collect();
    if !deleted.is_empty() {
        let mut argv: Vec<&[u8]> = vec![b"XDEL", key];
        argv.extend(deleted.iter().map(|i| i.as_bytes()));
        encode_command(out, &argv);
    }
    // Last, so the counters are the stream's whatever the commands above did.
    let (last, maxdel) = (text(s.last_id), text(s.max_deleted_id));
    let added = n.format(s.entries_added).to_string();
    encode_command(
        out,
        &[
            b"XSETID".as_slice(),
            key,
            last.as_bytes(),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            maxdel.as_bytes(),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: &mut Effects, db: &mut Option<usize>) -> String {
        let mut out = Vec::new();
        e.drain_into(&mut out, db);
        String::from_utf8(out).unwrap().replace("\r\n", " ")
    }

    #[test]
    fn off_records_nothing() {
        let mut e = Effects::recording(false);
        e.record(0, &["SET", "a", "1"]);
        e.record_deletion(0, ByteString::from_slice(b"k"));
        assert!(e.is_empty());
    }

    #[test]
    fn selects_only_on_change_and_wraps_several() {
        let mut e = Effects::recording(true);
        let mut db = Some(0);
        e.record(0, &["SET", "a", "1"]);
        assert_eq!(text(&mut e, &mut db), "*3 $3 SET $1 a $1 1 ");
        e.record(2, &["INCR", "x"]);
        e.record(2, &["INCR", "y"]);
        assert_eq!(text(&mut e, &mut db), "*1 $5 MULTI *2 $6 SELECT $1 2 *2 $4 INCR $1 x *2 $4 INCR $1 y *1 $4 EXEC ");
        assert_eq!(db, Some(2));
        assert!(e.is_empty());
    }

    #[test]
    fn deletions_come_first_and_survive_truncation() {
        let mut e = Effects::recording(true);
        let mut db = None;
        let m = e.mark();
        e.record(0, &["SET", "a", "1"]);
        e.record_deletion(0, ByteString::from_slice(b"old"));
        assert!(e.grew_since(m));
        e.truncate(m);
        assert!(!e.grew_since(m));
        assert_eq!(text(&mut e, &mut db), "*2 $6 SELECT $1 0 *2 $3 DEL $3 old ");
    }
}
