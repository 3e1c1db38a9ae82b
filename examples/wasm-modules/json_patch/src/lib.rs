//! JSON documents patched in place with RFC 7386 merge patches: why one would
//! write a function in Rust, with a real JSON library from crates.io, rather
//! than in Lua. The patch is applied next to the data, atomically.
//!
//!   redis-cli -x FUNCTION LOAD < examples/wasm-modules/dist/json_patch.wasm
//!   redis-cli SET doc:1 '{"name":"ada","tags":["x"],"age":36}'
//!   redis-cli FCALL json_merge 1 doc:1 '{"age":37,"tags":null,"langs":["en"]}'
//!   redis-cli FCALL_RO json_get 1 doc:1 /langs/0

use serde_json::Value;
use slotkv_guest::{call, function, Function, Guest, Node, Reply};

struct JsonPatch;

/// Applies `patch` to `target` as RFC 7386 says: objects merge key by key, a
/// null removes the key, anything else replaces.
fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(doc) = target {
                for (k, v) in fields {
                    if v.is_null() {
                        doc.remove(&k);
                    } else {
                        merge(doc.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

fn parse(bytes: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{what} is not JSON: {e}"))
}

impl Guest for JsonPatch {
    fn describe() -> (String, Vec<Function>) {
        ("json_patch".into(), vec![function("json_merge", &[]), function("json_get", &["no-writes"])])
    }

    fn invoke(name: String, keys: Vec<Vec<u8>>, args: Vec<Vec<u8>>) -> Result<Vec<Node>, String> {
        let key = keys.first().ok_or("a key is needed")?;
        let current = call(&[b"GET", key])?;
        let reply = match name.as_str() {
            // Merges args[1] into the document at keys[1] (an absent one is {}); the new document.
            "json_merge" => {
                let patch = parse(args.first().ok_or("a patch is needed")?, "the patch")?;
                let mut doc = match current.as_bytes() {
                    Some(b) => parse(b, "the document")?,
                    None => Value::Object(Default::default()),
                };
                merge(&mut doc, patch);
                let text = doc.to_string();
                call(&[b"SET", key, text.as_bytes()])?;
                Reply::Bulk(text.into_bytes())
            }
            // The value at JSON pointer args[1] (the whole document without one), as JSON; nil if absent.
            "json_get" => match current.as_bytes() {
                None => Reply::Nil,
                Some(b) => {
                    let doc = parse(b, "the document")?;
                    let pointer = args.first().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
                    match doc.pointer(&pointer) {
                        Some(v) => Reply::Bulk(v.to_string().into_bytes()),
                        None => Reply::Nil,
                    }
                }
            },
            other => return Err(format!("no function {other}")),
        };
        Ok(reply.into_nodes())
    }
}

slotkv_guest::export_module!(JsonPatch);
