//! Hash commands.

use super::spec::{flags::*, CommandSpec, Group, KeyPos};
use super::strings::cmd;
use super::util::{check_pairs, int_arg, is_kw};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::keyspace::scan::take_ordered;
use crate::numeric::parse_i64;
use crate::resp::request::Args;
use crate::types::HashValue;

const RO: &[&str] = &["RO", "access"];
const RW: &[&str] = &["RW", "update"];
const H: Group = Group::Hash;

pub(crate) const SPECS: &[CommandSpec] = &[
    cmd!("hset", -4, WRITE | DENYOOM | FAST, KeyPos::ONE, RW, H, "Creates or modifies the value of a field in a hash.", "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", hset),
    cmd!("hmset", -4, WRITE | DENYOOM | FAST, KeyPos::ONE, RW, H, "Sets the values of multiple fields.", "2.0.0", "O(N) where N is the number of fields being set.", hmset),
    cmd!("hsetnx", 4, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], H, "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", "O(1)", hsetnx),
    cmd!("hget", 3, READONLY | FAST, KeyPos::ONE, RO, H, "Returns the value of a field in a hash.", "2.0.0", "O(1)", hget),
    cmd!("hmget", -3, READONLY | FAST, KeyPos::ONE, RO, H, "Returns the values of all fields in a hash.", "2.0.0", "O(N) where N is the number of fields being requested.", hmget),
    cmd!("hdel", -3, WRITE | FAST, KeyPos::ONE, &["RW", "delete"], H, "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", "O(N) where N is the number of fields to be removed.", hdel),
    cmd!("hexists", 3, READONLY | FAST, KeyPos::ONE, &["RO"], H, "Determines whether a field exists in a hash.", "2.0.0", "O(1)", hexists),
    cmd!("hlen", 2, READONLY | FAST, KeyPos::ONE, &["RO"], H, "Returns the number of fields in a hash.", "2.0.0", "O(1)", hlen),
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("hgetall", 2, READONLY, KeyPos::ONE, RO, H, "Returns all fields and values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", hgetall) },
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("hkeys", 2, READONLY, KeyPos::ONE, RO, H, "Returns all fields in a hash.", "2.0.0", "O(N) where N is the size of the hash.", hkeys) },
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("hvals", 2, READONLY, KeyPos::ONE, RO, H, "Returns all values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", hvals) },
    cmd!("hincrby", 4, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "access", "update"], H, "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", "O(1)", hincrby),
    cmd!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "access", "update"], H, "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", "O(1)", hincrbyfloat),
    cmd!("hstrlen", 3, READONLY | FAST, KeyPos::ONE, &["RO"], H, "Returns the length of the value of a field.", "3.2.0", "O(1)", hstrlen),
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("hrandfield", -2, READONLY, KeyPos::ONE, RO, H, "Returns one or more random fields from a hash.", "6.2.0", "O(N) where N is the number of fields returned", hrandfield) },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("hscan", -3, READONLY, KeyPos::ONE, RO, H, "Iterates over fields and values of a hash.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", hscan) },
];

fn hset_fields(ctx: &mut ExecCtx<'_>, args: &Args<'_>) -> Result<i64, CmdError> {
    let h = ctx.hash_for_write(args.get(1))?;
    let mut added = 0;
    for i in (2..args.len()).step_by(2) {
        added += h.set(args.get(i), args.get(i + 1)) as i64;
    }
    ctx.dirty += 1;
    Ok(added)
}

fn hset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    check_pairs(&args, 2, "hset")?;
    let n = hset_fields(ctx, &args)?;
    ctx.out.int(n);
    Ok(())
}

fn hmset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    check_pairs(&args, 2, "hmset")?;
    hset_fields(ctx, &args)?;
    ctx.out.ok();
    Ok(())
}

fn hsetnx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let h = ctx.hash_for_write(args.get(1))?;
    let added = h.get(args.get(2)).is_none() && h.set(args.get(2), args.get(3));
    if added {
        ctx.dirty += 1;
    }
    ctx.out.int(added as i64);
    Ok(())
}

fn hget(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let v = ctx.read_hash(args.get(1))?.and_then(|h| h.get(args.get(2))).map(|v| v.to_vec());
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let h = ctx.read_hash(args.get(1))?;
    let vals: Vec<Option<Vec<u8>>> =
        (2..args.len()).map(|i| h.and_then(|h| h.get(args.get(i))).map(|v| v.to_vec())).collect();
    super::util::reply_optional_bulks(ctx.out, &vals);
    Ok(())
}

fn hdel(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let mut removed = 0;
    if ctx.read_hash(key)?.is_some() {
        let h = ctx.hash_for_write(key)?;
        for f in args.iter().skip(2) {
            removed += h.remove(f) as i64;
        }
        ctx.drop_if_empty(key)?;
        ctx.dirty += removed as u64;
    }
    ctx.out.int(removed);
    Ok(())
}

fn hexists(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let e = ctx.read_hash(args.get(1))?.is_some_and(|h| h.get(args.get(2)).is_some());
    ctx.out.int(e as i64);
    Ok(())
}

fn hlen(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.read_hash(args.get(1))?.map_or(0, |h| h.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Writes fields and/or values of the hash at `key`.
fn hash_dump(ctx: &mut ExecCtx<'_>, key: &[u8], fields: bool, values: bool) -> CmdResult {
    let (db, now) = (ctx.db(), ctx.now);
    let (ks, slot) = ctx.data.locate(key)?;
    let out = &mut *ctx.out;
    match ks.get(db, slot, key, now) {
        None if fields && values => out.map(0),
        None => out.array(0),
        Some(crate::types::Value::Hash(h)) => {
            if fields && values {
                out.map(h.len());
            } else {
                out.array(h.len());
            }
            for (f, v) in h.iter() {
                if fields {
                    out.bulk(f);
                }
                if values {
                    out.bulk(v);
                }
            }
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

fn hgetall(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    hash_dump(ctx, args.get(1), true, true)
}

fn hkeys(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    hash_dump(ctx, args.get(1), true, false)
}

fn hvals(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    hash_dump(ctx, args.get(1), false, true)
}

fn hincrby(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(args.get(3))?;
    let (key, field) = (args.get(1), args.get(2));
    let cur = match ctx.read_hash(key)?.and_then(|h| h.get(field)) {
        Some(v) => parse_i64(v).ok_or(CmdError::msg("ERR hash value is not an integer"))?,
        None => 0,
    };
    let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
    ctx.hash_for_write(key)?.set(field, itoa::Buffer::new().format(new).as_bytes());
    ctx.dirty += 1;
    ctx.out.int(new);
    Ok(())
}

fn hincrbyfloat(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    use crate::longdouble::{incr_by_float, LongDouble};
    let incr = args.get(3);
    if LongDouble::parse(incr).is_none() {
        return Err(if crate::longdouble::is_inf(incr) {
            CmdError::msg("ERR value is NaN or Infinity")
        } else {
            CmdError::NotFloat
        });
    }
    let (key, field) = (args.get(1), args.get(2));
    let cur = ctx.read_hash(key)?.and_then(|h| h.get(field)).map(|v| v.to_vec());
    let cur = cur.as_deref().unwrap_or(b"0");
    let new = match incr_by_float(cur, incr) {
        None => return Err(CmdError::msg("ERR hash value is not a float")),
        Some(Err(())) => return Err(CmdError::msg("ERR increment would produce NaN or Infinity")),
        Some(Ok(s)) => s,
    };
    ctx.hash_for_write(key)?.set(field, new.as_bytes());
    ctx.dirty += 1;
    ctx.propagate(&[b"HSET".as_slice(), key, field, new.as_bytes()]);
    ctx.out.bulk(new.as_bytes());
    Ok(())
}

fn hstrlen(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.read_hash(args.get(1))?.and_then(|h| h.get(args.get(2))).map_or(0, |v| v.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `HRANDFIELD key [count [WITHVALUES]]`
fn hrandfield(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if args.len() == 2 {
        let n = match ctx.read_hash(key)? {
            None => {
                ctx.out.null();
                return Ok(());
            }
            Some(h) => h.len(),
        };
        let i = (ctx.host.random() % n as u64) as usize;
        let f = ctx.read_hash(key)?.and_then(|h| h.nth(i)).map(|(f, _)| f.to_vec()).unwrap_or_default();
        ctx.out.bulk(&f);
        return Ok(());
    }
    let count = super::util::random_count_arg(args.get(2))?;
    let withvalues = match args.len() {
        3 => false,
        4 if is_kw(args.get(3), "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = match ctx.read_hash(key)? {
        None => Vec::new(),
        Some(h) => h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
    };
    let picked = ctx.random_picks(pairs.len(), count, 0..pairs.len());
    let out = &mut *ctx.out;
    if withvalues && out.resp3 {
        out.array(picked.len());
        for i in picked {
            out.array(2);
            out.bulk(&pairs[i].0);
            out.bulk(&pairs[i].1);
        }
    } else {
        out.array(picked.len() * if withvalues { 2 } else { 1 });
        for i in picked {
            out.bulk(&pairs[i].0);
            if withvalues {
                out.bulk(&pairs[i].1);
            }
        }
    }
    Ok(())
}

/// Options shared by SCAN and HSCAN: `MATCH pattern`, `COUNT n`, and (SCAN only) `TYPE t`.
pub(crate) struct ScanOpts<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub kind: Option<&'a [u8]>,
}

/// Parses a cursor as Redis does with `strtoul`: optional sign (a negative
/// cursor wraps around), decimal digits, nothing else; an empty string is 0.
pub(crate) fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let bad = || CmdError::msg("ERR invalid cursor");
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if a.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let v: u64 = std::str::from_utf8(digits).map_err(|_| bad())?.parse().map_err(|_| bad())?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

pub(crate) fn parse_scan_opts<'a>(args: &Args<'a>, from: usize, allow_type: bool) -> Result<ScanOpts<'a>, CmdError> {
    let mut o = ScanOpts { pattern: None, count: 10, kind: None };
    let mut i = from;
    while i < args.len() {
        let a = args.get(i);
        let more = i + 1 < args.len();
        if is_kw(a, "count") && more {
            let c = int_arg(args.get(i + 1))?;
            if c < 1 {
                return Err(CmdError::Syntax);
            }
            o.count = c as usize;
        } else if is_kw(a, "match") && more {
            let p = args.get(i + 1);
            o.pattern = if p == b"*" { None } else { Some(p) };
        } else if allow_type && is_kw(a, "type") && more {
            o.kind = Some(args.get(i + 1));
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

/// A field and its value, copied out of a hash.
type Pair = (Vec<u8>, Vec<u8>);

/// Position of a field in HSCAN order: a hash independent of the table's own.
fn field_pos(f: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5ca1ab1e).hash_one(f) >> 1
}

/// # Format
/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
fn hscan(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let opts = parse_scan_opts(&args, 3, false)?;
    let (next, items): (u64, Vec<Pair>) = match ctx.read_hash(args.get(1))? {
        None => (0, Vec::new()),
        Some(HashValue::Small(v)) => (0, v.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
        Some(h) => {
            let cands: Vec<(u64, Pair)> = h
                .iter()
                .filter_map(|(f, v)| {
                    let p = field_pos(f);
                    (p >= cursor).then(|| (p, (f.to_vec(), v.to_vec())))
                })
                .collect();
            let (taken, next) = take_ordered(cands, opts.count);
            (next.unwrap_or(0), taken)
        }
    };
    let items: Vec<_> =
        items.into_iter().filter(|(f, _)| opts.pattern.is_none_or(|p| crate::glob::glob_match(p, f, false))).collect();
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len() * 2);
    for (f, v) in items {
        out.bulk(&f);
        out.bulk(&v);
    }
    Ok(())
}
