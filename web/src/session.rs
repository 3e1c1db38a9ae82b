//! [`Session`]: what the playground's page talks to. One in-page engine (core's
//! [`Engine`], with the same commands and Lua as the server), a console client
//! with redis-cli's habits, and optionally a simulated cluster: the slots split
//! among N nodes with core's [`SlotMap`], so a command on a key of another node
//! answers `MOVED` (or is followed, as `redis-cli -c` does) and a multi-key
//! command across slots answers `CROSSSLOT`. The data stays in the one engine;
//! only the routing is simulated. Plain Rust, so it is tested natively.

use crate::text;
use serde_json::{json, Value};
use slotkv_core::cluster::{Node, Redirect, SlotMap};
use slotkv_core::scripting::ScriptLimits;
use slotkv_core::slot::hash_tag;
use slotkv_core::{key_slot, resolve, Argv, Engine, Reply};

/// Step budget of a script in the page: about a quarter of a second of Lua in a
/// browser, so a runaway script stops before the tab feels frozen.
pub const PAGE_SCRIPT_STEPS: u64 = 10_000_000;
/// Memory limit of the page's Lua state.
pub const PAGE_SCRIPT_MEMORY: usize = 32 << 20;
/// Most nodes the slot map can be split among.
pub const MAX_NODES: usize = 16;
/// Port of the first simulated node; the others follow it.
const FIRST_PORT: usize = 7000;

/// The page's engine, console client and simulated cluster.
pub struct Session {
    engine: Engine,
    cluster: Option<SlotMap>,
    /// The node the console is connected to.
    node: usize,
    /// Follow `MOVED` as `redis-cli -c` does.
    follow: bool,
    /// Step budget of scripts.
    steps: u64,
}

/// What one command did: its reply as data and as redis-cli prints it.
#[derive(Debug)]
pub struct Outcome {
    /// The reply.
    pub reply: Reply,
    /// The reply as redis-cli prints it.
    pub text: String,
    /// The slot of the command's keys, if it has keys.
    pub slot: Option<u16>,
    /// The node that answered, in a simulated cluster.
    pub node: Option<usize>,
    /// What redis-cli -c prints when it follows a redirection.
    pub notice: Option<String>,
}

impl Session {
    /// A session with an empty keyspace.
    pub fn new(seed: u64, now_ms: u64) -> Self {
        let mut engine = Engine::new(seed, now_ms);
        engine.set_script_limits(ScriptLimits { steps: PAGE_SCRIPT_STEPS, memory: PAGE_SCRIPT_MEMORY });
        Session { engine, cluster: None, node: 0, follow: false, steps: PAGE_SCRIPT_STEPS }
    }

    /// Runs a line typed in the console; `None` for a blank line.
    pub fn run_line(&mut self, line: &str, now_ms: u64) -> Option<Outcome> {
        match split(line) {
            Ok(args) if args.is_empty() => None,
            Ok(args) => Some(self.run(&args, now_ms)),
            Err(e) => {
                Some(Outcome { reply: Reply::Error(e.into()), text: e.into(), slot: None, node: None, notice: None })
            }
        }
    }

    /// Runs `EVAL script numkeys keys... args...`; `keys` and `args` are word
    /// lists quoted as in the console.
    pub fn eval(&mut self, script: &str, keys: &str, args: &str, now_ms: u64) -> Outcome {
        let (keys, args) = match (split(keys), split(args)) {
            (Ok(k), Ok(a)) => (k, a),
            (Err(e), _) | (_, Err(e)) => {
                return Outcome { reply: Reply::Error(e.into()), text: e.into(), slot: None, node: None, notice: None }
            }
        };
        let mut argv = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), keys.len().to_string().into_bytes()];
        argv.extend(keys);
        argv.extend(args);
        self.run(&argv, now_ms)
    }

    /// Runs one command from the console's node, routed as the cluster would.
    pub fn run(&mut self, args: &[Vec<u8>], now_ms: u64) -> Outcome {
        let (slot, notice) = match self.route(args) {
            Ok(routed) => routed,
            Err(reply) => {
                let text = text::format(&reply, false);
                return Outcome {
                    reply,
                    text,
                    slot: None,
                    node: self.cluster.as_ref().map(|_| self.node),
                    notice: None,
                };
            }
        };
        let reply = self.engine.execute(args, now_ms);
        let text = text::format(&reply, text::prints_raw(args));
        Outcome { reply, text, slot, node: self.cluster.as_ref().map(|_| self.node), notice }
    }

    /// The slot a command runs on and redis-cli -c's notice if it followed a
    /// redirection, or the error the console's node answers instead.
    fn route(&mut self, args: &[Vec<u8>]) -> Result<(Option<u16>, Option<String>), Reply> {
        let argv = Argv::from_args(args.iter().map(|a| a.as_slice()));
        let bound = argv.bind(&[]);
        // An unknown command or a wrong arity is refused before routing, as
        // Redis Cluster does; the engine gives the error.
        let Ok(cmd) = resolve(&bound) else { return Ok((None, None)) };
        let Some(map) = &self.cluster else {
            return Ok((slotkv_core::cluster::command_slot(cmd, &bound).ok().flatten(), None));
        };
        match map.route(self.node, cmd, &bound) {
            Ok(slot) => Ok((slot, None)),
            Err(Redirect::Moved { slot, node }) if self.follow => {
                let notice = format!("-> Redirected to slot [{slot}] located at {}", map.nodes()[node].addr);
                self.node = node;
                Ok((Some(slot), Some(notice)))
            }
            Err(redirect) => Err(Reply::Error(map.error(&redirect).to_string())),
        }
    }

    /// Splits the slots evenly among `nodes` simulated nodes (1 or less: no
    /// cluster) and connects the console to the first.
    pub fn split(&mut self, nodes: usize) {
        self.node = 0;
        self.cluster = (nodes > 1).then(|| {
            SlotMap::split_evenly(
                (0..nodes.min(MAX_NODES))
                    .map(|i| Node {
                        id: slotkv_core::scripting::sha1_hex(format!("slotkv-playground-node-{i}").as_bytes()),
                        addr: format!("127.0.0.1:{}", FIRST_PORT + i),
                    })
                    .collect(),
            )
        });
    }

    /// Connects the console to node `node` of the simulated cluster.
    pub fn set_node(&mut self, node: usize) {
        if self.cluster.as_ref().is_some_and(|m| node < m.nodes().len()) {
            self.node = node;
        }
    }

    /// Turns following of `MOVED` redirections on or off.
    pub fn set_follow(&mut self, follow: bool) {
        self.follow = follow;
    }

    /// Sets the step budget of scripts.
    pub fn set_script_steps(&mut self, steps: u64) {
        self.steps = steps;
        self.engine.set_script_limits(ScriptLimits { steps, memory: PAGE_SCRIPT_MEMORY });
    }

    /// The step budget of scripts.
    pub fn script_steps(&self) -> u64 {
        self.steps
    }

    /// The console's prompt, as redis-cli shows it.
    pub fn prompt(&self) -> String {
        match &self.cluster {
            Some(map) => format!("{}>", map.nodes()[self.node].addr),
            None => "slotkv>".into(),
        }
    }

    /// The simulated nodes with their slot ranges, and the console's node.
    pub fn cluster_json(&self) -> Value {
        let nodes: Vec<Value> = self.cluster.as_ref().map_or_else(Vec::new, |map| {
            map.nodes()
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"id": n.id, "addr": n.addr, "ranges": map.ranges(i)}))
                .collect()
        });
        json!({"nodes": nodes, "current": self.node, "follow": self.follow})
    }

    /// The number of keys in each slot of the selected database.
    pub fn slot_counts(&self) -> Vec<u32> {
        self.engine.slot_sizes()
    }

    /// A slot's node and up to `max` of its keys with their hash tags.
    pub fn slot_json(&self, slot: u16, max: usize) -> Value {
        let keys: Vec<Value> = self.engine.keys_in_slot(slot as usize, max).iter().map(|k| key_value(k)).collect();
        let count = self.engine.slot_sizes().get(slot as usize).copied().unwrap_or(0);
        json!({"slot": slot, "node": self.owner(slot), "count": count, "keys": keys})
    }

    /// A key's slot, hash tag and node.
    pub fn key_json(&self, key: &[u8]) -> Value {
        let mut v = key_value(key);
        v["node"] = json!(self.owner(key_slot(key)));
        v
    }

    fn owner(&self, slot: u16) -> Option<usize> {
        self.cluster.as_ref().and_then(|m| m.owner(slot))
    }
}

/// What redis-cli prints for a line with unbalanced quotes.
pub const INVALID_ARGUMENTS: &str = "Invalid argument(s)";

/// Splits a typed line into arguments as redis-cli does (quotes, `\xHH`
/// escapes), with core's splitter for inline commands.
pub fn split(line: &str) -> Result<Vec<Vec<u8>>, &'static str> {
    slotkv_core::resp::request::split_args(line.as_bytes()).ok_or(INVALID_ARGUMENTS)
}

fn key_value(key: &[u8]) -> Value {
    let tag = hash_tag(key);
    json!({
        "key": String::from_utf8_lossy(key),
        "slot": key_slot(key),
        "tag": (tag.len() != key.len()).then(|| String::from_utf8_lossy(tag)),
    })
}

impl Outcome {
    /// The outcome as the page's JavaScript sees it.
    pub fn to_json(&self) -> Value {
        json!({
            "reply": reply_value(&self.reply),
            "text": self.text,
            "error": matches!(self.reply, Reply::Error(_)),
            "slot": self.slot,
            "node": self.node,
            "notice": self.notice,
        })
    }
}

/// A reply as a JSON value, as the HTTP gateway writes it: strings and status
/// replies as strings, errors as `{"error": text}`, RESP3 maps as objects when
/// their keys are strings, doubles as numbers (`inf`/`nan` as strings).
pub fn reply_value(reply: &Reply) -> Value {
    let text = |b: &[u8]| Value::String(String::from_utf8_lossy(b).into_owned());
    match reply {
        Reply::Simple(s) | Reply::BigNumber(s) => Value::String(s.clone()),
        Reply::Error(e) => json!({"error": e}),
        Reply::Int(n) => json!(n),
        Reply::Bulk(b) | Reply::Verbatim { text: b, .. } => text(b),
        Reply::Null | Reply::NullArray => Value::Null,
        Reply::Bool(b) => json!(b),
        Reply::Double(d) if d.is_finite() => json!(d),
        Reply::Double(d) => Value::String(
            if d.is_nan() {
                "nan"
            } else if *d > 0.0 {
                "inf"
            } else {
                "-inf"
            }
            .into(),
        ),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter().map(reply_value).collect(),
        Reply::Map(pairs) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in pairs {
                let key = match k {
                    Reply::Bulk(b) | Reply::Verbatim { text: b, .. } => String::from_utf8_lossy(b).into_owned(),
                    Reply::Simple(s) => s.clone(),
                    Reply::Int(n) => n.to_string(),
                    other => reply_value(other).to_string(),
                };
                obj.insert(key, reply_value(v));
            }
            Value::Object(obj)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut Session, line: &str) -> Outcome {
        s.run_line(line, 1_000).expect("a command")
    }

    #[test]
    fn console_runs_commands_with_redis_cli_text() {
        let mut s = Session::new(1, 1_000);
        assert!(s.run_line("   ", 1_000).is_none());
        assert_eq!(run(&mut s, "SET greeting hello").text, "OK");
        let got = run(&mut s, "GET greeting");
        assert_eq!((got.text.as_str(), got.slot), ("\"hello\"", Some(key_slot(b"greeting"))));
        assert_eq!(got.to_json()["reply"], json!("hello"));
        assert_eq!(run(&mut s, r#"SET "a b" 'c d'"#).text, "OK");
        assert_eq!(run(&mut s, "GET \"a b\"").text, "\"c d\"");
        assert_eq!(run(&mut s, "SET \"open").text, "Invalid argument(s)");
        assert_eq!(run(&mut s, "SET 'a'b c").text, "Invalid argument(s)");
        assert_eq!(run(&mut s, r#"SET k "\x41\n""#).text, "OK");
        assert_eq!(run(&mut s, "GET k").text, r#""A\n""#);
        let err = run(&mut s, "INCR greeting");
        assert_eq!(err.text, "(error) ERR value is not an integer or out of range");
        assert_eq!(err.to_json()["error"], json!(true));
    }

    #[test]
    fn scripts_run_with_keys_and_args_and_stop_at_the_budget() {
        let mut s = Session::new(1, 1_000);
        let out = s.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", "counter", "5", 1_000);
        assert_eq!(out.text, "(integer) 5");
        s.set_script_steps(100_000);
        let out = s.eval("while true do end", "", "", 1_000);
        assert!(out.text.starts_with("(error) ") && out.text.contains("budget"), "{}", out.text);
        // The engine still answers after a stopped script.
        assert_eq!(run(&mut s, "GET counter").text, "\"5\"");
    }

    #[test]
    fn simulated_cluster_answers_moved_and_crossslot() {
        let mut s = Session::new(1, 1_000);
        s.split(3);
        assert_eq!(s.prompt(), "127.0.0.1:7000>");
        // slot("foo") = 12182: on the third node.
        assert_eq!(run(&mut s, "SET foo bar").text, "(error) MOVED 12182 127.0.0.1:7002");
        assert_eq!(run(&mut s, "MSET a 1 b 2").text, "(error) CROSSSLOT Keys in request don't hash to the same slot");
        assert_eq!(run(&mut s, "PING").text, "PONG");
        assert_eq!(
            run(&mut s, "NOPE foo").text,
            "(error) ERR unknown command 'NOPE', with args beginning with: 'foo' "
        );
        s.set_follow(true);
        let out = run(&mut s, "SET foo bar");
        assert_eq!(out.notice.as_deref(), Some("-> Redirected to slot [12182] located at 127.0.0.1:7002"));
        assert_eq!((out.text.as_str(), out.node), ("OK", Some(2)));
        assert_eq!(s.prompt(), "127.0.0.1:7002>");
        assert_eq!(s.cluster_json()["nodes"][1]["ranges"], json!([[5461, 10922]]));
        assert_eq!(s.slot_json(12182, 10)["keys"][0]["key"], json!("foo"));
        assert_eq!(s.slot_json(12182, 10)["node"], json!(2));
        assert_eq!(
            s.key_json(b"{user1000}.following"),
            json!({"key": "{user1000}.following", "slot": 3443, "tag": "user1000", "node": 0})
        );
        assert_eq!(s.slot_counts().iter().sum::<u32>(), 1);
        s.split(1);
        assert_eq!((s.prompt().as_str(), run(&mut s, "MSET a 1 b 2").text.as_str()), ("slotkv>", "OK"));
    }

    #[test]
    fn replies_as_values() {
        let r = Reply::Map(vec![(Reply::Bulk(b"a".to_vec()), Reply::Double(f64::INFINITY))]);
        assert_eq!(reply_value(&r), json!({"a": "inf"}));
        assert_eq!(reply_value(&Reply::Array(vec![Reply::Int(1), Reply::Null])), json!([1, null]));
    }
}
