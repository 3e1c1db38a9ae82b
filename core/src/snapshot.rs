//! Snapshot files in Redis's RDB file format: what SAVE and BGSAVE write and
//! what the server loads at start, so a `dump.rdb` moves between slotkv and
//! Redis in both directions.
//!
//! A file is the signature `REDIS0010`, auxiliary fields, the function
//! libraries, then for each database a `SELECTDB` and its keys (each with its
//! absolute expiry, if any, and its value in the DUMP object form of
//! [`crate::rdb`]), an `EOF` byte and a CRC64 of everything before it.
//!
//! Reading checks the checksum over the whole file before it hands out a
//! single key, so a damaged file loads nothing.

use crate::bytestring::ByteString;
use crate::rdb::{self, RDB_VERSION};
use crate::types::Value;

const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION_PRE_GA: u8 = 246;
const OPCODE_MODULE_AUX: u8 = 247;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;

/// The newest file version read: Redis 7.2's (its new stream layout is read).
const MAX_READ_VERSION: u32 = 11;

static CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Writes a snapshot into memory in pieces: the caller takes the bytes
/// written so far with [`SnapshotWriter::take`] whenever it likes (to write
/// them to a file without holding the whole snapshot), and the checksum runs
/// over all of them.
pub struct SnapshotWriter {
    buf: Vec<u8>,
    digest: crc::Digest<'static, u64>,
}

impl SnapshotWriter {
    /// Starts a file with the signature and the given auxiliary fields
    /// (`redis-ver`, `ctime` ...).
    pub fn new(aux: &[(&str, &str)]) -> SnapshotWriter {
        let mut w = SnapshotWriter { buf: Vec::with_capacity(1 << 16), digest: CRC.digest() };
        w.buf.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        for (k, v) in aux {
            w.buf.push(OPCODE_AUX);
            rdb::write_string(&mut w.buf, k.as_bytes());
            rdb::write_string(&mut w.buf, v.as_bytes());
        }
        w
    }

    /// A function library's source.
    pub fn function(&mut self, code: &[u8]) {
        self.buf.push(OPCODE_FUNCTION2);
        rdb::write_string(&mut self.buf, code);
    }

    /// Starts database `db`, which holds `keys` keys, `expires` of them volatile.
    pub fn select_db(&mut self, db: usize, keys: usize, expires: usize) {
        self.buf.push(OPCODE_SELECTDB);
        rdb::write_len(&mut self.buf, db as u64);
        self.buf.push(OPCODE_RESIZEDB);
        rdb::write_len(&mut self.buf, keys as u64);
        rdb::write_len(&mut self.buf, expires as u64);
    }

    /// One key of the current database, with its expiry (unix ms).
    pub fn key(&mut self, key: &[u8], value: &Value, expire_at: Option<u64>) {
        if let Some(at) = expire_at {
            self.buf.push(OPCODE_EXPIRETIME_MS);
            self.buf.extend_from_slice(&at.to_le_bytes());
        }
        rdb::write_object_keyed(&mut self.buf, key, value);
    }

    /// Bytes written so far (they leave the writer).
    pub fn take(&mut self) -> Vec<u8> {
        self.digest.update(&self.buf);
        std::mem::take(&mut self.buf)
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Ends the file: the last bytes, the end marker and the checksum.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(OPCODE_EOF);
        self.digest.update(&self.buf);
        let crc = self.digest.finalize();
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

/// One thing a snapshot holds, in file order.
#[derive(Debug)]
pub enum SnapshotItem {
    /// A function library's source.
    Function(Vec<u8>),
    /// A key of database `db`, with its expiry (unix ms).
    Key {
        /// Database index.
        db: usize,
        /// The key.
        key: ByteString,
        /// Its value.
        value: Value,
        /// Absolute expiry in unix ms.
        expire_at: Option<u64>,
    },
}

/// Why a snapshot cannot be loaded; the text names what is wrong and where.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SnapshotError {}

/// Reads a whole snapshot file, checksum first, then hands every item to
/// `sink` in order. Returns the number of keys.
pub fn read_snapshot(bytes: &[u8], mut sink: impl FnMut(SnapshotItem)) -> Result<u64, SnapshotError> {
    if bytes.len() < 9 || &bytes[..5] != b"REDIS" {
        return Err(SnapshotError("Wrong signature trying to load DB from file".into()));
    }
    let version: u32 = std::str::from_utf8(&bytes[5..9]).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if !(1..=MAX_READ_VERSION).contains(&version) {
        return Err(SnapshotError(format!(
            "Can't handle RDB format version {}",
            String::from_utf8_lossy(&bytes[5..9])
        )));
    }
    // Version 5 and later end in a checksum; 0 means the writer had it off.
    if version >= 5 {
        if bytes.len() < 9 + 1 + 8 {
            return Err(SnapshotError("Short read loading DB: the file ends before its checksum".into()));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let expected = u64::from_le_bytes(tail.try_into().map_err(|_| SnapshotError("short file".into()))?);
        let got = CRC.checksum(body);
        if expected != 0 && expected != got {
            return Err(SnapshotError(format!("Wrong RDB checksum expected: ({expected:016x}) got ({got:016x})")));
        }
    }
    let end = if version >= 5 { bytes.len() - 8 } else { bytes.len() };
    let mut r = rdb::Reader::new(&bytes[..end]);
    r.skip(9);
    let mut db = 0usize;
    let mut expire_at: Option<u64> = None;
    let mut keys = 0u64;
    let bad = |at: usize, what: &str| SnapshotError(format!("Bad file format at offset {at}: {what}"));
    loop {
        let at = r.position();
        let Some(op) = r.byte() else {
            return Err(bad(at, "the file ends before its EOF marker"));
        };
        match op {
            OPCODE_EOF => {
                if r.position() != end {
                    return Err(bad(at, "data after the EOF marker"));
                }
                return Ok(keys);
            }
            OPCODE_AUX => {
                r.string().and_then(|_| r.string()).ok_or_else(|| bad(at, "a broken auxiliary field"))?;
            }
            OPCODE_SELECTDB => {
                db = r.length().ok_or_else(|| bad(at, "a broken SELECTDB"))?;
            }
            OPCODE_RESIZEDB => {
                r.length().and_then(|_| r.length()).ok_or_else(|| bad(at, "a broken RESIZEDB"))?;
            }
            OPCODE_EXPIRETIME_MS => {
                expire_at = Some(r.u64_le().ok_or_else(|| bad(at, "a broken expiry"))?);
            }
            OPCODE_EXPIRETIME => {
                let secs = r.u32_le().ok_or_else(|| bad(at, "a broken expiry"))?;
                expire_at = Some(secs as u64 * 1000);
            }
            OPCODE_IDLE => {
                r.length().ok_or_else(|| bad(at, "a broken IDLE"))?;
            }
            OPCODE_FREQ => {
                r.byte().ok_or_else(|| bad(at, "a broken FREQ"))?;
            }
            OPCODE_FUNCTION2 => {
                let code = r.string().ok_or_else(|| bad(at, "a broken function library"))?;
                sink(SnapshotItem::Function(code));
            }
            OPCODE_FUNCTION_PRE_GA => return Err(bad(at, "pre-release function format (Redis 7.0 RC)")),
            OPCODE_MODULE_AUX => return Err(bad(at, "module data (slotkv loads no Redis modules)")),
            ty => {
                let key = r.string().ok_or_else(|| bad(at, "a broken key"))?;
                let value = r.object(ty).ok_or_else(|| bad(at, &format!("a broken value of type {ty}")))?;
                keys += 1;
                sink(SnapshotItem::Key { db, key: ByteString::from_vec(key), value, expire_at: expire_at.take() });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = SnapshotWriter::new(&[("redis-ver", "7.0.15"), ("redis-bits", "64")]);
        w.function(b"#!lua name=lib\nredis.register_function('f', function() return 1 end)");
        w.select_db(0, 2, 1);
        w.key(b"a", &Value::Str("1".into()), None);
        let first = w.take();
        w.key(b"b", &Value::Str("hello".into()), Some(1_900_000_000_000));
        w.select_db(3, 1, 0);
        w.key(b"c", &Value::List(Box::new(["x", "y"].iter().map(|s| ByteString::from(*s)).collect())), None);
        let mut all = first;
        all.extend(w.finish());
        all
    }

    #[test]
    fn writes_and_reads_back() {
        let file = sample();
        assert!(file.starts_with(b"REDIS0010\xfa\x09redis-ver"));
        let mut items = Vec::new();
        let keys = read_snapshot(&file, |i| items.push(format!("{i:?}"))).unwrap();
        assert_eq!(keys, 3);
        assert!(items[0].starts_with("Function("));
        assert!(items[1].contains("db: 0") && items[1].contains("expire_at: None"));
        assert!(items[2].contains("expire_at: Some(1900000000000)"));
        assert!(items[3].contains("db: 3"));
    }

    #[test]
    fn damage_anywhere_is_refused_before_anything_loads() {
        let file = sample();
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x20;
            let mut n = 0;
            assert!(read_snapshot(&bad, |_| n += 1).is_err(), "byte {i}");
            assert_eq!(n, 0, "byte {i}");
        }
        for len in 0..file.len() {
            assert!(read_snapshot(&file[..len], |_| {}).is_err(), "length {len}");
        }
        let mut newer = file.clone();
        newer[5..9].copy_from_slice(b"0099");
        assert_eq!(read_snapshot(&newer, |_| {}).unwrap_err().0, "Can't handle RDB format version 0099");
    }

    #[test]
    fn a_file_without_checksum_still_has_to_parse() {
        let mut file = sample();
        let n = file.len();
        file[n - 8..].fill(0);
        assert_eq!(read_snapshot(&file, |_| {}).unwrap(), 3);
        // Garbage behind a disabled checksum is found by the parser.
        file[20] = 0x07;
        file[21] = 0xff;
        assert!(read_snapshot(&file, |_| {}).is_err());
    }
}
