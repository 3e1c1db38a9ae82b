//! Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT.
//!
//! A script runs inside its EVAL command, holding the shards of its declared
//! keys (the runtime locked them from the key positions). Each `redis.call` is
//! run here with the same checks Redis makes for scripts, on the script's own
//! view of the client (its database, its protocol). Before a write, the keys
//! it names are copied into an undo log, so a script stopped by its step
//! budget, its memory limit or SCRIPT KILL leaves the data exactly as it was.
//! A call on a key outside the held shards rolls the script back and asks the
//! runtime to run it again holding every shard ([`ExecCtx::wants_all_shards`]).

use super::spec::{flags::*, CommandSpec, Group, KeyPos, KeySpec};
use super::util::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::exec::{execute_untimed, ExecCtx};
use crate::reply::Reply;
use crate::resp::request::{Args, Argv};
use crate::resp::ReplyBuf;
use crate::scripting::{parse_shebang, ScriptEngine, ScriptLimits, ShaKey, Step, Stop};
use crate::types::Value;
use std::collections::HashSet;

const S: Group = Group::Scripting;

/// An EVAL-family declaration: numkeys at 2, keys after it.
pub(super) const fn eval_cmd(
    name: &'static str,
    read_only: bool,
    notes: bool,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    const RW: &[&str] = &["RW", "access", "update"];
    const RO: &[&str] = &["RO", "access"];
    const RW_SPEC: &[KeySpec] = &[KeySpec {
        keynum: true,
        notes: Some("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
        ..KeySpec::at(2, RW)
    }];
    const RW_PLAIN: &[KeySpec] = &[KeySpec { keynum: true, ..KeySpec::at(2, RW) }];
    const RO_PLAIN: &[KeySpec] = &[KeySpec { keynum: true, ..KeySpec::at(2, RO) }];
    const RO_SPEC: &[KeySpec] = &[KeySpec {
        keynum: true,
        notes: Some("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
        ..KeySpec::at(2, RO)
    }];
    let common = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE;
    CommandSpec {
        key_specs: match (read_only, notes) {
            (true, true) => RO_SPEC,
            (true, false) => RO_PLAIN,
            (false, true) => RW_SPEC,
            (false, false) => RW_PLAIN,
        },
        ..CommandSpec::new(
            name,
            -3,
            if read_only { common | READONLY } else { common },
            KeyPos::counted(2),
            if read_only { RO } else { RW },
            S,
            summary,
            since,
            "Depends on the script that is executed.",
            handler,
        )
    }
}

pub(crate) const SPECS: &[CommandSpec] = &[
    eval_cmd("eval", false, true, "Executes a server-side Lua script.", "2.6.0", eval),
    eval_cmd("evalsha", false, false, "Executes a server-side Lua script by SHA1 digest.", "2.6.0", evalsha),
    eval_cmd("eval_ro", true, true, "Executes a read-only server-side Lua script.", "7.0.0", eval_ro),
    eval_cmd(
        "evalsha_ro",
        true,
        false,
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "7.0.0",
        evalsha_ro,
    ),
    CommandSpec {
        subcommands: SCRIPT_SUBS,
        ..CommandSpec::keyless(
            "script",
            -2,
            CONTAINER,
            S,
            "A container for Lua scripts management commands.",
            "2.6.0",
            super::server::container,
        )
    },
];

const SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:agg_logical_and"],
        ..CommandSpec::keyless(
            "exists",
            -3,
            NOSCRIPT,
            S,
            "Determines whether server-side Lua scripts exist in the script cache.",
            "2.6.0",
            script_exists,
        )
    },
    CommandSpec {
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::keyless(
            "flush",
            -2,
            NOSCRIPT,
            S,
            "Removes all server-side Lua scripts from the script cache.",
            "2.6.0",
            script_flush,
        )
    },
    CommandSpec {
        ..CommandSpec::keyless(
            "help",
            2,
            LOADING | STALE,
            S,
            "Returns helpful text about the different subcommands.",
            "5.0.0",
            script_help,
        )
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::keyless(
            "kill",
            2,
            NOSCRIPT | ALLOW_BUSY,
            S,
            "Terminates a server-side Lua script during execution.",
            "2.6.0",
            script_kill,
        )
    },
    CommandSpec {
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::keyless(
            "load",
            3,
            NOSCRIPT | STALE,
            S,
            "Loads a server-side Lua script to the script cache.",
            "2.6.0",
            script_load,
        )
    },
];

fn eval(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

/// Reads `numkeys` at index 2 with Redis's messages.
pub(super) fn numkeys(args: &Args<'_>) -> Result<usize, CmdError> {
    let n = int_arg(args.get(2))?;
    if n < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    if n as u64 > (args.len() - 3) as u64 {
        return Err(CmdError::msg("ERR Number of keys can't be greater than number of args"));
    }
    Ok(n as usize)
}

fn eval_generic(ctx: &mut ExecCtx<'_>, args: Args<'_>, by_sha: bool, read_only: bool) -> CmdResult {
    let n = numkeys(&args)?;
    let cache = ctx.host.script_cache();
    let engine_rc = ctx.host.script_engine();
    let mut engine = engine_rc.borrow_mut();
    let no_script = || CmdError::msg("NOSCRIPT No matching script. Please use EVAL.");
    // A script this engine compiled needs neither its body nor a new parse
    // of its shebang: its flags were kept with it.
    enum Found {
        Compiled(crate::scripting::ScriptFlags),
        Body(std::sync::Arc<[u8]>),
    }
    let (sha, found) = {
        let c = cache.lock().unwrap_or_else(|p| p.into_inner());
        engine.sync_generation(c.generation());
        let sha = if by_sha {
            ShaKey::new(args.get(1)).ok_or_else(no_script)?
        } else {
            ShaKey::new(crate::scripting::sha1_hex(args.get(1)).as_bytes()).ok_or_else(no_script)?
        };
        let found = match engine.compiled(sha.as_str()) {
            Some(flags) => Found::Compiled(flags),
            None if by_sha => Found::Body(c.get(sha.as_str().as_bytes()).ok_or_else(no_script)?),
            None => Found::Body(std::sync::Arc::from(args.get(1))),
        };
        (sha, found)
    };
    let sha = sha.as_str();
    let flags = match found {
        Found::Compiled(flags) => flags,
        Found::Body(body) => {
            let parsed = parse_shebang(&body).map_err(CmdError::owned)?;
            engine.compile(sha, &parsed.code, parsed.flags).map_err(CmdError::owned)?;
            if !by_sha {
                cache.lock().unwrap_or_else(|p| p.into_inner()).insert(&body);
            }
            parsed.flags
        }
    };
    if engine.needs_all_shards(sha) && !ctx.data.covers_all() {
        ctx.wants_all_shards = true;
        return Ok(());
    }
    let keys: Vec<&[u8]> = (0..n).map(|i| args.get(3 + i)).collect();
    let argv: Vec<&[u8]> = (3 + n..args.len()).map(|i| args.get(i)).collect();
    check_no_cluster(ctx, flags)?;
    let rules = ScriptRules::new(flags, flags.declared, read_only, &keys);
    let start = |e: &mut ScriptEngine, limits| e.start(sha, &keys, &argv, limits);
    let running = Running { name: sha, args: &args };
    run_script(ctx, &mut engine, sha, rules, running, start)
}

/// Runs a script or function started by `start`, with the host's limits,
/// and answers its reply. Where the host wants long scripts elsewhere, it
/// first runs here with a short budget; one that needs more is rolled back
/// and moved ([`ExecCtx::wants_offload`]). `id` remembers scripts that touch
/// undeclared keys.
pub(super) fn run_script(
    ctx: &mut ExecCtx<'_>,
    engine: &mut ScriptEngine,
    id: &str,
    rules: ScriptRules,
    running: Running<'_, '_>,
    start: impl FnOnce(&mut ScriptEngine, ScriptLimits) -> Result<(), String>,
) -> CmdResult {
    // A script that declares flags must say it may run out of memory (or that
    // it does not write) to start past maxmemory; one without flags is held
    // to it call by call instead.
    if ctx.client.over_maxmemory && rules.flagged && !rules.allow_oom && !rules.read_only {
        return Err(CmdError::msg(crate::exec::OOM));
    }
    let mut limits = ctx.host.script_limits();
    let inline = ctx.host.script_inline_steps().filter(|&n| n < limits.steps);
    if let Some(n) = inline {
        limits.steps = n;
    }
    start(engine, limits).map_err(CmdError::owned)?;
    let outcome = run(ctx, engine, rules, running);
    if inline.is_some() && matches!(outcome, Err(Stop::Budget)) {
        engine.take_logs();
        ctx.wants_offload = true;
        return Ok(());
    }
    for line in engine.take_logs() {
        ctx.host.script_log(line.level, &line.text);
    }
    ctx.host.script_done(engine.steps_used(), outcome.as_ref().err().copied());
    match outcome {
        Ok(Some(reply)) => {
            reply.encode(ctx.out);
            Ok(())
        }
        Ok(None) => {
            engine.mark_needs_all_shards(id);
            ctx.wants_all_shards = true;
            Ok(())
        }
        Err(stop) => Err(CmdError::owned(stop_message(stop, ctx.host.script_limits()))),
    }
}

/// The error for a script stopped before it finished.
fn stop_message(stop: Stop, limits: crate::scripting::ScriptLimits) -> String {
    match stop {
        Stop::Budget => format!(
            "ERR Script used its whole step budget (lua-step-budget {}) and was stopped; its writes were rolled back",
            limits.steps
        ),
        Stop::Memory => format!(
            "ERR Script went past its memory limit (lua-memory-limit {} bytes) and was stopped; its writes were rolled back",
            limits.memory
        ),
        Stop::Killed => "ERR Script killed by user with SCRIPT KILL... its writes were rolled back".to_string(),
        Stop::Internal => "ERR Script stopped by an internal interpreter error; its writes were rolled back".to_string(),
    }
}

/// Runs a started script to its end: the reply, `None` when it must run
/// again holding every shard, or why it was stopped. Stopped scripts are
/// rolled back.
/// What a script run may do: decided by the command (`*_RO`) and the flags
/// the script or function declares.
#[derive(Clone, Copy)]
pub(super) struct ScriptRules {
    /// Write commands are refused.
    pub read_only: bool,
    /// Commands that grow memory run past maxmemory too (`allow-oom`).
    pub allow_oom: bool,
    /// The script declared flags (a shebang, or a function): stricter checks apply.
    pub flagged: bool,
    /// Cluster mode: its calls may touch keys of several (local) slots
    /// (`allow-cross-slot-keys`, or an EVAL script without flags).
    pub cross_slot: bool,
    /// Cluster mode: the slot its calls are bound to, from its first key
    /// (declared, or first touched).
    pub slot: Option<u16>,
}

impl ScriptRules {
    /// The rules of a script declaring `flags` (`flagged`: a shebang or a
    /// function), called with `keys`, by a read-only command or not.
    pub fn new(flags: crate::scripting::ScriptFlags, flagged: bool, read_only: bool, keys: &[&[u8]]) -> Self {
        ScriptRules {
            read_only: read_only || flags.no_writes,
            allow_oom: flags.allow_oom,
            flagged,
            cross_slot: !flagged || flags.allow_cross_slot,
            slot: keys.first().map(|k| crate::slot::key_slot(k)),
        }
    }
}

/// Refuses a script flagged `no-cluster` in cluster mode.
pub(super) fn check_no_cluster(ctx: &ExecCtx<'_>, flags: crate::scripting::ScriptFlags) -> CmdResult {
    if flags.no_cluster && ctx.host.cluster().is_some() {
        return Err(CmdError::msg("ERR Can not run script on cluster, 'no-cluster' flag is set."));
    }
    Ok(())
}

/// In cluster mode, why a script's call may not run here, in Redis's words:
/// its keys must be served by this node, and, unless the script may cross
/// slots, in the slot of its first key.
fn script_cluster_refusal(
    ctx: &ExecCtx<'_>,
    cmd: super::Resolved,
    args: &Args<'_>,
    rules: &mut ScriptRules,
) -> Option<&'static str> {
    let state = ctx.host.cluster()?.read().unwrap_or_else(|p| p.into_inner());
    match state.check([(cmd, *args)], ctx.client.cluster_readonly, ctx.client.asked) {
        Err(crate::cluster::Redirect::Down) => {
            Some("ERR Script attempted to execute a command while the cluster is down")
        }
        Err(_) => Some("ERR Script attempted to access a non local key in a cluster node"),
        Ok(Some(slot)) if !rules.cross_slot => match rules.slot {
            Some(bound) if bound != slot => {
                Some("ERR Script attempted to access keys that do not hash to the same slot")
            }
            _ => {
                rules.slot = Some(slot);
                None
            }
        },
        Ok(_) => None,
    }
}

/// Steps a script runs before it is announced as running.
const ANNOUNCE_AFTER_STEPS: u64 = 10_000;

/// What FUNCTION STATS shows of a running script: its name and command.
pub(super) struct Running<'n, 'a> {
    pub name: &'n str,
    pub args: &'n Args<'a>,
}

fn run(
    ctx: &mut ExecCtx<'_>,
    engine: &mut ScriptEngine,
    mut rules: ScriptRules,
    running: Running<'_, '_>,
) -> Result<Option<Reply>, Stop> {
    let saved = (ctx.client.db, ctx.client.resp3, ctx.client.current, ctx.may_block);
    ctx.may_block = false;
    // A script is announced as running (FUNCTION STATS, SCRIPT KILL) once it
    // has run a while: most finish within their first steps, and announcing
    // costs a copy of the command and shared state touched twice.
    let mut announced = false;
    let mut undo = UndoLog::new(ctx);
    let outcome = loop {
        let step = engine.step();
        if !matches!(step, Step::Done(_) | Step::Stopped(_)) {
            if !announced && engine.steps_used() >= ANNOUNCE_AFTER_STEPS {
                let command: Vec<&[u8]> = running.args.iter().collect();
                ctx.host.script_started(running.name, &command);
                announced = true;
            }
            if announced && ctx.host.script_killed() {
                engine.stop(Stop::Killed);
                break Err(Stop::Killed);
            }
        }
        match step {
            Step::Running => {}
            Step::Call(call) => match script_call(ctx, &call.args, &mut rules, &mut undo, engine.resp3()) {
                Some(reply) => engine.resume(reply, call.raise),
                None => {
                    engine.stop(Stop::Killed);
                    break Ok(None);
                }
            },
            Step::Done(reply) => break Ok(Some(reply)),
            Step::Stopped(stop) => break Err(stop),
        }
    };
    if announced {
        ctx.host.script_finished();
    }
    if !matches!(outcome, Ok(Some(_))) {
        undo.rollback(ctx);
    }
    (ctx.client.db, ctx.client.resp3, ctx.client.current, ctx.may_block) = saved;
    ctx.out.resp3 = ctx.client.resp3;
    outcome
}

/// Runs a WebAssembly module's function (FCALL of a module library): each
/// command it runs goes through [`script_call`] with the same rules and undo
/// log as a Lua script, and a stopped call is rolled back the same way.
pub(super) fn run_module(
    ctx: &mut ExecCtx<'_>,
    code: &std::sync::Arc<[u8]>,
    keys: &[&[u8]],
    argv: &[&[u8]],
    rules: ScriptRules,
    running: Running<'_, '_>,
) -> CmdResult {
    use crate::scripting::modules::{ModuleCalls, ModuleStop};
    let host = ctx.host.module_host().ok_or(CmdError::msg("ERR Engine 'wasm' not found"))?;
    if ctx.client.over_maxmemory && !rules.allow_oom && !rules.read_only {
        return Err(CmdError::msg(crate::exec::OOM));
    }
    struct Calls<'c, 'a> {
        ctx: &'c mut ExecCtx<'a>,
        rules: ScriptRules,
        undo: UndoLog,
    }
    impl ModuleCalls for Calls<'_, '_> {
        fn command(&mut self, command: &[Vec<u8>]) -> Option<Reply> {
            let argv = Argv::from_args(command.iter().map(|c| c.as_slice()));
            // Modules see typed (RESP3) replies; the client gets its own protocol.
            script_call(self.ctx, &argv, &mut self.rules, &mut self.undo, true)
        }
        fn log(&mut self, level: u8, text: &str) {
            self.ctx.host.script_log(level, text);
        }
        fn killed(&mut self) -> bool {
            self.ctx.host.script_killed()
        }
    }
    let saved = (ctx.client.db, ctx.client.resp3, ctx.client.current, ctx.may_block);
    ctx.may_block = false;
    let command: Vec<&[u8]> = running.args.iter().collect();
    ctx.host.script_started(running.name, &command);
    let undo = UndoLog::new(ctx);
    let mut calls = Calls { ctx, rules, undo };
    let name = running.name;
    let outcome = host.invoke(code, name, keys, argv, &mut calls);
    let Calls { ctx, undo, .. } = calls;
    ctx.host.script_finished();
    if outcome.is_err() {
        undo.rollback(ctx);
    }
    (ctx.client.db, ctx.client.resp3, ctx.client.current, ctx.may_block) = saved;
    ctx.out.resp3 = ctx.client.resp3;
    match outcome {
        Ok(reply) => {
            reply.encode(ctx.out);
            Ok(())
        }
        Err(ModuleStop::Reroute) => {
            ctx.wants_all_shards = true;
            Ok(())
        }
        Err(stop) => Err(CmdError::owned(host.stop_message(&stop))),
    }
}

/// Runs one `redis.call` with Redis's checks for scripts; `None` when a key is
/// outside the shards held.
fn script_call(
    ctx: &mut ExecCtx<'_>,
    argv: &Argv,
    rules: &mut ScriptRules,
    undo: &mut UndoLog,
    resp3: bool,
) -> Option<Reply> {
    let args = argv.bind(&[]);
    let err = |m: &str| Some(Reply::Error(m.to_string()));
    let cmd = match super::resolve(&args) {
        Ok(c) => c,
        Err(_) if super::lookup(args.get(0)).is_none() => return err("ERR Unknown Redis command called from script"),
        Err(CmdError::WrongArity(_)) => return err("ERR Wrong number of args calling Redis command from script"),
        Err(e) => return Some(Reply::Error(e.text().into_owned())),
    };
    let top = cmd.parent.unwrap_or(cmd.spec);
    if top.has(NOSCRIPT) || cmd.spec.has(NOSCRIPT) {
        return err("ERR This Redis command is not allowed from script");
    }
    if let Some(denied) = ctx.client.user.as_ref().and_then(|u| u.check(cmd, &args).err()) {
        return err(denied.script_error());
    }
    let writes = top.has(WRITE) || cmd.spec.has(WRITE);
    if writes && rules.read_only {
        return err("ERR Write commands are not allowed from read-only scripts.");
    }
    // Past maxmemory a script may not start growing memory; once it has
    // written it must be allowed to finish, or it would be left half done.
    let grows = top.has(DENYOOM) || cmd.spec.has(DENYOOM);
    if grows && ctx.client.over_maxmemory && !rules.allow_oom && !undo.wrote {
        return err(crate::exec::OOM);
    }
    if let Some(refusal) = script_cluster_refusal(ctx, cmd, &args, rules) {
        return err(refusal);
    }
    let db = ctx.client.db;
    if cmd.spec.has(KEYSPACE) && !ctx.data.covers_all() {
        return None;
    }
    for i in cmd.spec.key_indexes(&args) {
        if ctx.data.locate(args.get(i)).is_err() {
            return None;
        }
    }
    if writes {
        undo.save(ctx, db, cmd, &args);
    }
    let mut out = ReplyBuf::new(resp3);
    std::mem::swap(ctx.out, &mut out);
    ctx.client.resp3 = resp3;
    execute_untimed(ctx, cmd, args);
    std::mem::swap(ctx.out, &mut out);
    match crate::resp::frame::decode_reply(&out.buf) {
        Ok(Some((reply, _))) => Some(reply),
        _ => err("ERR internal error: unreadable reply"),
    }
}

/// What a script's writes replaced, to put back if it is stopped.
struct UndoLog {
    /// The script has run a write command.
    wrote: bool,
    entries: Vec<Undo>,
    saved: HashSet<(usize, Vec<u8>), foldhash::fast::RandomState>,
    /// Where the script's effects begin: a rollback forgets them.
    effects: crate::effects::EffectsMark,
}

enum Undo {
    Key { db: usize, key: Vec<u8>, old: Option<(Value, Option<u64>)> },
    Db { db: usize, keys: Vec<(Vec<u8>, Value, Option<u64>)> },
    Swap(usize, usize),
}

impl UndoLog {
    fn new(ctx: &ExecCtx<'_>) -> Self {
        UndoLog { wrote: false, entries: Vec::new(), saved: HashSet::default(), effects: ctx.effects.mark() }
    }

    /// Saves what the write command `name` with `args` may change.
    fn save(&mut self, ctx: &mut ExecCtx<'_>, db: usize, cmd: super::Resolved, args: &Args<'_>) {
        self.wrote = true;
        let name = cmd.spec.name;
        match name {
            "flushdb" => self.save_db(ctx, db),
            "flushall" => (0..ctx.databases).for_each(|d| self.save_db(ctx, d)),
            "swapdb" => {
                if let (Some(a), Some(b)) =
                    (crate::numeric::parse_i64(args.get(1)), crate::numeric::parse_i64(args.get(2)))
                {
                    self.entries.push(Undo::Swap(a as usize, b as usize));
                }
            }
            _ => {
                // The subcommand's keys for a container (XGROUP CREATE's stream).
                for i in cmd.spec.key_indexes(args) {
                    self.save_key(ctx, db, args.get(i));
                }
                // Keys in another database: MOVE's and COPY ... DB's destination.
                let other_db = match name {
                    "move" => crate::numeric::parse_i64(args.get(2)).map(|d| (d, 1)),
                    "copy" => (3..args.len().saturating_sub(1))
                        .find(|&i| args.get(i).eq_ignore_ascii_case(b"db"))
                        .and_then(|i| crate::numeric::parse_i64(args.get(i + 1)))
                        .map(|d| (d, 2)),
                    _ => None,
                };
                if let Some((d, key_at)) = other_db {
                    if d >= 0 && (d as usize) < ctx.databases {
                        self.save_key(ctx, d as usize, args.get(key_at));
                    }
                }
            }
        }
    }

    fn save_key(&mut self, ctx: &mut ExecCtx<'_>, db: usize, key: &[u8]) {
        if !self.saved.insert((db, key.to_vec())) {
            return;
        }
        if let Ok((ks, slot)) = ctx.data.locate(key) {
            let old = ks.snapshot(db, slot, key);
            self.entries.push(Undo::Key { db, key: key.to_vec(), old });
        }
    }

    fn save_db(&mut self, ctx: &mut ExecCtx<'_>, db: usize) {
        let keys = ctx.data.shards().flat_map(|s| s.db_snapshot(db)).collect();
        self.entries.push(Undo::Db { db, keys });
    }

    /// Puts everything back, newest change first.
    fn rollback(self, ctx: &mut ExecCtx<'_>) {
        ctx.effects.truncate(self.effects);
        let now = ctx.now;
        for e in self.entries.into_iter().rev() {
            match e {
                Undo::Key { db, key, old } => {
                    if let Ok((ks, slot)) = ctx.data.locate(&key) {
                        ks.restore(db, slot, &key, old, now);
                    }
                }
                Undo::Db { db, keys } => {
                    for s in ctx.data.shards() {
                        s.flush_db(db);
                    }
                    for (key, value, expire) in keys {
                        if let Ok((ks, slot)) = ctx.data.locate(&key) {
                            ks.restore(db, slot, &key, Some((value, expire)), now);
                        }
                    }
                }
                Undo::Swap(a, b) => {
                    for s in ctx.data.shards() {
                        s.swap_db(a, b);
                    }
                }
            }
        }
    }
}

fn script_exists(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let cache = ctx.host.script_cache();
    let c = cache.lock().unwrap_or_else(|p| p.into_inner());
    ctx.out.array(args.len() - 2);
    for i in 2..args.len() {
        ctx.out.int(i64::from(c.get(args.get(i)).is_some()));
    }
    Ok(())
}

fn script_flush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::msg("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    if args.len() == 3 && !args.get(2).eq_ignore_ascii_case(b"sync") && !args.get(2).eq_ignore_ascii_case(b"async") {
        return Err(CmdError::msg("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.host.script_cache().lock().unwrap_or_else(|p| p.into_inner()).flush();
    ctx.out.ok();
    Ok(())
}

/// SCRIPT KILL and FUNCTION KILL: stop every running script.
pub(super) fn script_kill(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.host.script_kill() {
        ctx.out.ok();
        Ok(())
    } else {
        Err(CmdError::msg("NOTBUSY No scripts in execution right now."))
    }
}

fn script_load(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let body = args.get(2);
    let parsed = parse_shebang(body).map_err(CmdError::owned)?;
    let sha = crate::scripting::sha1_hex(body);
    let engine_rc = ctx.host.script_engine();
    let mut engine = engine_rc.borrow_mut();
    let cache = ctx.host.script_cache();
    engine.sync_generation(cache.lock().unwrap_or_else(|p| p.into_inner()).generation());
    if engine.compiled(&sha).is_none() {
        engine.compile(&sha, &parsed.code, parsed.flags).map_err(CmdError::owned)?;
    }
    cache.lock().unwrap_or_else(|p| p.into_inner()).insert(body);
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
