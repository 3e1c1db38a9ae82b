//! Lua scripts through the real server: replies and errors as Redis gives them,
//! every limit (steps, memory, recursion) stopping a script with its writes
//! rolled back and the server alive, scripts that touch keys they did not
//! declare, and long scripts that leave the server responsive.

use crate::util::TestServer;
use redis::{Commands, Connection, Value};

fn eval(c: &mut Connection, script: &str, keys: &[&str], args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(keys.len()).arg(keys).arg(args);
    cmd.query(c)
}

fn err_text(r: redis::RedisResult<Value>) -> String {
    let e = r.expect_err("expected an error");
    format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
}

#[test]
fn scripts_read_and_write_like_redis() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let v = eval(&mut c, "return redis.call('incrby', KEYS[1], ARGV[1])", &["n"], &["5"]).unwrap();
    assert_eq!(v, Value::Int(5));
    let v = eval(&mut c, "return {1, 'two', 3.99, true, false, {err='x'}}", &[], &[]).unwrap_err();
    assert_eq!(v.code(), Some("x"));
    let v = eval(&mut c, "return {1, 'two', 3.99, true, false}", &[], &[]).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::Int(1), Value::BulkString(b"two".to_vec()), Value::Int(3), Value::Int(1), Value::Nil])
    );
    let e = err_text(eval(&mut c, "return redis.call('lpush', KEYS[1], 'x')", &["n"], &[]));
    assert!(e.starts_with("WRONGTYPE Operation against a key holding the wrong kind of value script: "), "{e}");
    let sha: String =
        redis::cmd("SCRIPT").arg("LOAD").arg("return ARGV[1] .. tostring(0.1 + 0.2)").query(&mut c).unwrap();
    let v: String = redis::cmd("EVALSHA").arg(&sha).arg(0).arg("x").query(&mut c).unwrap();
    assert_eq!(v, "x0.3");
    let e = err_text(redis::cmd("EVALSHA").arg("f".repeat(40)).arg(0).query(&mut c));
    assert_eq!(e, "NOSCRIPT No matching script. Please use EVAL.");
    let e = err_text(eval(&mut c, "x = 1", &[], &[]));
    assert!(e.starts_with("ERR user_script:1: Attempt to modify a readonly table script:"), "{e}");
    let e = err_text(redis::cmd("EVAL_RO").arg("return redis.call('set', 'a', 'b')").arg(0).query(&mut c));
    assert!(e.starts_with("ERR Write commands are not allowed from read-only scripts."), "{e}");
}

/// Writes made before a limit stops the script are undone; the server keeps
/// serving, and the same scripts run normally afterwards.
#[test]
fn every_limit_stops_the_script_and_rolls_back_its_writes() {
    let srv = TestServer::start(&["--lua-step-budget", "20000000", "--lua-memory-limit", "8mb"]);
    let mut c = srv.client();
    let _: () = c.set("k", "before").unwrap();
    let _: () = c.rpush("l", "a").unwrap();
    let cases = [
        ("redis.call('set', KEYS[1], 'during') redis.call('rpush', KEYS[2], 'b') while true do end", "step budget"),
        ("redis.call('set', KEYS[1], 'during') redis.call('del', KEYS[2]) return string.rep('x', 1e9)", "memory limit"),
        (
            "redis.call('set', KEYS[1], 'during') local t = {} local i = 0 while true do i = i + 1 t[i] = i end",
            "memory limit",
        ),
        ("redis.call('set', KEYS[1], 'during') local function f(n) return f(n + 1) + 1 end return f(1)", ""),
        ("redis.call('flushall') local s = 'x' while true do s = s .. s end", "memory limit"),
    ];
    for (script, limit) in cases {
        let e = err_text(eval(&mut c, script, &["k", "l"], &[]));
        assert!(e.contains(limit), "{script}: {e}");
        let v: String = c.get("k").unwrap();
        assert_eq!(v, "before", "{script}");
        let l: Vec<String> = c.lrange("l", 0, -1).unwrap();
        assert_eq!(l, ["a"], "{script}");
    }
    // A subcommand's key (XGROUP CREATE ... MKSTREAM's stream) is put back too.
    let script = "redis.call('xgroup', 'create', KEYS[1], 'g', '$', 'MKSTREAM') while true do end";
    let e = err_text(eval(&mut c, script, &["fresh"], &[]));
    assert!(e.contains("step budget"), "{e}");
    let exists: i64 = c.exists("fresh").unwrap();
    assert_eq!(exists, 0);
    // An ordinary error keeps Redis's semantics: writes before it stay.
    let e = err_text(eval(&mut c, "redis.call('set', KEYS[1], 'kept') error('boom')", &["k"], &[]));
    assert!(e.starts_with("ERR user_script:1: boom script: "), "{e}");
    let v: String = c.get("k").unwrap();
    assert_eq!(v, "kept");
    let info: String = redis::cmd("INFO").arg("scripting").query(&mut c).unwrap();
    let field = |name: &str| -> u64 {
        let line = info.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {info}"));
        line[name.len() + 1..].parse().unwrap()
    };
    assert!(field("script_budget_stops") >= 1 && field("script_memory_stops") >= 3, "{info}");
    let v = eval(&mut c, "local x = 0 for i = 1, 1000 do x = x + i end return x", &[], &[]).unwrap();
    assert_eq!(v, Value::Int(500500));
}

/// A script may touch keys it did not declare (job-queue libraries build key
/// names inside their scripts); it then runs holding every shard.
#[test]
fn undeclared_keys_work_and_stay_atomic() {
    let srv = TestServer::start(&["--shards", "8"]);
    let mut c = srv.client();
    let script = "for i = 1, 50 do redis.call('incr', 'job:' .. i) end return redis.call('get', 'job:50')";
    for round in 1..=3 {
        let v: String = redis::cmd("EVAL").arg(script).arg(0).query(&mut c).unwrap();
        assert_eq!(v, round.to_string());
    }
    let n: i64 = c.get("job:1").unwrap();
    assert_eq!(n, 3);
}

/// A script that loops for a long time holds only its own keys' shard: other
/// clients are served meanwhile, commands on its keys wait for it, and SCRIPT
/// KILL stops it with its writes rolled back.
#[test]
fn a_long_script_leaves_the_server_responsive_and_script_kill_stops_it() {
    kill_a_long_script("while true do end");
}

/// A script that never stops calling Redis is as killable as one that only computes.
#[test]
fn script_kill_stops_a_script_looping_on_redis_calls() {
    kill_a_long_script("while true do redis.call('incr', KEYS[1] .. 'n') end");
}

fn kill_a_long_script(body: &'static str) {
    let srv = TestServer::start(&["--lua-step-budget", "100000000000"]);
    let mut c = srv.client();
    let _: () = c.set("{a}held", "before").unwrap();
    // The script announces itself on a channel as it starts.
    let mut sub = srv.client();
    let mut sub = sub.as_pubsub();
    sub.subscribe("started").unwrap();
    let url = srv.url();
    let runner = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let script = format!("redis.call('publish', 'started', '1') redis.call('set', KEYS[1], 'during') {body}");
        err_text(eval(&mut c, &script, &["{a}held"], &[]))
    });
    let _ = sub.get_message().unwrap();
    let mut other = srv.client();
    // Keys of another shard are served while the script runs (its budget
    // would last minutes, so it is still running after these).
    for i in 0..200 {
        let _: () = other.set(format!("{{b}}k{i}"), i).unwrap();
        let v: i64 = other.get(format!("{{b}}k{i}")).unwrap();
        assert_eq!(v, i);
    }
    // It may be moving from the I/O thread to a script thread this instant.
    loop {
        match redis::cmd("SCRIPT").arg("KILL").query::<()>(&mut other) {
            Ok(()) => break,
            Err(e) if e.code() == Some("NOTBUSY") => std::thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    let e = runner.join().unwrap();
    assert!(e.contains("Script killed by user with SCRIPT KILL"), "{e}");
    let v: String = other.get("{a}held").unwrap();
    assert_eq!(v, "before");
    let n: Option<i64> = other.get("{a}heldn").unwrap();
    assert_eq!(n, None, "rolled back");
    let e = err_text(redis::cmd("SCRIPT").arg("KILL").query(&mut other));
    assert_eq!(e, "NOTBUSY No scripts in execution right now.");
}

/// A function library: loaded once, called by name from any connection (so
/// from any thread's Lua state), replaced, dumped and restored.
#[test]
fn function_libraries_load_call_replace_and_restore() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let lib = "#!lua name=counters\nredis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)";
    let name: String = redis::cmd("FUNCTION").arg("LOAD").arg(lib).query(&mut c).unwrap();
    assert_eq!(name, "counters");
    let mut other = srv.client();
    let v: i64 = redis::cmd("FCALL").arg("bump").arg(1).arg("n").arg(5).query(&mut other).unwrap();
    assert_eq!(v, 5);
    let e = err_text(redis::cmd("FCALL_RO").arg("bump").arg(1).arg("n").arg(5).query(&mut other));
    assert_eq!(e, "ERR Can not execute a script with write flag using *_ro command.");
    let e = err_text(redis::cmd("FUNCTION").arg("LOAD").arg(lib).query(&mut c));
    assert_eq!(e, "ERR Library 'counters' already exists");
    let replaced = lib.replace("args[1])", "args[1] * 2)");
    let _: String = redis::cmd("FUNCTION").arg("LOAD").arg("REPLACE").arg(&replaced).query(&mut c).unwrap();
    let v: i64 = redis::cmd("FCALL").arg("bump").arg(1).arg("n").arg(5).query(&mut other).unwrap();
    assert_eq!(v, 15);
    let payload: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut c).unwrap();
    let _: () = redis::cmd("FUNCTION").arg("FLUSH").query(&mut c).unwrap();
    let e = err_text(redis::cmd("FCALL").arg("bump").arg(1).arg("n").arg(1).query(&mut other));
    assert_eq!(e, "ERR Function not found");
    let _: () = redis::cmd("FUNCTION").arg("RESTORE").arg(payload).query(&mut c).unwrap();
    let v: i64 = redis::cmd("FCALL").arg("bump").arg(1).arg("n").arg(1).query(&mut other).unwrap();
    assert_eq!(v, 17);
}
