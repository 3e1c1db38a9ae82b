//! Script modules: function libraries compiled to WebAssembly components
//! (the `slotkv:script` world in wit/). Core does not run them: the server
//! gives a [`ModuleHost`] that compiles and calls them (wasmtime), and core
//! keeps everything else the same as for Lua libraries: the registry, FCALL's
//! rules, each command a module runs (through [`ModuleCalls`]), and the
//! rollback of its writes when a call is stopped.

use super::RegisteredFunction;
use crate::reply::Reply;
use std::sync::Arc;

/// The first bytes of every WebAssembly binary: how FUNCTION LOAD tells a
/// module from Lua source.
pub const WASM_MAGIC: &[u8] = b"\0asm";

/// True if `code` is a WebAssembly binary.
pub fn is_module(code: &[u8]) -> bool {
    code.starts_with(WASM_MAGIC)
}

/// What a module says of itself at load.
#[derive(Clone, Debug)]
pub struct ModuleLibrary {
    /// The library's name.
    pub name: String,
    /// Its functions, with their flags.
    pub functions: Vec<RegisteredFunction>,
}

/// Why a module's call ended before its function returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleStop {
    /// It used its whole fuel budget.
    Fuel,
    /// It tried to grow its memory past the cap.
    Memory,
    /// It ran past the wall-clock limit.
    Time,
    /// SCRIPT KILL / FUNCTION KILL.
    Killed,
    /// It trapped (unreachable, a bad memory access, a guest panic...).
    Trap(String),
    /// A command it ran touched keys outside the shards held: the call must
    /// run again holding every shard.
    Reroute,
}

/// What a running module asks of the server, answered by core.
pub trait ModuleCalls {
    /// Runs one command with the rules of `redis.call` in a script; the reply
    /// (errors as error replies), or `None` when the command's keys are not
    /// all held and the call must [`ModuleStop::Reroute`].
    fn command(&mut self, command: &[Vec<u8>]) -> Option<Reply>;
    /// A log line (level 0 debug to 3 warning).
    fn log(&mut self, level: u8, text: &str);
    /// True once SCRIPT KILL / FUNCTION KILL asked the call to stop.
    fn killed(&mut self) -> bool;
}

/// Compiles and runs modules; given by the server, absent in a browser.
pub trait ModuleHost {
    /// Compiles `code`, checks its imports against the world and asks it to
    /// describe itself; a Redis-style error (`ERR ...`) otherwise.
    fn load(&self, code: &[u8]) -> Result<ModuleLibrary, String>;
    /// Calls `function` of the loaded module `code`.
    fn invoke(
        &self,
        code: &Arc<[u8]>,
        function: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        calls: &mut dyn ModuleCalls,
    ) -> Result<Reply, ModuleStop>;
    /// The error a client hears for `stop`, naming the limit.
    fn stop_message(&self, stop: &ModuleStop) -> String;
}
