//! Set commands.

use super::hashes::{parse_cursor, parse_scan_opts};
use super::lists::positive_arg;
use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::strings::cmd;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::keyspace::scan::take_ordered;
use crate::numeric::parse_i64;
use crate::resp::request::{Args, Argv};
use crate::types::{SetValue, Value};
use std::collections::HashSet;

const S: Group = Group::Set;
const STORE: &[KeySpec] = &[
    KeySpec::at(1, &["RW", "update"]),
    KeySpec { begin: 2, lastkey: -1, step: 1, flags: &["RO", "access"], notes: None, keynum: false, keyword: None },
];
const ALL_KEYS: KeyPos = KeyPos::ALL;

pub(crate) const SPECS: &[CommandSpec] = &[
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], S, "Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", sadd),
    cmd!("srem", -3, WRITE | FAST, KeyPos::ONE, &["RW", "delete"], S, "Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", "O(N) where N is the number of members to be removed.", srem),
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("smembers", 2, READONLY, KeyPos::ONE, &["RO", "access"], S, "Returns all members of a set.", "1.0.0", "O(N) where N is the set cardinality.", smembers) },
    cmd!("sismember", 3, READONLY | FAST, KeyPos::ONE, &["RO"], S, "Determines whether a member belongs to a set.", "1.0.0", "O(1)", sismember),
    cmd!("smismember", -3, READONLY | FAST, KeyPos::ONE, &["RO", "access"], S, "Determines whether multiple members belong to a set.", "6.2.0", "O(N) where N is the number of elements being checked for membership", smismember),
    cmd!("scard", 2, READONLY | FAST, KeyPos::ONE, &["RO"], S, "Returns the number of members in a set.", "1.0.0", "O(1)", scard),
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("spop", -2, WRITE | FAST, KeyPos::ONE, &["RW", "access", "delete"], S, "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", spop) },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("srandmember", -2, READONLY, KeyPos::ONE, &["RO", "access"], S, "Get one or multiple random members from a set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", srandmember) },
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("sinter", -2, READONLY, ALL_KEYS, &["RO", "access"], S, "Returns the intersect of multiple sets.", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sinter) },
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("sunion", -2, READONLY, ALL_KEYS, &["RO", "access"], S, "Returns the union of multiple sets.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", sunion) },
    CommandSpec { tips: &["nondeterministic_output_order"], ..cmd!("sdiff", -2, READONLY, ALL_KEYS, &["RO", "access"], S, "Returns the difference of multiple sets.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", sdiff) },
    cmd!("sintercard", -3, READONLY, KeyPos::counted(1), &["RO", "access"], S, "Returns the number of members of the intersect of multiple sets.", "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sintercard),
    CommandSpec { key_specs: STORE, ..cmd!("sinterstore", -3, WRITE | DENYOOM, ALL_KEYS, &[], S, "Stores the intersect of multiple sets in a key.", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sinterstore) },
    CommandSpec { key_specs: STORE, ..cmd!("sunionstore", -3, WRITE | DENYOOM, ALL_KEYS, &[], S, "Stores the union of multiple sets in a key.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", sunionstore) },
    CommandSpec { key_specs: STORE, ..cmd!("sdiffstore", -3, WRITE | DENYOOM, ALL_KEYS, &[], S, "Stores the difference of multiple sets in a key.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", sdiffstore) },
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["RW", "insert"])],
        ..cmd!("smove", 4, WRITE | FAST, KeyPos::range(1, 2, 1), &[], S, "Moves a member from one set to another.", "1.0.0", "O(1)", smove)
    },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("sscan", -3, READONLY, KeyPos::ONE, &["RO", "access"], S, "Iterates over members of a set.", "2.0.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", sscan) },
];

fn sadd(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let set = ctx.set_for_write(args.get(1), args.get(2))?;
    let added = args.iter().skip(2).filter(|m| set.insert(m)).count();
    if added > 0 {
        ctx.dirty += 1;
    }
    ctx.out.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let removed = match ctx.set_mut(key)? {
        Some(set) => args.iter().skip(2).filter(|m| set.remove(m)).count(),
        None => 0,
    };
    if removed > 0 {
        ctx.drop_if_empty(key)?;
        ctx.dirty += 1;
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn reply_set(ctx: &mut ExecCtx<'_>, members: &[Vec<u8>]) {
    ctx.out.set(members.len());
    for m in members {
        ctx.out.bulk(m);
    }
}

fn smembers(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let members = ctx.read_set(args.get(1))?.map(|s| s.members()).unwrap_or_default();
    reply_set(ctx, &members);
    Ok(())
}

fn sismember(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let is = ctx.read_set(args.get(1))?.is_some_and(|s| s.contains(args.get(2)));
    ctx.out.int(is as i64);
    Ok(())
}

fn smismember(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let set = ctx.read_set(args.get(1))?;
    let flags: Vec<bool> = args.iter().skip(2).map(|m| set.is_some_and(|s| s.contains(m))).collect();
    ctx.out.array(flags.len());
    for f in flags {
        ctx.out.int(f as i64);
    }
    Ok(())
}

fn scard(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.read_set(args.get(1))?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `count` distinct random positions below `len` (partial Fisher-Yates).
fn distinct_picks(ctx: &mut ExecCtx<'_>, len: usize, count: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..len).collect();
    for i in 0..count.min(len) {
        let j = i + (ctx.host.random() % (len - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(count.min(len));
    idx
}

/// # Format
/// `SPOP key [count]`
fn spop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 {
        Some(positive_arg(args.get(2), "ERR value is out of range, must be positive")? as usize)
    } else {
        None
    };
    let key = args.get(1);
    let Some(members) = ctx.read_set(key)?.map(|s| s.members()) else {
        match count {
            Some(_) => ctx.out.set(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let picks = distinct_picks(ctx, members.len(), count.unwrap_or(1));
    let popped: Vec<Vec<u8>> = picks.into_iter().map(|i| members[i].clone()).collect();
    if let Some(set) = ctx.set_mut(key)? {
        for m in &popped {
            set.remove(m);
        }
    }
    ctx.drop_if_empty(key)?;
    if !popped.is_empty() {
        ctx.dirty += 1;
        if ctx.effects.is_on() {
            // Chance picked the members; the replay removes the same ones.
            let mut argv: Vec<&[u8]> = vec![b"SREM", key];
            argv.extend(popped.iter().map(|m| m.as_slice()));
            ctx.propagate(&argv);
        }
    }
    match count {
        Some(_) => reply_set(ctx, &popped),
        None => ctx.out.bulk(&popped[0]),
    }
    Ok(())
}

/// # Format
/// `SRANDMEMBER key [count]`
fn srandmember(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 { Some(super::util::random_count_arg(args.get(2))?) } else { None };
    let members = ctx.read_set(args.get(1))?.map(|s| s.members());
    let Some(members) = members else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let picked: Vec<usize> = match count {
        None => vec![(ctx.host.random() % members.len() as u64) as usize],
        Some(c) if c < 0 => {
            (0..c.unsigned_abs()).map(|_| (ctx.host.random() % members.len() as u64) as usize).collect()
        }
        Some(c) if c as usize >= members.len() => (0..members.len()).collect(),
        Some(c) => distinct_picks(ctx, members.len(), c as usize),
    };
    match count {
        None => ctx.out.bulk(&members[picked[0]]),
        Some(_) => {
            ctx.out.array(picked.len());
            for i in picked {
                ctx.out.bulk(&members[i]);
            }
        }
    }
    Ok(())
}

/// The sets named by `keys`: `None` for a missing key. Every key's type is
/// checked (WRONGTYPE) before any result, as Redis does.
fn load_sets(ctx: &mut ExecCtx<'_>, keys: Args<'_>) -> Result<Vec<Option<Vec<Vec<u8>>>>, CmdError> {
    keys.iter().map(|k| Ok(ctx.read_set(k)?.map(|s| s.members()))).collect()
}

#[derive(Clone, Copy)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The result of `op` over the sets at `keys`, in a deterministic order.
fn combine(ctx: &mut ExecCtx<'_>, keys: Args<'_>, op: Op) -> Result<Vec<Vec<u8>>, CmdError> {
    let sets = load_sets(ctx, keys)?;
    Ok(match op {
        Op::Inter => {
            if sets.iter().any(|s| s.is_none()) || sets.is_empty() {
                return Ok(Vec::new());
            }
            let sets: Vec<Vec<Vec<u8>>> = sets.into_iter().flatten().collect();
            let others: Vec<HashSet<&Vec<u8>>> = sets[1..].iter().map(|s| s.iter().collect()).collect();
            sets[0].iter().filter(|m| others.iter().all(|o| o.contains(m))).cloned().collect()
        }
        Op::Union => {
            let mut seen = HashSet::new();
            sets.into_iter().flatten().flatten().filter(|m| seen.insert(m.clone())).collect()
        }
        Op::Diff => {
            let mut it = sets.into_iter();
            let first = it.next().flatten().unwrap_or_default();
            let rest: HashSet<Vec<u8>> = it.flatten().flatten().collect();
            first.into_iter().filter(|m| !rest.contains(m)).collect()
        }
    })
}

fn sinter(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let r = combine(ctx, args.tail(1), Op::Inter)?;
    reply_set(ctx, &r);
    Ok(())
}
fn sunion(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let r = combine(ctx, args.tail(1), Op::Union)?;
    reply_set(ctx, &r);
    Ok(())
}
fn sdiff(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let r = combine(ctx, args.tail(1), Op::Diff)?;
    reply_set(ctx, &r);
    Ok(())
}

/// Reads `numkeys` at `at` as Redis does for numkeys commands: at least one,
/// and no more than the arguments that follow.
pub(crate) fn numkeys_arg(args: &Args<'_>, at: usize) -> Result<usize, CmdError> {
    let n = match parse_i64(args.get(at)) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(CmdError::msg("ERR numkeys should be greater than 0")),
    };
    Ok(n)
}

/// # Format
/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
fn sintercard(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = numkeys_arg(&args, 1)?;
    if n > args.len() - 2 {
        return Err(CmdError::msg("ERR Number of keys can't be greater than number of args"));
    }
    let mut limit = 0usize;
    let mut i = 2 + n;
    while i < args.len() {
        if super::util::is_kw(args.get(i), "limit") && i + 1 < args.len() {
            limit = positive_arg(args.get(i + 1), "ERR LIMIT can't be negative")? as usize;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys = Argv::from_args(args.iter().skip(2).take(n));
    let inter = combine(ctx, keys.bind(&[]), Op::Inter)?;
    let card = if limit > 0 { inter.len().min(limit) } else { inter.len() };
    ctx.out.int(card as i64);
    Ok(())
}

fn store_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, op: Op) -> CmdResult {
    let r = combine(ctx, args.tail(2), op)?;
    let dst = args.get(1);
    ctx.delete(dst)?;
    if let Some(first) = r.first() {
        let mut set = SetValue::for_member(first);
        for m in &r {
            set.insert(m);
        }
        ctx.store(dst, Value::Set(Box::new(set)), false)?;
    }
    ctx.out.int(r.len() as i64);
    Ok(())
}

fn sinterstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    store_generic(ctx, &args, Op::Inter)
}
fn sunionstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    store_generic(ctx, &args, Op::Union)
}
fn sdiffstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    store_generic(ctx, &args, Op::Diff)
}

fn smove(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (src, dst, m) = (args.get(1), args.get(2), args.get(3));
    let Some(src_has) = ctx.read_set(src)?.map(|s| s.contains(m)) else {
        ctx.out.int(0);
        return Ok(());
    };
    ctx.read_set(dst)?;
    if src == dst || !src_has {
        ctx.out.int(src_has as i64);
        return Ok(());
    }
    if let Some(s) = ctx.set_mut(src)? {
        s.remove(m);
    }
    ctx.drop_if_empty(src)?;
    ctx.set_for_write(dst, m)?.insert(m);
    ctx.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

/// Position of a member in SSCAN order: a hash independent of the table's own.
fn member_pos(m: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5e75ca9).hash_one(m) >> 1
}

/// # Format
/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
fn sscan(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let opts = parse_scan_opts(&args, 3, false)?;
    let (next, items): (u64, Vec<Vec<u8>>) = match ctx.read_set(args.get(1))? {
        None => (0, Vec::new()),
        Some(s @ SetValue::Ints(_)) => (0, s.members()),
        Some(s) => {
            let cands: Vec<(u64, Vec<u8>)> =
                s.members().into_iter().map(|m| (member_pos(&m), m)).filter(|(p, _)| *p >= cursor).collect();
            let (taken, next) = take_ordered(cands, opts.count);
            (next.unwrap_or(0), taken)
        }
    };
    let items: Vec<_> =
        items.into_iter().filter(|m| opts.pattern.is_none_or(|p| crate::glob::glob_match(p, m, false))).collect();
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(items.len());
    for m in items {
        ctx.out.bulk(&m);
    }
    Ok(())
}
