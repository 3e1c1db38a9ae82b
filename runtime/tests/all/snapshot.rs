//! Snapshots: SAVE and BGSAVE write a file that restarts to the same data,
//! `save` rules and shutdown save on their own, a damaged file stops the
//! start, and the files move between slotkv and Redis in both directions.

use crate::util::TestServer;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn server(dir: &Path, extra: &[&str]) -> TestServer {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn digest(con: &mut redis::Connection) -> String {
    q(con, &["DEBUG", "DIGEST"])
}

/// Every type, in both of its encodings, with expiries, two databases and a
/// function library. Streams only with `streams` (Redis's digest of a stream
/// differs from slotkv's, so the cross-server checks compare them apart).
fn populate(con: &mut redis::Connection, streams: bool) {
    let _: () = q(con, &["SET", "str", "hello"]);
    let _: () = q(con, &["SET", "int", "12345"]);
    let _: () = q(con, &["SET", "big", &"x".repeat(5000)]);
    let _: () = q(con, &["SET", "ttl", "v", "EX", "1000"]);
    let _: () = q(con, &["RPUSH", "list", "a", "b", "1", "-7"]);
    let long: Vec<String> = (0..2000).map(|i| format!("element-{i}")).collect();
    let mut c = redis::cmd("RPUSH");
    c.arg("biglist").arg(&long);
    let _: () = c.query(con).unwrap();
    let _: () = q(con, &["HSET", "hash", "f", "v", "n", "10"]);
    let mut c = redis::cmd("HSET");
    c.arg("bighash");
    for i in 0..300 {
        c.arg(format!("field{i}")).arg(i);
    }
    let _: () = c.query(con).unwrap();
    let _: () = q(con, &["SADD", "ints", "1", "2", "-300", "70000"]);
    let _: () = q(con, &["SADD", "set", "a", "b", "c"]);
    let _: () = q(con, &["ZADD", "zset", "1.5", "a", "-2", "b", "inf", "c"]);
    let mut c = redis::cmd("ZADD");
    c.arg("bigzset");
    for i in 0..200 {
        c.arg(i as f64 / 3.0).arg(format!("m{i}"));
    }
    let _: () = c.query(con).unwrap();
    let _: () = q(con, &["PEXPIRE", "hash", "5000000"]);
    let _: () = q(con, &["SELECT", "3"]);
    let _: () = q(con, &["SET", "in-db-3", "v"]);
    let _: () = q(con, &["SELECT", "0"]);
    let lib = "#!lua name=lib\nredis.register_function('f', function() return 7 end)";
    let _: String = q(con, &["FUNCTION", "LOAD", "REPLACE", lib]);
    if streams {
        for i in 1..=150 {
            let _: String = q(con, &["XADD", "stream", &format!("{i}-1"), "f", &i.to_string(), "g", "x"]);
        }
        let _: String = q(con, &["XADD", "stream", "200-0", "other", "shape"]);
        let _: i64 = q(con, &["XDEL", "stream", "3-1", "120-1"]);
        let _: () = q(con, &["XGROUP", "CREATE", "stream", "grp", "0"]);
        let _: redis::Value = q(con, &["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", "stream", ">"]);
        let _: i64 = q(con, &["XGROUP", "CREATECONSUMER", "stream", "grp", "bob"]);
    }
}

/// What a stream looks like from outside, for comparing two servers.
fn stream_view(con: &mut redis::Connection) -> String {
    let entries: redis::Value = q(con, &["XRANGE", "stream", "-", "+"]);
    let full: redis::Value = q(con, &["XINFO", "STREAM", "stream", "FULL"]);
    // radix-tree-nodes counts Redis's internal tree, not the data.
    let full = format!("{full:?}");
    let full = full.split("radix-tree-nodes").next().unwrap_or("").to_string()
        + full.split("last-generated-id").nth(1).unwrap_or("");
    format!("{entries:?}\n{full}")
}

fn wait_bgsave_done(con: &mut redis::Connection) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = q(con, &["INFO", "persistence"]);
        if info.contains("rdb_bgsave_in_progress:0") {
            return info;
        }
        assert!(Instant::now() < deadline, "the background save did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn save_then_restart_gives_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    populate(&mut con, true);
    let before_save: i64 = q(&mut con, &["LASTSAVE"]);
    let info: String = q(&mut con, &["INFO", "persistence"]);
    assert!(!info.contains("rdb_changes_since_last_save:0\r"), "{info}");
    let ok: String = q(&mut con, &["SAVE"]);
    assert_eq!(ok, "OK");
    let info: String = q(&mut con, &["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0\r") && info.contains("rdb_last_bgsave_status:ok"), "{info}");
    assert!(q::<i64>(&mut con, &["LASTSAVE"]) >= before_save);
    let expected = (digest(&mut con), stream_view(&mut con));
    srv.terminate();
    let bytes = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    assert!(bytes.starts_with(b"REDIS0010"));
    let srv = server(dir.path(), &[]);
    let mut con = srv.client();
    assert_eq!((digest(&mut con), stream_view(&mut con)), expected);
    assert_eq!(q::<i64>(&mut con, &["FCALL", "f", "0"]), 7);
    let ttl: i64 = q(&mut con, &["TTL", "ttl"]);
    assert!((990..=1000).contains(&ttl), "{ttl}");
    assert!(srv.startup_log.iter().any(|l| l.contains("DB loaded from disk")), "{:?}", srv.startup_log);
    // Redis's own checker accepts the file.
    check_rdb_with_redis(&dir.path().join("dump.rdb"));
}

#[test]
fn bgsave_runs_while_clients_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    for i in 0..20_000 {
        let _: () = redis::cmd("SET").arg(format!("k{i}")).arg(i).query(&mut con).unwrap();
    }
    let started: String = q(&mut con, &["BGSAVE"]);
    assert_eq!(started, "Background saving started");
    // The save runs on its own thread: this client keeps being answered.
    for i in 0..200 {
        let _: () = redis::cmd("SET").arg(format!("during{i}")).arg(i).query(&mut con).unwrap();
    }
    let info = wait_bgsave_done(&mut con);
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    let sched: String = q(&mut con, &["BGSAVE", "SCHEDULE"]);
    assert!(sched == "Background saving started" || sched == "Background saving scheduled", "{sched}");
    wait_bgsave_done(&mut con);
    let err = redis::cmd("BGSAVE").arg("nope").query::<String>(&mut con).unwrap_err();
    assert!(err.to_string().contains("syntax error"), "{err}");
    let expected = digest(&mut con);
    srv.terminate();
    let srv = server(dir.path(), &[]);
    let mut con = srv.client();
    assert_eq!(digest(&mut con), expected);
}

#[test]
fn save_rules_and_shutdown_save_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = server(dir.path(), &["--save", "1 1"]);
    let mut con = srv.client();
    let _: () = q(&mut con, &["SET", "a", "1"]);
    // The rule fires once a second has passed since the start.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info: String = q(&mut con, &["INFO", "persistence"]);
        if info.contains("rdb_changes_since_last_save:0\r") && dir.path().join("dump.rdb").exists() {
            break;
        }
        assert!(Instant::now() < deadline, "the save rule did not fire: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let cfg: Vec<String> = q(&mut con, &["CONFIG", "GET", "save"]);
    assert_eq!(cfg, ["save", "1 1"]);
    let err = redis::cmd("CONFIG").arg("SET").arg("save").arg("1 2 3").query::<String>(&mut con).unwrap_err();
    assert!(err.to_string().contains("Invalid save parameters"), "{err}");
    // Rules set: SHUTDOWN saves what came after.
    let _: () = q(&mut con, &["CONFIG", "SET", "save", "3600 1"]);
    let _: () = q(&mut con, &["SET", "b", "2"]);
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut con);
    assert_eq!(srv.wait_exit(), Some(0));
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    assert_eq!(q::<String>(&mut con, &["GET", "b"]), "2");
    // SHUTDOWN NOSAVE does not; without rules, SHUTDOWN SAVE does.
    let _: () = q(&mut con, &["SET", "c", "3"]);
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut con);
    srv.wait_exit();
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    assert_eq!(q::<Option<String>>(&mut con, &["GET", "c"]), None);
    let _: () = q(&mut con, &["SET", "d", "4"]);
    let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut con);
    srv.wait_exit();
    let srv = server(dir.path(), &[]);
    let mut con = srv.client();
    assert_eq!(q::<String>(&mut con, &["GET", "d"]), "4");
    let err = redis::cmd("MULTI").query::<()>(&mut con).and_then(|_| redis::cmd("SAVE").query::<String>(&mut con));
    assert!(err.unwrap_err().to_string().contains("not allowed"));
}

#[test]
fn a_damaged_snapshot_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    populate(&mut con, true);
    let _: String = q(&mut con, &["SAVE"]);
    srv.terminate();
    let path = dir.path().join("dump.rdb");
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let err = TestServer::try_start(&["--dir", dir.path().to_str().unwrap()]).err().expect("refused");
    assert!(err.contains("Wrong RDB checksum") && err.contains("dump.rdb"), "{err}");
    std::fs::write(&path, &good[..good.len() - 100]).unwrap();
    let err = TestServer::try_start(&["--dir", dir.path().to_str().unwrap()]).err().expect("refused");
    assert!(err.contains("dump.rdb"), "{err}");
    std::fs::write(&path, b"not a snapshot at all").unwrap();
    let err = TestServer::try_start(&["--dir", dir.path().to_str().unwrap()]).err().expect("refused");
    assert!(err.contains("Wrong signature"), "{err}");
    // The file is left as it was, for the operator to look at.
    assert_eq!(std::fs::read(&path).unwrap(), b"not a snapshot at all");
}

#[test]
fn a_snapshot_with_more_databases_than_configured_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = server(dir.path(), &[]);
    let mut con = srv.client();
    let _: () = q(&mut con, &["SELECT", "9"]);
    let _: () = q(&mut con, &["SET", "k", "v"]);
    let _: String = q(&mut con, &["SAVE"]);
    srv.terminate();
    let err =
        TestServer::try_start(&["--dir", dir.path().to_str().unwrap(), "--databases", "4"]).err().expect("refused");
    assert!(err.contains("more than 4 databases"), "{err}");
}

// ---------------------------------------------------------------- Redis interop

/// Runs Redis's `redis-check-rdb` on `path` when it is installed (the
/// README's test command installs it and requires it).
fn check_rdb_with_redis(path: &Path) {
    crate::util::redis_checker_accepts("redis-check-rdb", path, "RDB looks OK");
}

/// A `redis-server` on a free port, with `dir` as its directory.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &Path) -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dir", dir.to_str()?, "--enable-debug-command", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(_) if std::env::var_os("SLOTKV_REQUIRE_REDIS_TOOLS").is_none() => {
                eprintln!("redis-server not installed: skipped");
                return None;
            }
            Err(e) => panic!("redis-server: {e}"),
        };
        let r = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while r.client().is_none() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(r)
    }

    fn client(&self) -> Option<redis::Connection> {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).ok()?.get_connection().ok()?;
        redis::cmd("PING").query::<String>(&mut c).ok()?;
        Some(c)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn snapshots_move_between_redis_and_slotkv() {
    // Redis writes, slotkv loads.
    let from_redis = tempfile::tempdir().unwrap();
    let Some(redis) = Redis::start(from_redis.path()) else { return };
    let mut rc = redis.client().unwrap();
    populate(&mut rc, true);
    let redis_stream = stream_view(&mut rc);
    let _: String = q(&mut rc, &["SAVE"]);
    let _: () = q(&mut rc, &["DEL", "stream"]);
    let redis_digest = digest(&mut rc);
    drop(redis);
    let srv = server(from_redis.path(), &[]);
    let mut con = srv.client();
    assert_eq!(stream_view(&mut con), redis_stream, "the stream Redis saved");
    let _: () = q(&mut con, &["DEL", "stream"]);
    assert_eq!(digest(&mut con), redis_digest, "the data Redis saved");
    assert_eq!(q::<i64>(&mut con, &["FCALL", "f", "0"]), 7);
    drop(srv);

    // slotkv writes, Redis loads.
    let from_slotkv = tempfile::tempdir().unwrap();
    let mut srv = server(from_slotkv.path(), &[]);
    let mut con = srv.client();
    populate(&mut con, true);
    let ours_stream = stream_view(&mut con);
    let _: String = q(&mut con, &["SAVE"]);
    let _: () = q(&mut con, &["DEL", "stream"]);
    let ours_digest = digest(&mut con);
    srv.terminate();
    check_rdb_with_redis(&from_slotkv.path().join("dump.rdb"));
    let redis = Redis::start(from_slotkv.path()).unwrap();
    let mut rc = redis.client().unwrap();
    assert_eq!(stream_view(&mut rc), ours_stream, "Redis reads slotkv's stream");
    let _: () = q(&mut rc, &["DEL", "stream"]);
    assert_eq!(digest(&mut rc), ours_digest, "Redis reads slotkv's data");
    assert_eq!(q::<i64>(&mut rc, &["FCALL", "f", "0"]), 7);
}
