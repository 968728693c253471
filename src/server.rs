//! Serves the cache to the clients [`crate::listener`] accepts: gives each its own task
//! and span, enforces the connection limit, and shuts down gracefully: stop accepting,
//! let every connection finish the requests it has read and flush, then return.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::command::server::OpenConnection;
use crate::command::{self, ServerInfo};
use crate::connection::{Connection, ConnectionLimits};
use crate::event_loop::EventLoops;
pub use crate::listener::Listeners;
use crate::listener::{self, Accept, Accepted, Peer, Serve};
use crate::protocol::memcache;
use crate::protocol::resp::RespProtocol;
use crate::protocol::text::TextProtocol;
use crate::protocol::{Limits, Refusal, Reply, Wire};
use crate::snapshot::Snapshots;
use crate::store::Store;

/// How long shutdown waits for connections to finish before giving up on them, so the
/// process exits within two seconds of a signal even with a client that never reads.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// Polls of its sockets an event loop makes after its last work before it sleeps, by
/// default: about 50 µs here, longer than a client on the same host takes to send its
/// next request.
pub const DEFAULT_BUSY_POLLS: u32 = 64;

/// How long a refused client gets to receive its error before it is dropped.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// What every connection shares.
struct Shared {
    /// The cache.
    store: Arc<Store>,
    /// The key, value and argument limits of every protocol.
    request_limits: Limits,
    /// Tracks connection tasks so shutdown can wait for them.
    tracker: TaskTracker,
    /// Fired once, when the server starts shutting down.
    shutdown: CancellationToken,
    /// Source of connection ids, for log spans and CLIENT ID.
    next_id: AtomicU64,
    /// Facts and counters for INFO, and the connection limit.
    info: Arc<ServerInfo>,
    /// Idle timeout and output cap per connection.
    limits: ConnectionLimits,
    /// The event loops that serve the connections.
    loops: EventLoops,
}

/// How the server treats its clients.
#[derive(Debug)]
pub struct ServerOptions {
    /// The key, value and argument limits of every protocol.
    pub request_limits: Limits,
    /// Idle timeout and output cap per connection.
    pub limits: ConnectionLimits,
    /// Most clients connected at once.
    pub max_connections: usize,
    /// The password clients must give first, if any.
    pub password: Option<Vec<u8>>,
    /// Event loops serving connections, each on a thread of its own.
    pub loops: usize,
    /// Polls of its sockets an event loop makes after its last work before it sleeps
    /// (see [`crate::event_loop`]).
    pub busy_polls: u32,
    /// Where to serve the Prometheus endpoint: nowhere, or one listener per address.
    #[cfg(feature = "metrics")]
    pub metrics: Vec<std::net::TcpListener>,
    /// The snapshot file that SAVE and BGSAVE write, if `--snapshot` gave one.
    pub snapshots: Option<Arc<Snapshots>>,
}

impl ServerOptions {
    /// Defaults around the request limits: no idle timeout, the default output cap, no
    /// password, one event loop.
    pub fn new(request_limits: Limits, max_connections: usize) -> Self {
        Self {
            request_limits,
            limits: ConnectionLimits::default(),
            max_connections,
            password: None,
            loops: 1,
            busy_polls: DEFAULT_BUSY_POLLS,
            #[cfg(feature = "metrics")]
            metrics: Vec::new(),
            snapshots: None,
        }
    }
}

/// Serves `listeners` until `shutdown` fires, then waits up to [`SHUTDOWN_GRACE`] for
/// open connections to flush and close. Socket files are removed before it returns.
///
/// # Errors
/// If a listener cannot be registered with the runtime.
pub async fn run(
    store: Arc<Store>,
    listeners: Listeners,
    options: ServerOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let ServerOptions {
        request_limits,
        limits,
        max_connections,
        password,
        loops,
        busy_polls,
        #[cfg(feature = "metrics")]
        metrics,
        snapshots,
    } = options;
    let tcp_port = listeners.tcp_port()?;
    let info = ServerInfo::new(max_connections as u64, tcp_port)
        .with_password(password)
        .with_idle_timeout(limits.idle_timeout)
        .with_snapshots(snapshots);
    let loops = EventLoops::start(loops, "blink-loop", busy_polls)?;
    let memcache_port = listeners.memcache_port()?;
    (info.memcache).configure(loops.len(), memcache_port, request_limits.max_value_len);
    let info = Arc::new(info);
    if listeners.has_memcache() {
        let timer =
            command::memcache::run_flush_timer(store.clone(), info.clone(), shutdown.clone());
        tokio::spawn(timer);
    }
    #[cfg(feature = "metrics")]
    for listener in metrics {
        let endpoint =
            crate::metrics::serve(listener, store.clone(), info.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(err) = endpoint.await {
                tracing::error!(cause = %err, "the metrics endpoint stopped");
            }
        });
    }
    let shared = Arc::new(Shared {
        store,
        request_limits,
        tracker: TaskTracker::new(),
        shutdown,
        next_id: AtomicU64::new(1),
        info,
        limits,
        loops,
    });
    listener::accept_until(listeners, shared.clone(), shared.shutdown.clone()).await?;
    // Every connection, and any accepted but not yet registered, finishes and closes.
    shared.info.clients.close_all();
    shared.tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, shared.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shared.tracker.len(),
            "connections still open after the grace period"
        );
    }
    // Connections still open are dropped with their loops.
    shared.loops.stop();
    tracing::info!("shutdown done");
    Ok(())
}

impl Accept for Shared {
    fn accept(self: &Arc<Self>, stream: Accepted, peer: Peer, wire: Wire) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("conn", peer = %peer, id);
        let client = match self.info.try_open() {
            Some(open) => Client::Admitted {
                shared: self.clone(),
                id,
                peer,
                wire,
                open,
            },
            None => {
                let limit = usize::try_from(self.info.max_connections()).unwrap_or(usize::MAX);
                tracing::warn!(parent: &span, limit, "refusing connection: too many");
                Client::Refused(self.refusal(limit, wire))
            }
        };
        let served = async move {
            if let Err(err) = stream.serve(client).await {
                tracing::warn!(cause = %err, "connection closed with error");
            }
        };
        self.loops
            .spawn(self.tracker.track_future(served.instrument(span)));
    }
}

impl Shared {
    /// The refusal a client over the connection limit gets, in its listener's protocol:
    /// on an auto-detecting listener, before the client's first bytes, its protocol is
    /// unknown, so one line.
    fn refusal(&self, limit: usize, wire: Wire) -> Vec<u8> {
        let reply = Reply::Refused(Refusal::TooManyConnections { limit });
        let mut message = Vec::new();
        match wire {
            Wire::Auto => {
                TextProtocol::with_limits(self.request_limits).encode(&reply, &mut message)
            }
            Wire::Resp => RespProtocol::new().encode(&reply, &mut message),
            Wire::Memcache => memcache::encode(&reply, &mut message),
        }
        message
    }
}

/// An accepted client, on its way to the event loop that serves it.
enum Client {
    /// Under the connection limit: served until it closes.
    Admitted {
        shared: Arc<Shared>,
        id: u64,
        peer: Peer,
        wire: Wire,
        /// Counts it open until dropped, also if its task unwinds.
        open: OpenConnection,
    },
    /// Over the limit: sent this refusal and closed.
    Refused(Vec<u8>),
}

impl Serve for Client {
    async fn serve<S>(self, stream: S) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (shared, id, peer, wire, open) = match self {
            Self::Refused(message) => {
                refuse(stream, message).await;
                return Ok(());
            }
            Self::Admitted {
                shared,
                id,
                peer,
                wire,
                open,
            } => (shared, id, peer, wire, open),
        };
        let connection = Connection::new(
            stream,
            shared.store.clone(),
            shared.request_limits,
            shared.info.clone(),
            id,
        )
        .limits(shared.limits)
        .wire(wire)
        .peer(peer);
        tracing::debug!("connection opened");
        let served = connection.run().await;
        tracing::debug!("connection closed");
        drop(open);
        served
    }

    fn handshake_failed(self, cause: &std::io::Error) {
        // Failed handshakes are the client's doing (plaintext on a TLS port, an unknown
        // certificate) and can come by the thousand from a scanner: counted, not warned.
        tracing::debug!(%cause, "tls handshake failed; connection closed");
        match self {
            Self::Admitted { shared, .. } => shared.info.count_tls_handshake_failure(),
            // Refused at the limit anyway; its refusal never went out.
            Self::Refused(_) => {}
        }
    }
}

/// Sends the refusal, then drains what the client sent until it closes, so unread input
/// does not turn the close into a reset that could destroy the refusal in flight.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, message: Vec<u8>) {
    let written = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(&message).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
    if let Ok(Err(err)) = written {
        tracing::debug!(cause = %err, "could not send the refusal");
    }
}

/// The shutdown signals, listened for from the moment this value exists: a signal that
/// arrives before [`ShutdownSignals::recv`] is first awaited is kept, not lost to the
/// default action of killing the process.
#[cfg(unix)]
pub struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl ShutdownSignals {
    /// Installs the handlers for SIGINT and SIGTERM. Must be called inside a runtime.
    ///
    /// # Errors
    /// If the signal handlers cannot be installed.
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves when the process receives SIGINT or SIGTERM.
    pub async fn recv(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => tracing::info!("received SIGINT"),
            _ = self.terminate.recv() => tracing::info!("received SIGTERM"),
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
pub struct ShutdownSignals;

#[cfg(not(unix))]
impl ShutdownSignals {
    /// Nothing to install ahead of time: Ctrl-C is listened for once awaited.
    ///
    /// # Errors
    /// Never; the signature matches the Unix one.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    /// Resolves on Ctrl-C, or at once if its handler cannot be installed.
    pub async fn recv(self) {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %err, "could not listen for Ctrl-C");
        }
        tracing::info!("received Ctrl-C");
    }
}
