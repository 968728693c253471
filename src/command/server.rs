//! Commands about the server and the connection: INFO, HELLO, CLIENT, CONFIG GET,
//! COMMAND and SELECT, and the facts they report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::transaction::{Queue, Watches, Watching};
use super::Context;
use crate::protocol::info::{AllocatorFigures, Report};
use crate::protocol::{ClientError, Field, Reply};
use crate::store::evict::EvictionPolicy;
use crate::store::Store;

pub use crate::protocol::info::REDIS_VERSION;

/// Server-wide facts and counters for INFO, shared by every connection.
#[derive(Debug)]
pub struct ServerInfo {
    /// When the server started, for `uptime_in_seconds`.
    started: Instant,
    /// Connections open now.
    connected: AtomicU64,
    /// Connections accepted since start.
    accepted: AtomicU64,
    /// The configured connection limit.
    pub max_connections: u64,
    /// The TCP port, if the server listens on TCP (0 otherwise).
    pub tcp_port: u16,
    /// The password every connection must give first, if one is set.
    password: Option<Vec<u8>>,
    /// The keys connections WATCH.
    pub watches: crate::sync::Arc<Watches>,
    /// The idle timeout, for CONFIG GET timeout.
    idle_timeout: Option<std::time::Duration>,
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
            max_connections,
            tcp_port,
            password: None,
            watches: crate::sync::Arc::new(Watches::default()),
            idle_timeout: None,
        }
    }

    /// Records the idle timeout, for CONFIG GET.
    pub fn with_idle_timeout(mut self, idle_timeout: Option<std::time::Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Requires every connection to authenticate with `password` first.
    pub fn with_password(mut self, password: Option<Vec<u8>>) -> Self {
        self.password = password;
        self
    }

    /// Whether connections must authenticate.
    pub fn requires_auth(&self) -> bool {
        self.password.is_some()
    }

    /// Whether `given` is the password, compared in constant time (for equal lengths;
    /// a different length is refused at once, which reveals only the length).
    fn password_matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        self.password
            .as_deref()
            .is_some_and(|password| bool::from(password.ct_eq(given)))
    }

    /// A new connection's state: authenticated unless a password is set.
    pub fn session(&self, id: u64) -> Session {
        Session {
            id,
            authenticated: !self.requires_auth(),
            ..Session::default()
        }
    }

    /// Counts a connection that is now being served, until the returned guard is
    /// dropped (also when its task unwinds).
    pub fn connection_opened(self: &Arc<Self>) -> OpenConnection {
        // Ordering: Relaxed; statistics.
        self.connected.fetch_add(1, Ordering::Relaxed);
        self.accepted.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Connections open now.
    pub fn connected(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    /// Whole seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
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
}

impl Session {
    /// Forgets the watched keys (UNWATCH, and after EXEC or DISCARD).
    pub fn unwatch(&mut self) {
        self.watching = None;
    }
}

/// RESET: the connection as it was on connecting: no transaction, no watched keys, no
/// name, RESP2, and not authenticated if a password is set.
pub fn reset<'a>(cx: &mut Context<'_>) -> Reply<'a> {
    let session = &mut *cx.session;
    session.transaction = None;
    session.unwatch();
    session.name = None;
    session.resp3 = false;
    session.authenticated = !cx.server.requires_auth();
    Reply::Reset
}

/// INFO: every figure, laid out by the protocol's encoder.
pub fn info<'a>(cx: &Context<'_>, section: Option<&'a [u8]>) -> Reply<'a> {
    Reply::Info {
        report: Box::new(report(cx.store, cx.server)),
        section,
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

/// CLIENT SETNAME.
pub fn client_set_name<'a>(cx: &mut Context<'_>, name: &[u8]) -> Reply<'a> {
    if name.iter().any(|&b| b <= b' ' || b > b'~') {
        return Reply::Error(ClientError::InvalidClientName);
    }
    cx.session.name = (!name.is_empty()).then(|| name.to_vec());
    Reply::Ok
}

/// CLIENT GETNAME.
pub fn client_get_name<'a>(cx: &Context<'_>) -> Reply<'a> {
    match &cx.session.name {
        Some(name) => Reply::Text(String::from_utf8_lossy(name).into_owned()),
        None => Reply::NotFound,
    }
}

/// CLIENT ID.
pub fn client_id<'a>(cx: &Context<'_>) -> Reply<'a> {
    Reply::Integer(i64::try_from(cx.session.id).unwrap_or(i64::MAX))
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

/// COMMAND and COMMAND COUNT: an empty command table.
pub fn command<'a>(count: bool) -> Reply<'a> {
    if count {
        Reply::Integer(0)
    } else {
        Reply::Values(Vec::new())
    }
}

/// CONFIG GET with a glob pattern.
pub fn config_get<'a>(cx: &Context<'_>, pattern: &[u8]) -> Reply<'a> {
    Reply::Map(
        config(cx.store, cx.server)
            .into_iter()
            .filter(|(name, _)| glob_match(pattern, name.as_bytes()))
            .map(|(name, value)| (name.to_owned(), Field::Text(value)))
            .collect(),
    )
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
    }
    if let Some(name) = name {
        cx.session.name = (!name.is_empty()).then(|| name.to_vec());
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

/// INFO's figures, now.
fn report(store: &Store, server: &ServerInfo) -> Report {
    let stats = store.stats();
    Report {
        keys: store.len() as u64,
        volatile_keys: store.volatile_count(),
        usage_bytes: store.usage_bytes(),
        max_bytes: store.max_bytes(),
        policy: policy_name(store),
        hits: stats.hits,
        misses: stats.misses,
        evicted: stats.evicted,
        expired: stats.expired,
        connected: server.connected(),
        max_connections: server.max_connections,
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
    }
}

/// The eviction policy, as Redis names the closest of its own.
fn policy_name(store: &Store) -> &'static str {
    match store.config().policy {
        EvictionPolicy::TinyLfu => "allkeys-lfu",
        EvictionPolicy::Lru => "allkeys-lru",
    }
}

/// The configuration CONFIG GET can report.
fn config(store: &Store, server: &ServerInfo) -> Vec<(&'static str, String)> {
    vec![
        ("maxmemory", store.max_bytes().to_string()),
        ("maxmemory-policy", policy_name(store).into()),
        ("maxmemory-samples", store.config().samples.to_string()),
        ("maxclients", server.max_connections.to_string()),
        (
            "timeout",
            server
                .idle_timeout
                .map_or(0, |timeout| timeout.as_secs())
                .to_string(),
        ),
        ("databases", "1".into()),
        ("save", String::new()),
        ("appendonly", "no".into()),
    ]
}

/// Glob matching as CONFIG GET does it: `*`, `?` and literal bytes, case-insensitive.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            glob_match(rest, name)
                || name
                    .split_first()
                    .is_some_and(|(_, tail)| glob_match(pattern, tail))
        }
        (Some((b'?', rest)), Some((_, tail))) => glob_match(rest, tail),
        (Some((p, rest)), Some((n, tail))) if p.eq_ignore_ascii_case(n) => glob_match(rest, tail),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_config_get_does() {
        assert!(glob_match(b"maxmemory", b"maxmemory"));
        assert!(glob_match(b"MAXMEMORY", b"maxmemory"));
        assert!(glob_match(b"max*", b"maxmemory-policy"));
        assert!(glob_match(b"*", b"save"));
        assert!(glob_match(b"s?ve", b"save"));
        assert!(!glob_match(b"max", b"maxmemory"));
        assert!(!glob_match(b"*policy", b"maxmemory"));
    }

    /// INFO in `protocol`'s layout, for only `section` if given.
    fn info(store: &Store, section: Option<&[u8]>, resp: bool) -> String {
        let reply = Reply::Info {
            report: Box::new(report(store, &ServerInfo::default())),
            section,
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
