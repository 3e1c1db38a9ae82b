//! The wire protocol: pipelining, split frames, inline commands, protocol errors.

use crate::util::{resp, TestServer};

#[test]
fn pipelined_replies_arrive_in_order() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..1000 {
        let k = format!("k{i}");
        let v = format!("v{i}");
        req.extend(resp(&[b"SET", k.as_bytes(), v.as_bytes()]));
        req.extend(resp(&[b"GET", k.as_bytes()]));
        want.extend_from_slice(b"+OK\r\n");
        want.extend(format!("${}\r\n{v}\r\n", v.len()).into_bytes());
    }
    c.send(&req);
    c.expect(&want);
}

#[test]
fn frames_split_across_writes() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    let req = resp(&[b"SET", b"split", b"a value with \r\n inside"]);
    for b in &req {
        c.send(std::slice::from_ref(b));
    }
    c.expect(b"+OK\r\n");
    let get = resp(&[b"GET", b"split"]);
    let (a, b) = get.split_at(7);
    c.send(a);
    c.send(b);
    c.expect(b"$22\r\na value with \r\n inside\r\n");
}

#[test]
fn inline_commands() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    c.send(b"PING\r\nset \"a b\" 'c d'\r\nget \"a b\"\n\r\n");
    c.expect(b"+PONG\r\n+OK\r\n$3\r\nc d\r\n");
}

#[test]
fn protocol_errors_reply_then_close() {
    let srv = TestServer::start(&[]);
    let cases: &[(&[u8], &[u8])] = &[
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1048577\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n+PING\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
        (b"SET \"a b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (input, reply) in cases {
        let mut c = srv.raw();
        // A good command first: its reply must still arrive.
        let mut req = resp(&[b"PING"]);
        req.extend_from_slice(input);
        c.send(&req);
        let mut want = b"+PONG\r\n".to_vec();
        want.extend_from_slice(reply);
        c.expect(&want);
        assert!(c.closed(), "connection must be closed after {:?}", String::from_utf8_lossy(input));
    }
    // The server is still fine for everyone else.
    let mut con = srv.client();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn huge_inline_and_header_lines_are_refused() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    c.send(&vec![b'a'; 70 * 1024]);
    c.expect(b"-ERR Protocol error: too big inline request\r\n");
    assert!(c.closed());
    let mut c = srv.raw();
    let mut req = b"*1\r\n$".to_vec();
    req.extend(vec![b'9'; 70 * 1024]);
    c.send(&req);
    c.expect(b"-ERR Protocol error: too big bulk count string\r\n");
    assert!(c.closed());
}

#[test]
fn proto_max_bulk_len_is_configurable() {
    let srv = TestServer::start(&["--proto-max-bulk-len", "1024"]);
    let mut c = srv.raw();
    c.send(&resp(&[b"SET", b"k", &[b'x'; 1024]]));
    c.expect(b"+OK\r\n");
    c.send(&resp(&[b"SET", b"k", &[b'x'; 1025]]));
    c.expect(b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(c.closed());
}

#[test]
fn large_values_round_trip() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let big: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET").arg("big").arg(&big).query(&mut con).unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(&mut con).unwrap();
    assert!(back == big);
    let n: usize = redis::cmd("STRLEN").arg("big").query(&mut con).unwrap();
    assert_eq!(n, big.len());
}

#[test]
fn resp3_hello() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    c.send(&resp(&[b"HELLO", b"3"]));
    let hello = c.read_until(b"$7\r\nmodules\r\n*0\r\n");
    assert!(hello.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"));
    let needle = b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n";
    assert!(hello.windows(needle.len()).any(|w| w == needle));
    c.send(&resp(&[b"HSET", b"h", b"f", b"v"]));
    c.expect(b":1\r\n");
    c.send(&resp(&[b"HGETALL", b"h"]));
    c.expect(b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    c.send(&resp(&[b"GET", b"nothing"]));
    c.expect(b"_\r\n");
}

#[test]
fn transactions_queue_and_abort() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    let mut req = resp(&[b"MULTI"]);
    req.extend(resp(&[b"SET", b"k", b"1"]));
    req.extend(resp(&[b"INCR", b"k"]));
    req.extend(resp(&[b"EXEC"]));
    c.send(&req);
    c.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n");
    let mut req = resp(&[b"MULTI"]);
    req.extend(resp(&[b"SET", b"k"]));
    req.extend(resp(&[b"INCR", b"k"]));
    req.extend(resp(&[b"EXEC"]));
    req.extend(resp(&[b"GET", b"k"]));
    c.send(&req);
    c.expect(b"+OK\r\n-ERR wrong number of arguments for 'set' command\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n$1\r\n2\r\n");
}
