//! The HTTP/JSON gateway against the real binary: every kind of bad request
//! gets its status and JSON error and changes nothing; tokens; binary values;
//! blocking commands and event streams; shutdown with requests in flight.

use crate::util::{resp, TestServer};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const AUTH: (&str, &str) = ("Authorization", "Bearer s3cret");

fn gateway() -> TestServer {
    TestServer::start(&["--http-token", "s3cret", "--http-readonly-token", "r34d", "--http-max-body", "1mb"])
}

#[test]
fn bad_requests_get_their_status_and_error_and_change_nothing() {
    let s = gateway();
    let ok = s.post_json("/", &[AUTH], &json!(["SET", "keep", "intact"]));
    assert_eq!((ok.status, ok.json()), (200, json!({"result": "OK"})));
    let ok = s.post_json("/", &[AUTH], &json!(["RPUSH", "list", "a", "b"]));
    assert_eq!(ok.json(), json!({"result": 2}));

    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("POST", "/", b"{\"a\":".to_vec(), 400, "ERR the request body is not valid JSON"),
        ("POST", "/", b"not json".to_vec(), 400, "ERR the request body is not valid JSON"),
        ("POST", "/", b"{\"cmd\":\"set\"}".to_vec(), 400, "ERR a command must be a JSON array"),
        ("POST", "/", b"\"SET\"".to_vec(), 400, "ERR a command must be a JSON array"),
        ("POST", "/", b"[]".to_vec(), 400, "ERR empty command"),
        ("POST", "/", b"[\"SET\",\"keep\",true]".to_vec(), 400, "ERR argument 3 is a boolean"),
        ("POST", "/", b"[\"SET\",\"keep\",null]".to_vec(), 400, "ERR argument 3 is null"),
        ("POST", "/", b"[\"SET\",\"keep\",{\"v\":1}]".to_vec(), 400, "ERR argument 3 is an object"),
        ("POST", "/", b"[\"SET\",[\"keep\"],\"x\"]".to_vec(), 400, "ERR argument 2 is an array"),
        (
            "POST",
            "/",
            b"[\"NOPE\",\"keep\"]".to_vec(),
            400,
            "ERR unknown command 'NOPE', with args beginning with: 'keep' ",
        ),
        ("POST", "/", b"[\"GET\"]".to_vec(), 400, "ERR wrong number of arguments for 'get' command"),
        (
            "POST",
            "/",
            b"[\"SET\",\"keep\",\"x\",\"EX\",\"soon\"]".to_vec(),
            400,
            "ERR value is not an integer or out of range",
        ),
        (
            "POST",
            "/",
            b"[\"LPUSH\",\"keep\",\"x\"]".to_vec(),
            400,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        // A pipeline is checked whole before any command runs.
        (
            "POST",
            "/pipeline",
            b"[[\"SET\",\"keep\",\"lost\"],[\"SET\",true]]".to_vec(),
            400,
            "ERR argument 2 is a boolean; arguments must be strings or numbers (command 2)",
        ),
        ("POST", "/pipeline", b"[]".to_vec(), 400, "ERR the body has no commands"),
        ("POST", "/pipeline", b"{}".to_vec(), 400, "ERR the body must be a JSON array of commands"),
        // A transaction with a command that cannot queue runs nothing.
        (
            "POST",
            "/multi-exec",
            b"[[\"SET\",\"keep\",\"lost\"],[\"NOPE\"]]".to_vec(),
            400,
            "EXECABORT Transaction discarded because of previous errors.",
        ),
        (
            "POST",
            "/multi-exec",
            b"[[\"SET\",\"keep\",\"lost\"],[\"GET\"]]".to_vec(),
            400,
            "EXECABORT Transaction discarded because of previous errors.",
        ),
        (
            "POST",
            "/scripts/0000000000000000000000000000000000000000",
            b"".to_vec(),
            400,
            "NOSCRIPT No matching script. Please use EVAL.",
        ),
        ("POST", "/scripts/abc", b"[1]".to_vec(), 400, "ERR the body must be a JSON object"),
        (
            "POST",
            "/scripts/abc",
            b"{\"keys\":\"k\"}".to_vec(),
            400,
            "ERR keys must be an array of strings and numbers, not a string",
        ),
        (
            "POST",
            "/eval",
            b"{\"keys\":[]}".to_vec(),
            400,
            "ERR the body must be a JSON object with a \"script\" string",
        ),
        ("POST", "/eval", b"{\"script\":\"return +\"}".to_vec(), 400, "ERR Error compiling script"),
        (
            "POST",
            "/eval",
            b"{\"script\":\"return redis.call('NOPE')\",\"keys\":[\"keep\"]}".to_vec(),
            400,
            "ERR Unknown Redis command called from script",
        ),
        ("POST", "/functions", b"return 1".to_vec(), 400, "ERR Missing library metadata"),
        ("PUT", "/set/keep/lost", b"".to_vec(), 405, "ERR path-style commands take GET or POST"),
        ("PUT", "/", b"".to_vec(), 405, "ERR PUT / is not an endpoint; / takes POST, GET"),
        ("DELETE", "/pipeline", b"".to_vec(), 405, "ERR DELETE /pipeline is not an endpoint; /pipeline takes POST"),
        (
            "PUT",
            "/functions/f",
            b"".to_vec(),
            405,
            "ERR PUT /functions/f is not an endpoint; /functions/f takes POST, DELETE",
        ),
        ("POST", "/", vec![b'['; 2 << 20], 413, "ERR the request body is larger than http-max-body"),
    ];
    for (method, path, body, status, error) in cases {
        let r = s.http(method, path, &[AUTH], &body);
        let label = format!("{method} {path} {}", String::from_utf8_lossy(&body[..body.len().min(60)]));
        assert_eq!(r.status, status, "{label}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("content-type"), Some("application/json"), "{label}");
        let e = r.json()["error"].as_str().unwrap_or_else(|| panic!("{label}: no error")).to_string();
        assert!(e.starts_with(error), "{label}: {e}");
    }

    // Tokens: missing, wrong, wrong scheme, read-only writing: 401/403 and nothing runs.
    let set = json!(["SET", "keep", "lost"]).to_string();
    for (headers, path, status, error) in [
        (vec![], "/", 401, "ERR missing token"),
        (vec![("Authorization", "Bearer nope")], "/", 401, "ERR invalid token"),
        (vec![("Authorization", "Basic s3cret")], "/", 401, "ERR missing token"),
        (vec![], "/?_token=nope", 401, "ERR invalid token"),
        (
            vec![("Authorization", "Bearer r34d")],
            "/",
            403,
            "NOPERM this token is read-only and cannot run the 'set' command",
        ),
    ] {
        let r = s.http("POST", path, &headers, set.as_bytes());
        assert_eq!(r.status, status, "{headers:?} {path}");
        assert!(r.json()["error"].as_str().unwrap().starts_with(error), "{headers:?} {path}: {}", r.json());
    }
    let r = s.http("GET", "/get/keep?_token=r34d", &[], b"");
    assert_eq!((r.status, r.json()), (200, json!({"result": "intact"})));
    let r = s.post_json("/multi-exec", &[("Authorization", "Bearer r34d")], &json!([["GET", "keep"], ["DEL", "keep"]]));
    assert_eq!(r.status, 403);
    assert_eq!(s.http("GET", "/healthz", &[], b"").status, 200);
    assert_eq!(s.http("GET", "/metrics", &[], b"").status, 401);

    // Everything is as it was.
    let mut c = s.client();
    let keep: String = redis::cmd("GET").arg("keep").query(&mut c).unwrap();
    assert_eq!(keep, "intact");
    let list: Vec<String> = redis::cmd("LRANGE").arg("list").arg(0).arg(-1).query(&mut c).unwrap();
    assert_eq!(list, ["a", "b"]);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 2);

    let metrics = String::from_utf8(s.http("GET", "/metrics", &[AUTH], b"").body).unwrap();
    assert!(metrics.contains("slotkv_http_requests_total{status=\"401\"} 5"), "{metrics}");
    assert!(metrics.contains("slotkv_http_requests_total{status=\"413\"} 1"), "{metrics}");
    assert!(metrics.contains("slotkv_keys{db=\"0\"} 2"), "{metrics}");
}

#[test]
fn binary_values_survive_with_base64() {
    let s = gateway();
    let value: Vec<u8> = (0..=255u8).collect();
    let r = s.http("POST", "/set/bin", &[AUTH], &value);
    assert_eq!(r.json(), json!({"result": "OK"}));
    let r = s.http("GET", "/get/bin", &[AUTH, ("Upstash-Encoding", "base64")], b"");
    use base64::Engine as _;
    let got = base64::engine::general_purpose::STANDARD.decode(r.json()["result"].as_str().unwrap()).unwrap();
    assert_eq!(got, value);
    // Without base64 the text is lossy, and the response says so.
    let r = s.http("GET", "/get/bin", &[AUTH], b"");
    assert_eq!(r.header("slotkv-lossy"), Some("1"));
    // Over RESP the bytes are exact.
    let mut c = s.client();
    let raw: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut c).unwrap();
    assert_eq!(raw, value);
    // Path segments and query values are percent-decoded to bytes.
    let r = s.http("GET", "/set/p%2Fk/a%00b?EX=100", &[AUTH], b"");
    assert_eq!(r.json(), json!({"result": "OK"}));
    let raw: Vec<u8> = redis::cmd("GET").arg("p/k").query(&mut c).unwrap();
    assert_eq!(raw, b"a\0b");
    let ttl: i64 = redis::cmd("TTL").arg("p/k").query(&mut c).unwrap();
    assert!(ttl > 0 && ttl <= 100);
}

#[test]
fn replies_as_json_in_resp2_and_resp3() {
    let s = gateway();
    let r = s.post_json(
        "/pipeline",
        &[AUTH],
        &json!([
            ["HSET", "h", "f", "v"],
            ["HGETALL", "h"],
            ["ZADD", "z", 1.5, "m"],
            ["ZSCORE", "z", "m"],
            ["GET", "none"],
            ["SET", "x", 1, "GET"]
        ]),
    );
    assert_eq!(
        r.json(),
        json!([{"result": 1}, {"result": ["f", "v"]}, {"result": 1}, {"result": "1.5"}, {"result": null}, {"result": null}])
    );
    let p3 = ("Slotkv-Protocol", "3");
    assert_eq!(s.post_json("/", &[AUTH, p3], &json!(["HGETALL", "h"])).json(), json!({"result": {"f": "v"}}));
    assert_eq!(s.post_json("/", &[AUTH, p3], &json!(["ZSCORE", "z", "m"])).json(), json!({"result": 1.5}));
    assert_eq!(s.post_json("/", &[AUTH, p3], &json!(["SMEMBERS", "none"])).json(), json!({"result": []}));
    let r = s.post_json("/eval", &[AUTH], &json!({"script": "return {1, 'two', {3.9}, false, {err='E x'}}"}));
    assert_eq!(r.json(), json!({"result": [1, "two", [3], null, {"error": "E x"}]}));
}

#[test]
fn scripts_and_functions_endpoints() {
    let s = gateway();
    let sha = s.http("POST", "/scripts", &[AUTH], b"return redis.call('INCRBY', KEYS[1], ARGV[1])").json()["result"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sha.len(), 40);
    let r = s.post_json(&format!("/scripts/{sha}"), &[AUTH], &json!({"keys": ["n"], "args": [5]}));
    assert_eq!(r.json(), json!({"result": 5}));
    let lib = "#!lua name=counters\nredis.register_function('bump', function(keys, args) return redis.call('INCR', keys[1]) end)";
    assert_eq!(s.http("POST", "/functions", &[AUTH], lib.as_bytes()).json(), json!({"result": "counters"}));
    let r = s.http("POST", "/functions", &[AUTH], lib.as_bytes());
    assert_eq!(r.json()["error"], "ERR Library 'counters' already exists");
    assert_eq!(
        s.http("POST", "/functions?replace=true", &[AUTH], lib.as_bytes()).json(),
        json!({"result": "counters"})
    );
    assert_eq!(s.post_json("/functions/bump", &[AUTH], &json!({"keys": ["n"]})).json(), json!({"result": 6}));
    let list = s.http("GET", "/functions", &[AUTH], b"").json();
    assert_eq!(list["result"][0]["library_name"], "counters");
    assert_eq!(list["result"][0]["functions"][0]["name"], "bump");
    assert_eq!(s.http("DELETE", "/functions/counters", &[AUTH], b"").json(), json!({"result": "OK"}));
    assert_eq!(s.http("GET", "/functions", &[AUTH], b"").json(), json!({"result": []}));
    // A budget stop says which limit, and its writes are undone.
    let s2 = TestServer::start(&["--lua-step-budget", "100000"]);
    let r = s2.post_json(
        "/eval",
        &[],
        &json!({"script": "redis.call('SET', KEYS[1], 'x') while true do end", "keys": ["w"]}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["limit"], "lua-step-budget");
    assert_eq!(s2.post_json("/", &[], &json!(["EXISTS", "w"])).json(), json!({"result": 0}));
}

#[test]
fn openapi_document_and_cors() {
    let s = TestServer::start(&["--http-cors-origins", "https://play.example"]);
    let doc = s.http("GET", "/openapi.json", &[], b"").json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/", "/pipeline", "/multi-exec", "/scripts/{sha}", "/functions/{name}", "/subscribe/{channel}"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let r =
        s.http("OPTIONS", "/", &[("Origin", "https://play.example"), ("Access-Control-Request-Method", "POST")], b"");
    assert_eq!(r.header("access-control-allow-origin"), Some("https://play.example"));
    let r = s.http("POST", "/", &[("Origin", "https://evil.example")], b"[\"PING\"]");
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.json(), json!({"result": "PONG"}));
}

#[test]
fn serves_the_playground_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-built");
    let s = TestServer::start(&["--http-token", "t0k", "--playground-dir", missing.to_str().unwrap()]);
    // Not built yet: the page says how to build it.
    let r = s.http("GET", "/", &[], b"");
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("web/build.sh"));
    drop(s);

    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>playground").unwrap();
    std::fs::write(dir.path().join("slotkv_web_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not served").unwrap();
    let s = TestServer::start(&["--http-token", "t0k", "--playground-dir", dir.path().to_str().unwrap()]);
    let r = s.http("GET", "/", &[], b"");
    assert_eq!((r.status, r.header("content-type")), (200, Some("text/html; charset=utf-8")));
    assert_eq!(r.body, b"<!doctype html><p>playground");
    let r = s.http("GET", "/playground/slotkv_web_bg.wasm", &[], b"");
    assert_eq!((r.status, r.header("content-type")), (200, Some("application/wasm")));
    assert_eq!(s.http("GET", "/playground/notes.txt", &[], b"").status, 404);
    assert_eq!(s.http("GET", "/playground/..%2Findex.html", &[], b"").status, 404);
    // The page is public; commands still need the token, on / as elsewhere.
    assert_eq!(s.http("POST", "/", &[], b"[\"PING\"]").status, 401);
    assert_eq!(s.http("GET", "/get/k", &[], b"").status, 401);
    let r = s.http("POST", "/", &[("Authorization", "Bearer t0k")], b"[\"PING\"]");
    assert_eq!(r.json(), json!({"result": "PONG"}));
}

/// Reads from `s` until the bytes read end with... contain `needle`.
fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(needle) {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed before {needle:?}: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn open_request(s: &TestServer, method: &str, path: &str, body: &str) -> TcpStream {
    let mut t = TcpStream::connect(("127.0.0.1", s.http_port.unwrap())).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    t.write_all(req.as_bytes()).unwrap();
    t
}

fn wait_for_blocked(c: &mut redis::Connection, n: i64) {
    // Polls the server's own count: the request is parked once it shows.
    for _ in 0..2000 {
        let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
        if info.contains(&format!("blocked_clients:{n}\r")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no client blocked");
}

#[test]
fn blocking_commands_and_event_streams() {
    let s = gateway();
    let mut c = s.client();
    // BLPOP over HTTP waits until a RESP client pushes.
    let mut blpop = open_request(&s, "POST", "/", "[\"BLPOP\",\"q\",0]");
    wait_for_blocked(&mut c, 1);
    let _: i64 = redis::cmd("RPUSH").arg("q").arg("job").query(&mut c).unwrap();
    assert!(read_until(&mut blpop, "}").ends_with("{\"result\":[\"q\",\"job\"]}"));

    // Messages published over RESP arrive as events.
    let mut events = open_request(&s, "GET", "/subscribe/news", "");
    assert!(read_until(&mut events, "data: subscribe,news,1").contains("text/event-stream"));
    let n: i64 = redis::cmd("PUBLISH").arg("news").arg("hello\nworld").query(&mut c).unwrap();
    assert_eq!(n, 1);
    read_until(&mut events, "data: message,news,hello\ndata: world");
    // A carriage return cannot travel in an event line: it ends one, and
    // the stream goes on.
    let _: i64 = redis::cmd("PUBLISH").arg("news").arg("a\r\nb").query(&mut c).unwrap();
    let _: i64 = redis::cmd("PUBLISH").arg("news").arg("after").query(&mut c).unwrap();
    read_until(&mut events, "data: message,news,after");
    drop(events);
    // The stream's end unsubscribes it.
    for _ in 0..2000 {
        let n: i64 = redis::cmd("PUBLISH").arg("news").arg("x").query(&mut c).unwrap();
        if n == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let n: Vec<redis::Value> = redis::cmd("PUBSUB").arg("NUMSUB").arg("news").query(&mut c).unwrap();
    assert_eq!(n[1], redis::Value::Int(0));
}

#[test]
fn shutdown_ends_waiting_requests() {
    let mut s = gateway();
    let mut c = s.client();
    let mut blpop = open_request(&s, "POST", "/", "[\"BLPOP\",\"q\",0]");
    let mut events = open_request(&s, "GET", "/subscribe/news", "");
    read_until(&mut events, "subscribe,news,1");
    wait_for_blocked(&mut c, 1);
    let mut raw = s.raw();
    raw.send(&resp(&[b"PING"]));
    raw.expect(b"+PONG\r\n");
    assert_eq!(s.terminate(), Some(0));
    assert!(read_until(&mut blpop, "}").contains("ERR the server closed the request while it waited"));
}

#[test]
fn concurrent_requests_each_run_once() {
    let s = gateway();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let port = s.http_port;
            std::thread::spawn(move || {
                for i in 0..50 {
                    let body = json!([["INCR", "hits"], ["SADD", "seen", format!("{t}:{i}")]]).to_string();
                    let mut c = TcpStream::connect(("127.0.0.1", port.unwrap())).unwrap();
                    let req = format!(
                        "POST /multi-exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    c.write_all(req.as_bytes()).unwrap();
                    let mut resp = String::new();
                    c.read_to_string(&mut resp).unwrap();
                    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(s.post_json("/", &[AUTH], &json!(["GET", "hits"])).json(), json!({"result": "400"}));
    assert_eq!(s.post_json("/", &[AUTH], &json!(["SCARD", "seen"])).json(), json!({"result": 400}));
}

#[test]
fn writes_past_maxmemory_are_refused_reads_are_not() {
    let s = TestServer::start(&["--maxmemory", "1", "--maxmemory-policy", "noeviction"]);
    let r = s.post_json("/", &[], &json!(["SET", "k", "v"]));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "OOM command not allowed when used memory > 'maxmemory'.");
    assert_eq!(s.post_json("/", &[], &json!(["GET", "k"])).json(), json!({"result": null}));
    let r = s.post_json("/multi-exec", &[], &json!([["GET", "k"], ["SET", "k", "v"]]));
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().starts_with("EXECABORT"), "{}", r.json());
}

#[test]
fn a_client_that_leaves_while_blocked_takes_nothing() {
    let s = gateway();
    let mut c = s.client();
    let blpop = open_request(&s, "POST", "/", "[\"BLPOP\",\"q\",0]");
    wait_for_blocked(&mut c, 1);
    drop(blpop);
    // The server notices the closed connection and ends the wait.
    wait_for_blocked(&mut c, 0);
    let _: i64 = redis::cmd("RPUSH").arg("q").arg("job").query(&mut c).unwrap();
    let n: i64 = redis::cmd("LLEN").arg("q").query(&mut c).unwrap();
    assert_eq!(n, 1, "the element went to a client that had left");
}
