//! Cluster mode on one node: the node's view and its `cluster-config-file`,
//! routing (CLUSTERDOWN, CROSSSLOT, transactions), the script rules, and a
//! restart from the file. Expected replies are Redis 7.0's.

use crate::util::TestServer;
use redis::Value;
use std::path::Path;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A cluster node in `dir`; its bus port is given, so it is valid whatever
/// client port the system picks.
fn node(dir: &Path, cport: u16) -> TestServer {
    let cport = cport.to_string();
    TestServer::start(&["--cluster-enabled", "yes", "--dir", dir.to_str().unwrap(), "--cluster-port", &cport])
}

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The error text of a command that must fail.
fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Ok(v) => panic!("{args:?} answered {v:?}"),
        Err(e) => match (e.code(), e.detail()) {
            (Some(code), Some(detail)) => format!("{code} {detail}"),
            (Some(code), None) => code.to_string(),
            _ => e.to_string(),
        },
    }
}

fn info_field(con: &mut redis::Connection, field: &str) -> String {
    let text: String = q(con, &["CLUSTER", "INFO"]);
    let prefix = format!("{field}:");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {field}")).to_string()
}

#[test]
fn a_lone_node_serves_the_slots_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let cport = free_port();
    let s = node(dir.path(), cport);
    let mut con = s.client();
    let id: String = q(&mut con, &["CLUSTER", "MYID"]);
    assert_eq!(id.len(), 40);
    assert_eq!(info_field(&mut con, "cluster_state"), "fail");
    assert_eq!(err(&mut con, &["GET", "foo"]), "CLUSTERDOWN Hash slot not served");
    let pong: String = q(&mut con, &["PING"]);
    assert_eq!(pong, "PONG");

    let _: () = q(&mut con, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    assert_eq!(info_field(&mut con, "cluster_state"), "ok");
    assert_eq!(info_field(&mut con, "cluster_slots_assigned"), "16384");
    assert_eq!(info_field(&mut con, "cluster_size"), "1");
    let nodes: String = q(&mut con, &["CLUSTER", "NODES"]);
    assert_eq!(nodes, format!("{id} :{}@{cport} myself,master - 0 0 0 connected 0-16383\n", s.port));
    let slots: Value = q(&mut con, &["CLUSTER", "SLOTS"]);
    let me = Value::Array(vec![
        Value::BulkString(Vec::new()),
        Value::Int(s.port as i64),
        Value::BulkString(id.clone().into_bytes()),
        Value::Array(Vec::new()),
    ]);
    assert_eq!(slots, Value::Array(vec![Value::Array(vec![Value::Int(0), Value::Int(16383), me])]));
    let info: redis::InfoDict = q(&mut con, &["INFO", "cluster"]);
    assert_eq!(info.get::<i64>("cluster_enabled"), Some(1));

    // Keys of one slot work; of several, CROSSSLOT, alone or in a transaction.
    let _: () = q(&mut con, &["SET", "foo", "bar"]);
    let v: String = q(&mut con, &["GET", "foo"]);
    assert_eq!(v, "bar");
    let crossslot = "CROSSSLOT Keys in request don't hash to the same slot";
    assert_eq!(err(&mut con, &["MSET", "a", "1", "b", "2"]), crossslot);
    let _: () = q(&mut con, &["MSET", "{u}a", "1", "{u}b", "2"]);
    let _: () = q(&mut con, &["MULTI"]);
    let _: String = q(&mut con, &["SET", "a", "1"]);
    let _: String = q(&mut con, &["SET", "b", "1"]);
    assert_eq!(err(&mut con, &["EXEC"]), crossslot);
    assert_eq!(err(&mut con, &["EXEC"]), "ERR EXEC without MULTI");
    let a: Option<String> = q(&mut con, &["GET", "a"]);
    assert_eq!(a, None, "the refused transaction wrote nothing");
    let _: () = q(&mut con, &["MULTI"]);
    let _: String = q(&mut con, &["SET", "{a}x", "1"]);
    let _: String = q(&mut con, &["GET", "a"]);
    let done: Vec<Value> = q(&mut con, &["EXEC"]);
    assert_eq!(done.len(), 2);
    assert_eq!(err(&mut con, &["SELECT", "1"]), "ERR SELECT is not allowed in cluster mode");
    assert_eq!(err(&mut con, &["SWAPDB", "0", "1"]), "ERR SWAPDB is not allowed in cluster mode");
    let count: i64 = q(&mut con, &["CLUSTER", "COUNTKEYSINSLOT", "12182"]);
    assert_eq!(count, 1);

    // Slot administration errors, as Redis words them.
    assert_eq!(err(&mut con, &["CLUSTER", "ADDSLOTS", "5"]), "ERR Slot 5 is already busy");
    assert_eq!(err(&mut con, &["CLUSTER", "ADDSLOTS", "16384"]), "ERR Invalid or out of range slot");
    assert_eq!(
        err(&mut con, &["CLUSTER", "ADDSLOTSRANGE", "5", "1"]),
        "ERR start slot number 5 is greater than end slot number 1"
    );
    assert_eq!(err(&mut con, &["CLUSTER", "DELSLOTS", "1", "1"]), "ERR Slot 1 specified multiple times");
    assert_eq!(err(&mut con, &["CLUSTER", "FLUSHSLOTS"]), "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
    assert_eq!(err(&mut con, &["CLUSTER", "RESET"]), "ERR Can't CLUSTER RESET a master node with assigned keys");
    assert_eq!(err(&mut con, &["CLUSTER", "FORGET", &id]), "ERR I tried hard but I can't forget myself...");
    assert_eq!(err(&mut con, &["CLUSTER", "REPLICAS", "abc"]), "ERR Unknown node abc");
    let replicas: Vec<String> = q(&mut con, &["CLUSTER", "REPLICAS", &id]);
    assert!(replicas.is_empty());

    // A slot unserved: the cluster is down for every key.
    let _: () = q(&mut con, &["CLUSTER", "DELSLOTS", "0"]);
    assert_eq!(info_field(&mut con, "cluster_state"), "fail");
    assert_eq!(err(&mut con, &["GET", "foo"]), "CLUSTERDOWN The cluster is down");
    let slot: i64 = q(&mut con, &["CLUSTER", "KEYSLOT", "fHh"]);
    assert_eq!(slot, 0);
    assert_eq!(err(&mut con, &["GET", "fHh"]), "CLUSTERDOWN Hash slot not served");
}

#[test]
fn scripts_keep_to_one_slot_of_this_node() {
    let dir = tempfile::tempdir().unwrap();
    let s = node(dir.path(), free_port());
    let mut con = s.client();
    let _: () = q(&mut con, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    let _: () = q(&mut con, &["SET", "b", "from-b"]);
    // Without flags (Redis 6 scripts), any key of this node.
    let v: String = q(&mut con, &["EVAL", "return redis.call('get','b')", "1", "a"]);
    assert_eq!(v, "from-b");
    // Keys of several slots in one call are never local to one node.
    let e = err(&mut con, &["EVAL", "return redis.call('mget','a','b')", "0"]);
    assert!(e.starts_with("ERR Script attempted to access a non local key in a cluster node script: "), "{e}");
    // With flags, the calls stay in the slot of the first key...
    let e = err(&mut con, &["EVAL", "#!lua\nreturn redis.call('get','b')", "1", "a"]);
    assert!(e.starts_with("ERR Script attempted to access keys that do not hash to the same slot script: "), "{e}");
    let e = err(&mut con, &["EVAL", "#!lua\nredis.call('get','a') return redis.call('get','b')", "0"]);
    assert!(e.contains("do not hash to the same slot"), "{e}");
    let v: String = q(&mut con, &["EVAL", "#!lua\nreturn redis.call('get','b')", "0"]);
    assert_eq!(v, "from-b");
    // ...unless they say otherwise.
    let v: String = q(&mut con, &["EVAL", "#!lua flags=allow-cross-slot-keys\nreturn redis.call('get','b')", "1", "a"]);
    assert_eq!(v, "from-b");
    assert_eq!(
        err(&mut con, &["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"]),
        "ERR Can not run script on cluster, 'no-cluster' flag is set."
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1", "2", "a", "b"]),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // Functions follow the rules of scripts with flags.
    let lib = "#!lua name=l\nredis.register_function('f', function(k, a) return redis.call('get', 'b') end)";
    let _: String = q(&mut con, &["FUNCTION", "LOAD", lib]);
    let e = err(&mut con, &["FCALL", "f", "1", "a"]);
    assert!(e.starts_with("ERR Script attempted to access keys that do not hash to the same slot script: f"), "{e}");
    let v: String = q(&mut con, &["FCALL", "f", "0"]);
    assert_eq!(v, "from-b");
    // A cluster that is down refuses a script's keyed calls.
    let _: () = q(&mut con, &["CLUSTER", "DELSLOTS", "0"]);
    let e = err(&mut con, &["EVAL", "return redis.call('get','b')", "0"]);
    assert!(e.starts_with("ERR Script attempted to execute a command while the cluster is down"), "{e}");
}

#[test]
fn a_node_restarts_with_its_name_slots_and_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let cport = free_port();
    let mut s = node(dir.path(), cport);
    let mut con = s.client();
    let id: String = q(&mut con, &["CLUSTER", "MYID"]);
    let _: () = q(&mut con, &["CLUSTER", "ADDSLOTSRANGE", "0", "8000", "9000", "9000"]);
    let bumped: String = q(&mut con, &["CLUSTER", "BUMPEPOCH"]);
    assert_eq!(bumped, "BUMPED 1");
    let still: String = q(&mut con, &["CLUSTER", "BUMPEPOCH"]);
    assert_eq!(still, "STILL 1");
    assert_eq!(err(&mut con, &["CLUSTER", "SET-CONFIG-EPOCH", "5"]), "ERR Node config epoch is already non-zero");
    let before: String = q(&mut con, &["CLUSTER", "NODES"]);
    assert!(before.ends_with(" myself,master - 0 0 1 connected 0-8000 9000\n"), "{before}");
    let first_port = s.port;
    assert_eq!(s.terminate(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("nodes.conf")).unwrap();
    assert_eq!(text, format!("{before}vars currentEpoch 1 lastVoteEpoch 0\n"));

    let s = node(dir.path(), cport);
    let mut con = s.client();
    let again: String = q(&mut con, &["CLUSTER", "MYID"]);
    assert_eq!(again, id);
    let nodes: String = q(&mut con, &["CLUSTER", "NODES"]);
    assert_eq!(nodes.replace(&format!(":{}@", s.port), ":P@"), before.replace(&format!(":{first_port}@"), ":P@"));
    assert_eq!(info_field(&mut con, "cluster_current_epoch"), "1");

    // A hard reset forgets the slots and takes a new name, on disk too.
    let _: () = q(&mut con, &["CLUSTER", "RESET", "HARD"]);
    let new_id: String = q(&mut con, &["CLUSTER", "MYID"]);
    assert_ne!(new_id, id);
    assert_eq!(info_field(&mut con, "cluster_slots_assigned"), "0");
    assert_eq!(info_field(&mut con, "cluster_current_epoch"), "0");
    let text = std::fs::read_to_string(dir.path().join("nodes.conf")).unwrap();
    assert!(text.starts_with(&new_id), "{text}");
}

#[test]
fn a_damaged_cluster_config_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.conf");
    std::fs::write(&path, "0123456789012345678901234567890123456789 :7000@17000 myself,master - 0 0 0 connected 9-2\n")
        .unwrap();
    let cport = free_port().to_string();
    let args = ["--cluster-enabled", "yes", "--dir", dir.path().to_str().unwrap(), "--cluster-port", &cport];
    let e = TestServer::try_start(&args).err().expect("the start must fail");
    assert!(e.contains("corrupted cluster config file") && e.contains("nodes.conf") && e.contains("line 1"), "{e}");
    // The file is left as it was, for its owner to repair.
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("connected 9-2\n"));
}

#[test]
fn cluster_commands_need_cluster_mode() {
    let s = TestServer::start(&[]);
    let mut con = s.client();
    for args in
        [&["CLUSTER", "INFO"][..], &["CLUSTER", "NODES"], &["CLUSTER", "ADDSLOTS", "1"], &["READONLY"], &["ASKING"]]
    {
        assert_eq!(err(&mut con, args), "ERR This instance has cluster support disabled", "{args:?}");
    }
    let slot: i64 = q(&mut con, &["CLUSTER", "KEYSLOT", "foo"]);
    assert_eq!(slot, 12182);
    let info: redis::InfoDict = q(&mut con, &["INFO", "cluster"]);
    assert_eq!(info.get::<i64>("cluster_enabled"), Some(0));
}

/// Runs redis-cli with `args`: its output, or `None` when it is not
/// installed (unless SLOTKV_REQUIRE_REDIS_TOOLS says it must be).
fn redis_cli(args: &[&str]) -> Option<(bool, String)> {
    match std::process::Command::new("redis-cli").args(args).output() {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            Some((out.status.success(), text))
        }
        Err(_) if std::env::var_os("SLOTKV_REQUIRE_REDIS_TOOLS").is_none() => {
            eprintln!("redis-cli not installed: skipped");
            None
        }
        Err(e) => panic!("redis-cli: {e}"),
    }
}

/// Waits (bounded by a deadline, polling) until `ok` holds.
fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ok() {
        assert!(std::time::Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A node on a given client port (a restart must come back on its port),
/// keeping its keys in an append-only file.
fn node_on(dir: &Path, port: u16, cport: u16) -> TestServer {
    let (port, cport) = (port.to_string(), cport.to_string());
    let dir = dir.to_str().unwrap();
    let cluster = ["--cluster-enabled", "yes", "--cluster-port", &cport];
    TestServer::start(&[&cluster[..], &["--dir", dir, "--port", &port, "--appendonly", "yes"]].concat())
}

#[test]
fn redis_cli_builds_a_cluster_of_three_that_clients_and_restarts_follow() {
    if redis_cli(&["--version"]).is_none() {
        return;
    }
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let mut nodes: Vec<TestServer> = (0..3).map(|i| node_on(dirs[i].path(), ports[i].0, ports[i].1)).collect();
    let addrs: Vec<String> = ports.iter().map(|(p, _)| format!("127.0.0.1:{p}")).collect();

    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.push("--cluster-yes");
    let (ok, out) = redis_cli(&create).unwrap();
    assert!(ok && out.contains("[OK] All 16384 slots covered."), "{out}");
    let (ok, out) = redis_cli(&["--cluster", "check", &addrs[1]]).unwrap();
    assert!(ok && out.contains("[OK] All nodes agree about slots configuration."), "{out}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
    for n in &nodes {
        let mut con = n.client();
        eventually("every node sees the cluster ok", || info_field(&mut con, "cluster_state") == "ok");
        assert_eq!(info_field(&mut con, "cluster_known_nodes"), "3");
        assert_eq!(info_field(&mut con, "cluster_size"), "3");
        let text: String = q(&mut con, &["CLUSTER", "NODES"]);
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.lines().all(|l| l.contains("127.0.0.1:") && l.ends_with(|c: char| c.is_ascii_digit())), "{text}");
    }

    // A key of another node's slot is MOVED there; redis-cli -c follows.
    // slot("foo") = 12182: the third node's (10923-16383).
    let mut first = nodes[0].client();
    assert_eq!(err(&mut first, &["GET", "foo"]), format!("MOVED 12182 {}", addrs[2]));
    for i in 0..50 {
        let (key, value) = (format!("key:{i}"), format!("value:{i}"));
        let (ok, out) = redis_cli(&["-c", "-p", &ports[i % 3].0.to_string(), "SET", &key, &value]).unwrap();
        assert!(ok && out.trim() == "OK", "{out}");
    }
    let read_all = |port: u16| {
        (0..50).all(|i| {
            let (_, out) = redis_cli(&["-c", "-p", &port.to_string(), "GET", &format!("key:{i}")]).unwrap();
            out.trim() == format!("value:{i}")
        })
    };
    assert!(read_all(ports[1].0));
    let total: i64 = nodes.iter().map(|n| q::<i64>(&mut n.client(), &["DBSIZE"])).sum();
    assert_eq!(total, 50);

    // The HTTP gateway of any node answers for every key: it forwards.
    let set = nodes[0].post_json("/", &[], &serde_json::json!(["SET", "foo", "over-http"]));
    assert_eq!(set.json(), serde_json::json!({"result": "OK"}), "{set:?}");
    let held: Option<String> = q(&mut nodes[2].client(), &["GET", "foo"]);
    assert_eq!(held.as_deref(), Some("over-http"), "the value lives on the slot's node");
    let got = nodes[1].http("GET", "/get/foo", &[], b"");
    assert_eq!(got.json(), serde_json::json!({"result": "over-http"}), "{got:?}");

    // The third node restarts from its cluster-config-file: same name, same
    // slots, and the others take it back.
    let id: String = q(&mut nodes[2].client(), &["CLUSTER", "MYID"]);
    assert_eq!(nodes[2].terminate(), Some(0));
    nodes[2] = node_on(dirs[2].path(), ports[2].0, ports[2].1);
    let mut third = nodes[2].client();
    let again: String = q(&mut third, &["CLUSTER", "MYID"]);
    assert_eq!(again, id);
    let text: String = q(&mut third, &["CLUSTER", "NODES"]);
    assert!(text.lines().next().unwrap().ends_with("myself,master - 0 0 3 connected 10923-16383"), "{text}");
    eventually("the first node sees the third connected again", || {
        let text: String = q(&mut first, &["CLUSTER", "NODES"]);
        text.lines().any(|l| l.starts_with(&id) && l.contains(" connected 10923-16383"))
    });
    assert!(read_all(ports[0].0));
    let (ok, out) = redis_cli(&["--cluster", "check", &addrs[2]]).unwrap();
    assert!(ok && out.contains("[OK] All 16384 slots covered."), "{out}");
}

/// A small cluster client: follows MOVED, follows ASK with ASKING on the
/// target, and retries TRYAGAIN (the redirections Redis Cluster clients
/// handle), starting from the node at `port`.
fn cluster_query<T: redis::FromRedisValue>(port: u16, args: &[&str]) -> T {
    let mut port = port;
    let mut asking = false;
    for _ in 0..1000 {
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        let result = if asking {
            redis::pipe().cmd("ASKING").ignore().add_command(c).query::<(T,)>(&mut con).map(|(v,)| v)
        } else {
            c.query::<T>(&mut con)
        };
        match result {
            Ok(v) => return v,
            Err(e) => {
                let target = || e.detail().and_then(|d| d.rsplit(':').next()).and_then(|p| p.parse::<u16>().ok());
                match e.code() {
                    Some("MOVED") => (port, asking) = (target().unwrap(), false),
                    Some("ASK") => (port, asking) = (target().unwrap(), true),
                    Some("TRYAGAIN") => {}
                    _ => panic!("{args:?}: {e}"),
                }
            }
        }
    }
    panic!("{args:?}: still redirected after 1000 tries");
}

#[test]
fn redis_cli_reshards_2000_slots_while_a_client_writes_and_reads() {
    if redis_cli(&["--version"]).is_none() {
        return;
    }
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes: Vec<TestServer> = (0..3).map(|i| node(dirs[i].path(), free_port())).collect();
    let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.push("--cluster-yes");
    let (ok, out) = redis_cli(&create).unwrap();
    assert!(ok, "{out}");
    for n in &nodes {
        let mut con = n.client();
        eventually("every node sees the cluster ok", || info_field(&mut con, "cluster_state") == "ok");
    }
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    for i in 0..300 {
        let _: () = cluster_query(ports[i % 3], &["SET", &format!("key:{i}"), &i.to_string()]);
    }

    // A client keeps writing new keys and reading old ones while slots move.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, ports) = (stop.clone(), ports.clone());
        std::thread::spawn(move || {
            let mut i = 300;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _: () = cluster_query(ports[i % 3], &["SET", &format!("key:{i}"), &i.to_string()]);
                let old = (i * 7919) % i;
                let v: Option<String> = cluster_query(ports[(i + 1) % 3], &["GET", &format!("key:{old}")]);
                assert_eq!(v, Some(old.to_string()), "key:{old} while resharding");
                i += 1;
            }
            i
        })
    };
    let from: String = q(&mut nodes[0].client(), &["CLUSTER", "MYID"]);
    let to: String = q(&mut nodes[1].client(), &["CLUSTER", "MYID"]);
    let reshard =
        ["--cluster", "reshard", &addrs[0], "--cluster-from", &from, "--cluster-to", &to, "--cluster-slots", "2000"];
    let (ok, out) = redis_cli(&[&reshard[..], &["--cluster-yes"]].concat()).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().expect("the writer saw every key");
    assert!(ok, "{out}");

    let (ok, out) = redis_cli(&["--cluster", "check", &addrs[2]]).unwrap();
    assert!(ok && out.contains("[OK] All nodes agree about slots configuration."), "{out}");
    assert!(
        out.contains("[OK] All 16384 slots covered.") && !out.contains("[WARNING]") && !out.contains("[ERR]"),
        "{out}"
    );
    let to_slots: String = q(&mut nodes[1].client(), &["CLUSTER", "NODES"]);
    assert!(to_slots.lines().next().unwrap().contains(" 0-1999 "), "{to_slots}");
    // Every key written is readable, and held once.
    for i in 0..written {
        let v: Option<String> = cluster_query(ports[i % 3], &["GET", &format!("key:{i}")]);
        assert_eq!(v, Some(i.to_string()), "key:{i}");
    }
    let total: i64 = nodes.iter().map(|n| q::<i64>(&mut n.client(), &["DBSIZE"])).sum();
    assert_eq!(total as usize, written);
}
