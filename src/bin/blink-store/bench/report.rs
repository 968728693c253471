//! What a run measured: counters and a latency histogram per connection, merged into one
//! report printed as a short table or as one JSON object.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::config::{BenchConfig, ValueSize};
use super::server_cpu::CpuTime;
use super::wire::Outcome;
use super::workload::OpKind;

/// The slowest latency the histogram tells apart, in nanoseconds: a minute. Slower
/// replies are recorded as a minute.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// Significant decimal digits kept by the histogram: 0.1% error, as HdrHistogram advises.
const SIGNIFICANT_DIGITS: u8 = 3;

/// The histogram could not be built or merged.
#[derive(Debug, thiserror::Error)]
#[error("latency histogram: {0}")]
pub struct HistogramError(String);

/// Counters and latencies gathered by one connection, or merged from several.
#[derive(Debug, Clone)]
pub struct Stats {
    /// GETs sent.
    pub gets: u64,
    /// SETs sent.
    pub sets: u64,
    /// GETs answered with the key's value.
    pub hits: u64,
    /// GETs answered with "no such key".
    pub misses: u64,
    /// Requests answered wrongly, or never answered because their connection failed.
    pub errors: u64,
    /// Connections that failed during the run.
    pub failed_conns: u64,
    /// The first thing that went wrong, to tell the user.
    pub first_error: Option<String>,
    /// Latency of every rightly answered request, in nanoseconds.
    pub latency_ns: Histogram<u64>,
}

impl Stats {
    /// Empty counters and histogram.
    ///
    /// # Errors
    /// [`HistogramError`] if the histogram's bounds are refused, which they never are.
    pub fn new() -> Result<Self, HistogramError> {
        let latency_ns = Histogram::new_with_bounds(1, MAX_LATENCY_NS, SIGNIFICANT_DIGITS)
            .map_err(|err| HistogramError(err.to_string()))?;
        Ok(Self {
            gets: 0,
            sets: 0,
            hits: 0,
            misses: 0,
            errors: 0,
            failed_conns: 0,
            first_error: None,
            latency_ns,
        })
    }

    /// Counts a request as sent.
    pub fn sent(&mut self, kind: OpKind) {
        match kind {
            OpKind::Get => self.gets += 1,
            OpKind::Set { .. } => self.sets += 1,
        }
    }

    /// Counts a reply and, when it is right, its latency.
    pub fn answered(&mut self, outcome: Outcome, latency: Duration) {
        match outcome {
            Outcome::Hit => self.hits += 1,
            Outcome::Miss => self.misses += 1,
            Outcome::Done => {}
            Outcome::Wrong => {
                self.errors += 1;
                return;
            }
        }
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_ns.saturating_record(nanos.max(1));
    }

    /// Keeps `message` if nothing went wrong before.
    pub fn note_error(&mut self, message: impl FnOnce() -> String) {
        if self.first_error.is_none() {
            self.first_error = Some(message());
        }
    }

    /// Adds `other`'s counts and latencies to these.
    ///
    /// # Errors
    /// [`HistogramError`] if the histograms' bounds differ, which they never do.
    pub fn merge(&mut self, other: &Stats) -> Result<(), HistogramError> {
        self.gets += other.gets;
        self.sets += other.sets;
        self.hits += other.hits;
        self.misses += other.misses;
        self.errors += other.errors;
        self.failed_conns += other.failed_conns;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.latency_ns
            .add(&other.latency_ns)
            .map_err(|err| HistogramError(err.to_string()))
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Slowest.
    pub max_us: f64,
}

impl Latency {
    fn of(histogram: &Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        Self {
            p50_us: us(histogram.value_at_quantile(0.5)),
            p90_us: us(histogram.value_at_quantile(0.9)),
            p99_us: us(histogram.value_at_quantile(0.99)),
            p999_us: us(histogram.value_at_quantile(0.999)),
            max_us: us(histogram.max()),
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was run, against what.
    pub config: BenchConfig,
    /// Wall time of the timed run, from the first write to the last reply.
    pub elapsed: Duration,
    /// Everything counted, over all connections.
    pub stats: Stats,
    /// The server's user and system CPU time during the timed run, as the server counts
    /// it; `None` when it does not say (the echo server).
    pub server_cpu: Option<CpuTime>,
}

impl Report {
    /// Requests sent in the timed run.
    pub fn requests(&self) -> u64 {
        self.stats.gets + self.stats.sets
    }

    /// Requests per second of wall time.
    pub fn ops_per_sec(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.requests() as f64 / seconds
        } else {
            0.0
        }
    }

    /// The server's CPU time per request of the timed run, in microseconds: what each
    /// request cost the server, whatever the client's own speed. `None` without the
    /// server's figure, or without requests.
    pub fn server_cpu_us_per_request(&self) -> Option<f64> {
        self.per_request(CpuTime::total)
    }

    /// The user-space part of [`Report::server_cpu_us_per_request`].
    pub fn server_user_us_per_request(&self) -> Option<f64> {
        self.per_request(|cpu| cpu.user)
    }

    /// The kernel's part of [`Report::server_cpu_us_per_request`]: where the system calls,
    /// and the network stack beneath them, show.
    pub fn server_sys_us_per_request(&self) -> Option<f64> {
        self.per_request(|cpu| cpu.system)
    }

    /// One part of the server's CPU time, in microseconds per request.
    fn per_request(&self, part: impl Fn(CpuTime) -> Duration) -> Option<f64> {
        let requests = self.requests();
        let cpu = self.server_cpu.filter(|_| requests > 0)?;
        Some(part(cpu).as_secs_f64() * 1e6 / requests as f64)
    }

    /// The latency percentiles.
    pub fn latency(&self) -> Latency {
        Latency::of(&self.stats.latency_ns)
    }

    /// What went wrong, if anything: how many requests and connections failed, and the
    /// first failure.
    pub fn failure(&self) -> Option<String> {
        let stats = &self.stats;
        if stats.errors == 0 && stats.failed_conns == 0 {
            return None;
        }
        let first = stats.first_error.as_deref().unwrap_or("unknown");
        let hint = if stats.errors == self.requests() && stats.failed_conns == 0 {
            " (is --protocol right for this server?)"
        } else {
            ""
        };
        Some(format!(
            "{} of {} requests got a wrong reply or none{hint}, and {} of {} connections failed; first: {first}",
            stats.errors,
            self.requests(),
            stats.failed_conns,
            self.config.conns,
        ))
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let config = &self.config;
        let stats = &self.stats;
        let latency = self.latency();
        serde_json::json!({
            "protocol": config.protocol.name(),
            "target": config.target.to_string(),
            "conns": config.conns,
            "pipeline": config.pipeline,
            "keys": config.keys,
            "key_dist": config.key_dist.to_string(),
            "ratio": config.ratio.to_string(),
            "value_size": value_size_json(config.value_size),
            "requests": self.requests(),
            "seconds": self.elapsed.as_secs_f64(),
            "ops_per_sec": self.ops_per_sec(),
            "gets": stats.gets,
            "sets": stats.sets,
            "hits": stats.hits,
            "misses": stats.misses,
            "errors": stats.errors,
            "failed_conns": stats.failed_conns,
            "first_error": stats.first_error,
            "latency_us": {
                "p50": latency.p50_us,
                "p90": latency.p90_us,
                "p99": latency.p99_us,
                "p999": latency.p999_us,
                "max": latency.max_us,
            },
            "server_cpu_us_per_request": self.server_cpu_us_per_request(),
            "server_user_us_per_request": self.server_user_us_per_request(),
            "server_sys_us_per_request": self.server_sys_us_per_request(),
        })
    }
}

/// One size as a number of bytes, as it always was; a range as `"16..16384"`, which no
/// number can stand for.
fn value_size_json(size: ValueSize) -> serde_json::Value {
    if size.is_fixed() {
        size.min().into()
    } else {
        size.to_string().into()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        let stats = &self.stats;
        let latency = self.latency();
        writeln!(f, "protocol     {}", config.protocol.name())?;
        writeln!(f, "target       {}", config.target)?;
        writeln!(f, "conns        {}", config.conns)?;
        writeln!(f, "pipeline     {}", config.pipeline)?;
        writeln!(
            f,
            "workload     {} keys ({}), GET:SET {}, {}-byte values",
            config.keys, config.key_dist, config.ratio, config.value_size
        )?;
        writeln!(f, "requests     {}", self.requests())?;
        writeln!(f, "seconds      {:.3}", self.elapsed.as_secs_f64())?;
        writeln!(f, "ops/s        {:.0}", self.ops_per_sec())?;
        writeln!(
            f,
            "gets         {} (hits {}, misses {})",
            stats.gets, stats.hits, stats.misses
        )?;
        writeln!(f, "sets         {}", stats.sets)?;
        writeln!(
            f,
            "errors       {} (failed connections {})",
            stats.errors, stats.failed_conns
        )?;
        writeln!(
            f,
            "latency µs   p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            latency.p50_us, latency.p90_us, latency.p99_us, latency.p999_us, latency.max_us
        )?;
        match (
            self.server_cpu_us_per_request(),
            self.server_user_us_per_request(),
            self.server_sys_us_per_request(),
        ) {
            (Some(us), Some(user), Some(sys)) => writeln!(
                f,
                "server CPU   {us:.2} µs/request (user {user:.2}, system {sys:.2})"
            ),
            _ => writeln!(f, "server CPU   n/a"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::config::Target;

    #[test]
    fn merged_stats_make_a_report() {
        let mut a = Stats::new().unwrap();
        let mut b = Stats::new().unwrap();
        for micros in 1..=100 {
            a.sent(OpKind::Get);
            a.answered(Outcome::Hit, Duration::from_micros(micros));
        }
        b.sent(OpKind::Set { value_len: 32 });
        b.answered(Outcome::Done, Duration::from_millis(2));
        b.sent(OpKind::Get);
        b.answered(Outcome::Wrong, Duration::from_micros(1));
        b.note_error(|| "first".into());
        b.note_error(|| "second".into());
        a.merge(&b).unwrap();
        let report = Report {
            config: BenchConfig::new(Target::Unix("s".into())).conns(2),
            elapsed: Duration::from_millis(100),
            stats: a,
            server_cpu: Some(CpuTime {
                user: Duration::from_micros(15),
                system: Duration::from_micros(36),
            }),
        };
        assert_eq!(report.requests(), 102);
        assert!((report.ops_per_sec() - 1020.0).abs() < 1e-6);
        let latency = report.latency();
        assert!((latency.p50_us - 51.0).abs() < 0.1, "{latency:?}");
        assert!((latency.max_us - 2000.0).abs() < 2.0, "{latency:?}");
        let json = report.to_json();
        assert_eq!(json["gets"], 101);
        assert_eq!(json["errors"], 1);
        assert_eq!(json["first_error"], "first");
        assert!(json["latency_us"]["p999"].as_f64().unwrap() <= 2002.0);
        let failure = report.failure().unwrap();
        assert!(failure.contains("1 of 102 requests"), "{failure}");
        assert!(report.to_string().contains("hits 100, misses 0"));
        assert_eq!(json["value_size"], 32);
        assert!((json["server_cpu_us_per_request"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        assert!((json["server_user_us_per_request"].as_f64().unwrap() - 15.0 / 102.0).abs() < 1e-9);
        assert!((json["server_sys_us_per_request"].as_f64().unwrap() - 36.0 / 102.0).abs() < 1e-9);
        let text = report.to_string();
        assert!(
            text.contains("server CPU   0.50 µs/request (user 0.15, system 0.35)"),
            "{text}"
        );
    }

    #[test]
    fn a_value_size_range_is_reported_as_written() {
        let sizes = ValueSize::range(16, 16384).unwrap();
        let report = Report {
            config: BenchConfig::new(Target::Unix("s".into())).value_size(sizes),
            elapsed: Duration::from_millis(100),
            stats: Stats::new().unwrap(),
            server_cpu: None,
        };
        assert_eq!(report.to_json()["value_size"], "16..16384");
        assert!(report.to_string().contains("16..16384-byte values"));
        assert!(report.to_json()["server_cpu_us_per_request"].is_null());
        assert!(report.to_json()["server_sys_us_per_request"].is_null());
        assert!(report.to_string().contains("server CPU   n/a"));
    }
}
