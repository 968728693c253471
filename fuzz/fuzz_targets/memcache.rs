//! A memcached connection on arbitrary bytes: a client sends them over an in-memory
//! stream to a connection fixed to memcached's protocols, in pieces of a size the first
//! byte chooses, closes its write side, and reads every reply until the server closes.
//! The connection must finish, its replies must be CRLF-terminated and bounded, and the
//! store's accounting must match what it holds, before and after eviction.
//!
//! The first byte: bits 0-3 choose the read size (so a data block arrives split
//! anywhere); bit 4 expands `0xFF n` in the rest into the byte before it repeated
//! `(n + 1) * 512` times, so a short input reaches the line and value limits.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use blink_store::command::ServerInfo;
use blink_store::connection::Connection;
use blink_store::protocol::{Limits, Wire};
use blink_store::store::{Store, StoreConfig};
use blink_store_fuzz::show;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// The store's memory limit: small, so writers evict.
const MEMORY_LIMIT: u64 = 4096;

/// Read sizes (the capacity of the stream from client to server).
const READ_SIZES: [usize; 16] = [
    1 << 16,
    1,
    2,
    3,
    5,
    7,
    13,
    16,
    31,
    64,
    127,
    256,
    500,
    1024,
    4096,
    16384,
];

/// The largest value accepted: a value over it is refused and dropped as it arrives.
const VALUE_LIMIT: usize = 1024;

/// The most bytes an expanded input may have.
const MAX_EXPANDED: usize = 96 * 1024;

/// Bytes of replies one byte of requests may produce beyond a value: `stats`.
const MAX_REPLY_OVERHEAD: usize = 4 * 1024;

/// How long a connection may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(5);

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let input = if config & 0x10 != 0 {
        expand(rest)
    } else {
        rest.to_vec()
    };
    let read_size = READ_SIZES[usize::from(config & 0x0f)].max(input.len() / 512);
    let store = Arc::new(Store::with_config(
        StoreConfig::new(MEMORY_LIMIT).overshoot_bytes(512).cas(true),
    ));
    let out = runtime().block_on(converse(&input, read_size, store.clone()));
    assert!(
        out.is_empty() || out.ends_with(b"\r\n"),
        "a reply cut short: {}",
        show(&out[out.len().saturating_sub(400)..])
    );
    let bound = MAX_REPLY_OVERHEAD + input.len() * (VALUE_LIMIT + MAX_REPLY_OVERHEAD);
    assert!(out.len() <= bound, "{} bytes of replies to {} bytes", out.len(), input.len());
    assert_eq!(store.usage_bytes(), store.recount(), "usage after the connection");
    store.evict_to_limit();
    assert_eq!(store.usage_bytes(), store.recount(), "usage after eviction");
    assert!(store.usage_bytes() <= MEMORY_LIMIT);
});

/// Sends `input` to a memcached connection and returns all it replied.
async fn converse(input: &[u8], read_size: usize, store: Arc<Store>) -> Vec<u8> {
    let (mut to_server, server_reads) = tokio::io::duplex(read_size);
    let (server_writes, mut from_server) = tokio::io::duplex(64 * 1024);
    let stream = tokio::io::join(server_reads, server_writes);
    let limits = Limits::new().max_value_len(VALUE_LIMIT);
    let connection = Connection::new(stream, store, limits, Arc::new(ServerInfo::default()), 1)
        .wire(Wire::Memcache);
    let serve = connection.run();
    let send = async move {
        // The server may close first (quit, an endless line): a refused write is fine.
        if to_server.write_all(input).await.is_ok() {
            let _ = to_server.shutdown().await;
        }
        drop(to_server);
    };
    let receive = async move {
        let mut out = Vec::new();
        from_server
            .read_to_end(&mut out)
            .await
            .map(|_| out)
            .expect("reading replies from an in-memory stream")
    };
    let all = async { tokio::join!(serve, send, receive) };
    match tokio::time::timeout(DEADLINE, all).await {
        Ok((served, (), out)) => {
            if let Err(err) = served {
                panic!("the connection failed: {err}");
            }
            out
        }
        Err(_) => panic!(
            "the connection neither finished nor closed within {DEADLINE:?} of {} bytes: {}",
            input.len(),
            show(&input[..input.len().min(400)])
        ),
    }
}

/// `0xFF n` after a byte repeats that byte `(n + 1) * 512` more times, up to
/// [`MAX_EXPANDED`] bytes in all.
fn expand(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter().copied();
    while let Some(byte) = bytes.next() {
        match (byte, out.last().copied()) {
            (0xff, Some(previous)) => {
                let count = (usize::from(bytes.next().unwrap_or(0)) + 1) * 512;
                let count = count.min(MAX_EXPANDED.saturating_sub(out.len()));
                out.resize(out.len() + count, previous);
            }
            _ => out.push(byte),
        }
        if out.len() >= MAX_EXPANDED {
            break;
        }
    }
    out
}
