//! Connections and the process: CLIENT commands, limits, shutdown.

use crate::util::{resp, TestServer};
use std::time::Duration;

#[test]
fn client_kill_closes_the_other_connection() {
    let srv = TestServer::start(&[]);
    let mut victim = srv.raw();
    victim.send(&resp(&[b"CLIENT", b"ID"]));
    let line = String::from_utf8(victim.read_until(b"\r\n")).unwrap();
    let id = line.trim().trim_start_matches(':').to_string();
    let mut killer = srv.client();
    let n: i64 = redis::cmd("CLIENT").arg("KILL").arg("ID").arg(&id).query(&mut killer).unwrap();
    assert_eq!(n, 1);
    assert!(victim.closed());
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut killer).unwrap();
    assert!(!list.contains(&format!("id={id} ")), "{list}");
}

#[test]
fn client_setname_shows_in_client_list() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("worker-1").query(&mut con).unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
    assert!(list.contains("name=worker-1 "), "{list}");
    assert!(list.contains("cmd=client|list"), "{list}");
}

#[test]
fn maxclients_refuses_extra_connections() {
    let srv = TestServer::start(&["--maxclients", "1"]);
    let mut first = srv.raw();
    first.send(&resp(&[b"PING"]));
    first.expect(b"+PONG\r\n");
    let mut second = srv.raw();
    second.expect(b"-ERR max number of clients reached\r\n");
    assert!(second.closed());
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let srv = TestServer::start(&["--timeout", "1"]);
    let mut c = srv.raw();
    c.send(&resp(&[b"PING"]));
    c.expect(b"+PONG\r\n");
    c.s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    assert!(c.closed());
}

#[test]
fn quit_replies_then_closes() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    let mut req = resp(&[b"QUIT"]);
    req.extend(resp(&[b"PING"]));
    c.send(&req);
    c.expect(b"+OK\r\n");
    assert!(c.closed());
}

#[test]
fn shutdown_command_stops_the_server() {
    let mut srv = TestServer::start(&[]);
    let mut c = srv.raw();
    c.send(&resp(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(c.closed());
    assert_eq!(srv.wait_exit(), Some(0));
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut srv = TestServer::start(&[]);
    let mut idle = srv.raw();
    idle.send(&resp(&[b"PING"]));
    idle.expect(b"+PONG\r\n");
    assert_eq!(srv.terminate(), Some(0));
    assert!(idle.closed());
}

#[test]
fn auth_is_required_when_requirepass_is_set() {
    let srv = TestServer::start(&["--requirepass", "s3cret"]);
    let mut c = srv.raw();
    c.send(&resp(&[b"GET", b"k"]));
    c.expect(b"-NOAUTH Authentication required.\r\n");
    c.send(&resp(&[b"AUTH", b"wrong"]));
    c.expect(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    c.send(&resp(&[b"AUTH", b"s3cret"]));
    c.expect(b"+OK\r\n");
    c.send(&resp(&[b"GET", b"k"]));
    c.expect(b"$-1\r\n");
    let mut h = srv.raw();
    h.send(&resp(&[b"HELLO", b"3", b"AUTH", b"default", b"s3cret"]));
    let reply = h.read_until(b"$7\r\nmodules\r\n*0\r\n");
    assert!(reply.starts_with(b"%7\r\n"));
}

#[test]
fn info_has_the_sections_clients_read() {
    let srv = TestServer::start(&[]);
    let mut con = srv.client();
    let _: () = redis::cmd("SET").arg("a").arg(1).arg("EX").arg(100).query(&mut con).unwrap();
    let info: String = redis::cmd("INFO").query(&mut con).unwrap();
    for needle in [
        "# Server\r\n",
        "redis_version:",
        "# Clients\r\n",
        "connected_clients:1",
        "# Memory\r\n",
        "used_memory:",
        "# Stats\r\n",
        "# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\n",
    ] {
        assert!(info.contains(needle), "missing {needle:?} in {info}");
    }
    let only: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
    assert!(only.starts_with("# Keyspace\r\n") && !only.contains("# Server"));
}

/// A non-loopback address of this machine, if it has one.
fn outside_address() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the route's source address.
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn protected_mode_refuses_remote_clients_without_a_password() {
    let Some(ip) = outside_address() else {
        eprintln!("no non-loopback address on this machine: skipped");
        return;
    };
    let connect = |srv: &TestServer| {
        let mut s = std::net::TcpStream::connect((ip, srv.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        std::io::Write::write_all(&mut s, &resp(&[b"PING"])).unwrap();
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(s), &mut line);
        line
    };
    let srv = TestServer::start(&["--bind", "0.0.0.0"]);
    let reply = connect(&srv);
    assert!(reply.starts_with("-DENIED Redis is running in protected mode"), "{reply}");
    // Loopback clients are served, and may turn it off.
    let mut local = srv.client();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("protected-mode").arg("no").query(&mut local).unwrap();
    let mut s = std::net::TcpStream::connect((ip, srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(&mut s, &resp(&[b"PING"])).unwrap();
    let mut buf = [0u8; 7];
    std::io::Read::read_exact(&mut s, &mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    // A password lifts it too: the client is asked to authenticate.
    let srv = TestServer::start(&["--bind", "0.0.0.0", "--requirepass", "secret"]);
    let reply = connect(&srv);
    assert!(reply.starts_with("-NOAUTH"), "{reply}");
}

#[test]
fn a_reply_past_the_normal_output_limit_closes_the_client() {
    let srv = TestServer::start(&["--client-output-buffer-limit", "normal 100000 0 0"]);
    let mut con = srv.client();
    let big = "x".repeat(60_000);
    let _: () = redis::cmd("RPUSH").arg("l").arg(&big).arg(&big).query(&mut con).unwrap();
    let small: Vec<String> = redis::cmd("LRANGE").arg("l").arg(0).arg(0).query(&mut con).unwrap();
    assert_eq!(small.len(), 1, "a reply under the limit is served");
    let r: redis::RedisResult<Vec<String>> = redis::cmd("LRANGE").arg("l").arg(0).arg(-1).query(&mut con);
    assert!(r.is_err(), "the connection is closed rather than sent 120 KB");
    let mut other = srv.client();
    let n: i64 = redis::cmd("LLEN").arg("l").query(&mut other).unwrap();
    assert_eq!(n, 2, "other clients and the data are unaffected");
}
