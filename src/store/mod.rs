//! The key-value store: a lock-free map of byte keys to byte values, with exact size
//! accounting and an access stamp per entry for eviction.
//!
//! # Layout
//! The map's key is the [`Entry`], key and value bytes in one allocation; its value is
//! the entry's [`Meta`]: size and access stamp. papaya adds one node per entry holding
//! both. Keys are hashed once per operation ([`key_hash`]) and the hash is passed through
//! to the map, the sampler and the sketch.
//!
//! # Size accounting
//! Each entry is charged what it really costs in memory ([`footprint`]: its allocation
//! rounded to the allocator's class, papaya's node, its sampler slots), so the memory
//! limit bounds the process rather than the key and value bytes alone.
//! `used` changes only by amounts taken from what the map *returned*: charge the new
//! entry before `insert` publishes it, then discharge the charge of the `Meta` `insert`
//! replaced;
//! `remove`/`remove_if` discharge exactly what they removed. Never read-then-write: a
//! separate `get` of the old size races with a concurrent SET of the same key.
//! So `used` never underflows, never counts less than what is published while operations
//! race, and equals Σ charge of live entries whenever none is in flight
//! ([`Store::recount_charged`]). The key and value bytes (`USAGE`) are counted by the same
//! rules on a sharded counter, equal to [`Store::recount`] at rest.
//!
//! Papaya's table and the frequency sketch are shared, not per entry: the evictor (and a
//! writer that helps evict) refreshes their estimated size ([`footprint::Structures`]) and
//! entries get what is left of the limit. Where the binary's allocator reports its
//! statistics ([`Store::set_heap_gauge`]), what the heap holds beyond the charges and
//! what is resident beyond the heap's live bytes are charged too, together up to a quarter
//! of the limit, read every 10 ms by the evictor or by the first writer to find the
//! reading due. Removed entries papaya has not freed yet are charged only up to a 32nd of
//! the limit ([`Store::reclaiming_bytes`]): evicting cannot free them sooner. Those are
//! estimates refreshed off the common request path; the exact invariant is `used`'s.
//!
//! # Access stamps and frequencies
//! Each entry carries the millisecond (since the store was created) it was last read or
//! written. Reads store the stamp only when it changed, so a hot key costs one cache-line
//! write per millisecond at most, and there is no global counter on the read path. Under
//! the TinyLFU policy every GET and SET also counts in a shared [`sketch`], whose counters
//! saturate and age, and which remembers keys that are no longer stored. Only reads count:
//! a cache exists to answer reads, and in the common "GET, then SET on a miss" pattern
//! counting the SET too would make every new key look twice as popular as it is.
//!
//! # Eviction and the hard cap
//! Every new key is registered with the [`sampler`], which draws uniformly random live
//! entries in O(1). Eviction ([`evict`]) removes the lowest-scored entry of each sample
//! with `remove_if` on its exact address (held under a guard), so a concurrent newer SET
//! of the same key survives and nothing is discharged twice. The evictor thread does this whenever `used` passes
//! the limit; a writer whose charge would pass the hard cap (limit + overshoot) helps
//! evict first, and its check-and-charge is one compare-exchange, so `used` stays under
//! the hard cap while writers outrun the evictor. When the cap itself drops (the shared
//! structures' charge rises), a writer waits only until eviction has lowered `used` by
//! twice its own charge from the level it found: each write over the cap lowers `used`
//! by at least what it adds, the evictor makes up the rest, and no write waits for
//! megabytes to be evicted. (A writer that finds nothing to evict for 64 rounds, because
//! every other byte is a write still in flight, charges anyway rather than spin.)
//!
//! # Expiry
//! An entry may carry an expiry time (Unix milliseconds, [`expiry::Clock`]). Entries never
//! change in place, so giving a key an expiry, or a new value that depends on the old one
//! (INCR, APPEND), installs a new entry through [`Store::modify`], which only succeeds if
//! the entry it read is still the one in the map. Expired entries are removed when touched
//! and by [`expiry::expire_cycle`], always with `remove_if` on the exact entry, so expiry
//! follows the same accounting rules as DEL and eviction. `volatile` counts entries with an
//! expiry by the same rules as `used`.
//!
//! # memcached's fields
//! An entry may carry memcached's client flags (4 bytes, only when not zero) and, when
//! the store is made with [`StoreConfig::cas`], a CAS unique (8 bytes) in its allocation,
//! each marked by a header bit and charged exactly ([`footprint::entry_charge_with`]).
//! Every write of a value takes a fresh unique from one store-wide counter (one relaxed
//! `fetch_add`, never 0, never reused while the process runs); a change of the expiry
//! alone keeps the old one, as memcached's touch does. With CAS off, entries carry none
//! and the counter is never touched. Writes that replace a value reset the flags; writes
//! that transform it (APPEND, INCR...) and moves (RENAME, COPY) keep them.
//!
//! # Reclamation
//! papaya frees removed entries in per-thread batches once no reader can see them. A
//! thread that has removed a megabyte of entries flushes its batch, so large dead values
//! do not linger.

pub mod entry;
pub mod evict;
pub mod expiry;
pub mod footprint;
pub mod isolation;
pub mod keyspace;
pub mod memcache;
pub mod sampler;
pub mod scan;
pub mod sketch;
pub mod stats;
pub mod strings;
pub mod update;

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use self::entry::{key_hash, Entry, Meta};
use self::entry::{Lookup, PassThrough, MAX_ENTRY_BYTES};
use self::evict::{EvictionPolicy, DEFAULT_SAMPLES};
pub use self::expiry::Clock;
use self::footprint::Structures;
use self::sampler::Sampler;
use self::sketch::FrequencySketch;
use self::stats::{Counter, Stats, StatsSnapshot};
use crate::sync::thread::{self, Thread};
use crate::sync::{
    AtomicU32, AtomicU64, AtomicUsize, Guard, Map, Mutex, Ordering, Reclaim as _, TryLockError,
};

/// The background evictor frees this fraction of the entry budget beyond the limit
/// ([`Store::evict_with_headroom`]): 16 KiB under a 4 MiB limit, 256 KiB under 64 MiB, a
/// few hundred small entries' worth of writes before the next wake-up.
const EVICTOR_HEADROOM_FRACTION: u64 = 256;

/// Expected bytes per entry when sizing the frequency sketch from the memory limit.
const SKETCH_BYTES_PER_ENTRY: u64 = 128;

/// The least time between two readings of the heap gauge: reading jemalloc's statistics
/// takes a lock, and the evictor may refresh thousands of times a second under churn.
const HEAP_CHECK_INTERVAL: Duration = Duration::from_millis(10);

/// Steps of the limit at which writers refresh the heap's reading: 1/64 of the limit,
/// 1 MiB at 64 MiB. Under churn, RSS grew by a tenth of the limit while the evictor, at
/// a low priority, took 80 ms between readings.
const HEAP_STEPS: u64 = 64;

/// The least step: a smaller one would read the heap's figures more often than
/// [`HEAP_CHECK_INTERVAL`] lets them change.
const MIN_HEAP_STEP: u64 = 64 << 10;

/// What the heap holds beyond the charges, and the allocator's fragmentation
/// ([`HeapStats::slack`]), are charged together up to this fraction of the limit: 1/4.
/// Charging none lets RSS pass the limit by 15-30% under eviction churn (entries awaiting
/// reclamation, free room in the allocator's pages). Charging all could evict everything:
/// evicting does not shrink fragmentation at once (a page returns only once all of it is
/// free), and a thousand connections' buffers are no reason to empty the cache.
const MAX_OVERHEAD_FRACTION: u64 = 4;

/// Removed entries awaiting reclamation are charged up to this fraction of the limit:
/// 1/32. Beyond it they are papaya holding back a batch (see `Store::refresh_locked`).
const RECLAIMING_CHARGED_FRACTION: u64 = 32;

/// Evictions a writer above the hard cap performs per round of helping: a few entries'
/// room is all one write needs, and every eviction here is time the writer's event loop
/// serves no other connection (with 32 per round, a reader's GET during a paced eviction
/// storm waited up to 25 ms in one of three runs; with 8, at most 7.3 ms in four).
const HELP_BATCH: usize = 8;

/// Rounds in which a helping writer finds nothing to evict before it gives up and charges
/// anyway, so it can never spin forever (for instance when every other byte belongs to
/// writes still in flight).
const MAX_HELP_ROUNDS: usize = 64;

/// Bytes of removed entries one thread leaves to papaya's batched reclamation before it
/// asks for a flush. papaya frees retired entries a batch (32) at a time per thread; with
/// large values that could hold many megabytes of dead values per thread.
const FLUSH_RETIRED_BYTES: u64 = 1 << 20;

thread_local! {
    /// Bytes this thread removed from the map since its last flush.
    static RETIRED_BYTES: Cell<u64> = const { Cell::new(0) };
}

/// Why the store refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The entry alone is bigger than the whole memory limit (or than 512 MiB, the most
    /// one entry may hold); nothing is evicted for it.
    #[error("value too large for the memory limit ({max_bytes} bytes)")]
    LargerThanLimit {
        /// The most one entry may hold: the memory limit, or 512 MiB if that is lower.
        max_bytes: u64,
    },
    /// APPEND or SETRANGE would make the value longer than the protocol's value limit,
    /// which plays Redis's proto-max-bulk-len; worded as Redis words it.
    #[error("string exceeds maximum allowed size (proto-max-bulk-len)")]
    TooLong {
        /// The longest value allowed.
        limit: usize,
    },
    /// An increment of a value that is not a 64-bit decimal integer.
    #[error("value is not an integer or out of range")]
    NotAnInteger,
    /// An increment whose result would not fit in 64 bits.
    #[error("increment or decrement would overflow")]
    Overflow,
    /// A float increment (INCRBYFLOAT) of a value that is not a float as Redis reads one.
    #[error("value is not a valid float")]
    NotAFloat,
    /// A float increment whose result would be infinite or not a number.
    #[error("increment would produce NaN or Infinity")]
    NotFinite,
}

/// The frequency sketch for a store limited to `max_bytes`.
fn new_sketch(max_bytes: u64) -> FrequencySketch {
    let entries = max_bytes / SKETCH_BYTES_PER_ENTRY;
    FrequencySketch::new(usize::try_from(entries).unwrap_or(usize::MAX))
}

/// The heap step's shift for a limit: see `Store::heap_step_shift`.
fn heap_step_shift(max_bytes: u64) -> u32 {
    (max_bytes / HEAP_STEPS).max(MIN_HEAP_STEP).ilog2()
}

/// A policy as the store keeps it in an atomic.
fn policy_code(policy: EvictionPolicy) -> u32 {
    match policy {
        EvictionPolicy::TinyLfu => 0,
        EvictionPolicy::Lru => 1,
    }
}

/// The bytes of an entry's key and value, as `USAGE` counts them.
pub fn entry_size(key: &[u8], value: &[u8]) -> u64 {
    // usize → u64 is lossless on every supported target.
    (key.len() + value.len()) as u64
}

/// How a store is limited and how it evicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// The memory limit: the evictor keeps the entries' charges plus the shared
    /// structures at or below it.
    pub max_bytes: u64,
    /// How far over the limit writes may run while the evictor catches up; a writer that
    /// would go further helps evict first.
    pub overshoot_bytes: u64,
    /// Which sampled entry is evicted.
    pub policy: EvictionPolicy,
    /// Entries per sample.
    pub samples: usize,
    /// Whether every entry carries a CAS unique (memcached's `gets` and `cas`).
    pub cas: bool,
}

impl StoreConfig {
    /// Defaults for a limit: TinyLFU-scored samples of 5, and an overshoot of 1% of the
    /// limit or one maximum-size (1 MiB) value, whichever is larger.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            overshoot_bytes: (max_bytes / 100).max(1 << 20),
            policy: EvictionPolicy::default(),
            samples: DEFAULT_SAMPLES,
            cas: false,
        }
    }

    /// Gives every entry a CAS unique (8 bytes more per entry), as memcached's protocol
    /// needs; off by default.
    pub fn cas(mut self, on: bool) -> Self {
        self.cas = on;
        self
    }

    /// Sets the overshoot allowed above the limit.
    pub fn overshoot_bytes(mut self, bytes: u64) -> Self {
        self.overshoot_bytes = bytes;
        self
    }

    /// Sets the eviction policy.
    pub fn policy(mut self, policy: EvictionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the number of entries per sample (at least 1).
    pub fn samples(mut self, samples: usize) -> Self {
        self.samples = samples.max(1);
        self
    }
}

/// The cache: a concurrent map whose total key + value size is tracked exactly.
pub struct Store {
    /// The entries; papaya gives lock-free reads and writes and hands back what it replaced.
    map: Map<Entry, Meta, PassThrough>,
    /// Σ charge of live entries, plus charges of inserts in flight.
    used: AtomicU64,
    /// Σ(key + value bytes) of live entries, by the same rules as `used`, for `USAGE`;
    /// sharded, as nothing decides on it.
    data: Counter,
    /// New keys inserted, for the estimate of papaya's table.
    new_keys: Counter,
    /// `new_keys` at the evictor's last idle tick: unchanged means writes are quiet.
    maintained_keys: AtomicU64,
    /// The estimate of papaya's table and the heap's last reading, kept by whoever
    /// refreshes `structure_bytes`.
    structures: Mutex<Overheads>,
    /// Bytes charged besides the entries (the shared structures, and whatever else the
    /// heap holds), subtracted from the limit to get what entries may use; refreshed by
    /// the evictor, read by writers.
    structure_bytes: AtomicU64,
    /// What the allocator reports, if the binary's allocator reports anything.
    heap: OnceLock<HeapGauge>,
    /// A writer whose charge carries `used` across a multiple of 2^this refreshes
    /// `structure_bytes`: the heap then is read every [`HEAP_STEPS`]th of the limit
    /// written, however busy the low-priority evictor is. Follows the limit.
    heap_step_shift: AtomicU32,
    /// When (in access-stamp milliseconds) the heap's reading is next due: a writer whose
    /// charge finds it due refreshes `structure_bytes`. In steady churn `used` hovers just
    /// under the budget and crosses no step, and the low-priority evictor may go a
    /// hundred milliseconds without a turn.
    heap_due_ms: AtomicU32,
    /// Limits and eviction settings, as the store was created with; the limit, the
    /// policy and the sample size may have changed since (`max_bytes` and below).
    config: StoreConfig,
    /// The memory limit; CONFIG SET maxmemory changes it while the store serves.
    max_bytes: AtomicU64,
    /// The eviction policy, as [`policy_code`]; changed the same way.
    policy: AtomicU32,
    /// Entries per eviction sample; changed the same way.
    samples: AtomicUsize,
    /// Access frequencies, for the TinyLFU policy: made when the store starts under it,
    /// or when it first switches to it.
    sketch: OnceLock<FrequencySketch>,
    /// Random access to live entries, for eviction.
    sampler: Sampler,
    /// Random access to entries with an expiry, for active expiry.
    expiring: Sampler,
    /// Entries with an expiry, counted by the rules of `used`.
    volatile: AtomicU64,
    /// Hits, misses, evictions and expirations, for `INFO`.
    stats: Stats,
    /// What expiry times are compared with.
    clock: Clock,
    /// The origin of access stamps.
    epoch: Instant,
    /// The access clock: milliseconds since `epoch` when it was last advanced
    /// ([`Store::tick`]). Entries are stamped from it, so a read stamps its entry without
    /// reading the system's clock, as Redis's LRU clock does. Deliberately std's atomic,
    /// not `crate::sync`'s: under loom time stands still at 0, and a stamp proves
    /// nothing, so loom need not explore its loads.
    access_clock: std::sync::atomic::AtomicU32,
    /// The evictor thread, woken by writers that push `used` over the limit.
    evictor: OnceLock<Thread>,
    /// Keeps each transaction's commands together; see [`isolation`].
    isolation: isolation::Isolation,
    /// The next CAS unique, when `config.cas` is on: starts at 1, as 0 means none.
    next_cas: AtomicU64,
}

impl Store {
    /// An empty store that holds at most `max_bytes` of keys and values, with default
    /// eviction settings.
    pub fn new(max_bytes: u64) -> Self {
        Self::with_config(StoreConfig::new(max_bytes))
    }

    /// An empty store with the given limits and eviction settings.
    pub fn with_config(config: StoreConfig) -> Self {
        Self::with_clock(config, Clock::System)
    }

    /// An empty store whose expiry times are compared with `clock`.
    pub fn with_clock(config: StoreConfig, clock: Clock) -> Self {
        let sketch = OnceLock::new();
        if config.policy == EvictionPolicy::TinyLfu {
            // The lock was just made: nothing else can have set it.
            let _ = sketch.set(new_sketch(config.max_bytes));
        }
        Self {
            map: crate::sync::new_map(PassThrough),
            used: AtomicU64::new(0),
            data: Counter::default(),
            new_keys: Counter::default(),
            maintained_keys: AtomicU64::new(0),
            structures: Mutex::new(Overheads::default()),
            structure_bytes: AtomicU64::new(0),
            heap: OnceLock::new(),
            heap_step_shift: AtomicU32::new(heap_step_shift(config.max_bytes)),
            heap_due_ms: AtomicU32::new(0),
            config,
            max_bytes: AtomicU64::new(config.max_bytes),
            policy: AtomicU32::new(policy_code(config.policy)),
            samples: AtomicUsize::new(config.samples),
            sketch,
            sampler: Sampler::new(),
            expiring: Sampler::new(),
            volatile: AtomicU64::new(0),
            stats: Stats::default(),
            clock,
            epoch: Instant::now(),
            access_clock: std::sync::atomic::AtomicU32::new(0),
            evictor: OnceLock::new(),
            isolation: isolation::Isolation::new(),
            next_cas: AtomicU64::new(1),
        }
    }

    /// What keeps a transaction's commands from interleaving with others'.
    pub fn isolation(&self) -> &isolation::Isolation {
        &self.isolation
    }

    /// Pins the current thread so references returned by [`Store::get`] stay valid.
    /// Never hold a guard across an `.await`.
    pub fn guard(&self) -> Guard<'_> {
        self.map.guard()
    }

    /// The value stored under `key`, refreshing its access stamp; counts a hit or a
    /// miss. An expired entry is removed and reads as missing.
    pub fn get<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<&'g [u8]> {
        let (entry, meta) = self.read(key, guard)?;
        meta.touch(self.access_ms());
        Some(entry.value())
    }

    /// The live entry stored under `key` as a read finds it: counted as an access in the
    /// sketch and as a hit or a miss, its stamp not yet refreshed. An expired entry is
    /// removed and reads as missing.
    fn read<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<(&'g Entry, &'g Meta)> {
        let lookup = Lookup::new(key);
        self.record_access(lookup.hash);
        let found = self
            .map
            .get_key_value(&lookup, guard)
            .filter(|(entry, meta)| {
                if meta.expires() && entry.is_expired(self.unix_ms()) {
                    self.remove_expired(entry, guard);
                    return false;
                }
                true
            });
        self.count_read(found.is_some());
        found
    }

    /// Counts a read as a hit or a miss.
    pub fn count_read(&self, hit: bool) {
        if hit {
            self.stats.hits.add(1);
        } else {
            self.stats.misses.add(1);
        }
    }

    /// Hits, misses, evictions and expirations so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Zeroes the hits, misses, evictions and expirations (CONFIG RESETSTAT). Counts
    /// made while it runs may survive it.
    pub fn reset_stats(&self) {
        self.stats.reset();
    }

    /// The number of entries with an expiry (some may have expired and not be removed
    /// yet, as in Redis's keyspace counts).
    pub fn volatile_count(&self) -> u64 {
        // Ordering: Relaxed; a snapshot of a counter.
        self.volatile.load(Ordering::Relaxed)
    }

    /// The current Unix time in milliseconds, by the store's clock.
    pub fn unix_ms(&self) -> u64 {
        self.clock.unix_ms()
    }

    /// One active expiry cycle: removes expired keys among random keys with an expiry.
    pub fn expire_expired(&self) -> expiry::ExpireOutcome {
        expiry::expire_cycle(self, &mut self.expiring.lock())
    }

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the entry could never fit under the limit.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let size = entry_size(key, value);
        self.check_fits(size, self.new_entry_charge(size))?;
        let extras = entry::Extras {
            cas: self.next_cas(),
            ..entry::Extras::default()
        };
        let entry = Entry::build_with(key, entry::Value::Bytes(value), extras);
        let meta = Meta::of(&entry, self.access_ms());
        // Charge before the entry becomes visible, so `used` never under-counts it.
        let after = self.charge(&meta);
        let guard = self.map.guard();
        match self.map.insert(entry, meta, &guard) {
            Some(old) => {
                // Discharge exactly what the map says it replaced. The key is already
                // known to the sampler.
                self.discharge(old);
                if old.expires() {
                    // Ordering: Relaxed; a counter like `used`.
                    self.volatile.fetch_sub(1, Ordering::Relaxed);
                }
                self.retired(old.size(), &guard);
            }
            None => self.registered(key_hash(key)),
        }
        if after > self.entry_budget() {
            self.wake_evictor();
        }
        Ok(())
    }

    /// The seed system's accounting, kept only so the loom models can show that it is
    /// wrong: it reads the old size with a separate `get`, then inserts and applies the
    /// difference. Two racing SETs of one key both see the old size and both charge.
    #[cfg(blink_loom)]
    pub fn set_read_then_write(&self, key: &[u8], value: &[u8]) {
        let guard = self.map.guard();
        let (old, old_data) = self
            .map
            .get(&Lookup::new(key), &guard)
            .map_or((0, 0), |meta| (meta.charge(), meta.size()));
        let extras = entry::Extras {
            cas: self.next_cas(),
            ..entry::Extras::default()
        };
        let entry = Entry::build_with(key, entry::Value::Bytes(value), extras);
        let new = entry.charge();
        let meta = Meta::of(&entry, self.access_ms());
        self.map.insert(entry, meta, &guard);
        self.data.add(entry_size(key, value));
        self.data.sub(old_data);
        if new >= old {
            self.used.fetch_add(new - old, Ordering::Relaxed);
        } else {
            self.used.fetch_sub(old - new, Ordering::Relaxed);
        }
    }

    /// A fresh CAS unique for an entry about to be built, or 0 if the store keeps none.
    /// Never 0 and never the same twice while the process runs: a `u64` counted up by one
    /// per write does not wrap.
    pub fn next_cas(&self) -> u64 {
        if !self.config.cas {
            return 0;
        }
        // Ordering: Relaxed; the counter only has to hand out distinct numbers. What a
        // unique is compared with is read from the entry, which the map publishes.
        self.next_cas.fetch_add(1, Ordering::Relaxed)
    }

    /// The charge of a new entry of `size` key and value bytes without an expiry or flags,
    /// with a CAS unique if the store keeps them.
    fn new_entry_charge(&self, size: u64) -> u64 {
        let cas_bytes = if self.config.cas {
            entry::CAS_BYTES as u64
        } else {
            0
        };
        footprint::entry_charge_with(size, false, cas_bytes)
    }

    /// Removes `key`; `true` if it was present (an expired entry is removed, but was
    /// not present).
    pub fn delete(&self, key: &[u8]) -> bool {
        let guard = self.map.guard();
        match self.map.remove_entry(&Lookup::new(key), &guard) {
            Some((entry, meta)) => {
                self.forget_removed(entry, meta, &guard);
                !(meta.expires() && entry.is_expired(self.unix_ms()))
            }
            None => false,
        }
    }

    /// Bytes of keys and values currently accounted: what `USAGE` reports.
    pub fn usage_bytes(&self) -> u64 {
        self.data.sum()
    }

    /// Bytes charged for the entries ([`footprint`]), including writes in flight.
    pub fn used_bytes(&self) -> u64 {
        // Ordering: Relaxed; a snapshot of a counter.
        self.used.load(Ordering::Relaxed)
    }

    /// Bytes of the shared structures (papaya's table and the sketch) as last refreshed.
    pub fn structure_bytes(&self) -> u64 {
        // Ordering: Relaxed; an estimate that guards no other memory.
        self.structure_bytes.load(Ordering::Relaxed)
    }

    /// Everything charged against the memory limit: entries and shared structures.
    pub fn charged_bytes(&self) -> u64 {
        self.used_bytes() + self.structure_bytes()
    }

    /// An estimate of the memory held by entries removed from the map and not yet freed
    /// (papaya frees them in batches, once no reader can hold them): the entries' bytes
    /// allocated in the process beyond those in the map, scaled by what live entries are
    /// charged per byte. Process-wide, as the heap gauge is. (Client flags in the map are
    /// not counted, so entries with flags make it a little higher than it is.)
    pub fn reclaiming_bytes(&self) -> u64 {
        let cas_bytes = if self.config.cas { entry::CAS_BYTES } else { 0 };
        let in_map = self.usage_bytes()
            + self.len() as u64 * (entry::HEADER_BYTES + cas_bytes) as u64
            + self.volatile_count() * entry::EXPIRY_BYTES as u64;
        let removed = entry::allocated_entry_bytes().saturating_sub(in_map);
        let per_byte = self.used_bytes() as f64 / in_map.max(1) as f64;
        (removed as f64 * per_byte.max(1.0)) as u64
    }

    /// What entries may be charged: the memory limit less the shared structures.
    pub fn entry_budget(&self) -> u64 {
        self.max_bytes().saturating_sub(self.structure_bytes())
    }

    /// Re-estimates the shared structures from the entries stored and the new keys since
    /// the last estimate, and, at most every [`HEAP_CHECK_INTERVAL`], compares the heap
    /// with what is charged. For the evictor, before each decision.
    pub fn refresh_structures(&self) {
        let mut guard = self.structures.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh_locked(&mut guard);
    }

    /// [`Store::refresh_structures`] for a writer, unless another thread is refreshing
    /// right now (what that one stores is as fresh).
    fn refresh_unless_busy(&self) {
        match self.structures.try_lock() {
            Ok(mut guard) => self.refresh_locked(&mut guard),
            Err(TryLockError::Poisoned(poisoned)) => {
                self.refresh_locked(&mut poisoned.into_inner())
            }
            Err(TryLockError::WouldBlock) => {}
        }
    }

    /// The work of [`Store::refresh_structures`], under the `structures` lock.
    fn refresh_locked(&self, overheads: &mut Overheads) {
        let new_keys = self.new_keys.sum();
        overheads.table.observe(
            self.len() as u64,
            new_keys.wrapping_sub(overheads.new_keys_seen),
        );
        overheads.new_keys_seen = new_keys;
        let sketch = self.sketch.get().map_or(0, FrequencySketch::grown_bytes);
        let estimated = overheads.table.table_bytes() + sketch;
        if let Some(heap) = self.heap.get() {
            let now = Instant::now();
            if overheads
                .heap_checked
                .is_none_or(|at| now.duration_since(at) >= HEAP_CHECK_INTERVAL)
            {
                overheads.heap_checked = Some(now);
                // Ordering: Relaxed; a hint of when to look again, guarding no memory.
                self.heap_due_ms.store(
                    self.now_ms()
                        .wrapping_add(HEAP_CHECK_INTERVAL.as_millis() as u32),
                    Ordering::Relaxed,
                );
                if let Some(stats) = (heap.read)() {
                    let cap = self.max_bytes() / MAX_OVERHEAD_FRACTION;
                    let grown = stats.held().saturating_sub(heap.baseline.held());
                    // Removed entries awaiting reclamation beyond a 32nd of the limit are
                    // not charged: evicting cannot free them sooner, and while papaya copies
                    // its table it frees none, so charging them would evict more, which is
                    // freed no sooner either (a fifth of the limit went that way).
                    let excused = self
                        .reclaiming_bytes()
                        .saturating_sub(self.max_bytes() / RECLAIMING_CHARGED_FRACTION);
                    overheads.uncharged = grown
                        .saturating_sub(self.used_bytes() + estimated + excused)
                        .min(cap);
                    overheads.slack = stats
                        .slack()
                        .saturating_sub(heap.baseline.slack())
                        .min(cap - overheads.uncharged);
                }
            }
        }
        // Ordering: Relaxed; see `structure_bytes`.
        self.structure_bytes.store(
            estimated + overheads.uncharged + overheads.slack,
            Ordering::Relaxed,
        );
    }

    /// Has the store read the allocator's statistics with `read` and charge, beyond the
    /// entries and the estimated structures, two things together up to a quarter of the
    /// limit: what else the heap has come to hold since this call (connection buffers,
    /// removed entries awaiting reclamation, spare capacity), and the allocator's
    /// fragmentation, the free room that evicting random entries leaves in its pages.
    /// Call it once, before clients connect; later calls are ignored.
    pub fn set_heap_gauge(&self, read: fn() -> Option<HeapStats>) {
        if let Some(baseline) = read() {
            // The first gauge stays: its baseline is the one taken before any client.
            let _ = self.heap.set(HeapGauge { read, baseline });
        }
    }

    /// What the allocator reports, if the binary's allocator reports anything.
    pub fn heap_stats(&self) -> Option<HeapStats> {
        self.heap.get().and_then(|heap| (heap.read)())
    }

    /// The memory limit in bytes.
    pub fn max_bytes(&self) -> u64 {
        // Ordering: Relaxed; a setting read afresh by every decision, guarding no memory.
        self.max_bytes.load(Ordering::Relaxed)
    }

    /// Changes the memory limit while the store serves: writers and the evictor use the
    /// new limit from their next decision, and the evictor is woken if entries are now
    /// over it. The overshoot allowed above the limit stays as configured.
    pub fn set_max_bytes(&self, max_bytes: u64) {
        // Ordering: Relaxed; see `max_bytes`. Nothing else changes with it atomically:
        // the heap step only times the heap's readings.
        self.max_bytes.store(max_bytes, Ordering::Relaxed);
        self.heap_step_shift
            .store(heap_step_shift(max_bytes), Ordering::Relaxed);
        if self.used_bytes() > self.entry_budget() {
            self.wake_evictor();
        }
    }

    /// The eviction policy in use.
    pub fn policy(&self) -> EvictionPolicy {
        // Ordering: Relaxed; a setting, guarding no memory (the sketch has its own lock).
        match self.policy.load(Ordering::Relaxed) {
            0 => EvictionPolicy::TinyLfu,
            _ => EvictionPolicy::Lru,
        }
    }

    /// Changes the eviction policy while the store serves. The first switch to TinyLFU
    /// makes its frequency sketch, sized for the limit at that time, which then starts
    /// counting.
    pub fn set_policy(&self, policy: EvictionPolicy) {
        if policy == EvictionPolicy::TinyLfu {
            self.sketch.get_or_init(|| new_sketch(self.max_bytes()));
        }
        // Ordering: Relaxed; see `policy`.
        self.policy.store(policy_code(policy), Ordering::Relaxed);
    }

    /// Entries per eviction sample.
    pub fn samples(&self) -> usize {
        // Ordering: Relaxed; a setting, guarding no memory.
        self.samples.load(Ordering::Relaxed)
    }

    /// Changes the entries per eviction sample (1 to [`evict::MAX_SAMPLES`]).
    pub fn set_samples(&self, samples: usize) {
        // Ordering: Relaxed; see `samples`.
        self.samples
            .store(samples.clamp(1, evict::MAX_SAMPLES), Ordering::Relaxed);
    }

    /// The limits and eviction settings the store was created with; [`Store::max_bytes`],
    /// [`Store::policy`] and [`Store::samples`] say what they are now.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The most `used` may reach: the limit plus the allowed overshoot.
    pub fn hard_cap_bytes(&self) -> u64 {
        self.max_bytes().saturating_add(self.config.overshoot_bytes)
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Σ(key + value bytes) over live entries, by walking the map. For tests and checks:
    /// it equals [`Store::usage_bytes`] whenever no operation is in flight.
    pub fn recount(&self) -> u64 {
        let guard = self.map.guard();
        self.map.iter(&guard).map(|(entry, _)| entry.size()).sum()
    }

    /// Σ charge over live entries, by walking the map. For tests and checks: it equals
    /// [`Store::used_bytes`] whenever no operation is in flight.
    pub fn recount_charged(&self) -> u64 {
        let guard = self.map.guard();
        self.map.iter(&guard).map(|(entry, _)| entry.charge()).sum()
    }

    /// The entries with an expiry, by walking the map. For tests and checks: it equals
    /// [`Store::volatile_count`] whenever no operation is in flight.
    pub fn recount_volatile(&self) -> u64 {
        let guard = self.map.guard();
        let expiring = self.map.iter(&guard).filter(|(_, meta)| meta.expires());
        expiring.count() as u64
    }

    /// Registers the thread to unpark when a write pushes `used` over the limit.
    /// Only the first registration counts.
    pub fn set_evictor(&self, thread: Thread) {
        // A second evictor is ignored: one is enough, and the first is already running.
        let _ = self.evictor.set(thread);
    }

    /// The current access time in milliseconds since the store's epoch, read from the
    /// system's clock; it also advances the access clock. Wraps after 49 days; eviction
    /// compares ages with wrapping arithmetic.
    pub fn now_ms(&self) -> u32 {
        let now = crate::sync::elapsed_ms(self.epoch);
        self.advance_clock(now);
        now
    }

    /// Advances the access clock to `now`, a time the caller has read anyway: each event
    /// loop ticks it once per batch of requests, the evictor once per pass, so the stamps
    /// of a batch's entries are as old as the batch (a fraction of a millisecond) and
    /// never older than the evictor's idle check.
    pub fn tick(&self, now: Instant) {
        self.advance_clock(crate::sync::ms_between(self.epoch, now));
    }

    fn advance_clock(&self, now: u32) {
        // Ordering: Relaxed; a stamp orders nothing. Written only when it changes, so the
        // loops' ticks leave its cache line shared between them most of the time. Two
        // ticks racing may set it back by the gap between them: a stamp is a hint.
        if self.access_clock.load(Ordering::Relaxed) != now {
            self.access_clock.store(now, Ordering::Relaxed);
        }
    }

    /// The access clock's time, for stamping an entry read or written now.
    pub(crate) fn access_ms(&self) -> u32 {
        // Ordering: Relaxed; see `advance_clock`.
        self.access_clock.load(Ordering::Relaxed)
    }

    /// Runs eviction passes on the calling thread until `used` is within the limit (or
    /// nothing more can be evicted), and ages the frequency sketch when due. For
    /// single-threaded simulations and tests that want eviction in line.
    pub fn evict_to_limit(&self) -> evict::EvictOutcome {
        self.evict_down_to(|| self.entry_budget())
    }

    /// [`Store::evict_to_limit`] for the evictor thread: down to a little below the limit
    /// ([`EVICTOR_HEADROOM_FRACTION`]), so that the writes that follow have room before
    /// one of them wakes the evictor again. Evicting exactly to the limit woke it for
    /// every write of a new key, each wake-up a system call on the writer's thread and a
    /// switch to the evictor's.
    pub fn evict_with_headroom(&self) -> evict::EvictOutcome {
        self.evict_down_to(|| {
            let budget = self.entry_budget();
            budget - budget / EVICTOR_HEADROOM_FRACTION
        })
    }

    /// Eviction passes until `used` is within `target()` (read again after each pass, as
    /// the structures' estimate moves), or nothing more can be evicted; then ages the
    /// frequency sketch when due.
    fn evict_down_to(&self, target: impl Fn() -> u64) -> evict::EvictOutcome {
        let mut total = evict::EvictOutcome::default();
        self.refresh_structures();
        loop {
            // The sampler is locked per short pass, so a writer that wants to help
            // finds it free often.
            let outcome = evict::evict_once(
                self,
                &mut self.sampler.lock(),
                target(),
                evict::MAX_EVICTIONS_PER_PASS,
            );
            total.evicted += outcome.evicted;
            total.freed_bytes += outcome.freed_bytes;
            total.sampled += outcome.sampled;
            if outcome.evicted == 0 || self.used_bytes() <= target() {
                break;
            }
        }
        if let Some(sketch) = self.sketch.get() {
            sketch.fit(self.len());
            sketch.age_if_due();
        }
        total
    }

    /// Completes a growth of the map's table, moves newly written entries into the
    /// sampler, widens the sketch to the entries stored, and ages it when due; for the
    /// evictor's idle ticks, so none of that waits for memory pressure.
    pub fn maintain(&self) {
        let new_keys = self.new_keys.sum();
        // Ordering: Relaxed; a counter compared with itself, guarding no memory.
        let quiet = self.maintained_keys.swap(new_keys, Ordering::Relaxed) == new_keys;
        if quiet {
            let guard = self.map.guard();
            // papaya grows its table incrementally, each write copying a few slots, so
            // after a burst of new keys the old table can stay allocated (9 bytes a slot)
            // until writes resume. Starting an iteration completes the copy here, off the
            // request path. Only once no new key came since the last tick: the copy holds
            // this thread pinned, and while writers churn, every entry they evict
            // meanwhile waits for it to be freed (megabytes, at a low priority).
            let _ = self.map.iter(&guard);
            // The old table is now retired to this thread's batch: have it reclaimed.
            guard.flush();
        }
        // A guard per lookup, not one over the whole refresh: papaya frees nothing removed
        // while a thread pinned since then stays pinned, and this thread runs at a low
        // priority (see `evict::evict_once`).
        self.sampler.lock().refresh(self.len(), |hash| {
            self.map
                .get(&entry::ByHash(hash), &self.map.guard())
                .is_some()
        });
        self.refresh_structures();
        let expired = self.expire_expired();
        if expired.expired > 0 {
            tracing::debug!(
                expired = expired.expired,
                sampled = expired.sampled,
                "expired"
            );
        }
        if let Some(sketch) = self.sketch.get() {
            sketch.fit(self.len());
            sketch.age_if_due();
        }
    }

    /// Refuses an entry of `size` key and value bytes whose `charge` alone is more than
    /// the whole limit.
    fn check_fits(&self, size: u64, charge: u64) -> Result<(), StoreError> {
        let max_bytes = self.max_bytes().min(MAX_ENTRY_BYTES);
        if charge > max_bytes || size > MAX_ENTRY_BYTES {
            return Err(StoreError::LargerThanLimit { max_bytes });
        }
        Ok(())
    }

    /// A new key is in the map: make it eligible for eviction, and count it for the
    /// table's estimate.
    fn registered(&self, hash: u64) {
        self.sampler.register(hash);
        self.new_keys.add(1);
    }

    /// Adds the entry's charge to `used`, first helping to evict while that would pass
    /// the hard cap, and its key and value bytes to `data`. Returns `used` after the
    /// charge.
    ///
    /// Over the cap, a write waits (helping to evict) only until `used`, its own charge
    /// added, is a charge below the level the write found it at: every such write lowers
    /// `used` by at least what it adds, and none waits for it to be under the cap. The cap
    /// drops without any write when the shared structures' charge rises (papaya's table
    /// about to grow, the allocator's fragmentation after evicting), by megabytes at
    /// once; writes then bring `used` down a charge at a time, and the evictor thread
    /// the rest of the way. (Waiting for the whole drop to be evicted held a connection's
    /// event loop for 60 ms at 50,000 SETs/s. Waiting only for room below the level, not
    /// lowering it, left `used` over the cap for as long as the low-priority evictor
    /// took, and peak RSS under churn at 1.15 × the limit in one run of three.)
    fn charge(&self, meta: &Meta) -> u64 {
        self.data.add(meta.size());
        let size = meta.charge();
        // Ordering: Relaxed throughout; `used` is a counter, and nothing reads memory
        // through it. The compare-exchange makes "check the cap, then charge" one step.
        let mut used = self.used.load(Ordering::Relaxed);
        let mut rounds = 0;
        // `used` when this write first found its charge over the cap.
        let mut level = None;
        loop {
            // Read each round: a helping writer refreshes the structures' estimate.
            let cap = self.hard_cap_bytes().saturating_sub(self.structure_bytes());
            let ceiling = level.map_or(cap, |level: u64| level.saturating_sub(size).max(cap));
            if used.saturating_add(size) > ceiling && rounds < MAX_HELP_ROUNDS {
                level.get_or_insert(used);
                if !self.help_evict(size) {
                    rounds += 1;
                }
                used = self.used.load(Ordering::Relaxed);
                continue;
            }
            match self.used.compare_exchange_weak(
                used,
                used + size,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // Ordering: Relaxed; see `heap_step_shift`.
                    let step_shift = self.heap_step_shift.load(Ordering::Relaxed);
                    if self.heap.get().is_some()
                        && ((used >> step_shift) != ((used + size) >> step_shift)
                            || self.heap_reading_due(meta.stamp()))
                    {
                        self.refresh_unless_busy();
                    }
                    return used + size;
                }
                Err(actual) => used = actual,
            }
        }
    }

    /// Whether the heap's last reading is older than [`HEAP_CHECK_INTERVAL`] at `now_ms`.
    fn heap_reading_due(&self, now_ms: u32) -> bool {
        // Ordering: Relaxed; see `heap_due_ms`. Stamps wrap: compare by the difference.
        now_ms.wrapping_sub(self.heap_due_ms.load(Ordering::Relaxed)) as i32 >= 0
    }

    /// One round of eviction on a writer's thread, when writers outrun the evictor.
    /// Returns `false` only if the writer held the sampler and found nothing to evict.
    /// A writer never blocks on the sampler: if another thread is evicting, bytes are
    /// already being freed, so it yields and checks again. (Blocking here would make
    /// connection threads wait on the lower-priority evictor.)
    fn help_evict(&self, size: u64) -> bool {
        let Some(mut pool) = self.sampler.try_lock() else {
            thread::yield_now();
            return true;
        };
        // The evictor runs at a low priority and may not have estimated the structures
        // lately: while the store fills fast, papaya's table doubles between estimates.
        self.refresh_structures();
        // Down to the limit, and further if the writer's own entry is larger than the
        // overshoot: else it would find nothing to evict and charge past the hard cap.
        let room = self
            .hard_cap_bytes()
            .saturating_sub(self.structure_bytes())
            .saturating_sub(size);
        let target = self.entry_budget().min(room);
        let evicted = evict::evict_once(self, &mut pool, target, HELP_BATCH).evicted;
        drop(pool);
        if evicted == 0 {
            // Everything evictable is gone or in flight; let the other writers finish.
            thread::yield_now();
        }
        evicted > 0
    }

    fn record_access(&self, hash: u64) {
        if self.policy() == EvictionPolicy::TinyLfu {
            if let Some(sketch) = self.sketch.get() {
                sketch.record(hash);
            }
        }
    }

    /// The estimated read frequency of the key with this [`key_hash`] (0 under plain LRU).
    pub fn frequency(&self, hash: u64) -> u8 {
        self.sketch.get().map_or(0, |sketch| sketch.estimate(hash))
    }

    /// Takes the entry's charge off `used` and its bytes off `data`.
    fn discharge(&self, meta: &Meta) {
        // Ordering: Relaxed, as in `charge`. It cannot underflow: every discharged amount
        // was charged earlier, when the entry the map handed back was inserted.
        self.used.fetch_sub(meta.charge(), Ordering::Relaxed);
        self.data.sub(meta.size());
    }

    /// Counts bytes this thread removed from the map, and asks papaya to reclaim them once
    /// they add up, so dead large values do not linger in per-thread batches.
    fn retired(&self, size: u64, guard: &Guard<'_>) {
        RETIRED_BYTES.with(|retired| {
            let total = retired.get() + size;
            if total >= FLUSH_RETIRED_BYTES {
                retired.set(0);
                guard.flush();
            } else {
                retired.set(total);
            }
        });
    }

    fn wake_evictor(&self) {
        if let Some(thread) = self.evictor.get() {
            thread.unpark();
        }
    }
}

/// What the store charges besides its entries, and how it estimates that.
#[derive(Debug, Default)]
struct Overheads {
    /// The estimate of papaya's table.
    table: Structures,
    /// `new_keys` at the last estimate.
    new_keys_seen: u64,
    /// When the heap gauge was last read.
    heap_checked: Option<Instant>,
    /// What the heap held beyond the charges at that reading, up to its cap.
    uncharged: u64,
    /// The allocator's slack at that reading, up to its share of the limit.
    slack: u64,
}

/// What the allocator reports about the heap, under the names of Redis's `INFO memory`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes in live allocations.
    pub allocated: u64,
    /// Bytes of the pages that hold live allocations (allocated plus the free room
    /// between them).
    pub active: u64,
    /// Bytes of the allocator's pages resident in memory, its own metadata and freed
    /// pages not yet returned included.
    pub resident: u64,
    /// Bytes of the allocator's own bookkeeping.
    pub metadata: u64,
    /// Bytes of the whole process resident at the same moment, as the kernel counts
    /// them (0 if unknown): what the memory limit is finally held to.
    pub process_resident: u64,
}

impl HeapStats {
    /// Live allocations and the allocator's bookkeeping of them.
    pub fn held(&self) -> u64 {
        self.allocated + self.metadata
    }

    /// Resident bytes beyond live allocations and the allocator's bookkeeping: free room
    /// in the pages of live allocations, freed pages not yet returned to the system, and,
    /// where the process's figure is known, whatever else became resident (thread
    /// stacks, code first run under load): the kernel's count, not the allocator's.
    pub fn slack(&self) -> u64 {
        let resident = if self.process_resident > 0 {
            self.process_resident
        } else {
            self.resident
        };
        resident.saturating_sub(self.held())
    }
}

/// The allocator's statistics, and what they were when the store started.
#[derive(Debug, Clone, Copy)]
struct HeapGauge {
    /// Reads the statistics; `None` if the allocator could not say.
    read: fn() -> Option<HeapStats>,
    /// The statistics before any client connected: the empty server's own heap.
    baseline: HeapStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_larger_than_the_overshoot_evicts_room_for_itself() {
        // No evictor thread: every eviction is a writer's own help.
        let store = Store::with_config(StoreConfig::new(64 << 10).overshoot_bytes(1024));
        let mut i = 0;
        while store.used_bytes() + 1200 < store.entry_budget() {
            store.set(format!("k{i}").as_bytes(), &[b'v'; 100]).unwrap();
            store.refresh_structures();
            i += 1;
        }
        // Its charge is above the 1 KiB overshoot: evicting down to the limit alone
        // would leave no room for it under the hard cap.
        store.set(b"large", &[b'v'; 4000]).unwrap();
        assert!(store.get(b"large", &store.guard()).is_some());
        let cap = store.hard_cap_bytes() - store.structure_bytes();
        assert!(
            store.used_bytes() <= cap,
            "{} charged to entries, over the hard cap's {cap}",
            store.used_bytes(),
        );
        assert_eq!(store.used_bytes(), store.recount_charged());
    }

    /// Free room in the allocator's pages that the fake gauge of the next test reports.
    static FAKE_SLACK: AtomicU64 = AtomicU64::new(0);

    /// A heap gauge reporting nothing allocated and [`FAKE_SLACK`] bytes resident: all
    /// fragmentation. (Not allocated bytes: what those are charged depends on the entries
    /// of every store in the process, and tests run side by side.)
    fn fake_heap() -> Option<HeapStats> {
        Some(HeapStats {
            allocated: 0,
            active: 0,
            resident: FAKE_SLACK.load(Ordering::Relaxed),
            metadata: 0,
            process_resident: 0,
        })
    }

    #[test]
    fn a_write_over_a_lowered_cap_waits_for_its_own_room_not_the_whole_drop() {
        // No evictor thread: every eviction is a writer's own help.
        let store = Store::with_config(StoreConfig::new(64 << 10).overshoot_bytes(1024));
        store.set_heap_gauge(fake_heap);
        let mut i = 0;
        while store.used_bytes() + 400 < store.hard_cap_bytes() - store.structure_bytes() {
            store.set(format!("k{i}").as_bytes(), &[b'v'; 100]).unwrap();
            i += 1;
        }
        // Evicting leaves 12 KiB of the allocator's pages empty: at the next reading the
        // structures are charged that much more, and the cap on entries drops with it.
        // The gauge is read at most every HEAP_CHECK_INTERVAL, a clock, not another thread.
        let grown = 12 << 10;
        FAKE_SLACK.store(grown, Ordering::Relaxed);
        std::thread::sleep(HEAP_CHECK_INTERVAL);
        store.refresh_structures();
        let cap = store.hard_cap_bytes() - store.structure_bytes();
        let level = store.used_bytes();
        assert!(
            level > cap + grown / 2,
            "the cap did not drop: {level} vs {cap}"
        );
        store.set(b"new", &[b'v'; 100]).unwrap();
        // The write evicted one round's worth, enough to lower `used` by its charge, not
        // the 12 KiB.
        let evicted = store.stats().evicted;
        assert!(
            (1..=HELP_BATCH as u64).contains(&evicted),
            "{evicted} evicted"
        );
        assert!(
            store.used_bytes() < level,
            "{} not under {level}",
            store.used_bytes()
        );
        assert!(store.used_bytes() > cap);
        assert!(store.get(b"new", &store.guard()).is_some());
        // The rest is the evictor's: down to the limit, and the count stays exact.
        store.evict_to_limit();
        assert!(store.used_bytes() <= store.entry_budget());
        assert_eq!(store.used_bytes(), store.recount_charged());
    }

    #[test]
    fn set_get_delete_account_exactly() {
        let store = Store::new(1024);
        store.set(b"user", b"alice").unwrap();
        assert_eq!(store.usage_bytes(), 9);
        assert_eq!(store.get(b"user", &store.guard()), Some(&b"alice"[..]));
        store.set(b"user", b"al").unwrap();
        assert_eq!(store.usage_bytes(), 6);
        assert!(store.delete(b"user"));
        assert!(!store.delete(b"user"));
        assert_eq!(store.usage_bytes(), 0);
        assert_eq!(store.get(b"user", &store.guard()), None);
    }

    #[test]
    fn entry_larger_than_limit_is_refused_and_not_charged() {
        // With its 4-byte header, 60 bytes of key and value fill a 64-byte allocation;
        // one more byte takes the next size class.
        let limit = footprint::entry_charge(60, false);
        assert!(footprint::entry_charge(61, false) > limit);
        let store = Store::new(limit);
        assert_eq!(
            store.set(b"key", &[b'v'; 58]),
            Err(StoreError::LargerThanLimit { max_bytes: limit })
        );
        assert_eq!((store.usage_bytes(), store.used_bytes()), (0, 0));
        store.set(b"key", &[b'v'; 57]).unwrap();
        assert_eq!((store.usage_bytes(), store.used_bytes()), (60, limit));
    }

    #[test]
    fn concurrent_sets_and_deletes_of_few_keys_keep_usage_exact() {
        let store = std::sync::Arc::new(Store::new(u64::MAX));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000usize {
                        let key = [b'k', (i % 3) as u8];
                        match (i + t) % 3 {
                            0 | 1 => store.set(&key, &vec![b'x'; (i * 7 + t) % 50]).unwrap(),
                            _ => {
                                store.delete(&key);
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(store.usage_bytes(), store.recount());
        assert_eq!(store.used_bytes(), store.recount_charged());
    }
}
