//! Generic key commands: existence, deletion, renaming, expiry, iteration.

use super::hashes::{parse_cursor, parse_scan_opts};
use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::strings::cmd;
use super::util::{int_arg, is_kw};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::glob::glob_match;
use crate::resp::request::Args;

const G: Group = Group::Generic;
const RO: &[&str] = &["RO"];
const RW: &[&str] = &["RW", "update"];

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, KeyPos::range(2, 2, 1), &["RO"], G, summary, "2.2.3", "O(1)", handler)
}

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec { tips: &["request_policy:multi_shard", "response_policy:agg_sum"], ..cmd!("del", -2, WRITE, KeyPos::ALL, &["RM", "delete"], G, "Deletes one or more keys.", "1.0.0", "O(N) where N is the number of keys that will be removed.", del) },
    CommandSpec { tips: &["request_policy:multi_shard", "response_policy:agg_sum"], ..cmd!("unlink", -2, WRITE | FAST, KeyPos::ALL, &["RM", "delete"], G, "Asynchronously deletes one or more keys.", "4.0.0", "O(1) for each key removed regardless of its size.", del) },
    CommandSpec { tips: &["request_policy:multi_shard", "response_policy:agg_sum"], ..cmd!("exists", -2, READONLY | FAST, KeyPos::ALL, RO, G, "Determines whether one or more keys exist.", "1.0.0", "O(N) where N is the number of keys to check.", exists) },
    cmd!("type", 2, READONLY | FAST, KeyPos::ONE, RO, G, "Determines the type of value stored at a key.", "1.0.0", "O(1)", type_),
    CommandSpec { acl: &["@dangerous"], tips: &["request_policy:all_shards", "nondeterministic_output_order"], ..cmd!("keys", 2, READONLY | KEYSPACE, KeyPos::NONE, &[], G, "Returns all key names that match a pattern.", "1.0.0", "O(N) with N being the number of keys in the database.", keys) },
    CommandSpec { tips: &["nondeterministic_output", "request_policy:special"], ..cmd!("scan", -2, READONLY | KEYSPACE, KeyPos::NONE, &[], G, "Iterates over the key names in the database.", "2.8.0", "O(1) for every call. O(N) for a complete iteration.", scan) },
    CommandSpec { tips: &["request_policy:all_shards", "nondeterministic_output"], ..cmd!("randomkey", 1, READONLY | KEYSPACE, KeyPos::NONE, &[], G, "Returns a random key name from the database.", "1.0.0", "O(1)", randomkey) },
    CommandSpec { key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["OW", "update"])], ..cmd!("rename", 3, WRITE, KeyPos::range(1, 2, 1), &["RW", "access", "delete"], G, "Renames a key and overwrites the destination.", "1.0.0", "O(1)", rename) },
    CommandSpec { key_specs: &[KeySpec::at(1, &["RW", "access", "delete"]), KeySpec::at(2, &["OW", "insert"])], ..cmd!("renamenx", 3, WRITE | FAST, KeyPos::range(1, 2, 1), &["RW", "access", "delete"], G, "Renames a key only when the target key name doesn't exist.", "1.0.0", "O(1)", renamenx) },
    cmd!("expire", -3, WRITE | FAST, KeyPos::ONE, RW, G, "Sets the expiration time of a key in seconds.", "1.0.0", "O(1)", expire),
    cmd!("pexpire", -3, WRITE | FAST, KeyPos::ONE, RW, G, "Sets the expiration time of a key in milliseconds.", "2.6.0", "O(1)", pexpire),
    cmd!("expireat", -3, WRITE | FAST, KeyPos::ONE, RW, G, "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", "O(1)", expireat),
    cmd!("pexpireat", -3, WRITE | FAST, KeyPos::ONE, RW, G, "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", "O(1)", pexpireat),
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("ttl", 2, READONLY | FAST, KeyPos::ONE, &["RO", "access"], G, "Returns the expiration time in seconds of a key.", "1.0.0", "O(1)", ttl) },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("pttl", 2, READONLY | FAST, KeyPos::ONE, &["RO", "access"], G, "Returns the expiration time in milliseconds of a key.", "2.6.0", "O(1)", pttl) },
    cmd!("expiretime", 2, READONLY | FAST, KeyPos::ONE, &["RO", "access"], G, "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", "O(1)", expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST, KeyPos::ONE, &["RO", "access"], G, "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", "O(1)", pexpiretime),
    cmd!("persist", 2, WRITE | FAST, KeyPos::ONE, RW, G, "Removes the expiration time of a key.", "2.2.0", "O(1)", persist),
    CommandSpec { tips: &["request_policy:multi_shard", "response_policy:agg_sum"], ..cmd!("touch", -2, READONLY | FAST, KeyPos::ALL, RO, G, "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", "O(N) where N is the number of keys that will be touched.", exists) },
    CommandSpec { key_specs: &[KeySpec::at(1, &["RO", "access"]), KeySpec::at(2, &["OW", "update"])], ..cmd!("copy", -3, WRITE | DENYOOM, KeyPos::range(1, 2, 1), &["RW", "access"], G, "Copies the value of a key to a new key.", "6.2.0", "O(N) worst case for collections, where N is the number of nested items.", copy) },
    CommandSpec { tips: &["nondeterministic_output"], ..cmd!("dump", 2, READONLY, KeyPos::ONE, &["RO", "access"], G, "Returns a serialized representation of the value stored at a key.", "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", dump) },
    CommandSpec { acl: &["@dangerous"], ..cmd!("restore", -4, WRITE | DENYOOM, KeyPos::ONE, &["OW", "update"], G, "Creates a key from the serialized representation of a value.", "2.6.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", restore) },
    // What MIGRATE sends in cluster mode: RESTORE that a node importing the
    // slot accepts as if after ASKING.
    CommandSpec { acl: &["@keyspace", "@dangerous"], group: Group::Server, ..cmd!("restore-asking", -4, WRITE | DENYOOM | ASKING, KeyPos::ONE, &["OW", "update"], G, "An internal command for migrating keys in a cluster.", "3.0.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", restore) },
    CommandSpec {
        flags: CONTAINER,
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec { tips: &["nondeterministic_output"], ..sub("idletime", 3, READONLY, "Returns the time since the last access to a Redis object.", object_idletime) },
            CommandSpec { tips: &["nondeterministic_output"], ..sub("refcount", 3, READONLY, "Returns the reference count of a value of a key.", object_refcount) },
            CommandSpec::keyless("help", 2, LOADING | STALE, G, "Returns helpful text about the different subcommands.", "6.2.0", object_help),
            CommandSpec { tips: &["nondeterministic_output"], ..sub("encoding", 3, READONLY, "Returns the internal encoding of a Redis object.", object_encoding) },
            CommandSpec { tips: &["nondeterministic_output"], since: "4.0.0", ..sub("freq", 3, READONLY, "Returns the logarithmic access frequency counter of a Redis object.", object_freq) },
        ],
        ..CommandSpec::keyless("object", -2, 0, G, "A container for object introspection commands.", "2.2.3", super::server::container)
    },
];

fn del(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut n = 0;
    for k in args.iter().skip(1) {
        n += ctx.delete(k)? as i64;
    }
    ctx.out.int(n);
    Ok(())
}

fn exists(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut n = 0;
    for k in args.iter().skip(1) {
        n += ctx.exists(k)? as i64;
    }
    ctx.out.int(n);
    Ok(())
}

fn type_(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (db, now, key) = (ctx.db(), ctx.now, args.get(1));
    let (ks, slot) = ctx.data.locate(key)?;
    let name = ks.peek(db, slot, key, now).map_or("none", |(v, _)| v.type_name());
    ctx.out.simple(name.as_bytes());
    Ok(())
}

fn keys(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (db, now, pat) = (ctx.db(), ctx.now, args.get(1));
    let all = pat == b"*";
    let mut found: Vec<Vec<u8>> = Vec::new();
    for ks in ctx.data.shards_ref() {
        for dict in ks.db_slots(db) {
            for (k, _) in dict.iter() {
                if (all || glob_match(pat, k, false)) && dict.expire_of(k).is_none_or(|t| t > now) {
                    found.push(k.to_vec());
                }
            }
        }
    }
    ctx.out.array(found.len());
    for k in found {
        ctx.out.bulk(&k);
    }
    Ok(())
}

/// # Format
/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
fn scan(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(1))?;
    let opts = parse_scan_opts(&args, 2, true)?;
    let (db, now) = (ctx.db(), ctx.now);
    let (next, keys) = ctx.data.scan(db, cursor, opts.count, now);
    let keys: Vec<_> = keys
        .into_iter()
        .filter(|(k, t)| {
            opts.kind.is_none_or(|want| want.eq_ignore_ascii_case(t.as_bytes()))
                && opts.pattern.is_none_or(|p| glob_match(p, k, false))
        })
        .collect();
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(keys.len());
    for (k, _) in keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

fn randomkey(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let _ = args;
    let (db, now) = (ctx.db(), ctx.now);
    let total = ctx.data.counts(db).keys;
    // Expired keys not yet collected may be picked: retry a bounded number of times.
    for _ in 0..100 {
        if total == 0 {
            break;
        }
        let mut i = (ctx.host.random() % total as u64) as usize;
        let mut pick: Option<(Vec<u8>, bool)> = None;
        'outer: for ks in ctx.data.shards_ref() {
            for dict in ks.db_slots(db) {
                if i < dict.len() {
                    if let Some((k, _)) = dict.iter().nth(i) {
                        pick = Some((k.to_vec(), dict.expire_of(k).is_none_or(|t| t > now)));
                    }
                    break 'outer;
                }
                i -= dict.len();
            }
        }
        match pick {
            Some((k, true)) => {
                ctx.out.bulk(&k);
                return Ok(());
            }
            Some((k, false)) => {
                ctx.exists(&k)?; // removes it
            }
            None => break,
        }
    }
    ctx.out.null();
    Ok(())
}

fn rename_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, nx: bool) -> Result<bool, CmdError> {
    let (src, dst) = (args.get(1), args.get(2));
    let (db, now) = (ctx.db(), ctx.now);
    let (ks, slot) = ctx.data.locate(src)?;
    if !ks.contains(db, slot, src, now) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(!nx);
    }
    let expire = ks.expire_at(db, slot, src);
    if nx && ctx.exists(dst)? {
        return Ok(false);
    }
    let (ks, slot) = ctx.data.locate(src)?;
    let Some(value) = ks.remove(db, slot, src) else { return Err(CmdError::NoSuchKey) };
    ctx.store(dst, value, false)?;
    if let Some(at) = expire {
        ctx.set_expire(dst, at)?;
    }
    Ok(true)
}

fn rename(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, &args, false)?;
    ctx.out.ok();
    Ok(())
}

fn renamenx(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let done = rename_generic(ctx, &args, true)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// EXPIRE family. `ms`: the argument is in milliseconds; `abs`: it is a unix time.
fn expire_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, ms: bool, abs: bool, name: &str) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in args.iter().skip(3) {
        if is_kw(a, "nx") {
            nx = true;
        } else if is_kw(a, "xx") {
            xx = true;
        } else if is_kw(a, "gt") {
            gt = true;
        } else if is_kw(a, "lt") {
            lt = true;
        } else {
            return Err(CmdError::owned(format!("ERR Unsupported option {}", String::from_utf8_lossy(a))));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::msg("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if gt && lt {
        return Err(CmdError::msg("ERR GT and LT options at the same time are not compatible"));
    }
    let bad = || CmdError::owned(format!("ERR invalid expire time in '{name}' command"));
    let mut when = int_arg(args.get(2))?;
    if !ms {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(bad());
        }
        when *= 1000;
    }
    let base = if abs { 0 } else { ctx.now as i64 };
    if when > i64::MAX - base {
        return Err(bad());
    }
    when += base;
    let key = args.get(1);
    if !ctx.exists(key)? {
        ctx.out.int(0);
        return Ok(());
    }
    let cur = ctx.expire_of(key)?.map(|t| t as i64);
    let refuse = (nx && cur.is_some())
        || (xx && cur.is_none())
        || (gt && cur.is_none_or(|c| when <= c))
        || (lt && cur.is_some_and(|c| when >= c));
    if refuse {
        ctx.out.int(0);
        return Ok(());
    }
    if ctx.already_expired(when) {
        ctx.delete(key)?;
        ctx.propagate(&[b"DEL".as_slice(), key]);
    } else {
        ctx.set_expire(key, when as u64)?;
        ctx.propagate_expire_at(key, when as u64);
    }
    ctx.out.int(1);
    Ok(())
}

fn expire(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, &args, false, false, "expire")
}
fn pexpire(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, &args, true, false, "pexpire")
}
fn expireat(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, &args, false, true, "expireat")
}
fn pexpireat(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, &args, true, true, "pexpireat")
}

/// TTL family: `ms` replies in milliseconds, `abs` with the unix time.
fn ttl_generic(ctx: &mut ExecCtx<'_>, key: &[u8], ms: bool, abs: bool) -> CmdResult {
    if !ctx.exists(key)? {
        ctx.out.int(-2);
        return Ok(());
    }
    let Some(at) = ctx.expire_of(key)? else {
        ctx.out.int(-1);
        return Ok(());
    };
    let v = if abs { at as i64 } else { (at as i64 - ctx.now as i64).max(0) };
    ctx.out.int(if ms { v } else { (v + 500) / 1000 });
    Ok(())
}

fn ttl(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args.get(1), false, false)
}
fn pttl(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args.get(1), true, false)
}
fn expiretime(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args.get(1), false, true)
}
fn pexpiretime(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args.get(1), true, true)
}

fn persist(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let done = ctx.exists(key)? && {
        let db = ctx.db();
        let (ks, slot) = ctx.data.locate(key)?;
        ks.persist(db, slot, key)
    };
    if done {
        ctx.dirty += 1;
    }
    ctx.out.int(done as i64);
    Ok(())
}

/// # Format
/// `COPY source destination [DB destination-db] [REPLACE]`
fn copy(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        let a = args.get(i);
        if is_kw(a, "replace") {
            replace = true;
        } else if is_kw(a, "db") && i + 1 < args.len() {
            let n = int_arg(args.get(i + 1))?;
            if n < 0 || n >= ctx.data.databases() as i64 || n > i32::MAX as i64 {
                return Err(CmdError::DbIndexOutOfRange);
            }
            dst_db = n as usize;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if src_db == dst_db && src == dst {
        return Err(CmdError::msg("ERR source and destination objects are the same"));
    }
    let now = ctx.now;
    let (ks, slot) = ctx.data.locate(src)?;
    let Some(value) = ks.get(src_db, slot, src, now).cloned() else {
        ctx.out.int(0);
        return Ok(());
    };
    let expire = ks.expire_at(src_db, slot, src);
    let (ks, slot) = ctx.data.locate(dst)?;
    if ks.contains(dst_db, slot, dst, now) {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        ks.remove(dst_db, slot, dst);
    }
    ks.insert(dst_db, slot, dst, value, false, now);
    if let Some(at) = expire {
        ks.set_expire(dst_db, slot, dst, at);
    }
    ctx.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

fn dump(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (db, now, key) = (ctx.db(), ctx.now, args.get(1));
    let (ks, slot) = ctx.data.locate(key)?;
    match ks.get(db, slot, key, now).map(crate::rdb::dump) {
        Some(p) => ctx.out.bulk(&p),
        None => ctx.out.null(),
    }
    Ok(())
}

/// # Format
/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
fn restore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut replace, mut absttl, mut idle, mut freq) = (false, false, false, false);
    let mut i = 4;
    while i < args.len() {
        let a = args.get(i);
        let more = i + 1 < args.len();
        if is_kw(a, "replace") {
            replace = true;
        } else if is_kw(a, "absttl") {
            absttl = true;
        } else if is_kw(a, "idletime") && more && !freq {
            if int_arg(args.get(i + 1))? < 0 {
                return Err(CmdError::msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = true;
            i += 1;
        } else if is_kw(a, "freq") && more && !idle {
            let f = int_arg(args.get(i + 1))?;
            if !(0..=255).contains(&f) {
                return Err(CmdError::msg("ERR Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = true;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let key = args.get(1);
    if !replace && ctx.exists(key)? {
        return Err(CmdError::msg("BUSYKEY Target key name already exists."));
    }
    let ttl = int_arg(args.get(2))?;
    if ttl < 0 {
        return Err(CmdError::msg("ERR Invalid TTL value, must be >= 0"));
    }
    let value = crate::rdb::restore(args.get(3)).map_err(|e| match e {
        crate::rdb::DumpError::VersionOrChecksum => CmdError::msg("ERR DUMP payload version or checksum are wrong"),
        crate::rdb::DumpError::BadFormat => CmdError::msg("ERR Bad data format"),
    })?;
    if replace {
        ctx.delete(key)?;
    }
    let at = if ttl > 0 && !absttl { ttl.saturating_add(ctx.now as i64) } else { ttl };
    if at > 0 && ctx.already_expired(at) {
        ctx.out.ok();
        return Ok(());
    }
    ctx.store(key, value, false)?;
    if at > 0 {
        ctx.set_expire(key, at as u64)?;
        if !absttl && ctx.effects.is_on() {
            // The replay must not count the time to live from when it runs.
            let mut argv: Vec<&[u8]> = args.iter().collect();
            let mut n = itoa::Buffer::new();
            argv[2] = n.format(at).as_bytes();
            argv.push(b"ABSTTL");
            ctx.propagate(&argv);
        }
    }
    ctx.out.ok();
    Ok(())
}

fn object_encoding(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (db, now, key) = (ctx.db(), ctx.now, args.get(2));
    let (ks, slot) = ctx.data.locate(key)?;
    match ks.peek(db, slot, key, now).map(|(v, _)| v.encoding()) {
        Some(e) => ctx.out.bulk(e.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

/// OBJECT REFCOUNT: small integers are shared objects in Redis (an
/// "infinite" count) unless an LRU/LFU policy needs each key its own object.
fn object_refcount(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let shared_allowed = {
        let get = |name: &[u8]| ctx.host.config_get(name).into_iter().next().map(|(_, v)| v).unwrap_or_default();
        let policy = get(b"maxmemory-policy");
        get(b"maxmemory") == "0" || !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
    };
    let (db, now, key) = (ctx.db(), ctx.now, args.get(2));
    let (ks, slot) = ctx.data.locate(key)?;
    let refcount = match ks.peek(db, slot, key, now) {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some((crate::types::Value::Str(s), _))
            if shared_allowed
                && s.len() <= 20
                && crate::numeric::parse_i64(s).is_some_and(|v| (0..10_000).contains(&v)) =>
        {
            i32::MAX as i64
        }
        Some(_) => 1,
    };
    ctx.out.int(refcount);
    Ok(())
}

const POLICY_SWITCH: &str =
    "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// OBJECT IDLETIME (`want_lfu` false) and OBJECT FREQ (true): the key's
/// access record, when the policy tracks that kind of record.
fn object_access(ctx: &mut ExecCtx<'_>, args: &Args<'_>, want_lfu: bool) -> CmdResult {
    let (db, now, key) = (ctx.db(), ctx.now, args.get(2));
    let (ks, slot) = ctx.data.locate(key)?;
    let lfu = matches!(ks.access_policy(), crate::keyspace::AccessPolicy::Lfu { .. });
    let Some((_, access)) = ks.peek(db, slot, key, now) else {
        ctx.out.null();
        return Ok(());
    };
    let n = match (want_lfu, lfu) {
        (false, false) => crate::keyspace::Keyspace::idle_seconds(access, now) as i64,
        (true, true) => ks.frequency(access, now) as i64,
        (false, true) => {
            return Err(CmdError::owned(format!(
                "ERR An LFU maxmemory policy is selected, idle time not tracked. {POLICY_SWITCH}"
            )))
        }
        (true, false) => {
            return Err(CmdError::owned(format!(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. {POLICY_SWITCH}"
            )))
        }
    };
    ctx.out.int(n);
    Ok(())
}

/// OBJECT IDLETIME: seconds since the key was last read or written.
fn object_idletime(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    object_access(ctx, &args, false)
}

/// OBJECT FREQ: the key's logarithmic access counter (LFU policies only).
fn object_freq(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    object_access(ctx, &args, true)
}

fn object_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}
