//! The request path allocates nothing per GET, and per SET only the stored entry and the
//! map's node for it. Counted with dhat's global allocator while a real connection task
//! serves a real TCP socket; the client's requests are built before counting starts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use blink_store::connection::Connection;
use blink_store::protocol::Limits;
use blink_store::store::Store;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Requests per measured batch.
const REQUESTS: usize = 2_000;

/// Keys the requests cycle through.
const KEYS: usize = 100;

/// Requests pipelined per write, as a busy client would send them.
const PIPELINE: usize = 16;

/// A client of the connection under test whose buffers are all allocated up front.
struct Client {
    stream: TcpStream,
    reply: Vec<u8>,
}

impl Client {
    /// Sends `requests` in pipelined batches and reads `expected` back for each batch.
    fn run(&mut self, requests: &[Vec<u8>], expected: &[Vec<u8>]) {
        for (batch, replies) in requests.iter().zip(expected) {
            self.stream.write_all(batch).unwrap();
            self.reply.resize(replies.len(), 0);
            self.stream.read_exact(&mut self.reply).unwrap();
            assert_eq!(self.reply, *replies);
        }
    }
}

/// `REQUESTS` requests made by `line(i)`, as pipelined batches, with their replies.
fn batches(line: impl Fn(usize) -> String, reply: &str) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let requests = (0..REQUESTS / PIPELINE)
        .map(|b| {
            (0..PIPELINE)
                .flat_map(|i| line(b * PIPELINE + i).into_bytes())
                .collect()
        })
        .collect();
    let replies = (0..REQUESTS / PIPELINE)
        .map(|_| reply.repeat(PIPELINE).into_bytes())
        .collect();
    (requests, replies)
}

/// Heap blocks allocated so far by the whole process.
fn blocks() -> u64 {
    dhat::HeapStats::get().total_blocks
}

#[test]
fn gets_allocate_nothing_and_sets_only_their_entry() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let store = Arc::new(Store::new(1 << 30));
    let server = std::thread::spawn(move || {
        runtime.block_on(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let info = std::sync::Arc::new(blink_store::command::ServerInfo::default());
            let connection = Connection::new(stream, store, Limits::new(), info, 1);
            connection.run().await.unwrap();
        });
    });
    let mut client = Client {
        stream: TcpStream::connect(addr).unwrap(),
        reply: Vec::with_capacity(64 * 1024),
    };

    let value = "v".repeat(32);
    let (sets, set_replies) = batches(|i| format!("SET key:{:012} {value}\n", i % KEYS), "OK\n");
    let (gets, get_replies) = batches(
        |i| format!("GET key:{:012}\n", i % KEYS),
        &format!("VALUE {}\n", "dnZ2".repeat(10) + "dnY="),
    );
    let (misses, miss_replies) = batches(|i| format!("GET absent:{i:09}\n"), "NOT_FOUND\n");

    // Warm up: every key exists, every buffer and the map have grown to size.
    for _ in 0..3 {
        client.run(&sets, &set_replies);
        client.run(&gets, &get_replies);
        client.run(&misses, &miss_replies);
    }

    let before = blocks();
    client.run(&gets, &get_replies);
    client.run(&misses, &miss_replies);
    let get_blocks = blocks() - before;
    assert_eq!(
        get_blocks,
        0,
        "{get_blocks} allocations for {} GETs",
        2 * REQUESTS
    );

    let before = blocks();
    client.run(&sets, &set_replies);
    let set_blocks = blocks() - before;
    // Each overwrite stores one entry (key and value together) in one new map node, and
    // retires the old node: papaya's reclamation collects retired nodes in batches of 512,
    // each batch two allocations (its header and its list).
    let per_set = set_blocks as f64 / REQUESTS as f64;
    assert!(
        (2.0..=2.0 + 2.0 / 512.0 + 0.001).contains(&per_set),
        "{set_blocks} allocations for {REQUESTS} SETs ({per_set:.3} each)"
    );

    drop(client);
    server.join().unwrap();
}
