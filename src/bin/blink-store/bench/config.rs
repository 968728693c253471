//! What one benchmark run does: the target, the protocol spoken, how many connections and
//! requests in flight, when to stop, and the shape of the workload.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

/// The TCP address driven when no target is given: where `blink-store serve` listens.
pub const DEFAULT_TARGET: &str = crate::flags::DEFAULT_TCP;

/// Requests sent when neither a request count nor a duration is given: enough for stable
/// percentiles, few enough to finish in about a second on loopback.
pub const DEFAULT_REQUESTS: u64 = 100_000;

/// Distinct keys by default: 100 000 keys of 32-byte values fit the server's default
/// 10 MiB limit, so a preloaded run sees hits.
pub const DEFAULT_KEYS: u64 = 100_000;

/// The most distinct keys: keys carry a 12-digit index.
pub const MAX_KEYS: u64 = 999_999_999_999;

/// Default value size, in bytes: a small cached object, as redis-benchmark's `-d 3` and
/// memtier's 32 are.
pub const DEFAULT_VALUE_BYTES: usize = 32;

/// The lengths of the values a run SETs: one size, or every length from `min` to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSize {
    /// The shortest value, at least 1 byte.
    min: usize,
    /// The longest value, at least `min`; equal to it for one size.
    max: usize,
}

impl ValueSize {
    /// Every value `bytes` long (at least 1).
    pub fn fixed(bytes: usize) -> Self {
        let bytes = bytes.max(1);
        Self {
            min: bytes,
            max: bytes,
        }
    }

    /// Values from `min` to `max` bytes long, both included; `None` unless
    /// `1 <= min <= max`.
    pub fn range(min: usize, max: usize) -> Option<Self> {
        (1..=max).contains(&min).then_some(Self { min, max })
    }

    /// The shortest value.
    pub fn min(self) -> usize {
        self.min
    }

    /// The longest value.
    pub fn max(self) -> usize {
        self.max
    }

    /// Whether every value has the same length.
    pub fn is_fixed(self) -> bool {
        self.min == self.max
    }
}

/// `32` for one size, `16..16384` for a range.
impl fmt::Display for ValueSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_fixed() {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

/// Default Zipf exponent, YCSB's 0.99: a few hot keys and a long tail.
pub const DEFAULT_ZIPF_EXPONENT: f64 = 0.99;

/// How long a connection waits for the next reply byte before it is declared dead, so a
/// server that swallows requests cannot hang the run.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
    /// A TCP address of a TLS listener.
    Tls(blink_store::client::tls::TlsEndpoint),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(addr) => write!(f, "tcp {addr}"),
            Target::Tls(tls) => write!(f, "tls {}", tls.addr),
            Target::Unix(path) => write!(f, "unix {}", path.display()),
        }
    }
}

/// The wire protocol spoken to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Blink Store's line protocol.
    Line,
    /// Redis's RESP2.
    Resp,
    /// memcached's text protocol.
    Memcache,
    /// Line-protocol requests sent to `blink-store echo`, each expected back verbatim.
    Echo,
}

impl Protocol {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Line => "line",
            Protocol::Resp => "resp",
            Protocol::Memcache => "memcache",
            Protocol::Echo => "echo",
        }
    }
}

/// When the timed run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// After this many requests in total, over all connections.
    Requests(u64),
    /// When this much time has passed; batches in flight then still complete.
    Duration(Duration),
}

/// How often GETs and SETs are chosen, as weights: 9:1 is nine GETs per SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Weight of GET.
    pub gets: u32,
    /// Weight of SET.
    pub sets: u32,
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.gets, self.sets)
    }
}

/// Which keys requests touch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDist {
    /// Every key equally often.
    Uniform,
    /// Key `i` (from 0) about `1 / (i + 1)^exponent` as often as key 0.
    Zipf {
        /// The skew: 0 is uniform, around 1 is typical of caches.
        exponent: f64,
    },
}

impl fmt::Display for KeyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Zipf { exponent } => write!(f, "zipf({exponent})"),
        }
    }
}

/// Everything one run needs; set through the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    /// The server to drive.
    pub target: Target,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// Connections opened, each with its own task.
    pub conns: usize,
    /// Requests in flight per connection, written as one batch.
    pub pipeline: usize,
    /// When the timed run ends.
    pub limit: Limit,
    /// GET and SET weights.
    pub ratio: Ratio,
    /// Distinct keys, numbered from 0.
    pub keys: u64,
    /// Which keys are touched how often.
    pub key_dist: KeyDist,
    /// Bytes per value: one size, or a range each SET draws from.
    pub value_size: ValueSize,
    /// SET every key once, unmeasured, before the timed run, so GETs hit.
    pub preload: bool,
    /// Client runtime threads; 1 runs everything on the calling thread.
    pub threads: usize,
    /// Seeds the per-connection generators, so runs repeat exactly.
    pub seed: u64,
    /// How long to wait for a reply before giving up on the connection.
    pub reply_timeout: Duration,
    /// The password each connection gives first (AUTH), for a server that requires one.
    pub password: Option<Vec<u8>>,
}

impl BenchConfig {
    /// The defaults, aimed at `target`: line protocol, one connection, no pipelining,
    /// 100 000 requests at 9 GETs per SET over 100 000 uniform keys of 32-byte values.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            protocol: Protocol::Line,
            conns: 1,
            pipeline: 1,
            limit: Limit::Requests(DEFAULT_REQUESTS),
            ratio: Ratio { gets: 9, sets: 1 },
            keys: DEFAULT_KEYS,
            key_dist: KeyDist::Uniform,
            value_size: ValueSize::fixed(DEFAULT_VALUE_BYTES),
            preload: false,
            threads: 1,
            seed: 0,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            password: None,
        }
    }

    /// Sets the protocol.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets the number of connections (at least 1).
    pub fn conns(mut self, conns: usize) -> Self {
        self.conns = conns.max(1);
        self
    }

    /// Sets the requests in flight per connection (at least 1).
    pub fn pipeline(mut self, pipeline: usize) -> Self {
        self.pipeline = pipeline.max(1);
        self
    }

    /// Sets when the run ends.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = limit;
        self
    }

    /// Sets the GET:SET weights.
    pub fn ratio(mut self, ratio: Ratio) -> Self {
        self.ratio = ratio;
        self
    }

    /// Sets the number of distinct keys (1 to [`MAX_KEYS`]).
    pub fn keys(mut self, keys: u64) -> Self {
        self.keys = keys.clamp(1, MAX_KEYS);
        self
    }

    /// Sets the key distribution.
    pub fn key_dist(mut self, key_dist: KeyDist) -> Self {
        self.key_dist = key_dist;
        self
    }

    /// Sets the value sizes.
    pub fn value_size(mut self, size: ValueSize) -> Self {
        self.value_size = size;
        self
    }

    /// Sets whether every key is SET once before the timed run.
    pub fn preload(mut self, preload: bool) -> Self {
        self.preload = preload;
        self
    }

    /// Sets the client runtime threads (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Sets the seed of the request generators.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how long to wait for a reply before giving up on a connection.
    pub fn reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// Sets the password each connection gives first; `None` for a server without one.
    pub fn password(mut self, password: Option<Vec<u8>>) -> Self {
        self.password = password;
        self
    }
}
