//! One client connection: reads bytes, frames them into requests (lines of the Blink
//! protocol, or RESP frames when the first byte is `*` or the first line is Redis's inline
//! `PING`), has each parsed and executed,
//! and writes the replies of one read batch with one write. Knows bytes, lines and
//! frames, never command names. Every buffer here is bounded.

use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use std::ops::Range;

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
/// pipeline of large GETs never builds an unbounded reply buffer.
const FLUSH_AT: usize = 64 * 1024;

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
    /// The client's socket.
    stream: S,
    /// The shared cache.
    store: Arc<Store>,
    /// Server-wide facts for INFO.
    server: Arc<ServerInfo>,
    /// This connection's id, name and protocol version.
    session: Session,
    /// Parser, encoder and limits of the line protocol.
    protocol: TextProtocol,
    /// Framer, parser and encoder of RESP2, with the same key and value limits.
    resp: RespProtocol,
    /// Which of the two this client speaks.
    wire: Wire,
    /// The argument ranges of the RESP command being executed; reused.
    args: Vec<Range<usize>>,
    /// Received bytes not yet framed: at most one partial line plus one read.
    read_buf: BytesMut,
    /// Encoded replies not yet written.
    write_buf: Vec<u8>,
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
        Self {
            stream,
            store,
            server,
            session: Session {
                id,
                ..Session::default()
            },
            protocol,
            resp: RespProtocol::new()
                .max_key_len(protocol.key_limit())
                .max_bulk_len(protocol.value_limit()),
            wire: Wire::Undecided,
            args: Vec::new(),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(READ_CHUNK),
            discarding: false,
        }
    }

    /// Serves requests until the client quits or disconnects, or `shutdown` fires; then
    /// flushes every reply owed and closes the write side.
    ///
    /// # Errors
    /// An I/O error on the socket.
    pub async fn run(mut self, shutdown: CancellationToken) -> std::io::Result<()> {
        loop {
            self.read_buf.reserve(READ_CHUNK);
            let read = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                read = self.stream.read_buf(&mut self.read_buf) => read?,
            };
            // EOF, possibly in the middle of a line: nothing more can be answered.
            if read == 0 {
                return Ok(());
            }
            if self.wire == Wire::Undecided {
                self.wire = choose_wire(&self.read_buf);
                if self.wire == Wire::Undecided {
                    continue;
                }
            }
            let quit = match self.wire {
                Wire::Resp => self.execute_resp_batch().await?,
                Wire::Text | Wire::Undecided => self.execute_batch().await?,
            };
            self.flush().await?;
            if quit {
                break;
            }
        }
        self.stream.shutdown().await
    }

    /// Executes every complete line in the read buffer; `true` if the client quit.
    async fn execute_batch(&mut self) -> std::io::Result<bool> {
        let mut consumed = 0;
        let quit = loop {
            let (used, step) = self.execute_lines(consumed);
            consumed = used;
            match step {
                Step::Done => break false,
                Step::Quit => break true,
                Step::Full => self.flush().await?,
            }
        };
        self.read_buf.advance(consumed);
        if quit || self.discarding {
            // After QUIT nothing more is read; inside an overlong line nothing is kept.
            self.read_buf.clear();
        } else if self.read_buf.len() > self.protocol.max_line_len() {
            // Refuse the line now and drop the rest of it as it arrives.
            let err = self.protocol.overlong_error(&self.read_buf);
            tracing::debug!(%err, "discarding an overlong line");
            self.protocol
                .encode(&Reply::Error(err), &mut self.write_buf);
            self.read_buf.clear();
            self.discarding = true;
        }
        Ok(quit)
    }

    /// Executes complete lines from `consumed` on, under one guard, until none is left,
    /// the client quits, or the replies should be flushed; returns where it stopped.
    fn execute_lines(&mut self, mut consumed: usize) -> (usize, Step) {
        let guard = self.store.guard();
        while let Some(len) = memchr::memchr(b'\n', &self.read_buf[consumed..]) {
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
            if self.write_buf.len() >= FLUSH_AT {
                return (consumed, Step::Full);
            }
        }
        (consumed, Step::Done)
    }

    /// Executes every complete RESP command in the read buffer; `true` if the connection
    /// is to close (the client quit, or sent something that cannot be framed).
    async fn execute_resp_batch(&mut self) -> std::io::Result<bool> {
        let mut consumed = 0;
        let mut quit = loop {
            let (used, step) = self.execute_frames(consumed);
            consumed = used;
            match step {
                Step::Done => break false,
                Step::Quit => break true,
                Step::Full => self.flush().await?,
            }
        };
        self.read_buf.advance(consumed);
        if quit {
            self.read_buf.clear();
        } else if self.read_buf.len() > self.max_resp_command_len() {
            // An incomplete command already longer than any valid one: refuse and close.
            let err = ClientError::LineTooLong {
                limit: self.max_resp_command_len(),
            };
            tracing::debug!(%err, "closing: RESP command too long");
            self.resp.encode(&Reply::Error(err), &mut self.write_buf);
            self.read_buf.clear();
            quit = true;
        }
        Ok(quit)
    }

    /// The longest RESP command that can be valid: a key, a value and headers.
    fn max_resp_command_len(&self) -> usize {
        self.protocol.key_limit() + self.protocol.value_limit() + RESP_OVERHEAD
    }

    /// Executes complete RESP commands from `consumed` on, under one guard, as
    /// [`Connection::execute_lines`] does for lines. A framing error is answered and
    /// closes the connection, as Redis does.
    fn execute_frames(&mut self, mut consumed: usize) -> (usize, Step) {
        let guard = self.store.guard();
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
            if self.write_buf.len() >= FLUSH_AT {
                return (consumed, Step::Full);
            }
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.write_buf.is_empty() {
            self.stream.write_all(&self.write_buf).await?;
            self.write_buf.clear();
        }
        Ok(())
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
