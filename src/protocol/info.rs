//! The server's reports as plain data: INFO's figures, CLIENT LIST's rows and SLOWLOG's
//! entries. [`crate::command`] gathers them, and each protocol's encoder lays them out in
//! its own form (the line protocol's one line of integers, Redis's `# Section` text and
//! `id=.. addr=..` lines).

/// The Redis version whose commands and replies this server follows; clients read it from
/// `INFO` and `HELLO` to decide which commands they may send.
pub const REDIS_VERSION: &str = "7.2.0";

/// Everything INFO reports, gathered at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Live keys.
    pub keys: u64,
    /// Live keys with an expiry.
    pub volatile_keys: u64,
    /// Key and value bytes of live entries (`USAGE`).
    pub usage_bytes: u64,
    /// The memory limit, in bytes.
    pub max_bytes: u64,
    /// The eviction policy, as Redis names the closest of its own.
    pub policy: &'static str,
    /// Reads that found their key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Entries evicted for memory.
    pub evicted: u64,
    /// Entries removed on expiry.
    pub expired: u64,
    /// Clients connected now.
    pub connected: u64,
    /// The connection limit.
    pub max_connections: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// The TCP port served (0 without TCP).
    pub tcp_port: u16,
    /// Everything charged against the limit: entries and shared structures.
    pub used_memory: u64,
    /// Resident memory of the process, as the kernel counts it (0 where unknown).
    pub rss_bytes: u64,
    /// What the allocator reports, if it reports anything.
    pub allocator: Option<AllocatorFigures>,
    /// Commands executed (rejected ones not included), as `total_commands_processed`.
    pub commands_processed: u64,
    /// Error replies sent, as `total_error_replies`.
    pub error_replies: u64,
    /// Connections refused at the connection limit, as `rejected_connections`.
    pub rejected_connections: u64,
    /// Bytes read from clients, as `total_net_input_bytes`.
    pub net_input_bytes: u64,
    /// Bytes written to clients, as `total_net_output_bytes`.
    pub net_output_bytes: u64,
    /// Reads from clients that returned bytes, as `total_reads_processed`.
    pub reads_processed: u64,
    /// Writes to clients that took bytes, as `total_writes_processed`.
    pub writes_processed: u64,
    /// TLS handshakes that failed or timed out, as `tls_handshake_failures`.
    pub tls_handshake_failures: u64,
    /// CPU time the process has used, if the system says.
    pub cpu: Option<CpuTimes>,
    /// The snapshot file's figures, if the server has one.
    pub persistence: Option<Persistence>,
    /// Per-command counters of the commands called since the last reset, in table order.
    pub commands: Vec<CommandStat>,
    /// Error replies by error code (`ERR`, `WRONGPASS`...), of the codes seen.
    pub errors: Vec<(&'static str, u64)>,
}

/// The snapshot file's figures, for INFO's persistence section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Persistence {
    /// The file.
    pub path: String,
    /// A write is running.
    pub in_progress: bool,
    /// Unix seconds of the last successful write, or of the start.
    pub last_save_secs: u64,
    /// Whether the last write failed.
    pub last_failed: bool,
    /// Seconds the last write took; -1 before any.
    pub last_took_secs: i64,
    /// Seconds the running write has taken; -1 when none runs.
    pub current_secs: i64,
    /// Milliseconds the last write took; -1 before any.
    pub last_took_ms: i64,
    /// Entries the last successful write wrote.
    pub last_entries: u64,
    /// Bytes of the last successful write's file.
    pub last_bytes: u64,
    /// Successful writes since start.
    pub saves: u64,
    /// Entries loaded at start.
    pub loaded_entries: u64,
}

/// CPU time used by the process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// In user mode.
    pub user: std::time::Duration,
    /// In the kernel on its behalf.
    pub system: std::time::Duration,
}

/// One command's counters, as `INFO commandstats` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    /// The command's name (`container|sub` for a subcommand).
    pub name: &'static str,
    /// Times it ran.
    pub calls: u64,
    /// Microseconds it ran for, in total.
    pub usec: u64,
    /// Times it was refused before running (wrong arity, no authentication).
    pub rejected: u64,
    /// Times it ran and answered with an error.
    pub failed: u64,
}

impl CommandStat {
    /// Microseconds per call, as `usec_per_call`.
    pub fn usec_per_call(&self) -> f64 {
        if self.calls == 0 {
            return 0.0;
        }
        self.usec as f64 / self.calls as f64
    }
}

/// One client connection, as CLIENT LIST shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientReport {
    /// CLIENT ID.
    pub id: u64,
    /// Where it connects from: `ip:port`, or `path:0` over a Unix socket.
    pub addr: String,
    /// Where it connected to, the same way.
    pub laddr: String,
    /// Its socket's file descriptor (-1 where there is none).
    pub fd: i64,
    /// CLIENT SETNAME's name, empty if none.
    pub name: String,
    /// Seconds since it connected.
    pub age_secs: u64,
    /// Seconds since its last command.
    pub idle_secs: u64,
    /// Redis's flag letters: `U` over a Unix socket, `e` with NO-EVICT, `N` for none.
    pub flags: String,
    /// Commands queued in a transaction (`multi`), -1 outside one.
    pub multi: i64,
    /// Bytes received and not yet executed (`qbuf`).
    pub query_bytes: u64,
    /// Room left in the read buffer (`qbuf-free`).
    pub query_free_bytes: u64,
    /// The reply buffer's size (`rbs`).
    pub reply_buffer_bytes: u64,
    /// The most replies the buffer has held at once (`rbp`).
    pub reply_peak_bytes: u64,
    /// Replies waiting to be sent (`obl`).
    pub output_bytes: u64,
    /// Memory the connection's buffers take (`tot-mem`).
    pub total_memory_bytes: u64,
    /// Whether replies are waiting, so the socket is watched for writing (`events=rw`).
    pub writing: bool,
    /// The last command it called (`cmd`), `NULL` before any.
    pub last_command: &'static str,
    /// The protocol version it speaks: 2, or 3 after HELLO 3.
    pub resp: u8,
    /// CLIENT SETINFO LIB-NAME, empty if none.
    pub lib_name: String,
    /// CLIENT SETINFO LIB-VER, empty if none.
    pub lib_version: String,
}

/// One entry of the slow log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlowEntry {
    /// Its number; entries are numbered from 0 in the order logged.
    pub id: u64,
    /// When it was logged, in Unix seconds.
    pub unix_secs: u64,
    /// How long the command ran, in microseconds.
    pub micros: u64,
    /// The command's arguments, at most 32, each cut to 128 bytes, as Redis keeps them.
    pub args: Vec<Vec<u8>>,
    /// The client's address, as CLIENT LIST shows it.
    pub addr: String,
    /// The client's name, empty if none.
    pub name: String,
}

/// The allocator's own figures, under the names of Redis's `INFO memory`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorFigures {
    /// `allocator_allocated`: bytes in live allocations.
    pub allocated: u64,
    /// `allocator_active`: bytes of the pages holding them.
    pub active: u64,
    /// `allocator_resident`: the allocator's resident bytes.
    pub resident: u64,
    /// `allocator_metadata`: its own bookkeeping.
    pub metadata: u64,
}

impl Report {
    /// RSS over charged memory, as Redis's `mem_fragmentation_ratio`.
    pub fn fragmentation_ratio(&self) -> f64 {
        if self.used_memory == 0 {
            return 0.0;
        }
        self.rss_bytes as f64 / self.used_memory as f64
    }
}

/// `1.50M`-style sizes, as Redis's `*_human` fields.
pub fn human_bytes(bytes: u64) -> String {
    // Precision loss is irrelevant for a display with two decimals.
    let value = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes}B"),
        1024..1_048_576 => format!("{:.2}K", value / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", value / 1_048_576.0),
        _ => format!("{:.2}G", value / 1_073_741_824.0),
    }
}
