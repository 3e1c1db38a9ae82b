//! Pub/Sub between real connections: channels, patterns, shard channels, RESP3
//! push frames, and the output limit that closes a subscriber that stops reading.

use crate::util::{resp, TestServer};
use redis::Commands;
use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn messages_reach_channel_and_pattern_subscribers() {
    let srv = TestServer::start(&[]);
    let mut sub = srv.raw();
    sub.send(&resp(&[b"SUBSCRIBE", b"news"]));
    sub.expect(b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    sub.send(&resp(&[b"PSUBSCRIBE", b"n*"]));
    sub.expect(b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n");
    let mut psub = srv.raw();
    psub.send(&resp(&[b"SSUBSCRIBE", b"orders"]));
    psub.expect(b"*3\r\n$10\r\nssubscribe\r\n$6\r\norders\r\n:1\r\n");

    let mut c = srv.client();
    let n: i64 = c.publish("news", "hello").unwrap();
    assert_eq!(n, 2, "one channel and one pattern subscription");
    sub.expect(b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    sub.expect(b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    let n: i64 = c.publish("other", "x").unwrap();
    assert_eq!(n, 0);
    let n: i64 = redis::cmd("SPUBLISH").arg("orders").arg("o1").query(&mut c).unwrap();
    assert_eq!(n, 1);
    psub.expect(b"*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$2\r\no1\r\n");

    let numsub: Vec<redis::Value> = redis::cmd("PUBSUB").arg("NUMSUB").arg("news").query(&mut c).unwrap();
    assert_eq!(numsub, vec![redis::Value::BulkString(b"news".to_vec()), redis::Value::Int(1)]);
    let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
    assert_eq!(numpat, 1);

    // Subscribed mode refuses other commands on RESP2.
    sub.send(&resp(&[b"GET", b"k"]));
    sub.expect(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    // A departing subscriber leaves no subscription behind.
    drop(sub);
    for _ in 0..10_000 {
        let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
        if numpat == 0 {
            break;
        }
        std::thread::yield_now();
    }
    let n: i64 = c.publish("news", "again").unwrap();
    assert_eq!(n, 0);
}

#[test]
fn resp3_clients_get_push_frames_between_replies() {
    let srv = TestServer::start(&[]);
    let mut sub = srv.raw();
    sub.send(&resp(&[b"HELLO", b"3"]));
    sub.read_until(b"modules\r\n*0\r\n");
    sub.send(&resp(&[b"SUBSCRIBE", b"ch"]));
    sub.expect(b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // Other commands keep working.
    sub.send(&resp(&[b"SET", b"k", b"v"]));
    sub.expect(b"+OK\r\n");
    let mut c = srv.client();
    let _: i64 = c.publish("ch", "m").unwrap();
    sub.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    // Its own publication arrives before the reply, as in Redis.
    sub.send(&resp(&[b"PUBLISH", b"ch", b"self"]));
    sub.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n:1\r\n");
}

#[test]
fn a_subscriber_that_stops_reading_is_closed_at_its_output_limit() {
    let srv = TestServer::start(&["--client-output-buffer-limit", "pubsub 1mb 256kb 60"]);
    let addr = srv.url().trim_start_matches("redis://").trim_end_matches('/').to_string();
    let mut sub = TcpStream::connect(&addr).unwrap();
    sub.write_all(&resp(&[b"SUBSCRIBE", b"firehose"])).unwrap();
    let mut head = [0u8; 37];
    sub.read_exact(&mut head).unwrap();
    let mut c = srv.client();
    let payload = vec![b'x'; 64 * 1024];
    let mut delivered = Vec::new();
    // Far more than the limit plus what the kernel buffers: the subscriber never reads.
    for _ in 0..2000 {
        let n: i64 = c.publish("firehose", &payload[..]).unwrap();
        delivered.push(n);
        if n == 0 {
            break;
        }
    }
    assert_eq!(delivered.last(), Some(&0), "the subscriber was disconnected");
    let mut clients = String::new();
    for _ in 0..10_000 {
        clients = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
        if clients.lines().count() == 1 {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(clients.lines().count(), 1, "only the publisher is left: {clients}");
}

#[test]
fn a_subscriber_that_keeps_up_with_many_publishers_keeps_every_message() {
    // Regression: a publisher counted a message's bytes after handing it
    // over, so a fast subscriber could subtract them first; the count went
    // below zero and wrapped (a panic in debug builds, a subscriber closed
    // for "overcoming" its output limit in release builds).
    let srv = TestServer::start(&["--client-output-buffer-limit", "pubsub 1mb 1mb 0", "--io-threads", "2"]);
    let mut sub = srv.client();
    let mut sub = sub.as_pubsub();
    sub.subscribe("busy").unwrap();
    sub.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    const PUBLISHERS: usize = 4;
    const EACH: usize = 5_000;
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let url = srv.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..EACH {
                    let _: i64 = c.publish("busy", format!("{p}:{i}")).unwrap();
                }
            })
        })
        .collect();
    let mut seen = 0;
    while seen < PUBLISHERS * EACH {
        let m = sub.get_message().expect("the subscriber stays connected");
        let _: String = m.get_payload().unwrap();
        seen += 1;
    }
    for p in publishers {
        p.join().expect("publisher");
    }
    let mut c = srv.client();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG", "the server is alive");
}
