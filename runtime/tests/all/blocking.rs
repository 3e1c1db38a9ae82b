//! Blocking commands and WATCH between real clients: wake-up order, timeouts,
//! wake-ups from transactions, CLIENT UNBLOCK, optimistic-locking races.

use crate::util::TestServer;
use redis::{Commands, Connection, Value};
use std::thread;

/// Waits until the server reports `n` blocked clients. The server's own count
/// is the synchronisation: a client counts once it stands in line.
fn await_blocked(c: &mut Connection, n: usize) {
    for _ in 0..10_000 {
        let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
        let line = info.lines().find(|l| l.starts_with("blocked_clients:")).unwrap();
        if line["blocked_clients:".len()..].trim() == n.to_string() {
            return;
        }
        thread::yield_now();
    }
    panic!("never saw {n} blocked clients");
}

/// Starts `cmd` on a new connection in a thread; its reply comes back on join.
fn spawn(srv: &TestServer, cmd: redis::Cmd) -> thread::JoinHandle<Value> {
    let mut c = srv.client();
    thread::spawn(move || cmd.query(&mut c).unwrap())
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn first_blocked_is_first_served() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let mut waiters = Vec::new();
    for i in 0..3 {
        waiters.push(spawn(&srv, redis::cmd("BLPOP").arg("queue").arg(0).clone()));
        await_blocked(&mut c, i + 1);
    }
    let _: i64 = c.rpush("queue", &["a", "b", "c", "d"]).unwrap();
    let got: Vec<Value> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(
        got,
        ["a", "b", "c"].map(|e| Value::Array(vec![bulk("queue"), bulk(e)])).to_vec(),
        "served in the order they blocked"
    );
    let rest: Vec<String> = c.lrange("queue", 0, -1).unwrap();
    assert_eq!(rest, ["d"]);
    await_blocked(&mut c, 0);
}

#[test]
fn timeouts_answer_null() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let v: Value = redis::cmd("BLPOP").arg("nothing").arg(0.05).query(&mut c).unwrap();
    assert_eq!(v, Value::Nil);
    let v: Value =
        redis::cmd("BLMOVE").arg("nothing").arg("dst").arg("LEFT").arg("LEFT").arg(0.05).query(&mut c).unwrap();
    assert_eq!(v, Value::Nil);
    let v: Value = redis::cmd("BZPOPMIN").arg("nothing").arg(0.05).query(&mut c).unwrap();
    assert_eq!(v, Value::Nil);
    // The connection goes on normally afterwards.
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn a_transaction_wakes_waiters_with_what_it_leaves() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let w = spawn(&srv, redis::cmd("BRPOP").arg("k1").arg("k2").arg(0).clone());
    await_blocked(&mut c, 1);
    // Pushed and popped within one transaction: nothing is left, nobody is served.
    let _: Value = redis::pipe().atomic().rpush("k2", "gone").lpop("k2", None).query(&mut c).unwrap();
    let _: Value = redis::pipe().atomic().set("unrelated", 1).rpush("k2", "kept").query(&mut c).unwrap();
    assert_eq!(w.join().unwrap(), Value::Array(vec![bulk("k2"), bulk("kept")]));
}

#[test]
fn blocked_moves_and_zset_pops_across_shards() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    // `src` and `dst` hash to different slots, and so to different shards.
    let w = spawn(&srv, redis::cmd("BLMOVE").arg("src").arg("dst").arg("RIGHT").arg("LEFT").arg(0).clone());
    let z = spawn(&srv, redis::cmd("BZPOPMAX").arg("zs").arg(0).clone());
    await_blocked(&mut c, 2);
    let _: i64 = c.rpush("src", &["x", "y"]).unwrap();
    let _: i64 = c.zadd_multiple("zs", &[(1, "low"), (2, "high")]).unwrap();
    assert_eq!(w.join().unwrap(), bulk("y"));
    assert_eq!(z.join().unwrap(), Value::Array(vec![bulk("zs"), bulk("high"), bulk("2")]));
    let dst: Vec<String> = c.lrange("dst", 0, -1).unwrap();
    assert_eq!(dst, ["y"]);
}

#[test]
fn a_key_of_another_type_keeps_the_waiter_waiting() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let w = spawn(&srv, redis::cmd("BLPOP").arg("k").arg(0).clone());
    await_blocked(&mut c, 1);
    let _: () = c.set("k", "a string").unwrap();
    let _: i64 = c.del("k").unwrap();
    let _: i64 = c.rpush("k", "finally").unwrap();
    assert_eq!(w.join().unwrap(), Value::Array(vec![bulk("k"), bulk("finally")]));
}

#[test]
fn client_unblock_and_disconnect() {
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    let mut waiter = srv.client();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut waiter).unwrap();
    let w = thread::spawn(move || redis::cmd("BLPOP").arg("q").arg(0).query::<Value>(&mut waiter));
    await_blocked(&mut c, 1);
    let n: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(id).query(&mut c).unwrap();
    assert_eq!(n, 1);
    assert_eq!(w.join().unwrap().unwrap(), Value::Nil);

    let mut waiter = srv.client();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut waiter).unwrap();
    let w = thread::spawn(move || redis::cmd("BLPOP").arg("q").arg(0).query::<Value>(&mut waiter));
    await_blocked(&mut c, 1);
    let n: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(id).arg("ERROR").query(&mut c).unwrap();
    assert_eq!(n, 1);
    let err = w.join().unwrap().unwrap_err();
    assert_eq!(err.code(), Some("UNBLOCKED"), "{err}");
    let n: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(id).query(&mut c).unwrap();
    assert_eq!(n, 0, "no longer blocked");

    // A waiter that disconnects leaves the line; the next one is served.
    let mut gone = srv.raw();
    gone.send(&crate::util::resp(&[b"BLPOP", b"q", b"0"]));
    await_blocked(&mut c, 1);
    let next = spawn(&srv, redis::cmd("BLPOP").arg("q").arg(0).clone());
    await_blocked(&mut c, 2);
    drop(gone);
    await_blocked(&mut c, 1);
    let _: i64 = c.rpush("q", "v").unwrap();
    assert_eq!(next.join().unwrap(), Value::Array(vec![bulk("q"), bulk("v")]));
}

#[test]
fn watch_sees_another_clients_write() {
    let srv = TestServer::start(&[]);
    let mut a = srv.client();
    let mut b = srv.client();
    let _: () = a.set("balance", 10).unwrap();
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut a).unwrap();
    let _: () = b.set("balance", 20).unwrap();
    let r: Value = redis::pipe().atomic().set("balance", 0).query(&mut a).unwrap();
    assert_eq!(r, Value::Nil, "EXEC refused");
    let v: i64 = a.get("balance").unwrap();
    assert_eq!(v, 20);
    // Not watched any more: the next transaction runs.
    let _: () = redis::pipe().atomic().set("balance", 1).query(&mut a).unwrap();
    let v: i64 = a.get("balance").unwrap();
    assert_eq!(v, 1);
}

#[test]
fn watch_protects_read_modify_write_between_clients() {
    let srv = TestServer::start(&[]);
    let per_client = 200;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let mut c = srv.client();
            thread::spawn(move || {
                let mut retries = 0;
                for _ in 0..per_client {
                    loop {
                        let _: () = redis::cmd("WATCH").arg("counter").query(&mut c).unwrap();
                        let n: i64 = c.get::<_, Option<i64>>("counter").unwrap().unwrap_or(0);
                        let r: Value = redis::pipe().atomic().set("counter", n + 1).query(&mut c).unwrap();
                        if r != Value::Nil {
                            break;
                        }
                        retries += 1;
                    }
                }
                retries
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut c = srv.client();
    let n: i64 = c.get("counter").unwrap();
    assert_eq!(n, 4 * per_client, "no increment lost");
}

#[test]
fn blocked_clients_are_served_before_the_pushers_next_command() {
    // One I/O thread: the order is then exact, as in Redis.
    let srv = TestServer::start(&["--io-threads", "1"]);
    let mut c = srv.client();
    let w = spawn(&srv, redis::cmd("BLPOP").arg("q").arg(0).clone());
    await_blocked(&mut c, 1);
    let mut pusher = srv.raw();
    let mut req = crate::util::resp(&[b"RPUSH", b"q", b"v"]);
    req.extend(crate::util::resp(&[b"LPOP", b"q"]));
    pusher.send(&req);
    pusher.expect(b":1\r\n$-1\r\n");
    assert_eq!(w.join().unwrap(), Value::Array(vec![bulk("q"), bulk("v")]));
}
