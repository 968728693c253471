//! One client connection: reads bytes, frames them into lines, has each line parsed and
//! executed, and writes the replies of one read batch with one write. Knows bytes and
//! lines, never command names. Every buffer here is bounded.

use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::command;
use crate::protocol::text::TextProtocol;
use crate::protocol::Reply;
use crate::store::Store;

/// Bytes asked of the socket per read: one read usually holds a whole pipelined batch.
const READ_CHUNK: usize = 16 * 1024;

/// Replies buffered beyond this are written out before more requests are executed, so a
/// pipeline of large GETs never builds an unbounded reply buffer.
const FLUSH_AT: usize = 64 * 1024;

/// Why [`Connection::execute_lines`] stopped.
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
    /// Parser, encoder and limits of the line protocol.
    protocol: TextProtocol,
    /// Received bytes not yet framed: at most one partial line plus one read.
    read_buf: BytesMut,
    /// Encoded replies not yet written.
    write_buf: Vec<u8>,
    /// Inside a line that was too long: drop bytes up to its LF.
    discarding: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps an accepted stream.
    pub fn new(stream: S, store: Arc<Store>, protocol: TextProtocol) -> Self {
        Self {
            stream,
            store,
            protocol,
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
            let quit = self.execute_batch().await?;
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
                    Ok(request) => command::apply(request, &self.store, &guard),
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

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.write_buf.is_empty() {
            self.stream.write_all(&self.write_buf).await?;
            self.write_buf.clear();
        }
        Ok(())
    }
}
