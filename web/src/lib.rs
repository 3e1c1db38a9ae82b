//! slotkv-web: slotkv's core compiled to WebAssembly for the browser
//! playground. [`Playground`] is the JavaScript face of a [`session::Session`]:
//! time comes from `Date.now()`, the seed of hashing and `math.random` from
//! `crypto.getRandomValues`, and every answer crosses to JavaScript as a plain
//! object. The logic lives in plain Rust modules that are tested natively.

#![deny(missing_docs)]

pub mod session;
pub mod text;

use session::Session;
use wasm_bindgen::prelude::*;

/// Milliseconds since the Unix epoch, from the page's clock.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A random seed from the host (`crypto.getRandomValues` in a page); a fixed
/// one if the host has none, which only makes hashing predictable.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom02::getrandom(&mut bytes).map_or(0x5107_c0de, |_| u64::from_le_bytes(bytes))
}

/// Turns a JSON value built in Rust into a JavaScript value.
fn to_js(value: &serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

/// The playground: one in-page slotkv engine and its console client.
#[wasm_bindgen]
pub struct Playground {
    session: Session,
}

#[wasm_bindgen]
impl Playground {
    /// A playground with an empty keyspace.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Playground {
        Playground { session: Session::new(seed(), now_ms()) }
    }

    /// Runs a console line (quoted as in redis-cli). Returns `null` for a blank
    /// line, else `{reply, text, error, slot, node, notice}`.
    pub fn run(&mut self, line: &str) -> JsValue {
        match self.session.run_line(line, now_ms()) {
            Some(outcome) => to_js(&outcome.to_json()),
            None => JsValue::NULL,
        }
    }

    /// Runs a Lua script with `EVAL`; `keys` and `args` are space-separated
    /// words, quoted as in the console.
    pub fn eval(&mut self, script: &str, keys: &str, args: &str) -> JsValue {
        to_js(&self.session.eval(script, keys, args, now_ms()).to_json())
    }

    /// Loads a function library (`FUNCTION LOAD REPLACE`), whose functions
    /// the console then calls with `FCALL`.
    #[wasm_bindgen(js_name = loadLibrary)]
    pub fn load_library(&mut self, code: &str) -> JsValue {
        let args = [b"FUNCTION".to_vec(), b"LOAD".to_vec(), b"REPLACE".to_vec(), code.as_bytes().to_vec()];
        to_js(&self.session.run(&args, now_ms()).to_json())
    }

    /// Splits the slots among `nodes` simulated nodes (1: no cluster).
    pub fn split(&mut self, nodes: u32) {
        self.session.split(nodes as usize);
    }

    /// Connects the console to simulated node `node`.
    #[wasm_bindgen(js_name = setNode)]
    pub fn set_node(&mut self, node: u32) {
        self.session.set_node(node as usize);
    }

    /// Follows `MOVED` redirections as `redis-cli -c` does.
    #[wasm_bindgen(js_name = setFollow)]
    pub fn set_follow(&mut self, follow: bool) {
        self.session.set_follow(follow);
    }

    /// Sets the step budget of scripts.
    #[wasm_bindgen(js_name = setScriptSteps)]
    pub fn set_script_steps(&mut self, steps: f64) {
        self.session.set_script_steps(steps.max(1.0) as u64);
    }

    /// The step budget of scripts.
    #[wasm_bindgen(js_name = scriptSteps)]
    pub fn script_steps(&self) -> f64 {
        self.session.script_steps() as f64
    }

    /// The console's prompt.
    pub fn prompt(&self) -> String {
        self.session.prompt()
    }

    /// `{nodes: [{id, addr, ranges}], current, follow}`.
    pub fn cluster(&self) -> JsValue {
        to_js(&self.session.cluster_json())
    }

    /// Keys per slot of the selected database, 16384 entries.
    #[wasm_bindgen(js_name = slotCounts)]
    pub fn slot_counts(&self) -> Vec<u32> {
        self.session.slot_counts()
    }

    /// `{slot, node, count, keys: [{key, slot, tag}]}` for one slot.
    #[wasm_bindgen(js_name = slotInfo)]
    pub fn slot_info(&self, slot: u16, max: u32) -> JsValue {
        to_js(&self.session.slot_json(slot, max as usize))
    }

    /// `{key, slot, tag, node}` for one key name.
    #[wasm_bindgen(js_name = keyInfo)]
    pub fn key_info(&self, key: &str) -> JsValue {
        to_js(&self.session.key_json(key.as_bytes()))
    }
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

/// The hash slot of `key` (CRC16 of the key or its `{hash tag}`, mod 16384).
#[wasm_bindgen(js_name = keySlot)]
pub fn key_slot(key: &str) -> u16 {
    slotkv_core::key_slot(key.as_bytes())
}

/// Splits a console line into arguments as redis-cli does (for connected
/// mode): an array of strings, or `null` for unbalanced quotes.
#[wasm_bindgen(js_name = splitArgs)]
pub fn split_args(line: &str) -> JsValue {
    match session::split(line) {
        Ok(args) => to_js(&serde_json::Value::from(
            args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>(),
        )),
        Err(_) => JsValue::NULL,
    }
}

/// The redis-cli-style text of a reply given as the gateway's JSON result
/// (connected mode): `{"result": ...}` or `{"error": ...}`.
#[wasm_bindgen(js_name = formatGatewayReply)]
pub fn format_gateway_reply(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) => text::format(&text::from_gateway(&v), false),
        Err(e) => format!("(error) unreadable answer: {e}"),
    }
}
