//! Function libraries (FUNCTION LOAD): the [`FunctionRegistry`] every client
//! shares, holding each library's code and the functions it registered. Each
//! thread's engine runs the libraries' code into its own Lua state when the
//! registry changes ([`super::ScriptEngine::sync_functions`]).

use super::RegisteredFunction;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What runs a library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibraryEngine {
    /// Lua source with a `#!lua name=...` header.
    Lua,
    /// A WebAssembly component (see [`super::modules`]).
    Wasm,
}

impl LibraryEngine {
    /// The name FUNCTION LIST shows.
    pub fn name(self) -> &'static str {
        match self {
            LibraryEngine::Lua => "LUA",
            LibraryEngine::Wasm => "WASM",
        }
    }
}

/// One loaded library.
#[derive(Clone, Debug)]
pub struct Library {
    /// Its name (`#!lua name=...`, or what the module describes).
    pub name: String,
    /// What runs it.
    pub engine: LibraryEngine,
    /// Its code: Lua source with its shebang, or the module's bytes.
    pub code: Arc<[u8]>,
    /// The functions it registered, in registration order.
    pub functions: Vec<RegisteredFunction>,
}

/// Every library, by name.
#[derive(Default)]
pub struct FunctionRegistry {
    libraries: BTreeMap<String, Library>,
    generation: u64,
}

/// Reads a library's `#!lua name=<name>` header; Redis's error otherwise.
pub fn library_name(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let end = code.iter().position(|&c| c == b'\n').ok_or("ERR Invalid library metadata")?;
    let line = String::from_utf8_lossy(&code[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) => name = Some(n.to_string()),
            None => return Err(format!("ERR Invalid metadata value given: {p}")),
        }
    }
    let name = name.ok_or("ERR Library name was not given")?;
    if !valid_name(&name) {
        return Err(
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
                .into(),
        );
    }
    Ok(name)
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

impl FunctionRegistry {
    /// Adds `lib`; with `replace`, in place of a library of the same name.
    pub fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        if self.libraries.contains_key(&lib.name) && !replace {
            return Err(format!("ERR Library '{}' already exists", lib.name));
        }
        for f in &lib.functions {
            if let Some((other, _)) = self.function(&f.name) {
                if other.name != lib.name {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        self.libraries.insert(lib.name.clone(), lib);
        self.generation += 1;
        Ok(())
    }

    /// Removes a library; false if there is none of that name.
    pub fn delete(&mut self, name: &str) -> bool {
        let found = self.libraries.remove(name).is_some();
        if found {
            self.generation += 1;
        }
        found
    }

    /// Removes every library.
    pub fn flush(&mut self) {
        self.libraries.clear();
        self.generation += 1;
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// The library of function `name`, and the function.
    pub fn function(&self, name: &str) -> Option<(&Library, &RegisteredFunction)> {
        self.libraries.values().find_map(|l| l.functions.iter().find(|f| f.name == name).map(|f| (l, f)))
    }

    /// Changes with every load, delete and flush.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
