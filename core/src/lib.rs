//! slotkv-core: the portable heart of slotkv, a Redis-compatible key-value
//! server whose keyspace is sharded by Redis Cluster's 16384 hash slots.
//!
//! Pure logic: no sockets, threads, files or clocks. Time and randomness come in
//! from the host, so the same core runs in the server and in a browser.
//!
//! # Layout
//! - [`resp`]: RESP2/RESP3 request parser, reply decoder and reply writer
//! - [`slot`]: `key_slot`, CRC16 with hash tags
//! - [`cluster`]: `SlotMap` and the routing rules (`MOVED`, `CROSSSLOT`)
//! - [`keyspace`]: per-slot dictionaries, expiry, SCAN cursors; [`keyspace::Data`]
//!   is a command's view over the shards it holds
//! - [`types`]: the values keys hold
//! - [`commands`]: the command table, one file per family
//! - [`exec`]: client state, host services, and running a command
//! - [`effects`]: what a command changed, as commands to replay (append-only file)
//! - [`engine`]: a self-contained single-shard engine (playground, tests)
//! - [`glob`], [`numeric`], [`longdouble`]: Redis's matching and number rules

#![deny(missing_docs)]

pub mod acl;
pub mod bytestring;
pub mod cluster;
pub mod commands;
pub mod effects;
pub mod engine;
pub mod error;
pub mod exec;
pub mod glob;
pub mod keyspace;
pub mod longdouble;
pub mod numeric;
pub mod rdb;
pub mod reply;
pub mod resp;
pub mod rng;
pub mod scripting;
pub mod slot;
pub mod slowlog;
pub mod snapshot;
pub mod types;

pub use bytestring::ByteString;
pub use commands::{resolve, CommandSpec, Resolved};
pub use effects::Effects;
pub use engine::Engine;
pub use error::{CmdError, CmdResult};
pub use exec::{execute, ClientFilter, ClientState, ExecCtx, Host};
pub use keyspace::{Data, Keyspace};
pub use reply::Reply;
pub use resp::{Argv, ReplyBuf, RequestParser};
pub use slot::{key_slot, SLOTS};
