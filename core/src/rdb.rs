//! Values in Redis's RDB object format: the payload of DUMP and RESTORE (and,
//! later, snapshots and MIGRATE). A DUMP payload is one encoded value, the RDB
//! version (2 bytes, little endian) and a CRC64 (Jones, as Redis) of the rest.
//!
//! Writing: strings use Redis's integer encodings or are stored raw (LZF
//! compression is optional in the format and not used); small hashes are
//! listpacks exactly as Redis 7 lays them out, larger ones plain field lists.
//! Reading: also accepts LZF-compressed strings, so payloads made by Redis load.

use crate::bytestring::ByteString;
use crate::numeric::parse_i64;
use crate::types::{HashValue, ListValue, SetValue, Value, ZSetValue};

/// RDB version written (Redis 7.0's); payloads up to this version are read.
pub const RDB_VERSION: u16 = 10;

const TYPE_STRING: u8 = 0;
const TYPE_HASH: u8 = 4;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_SET: u8 = 2;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_ZSET_2: u8 = 5;
const TYPE_ZSET_LISTPACK: u8 = 17;
/// Largest listpack in one list node (`list-max-listpack-size -2`).
const LIST_NODE_BYTES: usize = 8192;

const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Why a payload could not be read; the texts are Redis's replies.
#[derive(Debug, PartialEq, Eq)]
pub enum DumpError {
    /// `ERR DUMP payload version or checksum are wrong`
    VersionOrChecksum,
    /// `ERR Bad data format`
    BadFormat,
}

/// Serialises a value as DUMP does; `None` for a stream, whose RDB form
/// (listpacks under a radix tree, with consumer groups) is not written here.
pub fn dump(value: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match value {
        Value::Stream(_) => return None,
        Value::Str(s) => {
            out.push(TYPE_STRING);
            write_string(&mut out, s);
        }
        Value::Hash(h) => match &**h {
            HashValue::Small(pairs) => {
                out.push(TYPE_HASH_LISTPACK);
                let mut lp = Listpack::new();
                for (f, v) in pairs {
                    lp.push(f);
                    lp.push(v);
                }
                write_string(&mut out, &lp.finish());
            }
            HashValue::Table(m) => {
                out.push(TYPE_HASH);
                write_len(&mut out, m.len() as u64);
                for (f, v) in m {
                    write_string(&mut out, f);
                    write_string(&mut out, v);
                }
            }
        },
        Value::Set(set) => match &**set {
            SetValue::Ints(v) => {
                out.push(TYPE_SET_INTSET);
                write_string(&mut out, &intset_blob(v));
            }
            SetValue::Table(t) => {
                out.push(TYPE_SET);
                write_len(&mut out, t.len() as u64);
                for m in t {
                    write_string(&mut out, m);
                }
            }
        },
        Value::ZSet(z) if z.is_compact() => {
            out.push(TYPE_ZSET_LISTPACK);
            let mut lp = Listpack::new();
            for (m, score) in z.iter() {
                lp.push(m);
                lp.push(crate::numeric::fmt_d2string(score).as_bytes());
            }
            write_string(&mut out, &lp.finish());
        }
        Value::ZSet(z) => {
            out.push(TYPE_ZSET_2);
            write_len(&mut out, z.len() as u64);
            let all: Vec<_> = z.iter().collect();
            for (m, score) in all.into_iter().rev() {
                write_string(&mut out, m);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        Value::List(list) => {
            out.push(TYPE_LIST_QUICKLIST_2);
            let nodes = list_nodes(list);
            write_len(&mut out, nodes.len() as u64);
            for lp in nodes {
                write_len(&mut out, 2); // a packed (listpack) node
                write_string(&mut out, &lp);
            }
        }
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Some(out)
}

/// Reads a DUMP payload back into a value.
pub fn restore(payload: &[u8]) -> Result<Value, DumpError> {
    if payload.len() < 10 {
        return Err(DumpError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(DumpError::VersionOrChecksum);
    }
    let crc = u64::from_le_bytes(footer[2..10].try_into().map_err(|_| DumpError::VersionOrChecksum)?);
    if CRC.checksum(&payload[..payload.len() - 8]) != crc {
        return Err(DumpError::VersionOrChecksum);
    }
    let mut r = Reader { buf: body, pos: 0 };
    let value = r.value().ok_or(DumpError::BadFormat)?;
    Ok(value)
}

/// `RDB_OPCODE_FUNCTION2`: one function library's code follows.
const OPCODE_FUNCTION: u8 = 245;

/// FUNCTION DUMP's payload: each library's code, then the RDB footer.
pub fn dump_functions<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION);
        write_string(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes in a FUNCTION DUMP payload.
pub fn restore_functions(payload: &[u8]) -> Result<Vec<Vec<u8>>, DumpError> {
    if payload.len() < 10 {
        return Err(DumpError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..10].try_into().map_err(|_| DumpError::VersionOrChecksum)?);
    if version > RDB_VERSION || CRC.checksum(&payload[..payload.len() - 8]) != crc {
        return Err(DumpError::VersionOrChecksum);
    }
    let mut r = Reader { buf: body, pos: 0 };
    let mut codes = Vec::new();
    while r.pos < body.len() {
        if r.byte() != Some(OPCODE_FUNCTION) {
            return Err(DumpError::BadFormat);
        }
        codes.push(r.string().ok_or(DumpError::BadFormat)?);
    }
    Ok(codes)
}

/// Redis's intset layout: element width, count, sorted little-endian integers.
fn intset_blob(v: &[i64]) -> Vec<u8> {
    let width: usize = if v.iter().all(|&n| i16::try_from(n).is_ok()) {
        2
    } else if v.iter().all(|&n| i32::try_from(n).is_ok()) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + width * v.len());
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for &n in v {
        b.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    b
}

fn intset_members(b: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(b.get(0..4)?.try_into().ok()?) as usize;
    let n = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || b.len() != 8 + width * n {
        return None;
    }
    let v: Vec<i64> = b[8..]
        .chunks(width)
        .map(|c| match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect();
    v.windows(2).all(|w| w[0] < w[1]).then_some(v)
}

/// Splits a list into listpack nodes as Redis's quicklist fills them when
/// elements are appended at the tail.
fn list_nodes(list: &ListValue) -> Vec<Vec<u8>> {
    let mut nodes = Vec::new();
    let mut cur = Listpack::new();
    for e in list {
        let sz = e.len();
        let overhead = if sz < 254 { 1 } else { 5 }
            + if sz < 64 {
                1
            } else if sz < 16384 {
                2
            } else {
                5
            };
        if cur.count > 0 && cur.bytes() + sz + overhead > LIST_NODE_BYTES {
            nodes.push(std::mem::replace(&mut cur, Listpack::new()).finish());
        }
        cur.push(e);
    }
    if cur.count > 0 {
        nodes.push(cur.finish());
    }
    nodes
}

fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A string, integer-encoded when Redis would (up to 11 chars, canonical, fits 32 bits).
fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = parse_i64(s) {
            if v >= i8::MIN as i64 && v <= i8::MAX as i64 {
                out.extend_from_slice(&[0xC0, v as i8 as u8]);
                return;
            } else if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
                out.push(0xC1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
                return;
            } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
                out.push(0xC2);
                out.extend_from_slice(&(v as i32).to_le_bytes());
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length, or one of the special string encodings.
enum Len {
    Plain(u64),
    Special(u8),
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn len(&mut self) -> Option<Len> {
        let b = self.byte()?;
        Some(match b >> 6 {
            0 => Len::Plain((b & 0x3F) as u64),
            1 => Len::Plain((((b & 0x3F) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.take(4)?.try_into().ok()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().ok()?)),
                _ => return None,
            },
            _ => Len::Special(b & 0x3F),
        })
    }

    fn plain_len(&mut self) -> Option<usize> {
        match self.len()? {
            Len::Plain(n) => usize::try_from(n).ok(),
            Len::Special(_) => None,
        }
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        match self.len()? {
            Len::Plain(n) => Some(self.take(usize::try_from(n).ok()?)?.to_vec()),
            Len::Special(0) => Some((self.byte()? as i8).to_string().into_bytes()),
            Len::Special(1) => Some(i16::from_le_bytes(self.take(2)?.try_into().ok()?).to_string().into_bytes()),
            Len::Special(2) => Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?).to_string().into_bytes()),
            Len::Special(3) => {
                let clen = self.plain_len()?;
                let len = self.plain_len()?;
                lzf_decompress(self.take(clen)?, len)
            }
            Len::Special(_) => None,
        }
    }

    fn value(&mut self) -> Option<Value> {
        let v = match self.byte()? {
            TYPE_STRING => Value::Str(ByteString::from_vec(self.string()?)),
            TYPE_HASH => {
                let n = self.plain_len()?;
                let mut h = HashValue::default();
                for _ in 0..n {
                    let f = self.string()?;
                    let v = self.string()?;
                    h.set(&f, &v);
                }
                if h.len() != n || n == 0 {
                    return None; // duplicate fields or an empty hash: corrupt
                }
                Value::Hash(Box::new(h))
            }
            TYPE_HASH_LISTPACK => {
                let blob = self.string()?;
                let items = listpack_entries(&blob)?;
                if items.is_empty() || items.len() % 2 != 0 {
                    return None;
                }
                let mut h = HashValue::default();
                for pair in items.chunks(2) {
                    h.set(&pair[0], &pair[1]);
                }
                if h.len() != items.len() / 2 {
                    return None;
                }
                Value::Hash(Box::new(h))
            }
            TYPE_SET_INTSET => {
                let v = intset_members(&self.string()?)?;
                if v.is_empty() {
                    return None;
                }
                let mut set = SetValue::default();
                for n in v {
                    set.insert(n.to_string().as_bytes());
                }
                Value::Set(Box::new(set))
            }
            TYPE_SET => {
                let n = self.plain_len()?;
                let mut set: Option<SetValue> = None;
                for _ in 0..n {
                    let m = self.string()?;
                    set.get_or_insert_with(|| SetValue::for_member(&m)).insert(&m);
                }
                let set = set?;
                if set.len() != n {
                    return None;
                }
                Value::Set(Box::new(set))
            }
            TYPE_ZSET_LISTPACK => {
                let items = listpack_entries(&self.string()?)?;
                if items.is_empty() || items.len() % 2 != 0 {
                    return None;
                }
                let mut z = ZSetValue::default();
                for pair in items.chunks(2) {
                    let score = crate::numeric::parse_f64(&pair[1]).or_else(|| inf_score(&pair[1]))?;
                    z.insert(&pair[0], score);
                }
                if z.len() != items.len() / 2 {
                    return None;
                }
                Value::ZSet(Box::new(z))
            }
            TYPE_ZSET_2 => {
                let n = self.plain_len()?;
                let mut z = ZSetValue::default();
                for _ in 0..n {
                    let m = self.string()?;
                    let score = f64::from_le_bytes(self.take(8)?.try_into().ok()?);
                    if score.is_nan() {
                        return None;
                    }
                    z.insert(&m, score);
                }
                if z.len() != n || n == 0 {
                    return None;
                }
                Value::ZSet(Box::new(z))
            }
            TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.plain_len()?;
                let mut list = ListValue::new();
                for _ in 0..nodes {
                    match self.plain_len()? {
                        1 => list.push_back(ByteString::from_vec(self.string()?)),
                        2 => {
                            let items = listpack_entries(&self.string()?)?;
                            if items.is_empty() {
                                return None;
                            }
                            list.extend(items.into_iter().map(ByteString::from_vec));
                        }
                        _ => return None,
                    }
                }
                if list.is_empty() {
                    return None;
                }
                Value::List(Box::new(list))
            }
            _ => return None,
        };
        (self.pos == self.buf.len()).then_some(v)
    }
}

/// `inf` and `-inf` as Redis writes infinite scores in listpacks.
fn inf_score(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// LZF decompression (the format Redis compresses RDB strings with).
fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len.min(1 << 30));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            out.extend_from_slice(input.get(i..i + run)?);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1F) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > out_len {
            return None;
        }
    }
    (out.len() == out_len).then_some(out)
}

/// Builds a listpack as Redis 7 lays it out.
struct Listpack {
    body: Vec<u8>,
    count: usize,
}

impl Listpack {
    fn new() -> Self {
        Listpack { body: Vec::new(), count: 0 }
    }

    fn push(&mut self, s: &[u8]) {
        let start = self.body.len();
        match parse_i64(s) {
            Some(v) if (0..=127).contains(&v) => self.body.push(v as u8),
            Some(v) if (-4096..=4095).contains(&v) => {
                let u = if v < 0 { (1i64 << 13) + v } else { v } as u16;
                self.body.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            Some(v) if (-32768..=32767).contains(&v) => {
                self.body.push(0xF1);
                self.body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-8388608..=8388607).contains(&v) => {
                self.body.push(0xF2);
                self.body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => {
                self.body.push(0xF3);
                self.body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                self.body.push(0xF4);
                self.body.extend_from_slice(&v.to_le_bytes());
            }
            None if s.len() < 64 => {
                self.body.push(0x80 | s.len() as u8);
                self.body.extend_from_slice(s);
            }
            None if s.len() < 4096 => {
                self.body.extend_from_slice(&[0xE0 | (s.len() >> 8) as u8, s.len() as u8]);
                self.body.extend_from_slice(s);
            }
            None => {
                self.body.push(0xF0);
                self.body.extend_from_slice(&(s.len() as u32).to_le_bytes());
                self.body.extend_from_slice(s);
            }
        }
        let l = self.body.len() - start;
        encode_backlen(&mut self.body, l);
        self.count += 1;
    }

    /// Size the listpack has so far (header and end byte included).
    fn bytes(&self) -> usize {
        6 + self.body.len() + 1
    }

    fn finish(self) -> Vec<u8> {
        let total = 6 + self.body.len() + 1;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&(self.count.min(65535) as u16).to_le_bytes());
        out.extend_from_slice(&self.body);
        out.push(0xFF);
        out
    }
}

fn encode_backlen(out: &mut Vec<u8>, l: usize) {
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
    } else if l < 2097151 {
        out.extend_from_slice(&[(l >> 14) as u8, ((l >> 7) & 127) as u8 | 128, (l & 127) as u8 | 128]);
    } else if l < 268435455 {
        out.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else {
        out.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    }
}

/// Bytes a listpack element holding integer `v` takes, back-length included
/// (the same encodings [`Listpack::push`] writes).
pub(crate) fn lp_int_size(v: i64) -> usize {
    let l = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    l + backlen_size(l)
}

/// Bytes a listpack element holding `s` takes (an integer when `s` reads as one).
pub(crate) fn lp_str_size(s: &[u8]) -> usize {
    if let Some(v) = parse_i64(s) {
        return lp_int_size(v);
    }
    let l = match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        _ => 5 + s.len(),
    };
    l + backlen_size(l)
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// The entries of a listpack, as strings (integers in decimal).
fn listpack_entries(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    if lp.len() < 7 || u32::from_le_bytes(lp[0..4].try_into().ok()?) as usize != lp.len() || *lp.last()? != 0xFF {
        return None;
    }
    let mut out = Vec::new();
    let mut p = 6;
    while p < lp.len() - 1 {
        let b = lp[p];
        let (item, size): (Vec<u8>, usize) = if b & 0x80 == 0 {
            ((b as i64).to_string().into_bytes(), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3F) as usize;
            (lp.get(p + 1..p + 1 + n)?.to_vec(), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let u = (((b & 0x1F) as i64) << 8) | *lp.get(p + 1)? as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (v.to_string().into_bytes(), 2)
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0F) as usize) << 8) | *lp.get(p + 1)? as usize;
            (lp.get(p + 2..p + 2 + n)?.to_vec(), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let n = u32::from_le_bytes(lp.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                    (lp.get(p + 5..p + 5 + n)?.to_vec(), 5 + n)
                }
                0xF1 => (i16::from_le_bytes(lp.get(p + 1..p + 3)?.try_into().ok()?).to_string().into_bytes(), 3),
                0xF2 => {
                    let b3 = lp.get(p + 1..p + 4)?;
                    let v = i32::from_le_bytes([b3[0], b3[1], b3[2], if b3[2] & 0x80 != 0 { 0xFF } else { 0 }]);
                    (v.to_string().into_bytes(), 4)
                }
                0xF3 => (i32::from_le_bytes(lp.get(p + 1..p + 5)?.try_into().ok()?).to_string().into_bytes(), 5),
                0xF4 => (i64::from_le_bytes(lp.get(p + 1..p + 9)?.try_into().ok()?).to_string().into_bytes(), 9),
                _ => return None,
            }
        };
        p += size + backlen_size(size);
        out.push(item);
    }
    (p == lp.len() - 1).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn crc64_check_value() {
        assert_eq!(CRC.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn string_payloads_match_redis() {
        // redis-cli --no-raw DUMP of SET k hello / SET k 1 / SET k 1000, Redis 7.0.
        assert_eq!(dump(&Value::Str("hello".into())).unwrap(), hex("000568656c6c6f0a006372df766534200a"));
        assert_eq!(dump(&Value::Str("1".into())).unwrap(), hex("00c0010a002678e7b6d10111fc"));
        let mut h = HashValue::default();
        for (f, v) in [("a", "1"), ("b", "-5000"), ("name", "hello world"), ("big", "123456789012")] {
            h.set(f.as_bytes(), v.as_bytes());
        }
        let want = "10353500000008008161020101816202f178ec03846e616d65058b68656c6c6f20776f726c640c8362696704f4141a99be1c00000009ff0a007ba3fab0839e345f";
        assert_eq!(dump(&Value::Hash(Box::new(h.clone()))).unwrap(), hex(want));
        assert_eq!(format!("{:?}", restore(&hex(want)).unwrap()), format!("{:?}", Value::Hash(Box::new(h))));
    }

    #[test]
    fn round_trips() {
        let mut small = HashValue::default();
        for (f, v) in [("a", "1"), ("b", "-5000"), ("c", "x".repeat(100).as_str()), ("d", "123456789012")] {
            small.set(f.as_bytes(), v.as_bytes());
        }
        let mut big = HashValue::default();
        for i in 0..300 {
            big.set(format!("f{i}").as_bytes(), format!("{}", i * 1000).as_bytes());
        }
        for v in [
            Value::Str("plain".into()),
            Value::Str("-129".into()),
            Value::Str("2147483648".into()),
            Value::Str(ByteString::from_vec(vec![0xFF; 300])),
            Value::Hash(Box::new(small)),
            Value::Hash(Box::new(big)),
            Value::List(Box::new((0..3000).map(|i| ByteString::from(format!("element-{i}").as_str())).collect())),
            Value::Set(Box::new({
                let mut s = SetValue::default();
                for n in [-70000i64, 5, 1 << 40] {
                    s.insert(n.to_string().as_bytes());
                }
                s
            })),
            Value::ZSet(Box::new({
                let mut z = ZSetValue::default();
                for (i, m) in ["a", "b", "c"].iter().enumerate() {
                    z.insert(m.as_bytes(), i as f64 * 1.5 - 1.0);
                }
                z.insert(b"inf", f64::INFINITY);
                z
            })),
            Value::ZSet(Box::new({
                let mut z = ZSetValue::default();
                for i in 0..200 {
                    z.insert(format!("m{i}").as_bytes(), (i % 7) as f64 / 3.0);
                }
                z
            })),
            Value::Set(Box::new({
                let mut s = SetValue::default();
                for m in ["a", "b", "1"] {
                    s.insert(m.as_bytes());
                }
                s
            })),
        ] {
            let back = restore(&dump(&v).unwrap()).unwrap();
            assert_eq!(format!("{:?}", sorted(&back)), format!("{:?}", sorted(&v)));
        }
    }

    fn sorted(v: &Value) -> Vec<(Vec<u8>, Vec<u8>)> {
        match v {
            Value::Str(s) => vec![(s.to_vec(), vec![])],
            Value::Hash(h) => {
                let mut p: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                p.sort();
                p
            }
            Value::List(l) => l.iter().map(|e| (e.to_vec(), vec![])).collect(),
            Value::Set(s) => {
                let mut m: Vec<_> = s.members().into_iter().map(|e| (e, vec![1])).collect();
                m.sort();
                m
            }
            Value::ZSet(z) => z.iter().map(|(m, s)| (m.to_vec(), s.to_string().into_bytes())).collect(),
            Value::Stream(_) => unreachable!("streams are not dumped"),
        }
    }

    #[test]
    fn element_sizes_match_what_the_listpack_writer_writes() {
        let long = "x".repeat(5000);
        for e in [
            "0",
            "127",
            "128",
            "-4096",
            "4095",
            "40000",
            "-8388608",
            "2147483647",
            "9999999999",
            "",
            "abc",
            &long[..70],
            &long[..],
        ] {
            let mut lp = Listpack::new();
            lp.push(e.as_bytes());
            assert_eq!(lp.bytes() - 7, lp_str_size(e.as_bytes()), "{:.10}", e);
        }
    }

    #[test]
    fn corrupt_payloads_are_refused() {
        let good = dump(&Value::Str("hello".into())).unwrap();
        let mut bad = good.clone();
        bad[2] ^= 1;
        assert_eq!(restore(&bad).unwrap_err(), DumpError::VersionOrChecksum);
        assert_eq!(restore(b"short").unwrap_err(), DumpError::VersionOrChecksum);
        let mut newer = good[..good.len() - 10].to_vec();
        newer.extend_from_slice(&99u16.to_le_bytes());
        let crc = CRC.checksum(&newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(restore(&newer).unwrap_err(), DumpError::VersionOrChecksum);
        // Valid checksum around garbage: bad format, never a panic.
        for body in [&[0x00, 0x40][..], &[0x10, 0x03, 1, 2, 3], &[0x07], &[0x00, 0xC3, 0x05, 0x05, 0xE0, 0, 0, 0, 0]] {
            let mut p = body.to_vec();
            p.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = CRC.checksum(&p);
            p.extend_from_slice(&crc.to_le_bytes());
            assert_eq!(restore(&p).unwrap_err(), DumpError::BadFormat);
        }
    }

    #[test]
    fn lzf_strings_from_redis_load() {
        // A literal run then a back reference: "abcabcabcabc".
        let c = [0x02, b'a', b'b', b'c', 0xE0, 0x00, 0x02];
        assert_eq!(lzf_decompress(&c, 12).unwrap(), b"abcabcabcabc");
        assert!(lzf_decompress(&[0xE0, 0x00, 0x05], 5).is_none());
        // redis-cli DUMP of a compressible 62-byte string, Redis 7.0.
        let payload = hex("00c3133e0361626361e01d02032d78797ae0050301797a0a0086b2e79872dbb974");
        let v = restore(&payload).unwrap();
        let want = "abc".repeat(14) + &"-xyz".repeat(5);
        assert!(matches!(v, Value::Str(s) if s.as_slice() == want.as_bytes()));
    }
}
