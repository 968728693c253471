//! INFO's figures as plain data: [`crate::command`] gathers them, and each protocol's
//! encoder lays them out in its own form (the line protocol's one line of integers,
//! Redis's `# Section` text).

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
