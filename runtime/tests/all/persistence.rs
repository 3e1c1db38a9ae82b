//! The append-only file: acknowledged writes survive SIGKILL, rewrites keep
//! the data, damaged files are repaired or refused as Redis does, and
//! Redis's own `redis-check-aof` accepts what slotkv writes.

use crate::util::TestServer;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

fn aof_server(dir: &Path, fsync: &str) -> TestServer {
    TestServer::start(&["--dir", dir.to_str().unwrap(), "--appendonly", "yes", "--appendfsync", fsync])
}

fn digest(con: &mut redis::Connection) -> String {
    redis::cmd("DEBUG").arg("DIGEST").query(con).unwrap()
}

fn kill9(srv: &mut TestServer) {
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
}

/// A small deterministic generator: the kill points vary, the test does not.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What the writers had acknowledged when the server was killed.
struct Acked {
    sets: Vec<u64>,
    pushes: Vec<u64>,
    scripts: Vec<u64>,
}

/// Writes until the connection fails: plain SETs, RPUSHes in MULTI/EXEC and
/// a script that writes two keys, recording each write the server acknowledged.
/// Signals `ready` once `kill_after` SETs were acknowledged.
fn write_until_killed(port: u16, round: u64, kill_after: u64, ready: mpsc::Sender<()>) -> Acked {
    let stop = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicU64::new(0));
    let other = {
        let (stop, pushed) = (stop.clone(), pushed.clone());
        std::thread::spawn(move || {
            let mut acked = (Vec::new(), Vec::new());
            let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/")).and_then(|c| c.get_connection())
            else {
                return acked;
            };
            for i in 0.. {
                if stop.load(Ordering::Relaxed) && i > 0 {
                    break;
                }
                let pushed_ok: redis::RedisResult<()> = redis::pipe()
                    .atomic()
                    .rpush(format!("list:{round}"), i)
                    .incr(format!("pushes:{round}"), 1)
                    .query(&mut c);
                if pushed_ok.is_err() {
                    break;
                }
                acked.0.push(i);
                pushed.store(i, Ordering::Relaxed);
                let script: redis::RedisResult<i64> = redis::cmd("EVAL")
                    .arg("redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])")
                    .arg(2)
                    .arg(format!("script:{round}:{i}"))
                    .arg(format!("scripts:{round}"))
                    .arg(i)
                    .query(&mut c);
                if script.is_err() {
                    break;
                }
                acked.1.push(i);
            }
            acked
        })
    };
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
    let mut sets = Vec::new();
    let mut signalled = false;
    for i in 0.. {
        let r: redis::RedisResult<()> = redis::cmd("SET").arg(format!("k:{round}:{i}")).arg(i).query(&mut c);
        if r.is_err() {
            break;
        }
        sets.push(i);
        if !signalled && i >= kill_after {
            let _ = ready.send(());
            signalled = true;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (pushes, scripts) = other.join().unwrap();
    Acked { sets, pushes, scripts }
}

/// Every write acknowledged before the kill is there after the restart.
fn check_acked(con: &mut redis::Connection, round: u64, acked: &Acked) {
    for &i in &acked.sets {
        let v: Option<u64> = redis::cmd("GET").arg(format!("k:{round}:{i}")).query(con).unwrap();
        assert_eq!(v, Some(i), "round {round}: acknowledged SET k:{round}:{i} lost");
    }
    let list: Vec<u64> = redis::cmd("LRANGE").arg(format!("list:{round}")).arg(0).arg(-1).query(con).unwrap();
    assert!(list.len() >= acked.pushes.len(), "round {round}: acknowledged RPUSHes lost");
    assert_eq!(&list[..acked.pushes.len()], &acked.pushes[..], "round {round}");
    // A transaction is all or nothing: the counter matches the list.
    let pushes: Option<usize> = redis::cmd("GET").arg(format!("pushes:{round}")).query(con).unwrap();
    assert_eq!(pushes.unwrap_or(0), list.len(), "round {round}: a transaction was half applied");
    for &i in &acked.scripts {
        let v: Option<u64> = redis::cmd("GET").arg(format!("script:{round}:{i}")).query(con).unwrap();
        assert_eq!(v, Some(i), "round {round}: acknowledged script write lost");
    }
    let runs: Option<usize> = redis::cmd("GET").arg(format!("scripts:{round}")).query(con).unwrap();
    assert!(runs.unwrap_or(0) >= acked.scripts.len(), "round {round}");
}

fn crash_rounds(fsync: &str, rounds: u64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(seed);
    let mut history: Vec<(u64, Acked)> = Vec::new();
    for round in 0..rounds {
        let mut srv = aof_server(dir.path(), fsync);
        let mut con = srv.client();
        // Everything acknowledged in earlier lives is still there.
        for (r, acked) in &history {
            check_acked(&mut con, *r, acked);
        }
        let kill_after = 20 + rng.below(400);
        let (tx, rx) = mpsc::channel();
        let port = srv.port;
        let writer = std::thread::spawn(move || write_until_killed(port, round, kill_after, tx));
        rx.recv_timeout(Duration::from_secs(60)).expect("the writer made progress");
        kill9(&mut srv);
        let acked = writer.join().unwrap();
        assert!(acked.sets.len() as u64 > kill_after);
        history.push((round, acked));
    }
    let srv = aof_server(dir.path(), fsync);
    let mut con = srv.client();
    for (r, acked) in &history {
        check_acked(&mut con, *r, acked);
    }
    drop(srv);
    check_aof_with_redis(&dir.path().join("appendonlydir"));
}

#[test]
fn sigkill_20_times_with_appendfsync_always_loses_no_acknowledged_write() {
    crash_rounds("always", 20, 7);
}

#[test]
fn sigkill_with_appendfsync_everysec_loses_no_acknowledged_write() {
    // Replies wait for the write to the file (not the sync), so a killed
    // process loses nothing; only a machine crash can cost the last second.
    crash_rounds("everysec", 5, 11);
}

/// Runs Debian's `redis-check-aof` on the manifest when it is installed
/// (the README's test command installs it and requires it).
fn check_aof_with_redis(dir: &Path) {
    crate::util::redis_checker_accepts(
        "redis-check-aof",
        &dir.join("appendonly.aof.manifest"),
        "All AOF files and manifest are valid",
    );
}

fn wait_rewrite_done(con: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(con).unwrap();
        if info.contains("aof_rewrite_in_progress:0") {
            assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish");
        std::thread::yield_now();
    }
}

#[test]
fn bgrewriteaof_compacts_while_clients_write_and_restarts_to_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = aof_server(dir.path(), "everysec");
    let mut con = srv.client();
    for i in 0..2000 {
        let _: () = redis::cmd("INCR").arg(format!("counter:{}", i % 50)).query(&mut con).unwrap();
    }
    let _: () = redis::cmd("RPUSH").arg("l").arg(&[1, 2, 3]).query(&mut con).unwrap();
    let _: () = redis::cmd("HSET").arg("h").arg("f").arg("v").query(&mut con).unwrap();
    let _: () = redis::cmd("ZADD").arg("z").arg(1.5).arg("m").query(&mut con).unwrap();
    let _: () = redis::cmd("SADD").arg("s").arg("a").query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg("ttl").arg("v").arg("EX").arg(1000).query(&mut con).unwrap();
    let _: () = redis::cmd("XADD").arg("x").arg("*").arg("f").arg("v").query(&mut con).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg("in-db-3").arg("v").query(&mut con).unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    let lib = "#!lua name=lib\nredis.register_function('f', function() return 7 end)";
    let _: String = redis::cmd("FUNCTION").arg("LOAD").arg(lib).query(&mut con).unwrap();
    let before = std::fs::metadata(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap().len();
    let started: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    assert_eq!(started, "Background append only file rewriting started");
    // Writes during the rewrite go to the new increment file.
    for i in 0..100 {
        let _: () = redis::cmd("SET").arg(format!("during:{i}")).arg(i).query(&mut con).unwrap();
    }
    wait_rewrite_done(&mut con);
    let _: () = redis::cmd("SET").arg("after").arg(1).query(&mut con).unwrap();
    let expected = digest(&mut con);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // The base is a snapshot (aof-use-rdb-preamble yes, Redis's default).
    assert!(names.contains(&"appendonly.aof.2.base.rdb".to_string()), "{names:?}");
    assert!(!names.contains(&"appendonly.aof.1.incr.aof".to_string()), "old files removed: {names:?}");
    let base = std::fs::metadata(dir.path().join("appendonlydir/appendonly.aof.2.base.rdb")).unwrap().len();
    assert!(base < before, "the base ({base} bytes) is smaller than the history it replaces ({before})");
    srv.terminate();
    let srv = aof_server(dir.path(), "everysec");
    let mut con = srv.client();
    assert_eq!(digest(&mut con), expected);
    let f: i64 = redis::cmd("FCALL").arg("f").arg(0).query(&mut con).unwrap();
    assert_eq!(f, 7);
    let ttl: i64 = redis::cmd("TTL").arg("ttl").query(&mut con).unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    drop(srv);
    check_aof_with_redis(&dir.path().join("appendonlydir"));
}

fn incr_file(dir: &Path) -> std::path::PathBuf {
    dir.join("appendonlydir/appendonly.aof.1.incr.aof")
}

fn write_some(dir: &Path) -> String {
    let mut srv = aof_server(dir, "always");
    let mut con = srv.client();
    for i in 0..10 {
        let _: () = redis::cmd("SET").arg(format!("k{i}")).arg(i).query(&mut con).unwrap();
    }
    let d = digest(&mut con);
    srv.terminate();
    d
}

#[test]
fn a_truncated_tail_loads_with_a_warning_and_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let expected = write_some(dir.path());
    let path = incr_file(dir.path());
    let whole = std::fs::metadata(&path).unwrap().len();
    // A crash in the middle of a command, and in the middle of a transaction.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    use std::io::Write;
    f.write_all(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$2\r\nk").unwrap();
    drop(f);
    let srv = aof_server(dir.path(), "always");
    let mut con = srv.client();
    assert_eq!(digest(&mut con), expected, "the half transaction is not applied");
    let warned = srv.startup_log.iter().any(|l| l.contains("AOF loaded anyway because aof-load-truncated is enabled"));
    assert!(warned, "a warning is logged: {:?}", srv.startup_log);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole, "the file is cut back to its last whole command");
    let _: () = redis::cmd("SET").arg("later").arg(1).query(&mut con).unwrap();
    drop(srv);
    check_aof_with_redis(&dir.path().join("appendonlydir"));
}

#[test]
fn damage_in_the_middle_stops_the_start_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    write_some(dir.path());
    let path = incr_file(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    let at = at + bytes[at..].iter().position(|&b| b == b'*').unwrap();
    bytes[at] = b'!';
    std::fs::write(&path, &bytes).unwrap();
    let err = TestServer::try_start(&["--dir", dir.path().to_str().unwrap(), "--appendonly", "yes"])
        .err()
        .expect("the server refuses to start");
    assert!(
        err.contains(&format!("Bad file format reading the append only file appendonly.aof.1.incr.aof at offset {at}")),
        "{err}"
    );
}

#[test]
fn with_aof_off_bgrewriteaof_says_so() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let r: redis::RedisResult<String> = redis::cmd("BGREWRITEAOF").query(&mut con);
    assert!(r.unwrap_err().to_string().contains("append only file is off"));
}
