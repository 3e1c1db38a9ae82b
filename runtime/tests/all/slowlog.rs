//! SLOWLOG through the real server: what is logged (every command at threshold
//! 0, nothing when disabled), how entries look, what is left out (EXEC itself,
//! the commands a script calls) and what is hidden (AUTH's arguments).
//! Thresholds are 0 or -1 only, so nothing depends on the machine's speed.

use crate::util::TestServer;
use redis::{Commands, Connection, Value};

/// `(id, args, peer, name)` of each entry SLOWLOG GET -1 returns.
fn entries(c: &mut Connection) -> Vec<(i64, Vec<String>, String, String)> {
    let v: Value = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(c).unwrap();
    let Value::Array(items) = v else { panic!("not an array: {v:?}") };
    items
        .into_iter()
        .map(|e| {
            let Value::Array(f) = e else { panic!("entry not an array") };
            assert_eq!(f.len(), 6, "{f:?}");
            let int = |v: &Value| match v {
                Value::Int(n) => *n,
                other => panic!("not an int: {other:?}"),
            };
            let text = |v: &Value| match v {
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            };
            assert!(int(&f[1]) > 1_600_000_000, "a unix time");
            assert!(int(&f[2]) >= 0);
            let Value::Array(args) = &f[3] else { panic!("args not an array") };
            (int(&f[0]), args.iter().map(text).collect(), text(&f[4]), text(&f[5]))
        })
        .collect()
}

fn reset(c: &mut Connection) {
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(c).unwrap();
}

#[test]
fn threshold_zero_logs_every_command_newest_first() {
    let srv = TestServer::start(&["--slowlog-log-slower-than", "0"]);
    let mut c = srv.client();
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("logger").query(&mut c).unwrap();
    reset(&mut c);
    let _: () = c.set("k", "v").unwrap();
    let long = "x".repeat(200);
    let _: () = c.set("big", &long).unwrap();
    let e = entries(&mut c);
    assert_eq!(e.len(), 3, "RESET, SET, SET: {e:?}");
    assert_eq!(e[0].1[0], "SET");
    assert_eq!(e[0].1[2], format!("{}... (72 more bytes)", "x".repeat(128)));
    assert_eq!(e[1].1, vec!["SET", "k", "v"]);
    assert_eq!(e[2].1, vec!["SLOWLOG", "RESET"]);
    assert!(e[0].0 > e[1].0 && e[1].0 > e[2].0, "ids increase: {e:?}");
    assert_eq!(e[0].3, "logger");
    let local: String = {
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        info.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string()
    };
    assert_eq!(e[0].2, local, "the entry names the client's address");
    let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(n, 5, "SLOWLOG GET and CLIENT INFO were logged too");

    // Many arguments: 31 kept, the last slot counts the rest.
    let mut cmd = redis::cmd("DEL");
    for i in 0..40 {
        cmd.arg(i);
    }
    let _: i64 = cmd.query(&mut c).unwrap();
    let e = entries(&mut c);
    assert_eq!(e[0].1.len(), 32);
    assert_eq!(e[0].1[31], "... (10 more arguments)");
}

#[test]
fn transactions_scripts_and_secrets() {
    let srv = TestServer::start(&["--slowlog-log-slower-than", "0"]);
    let mut c = srv.client();
    reset(&mut c);
    let _: Value = redis::pipe().atomic().set("a", 1).incr("a", 1).query(&mut c).unwrap();
    let _: i64 = redis::cmd("EVAL")
        .arg("redis.call('incr', KEYS[1]) return redis.call('incr', KEYS[1])")
        .arg(1)
        .arg("a")
        .query(&mut c)
        .unwrap();
    let _ = redis::cmd("AUTH").arg("user").arg("secret").query::<Value>(&mut c);
    let names: Vec<String> = entries(&mut c).into_iter().rev().map(|e| e.1.join(" ")).collect();
    assert_eq!(
        names,
        vec![
            "SLOWLOG RESET",
            "MULTI",
            "SET a 1",
            "INCRBY a 1",
            "EVAL redis.call('incr', KEYS[1]) return redis.call('incr', KEYS[1]) 1 a",
            "AUTH (redacted) (redacted)",
        ],
        "EXEC is not logged, the commands in it are; a script's calls are not"
    );
}

#[test]
fn a_long_script_is_logged_once() {
    // Long enough to move from the I/O thread to a script thread.
    let srv = TestServer::start(&["--slowlog-log-slower-than", "0"]);
    let mut c = srv.client();
    reset(&mut c);
    let n: i64 =
        redis::cmd("EVAL").arg("local i = 0 while i < 3000000 do i = i + 1 end return i").arg(0).query(&mut c).unwrap();
    assert_eq!(n, 3_000_000);
    let e = entries(&mut c);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].1[0], "EVAL");
}

#[test]
fn limits_and_errors() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    // The default threshold (10 ms) is never reached by a GET.
    let _: Option<String> = c.get("k").unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("slowlog-log-slower-than").arg(-1).query(&mut c).unwrap();
    reset(&mut c);
    let _: Option<String> = c.get("k").unwrap();
    assert!(entries(&mut c).is_empty(), "-1 turns the log off");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .arg("slowlog-max-len")
        .arg(2)
        .query(&mut c)
        .unwrap();
    for _ in 0..5 {
        let _: Option<String> = c.get("k").unwrap();
    }
    assert_eq!(entries(&mut c).len(), 2);
    let e: redis::RedisResult<Value> = redis::cmd("SLOWLOG").arg("GET").arg(-2).query(&mut c);
    assert_eq!(e.unwrap_err().detail(), Some("count should be greater than or equal to -1"));
    let e: redis::RedisResult<Value> = redis::cmd("CONFIG").arg("SET").arg("slowlog-max-len").arg(-1).query(&mut c);
    assert!(e.unwrap_err().detail().unwrap().contains("argument must be between 0 and"));
    let got: Vec<Value> = redis::cmd("SLOWLOG").arg("GET").arg(0).query(&mut c).unwrap();
    assert!(got.is_empty());
}
