//! `blink-store bench`: a load generator in the manner of redis-benchmark and memtier,
//! speaking Blink Store's line protocol, Redis's RESP or memcached's text protocol.
//!
//! ```text
//! connect every conn ──▶ preload (optional, unmeasured) ──▶ timed run ──▶ Report
//!                       server CPU time read just before and just after ──┘
//!   one task per conn: claim a batch ──▶ workload ──ops──▶ wire::encode ──one write──▶
//!                      socket ──read──▶ wire::parse (check) ──latency──▶ Stats
//! ```
//!
//! * [`config`] says what to run; [`args`] is its command line.
//! * [`workload`] picks operations and keys, and fixes the value of every key.
//! * [`wire`] encodes requests and checks replies, per protocol.
//! * [`conn`] keeps one connection's batch in flight; [`report`] merges what they saw.
//! * [`server_cpu`] reads the server's own CPU time around the timed run.

pub mod args;
pub mod config;
pub mod conn;
pub mod report;
pub mod server_cpu;
pub mod wire;
pub mod workload;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::config::{BenchConfig, Limit, Protocol, Target};
use self::conn::{Conn, ConnError};
use self::report::{HistogramError, Report, Stats};
use self::server_cpu::CpuProbe;
use self::wire::Wire;
use self::workload::{Op, OpKind, Values, Workload, WorkloadError};

/// Requests per batch while preloading, at least: preloading is not measured, so it may
/// as well go fast.
const PRELOAD_PIPELINE: usize = 64;

/// Runs shorter than this show no progress bar.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// How often the progress bar is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Why a run could not be carried out at all.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The client runtime could not be started.
    #[error("cannot start the client runtime: {0}")]
    Runtime(std::io::Error),
    /// The key distribution is invalid.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A connection could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnError),
    /// Preloading the keys failed, so the timed run would be meaningless.
    #[error(
        "preload failed ({errors} errors); is --protocol right for this server? first: {first}"
    )]
    Preload {
        /// Wrong or missing replies, and failed connections.
        errors: u64,
        /// The first of them.
        first: String,
    },
    /// The latency histogram could not be built or merged.
    #[error(transparent)]
    Histogram(#[from] HistogramError),
    /// A connection task panicked.
    #[error("a connection task failed: {0}")]
    Task(String),
}

/// Runs the benchmark `config` describes on its own runtime: one thread, or a pool of
/// `config.threads`.
///
/// # Errors
/// [`BenchError`] if the run cannot start or preloading fails. Wrong replies and
/// connections failing during the timed run are counted in the report instead.
pub fn run(config: &BenchConfig) -> Result<Report, BenchError> {
    let mut builder = if config.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(config.threads);
        builder
    };
    let runtime = builder
        .enable_all()
        .thread_name("blink-bench")
        .build()
        .map_err(BenchError::Runtime)?;
    runtime.block_on(run_async(config))
}

async fn run_async(config: &BenchConfig) -> Result<Report, BenchError> {
    let empty = Stats::new()?;
    let wire = Wire::new(config.protocol, Values::new(config.value_size));
    let mut conns = Vec::with_capacity(config.conns);
    for stream in 0..config.conns {
        let password = config.password.as_deref();
        let conn =
            Conn::connect(&config.target, wire.clone(), config.reply_timeout, password).await?;
        conns.push((
            conn,
            Source::Workload(Workload::new(config, stream as u64)?),
        ));
    }
    if config.preload {
        let plan = Plan::new(config.keys, None);
        let batch = config.pipeline.max(PRELOAD_PIPELINE);
        let preloading = conns
            .into_iter()
            .map(|(conn, source)| (conn, Source::Preload(Box::new(source))));
        let (done, stats, _) = run_phase(preloading.collect(), plan, batch, &empty).await?;
        if stats.errors > 0 || stats.failed_conns > 0 {
            return Err(BenchError::Preload {
                errors: stats.errors + stats.failed_conns,
                first: stats.first_error.unwrap_or_default(),
            });
        }
        conns = done
            .into_iter()
            .map(|(conn, source)| (conn, source.resume()))
            .collect();
    }
    // Before the deadline is set: asking takes a round trip or a connection's timeout.
    let mut probe = CpuProbe::connect(config).await;
    let cpu_before = probe.read().await;
    let plan = match config.limit {
        Limit::Requests(requests) => Plan::new(requests, None),
        Limit::Duration(duration) => Plan::new(u64::MAX, Some(Instant::now() + duration)),
    };
    let (_, stats, elapsed) = run_phase(conns, plan, config.pipeline, &empty).await?;
    let cpu_after = probe.read().await;
    Ok(Report {
        config: config.clone(),
        elapsed,
        stats,
        server_cpu: cpu_before
            .zip(cpu_after)
            .map(|(before, after)| after.since(before)),
    })
}

/// Where a connection's requests come from.
enum Source {
    /// SET each claimed key, then go on with the held workload.
    Preload(Box<Source>),
    /// The run's mix of GETs and SETs.
    Workload(Workload),
}

impl Source {
    /// The request numbered `seq` in the phase.
    fn op(&mut self, seq: u64) -> Op {
        match self {
            Source::Preload(next) => Op {
                kind: OpKind::Set {
                    value_len: next.value_len(),
                },
                key: seq,
            },
            Source::Workload(workload) => workload.next_op(),
        }
    }

    /// The length of the next value preloaded, drawn as the workload draws its SETs'.
    fn value_len(&mut self) -> usize {
        match self {
            Source::Preload(next) => next.value_len(),
            Source::Workload(workload) => workload.next_value_len(),
        }
    }

    /// The source after preloading.
    fn resume(self) -> Source {
        match self {
            Source::Preload(next) => *next,
            workload => workload,
        }
    }
}

/// What the connections of one phase share: the requests left and when to stop.
struct Plan {
    /// Requests in the phase; `u64::MAX` when it ends at a deadline.
    total: u64,
    /// Requests handed out so far.
    claimed: AtomicU64,
    /// When to stop starting batches, if the phase is timed.
    deadline: Option<Instant>,
    /// Requests completed so far, for the progress bar.
    completed: AtomicU64,
}

impl Plan {
    fn new(total: u64, deadline: Option<Instant>) -> Arc<Self> {
        Arc::new(Self {
            total,
            claimed: AtomicU64::new(0),
            deadline,
            completed: AtomicU64::new(0),
        })
    }

    /// Up to `most` request numbers for the next batch; `None` when the phase is over.
    fn claim(&self, most: usize) -> Option<Range<u64>> {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return None;
        }
        let most = most as u64;
        let take = |claimed: u64| most.min(self.total - claimed);
        // Ordering: Relaxed is enough; the counter only hands out disjoint ranges, and
        // nothing else is published through it.
        let start = self
            .claimed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |claimed| {
                (claimed < self.total).then(|| claimed + take(claimed))
            })
            .ok()?;
        Some(start..start + take(start))
    }
}

/// Runs one phase on every connection, each in its own task, until `plan` is used up.
/// Returns the connections still alive, the merged stats and the phase's wall time.
async fn run_phase(
    conns: Vec<(Conn, Source)>,
    plan: Arc<Plan>,
    batch: usize,
    empty: &Stats,
) -> Result<(Vec<(Conn, Source)>, Stats, Duration), BenchError> {
    let done = CancellationToken::new();
    let started = Instant::now();
    let progress = tokio::spawn(show_progress(plan.clone(), started, done.clone()));
    let mut tasks = JoinSet::new();
    for (index, (conn, source)) in conns.into_iter().enumerate() {
        let task = drive(conn, source, plan.clone(), batch, empty.clone());
        tasks.spawn(async move { (index, task.await) });
    }
    let mut stats = empty.clone();
    let mut alive = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, (conn, source, conn_stats)) =
            joined.map_err(|err| BenchError::Task(err.to_string()))?;
        stats.merge(&conn_stats)?;
        if let Some(conn) = conn {
            alive.push((index, conn, source));
        }
    }
    let elapsed = started.elapsed();
    done.cancel();
    // The progress task only ends on the token; an error here is a panic while drawing.
    let _ = progress.await;
    alive.sort_by_key(|(index, _, _)| *index);
    let alive = alive.into_iter().map(|(_, conn, source)| (conn, source));
    Ok((alive.collect(), stats, elapsed))
}

/// One connection's part of a phase; the connection comes back unless it failed.
async fn drive(
    mut conn: Conn,
    mut source: Source,
    plan: Arc<Plan>,
    batch: usize,
    mut stats: Stats,
) -> (Option<Conn>, Source, Stats) {
    while let Some(seqs) = plan.claim(batch) {
        let count = seqs.end - seqs.start;
        let ops = seqs.map(|seq| source.op(seq));
        if let Err(err) = conn.send_batch(ops, &mut stats).await {
            stats.failed_conns += 1;
            stats.note_error(|| err.to_string());
            return (None, source, stats);
        }
        // Ordering: Relaxed; the count is only displayed.
        plan.completed.fetch_add(count, Ordering::Relaxed);
    }
    (Some(conn), source, stats)
}

/// Shows a progress bar on stderr once the phase `started` has run for
/// [`PROGRESS_AFTER`], until `done` fires. indicatif draws nothing when stderr is not a
/// terminal.
async fn show_progress(plan: Arc<Plan>, started: Instant, done: CancellationToken) {
    tokio::select! {
        () = done.cancelled() => return,
        () = tokio::time::sleep(PROGRESS_AFTER) => {}
    }
    let (length, template) = match plan.deadline {
        Some(deadline) => {
            let millis = deadline.saturating_duration_since(started).as_millis();
            (
                u64::try_from(millis).unwrap_or(u64::MAX),
                "[{bar:40}] {msg}",
            )
        }
        None => (
            plan.total,
            "[{bar:40}] {human_pos}/{human_len} requests, eta {eta}",
        ),
    };
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(length).with_style(style.progress_chars("=> "));
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            () = done.cancelled() => break,
            _ = ticks.tick() => {}
        }
        // Ordering: Relaxed; the count is only displayed.
        let completed = plan.completed.load(Ordering::Relaxed);
        if plan.deadline.is_some() {
            let elapsed = started.elapsed();
            bar.set_position(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
            bar.set_message(format!(
                "{:.1}s, {completed} requests",
                elapsed.as_secs_f64()
            ));
        } else {
            bar.set_position(completed);
        }
    }
    bar.finish_and_clear();
}

/// What a Blink Store server says of itself after a run over the line protocol (keys,
/// bytes, hits, misses, evictions, expirations), read with [`crate::Client`]; `None` for
/// other protocols, or if it does not answer `INFO`.
pub fn server_summary(config: &BenchConfig) -> Option<String> {
    if config.protocol != Protocol::Line {
        return None;
    }
    let endpoint = match &config.target {
        Target::Tcp(addr) => blink_store::client::Endpoint::Tcp(addr.to_string()),
        Target::Unix(path) => blink_store::client::Endpoint::Unix(path.clone()),
        Target::Tls(tls) => blink_store::client::Endpoint::Tls(tls.clone()),
    };
    let mut client = blink_store::client::blocking::Client::connect(endpoint).ok()?;
    if let Some(password) = &config.password {
        let reply = client
            .request(&[b"AUTH ", password.as_slice()].concat())
            .ok()?;
        if reply != "OK" {
            return None;
        }
    }
    let info = client.info().ok()?;
    let field = |name: &str| {
        info.iter()
            .find(|(field, _)| field == name)
            .map_or("?", |(_, value)| value.as_str())
            .to_owned()
    };
    Some(format!(
        "server       keys {}  used {} B  hits {}  misses {}  evictions {}  expirations {}",
        field("keys"),
        field("used_bytes"),
        field("hits"),
        field("misses"),
        field("evictions"),
        field("expirations"),
    ))
}
