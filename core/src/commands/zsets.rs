//! Sorted set commands.

use super::hashes::{parse_cursor, parse_scan_opts};
use super::lists::positive_arg;
use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::strings::cmd;
use super::util::timeout_arg;
use super::util::{int_arg, is_kw};
use crate::bytestring::ByteString;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::keyspace::scan::take_ordered;
use crate::numeric::{fmt_d2string, parse_f64};
use crate::resp::request::Args;
use crate::types::zset::{LexBound, ScoreBound};
use crate::types::{Value, ZSetValue};

const Z: Group = Group::SortedSet;
const RO: &[&str] = &["RO", "access"];
/// ZUNIONSTORE and friends: the destination, then `numkeys` sources.
const STORE: &[KeySpec] = &[
    KeySpec::at(1, &["OW", "update"]),
    KeySpec { begin: 2, lastkey: 0, step: 1, flags: &["RO", "access"], notes: None, keynum: true, keyword: None },
];

pub(crate) const SPECS: &[CommandSpec] = &[
    cmd!("zadd", -4, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "update"], Z, "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", zadd),
    cmd!("zincrby", 4, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "access", "update"], Z, "Increments the score of a member in a sorted set.", "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", zincrby),
    cmd!("zscore", 3, READONLY | FAST, KeyPos::ONE, RO, Z, "Returns the score of a member in a sorted set.", "1.2.0", "O(1)", zscore),
    cmd!("zmscore", -3, READONLY | FAST, KeyPos::ONE, RO, Z, "Returns the score of one or more members in a sorted set.", "6.2.0", "O(N) where N is the number of members being requested.", zmscore),
    cmd!("zcard", 2, READONLY | FAST, KeyPos::ONE, &["RO"], Z, "Returns the number of members in a sorted set.", "1.2.0", "O(1)", zcard),
    cmd!("zcount", 4, READONLY | FAST, KeyPos::ONE, &["RO", "access"], Z, "Returns the count of members in a sorted set that have scores within a range.", "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", zcount),
    cmd!("zlexcount", 4, READONLY | FAST, KeyPos::ONE, RO, Z, "Returns the number of members in a sorted set within a lexicographical range.", "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", zlexcount),
    cmd!("zrange", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a range of indexes.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", zrange),
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["OW", "update"]), KeySpec::at(2, &["RO", "access"])],
        ..cmd!("zrangestore", -5, WRITE | DENYOOM, KeyPos::range(1, 2, 1), &[], Z, "Stores a range of members from sorted set in a key.", "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", zrangestore)
    },
    cmd!("zrangebyscore", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a range of scores.", "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", zrangebyscore),
    cmd!("zrevrangebyscore", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a range of scores in reverse order.", "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", zrevrangebyscore),
    cmd!("zrangebylex", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a lexicographical range.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", zrangebylex),
    cmd!("zrevrangebylex", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", zrevrangebylex),
    cmd!("zrevrange", -4, READONLY, KeyPos::ONE, RO, Z, "Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", zrevrange),
    cmd!("zrank", 3, READONLY | FAST, KeyPos::ONE, RO, Z, "Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0", "O(log(N))", zrank),
    cmd!("zrevrank", 3, READONLY | FAST, KeyPos::ONE, RO, Z, "Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0", "O(log(N))", zrevrank),
    cmd!("zrem", -3, WRITE | FAST, KeyPos::ONE, &["RW", "delete"], Z, "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", zrem),
    cmd!("zremrangebyrank", 4, WRITE, KeyPos::ONE, &["RW", "delete"], Z, "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", zremrangebyrank),
    cmd!("zremrangebyscore", 4, WRITE, KeyPos::ONE, &["RW", "delete"], Z, "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", zremrangebyscore),
    cmd!("zremrangebylex", 4, WRITE, KeyPos::ONE, &["RW", "delete"], Z, "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", zremrangebylex),
    cmd!("zpopmin", -2, WRITE | FAST, KeyPos::ONE, &["RW", "access", "delete"], Z, "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", zpopmin),
    cmd!("zpopmax", -2, WRITE | FAST, KeyPos::ONE, &["RW", "access", "delete"], Z, "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", zpopmax),
    CommandSpec { ..cmd!("zunion", -3, READONLY, KeyPos::counted(1), RO, Z, "Returns the union of multiple sorted sets.", "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", zunion) },
    CommandSpec { ..cmd!("zinter", -3, READONLY, KeyPos::counted(1), RO, Z, "Returns the intersect of multiple sorted sets.", "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", zinter) },
    CommandSpec { ..cmd!("zdiff", -3, READONLY, KeyPos::counted(1), RO, Z, "Returns the difference between multiple sorted sets.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", zdiff) },
    CommandSpec { key_specs: STORE, ..cmd!("zunionstore", -4, WRITE | DENYOOM, KeyPos::DEST_AND_COUNTED, &[], Z, "Stores the union of multiple sorted sets in a key.", "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", zunionstore) },
    CommandSpec { key_specs: STORE, ..cmd!("zinterstore", -4, WRITE | DENYOOM, KeyPos::DEST_AND_COUNTED, &[], Z, "Stores the intersect of multiple sorted sets in a key.", "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", zinterstore) },
    CommandSpec { key_specs: STORE, ..cmd!("zdiffstore", -4, WRITE | DENYOOM, KeyPos::DEST_AND_COUNTED, &[], Z, "Stores the difference of multiple sorted sets in a key.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", zdiffstore) },
    cmd!("zintercard", -3, READONLY, KeyPos::counted(1), RO, Z, "Returns the number of members of the intersect of multiple sorted sets.", "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", zintercard),
    cmd!("zmpop", -4, WRITE, KeyPos::counted(1), &["RW", "access", "delete"], Z, "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", zmpop),
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("zrandmember", -2, READONLY, KeyPos::ONE, RO, Z, "Returns one or more random members from a sorted set.", "6.2.0", "O(N) where N is the number of members returned", zrandmember) },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("zscan", -3, READONLY, KeyPos::ONE, RO, Z, "Iterates over members and scores of a sorted set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", zscan) },
    cmd!("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KeyPos::range(1, -2, 1), &["RW", "access", "delete"], Z, "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", bzpopmin),
    cmd!("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KeyPos::range(1, -2, 1), &["RW", "access", "delete"], Z, "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", bzpopmax),
    cmd!("bzmpop", -5, WRITE | BLOCKING, KeyPos::counted(2), &["RW", "access", "delete"], Z, "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", bzmpop),
];

/// The sorted set at `key`.
fn read_zset<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<Option<&'c ZSetValue>, CmdError> {
    ctx.read(key)
}

fn zset_mut<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<Option<&'c mut ZSetValue>, CmdError> {
    ctx.modify(key)
}

/// A score argument (ZADD, ZINCRBY): NaN is not a valid float.
fn score_arg(a: &[u8]) -> Result<f64, CmdError> {
    match parse_f64(a) {
        Some(f) if !f.is_nan() => Ok(f),
        _ => Err(CmdError::NotFloat),
    }
}

/// One end of a score range: `1.5`, `(1.5`, `-inf`, `+inf`.
fn score_bound(a: &[u8]) -> Option<ScoreBound> {
    let (exclusive, num) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    let value = crate::numeric::parse_f64_strtod(num).filter(|v| !v.is_nan())?;
    Some(ScoreBound { value, exclusive })
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(CmdError::msg("ERR min or max is not a float")),
    }
}

fn lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first() {
        Some(b'+') if a.len() == 1 => Some(LexBound::Max),
        Some(b'-') if a.len() == 1 => Some(LexBound::Min),
        Some(b'[') => Some(LexBound::Value(a[1..].to_vec(), true)),
        Some(b'(') => Some(LexBound::Value(a[1..].to_vec(), false)),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(CmdError::msg("ERR min or max not valid string range item")),
    }
}

/// # Format
/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
fn zadd(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) = (false, false, false, false, false, false);
    let mut i = 2;
    while i < args.len() {
        let o = args.get(i);
        if is_kw(o, "nx") {
            nx = true;
        } else if is_kw(o, "xx") {
            xx = true;
        } else if is_kw(o, "ch") {
            ch = true;
        } else if is_kw(o, "incr") {
            incr = true;
        } else if is_kw(o, "gt") {
            gt = true;
        } else if is_kw(o, "lt") {
            lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = args.len() - i;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if nx && xx {
        return Err(CmdError::msg("ERR XX and NX options at the same time are not compatible"));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CmdError::msg("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if incr && rest > 2 {
        return Err(CmdError::msg("ERR INCR option supports a single increment-element pair"));
    }
    let scores: Vec<f64> = (i..args.len()).step_by(2).map(|j| score_arg(args.get(j))).collect::<Result<_, _>>()?;
    let key = args.get(1);
    let exists = read_zset(ctx, key)?.is_some();
    let (mut added, mut updated, mut processed, mut last) = (0i64, 0i64, 0i64, 0f64);
    if exists || !xx {
        let z: &mut ZSetValue = ctx.modify_or_create(key, || Value::ZSet(Box::default()))?;
        for (n, score) in scores.iter().enumerate() {
            let m = args.get(i + 1 + 2 * n);
            match z.score(m) {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    let new = if incr { cur + score } else { *score };
                    if new.is_nan() {
                        return Err(CmdError::msg("ERR resulting score is not a number (NaN)"));
                    }
                    if (lt && new >= cur) || (gt && new <= cur) {
                        continue;
                    }
                    if new != cur {
                        z.insert(m, new);
                        updated += 1;
                    }
                    processed += 1;
                    last = new;
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.insert(m, *score);
                    added += 1;
                    processed += 1;
                    last = *score;
                }
            }
        }
        ctx.drop_if_empty(key)?;
        ctx.dirty += (added + updated) as u64;
    }
    if incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

fn zincrby(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let by = score_arg(args.get(2))?;
    let (key, m) = (args.get(1), args.get(3));
    let new = read_zset(ctx, key)?.and_then(|z| z.score(m)).unwrap_or(0.0) + by;
    if new.is_nan() {
        return Err(CmdError::msg("ERR resulting score is not a number (NaN)"));
    }
    ctx.modify_or_create::<ZSetValue>(key, || Value::ZSet(Box::default()))?.insert(m, new);
    ctx.dirty += 1;
    ctx.out.double(new);
    Ok(())
}

fn zscore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    match read_zset(ctx, args.get(1))?.and_then(|z| z.score(args.get(2))) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let z = read_zset(ctx, args.get(1))?;
    let scores: Vec<Option<f64>> = args.iter().skip(2).map(|m| z.and_then(|z| z.score(m))).collect();
    ctx.out.array(scores.len());
    for s in scores {
        match s {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn zcard(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = read_zset(ctx, args.get(1))?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn zcount(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = score_range(args.get(2), args.get(3))?;
    let n = read_zset(ctx, args.get(1))?.map_or(0, |z| z.range_by_score(min, max, 0, None).len());
    ctx.out.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = lex_range(args.get(2), args.get(3))?;
    let n = read_zset(ctx, args.get(1))?.map_or(0, |z| z.range_by_lex(&min, &max, 0, None).len());
    ctx.out.int(n as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Writes `items` as a range reply: members, with scores when asked (RESP3: pairs).
fn reply_range(ctx: &mut ExecCtx<'_>, items: &[(ByteString, f64)], withscores: bool) {
    let out = &mut *ctx.out;
    if withscores && out.resp3 {
        out.array(items.len());
        for (m, s) in items {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else {
        out.array(items.len() * if withscores { 2 } else { 1 });
        for (m, s) in items {
            out.bulk(m);
            if withscores {
                out.double(*s);
            }
        }
    }
}

/// The shared ZRANGE engine. `src_at`: index of the source key; `store`: the
/// destination key for ZRANGESTORE; `fixed`: range type and direction set by the
/// legacy command names (they take no BYSCORE/BYLEX/REV options).
fn zrange_generic(
    ctx: &mut ExecCtx<'_>,
    args: &Args<'_>,
    src_at: usize,
    store: Option<&[u8]>,
    fixed: Option<(RangeType, bool)>,
) -> CmdResult {
    let (mut rtype, mut rev) = fixed.unwrap_or((RangeType::Auto, false));
    let mut rev_set = fixed.is_some();
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src_at + 3;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if is_kw(a, "withscores") && store.is_none() {
            withscores = true;
        } else if is_kw(a, "limit") && left >= 2 {
            offset = int_arg(args.get(j + 1))?;
            limit = int_arg(args.get(j + 2))?;
            j += 2;
        } else if !rev_set && is_kw(a, "rev") {
            rev = true;
            rev_set = true;
        } else if rtype == RangeType::Auto && is_kw(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && is_kw(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let has_limit = args.iter().skip(src_at + 3).any(|a| is_kw(a, "limit"));
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if has_limit && rtype == RangeType::Rank {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rtype == RangeType::Lex {
        return Err(CmdError::msg("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut a, mut b) = (args.get(src_at + 1), args.get(src_at + 2));
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreBound, ScoreBound),
        Lex(LexBound, LexBound),
    }
    let parsed = match rtype {
        RangeType::Score => {
            let (min, max) = score_range(a, b)?;
            Parsed::Score(min, max)
        }
        RangeType::Lex => {
            let (min, max) = lex_range(a, b)?;
            Parsed::Lex(min, max)
        }
        _ => Parsed::Rank(int_arg(a)?, int_arg(b)?),
    };
    let src = args.get(src_at);
    let items: Vec<(ByteString, f64)> = match read_zset(ctx, src)? {
        None => Vec::new(),
        Some(z) => {
            // A negative offset skips everything; a negative limit means no limit.
            let (off, lim) = if offset < 0 {
                (usize::MAX, Some(0))
            } else {
                (offset as usize, (limit >= 0).then_some(limit as usize))
            };
            match parsed {
                Parsed::Rank(s, e) => match super::lists::list_range(s, e, z.len() as i64) {
                    None => Vec::new(),
                    Some((s, e)) if rev => z.rev_range_by_rank(s, e),
                    Some((s, e)) => z.range_by_rank(s, e),
                },
                Parsed::Score(min, max) if rev => z.rev_range_by_score(max, min, off, lim),
                Parsed::Score(min, max) => z.range_by_score(min, max, off, lim),
                Parsed::Lex(min, max) if rev => z.rev_range_by_lex(&max, &min, off, lim),
                Parsed::Lex(min, max) => z.range_by_lex(&min, &max, off, lim),
            }
        }
    };
    match store {
        Some(dst) => {
            ctx.delete(dst)?;
            if !items.is_empty() {
                let mut z = ZSetValue::default();
                for (m, s) in &items {
                    z.insert(m, *s);
                }
                ctx.store(dst, Value::ZSet(Box::new(z)), false)?;
            }
            ctx.out.int(items.len() as i64);
        }
        None => reply_range(ctx, &items, withscores),
    }
    Ok(())
}

/// # Format
/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
fn zrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, None)
}
fn zrangestore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let dst = args.get(1);
    zrange_generic(ctx, &args, 2, Some(dst), None)
}
fn zrangebyscore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, Some((RangeType::Score, false)))
}
fn zrevrangebyscore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, Some((RangeType::Score, true)))
}
fn zrangebylex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, Some((RangeType::Lex, false)))
}
fn zrevrangebylex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, Some((RangeType::Lex, true)))
}
fn zrevrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, &args, 1, None, Some((RangeType::Rank, true)))
}

fn rank_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, rev: bool) -> CmdResult {
    let r =
        read_zset(ctx, args.get(1))?.and_then(|z| z.rank(args.get(2)).map(|r| if rev { z.len() - 1 - r } else { r }));
    match r {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}
fn zrank(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ctx, &args, false)
}
fn zrevrank(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ctx, &args, true)
}

fn zrem(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let n = match zset_mut(ctx, key)? {
        Some(z) => args.iter().skip(2).filter(|m| z.remove(m)).count(),
        None => 0,
    };
    if n > 0 {
        ctx.drop_if_empty(key)?;
        ctx.dirty += n as u64;
    }
    ctx.out.int(n as i64);
    Ok(())
}

fn remove_items(ctx: &mut ExecCtx<'_>, key: &[u8], items: Vec<(ByteString, f64)>) -> CmdResult {
    if let Some(z) = zset_mut(ctx, key)? {
        for (m, _) in &items {
            z.remove(m);
        }
    }
    ctx.drop_if_empty(key)?;
    ctx.dirty += items.len() as u64;
    ctx.out.int(items.len() as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (s, e) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let key = args.get(1);
    let items = match read_zset(ctx, key)? {
        Some(z) => {
            super::lists::list_range(s, e, z.len() as i64).map(|(s, e)| z.range_by_rank(s, e)).unwrap_or_default()
        }
        None => Vec::new(),
    };
    remove_items(ctx, key, items)
}

fn zremrangebyscore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = score_range(args.get(2), args.get(3))?;
    let key = args.get(1);
    let items = read_zset(ctx, key)?.map(|z| z.range_by_score(min, max, 0, None)).unwrap_or_default();
    remove_items(ctx, key, items)
}

fn zremrangebylex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = lex_range(args.get(2), args.get(3))?;
    let key = args.get(1);
    let items = read_zset(ctx, key)?.map(|z| z.range_by_lex(&min, &max, 0, None)).unwrap_or_default();
    remove_items(ctx, key, items)
}

/// # Format
/// `ZPOPMIN key [count]` / `ZPOPMAX key [count]`
fn pop_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 {
        positive_arg(args.get(2), "ERR value is out of range, must be positive")? as usize
    } else {
        1
    };
    let key = args.get(1);
    let items = match read_zset(ctx, key)? {
        None => Vec::new(),
        Some(z) if count == 0 || z.is_empty() => Vec::new(),
        Some(z) => {
            let e = count.min(z.len()) - 1;
            if max {
                z.rev_range_by_rank(0, e)
            } else {
                z.range_by_rank(0, e)
            }
        }
    };
    if let Some(z) = zset_mut(ctx, key)? {
        for (m, _) in &items {
            z.remove(m);
        }
    }
    ctx.drop_if_empty(key)?;
    ctx.dirty += items.len() as u64;
    // With a count, RESP3 clients get (member, score) pairs.
    let nested = args.len() == 3 && ctx.out.resp3;
    reply_range_pairs(ctx, &items, nested);
    Ok(())
}

fn reply_range_pairs(ctx: &mut ExecCtx<'_>, items: &[(ByteString, f64)], nested: bool) {
    if nested {
        reply_range(ctx, items, true);
        return;
    }
    ctx.out.array(items.len() * 2);
    for (m, s) in items {
        ctx.out.bulk(m);
        ctx.out.double(*s);
    }
}
fn zpopmin(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, &args, false)
}
fn zpopmax(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, &args, true)
}

/// # Format
/// `ZRANDMEMBER key [count [WITHSCORES]]`
fn zrandmember(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if args.len() == 2 {
        let all: Option<Vec<ByteString>> = read_zset(ctx, key)?.map(|z| z.iter().map(|(m, _)| m.clone()).collect());
        match all {
            None => ctx.out.null(),
            Some(all) => {
                let i = (ctx.host.random() % all.len() as u64) as usize;
                ctx.out.bulk(&all[i]);
            }
        }
        return Ok(());
    }
    let count = super::util::random_count_arg(args.get(2))?;
    let withscores = match args.len() {
        3 => false,
        4 if is_kw(args.get(3), "withscores") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let all: Vec<(ByteString, f64)> =
        read_zset(ctx, key)?.map(|z| z.iter().map(|(m, s)| (m.clone(), s)).collect()).unwrap_or_default();
    // The whole set comes in the order Redis's iterator walks it: from the top.
    let picked = ctx.random_picks(all.len(), count, (0..all.len()).rev());
    let items: Vec<(ByteString, f64)> = picked.into_iter().map(|i| all[i].clone()).collect();
    reply_range(ctx, &items, withscores);
    Ok(())
}

/// Position of a member in ZSCAN order.
fn member_pos(m: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x25ca9).hash_one(m) >> 1
}

/// # Format
/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
fn zscan(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let opts = parse_scan_opts(&args, 3, false)?;
    let (next, items): (u64, Vec<(ByteString, f64)>) = match read_zset(ctx, args.get(1))? {
        None => (0, Vec::new()),
        Some(z) if z.is_compact() => (0, z.iter().map(|(m, s)| (m.clone(), s)).collect()),
        Some(z) => {
            let cands: Vec<(u64, (ByteString, f64))> =
                z.iter().map(|(m, s)| (member_pos(m), (m.clone(), s))).filter(|(p, _)| *p >= cursor).collect();
            let (taken, next) = take_ordered(cands, opts.count);
            (next.unwrap_or(0), taken)
        }
    };
    let items: Vec<_> =
        items.into_iter().filter(|(m, _)| opts.pattern.is_none_or(|p| crate::glob::glob_match(p, m, false))).collect();
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(items.len() * 2);
    for (m, s) in items {
        ctx.out.bulk(&m);
        ctx.out.bulk(fmt_d2string(s).as_bytes());
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// An input of ZUNION and friends: a sorted set, or a set whose members score 1.
fn load_input(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Result<Option<Vec<(ByteString, f64)>>, CmdError> {
    let (db, now) = (ctx.db(), ctx.now);
    let (ks, slot) = ctx.data.locate(key)?;
    Ok(match ks.get(db, slot, key, now) {
        None => None,
        Some(Value::ZSet(z)) => Some(z.iter().map(|(m, s)| (m.clone(), s)).collect()),
        Some(Value::Set(s)) => Some(s.members().into_iter().map(|m| (ByteString::from_vec(m), 1.0)).collect()),
        Some(_) => return Err(CmdError::WrongType),
    })
}

/// Parsed arguments of a sorted-set operation.
struct SetOpCall {
    sources: Vec<Option<Vec<(ByteString, f64)>>>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Parses `numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES] [LIMIT n]` starting at `at`, as Redis does (sources are read,
/// and type-checked, before the options).
fn parse_setop(
    ctx: &mut ExecCtx<'_>,
    args: &Args<'_>,
    at: usize,
    op: SetOp,
    name: &str,
    store: bool,
    card: bool,
) -> Result<SetOpCall, CmdError> {
    let n = int_arg(args.get(at))?;
    if n < 1 {
        return Err(CmdError::owned(format!("ERR at least 1 input key is needed for '{name}' command")));
    }
    let n = n as usize;
    if n > args.len() - at - 1 {
        return Err(CmdError::Syntax);
    }
    let mut sources = Vec::with_capacity(n);
    for k in at + 1..at + 1 + n {
        sources.push(load_input(ctx, args.get(k))?);
    }
    let mut call = SetOpCall { sources, weights: vec![1.0; n], aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = at + 1 + n;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args.get(j);
        if op != SetOp::Diff && remaining > n && is_kw(a, "weights") {
            for w in 0..n {
                call.weights[w] = match parse_f64(args.get(j + 1 + w)) {
                    Some(v) if !v.is_nan() => v,
                    _ => return Err(CmdError::msg("ERR weight value is not a float")),
                };
            }
            j += 1 + n;
        } else if op != SetOp::Diff && remaining >= 2 && is_kw(a, "aggregate") {
            let v = args.get(j + 1);
            call.aggregate = if is_kw(v, "sum") {
                Aggregate::Sum
            } else if is_kw(v, "min") {
                Aggregate::Min
            } else if is_kw(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card && is_kw(a, "withscores") {
            call.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is_kw(a, "limit") {
            call.limit = positive_arg(args.get(j + 1), "ERR LIMIT can't be negative")? as usize;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(call)
}

fn nan_to_zero(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Computes a sorted-set operation into a new sorted set.
fn compute(call: &SetOpCall, op: SetOp) -> ZSetValue {
    let mut out = ZSetValue::default();
    let agg = |a: f64, b: f64, how: Aggregate| match how {
        Aggregate::Sum => nan_to_zero(a + b),
        Aggregate::Min => a.min(b),
        Aggregate::Max => a.max(b),
    };
    match op {
        SetOp::Union => {
            let mut acc: std::collections::HashMap<ByteString, f64> = std::collections::HashMap::new();
            let mut order: Vec<ByteString> = Vec::new();
            for (src, w) in call.sources.iter().zip(&call.weights) {
                for (m, s) in src.iter().flatten() {
                    let v = nan_to_zero(s * w);
                    match acc.get_mut(m) {
                        Some(cur) => *cur = agg(*cur, v, call.aggregate),
                        None => {
                            acc.insert(m.clone(), v);
                            order.push(m.clone());
                        }
                    }
                }
            }
            for m in order {
                out.insert(&m, acc[&m]);
            }
        }
        SetOp::Inter => {
            if call.sources.iter().any(|s| s.is_none()) {
                return out;
            }
            let maps: Vec<std::collections::HashMap<&ByteString, f64>> =
                call.sources.iter().skip(1).flatten().map(|s| s.iter().map(|(m, v)| (m, *v)).collect()).collect();
            for (m, s) in call.sources[0].iter().flatten() {
                let mut v = nan_to_zero(s * call.weights[0]);
                let mut all = true;
                for (i, map) in maps.iter().enumerate() {
                    match map.get(m) {
                        Some(o) => v = agg(v, nan_to_zero(o * call.weights[i + 1]), call.aggregate),
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    out.insert(m, v);
                }
            }
        }
        SetOp::Diff => {
            let rest: std::collections::HashSet<&ByteString> =
                call.sources.iter().skip(1).flatten().flatten().map(|(m, _)| m).collect();
            for (m, s) in call.sources.first().into_iter().flatten().flatten() {
                if !rest.contains(m) {
                    out.insert(m, *s);
                }
            }
        }
    }
    out
}

fn setop_reply(ctx: &mut ExecCtx<'_>, args: Args<'_>, op: SetOp, name: &str) -> CmdResult {
    let call = parse_setop(ctx, &args, 1, op, name, false, false)?;
    let z = compute(&call, op);
    let items: Vec<(ByteString, f64)> = z.iter().map(|(m, s)| (m.clone(), s)).collect();
    reply_range(ctx, &items, call.withscores);
    Ok(())
}

fn setop_store(ctx: &mut ExecCtx<'_>, args: Args<'_>, op: SetOp, name: &str) -> CmdResult {
    let call = parse_setop(ctx, &args, 2, op, name, true, false)?;
    let z = compute(&call, op);
    let dst = args.get(1);
    let n = z.len();
    ctx.delete(dst)?;
    if n > 0 {
        ctx.store(dst, Value::ZSet(Box::new(z)), false)?;
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]`
fn zunion(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_reply(ctx, args, SetOp::Union, "zunion")
}
fn zinter(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_reply(ctx, args, SetOp::Inter, "zinter")
}
fn zdiff(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_reply(ctx, args, SetOp::Diff, "zdiff")
}
fn zunionstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_store(ctx, args, SetOp::Union, "zunionstore")
}
fn zinterstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_store(ctx, args, SetOp::Inter, "zinterstore")
}
fn zdiffstore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    setop_store(ctx, args, SetOp::Diff, "zdiffstore")
}

/// # Format
/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
fn zintercard(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let call = parse_setop(ctx, &args, 1, SetOp::Inter, "zintercard", false, true)?;
    let n = compute(&call, SetOp::Inter).len();
    ctx.out.int(if call.limit > 0 { n.min(call.limit) } else { n } as i64);
    Ok(())
}

/// # Format
/// `ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]`
fn zmpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (n, min, count) = super::util::mpop_args(&args, 1, "min", "max")?;
    if !zmpop_serve(ctx, &args, 2..2 + n, !min, count, false)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Pops up to `count` members from the first non-empty sorted set among the
/// keys at `keys`. `single` answers one flat `[key, member, score]` (BZPOPMIN),
/// otherwise `[key, [[member, score] ...]]` (ZMPOP). False if all are empty.
fn zmpop_serve(
    ctx: &mut ExecCtx<'_>,
    args: &Args<'_>,
    keys: std::ops::Range<usize>,
    max: bool,
    count: usize,
    single: bool,
) -> Result<bool, CmdError> {
    for k in keys {
        let key = args.get(k);
        // A blocked client's retry passes over keys of another type.
        let items = match ctx.read_waitable::<ZSetValue>(key)? {
            Some(z) if !z.is_empty() => {
                let e = count.min(z.len()) - 1;
                if max {
                    z.rev_range_by_rank(0, e)
                } else {
                    z.range_by_rank(0, e)
                }
            }
            _ => continue,
        };
        if let Some(z) = zset_mut(ctx, key)? {
            for (m, _) in &items {
                z.remove(m);
            }
        }
        ctx.drop_if_empty(key)?;
        ctx.dirty += items.len() as u64;
        if single {
            let (m, s) = &items[0];
            ctx.out.array(3);
            ctx.out.bulk(key);
            ctx.out.bulk(m);
            ctx.out.double(*s);
            return Ok(true);
        }
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(items.len());
        for (m, s) in items {
            ctx.out.array(2);
            ctx.out.bulk(&m);
            ctx.out.double(s);
        }
        return Ok(true);
    }
    Ok(false)
}

/// # Format
/// `BZPOPMIN key [key ...] timeout` / `BZPOPMAX key [key ...] timeout`
fn blocking_zpop(ctx: &mut ExecCtx<'_>, args: &Args<'_>, max: bool) -> CmdResult {
    let last = args.len() - 1;
    let deadline = timeout_arg(args.get(last), ctx.now, true)?;
    if zmpop_serve(ctx, args, 1..last, max, 1, true)? {
        return Ok(());
    }
    ctx.block_or_null((1..last).map(|k| args.get(k)), deadline, false, None)
}

fn bzpopmin(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    blocking_zpop(ctx, &args, false)
}
fn bzpopmax(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    blocking_zpop(ctx, &args, true)
}

/// # Format
/// `BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]`
fn bzmpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (n, min, count) = super::util::mpop_args(&args, 2, "min", "max")?;
    let deadline = timeout_arg(args.get(1), ctx.now, true)?;
    if zmpop_serve(ctx, &args, 3..3 + n, !min, count, false)? {
        return Ok(());
    }
    ctx.block_or_null((3..3 + n).map(|k| args.get(k)), deadline, false, None)
}
