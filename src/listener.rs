//! The accept loop, for every server in the binary: registers the bound TCP and Unix
//! listeners with the runtime, hands each accepted socket to an [`Accept`] handler with
//! what its listener speaks, and on shutdown stops accepting and removes the socket files.
//! Accepted sockets leave the accepting runtime as plain sockets ([`Accepted`]), so the
//! handler can serve each on whichever event loop it picks; a TLS listener's clients
//! carry their handshake along, to run there too.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

use crate::protocol::Wire;
#[cfg(unix)]
use crate::socket_file::SocketFile;
use crate::tls::{Handshake, ServerTls};

/// How long the accept loop pauses after an accept error (such as running out of file
/// descriptors), so it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The bound listeners to serve: those whose connections' first bytes choose their
/// protocol, those fixed to RESP, and those fixed to memcached's protocols.
#[derive(Debug, Default)]
pub struct Listeners {
    /// The TCP listeners: none, one, or one per address of a host name, on one port.
    pub tcp: Vec<std::net::TcpListener>,
    /// The Unix listener and its socket file, removed when serving ends.
    #[cfg(unix)]
    pub unix: Option<(std::os::unix::net::UnixListener, SocketFile)>,
    /// The TCP listeners fixed to RESP, as a Redis server's port is.
    pub resp_tcp: Vec<std::net::TcpListener>,
    /// The Unix listener fixed to RESP, and its socket file.
    #[cfg(unix)]
    pub resp_unix: Option<(std::os::unix::net::UnixListener, SocketFile)>,
    /// The TCP listeners fixed to memcached's text and meta protocols.
    pub memcache_tcp: Vec<std::net::TcpListener>,
    /// The Unix listener fixed to memcached's protocols, and its socket file.
    #[cfg(unix)]
    pub memcache_unix: Option<(std::os::unix::net::UnixListener, SocketFile)>,
    /// The TCP listeners whose clients speak TLS, then what `tcp` speaks.
    pub tls_tcp: Vec<std::net::TcpListener>,
    /// The TCP listeners whose clients speak TLS, then memcached's protocols.
    pub memcache_tls_tcp: Vec<std::net::TcpListener>,
    /// The TLS configuration of the TLS listeners; required when there are any.
    pub tls: Option<Arc<ServerTls>>,
}

impl Listeners {
    /// The TCP port served (the auto-detecting one first, a TLS one last), 0 without TCP.
    ///
    /// # Errors
    /// If the TCP listener cannot say its address.
    pub fn tcp_port(&self) -> std::io::Result<u16> {
        match (self.tcp.first().or(self.resp_tcp.first())).or(self.tls_tcp.first()) {
            Some(listener) => Ok(listener.local_addr()?.port()),
            None => Ok(0),
        }
    }

    /// The TCP port of the memcached listeners, 0 without one.
    ///
    /// # Errors
    /// If the TCP listener cannot say its address.
    pub fn memcache_port(&self) -> std::io::Result<u16> {
        match self.memcache_tcp.first().or(self.memcache_tls_tcp.first()) {
            Some(listener) => Ok(listener.local_addr()?.port()),
            None => Ok(0),
        }
    }

    /// Whether a memcached listener is configured.
    pub fn has_memcache(&self) -> bool {
        #[cfg(unix)]
        if self.memcache_unix.is_some() {
            return true;
        }
        !self.memcache_tcp.is_empty() || !self.memcache_tls_tcp.is_empty()
    }
}

/// Where an accepted client connects from and to, as logs and CLIENT LIST show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The client's address: `ip:port`, or `path:0` over a Unix socket, as Redis shows it.
    pub addr: String,
    /// The address it connected to, the same way.
    pub local: String,
    /// The socket's file descriptor, -1 where there is none to show.
    pub fd: i64,
    /// Whether it came over a Unix socket.
    pub unix: bool,
}

impl Default for Peer {
    /// A peer nothing is known of: a stream handed over directly, not accepted here.
    fn default() -> Self {
        Self {
            addr: "?:0".into(),
            local: "?:0".into(),
            fd: -1,
            unix: false,
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.addr)
    }
}

/// The file descriptor of an accepted socket.
#[cfg(unix)]
fn fd_of(socket: &impl std::os::fd::AsRawFd) -> i64 {
    i64::from(socket.as_raw_fd())
}

/// Where sockets have no file descriptors to show: -1, as Redis shows a client without one.
#[cfg(not(unix))]
fn fd_of<T>(_socket: &T) -> i64 {
    -1
}

/// An accepted client's socket, in non-blocking mode and registered with no runtime: the
/// event loop that serves it registers it with its own ([`Accepted::serve`]).
#[derive(Debug)]
pub enum Accepted {
    /// A TCP client.
    Tcp(std::net::TcpStream),
    /// A Unix socket client.
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
    /// A TCP client of a TLS listener, and the handshake it is to do first.
    Tls(std::net::TcpStream, Handshake),
}

impl Accepted {
    /// Registers the socket with the current runtime and runs `serve` on it: call it on
    /// the event loop that is to serve the client. A TLS client does its handshake
    /// first, here; if it fails or times out, the connection is closed and `serve` is
    /// told instead.
    ///
    /// # Errors
    /// If the socket cannot be registered.
    pub async fn serve<H: Serve>(self, serve: H) -> std::io::Result<()> {
        match self {
            Self::Tcp(stream) => serve.serve(tokio::net::TcpStream::from_std(stream)?).await,
            #[cfg(unix)]
            Self::Unix(stream) => serve.serve(tokio::net::UnixStream::from_std(stream)?).await,
            Self::Tls(stream, handshake) => {
                let stream = tokio::net::TcpStream::from_std(stream)?;
                match handshake.run(stream).await {
                    Ok(stream) => serve.serve(stream).await,
                    Err(cause) => {
                        serve.handshake_failed(&cause);
                        Ok(())
                    }
                }
            }
        }
    }
}

/// What serves one registered client stream, whichever kind of socket it is.
pub trait Serve {
    /// Serves the client until it is done.
    fn serve<S>(self, stream: S) -> impl std::future::Future<Output = std::io::Result<()>> + Send
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;

    /// Called instead of [`Serve::serve`] when the client's TLS handshake failed or timed
    /// out; its connection is closed already.
    fn handshake_failed(self, cause: &std::io::Error);
}

/// What a server does with each client it accepts.
pub trait Accept: Send + Sync + 'static {
    /// Takes over an accepted client's socket, connected from and to `peer`; `wire` is
    /// what the listener that accepted it speaks. Must not block: hand the client to a
    /// task.
    fn accept(self: &Arc<Self>, stream: Accepted, peer: Peer, wire: Wire);
}

/// Accepts on `listeners` until `shutdown` fires, giving every client to `handler`; then
/// drops the listeners and removes the socket files. Clients already accepted are the
/// handler's to finish.
///
/// # Errors
/// If a listener cannot be registered with the runtime.
pub async fn accept_until<H: Accept>(
    listeners: Listeners,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut accepting = tokio::task::JoinSet::new();
    let plain = |tcp: Vec<_>, wire| tcp.into_iter().map(move |tcp| (tcp, wire, None));
    let auto = plain(listeners.tcp, Wire::Auto);
    let resp = plain(listeners.resp_tcp, Wire::Resp);
    let memcache = plain(listeners.memcache_tcp, Wire::Memcache);
    let tls = &listeners.tls;
    let secure = |tcp: Vec<_>, wire| tcp.into_iter().map(move |tcp| (tcp, wire, tls.clone()));
    let auto_tls = secure(listeners.tls_tcp, Wire::Auto);
    let memcache_tls = secure(listeners.memcache_tls_tcp, Wire::Memcache);
    let all = auto.chain(resp).chain(memcache).chain(auto_tls);
    for (listener, wire, tls) in all.chain(memcache_tls) {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        if tls.is_some() {
            tracing::info!(%addr, %wire, "listening on tls");
        } else {
            tracing::info!(%addr, %wire, "listening on tcp");
        }
        let accepted = accept_tcp(listener, (wire, tls), handler.clone(), shutdown.clone());
        accepting.spawn(accepted);
    }
    #[cfg(unix)]
    let mut socket_files = Vec::new();
    #[cfg(unix)]
    for (bound, wire) in [
        (listeners.unix, Wire::Auto),
        (listeners.resp_unix, Wire::Resp),
        (listeners.memcache_unix, Wire::Memcache),
    ] {
        let Some((listener, file)) = bound else {
            continue;
        };
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        tracing::info!(path = %file.path().display(), %wire, "listening on unix socket");
        // Redis shows a Unix socket's clients as `path:0`, from and to.
        let addr = format!("{}:0", file.path().display());
        let accepted = accept_unix(listener, (addr, wire), handler.clone(), shutdown.clone());
        accepting.spawn(accepted);
        socket_files.push(file);
    }
    shutdown.cancelled().await;
    tracing::info!("shutdown started");
    // The accept loops end on the same token and drop their listeners.
    while accepting.join_next().await.is_some() {}
    #[cfg(unix)]
    drop(socket_files);
    Ok(())
}

/// Accepts TCP clients until `shutdown`, each to speak `wire`, over TLS when `tls` is
/// given: the handshake takes the configuration current at the accept.
async fn accept_tcp<H: Accept>(
    listener: TcpListener,
    (wire, tls): (Wire, Option<Arc<ServerTls>>),
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, addr)) => {
                // Replies are written once per batch; waiting for more would only add
                // latency.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(cause = %err, "could not set TCP_NODELAY");
                }
                let local = stream
                    .local_addr()
                    .map_or_else(|_| "?:0".into(), |a| a.to_string());
                let peer = Peer {
                    addr: addr.to_string(),
                    local,
                    fd: fd_of(&stream),
                    unix: false,
                };
                let accepted = match (stream.into_std(), &tls) {
                    (Ok(stream), None) => Accepted::Tcp(stream),
                    (Ok(stream), Some(tls)) => {
                        Accepted::Tls(stream, tls.handshake(shutdown.clone()))
                    }
                    (Err(err), _) => {
                        tracing::warn!(cause = %err, "could not hand over a client");
                        continue;
                    }
                };
                handler.accept(accepted, peer, wire);
            }
            Err(err) => accept_failed(&err).await,
        }
    }
}

#[cfg(unix)]
async fn accept_unix<H: Accept>(
    listener: UnixListener,
    (addr, wire): (String, Wire),
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let peer = Peer {
                    addr: addr.clone(),
                    local: addr.clone(),
                    fd: fd_of(&stream),
                    unix: true,
                };
                match stream.into_std() {
                    Ok(stream) => handler.accept(Accepted::Unix(stream), peer, wire),
                    Err(err) => tracing::warn!(cause = %err, "could not hand over a client"),
                }
            }
            Err(err) => accept_failed(&err).await,
        }
    }
}

async fn accept_failed(err: &std::io::Error) {
    tracing::error!(cause = %err, "accept failed");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}
