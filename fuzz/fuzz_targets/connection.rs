//! A whole connection on arbitrary bytes: a client sends them over an in-memory stream,
//! in pieces of a size the first byte chooses, closes its write side, and reads every
//! reply until the server closes. Then the replies must be whole, well-formed replies of
//! the protocol the first bytes chose, no larger than the input can justify, and the
//! store's accounting must match what it holds, before and after eviction and expiry.
//!
//! The store is small (4 KiB, 512 bytes of overshoot) so writers evict; no evictor
//! thread runs, so everything happens on this thread.
//!
//! The first byte: bits 0-3 choose the read size (so requests arrive split anywhere);
//! bit 4 expands `0xFF n` in the rest into the byte before it repeated `(n + 1) * 512`
//! times (up to 96 KiB in all), so a short input can reach the limits of long lines and
//! long RESP commands; bits 5-6 choose the key and value limits.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use blink_store::command::ServerInfo;
use blink_store::connection::Connection;
use blink_store::protocol::Limits;
use blink_store::store::{Store, StoreConfig};
use blink_store_fuzz::{check_resp_stream, check_text_stream, show, RespVersion};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// The store's memory limit.
const MEMORY_LIMIT: u64 = 4096;

/// How far writers may run over it before they evict.
const OVERSHOOT: u64 = 512;

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

/// (key limit, value limit).
const LIMITS: [(usize, usize); 4] = [(16, 64), (8, 16), (64, 1024), (1024, 8192)];

/// The most bytes an expanded input may have: past the longest RESP command the largest
/// limits allow (64 KiB of headers, a key and a value), with room to spare.
const MAX_EXPANDED: usize = 96 * 1024;

/// Bytes of replies one byte of requests may produce beyond a value: INFO's sections,
/// HELLO's map, an error that quotes the request (that part bounded by the request's own
/// length), and the command table's descriptions (the longest, COMMAND DOCS, is about
/// 30 KiB for the 13 bytes of `COMMAND DOCS\n`, and grows with the commands served).
const MAX_REPLY_OVERHEAD: usize = 16 * 1024;

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
    // Very many tiny reads of a large input only cost time.
    let read_size = READ_SIZES[usize::from(config & 0x0f)].max(input.len() / 512);
    let (key_limit, value_limit) = LIMITS[usize::from((config >> 5) & 0x03)];
    let limits = Limits::new()
        .max_key_len(key_limit)
        .max_value_len(value_limit);
    let store = Arc::new(Store::with_config(
        StoreConfig::new(MEMORY_LIMIT).overshoot_bytes(OVERSHOOT),
    ));

    let out = runtime().block_on(converse(&input, read_size, limits, store.clone()));

    check_replies(&input, &out, value_limit);
    check_store(&store, "after the connection");
    store.expire_expired();
    check_store(&store, "after an expiry cycle");
    store.evict_to_limit();
    check_store(&store, "after eviction");
    assert!(
        store.usage_bytes() <= MEMORY_LIMIT,
        "eviction left {} bytes, over the {MEMORY_LIMIT}-byte limit ({} entries)",
        store.usage_bytes(),
        store.len()
    );
    store.maintain();
    check_store(&store, "after maintenance");
});

/// Sends `input` to a connection over in-memory streams and returns all it replied.
async fn converse(input: &[u8], read_size: usize, limits: Limits, store: Arc<Store>) -> Vec<u8> {
    // Two pipes, so the requests' pipe can be narrow while replies flow freely.
    let (mut to_server, server_reads) = tokio::io::duplex(read_size);
    let (server_writes, mut from_server) = tokio::io::duplex(64 * 1024);
    let stream = tokio::io::join(server_reads, server_writes);
    let connection = Connection::new(stream, store, limits, Arc::new(ServerInfo::default()), 1);
    let serve = connection.run();
    let send = async move {
        // The server may close first (QUIT, a RESP framing error): a refused write is fine.
        if to_server.write_all(input).await.is_ok() {
            let _ = to_server.shutdown().await;
        }
        // Dropping it here keeps the pipe's other end from waiting for more.
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
        // An I/O error can only be the client going away first, which it does not.
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

/// Replies are whole replies of the protocol the first bytes chose, and bounded.
fn check_replies(input: &[u8], out: &[u8], value_limit: usize) {
    // Leading empty lines are dropped before the first bytes choose.
    let mut first = input;
    while let Some(rest) = first
        .strip_prefix(b"\n")
        .or_else(|| first.strip_prefix(b"\r\n"))
    {
        first = rest;
    }
    let resp = first.first() == Some(&b'*')
        || first
            .get(..6)
            .is_some_and(|start| start.eq_ignore_ascii_case(b"PING\r\n"));
    if resp {
        check_resp_stream(out, RespVersion::Any);
    } else {
        let replies = check_text_stream(out);
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        assert!(
            replies <= lines + 1,
            "{replies} replies to {lines} lines: {}",
            show(&out[..out.len().min(400)])
        );
    }
    // A value of the store's size, base64-encoded in the line protocol, plus overhead,
    // for every byte of input: each request or MGET key takes at least one.
    let largest_value = value_limit.min(MEMORY_LIMIT as usize) * 4 / 3 + 4;
    let bound = MAX_REPLY_OVERHEAD + input.len() * (largest_value + MAX_REPLY_OVERHEAD);
    assert!(
        out.len() <= bound,
        "{} bytes of replies to {} bytes of requests",
        out.len(),
        input.len()
    );
}

/// `used` equals the sum over live entries, and the count of entries with an expiry
/// equals the entries that have one.
fn check_store(store: &Store, when: &str) {
    assert_eq!(
        store.usage_bytes(),
        store.recount(),
        "usage differs from the entries held {when}"
    );
    assert_eq!(
        store.volatile_count(),
        store.recount_volatile(),
        "the count of keys with an expiry differs from the entries {when}"
    );
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
