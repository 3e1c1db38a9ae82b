//! SLOWLOG GET | LEN | RESET | HELP over the host's [`crate::slowlog::SlowLog`].

use super::spec::{flags::*, CommandSpec, Group};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::resp::request::Args;

const fn sub(
    name: &'static str,
    arity: i32,
    summary: &'static str,
    complexity: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        acl: &["@dangerous"],
        complexity,
        ..CommandSpec::keyless(name, arity, ADMIN | LOADING | STALE, Group::Server, summary, "2.2.12", handler)
    }
}

pub(crate) const SPECS: &[CommandSpec] = &[CommandSpec {
    subcommands: &[
        CommandSpec {
            tips: &["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"],
            ..sub("len", 2, "Get the slow log's length", "O(1)", len)
        },
        CommandSpec {
            tips: &["request_policy:all_nodes", "nondeterministic_output"],
            ..sub("get", -2, "Get the slow log's entries", "O(N) where N is the number of entries returned", get)
        },
        CommandSpec {
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            ..sub(
                "reset",
                2,
                "Clear all entries from the slow log",
                "O(N) where N is the number of entries in the slowlog",
                reset,
            )
        },
        CommandSpec {
            acl: &[],
            flags: LOADING | STALE,
            since: "6.2.0",
            ..sub("help", 2, "Show helpful text about the different subcommands", "O(1)", help)
        },
    ],
    complexity: "Depends on subcommand.",
    ..CommandSpec::keyless(
        "slowlog",
        -2,
        CONTAINER,
        Group::Server,
        "A container for slow log commands",
        "2.2.12",
        super::server::container,
    )
}];

fn get(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(super::util::unknown_subcommand(args.get(1), "SLOWLOG"));
    }
    let count = match args.len() {
        3 => {
            let n = std::str::from_utf8(args.get(2)).ok().and_then(|s| s.parse::<i64>().ok());
            match n {
                Some(-1) => None,
                Some(n) if n >= 0 => Some(n as usize),
                _ => return Err(CmdError::msg("ERR count should be greater than or equal to -1")),
            }
        }
        _ => Some(10),
    };
    let log = ctx.host.slowlog();
    let log = log.lock().unwrap_or_else(|p| p.into_inner());
    let entries: Vec<_> = log.newest(count).collect();
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.micros as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk(e.peer.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

fn len(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.host.slowlog().lock().unwrap_or_else(|p| p.into_inner()).len();
    ctx.out.int(n as i64);
    Ok(())
}

fn reset(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.host.slowlog().lock().unwrap_or_else(|p| p.into_inner()).reset();
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}
