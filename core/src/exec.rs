//! Running one command: the per-client state every front end shares
//! ([`ClientState`]), the services the runtime lends to commands ([`Host`]), the
//! context a handler runs in ([`ExecCtx`]), and [`execute`], the ordered checks
//! every command passes before its handler runs.
//!
//! The order of checks follows Redis's `processCommand`: lookup and arity
//! ([`crate::commands::resolve`], done by the caller before it locks shards), then
//! authentication, then the handler.

use crate::commands::pubsub::{ChannelKind, Subscriptions};
use crate::commands::{flags, Resolved};
use crate::effects::{Effects, EffectsMark};
use crate::error::CmdError;
use crate::keyspace::Data;
use crate::resp::request::{Args, Argv};
use crate::resp::ReplyBuf;
use crate::scripting::{ScriptCache, ScriptEngine, ScriptLimits, Stop};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// What the server knows of one connection, whatever protocol it came in by.
#[derive(Clone, Debug)]
pub struct ClientState {
    /// Unique, increasing client id.
    pub id: u64,
    /// Selected logical database.
    pub db: usize,
    /// Speaks RESP3 (after `HELLO 3`).
    pub resp3: bool,
    /// Name set by CLIENT SETNAME or HELLO SETNAME.
    pub name: Option<Vec<u8>>,
    /// Passed AUTH (or no password is required).
    pub authenticated: bool,
    /// The user it acts as (its permissions); `None` for the server's own
    /// clients (loading, the embedded engine), which may do anything.
    pub user: Option<std::sync::Arc<crate::acl::AclUser>>,
    /// Close the connection once the pending replies are written (QUIT, CLIENT KILL).
    pub close_after_reply: bool,
    /// Library name and version (CLIENT SETINFO).
    pub lib: (String, String),
    /// The command running now (CLIENT LIST shows it as `cmd=`).
    pub current: Option<Resolved>,
    /// Commands queued since MULTI (`None` outside a transaction).
    pub multi: Option<Vec<Argv>>,
    /// A command was refused while queueing: EXEC will abort.
    pub multi_error: bool,
    /// Keys WATCHed, with the version each had then.
    pub watching: Vec<WatchedKey>,
    /// The blocking command this client waits in, if any.
    pub blocked: Option<Blocked>,
    /// Pub/Sub subscriptions.
    pub subscriptions: Subscriptions,
    /// Used memory was past `maxmemory` when the current command arrived:
    /// scripts may not start writing then (Redis's `pre_command_oom_state`).
    pub over_maxmemory: bool,
    /// Cluster mode: reads of its primary's slots may run on this replica (READONLY).
    pub cluster_readonly: bool,
    /// Cluster mode: ASKING was sent; the next command takes it.
    pub asking: bool,
    /// Cluster mode: this command came right after ASKING.
    pub asked: bool,
}

/// Where MIGRATE's exchange with its target failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateIo {
    /// No connection within the timeout.
    Connect,
    /// The connection failed, or sending did.
    Write,
    /// Reading a reply failed or took too long.
    Read,
}

/// A key one client WATCHes.
#[derive(Clone, Debug)]
pub struct WatchedKey {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// Its version when WATCHed.
    pub version: u64,
}

/// What a blocked client waits for.
#[derive(Clone, Debug)]
pub struct Blocked {
    /// The database of the keys.
    pub db: usize,
    /// The keys whose writes wake it.
    pub keys: Vec<Vec<u8>>,
    /// When it gives up (unix ms); `None` waits for ever.
    pub deadline: Option<u64>,
    /// Its reply on timeout is a null bulk string (BLMOVE) rather than a null array.
    pub null_bulk: bool,
    /// The command to retry instead of the original (XREAD with `$` retries
    /// with the ids it resolved when it blocked).
    pub retry: Option<Argv>,
}

impl ClientState {
    /// A new client; it must authenticate when `auth_required`.
    pub fn new(id: u64, auth_required: bool) -> Self {
        ClientState {
            id,
            db: 0,
            resp3: false,
            name: None,
            authenticated: !auth_required,
            user: None,
            close_after_reply: false,
            lib: Default::default(),
            current: None,
            multi: None,
            multi_error: false,
            watching: Vec::new(),
            blocked: None,
            subscriptions: Subscriptions::default(),
            over_maxmemory: false,
            cluster_readonly: false,
            asking: false,
            asked: false,
        }
    }
}

/// Filters for CLIENT LIST and CLIENT KILL.
#[derive(Clone, Debug, Default)]
pub struct ClientFilter {
    /// Only these ids.
    pub ids: Option<Vec<u64>>,
    /// Only this peer address (`ip:port`).
    pub addr: Option<String>,
    /// Only this local address.
    pub laddr: Option<String>,
    /// Only clients of this type (`normal`, `pubsub`, ...).
    pub kind: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Leave out the calling client (CLIENT KILL SKIPME yes, the default).
    pub skip: Option<u64>,
    /// Only clients idle at least this many seconds.
    pub max_age: Option<u64>,
}

/// Services a command may need from whatever hosts the core: the server's
/// connections and configuration, or the playground page.
pub trait Host {
    /// Fresh random bits.
    fn random(&mut self) -> u64;
    /// The users (AUTH, ACL).
    fn acl(&self) -> &std::sync::RwLock<crate::acl::Acl>;
    /// This node's view of its cluster; `None` when cluster mode is off.
    fn cluster(&self) -> Option<&std::sync::RwLock<crate::cluster::ClusterState>> {
        None
    }
    /// MIGRATE's exchange with another server: sends `request` (RESP
    /// commands) to `host:port` and reads `replies` replies, each within
    /// `timeout_ms`. Hosts without a network refuse to connect.
    fn migrate_exchange(
        &mut self,
        _host: &str,
        _port: &str,
        _timeout_ms: u64,
        _request: &[u8],
        _replies: usize,
    ) -> Result<Vec<crate::reply::Reply>, MigrateIo> {
        Err(MigrateIo::Connect)
    }
    /// Saves the cluster's view (the `cluster-config-file`) after a change.
    fn cluster_changed(&mut self) -> Result<(), CmdError> {
        Ok(())
    }
    /// CLIENT LIST lines for the clients matching `filter`.
    fn client_list(&self, filter: &ClientFilter) -> String;
    /// Ends the wait of blocked client `id`, as a timeout or with an error;
    /// false if it is not blocked.
    fn client_unblock(&mut self, id: u64, error: bool) -> bool;
    /// Closes the clients matching `filter`; returns how many.
    fn client_kill(&mut self, filter: &ClientFilter) -> usize;
    /// Publishes the calling client's state (name, db, ...) for CLIENT LIST.
    fn client_updated(&mut self, client: &ClientState);
    /// One INFO section (lowercase name), or `None` if the host has no such
    /// section. `keyspace` holds the counters of the shards (for `stats`).
    fn info_section(&self, name: &str, keyspace: &crate::keyspace::KeyspaceStats) -> Option<String>;
    /// Configuration parameters matching the glob `pattern`.
    fn config_get(&self, pattern: &[u8]) -> Vec<(String, String)>;
    /// Sets configuration parameters, all or none.
    fn config_set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), CmdError>;
    /// Resets the statistics INFO reports.
    fn config_resetstat(&mut self);
    /// Unix time of the last successful save.
    fn lastsave(&self) -> i64;
    /// Asks the server to stop.
    fn shutdown(&mut self, save: Option<bool>) -> Result<(), CmdError>;
    /// Starts rewriting the append-only file in the background (BGREWRITEAOF).
    fn rewrite_aof(&mut self) -> Result<(), CmdError> {
        Err(CmdError::msg("ERR The append only file is off here (appendonly no)"))
    }
    /// Writes a snapshot now and waits for it (SAVE).
    fn save(&mut self) -> Result<(), CmdError> {
        Err(CmdError::msg("ERR snapshots need a server with a disk"))
    }
    /// Starts a snapshot in the background (BGSAVE); with `schedule`, one
    /// already running is no error: another follows it. The reply text.
    fn bgsave(&mut self, schedule: bool) -> Result<&'static str, CmdError> {
        let _ = schedule;
        Err(CmdError::msg("ERR snapshots need a server with a disk"))
    }
    /// Unix time in microseconds (TIME).
    fn now_micros(&self) -> u64;
    /// Adds (or removes) the calling client to the subscribers of `channel`.
    fn pubsub_register(&mut self, kind: ChannelKind, channel: &[u8], subscribe: bool);
    /// Delivers `payload` to the subscribers of `channel` (and, for
    /// [`ChannelKind::Channel`], of the patterns matching it).
    fn publish(&mut self, kind: ChannelKind, channel: &[u8], payload: &[u8]) -> Published;
    /// Channels (or shard channels) with subscribers, matching `pattern` if given.
    fn pubsub_channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Vec<u8>>;
    /// Subscribers of one channel (patterns not counted).
    fn pubsub_numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize;
    /// Patterns with subscribers.
    fn pubsub_numpat(&self) -> usize;
    /// The script bodies known by SHA1, shared by every client.
    fn script_cache(&self) -> Arc<Mutex<ScriptCache>>;
    /// The function libraries, shared by every client.
    fn function_registry(&self) -> Arc<Mutex<crate::scripting::functions::FunctionRegistry>>;
    /// The Lua engine scripts of this client run in (one per thread).
    fn script_engine(&mut self) -> Rc<RefCell<ScriptEngine>>;
    /// The step budget and memory limit of a script run.
    fn script_limits(&self) -> ScriptLimits;
    /// What compiles and runs WebAssembly script modules; `None` where there
    /// is none (FUNCTION LOAD of a module then fails).
    fn module_host(&self) -> Option<Arc<dyn crate::scripting::modules::ModuleHost + Send + Sync>> {
        None
    }
    /// Steps a script may take where it runs now before it must move to run
    /// elsewhere ([`ExecCtx::wants_offload`]); `None`: it runs to its end here.
    fn script_inline_steps(&self) -> Option<u64> {
        None
    }
    /// A script of this client starts running (SCRIPT KILL can stop it):
    /// its name (SHA1 or function) and command, for FUNCTION STATS.
    fn script_started(&mut self, name: &str, command: &[&[u8]]);
    /// The script running now, if any: name, command and milliseconds run.
    fn script_running_now(&self) -> Option<RunningScript>;
    /// True once SCRIPT KILL asked the running script to stop.
    fn script_killed(&self) -> bool;
    /// The script of this client stopped running.
    fn script_finished(&mut self);
    /// Asks every running script to stop; false if none runs.
    fn script_kill(&mut self) -> bool;
    /// A script finished: steps it used and, if a limit stopped it, which (INFO).
    fn script_done(&mut self, steps: u64, stopped: Option<Stop>);
    /// A `redis.log` line (level 0 debug to 3 warning).
    fn script_log(&mut self, level: u8, text: &str);
    /// Commands taking at least this many microseconds go to the slow log;
    /// `None`: none do (disabled, or the host has no clock to time them).
    fn slowlog_threshold(&self) -> Option<u64> {
        None
    }
    /// A monotonic clock in microseconds, to time commands.
    fn monotonic_micros(&self) -> u64 {
        0
    }
    /// Records a command of `client` that took `micros` in the slow log.
    fn slowlog_push(&mut self, _client: &ClientState, _args: &[&[u8]], _micros: u64) {}
    /// The slow log (SLOWLOG).
    fn slowlog(&self) -> Arc<Mutex<crate::slowlog::SlowLog>>;
}

/// A running script as FUNCTION STATS shows it: name, command, and its
/// start (unix ms) or how long it has run (ms).
pub type RunningScript = (String, Vec<Vec<u8>>, u64);

/// The outcome of a PUBLISH.
#[derive(Debug, Default)]
pub struct Published {
    /// Deliveries made (one per matching channel or pattern subscription).
    pub receivers: usize,
    /// Deliveries due to the publisher itself: `None` for its channel
    /// subscription, the pattern for each pattern subscription. The command
    /// writes these into its own output.
    pub to_self: Vec<Option<Vec<u8>>>,
}

/// Everything a handler works with.
pub struct ExecCtx<'a> {
    /// The shards this command holds.
    pub data: Data<'a>,
    /// The calling client.
    pub client: &'a mut ClientState,
    /// Runtime services.
    pub host: &'a mut dyn Host,
    /// Where the reply goes.
    pub out: &'a mut ReplyBuf,
    /// Current time, unix milliseconds; fixed for the whole command.
    pub now: u64,
    /// Number of changes the command made (for persistence triggers and INFO).
    pub dirty: u64,
    /// Number of logical databases (`databases`).
    pub databases: usize,
    /// A blocking command may block (false inside MULTI and scripts, where it
    /// answers as if it timed out).
    pub may_block: bool,
    /// The handler asked to block (or to keep blocking, on a retry).
    pub blocking: bool,
    /// The command (a script) needs keys outside the shards it holds: it wrote
    /// nothing, and the caller should run it again holding every shard.
    pub wants_all_shards: bool,
    /// The command (a script) ran past the steps it may take here
    /// ([`Host::script_inline_steps`]): it wrote nothing, and the caller
    /// should run it again where it may take its whole budget.
    pub wants_offload: bool,
    /// What the command changed, as commands to replay (off unless the
    /// caller turns it on).
    pub effects: Effects,
    /// Replaying an append-only file: a time already past does not delete
    /// a key (the file says when it was removed), as Redis while loading.
    pub loading: bool,
}

impl<'a> ExecCtx<'a> {
    /// A context for one command over `data`, at `now` (unix ms); blocking
    /// commands answer as timed out unless [`ExecCtx::may_block`] is set.
    pub fn new(
        data: Data<'a>,
        client: &'a mut ClientState,
        host: &'a mut dyn Host,
        out: &'a mut ReplyBuf,
        now: u64,
        databases: usize,
    ) -> Self {
        ExecCtx {
            data,
            client,
            host,
            out,
            now,
            dirty: 0,
            databases,
            may_block: false,
            blocking: false,
            wants_all_shards: false,
            wants_offload: false,
            effects: Effects::default(),
            loading: false,
        }
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// True if a key given expiry time `at` (unix ms) is to be deleted now.
    #[inline]
    pub fn already_expired(&self, at: i64) -> bool {
        at <= self.now as i64 && !self.loading
    }

    /// Records `argv` as what this command did, in place of the command as
    /// sent (see [`crate::effects`]): for commands whose replay must not
    /// depend on the time or on chance.
    pub fn propagate<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        self.effects.record(self.client.db, argv);
    }

    /// Records `PEXPIREAT key at`, the absolute form of every expiry change.
    pub fn propagate_expire_at(&mut self, key: &[u8], at: u64) {
        if self.effects.is_on() {
            let mut n = itoa::Buffer::new();
            self.propagate(&[b"PEXPIREAT".as_slice(), key, n.format(at).as_bytes()]);
        }
    }

    /// True while a blocked client retries its command: keys of another type
    /// are then passed over rather than answered WRONGTYPE, as Redis serves a
    /// blocked client only from a key of the type it waits for.
    pub fn retrying(&self) -> bool {
        self.client.blocked.is_some()
    }

    /// Nothing to serve: block on `keys` until `deadline` (unix ms) if this
    /// command may block, else answer as a timeout does. A retry keeps the
    /// client's place in line.
    pub fn block_or_null<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k [u8]>,
        deadline: Option<u64>,
        null_bulk: bool,
        retry: Option<Argv>,
    ) -> Result<(), CmdError> {
        if !self.may_block {
            timeout_reply(self.out, null_bulk);
            return Ok(());
        }
        self.blocking = true;
        if self.client.blocked.is_some() {
            return Ok(());
        }
        let (db, id) = (self.db(), self.client.id);
        let mut owned = Vec::new();
        for key in keys {
            if owned.iter().any(|k: &Vec<u8>| k == key) {
                continue;
            }
            let (ks, _) = self.data.locate(key)?;
            ks.add_waiter(db, key, id);
            owned.push(key.to_vec());
        }
        self.client.blocked = Some(Blocked { db, keys: owned, deadline, null_bulk, retry });
        Ok(())
    }
}

/// The reply of a blocking command that timed out (or may not block).
pub fn timeout_reply(out: &mut ReplyBuf, null_bulk: bool) {
    if null_bulk {
        out.null();
    } else {
        out.null_array();
    }
}

/// Takes `client` out of the lines of the keys it is blocked on. `data` must
/// hold those keys' shards.
pub fn unblock(data: &mut Data<'_>, client: &mut ClientState) {
    let Some(b) = client.blocked.take() else { return };
    for key in &b.keys {
        if let Ok((ks, _)) = data.locate(key) {
            ks.remove_waiter(b.db, key, client.id);
        }
    }
}

/// Forgets every key `client` WATCHes. `data` must hold those keys' shards.
pub fn unwatch_all(data: &mut Data<'_>, client: &mut ClientState) {
    for w in client.watching.drain(..) {
        if let Ok((ks, _)) = data.locate(&w.key) {
            ks.unwatch(w.db, &w.key);
        }
    }
}

/// The commands a RESP2 client may send while it has subscriptions.
const SUBSCRIBED_MODE: &[&str] =
    &["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "ping", "quit", "reset"];

/// The first step for every request, before any shard is locked: a lookup
/// error is answered here, and inside MULTI a command is queued (answered
/// `+QUEUED`) rather than run, with Redis's refusals (NOAUTH, commands not
/// allowed in a transaction) marking the transaction to abort. Returns the
/// command when it is to run now.
pub fn admit(
    client: &mut ClientState,
    resolved: Result<Resolved, CmdError>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
    cluster: Option<&crate::cluster::ClusterState>,
) -> Option<Resolved> {
    out.resp3 = client.resp3;
    let cmd = match resolved {
        // A refused EXEC is answered as an aborted transaction.
        Err(e) if args.get(0).eq_ignore_ascii_case(b"exec") => return exec_abort(client, out, e),
        Err(e) => {
            if client.multi.is_some() {
                client.multi_error = true;
            }
            out.error(&e.text());
            return None;
        }
        Ok(cmd) if !client.authenticated && cmd.spec.name == "exec" => {
            return exec_abort(client, out, CmdError::NoAuth)
        }
        Ok(cmd) => cmd,
    };
    if !client.resp3 && client.subscriptions.any() && client.authenticated {
        let top = cmd.parent.unwrap_or(cmd.spec);
        if !SUBSCRIBED_MODE.contains(&top.name) {
            if client.multi.is_some() {
                client.multi_error = true;
            }
            out.error(&format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                crate::commands::full_name(cmd.parent, cmd.spec)
            ));
            return None;
        }
    }
    let top = cmd.parent.unwrap_or(cmd.spec);
    // ASKING lasts one command, as in Redis.
    client.asked = std::mem::take(&mut client.asking);
    if client.multi.is_none() || top.has(flags::RUNS_IN_MULTI) {
        // In cluster mode a command on keys this node does not serve is
        // redirected; EXEC checks its queue itself, as a whole.
        if let Some(e) = cluster.filter(|_| top.name != "exec").and_then(|c| cluster_refusal(client, c, cmd, args)) {
            refuse(client, cmd, e, out);
            return None;
        }
        return Some(cmd);
    }
    let refusal = if !client.authenticated && !top.has(flags::NO_AUTH) {
        Some(CmdError::NoAuth)
    } else if let Some(denied) = client.user.as_ref().and_then(|u| u.check(cmd, args).err()) {
        // Refused when queued, as Redis does: the transaction is then aborted.
        Some(CmdError::owned(denied.reply(cmd)))
    } else if top.has(flags::NO_MULTI) {
        Some(CmdError::msg("ERR Command not allowed inside a transaction"))
    } else {
        cluster.and_then(|c| cluster_refusal(client, c, cmd, args))
    };
    let queue = client.multi.as_mut()?;
    match refusal {
        Some(e) => {
            client.multi_error = true;
            out.error(&e.text());
        }
        None => {
            queue.push(Argv::from_args(args.iter()));
            out.simple(b"QUEUED");
        }
    }
    None
}

/// True if `cmd` may grow memory (`denyoom`): refused past `maxmemory`. EXEC
/// is when a queued command is.
pub fn grows_memory(client: &ClientState, cmd: Resolved) -> bool {
    let top = cmd.parent.unwrap_or(cmd.spec);
    if top.has(flags::DENYOOM) || cmd.spec.has(flags::DENYOOM) {
        return true;
    }
    top.name == "exec"
        && client.multi.as_ref().is_some_and(|q| {
            q.iter().any(|argv| crate::commands::resolve(&argv.bind(&[])).is_ok_and(|c| c.spec.has(flags::DENYOOM)))
        })
}

/// Refuses `cmd` before it runs (out of memory): an EXEC aborts its
/// transaction, a command refused while queueing marks the transaction to abort.
pub fn refuse(client: &mut ClientState, cmd: Resolved, e: CmdError, out: &mut ReplyBuf) {
    out.resp3 = client.resp3;
    if cmd.parent.is_none() && cmd.spec.name == "exec" && client.multi.is_some() {
        exec_abort(client, out, e);
        return;
    }
    if client.multi.is_some() {
        client.multi_error = true;
    }
    out.error(&e.text());
}

/// Why this cluster node does not run `cmd` for `client`, if it does not:
/// the redirection or refusal Redis answers. Authentication and permissions
/// are checked first, as Redis checks them before redirecting.
fn cluster_refusal(
    client: &ClientState,
    cluster: &crate::cluster::ClusterState,
    cmd: Resolved,
    args: &Args<'_>,
) -> Option<CmdError> {
    let top = cmd.parent.unwrap_or(cmd.spec);
    if !top.has(flags::NO_AUTH)
        && (!client.authenticated || client.user.as_ref().is_some_and(|u| u.check(cmd, args).is_err()))
    {
        return None;
    }
    let redirect = cluster.check([(cmd, *args)], client.cluster_readonly, client.asked).err()?;
    Some(cluster.slots().error(&redirect))
}

/// In cluster mode, for a command on a slot being moved to or from this
/// node, what Redis answers instead of running it: `ASK` to the receiving
/// node when the keys are gone from here, `TRYAGAIN` when only some are
/// (here, or on the receiving side after ASKING).
fn open_slot_refusal(ctx: &mut ExecCtx<'_>, cmd: Resolved, args: &Args<'_>) -> Option<CmdError> {
    let top = cmd.parent.unwrap_or(cmd.spec);
    if top.name == "migrate" {
        return None;
    }
    let (to, importing) = {
        let state = ctx.host.cluster()?.read().unwrap_or_else(|p| p.into_inner());
        if !state.has_open_slots() {
            return None;
        }
        let first = cmd.spec.key_indexes(args).next()?;
        let slot = crate::slot::key_slot(args.get(first));
        (state.migrating_to(slot).map(|addr| (slot, addr)), state.is_importing(slot))
    };
    if to.is_none() && !importing {
        return None;
    }
    let (mut existing, mut missing) = (0, 0);
    for i in cmd.spec.key_indexes(args) {
        match ctx.exists(args.get(i)) {
            Ok(true) => existing += 1,
            _ => missing += 1,
        }
    }
    let tryagain = || CmdError::msg("TRYAGAIN Multiple keys request during rehashing of slot");
    match to {
        Some(_) if missing > 0 && existing > 0 => Some(tryagain()),
        Some((slot, addr)) if missing > 0 => Some(CmdError::owned(format!("ASK {slot} {addr}"))),
        _ if importing && (ctx.client.asked || top.has(flags::ASKING)) && existing + missing > 1 && missing > 0 => {
            Some(tryagain())
        }
        _ => None,
    }
}

/// The error for a command refused past `maxmemory`.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// A refused EXEC ends the transaction and says why, as Redis does.
fn exec_abort(client: &mut ClientState, out: &mut ReplyBuf, e: CmdError) -> Option<Resolved> {
    client.multi = None;
    client.multi_error = false;
    let text = e.text();
    let why = text.strip_prefix("ERR ").unwrap_or(&text);
    out.error(&format!("EXECABORT Transaction discarded because of: {why}"));
    None
}

/// Runs a resolved command: authentication, then its handler. Errors are written
/// to `ctx.out` as error replies.
pub fn execute(ctx: &mut ExecCtx<'_>, cmd: Resolved, args: Args<'_>) {
    if let Some(e) = open_slot_refusal(ctx, cmd, &args) {
        ctx.out.error(&e.text());
        return;
    }
    let Some(threshold) = ctx.host.slowlog_threshold() else {
        return execute_untimed(ctx, cmd, args);
    };
    let start = ctx.host.monotonic_micros();
    execute_untimed(ctx, cmd, args);
    let micros = ctx.host.monotonic_micros().saturating_sub(start);
    // An attempt that is run again elsewhere (or a client that went on to
    // wait) is logged when it really runs, as Redis logs a blocked command
    // when it is served.
    let rerun = ctx.wants_offload || ctx.wants_all_shards || ctx.blocking;
    let skip = cmd.parent.unwrap_or(cmd.spec).has(flags::SKIP_SLOWLOG);
    if micros >= threshold && !rerun && !skip {
        let argv: Vec<&[u8]> = args.iter().collect();
        let argv = redact(cmd, argv);
        ctx.host.slowlog_push(ctx.client, &argv, micros);
    }
}

/// The arguments the slow log may show: secrets replaced, as Redis does.
fn redact(cmd: Resolved, mut argv: Vec<&[u8]>) -> Vec<&[u8]> {
    const REDACTED: &[u8] = b"(redacted)";
    match cmd.spec.name {
        "auth" => argv.iter_mut().skip(1).for_each(|a| *a = REDACTED),
        "hello" => {
            if let Some(at) = argv.iter().position(|a| a.eq_ignore_ascii_case(b"auth")) {
                argv.iter_mut().skip(at + 1).take(2).for_each(|a| *a = REDACTED);
            }
        }
        _ => {}
    }
    argv
}

/// Records what the command just run changed: the keys it found expired, and
/// the command itself if it changed something and neither recorded its own
/// form (a rewrite such as `SET .. PXAT`) nor ran commands that recorded
/// themselves (EXEC, scripts).
fn record_effects(ctx: &mut ExecCtx<'_>, args: Args<'_>, mark: EffectsMark, dirty: u64, db: usize) {
    for shard in ctx.data.shards() {
        shard.take_deletions(&mut ctx.effects);
    }
    if ctx.dirty > dirty && !ctx.effects.grew_since(mark) {
        let argv: SmallArgv<'_> = args.iter().collect();
        ctx.effects.record(db, &argv);
    }
}

type SmallArgv<'a> = smallvec::SmallVec<[&'a [u8]; 8]>;

/// [`execute`] without slow-log timing: for commands a script calls, which
/// Redis does not log apart from the script.
pub fn execute_untimed(ctx: &mut ExecCtx<'_>, cmd: Resolved, args: Args<'_>) {
    let spec = cmd.spec;
    let top = cmd.parent.unwrap_or(spec);
    if !top.has(flags::NO_AUTH) {
        if !ctx.client.authenticated {
            ctx.out.error(&CmdError::NoAuth.text());
            return;
        }
        if let Some(denied) = ctx.client.user.as_ref().and_then(|u| u.check(cmd, &args).err()) {
            ctx.out.error(&denied.reply(cmd));
            return;
        }
    }
    ctx.out.resp3 = ctx.client.resp3;
    ctx.client.current = Some(cmd);
    ctx.blocking = false;
    let recording = ctx.effects.is_on().then(|| (ctx.effects.mark(), ctx.dirty, ctx.client.db));
    if let Err(e) = (spec.handler)(ctx, args) {
        ctx.out.error(&e.text());
    }
    if let Some((mark, dirty, db)) = recording {
        record_effects(ctx, args, mark, dirty, db);
    }
    if ctx.client.blocked.is_some() && !ctx.blocking {
        // A retry that was answered: the client leaves every line it stood in.
        unblock(&mut ctx.data, ctx.client);
    }
    ctx.out.resp3 = ctx.client.resp3;
}
