//! Micro-benchmarks of `Store` operations in-process: GET, SET and DELETE on one thread,
//! GET and SET on one and two threads over few and many keys, and SET at the memory limit
//! with eviction run inline. Criterion prints the numbers; nothing is asserted.
//!
//! Run with `cargo bench --bench store_ops` (about a minute on 2 cores).
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::{Store, StoreConfig};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Every key is this long: a tag byte and 15 digits, the size of a typical cache key.
const KEY_LEN: usize = 16;

/// Every value: 32 bytes, a small cached record.
const VALUE: [u8; 32] = [b'v'; 32];

/// A limit no benchmark below the limit group gets near, so nothing is evicted.
const UNLIMITED_BYTES: u64 = 1 << 30;

/// Keys resident in the one-thread group, and the "many keys" of the contention group:
/// their entries and map slots outgrow every core's private caches.
const MANY_KEYS: usize = 100_000;

/// The "few keys" of the contention group: both threads hit the same cache lines.
const FEW_KEYS: usize = 4;

/// New keys a SET or DELETE measurement adds to (or removes from) the resident keys
/// before the store is put back, so the store stays near `MANY_KEYS` however long
/// criterion runs.
const CHUNK_KEYS: usize = 10_000;

/// The limit of the SET-at-the-limit group: room for about 175,000 entries.
const LIMIT_BYTES: u64 = 8 << 20;

/// Distinct keys written at the limit: several times what fits, so almost every SET is
/// a new key that forces an eviction.
const LIMIT_KEYS: usize = 1_000_000;

/// Tag byte of keys that are stored.
const HIT: u8 = b'k';

/// Tag byte of keys that are never stored.
const MISS: u8 = b'm';

/// Tag byte of keys that a measurement adds and then removes.
const FRESH: u8 = b'n';

type Key = [u8; KEY_LEN];

/// One store operation on one key, as the contention group runs it.
type Op = fn(&Store, &[u8]);

/// A key: `tag` and then `index` in 15 zero-padded decimal digits.
fn key(tag: u8, index: usize) -> Key {
    let mut key = [b'0'; KEY_LEN];
    key[0] = tag;
    let mut rest = index;
    for digit in key[1..].iter_mut().rev() {
        // `rest % 10` is a single digit.
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    key
}

/// `count` distinct keys with the same tag.
fn keys(tag: u8, count: usize) -> Vec<Key> {
    (0..count).map(|index| key(tag, index)).collect()
}

/// A store big enough that nothing is evicted, evicting (if it had to) by `policy`,
/// holding `keys`.
fn filled_store(policy: EvictionPolicy, keys: &[Key]) -> Store {
    let store = Store::with_config(StoreConfig::new(UNLIMITED_BYTES).policy(policy));
    for key in keys {
        store
            .set(key, &VALUE)
            .expect("32-byte value fits the limit");
    }
    store
}

/// Yields the indexes of a slice of length `len` round and round, starting at `start`.
struct Cycle {
    /// The next index.
    next: usize,
    /// The slice length.
    len: usize,
}

impl Cycle {
    fn new(start: usize, len: usize) -> Self {
        Self {
            next: start % len,
            len,
        }
    }

    fn advance(&mut self) -> usize {
        let index = self.next;
        self.next += 1;
        if self.next == self.len {
            self.next = 0;
        }
        index
    }
}

/// One GET as the server does it: a guard pinned for this request only.
fn get(store: &Store, key: &[u8]) {
    let guard = store.guard();
    black_box(store.get(black_box(key), &guard).map(<[u8]>::len));
}

/// One SET of the 32-byte value.
fn set(store: &Store, key: &[u8]) {
    store
        .set(black_box(key), black_box(&VALUE))
        .expect("32-byte value fits the limit");
}

/// Times one closure over `iters` keys, `CHUNK_KEYS` at a time: `prepare` runs untimed
/// before each chunk, `measure` timed on each key, `restore` untimed after each chunk.
fn chunked(
    iters: u64,
    fresh: &[Key],
    mut prepare: impl FnMut(&[Key]),
    mut measure: impl FnMut(&[u8]),
    mut restore: impl FnMut(&[Key]),
) -> Duration {
    let mut left = usize::try_from(iters).unwrap_or(usize::MAX);
    let mut total = Duration::ZERO;
    while left > 0 {
        let chunk = &fresh[..left.min(fresh.len())];
        prepare(chunk);
        let start = Instant::now();
        for key in chunk {
            measure(key);
        }
        total += start.elapsed();
        restore(chunk);
        left -= chunk.len();
    }
    total
}

/// GET hit and miss, SET of a new key and overwrite, DELETE hit and miss, on one thread
/// with `MANY_KEYS` resident; and GET hit under LRU, for comparison.
fn one_thread(c: &mut Criterion) {
    let resident = keys(HIT, MANY_KEYS);
    let misses = keys(MISS, MANY_KEYS);
    let fresh = keys(FRESH, CHUNK_KEYS);
    let store = filled_store(EvictionPolicy::default(), &resident);
    let mut group = c.benchmark_group("store_1_thread");

    group.bench_function("get_hit", |b| {
        let mut cycle = Cycle::new(0, resident.len());
        b.iter(|| get(&store, &resident[cycle.advance()]));
    });
    group.bench_function("get_miss", |b| {
        let mut cycle = Cycle::new(0, misses.len());
        b.iter(|| get(&store, &misses[cycle.advance()]));
    });
    // LRU keeps no frequency sketch, so the difference from `get_hit` is what counting
    // the read in the sketch costs.
    let lru_store = filled_store(EvictionPolicy::Lru, &resident);
    group.bench_function("get_hit_lru", |b| {
        let mut cycle = Cycle::new(0, resident.len());
        b.iter(|| get(&lru_store, &resident[cycle.advance()]));
    });
    drop(lru_store);
    group.bench_function("set_overwrite", |b| {
        let mut cycle = Cycle::new(0, resident.len());
        b.iter(|| set(&store, &resident[cycle.advance()]));
    });
    group.bench_function("set_new_key", |b| {
        b.iter_custom(|iters| {
            let delete_all = |chunk: &[Key]| {
                for key in chunk {
                    store.delete(key);
                }
            };
            chunked(iters, &fresh, |_| {}, |key| set(&store, key), delete_all)
        });
    });
    group.bench_function("delete_hit", |b| {
        b.iter_custom(|iters| {
            let set_all = |chunk: &[Key]| chunk.iter().for_each(|key| set(&store, key));
            let delete = |key: &[u8]| {
                black_box(store.delete(black_box(key)));
            };
            chunked(iters, &fresh, set_all, delete, |_| {})
        });
    });
    group.bench_function("delete_miss", |b| {
        let mut cycle = Cycle::new(0, misses.len());
        b.iter(|| black_box(store.delete(black_box(&misses[cycle.advance()]))));
    });
    group.finish();
}

/// Runs `op` `iters` times on each of `threads` threads, released together by a barrier,
/// each thread starting at a different key. Returns the time from the first thread's
/// start to the last thread's end.
fn on_threads(store: &Store, keys: &[Key], threads: usize, iters: u64, op: Op) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut cycle = Cycle::new(t * keys.len() / threads, keys.len());
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op(store, &keys[cycle.advance()]);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("benchmark thread panicked"))
            .collect()
    });
    let first_start = spans.iter().map(|span| span.0).min();
    let last_end = spans.iter().map(|span| span.1).max();
    match (first_start, last_end) {
        (Some(start), Some(end)) => end - start,
        _ => Duration::ZERO,
    }
}

/// GET and SET on 1 and 2 threads over a key set of `key_count` keys, all resident.
/// Each reported time is per operation per thread (wall time ÷ operations of one
/// thread); the throughput line counts the operations of all threads.
fn contention(c: &mut Criterion, key_count: usize) {
    let keys = keys(HIT, key_count);
    let store = filled_store(EvictionPolicy::default(), &keys);
    let mut group = c.benchmark_group(format!("contention_{key_count}_keys"));
    let ops: [(&str, Op); 2] = [("get", get), ("set", set)];
    for (name, op) in ops {
        for threads in [1, 2] {
            // Each iteration is one operation on every thread.
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_function(BenchmarkId::new(name, thread_label(threads)), |b| {
                b.iter_custom(|iters| on_threads(&store, &keys, threads, iters, op));
            });
        }
    }
    group.finish();
}

fn thread_label(threads: usize) -> String {
    match threads {
        1 => "1_thread".to_owned(),
        n => format!("{n}_threads"),
    }
}

fn contention_few_keys(c: &mut Criterion) {
    contention(c, FEW_KEYS);
}

fn contention_many_keys(c: &mut Criterion) {
    contention(c, MANY_KEYS);
}

/// SET of new keys into a full store, evicting in line whenever usage passes the limit,
/// as a single-threaded simulation does; one benchmark per eviction policy.
fn set_at_limit(c: &mut Criterion) {
    let keys = keys(HIT, LIMIT_KEYS);
    let mut group = c.benchmark_group("set_at_limit");
    for (name, policy) in [
        ("tinylfu", EvictionPolicy::TinyLfu),
        ("lru", EvictionPolicy::Lru),
    ] {
        let store = Store::with_config(StoreConfig::new(LIMIT_BYTES).policy(policy));
        let mut cycle = Cycle::new(0, keys.len());
        // Fill to the limit untimed, so every measured SET evicts.
        while store.usage_bytes() <= store.max_bytes() {
            set(&store, &keys[cycle.advance()]);
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                set(&store, &keys[cycle.advance()]);
                if store.usage_bytes() > store.max_bytes() {
                    black_box(store.evict_to_limit());
                }
            });
        });
    }
    group.finish();
}

/// Short runs: the whole file takes about a minute on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = one_thread, contention_few_keys, contention_many_keys, set_at_limit
}
criterion_main!(benches);
