//! The accept loop, for every server in the binary: registers the bound TCP and Unix
//! listeners with the runtime, hands each accepted stream to an [`Accept`] handler with
//! what its listener speaks, and on shutdown stops accepting and removes the socket files.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

use crate::protocol::Wire;
#[cfg(unix)]
use crate::socket_file::SocketFile;

/// How long the accept loop pauses after an accept error (such as running out of file
/// descriptors), so it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The bound listeners to serve: those whose connections' first bytes choose their
/// protocol, and those fixed to RESP.
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
}

impl Listeners {
    /// The TCP port served (the auto-detecting one first), 0 without TCP.
    ///
    /// # Errors
    /// If the TCP listener cannot say its address.
    pub fn tcp_port(&self) -> std::io::Result<u16> {
        match self.tcp.first().or(self.resp_tcp.first()) {
            Some(listener) => Ok(listener.local_addr()?.port()),
            None => Ok(0),
        }
    }
}

/// What a server does with each client it accepts.
pub trait Accept: Send + Sync + 'static {
    /// Takes over an accepted client's stream; `peer` names it for logs (its address,
    /// or `unix`), and `wire` is what the listener that accepted it speaks. Must not
    /// block: spawn a task for the client.
    fn accept<S>(self: &Arc<Self>, stream: S, peer: String, wire: Wire)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static;
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
    let auto = listeners.tcp.into_iter().map(|tcp| (tcp, Wire::Auto));
    let resp = listeners.resp_tcp.into_iter().map(|tcp| (tcp, Wire::Resp));
    for (listener, wire) in auto.chain(resp) {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        tracing::info!(addr = %listener.local_addr()?, %wire, "listening on tcp");
        let accepted = accept_tcp(listener, wire, handler.clone(), shutdown.clone());
        accepting.spawn(accepted);
    }
    #[cfg(unix)]
    let mut socket_files = Vec::new();
    #[cfg(unix)]
    for (bound, wire) in [
        (listeners.unix, Wire::Auto),
        (listeners.resp_unix, Wire::Resp),
    ] {
        let Some((listener, file)) = bound else {
            continue;
        };
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        tracing::info!(path = %file.path().display(), %wire, "listening on unix socket");
        let accepted = accept_unix(listener, wire, handler.clone(), shutdown.clone());
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

async fn accept_tcp<H: Accept>(
    listener: TcpListener,
    wire: Wire,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Replies are written once per batch; waiting for more would only add
                // latency.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(cause = %err, "could not set TCP_NODELAY");
                }
                handler.accept(stream, peer.to_string(), wire);
            }
            Err(err) => accept_failed(&err).await,
        }
    }
}

#[cfg(unix)]
async fn accept_unix<H: Accept>(
    listener: UnixListener,
    wire: Wire,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => handler.accept(stream, "unix".into(), wire),
            Err(err) => accept_failed(&err).await,
        }
    }
}

async fn accept_failed(err: &std::io::Error) {
    tracing::error!(cause = %err, "accept failed");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}
