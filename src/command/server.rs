//! Commands about the server and the connection: INFO, HELLO, CLIENT, CONFIG GET,
//! COMMAND and SELECT, and the facts they report.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::Context;
use crate::protocol::{ClientError, Field, InfoFormat, Reply, Request};
use crate::store::evict::EvictionPolicy;
use crate::store::Store;

/// The Redis version whose commands and replies this server follows; clients read it from
/// `INFO` and `HELLO` to decide which commands they may send.
pub const REDIS_VERSION: &str = "7.2.0";

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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Session {
    /// The connection's id (CLIENT ID).
    pub id: u64,
    /// The name the client gave itself (CLIENT SETNAME), if any.
    pub name: Option<Vec<u8>>,
    /// Whether the client asked for RESP3 (HELLO 3).
    pub resp3: bool,
    /// Whether the connection may run commands: it gave the password, or none is set.
    pub authenticated: bool,
}

/// Applies a server or connection command.
pub fn apply<'a>(request: Request<'a>, cx: &mut Context<'_>) -> Reply<'a> {
    match request {
        Request::Info {
            format: InfoFormat::Line,
            ..
        } => Reply::Info(info_line(cx.store, cx.server)),
        Request::Info { section, .. } => Reply::Text(info_sections(cx.store, cx.server, section)),
        Request::Select { db } if db == b"0" => Reply::Ok,
        Request::Select { .. } => Reply::Error(ClientError::DbIndexOutOfRange),
        Request::ClientSetName { name } => {
            if name.iter().any(|&b| b <= b' ' || b > b'~') {
                return Reply::Error(ClientError::InvalidClientName);
            }
            cx.session.name = (!name.is_empty()).then(|| name.to_vec());
            Reply::Ok
        }
        Request::ClientGetName => match &cx.session.name {
            Some(name) => Reply::Text(String::from_utf8_lossy(name).into_owned()),
            None => Reply::NotFound,
        },
        Request::ClientId => Reply::Integer(i64::try_from(cx.session.id).unwrap_or(i64::MAX)),
        Request::ClientNoop => Reply::Ok,
        Request::Hello {
            version,
            name,
            auth,
        } => {
            if let Some((user, password)) = auth {
                if let Err(err) = authenticate(cx, Some(user), password) {
                    return Reply::Error(err);
                }
            }
            hello(cx, version, name)
        }
        Request::Auth { user, password } => match authenticate(cx, user, password) {
            Ok(()) => Reply::Ok,
            Err(err) => Reply::Error(err),
        },
        Request::Command { count: true } => Reply::Integer(0),
        Request::Command { count: false } => Reply::Values(Vec::new()),
        Request::ConfigGet { pattern } => Reply::Map(
            config(cx.store, cx.server)
                .into_iter()
                .filter(|(name, _)| glob_match(pattern, name.as_bytes()))
                .map(|(name, value)| (name.to_owned(), Field::Text(value)))
                .collect(),
        ),
        _ => Reply::Error(ClientError::Syntax),
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

/// The memory figures both INFOs report, under Redis's names.
struct MemoryFigures {
    /// Everything charged against the limit: entries and shared structures.
    used: u64,
    /// Resident memory of the process, as the kernel counts it (0 where unknown).
    rss: u64,
    /// Key and value bytes: `USAGE`.
    dataset: u64,
    /// What the allocator reports, if it reports anything.
    heap: Option<crate::store::HeapStats>,
}

impl MemoryFigures {
    fn of(store: &Store) -> Self {
        Self {
            used: store.charged_bytes(),
            rss: crate::rss::resident_bytes().unwrap_or(0),
            dataset: store.usage_bytes(),
            heap: store.heap_stats(),
        }
    }

    /// RSS over charged memory, as Redis's `mem_fragmentation_ratio`.
    fn fragmentation_ratio(&self) -> f64 {
        if self.used == 0 {
            return 0.0;
        }
        self.rss as f64 / self.used as f64
    }
}

/// The line protocol's INFO: one line of `key=value` pairs, every value an integer (the
/// memory figures of `INFO memory` that are integers come last, under Redis's names).
fn info_line(store: &Store, server: &ServerInfo) -> String {
    let stats = store.stats();
    let memory = MemoryFigures::of(store);
    format!(
        "keys={} used_bytes={} limit={} hits={} misses={} evictions={} expirations={} connections={} uptime={} used_memory={} used_memory_rss={} used_memory_dataset={} maxmemory={}",
        store.len(),
        store.usage_bytes(),
        store.max_bytes(),
        stats.hits,
        stats.misses,
        stats.evicted,
        stats.expired,
        server.connected(),
        server.uptime_secs(),
        memory.used,
        memory.rss,
        memory.dataset,
        store.max_bytes(),
    )
}

/// Redis's INFO: `# Section` headers and `field:value` lines, CRLF-terminated; all
/// sections, or only the one asked for (unknown sections give an empty text).
fn info_sections(store: &Store, server: &ServerInfo, section: Option<&[u8]>) -> String {
    let wanted = |name: &str| {
        section.is_none_or(|asked| {
            asked.eq_ignore_ascii_case(name.as_bytes())
                || [&b"all"[..], b"default", b"everything"]
                    .iter()
                    .any(|all| asked.eq_ignore_ascii_case(all))
        })
    };
    let stats = store.stats();
    let mut out = String::new();
    // Writing to a String cannot fail.
    if wanted("server") {
        let _ = write!(
            out,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nblink_version:{}\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            usize::BITS,
            std::process::id(),
            server.tcp_port,
            server.uptime_secs(),
            server.uptime_secs() / 86_400,
        );
    }
    if wanted("clients") {
        let _ = write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\n\r\n",
            server.connected(),
            server.max_connections,
        );
    }
    if wanted("memory") {
        let memory = MemoryFigures::of(store);
        let _ = write!(
            out,
            "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\nused_memory_dataset:{}\r\nmem_fragmentation_ratio:{:.2}\r\n",
            memory.used,
            human_bytes(memory.used),
            memory.rss,
            human_bytes(memory.rss),
            memory.dataset,
            memory.fragmentation_ratio(),
        );
        if let Some(heap) = memory.heap {
            let _ = write!(
                out,
                "allocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\nallocator_metadata:{}\r\n",
                heap.allocated, heap.active, heap.resident, heap.metadata,
            );
        }
        let _ = write!(
            out,
            "maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\n\r\n",
            store.max_bytes(),
            human_bytes(store.max_bytes()),
            policy_name(store),
        );
    }
    if wanted("persistence") {
        out.push_str("# Persistence\r\nloading:0\r\n\r\n");
    }
    if wanted("stats") {
        let _ = write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\nevicted_keys:{}\r\nexpired_keys:{}\r\n\r\n",
            server.accepted.load(Ordering::Relaxed),
            stats.hits,
            stats.misses,
            stats.evicted,
            stats.expired,
        );
    }
    if wanted("replication") {
        out.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n");
    }
    if wanted("keyspace") {
        out.push_str("# Keyspace\r\n");
        if !store.is_empty() {
            let _ = write!(
                out,
                "db0:keys={},expires={},avg_ttl=0\r\n",
                store.len(),
                store.volatile_count()
            );
        }
        out.push_str("\r\n");
    }
    // Redis ends the text after the last section's fields, without the blank line.
    while out.ends_with("\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// The eviction policy, as Redis names the closest of its own.
fn policy_name(store: &Store) -> &'static str {
    match store.config().policy {
        EvictionPolicy::TinyLfu => "allkeys-lfu",
        EvictionPolicy::Lru => "allkeys-lru",
    }
}

/// `1.50M`-style sizes, as Redis's `*_human` fields.
fn human_bytes(bytes: u64) -> String {
    // Precision loss is irrelevant for a display with two decimals.
    let value = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes}B"),
        1024..1_048_576 => format!("{:.2}K", value / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", value / 1_048_576.0),
        _ => format!("{:.2}G", value / 1_073_741_824.0),
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

    #[test]
    fn info_has_the_fields_clients_read() {
        let store = Store::new(100_000);
        store.set(b"k", b"v").unwrap();
        store.refresh_structures();
        assert!(store.charged_bytes() > store.used_bytes());
        let text = info_sections(&store, &ServerInfo::default(), None);
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
        let memory = info_sections(&store, &ServerInfo::default(), Some(b"MEMORY"));
        assert!(memory.starts_with("# Memory\r\n") && !memory.contains("# Server"));
        assert!(!memory.ends_with("\r\n\r\n"));
        let line = info_line(&store, &ServerInfo::default());
        assert!(
            line.starts_with("keys=1 used_bytes=2 limit=100000 hits=0")
                && line.contains(&format!(" used_memory={} ", store.charged_bytes()))
                && line.ends_with(" used_memory_dataset=2 maxmemory=100000"),
            "{line}"
        );
    }
}
