//! `blink-store echo --blocking`: the echo server with no event loop in the way: one OS
//! thread per connection, blocking reads and writes on the standard library's sockets.
//! Its latency is the floor of the kernel's sockets alone, below the async echo's, which
//! adds a runtime's readiness polling and task wake-ups to every round trip.
//!
//! # Stopping
//! A thread blocked in `accept` cannot be woken portably, so none is asked to wake: the
//! accept threads run until the process ends. The runtime that `run` is given only waits
//! for SIGINT or SIGTERM; then `run` removes the socket file and returns, and the
//! process's exit ends the accept and connection threads, as the async echo leaves its
//! open connections to the runtime's shutdown. No listener is polled, so accepting costs
//! no periodic wake-ups and no delay.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use memchr::memrchr;
use tokio_util::sync::CancellationToken;

use blink_store::listener::Listeners;

use crate::echo::MAX_LINE_LEN;

/// Bytes asked of the socket per read, as the async echo and the server ask.
const READ_CHUNK: usize = 16 * 1024;

/// Connections served at once; more are closed as soon as they are accepted. Each costs a
/// thread, so without a bound a flood of clients would exhaust the process's threads.
pub const MAX_CONNECTION_THREADS: usize = 4096;

/// Stack of each connection thread: the echo loop keeps its buffer on the heap, so the
/// default 2 MiB would only reserve 8 GiB of address space at the thread limit.
const CONNECTION_STACK_BYTES: usize = 256 * 1024;

/// How long an accept thread pauses after an accept error (such as running out of file
/// descriptors), so it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Echoes on `listeners` with a thread per connection until `shutdown` fires, then removes
/// the Unix socket file and returns; the threads end with the process (see the module's
/// doc).
///
/// # Errors
/// If a listener cannot say its address or its accept thread cannot be started.
pub async fn run(listeners: Listeners, shutdown: CancellationToken) -> std::io::Result<()> {
    let echo = Arc::new(Echo::new(MAX_CONNECTION_THREADS));
    for listener in listeners.tcp {
        tracing::info!(addr = %listener.local_addr()?, "listening on tcp");
        spawn_accept(listener, echo.clone())?;
    }
    #[cfg(unix)]
    let socket_file = match listeners.unix {
        Some((listener, file)) => {
            tracing::info!(path = %file.path().display(), "listening on unix socket");
            spawn_accept(listener, echo.clone())?;
            Some(file)
        }
        None => None,
    };
    shutdown.cancelled().await;
    tracing::info!("shutdown started");
    #[cfg(unix)]
    drop(socket_file);
    tracing::info!("shutdown done");
    Ok(())
}

/// A bound listener whose clients are echoed: TCP or Unix.
trait Listen: Send + 'static {
    /// An accepted client's stream.
    type Stream: Read + Write + Send + 'static;

    /// Waits for the next client; returns its stream and how logs name it.
    fn accept_client(&self) -> std::io::Result<(Self::Stream, String)>;
}

impl Listen for std::net::TcpListener {
    type Stream = std::net::TcpStream;

    fn accept_client(&self) -> std::io::Result<(Self::Stream, String)> {
        let (stream, addr) = self.accept()?;
        // All complete lines of a read go back in one write; waiting for more would only
        // add latency.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(cause = %err, "could not set TCP_NODELAY");
        }
        Ok((stream, addr.to_string()))
    }
}

#[cfg(unix)]
impl Listen for std::os::unix::net::UnixListener {
    type Stream = std::os::unix::net::UnixStream;

    fn accept_client(&self) -> std::io::Result<(Self::Stream, String)> {
        let (stream, _) = self.accept()?;
        // Unix clients have no address of their own; logs name the socket, as Redis does.
        let path = self.local_addr()?;
        let shown = path.as_pathname().map(std::path::Path::display);
        Ok((
            stream,
            shown.map_or_else(|| "unix:0".into(), |p| format!("{p}:0")),
        ))
    }
}

/// Starts the thread that accepts on `listener` for as long as the process runs.
fn spawn_accept<L: Listen>(listener: L, echo: Arc<Echo>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("blink-echo-accept".into())
        .spawn(move || loop {
            match listener.accept_client() {
                Ok((stream, peer)) => echo.admit(stream, peer),
                Err(err) => {
                    tracing::error!(cause = %err, "accept failed");
                    std::thread::sleep(ACCEPT_ERROR_PAUSE);
                }
            }
        })?;
    Ok(())
}

/// What every accept thread shares: the count of connection threads, and its bound.
struct Echo {
    /// Connection threads running now.
    live: AtomicUsize,
    /// The most connection threads at once; [`MAX_CONNECTION_THREADS`] outside tests.
    max_threads: usize,
}

impl Echo {
    fn new(max_threads: usize) -> Self {
        Self {
            live: AtomicUsize::new(0),
            max_threads,
        }
    }

    /// Gives an accepted client a thread of its own, or closes it if `max_threads` are
    /// already running.
    fn admit<S: Read + Write + Send + 'static>(self: &Arc<Self>, stream: S, peer: String) {
        // Ordering: Relaxed is enough; the count only bounds the threads, and nothing is
        // published through it. Incremented first, so racing accept threads cannot both
        // take the last place.
        if self.live.fetch_add(1, Ordering::Relaxed) >= self.max_threads {
            // Ordering: Relaxed, as above.
            self.live.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer, limit = self.max_threads, "too many connections: closed");
            return;
        }
        let place = Place(self.clone());
        let spawned = std::thread::Builder::new()
            .name("blink-echo-conn".into())
            .stack_size(CONNECTION_STACK_BYTES)
            .spawn(move || {
                let _place = place;
                if let Err(err) = echo_lines(stream) {
                    tracing::warn!(peer = %peer, cause = %err, "connection closed with error");
                }
            });
        // A thread that could not start drops its closure, and with it the place and the
        // stream.
        if let Err(err) = spawned {
            tracing::error!(cause = %err, "could not start a connection thread");
        }
    }
}

/// One connection thread's place in [`Echo::live`], given back when the thread ends.
struct Place(Arc<Echo>);

impl Drop for Place {
    fn drop(&mut self) {
        // Ordering: Relaxed; see `Echo::admit`.
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Writes back every complete line read from `stream`, until EOF: all complete lines of
/// one read with one write, as the async echo does.
///
/// # Errors
/// An I/O error, or a line longer than [`MAX_LINE_LEN`].
fn echo_lines<S: Read + Write>(mut stream: S) -> std::io::Result<()> {
    let mut buf = vec![0; READ_CHUNK];
    let mut filled = 0;
    loop {
        if buf.len() - filled < READ_CHUNK {
            buf.resize(filled + READ_CHUNK, 0);
        }
        let read = match stream.read(&mut buf[filled..]) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        // The bytes kept from before hold no line end, so only the new ones are searched.
        let searched = filled;
        filled += read;
        match memrchr(b'\n', &buf[searched..filled]) {
            Some(at) => {
                let end = searched + at + 1;
                stream.write_all(&buf[..end])?;
                buf.copy_within(end..filled, 0);
                filled -= end;
            }
            None if filled > MAX_LINE_LEN => {
                return Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    format!("line longer than {MAX_LINE_LEN} bytes"),
                ));
            }
            None => {}
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn echoes_complete_lines_only() {
        let (mut client, server) = UnixStream::pair().unwrap();
        let echo = std::thread::spawn(move || echo_lines(server));
        client.write_all(b"GET a\nSET b c\nPAR").unwrap();
        let mut got = [0u8; 14];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"GET a\nSET b c\n");
        client.write_all(b"TIAL\n").unwrap();
        let mut rest = [0u8; 8];
        client.read_exact(&mut rest).unwrap();
        assert_eq!(&rest, b"PARTIAL\n");
        drop(client);
        echo.join().unwrap().unwrap();
    }

    #[test]
    fn a_line_longer_than_the_limit_ends_the_connection() {
        let (mut client, server) = UnixStream::pair().unwrap();
        let echo = std::thread::spawn(move || echo_lines(server));
        let chunk = vec![b'x'; 1 << 16];
        // The writes fail once the echo has given up and closed its end.
        for _ in 0..=MAX_LINE_LEN / chunk.len() {
            if client.write_all(&chunk).is_err() {
                break;
            }
        }
        let err = echo.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }

    #[test]
    fn clients_past_the_thread_limit_are_closed() {
        let echo = Arc::new(Echo::new(1));
        let (mut first, first_server) = UnixStream::pair().unwrap();
        let (mut second, second_server) = UnixStream::pair().unwrap();
        echo.admit(first_server, "first".into());
        echo.admit(second_server, "second".into());
        let mut got = Vec::new();
        second.read_to_end(&mut got).unwrap();
        assert!(got.is_empty(), "the second client was served");
        first.write_all(b"PING\n").unwrap();
        let mut reply = [0u8; 5];
        first.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"PING\n");
    }
}
