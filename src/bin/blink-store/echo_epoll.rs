//! `blink-store echo --epoll`: the echo server on a hand-written event loop, shaped as
//! Redis's own: one thread that waits in epoll (mio's, kqueue elsewhere), accepts, and
//! drives each connection as a plain state machine of buffers, with no async runtime,
//! tasks or wakers. It sleeps whenever it has nothing to do, as Redis does.
//!
//! Beside the blocking floor (the sockets alone) and the async echo (the sockets and the
//! server's event loop), it measures what a hand-written loop would save over the
//! runtime: decision 0007 weighs that against writing the server's connections again.
//!
//! # Stopping
//! The runtime that `run` is given waits for SIGINT or SIGTERM, then wakes the loop
//! through mio's waker; the loop drops its connections and listeners and returns, and
//! `run` removes the socket file.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use memchr::memrchr;
use mio::event::Source;
use mio::{Events, Interest, Poll, Token, Waker};
use tokio_util::sync::CancellationToken;

use blink_store::listener::Listeners;

use crate::echo::MAX_LINE_LEN;
use crate::echo_blocking::MAX_CONNECTION_THREADS;

/// Bytes asked of the socket per read, as the async echo and the server ask.
const READ_CHUNK: usize = 16 * 1024;

/// Connections served at once, as the blocking echo bounds its threads; more are closed
/// as soon as they are accepted.
const MAX_CONNECTIONS: usize = MAX_CONNECTION_THREADS;

/// Readiness events taken from the kernel per wait.
const EVENTS_PER_WAIT: usize = 1024;

/// The token of the waker that stops the loop. Listeners are numbered from 0, then
/// connections after them.
const STOP: Token = Token(usize::MAX);

/// Echoes on `listeners` on one event-loop thread until `shutdown` fires, then stops the
/// loop, which closes every connection, and removes the Unix socket file.
///
/// # Errors
/// If the poller, a listener's registration or the loop's thread cannot be set up, or
/// the loop ended with an error.
pub async fn run(listeners: Listeners, shutdown: CancellationToken) -> std::io::Result<()> {
    let poll = Poll::new()?;
    let mut accepting = Vec::new();
    for listener in listeners.tcp {
        tracing::info!(addr = %listener.local_addr()?, "listening on tcp");
        listener.set_nonblocking(true)?;
        accepting.push(Listener::Tcp(mio::net::TcpListener::from_std(listener)));
    }
    #[cfg(unix)]
    let socket_file = match listeners.unix {
        Some((listener, file)) => {
            tracing::info!(path = %file.path().display(), "listening on unix socket");
            listener.set_nonblocking(true)?;
            accepting.push(Listener::Unix(mio::net::UnixListener::from_std(listener)));
            Some(file)
        }
        None => None,
    };
    for (index, listener) in accepting.iter_mut().enumerate() {
        poll.registry()
            .register(listener.source(), Token(index), Interest::READABLE)?;
    }
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let event_loop = EventLoop {
        poll,
        listeners: accepting,
        connections: Slots::default(),
    };
    let thread = std::thread::Builder::new()
        .name("blink-echo-epoll".into())
        .spawn(move || event_loop.serve())?;
    shutdown.cancelled().await;
    tracing::info!("shutdown started");
    waker.wake()?;
    let served = tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(std::io::Error::other)?;
    #[cfg(unix)]
    drop(socket_file);
    tracing::info!("shutdown done");
    served.unwrap_or_else(|_| Err(std::io::Error::other("the event loop panicked")))
}

/// The loop: its poller, what it accepts on, and the connections it serves.
struct EventLoop {
    poll: Poll,
    listeners: Vec<Listener>,
    connections: Slots,
}

impl EventLoop {
    /// Waits for readiness and acts on it until the waker fires.
    fn serve(mut self) -> std::io::Result<()> {
        let mut events = Events::with_capacity(EVENTS_PER_WAIT);
        loop {
            match self.poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
            for event in &events {
                let token = event.token();
                if token == STOP {
                    return Ok(());
                }
                if token.0 < self.listeners.len() {
                    self.accept(token.0);
                    continue;
                }
                let slot = token.0 - self.listeners.len();
                let Some(connection) = self.connections.get_mut(slot) else {
                    continue;
                };
                if let Err(err) = connection.drive() {
                    if !matches!(err.kind(), ErrorKind::UnexpectedEof) {
                        tracing::warn!(cause = %err, "connection closed with error");
                    }
                    self.close(slot);
                }
            }
        }
    }

    /// Accepts every client waiting on listener `index`; each is read at once, as its
    /// request may have arrived with the connection.
    fn accept(&mut self, index: usize) {
        loop {
            let stream = match self.listeners[index].accept() {
                Ok(stream) => stream,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    // Such as running out of file descriptors: tried again at the next
                    // client's arrival.
                    tracing::error!(cause = %err, "accept failed");
                    return;
                }
            };
            if self.connections.len() >= MAX_CONNECTIONS {
                tracing::warn!(limit = MAX_CONNECTIONS, "too many connections: closed");
                continue;
            }
            let slot = self.connections.insert(Connection::new(stream));
            let token = Token(self.listeners.len() + slot);
            let Some(connection) = self.connections.get_mut(slot) else {
                continue;
            };
            // Readable and writable, both edge-triggered: a writable edge comes only after
            // a write found the socket full.
            let served = self
                .poll
                .registry()
                .register(
                    connection.stream.source(),
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )
                .and_then(|()| connection.drive());
            if let Err(err) = served {
                if !matches!(err.kind(), ErrorKind::UnexpectedEof) {
                    tracing::warn!(cause = %err, "connection closed with error");
                }
                self.close(slot);
            }
        }
    }

    /// Deregisters and drops the connection in `slot`.
    fn close(&mut self, slot: usize) {
        if let Some(mut connection) = self.connections.remove(slot) {
            // The socket is closed on drop, which deregisters it in any case.
            let _ = self.poll.registry().deregister(connection.stream.source());
        }
    }
}

/// A listener of either kind.
enum Listener {
    Tcp(mio::net::TcpListener),
    #[cfg(unix)]
    Unix(mio::net::UnixListener),
}

impl Listener {
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Self::Tcp(listener) => listener,
            #[cfg(unix)]
            Self::Unix(listener) => listener,
        }
    }

    /// The next waiting client.
    fn accept(&self) -> std::io::Result<Stream> {
        match self {
            Self::Tcp(listener) => {
                let (stream, _) = listener.accept()?;
                // All complete lines of a read go back in one write; waiting for more
                // would only add latency.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(cause = %err, "could not set TCP_NODELAY");
                }
                Ok(Stream::Tcp(stream))
            }
            #[cfg(unix)]
            Self::Unix(listener) => Ok(Stream::Unix(listener.accept()?.0)),
        }
    }
}

/// A client's socket of either kind.
enum Stream {
    Tcp(mio::net::TcpStream),
    #[cfg(unix)]
    Unix(mio::net::UnixStream),
}

impl Stream {
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Self::Tcp(stream) => stream,
            #[cfg(unix)]
            Self::Unix(stream) => stream,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.read(buf),
            #[cfg(unix)]
            Self::Unix(stream) => stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.write(buf),
            #[cfg(unix)]
            Self::Unix(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One client: what it sent and what it has not yet been sent back.
struct Connection<S = Stream> {
    stream: S,
    /// Bytes read; those before `filled` are a partial line, or lines not yet echoed.
    input: Vec<u8>,
    filled: usize,
    /// Echoed lines the socket has not taken yet; while any wait, nothing is read, so a
    /// client that does not read its echoes is held to one read's worth.
    output: Vec<u8>,
    written: usize,
}

impl<S: Read + Write> Connection<S> {
    fn new(stream: S) -> Self {
        Self {
            stream,
            input: Vec::new(),
            filled: 0,
            output: Vec::new(),
            written: 0,
        }
    }

    /// Acts on a readiness event: sends what waits, then reads and echoes until the
    /// socket has no more to give or no room for more echoes. A read shorter than asked
    /// drained the socket (the next bytes bring a new edge), so a request costs one read
    /// and one write, with no read that only finds nothing.
    ///
    /// # Errors
    /// An I/O error, a line longer than [`MAX_LINE_LEN`], or `UnexpectedEof` at the
    /// client's close.
    fn drive(&mut self) -> std::io::Result<()> {
        loop {
            if !self.send()? {
                return Ok(());
            }
            if self.input.len() - self.filled < READ_CHUNK {
                self.input.resize(self.filled + READ_CHUNK, 0);
            }
            let room = self.input.len() - self.filled;
            let read = match self.stream.read(&mut self.input[self.filled..]) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(read) => read,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            self.echo(read)?;
            if read < room {
                return self.send().map(drop);
            }
        }
    }

    /// Queues every complete line among the `read` bytes just read, after the bytes kept
    /// from before (which hold no line end).
    fn echo(&mut self, read: usize) -> std::io::Result<()> {
        let searched = self.filled;
        self.filled += read;
        match memrchr(b'\n', &self.input[searched..self.filled]) {
            Some(at) => {
                let end = searched + at + 1;
                self.output.extend_from_slice(&self.input[..end]);
                self.input.copy_within(end..self.filled, 0);
                self.filled -= end;
                Ok(())
            }
            None if self.filled > MAX_LINE_LEN => Err(std::io::Error::new(
                ErrorKind::InvalidData,
                format!("line longer than {MAX_LINE_LEN} bytes"),
            )),
            None => Ok(()),
        }
    }

    /// Writes what waits; `false` if the socket is full (its writable edge resumes).
    fn send(&mut self) -> std::io::Result<bool> {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(written) => self.written += written,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        self.output.clear();
        self.written = 0;
        Ok(true)
    }
}

/// The connections, each in a numbered slot; a closed connection's slot is used again.
#[derive(Default)]
struct Slots {
    slots: Vec<Option<Connection>>,
    free: Vec<usize>,
}

impl Slots {
    fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn insert(&mut self, connection: Connection) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(connection);
                slot
            }
            None => {
                self.slots.push(Some(connection));
                self.slots.len() - 1
            }
        }
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Connection> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn remove(&mut self, slot: usize) -> Option<Connection> {
        let connection = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(connection)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A socket that hands out `incoming` a chunk per read and takes at most `room`
    /// bytes in all until given more, as a non-blocking socket does.
    struct Fake {
        incoming: VecDeque<Vec<u8>>,
        sent: Vec<u8>,
        room: usize,
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(chunk) = self.incoming.pop_front() else {
                return Err(ErrorKind::WouldBlock.into());
            };
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.room);
            if n == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.room -= n;
            self.sent.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn fake(chunks: &[&[u8]], room: usize) -> Connection<Fake> {
        Connection::new(Fake {
            incoming: chunks.iter().map(|chunk| chunk.to_vec()).collect(),
            sent: Vec::new(),
            room,
        })
    }

    #[test]
    fn echoes_complete_lines_and_keeps_the_partial_one() {
        let mut connection = fake(&[b"GET a\nSET b c\nPAR"], usize::MAX);
        connection.drive().unwrap();
        assert_eq!(connection.stream.sent, b"GET a\nSET b c\n");
        connection.stream.incoming.push_back(b"TIAL\n".to_vec());
        connection.drive().unwrap();
        assert_eq!(connection.stream.sent, b"GET a\nSET b c\nPARTIAL\n");
    }

    #[test]
    fn a_full_socket_stops_reading_until_it_takes_the_echoes() {
        let mut connection = fake(&[b"ab\n", b"cd\n"], 2);
        // The first read drained the fake (shorter than asked), so the loop stops there.
        connection.drive().unwrap();
        assert_eq!(connection.stream.sent, b"ab");
        assert_eq!(
            connection.stream.incoming.len(),
            1,
            "read on while the socket was full"
        );
        connection.stream.room = usize::MAX;
        connection.drive().unwrap();
        assert_eq!(connection.stream.sent, b"ab\ncd\n");
    }

    #[test]
    fn a_line_longer_than_the_limit_ends_the_connection() {
        let chunk = vec![b'x'; READ_CHUNK];
        let chunks = vec![chunk.as_slice(); MAX_LINE_LEN / READ_CHUNK + 1];
        let mut connection = fake(&chunks, usize::MAX);
        let err = connection.drive().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }

    #[test]
    fn the_end_of_input_is_reported() {
        let mut connection = fake(&[b"last\n", b""], usize::MAX);
        // A read shorter than asked ends the turn, so the close is seen on the next.
        connection.drive().unwrap();
        let err = connection.drive().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(connection.stream.sent, b"last\n");
    }

    #[test]
    fn slots_are_used_again_after_a_close() {
        let mut slots = Slots::default();
        let pair = || Stream::Unix(mio::net::UnixStream::pair().unwrap().0);
        let first = slots.insert(Connection::new(pair()));
        let second = slots.insert(Connection::new(pair()));
        assert_eq!((first, second, slots.len()), (0, 1, 2));
        assert!(slots.remove(first).is_some());
        assert!(slots.remove(first).is_none());
        assert_eq!(slots.insert(Connection::new(pair())), first);
        assert_eq!(slots.len(), 2);
    }
}
