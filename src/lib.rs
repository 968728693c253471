//! Blink Store: an in-memory key-value cache served over TCP and Unix sockets.
//!
//! # Layout
//!
//! One request crosses four files, and comes back the same way:
//!
//! ```text
//! listener (tcp | unix) ──accept──▶ connection task (one tokio task per client)
//!    read buffer ──frame──▶ Request (borrows from the buffer; no per-request allocation)
//!    Request ──execute──▶ Store (synchronous, never blocks, lock-free)
//!    Reply ──encode──▶ write buffer ──flush once per batch of pipelined requests──▶ socket
//! ```
//!
//! * [`server`] binds nothing itself: it takes ready listeners, accepts, enforces the
//!   connection limit and runs the graceful shutdown.
//! * [`connection`] knows bytes and lines, never command names.
//! * [`protocol::text`] knows the line protocol's syntax, never the store.
//! * [`command`] is the only module that knows both [`protocol::Request`] and [`store::Store`].
//! * [`store`] knows nothing about sockets; [`evictor`] keeps it under its memory limit.
//!
//! [`client`] is the Rust client of the line protocol ([`Client`], and a blocking one),
//! with one for any command over RESP ([`client::resp::Client`]), which `blink-store cli`
//! ([`client_cli`]) is built on.
//!
//! Beside the server: [`bench`] is the load generator of `blink-store bench`, and [`echo`]
//! the line-echoing server of `blink-store echo` that benchmarks use as their floor.

pub mod bench;
pub mod cli;
pub mod client;
pub mod client_cli;
pub mod command;
pub mod connection;
pub mod decimal;
pub mod echo;
pub mod evictor;
pub mod healthcheck;
pub mod listener;
pub mod logging;
pub mod protocol;
pub mod rss;
pub mod server;
pub mod store;
pub mod sync;
#[cfg(unix)]
pub mod unix_socket;

pub use client::Client;
