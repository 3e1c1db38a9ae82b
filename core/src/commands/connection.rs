//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH, CLIENT.

use super::spec::{flags::*, CommandSpec, Group};
use super::util::{int_arg, is_kw};
use crate::error::{CmdError, CmdResult};
use crate::exec::{ClientFilter, ExecCtx};
use crate::numeric::parse_i64;
use crate::resp::request::Args;

/// Version reported to clients (HELLO, INFO): the Redis version whose behaviour
/// slotkv follows, so clients enable the same features.
pub const REDIS_VERSION: &str = "7.0.15";

const C: Group = Group::Connection;

const fn conn(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec::keyless(name, arity, flags, C, summary, since, handler)
}

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..conn("ping", -1, FAST, "Returns the server's liveliness response.", "1.0.0", ping)
    },
    conn("echo", 2, LOADING | STALE | FAST, "Returns the given string.", "1.0.0", echo),
    conn("select", 2, LOADING | STALE | FAST, "Changes the selected database.", "1.0.0", select),
    conn(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | RUNS_IN_MULTI,
        "Closes the connection.",
        "1.0.0",
        quit,
    ),
    conn(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | RUNS_IN_MULTI | KEYSPACE,
        "Resets the connection.",
        "6.2.0",
        reset,
    ),
    conn(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        "Handshakes with the Redis server.",
        "6.0.0",
        hello,
    ),
    conn(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        "Authenticates the connection.",
        "1.0.0",
        auth,
    ),
    CommandSpec {
        subcommands: &[
            conn(
                "id",
                2,
                NOSCRIPT | LOADING | STALE,
                "Returns the unique client ID of the connection.",
                "5.0.0",
                client_id,
            ),
            conn("setname", 3, NOSCRIPT | LOADING | STALE, "Sets the connection name.", "2.6.9", client_setname),
            conn(
                "getname",
                2,
                NOSCRIPT | LOADING | STALE,
                "Returns the name of the connection.",
                "2.6.9",
                client_getname,
            ),
            CommandSpec {
                tips: &["nondeterministic_output"],
                acl: &["@admin", "@dangerous"],
                ..conn("list", -2, ADMIN | NOSCRIPT | LOADING | STALE, "Lists open connections.", "2.4.0", client_list)
            },
            CommandSpec {
                tips: &["nondeterministic_output"],
                ..conn(
                    "info",
                    2,
                    NOSCRIPT | LOADING | STALE,
                    "Returns information about the connection.",
                    "6.2.0",
                    client_info,
                )
            },
            conn("kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, "Terminates open connections.", "2.4.0", client_kill),
            conn(
                "unblock",
                -3,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Unblocks a client blocked by a blocking command from a different connection.",
                "5.0.0",
                client_unblock,
            ),
            conn(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
                "5.0.0",
                client_help,
            ),
        ],
        flags: CONTAINER,
        ..conn("client", -2, 0, "A container for client connection commands.", "2.4.0", super::server::container)
    },
];

fn ping(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if !ctx.client.resp3 && ctx.client.subscriptions.any() && args.len() <= 2 {
        // In subscribed mode a RESP2 reply must look like a message.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
    match args.len() {
        1 => ctx.out.simple(b"PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(CmdError::WrongArity("ping".into())),
    }
    Ok(())
}

fn echo(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

fn select(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = int_arg(args.get(1))?;
    if n > i32::MAX as i64 || n < i32::MIN as i64 {
        return Err(CmdError::msg("ERR value is out of range, value must between -2147483648 and 2147483647"));
    }
    if n != 0 && ctx.host.cluster().is_some() {
        return Err(CmdError::msg("ERR SELECT is not allowed in cluster mode"));
    }
    if n < 0 || n as usize >= ctx.data.databases().max(ctx.host_databases()) {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.db = n as usize;
    ctx.host.client_updated(ctx.client);
    ctx.out.ok();
    Ok(())
}

impl ExecCtx<'_> {
    /// Number of databases, known even to commands that hold no shard.
    fn host_databases(&self) -> usize {
        self.databases
    }
}

fn quit(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.client.close_after_reply = true;
    ctx.out.ok();
    Ok(())
}

fn reset(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.client.db = 0;
    ctx.client.resp3 = false;
    ctx.client.name = None;
    ctx.client.multi = None;
    ctx.client.multi_error = false;
    crate::exec::unwatch_all(&mut ctx.data, ctx.client);
    super::pubsub::unsubscribe_all(ctx);
    let default = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).default_user().clone();
    ctx.client.authenticated = default.needs_no_password();
    if ctx.client.user.is_some() {
        ctx.client.user = Some(default);
    }
    ctx.host.client_updated(ctx.client);
    ctx.out.resp3 = false;
    ctx.out.simple(b"RESET");
    Ok(())
}

/// # Format
/// `CLIENT UNBLOCK client-id [TIMEOUT | ERROR]`
fn client_unblock(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(super::util::unknown_subcommand(args.get(1), "CLIENT"));
    }
    let id = super::util::int_arg(args.get(2))?;
    let error = match args.len() {
        4 if super::util::is_kw(args.get(3), "error") => true,
        4 if super::util::is_kw(args.get(3), "timeout") => false,
        4 => return Err(CmdError::msg("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
        _ => false,
    };
    let done = id >= 0 && ctx.host.client_unblock(id as u64, error);
    ctx.out.int(done as i64);
    Ok(())
}

fn check_password(ctx: &mut ExecCtx<'_>, user: &[u8], pass: &[u8]) -> CmdResult {
    let found = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).authenticate(user, pass);
    let Some(found) = found else {
        return Err(CmdError::msg("WRONGPASS invalid username-password pair or user is disabled."));
    };
    ctx.client.user = Some(found);
    ctx.client.authenticated = true;
    ctx.host.client_updated(ctx.client);
    Ok(())
}

/// # Format
/// `AUTH [username] password`
fn auth(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if args.len() == 2 {
        let nopass = ctx.host.acl().read().unwrap_or_else(|e| e.into_inner()).default_user().needs_no_password();
        if nopass {
            return Err(CmdError::msg("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }
        check_password(ctx, b"default", args.get(1))?;
    } else {
        check_password(ctx, args.get(1), args.get(2))?;
    }
    ctx.out.ok();
    Ok(())
}

fn valid_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::msg("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// # Format
/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut ver = None;
    if args.len() >= 2 {
        let v =
            parse_i64(args.get(1)).ok_or(CmdError::msg("ERR Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::msg("NOPROTO unsupported protocol version"));
        }
        ver = Some(v);
    }
    let (mut creds, mut name) = (None, None);
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if is_kw(opt, "auth") && more >= 2 {
            creds = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if is_kw(opt, "setname") && more >= 1 {
            valid_client_name(args.get(i + 1))?;
            name = Some(args.get(i + 1));
            i += 1;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        i += 1;
    }
    if let Some((u, p)) = creds {
        check_password(ctx, u, p)?;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::msg("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        ctx.client.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if let Some(v) = ver {
        ctx.client.resp3 = v == 3;
        ctx.out.resp3 = v == 3;
    }
    ctx.host.client_updated(ctx.client);
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if ctx.client.resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn client_id(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

fn client_setname(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = args.get(2);
    valid_client_name(n)?;
    ctx.client.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.host.client_updated(ctx.client);
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    match &ctx.client.name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    Ok(())
}

fn client_type_ok(t: &[u8]) -> bool {
    ["normal", "master", "slave", "replica", "pubsub"].iter().any(|k| is_kw(t, k))
}

fn client_list(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut f = ClientFilter::default();
    if args.len() == 4 && is_kw(args.get(2), "type") {
        let t = args.get(3);
        if !client_type_ok(t) {
            return Err(CmdError::owned(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(t))));
        }
        f.kind = Some(String::from_utf8_lossy(t).to_ascii_lowercase());
    } else if args.len() > 3 && is_kw(args.get(2), "id") {
        let mut ids = Vec::new();
        for a in args.iter().skip(3) {
            ids.push(parse_i64(a).ok_or(CmdError::msg("ERR Invalid client ID"))? as u64);
        }
        f.ids = Some(ids);
    } else if args.len() != 2 {
        return Err(CmdError::Syntax);
    }
    ctx.host.client_updated(ctx.client);
    let text = ctx.host.client_list(&f);
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

fn client_info(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.host.client_updated(ctx.client);
    let f = ClientFilter { ids: Some(vec![ctx.client.id]), ..Default::default() };
    let text = ctx.host.client_list(&f);
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// # Format
/// `CLIENT KILL ip:port` or `CLIENT KILL [ID id] [TYPE t] [USER u] [ADDR a] [LADDR a] [SKIPME yes|no] [MAXAGE s]`
fn client_kill(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 3 {
        let f = ClientFilter { addr: Some(String::from_utf8_lossy(args.get(2)).into_owned()), ..Default::default() };
        if ctx.host.client_kill(&f) == 0 {
            return Err(CmdError::msg("ERR No such client"));
        }
        ctx.out.ok();
        return Ok(());
    }
    let mut f = ClientFilter { skip: Some(ctx.client.id), ..Default::default() };
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        let (opt, val) = (args.get(i), args.get(i + 1));
        let text = String::from_utf8_lossy(val).into_owned();
        if is_kw(opt, "id") {
            match parse_i64(val) {
                Some(id) if id > 0 => f.ids = Some(vec![id as u64]),
                _ => return Err(CmdError::msg("ERR client-id should be greater than 0")),
            }
        } else if is_kw(opt, "type") {
            if !client_type_ok(val) {
                return Err(CmdError::owned(format!("ERR Unknown client type '{text}'")));
            }
            f.kind = Some(text.to_ascii_lowercase());
        } else if is_kw(opt, "addr") {
            f.addr = Some(text);
        } else if is_kw(opt, "laddr") {
            f.laddr = Some(text);
        } else if is_kw(opt, "user") {
            f.user = Some(text);
        } else if is_kw(opt, "skipme") {
            if is_kw(val, "yes") {
                f.skip = Some(ctx.client.id);
            } else if is_kw(val, "no") {
                f.skip = None;
            } else {
                return Err(CmdError::Syntax);
            }
        } else if is_kw(opt, "maxage") {
            f.max_age = Some(int_arg(val)?.max(0) as u64);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    if f.skip.is_none() && matches_self(&f, ctx.client.id) {
        ctx.client.close_after_reply = true;
    }
    let n = ctx.host.client_kill(&f);
    ctx.out.int(n as i64);
    Ok(())
}

fn matches_self(f: &ClientFilter, id: u64) -> bool {
    f.ids.as_ref().is_none_or(|ids| ids.contains(&id)) && f.addr.is_none() && f.laddr.is_none()
}

fn client_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply(
        ctx,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
        ],
    );
    Ok(())
}
