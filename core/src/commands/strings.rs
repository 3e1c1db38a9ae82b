//! String commands: GET/SET and their variants, counters, ranges, bits.
// Hot path: GET and SET.

use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::util::{check_pairs, int_arg, is_kw};
use crate::bytestring::ByteString;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::numeric::parse_i64;
use crate::resp::request::Args;
use crate::types::Value;

const RO: &[&str] = &["RO", "access"];
const RW: &[&str] = &["RW", "access", "update"];
const OW: &[&str] = &["OW", "update"];

macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $kf:expr, $group:expr, $summary:literal, $since:literal, $cx:literal, $h:expr) => {
        CommandSpec::new($name, $arity, $flags, $keys, $kf, $group, $summary, $since, $cx, $h)
    };
}
pub(crate) use cmd;

const KV: KeyPos = KeyPos::range(1, -1, 2);
const S: Group = Group::String;

pub(crate) const SPECS: &[CommandSpec] = &[
    cmd!("get", 2, READONLY | FAST, KeyPos::ONE, RO, S, "Returns the string value of a key.", "1.0.0", "O(1)", get),
    CommandSpec {
        key_specs: &[KeySpec {
            notes: Some("RW and ACCESS due to the optional `GET` argument"),
            ..KeySpec::at(1, &["RW", "access", "update", "variable_flags"])
        }],
        ..cmd!(
            "set",
            -3,
            WRITE | DENYOOM,
            KeyPos::ONE,
            &["RW", "access", "update", "variable_flags"],
            S,
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "1.0.0",
            "O(1)",
            set
        )
    },
    cmd!(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        &["OW", "insert"],
        S,
        "Set the string value of a key only when the key doesn't exist.",
        "1.0.0",
        "O(1)",
        setnx
    ),
    cmd!(
        "setex",
        4,
        WRITE | DENYOOM,
        KeyPos::ONE,
        OW,
        S,
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        "2.0.0",
        "O(1)",
        setex
    ),
    cmd!(
        "psetex",
        4,
        WRITE | DENYOOM,
        KeyPos::ONE,
        OW,
        S,
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        "2.6.0",
        "O(1)",
        psetex
    ),
    cmd!(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Returns the previous string value of a key after setting it to a new value.",
        "1.0.0",
        "O(1)",
        getset
    ),
    cmd!(
        "getdel",
        2,
        WRITE | FAST,
        KeyPos::ONE,
        &["RW", "access", "delete"],
        S,
        "Returns the string value of a key after deleting the key.",
        "6.2.0",
        "O(1)",
        getdel
    ),
    CommandSpec {
        key_specs: &[KeySpec {
            notes: Some("RW and UPDATE because it changes the TTL"),
            ..KeySpec::at(1, &["RW", "access", "update"])
        }],
        ..cmd!(
            "getex",
            -2,
            WRITE | FAST,
            KeyPos::ONE,
            RW,
            S,
            "Returns the string value of a key after setting its expiration time.",
            "6.2.0",
            "O(1)",
            getex
        )
    },
    CommandSpec {
        tips: &["request_policy:multi_shard"],
        ..cmd!(
            "mget",
            -2,
            READONLY | FAST,
            KeyPos::ALL,
            RO,
            S,
            "Atomically returns the string values of one or more keys.",
            "1.0.0",
            "O(N) where N is the number of keys to retrieve.",
            mget
        )
    },
    CommandSpec {
        tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
        ..cmd!(
            "mset",
            -3,
            WRITE | DENYOOM,
            KV,
            OW,
            S,
            "Atomically creates or modifies the string values of one or more keys.",
            "1.0.1",
            "O(N) where N is the number of keys to set.",
            mset
        )
    },
    CommandSpec {
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        ..cmd!(
            "msetnx",
            -3,
            WRITE | DENYOOM,
            KV,
            &["OW", "insert"],
            S,
            "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            "1.0.1",
            "O(N) where N is the number of keys to set.",
            msetnx
        )
    },
    cmd!(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        &["RW", "insert"],
        S,
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        "2.0.0",
        "O(1)",
        append
    ),
    cmd!(
        "strlen",
        2,
        READONLY | FAST,
        KeyPos::ONE,
        &["RO"],
        S,
        "Returns the length of a string value.",
        "2.2.0",
        "O(1)",
        strlen
    ),
    cmd!(
        "getrange",
        4,
        READONLY,
        KeyPos::ONE,
        RO,
        S,
        "Returns a substring of the string stored at a key.",
        "2.4.0",
        "O(N) where N is the length of the returned string.",
        getrange
    ),
    cmd!(
        "substr",
        4,
        READONLY,
        KeyPos::ONE,
        RO,
        S,
        "Returns a substring from a string value.",
        "1.0.0",
        "O(N) where N is the length of the returned string.",
        getrange
    ),
    cmd!(
        "setrange",
        4,
        WRITE | DENYOOM,
        KeyPos::ONE,
        &["RW", "update"],
        S,
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        "2.2.0",
        "O(1)",
        setrange
    ),
    cmd!(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        incr
    ),
    cmd!(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        decr
    ),
    cmd!(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        incrby
    ),
    cmd!(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        decrby
    ),
    cmd!(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        KeyPos::ONE,
        RW,
        S,
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "2.6.0",
        "O(1)",
        incrbyfloat
    ),
    cmd!(
        "lcs",
        -3,
        READONLY,
        KeyPos::range(1, 2, 1),
        &["RO", "access"],
        S,
        "Finds the longest common substring.",
        "7.0.0",
        "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        lcs
    ),
    cmd!(
        "setbit",
        4,
        WRITE | DENYOOM,
        KeyPos::ONE,
        RW,
        Group::Bitmap,
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        "2.2.0",
        "O(1)",
        setbit
    ),
    cmd!(
        "getbit",
        3,
        READONLY | FAST,
        KeyPos::ONE,
        RO,
        Group::Bitmap,
        "Returns a bit value by offset.",
        "2.2.0",
        "O(1)",
        getbit
    ),
    cmd!(
        "bitcount",
        -2,
        READONLY,
        KeyPos::ONE,
        RO,
        Group::Bitmap,
        "Counts the number of set bits (population counting) in a string.",
        "2.6.0",
        "O(N)",
        bitcount
    ),
];

/// # Format
/// `GET key`
fn get(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (db, now, key) = (ctx.db(), ctx.now, args.get(1));
    let (ks, slot) = ctx.data.locate(key)?;
    // Borrow the keyspace and the output separately: the value is encoded
    // straight from where it is stored, without a copy.
    match ks.get(db, slot, key, now) {
        None => ctx.out.null(),
        Some(Value::Str(s)) => ctx.out.bulk(s),
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// Expiry parsed from SET/GETEX options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expiry {
    None,
    /// Absolute unix ms.
    At(i64),
    KeepTtl,
    Persist,
}

/// Parses `EX s | PX ms | EXAT t | PXAT t | KEEPTTL | PERSIST` and (for SET)
/// `NX | XX | GET`, with Redis's rules for which combine. Returns
/// (nx, xx, get, expiry).
fn parse_set_options(
    ctx: &ExecCtx<'_>,
    args: &Args<'_>,
    from: usize,
    is_set: bool,
    cmd: &str,
) -> Result<(bool, bool, bool, Expiry), CmdError> {
    let (mut nx, mut xx, mut get) = (false, false, false);
    let mut exp = Expiry::None;
    let mut expire_arg: Option<(&[u8], u8)> = None;
    let mut i = from;
    while i < args.len() {
        let a = args.get(i);
        let has_next = i + 1 < args.len();
        if is_set && is_kw(a, "nx") && !xx {
            nx = true;
        } else if is_set && is_kw(a, "xx") && !nx {
            xx = true;
        } else if is_set && is_kw(a, "get") {
            get = true;
        } else if is_set && is_kw(a, "keepttl") && expire_arg.is_none() && exp == Expiry::None {
            exp = Expiry::KeepTtl;
        } else if !is_set && is_kw(a, "persist") && expire_arg.is_none() && exp == Expiry::None {
            exp = Expiry::Persist;
        } else if has_next && expire_arg.is_none() && exp == Expiry::None {
            let unit = if is_kw(a, "ex") {
                b's'
            } else if is_kw(a, "px") {
                b'p'
            } else if is_kw(a, "exat") {
                b'S'
            } else if is_kw(a, "pxat") {
                b'P'
            } else {
                return Err(CmdError::Syntax);
            };
            expire_arg = Some((args.get(i + 1), unit));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if let Some((v, unit)) = expire_arg {
        exp = Expiry::At(expire_time(ctx, v, unit, cmd)?);
    }
    Ok((nx, xx, get, exp))
}

/// Converts an expiry argument to absolute unix ms, with Redis's checks.
/// `unit`: `s` seconds, `p` ms (relative), `S`/`P` absolute seconds/ms.
fn expire_time(ctx: &ExecCtx<'_>, v: &[u8], unit: u8, cmd: &str) -> Result<i64, CmdError> {
    let bad = || CmdError::owned(format!("ERR invalid expire time in '{cmd}' command"));
    let mut ms = int_arg(v)?;
    let seconds = unit == b's' || unit == b'S';
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(bad());
    }
    if seconds {
        ms *= 1000;
    }
    if unit == b's' || unit == b'p' {
        ms = ms.checked_add(ctx.now as i64).ok_or_else(bad)?;
    }
    Ok(ms)
}

/// Records `SET key val PXAT at`: the replay of a SET with any expiry.
fn propagate_set_at(ctx: &mut ExecCtx<'_>, key: &[u8], val: &[u8], at: i64) {
    if ctx.effects.is_on() {
        let mut n = itoa::Buffer::new();
        ctx.propagate(&[b"SET".as_slice(), key, val, b"PXAT", n.format(at).as_bytes()]);
    }
}

fn apply_expiry(ctx: &mut ExecCtx<'_>, key: &[u8], exp: Expiry) -> CmdResult {
    if let Expiry::At(at) = exp {
        if ctx.already_expired(at) {
            ctx.delete(key)?;
        } else {
            ctx.set_expire(key, at as u64)?;
        }
    }
    Ok(())
}

/// # Format
/// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT t | PXAT t | KEEPTTL]`
fn set(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, val) = (args.get(1), args.get(2));
    if args.len() == 3 {
        return set_plain(ctx, key, val);
    }
    let (nx, xx, get, exp) = parse_set_options(ctx, &args, 3, true, "set")?;
    let old = if get { Some(ctx.read_str(key)?.map(|s| s.to_vec())) } else { None };
    let found = match &old {
        Some(o) => o.is_some() || ctx.exists(key)?,
        None => ctx.exists(key)?,
    };
    let write = !((nx && found) || (xx && !found));
    if write {
        ctx.store(key, Value::Str(ByteString::from_slice(val)), exp == Expiry::KeepTtl)?;
        apply_expiry(ctx, key, exp)?;
        if let Expiry::At(at) = exp {
            propagate_set_at(ctx, key, val, at);
        }
    }
    match old {
        Some(Some(o)) => ctx.out.bulk(&o),
        Some(None) => ctx.out.null(),
        None if write => ctx.out.ok(),
        None => ctx.out.null(),
    }
    Ok(())
}

#[inline]
fn set_plain(ctx: &mut ExecCtx<'_>, key: &[u8], val: &[u8]) -> CmdResult {
    ctx.store(key, Value::Str(ByteString::from_slice(val)), false)?;
    ctx.out.ok();
    Ok(())
}

fn setnx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if ctx.exists(key)? {
        ctx.out.int(0);
    } else {
        ctx.store(key, Value::Str(ByteString::from_slice(args.get(2))), false)?;
        ctx.out.int(1);
    }
    Ok(())
}

fn setex_generic(ctx: &mut ExecCtx<'_>, args: Args<'_>, unit: u8, cmd: &str) -> CmdResult {
    let at = expire_time(ctx, args.get(2), unit, cmd)?;
    let key = args.get(1);
    ctx.store(key, Value::Str(ByteString::from_slice(args.get(3))), false)?;
    apply_expiry(ctx, key, Expiry::At(at))?;
    propagate_set_at(ctx, key, args.get(3), at);
    ctx.out.ok();
    Ok(())
}

fn setex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ctx, args, b's', "setex")
}

fn psetex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ctx, args, b'p', "psetex")
}

fn getset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let old = ctx.read_str(key)?.map(|s| s.to_vec());
    ctx.store(key, Value::Str(ByteString::from_slice(args.get(2))), false)?;
    match old {
        Some(o) => ctx.out.bulk(&o),
        None => ctx.out.null(),
    }
    Ok(())
}

fn getdel(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    match ctx.read_str(key)?.map(|s| s.to_vec()) {
        Some(o) => {
            ctx.delete(key)?;
            ctx.out.bulk(&o);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// # Format
/// `GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]`
fn getex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (_, _, _, exp) = parse_set_options(ctx, &args, 2, false, "getex")?;
    let key = args.get(1);
    let Some(v) = ctx.read_str(key)?.map(|s| s.to_vec()) else {
        ctx.out.null();
        return Ok(());
    };
    match exp {
        Expiry::At(at) => {
            apply_expiry(ctx, key, exp)?;
            ctx.propagate_expire_at(key, at as u64);
        }
        Expiry::Persist => {
            let (db, _) = (ctx.db(), ());
            let (ks, slot) = ctx.data.locate(key)?;
            if ks.persist(db, slot, key) {
                ctx.dirty += 1;
            }
        }
        _ => {}
    }
    ctx.out.bulk(&v);
    Ok(())
}

fn mget(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut vals: Vec<Option<Vec<u8>>> = Vec::with_capacity(args.len() - 1);
    for key in args.iter().skip(1) {
        vals.push(ctx.read_str(key).ok().flatten().map(|s| s.to_vec()));
    }
    super::util::reply_optional_bulks(ctx.out, &vals);
    Ok(())
}

fn mset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    check_pairs(&args, 1, "mset")?;
    for i in (1..args.len()).step_by(2) {
        ctx.store(args.get(i), Value::Str(ByteString::from_slice(args.get(i + 1))), false)?;
    }
    ctx.out.ok();
    Ok(())
}

fn msetnx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    check_pairs(&args, 1, "msetnx")?;
    for i in (1..args.len()).step_by(2) {
        if ctx.exists(args.get(i))? {
            ctx.out.int(0);
            return Ok(());
        }
    }
    for i in (1..args.len()).step_by(2) {
        ctx.store(args.get(i), Value::Str(ByteString::from_slice(args.get(i + 1))), false)?;
    }
    ctx.out.int(1);
    Ok(())
}

/// Checks that a string of `len` bytes is within `proto-max-bulk-len`.
fn check_string_length(len: u64) -> CmdResult {
    if len > 512 * 1024 * 1024 {
        return Err(CmdError::msg("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

fn append(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let new = match ctx.read_str(key)? {
        Some(s) => {
            check_string_length(s.len() as u64 + tail.len() as u64)?;
            let mut v = Vec::with_capacity(s.len() + tail.len());
            v.extend_from_slice(s);
            v.extend_from_slice(tail);
            v
        }
        None => tail.to_vec(),
    };
    let len = new.len();
    ctx.store(key, Value::Str(ByteString::from_vec(new)), true)?;
    ctx.out.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.read_str(args.get(1))?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Clamps Redis-style inclusive `start..=end` (negative from the end) to a
/// length; `None` when the range is empty.
pub(crate) fn clamp_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    s = s.max(0);
    e = e.max(0);
    if e >= len {
        e = len - 1;
    }
    if s > e || len == 0 {
        return None;
    }
    Some((s as usize, e as usize))
}

fn getrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(args.get(2))?;
    let end = int_arg(args.get(3))?;
    let sub = match ctx.read_str(args.get(1))? {
        Some(s) => clamp_range(start, end, s.len() as i64).map(|(a, b)| s[a..=b].to_vec()),
        None => None,
    };
    ctx.out.bulk(sub.as_deref().unwrap_or(b""));
    Ok(())
}

fn setrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, val) = (args.get(1), args.get(3));
    let offset = int_arg(args.get(2))?;
    if offset < 0 {
        return Err(CmdError::msg("ERR offset is out of range"));
    }
    let offset = offset as usize;
    let cur = ctx.read_str(key)?.map(|s| s.to_vec());
    if val.is_empty() {
        ctx.out.int(cur.map_or(0, |c| c.len()) as i64);
        return Ok(());
    }
    check_string_length(offset as u64 + val.len() as u64)?;
    let exists = cur.is_some();
    let mut v = cur.unwrap_or_default();
    if v.len() < offset + val.len() {
        v.resize(offset + val.len(), 0);
    }
    v[offset..offset + val.len()].copy_from_slice(val);
    let len = v.len();
    ctx.store(key, Value::Str(ByteString::from_vec(v)), exists)?;
    ctx.out.int(len as i64);
    Ok(())
}

fn incr_decr(ctx: &mut ExecCtx<'_>, key: &[u8], by: i64) -> CmdResult {
    let cur = match ctx.read_str(key)? {
        Some(s) => parse_i64(s).ok_or(CmdError::NotInteger)?,
        None => 0,
    };
    let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
    let mut buf = itoa::Buffer::new();
    ctx.store(key, Value::Str(ByteString::from_slice(buf.format(new).as_bytes())), true)?;
    ctx.out.int(new);
    Ok(())
}

fn incr(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), 1)
}

fn decr(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), -1)
}

fn incrby(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(args.get(2))?;
    incr_decr(ctx, args.get(1), by)
}

fn decrby(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(args.get(2))?;
    if by == i64::MIN {
        return Err(CmdError::msg("ERR decrement would overflow"));
    }
    incr_decr(ctx, args.get(1), -by)
}

fn incrbyfloat(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let cur = ctx.read_str(key)?.map(|s| s.to_vec());
    let cur = cur.as_deref().unwrap_or(b"0");
    let new = match crate::longdouble::incr_by_float(cur, args.get(2)) {
        None => return Err(CmdError::NotFloat),
        Some(Err(())) => return Err(CmdError::msg("ERR increment would produce NaN or Infinity")),
        Some(Ok(s)) => s,
    };
    ctx.store(key, Value::Str(ByteString::from_slice(new.as_bytes())), true)?;
    ctx.propagate(&[b"SET".as_slice(), key, new.as_bytes(), b"KEEPTTL"]);
    ctx.out.bulk(new.as_bytes());
    Ok(())
}

fn bit_offset(a: &[u8]) -> Result<usize, CmdError> {
    match parse_i64(a) {
        Some(n) if n >= 0 && (n >> 3) < 512 * 1024 * 1024 => Ok(n as usize),
        _ => Err(CmdError::msg("ERR bit offset is not an integer or out of range")),
    }
}

fn setbit(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let offset = bit_offset(args.get(2))?;
    let on = match args.get(3) {
        b"1" => true,
        b"0" => false,
        _ => return Err(CmdError::msg("ERR bit is not an integer or out of range")),
    };
    let cur = ctx.read_str(key)?.map(|s| s.to_vec());
    let exists = cur.is_some();
    let mut v = cur.unwrap_or_default();
    let byte = offset >> 3;
    if v.len() <= byte {
        v.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (offset & 7));
    let old = v[byte] & mask != 0;
    if on {
        v[byte] |= mask;
    } else {
        v[byte] &= !mask;
    }
    ctx.store(key, Value::Str(ByteString::from_vec(v)), exists)?;
    ctx.out.int(old as i64);
    Ok(())
}

fn getbit(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let offset = bit_offset(args.get(2))?;
    let bit = match ctx.read_str(args.get(1))? {
        Some(s) => s.get(offset >> 3).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0),
        None => false,
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// # Format
/// `BITCOUNT key [start end [BYTE | BIT]]`
fn bitcount(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let Some(s) = ctx.read_str(args.get(1))?.map(|s| s.to_vec()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let count = match args.len() {
        2 => s.iter().map(|b| b.count_ones() as i64).sum(),
        4 | 5 => {
            let start = int_arg(args.get(2))?;
            let end = int_arg(args.get(3))?;
            let bit = if args.len() == 5 {
                match args.get(4) {
                    a if is_kw(a, "bit") => true,
                    a if is_kw(a, "byte") => false,
                    _ => return Err(CmdError::Syntax),
                }
            } else {
                false
            };
            count_range(&s, start, end, bit)
        }
        _ => return Err(CmdError::Syntax),
    };
    ctx.out.int(count);
    Ok(())
}

fn count_range(s: &[u8], start: i64, end: i64, bit: bool) -> i64 {
    let total = if bit { s.len() as i64 * 8 } else { s.len() as i64 };
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let mut a = if start < 0 { total + start } else { start };
    let mut b = if end < 0 { total + end } else { end };
    a = a.max(0);
    b = b.max(0);
    if b >= total {
        b = total - 1;
    }
    if a > b || total == 0 {
        return 0;
    }
    if !bit {
        return s[a as usize..=b as usize].iter().map(|x| x.count_ones() as i64).sum();
    }
    (a..=b).filter(|&i| s[(i >> 3) as usize] & (1 << (7 - (i & 7))) != 0).count() as i64
}

/// Longest an LCS table may be, in bytes (Redis bounds it by `proto-max-bulk-len`).
const LCS_TABLE_LIMIT: u64 = 512 * 1024 * 1024;

/// # Format
/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`
fn lcs(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let not_strings = || CmdError::msg("ERR The specified keys must contain string values");
    let a = ctx.read_str(args.get(1)).map_err(|_| not_strings())?.map(|s| s.to_vec()).unwrap_or_default();
    let b = ctx.read_str(args.get(2)).map_err(|_| not_strings())?.map(|s| s.to_vec()).unwrap_or_default();
    let (mut getlen, mut getidx, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let o = args.get(j);
        if is_kw(o, "idx") {
            getidx = true;
        } else if is_kw(o, "len") {
            getlen = true;
        } else if is_kw(o, "withmatchlen") {
            withlen = true;
        } else if is_kw(o, "minmatchlen") && j + 1 < args.len() {
            minlen = int_arg(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::msg("ERR If you want both the length and indexes, please just use IDX."));
    }
    let (alen, blen) = (a.len(), b.len());
    if (alen as u64 + 1) * (blen as u64 + 1) * 4 > LCS_TABLE_LIMIT {
        return Err(CmdError::msg("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    // table[i][j]: LCS length of a[..i] and b[..j].
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for k in 1..=blen {
            t[i * w + k] = if a[i - 1] == b[k - 1] {
                t[(i - 1) * w + k - 1] + 1
            } else {
                t[(i - 1) * w + k].max(t[i * w + k - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    if getlen {
        ctx.out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the string and the matching ranges.
    let mut result = vec![0u8; total as usize];
    let mut ranges: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut i, mut k, mut idx) = (alen, blen, total as usize);
    let mut cur: Option<(usize, usize, usize, usize)> = None; // (a_start, a_end, b_start, b_end)
    while i > 0 && k > 0 {
        let mut emit = false;
        if a[i - 1] == b[k - 1] {
            result[idx - 1] = a[i - 1];
            match &mut cur {
                None => cur = Some((i - 1, i - 1, k - 1, k - 1)),
                Some(r) if r.0 == i && r.2 == k => {
                    r.0 -= 1;
                    r.2 -= 1;
                }
                Some(_) => emit = true,
            }
            if cur.is_some_and(|r| r.0 == 0 || r.2 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            k -= 1;
        } else {
            if t[(i - 1) * w + k] > t[i * w + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            if cur.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = cur.take() {
                if minlen == 0 || (r.1 - r.0 + 1) as i64 >= minlen {
                    ranges.push(r);
                }
            }
        }
    }
    if !getidx {
        ctx.out.bulk(&result);
        return Ok(());
    }
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for (a0, a1, b0, b1) in ranges {
        out.array(2 + withlen as usize);
        out.array(2);
        out.int(a0 as i64);
        out.int(a1 as i64);
        out.array(2);
        out.int(b0 as i64);
        out.int(b1 as i64);
        if withlen {
            out.int((a1 - a0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(5, 100, 5), None);
        assert_eq!(clamp_range(-1, -3, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn bit_ranges() {
        let s = b"foobar";
        assert_eq!(count_range(s, 0, -1, false), 26);
        assert_eq!(count_range(s, 1, 1, false), 6);
        assert_eq!(count_range(s, 5, 30, true), 17);
    }
}
