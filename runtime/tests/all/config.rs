//! Configuration files and command-line directives.

use crate::util::{resp, TestServer};
use std::io::Write;

#[test]
fn config_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotkv.conf");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "# test config\nport 0\nbind 127.0.0.1\nrequirepass fromfile\ndatabases 4\nmaxclients 77").unwrap();
    drop(f);
    let p = path.to_str().unwrap();
    let srv = TestServer::start(&[p, "--maxclients", "88"]);
    let mut c = srv.raw();
    c.send(&resp(&[b"AUTH", b"fromfile"]));
    c.expect(b"+OK\r\n");
    c.send(&resp(&[b"CONFIG", b"GET", b"maxclients"]));
    c.expect(b"*2\r\n$10\r\nmaxclients\r\n$2\r\n88\r\n");
    c.send(&resp(&[b"CONFIG", b"GET", b"databases"]));
    c.expect(b"*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n");
}

#[test]
fn unknown_directive_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.conf");
    std::fs::write(&path, "port 0\nnot-a-directive yes\n").unwrap();
    let err = TestServer::try_start(&[path.to_str().unwrap()]).err().expect("must not start");
    assert!(err.contains("bad.conf:2:") && err.contains("unknown directive 'not-a-directive'"), "{err}");
}

#[test]
fn bad_flag_value_is_refused() {
    let err = TestServer::try_start(&["--maxclients", "lots"]).err().expect("must not start");
    assert!(err.contains("--maxclients"), "{err}");
}

#[test]
fn config_set_changes_behaviour() {
    let srv = TestServer::start(&[]);
    let mut c = srv.raw();
    c.send(&resp(&[b"CONFIG", b"SET", b"requirepass", b"now"]));
    c.expect(b"+OK\r\n");
    // Existing connections stay authenticated; new ones must AUTH.
    c.send(&resp(&[b"PING"]));
    c.expect(b"+PONG\r\n");
    let mut d = srv.raw();
    d.send(&resp(&[b"PING"]));
    d.expect(b"-NOAUTH Authentication required.\r\n");
    c.send(&resp(&[b"CONFIG", b"SET", b"port", b"1"]));
    c.expect(b"-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n");
}
