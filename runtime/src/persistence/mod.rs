//! Persistence: what keeps the data across restarts.
//!
//! - [`aof`]: the append-only file (Redis 7's multi-part layout), its
//!   rewriting and its loading at start

pub mod aof;
