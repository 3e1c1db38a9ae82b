//! The RESP server: listeners, connections, the shared state they use, and
//! orderly shutdown.
//!
//! # Layout
//! - [`shards`]: the keyspace split in slot ranges, and running a command on them
//! - [`connection`]: one client: read, parse every buffered request, execute, write once
//! - [`host`]: the services core commands ask of the server (clients, INFO, CONFIG)

pub mod connection;
pub mod host;
pub mod memory;
pub mod pubsub;
pub mod scripts;
pub mod shards;

use crate::config::Config;
use anyhow::{Context, Result};
use host::ClientInfo;
use shards::Shards;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A counter many threads add to: spread over cache lines so that connections
/// on different threads do not contend for one line on every request.
#[derive(Default)]
pub struct Counter {
    slots: [Padded; 16],
}

#[repr(align(64))]
#[derive(Default)]
struct Padded(AtomicU64);

impl Counter {
    /// Adds `n`; `hint` (a client id) picks the line.
    #[inline]
    pub fn add(&self, hint: u64, n: u64) {
        self.slots[(hint % 16) as usize].0.fetch_add(n, Ordering::Relaxed);
    }
    /// The total.
    pub fn get(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
    /// Back to zero.
    pub fn reset(&self) {
        self.slots.iter().for_each(|s| s.0.store(0, Ordering::Relaxed));
    }
}

/// Counters INFO reports.
#[derive(Default)]
pub struct Stats {
    /// Connections accepted since start.
    pub connections: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected: AtomicU64,
    /// Commands executed.
    pub commands: Counter,
    /// Bytes read from clients.
    pub net_in: Counter,
    /// Bytes written to clients.
    pub net_out: Counter,
    /// Changes since the last save.
    pub dirty: Counter,
    /// Scripts and functions run.
    pub scripts_run: AtomicU64,
    /// Steps scripts used.
    pub script_steps: AtomicU64,
    /// Scripts stopped by their step budget.
    pub script_budget_stops: AtomicU64,
    /// Scripts stopped by the memory limit.
    pub script_memory_stops: AtomicU64,
    /// Scripts stopped by SCRIPT KILL / FUNCTION KILL.
    pub script_kills: AtomicU64,
}

/// Configuration values read on every request, kept out of the config lock.
pub struct HotConfig {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: AtomicUsize,
    /// `timeout` in seconds (0: never).
    pub timeout: AtomicU64,
    /// `client-query-buffer-limit`.
    pub query_limit: AtomicUsize,
    /// `client-output-buffer-limit pubsub`: hard, soft, soft seconds.
    pub pubsub_limit: [AtomicU64; 3],
    /// `client-output-buffer-limit normal`: hard, soft, soft seconds.
    pub normal_limit: [AtomicU64; 3],
    /// `lua-step-budget`.
    pub lua_steps: AtomicU64,
    /// `lua-memory-limit`.
    pub lua_memory: AtomicUsize,
    /// `slowlog-log-slower-than` (negative: off).
    pub slowlog_micros: AtomicI64,
    /// `slowlog-max-len`.
    pub slowlog_len: AtomicUsize,
}

impl HotConfig {
    fn from(c: &Config) -> Self {
        let h = HotConfig {
            max_bulk_len: AtomicUsize::new(0),
            timeout: AtomicU64::new(0),
            query_limit: AtomicUsize::new(0),
            pubsub_limit: Default::default(),
            normal_limit: Default::default(),
            lua_steps: AtomicU64::new(0),
            lua_memory: AtomicUsize::new(0),
            slowlog_micros: AtomicI64::new(-1),
            slowlog_len: AtomicUsize::new(0),
        };
        h.refresh(c);
        h
    }

    /// Copies the values from the configuration (after CONFIG SET).
    pub fn refresh(&self, c: &Config) {
        self.max_bulk_len.store(c.get_i64("proto-max-bulk-len") as usize, Ordering::Relaxed);
        self.timeout.store(c.get_i64("timeout") as u64, Ordering::Relaxed);
        self.query_limit.store(c.get_i64("client-query-buffer-limit") as usize, Ordering::Relaxed);
        let (hard, soft, secs) = crate::config::output_limits(c.get("client-output-buffer-limit"), "pubsub");
        for (slot, v) in self.pubsub_limit.iter().zip([hard, soft, secs]) {
            slot.store(v, Ordering::Relaxed);
        }
        let (hard, soft, secs) = crate::config::output_limits(c.get("client-output-buffer-limit"), "normal");
        for (slot, v) in self.normal_limit.iter().zip([hard, soft, secs]) {
            slot.store(v, Ordering::Relaxed);
        }
        self.lua_steps.store(c.get_i64("lua-step-budget") as u64, Ordering::Relaxed);
        self.lua_memory.store(c.get_i64("lua-memory-limit") as usize, Ordering::Relaxed);
        self.slowlog_micros.store(c.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        self.slowlog_len.store(usize::try_from(c.get_i64("slowlog-max-len")).unwrap_or(usize::MAX), Ordering::Relaxed);
    }
}

/// State shared by every connection and background task.
pub struct Shared {
    /// The keyspace.
    pub shards: Shards,
    /// The effective configuration.
    pub config: RwLock<Config>,
    /// Connected clients by id.
    pub clients: Mutex<HashMap<u64, Arc<ClientInfo>>>,
    /// Counters.
    pub stats: Stats,
    /// Next client id.
    pub next_client_id: AtomicU64,
    /// Connected clients.
    pub connected: AtomicUsize,
    /// Clients waiting in a blocking command.
    pub blocked: AtomicUsize,
    /// Pub/Sub subscriptions.
    pub pubsub: pubsub::PubSub,
    /// `maxmemory` and eviction.
    pub memory: memory::MemoryLimit,
    /// Configuration values every request reads.
    pub hot: HotConfig,
    /// Unix ms at start.
    pub started_ms: u64,
    /// Unix seconds of the last save.
    pub lastsave: AtomicI64,
    /// ACL users (`requirepass` is the default user's password).
    pub acl: RwLock<slotkv_core::acl::Acl>,
    /// Cluster mode's view of the cluster; `None` when it is off.
    pub cluster: Option<crate::cluster::ClusterNode>,
    /// Snapshot state (SAVE, BGSAVE, `save` rules).
    pub snapshots: crate::persistence::snapshot::Snapshots,
    /// Whether shutting down saves a snapshot: [`EXIT_SAVE_BY_RULES`],
    /// [`EXIT_NOSAVE`] or [`EXIT_SAVE`].
    pub save_on_exit: std::sync::atomic::AtomicU8,
    /// Port actually bound.
    pub port: u16,
    /// Script bodies by SHA1.
    pub scripts: Arc<Mutex<slotkv_core::scripting::ScriptCache>>,
    /// The latest script to start: name, command, unix ms (FUNCTION STATS).
    pub running_script: Mutex<Option<slotkv_core::exec::RunningScript>>,
    /// Function libraries.
    pub functions: Arc<Mutex<slotkv_core::scripting::functions::FunctionRegistry>>,
    /// Scripts running now.
    pub scripts_running: AtomicUsize,
    /// Threads for scripts that run long.
    pub script_pool: scripts::ScriptPool,
    /// Advanced by SCRIPT KILL: a script started before the change stops.
    pub script_kill_epoch: AtomicU64,
    /// Commands slower than `slowlog-log-slower-than`.
    pub slowlog: Arc<Mutex<slotkv_core::slowlog::SlowLog>>,
    /// Compiles and runs WebAssembly script modules.
    pub modules: Arc<crate::modules::ModuleEngine>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    /// Asks every task to stop.
    /// Gives the default user `requirepass` as its one password (or none).
    pub fn set_requirepass(&self, cfg: &Config) {
        let pass = cfg.get("requirepass");
        let acl = self.acl.read().unwrap_or_else(|p| p.into_inner());
        acl.set_requirepass((!pass.is_empty()).then_some(pass.as_bytes()));
    }

    /// The default user, which new connections start as.
    pub fn default_user(&self) -> Arc<slotkv_core::acl::AclUser> {
        self.acl.read().unwrap_or_else(|p| p.into_inner()).default_user().clone()
    }

    pub fn request_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Wakes the blocked clients in `ids` (each retries its command) and clears `ids`.
    pub fn wake(&self, ids: &mut Vec<u64>) {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids.drain(..) {
            if let Some(c) = clients.get(&id) {
                c.wake.notify_one();
            }
        }
    }

    /// True once shutdown was requested.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// A receiver that sees `true` once shutdown is requested.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Shutdown saves a snapshot if `save` rules are set (signals, SHUTDOWN).
pub const EXIT_SAVE_BY_RULES: u8 = 0;
/// Shutdown saves nothing (SHUTDOWN NOSAVE).
pub const EXIT_NOSAVE: u8 = 1;
/// Shutdown saves a snapshot (SHUTDOWN SAVE).
pub const EXIT_SAVE: u8 = 2;

/// A bound, not yet running server.
pub struct Server {
    listeners: Vec<TcpListener>,
    /// The cluster bus port's listener, in cluster mode.
    bus: Option<TcpListener>,
    http: Vec<TcpListener>,
    shared: Arc<Shared>,
}

/// Listens on `port` at every address of `bind` (a `bind` directive's
/// words); port 0 picks a free port, the same on every address.
pub async fn bind_all(bind: &str, port: u16) -> Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut bound_port = port;
    for addr in bind.split_whitespace() {
        let addr = addr.trim_start_matches('-');
        let sa: SocketAddr =
            format!("{}:{}", if addr.contains(':') { format!("[{addr}]") } else { addr.to_string() }, bound_port)
                .parse()
                .with_context(|| format!("invalid bind address '{addr}'"))?;
        let l = TcpListener::bind(sa).await.with_context(|| format!("cannot listen on {sa}"))?;
        bound_port = l.local_addr()?.port();
        listeners.push(l);
    }
    anyhow::ensure!(!listeners.is_empty(), "no bind address configured");
    Ok(listeners)
}

impl Server {
    /// Binds the configured addresses (`bind`, `port`; port 0 picks a free port).
    pub async fn bind(config: Config) -> Result<Server> {
        let listeners = bind_all(config.get("bind"), config.get_i64("port") as u16).await?;
        let bound_port = listeners[0].local_addr()?.port();
        let http = crate::gateway::bind(&config).await.context("HTTP gateway")?;
        let seed = now_ms() ^ (std::process::id() as u64) << 32;
        let (tx, _) = watch::channel(false);
        let modules = crate::modules::ModuleEngine::new(crate::modules::ModuleLimits {
            fuel: config.get_i64("module-fuel-budget") as u64,
            memory: config.get_i64("module-memory-limit") as usize,
            time_ms: config.get_i64("module-time-limit") as u64,
        })
        .context("WebAssembly module engine")?;
        let cluster = crate::cluster::ClusterNode::open(&config, bound_port)?;
        let shared = Arc::new(Shared {
            cluster,
            shards: Shards::new(config.get_i64("shards") as usize, config.get_i64("databases") as usize, seed),
            hot: HotConfig::from(&config),
            config: RwLock::new(config),
            clients: Mutex::new(HashMap::new()),
            stats: Stats::default(),
            next_client_id: AtomicU64::new(1),
            connected: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            pubsub: pubsub::PubSub::default(),
            memory: memory::MemoryLimit::default(),
            started_ms: now_ms(),
            scripts: Default::default(),
            functions: Default::default(),
            running_script: Mutex::new(None),
            scripts_running: AtomicUsize::new(0),
            script_pool: Default::default(),
            script_kill_epoch: AtomicU64::new(0),
            slowlog: Default::default(),
            modules,
            lastsave: AtomicI64::new((now_ms() / 1000) as i64),
            acl: Default::default(),
            snapshots: Default::default(),
            save_on_exit: Default::default(),
            port: bound_port,
            shutdown: tx,
        });
        {
            let cfg = shared.config.read().unwrap_or_else(|p| p.into_inner());
            shared.memory.apply(&cfg, &shared.shards);
            shared.set_requirepass(&cfg);
        }
        open_data(&shared)?;
        let bus = match &shared.cluster {
            Some(node) => {
                let bind = shared.config.read().unwrap_or_else(|p| p.into_inner()).get("bind").to_string();
                Some(crate::cluster::bus::bind(&bind, node.cport).await?)
            }
            None => None,
        };
        Ok(Server { listeners, bus, http, shared })
    }

    /// The addresses the server listens on.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// The shared state (for tests and the signal handler).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until shutdown is requested, then closes every connection.
    pub async fn run(self) -> Result<()> {
        let shared = self.shared;
        // The HTTP line first: tests read the ports from these lines and
        // stop at the RESP one.
        for addr in self.http.iter().filter_map(|l| l.local_addr().ok()) {
            info!("Ready to accept connections http {addr}");
        }
        for addr in self.listeners.iter().filter_map(|l| l.local_addr().ok()) {
            info!("Ready to accept connections tcp {addr}");
        }
        let http = tokio::spawn(crate::gateway::serve(self.http, shared.clone()));
        let mut tasks = tokio::task::JoinSet::new();
        for l in self.listeners {
            tasks.spawn(accept_loop(l, shared.clone()));
        }
        tasks.spawn(expire_loop(shared.clone()));
        if let Some(bus) = self.bus {
            tasks.spawn(crate::cluster::bus::listen(bus, shared.clone()));
            tasks.spawn(crate::cluster::bus::links(shared.clone()));
        }
        tasks.spawn(crate::persistence::snapshot::rules_loop(shared.clone()));
        let mut sig = shared.shutdown_signal();
        let _ = sig.wait_for(|v| *v).await;
        info!("shutting down");
        // Stop accepting first, then close every connection after its current batch.
        while tasks.join_next().await.is_some() {}
        for c in shared.clients.lock().unwrap_or_else(|p| p.into_inner()).values() {
            c.kill();
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while shared.connected.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // HTTP requests in flight finish (the kills above ended the blocked
        // ones and the event streams).
        let _ = tokio::time::timeout_at(deadline, http).await;
        if let Some(aof) = shared.shards.log() {
            aof.flush();
            info!("Append only file synced");
        }
        let save = match shared.save_on_exit.load(Ordering::Relaxed) {
            EXIT_SAVE => true,
            EXIT_NOSAVE => false,
            _ => !crate::persistence::snapshot::rules(&shared).is_empty(),
        };
        if save {
            crate::persistence::snapshot::save_at_exit(&shared);
        }
        info!("bye");
        Ok(())
    }
}

/// Loads the data at start: the append-only file when it is on (as Redis),
/// the snapshot otherwise.
fn open_data(shared: &Arc<Shared>) -> Result<()> {
    let aof_on = shared.config.read().unwrap_or_else(|p| p.into_inner()).get_bool("appendonly");
    if aof_on {
        return open_aof(shared);
    }
    let path = crate::persistence::snapshot::snapshot_path(shared);
    let started = std::time::Instant::now();
    if let Some(keys) = crate::persistence::snapshot::load(shared, &path)? {
        info!("DB loaded from disk: {:.3} seconds, {keys} keys", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// With `appendonly yes`: loads the append-only file (creating it when
/// missing) and sends every later change to it.
fn open_aof(shared: &Arc<Shared>) -> Result<()> {
    use crate::persistence::aof::{self, Aof, AofPaths, FsyncPolicy};
    let (paths, policy, truncated_ok) = {
        let cfg = shared.config.read().unwrap_or_else(|p| p.into_inner());
        if !cfg.get_bool("appendonly") {
            return Ok(());
        }
        let dir = std::path::Path::new(cfg.get("dir")).join(cfg.get("appenddirname"));
        let paths = AofPaths { dir, name: cfg.get("appendfilename").to_string() };
        let policy = FsyncPolicy::parse(cfg.get("appendfsync")).unwrap_or(FsyncPolicy::EverySec);
        (paths, policy, cfg.get_bool("aof-load-truncated"))
    };
    let started = std::time::Instant::now();
    let (log, files) = Aof::open(paths, policy)?;
    let commands = aof::load(shared, &files, truncated_ok)?;
    info!("DB loaded from append only file: {:.3} seconds, {commands} commands", started.elapsed().as_secs_f64());
    shared.shards.attach_log(log.clone());
    log.spawn_syncer(Arc::downgrade(shared));
    Ok(())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    accept_until_shutdown(listener, shared, |stream, peer, shared| async move {
        let _ = stream.set_nodelay(true);
        connection::serve(stream, peer, shared).await;
    })
    .await;
}

/// Accepts connections on `listener` until shutdown, each served by its own
/// task running `serve`.
pub async fn accept_until_shutdown<F, Fut>(listener: TcpListener, shared: Arc<Shared>, serve: F)
where
    F: Fn(tokio::net::TcpStream, SocketAddr, Arc<Shared>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut sig = shared.shutdown_signal();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = sig.wait_for(|v| *v) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(serve(stream, peer, shared.clone()));
            }
            Err(e) => {
                // Out of file descriptors or a transient error: back off briefly.
                warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Active expiry: `hz` times a second, each shard removes keys whose time has passed.
async fn expire_loop(shared: Arc<Shared>) {
    let mut sig = shared.shutdown_signal();
    loop {
        let hz = shared.config.read().map(|c| c.get_i64("hz")).unwrap_or(10).max(1) as u64;
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(1000 / hz)) => {}
            _ = sig.wait_for(|v| *v) => return,
        }
        shared.shards.active_expire(now_ms(), 200);
    }
}
