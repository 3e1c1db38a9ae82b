//! A counter and a rate limiter: the WebAssembly twins of
//! examples/lua/counters_lib.lua and examples/lua/rate_limit.lua, giving the
//! same answers.
//!
//!   redis-cli -x FUNCTION LOAD < examples/wasm-modules/dist/counter.wasm
//!   redis-cli FCALL wasm_counter_add 1 visits 5
//!   redis-cli FCALL_RO wasm_counter_get 1 visits
//!   redis-cli FCALL wasm_rate_limit 1 rate:alice 10 60000

use slotkv_guest::{call, function, Function, Guest, Node, Reply};

struct Counter;

impl Guest for Counter {
    fn describe() -> (String, Vec<Function>) {
        let functions = vec![
            function("wasm_counter_add", &[]),
            function("wasm_counter_get", &["no-writes"]),
            function("wasm_rate_limit", &[]),
        ];
        ("wasm_counters".into(), functions)
    }

    fn invoke(name: String, keys: Vec<Vec<u8>>, args: Vec<Vec<u8>>) -> Result<Vec<Node>, String> {
        let key = keys.first().ok_or("a key is needed")?;
        let reply = match name.as_str() {
            // Adds args[1] (default 1) to counter keys[1]; the new value.
            "wasm_counter_add" => {
                let by = args.first().map_or(&b"1"[..], |a| a.as_slice());
                call(&[b"INCRBY", key, by])?
            }
            // Reads counter keys[1] (0 when absent).
            "wasm_counter_get" => Reply::Int(call(&[b"GET", key])?.as_int().unwrap_or(0)),
            // At most args[1] calls per args[2] ms: {allowed (1/0), calls so far, ms until the reset}.
            "wasm_rate_limit" => {
                let number = |i: usize| args.get(i).and_then(|a| std::str::from_utf8(a).ok()?.parse::<i64>().ok());
                let (limit, window) = number(0).zip(number(1)).ok_or("limit and window must be integers")?;
                let calls = call(&[b"INCR", key])?.as_int().unwrap_or(0);
                if calls == 1 {
                    call(&[b"PEXPIRE", key, window.to_string().as_bytes()])?;
                }
                let ttl = call(&[b"PTTL", key])?;
                Reply::Array(vec![Reply::Int((calls <= limit) as i64), Reply::Int(calls), ttl])
            }
            other => return Err(format!("no function {other}")),
        };
        Ok(reply.into_nodes())
    }
}

slotkv_guest::export_module!(Counter);
