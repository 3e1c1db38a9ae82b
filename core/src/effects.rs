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
        assert_eq!(
            text(&mut e, &mut db),
            "*1 $5 MULTI *2 $6 SELECT $1 2 *2 $4 INCR $1 x *2 $4 INCR $1 y *1 $4 EXEC "
        );
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
