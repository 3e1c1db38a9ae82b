//! Streams between real clients: a job queue on a consumer group with two
//! workers (blocking XREADGROUP woken by XADD, XACK, XAUTOCLAIM of a dead
//! worker's jobs), and XREAD BLOCK on `$`.

use crate::util::TestServer;
use redis::{Connection, Value};
use std::thread;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn await_blocked(c: &mut Connection, n: usize) {
    for _ in 0..10_000 {
        let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
        if info.lines().any(|l| l.trim() == format!("blocked_clients:{n}")) {
            return;
        }
        thread::yield_now();
    }
    panic!("never saw {n} blocked clients");
}

/// The ids in an XREADGROUP/XREAD reply for one stream.
fn ids_of(reply: &Value) -> Vec<String> {
    let Value::Array(streams) = reply else { return Vec::new() };
    let mut ids = Vec::new();
    for s in streams {
        let Value::Array(pair) = s else { continue };
        let Value::Array(entries) = &pair[1] else { continue };
        for e in entries {
            if let Value::Array(e) = e {
                if let Value::BulkString(id) = &e[0] {
                    ids.push(String::from_utf8_lossy(id).into_owned());
                }
            }
        }
    }
    ids
}

#[test]
fn a_job_queue_with_two_workers() {
    let srv = TestServer::start(&[]);
    let mut admin = srv.client();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("jobs")
        .arg("workers")
        .arg("$")
        .arg("MKSTREAM")
        .query(&mut admin)
        .unwrap();

    // Both workers block waiting for work.
    let worker = |name: &'static str| {
        let mut c = srv.client();
        thread::spawn(move || {
            redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg("workers")
                .arg(name)
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(0)
                .arg("STREAMS")
                .arg("jobs")
                .arg(">")
                .query::<Value>(&mut c)
                .unwrap()
        })
    };
    let w1 = worker("w1");
    await_blocked(&mut admin, 1);
    let w2 = worker("w2");
    await_blocked(&mut admin, 2);
    let _: String = redis::cmd("XADD").arg("jobs").arg("1-1").arg("task").arg("a").query(&mut admin).unwrap();
    let _: String = redis::cmd("XADD").arg("jobs").arg("1-2").arg("task").arg("b").query(&mut admin).unwrap();
    let got1 = ids_of(&w1.join().unwrap());
    let got2 = ids_of(&w2.join().unwrap());
    assert_eq!(got1, ["1-1"], "first blocked worker gets the first job");
    assert_eq!(got2, ["1-2"]);

    // w1 finishes its job; w2 dies without acknowledging.
    let acked: i64 = redis::cmd("XACK").arg("jobs").arg("workers").arg("1-1").query(&mut admin).unwrap();
    assert_eq!(acked, 1);
    let pending: Value = redis::cmd("XPENDING").arg("jobs").arg("workers").query(&mut admin).unwrap();
    assert_eq!(
        pending,
        Value::Array(vec![
            Value::Int(1),
            bulk("1-2"),
            bulk("1-2"),
            Value::Array(vec![Value::Array(vec![bulk("w2"), bulk("1")])]),
        ])
    );

    // w1 takes over what w2 left (min idle 0: the test does not wait on the clock).
    let claimed: Value =
        redis::cmd("XAUTOCLAIM").arg("jobs").arg("workers").arg("w1").arg(0).arg("0-0").query(&mut admin).unwrap();
    let Value::Array(parts) = claimed else { panic!("{claimed:?}") };
    assert_eq!(parts[0], bulk("0-0"), "cursor: nothing more to scan");
    let Value::Array(entries) = &parts[1] else { panic!() };
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0], Value::Array(vec![bulk("1-2"), Value::Array(vec![bulk("task"), bulk("b")])]));
    let rows: Value =
        redis::cmd("XPENDING").arg("jobs").arg("workers").arg("-").arg("+").arg(10).query(&mut admin).unwrap();
    let Value::Array(rows) = rows else { panic!() };
    let Value::Array(row) = &rows[0] else { panic!() };
    assert_eq!((&row[0], &row[1], &row[3]), (&bulk("1-2"), &bulk("w1"), &Value::Int(2)), "claimed, delivered twice");
    let acked: i64 = redis::cmd("XACK").arg("jobs").arg("workers").arg("1-2").query(&mut admin).unwrap();
    assert_eq!(acked, 1);
    let info: Value = redis::cmd("XINFO").arg("GROUPS").arg("jobs").query(&mut admin).unwrap();
    let Value::Array(groups) = info else { panic!() };
    let Value::Array(g) = &groups[0] else { panic!() };
    assert_eq!(&g[4..8], &[bulk("pending"), Value::Int(0), bulk("last-delivered-id"), bulk("1-2")][..]);
}

#[test]
fn xread_block_on_dollar_sees_only_new_entries() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let _: String = redis::cmd("XADD").arg("events").arg("5-0").arg("old").arg("1").query(&mut c).unwrap();
    let mut reader = srv.client();
    let r = thread::spawn(move || {
        redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(0)
            .arg("STREAMS")
            .arg("events")
            .arg("$")
            .query::<Value>(&mut reader)
            .unwrap()
    });
    await_blocked(&mut c, 1);
    // Another stream's write and a group change do not serve it.
    let _: String = redis::cmd("XADD").arg("other").arg("1-0").arg("x").arg("1").query(&mut c).unwrap();
    let _: String = redis::cmd("XADD").arg("events").arg("6-0").arg("new").arg("1").query(&mut c).unwrap();
    assert_eq!(ids_of(&r.join().unwrap()), ["6-0"]);
    // A timeout answers null.
    let v: Value =
        redis::cmd("XREAD").arg("BLOCK").arg(20).arg("STREAMS").arg("events").arg("$").query(&mut c).unwrap();
    assert_eq!(v, Value::Nil);
}

#[test]
fn destroying_the_group_ends_a_blocked_xreadgroup() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let _: () = redis::cmd("XGROUP").arg("CREATE").arg("s").arg("g").arg("$").arg("MKSTREAM").query(&mut c).unwrap();
    let mut reader = srv.client();
    let r = thread::spawn(move || {
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("g")
            .arg("c")
            .arg("BLOCK")
            .arg(0)
            .arg("STREAMS")
            .arg("s")
            .arg(">")
            .query::<Value>(&mut reader)
    });
    await_blocked(&mut c, 1);
    let _: i64 = redis::cmd("XGROUP").arg("DESTROY").arg("s").arg("g").query(&mut c).unwrap();
    let err = r.join().unwrap().unwrap_err();
    assert_eq!(err.code(), Some("NOGROUP"), "{err}");
}

#[test]
fn xinfo_stream_full_is_a_whole_reply() {
    // Regression: the reply once announced ten fields and sent nine, so a
    // client waited forever for the tenth.
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let _: String = redis::cmd("XADD").arg("s").arg("1-1").arg("f").arg("v").query(&mut c).unwrap();
    let full: Vec<Value> = redis::cmd("XINFO").arg("STREAM").arg("s").arg("FULL").query(&mut c).unwrap();
    assert_eq!(full.len(), 18);
    assert_eq!(full[16], bulk("groups"));
    let brief: Vec<Value> = redis::cmd("XINFO").arg("STREAM").arg("s").query(&mut c).unwrap();
    assert_eq!(brief.len(), 20);
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}
