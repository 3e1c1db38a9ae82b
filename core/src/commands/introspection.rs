//! COMMAND and its subcommands, generated from the command table alone.

use super::spec::{flags, flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::util::is_kw;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::resp::request::Args;
use crate::resp::ReplyBuf;

const fn intro(
    name: &'static str,
    arity: i32,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        acl: &["@connection"],
        complexity: "O(N) where N is the total number of Redis commands",
        ..CommandSpec::keyless(name, arity, LOADING | STALE, Group::Server, summary, since, handler)
    }
}

pub(crate) const SPECS: &[CommandSpec] = &[CommandSpec {
    subcommands: &[
        intro("count", 2, "Returns a count of commands.", "2.8.13", count),
        CommandSpec {
            tips: &["nondeterministic_output_order"],
            ..intro("info", -2, "Returns information about one, multiple or all commands.", "2.8.13", info)
        },
        CommandSpec {
            tips: &["nondeterministic_output_order"],
            ..intro("docs", -2, "Returns documentary information about one, multiple or all commands.", "7.0.0", docs)
        },
        intro("getkeys", -4, "Extracts the key names from an arbitrary command.", "2.8.13", getkeys),
        CommandSpec {
            tips: &["nondeterministic_output_order"],
            ..intro("list", -2, "Returns a list of command names.", "7.0.0", list)
        },
        intro("help", 2, "Returns helpful text about the different subcommands.", "5.0.0", help),
    ],
    flags: CONTAINER | LOADING | STALE,
    tips: &["nondeterministic_output_order"],
    ..intro("command", -1, "Returns detailed information about all commands.", "2.8.13", all_info)
}];

/// Full names of a command and its subcommands, with their specs.
fn info_entry(out: &mut ReplyBuf, parent: Option<&CommandSpec>, c: &CommandSpec) {
    out.array(10);
    out.bulk(super::full_name(parent, c).as_bytes());
    out.int(c.arity as i64);
    let mut names: Vec<&str> = flags::NAMES.iter().filter(|(f, _)| c.has(*f)).map(|(_, n)| *n).collect();
    if c.keys.movable() {
        names.push("movablekeys");
    }
    out.set(names.len());
    for n in names {
        out.simple(n.as_bytes());
    }
    let KeyPos { first, last, step, numkeys_at, streams_from, .. } = c.keys;
    out.int(first as i64);
    out.int(last as i64);
    out.int(step as i64);
    let cats = c.acl_categories();
    out.set(cats.len());
    for cat in cats {
        out.simple(cat.as_bytes());
    }
    // Redis sends tips, key specs and subcommands as sets (arrays in RESP2).
    out.set(c.tips.len());
    for tip in c.tips {
        out.bulk(tip.as_bytes());
    }
    let derived;
    let specs: &[KeySpec] = if !c.key_specs.is_empty() {
        c.key_specs
    } else if numkeys_at > 0 && first == 0 {
        derived = [KeySpec {
            begin: numkeys_at,
            lastkey: 0,
            step: 1,
            flags: c.key_flags,
            notes: None,
            keynum: true,
            keyword: None,
        }];
        &derived
    } else if streams_from > 0 {
        derived = [KeySpec {
            begin: streams_from,
            lastkey: -1,
            step: 1,
            flags: c.key_flags,
            notes: None,
            keynum: false,
            keyword: Some("STREAMS"),
        }];
        &derived
    } else if first > 0 {
        let lastkey = if last < 0 { last } else { last - first };
        derived =
            [KeySpec { begin: first, lastkey, step, flags: c.key_flags, notes: None, keynum: false, keyword: None }];
        &derived
    } else {
        &[]
    };
    out.set(specs.len());
    for ks in specs {
        key_spec(out, ks);
    }
    // Redis answers an empty set for no subcommands, an array otherwise.
    if c.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(c.subcommands.len());
    }
    for s in c.subcommands {
        info_entry(out, Some(c), s);
    }
}

fn key_spec(out: &mut ReplyBuf, ks: &KeySpec) {
    out.map(3 + ks.notes.is_some() as usize);
    if let Some(n) = ks.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    out.set(ks.flags.len());
    for f in ks.flags {
        out.simple(f.as_bytes());
    }
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    if let Some(kw) = ks.keyword {
        out.bulk(b"keyword");
        out.bulk(b"spec");
        out.map(2);
        out.bulk(b"keyword");
        out.bulk(kw.as_bytes());
        out.bulk(b"startfrom");
        out.int(ks.begin as i64);
    } else {
        out.bulk(b"index");
        out.bulk(b"spec");
        out.map(1);
        out.bulk(b"index");
        out.int(ks.begin as i64);
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    if ks.keynum {
        // The count is at `begin`; keys start right after it.
        out.bulk(b"keynum");
        out.bulk(b"spec");
        out.map(3);
        out.bulk(b"keynumidx");
        out.int(0);
        out.bulk(b"firstkey");
        out.int(1);
        out.bulk(b"keystep");
        out.int(ks.step as i64);
        return;
    }
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    out.int(ks.lastkey as i64);
    out.bulk(b"keystep");
    out.int(ks.step as i64);
    out.bulk(b"limit");
    out.int(if ks.keyword.is_some() { 2 } else { 0 });
}

fn all_info(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let all: Vec<_> = super::all().collect();
    ctx.out.array(all.len());
    for c in all {
        info_entry(ctx.out, None, c);
    }
    Ok(())
}

fn count(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(super::all().count() as i64);
    Ok(())
}

/// Resolves `name` or `parent|sub` to a spec.
fn find(name: &[u8]) -> Option<(Option<&'static CommandSpec>, &'static CommandSpec)> {
    match name.iter().position(|&b| b == b'|') {
        Some(i) => {
            let p = super::lookup(&name[..i])?;
            Some((Some(p), super::lookup_sub(p, &name[i + 1..])?))
        }
        None => Some((None, super::lookup(name)?)),
    }
}

fn info(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        return all_info(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match find(name) {
            Some((p, c)) => info_entry(ctx.out, p, c),
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

fn doc_entry(out: &mut ReplyBuf, parent: Option<&CommandSpec>, c: &CommandSpec) {
    out.bulk(super::full_name(parent, c).as_bytes());
    let subs = !c.subcommands.is_empty();
    out.map(5 + subs as usize);
    out.bulk(b"summary");
    out.bulk(c.summary.as_bytes());
    // Not in Redis's reply, which describes arguments instead; slotkv adds the
    // arity so the playground and gateway can check calls from the docs alone.
    out.bulk(b"arity");
    out.int(c.arity as i64);
    out.bulk(b"since");
    out.bulk(c.since.as_bytes());
    out.bulk(b"group");
    out.bulk(c.group.name().as_bytes());
    out.bulk(b"complexity");
    out.bulk(c.complexity.as_bytes());
    if subs {
        out.bulk(b"subcommands");
        out.map(c.subcommands.len());
        for s in c.subcommands {
            doc_entry(out, Some(c), s);
        }
    }
}

fn docs(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let found: Vec<_> = if args.len() == 2 {
        super::all().map(|c| (None, c)).collect()
    } else {
        args.iter().skip(2).filter_map(find).collect()
    };
    ctx.out.map(found.len());
    for (p, c) in found {
        doc_entry(ctx.out, p, c);
    }
    Ok(())
}

fn getkeys(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let inner = args.tail(2);
    let Some(mut spec) = super::lookup(inner.get(0)) else {
        return Err(CmdError::msg("ERR Invalid command specified"));
    };
    if !spec.subcommands.is_empty() && inner.len() >= 2 {
        spec = super::lookup_sub(spec, inner.get(1)).ok_or(CmdError::msg("ERR Invalid command specified"))?;
    }
    if !spec.arity_ok(inner.len()) {
        return Err(CmdError::msg("ERR Invalid number of arguments specified for command"));
    }
    let idx: Vec<usize> = spec.key_indexes(&inner).collect();
    if idx.is_empty() {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    ctx.out.array(idx.len());
    for i in idx {
        ctx.out.bulk(inner.get(i));
    }
    Ok(())
}

/// # Format
/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`
fn list(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut names: Vec<String> = Vec::new();
    let filter = match args.len() {
        2 => None,
        5 if is_kw(args.get(2), "filterby") => Some((args.get(3), args.get(4))),
        _ => return Err(CmdError::Syntax),
    };
    for c in super::all() {
        let mut push = |p: Option<&CommandSpec>, s: &CommandSpec| {
            let name = super::full_name(p, s);
            let keep = match filter {
                None => true,
                Some((k, v)) if is_kw(k, "pattern") => crate::glob::glob_match(v, name.as_bytes(), true),
                Some((k, v)) if is_kw(k, "aclcat") => {
                    s.acl_categories().iter().any(|cat| cat.as_bytes()[1..].eq_ignore_ascii_case(v))
                }
                Some((k, _)) if is_kw(k, "module") => false,
                Some(_) => return Err(CmdError::Syntax),
            };
            if keep {
                names.push(name);
            }
            Ok(())
        };
        push(None, c)?;
        for s in c.subcommands {
            push(Some(c), s)?;
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    );
    Ok(())
}
