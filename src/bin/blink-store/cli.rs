//! The command line: subcommands, flags, their environment variables and defaults, and
//! the parsing of sizes like `64MiB`. Every flag of `serve` can come from `BLINK_*`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::bench::args::{BenchArgs, EXAMPLES as BENCH_EXAMPLES};
use crate::flags::{
    parse_duration, parse_size, read_password, TcpAddr, DEFAULT_HOST, DEFAULT_PORT,
};
use blink_store::protocol::text::DEFAULT_MAX_KEY_LEN;
use blink_store::server::DEFAULT_BUSY_POLLS;
use blink_store::store::entry::MAX_KEY_LEN;
use blink_store::store::evict::{EvictionPolicy, DEFAULT_SAMPLES, MAX_SAMPLES};
use blink_store::store::StoreConfig;
use blink_store::tls::TlsFiles;

/// Default memory limit: 10 MiB, small enough for a sidecar, as the seed had it.
pub const DEFAULT_MEMORY_LIMIT: &str = "10MiB";

/// Default connection limit, memcached's.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

const EXAMPLES: &str = "\
Examples:
  blink-store serve
      Serve on 127.0.0.1:8765 with a 10 MiB memory limit.
  blink-store serve --tcp 0.0.0.0:8765 --requirepass-file /etc/blink/password --unix /tmp/blink.sock
      Serve every interface, to clients that give the password, and a Unix socket at once.
  blink-store serve --resp 127.0.0.1:6379
      Stand in for a Redis cache: RESP only, on Redis's port.
  blink-store serve --memcache 127.0.0.1:11211
      Serve memcached clients too, on memcached's port, from the same store.
  BLINK_MEMORY_LIMIT=1G BLINK_LOG_FORMAT=json blink-store serve
      Configure through the environment, as a container would.
  printf 'SET user alice\\nGET user\\n' | nc -N 127.0.0.1 8765
      Talk to it: replies are OK and VALUE YWxpY2U= (base64 of alice).";

/// Blink Store: an in-memory key-value cache over TCP and Unix sockets.
#[derive(Debug, Parser)]
#[command(name = "blink-store", version, about, after_help = EXAMPLES)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The flags of `serve`, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cache server (the default).
    #[command(after_help = EXAMPLES)]
    Serve(Box<ServeArgs>),
    /// Load a server (Blink Store, Redis or memcached) and report throughput and latency.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Run a server that writes every line back: the latency floor of the sockets alone.
    Echo(EchoArgs),
    /// Check that a server answers PING (exit 0) or not (exit 1), as a container
    /// health check: same address flags and environment as `serve`.
    Healthcheck(crate::healthcheck::HealthcheckArgs),
    /// Talk to a server: run one command (`cli GET user`), or prompt for commands.
    #[command(after_help = CLI_EXAMPLES, disable_help_flag = true)]
    Cli(crate::client_cli::CliArgs),
}

const CLI_EXAMPLES: &str = "\
Examples:
  blink-store cli SET user alice
      Prints OK.
  blink-store cli GET user
      Prints alice (the value decoded; --raw prints VALUE YWxpY2U=).
  blink-store cli --unix /tmp/blink.sock
      Prompts for commands, with line editing and history.
  printf 'SET a 1\\nGET a\\n' | blink-store cli
      Runs one command per line of input.";

/// Flags of `blink-store echo`.
#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// TCP address to listen on, HOST:PORT [default: 127.0.0.1:8766 when --unix is not given either]
    #[arg(long, value_name = "ADDR")]
    pub tcp: Option<TcpAddr>,

    /// Unix socket path to listen on (alone or together with --tcp)
    #[arg(long, value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// Event loops serving connections, each on its own thread [default: one per CPU but
    /// one, at least one]
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub workers: Option<usize>,

    /// One thread per connection with blocking sockets and no async runtime: the floor
    /// of the sockets alone
    #[arg(long, conflicts_with = "workers")]
    pub blocking: bool,

    /// One thread running a hand-written epoll loop, connections as plain state machines
    /// and no async runtime, as Redis's loop is shaped
    #[arg(long, conflicts_with_all = ["workers", "blocking"])]
    pub epoll: bool,
}

impl EchoArgs {
    /// The TCP address to serve: the flag, or the default when no listener was asked for.
    pub fn tcp_addr(&self) -> Option<TcpAddr> {
        match (&self.tcp, &self.unix) {
            (Some(addr), _) => Some(addr.clone()),
            (None, Some(_)) => None,
            // The constant is a valid address literal.
            (None, None) => crate::echo::DEFAULT_ECHO_TCP.parse().ok(),
        }
    }
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Which sampled entry is evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// Lowest estimated access frequency (TinyLFU's sketch), least recent among equals.
    Tinylfu,
    /// Least recently used, as Redis's allkeys-lru.
    Lru,
}

/// The policy as `--eviction-policy` spells it.
impl std::fmt::Display for PolicyArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyArg::Tinylfu => "tinylfu",
            PolicyArg::Lru => "lru",
        })
    }
}

impl From<PolicyArg> for EvictionPolicy {
    fn from(arg: PolicyArg) -> Self {
        match arg {
            PolicyArg::Tinylfu => EvictionPolicy::TinyLfu,
            PolicyArg::Lru => EvictionPolicy::Lru,
        }
    }
}

/// Flags of `blink-store serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// TCP address to listen on, HOST:PORT; a host name is resolved and each of its
    /// addresses bound [default: 127.0.0.1:8765 when no other listener is given]
    #[arg(long, env = "BLINK_TCP", value_name = "ADDR")]
    pub tcp: Option<TcpAddr>,

    /// Unix socket path to listen on (alone or together with --tcp)
    #[arg(long, env = "BLINK_UNIX", value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// TCP address, HOST:PORT, of a listener that speaks only RESP, as a Redis server's
    /// port does (alone or together with the others)
    #[arg(long, env = "BLINK_RESP", value_name = "ADDR")]
    pub resp: Option<TcpAddr>,

    /// Unix socket path of a listener that speaks only RESP
    #[arg(long, env = "BLINK_RESP_UNIX", value_name = "PATH")]
    pub resp_unix: Option<PathBuf>,

    /// TCP address, HOST:PORT, of a listener that speaks memcached's text and meta
    /// protocols (memcached's port is 11211); with a password, loopback only
    #[arg(long, env = "BLINK_MEMCACHE", value_name = "ADDR")]
    pub memcache: Option<TcpAddr>,

    /// Unix socket path of a listener that speaks memcached's protocols
    #[arg(long, env = "BLINK_MEMCACHE_UNIX", value_name = "PATH")]
    pub memcache_unix: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics: HOST:PORT, or a port alone for
    /// 127.0.0.1 [default: off]
    #[arg(long, env = "BLINK_METRICS", value_name = "ADDR", value_parser = parse_metrics_addr)]
    pub metrics: Option<TcpAddr>,
    /// TCP address, HOST:PORT, of a TLS listener that then speaks what --tcp speaks (the
    /// line protocol or RESP); needs --tls-cert and --tls-key
    #[arg(long, env = "BLINK_TLS", value_name = "ADDR")]
    pub tls: Option<TcpAddr>,

    /// TCP address, HOST:PORT, of a TLS listener that then speaks memcached's protocols
    #[arg(long, env = "BLINK_MEMCACHE_TLS", value_name = "ADDR")]
    pub memcache_tls: Option<TcpAddr>,

    /// The TLS listeners' certificate chain, PEM, leaf first; read again on SIGHUP
    #[arg(long, env = "BLINK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert, PEM; read again on SIGHUP
    #[arg(long, env = "BLINK_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Require TLS clients to present a certificate signed by this CA, PEM (mutual TLS);
    /// read again on SIGHUP
    #[arg(long, env = "BLINK_TLS_CA", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// How long a TLS client may take to finish its handshake, such as 10s or 500ms
    #[arg(long, env = "BLINK_TLS_HANDSHAKE_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub tls_handshake_timeout: Duration,

    /// Permission bits of the Unix socket files, in octal
    #[arg(long, env = "BLINK_UNIX_MODE", value_name = "OCTAL", default_value = "600", value_parser = parse_mode)]
    pub unix_mode: u32,

    /// Memory limit for keys and values: bytes, or with a suffix (64MiB, 1G, 512k)
    #[arg(long, env = "BLINK_MEMORY_LIMIT", value_name = "SIZE", allow_hyphen_values = true, default_value = DEFAULT_MEMORY_LIMIT, value_parser = parse_size)]
    pub memory_limit: u64,

    /// Which entry of a random sample is evicted when memory is full
    #[arg(long, env = "BLINK_EVICTION_POLICY", value_enum, default_value_t = PolicyArg::Tinylfu)]
    pub eviction_policy: PolicyArg,

    /// Entries per eviction sample, like Redis's maxmemory-samples (1 to 64)
    #[arg(long, env = "BLINK_EVICTION_SAMPLES", value_name = "N", default_value_t = DEFAULT_SAMPLES, value_parser = parse_samples)]
    pub eviction_samples: usize,

    /// Largest value accepted (bytes or with a suffix)
    #[arg(long, env = "BLINK_MAX_VALUE_SIZE", value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_value_size: u64,

    /// Longest key accepted, in bytes
    #[arg(long, env = "BLINK_MAX_KEY_SIZE", value_name = "BYTES", default_value_t = DEFAULT_MAX_KEY_LEN, value_parser = parse_key_size)]
    pub max_key_size: usize,

    /// Password every client must give (AUTH) before any other command [default: none]
    #[arg(
        long,
        env = "BLINK_PASSWORD",
        value_name = "PASSWORD",
        conflicts_with = "requirepass_file",
        hide_env_values = true
    )]
    pub requirepass: Option<String>,

    /// Read the password from this file (its first line) instead
    #[arg(long, env = "BLINK_PASSWORD_FILE", value_name = "PATH")]
    pub requirepass_file: Option<PathBuf>,

    /// Close connections idle for this many seconds (0: never, as in Redis)
    #[arg(
        long,
        env = "BLINK_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 0
    )]
    pub timeout: u64,

    /// Disconnect a client whose unread replies held by the server pass this size
    #[arg(long, env = "BLINK_MAX_OUTPUT_BUFFER", value_name = "SIZE", default_value = "32MiB", value_parser = parse_size)]
    pub max_output_buffer: u64,

    /// Most arguments in one RESP command
    #[arg(long, env = "BLINK_MAX_ARGS", value_name = "N", default_value_t = blink_store::protocol::resp::DEFAULT_MAX_ARGS, value_parser = parse_positive)]
    pub max_args: usize,

    /// Longest RESP inline command or length line, in bytes
    #[arg(long, env = "BLINK_MAX_INLINE", value_name = "BYTES", default_value_t = blink_store::protocol::resp::DEFAULT_MAX_INLINE_LEN, value_parser = parse_positive)]
    pub max_inline: usize,

    /// Most clients connected at once; more are told so and closed
    #[arg(long, env = "BLINK_MAX_CONNECTIONS", value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = parse_positive)]
    pub max_connections: usize,

    /// Event loops serving connections, each on its own thread [default: one per CPU but
    /// one, at least one]; accepting, timers and the evictor have threads of their own
    #[arg(long, env = "BLINK_WORKERS", value_name = "N", value_parser = parse_positive)]
    pub workers: Option<usize>,

    /// Polls of its sockets an event loop makes after its last work before it sleeps:
    /// a client's next request then usually finds it awake. 0 sleeps at once, for the
    /// least CPU time on an idle or CPU-limited host
    #[arg(long, env = "BLINK_BUSY_POLLS", value_name = "N", default_value_t = DEFAULT_BUSY_POLLS)]
    pub busy_polls: u32,

    /// Keep the cache across restarts in this file: loaded at start if it exists, written
    /// on SIGTERM/SIGINT, SIGUSR1 and SAVE/BGSAVE [default: off, nothing is read or written]
    #[arg(long, env = "BLINK_SNAPSHOT", value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// Write logs to rolling hourly files in this directory instead of stderr
    #[arg(long, env = "BLINK_LOG_DIR", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Delete log files last written longer ago than this many minutes
    #[arg(long, env = "BLINK_RETENTION_MINUTES", value_name = "MINUTES", default_value_t = 1440, value_parser = parse_positive_u64)]
    pub retention_minutes: u64,

    /// Log line format
    #[arg(long, env = "BLINK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `blink_store=debug` [default: RUST_LOG, else info]
    #[arg(long, env = "BLINK_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

impl ServeArgs {
    /// The password: the flag or variable, or the first line of the password file.
    ///
    /// # Errors
    /// If the password file cannot be read, or the password is empty.
    pub fn password(&self) -> Result<Option<Vec<u8>>, String> {
        read_password(
            self.requirepass.as_deref(),
            self.requirepass_file.as_deref(),
        )
    }

    /// The store configuration these flags describe: the memory limit, an overshoot of
    /// 1% of it or one maximum-size value (whichever is larger), the eviction policy,
    /// and CAS uniques in every entry when memcached's protocols are served.
    pub fn store_config(&self) -> StoreConfig {
        StoreConfig::new(self.memory_limit)
            .overshoot_bytes((self.memory_limit / 100).max(self.max_value_size))
            .policy(self.eviction_policy.into())
            .samples(self.eviction_samples)
            .cas(self.serves_memcache())
    }

    /// Whether a memcached listener is asked for.
    pub fn serves_memcache(&self) -> bool {
        self.memcache.is_some() || self.memcache_unix.is_some() || self.memcache_tls.is_some()
    }

    /// The TLS listeners' files, when a TLS listener is asked for.
    ///
    /// # Errors
    /// If a TLS listener lacks its certificate or key, or TLS files are given without a
    /// TLS listener to use them.
    pub fn tls_files(&self) -> Result<Option<TlsFiles>, String> {
        let given = [
            ("--tls-cert", &self.tls_cert),
            ("--tls-key", &self.tls_key),
            ("--tls-ca", &self.tls_ca),
        ];
        if self.tls.is_none() && self.memcache_tls.is_none() {
            return match given.iter().find(|(_, file)| file.is_some()) {
                Some((flag, _)) => Err(format!(
                    "{flag} is for TLS listeners, and none is asked for (--tls or --memcache-tls)"
                )),
                None => Ok(None),
            };
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_ca.clone(),
            })),
            _ => Err(
                "a TLS listener (--tls, --memcache-tls) needs --tls-cert and --tls-key, \
                 the server's certificate chain and private key as PEM files"
                    .into(),
            ),
        }
    }

    /// The TCP address to serve: the flag, or the default when no listener was asked for.
    pub fn tcp_addr(&self) -> Option<TcpAddr> {
        let other_listener = self.unix.is_some()
            || self.resp.is_some()
            || self.resp_unix.is_some()
            || self.tls.is_some()
            || self.serves_memcache();
        match &self.tcp {
            Some(addr) => Some(addr.clone()),
            None if other_listener => None,
            None => Some(TcpAddr::new(DEFAULT_HOST, DEFAULT_PORT)),
        }
    }
}

/// The metrics endpoint's address: HOST:PORT, or a port alone on loopback, so that
/// `--metrics 9187` exposes nothing beyond this machine.
fn parse_metrics_addr(text: &str) -> Result<TcpAddr, String> {
    match text.parse::<u16>() {
        Ok(port) => Ok(TcpAddr::new(DEFAULT_HOST, port)),
        Err(_) => text.parse(),
    }
}

fn parse_mode(text: &str) -> Result<u32, String> {
    let mode = u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .map_err(|_| format!("'{text}' is not an octal mode like 600"))?;
    if mode > 0o777 {
        return Err(format!("'{text}' has bits beyond 777"));
    }
    Ok(mode)
}

fn parse_positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be greater than zero".into()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

fn parse_samples(text: &str) -> Result<usize, String> {
    match parse_positive(text)? {
        n @ 1..=MAX_SAMPLES => Ok(n),
        _ => Err(format!("must be between 1 and {MAX_SAMPLES}")),
    }
}

/// A key length an entry can hold.
fn parse_key_size(text: &str) -> Result<usize, String> {
    match parse_positive(text)? {
        n @ 1..=MAX_KEY_LEN => Ok(n),
        _ => Err(format!("must be between 1 and {MAX_KEY_LEN}")),
    }
}

fn parse_positive_u64(text: &str) -> Result<u64, String> {
    parse_positive(text).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{show_size, DEFAULT_TCP};

    #[test]
    fn sizes_with_and_without_suffixes() {
        assert_eq!(parse_size("10485760"), Ok(10_485_760));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512k"), Ok(512_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("0MiB").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn sizes_are_shown_as_the_flags_take_them_and_in_bytes() {
        let table = [
            (536_870_912, "512MiB (536870912 bytes)"),
            (10 << 20, "10MiB (10485760 bytes)"),
            (1 << 30, "1GiB (1073741824 bytes)"),
            (1536 << 10, "1536KiB (1572864 bytes)"),
            (1_000_000_000, "1G (1000000000 bytes)"),
            (512_000, "500KiB (512000 bytes)"),
            (100, "100B (100 bytes)"),
            (1234, "1.2KiB (1234 bytes)"),
        ];
        for (bytes, shown) in table {
            assert_eq!(show_size(bytes), shown);
            // A size shown exactly reads back as itself.
            let short = shown.split(' ').next().unwrap();
            if !short.contains('.') {
                assert_eq!(parse_size(short), Ok(bytes), "{short}");
            }
        }
    }

    #[test]
    fn policies_are_shown_as_the_flag_spells_them() {
        for policy in PolicyArg::value_variants() {
            assert_eq!(PolicyArg::from_str(&policy.to_string(), false), Ok(*policy));
        }
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("600"), Ok(0o600));
        assert_eq!(parse_mode("0o660"), Ok(0o660));
        assert!(parse_mode("800").is_err());
        assert!(parse_mode("1777").is_err());
    }

    #[test]
    fn key_sizes_stop_where_an_entry_can_hold_the_key() {
        assert_eq!(parse_key_size("250"), Ok(250));
        assert_eq!(parse_key_size(&MAX_KEY_LEN.to_string()), Ok(MAX_KEY_LEN));
        assert!(parse_key_size(&(MAX_KEY_LEN + 1).to_string()).is_err());
        assert!(parse_key_size("0").is_err());
    }

    #[test]
    fn defaults_serve_on_loopback_with_ten_mib() {
        let cli = Cli::try_parse_from(["blink-store"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.tcp_addr(), Some(DEFAULT_TCP.parse().unwrap()));
        assert_eq!(cli.serve.memory_limit, 10 << 20);
        assert_eq!(cli.serve.max_connections, 1024);
        assert_eq!(cli.serve.max_value_size, 1 << 20);
        let config = cli.serve.store_config();
        assert_eq!(config.policy, EvictionPolicy::TinyLfu);
        assert_eq!(config.samples, 5);
        assert_eq!(config.overshoot_bytes, 1 << 20);
        assert!(!config.cas);
    }

    #[test]
    fn a_memcached_listener_turns_cas_uniques_on() {
        for flags in [
            ["--memcache", "127.0.0.1:11211"],
            ["--memcache-unix", "/tmp/memcached.sock"],
        ] {
            let cli = Cli::try_parse_from(["blink-store"].iter().chain(&flags)).unwrap();
            assert!(cli.serve.store_config().cas, "{flags:?}");
        }
    }

    #[test]
    fn metrics_are_off_by_default_and_a_bare_port_is_loopback() {
        let cli = Cli::try_parse_from(["blink-store"]).unwrap();
        assert_eq!(cli.serve.metrics, None);
        let cli = Cli::try_parse_from(["blink-store", "--metrics", "9187"]).unwrap();
        assert_eq!(cli.serve.metrics, Some(TcpAddr::new("127.0.0.1", 9187)));
        let cli = Cli::try_parse_from(["blink-store", "--metrics", "0.0.0.0:9187"]).unwrap();
        assert_eq!(cli.serve.metrics, Some("0.0.0.0:9187".parse().unwrap()));
        assert!(Cli::try_parse_from(["blink-store", "--metrics", "nine"]).is_err());
    }

    #[test]
    fn the_default_address_is_the_default_host_and_port() {
        assert_eq!(
            TcpAddr::new(DEFAULT_HOST, DEFAULT_PORT).to_string(),
            DEFAULT_TCP
        );
    }

    #[test]
    fn any_other_listener_alone_means_no_tcp() {
        for flags in [
            ["--unix", "/tmp/x.sock"],
            ["--resp", "127.0.0.1:6379"],
            ["--resp-unix", "/tmp/redis.sock"],
            ["--memcache", "127.0.0.1:11211"],
            ["--memcache-unix", "/tmp/memcached.sock"],
            ["--tls", "127.0.0.1:6380"],
            ["--memcache-tls", "127.0.0.1:11212"],
        ] {
            let cli = Cli::try_parse_from(["blink-store", "serve"].iter().chain(&flags)).unwrap();
            let Some(Command::Serve(args)) = cli.command else {
                panic!("expected serve");
            };
            assert_eq!(args.tcp_addr(), None, "{flags:?}");
        }
    }

    #[test]
    fn tls_files_go_with_tls_listeners() {
        let parse = |flags: &[&str]| {
            let cli = Cli::try_parse_from(["blink-store"].iter().chain(flags)).unwrap();
            cli.serve.tls_files()
        };
        assert_eq!(parse(&[]), Ok(None));
        let pem = ["--tls-cert", "c.pem", "--tls-key", "k.pem"];
        let err = parse(&pem).unwrap_err();
        assert!(err.contains("--tls-cert"), "{err}");
        let err = parse(&["--tls", "127.0.0.1:6380", "--tls-cert", "c.pem"]).unwrap_err();
        assert!(err.contains("--tls-key"), "{err}");
        let both = [
            &["--memcache-tls", "127.0.0.1:11212"][..],
            &pem,
            &["--tls-ca", "ca.pem"],
        ];
        let files = parse(&both.concat()).unwrap().unwrap();
        assert_eq!(files.client_ca, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn the_command_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
