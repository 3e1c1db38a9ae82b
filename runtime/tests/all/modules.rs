//! WebAssembly script modules through the real server: the example modules
//! (built by examples/wasm-modules/build.sh) loaded over RESP and over HTTP,
//! called with keys and args and compared with their Lua twins, and the
//! modules that misbehave on purpose stopped or refused with their own error,
//! their writes rolled back, the server and its other clients unaffected.
//!
//! Without the built modules these tests say so and return, unless
//! SLOTKV_REQUIRE_MODULES is set (the README's test command sets it).

use crate::util::TestServer;
use redis::{Connection, Value};
use serde_json::json;
use std::path::PathBuf;

/// A built module's bytes, or `None` (with a note) when the examples are not built.
fn module(name: &str) -> Option<Vec<u8>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/wasm-modules/dist").join(format!("{name}.wasm"));
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if std::env::var_os("SLOTKV_REQUIRE_MODULES").is_some() => {
            panic!("{}: {e}; run examples/wasm-modules/build.sh", path.display())
        }
        Err(_) => {
            eprintln!("skipped: {} is not built (examples/wasm-modules/build.sh)", path.display());
            None
        }
    }
}

fn load(c: &mut Connection, code: &[u8]) -> redis::RedisResult<String> {
    redis::cmd("FUNCTION").arg("LOAD").arg(code).query(c)
}

fn fcall(c: &mut Connection, f: &str, keys: &[&str], args: &[&str]) -> redis::RedisResult<Value> {
    redis::cmd("FCALL").arg(f).arg(keys.len()).arg(keys).arg(args).query(c)
}

fn err_text(r: redis::RedisResult<Value>) -> String {
    let e = r.expect_err("expected an error");
    format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
}

fn lua_example(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/lua").join(name)).unwrap()
}

#[test]
fn counter_module_answers_as_its_lua_twin() {
    let Some(counter) = module("counter") else { return };
    let srv = TestServer::start(&[]);
    let mut c = srv.client();
    assert_eq!(load(&mut c, &counter).unwrap(), "wasm_counters");
    assert_eq!(load(&mut c, lua_example("counters_lib.lua").as_bytes()).unwrap(), "counters");
    for (wasm, lua) in [("wasm_counter_add", "counter_add")] {
        for args in [&["5"][..], &[], &["-2"], &["x"]] {
            let w = fcall(&mut c, wasm, &["w:visits"], args);
            let l = fcall(&mut c, lua, &["l:visits"], args);
            match (w, l) {
                (Ok(w), Ok(l)) => assert_eq!(w, l, "{args:?}"),
                // Lua adds where in the script the error was raised.
                (Err(w), Err(l)) => {
                    let (w, l) = (w.detail().unwrap_or(""), l.detail().unwrap_or(""));
                    assert!(!w.is_empty() && l.starts_with(w), "{args:?}: wasm {w}, lua {l}");
                }
                (w, l) => panic!("{args:?}: wasm {w:?}, lua {l:?}"),
            }
        }
    }
    let got: i64 = redis::cmd("FCALL_RO").arg("wasm_counter_get").arg(1).arg("w:visits").query(&mut c).unwrap();
    let lua: i64 = redis::cmd("FCALL_RO").arg("counter_get").arg(1).arg("l:visits").query(&mut c).unwrap();
    assert_eq!((got, lua), (4, 4));
    // A writing function is refused as FCALL_RO, as for Lua.
    let e = err_text(redis::cmd("FCALL_RO").arg("wasm_counter_add").arg(1).arg("k").query(&mut c));
    assert_eq!(e, "ERR Can not execute a script with write flag using *_ro command.");
    // The rate limiter gives the Lua script's answers.
    let rate = lua_example("rate_limit.lua");
    for _ in 0..3 {
        let w = fcall(&mut c, "wasm_rate_limit", &["w:rate"], &["2", "60000"]).unwrap();
        let l: Value = redis::cmd("EVAL").arg(&rate).arg(1).arg("l:rate").arg(2).arg(60000).query(&mut c).unwrap();
        let (Value::Array(w), Value::Array(l)) = (w, l) else { panic!("arrays expected") };
        assert_eq!(w[..2], l[..2]);
        assert!(matches!(w[2], Value::Int(ttl) if ttl > 0 && ttl <= 60000));
    }
    // FUNCTION LIST names the engine; DUMP and RESTORE carry the module.
    let list: Value = redis::cmd("FUNCTION").arg("LIST").arg("LIBRARYNAME").arg("wasm_*").query(&mut c).unwrap();
    let text = format!("{list:?}");
    assert!(text.contains("WASM") && text.contains("wasm_rate_limit") && text.contains("no-writes"), "{text}");
    let stats: Value = redis::cmd("FUNCTION").arg("STATS").query(&mut c).unwrap();
    let text = format!("{stats:?}");
    assert!(text.contains("WASM") && text.contains("LUA"), "{text}");
    let dump: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut c).unwrap();
    let _: () = redis::cmd("FUNCTION").arg("FLUSH").query(&mut c).unwrap();
    assert!(err_text(fcall(&mut c, "wasm_counter_add", &["w:visits"], &[])).contains("Function not found"));
    let _: () = redis::cmd("FUNCTION").arg("RESTORE").arg(dump).query(&mut c).unwrap();
    assert_eq!(fcall(&mut c, "wasm_counter_add", &["w:visits"], &["1"]).unwrap(), Value::Int(5));
    // Loading it again without REPLACE is refused, with REPLACE it is fine.
    assert_eq!(err_text(load(&mut c, &counter).map(Value::SimpleString)), "ERR Library 'wasm_counters' already exists");
    let replaced: String = redis::cmd("FUNCTION").arg("LOAD").arg("REPLACE").arg(&counter).query(&mut c).unwrap();
    assert_eq!(replaced, "wasm_counters");
}

/// RFC 7386 merge patch in Lua with cjson: the json_patch module's twin.
const LUA_MERGE: &str = r#"
local function merge(target, patch)
  if type(patch) ~= 'table' or patch[1] ~= nil or next(patch) == nil and cjson.encode(patch) == '[]' then
    return patch
  end
  if type(target) ~= 'table' then target = {} end
  for k, v in pairs(patch) do
    if v == cjson.null then target[k] = nil else target[k] = merge(target[k], v) end
  end
  return target
end
local doc = redis.call('GET', KEYS[1])
doc = doc and cjson.decode(doc) or {}
local out = cjson.encode(merge(doc, cjson.decode(ARGV[1])))
redis.call('SET', KEYS[1], out)
return out
"#;

#[test]
fn json_patch_module_over_http_matches_lua() {
    let Some(json_patch) = module("json_patch") else { return };
    let srv = TestServer::start(&[]);
    let r = srv.http("POST", "/functions", &[], &json_patch);
    assert_eq!(r.json(), json!({"result": "json_patch"}));
    let mut c = srv.client();
    let doc = r#"{"name":"ada","tags":["x"],"age":36,"address":{"city":"london","zip":"N1"}}"#;
    let patches = [
        r#"{"age":37,"tags":null,"langs":["en"]}"#,
        r#"{"address":{"zip":null,"country":"uk"}}"#,
        r#"{"name":"ada lovelace","address":"elsewhere"}"#,
    ];
    let _: () = redis::cmd("SET").arg("doc:w").arg(doc).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("doc:l").arg(doc).query(&mut c).unwrap();
    for patch in patches {
        let r = srv.post_json("/functions/json_merge", &[], &json!({"keys": ["doc:w"], "args": [patch]}));
        let wasm: serde_json::Value = serde_json::from_str(r.json()["result"].as_str().unwrap()).unwrap();
        let lua: String = redis::cmd("EVAL").arg(LUA_MERGE).arg(1).arg("doc:l").arg(patch).query(&mut c).unwrap();
        let lua: serde_json::Value = serde_json::from_str(&lua).unwrap();
        assert_eq!(wasm, lua, "{patch}");
    }
    let v: String = redis::cmd("FCALL_RO").arg("json_get").arg(1).arg("doc:w").arg("/langs/0").query(&mut c).unwrap();
    assert_eq!(v, "\"en\"");
    let e = err_text(fcall(&mut c, "json_merge", &["doc:w"], &["not json"]));
    assert!(e.starts_with("ERR the patch is not JSON"), "{e}");
}

#[test]
fn misbehaving_modules_are_stopped_and_rolled_back() {
    let (Some(misbehave), Some(clock)) = (module("misbehave"), module("clock")) else { return };
    let srv = TestServer::start(&["--module-fuel-budget", "20000000", "--module-memory-limit", "32mb"]);
    let mut c = srv.client();
    let mut other = srv.client();
    assert_eq!(load(&mut c, &misbehave).unwrap(), "misbehave");
    let _: () = redis::cmd("SET").arg("victim").arg("before").query(&mut c).unwrap();
    let cases = [
        ("mb_spin", "ERR Module used its whole fuel budget (module-fuel-budget 20000000) and was stopped; its writes were rolled back"),
        ("mb_grow", "ERR Module went past its memory limit (module-memory-limit 33554432 bytes) and was stopped; its writes were rolled back"),
        ("mb_trap", "ERR Module trapped (wasm `unreachable` instruction executed); its writes were rolled back"),
    ];
    for (f, want) in cases {
        assert_eq!(err_text(fcall(&mut c, f, &["victim"], &[])), want, "{f}");
        let v: String = redis::cmd("GET").arg("victim").query(&mut other).unwrap();
        assert_eq!(v, "before", "{f} left its write");
        let pong: String = redis::cmd("PING").query(&mut other).unwrap();
        assert_eq!(pong, "PONG");
    }
    // An error the function returns is its reply; like a Lua script's error,
    // it does not undo what the function wrote.
    assert_eq!(err_text(fcall(&mut c, "mb_fail", &["victim"], &[])), "ERR nothing to do");
    let v: String = redis::cmd("GET").arg("victim").query(&mut other).unwrap();
    assert_eq!(v, "written before misbehaving");
    // A function that ends normally keeps its write, and sees typed replies.
    let v = fcall(&mut c, "mb_echo", &["victim"], &["a1", "a2"]).unwrap();
    let Value::Array(items) = v else { panic!("array expected") };
    assert_eq!(items[0], Value::Array(vec![Value::BulkString(b"victim".to_vec())]));
    assert_eq!(items[1], Value::Array(vec![Value::BulkString(b"a1".to_vec()), Value::BulkString(b"a2".to_vec())]));
    assert_eq!(items[2], Value::BulkString(b"a9993e364706816aba3e25717850c26c9cd0d89d".to_vec()));
    assert_eq!(items[3], Value::BulkString(b"1.5".to_vec()));
    assert_eq!(items[4], Value::Int(1));
    assert_eq!(items[6], Value::BulkString(b"pcall: ERR Unknown Redis command called from script".to_vec()));
    let v: String = redis::cmd("GET").arg("victim").query(&mut other).unwrap();
    assert_eq!(v, "written before misbehaving");
    // Keys the call did not declare, in any shard: the call runs again holding
    // every shard, and each write happens once.
    assert_eq!(fcall(&mut c, "mb_undeclared", &[], &["u:a", "u:b", "{x}c"]).unwrap(), Value::Int(3));
    assert_eq!(fcall(&mut c, "mb_undeclared", &[], &["u:a", "u:b", "{x}c"]).unwrap(), Value::Int(3));
    let counts: Vec<i64> = redis::cmd("MGET").arg("u:a").arg("u:b").arg("{x}c").query(&mut other).unwrap();
    assert_eq!(counts, [2, 2, 2]);
    // A module importing what the world does not give is refused at load.
    let e = err_text(load(&mut c, &clock).map(Value::SimpleString));
    assert_eq!(
        e,
        "ERR The module imports 'now', which the slotkv:script world does not offer (only slotkv:script/host@0.1.0)"
    );
    // Bytes that only start like a module.
    let e = err_text(load(&mut c, b"\0asm\x01\0\0\0garbage").map(Value::SimpleString));
    assert!(e.starts_with("ERR Error compiling the module"), "{e}");
}

#[test]
fn the_wall_clock_stops_a_module_with_fuel_to_spare() {
    let Some(misbehave) = module("misbehave") else { return };
    let srv = TestServer::start(&["--module-fuel-budget", "1000000000000000", "--module-time-limit", "200"]);
    let mut c = srv.client();
    load(&mut c, &misbehave).unwrap();
    let e = err_text(fcall(&mut c, "mb_spin", &["k"], &[]));
    assert_eq!(
        e,
        "ERR Module ran past its time limit (module-time-limit 200 ms) and was stopped; its writes were rolled back"
    );
    let n: i64 = redis::cmd("EXISTS").arg("k").query(&mut c).unwrap();
    assert_eq!(n, 0);
}
