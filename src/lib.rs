//! Blink Store: an in-memory key-value cache served over TCP and Unix sockets.
//!
//! # Layout
//!
//! One request crosses four files, and comes back the same way:
//!
//! ```text
//! listener (tcp | tls | unix) ──accept──▶ event loop (one thread each) ──▶ connection task
//!    read buffer ──frame──▶ Request (borrows from the buffer; no per-request allocation)
//!    Request ──execute──▶ Store (synchronous, never blocks, lock-free)
//!    Reply ──encode──▶ write buffer ──flush once per batch of pipelined requests──▶ socket
//! ```
//!
//! * [`listener`] runs the accept loop over ready TCP and Unix listeners; [`server`]
//!   hands each client, as a [`connection`] task, to one of the [`event_loop`]s (a thread
//!   each, owning its connections from first read to close), enforces the connection
//!   limit and runs the graceful shutdown. A TLS listener's clients do their handshake
//!   ([`tls`]) on the event loop, before the connection task starts.
//! * [`connection`] knows bytes and buffers, never command names: one execute loop drives
//!   whichever [`protocol::Protocol`] the client speaks.
//! * [`protocol::text`] and [`protocol::resp`] know their syntax, never the store.
//! * [`command`] is the only module that knows both [`protocol::Request`] and [`store::Store`].
//! * [`store`] knows nothing about sockets; [`evictor`] keeps it under its memory limit.
//! * [`snapshot`] writes the store to a file and reads it back, for warm restarts.
//!
//! [`client`] is the Rust client (the line protocol and RESP, async and blocking, over TCP,
//! TLS or a Unix socket).
//!
//! This library is the server path and the client, nothing else. The `blink-store` binary
//! (`src/bin/blink-store/`, the `tools` feature, on by default) adds the command line,
//! logging, `blink-store cli`, the `bench` load generator and the `echo` server; a crate
//! that only needs the client builds with `default-features = false`.

pub mod client;
pub mod command;
pub mod connection;
pub mod cpu;
pub mod decimal;
pub mod event_loop;
pub mod evictor;
pub mod float;
pub mod listener;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod protocol;
pub mod rss;
pub mod server;
pub mod snapshot;
#[cfg(unix)]
pub mod socket_file;
pub mod store;
pub mod sync;
pub mod tls;

pub use client::Client;
