//! Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, CONFIG,
//! SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF, SHUTDOWN.

use super::spec::{flags::*, CommandSpec, Group};
use super::util::{int_arg, is_kw};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::keyspace::KeyspaceStats;
use crate::resp::request::Args;

const fn srv(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec::keyless(name, arity, flags, Group::Server, summary, since, handler)
}

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec {
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        acl: &["@dangerous"],
        ..srv(
            "info",
            -1,
            LOADING | STALE | KEYSPACE,
            "Returns information and statistics about the server.",
            "1.0.0",
            info,
        )
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        acl: &["@keyspace", "@read"],
        ..srv("dbsize", 1, READONLY | FAST | KEYSPACE, "Returns the number of keys in the database.", "1.0.0", dbsize)
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        acl: &["@keyspace", "@dangerous"],
        ..srv("flushdb", -1, WRITE | KEYSPACE, "Remove all keys from the current database.", "1.0.0", flushdb)
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        acl: &["@keyspace", "@dangerous"],
        ..srv("flushall", -1, WRITE | KEYSPACE, "Removes all keys from all databases.", "1.0.0", flushall)
    },
    CommandSpec {
        acl: &["@keyspace", "@dangerous"],
        ..srv("swapdb", 3, WRITE | FAST | KEYSPACE, "Swaps two Redis databases.", "4.0.0", swapdb)
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..srv("time", 1, LOADING | STALE | FAST, "Returns the server time.", "2.6.0", time)
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        acl: &["@admin", "@dangerous"],
        ..srv(
            "lastsave",
            1,
            LOADING | STALE | FAST,
            "Returns the Unix timestamp of the last successful save to disk.",
            "1.0.0",
            lastsave,
        )
    },
    CommandSpec {
        acl: &["@admin", "@slow", "@dangerous"],
        ..srv(
            "bgrewriteaof",
            1,
            ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
            "Asynchronously rewrites the append-only file to disk.",
            "1.0.0",
            bgrewriteaof,
        )
    },
    CommandSpec {
        acl: &["@admin", "@slow", "@dangerous"],
        ..srv(
            "save",
            1,
            ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
            "Synchronously saves the database(s) to disk.",
            "1.0.0",
            save,
        )
    },
    CommandSpec {
        acl: &["@admin", "@slow", "@dangerous"],
        ..srv(
            "bgsave",
            -1,
            ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
            "Asynchronously saves the database(s) to disk.",
            "1.0.0",
            bgsave,
        )
    },
    srv(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
        shutdown,
    ),
    CommandSpec {
        subcommands: &[
            srv(
                "get",
                -3,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Returns the effective values of configuration parameters.",
                "2.0.0",
                config_get,
            ),
            CommandSpec {
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                ..srv(
                    "set",
                    -4,
                    ADMIN | NOSCRIPT | LOADING | STALE,
                    "Sets configuration parameters in-flight.",
                    "2.0.0",
                    config_set,
                )
            },
            srv(
                "resetstat",
                2,
                ADMIN | NOSCRIPT | LOADING | STALE | KEYSPACE,
                "Resets the server's statistics.",
                "2.0.0",
                config_resetstat,
            ),
            srv(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
                "5.0.0",
                config_help,
            ),
        ],
        flags: CONTAINER,
        ..srv("config", -2, 0, "A container for server configuration commands.", "2.0.0", container)
    },
];

/// Handler of container commands; never reached, since a container always
/// resolves to one of its subcommands (or an arity error) first.
pub(crate) fn container(_ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    Err(CmdError::owned(format!(
        "ERR unknown subcommand. Try {} HELP.",
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    )))
}

/// Writes a `<CMD> HELP` reply: a header line, `lines`, and the HELP entry.
pub(crate) fn help_reply(ctx: &mut ExecCtx<'_>, cmd: &str, lines: &[&str]) {
    help_lines(ctx, cmd, lines, "    Print this help.");
}

/// [`help_reply`] for the commands whose HELP entry says "Prints" (XGROUP, XINFO).
pub(crate) fn help_reply_prints(ctx: &mut ExecCtx<'_>, cmd: &str, lines: &[&str]) {
    help_lines(ctx, cmd, lines, "    Prints this help.");
}

fn help_lines(ctx: &mut ExecCtx<'_>, cmd: &str, lines: &[&str], last: &str) {
    let out = &mut *ctx.out;
    out.array(lines.len() + 3);
    out.simple(format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes());
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(last.as_bytes());
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats", "scripting"];

/// # Format
/// `INFO [section [section ...]]`
fn info(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in args.iter().skip(1) {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                wanted.extend(ALL_EXTRA.iter().map(|s| s.to_string()));
            }
            _ => wanted.push(s),
        }
    }
    let mut order: Vec<&str> =
        DEFAULT_SECTIONS.iter().chain(ALL_EXTRA).copied().filter(|s| wanted.iter().any(|w| w == s)).collect();
    for w in &wanted {
        if !order.contains(&w.as_str()) {
            order.push(w);
        }
    }
    let stats = ctx.data.shards_ref().fold(KeyspaceStats::default(), |a, s| KeyspaceStats {
        hits: a.hits + s.stats.hits,
        misses: a.misses + s.stats.misses,
        expired: a.expired + s.stats.expired,
        evicted: a.evicted + s.stats.evicted,
    });
    let mut text = String::new();
    for name in order {
        let body = if name == "keyspace" { Some(keyspace_section(ctx)) } else { ctx.host.info_section(name, &stats) };
        if let Some(body) = body {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            text.push_str(&body);
        }
    }
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

fn keyspace_section(ctx: &ExecCtx<'_>) -> String {
    let mut s = String::from("# Keyspace\r\n");
    for db in 0..ctx.data.databases() {
        let c = ctx.data.counts(db);
        if c.keys > 0 {
            s.push_str(&format!("db{db}:keys={},expires={},avg_ttl=0\r\n", c.keys, c.expires));
        }
    }
    s
}

fn dbsize(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.data.counts(ctx.db()).keys;
    ctx.out.int(n as i64);
    Ok(())
}

fn flush_mode(args: &Args<'_>) -> CmdResult {
    match args.len() {
        1 => Ok(()),
        2 if is_kw(args.get(1), "async") || is_kw(args.get(1), "sync") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    flush_mode(&args)?;
    let db = ctx.db();
    let n: usize = ctx.data.counts(db).keys;
    for s in ctx.data.shards() {
        s.flush_db(db);
    }
    ctx.dirty += n as u64 + 1;
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    flush_mode(&args)?;
    let dbs = ctx.data.databases();
    let n: usize = (0..dbs).map(|d| ctx.data.counts(d).keys).sum();
    for s in ctx.data.shards() {
        for db in 0..dbs {
            s.flush_db(db);
        }
    }
    ctx.dirty += n as u64 + 1;
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if ctx.host.cluster().is_some() {
        return Err(CmdError::msg("ERR SWAPDB is not allowed in cluster mode"));
    }
    let a = int_arg(args.get(1)).map_err(|_| CmdError::msg("ERR invalid first DB index"))?;
    let b = int_arg(args.get(2)).map_err(|_| CmdError::msg("ERR invalid second DB index"))?;
    let n = ctx.data.databases() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndexOutOfRange);
    }
    for s in ctx.data.shards() {
        s.swap_db(a as usize, b as usize);
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn time(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let us = ctx.host.now_micros();
    ctx.out.array(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

fn bgrewriteaof(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.host.rewrite_aof()?;
    ctx.out.simple(b"Background append only file rewriting started");
    Ok(())
}

fn save(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.host.save()?;
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `BGSAVE [SCHEDULE]`
fn bgsave(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if is_kw(args.get(1), "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    let reply = ctx.host.bgsave(schedule)?;
    ctx.out.simple(reply.as_bytes());
    Ok(())
}

fn lastsave(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.host.lastsave());
    Ok(())
}

/// # Format
/// `SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]`
fn shutdown(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut save = None;
    for a in args.iter().skip(1) {
        if is_kw(a, "nosave") && save.is_none() {
            save = Some(false);
        } else if is_kw(a, "save") && save.is_none() {
            save = Some(true);
        } else if is_kw(a, "now") || is_kw(a, "force") {
        } else {
            return Err(CmdError::Syntax);
        }
    }
    ctx.host.shutdown(save)?;
    ctx.client.close_after_reply = true;
    Ok(())
}

fn config_get(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for p in args.iter().skip(2) {
        for kv in ctx.host.config_get(p) {
            if !pairs.iter().any(|(k, _)| *k == kv.0) {
                pairs.push(kv);
            }
        }
    }
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::owned(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            String::from_utf8_lossy(args.get(args.len() - 1))
        )));
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len()).step_by(2).map(|i| (args.get(i), args.get(i + 1))).collect();
    ctx.host.config_set(&pairs)?;
    ctx.out.ok();
    Ok(())
}

fn config_resetstat(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.host.config_resetstat();
    for s in ctx.data.shards() {
        s.stats = KeyspaceStats::default();
    }
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    help_reply(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(())
}
