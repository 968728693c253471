//! Micro-benchmarks of RESP2: framing and parsing GET and SET commands (32 B and 4 KiB
//! values) out of a read buffer, and encoding `+OK` and bulk replies from 16 B to 64 KiB.
//! The argument list and the output buffer are reused, as a connection reuses them.
//! Nothing is asserted.
//!
//! Run with `cargo bench --bench resp_codec` (under a minute on 2 cores).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use blink_store::protocol::resp::RespProtocol;
use blink_store::protocol::Reply;
use common::{resp_command, size_label};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A 16-byte key, as in the store benchmarks.
const KEY: &[u8] = b"k000000000000042";

/// Value sizes of the bulk reply group: a small record, a page, and the size where a
/// value is more copying than anything else.
const VALUE_SIZES: [usize; 3] = [16, 4 * 1024, 64 * 1024];

/// Starting capacity of the reused output buffer: a connection's read chunk.
const OUT_CAPACITY: usize = 16 * 1024;

/// Framing one command as a client library sends it, then parsing it into a request.
/// Throughput counts the command's bytes.
fn frame_parse(c: &mut Criterion) {
    let protocol = RespProtocol::new();
    let commands = [
        ("get", resp_command(&[b"GET", KEY])),
        ("set_32B", resp_command(&[b"SET", KEY, &[b'v'; 32]])),
        ("set_4KiB", resp_command(&[b"SET", KEY, &[b'v'; 4 * 1024]])),
    ];
    let mut group = c.benchmark_group("resp_frame_parse");
    let mut args = Vec::with_capacity(4);
    for (name, command) in &commands {
        let mut buf = command.clone();
        group.throughput(Throughput::Bytes(command.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let framed = protocol.frame(black_box(&mut buf), &mut args);
                black_box(framed.map(|_| protocol.parse(&buf, &args).is_ok()))
            });
        });
    }
    group.finish();
}

/// Encoding `+OK` and a bulk reply of each of `VALUE_SIZES`. Throughput counts the
/// value's bytes.
fn encode(c: &mut Criterion) {
    let protocol = RespProtocol::new();
    let mut group = c.benchmark_group("resp_encode");
    let mut out = Vec::with_capacity(OUT_CAPACITY);
    group.bench_function("ok", |b| {
        b.iter(|| encode_into(&protocol, &Reply::Ok, &mut out));
    });
    for size in VALUE_SIZES {
        let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("value", size_label(size)), |b| {
            b.iter(|| encode_into(&protocol, &Reply::Value(&value), &mut out));
        });
    }
    group.finish();
}

/// One reply into the reused buffer, as a connection writes it.
fn encode_into(protocol: &RespProtocol, reply: &Reply<'_>, out: &mut Vec<u8>) {
    out.clear();
    protocol.encode(black_box(reply), out);
    black_box(out.as_slice());
}

/// Short runs: the whole file takes well under a minute on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = frame_parse, encode
}
criterion_main!(benches);
