//! ACL SETUSER | GETUSER | DELUSER | LIST | USERS | WHOAMI | CAT | DRYRUN |
//! GENPASS | HELP over the host's [`crate::acl::Acl`].

use super::spec::{flags::*, CommandSpec, Group};
use super::util::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::resp::request::Args;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        complexity: "O(1)",
        ..CommandSpec::keyless(name, arity, flags, Group::Server, summary, "6.0.0", handler)
    }
}

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN_SUB: u32 = NOSCRIPT | LOADING | STALE;

pub(crate) const SPECS: &[CommandSpec] = &[CommandSpec {
    subcommands: &[
        sub("setuser", -3, ADMIN_SUB, "Creates and modifies an ACL user and its rules.", setuser),
        sub("getuser", 3, ADMIN_SUB, "Lists the ACL rules of a user.", getuser),
        sub("deluser", -3, ADMIN_SUB, "Deletes ACL users, and terminates their connections.", deluser),
        sub("list", 2, ADMIN_SUB, "Dumps the effective rules in ACL file format.", list),
        sub("users", 2, ADMIN_SUB, "Lists all ACL users.", users),
        sub("whoami", 2, PLAIN_SUB, "Returns the authenticated username of the current connection.", whoami),
        sub("cat", -2, PLAIN_SUB, "Lists the ACL categories, or the commands inside a category.", cat),
        CommandSpec {
            since: "7.0.0",
            ..sub(
                "dryrun",
                -4,
                ADMIN_SUB,
                "Simulates the execution of a command by a user, without executing the command.",
                dryrun,
            )
        },
        sub(
            "genpass",
            -2,
            PLAIN_SUB,
            "Generates a pseudorandom, secure password that can be used to identify ACL users.",
            genpass,
        ),
        sub("help", 2, LOADING | STALE, "Returns helpful text about the different subcommands.", help),
    ],
    complexity: "Depends on subcommand.",
    ..CommandSpec::keyless(
        "acl",
        -2,
        CONTAINER,
        Group::Server,
        "A container for Access List Control commands.",
        "6.0.0",
        super::server::container,
    )
}];

fn setuser(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let ops: Vec<&[u8]> = args.iter().skip(3).collect();
    ctx.host.acl().write().unwrap_or_else(|e| e.into_inner()).set_user(args.get(2), &ops).map_err(CmdError::owned)?;
    ctx.out.ok();
    Ok(())
}

fn getuser(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let view = {
        let acl = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner());
        acl.user(args.get(2)).map(|u| u.rules().view())
    };
    let Some(v) = view else {
        ctx.out.null();
        return Ok(());
    };
    let out = &mut *ctx.out;
    out.map(6);
    out.bulk(b"flags");
    out.set(v.flags.len());
    for f in &v.flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(v.passwords.len());
    for p in &v.passwords {
        out.bulk(p.as_bytes());
    }
    for (name, value) in [("commands", &v.commands), ("keys", &v.keys), ("channels", &v.channels)] {
        out.bulk(name.as_bytes());
        out.bulk(value.as_bytes());
    }
    out.bulk(b"selectors");
    out.array(0);
    Ok(())
}

fn deluser(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let names: Vec<&[u8]> = args.iter().skip(2).collect();
    let n = ctx.host.acl().write().unwrap_or_else(|e| e.into_inner()).delete_users(&names).map_err(CmdError::owned)?;
    // A deleted user's connections are closed, as Redis closes them.
    for name in &names {
        let filter =
            crate::exec::ClientFilter { user: Some(String::from_utf8_lossy(name).into_owned()), ..Default::default() };
        ctx.host.client_kill(&filter);
    }
    ctx.out.int(n as i64);
    Ok(())
}

fn list(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let lines = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).list();
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.bulk(l.as_bytes());
    }
    Ok(())
}

fn users(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let names: Vec<String> =
        ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).names().map(str::to_string).collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn whoami(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let name = ctx.client.user.as_ref().map_or("default", |u| u.name.as_str());
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

fn cat(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(super::util::unknown_subcommand(args.get(1), "ACL"));
    }
    let names: Vec<&str> = if args.len() == 3 {
        let cat = String::from_utf8_lossy(args.get(2));
        crate::acl::commands_in(&cat).ok_or_else(|| CmdError::owned(format!("ERR Unknown category '{cat}'")))?
    } else {
        crate::acl::categories().collect()
    };
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// # Format
/// `ACL DRYRUN username command [arg ...]`
fn dryrun(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let user = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).user(args.get(2)).cloned();
    let Some(user) = user else {
        return Err(CmdError::owned(format!("ERR User '{}' not found", String::from_utf8_lossy(args.get(2)))));
    };
    let call = args.tail(3);
    let cmd = match super::resolve(&call) {
        Ok(c) => c,
        Err(CmdError::WrongArity(_)) => {
            return Err(CmdError::owned(format!(
                "ERR wrong number of arguments for '{}' command",
                String::from_utf8_lossy(call.get(0)).to_lowercase()
            )))
        }
        Err(_) => {
            return Err(CmdError::owned(format!(
                "ERR Command '{}' not found",
                String::from_utf8_lossy(call.get(0)).to_lowercase()
            )))
        }
    };
    match user.rules().check_at(cmd, &call) {
        Ok(()) => ctx.out.ok(),
        Err((denied, at)) => ctx.out.bulk(denied.dry_run(cmd, call.get(at)).as_bytes()),
    }
    Ok(())
}

/// # Format
/// `ACL GENPASS [bits]`
fn genpass(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let bits = match args.len() {
        2 => 256,
        3 => match int_arg(args.get(2))? {
            b if (1..=4096).contains(&b) => b as usize,
            _ => return Err(CmdError::msg("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")),
        },
        _ => return Err(CmdError::Syntax),
    };
    let chars = bits.div_ceil(4);
    let mut hex = String::with_capacity(chars + 16);
    while hex.len() < chars {
        hex.push_str(&format!("{:016x}", ctx.host.random()));
    }
    hex.truncate(chars);
    ctx.out.bulk(hex.as_bytes());
    Ok(())
}

const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(HELP.len());
    for l in HELP {
        ctx.out.simple(l.as_bytes());
    }
    Ok(())
}
