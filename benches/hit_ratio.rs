//! Hit ratio: prints the miss ratio of Blink Store's eviction policies next to an
//! exact-LRU simulation and a real redis-server, on three synthetic traces, as markdown
//! tables followed by a check of the targets. It asserts nothing.
//!
//! Every cache serves the same "GET, and SET on a miss" workload: 16-byte keys, 100-byte
//! values, a budget of 10% of the working set's bytes. The traces are:
//!
//! * **zipf**: Zipf(0.99) over the keys, ranks mapped to keys by a fixed permutation;
//! * **reshuffle**: the same, with the permutation redrawn every 2,000,000 requests;
//! * **scan**: zipf, with 30% of requests replaced by one-hit keys from a disjoint space.
//!
//! Blink runs in-process (its real `Store`, eviction called inline after each SET that
//! passes the limit); Redis runs over loopback with a small pipelined RESP2 client.
//! The miss ratio counts the second half of each trace only.
//!
//! Run with `cargo bench --bench hit_ratio -- [--requests N] [--keys N] [--seed N]
//! [--redis HOST:PORT] [TRACE...]`, or `benches/hit_ratio.sh`, which starts a Redis.
//! Progress goes to stderr, tables to stdout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::exit;
use std::time::Instant;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::{Store, StoreConfig};
use common::{Reply, Resp};
use lru::LruCache;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

/// Every key is this long: `key:` and 12 digits.
const KEY_LEN: usize = 16;
/// Every value, 100 bytes.
const VALUE: [u8; 100] = [b'v'; 100];
/// Bytes one entry is charged: key plus value.
const ENTRY_BYTES: u64 = (KEY_LEN + VALUE.len()) as u64;
/// Key ids must fit the 12 digits of a key.
const MAX_KEY_ID: u64 = 999_999_999_999;
/// Distinct (non-scan) keys by default.
const DEFAULT_KEYS: u64 = 1_000_000;
/// Requests per run by default.
const DEFAULT_REQUESTS: usize = 10_000_000;
/// The seed of every trace by default.
const DEFAULT_SEED: u64 = 0x0b11_4c57;
/// The cache budget, as a share of the working set's bytes.
const BUDGET_SHARE: f64 = 0.10;
/// The Zipf exponent of every trace.
const ZIPF_EXPONENT: f64 = 0.99;
/// Requests between two redraws of the rank→key permutation in the reshuffle trace.
const RESHUFFLE_EVERY: usize = 2_000_000;
/// Share of the scan trace's requests that are one-hit scan keys.
const SCAN_SHARE: f64 = 0.30;
/// Entries per eviction sample, in Blink and in Redis (`maxmemory-samples`).
const SAMPLES: usize = 5;
/// Requests per pipelined batch sent to Redis (and per call to every cache).
const BATCH: usize = 256;
/// How far Redis's key count may stray from Blink's before the check says so.
const DBSIZE_TOLERANCE: f64 = 0.10;

fn main() {
    let options = Options::from_args();
    print_header(&options);
    let mut redis = options.redis.map(RedisSetup::connect);
    let mut results = Vec::new();
    for &kind in &options.traces {
        results.push(run_trace(kind, &options, redis.as_mut()));
    }
    print_targets(&results, redis.is_some());
}

/// What to run, from the command line.
struct Options {
    /// Distinct keys of the Zipf part of every trace.
    keys: u64,
    /// Requests per run.
    requests: usize,
    /// Seed of the traces.
    seed: u64,
    /// Where Redis listens, if it is to be compared.
    redis: Option<SocketAddr>,
    /// Which traces to run, in order.
    traces: Vec<TraceKind>,
}

impl Options {
    /// Parses the arguments, exiting with a message on a bad one.
    fn from_args() -> Self {
        let mut options = Self {
            keys: DEFAULT_KEYS,
            requests: DEFAULT_REQUESTS,
            seed: DEFAULT_SEED,
            redis: None,
            traces: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
            };
            match arg.as_str() {
                // cargo bench passes --bench to every bench binary.
                "--bench" => {}
                "--keys" => options.keys = parse_count(&value()),
                "--requests" => options.requests = parse_count(&value()) as usize,
                "--seed" => options.seed = parse_count(&value()),
                "--redis" => options.redis = Some(loopback_addr(&value())),
                "-h" | "--help" => usage(""),
                name => match TraceKind::from_name(name) {
                    Some(kind) => options.traces.push(kind),
                    None => usage(&format!("unknown argument {name:?}")),
                },
            }
        }
        if options.traces.is_empty() {
            options.traces = TraceKind::ALL.to_vec();
        }
        if options.keys == 0 || options.requests < 2 {
            usage("--keys must be at least 1 and --requests at least 2");
        }
        options
    }

    /// The cache budget in bytes: 10% of the working set.
    fn budget_bytes(&self) -> u64 {
        (self.keys as f64 * ENTRY_BYTES as f64 * BUDGET_SHARE) as u64
    }

    /// How many entries the budget holds.
    fn budget_keys(&self) -> u64 {
        self.budget_bytes() / ENTRY_BYTES
    }
}

/// Prints the usage (and `problem`, if any) and exits.
fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("error: {problem}");
    }
    eprintln!(
        "usage: cargo bench --bench hit_ratio -- [--requests N] [--keys N] [--seed N] \
         [--redis HOST:PORT] [zipf|reshuffle|scan ...]"
    );
    exit(if problem.is_empty() { 0 } else { 2 })
}

/// A count such as `2000000` or `2_000_000`.
fn parse_count(text: &str) -> u64 {
    text.replace('_', "")
        .parse()
        .unwrap_or_else(|_| usage(&format!("not a count: {text:?}")))
}

/// Resolves `HOST:PORT`, refusing anything that is not a loopback address.
fn loopback_addr(text: &str) -> SocketAddr {
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .unwrap_or_else(|error| usage(&format!("cannot resolve {text:?}: {error}")))
        .collect();
    match addrs.first() {
        Some(addr) if addrs.iter().all(|addr| addr.ip().is_loopback()) => *addr,
        _ => usage(&format!("--redis must be a loopback address, got {text:?}")),
    }
}

/// Prints what is being measured and how.
fn print_header(options: &Options) {
    println!("# hit_ratio: \"GET, and SET on a miss\"");
    println!();
    println!(
        "- {} keys of {KEY_LEN} bytes, values of {} bytes; {} requests per run, miss ratio \
         over the second half only; seed {}.",
        thousands(options.keys),
        VALUE.len(),
        thousands(options.requests as u64),
        options.seed
    );
    println!(
        "- Budget: {} bytes of key + value ({:.0}% of the working set) = {} entries. \
         Blink and Redis sample {SAMPLES} entries per eviction.",
        thousands(options.budget_bytes()),
        BUDGET_SHARE * 100.0,
        thousands(options.budget_keys())
    );
    match options.redis {
        Some(addr) => println!(
            "- Redis at {addr}: requests go in pipelined batches of {BATCH} GETs, then SETs \
             for the batch's misses, so requests are reordered within a batch (a key that \
             misses twice in one batch counts two misses)."
        ),
        None => println!("- Redis skipped: no --redis HOST:PORT given."),
    }
}

/// The three synthetic traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TraceKind {
    /// Zipf over the keys with a fixed rank→key permutation.
    Zipf,
    /// Zipf whose rank→key permutation is redrawn every [`RESHUFFLE_EVERY`] requests.
    Reshuffle,
    /// Zipf with [`SCAN_SHARE`] of the requests replaced by one-hit keys.
    Scan,
}

impl TraceKind {
    /// Every trace, in the order they run by default.
    const ALL: [Self; 3] = [Self::Zipf, Self::Reshuffle, Self::Scan];

    /// The trace's name on the command line and in the output.
    fn name(self) -> &'static str {
        match self {
            Self::Zipf => "zipf",
            Self::Reshuffle => "reshuffle",
            Self::Scan => "scan",
        }
    }

    /// The trace called `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// One line on how the trace is made.
    fn describe(self) -> String {
        match self {
            Self::Zipf => format!("Zipf {ZIPF_EXPONENT}, fixed rank→key permutation"),
            Self::Reshuffle => format!(
                "Zipf {ZIPF_EXPONENT}, rank→key permutation redrawn every {} requests",
                thousands(RESHUFFLE_EVERY as u64)
            ),
            Self::Scan => format!(
                "Zipf {ZIPF_EXPONENT}, {:.0}% of requests replaced by one-hit scan keys",
                SCAN_SHARE * 100.0
            ),
        }
    }
}

/// Generates a trace as key ids: `0..keys` are the Zipf keys, ids from `keys` on are
/// one-hit scan keys. The same options always give the same trace.
fn generate(kind: TraceKind, options: &Options) -> Vec<u64> {
    let mut rng = SmallRng::seed_from_u64(options.seed);
    let zipf = Zipf::new(options.keys as f64, ZIPF_EXPONENT).expect("valid Zipf parameters");
    let mut permutation = random_permutation(options.keys, &mut rng);
    let mut next_scan = options.keys;
    assert!(
        next_scan + options.requests as u64 <= MAX_KEY_ID,
        "key ids must fit in 12 digits"
    );
    (0..options.requests)
        .map(|index| {
            if kind == TraceKind::Reshuffle && index > 0 && index % RESHUFFLE_EVERY == 0 {
                permutation.shuffle(&mut rng);
            }
            if kind == TraceKind::Scan && rng.random_bool(SCAN_SHARE) {
                next_scan += 1;
                return next_scan - 1;
            }
            // The sample is a rank in 1..=keys.
            let rank = zipf.sample(&mut rng) as usize - 1;
            permutation[rank]
        })
        .collect()
}

/// The ids `0..keys` in random order.
fn random_permutation(keys: u64, rng: &mut SmallRng) -> Vec<u64> {
    let mut permutation: Vec<u64> = (0..keys).collect();
    permutation.shuffle(rng);
    permutation
}

/// The key of id `id`: `key:` and the id in 12 zero-padded digits.
fn key_of(id: u64) -> [u8; KEY_LEN] {
    let mut key = *b"key:000000000000";
    let mut rest = id;
    for digit in key[4..].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    key
}

/// A cache serving "GET, and SET on a miss".
trait Cache {
    /// Serves the requests for `ids` (in order, or as close as the cache allows) and
    /// returns how many hit.
    fn serve(&mut self, ids: &[u64]) -> u64;

    /// The number of keys the cache holds now.
    fn keys_held(&mut self) -> u64;
}

/// Blink Store's real `Store`, with eviction run inline.
struct Blink {
    /// The store under test; no evictor thread runs.
    store: Store,
}

impl Blink {
    /// A store with the bench's budget and sample size, and the given policy.
    fn new(budget_bytes: u64, policy: EvictionPolicy) -> Self {
        let config = StoreConfig::new(budget_bytes)
            .policy(policy)
            .samples(SAMPLES)
            // No writer ever helps evict: eviction runs inline, after each SET.
            .overshoot_bytes(u64::MAX / 2);
        Self {
            store: Store::with_config(config),
        }
    }

    /// Serves one request; `true` on a hit.
    fn access(&self, id: u64) -> bool {
        let key = key_of(id);
        let hit = {
            let guard = self.store.guard();
            self.store.get(&key, &guard).is_some()
        };
        if !hit {
            self.store
                .set(&key, &VALUE)
                .expect("an entry fits the budget");
            if self.store.usage_bytes() > self.store.max_bytes() {
                self.store.evict_to_limit();
            }
        }
        hit
    }
}

impl Cache for Blink {
    fn serve(&mut self, ids: &[u64]) -> u64 {
        ids.iter().filter(|&&id| self.access(id)).count() as u64
    }

    fn keys_held(&mut self) -> u64 {
        self.store.len() as u64
    }
}

/// Exact LRU over the same byte budget.
struct ExactLru {
    /// Key id → bytes charged for the entry.
    entries: LruCache<u64, u64>,
    /// Σ of the bytes charged for the entries held.
    used: u64,
    /// The byte budget.
    budget: u64,
}

impl ExactLru {
    /// An empty cache of `budget` bytes.
    fn new(budget: u64) -> Self {
        Self {
            entries: LruCache::unbounded(),
            used: 0,
            budget,
        }
    }

    /// Serves one request; `true` on a hit.
    fn access(&mut self, id: u64) -> bool {
        if self.entries.get(&id).is_some() {
            return true;
        }
        self.entries.put(id, ENTRY_BYTES);
        self.used += ENTRY_BYTES;
        while self.used > self.budget {
            let (_, size) = self
                .entries
                .pop_lru()
                .expect("bytes are used, so entries exist");
            self.used -= size;
        }
        false
    }
}

impl Cache for ExactLru {
    fn serve(&mut self, ids: &[u64]) -> u64 {
        ids.iter().filter(|&&id| self.access(id)).count() as u64
    }

    fn keys_held(&mut self) -> u64 {
        self.entries.len() as u64
    }
}

/// The requests this bench makes of Redis, over the harness's RESP client.
trait RedisCommands {
    /// Reads the next reply; Redis must not have closed the connection.
    fn read_reply(&mut self) -> Reply;

    /// Sends one command and waits for its reply; panics on an error reply.
    fn command(&mut self, args: &[&str]) -> Reply;

    /// Reads one `+OK`, panicking on anything else.
    fn expect_ok(&mut self);

    /// Sets the value of every id in `ids`, pipelined.
    fn set_all(&mut self, ids: &[u64]);

    /// `used_memory` from `INFO memory`.
    fn used_memory(&mut self) -> u64;

    /// The number of keys, from `DBSIZE`.
    fn dbsize(&mut self) -> u64;
}

impl RedisCommands for Resp {
    fn read_reply(&mut self) -> Reply {
        self.read().expect("Redis closed the connection")
    }

    fn command(&mut self, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        match self.call(&args) {
            Reply::Error(message) => panic!("Redis refused {:?}: {message}", args_text(&args)),
            reply => reply,
        }
    }

    fn expect_ok(&mut self) {
        let reply = self.read_reply();
        assert_eq!(reply, Reply::Simple("OK".into()), "expected +OK from Redis");
    }

    fn set_all(&mut self, ids: &[u64]) {
        for &id in ids {
            self.queue(&[b"SET", &key_of(id), &VALUE]);
        }
        for _ in ids {
            self.expect_ok();
        }
    }

    fn used_memory(&mut self) -> u64 {
        let Reply::Bulk(Some(info)) = self.command(&["INFO", "memory"]) else {
            panic!("INFO memory did not return a bulk string");
        };
        String::from_utf8_lossy(&info)
            .lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("INFO memory reports used_memory")
    }

    fn dbsize(&mut self) -> u64 {
        match self.command(&["DBSIZE"]) {
            Reply::Integer(count) => count as u64,
            reply => panic!("unexpected DBSIZE reply {reply:?}"),
        }
    }
}

/// A command's arguments as text, for error messages.
fn args_text(args: &[&[u8]]) -> Vec<String> {
    args.iter()
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// A connection to Redis, and the `maxmemory` that holds as many keys as Blink's budget.
struct RedisSetup {
    /// The connection every run uses.
    client: Resp,
    /// The calibrated `maxmemory`, once measured.
    maxmemory: Option<u64>,
}

impl RedisSetup {
    /// Connects, checking that Redis answers.
    fn connect(addr: SocketAddr) -> Self {
        let mut client = Resp::connect(addr);
        assert_eq!(client.command(&["PING"]), Reply::Simple("PONG".into()));
        Self {
            client,
            maxmemory: None,
        }
    }

    /// The `maxmemory` at which Redis holds `keys` entries of this bench's sizes:
    /// `used_memory` with exactly that many loaded and no limit. Measured once.
    fn maxmemory(&mut self, keys: u64) -> u64 {
        if let Some(maxmemory) = self.maxmemory {
            return maxmemory;
        }
        let client = &mut self.client;
        client.command(&["CONFIG", "SET", "maxmemory", "0"]);
        client.command(&["FLUSHALL"]);
        let empty = client.used_memory();
        let ids: Vec<u64> = (0..keys).collect();
        for batch in ids.chunks(BATCH) {
            client.set_all(batch);
        }
        let loaded = client.used_memory();
        client.command(&["FLUSHALL"]);
        println!(
            "- Redis calibration: used_memory {} bytes empty, {} with {} keys loaded \
             ({:.0} bytes per key); maxmemory set to {}.",
            thousands(empty),
            thousands(loaded),
            thousands(keys),
            loaded.saturating_sub(empty) as f64 / keys.max(1) as f64,
            thousands(loaded)
        );
        self.maxmemory = Some(loaded);
        loaded
    }

    /// An empty Redis limited to `maxmemory` bytes and evicting by `policy`.
    fn prepare(&mut self, maxmemory: u64, policy: &str) -> Redis<'_> {
        let client = &mut self.client;
        client.command(&["FLUSHALL"]);
        client.command(&["CONFIG", "SET", "maxmemory-policy", policy]);
        client.command(&["CONFIG", "SET", "maxmemory-samples", &SAMPLES.to_string()]);
        client.command(&["CONFIG", "SET", "maxmemory", &maxmemory.to_string()]);
        Redis { client }
    }
}

/// Redis as a [`Cache`], one pipelined batch at a time.
struct Redis<'c> {
    /// The connection, already configured.
    client: &'c mut Resp,
}

impl Cache for Redis<'_> {
    fn serve(&mut self, ids: &[u64]) -> u64 {
        for &id in ids {
            self.client.queue(&[b"GET", &key_of(id)]);
        }
        let mut misses = Vec::new();
        for &id in ids {
            match self.client.read_reply() {
                Reply::Bulk(Some(_)) => {}
                Reply::Bulk(None) => misses.push(id),
                reply => panic!("unexpected GET reply {reply:?}"),
            }
        }
        self.client.set_all(&misses);
        (ids.len() - misses.len()) as u64
    }

    fn keys_held(&mut self) -> u64 {
        self.client.dbsize()
    }
}

/// The caches compared on every trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheKind {
    /// Blink with TinyLFU-scored samples.
    BlinkTinyLfu,
    /// Blink with LRU-scored samples.
    BlinkLru,
    /// Exact LRU (the `lru` crate).
    ExactLru,
    /// Redis with `allkeys-lru`.
    RedisLru,
    /// Redis with `allkeys-lfu`.
    RedisLfu,
}

impl CacheKind {
    /// Every cache, in the order they run and are listed.
    const ALL: [Self; 5] = [
        Self::BlinkTinyLfu,
        Self::BlinkLru,
        Self::ExactLru,
        Self::RedisLru,
        Self::RedisLfu,
    ];

    /// The cache's name in the output.
    fn name(self) -> &'static str {
        match self {
            Self::BlinkTinyLfu => "Blink tinylfu",
            Self::BlinkLru => "Blink lru",
            Self::ExactLru => "exact LRU",
            Self::RedisLru => "Redis allkeys-lru",
            Self::RedisLfu => "Redis allkeys-lfu",
        }
    }

    /// The Redis `maxmemory-policy`, for the Redis caches.
    fn redis_policy(self) -> Option<&'static str> {
        match self {
            Self::RedisLru => Some("allkeys-lru"),
            Self::RedisLfu => Some("allkeys-lfu"),
            _ => None,
        }
    }
}

/// What one cache did on one trace.
struct Row {
    /// Which cache.
    cache: CacheKind,
    /// Requests in the measured (second) half.
    requests: u64,
    /// Hits among them.
    hits: u64,
    /// Keys held at the end.
    keys_held: u64,
}

impl Row {
    /// Misses per request over the measured half.
    fn miss_ratio(&self) -> f64 {
        (self.requests - self.hits) as f64 / self.requests as f64
    }
}

/// Every row of one trace.
struct TraceResult {
    /// Which trace.
    kind: TraceKind,
    /// One row per cache that ran.
    rows: Vec<Row>,
}

impl TraceResult {
    /// The miss ratio of `cache`, if it ran.
    fn miss(&self, cache: CacheKind) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| row.cache == cache)
            .map(Row::miss_ratio)
    }
}

/// Generates one trace, runs every cache on it, and prints its table.
fn run_trace(
    kind: TraceKind,
    options: &Options,
    mut redis: Option<&mut RedisSetup>,
) -> TraceResult {
    let started = Instant::now();
    let trace = generate(kind, options);
    eprintln!(
        "[{}] trace of {} requests generated in {:.1}s",
        kind.name(),
        thousands(trace.len() as u64),
        started.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    for cache in CacheKind::ALL {
        let row = match (cache.redis_policy(), redis.as_deref_mut()) {
            (None, _) => Some(run_in_process(cache, options, &trace)),
            (Some(policy), Some(setup)) => {
                let maxmemory = setup.maxmemory(options.budget_keys());
                Some(measure(
                    cache,
                    &mut setup.prepare(maxmemory, policy),
                    &trace,
                ))
            }
            (Some(_), None) => None,
        };
        if let Some(row) = row {
            eprintln!(
                "[{}] {}: miss ratio {:.4} in {:.1}s",
                kind.name(),
                cache.name(),
                row.miss_ratio(),
                started.elapsed().as_secs_f64()
            );
            rows.push(row);
        }
    }
    let result = TraceResult { kind, rows };
    print_table(&result, options);
    result
}

/// Runs an in-process cache on the trace.
fn run_in_process(cache: CacheKind, options: &Options, trace: &[u64]) -> Row {
    let budget = options.budget_bytes();
    match cache {
        CacheKind::BlinkTinyLfu => measure(
            cache,
            &mut Blink::new(budget, EvictionPolicy::TinyLfu),
            trace,
        ),
        CacheKind::BlinkLru => measure(cache, &mut Blink::new(budget, EvictionPolicy::Lru), trace),
        _ => measure(cache, &mut ExactLru::new(budget), trace),
    }
}

/// Plays the trace through `cache` in batches, counting hits in the second half only.
fn measure(kind: CacheKind, cache: &mut dyn Cache, trace: &[u64]) -> Row {
    let (warm_up, measured) = trace.split_at(trace.len() / 2);
    for batch in warm_up.chunks(BATCH) {
        cache.serve(batch);
    }
    let hits = measured.chunks(BATCH).map(|batch| cache.serve(batch)).sum();
    Row {
        cache: kind,
        requests: measured.len() as u64,
        hits,
        keys_held: cache.keys_held(),
    }
}

/// Prints one trace's table, and how Redis's key count compares with Blink's.
fn print_table(result: &TraceResult, options: &Options) {
    let redis_lru = result.miss(CacheKind::RedisLru);
    let exact_lru = result.miss(CacheKind::ExactLru);
    println!();
    println!("## {} ({})", result.kind.name(), result.kind.describe());
    println!();
    println!("| cache | miss ratio | hit ratio | miss ÷ Redis allkeys-lru | miss ÷ exact LRU | keys held |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &result.rows {
        let miss = row.miss_ratio();
        println!(
            "| {} | {miss:.4} | {:.4} | {} | {} | {} |",
            row.cache.name(),
            1.0 - miss,
            ratio(miss, redis_lru),
            ratio(miss, exact_lru),
            thousands(row.keys_held)
        );
    }
    if redis_lru.is_none() {
        println!();
        println!("Redis skipped: no --redis given.");
    }
    print_dbsize_check(result, options);
}

/// Prints how far each Redis run's DBSIZE is from Blink tinylfu's key count.
fn print_dbsize_check(result: &TraceResult, options: &Options) {
    let blink = result
        .rows
        .iter()
        .find(|row| row.cache == CacheKind::BlinkTinyLfu)
        .map_or(options.budget_keys(), |row| row.keys_held);
    let redis_rows: Vec<&Row> = result
        .rows
        .iter()
        .filter(|row| row.cache.redis_policy().is_some())
        .collect();
    if !redis_rows.is_empty() {
        println!();
    }
    for row in redis_rows {
        let off = row.keys_held as f64 / blink as f64 - 1.0;
        println!(
            "- {} DBSIZE {} vs Blink tinylfu {} keys ({:+.1}%): {}",
            row.cache.name(),
            thousands(row.keys_held),
            thousands(blink),
            off * 100.0,
            if off.abs() <= DBSIZE_TOLERANCE {
                "within 10%"
            } else {
                "NOT within 10%"
            }
        );
    }
}

/// `value / base` to three places, or `n/a` without a base.
fn ratio(value: f64, base: Option<f64>) -> String {
    match base {
        Some(base) if base > 0.0 => format!("{:.3}", value / base),
        _ => "n/a".into(),
    }
}

/// Prints each target with its numbers and whether it was met.
fn print_targets(results: &[TraceResult], redis: bool) {
    println!();
    println!("## targets");
    println!();
    for target in TARGETS {
        println!("- {}", target.check(results, redis));
    }
}

/// A target: Blink tinylfu's miss ratio on a trace against a factor of another cache's.
struct Target {
    /// The trace it is about.
    trace: TraceKind,
    /// The cache compared against.
    baseline: CacheKind,
    /// Tinylfu's miss ratio must be at most (or below) this times the baseline's.
    factor: f64,
    /// Whether equality fails the target (`<` instead of `≤`).
    strict: bool,
    /// A note after the verdict, such as "stretch".
    label: &'static str,
}

/// The targets, in the order they are printed.
const TARGETS: [Target; 5] = [
    Target::at_most(TraceKind::Zipf, CacheKind::RedisLru, 0.83, ""),
    Target::at_most(TraceKind::Zipf, CacheKind::RedisLru, 0.78, " (stretch)"),
    Target::at_most(TraceKind::Reshuffle, CacheKind::ExactLru, 1.02, ""),
    Target {
        trace: TraceKind::Reshuffle,
        baseline: CacheKind::RedisLfu,
        factor: 1.0,
        strict: true,
        label: "",
    },
    Target::at_most(TraceKind::Scan, CacheKind::RedisLru, 0.95, ""),
];

impl Target {
    /// Tinylfu's miss ratio on `trace` ≤ `factor` × `baseline`'s.
    const fn at_most(
        trace: TraceKind,
        baseline: CacheKind,
        factor: f64,
        label: &'static str,
    ) -> Self {
        Self {
            trace,
            baseline,
            factor,
            strict: false,
            label,
        }
    }

    /// The target's line: the comparison, the numbers, and met / NOT met / skipped.
    fn check(&self, results: &[TraceResult], redis: bool) -> String {
        let relation = if self.strict { "<" } else { "≤" };
        let mut line = format!(
            "{}: Blink tinylfu miss {relation} {}× {}'s{}: ",
            self.trace.name(),
            self.factor,
            self.baseline.name(),
            self.label
        );
        let result = results.iter().find(|result| result.kind == self.trace);
        let numbers = result.and_then(|result| {
            Some((
                result.miss(CacheKind::BlinkTinyLfu)?,
                result.miss(self.baseline)?,
            ))
        });
        match numbers {
            Some((tinylfu, baseline)) => {
                let bound = self.factor * baseline;
                let met = if self.strict {
                    tinylfu < bound
                } else {
                    tinylfu <= bound
                };
                let _ = write!(
                    line,
                    "{tinylfu:.4} vs {bound:.4} ({}'s {baseline:.4}; ratio {:.3}) — {}",
                    self.baseline.name(),
                    tinylfu / baseline,
                    if met { "met" } else { "NOT met" }
                );
            }
            None if result.is_none() => line.push_str("skipped (trace not run)"),
            None if !redis => line.push_str("skipped (no Redis)"),
            None => line.push_str("skipped"),
        }
        line
    }
}

/// `n` with commas between thousands.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
