//! MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis's semantics.
//!
//! * MULTI opens a [`Queue`]: later commands are checked as Redis checks them before
//!   queuing (known command, arity), kept as their framed bytes, and answered `QUEUED`.
//!   A command refused at that point fails the transaction: EXEC answers `EXECABORT`.
//!   Other mistakes (a bad option, a value that is not an integer) surface as that
//!   command's error inside EXEC's reply, as in Redis.
//! * EXEC runs the queue under [`Isolation::exclusive`](crate::store::isolation): no other
//!   command runs between its commands, so other clients observe them all or none.
//! * WATCH registers keys in the server's [`Watches`]; a command that modifies one marks
//!   every connection watching it. EXEC then answers a null array and runs nothing if a
//!   watched key was modified, or existed when watched and has since expired or been
//!   evicted. WATCH registers under the exclusive hold too, so a write is either before
//!   it (and seen by its existence check) or after it (and marks it).

use std::collections::HashMap;
use std::sync::PoisonError;

use super::Context;
use crate::protocol::{Args, ClientError, Protocol, Reply, Request, SetCondition};
use crate::store::Store;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Guard, Mutex, Ordering};

/// The most bytes of commands one transaction may queue: the client is told and the
/// transaction fails, rather than the server buffering without bound.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// The most keys one connection may watch at once.
pub const MAX_WATCHED_KEYS: usize = 1 << 16;

/// The commands a MULTI queued, as framed bytes, one after another.
#[derive(Debug, Default)]
pub struct Queue {
    /// Every queued frame.
    bytes: Vec<u8>,
    /// Each frame's length, in order.
    lens: Vec<usize>,
    /// A command was refused while queuing: EXEC answers EXECABORT.
    failed: bool,
}

impl Queue {
    /// Queues one framed command; refuses it, failing the transaction, past
    /// [`MAX_QUEUED_BYTES`].
    fn push(&mut self, protocol: &dyn Protocol, frame: &[u8]) -> Reply<'static> {
        let before = self.bytes.len();
        protocol.queued_form(frame, &mut self.bytes);
        if self.bytes.len() > MAX_QUEUED_BYTES {
            self.bytes.truncate(before);
            self.failed = true;
            return Reply::Error(ClientError::TransactionTooLarge {
                limit: MAX_QUEUED_BYTES,
            });
        }
        self.lens.push(self.bytes.len() - before);
        Reply::Queued
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Each queued frame, mutable: a protocol may rewrite a frame as it frames it again.
    pub fn frames_mut(&mut self) -> impl Iterator<Item = &mut [u8]> {
        let mut rest = self.bytes.as_mut_slice();
        self.lens.iter().map(move |&len| {
            let all = std::mem::take(&mut rest);
            let (frame, tail) = all.split_at_mut(len.min(all.len()));
            rest = tail;
            frame
        })
    }
}

/// What the connection does with a parsed request while a transaction may be open.
pub enum Step<'r, 'a> {
    /// Execute it now.
    Run(&'r Request<'a>),
    /// Answer this without executing anything.
    Answer(Reply<'a>),
    /// EXEC: run this queue.
    Exec(Queue),
}

/// Decides what happens to `parsed`, the request `protocol` just framed as `frame`: run
/// at once, queued, or EXEC. Outside MULTI everything runs (EXEC and DISCARD then answer
/// their errors).
/// `parsed` is borrowed, not moved: a request is large, and is handed on by reference.
pub fn intercept<'r, 'a>(
    session: &mut super::Session,
    parsed: &'r Result<Request<'a>, ClientError>,
    (protocol, frame): (&dyn Protocol, &[u8]),
) -> Step<'r, 'a> {
    if let Err(ClientError::RespArity { cmd: "exec" }) = parsed {
        return Step::Answer(abort(session, &ClientError::RespArity { cmd: "exec" }));
    }
    let Some(queue) = session.transaction.as_mut() else {
        return match parsed {
            Ok(request) => Step::Run(request),
            Err(err) => Step::Answer(Reply::Error(err.clone())),
        };
    };
    match parsed {
        Ok(Request::Exec) => Step::Exec(session.transaction.take().unwrap_or_default()),
        Ok(Request::Discard) => {
            session.transaction = None;
            session.unwatch();
            Step::Answer(Reply::Ok)
        }
        Ok(Request::Multi) => Step::Answer(Reply::Error(ClientError::NestedMulti)),
        Ok(Request::Watch { .. }) => Step::Answer(Reply::Error(ClientError::WatchInMulti)),
        Ok(Request::Save) => {
            queue.failed = true;
            Step::Answer(Reply::Error(ClientError::NotInMulti))
        }
        // Run at once, as Redis does: QUIT closes, RESET ends the transaction.
        Ok(request @ (Request::Quit | Request::Reset)) => Step::Run(request),
        Ok(_) => Step::Answer(queue.push(protocol, frame)),
        // Redis finds these only when the command runs (an odd number of MSET's
        // arguments, a bad option): queue it, and EXEC answers the same error in its
        // place.
        Err(_) if protocol.call().is_some_and(|call| !call.rejected) => {
            Step::Answer(queue.push(protocol, frame))
        }
        Err(err) if refused_before_queuing(err) => {
            queue.failed = true;
            Step::Answer(Reply::Error(err.clone()))
        }
        Err(_) => Step::Answer(queue.push(protocol, frame)),
    }
}

/// A refused EXEC, as Redis answers it in or out of a transaction: the transaction and
/// the watched keys are dropped, and the error says why.
pub fn abort<'a>(session: &mut super::Session, why: &dyn std::fmt::Display) -> Reply<'a> {
    session.transaction = None;
    session.unwatch();
    Reply::Error(ClientError::ExecAbortBecause(why.to_string()))
}

/// Whether Redis refuses this mistake before queuing (and so fails the transaction):
/// an unknown command or subcommand, or a number of arguments its command table refuses
/// (a call the protocol does not mark as accepted).
fn refused_before_queuing(err: &ClientError) -> bool {
    matches!(
        err,
        ClientError::RespUnknownCommand { .. }
            | ClientError::UnknownCommand(_)
            | ClientError::RespArity { .. }
            | ClientError::Arity { .. }
            | ClientError::UnknownSubcommand { .. }
            | ClientError::EmptyLine
    )
}

/// Whether EXEC may run the queue: `Err` holds its answer instead (EXECABORT, or the
/// null array of a watched key that changed). Call it under the exclusive hold, before
/// running anything; it ends the connection's WATCH either way.
pub fn begin<'a>(queue: &Queue, cx: &mut Context<'_>, guard: &Guard<'_>) -> Result<(), Reply<'a>> {
    let watched = cx.session.watching.take();
    if queue.failed {
        return Err(Reply::Error(ClientError::ExecAbort));
    }
    if watched.is_some_and(|watching| watching.changed(cx.store, guard)) {
        return Err(Reply::TransactionAborted);
    }
    Ok(())
}

/// MULTI.
pub fn multi<'a>(cx: &mut Context<'_>) -> Reply<'a> {
    cx.session.transaction = Some(Queue::default());
    Reply::Ok
}

/// WATCH, outside a transaction; run under the exclusive hold.
pub fn watch<'a>(cx: &mut Context<'_>, keys: Args<'_>, guard: &Guard<'_>) -> Reply<'a> {
    let watches = cx.server.watches.clone();
    let watching = cx
        .session
        .watching
        .get_or_insert_with(|| Watching::new(watches));
    for key in keys.iter() {
        if watching.keys.iter().any(|(watched, _)| watched == key) {
            continue;
        }
        if watching.keys.len() >= MAX_WATCHED_KEYS {
            return Reply::Error(ClientError::TooManyWatchedKeys {
                limit: MAX_WATCHED_KEYS,
            });
        }
        let existed = cx.store.lookup(key, guard).is_some();
        watching.add(key, existed);
    }
    Reply::Ok
}

/// The keys every connection watches, and the flag each one's EXEC checks.
#[derive(Debug)]
pub struct Watches {
    /// How many (key, connection) registrations there are: commands look no further
    /// while it is 0. Changed only under the exclusive hold (WATCH) or after it
    /// (unwatching, which may only miss a mark nobody will check).
    count: AtomicUsize,
    /// Each watched key's watchers' flags.
    keys: Mutex<HashMap<Vec<u8>, Vec<Arc<AtomicBool>>>>,
}

impl Default for Watches {
    fn default() -> Self {
        Self {
            count: AtomicUsize::new(0),
            keys: Mutex::new(HashMap::new()),
        }
    }
}

impl Watches {
    /// Whether any connection watches any key: one relaxed load. A command checks it
    /// under its shared hold, and WATCH registers under the exclusive one, so a command
    /// after a WATCH sees its registration.
    pub fn any(&self) -> bool {
        // Ordering: Relaxed; the isolation locks order it with WATCH.
        self.count.load(Ordering::Relaxed) > 0
    }

    /// Marks every connection watching `key`.
    pub fn touch(&self, key: &[u8]) {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        for flag in keys.get(key).into_iter().flatten() {
            // Ordering: Relaxed; EXEC reads it under the exclusive hold.
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Marks every connection watching a key for which `exists` holds (FLUSHALL, as
    /// Redis marks the watched keys a flush removes).
    pub fn touch_where(&self, exists: impl Fn(&[u8]) -> bool) {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, flags) in keys.iter() {
            if exists(key) {
                for flag in flags {
                    // Ordering: Relaxed; as in `touch`.
                    flag.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    fn register(&self, key: &[u8], flag: &Arc<AtomicBool>) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.entry(key.to_vec()).or_default().push(flag.clone());
        // Ordering: Relaxed; see `any`.
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn unregister(&self, key: &[u8], flag: &Arc<AtomicBool>) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(flags) = keys.get_mut(key) {
            flags.retain(|watcher| !Arc::ptr_eq(watcher, flag));
            if flags.is_empty() {
                keys.remove(key);
            }
            // Ordering: Relaxed; see `any`.
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One connection's WATCH: its keys, whether each existed when watched, and its flag.
/// Dropping it unregisters the keys.
#[derive(Debug)]
pub struct Watching {
    /// Where the keys are registered.
    watches: Arc<Watches>,
    /// Set when a watched key is modified.
    dirty: Arc<AtomicBool>,
    /// The keys, and whether each existed when watched.
    keys: Vec<(Vec<u8>, bool)>,
}

impl Watching {
    fn new(watches: Arc<Watches>) -> Self {
        Self {
            watches,
            dirty: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
        }
    }

    fn add(&mut self, key: &[u8], existed: bool) {
        self.watches.register(key, &self.dirty);
        self.keys.push((key.to_vec(), existed));
    }

    /// Whether `key` is watched, and if so whether it existed when it was.
    pub fn existed(&self, key: &[u8]) -> Option<bool> {
        self.keys
            .iter()
            .find(|(watched, _)| watched == key)
            .map(|&(_, existed)| existed)
    }

    /// Whether a watched key was modified, or existed when watched and is gone now
    /// (expired or evicted: neither is a command that marks it).
    fn changed(&self, store: &Store, guard: &Guard<'_>) -> bool {
        // Ordering: Relaxed; read under the exclusive hold, after every marking command.
        self.dirty.load(Ordering::Relaxed)
            || self
                .keys
                .iter()
                .any(|(key, existed)| *existed && store.lookup(key, guard).is_none())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        for (key, _) in &self.keys {
            self.watches.unregister(key, &self.dirty);
        }
    }
}

/// Marks the watchers of the keys `request` modified, judging by its `reply`: only a
/// change marks, as in Redis (a SET NX that set nothing, a DEL that found nothing, a
/// refused command do not).
pub fn touch_modified(watches: &Watches, request: &Request<'_>, reply: &Reply<'_>) {
    if reply.is_error() {
        return;
    }
    match *request {
        Request::Set { key, .. } | Request::Delete { key } => {
            if !matches!(reply, Reply::Deleted(0) | Reply::NotFound) {
                watches.touch(key);
            }
        }
        Request::SetWith {
            key,
            condition,
            get,
            ..
        } => {
            let set = match (condition, get) {
                (SetCondition::Always, _) => true,
                (_, false) => matches!(reply, Reply::Ok),
                (SetCondition::IfAbsent, true) => matches!(reply, Reply::NotFound),
                (SetCondition::IfPresent, true) => matches!(reply, Reply::Value(_)),
            };
            if set {
                watches.touch(key);
            }
        }
        Request::SetNx { key, .. } => {
            if matches!(reply, Reply::Integer(1)) {
                watches.touch(key);
            }
        }
        Request::MSet { pairs } => pairs.iter().step_by(2).for_each(|key| watches.touch(key)),
        Request::GetDel { key } => {
            if matches!(reply, Reply::Value(_)) {
                watches.touch(key);
            }
        }
        Request::GetEx { key, ttl } => {
            // PERSIST is marked where it runs, which knows whether there was an expiry.
            let changes = !matches!(
                ttl,
                Ok(crate::protocol::TtlOption::Unchanged | crate::protocol::TtlOption::Persist)
            );
            if matches!(reply, Reply::Value(_)) && changes {
                watches.touch(key);
            }
        }
        Request::Expire { key, .. } => {
            if matches!(reply, Reply::Expired(true) | Reply::Integer(1)) {
                watches.touch(key);
            }
        }
        Request::Persist { key } => {
            if matches!(reply, Reply::Persisted { removed: true, .. }) {
                watches.touch(key);
            }
        }
        Request::IncrBy { key, .. }
        | Request::Append { key, .. }
        | Request::IncrByFloat { key, .. } => watches.touch(key),
        Request::SetRange { key, value, .. } => {
            if !value.is_empty() {
                watches.touch(key);
            }
        }
        Request::MSetNx { pairs } => {
            if matches!(reply, Reply::Integer(1)) {
                pairs.iter().step_by(2).for_each(|key| watches.touch(key));
            }
        }
        Request::Rename { from, to, .. } => {
            // A key renamed to itself is left as it was.
            if from != to && matches!(reply, Reply::Ok | Reply::Integer(1)) {
                watches.touch(from);
                watches.touch(to);
            }
        }
        Request::Copy { to, .. } => {
            if matches!(reply, Reply::Integer(1)) {
                watches.touch(to);
            }
        }
        Request::Restore { key, .. } => {
            if matches!(reply, Reply::Ok) {
                watches.touch(key);
            }
        }
        // Marked where they run, which knows what they change.
        Request::Flush
        | Request::DeleteMany { .. }
        | Request::SetBit { .. }
        | Request::Get { .. }
        | Request::GetRange { .. }
        | Request::GetBit { .. }
        | Request::BitCount { .. }
        | Request::Lcs { .. }
        | Request::Wait
        | Request::Keys { .. }
        | Request::Scan { .. }
        | Request::RandomKey
        | Request::Object { .. }
        | Request::MemoryUsage { .. }
        | Request::HelpTopic { .. }
        | Request::Help(_)
        | Request::Dump { .. }
        | Request::MGet { .. }
        | Request::Exists { .. }
        | Request::ExpireInvalid { .. }
        | Request::Ttl { .. }
        | Request::ExpireTime { .. }
        | Request::Touch { .. }
        | Request::StrLen { .. }
        | Request::DbSize
        | Request::Type { .. }
        | Request::Time
        | Request::Save
        | Request::BgSave { .. }
        | Request::LastSave
        | Request::Info { .. }
        | Request::Usage
        | Request::Ping
        | Request::Echo { .. }
        | Request::Select { .. }
        | Request::ClientSetName { .. }
        | Request::ClientGetName
        | Request::ClientId
        | Request::Client(_)
        | Request::SlowLog(_)
        | Request::Hello { .. }
        | Request::Command(_)
        | Request::Config(_)
        | Request::Auth { .. }
        | Request::Multi
        | Request::Exec
        | Request::Discard
        | Request::Watch { .. }
        | Request::Unwatch
        | Request::Reset
        | Request::Quit
        | Request::Memcache(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::RespWire;
    use crate::protocol::{Frame, Limits};

    #[test]
    fn queued_commands_frame_again_as_they_were_framed() {
        let mut resp = RespWire::new(Limits::new());
        let session = crate::command::Session::default();
        let mut queue = Queue::default();
        for command in [
            &b"SET \"a b\" 1\r\n"[..],
            b"*2\r\n$3\r\nGET\r\n$3\r\na b\r\n",
        ] {
            let mut bytes = command.to_vec();
            let Frame::Request(len) = resp.frame(&mut bytes, &session) else {
                panic!("framed");
            };
            assert_eq!(queue.push(&resp, &bytes[..len]), Reply::Queued);
        }
        let mut requests = Vec::new();
        for frame in queue.frames_mut() {
            let Frame::Request(len) = resp.frame(frame, &session) else {
                panic!("framed again: {:?}", String::from_utf8_lossy(frame));
            };
            requests.push(format!("{:?}", resp.parse(&frame[..len])));
        }
        assert_eq!(
            requests,
            [
                format!(
                    "{:?}",
                    Ok::<_, ClientError>(Request::Set {
                        key: b"a b",
                        value: b"1"
                    })
                ),
                format!("{:?}", Ok::<_, ClientError>(Request::Get { key: b"a b" })),
            ]
        );
    }
}
