//! WebAssembly script modules: the wasmtime host of the `slotkv:script`
//! world (wit/script.wit). A module is compiled once, at FUNCTION LOAD, and
//! kept as an `InstancePre`; each FCALL gets a fresh store and instance (no
//! state survives between calls) with a fuel budget, a memory cap and a
//! wall-clock deadline. The module's `call`/`pcall` imports suspend it (an
//! async call on a fiber) while core runs the command in the caller's shard,
//! so commands go through exactly the checks and undo log Lua's do.

use slotkv_core::scripting::modules::{ModuleCalls, ModuleHost, ModuleLibrary, ModuleStop};
use slotkv_core::scripting::{RegisteredFunction, ScriptFlags};
use slotkv_core::Reply;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

/// The host side of the `slotkv:script` world, generated from wit/.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "script-module",
        imports: { default: async },
        exports: { default: async },
    });
}

use bindings::slotkv::script::host::{Function, Level, Node};
use bindings::{ScriptModule, ScriptModulePre};

/// The only interface a module may import.
pub const HOST_INTERFACE: &str = "slotkv:script/host@0.1.0";
/// Calls that can run at once (one per shard and script thread is far fewer);
/// past it, a call fails with an error instead of waiting.
const POOL_SLOTS: u32 = 256;
/// Bytes of each pooled memory kept mapped between calls.
const KEEP_RESIDENT: usize = 256 << 10;
/// How often the wall-clock deadline is checked.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits of one call.
#[derive(Clone, Copy, Debug)]
pub struct ModuleLimits {
    /// Fuel (about one unit per WebAssembly instruction) a call may use.
    pub fuel: u64,
    /// Bytes a call's memories and tables may grow to.
    pub memory: usize,
    /// Milliseconds a call may run.
    pub time_ms: u64,
}

/// A module compiled and linked, ready to instantiate.
type Compiled = Arc<ScriptModulePre<CallState>>;
/// The registry's copy of a module's bytes (weakly: it may be deleted) and
/// the module compiled.
type ByCode = HashMap<usize, (Weak<[u8]>, Compiled)>;

/// Compiles modules and runs their functions; shared by every shard.
pub struct ModuleEngine {
    engine: Engine,
    linker: Linker<CallState>,
    limits: ModuleLimits,
    /// Compiled modules by the SHA1 of their bytes.
    compiled: Mutex<HashMap<String, Compiled>>,
    /// The same, by the address of the registry's copy of the bytes, so a
    /// call does not hash the module (checked against a weak reference).
    by_code: Mutex<ByCode>,
}

impl ModuleEngine {
    /// An engine with fuel and epoch interruption; a thread ticks the epoch.
    pub fn new(limits: ModuleLimits) -> anyhow::Result<Arc<ModuleEngine>> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true);
        // Instances, memories and fiber stacks come from a pool: a call then
        // costs no mmap/munmap, which on-demand allocation pays every time.
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_SLOTS)
            .total_core_instances(POOL_SLOTS * 4)
            .total_memories(POOL_SLOTS * 4)
            .total_tables(POOL_SLOTS * 4)
            .total_stacks(POOL_SLOTS)
            .max_memory_size(limits.memory)
            // The first pages of a memory, its tables and stacks are reset with
            // memset, not returned to the kernel: a small module's call then
            // takes no page faults (the profile showed them as most of a call).
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT / 16)
            .async_stack_keep_resident(KEEP_RESIDENT / 4);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        ScriptModule::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)?;
        let ticker = engine.weak();
        std::thread::Builder::new().name("module-epoch".into()).spawn(move || {
            while let Some(engine) = ticker.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
        Ok(Arc::new(ModuleEngine { engine, linker, limits, compiled: Mutex::default(), by_code: Mutex::default() }))
    }

    /// Compiles `code` (or finds it compiled) and links it against the world.
    fn compile(&self, code: &[u8]) -> Result<Compiled, String> {
        let sha = slotkv_core::scripting::sha1_hex(code);
        if let Some(pre) = self.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(&sha) {
            return Ok(pre.clone());
        }
        let component = Component::new(&self.engine, code)
            .map_err(|e| format!("ERR Error compiling the module: {}", one_line(&e)))?;
        for (name, _) in component.component_type().imports(&self.engine) {
            if name != HOST_INTERFACE {
                return Err(format!(
                    "ERR The module imports '{name}', which the slotkv:script world does not offer (only {HOST_INTERFACE})"
                ));
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(ScriptModulePre::new)
            .map_err(|e| format!("ERR The module does not fit the slotkv:script world: {}", one_line(&e)))?;
        let pre = Arc::new(pre);
        self.compiled.lock().unwrap_or_else(|p| p.into_inner()).insert(sha, pre.clone());
        Ok(pre)
    }

    /// The compiled module for the registry's bytes `code`.
    fn compiled_for(&self, code: &Arc<[u8]>) -> Result<Compiled, String> {
        let key = Arc::as_ptr(code) as *const u8 as usize;
        let mut by_code = self.by_code.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((weak, pre)) = by_code.get(&key) {
            if weak.upgrade().is_some_and(|c| Arc::ptr_eq(&c, code)) {
                return Ok(pre.clone());
            }
        }
        let pre = self.compile(code)?;
        by_code.retain(|_, (weak, _)| weak.strong_count() > 0);
        by_code.insert(key, (Arc::downgrade(code), pre.clone()));
        Ok(pre)
    }

    /// A store for one call, with its limits set.
    fn store(&self, keys: Arc<Vec<Vec<u8>>>, args: Arc<Vec<Vec<u8>>>) -> Store<CallState> {
        let state = CallState {
            keys,
            args,
            exchange: Arc::default(),
            limiter: Limiter { memory: self.limits.memory, denied: false },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let _ = store.set_fuel(self.limits.fuel);
        // Yield now and then, so SCRIPT KILL is heard during a long call.
        let _ = store.fuel_async_yield_interval(Some((self.limits.fuel / 100).clamp(1_000_000, 10_000_000)));
        store.set_epoch_deadline((self.limits.time_ms / EPOCH_TICK.as_millis() as u64).max(1) + 1);
        store.epoch_deadline_trap();
        store
    }
}

impl ModuleHost for ModuleEngine {
    fn load(&self, code: &[u8]) -> Result<ModuleLibrary, String> {
        let pre = self.compile(code)?;
        let mut store = self.store(Arc::default(), Arc::default());
        let exchange = store.data().exchange.clone();
        let described = drive(
            async {
                let module = pre.instantiate_async(&mut store).await?;
                module.call_describe(&mut store).await
            },
            &exchange,
            None,
        );
        let (name, functions) = match described {
            Driven::Done(Ok(d)) => d,
            Driven::Done(Err(e)) => {
                return Err(format!("ERR Error loading the module: {}", one_line(&e)));
            }
            Driven::Stopped(_) => return Err("ERR The module ran a command while describing itself".into()),
        };
        let functions = functions.into_iter().map(registered).collect::<Result<Vec<_>, _>>()?;
        Ok(ModuleLibrary { name, functions })
    }

    fn invoke(
        &self,
        code: &Arc<[u8]>,
        function: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        calls: &mut dyn ModuleCalls,
    ) -> Result<Reply, ModuleStop> {
        let pre = self.compiled_for(code).map_err(ModuleStop::Trap)?;
        // One copy of each, shared by the call's arguments and the keys()/args() imports.
        let owned = |v: &[&[u8]]| Arc::new(v.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
        let (k, a) = (owned(keys), owned(args));
        let mut store = self.store(k.clone(), a.clone());
        let exchange = store.data().exchange.clone();
        let outcome = drive(
            async {
                let module = pre.instantiate_async(&mut store).await?;
                module.call_invoke(&mut store, function, &k, &a).await
            },
            &exchange,
            Some(calls),
        );
        match outcome {
            Driven::Done(Ok(Ok(nodes))) => Ok(tree(&nodes)),
            Driven::Done(Ok(Err(message))) => Ok(Reply::Error(error_text(message))),
            Driven::Done(Err(e)) => Err(classify(&e, store.data().limiter.denied)),
            Driven::Stopped(stop) => Err(stop),
        }
    }

    fn stop_message(&self, stop: &ModuleStop) -> String {
        let l = self.limits;
        let rolled = "its writes were rolled back";
        match stop {
            ModuleStop::Fuel => {
                format!(
                    "ERR Module used its whole fuel budget (module-fuel-budget {}) and was stopped; {rolled}",
                    l.fuel
                )
            }
            ModuleStop::Memory => format!(
                "ERR Module went past its memory limit (module-memory-limit {} bytes) and was stopped; {rolled}",
                l.memory
            ),
            ModuleStop::Time => {
                format!(
                    "ERR Module ran past its time limit (module-time-limit {} ms) and was stopped; {rolled}",
                    l.time_ms
                )
            }
            ModuleStop::Killed => format!("ERR Script killed by user with SCRIPT KILL... {rolled}"),
            ModuleStop::Trap(t) => format!("ERR Module trapped ({t}); {rolled}"),
            ModuleStop::Reroute => "ERR internal error: module call must run again".into(),
        }
    }
}

/// The first line of an error chain, for a one-line reply.
fn one_line(e: &wasmtime::Error) -> String {
    format!("{e:#}").replace(['\r', '\n'], " ")
}

/// Why a call failed: a limit, or a trap of the module's own.
fn classify(e: &wasmtime::Error, memory_denied: bool) -> ModuleStop {
    if memory_denied {
        return ModuleStop::Memory;
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ModuleStop::Fuel,
        Some(Trap::Interrupt) => ModuleStop::Time,
        Some(t) => {
            let text = t.to_string();
            ModuleStop::Trap(text.strip_prefix("wasm trap: ").unwrap_or(&text).to_string())
        }
        None => ModuleStop::Trap(one_line(e)),
    }
}

/// A function's error message as a reply: with a code, or `ERR` added.
fn error_text(message: String) -> String {
    let code_like =
        message.split(' ').next().is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase()));
    if code_like {
        message
    } else {
        format!("ERR {message}")
    }
}

fn registered(f: Function) -> Result<RegisteredFunction, String> {
    let flags =
        ScriptFlags::parse(f.flags.join(",").as_bytes()).map_err(|e| format!("ERR Function '{}': {e}", f.name))?;
    Ok(RegisteredFunction { name: f.name, description: None, flags })
}

/// What one call's store holds.
pub struct CallState {
    keys: Arc<Vec<Vec<u8>>>,
    args: Arc<Vec<Vec<u8>>>,
    exchange: Arc<Mutex<Exchange>>,
    limiter: Limiter,
}

/// Memory and tables capped; remembers a refusal, to name it in the error.
struct Limiter {
    memory: usize,
    denied: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.denied = true;
            wasmtime::bail!("memory would grow to {desired} bytes, past module-memory-limit");
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory / 8 {
            self.denied = true;
            wasmtime::bail!("a table would grow to {desired} elements");
        }
        Ok(true)
    }
}

/// Where a suspended module leaves its command for the shard, and finds the
/// reply.
#[derive(Default)]
struct Exchange {
    request: Option<Vec<Vec<u8>>>,
    answer: Option<Reply>,
    logs: Vec<(u8, String)>,
}

/// Suspends the module until the shard has answered `command`.
fn ask(exchange: &Arc<Mutex<Exchange>>, command: Vec<Vec<u8>>) -> impl Future<Output = Reply> + Send + 'static {
    let exchange = exchange.clone();
    let mut asked = Some(command);
    std::future::poll_fn(move |_| {
        let mut x = exchange.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(command) = asked.take() {
            x.request = Some(command);
            return Poll::Pending;
        }
        match x.answer.take() {
            Some(reply) => Poll::Ready(reply),
            None => Poll::Pending,
        }
    })
}

enum Driven<T> {
    Done(T),
    Stopped(ModuleStop),
}

/// Polls a module call to its end, answering its commands with `calls`
/// between polls. Without `calls` (at load) a command stops it.
fn drive<T>(
    fut: impl Future<Output = T>,
    exchange: &Arc<Mutex<Exchange>>,
    mut calls: Option<&mut dyn ModuleCalls>,
) -> Driven<T> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = pin!(fut);
    loop {
        let polled = fut.as_mut().poll(&mut cx);
        let (request, logs) = {
            let mut x = exchange.lock().unwrap_or_else(|p| p.into_inner());
            (x.request.take(), std::mem::take(&mut x.logs))
        };
        if let Some(c) = calls.as_deref_mut() {
            for (level, text) in logs {
                c.log(level, &text);
            }
        }
        if let Poll::Ready(v) = polled {
            return Driven::Done(v);
        }
        let Some(c) = calls.as_deref_mut() else {
            return Driven::Stopped(ModuleStop::Trap("a command while loading".into()));
        };
        match request {
            Some(command) => match c.command(&command) {
                Some(reply) => exchange.lock().unwrap_or_else(|p| p.into_inner()).answer = Some(reply),
                None => return Driven::Stopped(ModuleStop::Reroute),
            },
            // A fuel yield: the moment to hear SCRIPT KILL.
            None if c.killed() => return Driven::Stopped(ModuleStop::Killed),
            None => {}
        }
    }
}

/// A reply as the module receives it: nodes in pre-order.
fn nodes(reply: &Reply, out: &mut Vec<Node>) {
    match reply {
        Reply::Simple(s) => out.push(Node::Status(s.clone())),
        Reply::Error(e) => out.push(Node::Error(e.clone())),
        Reply::Int(n) => out.push(Node::Integer(*n)),
        Reply::Bulk(b) => out.push(Node::Bulk(b.clone())),
        Reply::Verbatim { text: b, .. } => out.push(Node::Bulk(b.clone())),
        Reply::BigNumber(s) => out.push(Node::Bulk(s.as_bytes().to_vec())),
        Reply::Null | Reply::NullArray => out.push(Node::Nil),
        Reply::Double(d) => out.push(Node::Double(*d)),
        Reply::Bool(b) => out.push(Node::Boolean(*b)),
        Reply::Array(items) | Reply::Push(items) => {
            out.push(Node::Array(items.len() as u32));
            items.iter().for_each(|r| nodes(r, out));
        }
        Reply::Set(items) => {
            out.push(Node::Set(items.len() as u32));
            items.iter().for_each(|r| nodes(r, out));
        }
        Reply::Map(pairs) => {
            out.push(Node::Map(pairs.len() as u32));
            for (k, v) in pairs {
                nodes(k, out);
                nodes(v, out);
            }
        }
    }
}

/// The reply a module returned, rebuilt from its nodes; a malformed list
/// (an aggregate short of children, or extra nodes) is an error reply.
fn tree(list: &[Node]) -> Reply {
    fn take(list: &[Node], at: &mut usize, depth: usize) -> Option<Reply> {
        if depth > 1000 {
            return None;
        }
        let node = list.get(*at)?;
        *at += 1;
        let many = |n: u32, at: &mut usize| (0..n).map(|_| take(list, at, depth + 1)).collect::<Option<Vec<_>>>();
        Some(match node {
            Node::Nil => Reply::Null,
            Node::Status(s) => Reply::Simple(s.clone()),
            Node::Error(e) => Reply::Error(error_text(e.clone())),
            Node::Integer(n) => Reply::Int(*n),
            Node::Double(d) => Reply::Double(*d),
            Node::Boolean(b) => Reply::Bool(*b),
            Node::Bulk(b) => Reply::Bulk(b.clone()),
            Node::Array(n) => Reply::Array(many(*n, at)?),
            Node::Set(n) => Reply::Set(many(*n, at)?),
            Node::Map(n) => {
                let flat = many(n.checked_mul(2)?, at)?;
                let mut it = flat.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Reply::Map(pairs)
            }
        })
    }
    let mut at = 0;
    match take(list, &mut at, 0) {
        Some(r) if at == list.len() => r,
        _ => Reply::Error("ERR The module returned a malformed reply".into()),
    }
}

impl bindings::slotkv::script::host::Host for CallState {
    async fn call(&mut self, command: Vec<Vec<u8>>) -> Result<Vec<Node>, String> {
        match ask(&self.exchange, command).await {
            Reply::Error(e) => Err(e),
            reply => {
                let mut out = Vec::new();
                nodes(&reply, &mut out);
                Ok(out)
            }
        }
    }

    async fn pcall(&mut self, command: Vec<Vec<u8>>) -> Vec<Node> {
        let reply = ask(&self.exchange, command).await;
        let mut out = Vec::new();
        nodes(&reply, &mut out);
        out
    }

    async fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Debug => 0,
            Level::Verbose => 1,
            Level::Notice => 2,
            Level::Warning => 3,
        };
        let mut x = self.exchange.lock().unwrap_or_else(|p| p.into_inner());
        if x.logs.len() < 1000 {
            x.logs.push((level, message));
        }
    }

    async fn keys(&mut self) -> Vec<Vec<u8>> {
        self.keys.to_vec()
    }

    async fn args(&mut self) -> Vec<Vec<u8>> {
        self.args.to_vec()
    }

    async fn sha1hex(&mut self, data: Vec<u8>) -> String {
        slotkv_core::scripting::sha1_hex(&data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_cross_as_preorder_nodes() {
        let r = Reply::Array(vec![
            Reply::Int(1),
            Reply::Map(vec![(Reply::Bulk(b"k".to_vec()), Reply::Set(vec![Reply::Bool(true)]))]),
            Reply::Null,
            Reply::Simple("OK".into()),
        ]);
        let mut list = Vec::new();
        nodes(&r, &mut list);
        assert_eq!(tree(&list), r);
        assert_eq!(
            tree(&[Node::Array(2), Node::Integer(1)]),
            Reply::Error("ERR The module returned a malformed reply".into())
        );
        assert_eq!(
            tree(&[Node::Integer(1), Node::Integer(2)]),
            Reply::Error("ERR The module returned a malformed reply".into())
        );
        assert_eq!(tree(&[]), Reply::Error("ERR The module returned a malformed reply".into()));
        assert_eq!(tree(&[Node::Error("oops".into())]), Reply::Error("ERR oops".into()));
        assert_eq!(tree(&[Node::Error("WRONGTYPE x".into())]), Reply::Error("WRONGTYPE x".into()));
    }
}
