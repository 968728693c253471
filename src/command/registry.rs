//! The live connections, for CLIENT LIST, INFO and KILL: each connection registers while
//! it is served and publishes a few figures about itself, which other connections read.
//! A connection writes only its own entry, so the figures cost no shared writes; the
//! registry's lock is taken once per connection opened or closed and by CLIENT
//! commands, never per request.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Instant;

use futures_util::task::AtomicWaker;

use crate::listener::Peer;
use crate::protocol::command_table::{CommandSpec, ALL};
use crate::protocol::info::ClientReport;

/// Every live connection, by id.
#[derive(Debug, Default)]
pub struct Registry {
    clients: Mutex<Clients>,
}

/// What the registry's lock guards.
#[derive(Debug, Default)]
struct Clients {
    /// The entries, in id order, which is the order connections were accepted in.
    by_id: BTreeMap<u64, Arc<ClientEntry>>,
    /// The server is shutting down: a connection registered now is told at once.
    closing: bool,
}

impl Registry {
    /// Registers connection `id`, from `peer`; it stays listed until the returned guard
    /// is dropped.
    pub fn register(&self, id: u64, peer: Peer) -> Registered<'_> {
        let entry = Arc::new(ClientEntry::new(id, peer));
        let mut clients = self.lock();
        if clients.closing {
            entry.close();
        }
        clients.by_id.insert(id, entry.clone());
        drop(clients);
        Registered {
            registry: self,
            entry,
        }
    }

    /// The connection with this id, if it is live.
    pub fn get(&self, id: u64) -> Option<Arc<ClientEntry>> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Every live connection, in id order.
    pub fn all(&self) -> Vec<Arc<ClientEntry>> {
        self.lock().by_id.values().cloned().collect()
    }

    /// Shutdown: tells every connection, and every one registered from now on, to
    /// finish the requests it has read and close ([`ClientEntry::close`]).
    pub fn close_all(&self) {
        let mut clients = self.lock();
        clients.closing = true;
        for entry in clients.by_id.values() {
            entry.close();
        }
    }

    /// The lock; a panic while it was held left the map whole (every change is one
    /// insert or remove), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connection's place in the [`Registry`]; dropping it removes the connection.
#[derive(Debug)]
pub struct Registered<'r> {
    /// Where it is listed.
    registry: &'r Registry,
    /// What it publishes.
    pub entry: Arc<ClientEntry>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.registry.lock().by_id.remove(&self.entry.id);
    }
}

/// What one connection shows the others: fixed facts, and figures it updates itself.
/// Every figure is a statistic: relaxed loads and stores.
#[derive(Debug)]
pub struct ClientEntry {
    /// CLIENT ID.
    pub id: u64,
    /// Where it connects from and to.
    pub peer: Peer,
    /// When it was accepted, for `age`.
    connected_at: Instant,
    /// Set by CLIENT KILL: the connection closes without another reply when it sees it,
    /// which it checks after every request, one load.
    killed_flag: AtomicBool,
    /// Set on shutdown: the connection finishes the requests it has read, then closes.
    closing: AtomicBool,
    /// Wakes the connection's task, waiting for its socket, when either flag is set:
    /// nothing but its socket is polled per turn.
    alarm: AtomicWaker,
    /// Milliseconds after `connected_at` of its last command, for `idle`.
    active_ms: AtomicU64,
    /// Its last command's [`CommandSpec::id`] plus one; 0 before any.
    last_command: AtomicU32,
    /// Its RESP version.
    resp: AtomicU8,
    /// CLIENT NO-EVICT.
    no_evict: AtomicBool,
    /// Commands queued in a transaction, -1 outside one.
    multi: AtomicI64,
    /// Bytes received and not yet executed.
    query_bytes: AtomicU64,
    /// Room left in the read buffer.
    query_free_bytes: AtomicU64,
    /// The reply buffer's size.
    reply_buffer_bytes: AtomicU64,
    /// The most replies held at once.
    reply_peak_bytes: AtomicU64,
    /// Replies waiting to be sent.
    output_bytes: AtomicU64,
    /// Memory its buffers take.
    total_memory_bytes: AtomicU64,
    /// CLIENT SETNAME's name and CLIENT SETINFO's attributes, empty when unset.
    names: Mutex<Names>,
}

/// The texts a client gives itself.
#[derive(Debug, Clone, Default)]
struct Names {
    /// CLIENT SETNAME.
    name: String,
    /// CLIENT SETINFO LIB-NAME.
    lib_name: String,
    /// CLIENT SETINFO LIB-VER.
    lib_version: String,
}

/// A connection's buffers, as it publishes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buffers {
    /// Bytes received and not yet executed.
    pub query_bytes: usize,
    /// The read buffer's capacity.
    pub query_capacity: usize,
    /// The reply buffer's capacity.
    pub reply_capacity: usize,
    /// The most replies held at once.
    pub reply_peak: usize,
    /// Replies waiting to be sent.
    pub output_bytes: usize,
    /// Memory the connection takes beyond its buffers (its own structure).
    pub fixed_bytes: usize,
}

impl ClientEntry {
    fn new(id: u64, peer: Peer) -> Self {
        Self {
            id,
            peer,
            connected_at: Instant::now(),
            killed_flag: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            alarm: AtomicWaker::new(),
            active_ms: AtomicU64::new(0),
            last_command: AtomicU32::new(0),
            resp: AtomicU8::new(2),
            no_evict: AtomicBool::new(false),
            multi: AtomicI64::new(-1),
            query_bytes: AtomicU64::new(0),
            query_free_bytes: AtomicU64::new(0),
            reply_buffer_bytes: AtomicU64::new(0),
            reply_peak_bytes: AtomicU64::new(0),
            output_bytes: AtomicU64::new(0),
            total_memory_bytes: AtomicU64::new(0),
            names: Mutex::new(Names::default()),
        }
    }

    /// Asks the connection to close (CLIENT KILL).
    pub fn kill(&self) {
        // Ordering: Relaxed; the wake below orders it before a waiting connection's next
        // look (see `watch`), and one executing requests sees it at its next check.
        self.killed_flag.store(true, Ordering::Relaxed);
        self.alarm.wake();
    }

    /// Whether CLIENT KILL closed it.
    pub fn is_killed(&self) -> bool {
        // Ordering: Relaxed; see `kill`.
        self.killed_flag.load(Ordering::Relaxed)
    }

    /// Asks the connection to finish what it has read and close (shutdown).
    pub fn close(&self) {
        // Ordering: Relaxed; as in `kill`.
        self.closing.store(true, Ordering::Relaxed);
        self.alarm.wake();
    }

    /// Whether shutdown asked it to close.
    pub fn is_closing(&self) -> bool {
        // Ordering: Relaxed; see `kill`.
        self.closing.load(Ordering::Relaxed)
    }

    /// Has `waker` woken when the connection is killed or closed, and says whether it
    /// already is: registered before the flags are read, so a flag set after this look
    /// wakes the waker (`AtomicWaker`'s registration orders the two).
    pub fn watch(&self, waker: &Waker) -> bool {
        self.alarm.register(waker);
        self.is_killed() || self.is_closing()
    }

    /// Records a command called at `now`.
    pub fn called(&self, command: &CommandSpec, now: Instant) {
        let ms = now.saturating_duration_since(self.connected_at).as_millis();
        // Ordering: Relaxed; statistics, each read on its own.
        self.active_ms
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.last_command
            .store(u32::from(command.id) + 1, Ordering::Relaxed);
    }

    /// Publishes the connection's buffers.
    pub fn publish(&self, buffers: Buffers) {
        let set = |figure: &AtomicU64, bytes: usize| {
            // Ordering: Relaxed; a statistic. usize → u64 is lossless on every target.
            figure.store(bytes as u64, Ordering::Relaxed);
        };
        set(&self.query_bytes, buffers.query_bytes);
        set(
            &self.query_free_bytes,
            buffers.query_capacity.saturating_sub(buffers.query_bytes),
        );
        set(&self.reply_buffer_bytes, buffers.reply_capacity);
        set(&self.reply_peak_bytes, buffers.reply_peak);
        set(&self.output_bytes, buffers.output_bytes);
        set(
            &self.total_memory_bytes,
            buffers
                .query_capacity
                .saturating_add(buffers.reply_capacity)
                .saturating_add(buffers.fixed_bytes),
        );
    }

    /// Records the RESP version it speaks.
    pub fn set_resp(&self, version: u8) {
        // Ordering: Relaxed; a statistic.
        self.resp.store(version, Ordering::Relaxed);
    }

    /// Records CLIENT NO-EVICT.
    pub fn set_no_evict(&self, on: bool) {
        // Ordering: Relaxed; shown, never acted on.
        self.no_evict.store(on, Ordering::Relaxed);
    }

    /// Records how many commands a transaction has queued (`None`: not in one), for
    /// CLIENT LIST's `multi` field and `x` flag.
    pub fn set_multi(&self, queued: Option<usize>) {
        let multi = queued.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        // Ordering: Relaxed; a statistic.
        self.multi.store(multi, Ordering::Relaxed);
    }

    /// Records CLIENT SETNAME's name (empty: none).
    pub fn set_name(&self, name: &[u8]) {
        self.names().name = String::from_utf8_lossy(name).into_owned();
    }

    /// Records CLIENT SETINFO LIB-NAME (empty: none).
    pub fn set_lib_name(&self, name: &[u8]) {
        self.names().lib_name = String::from_utf8_lossy(name).into_owned();
    }

    /// Records CLIENT SETINFO LIB-VER (empty: none).
    pub fn set_lib_version(&self, version: &[u8]) {
        self.names().lib_version = String::from_utf8_lossy(version).into_owned();
    }

    /// Its name, empty if none.
    pub fn name(&self) -> String {
        self.names().name.clone()
    }

    /// The lock on the names; they are whole strings, so a poisoned lock is used as is.
    fn names(&self) -> MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Its CLIENT LIST line's figures, as of `now`.
    pub fn report(&self, now: Instant) -> ClientReport {
        // Ordering: Relaxed throughout; statistics.
        let load = |figure: &AtomicU64| figure.load(Ordering::Relaxed);
        let age = now.saturating_duration_since(self.connected_at);
        let active = std::time::Duration::from_millis(load(&self.active_ms));
        let multi = self.multi.load(Ordering::Relaxed);
        let mut flags = String::new();
        if multi >= 0 {
            flags.push('x');
        }
        if self.peer.unix {
            flags.push('U');
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let last_command = self.last_command.load(Ordering::Relaxed);
        let names = self.names().clone();
        ClientReport {
            id: self.id,
            addr: self.peer.addr.clone(),
            laddr: self.peer.local.clone(),
            fd: self.peer.fd,
            name: names.name,
            age_secs: age.as_secs(),
            idle_secs: age.saturating_sub(active).as_secs(),
            flags,
            multi,
            query_bytes: load(&self.query_bytes),
            query_free_bytes: load(&self.query_free_bytes),
            reply_buffer_bytes: load(&self.reply_buffer_bytes),
            reply_peak_bytes: load(&self.reply_peak_bytes),
            output_bytes: load(&self.output_bytes),
            total_memory_bytes: load(&self.total_memory_bytes),
            writing: load(&self.output_bytes) > 0,
            last_command: last_command
                .checked_sub(1)
                .and_then(|id| ALL.get(id as usize))
                .map_or("NULL", |spec| spec.name),
            resp: self.resp.load(Ordering::Relaxed),
            lib_name: names.lib_name,
            lib_version: names.lib_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command_table;

    #[test]
    fn connections_are_listed_while_registered() {
        let registry = Registry::default();
        let first = registry.register(1, Peer::default());
        {
            let _second = registry.register(2, Peer::default());
            let ids: Vec<u64> = registry.all().iter().map(|entry| entry.id).collect();
            assert_eq!(ids, [1, 2]);
        }
        assert!(registry.get(2).is_none());
        let entry = registry.get(1).unwrap();
        assert!(!entry.is_killed());
        entry.kill();
        assert!(first.entry.is_killed());
    }

    #[test]
    fn a_report_shows_what_the_connection_published() {
        let registry = Registry::default();
        let registered = registry.register(
            7,
            Peer {
                unix: true,
                ..Peer::default()
            },
        );
        let entry = &registered.entry;
        let now = Instant::now();
        assert_eq!(entry.report(now).last_command, "NULL");
        entry.called(&command_table::CLIENT_LIST, now);
        entry.set_name(b"worker");
        entry.set_no_evict(true);
        entry.publish(Buffers {
            query_bytes: 10,
            query_capacity: 100,
            reply_capacity: 50,
            reply_peak: 20,
            output_bytes: 5,
            fixed_bytes: 1,
        });
        let report = entry.report(now);
        assert_eq!(report.last_command, "client|list");
        assert_eq!(report.name, "worker");
        assert_eq!(report.flags, "Ue");
        assert_eq!((report.query_bytes, report.query_free_bytes), (10, 90));
        assert_eq!(report.total_memory_bytes, 151);
        assert!(report.writing);
        entry.set_multi(Some(2));
        assert_eq!(entry.report(now).flags, "xUe");
    }
}
