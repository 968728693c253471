//! Eviction under load: measures what evicting at the memory limit costs, in-process and
//! over the real server, and prints each measurement next to its target as markdown
//! tables. It asserts nothing.
//!
//! 1. **cost**: SET throughput at the limit with 10k and with 1M keys resident.
//! 2. **tail**: a reader's GET latency alone, during an eviction storm, and during the
//!    same write load without eviction.
//! 3. **flood**: how far the bytes charged against the limit (`INFO`'s `used_memory`)
//!    overshoot it while 8 connections flood it, and how long they take to come back under.
//! 4. **rss**: the server's resident memory against the limit, after churn.
//!
//! The limit bounds what the store charges for its entries (each one's allocation, papaya
//! node and sampler slot), its table and sketch, and what else the server's heap holds
//! (docs/decisions/0005-allocator.md), not their key and value bytes (`USAGE`). A limit
//! that is to hold a given number of entries is therefore measured, not computed: the
//! charge for them on a store or server with room to spare.
//!
//! Run with `cargo bench --bench eviction_load [-- --quick] [-- SECTION...]`, where
//! SECTION picks any of `cost`, `tail`, `flood`, `rss` (all by default). Progress goes
//! to stderr, tables to stdout. It takes minutes and most of the machine: never in CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use blink_store::evictor::Evictor;
use blink_store::store::{Store, StoreConfig};
use common::{status_kib, Client, Server};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Every key is this long: a tag byte and 15 digits.
const KEY_LEN: usize = 16;
/// The small value of the cost, tail and RSS sections.
const SMALL_VALUE: [u8; 100] = [b'v'; 100];
/// Key plus value bytes of one small entry (what `USAGE` counts for it).
const ENTRY_BYTES: u64 = (KEY_LEN + SMALL_VALUE.len()) as u64;
/// One mebibyte.
const MIB: u64 = 1 << 20;
/// The server's default maximum value size, which is also its minimum overshoot.
const MAX_VALUE_SIZE: u64 = MIB;
/// Requests per flush when a connection pipelines.
const PIPELINE: usize = 64;
/// Unmeasured load before a measurement starts.
const WARM_UP: Duration = Duration::from_millis(300);
/// Concurrent writers of the tail section.
const STORM_WRITERS: u8 = 4;
/// SETs per second of the tail section's paced writer: a steady eviction storm (one
/// eviction per SET) that leaves the 2 CPUs room for the reader, so what it measures is
/// eviction's own effect rather than CPU contention from unthrottled load generators.
const PACED_SETS_PER_SEC: u64 = 50_000;
/// Reads of each hot key before the tail section's writers start: enough to saturate
/// the frequency sketch's 4-bit counters.
const HOT_WARM_READS: usize = 16;
/// Writing connections of the flood section.
const FLOOD_WRITERS: u8 = 8;
/// Largest value of the flood section.
const FLOOD_MAX_VALUE: usize = 64 * 1024;
/// Requests per flush in the flood section (values are large).
const FLOOD_PIPELINE: usize = 16;
/// How often the flood section polls the charge.
const POLL_EVERY: Duration = Duration::from_millis(1);
/// Longest the flood section waits for the charge to come back under the limit.
const SETTLE_WAIT: Duration = Duration::from_secs(5);
/// Longest the RSS section waits for resident memory to stop falling.
const RSS_WAIT: Duration = Duration::from_secs(5);
/// Connections that write in parallel in the RSS section.
const RSS_WRITERS: u64 = 4;

fn main() {
    let plan = Plan::from_args();
    println!(
        "# eviction_load ({} run, {} cores)",
        if plan.quick { "quick" } else { "full" },
        thread::available_parallelism().map_or(0, usize::from)
    );
    if plan.wants("cost") {
        cost_section(&plan);
    }
    if plan.wants("tail") {
        tail_section(&plan);
    }
    if plan.wants("flood") {
        flood_section(&plan);
    }
    if plan.wants("rss") {
        rss_section(&plan);
    }
}

// ---------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------

/// Sizes and durations of one run; `--quick` shrinks them for a smoke run.
struct Plan {
    /// Whether this is a smoke run.
    quick: bool,
    /// Sections asked for on the command line; empty means all.
    sections: Vec<String>,
    /// Resident key counts the cost section compares (small, large).
    cost_resident: [u64; 2],
    /// Measured rounds per cost measurement; the median is reported.
    cost_rounds: usize,
    /// Length of one cost round.
    cost_round: Duration,
    /// Keys preloaded in the tail section.
    tail_preload: u64,
    /// The reader's keys: the first this many preloaded keys.
    tail_hot: u64,
    /// How long the reader measures in each tail scenario.
    tail_duration: Duration,
    /// Most keys one storm writer writes, so the no-eviction scenario stays bounded.
    tail_writer_budget: u64,
    /// Memory limit of the flood section.
    flood_limit: u64,
    /// Memory limit of the RSS section.
    rss_limit: u64,
}

impl Plan {
    /// The plan the command line asks for. Cargo passes `--bench`; unknown flags are
    /// ignored, and bare words select sections.
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|arg| arg == "--quick");
        let sections = args
            .iter()
            .filter(|arg| !arg.starts_with('-'))
            .cloned()
            .collect();
        if quick {
            Self {
                quick,
                sections,
                cost_resident: [10_000, 100_000],
                cost_rounds: 3,
                cost_round: Duration::from_millis(200),
                tail_preload: 20_000,
                tail_hot: 100,
                tail_duration: Duration::from_secs(1),
                tail_writer_budget: 300_000,
                flood_limit: 16 * MIB,
                rss_limit: 32 * MIB,
            }
        } else {
            Self {
                quick,
                sections,
                cost_resident: [10_000, 1_000_000],
                cost_rounds: 5,
                cost_round: Duration::from_millis(600),
                tail_preload: 200_000,
                tail_hot: 100,
                tail_duration: Duration::from_secs(4),
                tail_writer_budget: 1_500_000,
                flood_limit: 64 * MIB,
                rss_limit: 256 * MIB,
            }
        }
    }

    /// Whether `section` runs.
    fn wants(&self, section: &str) -> bool {
        self.sections.is_empty() || self.sections.iter().any(|s| s == section)
    }
}

// ---------------------------------------------------------------------------------------
// 1. Cost of evicting at the limit
// ---------------------------------------------------------------------------------------

/// How a cost measurement writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CostPath {
    /// New keys into a `Store` at its limit, beside its `Evictor`: each SET evicts.
    InProcess,
    /// The control: overwrites of random resident keys, under a limit twice the data,
    /// so nothing is evicted and only the map's own cost of size remains.
    InProcessOverwrite,
    /// New keys over one connection to the server, pipelined.
    Server,
}

impl CostPath {
    /// The row label.
    fn label(self) -> &'static str {
        match self {
            Self::InProcess => "in-process, new keys (1 writer + evictor)",
            Self::InProcessOverwrite => "control: in-process overwrites, no eviction",
            Self::Server => "server, new keys (1 conn, pipeline 64)",
        }
    }
}

/// Where a cost measurement's SETs go.
enum Target {
    /// A store and its evictor, in this process.
    InProcess {
        /// The store, preloaded.
        store: std::sync::Arc<Store>,
        /// Its background evictor; stops on drop.
        _evictor: Evictor,
        /// Picks resident keys to overwrite.
        rng: SmallRng,
    },
    /// A server, and one connection to it.
    Server {
        /// One pipelining connection (dropped before the server).
        client: Client,
        /// The server, preloaded.
        _server: Server,
    },
}

/// A store or server holding `resident` keys at (or, for the control, under) its limit,
/// measured in rounds.
struct CostRig {
    /// What the SETs are.
    path: CostPath,
    /// Keys preloaded.
    resident: u64,
    /// Where SETs go.
    target: Target,
    /// The next new key's index.
    next: u64,
    /// SETs per second, one per measured round.
    rates: Vec<f64>,
    /// SETs made in measured rounds.
    measured_sets: u64,
}

impl CostRig {
    /// Sets up and preloads `resident` keys of 16 + 100 bytes.
    fn new(path: CostPath, resident: u64) -> Self {
        progress(&format!(
            "cost: {}, preloading {}",
            path.label(),
            count(resident)
        ));
        let factor = if path == CostPath::InProcessOverwrite {
            2
        } else {
            1
        };
        let target = if path == CostPath::Server {
            let server = start_server(server_limit_for(resident));
            let mut client = server.tcp_client();
            preload(&mut client, resident);
            fill_to_limit(&mut client);
            Target::Server {
                client,
                _server: server,
            }
        } else {
            let limit = store_charge_for(resident) * factor;
            let store = std::sync::Arc::new(Store::with_config(StoreConfig::new(limit)));
            let evictor = Evictor::spawn(store.clone()).expect("spawn evictor");
            preload_store(&store, resident);
            Target::InProcess {
                store,
                _evictor: evictor,
                rng: SmallRng::seed_from_u64(1),
            }
        };
        Self {
            path,
            resident,
            target,
            next: 0,
            rates: Vec::new(),
            measured_sets: 0,
        }
    }

    /// SETs for `duration`; returns how many were made and their rate.
    fn run(&mut self, duration: Duration) -> (u64, f64) {
        let start = Instant::now();
        let mut sets = 0;
        while start.elapsed() < duration {
            let batch = PIPELINE as u64;
            match &mut self.target {
                Target::InProcess { store, rng, .. } => {
                    for i in self.next..self.next + batch {
                        let key = if self.path == CostPath::InProcessOverwrite {
                            key(b'p', rng.random_range(0..self.resident))
                        } else {
                            key(b'n', i)
                        };
                        store.set(&key, &SMALL_VALUE).unwrap();
                    }
                }
                Target::Server { client, .. } => {
                    let keys = (self.next..self.next + batch).map(|i| key(b'n', i));
                    assert_eq!(set_pipelined(client, keys, &SMALL_VALUE, PIPELINE), 0);
                }
            }
            self.next += batch;
            sets += batch;
        }
        (sets, sets as f64 / start.elapsed().as_secs_f64())
    }

    /// One measured round.
    fn round(&mut self, duration: Duration) {
        let (sets, rate) = self.run(duration);
        self.measured_sets += sets;
        self.rates.push(rate);
    }

    /// Entries the store holds (in-process only).
    fn len(&self) -> Option<u64> {
        match &self.target {
            Target::InProcess { store, .. } => Some(store.len() as u64),
            Target::Server { .. } => None,
        }
    }

    /// Bytes charged against the limit, and the limit.
    fn charge(&mut self) -> (u64, u64) {
        match &mut self.target {
            Target::InProcess { store, .. } => (store.charged_bytes(), store.max_bytes()),
            Target::Server { client, .. } => {
                let info = client.info();
                (info["used_memory"], info["maxmemory"])
            }
        }
    }

    /// The median round's rate.
    fn median(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }
}

/// Runs the cost section and prints its table. Both sizes of a path are set up side by
/// side and their rounds alternate, so a noisy neighbour slows both alike.
fn cost_section(plan: &Plan) {
    let [small, large] = plan.cost_resident;
    let mut rows = Vec::new();
    for path in [
        CostPath::InProcess,
        CostPath::InProcessOverwrite,
        CostPath::Server,
    ] {
        let mut rigs = [CostRig::new(path, small), CostRig::new(path, large)];
        let mut len_before = [None, None];
        for (rig, len) in rigs.iter_mut().zip(&mut len_before) {
            rig.run(WARM_UP);
            *len = rig.len();
        }
        progress(&format!("cost: {}, measuring", path.label()));
        for _ in 0..plan.cost_rounds {
            for rig in &mut rigs {
                rig.round(plan.cost_round);
            }
        }
        let details: Vec<String> = rigs
            .iter_mut()
            .zip(len_before)
            .map(|(rig, len_before)| cost_detail(rig, len_before))
            .collect();
        let ratio = rigs[1].median() / rigs[0].median();
        let is_target = path != CostPath::InProcessOverwrite;
        rows.push(vec![
            path.label().to_owned(),
            per_sec(rigs[0].median()),
            per_sec(rigs[1].median()),
            format!("{ratio:.2}"),
            if is_target { "≥ 0.90" } else { "control" }.to_owned(),
            if is_target {
                verdict(ratio >= 0.9)
            } else {
                "—"
            }
            .to_owned(),
        ]);
        let [detail_small, detail_large] = <[String; 2]>::try_from(details).unwrap();
        rows.push(vec![
            "↳ detail".to_owned(),
            detail_small,
            detail_large,
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    print_table(
        &format!(
            "1. Cost: SET throughput at the limit (16 B keys, 100 B values; new keys each \
             evict one; median of {} rounds of {} ms)",
            plan.cost_rounds,
            plan.cost_round.as_millis()
        ),
        &[
            "path",
            &format!("SET/s, {} resident", count(small)),
            &format!("SET/s, {} resident", count(large)),
            "ratio",
            "target",
            "met",
        ],
        &rows,
    );
}

/// Evictions per measured SET (in-process), the final charge against the limit, and
/// every round's rate.
fn cost_detail(rig: &mut CostRig, len_before: Option<u64>) -> String {
    let added = if rig.path == CostPath::InProcess {
        rig.measured_sets
    } else {
        0
    };
    let evictions = match (len_before, rig.len()) {
        (Some(before), Some(after)) => format!(
            "{:.2} evictions/SET, ",
            (before + added).saturating_sub(after) as f64 / rig.measured_sets as f64
        ),
        _ => String::new(),
    };
    let (charged, limit) = rig.charge();
    let rounds: Vec<String> = rig.rates.iter().map(|r| per_sec(*r)).collect();
    format!(
        "{evictions}charged {:.3}× limit, rounds {}",
        charged as f64 / limit as f64,
        rounds.join("/")
    )
}

// ---------------------------------------------------------------------------------------
// 2. Tail latency of reads during an eviction storm
// ---------------------------------------------------------------------------------------

/// What the reader saw in one tail scenario.
struct Tail {
    /// GET round-trip times, in nanoseconds.
    latency: Histogram<u64>,
    /// GETs that found their key.
    hits: u64,
    /// SETs per second the storm writers completed while the reader measured.
    writes_per_sec: f64,
    /// Entries evicted during the scenario (`INFO`'s `evictions`).
    evicted: u64,
    /// Whether a writer ran out of budget before the reader finished.
    budget_ran_out: bool,
}

/// Runs the tail section and prints its tables.
fn tail_section(plan: &Plan) {
    let at_limit = server_limit_for(plan.tail_preload);
    let no_eviction =
        ample_limit(plan.tail_preload + plan.tail_writer_budget * u64::from(STORM_WRITERS));
    let paced = Some(PACED_SETS_PER_SEC);
    // Each scenario: its name, the server's limit, whether the store is filled to that
    // limit before the reader starts, the storm writers and their rate.
    let scenarios = [
        ("(a) reader alone", at_limit, true, 0, None),
        (
            "(b) + 4 writers, evicting",
            at_limit,
            true,
            STORM_WRITERS,
            None,
        ),
        (
            "(c) + 4 writers, no eviction",
            no_eviction,
            false,
            STORM_WRITERS,
            None,
        ),
        (
            "(d) + 1 writer at 50k SET/s, evicting",
            at_limit,
            true,
            1,
            paced,
        ),
        (
            "(e) + 1 writer at 50k SET/s, no eviction",
            no_eviction,
            false,
            1,
            paced,
        ),
    ];
    let results: Vec<Tail> = scenarios
        .iter()
        .map(|&(name, limit, full, writers, rate)| {
            tail_scenario(plan, name, limit, full, writers, rate)
        })
        .collect();
    let rows = scenarios
        .iter()
        .zip(&results)
        .map(|(&(name, limit, ..), tail)| {
            let q = |quantile| micros(tail.latency.value_at_quantile(quantile));
            vec![
                name.to_owned(),
                mib(limit),
                count(tail.latency.len()),
                format!(
                    "{:.1}",
                    100.0 * tail.hits as f64 / tail.latency.len() as f64
                ),
                per_sec(tail.writes_per_sec),
                count(tail.evicted),
                q(0.5),
                q(0.99),
                q(0.999),
                micros(tail.latency.max()),
            ]
        })
        .collect::<Vec<_>>();
    print_table(
        "2. Tail impact: one client's request/response GETs of preloaded keys (µs)",
        &[
            "scenario",
            "limit",
            "GETs",
            "hit %",
            "writer SET/s",
            "evicted",
            "p50",
            "p99",
            "p999",
            "max",
        ],
        &rows,
    );
    if results.iter().any(|tail| tail.budget_ran_out) {
        println!("\nNote: a writer ran out of its key budget before the reader finished.");
    }
    let p99 = |i: usize| results[i].latency.value_at_quantile(0.99) as f64;
    let ratio = |check: &str, over: f64, target: Option<f64>| {
        vec![
            check.to_owned(),
            format!("{over:.2}"),
            target.map_or("info".to_owned(), |t| format!("≤ {t:.2}")),
            target.map_or("—", |t| verdict(over <= t)).to_owned(),
        ]
    };
    print_table(
        "2. Tail impact: targets",
        &["check", "measured", "target", "met"],
        &[
            ratio("(d) p99 / (a) p99: paced storm", p99(3) / p99(0), Some(2.0)),
            ratio(
                "(d) p99 / (e) p99: its eviction's share",
                p99(3) / p99(4),
                None,
            ),
            ratio(
                "(b) p99 / (a) p99: CPU-saturating storm",
                p99(1) / p99(0),
                None,
            ),
            ratio(
                "(b) p99 / (c) p99: its eviction's share",
                p99(1) / p99(2),
                None,
            ),
        ],
    );
}

/// One tail scenario on a fresh server with `limit`: preload, read the hot keys, fill
/// the store to its limit if `full`, start `writers` storm writers (each capped at `rate`
/// SETs per second, if given), then measure one reader's GETs of hot preloaded keys.
fn tail_scenario(
    plan: &Plan,
    name: &str,
    limit: u64,
    full: bool,
    writers: u8,
    rate: Option<u64>,
) -> Tail {
    progress(&format!("tail: {name}"));
    let server = start_server(limit);
    let mut reader = server.tcp_client();
    preload(&mut reader, plan.tail_preload);
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let budget_ran_out = AtomicBool::new(false);
    // Read the hot keys before the storm, so the frequency sketch knows them as hot
    // rather than as preloaded keys written once.
    for _ in 0..HOT_WARM_READS {
        for i in 0..plan.tail_hot {
            if !get(&mut reader, &key(b'p', i)) {
                panic!("preloaded key {i} missing: {:?}", reader.info().0);
            }
        }
    }
    if full {
        fill_to_limit(&mut reader);
    }
    let evicted_before = reader.info()["evictions"];
    let (latency, hits, writes_per_sec) = thread::scope(|scope| {
        for tag in 0..writers {
            let (stop, written, budget_ran_out) = (&stop, &written, &budget_ran_out);
            let addr = server.tcp.unwrap();
            scope.spawn(move || {
                let exhausted = storm_writer(
                    addr,
                    b'a' + tag,
                    plan.tail_writer_budget,
                    rate,
                    stop,
                    written,
                );
                if exhausted {
                    budget_ran_out.store(true, Ordering::Relaxed);
                }
            });
        }
        let mut rng = SmallRng::seed_from_u64(7);
        let mut hot_key = || key(b'p', rng.random_range(0..plan.tail_hot));
        let warm_up = Instant::now();
        while warm_up.elapsed() < WARM_UP {
            get(&mut reader, &hot_key());
        }
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        let mut hits = 0;
        let written_before = written.load(Ordering::Relaxed);
        let start = Instant::now();
        while start.elapsed() < plan.tail_duration {
            let key = hot_key();
            let sent = Instant::now();
            let found = get(&mut reader, &key);
            latency.saturating_record(sent.elapsed().as_nanos() as u64);
            hits += u64::from(found);
        }
        let writes = written.load(Ordering::Relaxed) - written_before;
        let writes_per_sec = writes as f64 / start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        (latency, hits, writes_per_sec)
    });
    let evicted = reader.info()["evictions"] - evicted_before;
    Tail {
        latency,
        hits,
        writes_per_sec,
        evicted,
        budget_ran_out: budget_ran_out.load(Ordering::Relaxed),
    }
}

/// SETs new keys (tagged `f`), [`PIPELINE`] at a time, until the server evicts: the store
/// is then at its limit.
fn fill_to_limit(client: &mut Client) {
    let mut next = 0;
    while client.info()["evictions"] == 0 {
        let failed = set_pipelined(
            client,
            (next..next + PIPELINE as u64).map(|i| key(b'f', i)),
            &SMALL_VALUE,
            PIPELINE,
        );
        assert_eq!(failed, 0, "filling SETs failed");
        next += PIPELINE as u64;
    }
}

/// Pipelines SETs of new keys (tagged `tag`) until `stop` or `budget` keys, at most
/// `rate` per second if given, adding each acknowledged batch to `written`. Returns
/// whether the budget ran out first.
fn storm_writer(
    addr: SocketAddr,
    tag: u8,
    budget: u64,
    rate: Option<u64>,
    stop: &AtomicBool,
    written: &AtomicU64,
) -> bool {
    let mut client = Client::tcp(addr);
    let mut next = 0;
    let start = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if next >= budget {
            return true;
        }
        if let Some(rate) = rate {
            // Pacing a load generator: wait until this batch is due.
            let due = start + Duration::from_secs_f64(next as f64 / rate as f64);
            thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let failed = set_pipelined(
            &mut client,
            (next..next + PIPELINE as u64).map(|i| key(tag, i)),
            &SMALL_VALUE,
            PIPELINE,
        );
        assert_eq!(failed, 0, "storm SETs failed");
        next += PIPELINE as u64;
        written.fetch_add(PIPELINE as u64, Ordering::Relaxed);
    }
    false
}

// ---------------------------------------------------------------------------------------
// 3. Overshoot under a flood
// ---------------------------------------------------------------------------------------

/// What the poller of the charge (`INFO`'s `used_memory`) saw during and after a flood.
#[derive(Default)]
struct Polls {
    /// Polls answered.
    count: u64,
    /// The largest charge seen.
    max_charged: u64,
    /// Polls that saw the charge above the bound.
    above_bound: u64,
    /// The longest time between two polls being sent.
    max_gap: Duration,
    /// The charge at the first poll sent after the last write completed.
    charged_at_done: Option<u64>,
    /// From the last write's completion to the reply of the first poll at or under the
    /// limit; `None` if that took longer than [`SETTLE_WAIT`].
    settle: Option<Duration>,
}

/// Runs the flood section and prints its table.
fn flood_section(plan: &Plan) {
    let limit = plan.flood_limit;
    let bound = limit + (limit / 100).max(MAX_VALUE_SIZE);
    progress(&format!("flood: limit {}", mib(limit)));
    let server = start_server(limit);
    let per_writer = limit * 10 / u64::from(FLOOD_WRITERS);
    let start = Barrier::new(usize::from(FLOOD_WRITERS) + 1);
    let finished = AtomicUsize::new(0);
    let done_at = OnceLock::new();
    let began = Instant::now();
    let (polls, results) = thread::scope(|scope| {
        let poller =
            scope.spawn(|| poll_charged(server.tcp.unwrap(), limit, bound, &start, &done_at));
        let writers: Vec<_> = (0..FLOOD_WRITERS)
            .map(|w| {
                let (start, finished, done_at) = (&start, &finished, &done_at);
                let addr = server.tcp.unwrap();
                scope.spawn(move || {
                    let client = Client::tcp(addr);
                    start.wait();
                    let result = flood_writer(client, b'a' + w, per_writer);
                    if finished.fetch_add(1, Ordering::SeqCst) + 1 == usize::from(FLOOD_WRITERS) {
                        done_at.set(Instant::now()).unwrap();
                    }
                    result
                })
            })
            .collect();
        let results: Vec<(u64, u64)> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        (poller.join().unwrap(), results)
    });
    let written: u64 = results.iter().map(|r| r.0).sum();
    let failed: u64 = results.iter().map(|r| r.1).sum();
    let flood_time = done_at.get().unwrap().duration_since(began);
    let settle = polls
        .settle
        .map_or(format!("> {} ms", SETTLE_WAIT.as_millis()), |d| {
            format!("{:.1} ms", d.as_secs_f64() * 1e3)
        });
    let settled_in_time = polls
        .settle
        .is_some_and(|d| d <= Duration::from_millis(100));
    print_table(
        "3. Overshoot under a flood (8 conns, values 1 B–64 KiB, 10× limit written)",
        &["measure", "value", "target", "met"],
        &[
            vec![
                "written (key + value) / time".to_owned(),
                format!(
                    "{} in {:.2} s, {} SETs not OK",
                    mib(written),
                    flood_time.as_secs_f64(),
                    failed
                ),
                "10× limit".to_owned(),
                "—".to_owned(),
            ],
            vec![
                "max charged (used_memory)".to_owned(),
                format!(
                    "{} ({} B; {} of {} polls above bound)",
                    mib(polls.max_charged),
                    polls.max_charged,
                    polls.above_bound,
                    polls.count
                ),
                format!(
                    "≤ {} ({} B) = limit {} + max(1%, 1 MiB)",
                    mib(bound),
                    bound,
                    mib(limit)
                ),
                verdict(polls.max_charged <= bound).to_owned(),
            ],
            vec![
                "charged at last write".to_owned(),
                polls.charged_at_done.map_or("?".to_owned(), mib),
                "info".to_owned(),
                "—".to_owned(),
            ],
            vec![
                "settle time to charged ≤ limit".to_owned(),
                settle,
                "≤ 100 ms".to_owned(),
                verdict(settled_in_time).to_owned(),
            ],
            vec![
                "max gap between polls".to_owned(),
                format!("{:.1} ms", polls.max_gap.as_secs_f64() * 1e3),
                "1 ms nominal".to_owned(),
                "—".to_owned(),
            ],
        ],
    );
}

/// Pipelines SETs of distinct keys (tagged `tag`) with random values of 1 B to 64 KiB
/// until `budget` bytes of key + value were acknowledged. Returns the bytes written and
/// the replies that were not `OK`.
fn flood_writer(mut client: Client, tag: u8, budget: u64) -> (u64, u64) {
    let value = vec![b'x'; FLOOD_MAX_VALUE];
    let mut rng = SmallRng::seed_from_u64(u64::from(tag));
    let (mut written, mut failed, mut next) = (0, 0, 0);
    while written < budget {
        for _ in 0..FLOOD_PIPELINE {
            let len = rng.random_range(1..=FLOOD_MAX_VALUE);
            client.queue(&[b"SET ", &key(tag, next), b" ", &value[..len], b"\n"]);
            written += (KEY_LEN + len) as u64;
            next += 1;
        }
        failed += replies(&mut client, FLOOD_PIPELINE, b"OK");
    }
    (written, failed)
}

/// Polls the charge every millisecond from when `start` opens, recording the maximum,
/// until `done_at` is set and the charge is back at or under `limit` (or [`SETTLE_WAIT`]
/// passed).
fn poll_charged(
    addr: SocketAddr,
    limit: u64,
    bound: u64,
    start: &Barrier,
    done_at: &OnceLock<Instant>,
) -> Polls {
    let mut client = Client::tcp(addr);
    charged(&mut client);
    start.wait();
    let mut polls = Polls::default();
    let mut last_sent: Option<Instant> = None;
    let mut next_tick = Instant::now();
    loop {
        let sent = Instant::now();
        if let Some(last) = last_sent {
            polls.max_gap = polls.max_gap.max(sent - last);
        }
        last_sent = Some(sent);
        let now_charged = charged(&mut client);
        let received = Instant::now();
        polls.count += 1;
        polls.max_charged = polls.max_charged.max(now_charged);
        polls.above_bound += u64::from(now_charged > bound);
        if let Some(&done) = done_at.get().filter(|&&done| sent >= done) {
            polls.charged_at_done.get_or_insert(now_charged);
            if now_charged <= limit {
                polls.settle = Some(received - done);
                return polls;
            }
            if received - done > SETTLE_WAIT {
                return polls;
            }
        }
        next_tick += POLL_EVERY;
        let now = Instant::now();
        if next_tick > now {
            thread::sleep(next_tick - now);
        } else {
            next_tick = now;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. Resident memory
// ---------------------------------------------------------------------------------------

/// Runs the RSS section and prints its table: large values (the target: RSS follows
/// usage through overwrites and deletes) on one server, then small values (per-entry
/// overhead, for information) on a fresh one.
fn rss_section(plan: &Plan) {
    let limit = plan.rss_limit;
    progress(&format!("rss: limit {}", mib(limit)));
    let mut rows = Vec::new();
    let big_value = vec![b'B'; MAX_VALUE_SIZE as usize];
    let big_keys = limit / (MAX_VALUE_SIZE + KEY_LEN as u64);
    {
        let server = start_server(limit);
        let mut rss = RssRows::new(&server, limit);
        rss.row("1 MiB values: empty server", false, &mut rows);
        set_parallel(server.tcp.unwrap(), b'B', big_keys, &big_value, 4);
        rss.row("1 MiB values: filled to the limit", true, &mut rows);
        set_parallel(
            server.tcp.unwrap(),
            b'B',
            big_keys,
            &[b'b'; MAX_VALUE_SIZE as usize],
            4,
        );
        rss.row("1 MiB values: every key overwritten once", true, &mut rows);
        let (deleted, missing) = delete_parallel(server.tcp.unwrap(), b'B', big_keys);
        let stage = format!("1 MiB values: all DELETEd ({deleted} OK, {missing} NOT_FOUND)");
        rss.row(&stage, true, &mut rows);
    }
    {
        let server = start_server(limit);
        let mut rss = RssRows::new(&server, limit);
        // More keys than the limit holds: the fill ends with the store evicting.
        let small_keys = limit / ENTRY_BYTES;
        set_parallel(
            server.tcp.unwrap(),
            b'p',
            small_keys,
            &SMALL_VALUE,
            PIPELINE,
        );
        rss.row("100 B values: filled to the limit", false, &mut rows);
        set_parallel(
            server.tcp.unwrap(),
            b'p',
            small_keys,
            &[b'w'; 100],
            PIPELINE,
        );
        rss.row("100 B values: every key overwritten once", false, &mut rows);
        let resident = rss.client.info()["keys"];
        let overhead = rss.last.saturating_sub(rss.empty) as f64 / resident as f64;
        let per_entry = overhead - ENTRY_BYTES as f64;
        rows.push(vec![
            format!(
                "100 B values: RSS per resident entry ({}) above key+value: {per_entry:.0} B",
                count(resident)
            ),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "info".to_owned(),
            "—".to_owned(),
        ]);
    }
    print_table(
        &format!(
            "4. RSS (limit {}; target: RSS ≤ 1.15 × limit + the empty server's RSS)",
            mib(limit)
        ),
        &[
            "stage",
            "USAGE",
            "charged",
            "RSS",
            "(RSS − empty) / limit",
            "waited",
            "target",
            "met",
        ],
        &rows,
    );
}

/// Measures one server's RSS at successive stages, against the target bound.
struct RssRows<'s> {
    /// The server measured.
    server: &'s Server,
    /// A connection for `INFO`.
    client: Client,
    /// The limit the bound is computed from.
    limit: u64,
    /// RSS of the server before any data.
    empty: u64,
    /// The latest RSS measured.
    last: u64,
}

impl<'s> RssRows<'s> {
    /// Starts measuring `server`, recording its empty RSS.
    fn new(server: &'s Server, limit: u64) -> Self {
        let mut client = server.tcp_client();
        assert_eq!(client.request(b"PING\n"), "PONG\n");
        let empty = rss(server);
        Self {
            server,
            client,
            limit,
            empty,
            last: empty,
        }
    }

    /// Appends one table row for the current stage.
    fn row(&mut self, stage: &str, target: bool, rows: &mut Vec<Vec<String>>) {
        let info = self.client.info();
        let (rss, waited) = settled_rss(self.server);
        self.last = rss;
        let bound = self.limit + self.limit * 15 / 100 + self.empty;
        progress(&format!("rss: {stage}: RSS {}", mib(rss)));
        rows.push(vec![
            stage.to_owned(),
            mib(info["used_bytes"]),
            mib(info["used_memory"]),
            mib(rss),
            format!(
                "{:.2}",
                rss.saturating_sub(self.empty) as f64 / self.limit as f64
            ),
            format!("{:.1} s", waited.as_secs_f64()),
            if target {
                format!("≤ {}", mib(bound))
            } else {
                "info".to_owned()
            },
            if target {
                verdict(rss <= bound).to_owned()
            } else {
                "—".to_owned()
            },
        ]);
    }
}

/// DELETEs `keys` keys tagged `tag` over [`RSS_WRITERS`] connections; returns how many
/// were found and how many were not.
fn delete_parallel(addr: SocketAddr, tag: u8, keys: u64) -> (u64, u64) {
    thread::scope(|scope| {
        let workers: Vec<_> = (0..RSS_WRITERS)
            .map(|w| {
                scope.spawn(move || {
                    let mut client = Client::tcp(addr);
                    let range = keys * w / RSS_WRITERS..keys * (w + 1) / RSS_WRITERS;
                    delete_pipelined(&mut client, range.map(|i| key(tag, i)))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    })
}

/// SETs `keys` keys tagged `tag` to `value`, split over [`RSS_WRITERS`] pipelining
/// connections of `depth` requests per flush.
fn set_parallel(addr: SocketAddr, tag: u8, keys: u64, value: &[u8], depth: usize) {
    thread::scope(|scope| {
        for w in 0..RSS_WRITERS {
            scope.spawn(move || {
                let mut client = Client::tcp(addr);
                let range = keys * w / RSS_WRITERS..keys * (w + 1) / RSS_WRITERS;
                let failed = set_pipelined(&mut client, range.map(|i| key(tag, i)), value, depth);
                assert_eq!(failed, 0, "SETs failed");
            });
        }
    });
}

// ---------------------------------------------------------------------------------------
// The server and its clients
// ---------------------------------------------------------------------------------------

/// A server with `memory_limit` (other settings default), once it listens.
fn start_server(memory_limit: u64) -> Server {
    Server::start(&["--memory-limit", &memory_limit.to_string()])
}

/// A limit with room to spare for `n` small entries and whatever else a store holds.
fn ample_limit(n: u64) -> u64 {
    n * 1024 + 64 * MIB
}

/// A limit at which a server holds the small entries `0..n` (tagged `p`), as the tail
/// and cost sections preload them, without evicting: what a server with room to spare
/// charges for them, and a tenth more, since the heap's share of the charge moves by a
/// few percent from run to run.
fn server_limit_for(n: u64) -> u64 {
    progress(&format!("measuring the charge for {} entries", count(n)));
    let server = start_server(ample_limit(n));
    let mut client = server.tcp_client();
    preload(&mut client, n);
    charged(&mut client) * 11 / 10
}

/// What a store charges for the small entries `0..n` (tagged `p`), its table and
/// sketch included: the limit at which it holds exactly them.
fn store_charge_for(n: u64) -> u64 {
    let store = Store::with_config(StoreConfig::new(ample_limit(n)));
    preload_store(&store, n);
    store.refresh_structures();
    store.charged_bytes()
}

/// SETs the small entries `0..n` (tagged `p`) over `client`, pipelined.
fn preload(client: &mut Client, n: u64) {
    let failed = set_pipelined(client, (0..n).map(|i| key(b'p', i)), &SMALL_VALUE, PIPELINE);
    assert_eq!(failed, 0, "preload SETs failed");
}

/// SETs the small entries `0..n` (tagged `p`) in `store`.
fn preload_store(store: &Store, n: u64) {
    for i in 0..n {
        store.set(&key(b'p', i), &SMALL_VALUE).unwrap();
    }
}

/// Bytes a server charges against its limit: `INFO`'s `used_memory`.
fn charged(client: &mut Client) -> u64 {
    client.info()["used_memory"]
}

/// The server's resident set size in bytes.
fn rss(server: &Server) -> u64 {
    status_kib(server.pid(), "VmRSS") * 1024
}

/// RSS once it stops falling (no new low for 500 ms, at most [`RSS_WAIT`]), and how
/// long that took.
fn settled_rss(server: &Server) -> (u64, Duration) {
    let start = Instant::now();
    let mut low = rss(server);
    let mut low_at = Instant::now();
    while low_at.elapsed() < Duration::from_millis(500) && start.elapsed() < RSS_WAIT {
        // Sampling a falling curve, not waiting for an event.
        thread::sleep(Duration::from_millis(50));
        let now = rss(server);
        if now < low {
            low = now;
            low_at = Instant::now();
        }
    }
    (low, start.elapsed())
}

/// Reads one reply line into `line`; the server must not have closed the connection.
fn read_reply(client: &mut Client, line: &mut Vec<u8>) {
    let whole = client.try_read_line(line).expect("read reply");
    assert!(whole, "server closed the connection");
    line.pop();
}

/// Sends what is queued, reads `n` replies, and returns how many were not `expected`.
fn replies(client: &mut Client, n: usize, expected: &[u8]) -> u64 {
    let mut line = Vec::new();
    (0..n)
        .map(|_| {
            read_reply(client, &mut line);
            u64::from(line != expected)
        })
        .sum()
}

/// `GET key`: whether it was found.
fn get(client: &mut Client, key: &[u8]) -> bool {
    client.queue(&[b"GET ", key, b"\n"]);
    let mut reply = Vec::new();
    read_reply(client, &mut reply);
    let found = reply.starts_with(b"VALUE ");
    assert!(
        found || reply == b"NOT_FOUND",
        "unexpected GET reply {:?}",
        reply.escape_ascii().to_string()
    );
    found
}

/// Sends `SET key value` for every key, `depth` requests per write, reads every reply,
/// and returns how many were not `OK`.
fn set_pipelined(
    client: &mut Client,
    keys: impl IntoIterator<Item = [u8; KEY_LEN]>,
    value: &[u8],
    depth: usize,
) -> u64 {
    let (mut sent, mut failed) = (0, 0);
    for key in keys {
        client.queue(&[b"SET ", &key, b" ", value, b"\n"]);
        sent += 1;
        if sent == depth {
            failed += replies(client, sent, b"OK");
            sent = 0;
        }
    }
    failed + replies(client, sent, b"OK")
}

/// DELETEs every key, [`PIPELINE`] per write; returns the `OK` and `NOT_FOUND` counts.
fn delete_pipelined(client: &mut Client, keys: impl Iterator<Item = [u8; KEY_LEN]>) -> (u64, u64) {
    let (mut deleted, mut missing) = (0, 0);
    let mut keys = keys.peekable();
    let mut reply = Vec::new();
    while keys.peek().is_some() {
        let mut sent = 0;
        for key in keys.by_ref().take(PIPELINE) {
            client.queue(&[b"DELETE ", &key, b"\n"]);
            sent += 1;
        }
        for _ in 0..sent {
            read_reply(client, &mut reply);
            match reply.as_slice() {
                b"OK" => deleted += 1,
                b"NOT_FOUND" => missing += 1,
                other => panic!(
                    "unexpected DELETE reply {:?}",
                    other.escape_ascii().to_string()
                ),
            }
        }
    }
    (deleted, missing)
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/// A 16-byte key: `tag`, then `index` as 15 decimal digits.
fn key(tag: u8, index: u64) -> [u8; KEY_LEN] {
    let mut out = [b'0'; KEY_LEN];
    out[0] = tag;
    let mut rest = index;
    for digit in out[1..].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

/// Prints a progress line to stderr.
fn progress(message: &str) {
    eprintln!("[eviction_load] {message}");
}

/// Prints a markdown table with a heading to stdout.
fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("\n### {title}\n");
    println!("| {} |", header.join(" | "));
    println!("|{}|", vec!["---"; header.len()].join("|"));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
}

/// `yes`, or a bold `NO` that stands out in a table.
fn verdict(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**NO**"
    }
}

/// Bytes as MiB with two decimals.
fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / MIB as f64)
}

/// Nanoseconds as microseconds with one decimal.
fn micros(nanos: u64) -> String {
    format!("{:.1}", nanos as f64 / 1e3)
}

/// A rate as thousands per second.
fn per_sec(rate: f64) -> String {
    format!("{:.0}k", rate / 1e3)
}

/// A count with k/M suffixes where exact.
fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
