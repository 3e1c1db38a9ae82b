//! Stream commands: XADD and the readers (XRANGE, XREAD), trimming, and
//! consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
//! XINFO). XREAD and XREADGROUP with BLOCK wait like the blocking list
//! commands (see [`ExecCtx::block_or_null`]).

use super::spec::{flags::*, CommandSpec, Group, KeyPos};
use super::util::{int_arg, is_kw, timeout_arg};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::numeric::parse_i64;
use crate::resp::request::{Args, Argv};
use crate::types::stream::{Entry, Fields, Group as CGroup, StreamId, StreamValue, Trim};
use crate::types::Value;

const X: Group = Group::Stream;
const ND: &[&str] = &["nondeterministic_output"];

macro_rules! x {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $kf:expr, $summary:literal, $since:literal, $cx:literal, $h:expr) => {
        CommandSpec::new($name, $arity, $flags, $keys, $kf, X, $summary, $since, $cx, $h)
    };
}

const AT2: KeyPos = KeyPos::range(2, 2, 1);

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec {
        tips: ND,
        key_specs: &[super::spec::KeySpec {
            notes: Some("UPDATE instead of INSERT because of the optional trimming feature"),
            ..super::spec::KeySpec::at(1, &["RW", "update"])
        }],
        ..x!("xadd", -5, WRITE | DENYOOM | FAST, KeyPos::ONE, &[], "Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", xadd)
    },
    x!("xrange", -4, READONLY, KeyPos::ONE, &["RO", "access"], "Returns the messages from a stream within a range of IDs.", "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", xrange),
    x!("xrevrange", -4, READONLY, KeyPos::ONE, &["RO", "access"], "Returns the messages from a stream within a range of IDs in reverse order.", "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", xrevrange),
    x!("xsetid", -3, WRITE | DENYOOM | FAST, KeyPos::ONE, &["RW", "update"], "An internal command for replicating stream values.", "5.0.0", "O(1)", xsetid),
    x!("xlen", 2, READONLY | FAST, KeyPos::ONE, &["RO"], "Return the number of messages in a stream.", "5.0.0", "O(1)", xlen),
    x!("xdel", -3, WRITE | FAST, KeyPos::ONE, &["RW", "delete"], "Returns the number of messages after removing them from a stream.", "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", xdel),
    CommandSpec { tips: ND, ..x!("xtrim", -4, WRITE, KeyPos::ONE, &["RW", "delete"], "Deletes messages from the beginning of a stream.", "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", xtrim) },
    x!("xread", -4, READONLY | BLOCKING, KeyPos::after_streams(1), &["RO", "access"], "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "5.0.0", "", xread),
    x!("xreadgroup", -7, WRITE | BLOCKING, KeyPos::after_streams(4), &["RO", "access"], "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "5.0.0", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", xreadgroup),
    x!("xack", -4, WRITE | FAST, KeyPos::ONE, &["RW", "update"], "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "5.0.0", "O(1) for each message ID processed.", xack),
    CommandSpec { tips: ND, ..x!("xpending", -3, READONLY, KeyPos::ONE, &["RO", "access"], "Returns the information and entries from a stream consumer group's pending entries list.", "5.0.0", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", xpending) },
    CommandSpec { tips: ND, ..x!("xclaim", -6, WRITE | FAST, KeyPos::ONE, &["RW", "update"], "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group.", xclaim) },
    CommandSpec { tips: ND, ..x!("xautoclaim", -6, WRITE | FAST, KeyPos::ONE, &["RW", "delete"], "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "6.2.0", "O(1) if COUNT is small.", xautoclaim) },
    CommandSpec {
        subcommands: &[
            x!("destroy", 4, WRITE, AT2, &["RW", "delete"], "Destroys a consumer group.", "5.0.0", "O(N) where N is the number of entries in the group's pending entries list (PEL).", xgroup_destroy),
            x!("setid", -5, WRITE, AT2, &["RW", "update"], "Sets the last-delivered ID of a consumer group.", "5.0.0", "O(1)", xgroup_setid),
            x!("create", -5, WRITE | DENYOOM, AT2, &["RW", "insert"], "Creates a consumer group.", "5.0.0", "O(1)", xgroup_create),
            x!("createconsumer", 5, WRITE | DENYOOM, AT2, &["RW", "insert"], "Creates a consumer in a consumer group.", "6.2.0", "O(1)", xgroup_createconsumer),
            x!("delconsumer", 5, WRITE, AT2, &["RW", "delete"], "Deletes a consumer from a consumer group.", "5.0.0", "O(1)", xgroup_delconsumer),
            CommandSpec::keyless("help", 2, LOADING | STALE, X, "Returns helpful text about the different subcommands.", "5.0.0", xgroup_help),
        ],
        flags: CONTAINER,
        ..x!("xgroup", -2, 0, KeyPos::NONE, &[], "A container for consumer groups commands.", "5.0.0", "Depends on subcommand.", super::server::container)
    },
    CommandSpec {
        subcommands: &[
            x!("stream", -3, READONLY, AT2, &["RO", "access"], "Returns information about a stream.", "5.0.0", "O(1)", xinfo_stream),
            CommandSpec::keyless("help", 2, LOADING | STALE, X, "Returns helpful text about the different subcommands.", "5.0.0", xinfo_help),
            CommandSpec { tips: ND, ..x!("consumers", 4, READONLY, AT2, &["RO", "access"], "Returns a list of the consumers in a consumer group.", "5.0.0", "O(1)", xinfo_consumers) },
            x!("groups", 3, READONLY, AT2, &["RO", "access"], "Returns a list of the consumer groups of a stream.", "5.0.0", "O(1)", xinfo_groups),
        ],
        flags: CONTAINER,
        ..x!("xinfo", -2, 0, KeyPos::NONE, &[], "A container for stream introspection commands.", "5.0.0", "Depends on subcommand.", super::server::container)
    },
];

// ------------------------------------------------------------------ ids

fn invalid_id() -> CmdError {
    CmdError::msg("ERR Invalid stream ID specified as stream command argument")
}

/// C's `strtoull` as Redis's `string2ull` falls back to it: leading spaces,
/// a sign, digits, nothing after; a minus negates modulo 2^64.
fn strtoull(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if i >= s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis's `string2ull`.
fn parse_u64(s: &[u8]) -> Option<u64> {
    match parse_i64(s) {
        Some(v) if v >= 0 => Some(v as u64),
        Some(_) => None,
        None => strtoull(s),
    }
}

/// How an id argument may be written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdForm {
    /// `-` and `+` allowed (ranges).
    Range,
    /// Only `ms[-seq]`.
    Strict,
}

/// Parses `ms[-seq]` (a missing seq is `missing_seq`), `-`/`+` when allowed.
/// With `star_seq`, `ms-*` parses with the returned flag false (seq to generate).
fn parse_id_ex(a: &[u8], missing_seq: u64, form: IdForm, star_seq: bool) -> Result<(StreamId, bool), CmdError> {
    if a.len() > 127 {
        return Err(invalid_id());
    }
    if a == b"-" || a == b"+" {
        if form == IdForm::Strict {
            return Err(invalid_id());
        }
        return Ok((if a == b"-" { StreamId::ZERO } else { StreamId::MAX }, true));
    }
    // C strings stop at a NUL byte.
    let a = a.iter().position(|&c| c == 0).map_or(a, |n| &a[..n]);
    let (ms_part, seq_part) = match a.iter().position(|&c| c == b'-') {
        Some(d) => (&a[..d], Some(&a[d + 1..])),
        None => (a, None),
    };
    let ms = parse_u64(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        None => Ok((StreamId { ms, seq: missing_seq }, true)),
        Some(b"*") if star_seq => Ok((StreamId { ms, seq: 0 }, false)),
        Some(s) => Ok((StreamId { ms, seq: parse_u64(s).ok_or_else(invalid_id)? }, true)),
    }
}

fn strict_id(a: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_ex(a, 0, IdForm::Strict, false).map(|(id, _)| id)
}

/// A range bound: `-`, `+`, an id, or `(id` (exclusive, moved one step inward).
fn range_bound(a: &[u8], end: bool) -> Result<StreamId, CmdError> {
    let missing = if end { u64::MAX } else { 0 };
    if a.len() > 1 && a[0] == b'(' {
        let id = parse_id_ex(&a[1..], missing, IdForm::Strict, false)?.0;
        return if end {
            id.prev().ok_or(CmdError::msg("ERR invalid end ID for the interval"))
        } else {
            id.next().ok_or(CmdError::msg("ERR invalid start ID for the interval"))
        };
    }
    Ok(parse_id_ex(a, missing, IdForm::Range, false)?.0)
}

fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn no_such_group_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

fn reply_id(ctx: &mut ExecCtx<'_>, id: StreamId) {
    ctx.out.bulk(id.to_text().as_bytes());
}

fn reply_entry(out: &mut crate::resp::ReplyBuf, e: &Entry) {
    out.array(2);
    out.bulk(e.id.to_text().as_bytes());
    out.array(e.fields.len() * 2);
    for (f, v) in &e.fields {
        out.bulk(f);
        out.bulk(v);
    }
}

fn reply_entries(out: &mut crate::resp::ReplyBuf, entries: &[&Entry]) {
    out.array(entries.len());
    for e in entries {
        reply_entry(out, e);
    }
}

fn read_stream<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<Option<&'c StreamValue>, CmdError> {
    ctx.read(key)
}

fn stream_mut<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<Option<&'c mut StreamValue>, CmdError> {
    ctx.modify(key)
}

// ------------------------------------------------------------------ XADD, XTRIM

/// The trimming part of XADD and XTRIM.
struct TrimArgs {
    how: Option<Trim>,
    approx: bool,
    limit: u64,
}

/// What XADD's options say: trimming, the index of the id, the id (with
/// whether its sequence was given), and NOMKSTREAM.
type AddArgs = (TrimArgs, usize, Option<(StreamId, bool)>, bool);

/// Parses options from index 2; for XADD stops at the id and returns its index.
fn parse_add_or_trim(args: &Args<'_>, xadd: bool) -> Result<AddArgs, CmdError> {
    let mut t = TrimArgs { how: None, approx: false, limit: 0 };
    let (mut limit, mut nomkstream, mut id) = (None::<i64>, false, None);
    let mut i = 2;
    let both = || CmdError::msg("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            break;
        } else if is_kw(opt, "maxlen") && more > 0 {
            if t.how.is_some() {
                return Err(both());
            }
            t.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                t.approx = next == b"~";
                i += 1;
            }
            let n = int_arg(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::msg("ERR The MAXLEN argument must be >= 0."));
            }
            t.how = Some(Trim::MaxLen(n as u64));
            i += 1;
        } else if is_kw(opt, "minid") && more > 0 {
            if t.how.is_some() {
                return Err(both());
            }
            t.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                t.approx = next == b"~";
                i += 1;
            }
            t.how = Some(Trim::MinId(strict_id(args.get(i + 1))?));
            i += 1;
        } else if is_kw(opt, "limit") && more > 0 {
            let n = int_arg(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::msg("ERR The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && is_kw(opt, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            id = Some(parse_id_ex(opt, 0, IdForm::Strict, true)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && t.how.is_none() {
        return Err(CmdError::msg("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && t.how.is_none() {
        return Err(CmdError::msg("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    match limit {
        Some(_) if !t.approx => {
            return Err(CmdError::msg("ERR syntax error, LIMIT cannot be used without the special ~ option"))
        }
        Some(l) => t.limit = l as u64,
        None if t.approx => t.limit = 100 * crate::types::stream::NODE_MAX_ENTRIES as u64,
        None => t.limit = 0,
    }
    Ok((t, i, id, nomkstream))
}

/// # Format
/// `XADD key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]`
fn xadd(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (trim, idpos, id, nomkstream) = parse_add_or_trim(&args, true)?;
    let field_pos = idpos + 1;
    if args.len() < field_pos + 2 || (args.len() - field_pos) % 2 == 1 {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    if let Some((StreamId::ZERO, true)) = id {
        return Err(CmdError::msg("ERR The ID specified in XADD must be greater than 0-0"));
    }
    let key = args.get(1);
    let now = ctx.now;
    if read_stream(ctx, key)?.is_none() {
        if nomkstream {
            ctx.out.null();
            return Ok(());
        }
        ctx.store(key, Value::Stream(Box::default()), false)?;
    }
    let s = stream_mut(ctx, key)?.ok_or(CmdError::NoSuchKey)?;
    if s.last_id == StreamId::MAX {
        return Err(CmdError::msg("ERR The stream has exhausted the last possible ID, unable to add more items"));
    }
    let too_small =
        || CmdError::msg("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    let new_id = match id {
        Some((id, true)) => id,
        Some((id, false)) if id.ms == s.last_id.ms => {
            if s.last_id.seq == u64::MAX {
                return Err(CmdError::msg("ERR Elements are too large to be stored"));
            }
            StreamId { ms: id.ms, seq: s.last_id.seq + 1 }
        }
        Some((id, false)) => id,
        None if now > s.last_id.ms => StreamId { ms: now, seq: 0 },
        None => s.last_id.next().ok_or_else(too_small)?,
    };
    if new_id <= s.last_id {
        return Err(too_small());
    }
    let fields: Fields =
        (field_pos..args.len()).step_by(2).map(|i| (args.get(i).to_vec(), args.get(i + 1).to_vec())).collect();
    s.append(new_id, fields);
    if let Some(how) = trim.how {
        s.trim(how, trim.approx, trim.limit);
    }
    ctx.dirty += 1;
    if !matches!(id, Some((_, true))) && ctx.effects.is_on() {
        // The clock chose the ID; the replay adds the entry under the same one.
        let chosen = new_id.to_text();
        let mut argv: Vec<&[u8]> = args.iter().collect();
        argv[idpos] = chosen.as_bytes();
        ctx.propagate(&argv);
    }
    reply_id(ctx, new_id);
    Ok(())
}

/// # Format
/// `XTRIM key MAXLEN | MINID [= | ~] threshold [LIMIT count]`
fn xtrim(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (trim, _, _, _) = parse_add_or_trim(&args, false)?;
    let removed = match (stream_mut(ctx, args.get(1))?, trim.how) {
        (Some(s), Some(how)) => s.trim(how, trim.approx, trim.limit),
        _ => 0,
    };
    ctx.dirty += removed;
    ctx.out.int(removed as i64);
    Ok(())
}

fn xdel(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if read_stream(ctx, args.get(1))?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = args.iter().skip(2).map(strict_id).collect::<Result<Vec<_>, _>>()?;
    let s = stream_mut(ctx, args.get(1))?.ok_or(CmdError::NoSuchKey)?;
    let deleted = ids.into_iter().filter(|&id| s.delete(id)).count();
    ctx.dirty += deleted as u64;
    ctx.out.int(deleted as i64);
    Ok(())
}

/// # Format
/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let id = strict_id(args.get(2))?;
    let (mut entries_added, mut max_deleted) = (None, StreamId::ZERO);
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is_kw(args.get(i), "entriesadded") && more {
            let n = int_arg(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::msg("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is_kw(args.get(i), "maxdeletedid") && more {
            max_deleted = strict_id(args.get(i + 1))?;
            if id < max_deleted {
                return Err(CmdError::msg(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let s = stream_mut(ctx, args.get(1))?.ok_or(CmdError::NoSuchKey)?;
    if s.length > 0 {
        if s.edge(true).is_some_and(|e| id < e.id) {
            return Err(CmdError::msg("ERR The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added.is_some_and(|n| s.length > n) {
            return Err(CmdError::msg(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if max_deleted != StreamId::ZERO {
        s.max_deleted_id = max_deleted;
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn xlen(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = read_stream(ctx, args.get(1))?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

// ------------------------------------------------------------------ XRANGE

fn range_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, rev: bool) -> CmdResult {
    let (lo, hi) = if rev { (args.get(3), args.get(2)) } else { (args.get(2), args.get(3)) };
    let start = range_bound(lo, false)?;
    let end = range_bound(hi, true)?;
    let mut count: Option<i64> = None;
    let mut j = 4;
    while j < args.len() {
        if is_kw(args.get(j), "count") && j + 1 < args.len() {
            count = Some(int_arg(args.get(j + 1))?.max(0));
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let out = &mut *ctx.out;
    let Some(s) = stream_ref_inner(&mut ctx.data, ctx.client.db, ctx.now, args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    if count == Some(0) {
        out.null_array();
        return Ok(());
    }
    let entries = s.range(start, end, rev, count.map(|c| c as usize));
    reply_entries(out, &entries);
    Ok(())
}

/// # Format
/// `XRANGE key start end [COUNT count]`
fn xrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, &args, false)
}
fn xrevrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, &args, true)
}

// ------------------------------------------------------------------ XREAD, XREADGROUP

/// The parsed options of XREAD / XREADGROUP.
struct ReadArgs<'a> {
    count: usize,
    deadline: Option<Option<u64>>,
    noack: bool,
    group: Option<(&'a [u8], &'a [u8])>,
    streams_at: usize,
    n: usize,
}

fn parse_read<'a>(ctx: &ExecCtx<'_>, args: &Args<'a>, group_cmd: bool) -> Result<ReadArgs<'a>, CmdError> {
    let mut r = ReadArgs { count: 0, deadline: None, noack: false, group: None, streams_at: 0, n: 0 };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args.get(i);
        if is_kw(o, "block") && more > 0 {
            i += 1;
            r.deadline = Some(timeout_arg(args.get(i), ctx.now, false)?);
        } else if is_kw(o, "count") && more > 0 {
            i += 1;
            r.count = int_arg(args.get(i))?.max(0) as usize;
        } else if is_kw(o, "streams") && more > 0 {
            r.streams_at = i + 1;
            let n = args.len() - r.streams_at;
            if !n.is_multiple_of(2) {
                // Redis 7.0 words this the same for XREADGROUP.
                return Err(CmdError::msg(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            r.n = n / 2;
            break;
        } else if is_kw(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::msg(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if is_kw(o, "noack") {
            if !group_cmd {
                return Err(CmdError::msg(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && r.group.is_none() {
        return Err(CmdError::msg("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// What to read from one stream.
#[derive(Clone, Copy)]
enum From {
    /// Entries after this id.
    After(StreamId),
    /// XREADGROUP `>`: entries never delivered to the group.
    New,
    /// XREADGROUP with an id: the consumer's own pending entries from it.
    History(StreamId),
}

fn xread(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read_generic(ctx, &args, false)
}
fn xreadgroup(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read_generic(ctx, &args, true)
}

fn read_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, group_cmd: bool) -> CmdResult {
    let r = parse_read(ctx, args, group_cmd)?;
    let mut from = Vec::with_capacity(r.n);
    let mut dollar = false;
    for k in 0..r.n {
        let key = args.get(r.streams_at + k);
        let id_arg = args.get(r.streams_at + r.n + k);
        let stream = read_stream(ctx, key)?;
        if let Some((g, _)) = r.group {
            if stream.is_none_or(|s| !s.groups.contains_key(g)) {
                return Err(CmdError::owned(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                )));
            }
        }
        let f = if id_arg == b"$" {
            if group_cmd {
                return Err(CmdError::msg("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            dollar = true;
            From::After(stream.map_or(StreamId::ZERO, |s| s.last_id))
        } else if id_arg == b">" {
            if !group_cmd {
                return Err(CmdError::msg("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            From::New
        } else {
            let id = strict_id(id_arg)?;
            if group_cmd {
                From::History(id)
            } else {
                From::After(id)
            }
        };
        from.push(f);
    }
    // A blocked client served on a retry gets a bounded batch, as in Redis.
    let count = if r.count == 0 && ctx.retrying() { 1000 } else { r.count };
    let now = ctx.now;
    let mut served = Vec::new();
    for (k, f) in from.iter().enumerate() {
        let key = args.get(r.streams_at + k);
        let Some(s) = read_stream(ctx, key)? else { continue };
        let serve = match (*f, r.group) {
            (From::History(_), _) => true,
            (From::New, Some((g, _))) => {
                s.groups.get(g).is_some_and(|grp| s.length > 0 && s.edge(true).is_some_and(|e| e.id > grp.last_id))
            }
            (From::After(id), _) => s.length > 0 && s.edge(true).is_some_and(|e| e.id > id),
            (From::New, None) => false,
        };
        if r.group.is_some() || serve {
            served.push((k, serve));
        }
    }
    let any = served.iter().any(|&(_, serve)| serve);
    if !any {
        // Consumers are created (and seen) even when nothing is served; a
        // retry writes nothing, or it would wake itself.
        if let (Some((g, c)), false) = (r.group, ctx.retrying()) {
            for &(k, _) in &served {
                touch_consumer(ctx, args.get(r.streams_at + k), g, c, now)?;
            }
        }
        if let Some(deadline) = r.deadline {
            let keys: Vec<&[u8]> = (0..r.n).map(|k| args.get(r.streams_at + k)).collect();
            let retry = if dollar && !ctx.retrying() { Some(rewrite_dollars(args, &r, &from)) } else { None };
            return ctx.block_or_null(keys.into_iter(), deadline, false, retry);
        }
        ctx.out.null_array();
        return Ok(());
    }
    let serving: Vec<usize> = served.iter().filter(|s| s.1).map(|s| s.0).collect();
    if ctx.out.resp3 {
        ctx.out.map(serving.len());
    } else {
        ctx.out.array(serving.len());
    }
    for k in serving {
        let key = args.get(r.streams_at + k);
        if !ctx.out.resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(key);
        match (from[k], r.group) {
            (From::After(id), _) => {
                let s = stream_ref_inner(&mut ctx.data, ctx.client.db, now, key)?.ok_or(CmdError::NoSuchKey)?;
                let entries = match id.next() {
                    Some(start) => s.range(start, StreamId::MAX, false, (count > 0).then_some(count)),
                    None => Vec::new(),
                };
                reply_entries(ctx.out, &entries);
            }
            (f, Some((g, c))) => {
                touch_consumer(ctx, key, g, c, now)?;
                let out = &mut *ctx.out;
                let s = stream_mut_inner(&mut ctx.data, ctx.client.db, ctx.now, key)?;
                match f {
                    From::History(id) => reply_history(out, s, g, c, id, count, now),
                    _ => reply_new(out, s, g, c, count, r.noack, now),
                }
                ctx.dirty += 1;
            }
            (_, None) => ctx.out.array(0),
        }
    }
    Ok(())
}

/// The stream at `key` for writing, through the shard view directly (so the
/// reply buffer can be borrowed alongside).
fn stream_mut_inner<'d>(
    data: &'d mut crate::keyspace::Data<'_>,
    db: usize,
    now: u64,
    key: &[u8],
) -> Result<&'d mut StreamValue, CmdError> {
    let (ks, slot) = data.locate(key)?;
    match ks.get_mut(db, slot, key, now) {
        Some(Value::Stream(s)) => Ok(s),
        Some(_) => Err(CmdError::WrongType),
        None => Err(CmdError::NoSuchKey),
    }
}

/// The stream at `key` for reading, through the shard view directly.
fn stream_ref_inner<'d>(
    data: &'d mut crate::keyspace::Data<'_>,
    db: usize,
    now: u64,
    key: &[u8],
) -> Result<Option<&'d StreamValue>, CmdError> {
    let (ks, slot) = data.locate(key)?;
    match ks.get(db, slot, key, now) {
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
        None => Ok(None),
    }
}

/// Creates the consumer if missing and records that it was seen now.
fn touch_consumer(ctx: &mut ExecCtx<'_>, key: &[u8], group: &[u8], consumer: &[u8], now: u64) -> CmdResult {
    let (db, t) = (ctx.client.db, ctx.now);
    let s = stream_mut_inner(&mut ctx.data, db, t, key)?;
    if let Some(g) = s.groups.get_mut(group) {
        let (c, created) = g.consumer(consumer, now);
        c.seen_time = now;
        if created {
            // A new consumer is a change even when nothing was delivered.
            ctx.dirty += 1;
        }
    }
    Ok(())
}

/// The argument vector with each `$` replaced by the id it stood for when the
/// command blocked, so a retry reads only what arrived after.
fn rewrite_dollars(args: &Args<'_>, r: &ReadArgs<'_>, from: &[From]) -> Argv {
    let ids: Vec<Vec<u8>> = (0..args.len())
        .map(|i| {
            let k = i.wrapping_sub(r.streams_at + r.n);
            match from.get(k) {
                Some(From::After(id)) if i >= r.streams_at + r.n && args.get(i) == b"$" => id.to_text().into_bytes(),
                _ => args.get(i).to_vec(),
            }
        })
        .collect();
    Argv::from_args(ids.iter().map(|v| v.as_slice()))
}

/// XREADGROUP `>`: entries after the group's last id, added to the pending
/// lists unless NOACK.
fn reply_new(
    out: &mut crate::resp::ReplyBuf,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
    now: u64,
) {
    let last = s.groups.get(group).map_or(StreamId::ZERO, |g| g.last_id);
    let ids: Vec<StreamId> = match last.next() {
        Some(start) => {
            s.range(start, StreamId::MAX, false, (count > 0).then_some(count)).iter().map(|e| e.id).collect()
        }
        None => Vec::new(),
    };
    out.array(ids.len());
    for id in ids {
        let (tomb, est) = (s.range_has_tombstones(Some(id), None), s.entries_before(id));
        let added = s.entries_added;
        if let Some(e) = s.get(id) {
            reply_entry(out, e);
        }
        let Some(g) = s.groups.get_mut(group) else { continue };
        if id > g.last_id {
            if g.entries_read != -1 && !tomb {
                g.entries_read += 1;
            } else if added > 0 {
                g.entries_read = est;
            }
            g.last_id = id;
        }
        if !noack {
            claim_for(g, id, consumer, now, Some(1));
        }
    }
}

/// Moves (or adds) pending entry `id` to `consumer`, delivered at `time`;
/// `count` sets the delivery count (else it is kept).
fn claim_for(g: &mut CGroup, id: StreamId, consumer: &[u8], time: u64, count: Option<u64>) {
    let prev = g.pending.get(&id).map(|p| p.consumer.clone());
    if let Some(old) = prev.filter(|o| o != consumer) {
        if let Some(c) = g.consumers.get_mut(&old) {
            c.pending.remove(&id);
        }
    }
    let p = g.pending.entry(id).or_insert_with(|| crate::types::stream::Pending {
        consumer: consumer.to_vec(),
        delivery_time: time,
        delivery_count: 0,
    });
    p.consumer = consumer.to_vec();
    p.delivery_time = time;
    if let Some(n) = count {
        p.delivery_count = n;
    }
    g.consumer(consumer, time).0.pending.insert(id);
}

/// XREADGROUP with an id: the consumer's pending entries from `start` (exclusive).
fn reply_history(
    out: &mut crate::resp::ReplyBuf,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: usize,
    now: u64,
) {
    let Some(start) = after.next() else {
        out.array(0);
        return;
    };
    let ids: Vec<StreamId> = s
        .groups
        .get(group)
        .and_then(|g| g.consumers.get(consumer))
        .map(|c| c.pending.range(start..).take(if count == 0 { usize::MAX } else { count }).copied().collect())
        .unwrap_or_default();
    out.array(ids.len());
    for id in ids {
        match s.get(id) {
            Some(e) => {
                reply_entry(out, e);
                if let Some(p) = s.groups.get_mut(group).and_then(|g| g.pending.get_mut(&id)) {
                    p.delivery_time = now;
                    p.delivery_count += 1;
                }
            }
            None => {
                out.array(2);
                out.bulk(id.to_text().as_bytes());
                out.null_array();
            }
        }
    }
}

// ------------------------------------------------------------------ XACK, XPENDING, XCLAIM, XAUTOCLAIM

fn xack(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, group) = (args.get(1), args.get(2));
    let has_group = read_stream(ctx, key)?.is_some_and(|s| s.groups.contains_key(group));
    if !has_group {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = args.iter().skip(3).map(strict_id).collect::<Result<Vec<_>, _>>()?;
    let s = stream_mut(ctx, key)?.ok_or(CmdError::NoSuchKey)?;
    let g = s.groups.get_mut(group).ok_or(CmdError::NoSuchKey)?;
    let mut acked = 0;
    for id in ids {
        acked += acknowledge(g, id) as u64;
    }
    ctx.dirty += acked;
    ctx.out.int(acked as i64);
    Ok(())
}

/// Removes `id` from the group's pending entries and its consumer's; true if it was pending.
fn acknowledge(g: &mut CGroup, id: StreamId) -> bool {
    let Some(p) = g.pending.remove(&id) else { return false };
    if let Some(c) = g.consumers.get_mut(&p.consumer) {
        c.pending.remove(&id);
    }
    true
}

/// The claimed entries of XCLAIM/XAUTOCLAIM: ids only with JUSTID, else the
/// entries (null for one deleted meanwhile).
fn reply_claimed(out: &mut crate::resp::ReplyBuf, s: &StreamValue, claimed: &[StreamId], justid: bool) {
    out.array(claimed.len());
    for &id in claimed {
        match (justid, s.get(id)) {
            (true, _) => out.bulk(id.to_text().as_bytes()),
            (false, Some(e)) => reply_entry(out, e),
            (false, None) => out.null(),
        }
    }
}

/// # Format
/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
fn xpending(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let mut extended = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is_kw(args.get(3), "idle") {
            min_idle = int_arg(args.get(4))?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = int_arg(args.get(at + 2))?.max(0) as usize;
        let start = range_bound(args.get(at), false)?;
        let end = range_bound(args.get(at + 1), true)?;
        let consumer = (at + 3 < argc).then(|| args.get(at + 3));
        extended = Some((min_idle, start, end, count, consumer));
    }
    let (key, group) = (args.get(1), args.get(2));
    let now = ctx.now;
    let out = &mut *ctx.out;
    let g = stream_ref_inner(&mut ctx.data, ctx.client.db, now, key)?
        .and_then(|s| s.groups.get(group))
        .ok_or_else(|| no_group(key, group))?;
    let Some((min_idle, start, end, mut count, consumer)) = extended else {
        out.array(4);
        out.int(g.pending.len() as i64);
        match (g.pending.keys().next(), g.pending.keys().next_back()) {
            (Some(first), Some(last)) => {
                out.bulk(first.to_text().as_bytes());
                out.bulk(last.to_text().as_bytes());
                let owners: Vec<(&Vec<u8>, usize)> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pending.is_empty())
                    .map(|(n, c)| (n, c.pending.len()))
                    .collect();
                out.array(owners.len());
                for (n, len) in owners {
                    out.array(2);
                    out.bulk(n);
                    out.bulk(len.to_string().as_bytes());
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let ids: Vec<StreamId> = match consumer {
        Some(c) => match g.consumers.get(c) {
            Some(c) => c.pending.iter().copied().collect(),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => g.pending.keys().copied().collect(),
    };
    let mut rows = Vec::new();
    for id in ids.into_iter().filter(|id| *id >= start) {
        if count == 0 || id > end {
            break;
        }
        let Some(p) = g.pending.get(&id) else { continue };
        if min_idle != 0 && (now as i64 - p.delivery_time as i64) < min_idle {
            continue;
        }
        count -= 1;
        rows.push((id, p));
    }
    out.array(rows.len());
    for (id, p) in rows {
        out.array(4);
        out.bulk(id.to_text().as_bytes());
        out.bulk(&p.consumer);
        out.int((now as i64 - p.delivery_time as i64).max(0));
        out.int(p.delivery_count as i64);
    }
    Ok(())
}

/// # Format
/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]`
fn xclaim(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    if !read_stream(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_group(key, group));
    }
    let min_idle =
        parse_i64(args.get(4)).ok_or(CmdError::msg("ERR Invalid min-idle-time argument for XCLAIM"))?.max(0) as u64;
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        match strict_id(args.get(j)) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now;
    let (mut force, mut justid, mut retry, mut time, mut last_id) = (false, false, None, None::<i64>, StreamId::ZERO);
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        let num = |a: &[u8], what: &str| {
            parse_i64(a).ok_or_else(|| CmdError::owned(format!("ERR Invalid {what} option argument for XCLAIM")))
        };
        if is_kw(opt, "force") {
            force = true;
        } else if is_kw(opt, "justid") {
            justid = true;
        } else if is_kw(opt, "idle") && more > 0 {
            j += 1;
            time = Some(now as i64 - num(args.get(j), "IDLE")?);
        } else if is_kw(opt, "time") && more > 0 {
            j += 1;
            time = Some(num(args.get(j), "TIME")?);
        } else if is_kw(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(num(args.get(j), "RETRYCOUNT")?);
        } else if is_kw(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(args.get(j))?;
        } else {
            return Err(CmdError::owned(format!("ERR Unrecognized XCLAIM option '{}'", String::from_utf8_lossy(opt))));
        }
        j += 1;
    }
    let delivery = match time {
        Some(t) if t >= 0 && t <= now as i64 => t as u64,
        _ => now,
    };
    let out = &mut *ctx.out;
    let s = stream_mut_inner(&mut ctx.data, ctx.client.db, now, key)?;
    let (mut claimed, mut dropped) = (Vec::new(), Vec::new());
    let last_before = s.groups.get(group).map(|g| g.last_id);
    for id in ids {
        let exists = s.get(id).is_some();
        let Some(g) = s.groups.get_mut(group) else { break };
        if !exists {
            if acknowledge(g, id) {
                dropped.push(id);
            }
            continue;
        }
        let fresh = !g.pending.contains_key(&id);
        if fresh && !force {
            continue;
        }
        if let Some(p) = g.pending.get(&id) {
            if !fresh && min_idle > 0 && (now as i64 - p.delivery_time as i64) < min_idle as i64 {
                continue;
            }
        }
        // A pending entry FORCE creates counts as delivered once.
        let count = g.pending.get(&id).map_or(1, |p| p.delivery_count);
        let count = match retry {
            Some(r) if r >= 0 => r as u64,
            _ if !justid => count + 1,
            _ => count,
        };
        claim_for(g, id, consumer, delivery, Some(count));
        g.consumer(consumer, now).0.seen_time = now;
        claimed.push(id);
    }
    if let Some(g) = s.groups.get_mut(group) {
        if last_id > g.last_id {
            g.last_id = last_id;
        }
    }
    reply_claimed(out, s, &claimed, justid);
    let moved = s.groups.get(group).map(|g| g.last_id) != last_before;
    if !claimed.is_empty() || !dropped.is_empty() || moved {
        ctx.dirty += 1;
    }
    propagate_claims(ctx, key, group, consumer, &claimed, &dropped, moved);
    Ok(())
}

/// Records a claim as what it did, so a replay at another time makes the
/// same claims (an idle-time test would not pass then): each claimed entry
/// as `XCLAIM .. 0 id TIME t RETRYCOUNT n FORCE JUSTID`, entries dropped
/// from the pending list as `XACK`, a moved last id as `XGROUP SETID`.
fn propagate_claims(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    claimed: &[StreamId],
    dropped: &[StreamId],
    last_moved: bool,
) {
    if !ctx.effects.is_on() {
        return;
    }
    let (db, now) = (ctx.client.db, ctx.now);
    let Ok(s) = stream_mut_inner(&mut ctx.data, db, now, key) else { return };
    let Some(g) = s.groups.get(group) else { return };
    let mut commands: Vec<Vec<Vec<u8>>> = Vec::new();
    for id in claimed {
        let Some(p) = g.pending.get(id) else { continue };
        commands.push(vec![
            b"XCLAIM".to_vec(),
            key.to_vec(),
            group.to_vec(),
            consumer.to_vec(),
            b"0".to_vec(),
            id.to_text().into_bytes(),
            b"TIME".to_vec(),
            p.delivery_time.to_string().into_bytes(),
            b"RETRYCOUNT".to_vec(),
            p.delivery_count.to_string().into_bytes(),
            b"FORCE".to_vec(),
            b"JUSTID".to_vec(),
        ]);
    }
    if !dropped.is_empty() {
        let mut ack = vec![b"XACK".to_vec(), key.to_vec(), group.to_vec()];
        ack.extend(dropped.iter().map(|id| id.to_text().into_bytes()));
        commands.push(ack);
    }
    if last_moved {
        commands.push(vec![
            b"XGROUP".to_vec(),
            b"SETID".to_vec(),
            key.to_vec(),
            group.to_vec(),
            g.last_id.to_text().into_bytes(),
            b"ENTRIESREAD".to_vec(),
            g.entries_read.to_string().into_bytes(),
        ]);
    }
    for c in commands {
        ctx.propagate(&c);
    }
}

/// # Format
/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
fn xautoclaim(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    let min_idle =
        parse_i64(args.get(4)).ok_or(CmdError::msg("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?.max(0) as u64;
    let start = range_bound(args.get(5), false)?;
    let (mut count, mut justid) = (100usize, false);
    let mut j = 6;
    while j < args.len() {
        let opt = args.get(j);
        if is_kw(opt, "count") && j + 1 < args.len() {
            count = match parse_i64(args.get(j + 1)) {
                Some(n) if (1..=i64::MAX / 16).contains(&n) => n as usize,
                _ => return Err(CmdError::msg("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if is_kw(opt, "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if !read_stream(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_group(key, group));
    }
    let now = ctx.now;
    let out = &mut *ctx.out;
    let s = stream_mut_inner(&mut ctx.data, ctx.client.db, now, key)?;
    let mut attempts = count * 10;
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut last_seen = None;
    let mut exhausted = true;
    let candidates: Vec<StreamId> =
        s.groups.get(group).map(|g| g.pending.range(start..).map(|(id, _)| *id).collect()).unwrap_or_default();
    for id in candidates {
        if attempts == 0 || count == 0 {
            exhausted = false;
            break;
        }
        attempts -= 1;
        last_seen = Some(id);
        let exists = s.get(id).is_some();
        let Some(g) = s.groups.get_mut(group) else { break };
        if !exists {
            acknowledge(g, id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        let Some(p) = g.pending.get(&id) else { continue };
        if min_idle > 0 && (now as i64 - p.delivery_time as i64) < min_idle as i64 {
            continue;
        }
        let n = p.delivery_count + if justid { 0 } else { 1 };
        claim_for(g, id, consumer, now, Some(n));
        g.consumer(consumer, now).0.seen_time = now;
        claimed.push(id);
        count -= 1;
    }
    let cursor = match (exhausted, last_seen) {
        (true, _) => StreamId::ZERO,
        (false, Some(last)) => s
            .groups
            .get(group)
            .and_then(|g| g.pending.range(last..).map(|(id, _)| *id).find(|id| *id > last))
            .unwrap_or(StreamId::ZERO),
        (false, None) => s
            .groups
            .get(group)
            .and_then(|g| g.pending.range(start..).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::ZERO),
    };
    out.array(3);
    out.bulk(cursor.to_text().as_bytes());
    reply_claimed(out, s, &claimed, justid);
    out.array(deleted.len());
    for id in &deleted {
        out.bulk(id.to_text().as_bytes());
    }
    if !claimed.is_empty() || !deleted.is_empty() {
        ctx.dirty += 1;
    }
    propagate_claims(ctx, key, group, consumer, &claimed, &deleted, false);
    Ok(())
}

// ------------------------------------------------------------------ XGROUP

fn subcommand_syntax(args: &Args<'_>, cmd: &str) -> CmdError {
    super::util::unknown_subcommand(args.get(1), cmd)
}

/// `ENTRIESREAD n` (and, for CREATE, `MKSTREAM`) after the id.
fn group_options(args: &Args<'_>, create: bool) -> Result<(bool, i64), CmdError> {
    let (mut mkstream, mut entries_read) = (false, -1i64);
    let mut i = 5;
    while i < args.len() {
        if create && is_kw(args.get(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if is_kw(args.get(i), "entriesread") && i + 1 < args.len() {
            entries_read = int_arg(args.get(i + 1))?;
            if entries_read < 0 && entries_read != -1 {
                return Err(CmdError::msg("ERR value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax(args, "XGROUP"));
        }
    }
    Ok((mkstream, entries_read))
}

/// The stream an XGROUP subcommand works on; missing is an error unless `mkstream`.
fn group_stream(ctx: &mut ExecCtx<'_>, args: &Args<'_>, mkstream: bool) -> Result<bool, CmdError> {
    let exists = read_stream(ctx, args.get(2))?.is_some();
    if !exists && !mkstream {
        return Err(CmdError::msg("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
    }
    Ok(exists)
}

fn existing_group<'c>(ctx: &'c mut ExecCtx<'_>, args: &Args<'_>) -> Result<&'c mut CGroup, CmdError> {
    let (key, group) = (args.get(2), args.get(3));
    group_stream(ctx, args, false)?;
    let s = stream_mut(ctx, key)?.ok_or(CmdError::NoSuchKey)?;
    s.groups.get_mut(group).ok_or_else(|| no_such_group_for_key(key, group))
}

/// # Format
/// `XGROUP CREATE key group id | $ [MKSTREAM] [ENTRIESREAD entries-read]`
fn xgroup_create(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 8 {
        return Err(subcommand_syntax(&args, "XGROUP"));
    }
    let (mkstream, entries_read) = group_options(&args, true)?;
    let exists = group_stream(ctx, &args, mkstream)?;
    let key = args.get(2);
    let id = if args.get(4) == b"$" {
        read_stream(ctx, key)?.map_or(StreamId::ZERO, |s| s.last_id)
    } else {
        strict_id(args.get(4))?
    };
    if !exists {
        ctx.store(key, Value::Stream(Box::default()), false)?;
    }
    let s = stream_mut(ctx, key)?.ok_or(CmdError::NoSuchKey)?;
    if s.groups.contains_key(args.get(3)) {
        return Err(CmdError::msg("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(args.get(3).to_vec(), CGroup::new(id, entries_read));
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `XGROUP SETID key group id | $ [ENTRIESREAD entries-read]`
fn xgroup_setid(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() != 5 && args.len() != 7 {
        return Err(subcommand_syntax(&args, "XGROUP"));
    }
    let (_, entries_read) = group_options(&args, false)?;
    let last = read_stream(ctx, args.get(2))?.map_or(StreamId::ZERO, |s| s.last_id);
    existing_group(ctx, &args)?;
    let id = if args.get(4) == b"$" { last } else { parse_id_ex(args.get(4), 0, IdForm::Range, false)?.0 };
    let g = existing_group(ctx, &args)?;
    g.last_id = id;
    g.entries_read = entries_read;
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn xgroup_destroy(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    group_stream(ctx, &args, false)?;
    let s = stream_mut(ctx, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    let removed = s.groups.remove(args.get(3)).is_some();
    ctx.dirty += removed as u64;
    ctx.out.int(removed as i64);
    Ok(())
}

fn xgroup_createconsumer(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now;
    let g = existing_group(ctx, &args)?;
    let created = g.consumer(args.get(4), now).1;
    ctx.dirty += created as u64;
    ctx.out.int(created as i64);
    Ok(())
}

fn xgroup_delconsumer(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = existing_group(ctx, &args)?;
    let pending = match g.consumers.remove(args.get(4)) {
        Some(c) => {
            for id in &c.pending {
                g.pending.remove(id);
            }
            c.pending.len()
        }
        None => 0,
    };
    ctx.dirty += 1;
    ctx.out.int(pending as i64);
    Ok(())
}

fn xgroup_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

// ------------------------------------------------------------------ XINFO

fn info_stream<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<&'c StreamValue, CmdError> {
    read_stream(ctx, key)?.ok_or(CmdError::NoSuchKey)
}

fn lag_reply(out: &mut crate::resp::ReplyBuf, s: &StreamValue, g: &CGroup) {
    out.bulk(b"entries-read");
    if g.entries_read == -1 {
        out.null();
    } else {
        out.int(g.entries_read);
    }
    out.bulk(b"lag");
    match s.lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn xinfo_groups(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let out = &mut *ctx.out;
    let s = stream_ref_inner(&mut ctx.data, ctx.client.db, ctx.now, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pending.len() as i64);
        out.bulk(b"last-delivered-id");
        out.bulk(g.last_id.to_text().as_bytes());
        lag_reply(out, s, g);
    }
    Ok(())
}

fn xinfo_consumers(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (key, group) = (args.get(2), args.get(3));
    let now = ctx.now;
    let s = info_stream(ctx, key)?;
    let g = s.groups.get(group).ok_or_else(|| no_such_group_for_key(key, group))?;
    let rows: Vec<(Vec<u8>, usize, i64)> = g
        .consumers
        .iter()
        .map(|(n, c)| (n.clone(), c.pending.len(), (now as i64 - c.seen_time as i64).max(0)))
        .collect();
    let out = &mut *ctx.out;
    out.array(rows.len());
    for (name, pending, idle) in rows {
        out.map(3);
        out.bulk(b"name");
        out.bulk(&name);
        out.bulk(b"pending");
        out.int(pending as i64);
        out.bulk(b"idle");
        out.int(idle);
    }
    Ok(())
}

/// # Format
/// `XINFO STREAM key [FULL [COUNT count]]`
fn xinfo_stream(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut full = None;
    match args.len() {
        3 => {}
        4 if is_kw(args.get(3), "full") => full = Some(10usize),
        6 if is_kw(args.get(3), "full") && is_kw(args.get(4), "count") => {
            full = Some(int_arg(args.get(5))?.max(0) as usize);
        }
        _ => return Err(subcommand_syntax(&args, "XINFO")),
    }
    let out = &mut *ctx.out;
    let s = stream_ref_inner(&mut ctx.data, ctx.client.db, ctx.now, args.get(2))?.ok_or(CmdError::NoSuchKey)?;
    // Seven fields, then groups, first-entry and last-entry; or entries and groups (FULL).
    out.map(if full.is_some() { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    // slotkv's nodes stand in for Redis's radix tree: one key per node.
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.node_count() as i64);
    out.bulk(b"last-generated-id");
    out.bulk(s.last_id.to_text().as_bytes());
    out.bulk(b"max-deleted-entry-id");
    out.bulk(s.max_deleted_id.to_text().as_bytes());
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    out.bulk(s.first_id.to_text().as_bytes());
    let Some(count) = full else {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, last) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match s.edge(last) {
                Some(e) => reply_entry(out, e),
                None => out.null(),
            }
        }
        return Ok(());
    };
    let limit = if count == 0 { None } else { Some(count) };
    out.bulk(b"entries");
    reply_entries(out, &s.range(StreamId::ZERO, StreamId::MAX, false, limit));
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        out.bulk(g.last_id.to_text().as_bytes());
        lag_reply(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pending.len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = g.pending.iter().take(limit.unwrap_or(usize::MAX)).collect();
        out.array(pel.len());
        for (id, p) in pel {
            out.array(4);
            out.bulk(id.to_text().as_bytes());
            out.bulk(&p.consumer);
            out.int(p.delivery_time as i64);
            out.int(p.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pending.len() as i64);
            out.bulk(b"pending");
            let mine: Vec<_> = c.pending.iter().take(limit.unwrap_or(usize::MAX)).collect();
            out.array(mine.len());
            for id in mine {
                let p = g.pending.get(id);
                out.array(3);
                out.bulk(id.to_text().as_bytes());
                out.int(p.map_or(0, |p| p.delivery_time as i64));
                out.int(p.map_or(0, |p| p.delivery_count as i64));
            }
        }
    }
    Ok(())
}

fn xinfo_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}
