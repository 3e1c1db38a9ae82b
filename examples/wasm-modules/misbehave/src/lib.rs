//! A module that misbehaves on purpose, for slotkv's tests: each function
//! writes a key first, then loops forever, grows its memory without end, or
//! traps. The server must stop each with its own error and roll the write back.

use slotkv_guest::{call, function, Function, Guest, Node, Reply};

struct Misbehave;

impl Guest for Misbehave {
    fn describe() -> (String, Vec<Function>) {
        let names = ["mb_spin", "mb_grow", "mb_trap", "mb_echo", "mb_fail", "mb_log", "mb_undeclared"];
        ("misbehave".into(), names.iter().map(|n| function(n, &[])).collect())
    }

    fn invoke(name: String, keys: Vec<Vec<u8>>, args: Vec<Vec<u8>>) -> Result<Vec<Node>, String> {
        if let Some(key) = keys.first() {
            call(&[b"SET", key, b"written before misbehaving"])?;
        }
        let reply = match name.as_str() {
            "mb_spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "mb_grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(Vec::with_capacity(1 << 20));
                    std::hint::black_box(&hoard);
                }
            }
            "mb_trap" => std::process::abort(),
            // The keys and args it was given, and what the host says of them.
            "mb_echo" => Reply::Array(vec![
                Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
                Reply::Array(args.into_iter().map(Reply::Bulk).collect()),
                Reply::Bulk(slotkv_guest::host::sha1hex(b"abc").into_bytes()),
                Reply::Double(1.5),
                Reply::Bool(true),
                Reply::Map(vec![(Reply::from("k"), Reply::Set(vec![Reply::from("m")]))]),
                // pcall hands an error reply back as a value.
                match slotkv_guest::pcall(&[b"NOSUCHCOMMAND"]) {
                    Reply::Error(e) => Reply::Bulk(format!("pcall: {e}").into_bytes()),
                    other => other,
                },
            ]),
            // An error of the function's own.
            "mb_fail" => return Err("nothing to do".into()),
            // Writes keys it was not given (args[0], args[1]), as a careless module would.
            "mb_undeclared" => {
                for key in &args {
                    call(&[b"INCR", key])?;
                }
                Reply::Int(args.len() as i64)
            }
            "mb_log" => {
                slotkv_guest::host::log(slotkv_guest::Level::Warning, "hello from a module");
                Reply::Status("OK".into())
            }
            other => return Err(format!("no function {other}")),
        };
        Ok(reply.into_nodes())
    }
}

slotkv_guest::export_module!(Misbehave);
