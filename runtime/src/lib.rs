//! slotkv-runtime: the `slotkv` server around [`slotkv_core`]: configuration,
//! the tokio RESP listener, the HTTP/JSON gateway, shards, and orderly shutdown.
//!
//! # Layout
//! - [`config`]: directives from a redis.conf-style file and `--name value` flags
//! - [`server`]: listeners, connections, shards, the host services of core commands
//! - [`gateway`]: the HTTP/JSON gateway over the same server
//! - [`cluster`]: cluster mode's view of the cluster and its config file

pub mod cluster;
pub mod config;
pub mod gateway;
pub mod modules;
pub mod persistence;
pub mod server;

pub use config::Config;
pub use server::Server;
