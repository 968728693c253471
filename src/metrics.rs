//! The Prometheus endpoint (`--metrics`): `GET /metrics` over HTTP/1.1, answered with
//! INFO's figures and the latency histograms in the OpenMetrics text format, gathered
//! when scraped. Nothing is counted for it on the request path: it reads the sharded
//! counters INFO reads ([`crate::store::stats`]), and sums their shards per scrape.
//!
//! It runs on the runtime that accepts clients and takes signals, never on an event
//! loop, so a scrape does not delay a request.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::command::memcache::Count;
use crate::command::ServerInfo;
use crate::protocol::info::{Persistence, Report};
use crate::store::Store;

/// The path Prometheus scrapes.
pub const PATH: &str = "/metrics";

/// What the endpoint answers with: OpenMetrics text, which Prometheus asks for first.
const CONTENT_TYPE_OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Scrapes served at once; connections beyond it are closed at once. A scraper keeps one
/// connection open; a few dozen covers several Prometheus replicas and a human with curl,
/// and a flood of connections cannot make the server hold a task for each.
const MAX_CONNECTIONS: usize = 32;

/// How long a connection may take to send a request's headers before it is closed, so an
/// idle or trickling client does not hold one of [`MAX_CONNECTIONS`] for ever.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every metric's name starts with this.
const PREFIX: &str = "blink";

/// Serves the endpoint on `listener` until `shutdown` fires.
///
/// # Errors
/// If the listener cannot be registered with the runtime.
pub async fn serve(
    listener: std::net::TcpListener,
    store: Arc<Store>,
    info: Arc<ServerInfo>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(Figures { store, info }));
    let registry = Arc::new(registry);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(cause = %err, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "metrics: too many connections; closing");
            continue;
        };
        let registry = registry.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let registry = registry.clone();
                async move { Ok::<_, Infallible>(answer(&request, &registry)) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                () = shutdown.cancelled() => {}
                served = connection => {
                    if let Err(err) = served {
                        tracing::debug!(%peer, cause = %err, "metrics: connection ended");
                    }
                }
            }
            drop(permit);
        });
    }
}

/// The response to one request: the figures for `GET /metrics`, 404 or 405 otherwise.
fn answer(request: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    if request.uri().path() != PATH {
        return reply(
            StatusCode::NOT_FOUND,
            format!("not found; the metrics are at {PATH}\n"),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served\n".into(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let mut text = String::with_capacity(16 * 1024);
    if let Err(err) = prometheus_client::encoding::text::encode(&mut text, registry) {
        tracing::error!(cause = %err, "metrics: could not encode");
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not encode the metrics\n".into(),
        );
    }
    let mut response = reply(StatusCode::OK, text);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE_OPENMETRICS),
    );
    response
}

/// The figures, gathered at each scrape.
struct Figures {
    /// The cache: keys, memory, hits, evictions.
    store: Arc<Store>,
    /// The server: connections, commands, traffic.
    info: Arc<ServerInfo>,
}

impl std::fmt::Debug for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Figures").finish_non_exhaustive()
    }
}

/// memcached's command counters, as the `command` label names them.
const MEMCACHE_COMMANDS: [(&str, Count); 5] = [
    ("get", Count::CmdGet),
    ("set", Count::CmdSet),
    ("flush", Count::CmdFlush),
    ("touch", Count::CmdTouch),
    ("meta", Count::CmdMeta),
];

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let report = crate::command::server::report(&self.store, &self.info);
        let mut out = Out(&mut encoder);
        encode_commands(&report, &mut out)?;
        self.encode_memcache(&mut out)?;
        self.encode_latencies(&mut out)?;
        encode_store(&report, &mut out)?;
        if let Some(snapshot) = &report.persistence {
            encode_snapshot(snapshot, &mut out)?;
        }
        encode_process(&report, &mut out)
    }
}

/// The commands by name and result, and the error replies by code.
fn encode_commands(report: &Report, out: &mut Out<'_, '_>) -> fmt::Result {
    let mut commands = out.family(
        "commands",
        "Commands by result: ok, error (ran and answered an error), rejected (refused before running)",
        None,
        MetricType::Counter,
    )?;
    for stat in &report.commands {
        for (result, n) in [
            ("ok", stat.calls.saturating_sub(stat.failed)),
            ("error", stat.failed),
            ("rejected", stat.rejected),
        ] {
            let labels = [("command", stat.name), ("result", result)];
            ConstCounter::new(n).encode(commands.encode_family(&labels)?)?;
        }
    }
    let mut errors = out.family(
        "error_replies",
        "Error replies by error code",
        None,
        MetricType::Counter,
    )?;
    for (code, n) in &report.errors {
        ConstCounter::new(*n).encode(errors.encode_family(&[("code", *code)])?)?;
    }
    Ok(())
}

/// What the cache holds and does: hits, misses, evictions, expirations, keys, memory.
fn encode_store(report: &Report, out: &mut Out<'_, '_>) -> fmt::Result {
    let bytes = Some(&Unit::Bytes);
    out.counter(
        "keyspace_hits",
        "Reads that found their key",
        None,
        report.hits,
    )?;
    out.counter(
        "keyspace_misses",
        "Reads that did not find their key",
        None,
        report.misses,
    )?;
    out.counter(
        "evicted_keys",
        "Entries evicted to stay under the memory limit",
        None,
        report.evicted,
    )?;
    out.counter(
        "expired_keys",
        "Entries removed because their time was up",
        None,
        report.expired,
    )?;
    out.gauge("keys", "Live keys", None, report.keys)?;
    out.gauge(
        "keys_expiring",
        "Live keys with an expiry",
        None,
        report.volatile_keys,
    )?;
    out.gauge(
        "memory_used",
        "Memory charged against the limit: entries and the map's structures",
        bytes,
        report.used_memory,
    )?;
    out.gauge(
        "memory_dataset",
        "Key and value bytes of live entries",
        bytes,
        report.usage_bytes,
    )?;
    out.gauge(
        "memory_rss",
        "Resident memory of the process, as the kernel counts it",
        bytes,
        report.rss_bytes,
    )?;
    out.gauge(
        "memory_limit",
        "The memory limit (--memory-limit)",
        bytes,
        report.max_bytes,
    )
}

/// The snapshot file's writes (`--snapshot`).
fn encode_snapshot(snapshot: &Persistence, out: &mut Out<'_, '_>) -> fmt::Result {
    let seconds = Some(&Unit::Seconds);
    out.gauge(
        "snapshot_last_success_timestamp",
        "Unix time of the last successful snapshot, or of the start",
        seconds,
        snapshot.last_save_secs,
    )?;
    out.gauge(
        "snapshot_last_failed",
        "1 if the last snapshot failed",
        None,
        u64::from(snapshot.last_failed),
    )?;
    out.gauge(
        "snapshot_in_progress",
        "1 while a snapshot is written",
        None,
        u64::from(snapshot.in_progress),
    )?;
    out.counter(
        "snapshot_saves",
        "Successful snapshots since start",
        None,
        snapshot.saves,
    )?;
    out.gauge(
        "snapshot_last_entries",
        "Entries the last successful snapshot wrote",
        None,
        snapshot.last_entries,
    )?;
    out.gauge(
        "snapshot_last_size",
        "Size of the last successful snapshot's file",
        Some(&Unit::Bytes),
        snapshot.last_bytes,
    )?;
    out.gauge(
        "snapshot_loaded_entries",
        "Entries loaded from the snapshot at start",
        None,
        snapshot.loaded_entries,
    )
}

/// The process: connections, traffic, CPU time, uptime and version.
fn encode_process(report: &Report, out: &mut Out<'_, '_>) -> fmt::Result {
    let bytes = Some(&Unit::Bytes);
    let seconds = Some(&Unit::Seconds);
    out.gauge(
        "connections",
        "Clients connected now",
        None,
        report.connected,
    )?;
    out.gauge(
        "connections_max",
        "The connection limit (--max-connections)",
        None,
        report.max_connections,
    )?;
    out.counter(
        "connections_accepted",
        "Connections accepted",
        None,
        report.accepted,
    )?;
    out.counter(
        "connections_rejected",
        "Connections refused at the connection limit",
        None,
        report.rejected_connections,
    )?;
    out.counter(
        "tls_handshake_failures",
        "TLS clients closed because their handshake failed or timed out",
        None,
        report.tls_handshake_failures,
    )?;
    out.counter(
        "net_input",
        "Bytes read from clients",
        bytes,
        report.net_input_bytes,
    )?;
    out.counter(
        "net_output",
        "Bytes written to clients",
        bytes,
        report.net_output_bytes,
    )?;
    out.counter(
        "reads",
        "Reads from clients that returned bytes",
        None,
        report.reads_processed,
    )?;
    out.counter(
        "writes",
        "Writes of replies to clients",
        None,
        report.writes_processed,
    )?;
    if let Some(cpu) = report.cpu {
        let mut family = out.family(
            "cpu",
            "CPU time the process has used, by mode",
            seconds,
            MetricType::Counter,
        )?;
        for (mode, time) in [("user", cpu.user), ("system", cpu.system)] {
            let labels = [("mode", mode)];
            ConstCounter::new(time.as_secs_f64()).encode(family.encode_family(&labels)?)?;
        }
    }
    out.gauge(
        "uptime",
        "Time since the server started",
        seconds,
        report.uptime_secs,
    )?;
    let mut build = out.family("build", "The server's version", None, MetricType::Info)?;
    build.encode_info(&[("version", env!("CARGO_PKG_VERSION"))])
}

impl Figures {
    /// memcached's command counters.
    fn encode_memcache(&self, out: &mut Out<'_, '_>) -> fmt::Result {
        let mut memcache = out.family(
            "memcache_commands",
            "memcached protocol commands: keys asked for by get, storage commands, flush_all, touches, me",
            None,
            MetricType::Counter,
        )?;
        for (name, count) in MEMCACHE_COMMANDS {
            let n = self.info.memcache.get(count);
            ConstCounter::new(n).encode(memcache.encode_family(&[("command", name)])?)?;
        }
        Ok(())
    }

    /// The latency histograms, one per command family seen.
    fn encode_latencies(&self, out: &mut Out<'_, '_>) -> fmt::Result {
        let mut family = out.family(
            "command_duration",
            "Time commands took to execute in the server, by command family",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for histogram in self.info.stats.latencies() {
            let buckets: Vec<(f64, u64)> = (histogram.buckets.iter())
                .map(|&(bound, n)| {
                    let bound = if bound == Duration::MAX {
                        f64::INFINITY
                    } else {
                        bound.as_secs_f64()
                    };
                    (bound, n)
                })
                .collect();
            let labels = [("family", histogram.family)];
            let mut metric = family.encode_family(&labels)?;
            metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                histogram.sum.as_secs_f64(),
                histogram.count,
                &buckets,
                None,
            )?;
        }
        Ok(())
    }
}

/// Shorthands over a scrape's encoder.
struct Out<'a, 'e>(&'a mut DescriptorEncoder<'e>);

impl<'e> Out<'_, 'e> {
    /// Starts a metric of `metric_type` with labels to follow.
    fn family<'s>(
        &'s mut self,
        name: &'s str,
        help: &str,
        unit: Option<&'s Unit>,
        metric_type: MetricType,
    ) -> Result<prometheus_client::encoding::MetricEncoder<'s>, fmt::Error> {
        self.0.encode_descriptor(name, help, unit, metric_type)
    }

    /// A counter without labels (`_total` is added to its name).
    fn counter(&mut self, name: &str, help: &str, unit: Option<&Unit>, value: u64) -> fmt::Result {
        self.single(name, help, unit, &ConstCounter::new(value))
    }

    /// A gauge without labels.
    fn gauge(&mut self, name: &str, help: &str, unit: Option<&Unit>, value: u64) -> fmt::Result {
        self.single(name, help, unit, &ConstGauge::new(value))
    }

    /// A metric without labels.
    fn single(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        metric: &impl EncodeMetric,
    ) -> fmt::Result {
        let encoder = self
            .0
            .encode_descriptor(name, help, unit, metric.metric_type())?;
        metric.encode(encoder)
    }
}
