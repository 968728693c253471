//! Commands about the server and the connection: INFO, HELLO, AUTH, TIME and SELECT,
//! and the server-wide state they and CLIENT, CONFIG and SLOWLOG report and change.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::clients::{name_session, this_client};
use super::config::policy_name;
use super::registry::Registry;
use super::slowlog::SlowLog;
use super::stats::CommandStats;
use super::transaction::{Queue, Watches, Watching};
use super::Context;
use crate::protocol::info::{AllocatorFigures, Report};
use crate::protocol::{Args, ClientError, Field, Reply, ReplyMode};
use crate::snapshot::Snapshots;
use crate::store::stats::Counter;
use crate::store::Store;

use super::persistence::Deferred;

pub use crate::protocol::info::REDIS_VERSION;

/// Server-wide facts, settings and counters, shared by every connection.
#[derive(Debug)]
pub struct ServerInfo {
    /// When the server started, for `uptime_in_seconds`.
    started: Instant,
    /// Connections open now.
    connected: AtomicU64,
    /// Connections accepted since start (or the last CONFIG RESETSTAT).
    accepted: AtomicU64,
    /// Connections refused at the limit since then.
    rejected_connections: AtomicU64,
    /// TLS handshakes that failed or timed out since then.
    tls_handshake_failures: AtomicU64,
    /// The connection limit; CONFIG SET maxclients changes it.
    max_connections: AtomicU64,
    /// The TCP port, if the server listens on TCP (0 otherwise).
    pub tcp_port: u16,
    /// The password every connection must give first, if one is set; CONFIG SET
    /// requirepass changes it.
    password: RwLock<Option<Vec<u8>>>,
    /// Whether `password` is set, read without the lock by every command of a connection
    /// that has not authenticated.
    auth_required: AtomicBool,
    /// The idle timeout in seconds, 0 for none; CONFIG SET timeout changes it.
    idle_timeout_secs: AtomicU64,
    /// The live connections, for CLIENT LIST and KILL.
    pub clients: Registry,
    /// Per-command counters, for INFO.
    pub stats: CommandStats,
    /// Commands that ran long, for SLOWLOG.
    pub slow_log: SlowLog,
    /// The keys connections WATCH.
    pub watches: crate::sync::Arc<Watches>,
    /// memcached's counters and pending `flush_all`.
    pub memcache: super::memcache::McState,
    /// The snapshot file SAVE and BGSAVE write, if the server has one (`--snapshot`).
    pub snapshots: Option<Arc<Snapshots>>,
    /// Bytes read from and written to clients.
    pub traffic: Traffic,
}

/// Bytes read from and written to clients since start (or the last CONFIG RESETSTAT), as
/// `total_net_input_bytes` and `total_net_output_bytes`, and the reads and writes that
/// moved them, as `total_reads_processed` and `total_writes_processed`: counted per read
/// and write, on sharded counters ([`Counter`]).
#[derive(Default)]
pub struct Traffic {
    /// Bytes read.
    input: Counter,
    /// Bytes written.
    output: Counter,
    /// Reads that returned bytes.
    reads: Counter,
    /// Writes that took bytes.
    writes: Counter,
}

impl std::fmt::Debug for Traffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traffic")
            .field("input", &self.input.sum())
            .field("output", &self.output.sum())
            .field("reads", &self.reads.sum())
            .field("writes", &self.writes.sum())
            .finish()
    }
}

impl Traffic {
    /// Counts one read of `n` bytes from a client.
    pub fn received(&self, n: usize) {
        self.input.add(n as u64);
        self.reads.add(1);
    }

    /// Counts one write of `n` bytes to a client.
    pub fn sent(&self, n: usize) {
        self.output.add(n as u64);
        self.writes.add(1);
    }

    /// Bytes read and written so far.
    pub fn totals(&self) -> (u64, u64) {
        (self.input.sum(), self.output.sum())
    }

    /// Reads and writes so far.
    pub fn operations(&self) -> (u64, u64) {
        (self.reads.sum(), self.writes.sum())
    }

    /// Zeroes every count.
    fn reset(&self) {
        self.input.reset();
        self.output.reset();
        self.reads.reset();
        self.writes.reset();
    }
}

impl Default for ServerInfo {
    fn default() -> Self {
        Self::new(0, 0)
    }
}

impl ServerInfo {
    /// Facts for a server with this connection limit and TCP port.
    pub fn new(max_connections: u64, tcp_port: u16) -> Self {
        Self {
            started: Instant::now(),
            connected: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            tls_handshake_failures: AtomicU64::new(0),
            max_connections: AtomicU64::new(max_connections),
            tcp_port,
            password: RwLock::new(None),
            auth_required: AtomicBool::new(false),
            idle_timeout_secs: AtomicU64::new(0),
            clients: Registry::default(),
            stats: CommandStats::default(),
            slow_log: SlowLog::default(),
            watches: crate::sync::Arc::new(Watches::default()),
            memcache: super::memcache::McState::default(),
            snapshots: None,
            traffic: Traffic::default(),
        }
    }

    /// Gives SAVE and BGSAVE a snapshot file to write.
    pub fn with_snapshots(mut self, snapshots: Option<Arc<Snapshots>>) -> Self {
        self.snapshots = snapshots;
        self
    }

    /// Sets the idle timeout.
    pub fn with_idle_timeout(self, idle_timeout: Option<Duration>) -> Self {
        self.set_idle_timeout(idle_timeout.map_or(0, |timeout| timeout.as_secs()));
        self
    }

    /// Requires every connection to authenticate with `password` first.
    pub fn with_password(self, password: Option<Vec<u8>>) -> Self {
        self.set_password(password);
        self
    }

    /// Whether connections must authenticate.
    pub fn requires_auth(&self) -> bool {
        // Ordering: Relaxed; a setting. A connection that reads the old value for one
        // command is as if the command came just before the change.
        self.auth_required.load(Ordering::Relaxed)
    }

    /// The password, if one is set.
    pub fn password(&self) -> Option<Vec<u8>> {
        self.password
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets or clears the password. Connections already authenticated stay so; without
    /// a password, every connection may run commands.
    pub fn set_password(&self, password: Option<Vec<u8>>) {
        let mut slot = self.password.write().unwrap_or_else(|p| p.into_inner());
        // Ordering: Relaxed; see `requires_auth`. Set under the lock, with the password.
        self.auth_required
            .store(password.is_some(), Ordering::Relaxed);
        *slot = password;
    }

    /// Whether `given` is the password, compared in constant time (for equal lengths;
    /// a different length is refused at once, which reveals only the length).
    fn password_matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        self.password
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
            .is_some_and(|password| bool::from(password.ct_eq(given)))
    }

    /// The connection limit.
    pub fn max_connections(&self) -> u64 {
        // Ordering: Relaxed; a setting, compared with `connected` in `try_open`.
        self.max_connections.load(Ordering::Relaxed)
    }

    /// Changes the connection limit. Connections beyond a lowered limit stay open; new
    /// ones are refused until enough close.
    pub fn set_max_connections(&self, max: u64) {
        // Ordering: Relaxed; see `max_connections`.
        self.max_connections.store(max, Ordering::Relaxed);
    }

    /// The idle timeout, if any.
    pub fn idle_timeout(&self) -> Option<Duration> {
        // Ordering: Relaxed; a setting.
        let secs = self.idle_timeout_secs.load(Ordering::Relaxed);
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// Sets the idle timeout in seconds (0: none). Each connection applies it from its
    /// next wait for input.
    pub fn set_idle_timeout(&self, secs: u64) {
        // Ordering: Relaxed; a setting.
        self.idle_timeout_secs.store(secs, Ordering::Relaxed);
    }

    /// A new connection's state: authenticated unless a password is set.
    pub fn session(&self, id: u64) -> Session {
        Session {
            id,
            authenticated: !self.requires_auth(),
            ..Session::default()
        }
    }

    /// Admits a connection if fewer than the limit are open, counting it open until the
    /// returned guard is dropped (also when its task unwinds); `None`, counted as a
    /// refused connection, at the limit.
    pub fn try_open(self: &Arc<Self>) -> Option<OpenConnection> {
        let max = self.max_connections();
        // Ordering: Relaxed; the compare-exchange makes "check the limit, then count"
        // one step, and nothing else is published through the counter.
        let admitted = self
            .connected
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < max).then_some(open + 1)
            });
        if admitted.is_err() {
            self.rejected_connections.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Some(OpenConnection(self.clone()))
    }

    /// Counts a client whose TLS handshake failed or timed out.
    pub fn count_tls_handshake_failure(&self) {
        // Ordering: Relaxed; a statistic.
        self.tls_handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Connections open now.
    pub fn connected(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    /// Connections accepted, and refused at the limit, since start (or the last CONFIG
    /// RESETSTAT).
    pub fn connections_counted(&self) -> (u64, u64) {
        // Ordering: Relaxed; statistics.
        (
            self.accepted.load(Ordering::Relaxed),
            self.rejected_connections.load(Ordering::Relaxed),
        )
    }

    /// Whole seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// The Unix time of the start, in seconds (LASTSAVE without a snapshot file).
    pub fn started_unix_secs(&self) -> u64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |now| now.as_secs())
            .saturating_sub(self.uptime_secs())
    }

    /// Zeroes the server's counters (CONFIG RESETSTAT): per command and per error,
    /// connections accepted and refused, failed TLS handshakes.
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.traffic.reset();
        // Ordering: Relaxed; statistics.
        self.accepted.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
        self.tls_handshake_failures.store(0, Ordering::Relaxed);
    }
}

/// A connection counted as open; dropping it counts it closed.
#[derive(Debug)]
pub struct OpenConnection(Arc<ServerInfo>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        // Ordering: Relaxed; statistics. Every close follows its open.
        self.0.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One connection's state.
#[derive(Debug, Default)]
pub struct Session {
    /// The connection's id (CLIENT ID).
    pub id: u64,
    /// The name the client gave itself (CLIENT SETNAME), if any.
    pub name: Option<Vec<u8>>,
    /// Whether the client asked for RESP3 (HELLO 3).
    pub resp3: bool,
    /// Whether the connection may run commands: it gave the password, or none is set.
    pub authenticated: bool,
    /// The commands queued since MULTI, while a transaction is open.
    pub transaction: Option<Queue>,
    /// The keys this connection WATCHes, if any.
    pub watching: Option<Watching>,
    /// CLIENT REPLY OFF: no reply is sent until CLIENT REPLY ON.
    replies_off: bool,
    /// This command's reply is not sent: the previous one was CLIENT REPLY SKIP.
    skip_this: bool,
    /// The next command's reply is not sent: this one is CLIENT REPLY SKIP.
    skip_next: bool,
    /// The connection closes once this command's reply is sent: it killed itself.
    closing: bool,
    /// This command's reply comes later (SAVE): the connection awaits it before it runs
    /// the next command.
    deferred: Option<Deferred>,
}

impl Session {
    /// Forgets the watched keys (UNWATCH, and after EXEC or DISCARD).
    pub fn unwatch(&mut self) {
        self.watching = None;
    }

    /// Whether the connection is to close once the last reply is sent (CLIENT KILL of
    /// itself).
    pub fn closing(&self) -> bool {
        self.closing
    }

    /// Closes the connection once the reply to this command is sent.
    pub fn close_after_reply(&mut self) {
        self.closing = true;
    }

    /// Makes the reply to this command the one `deferred` resolves to, not the one
    /// returned.
    pub fn defer(&mut self, deferred: Deferred) {
        self.deferred = Some(deferred);
    }

    /// The reply this command deferred, if it did.
    pub fn take_deferred(&mut self) -> Option<Deferred> {
        self.deferred.take()
    }

    /// Whether the reply to the command just run is sent (CLIENT REPLY).
    pub fn wants_reply(&self) -> bool {
        !self.replies_off && !self.skip_this
    }

    /// Ends a command: a CLIENT REPLY SKIP just run silences the next one.
    pub fn command_done(&mut self) {
        self.skip_this = std::mem::take(&mut self.skip_next);
    }

    /// CLIENT REPLY: ON answers everything again, OFF nothing, SKIP (unless OFF) not the
    /// next command.
    pub fn set_reply_mode(&mut self, mode: ReplyMode) {
        match mode {
            ReplyMode::On => {
                self.replies_off = false;
                self.skip_this = false;
                self.skip_next = false;
            }
            ReplyMode::Off => self.replies_off = true,
            ReplyMode::Skip => self.skip_next = !self.replies_off,
        }
    }
}

/// RESET: the connection as it was on connecting: no transaction, no watched keys, no
/// name, replies on, RESP2, and not authenticated if a password is set.
pub fn reset<'a>(cx: &mut Context<'_>) -> Reply<'a> {
    name_session(cx, b"");
    let session = &mut *cx.session;
    session.transaction = None;
    session.unwatch();
    session.set_reply_mode(ReplyMode::On);
    session.resp3 = false;
    session.authenticated = !cx.server.requires_auth();
    Reply::Reset
}

/// INFO: every figure, laid out by the protocol's encoder.
pub fn info<'a>(cx: &Context<'_>, sections: Args<'a>) -> Reply<'a> {
    Reply::Info {
        report: Box::new(report(cx.store, cx.server)),
        sections,
    }
}

/// WAIT: how many replicas acknowledged the writes before it. There are none, so 0, at
/// once: Redis answers 0 at once only when asked for no replica, and otherwise after the
/// timeout (or never, for a timeout of 0), but no replica will ever answer here.
pub fn wait<'a>() -> Reply<'a> {
    Reply::Integer(0)
}

/// TIME: the Unix time in seconds and the microseconds past it, as two decimal strings.
pub fn time<'a>() -> Reply<'a> {
    // A clock before 1970 reads as 1970.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Reply::Texts(vec![
        now.as_secs().to_string(),
        now.subsec_micros().to_string(),
    ])
}

/// SELECT: only database 0 exists.
pub fn select<'a>(db: &[u8]) -> Reply<'a> {
    if db == b"0" {
        Reply::Ok
    } else {
        Reply::Error(ClientError::DbIndexOutOfRange)
    }
}

/// HELLO, authenticating first if it carries AUTH.
pub fn hello_with_auth<'a>(
    cx: &mut Context<'_>,
    version: Option<&[u8]>,
    name: Option<&[u8]>,
    auth: Option<(&[u8], &[u8])>,
) -> Reply<'a> {
    if let Some((user, password)) = auth {
        if let Err(err) = authenticate(cx, Some(user), password) {
            return Reply::Error(err);
        }
    }
    hello(cx, version, name)
}

/// AUTH.
pub fn auth<'a>(cx: &mut Context<'_>, user: Option<&[u8]>, password: &[u8]) -> Reply<'a> {
    match authenticate(cx, user, password) {
        Ok(()) => Reply::Ok,
        Err(err) => Reply::Error(err),
    }
}

/// Checks a password (and user, which must be `default`) and marks the session.
fn authenticate(
    cx: &mut Context<'_>,
    user: Option<&[u8]>,
    password: &[u8],
) -> Result<(), ClientError> {
    if !cx.server.requires_auth() {
        return Err(ClientError::NoPasswordSet);
    }
    let user_ok = user.is_none_or(|user| user == b"default");
    // Compare even for a wrong user, so timing tells nothing either way.
    let password_ok = cx.server.password_matches(password);
    if user_ok && password_ok {
        cx.session.authenticated = true;
        Ok(())
    } else {
        tracing::warn!("authentication failed");
        Err(ClientError::WrongPass)
    }
}

/// HELLO: switches the protocol version if one is given, names the connection if asked,
/// and replies with the server's facts.
fn hello<'a>(cx: &mut Context<'_>, version: Option<&[u8]>, name: Option<&[u8]>) -> Reply<'a> {
    if let Some(version) = version {
        match crate::decimal::parse_integer(version) {
            Some(2) => cx.session.resp3 = false,
            Some(3) => cx.session.resp3 = true,
            Some(_) => return Reply::Error(ClientError::NoProto),
            None => return Reply::Error(ClientError::ProtocolVersionNotInteger),
        }
        if let Some(entry) = this_client(cx) {
            entry.set_resp(if cx.session.resp3 { 3 } else { 2 });
        }
    }
    if let Some(name) = name {
        // Names CLIENT LIST could not show are refused, as CLIENT SETNAME refuses them.
        if name.iter().any(|&b| b <= b' ' || b > b'~') {
            return Reply::Error(ClientError::InvalidClientName);
        }
        name_session(cx, name);
    }
    Reply::Map(vec![
        ("server".into(), Field::Text("blink-store".into())),
        ("version".into(), Field::Text(REDIS_VERSION.into())),
        (
            "proto".into(),
            Field::Integer(if cx.session.resp3 { 3 } else { 2 }),
        ),
        (
            "id".into(),
            Field::Integer(i64::try_from(cx.session.id).unwrap_or(i64::MAX)),
        ),
        ("mode".into(), Field::Text("standalone".into())),
        ("role".into(), Field::Text("master".into())),
        ("modules".into(), Field::Empty),
    ])
}

/// INFO's figures, now: also what the Prometheus endpoint serves.
pub fn report(store: &Store, server: &ServerInfo) -> Report {
    let stats = store.stats();
    let commands = server.stats.commands();
    let errors = server.stats.errors();
    let (net_input_bytes, net_output_bytes) = server.traffic.totals();
    let (reads_processed, writes_processed) = server.traffic.operations();
    Report {
        keys: store.len() as u64,
        volatile_keys: store.volatile_count(),
        usage_bytes: store.usage_bytes(),
        max_bytes: store.max_bytes(),
        policy: policy_name(store.policy()),
        hits: stats.hits,
        misses: stats.misses,
        evicted: stats.evicted,
        expired: stats.expired,
        connected: server.connected(),
        max_connections: server.max_connections(),
        accepted: server.accepted.load(Ordering::Relaxed),
        uptime_secs: server.uptime_secs(),
        tcp_port: server.tcp_port,
        used_memory: store.charged_bytes(),
        rss_bytes: crate::rss::resident_bytes().unwrap_or(0),
        allocator: store.heap_stats().map(|heap| AllocatorFigures {
            allocated: heap.allocated,
            active: heap.active,
            resident: heap.resident,
            metadata: heap.metadata,
        }),
        commands_processed: commands.iter().map(|stat| stat.calls).sum(),
        error_replies: errors.iter().map(|(_, count)| count).sum(),
        rejected_connections: server.rejected_connections.load(Ordering::Relaxed),
        net_input_bytes,
        net_output_bytes,
        reads_processed,
        writes_processed,
        tls_handshake_failures: server.tls_handshake_failures.load(Ordering::Relaxed),
        cpu: crate::cpu::used(),
        persistence: server
            .snapshots
            .as_ref()
            .map(|snapshots| snapshots.figures()),
        commands,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// INFO in `protocol`'s layout, for only `section` if given.
    fn info(store: &Store, section: Option<&[u8]>, resp: bool) -> String {
        let ranges = std::slice::from_ref(&(0..section.map_or(0, <[u8]>::len))).to_vec();
        let sections = match section {
            Some(section) => Args::new(section, &ranges),
            None => Args::new(&[], &[]),
        };
        let reply = Reply::Info {
            report: Box::new(report(store, &ServerInfo::default())),
            sections,
        };
        let mut out = Vec::new();
        if resp {
            crate::protocol::resp::RespProtocol::new().encode(&reply, &mut out);
        } else {
            crate::protocol::text::TextProtocol::new().encode(&reply, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn info_has_the_fields_clients_read() {
        let store = Store::new(100_000);
        store.set(b"k", b"v").unwrap();
        store.refresh_structures();
        assert!(store.charged_bytes() > store.used_bytes());
        let text = info(&store, None, true);
        for field in [
            "redis_version:".to_string(),
            format!("used_memory:{}\r\n", store.charged_bytes()),
            "used_memory_dataset:2\r\n".to_string(),
            "used_memory_rss:".to_string(),
            "mem_fragmentation_ratio:".to_string(),
            "maxmemory:100000\r\n".to_string(),
            "keyspace_hits:0".to_string(),
            "evicted_keys:0".to_string(),
            "expired_keys:0".to_string(),
            "loading:0".to_string(),
            "db0:keys=1,expires=0".to_string(),
        ] {
            assert!(text.contains(&field), "{field} in {text}");
        }
        let memory = info(&store, Some(b"MEMORY"), true);
        assert!(memory.contains("\r\n# Memory\r\n") && !memory.contains("# Server"));
        assert!(!memory.ends_with("\r\n\r\n\r\n"));
        let line = info(&store, None, false);
        assert!(
            line.starts_with("INFO keys=1 used_bytes=2 limit=100000 hits=0")
                && line.contains(&format!(" used_memory={} ", store.charged_bytes()))
                && line.ends_with(" used_memory_dataset=2 maxmemory=100000\n"),
            "{line}"
        );
    }
}
