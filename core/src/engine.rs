//! [`Engine`]: the whole server logic in one value, with one client and one
//! shard holding every slot. The playground runs it in the browser; tests run
//! commands through it without a network.

use crate::commands::pubsub::ChannelKind;
use crate::commands::resolve;
use crate::exec::{execute, ClientFilter, ClientState, ExecCtx, Host, Published};
use crate::keyspace::{Data, Keyspace, KeyspaceStats};
use crate::reply::Reply;
use crate::resp::request::Argv;
use crate::resp::ReplyBuf;
use crate::rng::Rng;
use crate::scripting::{ScriptCache, ScriptEngine, ScriptLimits, Stop};
use crate::CmdError;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// Host services for an engine without a server: no other clients, no
/// configuration beyond the defaults, time given by the caller.
struct LocalHost {
    rng: Rng,
    now_ms: u64,
    started_ms: u64,
    commands: u64,
    /// The one client's subscriptions: it can publish to itself.
    subscriptions: Vec<(ChannelKind, Vec<u8>)>,
    scripts: Arc<Mutex<ScriptCache>>,
    functions: Arc<Mutex<crate::scripting::functions::FunctionRegistry>>,
    /// Created on the first script.
    lua: Option<Rc<RefCell<ScriptEngine>>>,
    /// Step budget and memory limit of scripts.
    limits: ScriptLimits,
    /// Lines scripts wrote with `redis.log`.
    log: Vec<(u8, String)>,
    /// Stays empty: the engine has no clock to time commands with.
    slowlog: Arc<Mutex<crate::slowlog::SlowLog>>,
    /// The users the one client may AUTH as.
    acl: std::sync::RwLock<crate::acl::Acl>,
}

/// Default step budget of a script: about a second of work.
pub const DEFAULT_SCRIPT_STEPS: u64 = 100_000_000;
/// Default memory limit of the Lua state.
pub const DEFAULT_SCRIPT_MEMORY: usize = 64 << 20;

impl Host for LocalHost {
    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }
    fn acl(&self) -> &std::sync::RwLock<crate::acl::Acl> {
        &self.acl
    }
    fn client_list(&self, _filter: &ClientFilter) -> String {
        String::from("id=1 addr=local:0 laddr=local:0 fd=0 name= age=0 idle=0 flags=N db=0 cmd=client|list\n")
    }
    fn client_kill(&mut self, _filter: &ClientFilter) -> usize {
        0
    }
    fn client_unblock(&mut self, _id: u64, _error: bool) -> bool {
        // Nothing blocks here: blocking commands answer at once.
        false
    }
    fn client_updated(&mut self, _client: &ClientState) {}
    fn info_section(&self, name: &str, ks: &KeyspaceStats) -> Option<String> {
        match name {
            "server" => Some(format!(
                "# Server\r\nredis_version:{}\r\nslotkv_version:{}\r\nredis_mode:standalone\r\nuptime_in_seconds:{}\r\n",
                crate::commands::connection_version(),
                env!("CARGO_PKG_VERSION"),
                self.now_ms.saturating_sub(self.started_ms) / 1000
            )),
            "stats" => Some(format!(
                "# Stats\r\ntotal_commands_processed:{}\r\nexpired_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n",
                self.commands, ks.expired, ks.hits, ks.misses
            )),
            _ => None,
        }
    }
    fn config_get(&self, _pattern: &[u8]) -> Vec<(String, String)> {
        Vec::new()
    }
    fn config_set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), CmdError> {
        let name = pairs.first().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        Err(CmdError::owned(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")))
    }
    fn config_resetstat(&mut self) {
        self.commands = 0;
    }
    fn lastsave(&self) -> i64 {
        (self.started_ms / 1000) as i64
    }
    fn shutdown(&mut self, _save: Option<bool>) -> Result<(), CmdError> {
        Err(CmdError::msg("ERR SHUTDOWN is not available in this engine"))
    }
    fn now_micros(&self) -> u64 {
        self.now_ms * 1000
    }
    fn pubsub_register(&mut self, kind: ChannelKind, channel: &[u8], subscribe: bool) {
        self.subscriptions.retain(|(k, c)| !(*k == kind && c == channel));
        if subscribe {
            self.subscriptions.push((kind, channel.to_vec()));
        }
    }
    fn publish(&mut self, kind: ChannelKind, channel: &[u8], _payload: &[u8]) -> Published {
        let to_self: Vec<Option<Vec<u8>>> = self
            .subscriptions
            .iter()
            .filter_map(|(k, c)| match (kind, k) {
                (ChannelKind::Channel, ChannelKind::Channel) | (ChannelKind::Shard, ChannelKind::Shard) => {
                    (c == channel).then_some(None)
                }
                (ChannelKind::Channel, ChannelKind::Pattern) => {
                    crate::glob::glob_match(c, channel, false).then(|| Some(c.clone()))
                }
                _ => None,
            })
            .collect();
        Published { receivers: to_self.len(), to_self }
    }
    fn pubsub_channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.subscriptions
            .iter()
            .filter(|(k, c)| *k == kind && pattern.is_none_or(|p| crate::glob::glob_match(p, c, false)))
            .map(|(_, c)| c.clone())
            .collect()
    }
    fn pubsub_numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        self.subscriptions.iter().filter(|(k, c)| *k == kind && c == channel).count()
    }
    fn pubsub_numpat(&self) -> usize {
        self.subscriptions.iter().filter(|(k, _)| *k == ChannelKind::Pattern).count()
    }
    fn script_cache(&self) -> Arc<Mutex<ScriptCache>> {
        self.scripts.clone()
    }
    fn slowlog(&self) -> Arc<Mutex<crate::slowlog::SlowLog>> {
        self.slowlog.clone()
    }
    fn function_registry(&self) -> Arc<Mutex<crate::scripting::functions::FunctionRegistry>> {
        self.functions.clone()
    }
    fn script_engine(&mut self) -> Rc<RefCell<ScriptEngine>> {
        self.lua.get_or_insert_with(|| Rc::new(RefCell::new(ScriptEngine::new()))).clone()
    }
    fn script_limits(&self) -> ScriptLimits {
        self.limits
    }
    fn script_started(&mut self, _name: &str, _command: &[&[u8]]) {}
    fn script_running_now(&self) -> Option<crate::exec::RunningScript> {
        // One client: while its script runs nobody else can ask.
        None
    }
    fn script_killed(&self) -> bool {
        // One client: nobody can send SCRIPT KILL while its script runs.
        false
    }
    fn script_finished(&mut self) {}
    fn script_kill(&mut self) -> bool {
        false
    }
    fn script_done(&mut self, _steps: u64, _stopped: Option<Stop>) {}
    fn script_log(&mut self, level: u8, text: &str) {
        if self.log.len() < 1000 {
            self.log.push((level, text.to_string()));
        }
    }
}

impl LocalHost {
    fn new(seed: u64, now_ms: u64) -> Self {
        LocalHost {
            rng: Rng::new(seed),
            now_ms,
            started_ms: now_ms,
            commands: 0,
            subscriptions: Vec::new(),
            scripts: Default::default(),
            slowlog: Default::default(),
            functions: Default::default(),
            lua: None,
            limits: ScriptLimits { steps: DEFAULT_SCRIPT_STEPS, memory: DEFAULT_SCRIPT_MEMORY },
            log: Vec::new(),
            acl: Default::default(),
        }
    }
}

/// A single-client engine over one shard holding every slot.
pub struct Engine {
    keyspace: Keyspace,
    client: ClientState,
    host: LocalHost,
    /// The effects of every command since [`Engine::record_effects`], as
    /// append-only file text, and the database it last selected.
    effects: Option<(Vec<u8>, Option<usize>)>,
    loading: bool,
}

impl Engine {
    /// An empty engine with 16 databases; `seed` seeds hashing and randomness,
    /// `now_ms` is the current unix time in milliseconds.
    pub fn new(seed: u64, now_ms: u64) -> Self {
        Engine {
            keyspace: Keyspace::whole(16, seed),
            client: ClientState::new(1, false),
            host: LocalHost::new(seed, now_ms),
            effects: None,
            loading: false,
        }
    }

    /// Starts keeping the effects of every command (see [`crate::effects`]).
    pub fn record_effects(&mut self) {
        self.keyspace.record_deletions(true);
        self.effects = Some((Vec::new(), None));
    }

    /// The effects recorded since the last call, as append-only file text.
    pub fn take_effects(&mut self) -> Vec<u8> {
        self.effects.as_mut().map(|(log, _)| std::mem::take(log)).unwrap_or_default()
    }

    /// The dataset as commands that recreate it at `now` (an append-only
    /// file's base).
    pub fn rewrite(&self, now_ms: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for db in 0..self.keyspace.databases() {
            crate::effects::rewrite_db(&mut out, db, self.keyspace.db_slots(db), now_ms);
        }
        out
    }

    /// While `on`, keys do not expire when looked up, as while replaying an
    /// append-only file.
    pub fn set_loading(&mut self, on: bool) {
        self.keyspace.set_loading(on);
        self.loading = on;
    }

    /// Runs one command at time `now_ms` and returns its encoded reply.
    pub fn execute_raw<A: AsRef<[u8]>>(&mut self, args: &[A], now_ms: u64) -> Vec<u8> {
        let argv = Argv::from_args(args.iter().map(|a| a.as_ref()));
        let args = argv.bind(&[]);
        let mut out = ReplyBuf::new(self.client.resp3);
        if args.is_empty() {
            return out.buf;
        }
        self.host.now_ms = now_ms;
        self.host.commands += 1;
        match crate::exec::admit(&mut self.client, resolve(&args), &args, &mut out, None) {
            None => {}
            Some(cmd) => {
                let databases = self.keyspace.databases();
                let mut parts = [&mut self.keyspace];
                let mut ctx =
                    ExecCtx::new(Data::new(&mut parts), &mut self.client, &mut self.host, &mut out, now_ms, databases);
                ctx.effects = crate::effects::Effects::recording(self.effects.is_some());
                ctx.loading = self.loading;
                execute(&mut ctx, cmd, args);
                if let Some((log, db)) = self.effects.as_mut() {
                    ctx.effects.drain_into(log, db);
                }
            }
        }
        out.buf
    }

    /// Runs one command and returns its reply as a [`Reply`] tree.
    pub fn execute<A: AsRef<[u8]>>(&mut self, args: &[A], now_ms: u64) -> Reply {
        let bytes = self.execute_raw(args, now_ms);
        match crate::resp::decode_reply(&bytes) {
            Ok(Some((r, _))) => r,
            _ => Reply::Error("ERR internal error: undecodable reply".into()),
        }
    }

    /// Sets the step budget and memory limit of scripts.
    pub fn set_script_limits(&mut self, limits: ScriptLimits) {
        self.host.limits = limits;
    }

    /// Takes the lines scripts wrote with `redis.log`.
    pub fn take_script_log(&mut self) -> Vec<(u8, String)> {
        std::mem::take(&mut self.host.log)
    }

    /// The number of keys in each of the 16384 slots of the client's selected
    /// database (keys past their expiry but not yet removed included).
    pub fn slot_sizes(&self) -> Vec<u32> {
        self.keyspace.db_slots(self.client.db).iter().map(|d| d.len() as u32).collect()
    }

    /// Up to `max` key names of `slot` in the client's selected database.
    pub fn keys_in_slot(&self, slot: usize, max: usize) -> Vec<Vec<u8>> {
        self.keyspace
            .slot_dict(self.client.db, slot)
            .map(|d| d.iter().take(max).map(|(k, _)| k.to_vec()).collect())
            .unwrap_or_default()
    }

    /// One step of active expiry (the server runs this on a timer).
    pub fn active_expire(&mut self, now_ms: u64) -> usize {
        self.keyspace.active_expire(now_ms, 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn run(e: &mut Engine, cmd: &str) -> Reply {
        let args: Vec<&str> = cmd.split(' ').collect();
        e.execute(&args, 1_000_000)
    }

    #[test]
    fn set_get_and_errors() {
        let mut e = Engine::new(1, 1_000_000);
        assert_eq!(run(&mut e, "SET k v"), Reply::Simple("OK".into()));
        assert_eq!(run(&mut e, "GET k"), Reply::Bulk(b"v".to_vec()));
        assert_eq!(run(&mut e, "GET"), Reply::Error("ERR wrong number of arguments for 'get' command".into()));
        assert_eq!(
            run(&mut e, "FOO a b"),
            Reply::Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ".into())
        );
        assert_eq!(
            run(&mut e, "HSET k f v"),
            Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
        );
        assert_eq!(run(&mut e, "CONFIG NOPE"), Reply::Error("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.".into()));
    }

    #[test]
    fn lazy_and_active_expiry() {
        let mut e = Engine::new(1, 0);
        e.execute(&["SET", "a", "1", "PX", "100"], 1000);
        e.execute(&["SET", "b", "1", "PX", "100"], 1000);
        assert_eq!(e.execute(&["PTTL", "a"], 1050), Reply::Int(50));
        assert_eq!(e.execute(&["GET", "a"], 1100), Reply::Null);
        assert_eq!(e.execute(&["DBSIZE"], 1100), Reply::Int(1));
        assert_eq!(e.active_expire(1100), 1);
        assert_eq!(e.execute(&["DBSIZE"], 1100), Reply::Int(0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]
        /// Random argument vectors for every command never panic, and every reply
        /// is made of well-formed RESP frames.
        #[test]
        fn dispatcher_survives_random_arguments(
            cmds in proptest::collection::vec(
                (0usize..200, proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::sample::select(vec![
                            "k", "h", "{t}a", "{t}b", "0", "1", "-1", "10", "1.5", "-inf", "nan", "", "x y",
                            "NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "PERSIST",
                            "MATCH", "COUNT", "TYPE", "WITHVALUES", "REPLACE", "DB", "ABSTTL", "BIT", "BYTE",
                            "9223372036854775807", "-9223372036854775808", "4294967296", "*", "[a-", "\\",
                            "ID", "SKIPME", "yes", "string", "hash", "3", "2", "AUTH", "SETNAME", "LEFT", "RIGHT",
                            "BEFORE", "AFTER", "RANK", "MAXLEN", "LIMIT", "list", "set", "-2",
                        ]).prop_map(|s| s.as_bytes().to_vec()),
                        proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12),
                    ],
                    0..7,
                )),
                1..30,
            ),
            resp3 in proptest::prelude::any::<bool>(),
        ) {
            let names: Vec<String> = crate::commands::all()
                .flat_map(|c| {
                    let mut v = vec![vec![c.name.to_string()]];
                    v.extend(c.subcommands.iter().map(|s| vec![c.name.to_string(), s.name.to_string()]));
                    v
                })
                .map(|v| v.join(" "))
                .filter(|n| n != "shutdown")
                .collect();
            let mut e = Engine::new(7, 1_000_000);
            if resp3 {
                e.execute(&["HELLO", "3"], 1_000_000);
            }
            for (i, (which, rest)) in cmds.into_iter().enumerate() {
                let mut argv: Vec<Vec<u8>> = names[which % names.len()].split(' ').map(|s| s.as_bytes().to_vec()).collect();
                argv.extend(rest);
                let bytes = e.execute_raw(&argv, 1_000_000 + i as u64 * 7);
                // Whole frames only; (UN)SUBSCRIBE answers one per channel.
                let mut at = 0;
                while at < bytes.len() {
                    let (_, used) = crate::resp::decode_reply(&bytes[at..]).unwrap().unwrap();
                    at += used;
                }
                proptest::prop_assert!(!bytes.is_empty());
                e.active_expire(1_000_000 + i as u64 * 7);
            }
        }
    }

    /// Every handler touches only the keys its command declares: run random
    /// commands over four shards, holding only the shards of the declared keys
    /// (as the server does), and no reply may be the "outside the locked
    /// shards" error.
    #[test]
    fn handlers_touch_only_declared_keys() {
        use crate::commands::{flags, resolve};
        use crate::keyspace::Keyspace;
        let mut shards: Vec<Keyspace> = (0..4).map(|i| Keyspace::new(i * 4096, 4096, 16, 3)).collect();
        let mut client = ClientState::new(1, false);
        let mut host = LocalHost::new(5, 0);
        let keys = ["a", "b", "{t}1", "{t}2", "foo", "bar", "list", "zs"];
        let words =
            ["1", "2", "-1", "0", "x", "LEFT", "RIGHT", "MIN", "MAX", "COUNT", "WITHSCORES", "LIMIT", "BYSCORE"];
        let names: Vec<Vec<&str>> = crate::commands::all()
            .flat_map(|c| {
                let mut v = vec![vec![c.name]];
                v.extend(c.subcommands.iter().map(|s| vec![c.name, s.name]));
                v
            })
            .filter(|n| n[0] != "shutdown" && n[0] != "multi")
            .collect();
        let mut rng = Rng::new(11);
        let (mut ran, mut multi_shard) = (0, 0);
        for step in 0..20_000u64 {
            let mut argv: Vec<String> = names[rng.below(names.len())].iter().map(|s| s.to_string()).collect();
            if rng.below(3) == 0 {
                // A plausible numkeys call: count, then that many keys.
                let n = 1 + rng.below(3);
                argv.push(n.to_string());
                argv.extend((0..n).map(|_| keys[rng.below(keys.len())].to_string()));
            }
            for _ in 0..rng.below(6) {
                argv.push(
                    if rng.below(2) == 0 { keys[rng.below(keys.len())] } else { words[rng.below(words.len())] }
                        .to_string(),
                );
            }
            let owned = Argv::from_args(argv.iter());
            let args = owned.bind(&[]);
            let mut out = ReplyBuf::new(false);
            let Ok(cmd) = resolve(&args) else { continue };
            let mut held: Vec<usize> = if cmd.spec.has(flags::KEYSPACE) {
                (0..4).collect()
            } else {
                cmd.spec.key_indexes(&args).map(|i| crate::slot::key_slot(args.get(i)) as usize / 4096).collect()
            };
            held.sort_unstable();
            held.dedup();
            ran += 1;
            multi_shard += (held.len() > 1) as usize;
            let mut parts: Vec<&mut Keyspace> =
                shards.iter_mut().enumerate().filter(|(i, _)| held.contains(i)).map(|(_, s)| s).collect();
            let mut ctx = ExecCtx::new(Data::new(&mut parts), &mut client, &mut host, &mut out, 1_000 + step, 16);
            execute(&mut ctx, cmd, args);
            let reply = String::from_utf8_lossy(&out.buf).into_owned();
            assert!(!reply.contains("outside the locked shards"), "{argv:?} -> {reply}");
            client.multi = None;
        }
        // The run must exercise the routing, not only argument errors.
        assert!(ran > 5_000 && multi_shard > 500, "ran {ran}, across shards {multi_shard}");
    }

    #[test]
    fn incrbyfloat_and_hashes() {
        let mut e = Engine::new(1, 0);
        assert_eq!(run(&mut e, "INCRBYFLOAT f 0.1"), Reply::Bulk(b"0.1".to_vec()));
        assert_eq!(run(&mut e, "INCRBYFLOAT f 0.2"), Reply::Bulk(b"0.3".to_vec()));
        assert_eq!(run(&mut e, "HSET h a 1 b 2"), Reply::Int(2));
        assert_eq!(run(&mut e, "HINCRBY h a 5"), Reply::Int(6));
        assert_eq!(
            run(&mut e, "HGETALL h"),
            Reply::Array(vec![
                Reply::Bulk(b"a".to_vec()),
                Reply::Bulk(b"6".to_vec()),
                Reply::Bulk(b"b".to_vec()),
                Reply::Bulk(b"2".to_vec())
            ])
        );
    }

    /// Runs `log` (append-only file text) on `e`, as loading does; every
    /// command must succeed.
    fn replay(e: &mut Engine, log: &[u8], now: u64) {
        e.set_loading(true);
        let mut parser = crate::resp::RequestParser::new(Default::default());
        let mut argv = Argv::new();
        let mut at = 0;
        while let Some(used) = parser.parse(&log[at..], &mut argv).expect("well-formed log") {
            let args: Vec<Vec<u8>> = argv.bind(&log[at..]).iter().map(|a| a.to_vec()).collect();
            let reply = e.execute(&args, now);
            let text = format!("{reply:?}");
            assert!(!text.contains("Error("), "{:?} -> {text}", String::from_utf8_lossy(&args.concat()));
            at += used;
        }
        assert_eq!(at, log.len(), "a partial command at the end of the log");
        e.set_loading(false);
    }

    /// The digest and every key's expiry time, without expiring anything.
    fn state(e: &mut Engine, now: u64) -> (Reply, Vec<Reply>) {
        e.set_loading(true);
        let digest = e.execute(&["DEBUG", "DIGEST"], now);
        let mut ttls = Vec::new();
        for db in ["0", "1"] {
            e.execute(&["SELECT", db], now);
            if let Reply::Array(keys) = e.execute(&["KEYS", "*"], now) {
                let mut keys: Vec<Vec<u8>> =
                    keys.into_iter().map(|k| if let Reply::Bulk(b) = k { b } else { Vec::new() }).collect();
                keys.sort();
                for k in keys {
                    ttls.push(Reply::Bulk(k.clone()));
                    ttls.push(e.execute(&[b"PEXPIRETIME".as_slice(), &k], now));
                }
            }
        }
        e.execute(&["SELECT", "0"], now);
        e.set_loading(false);
        (digest, ttls)
    }

    const WRITES: &[&str] = &[
        "SET k$ v$",
        "SET k$ v$ PX $00",
        "SET k$ v$ EX 1 GET",
        "SETEX k$ 1 v",
        "PSETEX k$ $0 v",
        "SET k$ w KEEPTTL",
        "INCRBYFLOAT f$ 1.1",
        "INCR n$",
        "APPEND k$ x",
        "GETEX k$ PX $00",
        "GETEX k$ PERSIST",
        "GETDEL k$",
        "EXPIRE k$ 1",
        "PEXPIRE k$ $0",
        "PEXPIRE k$ 0",
        "PEXPIREAT k$ 1",
        "EXPIRE k$ 5 GT",
        "PERSIST k$",
        "DEL k$",
        "LPUSH l$ a b c",
        "RPOP l$",
        "LMOVE l$ l$ LEFT RIGHT",
        "BLPOP l$ l$ 0",
        "SADD s$ a b c d e",
        "SPOP s$",
        "SPOP s$ 2",
        "SMOVE s$ s$ a",
        "HSET h$ f$ v",
        "HINCRBYFLOAT h$ f 0.1",
        "HDEL h$ f$",
        "ZADD z$ $ m$",
        "ZINCRBY z$ 1.5 m$",
        "ZPOPMIN z$",
        "XADD x$ * f v",
        "XADD x$ MAXLEN 3 * f v",
        "XTRIM x$ MAXLEN 2",
        "RENAME k$ k$",
        "COPY k$ k$ REPLACE",
        "SELECT $",
        "MOVE k$ 1",
        "SWAPDB 0 1",
        "FLUSHDB",
        "MULTI",
        "EXEC",
        "DISCARD",
        "EVAL|redis.call('set',KEYS[1],'lua','px',50);redis.call('incr',KEYS[2]);return 1|2|k$|n$",
        "EVAL|redis.call('select',1);return redis.call('spop',KEYS[1])|1|s$",
        "EVAL|redis.call('lpush',KEYS[1],'x');return redis.call('nope')|1|l$",
        "GET k$",
        "EXISTS k$ k$ k$",
        "SCAN 0",
        "XGROUP CREATE x$ g 0 MKSTREAM",
        "XREADGROUP GROUP g c$ COUNT 2 STREAMS x$ >",
        "XCLAIM x$ g c$ 100 0-1 1-0 $-0",
        "XAUTOCLAIM x$ g c$ 50 0",
        "XACK x$ g 0-1",
        "XDEL x$ 1-0",
        "XCLAIM x$ g c$ 0 0-1 FORCE LASTID 9-9",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(300))]
        /// Replaying a command stream's effects, later, with another seed,
        /// rebuilds the same keys, values and expiry times: relative times,
        /// chance and expiry during the stream do not leak into the replay.
        #[test]
        fn effects_replay_to_the_same_data(
            steps in proptest::collection::vec((0usize..WRITES.len(), 0u8..3, 0u64..400), 1..80),
            seed in 0u64..1000,
        ) {
            let t0 = 1_000_000;
            let mut e = Engine::new(seed, t0);
            e.record_effects();
            let mut now = t0;
            for (which, n, dt) in steps {
                now += dt;
                let text = WRITES[which].replace('$', &n.to_string());
                let argv: Vec<&str> =
                    if text.contains('|') { text.split('|').collect() } else { text.split(' ').collect() };
                e.execute(&argv, now);
                if dt > 300 {
                    e.active_expire(now);
                }
            }
            e.execute(&["DISCARD"], now);
            e.execute(&["XGROUP", "CREATE", "x0", "g", "0", "MKSTREAM"], now);
            e.execute(&["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "x0", ">"], now);
            e.execute(&["XGROUP", "CREATECONSUMER", "x0", "g", "idle"], now);
            let log = e.take_effects();
            // The dataset rewritten as commands rebuilds it too.
            let mut b = Engine::new(seed + 2, now);
            replay(&mut b, &e.rewrite(now), now);
            // Compared once both removed what expired by the replay's time.
            let later = now + 10_000;
            let mut r = Engine::new(seed + 1, later);
            replay(&mut r, &log, later);
            for _ in 0..4 {
                e.active_expire(later);
                r.active_expire(later);
                b.active_expire(later);
            }
            let expected = state(&mut e, later);
            proptest::prop_assert_eq!(&expected, &state(&mut r, later));
            proptest::prop_assert_eq!(&expected, &state(&mut b, later));
        }
    }

    #[test]
    fn effects_are_rewritten_for_replay() {
        let mut e = Engine::new(1, 1000);
        e.record_effects();
        e.execute(&["SET", "a", "1", "EX", "10"], 5000);
        e.execute(&["EXPIRE", "a", "20"], 5000);
        e.execute(&["SADD", "s", "x"], 5000);
        e.execute(&["SPOP", "s"], 5000);
        e.execute(&["INCRBYFLOAT", "f", "1.5"], 5000);
        e.execute(&["GET", "a"], 5000);
        e.execute(&["SET", "b", "1", "PX", "10"], 5000);
        e.execute(&["SET", "b", "2", "NX"], 6000);
        let log = String::from_utf8(e.take_effects()).unwrap().replace("\r\n", " ");
        assert_eq!(
            log,
            "*2 $6 SELECT $1 0 *5 $3 SET $1 a $1 1 $4 PXAT $5 15000 *3 $9 PEXPIREAT $1 a $5 25000 \
             *3 $4 SADD $1 s $1 x *3 $4 SREM $1 s $1 x *4 $3 SET $1 f $3 1.5 $7 KEEPTTL \
             *5 $3 SET $1 b $1 1 $4 PXAT $4 5010 *2 $3 DEL $1 b *4 $3 SET $1 b $1 2 $2 NX "
        );
    }
}
