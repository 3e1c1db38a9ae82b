//! Commands over the sharded keyspace: cross-shard atomicity, SCAN, expiry.

use crate::util::TestServer;
use redis::Commands;
use std::collections::HashSet;
use std::time::{Duration, Instant};

#[test]
fn set_get_and_wrong_type() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    let _: () = con.hset("h", "f", "1").unwrap();
    let err = con.get::<_, String>("h").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
}

#[test]
fn multi_key_commands_span_shards() {
    let srv = TestServer::start(&["--shards", "8", "--io-threads", "2"]);
    let mut con = srv.client();
    let keys: Vec<String> = (0..200).map(|i| format!("key:{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("val-{k}"))).collect();
    let _: () = con.mset(&pairs).unwrap();
    let vals: Vec<String> = con.mget(&keys).unwrap();
    assert_eq!(vals, pairs.iter().map(|p| p.1.clone()).collect::<Vec<_>>());
    let n: usize = con.del(&keys[..100]).unwrap();
    assert_eq!(n, 100);
    let n: usize = con.exists(&keys).unwrap();
    assert_eq!(n, 100);
    // RENAME across slots (and shards) keeps the value and the TTL.
    let _: () = redis::cmd("SET").arg("src").arg("x").arg("EX").arg(1000).query(&mut con).unwrap();
    let _: () = con.rename("src", "another-key").unwrap();
    let ttl: i64 = con.ttl("another-key").unwrap();
    assert!((990..=1000).contains(&ttl));
    let dbsize: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(dbsize, 101);
}

/// Two writers set both keys of a pair to the same value with MSET, a reader
/// checks with MGET that it never sees the keys disagree: MSET across shards is
/// atomic.
#[test]
fn cross_shard_mset_is_atomic() {
    let srv = TestServer::start(&["--shards", "16", "--io-threads", "4"]);
    let (a, b) = ("pair-a", "pair-b{other}");
    let url = srv.url();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..2000 {
                    let v = format!("{w}-{i}");
                    let _: () = con.mset(&[(a, &v), (b, &v)]).unwrap();
                }
            })
        })
        .collect();
    let mut con = srv.client();
    let mut reads = 0;
    while writers.iter().any(|w| !w.is_finished()) || reads == 0 {
        let (x, y): (Option<String>, Option<String>) = redis::cmd("MGET").arg(a).arg(b).query(&mut con).unwrap();
        assert_eq!(x, y);
        reads += 1;
    }
    for w in writers {
        w.join().unwrap();
    }
}

#[test]
fn concurrent_increments_are_not_lost() {
    let srv = TestServer::start(&["--io-threads", "4"]);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let url = srv.url();
            std::thread::spawn(move || {
                let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
                for _ in 0..500 {
                    let _: i64 = con.incr("counter", 1).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = srv.client();
    let n: i64 = con.get("counter").unwrap();
    assert_eq!(n, 4000);
}

#[test]
fn scan_returns_every_key_once() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let mut want = HashSet::new();
    for i in 0..3000 {
        let k = if i % 3 == 0 { format!("user:{{same}}:{i}") } else { format!("user:{i}") };
        want.insert(k.clone());
        let _: () = con.set(&k, i).unwrap();
    }
    let _: () = con.set("other", 1).unwrap();
    let mut seen = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("MATCH").arg("user:*").arg("COUNT").arg(50).query(&mut con).unwrap();
        seen.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), want.len(), "no duplicates");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), want);
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    let srv = TestServer::start(&["--hz", "50"]);
    let mut con = srv.client();
    for i in 0..100 {
        let _: () = redis::cmd("SET").arg(format!("tmp:{i}")).arg(i).arg("PX").arg(20).query(&mut con).unwrap();
    }
    let _: () = con.set("keep", 1).unwrap();
    // Waiting for time to pass is what this test is about: poll until the
    // expiry cycle removed them, with a generous deadline.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "keys were not expired: dbsize {n}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(info.contains("expired_keys:100"), "{info}");
}

#[test]
fn select_databases_are_separate() {
    let srv = TestServer::start(&["--databases", "4"]);
    let mut con = srv.client();
    let _: () = con.set("k", "db0").unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let v: Option<String> = con.get("k").unwrap();
    assert_eq!(v, None);
    let err = redis::cmd("SELECT").arg(4).query::<()>(&mut con).unwrap_err();
    assert!(err.to_string().contains("DB index is out of range"));
}

#[test]
fn cluster_slot_commands_in_standalone_mode() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let slot: i64 = redis::cmd("CLUSTER").arg("KEYSLOT").arg("foo").query(&mut con).unwrap();
    assert_eq!(slot, 12182);
    for i in 0..5 {
        let _: () = con.set(format!("{{user1000}}.{i}"), i).unwrap();
    }
    let n: i64 = redis::cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(3443).query(&mut con).unwrap();
    assert_eq!(n, 5);
    let keys: Vec<String> = redis::cmd("CLUSTER").arg("GETKEYSINSLOT").arg(3443).arg(3).query(&mut con).unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k.starts_with("{user1000}.")));
    let err = redis::cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(16384).query::<i64>(&mut con).unwrap_err();
    assert!(err.to_string().contains("Invalid slot"));
}

#[test]
fn randomkey_returns_an_existing_key() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let none: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
    assert_eq!(none, None);
    for i in 0..10 {
        let _: () = con.set(format!("r{i}"), i).unwrap();
    }
    for _ in 0..20 {
        let k: String = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
        assert!(k.starts_with('r'));
    }
}

/// Commands whose keys are counted by an argument (numkeys) or sit beside such
/// keys lock every shard they touch: the destination and sources may live in
/// different shards.
#[test]
fn numkeys_commands_route_across_shards() {
    let srv = TestServer::start(&["--shards", "16", "--io-threads", "2"]);
    let mut con = srv.client();
    for (k, base) in [("zs:a", 1), ("zs:b", 10), ("zs:c", 100)] {
        for i in 0..5 {
            let _: i64 = redis::cmd("ZADD").arg(k).arg(base * i).arg(format!("m{i}")).query(&mut con).unwrap();
        }
    }
    let n: i64 =
        redis::cmd("ZUNIONSTORE").arg("dest{x}").arg(3).arg("zs:a").arg("zs:b").arg("zs:c").query(&mut con).unwrap();
    assert_eq!(n, 5);
    let top: Vec<(String, f64)> =
        redis::cmd("ZRANGE").arg("dest{x}").arg(-1).arg(-1).arg("WITHSCORES").query(&mut con).unwrap();
    assert_eq!(top, vec![("m4".to_string(), 444.0)]);
    let card: i64 = redis::cmd("ZINTERCARD").arg(2).arg("zs:a").arg("zs:c").query(&mut con).unwrap();
    assert_eq!(card, 5);
    let _: i64 = redis::cmd("RPUSH").arg("q:1").arg("a").query(&mut con).unwrap();
    let popped: (String, Vec<String>) =
        redis::cmd("LMPOP").arg(2).arg("q:0").arg("q:1").arg("LEFT").query(&mut con).unwrap();
    assert_eq!(popped, ("q:1".to_string(), vec!["a".to_string()]));
    let _: i64 = redis::cmd("SADD").arg("s:1").arg("x").arg("y").query(&mut con).unwrap();
    let _: i64 = redis::cmd("SADD").arg("s:2").arg("y").query(&mut con).unwrap();
    let c: i64 = redis::cmd("SINTERCARD").arg(2).arg("s:1").arg("s:2").query(&mut con).unwrap();
    assert_eq!(c, 1);
    let moved: i64 = redis::cmd("SMOVE").arg("s:1").arg("other-set").arg("x").query(&mut con).unwrap();
    assert_eq!(moved, 1);
}

/// A transaction over keys in different shards runs with nothing in between:
/// a reader never sees one key of the pair updated and the other not.
#[test]
fn multi_exec_is_atomic_across_shards() {
    let srv = TestServer::start(&["--shards", "16", "--io-threads", "4"]);
    let (a, b) = ("tx-a", "tx-b{elsewhere}");
    let url = srv.url();
    let writer = std::thread::spawn(move || {
        let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
        for i in 0..1000 {
            let v = i.to_string();
            let (r1, r2): (String, String) =
                redis::pipe().atomic().cmd("SET").arg(a).arg(&v).cmd("SET").arg(b).arg(&v).query(&mut con).unwrap();
            assert_eq!((r1.as_str(), r2.as_str()), ("OK", "OK"));
        }
    });
    let mut con = srv.client();
    while !writer.is_finished() {
        let (x, y): (Option<String>, Option<String>) = redis::cmd("MGET").arg(a).arg(b).query(&mut con).unwrap();
        assert_eq!(x, y);
    }
    writer.join().unwrap();
}
