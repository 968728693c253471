//! One benchmark connection: writes a batch of pipelined requests with one write while
//! reading and checking their replies in order. Its buffers live as long as it does, so
//! the steady state allocates nothing per request.

use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

use super::config::Target;
use super::report::Stats;
use super::wire::{first_line, Outcome, Parse, Wire, MAX_CLAIMED_BYTES};
use super::workload::Op;

/// Bytes asked of the socket per read: a pipelined batch of small replies in one read.
const READ_CHUNK: usize = 16 * 1024;

/// A reply still incomplete at this size is garbage, not a reply: twice the largest
/// length a reply may claim, which leaves room for base64.
const MAX_REPLY_BYTES: usize = 2 * MAX_CLAIMED_BYTES;

/// Why a connection could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Connecting failed: nothing listens there, or the server refused.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// Where to.
        target: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Reading or writing failed, for example because the server reset the connection.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection with requests unanswered.
    #[error("the server closed the connection with requests unanswered")]
    Closed,
    /// A reply grew past any sensible size without ending.
    #[error("a reply grew past {limit} bytes without ending")]
    ReplyTooLong {
        /// The size given up at.
        limit: usize,
    },
    /// No reply came in time.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The password cannot be given over the protocol spoken.
    #[error("cannot give a password: {0}")]
    Password(&'static str),
    /// The server did not take the password.
    #[error("authentication failed: the server answered \"{0}\"")]
    Auth(String),
}

/// The reading half of a connection, TCP (with or without TLS) or Unix.
type Reader = Box<dyn AsyncRead + Unpin + Send>;

/// The writing half of a connection, TCP (with or without TLS) or Unix.
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// A connection to the target with its buffers.
pub struct Conn {
    /// Where replies come from.
    reader: Reader,
    /// Where requests go; a separate half so a batch is written while replies are read.
    writer: Writer,
    /// Encodes requests and checks replies.
    wire: Wire,
    /// The encoded batch.
    write_buf: Vec<u8>,
    /// Received bytes not yet parsed.
    read_buf: BytesMut,
    /// The requests of the batch in flight, in order.
    batch: Vec<Op>,
    /// How long to wait for reply bytes.
    reply_timeout: Duration,
}

impl Conn {
    /// Connects to `target`, giving up after `reply_timeout`, and gives `password` first
    /// if there is one.
    ///
    /// # Errors
    /// [`ConnError::Connect`] if the connection cannot be made; [`ConnError::Password`] or
    /// [`ConnError::Auth`] if the password cannot be given or is refused.
    pub async fn connect(
        target: &Target,
        wire: Wire,
        reply_timeout: Duration,
        password: Option<&[u8]>,
    ) -> Result<Self, ConnError> {
        let connect_err = |source| ConnError::Connect {
            target: target.to_string(),
            source,
        };
        let timed_out = || connect_err(std::io::ErrorKind::TimedOut.into());
        let (reader, writer): (Reader, Writer) = match target {
            Target::Tcp(addr) => {
                let stream = tokio::time::timeout(reply_timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(connect_err)?;
                // Batches are written whole; waiting to coalesce would only add latency.
                stream.set_nodelay(true).map_err(connect_err)?;
                let (reader, writer) = stream.into_split();
                (Box::new(reader), Box::new(writer))
            }
            Target::Tls(tls) => {
                let stream = tokio::time::timeout(reply_timeout, tls.connect())
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(connect_err)?;
                let (reader, writer) = tokio::io::split(stream);
                (Box::new(reader), Box::new(writer))
            }
            #[cfg(unix)]
            Target::Unix(path) => {
                let stream = tokio::time::timeout(reply_timeout, UnixStream::connect(path))
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(connect_err)?;
                let (reader, writer) = stream.into_split();
                (Box::new(reader), Box::new(writer))
            }
            #[cfg(not(unix))]
            Target::Unix(_) => return Err(connect_err(blink_store::client::unix_unsupported())),
        };
        let mut conn = Self {
            reader,
            writer,
            wire,
            write_buf: Vec::with_capacity(READ_CHUNK),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            batch: Vec::new(),
            reply_timeout,
        };
        if let Some(password) = password {
            conn.authenticate(password).await?;
        }
        Ok(conn)
    }

    /// Gives `password` and waits for the server to take it, before any request.
    async fn authenticate(&mut self, password: &[u8]) -> Result<(), ConnError> {
        self.write_buf.clear();
        self.wire
            .encode_auth(password, &mut self.write_buf)
            .map_err(ConnError::Password)?;
        self.writer.write_all(&self.write_buf).await?;
        self.writer.flush().await?;
        self.read_reply(|buf| first_line(buf).map(|(_, len)| len))
            .await?;
        // `read_reply` returned once the first line had come.
        let (line, len) = first_line(&self.read_buf).unwrap_or_default();
        if !self.wire.auth_accepted(line) {
            return Err(ConnError::Auth(line.escape_ascii().to_string()));
        }
        self.read_buf.advance(len);
        Ok(())
    }

    /// Sends `request` on its own, outside any batch, and returns the whole reply, which
    /// `framed` measures: the bytes it takes once they have all arrived. For questions
    /// beside the workload, such as the server's CPU time.
    ///
    /// # Errors
    /// [`ConnError`] if the connection fails, or no whole reply comes in time.
    pub async fn ask(
        &mut self,
        request: &[u8],
        framed: impl Fn(&[u8]) -> Option<usize>,
    ) -> Result<Vec<u8>, ConnError> {
        self.writer.write_all(request).await?;
        self.writer.flush().await?;
        let len = self.read_reply(framed).await?;
        let reply = self.read_buf[..len].to_vec();
        self.read_buf.advance(len);
        Ok(reply)
    }

    /// Reads until `framed` finds a whole reply at the start of the read buffer, and
    /// returns its length; the caller consumes it.
    async fn read_reply(
        &mut self,
        framed: impl Fn(&[u8]) -> Option<usize>,
    ) -> Result<usize, ConnError> {
        loop {
            if let Some(len) = framed(&self.read_buf) {
                return Ok(len);
            }
            if self.read_buf.len() > MAX_REPLY_BYTES {
                return Err(ConnError::ReplyTooLong {
                    limit: MAX_REPLY_BYTES,
                });
            }
            self.read_buf.reserve(READ_CHUNK);
            let read = self.reader.read_buf(&mut self.read_buf);
            let n = tokio::time::timeout(self.reply_timeout, read)
                .await
                .map_err(|_| ConnError::Timeout(self.reply_timeout))??;
            if n == 0 {
                return Err(ConnError::Closed);
            }
        }
    }

    /// Sends `ops` as one batch and checks every reply, counting into `stats`.
    ///
    /// # Errors
    /// [`ConnError`] if the connection fails; the requests left unanswered are counted as
    /// errors in `stats` first.
    pub async fn send_batch(
        &mut self,
        ops: impl Iterator<Item = Op>,
        stats: &mut Stats,
    ) -> Result<(), ConnError> {
        self.batch.clear();
        self.batch.extend(ops);
        self.write_buf.clear();
        for op in &self.batch {
            self.wire.encode(*op, &mut self.write_buf);
            stats.sent(op.kind);
        }
        let mut answered = 0;
        let sent_at = Instant::now();
        let Self {
            reader,
            writer,
            wire,
            write_buf,
            read_buf,
            batch,
            reply_timeout,
        } = self;
        let read = Replies {
            reader,
            read_buf,
            wire,
            reply_timeout: *reply_timeout,
        };
        let written = tokio::try_join!(
            // A TLS stream sends what it holds only when flushed; a socket holds nothing.
            async {
                writer.write_all(write_buf).await?;
                writer.flush().await.map_err(ConnError::from)
            },
            read.check(batch, sent_at, stats, &mut answered),
        );
        if let Err(err) = written {
            let lost = batch.len() - answered;
            stats.errors += lost as u64;
            return Err(err);
        }
        Ok(())
    }
}

/// The reading side of one batch.
struct Replies<'a> {
    /// Where replies come from.
    reader: &'a mut Reader,
    /// Received bytes not yet parsed.
    read_buf: &'a mut BytesMut,
    /// Frames and judges replies.
    wire: &'a mut Wire,
    /// How long to wait for reply bytes.
    reply_timeout: Duration,
}

impl Replies<'_> {
    /// Reads and judges one reply per op of `batch`, in order, counting each in
    /// `answered` as soon as it is judged.
    async fn check(
        self,
        batch: &[Op],
        sent_at: Instant,
        stats: &mut Stats,
        answered: &mut usize,
    ) -> Result<(), ConnError> {
        for &op in batch {
            loop {
                match self.wire.parse(self.read_buf, op) {
                    Parse::Reply { len, outcome } => {
                        stats.answered(outcome, sent_at.elapsed());
                        if outcome == Outcome::Wrong {
                            stats.note_error(|| self.wire.describe(op, &self.read_buf[..len]));
                        }
                        self.read_buf.advance(len);
                        *answered += 1;
                        break;
                    }
                    Parse::Incomplete if self.read_buf.len() > MAX_REPLY_BYTES => {
                        return Err(ConnError::ReplyTooLong {
                            limit: MAX_REPLY_BYTES,
                        });
                    }
                    Parse::Incomplete => {
                        self.read_buf.reserve(READ_CHUNK);
                        let read = self.reader.read_buf(self.read_buf);
                        let n = tokio::time::timeout(self.reply_timeout, read)
                            .await
                            .map_err(|_| ConnError::Timeout(self.reply_timeout))??;
                        if n == 0 {
                            return Err(ConnError::Closed);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
