//! Accepts clients on bound TCP and Unix listeners, gives each its own task and span,
//! enforces the connection limit, and shuts down gracefully: stop accepting, let every
//! connection finish the requests it has read and flush, then return.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::command::ServerInfo;
use crate::connection::{Connection, ConnectionLimits};
use crate::protocol::resp::RespProtocol;
use crate::protocol::text::TextProtocol;
use crate::protocol::{ClientError, Reply};
use crate::store::Store;
#[cfg(unix)]
use crate::unix_socket::SocketFile;

/// How long shutdown waits for connections to finish before giving up on them, so the
/// process exits within two seconds of a signal even with a client that never reads.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// How long the accept loop pauses after an accept error (such as running out of file
/// descriptors), so it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// How long a refused client gets to receive its error before it is dropped.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// The bound listeners to serve.
#[derive(Debug, Default)]
pub struct Listeners {
    /// The TCP listeners: none, one, or one per address of a host name, on one port.
    pub tcp: Vec<std::net::TcpListener>,
    /// The Unix listener and its socket file, removed when serving ends.
    #[cfg(unix)]
    pub unix: Option<(std::os::unix::net::UnixListener, SocketFile)>,
}

/// What every connection shares.
struct Shared {
    /// The cache.
    store: Arc<Store>,
    /// The line protocol with its limits.
    protocol: TextProtocol,
    /// One permit per open connection.
    permits: Arc<Semaphore>,
    /// The limit the semaphore was created with, for the refusal message.
    max_connections: usize,
    /// Tracks connection tasks so shutdown can wait for them.
    tracker: TaskTracker,
    /// Fired once, when the server starts shutting down.
    shutdown: CancellationToken,
    /// Source of connection ids, for log spans and CLIENT ID.
    next_id: AtomicU64,
    /// Facts and counters for INFO.
    info: Arc<ServerInfo>,
    /// RESP's framing limits.
    resp: RespProtocol,
    /// Idle timeout and output cap per connection.
    limits: ConnectionLimits,
}

/// How the server treats its clients.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The line protocol's parser and its key and value limits.
    pub protocol: TextProtocol,
    /// RESP's framing limits (its key and bulk limits follow `protocol`'s).
    pub resp: RespProtocol,
    /// Idle timeout and output cap per connection.
    pub limits: ConnectionLimits,
    /// Most clients connected at once.
    pub max_connections: usize,
    /// The password clients must give first, if any.
    pub password: Option<Vec<u8>>,
}

impl ServerOptions {
    /// Defaults around a line protocol: RESP's default framing limits, no idle timeout,
    /// the default output cap, no password.
    pub fn new(protocol: TextProtocol, max_connections: usize) -> Self {
        Self {
            protocol,
            resp: RespProtocol::new().max_bulk_len(protocol.value_limit()),
            limits: ConnectionLimits::default(),
            max_connections,
            password: None,
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
        protocol,
        resp,
        limits,
        max_connections,
        password,
    } = options;
    let tcp_port = match listeners.tcp.first() {
        Some(listener) => listener.local_addr()?.port(),
        None => 0,
    };
    let info = ServerInfo::new(max_connections as u64, tcp_port)
        .with_password(password)
        .with_idle_timeout(limits.idle_timeout);
    let info = Arc::new(info);
    let shared = Arc::new(Shared {
        store,
        protocol,
        permits: Arc::new(Semaphore::new(max_connections)),
        max_connections,
        tracker: TaskTracker::new(),
        shutdown,
        next_id: AtomicU64::new(1),
        info,
        resp,
        limits,
    });
    let mut accepting = tokio::task::JoinSet::new();
    for listener in listeners.tcp {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        tracing::info!(addr = %listener.local_addr()?, "listening on tcp");
        accepting.spawn(accept_tcp(listener, shared.clone()));
    }
    #[cfg(unix)]
    let mut socket_file = None;
    #[cfg(unix)]
    if let Some((listener, file)) = listeners.unix {
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        tracing::info!(path = %file.path().display(), "listening on unix socket");
        accepting.spawn(accept_unix(listener, shared.clone()));
        socket_file = Some(file);
    }
    shared.shutdown.cancelled().await;
    tracing::info!("shutdown started");
    // The accept loops end on the same token and drop their listeners.
    while accepting.join_next().await.is_some() {}
    #[cfg(unix)]
    drop(socket_file);
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
    tracing::info!("shutdown done");
    Ok(())
}

async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Replies are flushed once per batch; waiting for more would only add latency.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(cause = %err, "could not set TCP_NODELAY");
                }
                spawn_connection(stream, peer.to_string(), &shared);
            }
            Err(err) => accept_failed(&err).await,
        }
    }
}

#[cfg(unix)]
async fn accept_unix(listener: UnixListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => spawn_connection(stream, "unix".into(), &shared),
            Err(err) => accept_failed(&err).await,
        }
    }
}

async fn accept_failed(err: &std::io::Error) {
    tracing::error!(cause = %err, "accept failed");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

fn spawn_connection<S>(stream: S, peer: String, shared: &Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("conn", peer = %peer, id);
    let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
        tracing::warn!(parent: &span, limit = shared.max_connections, "refusing connection: too many");
        let reply = Reply::Error(ClientError::TooManyConnections {
            limit: shared.max_connections,
        });
        let mut message = Vec::new();
        shared.protocol.encode(&reply, &mut message);
        shared
            .tracker
            .spawn(refuse(stream, message).instrument(span));
        return;
    };
    let connection = Connection::new(
        stream,
        shared.store.clone(),
        shared.protocol,
        shared.info.clone(),
        id,
    )
    .resp_limits(shared.resp)
    .limits(shared.limits);
    let shutdown = shared.shutdown.clone();
    let info = shared.info.clone();
    shared.tracker.spawn(
        async move {
            tracing::debug!("connection opened");
            let _open = info.connection_opened();
            if let Err(err) = connection.run(shutdown).await {
                tracing::warn!(cause = %err, "connection closed with error");
            }
            tracing::debug!("connection closed");
            drop(permit);
        }
        .instrument(span),
    );
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

/// Resolves when the process receives SIGINT or SIGTERM.
///
/// # Errors
/// If the signal handlers cannot be installed.
#[cfg(unix)]
pub async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("received SIGINT"),
        _ = terminate.recv() => tracing::info!("received SIGTERM"),
    }
    Ok(())
}

/// Resolves on Ctrl-C, where there are no Unix signals.
///
/// # Errors
/// If the handler cannot be installed.
#[cfg(not(unix))]
pub async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await?;
    tracing::info!("received Ctrl-C");
    Ok(())
}
