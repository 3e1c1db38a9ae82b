//! slotkv-runtime: the `slotkv` server around [`slotkv_core`]: configuration,
//! the tokio RESP listener, shards, and orderly shutdown.
//!
//! # Layout
//! - [`config`]: directives from a redis.conf-style file and `--name value` flags
//! - [`server`]: listeners, connections, shards, the host services of core commands

pub mod config;
pub mod server;

pub use config::Config;
pub use server::Server;
