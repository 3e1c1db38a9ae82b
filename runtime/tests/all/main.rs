//! Integration tests: the real `slotkv` binary on a free port, driven by the
//! `redis` crate and by raw protocol bytes. One test binary, one module per topic.

mod util;

mod acl;
mod blocking;
mod cluster;
mod config;
mod http;
mod keyspace;
mod lifecycle;
mod memory;
mod modules;
mod persistence;
mod protocol;
mod pubsub;
mod scripting;
mod slowlog;
mod snapshot;
mod streams;
