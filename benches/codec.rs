//! Micro-benchmarks of the line protocol: parsing GET, SET and DELETE lines, encoding
//! each kind of reply, and base64-encoding values from 16 B to 64 KiB. The output buffer
//! is reused and cleared per reply, as a connection does. Nothing is asserted.
//!
//! Run with `cargo bench --bench codec` (about a minute on 2 cores).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use blink_store::protocol::text::TextProtocol;
use blink_store::protocol::{ClientError, Reply};
use common::size_label;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A 16-byte key, as in the store benchmarks.
const KEY: &str = "k000000000000042";

/// Starting capacity of the reused output buffer: a connection's read chunk, and more
/// than any reply below except the largest values, which grow it once in warm-up.
const OUT_CAPACITY: usize = 8 * 1024;

/// Value sizes of the base64 group: a small record, a short document, a page, and the
/// size where a value is more copying than anything else.
const VALUE_SIZES: [usize; 4] = [16, 256, 4 * 1024, 64 * 1024];

/// Parsing one line (without its LF) of each request kind that touches a key.
fn parse(c: &mut Criterion) {
    let protocol = TextProtocol::new();
    let value = "v".repeat(32);
    let lines = [
        ("get", format!("GET {KEY}")),
        ("set_32b", format!("SET {KEY} {value}")),
        ("delete", format!("DELETE {KEY}")),
    ];
    let mut group = c.benchmark_group("parse");
    for (name, line) in &lines {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(protocol.parse(black_box(line.as_bytes()))));
        });
    }
    group.finish();
}

/// Encoding one reply of each kind a key operation or `USAGE` returns, and an error.
fn encode(c: &mut Criterion) {
    let protocol = TextProtocol::new();
    let value = [b'v'; 32];
    let replies = [
        ("ok", Reply::Ok),
        ("not_found", Reply::NotFound),
        ("value_32b", Reply::Value(&value)),
        ("usage", Reply::Usage(123_456_789)),
        ("error", Reply::Error(ClientError::Arity { cmd: "GET" })),
    ];
    let mut group = c.benchmark_group("encode");
    let mut out = Vec::with_capacity(OUT_CAPACITY);
    for (name, reply) in &replies {
        group.bench_function(*name, |b| {
            b.iter(|| encode_into(&protocol, reply, &mut out));
        });
    }
    group.finish();
}

/// Encoding a `VALUE` reply, which is mostly base64, for each of `VALUE_SIZES`.
/// Throughput counts the value's bytes, before encoding.
fn encode_value(c: &mut Criterion) {
    let protocol = TextProtocol::new();
    let mut group = c.benchmark_group("encode_value");
    let mut out = Vec::with_capacity(OUT_CAPACITY);
    for size in VALUE_SIZES {
        // Every byte value, so no encoder shortcut for repetitive input applies.
        let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size_label(size)), |b| {
            b.iter(|| encode_into(&protocol, &Reply::Value(&value), &mut out));
        });
    }
    group.finish();
}

/// One reply into the reused buffer, as a connection writes it.
fn encode_into(protocol: &TextProtocol, reply: &Reply<'_>, out: &mut Vec<u8>) {
    out.clear();
    protocol.encode(black_box(reply), out);
    black_box(out.as_slice());
}

/// Short runs: the whole file takes about a minute on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, encode, encode_value
}
criterion_main!(benches);
