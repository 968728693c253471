//! The integration tests, one module per area, built as one test binary: every test
//! binary links the whole server library, and on 2 cores linking one instead of one per
//! area takes the rebuild after a library change from about 12 s to about 6 s.
//!
//! Run one area with `cargo test --test it faults::`. The tests that count allocations
//! (`tests/allocations.rs`, `tests/footprint.rs`) stay binaries of their own: each
//! installs a global allocator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod bench_tool;
mod cli;
mod command_table;
mod concurrency;
mod differential;
mod example_client_go;
mod example_clients;
mod expiry;
mod fairness;
mod faults;
mod healthcheck;
mod hostile;
mod install_script;
mod lifecycle;
mod limits;
mod linearizability;
mod lossy;
mod memcache;
mod memcache_clients;
mod memcache_linearizability;
mod memory;
mod metrics;
mod protocol;
mod readme_quickstart;
mod redis_clients;
mod redis_differential;
mod resp;
mod resp_keyspace;
mod resp_objects;
mod resp_strings;
mod resp_wire;
mod rust_client;
mod server_admin;
mod snapshot;
mod tls;
mod tls_reload;
mod transactions;
mod workflows;
