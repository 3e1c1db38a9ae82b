//! Lua scripting on piccolo: the per-thread [`ScriptEngine`] (one Lua state, its
//! compiled scripts, the `redis` library and the Lua 5.1 library pieces piccolo
//! lacks) and the shared [`ScriptCache`] of script bodies by SHA1.
//!
//! The engine never touches the keyspace itself. A script runs in fuel slices
//! ([`ScriptEngine::step`]); when it calls `redis.call`, the call is handed back
//! to the caller as [`Step::Call`], which runs the command with the shards it
//! holds and resumes the script with the reply. That keeps every borrow of the
//! data outside the Lua arena, and lets the caller stop a script between any
//! two slices (step budget, memory limit, SCRIPT KILL) and undo its writes.
//!
//! # Layout
//! - [`pattern`]: Lua patterns with a step limit
//! - `convert`: Lua values to replies and back, by Redis's rules
//! - `redis_lib`: the `redis` table
//! - `base`, `protect`, `strlib`, `tablib`, `mathlib`: the Lua 5.1 environment
//! - `printf`, `numfmt`: `string.format` and 5.1 number formatting
//! - `bitlib`, `cjson`, `cmsgpack`, `structlib`: libraries Redis bundles

mod base;
mod bitlib;
mod cjson;
mod cmsgpack;
mod convert;
pub mod functions;
mod mathlib;
pub mod modules;
pub(crate) mod numfmt;
pub mod pattern;
mod printf;
mod protect;
mod redis_lib;
mod rewrite;
mod strlib;
mod structlib;
mod syntax;
mod tablib;

use crate::reply::Reply;
use piccolo::{Closure, Executor, Fuel, Lua, StashedExecutor, StashedFunction, Table, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// The engine's maps are looked up on every call: a fast hasher (keys are
/// SHA1s and function names, not attacker-chosen hash floods of a keyspace).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// SHA1 of a script body, as 40 lowercase hex digits (EVALSHA ids, `redis.sha1hex`).
pub fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// A SHA1 as 40 lowercase hex digits, on the stack (EVALSHA looks one up per call).
#[derive(Clone, Copy)]
pub struct ShaKey([u8; 40]);

impl ShaKey {
    /// `sha` in lowercase, if it is 40 hex digits.
    pub fn new(sha: &[u8]) -> Option<ShaKey> {
        let mut k = [0u8; 40];
        if sha.len() != 40 || !sha.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        k.copy_from_slice(sha);
        k.make_ascii_lowercase();
        Some(ShaKey(k))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The script bodies known by SHA1 (SCRIPT LOAD, EVAL), shared by every
/// engine of a server; each engine compiles what it runs into its own state.
#[derive(Default)]
pub struct ScriptCache {
    bodies: FastMap<String, Arc<[u8]>>,
    generation: u64,
}

impl ScriptCache {
    /// Remembers `body`; returns its SHA1.
    pub fn insert(&mut self, body: &[u8]) -> String {
        let sha = sha1_hex(body);
        self.bodies.entry(sha.clone()).or_insert_with(|| Arc::from(body));
        sha
    }

    /// The body with this SHA1 (any case).
    pub fn get(&self, sha: &[u8]) -> Option<Arc<[u8]>> {
        let lower = ShaKey::new(sha)?;
        self.bodies.get(lower.as_str()).cloned()
    }

    /// Forgets every script (SCRIPT FLUSH); engines drop their compiled copies.
    pub fn flush(&mut self) {
        self.bodies.clear();
        self.generation += 1;
    }

    /// Changes each time the cache is flushed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of scripts.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    /// True if no script is cached.
    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Bytes of script bodies held (INFO `used_memory_scripts_eval`).
    pub fn body_bytes(&self) -> usize {
        self.bodies.values().map(|b| b.len() + 40).sum()
    }
}

/// The flags a script declares in its `#!lua flags=...` shebang, or a
/// function in `redis.register_function`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// The script declared flags at all (a shebang): Redis then applies the
    /// stricter rules of flagged scripts.
    pub declared: bool,
    /// `no-writes`: only read-only commands.
    pub no_writes: bool,
    /// `allow-oom`: may run past maxmemory.
    pub allow_oom: bool,
    /// `allow-stale`.
    pub allow_stale: bool,
    /// `no-cluster`: refused in cluster mode.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`.
    pub allow_cross_slot: bool,
}

impl ScriptFlags {
    /// Parses a comma-separated flag list; the unknown flag on error.
    pub fn parse(list: &[u8]) -> Result<ScriptFlags, String> {
        let mut f = ScriptFlags { declared: true, ..Default::default() };
        for name in list.split(|&c| c == b',').filter(|s| !s.is_empty()) {
            match name {
                b"no-writes" => f.no_writes = true,
                b"allow-oom" => f.allow_oom = true,
                b"allow-stale" => f.allow_stale = true,
                b"no-cluster" => f.no_cluster = true,
                b"allow-cross-slot-keys" => f.allow_cross_slot = true,
                other => return Err(String::from_utf8_lossy(other).into_owned()),
            }
        }
        Ok(f)
    }
}

/// A script body split into its shebang flags and the Lua code.
pub struct ParsedBody<'a> {
    /// Flags from `#!lua flags=...`.
    pub flags: ScriptFlags,
    /// The code to compile (the shebang line is kept as an empty line, so line
    /// numbers stay those of the body).
    pub code: std::borrow::Cow<'a, [u8]>,
}

/// Splits an EVAL body's shebang off; Redis's error text for a bad one.
pub fn parse_shebang(body: &[u8]) -> Result<ParsedBody<'_>, String> {
    if !body.starts_with(b"#!") {
        return Ok(ParsedBody { flags: ScriptFlags::default(), code: body.into() });
    }
    let end = body.iter().position(|&c| c == b'\n').ok_or("ERR Invalid script shebang")?;
    let line = &body[..end];
    let mut parts = line.split(|&c| c == b' ').filter(|p| !p.is_empty());
    let engine = &parts.next().unwrap_or(b"#!")[2..];
    if engine != b"lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {}", String::from_utf8_lossy(engine)));
    }
    let mut flags = ScriptFlags { declared: true, ..Default::default() };
    for p in parts {
        match p.strip_prefix(b"flags=") {
            Some(list) => {
                flags = ScriptFlags::parse(list).map_err(|f| format!("ERR Unexpected flag in script shebang: {f}"))?
            }
            None => {
                return Err(format!("ERR Unknown lua shebang option: {}", String::from_utf8_lossy(p)));
            }
        }
    }
    let mut code = Vec::with_capacity(body.len() - end);
    code.extend_from_slice(&body[end..]);
    Ok(ParsedBody { flags, code: code.into() })
}

/// A `redis.call` (or `pcall`) the script is waiting on.
#[derive(Debug)]
pub struct PendingCall {
    /// The command and its arguments.
    pub args: crate::resp::request::Argv,
    /// `redis.call`: an error reply raises a Lua error; `redis.pcall` returns it.
    pub raise: bool,
}

/// Why a script stopped before it finished, beyond an ordinary Lua error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// It used its whole step budget.
    Budget,
    /// It went past the memory limit.
    Memory,
    /// SCRIPT KILL / FUNCTION KILL.
    Killed,
    /// The interpreter failed (a panic inside piccolo); the state was replaced.
    Internal,
}

/// What one slice of a script ended with.
pub enum Step {
    /// Still running; call [`ScriptEngine::step`] again.
    Running,
    /// It called a command: run it and resume with [`ScriptEngine::resume`].
    Call(PendingCall),
    /// It returned; the reply (an error reply for a Lua error).
    Done(Reply),
    /// A limit stopped it inside a native function.
    Stopped(Stop),
}

/// Where the script is, for error messages (`script: <sha>, on @user_script:1.`).
#[derive(Clone, Debug)]
pub struct ScriptOrigin {
    /// The SHA1 of an EVAL script, or the function name of an FCALL.
    pub name: String,
    /// True for FCALL (Redis names the chunk `user_function`).
    pub function: bool,
}

/// A log line written by `redis.log`.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// `redis.LOG_DEBUG` (0) to `redis.LOG_WARNING` (3).
    pub level: u8,
    /// The message.
    pub text: String,
}

/// A function registered by a library's `redis.register_function`.
#[derive(Clone, Debug)]
pub struct RegisteredFunction {
    /// Its name.
    pub name: String,
    /// Its description, if given.
    pub description: Option<String>,
    /// Its flags.
    pub flags: ScriptFlags,
}

/// State shared between the engine and its native callbacks.
pub(crate) struct Bridge {
    pub call: Option<PendingCall>,
    pub resp3: bool,
    pub line: u64,
    /// The text of the last error `redis.call` raised: a script ending with
    /// exactly that error is answered without Lua's `ERR` prefix.
    pub call_error: Option<Vec<u8>>,
    pub stop: Option<Stop>,
    /// Steps left in the budget (native callbacks' loops are bounded by it).
    pub steps_left: i64,
    /// Bytes a single allocation by a native function may take.
    pub alloc_left: usize,
    pub logs: Vec<LogLine>,
    pub rng: mathlib::LuaRng,
    /// Set while a library's body runs (FUNCTION LOAD): registered functions.
    pub registering: Option<Vec<(RegisteredFunction, StashedFunction)>>,
    /// Registering a library is in progress (`redis.call` is refused).
    pub loading: bool,
}

impl Bridge {
    /// Charges `steps` of native work; false (and a budget stop) when it does not fit.
    pub fn charge(&mut self, steps: i64) -> bool {
        self.steps_left -= steps;
        if self.steps_left < 0 {
            self.stop = Some(Stop::Budget);
            return false;
        }
        true
    }

    /// Checks that a native function may allocate `bytes`.
    pub fn may_alloc(&mut self, bytes: usize) -> bool {
        if bytes > self.alloc_left {
            self.stop = Some(Stop::Memory);
            return false;
        }
        true
    }
}

pub(crate) type Shared = Rc<RefCell<Bridge>>;

/// Limits one script run is held to.
#[derive(Clone, Copy, Debug)]
pub struct ScriptLimits {
    /// Steps (piccolo fuel) a script may use.
    pub steps: u64,
    /// Bytes the Lua state may grow to.
    pub memory: usize,
}

/// What [`ScriptEngine::begin`] starts: an EVAL script (`KEYS` and `ARGV` as
/// globals), a function (them as its two arguments), or a library's body
/// (neither; its errors read as a function's).
#[derive(Clone, Copy)]
enum Entry {
    Script,
    Function,
    Library,
}

/// One Lua state with everything Redis scripts expect in it. Not `Send`: a
/// server keeps one per thread.
pub struct ScriptEngine {
    lua: Lua,
    executor: StashedExecutor,
    /// Compiled EVAL scripts by SHA1, with the flags their shebang declares.
    scripts: FastMap<String, (StashedFunction, ScriptFlags)>,
    functions: FastMap<String, StashedFunction>,
    functions_generation: Option<u64>,
    wide: std::collections::HashSet<String, foldhash::fast::RandomState>,
    generation: u64,
    bridge: Shared,
    origin: ScriptOrigin,
    used: u64,
    limits: ScriptLimits,
    baseline: usize,
    /// The state's size when the running script started: the memory limit
    /// counts what the script adds.
    start_memory: usize,
}

/// The memory a fresh state takes is not charged to scripts.
const FUEL_SLICE: i32 = 4096;

impl Default for ScriptEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptEngine {
    /// A fresh state with the Lua 5.1 environment, the Redis libraries and a
    /// read-only global table.
    pub fn new() -> Self {
        let mut lua = Lua::core();
        let bridge: Shared = Rc::new(RefCell::new(Bridge {
            call: None,
            resp3: false,
            line: 0,
            call_error: None,
            stop: None,
            steps_left: i64::MAX,
            alloc_left: usize::MAX,
            logs: Vec::new(),
            rng: mathlib::LuaRng::new(),
            registering: None,
            loading: false,
        }));
        let executor = lua.enter(|ctx| {
            base::install(ctx, &bridge);
            protect::install(ctx);
            strlib::install(ctx, &bridge);
            tablib::install(ctx, &bridge);
            mathlib::install(ctx, &bridge);
            redis_lib::install(ctx, &bridge);
            bitlib::install(ctx, &bridge);
            cjson::install(ctx, &bridge);
            cmsgpack::install(ctx, &bridge);
            structlib::install(ctx, &bridge);
            base::protect_globals(ctx, &bridge);
            ctx.stash(Executor::new(ctx))
        });
        lua.gc_collect();
        let baseline = lua.total_memory();
        ScriptEngine {
            lua,
            executor,
            scripts: FastMap::default(),
            functions: FastMap::default(),
            functions_generation: None,
            wide: Default::default(),
            generation: 0,
            bridge,
            origin: ScriptOrigin { name: String::new(), function: false },
            used: 0,
            limits: ScriptLimits { steps: u64::MAX, memory: usize::MAX },
            baseline,
            start_memory: baseline,
        }
    }

    /// Drops compiled scripts if the shared cache was flushed since.
    pub fn sync_generation(&mut self, generation: u64) {
        if generation != self.generation {
            self.scripts.clear();
            self.wide.clear();
            self.generation = generation;
        }
    }

    /// True if the script `sha` once touched keys outside its declared ones:
    /// it runs holding every shard from the start.
    pub fn needs_all_shards(&self, sha: &str) -> bool {
        // Usually empty: no hashing then.
        !self.wide.is_empty() && self.wide.contains(sha)
    }

    /// Remembers that script `sha` touches keys it does not declare.
    pub fn mark_needs_all_shards(&mut self, sha: &str) {
        self.wide.insert(sha.to_string());
    }

    /// The flags of the script with this SHA1, if it is compiled in this state.
    pub fn compiled(&self, sha: &str) -> Option<ScriptFlags> {
        self.scripts.get(sha).map(|(_, flags)| *flags)
    }

    /// Compiles `code` as the script `sha`, which declares `flags`; Redis's
    /// error text if it does not compile.
    pub fn compile(&mut self, sha: &str, code: &[u8], flags: ScriptFlags) -> Result<(), String> {
        let f = self.load_chunk("user_script", code)?;
        self.scripts.insert(sha.to_string(), (f, flags));
        Ok(())
    }

    fn load_chunk(&mut self, name: &str, code: &[u8]) -> Result<StashedFunction, String> {
        let what =
            if name == "user_function" { "Error compiling function" } else { "Error compiling script (new function)" };
        self.lua.enter(|ctx| {
            #[derive(Clone, Copy)]
            struct Interner<'gc>(piccolo::Context<'gc>);
            impl<'gc> piccolo::compiler::StringInterner for Interner<'gc> {
                type String = piccolo::String<'gc>;
                fn intern(&mut self, s: &[u8]) -> Self::String {
                    self.0.intern(s)
                }
            }
            let fail = |e: piccolo::PrototypeError| format!("ERR {what}: {}", base::compile_error(name, code, &e));
            let mut chunk = piccolo::compiler::parse_chunk(code, Interner(ctx)).map_err(|e| fail(e.into()))?;
            let names = rewrite::Names {
                concat: ctx.intern(rewrite::CONCAT.as_bytes()),
                method: ctx.intern(rewrite::METHOD.as_bytes()),
                pass: ctx.intern(rewrite::PASS.as_bytes()),
            };
            rewrite::chunk(&mut chunk, &names);
            let compiled = piccolo::compiler::compile_chunk(&chunk, Interner(ctx)).map_err(|e| fail(e.into()))?;
            let proto = piccolo::FunctionPrototype::from_compiled(&ctx, ctx.intern(name.as_bytes()), &compiled);
            let closure = Closure::new(&ctx, proto, Some(ctx.globals())).map_err(|e| format!("ERR {e}"))?;
            Ok(ctx.stash(piccolo::Function::Closure(closure)))
        })
    }

    /// Starts the compiled script `sha` with fresh `KEYS` and `ARGV`.
    pub fn start(&mut self, sha: &str, keys: &[&[u8]], argv: &[&[u8]], limits: ScriptLimits) -> Result<(), String> {
        let (f, _) =
            self.scripts.get(sha).ok_or_else(|| "NOSCRIPT No matching script. Please use EVAL.".to_string())?;
        let f = f.clone();
        self.begin(f, sha, Entry::Script, keys, argv, limits);
        Ok(())
    }

    /// Starts a registered function with `keys` and `args` as its two arguments.
    pub fn start_function(
        &mut self,
        f: &StashedFunction,
        name: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        limits: ScriptLimits,
    ) {
        self.begin(f.clone(), name, Entry::Function, keys, args, limits);
    }

    /// Starts `f`, named `name` in errors.
    fn begin(
        &mut self,
        f: StashedFunction,
        name: &str,
        kind: Entry,
        keys: &[&[u8]],
        argv: &[&[u8]],
        limits: ScriptLimits,
    ) {
        let (function, globals) = match kind {
            Entry::Script => (false, true),
            Entry::Function => (true, false),
            Entry::Library => (true, true),
        };
        {
            let mut b = self.bridge.borrow_mut();
            b.call = None;
            b.resp3 = false;
            b.line = 1;
            b.call_error = None;
            b.stop = None;
            b.steps_left = limits.steps.min(i64::MAX as u64) as i64;
            b.alloc_left = limits.memory;
        }
        self.used = 0;
        self.limits = limits;
        self.start_memory = self.lua.total_memory();
        // The name's buffer is reused: a short script should not allocate for it.
        self.origin.name.clear();
        self.origin.name.push_str(name);
        self.origin.function = function;
        self.lua.enter(|ctx| {
            let list = |items: &[&[u8]]| {
                let t = Table::new(&ctx);
                for (i, a) in items.iter().enumerate() {
                    let _ = t.set(ctx, i as i64 + 1, ctx.intern(a));
                }
                t
            };
            let (k, a) = (list(keys), list(argv));
            let f = ctx.fetch(&f);
            let exec = ctx.fetch(&self.executor);
            if globals {
                // KEYS and ARGV stay after a run until the next replaces them:
                // setting a key of piccolo's tables to nil leaves a dead key
                // behind, which its table growth does not expect.
                let _ = ctx.globals().set(ctx, "KEYS", k);
                let _ = ctx.globals().set(ctx, "ARGV", a);
                exec.restart(ctx, f, ());
            } else {
                exec.restart(ctx, f, (k, a));
            }
        });
    }

    /// Runs one slice of the script. A panic inside the interpreter stops the
    /// script ([`Stop::Internal`]) and replaces this state with a fresh one, so
    /// one script can never leave a broken interpreter to the next.
    pub fn step(&mut self) -> Step {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step_inner())) {
            Ok(step) => step,
            Err(_) => {
                *self = ScriptEngine::new();
                Step::Stopped(Stop::Internal)
            }
        }
    }

    fn step_inner(&mut self) -> Step {
        let left = self.limits.steps.saturating_sub(self.used);
        if left == 0 {
            return self.stop(Stop::Budget);
        }
        let slice = (left.min(FUEL_SLICE as u64)) as i32;
        self.bridge.borrow_mut().steps_left = left as i64;
        let mut fuel = Fuel::with(slice);
        let executor = &self.executor;
        let done = self.lua.enter(|ctx| ctx.fetch(executor).step(ctx, &mut fuel));
        let spent = (slice - fuel.remaining()).max(1) as u64;
        self.used += spent;
        let stopped = self.bridge.borrow_mut().stop.take();
        if let Some(stop) = stopped {
            return self.stop(stop);
        }
        if self.lua.total_memory().saturating_sub(self.start_memory) > self.limits.memory {
            return self.stop(Stop::Memory);
        }
        if !done {
            return Step::Running;
        }
        let call = self.bridge.borrow_mut().call.take();
        if let Some(call) = call {
            // redis.call yielded out of the main thread: piccolo hands the
            // yield back as a result; taking it leaves the thread suspended at
            // the call, to be resumed with the reply.
            self.lua.enter(|ctx| {
                let _ = ctx.fetch(executor).take_result::<Value>(ctx);
            });
            return Step::Call(call);
        }
        let origin = &self.origin;
        let bridge = &self.bridge;
        let reply = self.lua.enter(|ctx| {
            let b = bridge.borrow();
            match ctx.fetch(executor).take_result::<Value>(ctx) {
                Ok(Ok(v)) => convert::lua_to_reply(ctx, v, b.resp3),
                Ok(Err(e)) => Reply::Error(base::error_text(ctx, &e, &b, origin)),
                Err(_) => Reply::Error("ERR script did not finish".into()),
            }
        });
        Step::Done(reply)
    }

    /// Resumes the script after its `redis.call` with the command's reply.
    pub fn resume(&mut self, reply: Reply, raise: bool) {
        let executor = &self.executor;
        let bridge = self.bridge.clone();
        self.lua.enter(|ctx| {
            let exec = ctx.fetch(executor);
            match reply {
                Reply::Error(e) if raise => {
                    let text = e.into_bytes();
                    let v = ctx.intern(&text);
                    bridge.borrow_mut().call_error = Some(text);
                    let _ = exec.resume_err(&ctx, piccolo::Error::from_value(v.into()));
                }
                r => {
                    let resp3 = bridge.borrow().resp3;
                    let v = convert::reply_to_lua(ctx, &r, resp3);
                    let _ = exec.resume(ctx, v);
                }
            }
        });
    }

    /// Raises `message` (a Redis error text) at the script's `redis.call`, as
    /// if the command had failed, whatever the call kind.
    pub fn resume_error(&mut self, message: &str, raise: bool) {
        self.resume(Reply::Error(message.to_string()), raise);
    }

    /// Stops the running script (a limit, SCRIPT KILL) and frees what it built.
    pub fn stop(&mut self, why: Stop) -> Step {
        let executor = &self.executor;
        self.lua.enter(|ctx| ctx.fetch(executor).stop(&ctx));
        self.lua.gc_collect();
        // A stopped script may leave grown buffers behind (a deep recursion's
        // stack keeps its capacity): start over with a fresh state then.
        if self.lua.total_memory() > self.baseline.saturating_mul(4).max(self.baseline + (8 << 20)) {
            let generation = self.generation;
            *self = ScriptEngine::new();
            self.generation = generation;
        }
        Step::Stopped(why)
    }

    /// Steps used by the current (or last) run.
    pub fn steps_used(&self) -> u64 {
        self.used
    }

    /// The protocol the script asked for with `redis.setresp`.
    pub fn resp3(&self) -> bool {
        self.bridge.borrow().resp3
    }

    /// Takes the lines `redis.log` wrote since the last call.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.bridge.borrow_mut().logs)
    }

    /// Bytes the Lua state holds (INFO `used_memory_lua`).
    pub fn memory(&self) -> usize {
        self.lua.total_memory()
    }

    /// Runs a library's body (FUNCTION LOAD) within `limits`; returns the
    /// functions it registered. The body may not call Redis.
    pub fn load_library(
        &mut self,
        code: &[u8],
        limits: ScriptLimits,
    ) -> Result<Vec<(RegisteredFunction, StashedFunction)>, String> {
        // The header line stays as an empty line: errors count lines from it.
        let body = match code.iter().position(|&c| c == b'\n') {
            Some(i) if code.starts_with(b"#!") => &code[i..],
            _ if code.starts_with(b"#!") => &b""[..],
            _ => code,
        };
        let f = self.load_chunk("user_function", body)?;
        self.bridge.borrow_mut().registering = Some(Vec::new());
        self.bridge.borrow_mut().loading = true;
        self.begin(f, "", Entry::Library, &[], &[], limits);
        let outcome = loop {
            match self.step() {
                Step::Running => continue,
                Step::Call(_) => {
                    self.resume_error("ERR redis.call is not allowed while loading a library", true);
                }
                Step::Done(Reply::Error(e)) => {
                    let msg = e.rsplit_once(" script: ").map_or(e.as_str(), |(m, _)| m);
                    break Err(format!("ERR Error registering functions: {msg}"));
                }
                Step::Done(_) => break Ok(()),
                Step::Stopped(Stop::Budget) => break Err("ERR FUNCTION LOAD timeout".to_string()),
                Step::Stopped(_) => break Err("ERR FUNCTION LOAD ran out of memory".to_string()),
            }
        };
        let mut b = self.bridge.borrow_mut();
        b.loading = false;
        let registered = b.registering.take().unwrap_or_default();
        outcome?;
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(registered)
    }

    /// Brings this state's functions up to date with `registry`: on a change,
    /// every library's code runs again here.
    pub fn sync_functions(&mut self, registry: &functions::FunctionRegistry, limits: ScriptLimits) {
        if self.functions_generation == Some(registry.generation()) {
            return;
        }
        self.functions.clear();
        for lib in registry.libraries().filter(|l| l.engine == functions::LibraryEngine::Lua) {
            if let Ok(registered) = self.load_library(&lib.code, limits) {
                for (meta, f) in registered {
                    self.functions.insert(meta.name, f);
                }
            }
        }
        self.functions_generation = Some(registry.generation());
    }

    /// The function `name` of a loaded library, in this state.
    pub fn function(&self, name: &str) -> Option<StashedFunction> {
        self.functions.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::reply::Reply;

    fn eval(e: &mut Engine, script: &str) -> Reply {
        e.execute(&["EVAL", script, "0"], 1_000)
    }

    #[test]
    fn math_random_follows_lrand48() {
        let mut e = Engine::new(1, 1_000);
        let a = eval(&mut e, "math.randomseed(7) return {math.random(1000000), math.random(5, 6), math.random(3)}");
        let b = eval(&mut e, "math.randomseed(7) return {math.random(1000000), math.random(5, 6), math.random(3)}");
        assert_eq!(a, b);
        let Reply::Array(v) = a else { panic!("{a:?}") };
        assert!(matches!(v[1], Reply::Int(5 | 6)) && matches!(v[2], Reply::Int(1..=3)), "{v:?}");
        let r = eval(&mut e, "return math.random(0)");
        assert!(matches!(&r, Reply::Error(m) if m.contains("interval is empty")), "{r:?}");
    }

    #[test]
    fn limits_name_what_stopped_the_script() {
        let mut e = Engine::new(1, 1_000);
        e.set_script_limits(super::ScriptLimits { steps: 2_000_000, memory: 8 << 20 });
        let r = eval(&mut e, "while true do end");
        assert!(matches!(&r, Reply::Error(m) if m.contains("step budget")), "{r:?}");
        let r = eval(&mut e, "return string.rep('x', 1e9)");
        assert!(matches!(&r, Reply::Error(m) if m.contains("memory limit")), "{r:?}");
        assert_eq!(eval(&mut e, "return 1"), Reply::Int(1));
        let r = eval(&mut e, "local s = 'x' while true do s = s .. s end");
        assert!(matches!(&r, Reply::Error(m) if m.contains("memory limit")), "{r:?}");
        let r = eval(&mut e, "error('boom')");
        assert!(matches!(&r, Reply::Error(m) if m.starts_with("ERR user_script:1: boom")), "{r:?}");
    }
}
