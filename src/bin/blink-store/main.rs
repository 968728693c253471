//! `blink-store`: parse the command line, install logging, bind the listeners, and serve
//! until SIGINT or SIGTERM (SIGHUP reloads); or run the `bench` load generator, the `echo`
//! server, or the `cli` client, or check a server's health.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio_util::sync::CancellationToken;

mod bench;
mod bind;
mod cli;
mod client_cli;
mod echo;
mod echo_blocking;
mod echo_epoll;
mod flags;
mod healthcheck;
mod logging;
mod reload;
mod tls_client;
#[cfg(unix)]
mod unix_socket;

use blink_store::connection::ConnectionLimits;
use blink_store::evictor::Evictor;

use crate::bench::args::BenchArgs;
use crate::bind::{
    bind, bind_serve, bind_tcp_all, refuse_memcache_beside_password, warn_if_exposed,
};
use crate::cli::{Cli, Command, EchoArgs, LogFormat, ServeArgs};
use crate::flags::show_size;
use crate::logging::LogConfig;
use blink_store::protocol::Limits;
use blink_store::server::{self, ServerOptions};
use blink_store::snapshot::{self, ReadLimits, Snapshots};
use blink_store::store::Store;

/// jemalloc serves every allocation, configured in `.cargo/config.toml` (one arena, freed
/// pages returned at once); see docs/decisions/0005-allocator.md.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// What jemalloc reports about the heap: what the store compares with what it charges
/// (see `Store::set_heap_gauge`), and what `INFO memory` shows.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
fn heap_stats() -> Option<blink_store::store::HeapStats> {
    use tikv_jemalloc_ctl::{epoch, stats};
    // jemalloc's statistics are a snapshot refreshed by advancing its epoch.
    epoch::advance().ok()?;
    let bytes = |read: tikv_jemalloc_ctl::Result<usize>| read.ok().map(|n| n as u64);
    Some(blink_store::store::HeapStats {
        allocated: bytes(stats::allocated::read())?,
        active: bytes(stats::active::read())?,
        resident: bytes(stats::resident::read())?,
        metadata: bytes(stats::metadata::read())?,
        process_resident: blink_store::rss::resident_bytes_fast().unwrap_or(0),
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Bench(args)) => run_bench(&args),
        Some(Command::Echo(args)) => run_echo(&args),
        Some(Command::Healthcheck(args)) => healthcheck::check(&args).map_err(Into::into),
        Some(Command::Cli(args)) => match client_cli::run(&args) {
            Ok(true) => Ok(()),
            // The refusal was already shown.
            Ok(false) => return ExitCode::FAILURE,
            Err(err) => Err(err),
        },
        None => serve(&cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("blink-store: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the load generator and prints its report; any wrong reply or failed connection
/// makes the exit code non-zero.
fn run_bench(args: &BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = args.config().map_err(|err| format!("bench: {err}"))?;
    let report = bench::run(&config).map_err(|err| format!("bench: {err}"))?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
        if let Some(summary) = bench::server_summary(&config) {
            println!("{summary}");
        }
    }
    match report.failure() {
        Some(failure) => Err(format!("bench: {failure}").into()),
        None => Ok(()),
    }
}

/// Serves `blink-store echo` until SIGINT or SIGTERM: on the server's event loops, with a
/// thread per connection (`--blocking`), or on a hand-written epoll loop (`--epoll`).
fn run_echo(args: &EchoArgs) -> Result<(), Box<dyn std::error::Error>> {
    let _log_guard = logging::init(&LogConfig {
        dir: None,
        retention: Duration::ZERO,
        format: LogFormat::Text,
        filter: None,
    })?;
    let listeners = bind(args.tcp_addr().as_ref(), args.unix.as_deref(), 0o600)?;
    if args.blocking {
        // Connections have threads of their own; the runtime only waits for the signal.
        return run_until_signal(|shutdown| async move {
            echo_blocking::run(listeners, shutdown).await?;
            Ok(())
        });
    }
    if args.epoll {
        return run_until_signal(|shutdown| async move {
            echo_epoll::run(listeners, shutdown).await?;
            Ok(())
        });
    }
    let workers = args.workers.unwrap_or_else(default_workers);
    run_until_signal(|shutdown| async move {
        echo::run(listeners, workers, shutdown).await?;
        Ok(())
    })
}

fn serve(args: &ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let log_guard = logging::init(&LogConfig {
        dir: args.log_dir.clone(),
        retention: Duration::from_secs(args.retention_minutes.saturating_mul(60)),
        format: args.log_format,
        filter: args.log.clone(),
    })?;
    let request_limits = Limits::new()
        .max_key_len(args.max_key_size)
        .max_value_len(usize::try_from(args.max_value_size)?)
        .max_args(args.max_args)
        .max_inline_len(args.max_inline);

    let password = args.password()?;
    let listeners = bind_serve(args)?;
    refuse_memcache_beside_password(&listeners, password.is_some())?;
    let reload = reload::Reload::new(listeners.tls.clone(), log_guard.reopener());
    let workers = args.workers.unwrap_or_else(default_workers);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        memory_limit = %show_size(args.memory_limit),
        max_value_size = %show_size(args.max_value_size),
        max_key_size = %show_size(args.max_key_size as u64),
        max_connections = args.max_connections,
        eviction_policy = %args.eviction_policy,
        eviction_samples = args.eviction_samples,
        workers,
        "starting"
    );

    let mut options = ServerOptions::new(request_limits, args.max_connections);
    options.limits = ConnectionLimits {
        idle_timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        max_output_bytes: usize::try_from(args.max_output_buffer)?,
    };
    options.password = password;
    options.loops = workers;
    options.busy_polls = args.busy_polls;
    if let Some(addr) = &args.metrics {
        let bound = bind_tcp_all(addr)?;
        for listener in &bound {
            tracing::info!(addr = %listener.local_addr()?, "serving metrics at /metrics");
        }
        options.metrics = bound;
    }
    warn_if_exposed(&listeners, options.password.is_some());

    raise_open_file_limit(args.max_connections);
    let store = Arc::new(Store::with_config(args.store_config()));
    #[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
    store.set_heap_gauge(heap_stats);
    let _evictor = Evictor::spawn(store.clone())?;
    if let Some(path) = &args.snapshot {
        snapshot::write::check_writable(path).map_err(|err| {
            format!(
                "--snapshot {}: cannot write beside it: {err}",
                path.display()
            )
        })?;
    }
    let snapshots = (args.snapshot.clone()).map(|path| Snapshots::new(store.clone(), path));
    options.snapshots = snapshots.clone();
    let read_limits = ReadLimits {
        max_key_len: args.max_key_size,
        max_value_len: usize::try_from(args.max_value_size)?,
    };
    run_until_signal(|shutdown| async move {
        reload.on_sighup()?;
        if let Some(snapshots) = &snapshots {
            // Before the accept loop starts: no client sees a half-loaded cache.
            snapshots.load(read_limits);
        }
        #[cfg(unix)]
        tokio::spawn(snapshot::save_on_sigusr1(snapshots.clone())?);
        server::run(store, listeners, options, shutdown).await?;
        if let Some(snapshots) = snapshots {
            // Every connection has finished: this snapshot holds the last client write.
            snapshots
                .save()
                .await?
                .map_err(|cause| format!("snapshot failed: {cause}"))?;
        }
        Ok(())
    })
}

/// File descriptors the server needs beyond its connections: listeners, logs, the
/// runtime's own.
const SPARE_FILES: u64 = 64;

/// Raises the soft open-file limit towards the hard one, as Redis does, so that
/// `--max-connections` clients can be accepted; warns if even the hard limit is lower.
#[cfg(unix)]
fn raise_open_file_limit(max_connections: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let wanted = max_connections as u64 + SPARE_FILES;
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= wanted {
        return;
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    limit.current = Some(wanted.min(hard));
    if let Err(err) = setrlimit(Resource::Nofile, limit) {
        tracing::warn!(cause = %err, "could not raise the open-file limit");
    }
    if hard < wanted {
        tracing::warn!(
            open_files = hard,
            max_connections,
            "the open-file limit is below --max-connections: accepts will fail first"
        );
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit(_max_connections: usize) {}

/// Event loops serving connections when `--workers` is not given: one per CPU this process
/// may use but one, and at least one. The CPU left is for the kernel's network work and,
/// for a sidecar, its application: on two CPUs shared with their clients, one loop served
/// 50 connections 1.3 times as fast as two (decision 0007).
fn default_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cpus.saturating_sub(1).max(1)
}

/// Runs `serve` on a current-thread runtime, the main thread's, until SIGINT or SIGTERM
/// cancels the token it is given and it returns; tasks still running 100 ms later are
/// abandoned, not awaited. The runtime accepts clients, takes signals and runs timers;
/// the clients themselves are served on event loops of their own
/// ([`blink_store::event_loop`]).
fn run_until_signal<F, Fut>(serve: F) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Installed before anything is served: a client may connect to the bound
        // listeners at once, and a SIGTERM sent right after must shut down, not kill.
        let signals = server::ShutdownSignals::install()?;
        let shutdown = CancellationToken::new();
        let waiting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                signals.recv().await;
                shutdown.cancel();
            }
        });
        serve(shutdown).await?;
        waiting.await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}
