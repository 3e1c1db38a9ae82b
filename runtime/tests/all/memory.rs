//! Memory limits: `used_memory` follows the real heap, eviction keeps it under
//! `maxmemory` while redis-benchmark writes far past it, `noeviction` refuses
//! writes with Redis's OOM error, and volatile policies spare keys without TTL.

use crate::util::TestServer;
use redis::{Commands, Connection};
use std::process::Command;

fn info_field(c: &mut Connection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    let prefix = format!("{field}:");
    let line = info.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {field} in {info}"));
    line[prefix.len()..].trim().parse().unwrap()
}

/// The check runs before each command, and the allocator's statistics are
/// re-read at most once a millisecond: the last commands may each add a key.
const SLACK: u64 = 64 * 1024;

#[test]
fn eviction_keeps_used_memory_under_maxmemory_while_benchmark_writes_past_it() {
    let srv = TestServer::start(&["--maxmemory", "16mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    let max = info_field(&mut c, "memory", "maxmemory");
    assert_eq!(max, 16 * 1024 * 1024);
    let port = srv.url().trim_end_matches('/').rsplit(':').next().unwrap().to_string();
    // 200k random keys of 100 bytes: several times the limit.
    let status = Command::new("redis-benchmark")
        .args(["-p", &port, "-r", "1000000", "-t", "set", "-d", "100", "-n", "200000", "-q"])
        .output()
        .expect("redis-benchmark (redis-tools) must be installed: scripts/test installs it");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let used = info_field(&mut c, "memory", "used_memory");
    assert!(used <= max + SLACK, "used_memory {used} over maxmemory {max}");
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 10_000, "evicted only {evicted}");
    let keys: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert!(keys > 10_000 && keys < 200_000, "{keys} keys left");
    // The server keeps serving, and writes keep working.
    let _: () = c.set("after", "ok").unwrap();
    let v: String = c.get("after").unwrap();
    assert_eq!(v, "ok");
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let srv = TestServer::start(&["--maxmemory", "8mb"]);
    let mut c = srv.client();
    let value = vec![b'v'; 4096];
    let mut stored = 0;
    let err = loop {
        match c.set::<_, _, ()>(format!("k{stored}"), &value[..]) {
            Ok(()) => stored += 1,
            Err(e) => break e,
        }
        assert!(stored < 100_000, "never refused");
    };
    assert_eq!(err.code(), Some("OOM"), "{err}");
    assert_eq!(err.detail(), Some("command not allowed when used memory > 'maxmemory'."));
    assert!(stored > 100);
    let v: Vec<u8> = c.get("k0").unwrap();
    assert_eq!(v.len(), 4096, "reads still work");
    let n: i64 = c.incr("k0-counter-not-there", 1).unwrap_or(-1);
    assert_eq!(n, -1, "INCR may grow memory: refused too");
    // Deleting frees memory; writes work again.
    let keys: Vec<String> = (0..stored / 2).map(|i| format!("k{i}")).collect();
    let _: i64 = c.del(&keys).unwrap();
    let _: () = c.set("again", "fits").unwrap();
    // A transaction with a write is refused as a whole.
    for i in stored / 2..stored * 2 {
        if c.set::<_, _, ()>(format!("k{i}"), &value[..]).is_err() {
            break;
        }
    }
    let r: redis::RedisResult<()> = redis::pipe().atomic().set("tx", &value[..]).query(&mut c);
    let e = r.unwrap_err();
    assert!(e.to_string().contains("OOM") || e.to_string().contains("EXECABORT"), "{e}");
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let value = vec![b'x'; 2048];
    for i in 0..2000 {
        let _: () = c.set(format!("keep{i}"), &value[..]).unwrap();
        let _: () = c.set_ex(format!("temp{i}"), &value[..], 3600 + i as u64).unwrap();
    }
    let used = info_field(&mut c, "memory", "used_memory");
    // Ask for about a quarter less: only the volatile keys can make room.
    let target = used - used / 4;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(target)
        .arg("maxmemory-policy")
        .arg("volatile-ttl")
        .query(&mut c)
        .unwrap();
    let _: () = c.set("trigger", "x").unwrap();
    let kept = (0..2000).filter(|i| c.exists::<_, bool>(format!("keep{i}")).unwrap()).count();
    let temps = (0..2000).filter(|i| c.exists::<_, bool>(format!("temp{i}")).unwrap()).count();
    assert_eq!(kept, 2000, "keys without TTL are never evicted by volatile-ttl");
    assert!(temps < 2000, "some volatile keys were evicted");
    // volatile-ttl takes the soonest to expire first (sampling: mostly).
    let early = (0..500).filter(|i| c.exists::<_, bool>(format!("temp{i}")).unwrap()).count();
    let late = (1500..2000).filter(|i| c.exists::<_, bool>(format!("temp{i}")).unwrap()).count();
    assert!(early < late, "early {early} late {late}");
}

#[test]
fn used_memory_tracks_the_heap() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let before = info_field(&mut c, "memory", "used_memory");
    let value = vec![b'd'; 16 * 1024];
    let n = 4096; // 64 MiB of values
    for chunk in (0..n).collect::<Vec<_>>().chunks(256) {
        let mut p = redis::pipe();
        for i in chunk {
            p.set(format!("blob{i}"), &value[..]).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    let after = info_field(&mut c, "memory", "used_memory");
    let rss = info_field(&mut c, "memory", "used_memory_rss");
    let payload = (n * value.len()) as f64;
    let grown = (after - before) as f64;
    assert!((grown / payload - 1.0).abs() < 0.2, "grew {grown} for {payload} of values");
    // The resident set also holds freed pages the allocator keeps, buffers
    // and code: it bounds used_memory from above.
    assert!(after <= rss, "used {after} vs rss {rss}");
    // And it comes back down when the keys go.
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let freed = info_field(&mut c, "memory", "used_memory");
    assert!(freed < before + (payload as u64) / 10, "after FLUSHALL: {freed}");
}
