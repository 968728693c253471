//! The flags of `blink-store bench`, their parsers, and the [`BenchConfig`] they describe.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::flags::parse_duration;

use super::config::{
    BenchConfig, KeyDist, Limit, Protocol, Ratio, Target, ValueSize, DEFAULT_KEYS,
    DEFAULT_REQUESTS, DEFAULT_ZIPF_EXPONENT, MAX_KEYS,
};

/// Examples shown after `blink-store bench --help`.
pub const EXAMPLES: &str = "\
Examples:
  blink-store bench --conns 4 --pipeline 16 --preload
      Fill every key, then 100 000 requests, 9 GETs per SET, 64 in flight.
  blink-store bench --duration 10s --key-dist zipf --ratio 1:0 --json
      Ten seconds of skewed GETs only; one JSON object on stdout.
  blink-store bench --protocol resp --tcp 127.0.0.1:6379 --preload
      The same workload against Redis (memcached: --protocol memcache).
  blink-store bench --ratio 0:1 --keys 5000000 --value-size 16..16KiB --duration 15s
      Write churn with values from 16 bytes to 16 KiB, as many of each doubling.
  taskset -c 1 blink-store bench --protocol echo --tcp 127.0.0.1:8766
      The loopback floor: `blink-store echo` sends every request straight back.";

/// Which keys requests touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyDistArg {
    /// Every key equally often.
    Uniform,
    /// A few hot keys and a long tail (see --zipf-exponent).
    Zipf,
}

/// Flags of `blink-store bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// TCP address of the server [default: 127.0.0.1:8765 when --unix is not given]
    #[arg(long, value_name = "ADDR", conflicts_with = "unix")]
    pub tcp: Option<SocketAddr>,

    /// Unix socket path of the server
    #[arg(long, value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// Protocol the server speaks
    #[arg(long, value_enum, default_value_t = Protocol::Line)]
    pub protocol: Protocol,

    /// Connections, each with its own task
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_count)]
    pub conns: usize,

    /// Requests in flight per connection, written as one batch
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_count)]
    pub pipeline: usize,

    /// Requests to send in total [default: 100000 when --duration is not given]
    #[arg(long, value_name = "N", conflicts_with = "duration", value_parser = parse_count_u64)]
    pub requests: Option<u64>,

    /// Send requests for this long instead, e.g. 10s, 500ms, 2m (plain numbers are seconds)
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// GET:SET weights: 9:1 is nine GETs per SET, 1:0 only GETs, 0:1 only SETs
    #[arg(long, value_name = "GET:SET", default_value = "9:1", value_parser = parse_ratio)]
    pub ratio: Ratio,

    /// Distinct keys; every key is 16 bytes, `key:` and 12 digits
    #[arg(long, value_name = "N", default_value_t = DEFAULT_KEYS, value_parser = parse_keys)]
    pub keys: u64,

    /// Which keys requests touch
    #[arg(long, value_enum, default_value_t = KeyDistArg::Uniform)]
    pub key_dist: KeyDistArg,

    /// Skew of --key-dist zipf: 0 is uniform, 0.99 is YCSB's
    #[arg(long, value_name = "S", default_value_t = DEFAULT_ZIPF_EXPONENT, value_parser = parse_exponent)]
    pub zipf_exponent: f64,

    /// Value size: bytes, or with a suffix (1KiB); or a range MIN..MAX (16..16KiB) from
    /// which each SET draws its length log-uniformly (every doubling of the length equally
    /// likely, so small and large values both matter, as in real caches), repeatable by --seed
    #[arg(long, value_name = "SIZE|MIN..MAX", default_value = "32", value_parser = parse_value_size)]
    pub value_size: ValueSize,

    /// Before the timed run, SET every key once (pipelined, not measured)
    #[arg(long)]
    pub preload: bool,

    /// Client runtime threads; 1 runs every connection on one thread (pin it with taskset)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_count)]
    pub threads: usize,

    /// Seed of the request generators; the same seed sends the same requests
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Give up on a connection after waiting this long for a reply
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Print one JSON object instead of the table
    #[arg(long)]
    pub json: bool,

    /// The password each connection gives first, when the server requires one.
    #[command(flatten)]
    pub password: crate::flags::PasswordArgs,

    /// How to speak TLS, if at all.
    #[command(flatten)]
    pub tls: crate::tls_client::TlsClientArgs,
}

impl BenchArgs {
    /// The run these flags describe.
    ///
    /// # Errors
    /// If the password file cannot be read, the password is empty, or the TLS flags do
    /// not make a configuration.
    pub fn config(&self) -> Result<BenchConfig, String> {
        let target = match (&self.unix, self.tcp) {
            (Some(_), _) if self.tls.tls => {
                return Err("--tls is for TCP servers, not Unix sockets".into())
            }
            (Some(path), _) => Target::Unix(path.clone()),
            (None, addr) => {
                let addr = addr.unwrap_or_else(default_tcp);
                match self.tls.for_host(&addr.ip().to_string())? {
                    None => Target::Tcp(addr),
                    Some(tls) => Target::Tls(blink_store::client::tls::TlsEndpoint {
                        addr: addr.to_string(),
                        server_name: tls.server_name,
                        config: tls.config,
                    }),
                }
            }
        };
        let limit = match (self.duration, self.requests) {
            (Some(duration), _) => Limit::Duration(duration),
            (None, requests) => Limit::Requests(requests.unwrap_or(DEFAULT_REQUESTS)),
        };
        let key_dist = match self.key_dist {
            KeyDistArg::Uniform => KeyDist::Uniform,
            KeyDistArg::Zipf => KeyDist::Zipf {
                exponent: self.zipf_exponent,
            },
        };
        let config = BenchConfig::new(target)
            .protocol(self.protocol)
            .conns(self.conns)
            .pipeline(self.pipeline)
            .limit(limit)
            .ratio(self.ratio)
            .keys(self.keys)
            .key_dist(key_dist)
            .value_size(self.value_size)
            .preload(self.preload)
            .threads(self.threads)
            .seed(self.seed)
            .reply_timeout(self.timeout);
        Ok(config.password(self.password.read()?))
    }
}

fn default_tcp() -> SocketAddr {
    // The constant is a valid address literal; the fallback is the same address.
    super::config::DEFAULT_TARGET
        .parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8765)))
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be greater than zero".into()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

fn parse_count_u64(text: &str) -> Result<u64, String> {
    parse_count(text).map(|n| n as u64)
}

fn parse_keys(text: &str) -> Result<u64, String> {
    match parse_count_u64(text)? {
        n @ 1..=MAX_KEYS => Ok(n),
        _ => Err(format!("must be at most {MAX_KEYS}")),
    }
}

/// Parses one size (`32`, `1KiB`) or a range of them (`16..16KiB`), smallest first.
fn parse_value_size(text: &str) -> Result<ValueSize, String> {
    let bytes = |text: &str| {
        let bytes = crate::flags::parse_size(text)?;
        usize::try_from(bytes).map_err(|err| err.to_string())
    };
    let Some((min, max)) = text.split_once("..") else {
        return bytes(text).map(ValueSize::fixed);
    };
    let (min, max) = (bytes(min)?, bytes(max)?);
    ValueSize::range(min, max)
        .ok_or_else(|| format!("'{text}': MIN must not be larger than MAX in MIN..MAX"))
}

fn parse_exponent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        Ok(_) => Err("must be a number of 0 or more".into()),
        Err(err) => Err(err.to_string()),
    }
}

/// Parses `GET:SET` weights such as `9:1`; both zero is refused.
fn parse_ratio(text: &str) -> Result<Ratio, String> {
    let usage = || format!("'{text}' is not GET:SET weights like 9:1");
    let (gets, sets) = text.split_once(':').ok_or_else(usage)?;
    let gets = gets.trim().parse().map_err(|_| usage())?;
    let sets = sets.trim().parse().map_err(|_| usage())?;
    match (gets, sets) {
        (0, 0) => Err("GET and SET weights cannot both be zero".into()),
        (gets, sets) if u64::from(gets) + u64::from(sets) > u64::from(u32::MAX) => {
            Err("weights too large".into())
        }
        (gets, sets) => Ok(Ratio { gets, sets }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn bench(args: &[&str]) -> Result<BenchConfig, clap::Error> {
        let argv = ["blink-store", "bench"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Bench(args)) => Ok(args.config().unwrap()),
            other => panic!("expected bench, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = bench(&[]).unwrap();
        assert_eq!(config, BenchConfig::new(Target::Tcp(default_tcp())));
        assert_eq!(config.limit, Limit::Requests(100_000));
        assert_eq!(config.ratio, Ratio { gets: 9, sets: 1 });
        assert_eq!(config.value_size, ValueSize::fixed(32));
    }

    #[test]
    fn flags_reach_the_config() {
        let config = bench(&[
            "--unix",
            "/tmp/b.sock",
            "--protocol",
            "resp",
            "--conns",
            "4",
            "--pipeline",
            "8",
            "--duration",
            "1.5s",
            "--ratio",
            "1:0",
            "--key-dist",
            "zipf",
            "--zipf-exponent",
            "1.2",
            "--value-size",
            "1KiB",
            "--preload",
            "--threads",
            "2",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!(config.target, Target::Unix("/tmp/b.sock".into()));
        assert_eq!(config.protocol, Protocol::Resp);
        assert_eq!((config.conns, config.pipeline, config.threads), (4, 8, 2));
        assert_eq!(config.limit, Limit::Duration(Duration::from_millis(1500)));
        assert_eq!(config.key_dist, KeyDist::Zipf { exponent: 1.2 });
        assert_eq!(
            (config.value_size, config.seed),
            (ValueSize::fixed(1024), 7)
        );
        assert!(config.preload);
    }

    #[test]
    fn bad_flags_are_refused() {
        for args in [
            &["--requests", "10", "--duration", "1s"][..],
            &["--tcp", "127.0.0.1:1", "--unix", "/tmp/x"],
            &["--ratio", "0:0"],
            &["--ratio", "nine"],
            &["--conns", "0"],
            &["--duration", "0s"],
            &["--duration", "5 parsecs"],
            &["--zipf-exponent", "-1"],
            &["--keys", "1000000000000"],
            &["--protocol", "http"],
            &["--value-size", "10..5"],
        ] {
            assert!(bench(args).is_err(), "{args:?} accepted");
        }
    }

    #[test]
    fn value_sizes() {
        let range = |min, max| ValueSize::range(min, max).unwrap();
        let table: &[(&str, Option<ValueSize>)] = &[
            ("32", Some(ValueSize::fixed(32))),
            ("1KiB", Some(ValueSize::fixed(1024))),
            ("16..16KiB", Some(range(16, 16 * 1024))),
            ("1..2", Some(range(1, 2))),
            ("5..5", Some(ValueSize::fixed(5))),
            (" 1k .. 2k ", Some(range(1000, 2000))),
            ("10..5", None),
            ("..", None),
            ("..5", None),
            ("5..", None),
            ("a..b", None),
            ("0..5", None),
            ("1..2..3", None),
            ("1...2", None),
            ("0", None),
            ("", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_value_size(text).ok(), *expected, "{text:?}");
        }
        assert_eq!(range(16, 16 * 1024).to_string(), "16..16384");
        assert_eq!(ValueSize::fixed(5).to_string(), "5");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("").is_err());
    }
}
