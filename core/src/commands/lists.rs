//! List commands. The blocking ones (BLPOP, BLMOVE, BLMPOP ...) serve from
//! the first non-empty list, or block the client on their keys (see
//! [`ExecCtx::block_or_null`]) and are retried when one of them is written.

use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::strings::cmd;
use super::util::{int_arg, is_kw, timeout_arg};
use crate::bytestring::ByteString;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::numeric::parse_i64;
use crate::resp::request::Args;

const L: Group = Group::List;
const RO: &[&str] = &["RO", "access"];

pub(crate) const SPECS: &[CommandSpec] = &[
    cmd!("lpush", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], L, "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", lpush),
    cmd!("rpush", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], L, "Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", rpush),
    cmd!("lpushx", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], L, "Prepends one or more elements to a list only when the list exists.", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", lpushx),
    cmd!("rpushx", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "insert"], L, "Appends an element to a list only when the list exists.", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", rpushx),
    cmd!("lpop", -2, WRITE | FAST, KeyPos::ONE, &["RW", "access", "delete"], L, "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned", lpop),
    cmd!("rpop", -2, WRITE | FAST, KeyPos::ONE, &["RW", "access", "delete"], L, "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned", rpop),
    cmd!("llen", 2, READONLY | FAST, KeyPos::ONE, &["RO"], L, "Returns the length of a list.", "1.0.0", "O(1)", llen),
    cmd!("lrange", 4, READONLY, KeyPos::ONE, RO, L, "Returns a range of elements from a list.", "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", lrange),
    cmd!("lindex", 3, READONLY, KeyPos::ONE, RO, L, "Returns an element from a list by its index.", "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", lindex),
    cmd!("lset", 4, WRITE | DENYOOM, KeyPos::ONE, &["RW", "update"], L, "Sets the value of an element in a list by its index.", "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", lset),
    cmd!("linsert", 5, WRITE | DENYOOM, KeyPos::ONE, &["RW", "insert"], L, "Inserts an element before or after another element in a list.", "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", linsert),
    cmd!("lrem", 4, WRITE, KeyPos::ONE, &["RW", "delete"], L, "Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", lrem),
    cmd!("ltrim", 4, WRITE, KeyPos::ONE, &["RW", "delete"], L, "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", ltrim),
    cmd!("lpos", -3, READONLY, KeyPos::ONE, RO, L, "Returns the index of matching elements in a list.", "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", lpos),
    cmd!("lmpop", -4, WRITE, KeyPos::counted(1), &["RW", "access", "delete"], L, "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", lmpop),
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["RW", "insert"])],
        ..cmd!("lmove", 5, WRITE | DENYOOM, KeyPos::range(1, 2, 1), &[], L, "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0", "O(1)", lmove)
    },
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["RW", "insert"])],
        ..cmd!("rpoplpush", 3, WRITE | DENYOOM, KeyPos::range(1, 2, 1), &[], L, "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0", "O(1)", rpoplpush)
    },
    cmd!("blpop", -3, WRITE | NOSCRIPT | BLOCKING, KeyPos::range(1, -2, 1), &["RW", "access", "delete"], L, "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys.", blpop),
    cmd!("brpop", -3, WRITE | NOSCRIPT | BLOCKING, KeyPos::range(1, -2, 1), &["RW", "access", "delete"], L, "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys.", brpop),
    cmd!("blmpop", -5, WRITE | BLOCKING, KeyPos::counted(2), &["RW", "access", "delete"], L, "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", blmpop),
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["RW", "insert"])],
        ..cmd!("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, KeyPos::range(1, 2, 1), &[], L, "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0", "O(1)", blmove)
    },
    CommandSpec {
        key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["RW", "insert"])],
        ..cmd!("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, KeyPos::range(1, 2, 1), &[], L, "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0", "O(1)", brpoplpush)
    },
];

fn push_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, left: bool, only_existing: bool) -> CmdResult {
    let key = args.get(1);
    if only_existing && ctx.read_list(key)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let list = ctx.list_for_write(key)?;
    for e in args.iter().skip(2) {
        let e = ByteString::from_slice(e);
        if left {
            list.push_front(e);
        } else {
            list.push_back(e);
        }
    }
    let n = list.len();
    ctx.dirty += 1;
    ctx.out.int(n as i64);
    Ok(())
}

fn lpush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, &args, true, false)
}
fn rpush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, &args, false, false)
}
fn lpushx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, &args, true, true)
}
fn rpushx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, &args, false, true)
}

/// A non-negative count; both a bad number and a negative one give `msg`.
pub(crate) fn positive_arg(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match parse_i64(a) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::msg(msg)),
    }
}

/// # Format
/// `LPOP key [count]` / `RPOP key [count]`
fn pop_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, left: bool) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => Some(positive_arg(args.get(2), "ERR value is out of range, must be positive")?),
        _ => return Err(CmdError::WrongArity(if left { "lpop" } else { "rpop" }.into())),
    };
    let key = args.get(1);
    let Some(list) = ctx.list_mut(key)? else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let take = |list: &mut crate::types::ListValue| if left { list.pop_front() } else { list.pop_back() };
    match count {
        None => {
            let v = take(list).unwrap_or_default();
            ctx.drop_if_empty(key)?;
            ctx.dirty += 1;
            ctx.out.bulk(&v);
        }
        Some(0) => ctx.out.array(0),
        Some(n) => {
            let n = (n as usize).min(list.len());
            let items: Vec<ByteString> = (0..n).filter_map(|_| take(list)).collect();
            ctx.drop_if_empty(key)?;
            ctx.dirty += 1;
            ctx.out.array(items.len());
            for i in items {
                ctx.out.bulk(&i);
            }
        }
    }
    Ok(())
}

fn lpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, &args, true)
}
fn rpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, &args, false)
}

fn llen(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.read_list(args.get(1))?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Redis's clamping of rank ranges (LRANGE, LTRIM, ZRANGE): `None` when empty.
pub(crate) fn list_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

fn lrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(args.get(2))?;
    let end = int_arg(args.get(3))?;
    let (db, now, key) = (ctx.db(), ctx.now, args.get(1));
    let (ks, slot) = ctx.data.locate(key)?;
    let out = &mut *ctx.out;
    match ks.get(db, slot, key, now) {
        None => out.array(0),
        Some(crate::types::Value::List(l)) => match list_range(start, end, l.len() as i64) {
            None => out.array(0),
            Some((a, b)) => {
                out.array(b - a + 1);
                for e in l.range(a..=b) {
                    out.bulk(e);
                }
            }
        },
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

fn index_of(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

fn lindex(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let i = int_arg(args.get(2))?;
    let v = ctx.read_list(args.get(1))?.and_then(|l| index_of(i, l.len()).map(|i| l[i].to_vec()));
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

fn lset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let Some(list) = ctx.list_mut(args.get(1))? else { return Err(CmdError::NoSuchKey) };
    let i = int_arg(args.get(2))?;
    let i = index_of(i, list.len()).ok_or(CmdError::msg("ERR index out of range"))?;
    list[i] = ByteString::from_slice(args.get(3));
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `LINSERT key BEFORE | AFTER pivot element`
fn linsert(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let after = match args.get(2) {
        w if is_kw(w, "after") => true,
        w if is_kw(w, "before") => false,
        _ => return Err(CmdError::Syntax),
    };
    let Some(list) = ctx.list_mut(args.get(1))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let n = match list.iter().position(|e| e.as_slice() == args.get(3)) {
        Some(i) => {
            list.insert(i + after as usize, ByteString::from_slice(args.get(4)));
            list.len() as i64
        }
        None => -1,
    };
    if n > 0 {
        ctx.dirty += 1;
    }
    ctx.out.int(n);
    Ok(())
}

fn lrem(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let count = int_arg(args.get(2))?;
    let key = args.get(1);
    let Some(list) = ctx.list_mut(key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let target = args.get(3);
    let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
    let mut removed = 0usize;
    if count >= 0 {
        let mut i = 0;
        while i < list.len() && removed < limit {
            if list[i].as_slice() == target {
                list.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = list.len();
        while i > 0 && removed < limit {
            i -= 1;
            if list[i].as_slice() == target {
                list.remove(i);
                removed += 1;
            }
        }
    }
    ctx.drop_if_empty(key)?;
    if removed > 0 {
        ctx.dirty += 1;
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn ltrim(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(args.get(2))?;
    let end = int_arg(args.get(3))?;
    let key = args.get(1);
    if let Some(list) = ctx.list_mut(key)? {
        match list_range(start, end, list.len() as i64) {
            None => list.clear(),
            Some((a, b)) => {
                list.truncate(b + 1);
                list.drain(..a);
            }
        }
        ctx.drop_if_empty(key)?;
        ctx.dirty += 1;
    }
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut i = 3;
    while i < args.len() {
        let (opt, more) = (args.get(i), i + 1 < args.len());
        if is_kw(opt, "rank") && more {
            rank = match parse_i64(args.get(i + 1)) {
                // Redis negates the rank to search from the tail; the most negative
                // value stays negative there, so its first match from the tail counts.
                Some(i64::MIN) => -1,
                Some(r) => r,
                None => return Err(CmdError::NotInteger),
            };
            if rank == 0 {
                return Err(CmdError::msg("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is_kw(opt, "count") && more {
            count = Some(positive_arg(args.get(i + 1), "ERR COUNT can't be negative")?);
        } else if is_kw(opt, "maxlen") && more {
            maxlen = positive_arg(args.get(i + 1), "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let target = args.get(2);
    let found: Vec<i64> = match ctx.read_list(args.get(1))? {
        None => Vec::new(),
        Some(list) => {
            let len = list.len();
            let want = match count {
                Some(0) => usize::MAX,
                Some(c) => c as usize,
                None => 1,
            };
            let scan = if maxlen == 0 { len } else { (maxlen as usize).min(len) };
            let mut skip = rank.unsigned_abs() - 1;
            let mut hits = Vec::new();
            for step in 0..scan {
                let idx = if rank > 0 { step } else { len - 1 - step };
                if list[idx].as_slice() == target {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        hits.push(idx as i64);
                        if hits.len() >= want {
                            break;
                        }
                    }
                }
            }
            hits
        }
    };
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            for i in found {
                ctx.out.int(i);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.out.int(i),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

fn direction(a: &[u8]) -> Result<bool, CmdError> {
    if is_kw(a, "left") {
        Ok(true)
    } else if is_kw(a, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn move_generic(ctx: &mut ExecCtx<'_>, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) -> CmdResult {
    let Some(list) = ctx.list_mut(src)? else {
        ctx.out.null();
        return Ok(());
    };
    if list.is_empty() {
        ctx.out.null();
        return Ok(());
    }
    ctx.read_list(dst)?; // WRONGTYPE before anything moves
    let list = ctx.list_mut(src)?.ok_or(CmdError::NoSuchKey)?;
    let Some(v) = (if from_left { list.pop_front() } else { list.pop_back() }) else {
        ctx.out.null();
        return Ok(());
    };
    ctx.drop_if_empty(src)?;
    let dest = ctx.list_for_write(dst)?;
    if to_left {
        dest.push_front(v.clone());
    } else {
        dest.push_back(v.clone());
    }
    ctx.dirty += 2;
    ctx.out.bulk(&v);
    Ok(())
}

/// # Format
/// `LMOVE source destination LEFT | RIGHT LEFT | RIGHT`
fn lmove(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let from = direction(args.get(3))?;
    let to = direction(args.get(4))?;
    move_generic(ctx, args.get(1), args.get(2), from, to)
}

fn rpoplpush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    move_generic(ctx, args.get(1), args.get(2), false, true)
}

/// # Format
/// `LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]`
fn lmpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (n, left, count) = super::util::mpop_args(&args, 1, "left", "right")?;
    if !mpop_serve(ctx, &args, 2..2 + n, left, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Pops up to `count` elements from the first non-empty list among the keys at
/// `keys`, answering `[key, [elements]]`; false if all are empty.
fn mpop_serve(
    ctx: &mut ExecCtx<'_>,
    args: &Args<'_>,
    keys: std::ops::Range<usize>,
    left: bool,
    count: usize,
) -> Result<bool, CmdError> {
    for k in keys {
        let key = args.get(k);
        if !has_elements(ctx, key)? {
            continue;
        }
        let Some(list) = ctx.list_mut(key)? else { continue };
        let take = count.min(list.len());
        let items: Vec<ByteString> =
            (0..take).filter_map(|_| if left { list.pop_front() } else { list.pop_back() }).collect();
        ctx.drop_if_empty(key)?;
        ctx.dirty += 1;
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(items.len());
        for i in items {
            ctx.out.bulk(&i);
        }
        return Ok(true);
    }
    Ok(false)
}

/// True if `key` holds a non-empty list (see [`ExecCtx::read_waitable`]).
fn has_elements(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    Ok(ctx.read_waitable::<crate::types::ListValue>(key)?.is_some_and(|l| !l.is_empty()))
}

/// # Format
/// `BLPOP key [key ...] timeout` / `BRPOP key [key ...] timeout`
fn blocking_pop(ctx: &mut ExecCtx<'_>, args: &Args<'_>, left: bool) -> CmdResult {
    let last = args.len() - 1;
    let deadline = timeout_arg(args.get(last), ctx.now, true)?;
    for k in 1..last {
        let key = args.get(k);
        if !has_elements(ctx, key)? {
            continue;
        }
        let list = ctx.list_mut(key)?.ok_or(CmdError::NoSuchKey)?;
        let v = if left { list.pop_front() } else { list.pop_back() }.unwrap_or_default();
        ctx.drop_if_empty(key)?;
        ctx.dirty += 1;
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.bulk(&v);
        return Ok(());
    }
    ctx.block_or_null((1..last).map(|k| args.get(k)), deadline, false, None)
}

fn blpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    blocking_pop(ctx, &args, true)
}
fn brpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    blocking_pop(ctx, &args, false)
}

/// # Format
/// `BLMPOP timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]`
fn blmpop(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (n, left, count) = super::util::mpop_args(&args, 2, "left", "right")?;
    let deadline = timeout_arg(args.get(1), ctx.now, true)?;
    if mpop_serve(ctx, &args, 3..3 + n, left, count)? {
        return Ok(());
    }
    ctx.block_or_null((3..3 + n).map(|k| args.get(k)), deadline, false, None)
}

fn blocking_move(ctx: &mut ExecCtx<'_>, args: &Args<'_>, from: bool, to: bool, timeout_at: usize) -> CmdResult {
    let deadline = timeout_arg(args.get(timeout_at), ctx.now, true)?;
    let (src, dst) = (args.get(1), args.get(2));
    if has_elements(ctx, src)? {
        return move_generic(ctx, src, dst, from, to);
    }
    ctx.block_or_null(std::iter::once(src), deadline, true, None)
}

/// # Format
/// `BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout`
fn blmove(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let from = direction(args.get(3))?;
    let to = direction(args.get(4))?;
    blocking_move(ctx, &args, from, to, 5)
}

fn brpoplpush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    blocking_move(ctx, &args, false, true, 3)
}
