//! One client connection: reads bytes, has its protocol (picked by
//! [`protocol::choose`] from the listener and the first bytes) frame and parse them into
//! requests, has each executed, and writes the replies back, many per write. One execute
//! loop serves every protocol; this file knows bytes and buffers, never command names or
//! wire syntax.
//! Every buffer here is bounded:
//!
//! * input: at most one request longer than any valid one, plus one read;
//! * output: replies are written while more requests are read. A client that keeps
//!   sending while the socket takes none of its replies (it does not read them) lets
//!   them pile up here; past [`ConnectionLimits::max_output_bytes`] it is disconnected.
//!   A client that reads gets requests executed a buffer of replies at a time;
//! * time: with an idle timeout, a connection that neither sends nor takes replies for
//!   that long is closed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::command::registry::{Buffers, ClientEntry};
use crate::command::stats::CommandStats;
use crate::command::{self, transaction, Context, Deferred, Held, ServerInfo, Session};
use crate::listener::Peer;
use crate::protocol::{
    self, Call, Frame, Limits, Protocol, ProtocolError, Recovery, Refusal, Reply, Wire,
};
use crate::store::Store;

/// A slow log threshold below which every request is timed alone, in microseconds: a
/// quick command, timed in a run, is never logged as slow above it.
const QUICK_SLOW_LOG_MICROS: i64 = 1000;

/// Quick commands executed and not yet counted: per command, how many calls in a row.
#[derive(Debug)]
struct QuickRun {
    /// When the clock was last read.
    since: Instant,
    /// Each command with its calls in a row, in order.
    calls: Vec<(&'static protocol::CommandSpec, u64)>,
}

impl QuickRun {
    fn new() -> Self {
        Self {
            since: Instant::now(),
            calls: Vec::new(),
        }
    }

    /// One more call of `command`.
    fn add(&mut self, command: &'static protocol::CommandSpec) {
        match self.calls.last_mut() {
            Some((last, calls)) if std::ptr::eq(*last, command) => *calls += 1,
            _ => self.calls.push((command, 1)),
        }
    }

    /// Counts the calls in `stats`, sharing the time until `now` among them by their
    /// number, shows the last in CLIENT LIST, and starts a new run at `now`.
    fn settle(&mut self, now: Instant, stats: &CommandStats, client: Option<&ClientEntry>) {
        let elapsed = now.saturating_duration_since(self.since);
        self.since = now;
        if let (Some(client), Some(&(last, _))) = (client, self.calls.last()) {
            client.called(last, now);
        }
        match self.calls.as_slice() {
            // One command's run, the usual case, takes all the time.
            &[(command, calls)] => stats.record_run(command.id, calls, elapsed),
            runs => {
                let total: u64 = runs.iter().map(|&(_, calls)| calls).sum();
                for &(command, calls) in runs {
                    // Lossless below 2^53 calls in one batch.
                    let share = elapsed.mul_f64(calls as f64 / total as f64);
                    stats.record_run(command.id, calls, share);
                }
            }
        }
        self.calls.clear();
    }
}

/// Bytes asked of the socket per read: one read usually holds a whole pipelined batch.
const READ_CHUNK: usize = 16 * 1024;

/// Replies buffered beyond this are written out before more requests are executed, so a
/// client that reads its replies never makes the server hold more than this (plus one
/// reply).
const FLUSH_AT: usize = 64 * 1024;

/// A connection's share of its event loop: after this many requests, or this many bytes
/// read and written, in one turn, it lets the loop serve its other connections before it
/// goes on. A deep pipeline then delays another client's request by a few turns of
/// this size (about a tenth of a millisecond each), not by the whole pipeline.
const TURN_REQUESTS: usize = 512;

/// See [`TURN_REQUESTS`].
const TURN_BYTES: usize = 256 * 1024;

/// What a connection has done since it last let its loop serve others.
#[derive(Debug, Default)]
struct Turn {
    /// Requests executed.
    requests: usize,
    /// Bytes read and written.
    bytes: usize,
}

impl Turn {
    /// Whether the connection has had its share.
    fn spent(&self) -> bool {
        self.requests >= TURN_REQUESTS || self.bytes >= TURN_BYTES
    }
}

/// Default cap on replies held for a client that does not read them: 32 MiB, Redis's
/// hard limit for replica and pub/sub clients.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 32 << 20;

/// How a connection is bounded beyond its protocols' own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Close a connection that neither sends nor takes replies for this long: the
    /// server's setting at start ([`crate::server::run`] gives it to [`ServerInfo`],
    /// where CONFIG SET timeout changes it, and where connections read it).
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

/// Why [`Connection::execute_requests`] stopped.
enum Step {
    /// No complete request is left.
    Done,
    /// The connection is to close: the client quit, or sent what cannot be framed.
    Quit,
    /// Enough replies are buffered to write them out before going on, or the turn is
    /// spent.
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
    /// The key, value and argument limits every protocol enforces.
    request_limits: Limits,
    /// Idle timeout and output cap.
    limits: ConnectionLimits,
    /// What the listener that accepted it speaks: RESP, or whatever the first bytes say.
    wire: Wire,
    /// The protocol this client speaks; `None` until its first bytes say which.
    protocol: Option<Box<dyn Protocol>>,
    /// Received bytes not yet framed: at most one partial request plus one read.
    read_buf: BytesMut,
    /// Encoded replies; those before `written` have been sent.
    write_buf: Vec<u8>,
    /// How much of `write_buf` the socket has taken.
    written: usize,
    /// Replies were handed to the stream since it was last flushed: a TLS stream keeps
    /// what the socket could not take at once in its own buffer until flushed.
    unflushed: bool,
    /// Where the client connects from and to, for CLIENT LIST and the slow log.
    peer: Peer,
    /// What this connection shows in CLIENT LIST, once it is registered there.
    client: Option<Arc<ClientEntry>>,
    /// The most replies `write_buf` has held at once, for CLIENT LIST.
    reply_peak: usize,
    /// The quick commands executed since the clock was last read, counted together.
    quick: QuickRun,
    /// This turn's share of the event loop, used so far.
    turn: Turn,
    /// Every complete request read so far has been executed: nothing is to be done
    /// until more bytes arrive (so a turn that only wrote replies executes nothing).
    drained: bool,
    /// A reply that comes later (SAVE's), and whether it is sent (CLIENT REPLY): awaited
    /// before the next request is executed, so replies keep their order.
    deferred: Option<(Deferred, bool)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps an accepted stream, the connection numbered `id`, whose requests are held
    /// to `request_limits`.
    pub fn new(
        stream: S,
        store: Arc<Store>,
        request_limits: Limits,
        server: Arc<ServerInfo>,
        id: u64,
    ) -> Self {
        let session = server.session(id);
        Self {
            stream,
            store,
            server,
            session,
            request_limits,
            limits: ConnectionLimits::default(),
            wire: Wire::Auto,
            protocol: None,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(READ_CHUNK),
            written: 0,
            unflushed: false,
            peer: Peer::default(),
            client: None,
            reply_peak: 0,
            quick: QuickRun::new(),
            turn: Turn::default(),
            drained: false,
            deferred: None,
        }
    }

    /// Sets the output cap (the idle timeout is the server's, see
    /// [`ConnectionLimits::idle_timeout`]).
    pub fn limits(mut self, limits: ConnectionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets what the listener speaks (by default, whatever the first bytes say). A
    /// memcached listener's clients need no AUTH, which memcached's text protocol lacks:
    /// beside a password, such a listener is served only on loopback or a Unix socket.
    pub fn wire(mut self, wire: Wire) -> Self {
        self.wire = wire;
        if wire == Wire::Memcache {
            self.session.authenticated = true;
        }
        self
    }

    /// Sets where the client connects from and to.
    pub fn peer(mut self, peer: Peer) -> Self {
        self.peer = peer;
        self
    }

    /// Replies encoded and not yet taken by the socket.
    fn pending(&self) -> usize {
        self.write_buf.len() - self.written
    }

    /// Serves requests until the client quits or disconnects, or the server shuts down
    /// ([`Registry::close_all`]); then flushes every reply owed and closes the write side.
    /// A client over the output cap, idle past the timeout, or killed by CLIENT KILL from
    /// another connection is dropped without more replies. Listed in CLIENT LIST
    /// meanwhile.
    ///
    /// [`Registry::close_all`]: crate::command::registry::Registry::close_all
    ///
    /// # Errors
    /// An I/O error on the socket.
    pub async fn run(mut self) -> std::io::Result<()> {
        let server = self.server.clone();
        let registered = server.clients.register(self.session.id, self.peer.clone());
        let client = registered.entry.clone();
        self.client = Some(client.clone());
        // Borrowed apart from `self` by the execute loop, which also changes `self`.
        let store = self.store.clone();
        loop {
            if client.is_killed() {
                tracing::debug!("closing: killed by CLIENT KILL");
                return Ok(());
            }
            if client.is_closing() {
                return self.finish().await;
            }
            if self.turn.spent() {
                // Back after the loop has served every other connection ready now.
                self.turn = Turn::default();
                tokio::task::yield_now().await;
            }
            // Input filled the read buffer while the socket took no replies: execute it even
            // though replies are waiting, so a client that never reads reaches the output
            // cap and is disconnected, but no further than just past the cap. A client that
            // reads, however slowly, gets its replies a buffer at a time.
            let input_full = self.read_buf.len() >= self.max_request_len() + READ_CHUNK;
            if self.protocol.is_some() && !self.drained && (input_full || self.pending() < FLUSH_AT)
            {
                let limit = if input_full {
                    self.limits.max_output_bytes.saturating_add(1)
                } else {
                    FLUSH_AT
                };
                if self.execute(&store, limit) {
                    return self.finish().await;
                }
                // SAVE stopped the batch: its reply, then the rest.
                self.answer_deferred().await;
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
            if self.turn.spent() && !self.drained && self.pending() < FLUSH_AT {
                // The turn ended inside a batch: its replies wait for the rest of it (up
                // to a buffer's worth), so they go out in one write after the loop's other
                // connections, not in two with the client woken for each.
                continue;
            }
            let can_read = self.read_buf.len() < self.max_request_len() + READ_CHUNK;
            let idle = self.server.idle_timeout();
            let mut first_poll = true;
            let io = std::future::poll_fn(|cx| {
                // Killed or closed: back to the top of the loop, which says how.
                if client.watch(cx.waker()) {
                    return Poll::Ready(Ok(Io::Alarm));
                }
                let io = self.poll_io(cx, can_read, first_poll);
                first_poll = false;
                io
            });
            // The idle timer starts with each wait: a write that empties the buffer at
            // once, and the wait for the next request that follows it in the same wait,
            // are one moment.
            let io = match idle {
                None => io.await,
                Some(idle) => match tokio::time::timeout(idle, io).await {
                    Ok(io) => io,
                    Err(_) => {
                        tracing::debug!("closing: idle timeout");
                        return Ok(());
                    }
                },
            };
            match io? {
                Io::Alarm | Io::Wrote => {}
                // EOF, possibly in the middle of a request: answer what is complete.
                Io::Read(0) => return self.finish().await,
                Io::Read(n) => {
                    self.turn.bytes += n;
                    self.server.traffic.received(n);
                    self.drained = false;
                    if self.protocol.is_none() {
                        let (skip, chosen) =
                            protocol::choose(self.wire, &self.read_buf, self.request_limits);
                        self.read_buf.advance(skip);
                        self.protocol = chosen;
                    }
                }
            }
        }
    }

    /// Writes waiting replies if the socket takes them, then reads more requests if
    /// `can_read`. A write ends the poll (the loop decides what next) unless it sent
    /// every reply, in the `first` poll of a wait, with every request read executed:
    /// then it is simply a wait for the next request, without a turn of the loop in
    /// between (one turn fewer per request for a client that sends one at a time).
    fn poll_io(
        &mut self,
        cx: &mut TaskContext<'_>,
        can_read: bool,
        first: bool,
    ) -> Poll<std::io::Result<Io>> {
        let mut wrote = false;
        if self.pending() > 0 {
            let unsent = &self.write_buf[self.written..];
            if let Poll::Ready(written) = Pin::new(&mut self.stream).poll_write(cx, unsent) {
                let n = written?;
                self.turn.bytes += n;
                self.sent(n)?;
                self.unflushed = true;
                // Requests left to execute, now that replies have room: the loop's job.
                if self.pending() > 0 || !first || !self.drained {
                    return Poll::Ready(Ok(Io::Wrote));
                }
                wrote = true;
            }
        }
        // Every reply handed over: make the stream send what it holds (a plain socket
        // holds nothing). If it cannot yet, the waker is registered to try again.
        if self.unflushed && self.pending() == 0 {
            if let Poll::Ready(flushed) = Pin::new(&mut self.stream).poll_flush(cx) {
                flushed?;
                self.unflushed = false;
            }
        }
        if can_read {
            self.read_buf.reserve(READ_CHUNK);
            let read =
                tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.read_buf);
            if let Poll::Ready(read) = read {
                return Poll::Ready(read.map(Io::Read));
            }
        }
        // A wait for the socket, which has the waker; or, with input full, for the
        // replies to drain, which the loop checks again after a write.
        if wrote && !can_read {
            return Poll::Ready(Ok(Io::Wrote));
        }
        Poll::Pending
    }

    /// Counts `n` bytes the socket took.
    fn sent(&mut self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.server.traffic.sent(n);
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
        let store = self.store.clone();
        loop {
            let before = self.read_buf.len();
            // What is left is bounded by the read buffer: served to the end, not in turns.
            self.turn = Turn::default();
            let quit = self.protocol.is_some() && self.execute(&store, FLUSH_AT);
            self.answer_deferred().await;
            self.flush().await?;
            if quit || self.read_buf.len() == before {
                break;
            }
        }
        self.stream.shutdown().await
    }

    /// The longest request that can be valid in this connection's protocol (before the
    /// protocol is known: the longest line, which an inline PING never reaches).
    fn max_request_len(&self) -> usize {
        match &self.protocol {
            Some(protocol) => protocol.max_request_len(),
            None => READ_CHUNK,
        }
    }

    /// Executes complete requests in the read buffer until none is left or `limit` bytes
    /// of replies are waiting; `true` if the connection is to close (QUIT, or a request
    /// that cannot be framed).
    fn execute(&mut self, store: &Store, limit: usize) -> bool {
        let Some(mut protocol) = self.protocol.take() else {
            return false;
        };
        let started = Instant::now();
        self.quick.since = started;
        store.tick(started);
        crate::event_loop::worked();
        // Counted in the slow log only when timed alone: below this threshold, every
        // request is.
        let fine = (0..QUICK_SLOW_LOG_MICROS).contains(&self.server.slow_log.slower_than_micros());
        let (consumed, step) = self.execute_requests(store, &mut *protocol, limit, fine);
        self.settle_quick(Instant::now());
        self.protocol = Some(protocol);
        self.read_buf.advance(consumed);
        self.drained = matches!(step, Step::Done);
        let quit = matches!(step, Step::Quit);
        if quit {
            // After QUIT, or what cannot be framed, nothing more is read.
            self.read_buf.clear();
        }
        quit
    }

    /// The one execute loop, for every protocol: frame → parse → apply → encode, until no
    /// complete request is left, the connection is to close, `limit` bytes of replies
    /// wait or the turn is spent; returns how many bytes were consumed.
    ///
    /// One papaya guard, and this thread's shared slot of the store's isolation, are
    /// taken for the whole batch rather than per request: both cost atomic operations,
    /// and a batch is bounded by the turn ([`TURN_REQUESTS`]), so neither is held long
    /// (a guard held across a whole deep pipeline would keep papaya from freeing any
    /// entry removed meanwhile, by any thread; the slot would hold back a transaction).
    /// The slot is let go before a command that holds the whole server, and before EXEC.
    ///
    /// Quick commands ([`protocol::CommandSpec::is_quick`]) are timed as a run: the clock
    /// is read when a run starts and when it ends (another command, or the end of the
    /// batch), and the run's time is shared among its calls. Every other command, and
    /// every command when `fine` (a slow log threshold too low for that), is timed alone.
    fn execute_requests(
        &mut self,
        store: &Store,
        protocol: &mut dyn Protocol,
        limit: usize,
        fine: bool,
    ) -> (usize, Step) {
        self.publish_buffers();
        let guard = store.guard();
        let mut shared = None;
        let mut consumed = 0;
        loop {
            let start = consumed;
            let len = match protocol.frame(&mut self.read_buf[start..], &self.session) {
                Frame::Incomplete => {
                    let buffered = self.read_buf.len() - start;
                    if buffered <= protocol.max_request_len() {
                        return (consumed, Step::Done);
                    }
                    // An incomplete request already longer than any valid one: refuse it
                    // now and drop what arrived of it.
                    let err = protocol.overlong(&self.read_buf[start..]);
                    return (self.read_buf.len(), self.broken(protocol, err));
                }
                Frame::Skip(len) => {
                    consumed += len;
                    continue;
                }
                Frame::Invalid(len, err) => {
                    consumed += len;
                    match self.broken(protocol, err) {
                        Step::Quit => return (consumed, Step::Quit),
                        _ => continue,
                    }
                }
                Frame::Request(len) => len,
            };
            consumed += len;
            let frame = &self.read_buf[start..consumed];
            let parsed = protocol.parse(frame);
            let call = protocol.call();
            let quick = !fine
                && parsed.is_ok()
                && call.is_some_and(|call| !call.rejected && call.command.is_quick());
            let started = if quick {
                None
            } else {
                // What ran before is counted before this runs: INFO sees it.
                let now = Instant::now();
                self.quick
                    .settle(now, &self.server.stats, self.client.as_deref());
                if let (Some(client), Some(call)) = (&self.client, call) {
                    client.called(call.command, now);
                }
                Some(now)
            };
            let reply =
                match transaction::intercept(&mut self.session, &parsed, (&*protocol, frame)) {
                    transaction::Step::Run(request) => {
                        let mut cx = Context::new(store, &self.server, &mut self.session);
                        if command::holds_the_server(request) {
                            shared = None;
                        } else {
                            shared.get_or_insert_with(|| store.isolation().shared());
                            cx.held = Held::Shared;
                        }
                        command::apply(request, &mut cx, &guard)
                    }
                    transaction::Step::Answer(reply) => reply,
                    transaction::Step::Exec(queue) => {
                        shared = None;
                        let close = self.exec(store, protocol, queue);
                        let now = Instant::now();
                        self.quick.since = now;
                        let elapsed = started.map_or(Duration::ZERO, |at| now - at);
                        self.server.stats.record(call, &Reply::Ok, elapsed);
                        self.session.command_done();
                        if close {
                            return (consumed, Step::Quit);
                        }
                        self.turn.requests += 1;
                        if self.pending() >= limit || self.turn.spent() {
                            return (consumed, Step::Full);
                        }
                        continue;
                    }
                };
            match (started, call) {
                (None, Some(call)) if !reply.is_error() => self.quick.add(call.command),
                (None, _) => self.server.stats.record(call, &reply, Duration::ZERO),
                (Some(started), _) => {
                    let now = Instant::now();
                    self.quick.since = now;
                    self.account(protocol, call, &reply, now - started, frame);
                }
            }
            tracing::debug!(?reply);
            if let Some(deferred) = self.session.take_deferred() {
                // The reply comes later: the batch stops here, and `run` awaits it.
                self.deferred = Some((deferred, self.session.wants_reply()));
                self.session.command_done();
                return (consumed, Step::Full);
            }
            // CLIENT REPLY OFF and SKIP silence replies here, and only here.
            if self.session.wants_reply() {
                protocol.encode(&reply, &self.session, &mut self.write_buf);
            }
            self.session.command_done();
            self.reply_peak = self.reply_peak.max(self.pending());
            // QUIT, or CLIENT KILL of this connection: its reply is the last.
            if matches!(reply, Reply::Close) || self.session.closing() {
                return (consumed, Step::Quit);
            }
            // Killed by another connection: nothing more is executed or sent.
            if self
                .client
                .as_ref()
                .is_some_and(|client| client.is_killed())
            {
                return (consumed, Step::Done);
            }
            self.turn.requests += 1;
            if self.pending() >= limit || self.turn.spent() {
                return (consumed, Step::Full);
            }
        }
    }

    /// EXEC: frames and parses the queued commands again and runs them, with no other
    /// command between them, answering one array; `true` if one of them closes the
    /// connection (QUIT is run at once, never queued, so none does today).
    fn exec(
        &mut self,
        store: &Store,
        protocol: &mut dyn Protocol,
        mut queue: transaction::Queue,
    ) -> bool {
        let _held = store.isolation().exclusive();
        let guard = store.guard();
        // CLIENT REPLY OFF and SKIP silence EXEC's whole reply.
        let answer = self.session.wants_reply();
        let before = self.write_buf.len();
        let mut cx = Context::new(store, &self.server, &mut self.session);
        cx.held = Held::Exclusive;
        let mut close = false;
        match transaction::begin(&queue, &mut cx, &guard) {
            Err(reply) => protocol.encode(&reply, cx.session, &mut self.write_buf),
            Ok(()) => {
                let header = Reply::Transaction(queue.len());
                protocol.encode(&header, cx.session, &mut self.write_buf);
                for frame in queue.frames_mut() {
                    // Each frame was framed whole before it was queued.
                    let reply = match protocol.frame(frame, cx.session) {
                        Frame::Request(len) => {
                            match protocol.parse(frame.get(..len).unwrap_or_default()) {
                                Ok(request) => command::apply(&request, &mut cx, &guard),
                                Err(err) => Reply::Error(err),
                            }
                        }
                        _ => Reply::Error(protocol::ClientError::Syntax),
                    };
                    close |= matches!(reply, Reply::Close);
                    protocol.encode(&reply, cx.session, &mut self.write_buf);
                }
            }
        }
        if !answer {
            self.write_buf.truncate(before);
        }
        close
    }

    /// Awaits the reply a command deferred, if one did, and encodes it after the replies
    /// before it. Other connections of the event loop are served meanwhile.
    async fn answer_deferred(&mut self) {
        let Some((deferred, wanted)) = self.deferred.take() else {
            return;
        };
        let reply = deferred.await;
        tracing::debug!(?reply, "deferred reply");
        if let (true, Some(protocol)) = (wanted, &self.protocol) {
            protocol.encode(&reply, &self.session, &mut self.write_buf);
        }
    }

    /// Counts the quick commands run since the clock was last read (see
    /// [`QuickRun::settle`]).
    fn settle_quick(&mut self, now: Instant) {
        self.quick
            .settle(now, &self.server.stats, self.client.as_deref());
    }

    /// Counts an executed request in INFO's statistics, and logs it in the slow log if it
    /// ran long: the one place a request's running time is taken into account.
    fn account(
        &self,
        protocol: &dyn Protocol,
        call: Option<Call>,
        reply: &Reply<'_>,
        elapsed: Duration,
        frame: &[u8],
    ) {
        self.server.stats.record(call, reply, elapsed);
        let slow_log = &self.server.slow_log;
        let Some(call) = call else {
            // memcached's requests have no row in the command table; timed all the same.
            if self.wire == Wire::Memcache {
                self.server.stats.record_memcache(elapsed);
            }
            return;
        };
        let refused = call.rejected
            || matches!(
                reply,
                Reply::Refused(Refusal::NoAuth | Refusal::HelloNoAuth)
            );
        if !slow_log.is_slow(elapsed) || refused || call.command.has_flag("skip_slowlog") {
            return;
        }
        let name = self.session.name.as_deref().unwrap_or_default();
        slow_log.push(
            call.command,
            &protocol.arguments(frame),
            elapsed,
            (&self.peer.addr, &String::from_utf8_lossy(name)),
        );
    }

    /// Shows this connection's buffers in CLIENT LIST, once per batch of requests.
    fn publish_buffers(&self) {
        if let Some(client) = &self.client {
            client.publish(Buffers {
                query_bytes: self.read_buf.len(),
                query_capacity: self.read_buf.capacity(),
                reply_capacity: self.write_buf.capacity(),
                reply_peak: self.reply_peak,
                output_bytes: self.pending(),
                fixed_bytes: std::mem::size_of::<Self>(),
            });
        }
    }

    /// Answers a framing error; whether the connection closes is the protocol's call.
    fn broken(&mut self, protocol: &dyn Protocol, err: ProtocolError) -> Step {
        let recovery = protocol.recovery();
        tracing::debug!(%err, ?recovery, "framing error");
        let reply = Reply::Broken(err);
        self.server.stats.record(None, &reply, Duration::ZERO);
        protocol.encode(&reply, &self.session, &mut self.write_buf);
        match recovery {
            Recovery::Close => Step::Quit,
            Recovery::Skip => Step::Done,
        }
    }

    /// Writes every waiting reply, and flushes the stream.
    async fn flush(&mut self) -> std::io::Result<()> {
        if self.pending() > 0 {
            self.stream
                .write_all(&self.write_buf[self.written..])
                .await?;
            self.server.traffic.sent(self.pending());
        }
        self.stream.flush().await?;
        self.unflushed = false;
        self.write_buf.clear();
        self.written = 0;
        Ok(())
    }
}

/// What [`Connection::poll_io`] did, or why it was not asked to.
enum Io {
    /// The connection was killed or closed (see [`ClientEntry::watch`]).
    Alarm,
    /// The socket took replies (counted already).
    Wrote,
    /// This many bytes of requests arrived (0: the client closed its side).
    Read(usize),
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::QuickRun;
    use crate::command::stats::CommandStats;
    use crate::protocol::command_table as table;

    #[test]
    fn a_run_of_quick_commands_shares_its_time_by_calls() {
        let stats = CommandStats::default();
        let mut run = QuickRun::new();
        let start = Instant::now();
        run.since = start;
        for command in [&table::GET, &table::GET, &table::SET, &table::GET] {
            run.add(command);
        }
        assert_eq!(run.calls.len(), 3, "calls in a row are one entry");
        run.settle(start + Duration::from_millis(8), &stats, None);
        assert!(run.calls.is_empty());
        let counted = |name: &str| {
            let stat = stats.commands().into_iter().find(|stat| stat.name == name);
            stat.map(|stat| (stat.calls, stat.usec))
        };
        assert_eq!(counted("get"), Some((3, 6_000)));
        assert_eq!(counted("set"), Some((1, 2_000)));
        // Nothing more is counted until more calls run.
        run.settle(start + Duration::from_millis(20), &stats, None);
        assert_eq!(counted("get"), Some((3, 6_000)));
    }
}
