//! One client connection: reads bytes, frames them into requests (lines of the Blink
//! protocol, or RESP frames when the first byte is `*` or the first line is Redis's inline
//! `PING`), has each parsed and executed, and writes the replies back, many per write.
//! Knows bytes, lines and frames, never command names. Every buffer here is bounded:
//!
//! * input: at most one request longer than any valid one, plus one read;
//! * output: replies are written while more requests are read. A client that keeps
//!   sending while the socket takes none of its replies (it does not read them) lets
//!   them pile up here; past [`ConnectionLimits::max_output_bytes`] it is disconnected.
//!   A client that reads gets requests executed a buffer of replies at a time;
//! * time: with an idle timeout, a connection that neither sends nor takes replies for
//!   that long is closed.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::command::{self, Context, ServerInfo, Session};
use crate::protocol::resp::RespProtocol;
use crate::protocol::text::TextProtocol;
use crate::protocol::{ClientError, Reply};
use crate::store::Store;

/// Bytes asked of the socket per read: one read usually holds a whole pipelined batch.
const READ_CHUNK: usize = 16 * 1024;

/// Bytes a RESP command may take beyond its key and value: room for its headers, or for
/// an inline command.
const RESP_OVERHEAD: usize = 64 * 1024;

/// Replies buffered beyond this are written out before more requests are executed, so a
/// client that reads its replies never makes the server hold more than this (plus one
/// reply).
const FLUSH_AT: usize = 64 * 1024;

/// Default cap on replies held for a client that does not read them: 32 MiB, Redis's
/// hard limit for replica and pub/sub clients.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 32 << 20;

/// How a connection is bounded beyond its protocols' own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Close a connection that neither sends nor takes replies for this long.
    pub idle_timeout: Option<Duration>,
    /// Disconnect a client whose unread replies held here pass this many bytes.
    pub max_output_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            idle_timeout: None,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// The wire protocol of a connection, chosen by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// Nothing received yet.
    Undecided,
    /// The Blink line protocol.
    Text,
    /// RESP: the first byte was `*`, or the first line Redis's inline `PING`.
    Resp,
}

/// Why [`Connection::execute_lines`] or [`Connection::execute_frames`] stopped.
enum Step {
    /// No complete line is left.
    Done,
    /// The client quit.
    Quit,
    /// Enough replies are buffered to write them out before going on.
    Full,
}

/// A client connection over any byte stream (TCP or Unix socket).
pub struct Connection<S> {
    /// The client's socket: requests come from it and replies go to it, both polled by
    /// one future, so neither waits for the other and no lock is needed.
    stream: S,
    /// The shared cache.
    store: Arc<Store>,
    /// Server-wide facts for INFO.
    server: Arc<ServerInfo>,
    /// This connection's id, name, protocol version and whether it authenticated.
    session: Session,
    /// Parser, encoder and limits of the line protocol.
    protocol: TextProtocol,
    /// Framer, parser and encoder of RESP, with the same key and value limits.
    resp: RespProtocol,
    /// Idle timeout and output cap.
    limits: ConnectionLimits,
    /// Which of the two this client speaks.
    wire: Wire,
    /// The argument ranges of the RESP command being executed; reused.
    args: Vec<Range<usize>>,
    /// Received bytes not yet framed: at most one partial request plus one read.
    read_buf: BytesMut,
    /// Encoded replies; those before `written` have been sent.
    write_buf: Vec<u8>,
    /// How much of `write_buf` the socket has taken.
    written: usize,
    /// Inside a line that was too long: drop bytes up to its LF.
    discarding: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps an accepted stream, the connection numbered `id`.
    pub fn new(
        stream: S,
        store: Arc<Store>,
        protocol: TextProtocol,
        server: Arc<ServerInfo>,
        id: u64,
    ) -> Self {
        let session = server.session(id);
        Self {
            stream,
            store,
            server,
            session,
            protocol,
            resp: RespProtocol::new()
                .max_key_len(protocol.key_limit())
                .max_bulk_len(protocol.value_limit()),
            limits: ConnectionLimits::default(),
            wire: Wire::Undecided,
            args: Vec::new(),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(READ_CHUNK),
            written: 0,
            discarding: false,
        }
    }

    /// Sets the idle timeout and the output cap.
    pub fn limits(mut self, limits: ConnectionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets RESP's framing limits (bulk length, argument count, inline length); its key
    /// limit stays the line protocol's.
    pub fn resp_limits(mut self, resp: RespProtocol) -> Self {
        self.resp = resp.max_key_len(self.protocol.key_limit());
        self
    }

    /// Replies encoded and not yet taken by the socket.
    fn pending(&self) -> usize {
        self.write_buf.len() - self.written
    }

    /// Serves requests until the client quits or disconnects, or `shutdown` fires; then
    /// flushes every reply owed and closes the write side. A client over the output cap
    /// or idle past the timeout is dropped without more replies.
    ///
    /// # Errors
    /// An I/O error on the socket.
    pub async fn run(mut self, shutdown: CancellationToken) -> std::io::Result<()> {
        // Input arrived while the socket took no replies: execute it even though replies
        // are waiting, so a client that never reads reaches the output cap.
        let mut forced = false;
        loop {
            if self.wire != Wire::Undecided && (forced || self.pending() < FLUSH_AT) {
                let limit = if forced { usize::MAX } else { FLUSH_AT };
                forced = false;
                if self.execute(limit) {
                    return self.finish().await;
                }
            }
            if self.pending() > self.limits.max_output_bytes {
                tracing::warn!(
                    pending_bytes = self.pending(),
                    limit = self.limits.max_output_bytes,
                    "closing: replies waiting for this client passed the output limit \
                     (it sends without reading them, or asked for more than the limit at once)"
                );
                return Ok(());
            }
            let can_read = self.read_buf.len() < self.max_request_len() + READ_CHUNK;
            let idle = self.limits.idle_timeout;
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return self.finish().await,
                () = sleep_or_never(idle) => {
                    tracing::debug!("closing: idle timeout");
                    return Ok(());
                }
                io = std::future::poll_fn(|cx| self.poll_io(cx, can_read)) => match io? {
                    Io::Wrote(n) => self.sent(n)?,
                    // EOF, possibly in the middle of a request: answer what is complete.
                    Io::Read(0) => return self.finish().await,
                    Io::Read(_) => {
                        forced = self.pending() > 0;
                        if self.wire == Wire::Undecided {
                            self.wire = choose_wire(&self.read_buf);
                        }
                    }
                },
            }
        }
    }

    /// Writes waiting replies if the socket takes them, else reads more requests if
    /// `can_read`; whichever happens first.
    fn poll_io(&mut self, cx: &mut TaskContext<'_>, can_read: bool) -> Poll<std::io::Result<Io>> {
        if self.pending() > 0 {
            let unsent = &self.write_buf[self.written..];
            if let Poll::Ready(written) = Pin::new(&mut self.stream).poll_write(cx, unsent) {
                return Poll::Ready(written.map(Io::Wrote));
            }
        }
        if can_read {
            self.read_buf.reserve(READ_CHUNK);
            let read =
                tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.read_buf);
            return read.map(|read| read.map(Io::Read));
        }
        Poll::Pending
    }

    /// Counts `n` bytes the socket took.
    fn sent(&mut self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.written += n;
        if self.written == self.write_buf.len() {
            self.write_buf.clear();
            self.written = 0;
        }
        Ok(())
    }

    /// Executes the complete requests left, writing replies a buffer at a time, then
    /// closes the write side: for QUIT, EOF and shutdown.
    async fn finish(mut self) -> std::io::Result<()> {
        loop {
            let before = self.read_buf.len();
            let quit = self.wire != Wire::Undecided && self.execute(FLUSH_AT);
            self.flush().await?;
            if quit || self.read_buf.len() == before {
                break;
            }
        }
        self.stream.shutdown().await
    }

    /// Executes complete requests in the read buffer until none is left or `limit` bytes
    /// of replies are waiting; `true` if the connection is to close (QUIT, or a request
    /// that cannot be framed).
    fn execute(&mut self, limit: usize) -> bool {
        match self.wire {
            Wire::Resp => self.execute_resp_batch(limit),
            Wire::Text | Wire::Undecided => self.execute_batch(limit),
        }
    }

    /// The longest request that can be valid in this connection's protocol.
    fn max_request_len(&self) -> usize {
        match self.wire {
            Wire::Resp => self.max_resp_command_len(),
            Wire::Text | Wire::Undecided => self.protocol.max_line_len(),
        }
    }

    /// Executes complete lines; `true` if the client quit.
    fn execute_batch(&mut self, limit: usize) -> bool {
        let (consumed, step) = self.execute_lines(0, limit);
        self.read_buf.advance(consumed);
        let quit = matches!(step, Step::Quit);
        if quit || self.discarding {
            // After QUIT nothing more is read; inside an overlong line nothing is kept.
            self.read_buf.clear();
        } else if matches!(step, Step::Done) && self.read_buf.len() > self.protocol.max_line_len() {
            // Refuse the line now and drop the rest of it as it arrives.
            let err = self.protocol.overlong_error(&self.read_buf);
            tracing::debug!(%err, "discarding an overlong line");
            self.protocol
                .encode(&Reply::Error(err), &mut self.write_buf);
            self.read_buf.clear();
            self.discarding = true;
        }
        quit
    }

    /// Executes complete lines from `consumed` on, each under its own guard, until none
    /// is left, the client quits, or `limit` bytes of replies wait; returns where it
    /// stopped. (A guard held across a long pipeline would keep papaya from freeing any
    /// entry removed meanwhile, by any thread.)
    fn execute_lines(&mut self, mut consumed: usize, limit: usize) -> (usize, Step) {
        while let Some(len) = memchr::memchr(b'\n', &self.read_buf[consumed..]) {
            let guard = self.store.guard();
            let line = &self.read_buf[consumed..consumed + len];
            consumed += len + 1;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            let reply = if line.len() > self.protocol.max_line_len() {
                Reply::Error(self.protocol.overlong_error(line))
            } else {
                match self.protocol.parse(line) {
                    Ok(request) => {
                        let mut cx = Context::new(&self.store, &self.server, &mut self.session);
                        command::apply(request, &mut cx, &guard)
                    }
                    Err(err) => Reply::Error(err),
                }
            };
            tracing::debug!(?reply);
            self.protocol.encode(&reply, &mut self.write_buf);
            if matches!(reply, Reply::Close) {
                return (consumed, Step::Quit);
            }
            if self.pending() >= limit {
                return (consumed, Step::Full);
            }
        }
        (consumed, Step::Done)
    }

    /// Executes complete RESP commands until none is left or `limit` bytes of replies
    /// wait; `true` if the connection is to close (the client quit, or sent something
    /// that cannot be framed).
    fn execute_resp_batch(&mut self, limit: usize) -> bool {
        let (consumed, step) = self.execute_frames(0, limit);
        self.read_buf.advance(consumed);
        let mut quit = matches!(step, Step::Quit);
        if quit {
            self.read_buf.clear();
        } else if matches!(step, Step::Done) && self.read_buf.len() > self.max_resp_command_len() {
            // An incomplete command already longer than any valid one: refuse and close.
            let err = ClientError::LineTooLong {
                limit: self.max_resp_command_len(),
            };
            tracing::debug!(%err, "closing: RESP command too long");
            self.resp.encode(&Reply::Error(err), &mut self.write_buf);
            self.read_buf.clear();
            quit = true;
        }
        quit
    }

    /// The longest RESP command that can be valid: a key, a value and headers.
    fn max_resp_command_len(&self) -> usize {
        self.protocol.key_limit() + self.protocol.value_limit() + RESP_OVERHEAD
    }

    /// Executes complete RESP commands from `consumed` on, each under its own guard, as
    /// [`Connection::execute_lines`] does for lines. A framing error is answered and
    /// closes the connection, as Redis does.
    fn execute_frames(&mut self, mut consumed: usize, limit: usize) -> (usize, Step) {
        loop {
            let start = consumed;
            match self.resp.frame(&mut self.read_buf[start..], &mut self.args) {
                Ok(None) => return (consumed, Step::Done),
                Err(err) => {
                    tracing::debug!(%err, "closing: RESP framing error");
                    self.resp
                        .encode(&Reply::Error(err.into()), &mut self.write_buf);
                    return (consumed, Step::Quit);
                }
                Ok(Some(len)) => consumed += len,
            }
            if self.args.is_empty() {
                continue;
            }
            let frame = &self.read_buf[start..consumed];
            let guard = self.store.guard();
            let reply = match self.resp.parse(frame, &self.args) {
                Ok(request) => {
                    let mut cx = Context::new(&self.store, &self.server, &mut self.session);
                    command::apply(request, &mut cx, &guard)
                }
                Err(err) => Reply::Error(err),
            };
            // HELLO may have switched the version; its own reply is in the new one.
            self.resp = self.resp.resp3(self.session.resp3);
            tracing::debug!(?reply);
            self.resp.encode(&reply, &mut self.write_buf);
            if matches!(reply, Reply::Close) {
                return (consumed, Step::Quit);
            }
            if self.pending() >= limit {
                return (consumed, Step::Full);
            }
        }
    }

    /// Writes every waiting reply.
    async fn flush(&mut self) -> std::io::Result<()> {
        if self.pending() > 0 {
            self.stream
                .write_all(&self.write_buf[self.written..])
                .await?;
        }
        self.write_buf.clear();
        self.written = 0;
        Ok(())
    }
}

/// What [`Connection::poll_io`] did.
enum Io {
    /// The socket took this many bytes of replies.
    Wrote(usize),
    /// This many bytes of requests arrived (0: the client closed its side).
    Read(usize),
}

/// Completes after `idle`, or never without one.
async fn sleep_or_never(idle: Option<Duration>) {
    match idle {
        Some(idle) => tokio::time::sleep(idle).await,
        None => std::future::pending().await,
    }
}

/// Redis's inline PING, as redis-benchmark and Redis health checks send it first.
const INLINE_PING: &[u8] = b"PING\r\n";

/// The protocol a connection speaks, from its first bytes: RESP if it opens with `*` or
/// with Redis's inline `PING` (CRLF-terminated, any case); the line protocol otherwise.
/// Undecided while the bytes so far could still be an inline PING.
fn choose_wire(received: &[u8]) -> Wire {
    if received.first() == Some(&b'*') {
        return Wire::Resp;
    }
    let len = received.len().min(INLINE_PING.len());
    if !received[..len].eq_ignore_ascii_case(&INLINE_PING[..len]) {
        Wire::Text
    } else if len == INLINE_PING.len() {
        Wire::Resp
    } else {
        Wire::Undecided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_choose_the_protocol() {
        assert_eq!(choose_wire(b"*1\r\n$4\r\nPING\r\n"), Wire::Resp);
        assert_eq!(choose_wire(b"PING\r\nPING\r\n"), Wire::Resp);
        assert_eq!(choose_wire(b"ping\r\n"), Wire::Resp);
        assert_eq!(choose_wire(b"PING\n"), Wire::Text);
        assert_eq!(choose_wire(b"PIN"), Wire::Undecided);
        assert_eq!(choose_wire(b"PING\r"), Wire::Undecided);
        assert_eq!(choose_wire(b"PINGX"), Wire::Text);
        assert_eq!(choose_wire(b"SET user alice\r\n"), Wire::Text);
        assert_eq!(choose_wire(b"GET k\n"), Wire::Text);
    }
}
