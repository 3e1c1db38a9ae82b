//! The command table: one declarative [`CommandSpec`] per command, in one file
//! per family, and the lookup that routes a request to its spec.
//!
//! # Layout
//! - [`spec`]: the declaration types and flags
//! - `connection`, `server`, `keys`, `strings`, `hashes`, `cluster`: one family each
//! - `introspection`: COMMAND, generated from the table

pub mod spec;
mod util;

mod acl;
mod cluster;
mod connection;
mod debug;
mod functions;
mod hashes;
mod introspection;
mod keys;
mod lists;
pub mod pubsub;
mod scripting;
mod server;
mod sets;
mod slowlog;
mod streams;
mod strings;
mod transactions;
mod zsets;

pub use spec::{flags, CommandSpec, Group, Handler, KeyPos};

use crate::error::CmdError;
use crate::resp::request::Args;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Every family's table, in documentation order.
const FAMILIES: &[&[CommandSpec]] = &[
    connection::SPECS,
    server::SPECS,
    slowlog::SPECS,
    debug::SPECS,
    keys::SPECS,
    strings::SPECS,
    hashes::SPECS,
    lists::SPECS,
    sets::SPECS,
    zsets::SPECS,
    transactions::SPECS,
    pubsub::SPECS,
    streams::SPECS,
    scripting::SPECS,
    functions::SPECS,
    cluster::SPECS,
    introspection::SPECS,
    acl::SPECS,
];

/// The Redis version whose behaviour the commands follow (HELLO, INFO).
pub fn connection_version() -> &'static str {
    connection::REDIS_VERSION
}

/// Every top-level command.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Command names to specs; a fast hasher, as every command looks itself up here.
type Registry = HashMap<&'static [u8], &'static CommandSpec, foldhash::fast::FixedState>;

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| all().map(|c| (c.name.as_bytes(), c)).collect())
}

/// Finds a top-level command by name, ignoring ASCII case.
#[inline]
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    registry().get(&*lower).copied()
}

/// Finds a subcommand of `parent`, ignoring ASCII case.
pub fn lookup_sub(parent: &CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// The full name Redis uses in messages: `get`, or `config|get` for a subcommand.
pub fn full_name(parent: Option<&CommandSpec>, spec: &CommandSpec) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

/// A request resolved to the command that will run it.
#[derive(Clone, Copy)]
pub struct Resolved {
    /// The command (or subcommand) to run.
    pub spec: &'static CommandSpec,
    /// Its container, when `spec` is a subcommand.
    pub parent: Option<&'static CommandSpec>,
}

/// Resolves a request to its command, checking the name and the arity, with
/// Redis's error texts: the first checks of every command, before anything runs.
pub fn resolve(args: &Args<'_>) -> Result<Resolved, CmdError> {
    let name = args.get(0);
    let Some(spec) = lookup(name) else {
        return Err(unknown_command(args));
    };
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        let Some(sub) = lookup_sub(spec, args.get(1)) else {
            return Err(CmdError::owned(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                trunc(args.get(1), 128),
                spec.name.to_ascii_uppercase()
            )));
        };
        if !sub.arity_ok(args.len()) {
            return Err(CmdError::WrongArity(full_name(Some(spec), sub)));
        }
        return Ok(Resolved { spec: sub, parent: Some(spec) });
    }
    if !spec.arity_ok(args.len()) {
        return Err(CmdError::WrongArity(spec.name.to_string()));
    }
    Ok(Resolved { spec, parent: None })
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&full_name(self.parent, self.spec))
    }
}

fn trunc(b: &[u8], n: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(n)]).into_owned()
}

fn unknown_command(args: &Args<'_>) -> CmdError {
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push('\'');
        rest.push_str(&trunc(a, room));
        rest.push_str("' ");
    }
    CmdError::owned(format!("ERR unknown command '{}', with args beginning with: {}", trunc(args.get(0), 128), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_invariants() {
        let mut names = HashSet::new();
        for c in all() {
            assert!(names.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(!(c.has(flags::WRITE) && c.has(flags::READONLY)), "{} both write and readonly", c.name);
            assert!(c.arity != 0, "{} arity", c.name);
            if c.keys.first > 0 {
                let min = c.arity.unsigned_abs() as i32;
                assert!(c.keys.first < min.max(c.keys.first + 1), "{} first key past arity", c.name);
                assert!(!c.key_flags.is_empty() || !c.key_specs.is_empty(), "{} has keys but no key flags", c.name);
            }
            let mut subs = HashSet::new();
            for s in c.subcommands {
                assert!(subs.insert(s.name), "duplicate {}|{}", c.name, s.name);
                assert!(c.has(flags::CONTAINER));
            }
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert!(lookup(b"nosuch").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn key_indexes() {
        let mset = lookup(b"mset").unwrap();
        let args = |v: &[&str]| crate::resp::request::Argv::from_args(v.iter());
        let a = args(&["mset", "a", "1", "b", "2"]);
        assert_eq!(mset.key_indexes(&a.bind(&[])).collect::<Vec<_>>(), vec![1, 3]);
        let del = lookup(b"del").unwrap();
        let a = args(&["del", "a", "b", "c"]);
        assert_eq!(del.key_indexes(&a.bind(&[])).collect::<Vec<_>>(), vec![1, 2, 3]);
        let ping = lookup(b"ping").unwrap();
        let a = args(&["ping", "x"]);
        assert_eq!(ping.key_indexes(&a.bind(&[])).count(), 0);
        let sintercard = lookup(b"sintercard").unwrap();
        for (call, want) in [
            (&["sintercard", "2", "a", "b", "LIMIT", "1"][..], vec![2, 3]),
            (&["sintercard", "3", "a", "b"][..], vec![]),
            (&["sintercard", "x", "a"][..], vec![]),
            (&["sintercard", "0", "a"][..], vec![]),
        ] {
            let a = args(call);
            assert_eq!(sintercard.key_indexes(&a.bind(&[])).collect::<Vec<_>>(), want, "{call:?}");
        }
    }
}
