//! ACL users: a user limited to `~user:*` and `+@read` is refused other keys
//! and write commands over RESP, inside scripts and over HTTP, with Redis's
//! messages; `requirepass` is the default user's password; deleting a user
//! closes its connections.

use crate::util::TestServer;
use serde_json::json;

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<T> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

fn err_text(r: redis::RedisResult<redis::Value>) -> String {
    let e = r.expect_err("refused");
    // redis-rs splits "CODE detail"; put them back together.
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        _ => e.to_string(),
    }
}

#[test]
fn a_read_only_user_of_user_keys_is_refused_everything_else_everywhere() {
    let srv = TestServer::start(&["--http-port", "-1", "--http-token", "admin-token"]);
    let mut admin = srv.client();
    let ok: String =
        q(&mut admin, &["ACL", "SETUSER", "reader", "on", ">secret", "~user:*", "+@read", "+eval"]).unwrap();
    assert_eq!(ok, "OK");
    let _: () = q(&mut admin, &["SET", "user:1", "mine"]).unwrap();
    let _: () = q(&mut admin, &["SET", "other", "theirs"]).unwrap();

    // RESP.
    let mut reader = srv.client();
    let _: String = q(&mut reader, &["AUTH", "reader", "secret"]).unwrap();
    assert_eq!(q::<String>(&mut reader, &["GET", "user:1"]).unwrap(), "mine");
    assert_eq!(
        err_text(q(&mut reader, &["GET", "other"])),
        "NOPERM this user has no permissions to access one of the keys used as arguments"
    );
    assert_eq!(
        err_text(q(&mut reader, &["SET", "user:1", "x"])),
        "NOPERM this user has no permissions to run the 'set' command"
    );
    assert_eq!(
        err_text(q(&mut reader, &["CONFIG", "GET", "maxmemory"])),
        "NOPERM this user has no permissions to run the 'config|get' command"
    );
    // In a transaction a refused command is refused when queued, and EXEC
    // then discards the transaction, as Redis does.
    let _: String = q(&mut admin, &["ACL", "SETUSER", "reader", "+multi", "+exec"]).unwrap();
    let mut raw = srv.raw();
    raw.send(&crate::util::resp(&[b"AUTH", b"reader", b"secret"]));
    raw.expect(b"+OK\r\n");
    for cmd in [&[&b"MULTI"[..]][..], &[b"GET", b"user:1"], &[b"GET", b"other"], &[b"EXEC"]] {
        raw.send(&crate::util::resp(cmd));
    }
    raw.expect(b"+OK\r\n+QUEUED\r\n-NOPERM this user has no permissions to access one of the keys used as arguments\r\n-EXECABORT Transaction discarded because of previous errors.\r\n");

    // Scripts: redis.call runs as the user who called the script.
    let got: String = q(&mut reader, &["EVAL", "return redis.call('get', KEYS[1])", "1", "user:1"]).unwrap();
    assert_eq!(got, "mine");
    let e = err_text(q(&mut reader, &["EVAL", "return redis.call('get', 'other')", "0"]));
    assert!(
        e.starts_with("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"),
        "{e}"
    );
    let e = err_text(q(&mut reader, &["EVAL", "return redis.call('set', 'user:1', 'x')", "0"]));
    assert!(e.starts_with("ERR The user executing the script can't run this command or subcommand"), "{e}");
    // Declared keys are checked like any command's.
    let e = err_text(q(&mut reader, &["EVAL", "return 1", "1", "other"]));
    assert_eq!(e, "NOPERM this user has no permissions to access one of the keys used as arguments");

    // HTTP: a `username:password` token acts as the user; a refusal is a 403.
    let as_reader = [("Authorization", "Bearer reader:secret")];
    let r = srv.post_json("/", &as_reader, &json!(["GET", "user:1"]));
    assert_eq!((r.status, r.json()), (200, json!({"result": "mine"})));
    let r = srv.post_json("/", &as_reader, &json!(["GET", "other"]));
    assert_eq!(
        (r.status, r.json()),
        (403, json!({"error": "NOPERM this user has no permissions to access one of the keys used as arguments"}))
    );
    let r = srv.post_json("/", &as_reader, &json!(["SET", "user:1", "x"]));
    assert_eq!(
        (r.status, r.json()),
        (403, json!({"error": "NOPERM this user has no permissions to run the 'set' command"}))
    );
    let r = srv.post_json("/pipeline", &as_reader, &json!([["GET", "user:1"], ["DEL", "user:1"]]));
    assert_eq!(
        r.json(),
        json!([{"result": "mine"}, {"error": "NOPERM this user has no permissions to run the 'del' command"}])
    );
    let r = srv.post_json("/eval", &as_reader, &json!({"script": "return redis.call('get', 'other')", "keys": []}));
    assert!(
        r.json()["error"].as_str().unwrap_or("").contains("can't access at least one of the keys"),
        "{:?}",
        r.json()
    );
    let r = srv.post_json("/", &[("Authorization", "Bearer reader:wrong")], &json!(["GET", "user:1"]));
    assert_eq!(r.status, 401);
    let r = srv.post_json("/", &[("Authorization", "Bearer admin-token")], &json!(["GET", "other"]));
    assert_eq!(r.json(), json!({"result": "theirs"}));

    // Nothing the user tried changed anything.
    assert_eq!(q::<String>(&mut admin, &["GET", "user:1"]).unwrap(), "mine");
    assert_eq!(q::<String>(&mut admin, &["GET", "other"]).unwrap(), "theirs");

    // A change to the user applies to its open connection at once.
    let _: String = q(&mut admin, &["ACL", "SETUSER", "reader", "+set"]).unwrap();
    let _: () = q(&mut reader, &["SET", "user:1", "changed"]).unwrap();
    let clients: String = q(&mut admin, &["CLIENT", "LIST"]).unwrap();
    assert!(clients.contains("user=reader"), "{clients}");
    // Deleting it closes its connections.
    assert_eq!(q::<i64>(&mut admin, &["ACL", "DELUSER", "reader"]).unwrap(), 1);
    assert!(q::<String>(&mut reader, &["PING"]).is_err(), "the deleted user's connection is closed");
    let mut again = srv.client();
    assert!(err_text(q(&mut again, &["AUTH", "reader", "secret"])).starts_with("WRONGPASS"));
}

#[test]
fn requirepass_is_the_default_users_password() {
    let srv = TestServer::start(&["--requirepass", "pw"]);
    let mut c = srv.client();
    assert!(err_text(q(&mut c, &["GET", "k"])).starts_with("NOAUTH"));
    assert!(err_text(q(&mut c, &["AUTH", "nope"])).starts_with("WRONGPASS"));
    let _: String = q(&mut c, &["AUTH", "pw"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["ACL", "WHOAMI"]).unwrap(), "default");
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]).unwrap();
    assert!(list[0].starts_with("user default on #"), "{list:?}");
    let _: String = q(&mut c, &["ACL", "SETUSER", "app", "on", ">apppw", "allkeys", "+@all", "-flushall"]).unwrap();
    let mut app = srv.client();
    let _: String = q(&mut app, &["AUTH", "app", "apppw"]).unwrap();
    assert_eq!(q::<String>(&mut app, &["ACL", "WHOAMI"]).unwrap(), "app");
    assert_eq!(
        err_text(q(&mut app, &["FLUSHALL"])),
        "NOPERM this user has no permissions to run the 'flushall' command"
    );
    // HELLO AUTH, and RESET back to the default user (which needs its password).
    let _: redis::Value = q(&mut app, &["HELLO", "2", "AUTH", "app", "apppw"]).unwrap();
    let _: String = q(&mut app, &["RESET"]).unwrap();
    assert!(err_text(q(&mut app, &["GET", "k"])).starts_with("NOAUTH"));
    // CONFIG SET requirepass "" lets new connections in as the default user.
    let _: () = q(&mut c, &["CONFIG", "SET", "requirepass", ""]).unwrap();
    let mut open = srv.client();
    assert_eq!(q::<Option<String>>(&mut open, &["GET", "k"]).unwrap(), None);
}
