//! The server's side of [`Host`]: what core commands need from the process,
//! such as the list of clients, INFO sections and the configuration.

use super::pubsub::{Delivery, OutputLimit};
use super::{now_ms, Shared};
use slotkv_core::commands::pubsub::ChannelKind;
use slotkv_core::exec::Published;
use slotkv_core::exec::{ClientFilter, ClientState, Host};
use slotkv_core::keyspace::KeyspaceStats;
use slotkv_core::scripting::{ScriptCache, ScriptEngine, ScriptLimits, Stop};
use slotkv_core::CmdError;
use std::cell::RefCell;
use std::fmt::Write;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

/// What CLIENT LIST shows of one connection; shared between the connection and
/// the registry.
pub struct ClientInfo {
    /// Client id.
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// Unix ms when it connected.
    pub created_ms: u64,
    /// Unix ms of its last command.
    pub last_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// Protocol version.
    pub resp3: AtomicBool,
    /// Name and last command (updated once per batch of commands).
    pub text: Mutex<ClientText>,
    /// Set when CLIENT KILL or shutdown asks the connection to close.
    pub killed: AtomicBool,
    /// Wakes the connection when `killed` is set.
    pub kill: Notify,
    /// Waiting in a blocking command.
    pub blocked: AtomicBool,
    /// CLIENT UNBLOCK asked it to stop waiting: [`UNBLOCK_TIMEOUT`] or [`UNBLOCK_ERROR`].
    pub unblock: AtomicU8,
    /// Wakes a blocked connection: a key it waits on was written, or CLIENT UNBLOCK.
    pub wake: Notify,
    /// Pub/Sub messages on their way to this connection.
    pub mailbox: mpsc::UnboundedSender<Delivery>,
    /// Bytes queued in `mailbox`.
    pub queued: AtomicUsize,
    /// Unix ms since `queued` is over the soft output limit (0: it is not).
    pub soft_since: AtomicU64,
    /// Channel, pattern and shard channel subscriptions (CLIENT LIST).
    pub subs: [AtomicUsize; 3],
    /// SCRIPT KILL's epoch when this client's running script started.
    pub script_epoch: AtomicU64,
    /// Set when its script moves to a script thread: the run there is the
    /// same call, so a SCRIPT KILL that came during the move still applies.
    pub script_resumed: AtomicBool,
}

/// CLIENT UNBLOCK ... TIMEOUT: answer as if the timeout passed.
pub const UNBLOCK_TIMEOUT: u8 = 1;
/// CLIENT UNBLOCK ... ERROR: answer with an error.
pub const UNBLOCK_ERROR: u8 = 2;

/// The string parts of [`ClientInfo`].
#[derive(Default)]
pub struct ClientText {
    /// CLIENT SETNAME.
    pub name: String,
    /// The last command run.
    pub last_cmd: Option<slotkv_core::Resolved>,
    /// The ACL user it is authenticated as (empty: `default`).
    pub user: String,
}

impl ClientInfo {
    /// A new client entry.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, mailbox: mpsc::UnboundedSender<Delivery>) -> Self {
        let now = now_ms();
        ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now,
            last_ms: AtomicU64::new(now),
            db: AtomicUsize::new(0),
            resp3: AtomicBool::new(false),
            text: Mutex::new(ClientText::default()),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            blocked: AtomicBool::new(false),
            unblock: AtomicU8::new(0),
            wake: Notify::new(),
            mailbox,
            queued: AtomicUsize::new(0),
            soft_since: AtomicU64::new(0),
            subs: Default::default(),
            script_epoch: AtomicU64::new(0),
            script_resumed: AtomicBool::new(false),
        }
    }

    /// True if subscribed to any channel.
    pub fn subscribed(&self) -> bool {
        self.subs.iter().any(|s| s.load(Ordering::Relaxed) > 0)
    }

    /// Asks the connection to close.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    fn line(&self, now: u64) -> String {
        let t = self.text.lock().unwrap_or_else(|p| p.into_inner());
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir=-1 resp={}\n",
            self.id,
            self.addr,
            self.laddr,
            t.name,
            now.saturating_sub(self.created_ms) / 1000,
            now.saturating_sub(self.last_ms.load(Ordering::Relaxed)) / 1000,
            if self.blocked.load(Ordering::Relaxed) {
                "b"
            } else if self.subscribed() {
                "P"
            } else {
                "N"
            },
            self.db.load(Ordering::Relaxed),
            self.subs[0].load(Ordering::Relaxed),
            self.subs[1].load(Ordering::Relaxed),
            self.subs[2].load(Ordering::Relaxed),
            t.last_cmd.map_or("NULL".to_string(), |c| slotkv_core::commands::full_name(c.parent, c.spec)),
            if t.user.is_empty() { "default" } else { &t.user },
            if self.resp3.load(Ordering::Relaxed) { 3 } else { 2 },
        )
    }

    fn matches(&self, f: &ClientFilter, now: u64) -> bool {
        f.ids.as_ref().is_none_or(|ids| ids.contains(&self.id))
            && f.addr.as_ref().is_none_or(|a| *a == self.addr.to_string())
            && f.laddr.as_ref().is_none_or(|a| *a == self.laddr.to_string())
            && f.kind.as_ref().is_none_or(|k| k == if self.subscribed() { "pubsub" } else { "normal" })
            && f.user.as_ref().is_none_or(|u| {
                let t = self.text.lock().unwrap_or_else(|p| p.into_inner());
                *u == if t.user.is_empty() { "default" } else { t.user.as_str() }
            })
            && f.skip != Some(self.id)
            && f.max_age.is_none_or(|a| now.saturating_sub(self.created_ms) / 1000 >= a)
    }
}

thread_local! {
    /// This thread's Lua state: piccolo's state is not `Send`, so each thread
    /// that runs commands keeps its own, compiling scripts from the shared cache.
    static LUA: Rc<RefCell<ScriptEngine>> = Rc::new(RefCell::new(ScriptEngine::new()));
}

/// The [`Host`] a connection lends to the commands it runs.
pub struct ServerHost<'a> {
    /// Server state.
    pub shared: &'a Arc<Shared>,
    /// The calling connection.
    pub me: &'a Arc<ClientInfo>,
    /// Per-connection random state.
    pub rng: &'a mut slotkv_core::rng::Rng,
}

impl Host for ServerHost<'_> {
    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn acl(&self) -> &std::sync::RwLock<slotkv_core::acl::Acl> {
        &self.shared.acl
    }

    fn cluster(&self) -> Option<&std::sync::RwLock<slotkv_core::cluster::ClusterState>> {
        self.shared.cluster.as_ref().map(|c| &c.state)
    }

    fn migrate_exchange(
        &mut self,
        host: &str,
        port: &str,
        timeout_ms: u64,
        request: &[u8],
        replies: usize,
    ) -> Result<Vec<slotkv_core::Reply>, slotkv_core::exec::MigrateIo> {
        migrate_exchange(host, port, std::time::Duration::from_millis(timeout_ms), request, replies)
    }

    fn cluster_changed(&mut self) -> Result<(), CmdError> {
        let Some(node) = &self.shared.cluster else { return Ok(()) };
        node.save().map_err(|e| CmdError::owned(format!("ERR error saving the cluster node config: {e:#}")))
    }

    fn client_list(&self, filter: &ClientFilter) -> String {
        let now = now_ms();
        let clients = self.shared.clients.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<&Arc<ClientInfo>> = clients.values().filter(|c| c.matches(filter, now)).collect();
        v.sort_by_key(|c| c.id);
        v.iter().map(|c| c.line(now)).collect()
    }

    fn client_unblock(&mut self, id: u64, error: bool) -> bool {
        let clients = self.shared.clients.lock().unwrap_or_else(|p| p.into_inner());
        match clients.get(&id) {
            Some(c) if c.blocked.load(Ordering::SeqCst) => {
                c.unblock.store(if error { UNBLOCK_ERROR } else { UNBLOCK_TIMEOUT }, Ordering::SeqCst);
                c.wake.notify_one();
                true
            }
            _ => false,
        }
    }

    fn client_kill(&mut self, filter: &ClientFilter) -> usize {
        let now = now_ms();
        let clients = self.shared.clients.lock().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        for c in clients.values().filter(|c| c.matches(filter, now)) {
            if c.id != self.me.id {
                c.kill();
            }
            n += 1;
        }
        n
    }

    fn client_updated(&mut self, client: &ClientState) {
        self.me.db.store(client.db, Ordering::Relaxed);
        self.me.resp3.store(client.resp3, Ordering::Relaxed);
        let mut t = self.me.text.lock().unwrap_or_else(|p| p.into_inner());
        t.name = client.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
        if let Some(u) = &client.user {
            if t.user != u.name {
                t.user = u.name.clone();
            }
        }
        if client.current.is_some() {
            t.last_cmd = client.current;
        }
        let s = &client.subscriptions;
        for (slot, n) in self.me.subs.iter().zip([s.channels.len(), s.patterns.len(), s.shard.len()]) {
            slot.store(n, Ordering::Relaxed);
        }
    }

    fn pubsub_register(&mut self, kind: ChannelKind, channel: &[u8], subscribe: bool) {
        self.shared.pubsub.register(kind, channel, self.me, subscribe);
    }

    fn publish(&mut self, kind: ChannelKind, channel: &[u8], payload: &[u8]) -> Published {
        let h = &self.shared.hot;
        let limit = OutputLimit {
            hard: h.pubsub_limit[0].load(Ordering::Relaxed),
            soft: h.pubsub_limit[1].load(Ordering::Relaxed),
            soft_secs: h.pubsub_limit[2].load(Ordering::Relaxed),
        };
        self.shared.pubsub.publish(kind, channel, payload, self.me.id, limit)
    }

    fn pubsub_channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.shared.pubsub.channels(kind, pattern)
    }

    fn pubsub_numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        self.shared.pubsub.numsub(kind, channel)
    }

    fn pubsub_numpat(&self) -> usize {
        self.shared.pubsub.numpat()
    }

    fn info_section(&self, name: &str, ks: &KeyspaceStats) -> Option<String> {
        let s = &self.shared;
        let cfg = s.config.read().unwrap_or_else(|p| p.into_inner());
        let now = now_ms();
        let uptime = now.saturating_sub(s.started_ms) / 1000;
        let mut o = String::new();
        match name {
            "server" => {
                let _ = write!(
                    o,
                    "# Server\r\nredis_version:{}\r\nslotkv_version:{}\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nshards:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n",
                    slotkv_core::commands::connection_version(),
                    env!("CARGO_PKG_VERSION"),
                    std::env::consts::OS,
                    std::env::consts::ARCH,
                    std::process::id(),
                    s.port,
                    uptime,
                    uptime / 86400,
                    cfg.get("hz"),
                    s.shards.count(),
                    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                    cfg.file.clone().unwrap_or_default(),
                );
            }
            "clients" => {
                let _ = write!(
                    o,
                    "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:{}\r\n",
                    s.connected.load(Ordering::Relaxed),
                    cfg.get("maxclients"),
                    s.blocked.load(Ordering::Relaxed)
                );
            }
            "memory" => {
                let rss = rss_bytes();
                let used = super::memory::used_memory();
                let _ = write!(
                    o,
                    "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nmaxmemory:{}\r\nmaxmemory_policy:{}\r\n",
                    human(used),
                    human(rss),
                    cfg.get("maxmemory"),
                    cfg.get("maxmemory-policy")
                );
            }
            "persistence" => {
                let aof = s.shards.log();
                let _ = write!(
                    o,
                    "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_last_bgrewrite_status:{}\r\n",
                    s.snapshots.changes_since_save(s.stats.dirty.get()),
                    u8::from(s.snapshots.in_progress()),
                    s.lastsave.load(Ordering::Relaxed),
                    if s.snapshots.last_failed() { "err" } else { "ok" },
                    u8::from(aof.is_some()),
                    u8::from(aof.is_some_and(|a| a.rewriting())),
                    if aof.is_some_and(|a| a.last_rewrite_failed()) { "err" } else { "ok" },
                );
            }
            "stats" => {
                let _ = write!(
                    o,
                    "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n",
                    s.stats.connections.load(Ordering::Relaxed),
                    s.stats.commands.get(),
                    s.stats.net_in.get(),
                    s.stats.net_out.get(),
                    s.stats.rejected.load(Ordering::Relaxed),
                    ks.expired,
                    ks.evicted,
                    ks.hits,
                    ks.misses
                );
            }
            "replication" => o.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"),
            "cpu" => {
                let (user, sys) = cpu_seconds();
                let _ = write!(o, "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n");
            }
            "cluster" => {
                let _ = write!(o, "# Cluster\r\ncluster_enabled:{}\r\n", self.shared.cluster.is_some() as u8);
            }
            "modules" => o.push_str("# Modules\r\n"),
            "errorstats" => o.push_str("# Errorstats\r\n"),
            "scripting" => {
                let (n, bytes) = {
                    let c = s.scripts.lock().unwrap_or_else(|p| p.into_inner());
                    (c.len(), c.body_bytes())
                };
                let lua = LUA.with(|l| l.try_borrow().map(|e| e.memory()).unwrap_or(0));
                let _ = write!(
                    o,
                    "# Scripting\r\nnumber_of_cached_scripts:{n}\r\nused_memory_scripts_eval:{bytes}\r\nused_memory_lua_thread:{lua}\r\nscripts_running:{}\r\nscripts_run:{}\r\nscript_steps_used:{}\r\nscript_budget_stops:{}\r\nscript_memory_stops:{}\r\nscript_kills:{}\r\nlua_step_budget:{}\r\nlua_memory_limit:{}\r\n",
                    s.scripts_running.load(Ordering::Relaxed),
                    s.stats.scripts_run.load(Ordering::Relaxed),
                    s.stats.script_steps.load(Ordering::Relaxed),
                    s.stats.script_budget_stops.load(Ordering::Relaxed),
                    s.stats.script_memory_stops.load(Ordering::Relaxed),
                    s.stats.script_kills.load(Ordering::Relaxed),
                    s.hot.lua_steps.load(Ordering::Relaxed),
                    s.hot.lua_memory.load(Ordering::Relaxed),
                );
            }
            _ => return None,
        }
        Some(o)
    }

    fn script_cache(&self) -> Arc<Mutex<ScriptCache>> {
        self.shared.scripts.clone()
    }

    fn function_registry(&self) -> Arc<Mutex<slotkv_core::scripting::functions::FunctionRegistry>> {
        self.shared.functions.clone()
    }

    fn module_host(&self) -> Option<Arc<dyn slotkv_core::scripting::modules::ModuleHost + Send + Sync>> {
        Some(self.shared.modules.clone())
    }

    fn script_engine(&mut self) -> Rc<RefCell<ScriptEngine>> {
        LUA.with(|l| l.clone())
    }

    fn script_limits(&self) -> ScriptLimits {
        ScriptLimits {
            steps: self.shared.hot.lua_steps.load(Ordering::Relaxed),
            memory: self.shared.hot.lua_memory.load(Ordering::Relaxed),
        }
    }

    fn script_inline_steps(&self) -> Option<u64> {
        (!super::scripts::on_script_thread()).then_some(super::scripts::INLINE_STEPS)
    }

    fn script_started(&mut self, name: &str, command: &[&[u8]]) {
        let command = command.iter().map(|a| a.to_vec()).collect();
        *self.shared.running_script.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((name.to_string(), command, now_ms()));
        self.shared.scripts_running.fetch_add(1, Ordering::SeqCst);
        if !self.me.script_resumed.swap(false, Ordering::SeqCst) {
            self.me.script_epoch.store(self.shared.script_kill_epoch.load(Ordering::SeqCst), Ordering::SeqCst);
        }
    }

    fn script_killed(&self) -> bool {
        self.shared.script_kill_epoch.load(Ordering::Relaxed) != self.me.script_epoch.load(Ordering::Relaxed)
    }

    fn script_running_now(&self) -> Option<slotkv_core::exec::RunningScript> {
        if self.shared.scripts_running.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let running = self.shared.running_script.lock().unwrap_or_else(|p| p.into_inner());
        running.as_ref().map(|(name, command, since)| (name.clone(), command.clone(), now_ms().saturating_sub(*since)))
    }

    fn script_finished(&mut self) {
        self.shared.scripts_running.fetch_sub(1, Ordering::SeqCst);
    }

    fn script_kill(&mut self) -> bool {
        if self.shared.scripts_running.load(Ordering::SeqCst) == 0 {
            return false;
        }
        self.shared.script_kill_epoch.fetch_add(1, Ordering::SeqCst);
        true
    }

    fn script_done(&mut self, steps: u64, stopped: Option<Stop>) {
        let st = &self.shared.stats;
        st.scripts_run.fetch_add(1, Ordering::Relaxed);
        st.script_steps.fetch_add(steps, Ordering::Relaxed);
        match stopped {
            Some(Stop::Budget) => st.script_budget_stops.fetch_add(1, Ordering::Relaxed),
            Some(Stop::Memory) => st.script_memory_stops.fetch_add(1, Ordering::Relaxed),
            Some(Stop::Killed) => st.script_kills.fetch_add(1, Ordering::Relaxed),
            Some(Stop::Internal) => 0,
            None => 0,
        };
    }

    fn script_log(&mut self, level: u8, text: &str) {
        match level {
            0 => tracing::debug!(target: "script", "{text}"),
            1 => tracing::info!(target: "script", "{text}"),
            2 => tracing::info!(target: "script", "{text}"),
            _ => tracing::warn!(target: "script", "{text}"),
        }
    }

    fn config_get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.shared.config.read().unwrap_or_else(|p| p.into_inner()).matching(pattern)
    }

    fn config_set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), CmdError> {
        let mut cfg = self.shared.config.write().unwrap_or_else(|p| p.into_inner());
        cfg.set_runtime(pairs).map_err(CmdError::owned)?;
        self.shared.hot.refresh(&cfg);
        if pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case(b"requirepass")) {
            self.shared.set_requirepass(&cfg);
        }
        self.shared.memory.apply(&cfg, &self.shared.shards);
        if let (Some(aof), Some(p)) =
            (self.shared.shards.log(), crate::persistence::aof::FsyncPolicy::parse(cfg.get("appendfsync")))
        {
            aof.set_policy(p);
        }
        Ok(())
    }

    fn config_resetstat(&mut self) {
        let st = &self.shared.stats;
        st.connections.store(0, Ordering::Relaxed);
        st.rejected.store(0, Ordering::Relaxed);
        for c in [&st.commands, &st.net_in, &st.net_out] {
            c.reset();
        }
    }

    fn lastsave(&self) -> i64 {
        self.shared.lastsave.load(Ordering::Relaxed)
    }

    fn rewrite_aof(&mut self) -> Result<(), CmdError> {
        let Some(aof) = self.shared.shards.log() else {
            return Err(CmdError::msg("ERR The append only file is off here (appendonly no)"));
        };
        let shared = self.shared.clone();
        aof.rewrite(shared).map_err(CmdError::msg)
    }

    fn save(&mut self) -> Result<(), CmdError> {
        crate::persistence::snapshot::save(self.shared).map_err(CmdError::msg)
    }

    fn bgsave(&mut self, schedule: bool) -> Result<&'static str, CmdError> {
        crate::persistence::snapshot::bgsave(self.shared, schedule).map_err(CmdError::msg)
    }

    fn shutdown(&mut self, save: Option<bool>) -> Result<(), CmdError> {
        use crate::server::{EXIT_NOSAVE, EXIT_SAVE, EXIT_SAVE_BY_RULES};
        let mode = match save {
            Some(true) => EXIT_SAVE,
            Some(false) => EXIT_NOSAVE,
            None => EXIT_SAVE_BY_RULES,
        };
        let saves = mode == EXIT_SAVE
            || (mode == EXIT_SAVE_BY_RULES && !crate::persistence::snapshot::rules(self.shared).is_empty());
        // The save itself runs once every connection is closed; a directory
        // that takes no file fails the command now, as Redis's failed save does.
        if saves {
            if let Err(e) = crate::persistence::snapshot::check_writable(self.shared) {
                tracing::warn!("Error trying to save the DB, can't exit: {e:#}");
                return Err(CmdError::msg("ERR Errors trying to SHUTDOWN. Check logs."));
            }
        }
        self.shared.save_on_exit.store(mode, Ordering::Relaxed);
        tracing::warn!("User requested shutdown...");
        self.shared.request_shutdown();
        Ok(())
    }

    fn now_micros(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
    }

    fn slowlog_threshold(&self) -> Option<u64> {
        u64::try_from(self.shared.hot.slowlog_micros.load(Ordering::Relaxed)).ok()
    }

    fn monotonic_micros(&self) -> u64 {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_micros() as u64
    }

    fn slowlog_push(&mut self, client: &ClientState, args: &[&[u8]], micros: u64) {
        let max_len = self.shared.hot.slowlog_len.load(Ordering::Relaxed);
        let time = (now_ms() / 1000) as i64;
        let name = client.name.as_deref().unwrap_or_default();
        let mut log = self.shared.slowlog.lock().unwrap_or_else(|p| p.into_inner());
        log.push(args, micros, time, self.me.addr.to_string(), name, max_len);
    }

    fn slowlog(&self) -> Arc<Mutex<slotkv_core::slowlog::SlowLog>> {
        self.shared.slowlog.clone()
    }
}

fn human(n: u64) -> String {
    let f = n as f64;
    if f >= (1u64 << 30) as f64 {
        format!("{:.2}G", f / (1u64 << 30) as f64)
    } else if f >= (1u64 << 20) as f64 {
        format!("{:.2}M", f / (1u64 << 20) as f64)
    } else if f >= 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else {
        format!("{n}B")
    }
}

/// Resident set size of this process, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn cpu_seconds() -> (f64, f64) {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else { return (0.0, 0.0) };
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}

/// MIGRATE's exchange, blocking (as in Redis) for at most `timeout` per step:
/// connect, send `request`, read `replies` replies.
fn migrate_exchange(
    host: &str,
    port: &str,
    timeout: std::time::Duration,
    request: &[u8],
    replies: usize,
) -> Result<Vec<slotkv_core::Reply>, slotkv_core::exec::MigrateIo> {
    use slotkv_core::exec::MigrateIo;
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let port: u16 = port.parse().map_err(|_| MigrateIo::Connect)?;
    let addr = (host, port).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or(MigrateIo::Connect)?;
    let mut stream = match std::net::TcpStream::connect_timeout(&addr, timeout) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(MigrateIo::Connect),
        // Refused or unreachable: Redis finds out when it writes.
        Err(_) => return Err(MigrateIo::Write),
    };
    let _ = stream.set_nodelay(true);
    stream.set_write_timeout(Some(timeout)).map_err(|_| MigrateIo::Write)?;
    stream.set_read_timeout(Some(timeout)).map_err(|_| MigrateIo::Read)?;
    stream.write_all(request).map_err(|_| MigrateIo::Write)?;
    let mut out = Vec::with_capacity(replies);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while out.len() < replies {
        match slotkv_core::resp::frame::decode_reply(&buf) {
            Ok(Some((reply, used))) => {
                out.push(reply);
                buf.drain(..used);
                continue;
            }
            Ok(None) => {}
            Err(_) => return Err(MigrateIo::Read),
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(MigrateIo::Read),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(out)
}
