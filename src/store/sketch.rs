//! A count-min sketch of access frequency with periodic aging, as TinyLFU uses: it
//! remembers how often keys were asked for, including keys no longer (or not yet) stored,
//! in a few bytes per cached entry.
//!
//! Counters are 4-bit in spirit (they saturate at 15), so a hot key stops writing to its
//! counters once they are full: reading it from many cores costs loads, not cache-line
//! ping-pong. Increments are plain load/store pairs, not read-modify-writes: a lost
//! increment under a race only makes an estimate slightly low. Additions are counted on
//! per-thread shards, so no global counter is contended on the read path.

use std::cell::Cell;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// Rows of the sketch: four independent estimates, of which the minimum is taken.
const DEPTH: usize = 4;

/// Counters saturate here (4 bits' worth), as in TinyLFU.
const MAX_COUNT: u8 = 15;

/// Columns per expected entry: twice as many columns as entries keeps collisions among
/// the rarely read keys, where eviction decides, from blurring their counts.
const COLUMNS_PER_ENTRY: usize = 2;

/// Additions, per expected entry, before all counters are halved. TinyLFU uses 10; 5
/// forgets old popularity twice as fast, which follows shifting workloads at a small cost
/// on stable ones (measured in docs/eviction.md).
const SAMPLE_FACTOR: u64 = 5;

/// Shards of the addition counter; threads pick one round-robin.
const SHARDS: usize = 16;

/// The smallest and largest number of columns.
const MIN_WIDTH: usize = 1 << 10;
const MAX_WIDTH: usize = 1 << 22;

/// An addition counter on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Shard(AtomicU64);

/// Source of shard numbers for new threads.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard of every sketch's addition counter.
    static SHARD: Cell<usize> = Cell::new(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
}

/// Estimated access frequency per key, aged so that old popularity fades.
pub struct FrequencySketch {
    /// `DEPTH` rows of `mask + 1` counters each.
    counters: Box<[AtomicU8]>,
    /// Columns minus one (the column count is a power of two).
    mask: usize,
    /// Hashes keys: foldhash is several times faster than SipHash on short keys, and
    /// the hash is computed on every read and for every sampled entry. Seeded randomly, so
    /// clients cannot aim collisions from outside.
    hasher: foldhash::quality::RandomState,
    /// Additions since creation, sharded by thread.
    additions: Box<[Shard]>,
    /// Additions between two agings.
    sample_size: u64,
    /// The addition count at which the next aging is due.
    next_aging: AtomicU64,
}

impl FrequencySketch {
    /// A sketch for a cache of about `expected_entries` entries.
    pub fn new(expected_entries: usize) -> Self {
        let entries = expected_entries
            .clamp(MIN_WIDTH, MAX_WIDTH)
            .next_power_of_two();
        let width = entries * COLUMNS_PER_ENTRY;
        Self {
            counters: (0..width * DEPTH).map(|_| AtomicU8::new(0)).collect(),
            mask: width - 1,
            hasher: foldhash::quality::RandomState::default(),
            additions: (0..SHARDS).map(|_| Shard::default()).collect(),
            sample_size: entries as u64 * SAMPLE_FACTOR,
            next_aging: AtomicU64::new(entries as u64 * SAMPLE_FACTOR),
        }
    }

    /// The hash the other methods take; compute it once per key and operation.
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Counts one access to the key with this hash. Conservative update: only the
    /// counters at the current minimum grow, which keeps keys that share counters with
    /// popular ones from looking popular themselves.
    pub fn record(&self, hash: u64) {
        let estimate = self.estimate(hash);
        if estimate >= MAX_COUNT {
            return;
        }
        for index in self.indexes(hash) {
            let counter = &self.counters[index];
            // Ordering: Relaxed; counters are estimates and guard no other memory.
            if counter.load(Ordering::Relaxed) == estimate {
                counter.store(estimate + 1, Ordering::Relaxed);
            }
        }
        let shard = SHARD.with(Cell::get);
        // Ordering: Relaxed; only the total matters, and only approximately.
        self.additions[shard].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The estimated number of recent accesses (0 to 15) to the key with this hash.
    pub fn estimate(&self, hash: u64) -> u8 {
        self.indexes(hash)
            .map(|index| self.counters[index].load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    /// Halves every counter if enough additions were made since the last aging; returns
    /// whether it did. Meant for one background thread; concurrent calls age at most once.
    pub fn age_if_due(&self) -> bool {
        let total: u64 = self
            .additions
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum();
        let due = self.next_aging.load(Ordering::Relaxed);
        if total < due {
            return false;
        }
        let next = total + self.sample_size;
        // Ordering: Relaxed; the exchange only elects one thread to do the halving.
        if self
            .next_aging
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        for counter in self.counters.iter() {
            let count = counter.load(Ordering::Relaxed);
            if count > 0 {
                counter.store(count >> 1, Ordering::Relaxed);
            }
        }
        true
    }

    /// Bytes of memory the sketch takes.
    pub fn memory_bytes(&self) -> usize {
        self.counters.len() + self.additions.len() * std::mem::size_of::<Shard>()
    }

    /// One counter index per row, from two halves of the hash (double hashing).
    fn indexes(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let low = hash as usize;
        let high = (hash >> 32) as usize | 1;
        let width = self.mask + 1;
        (0..DEPTH)
            .map(move |row| row * width + (low.wrapping_add(row.wrapping_mul(high)) & self.mask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_accesses_and_saturate() {
        let sketch = FrequencySketch::new(1024);
        let hot = sketch.hash(b"hot");
        let cold = sketch.hash(b"cold");
        for _ in 0..40 {
            sketch.record(hot);
        }
        sketch.record(cold);
        assert_eq!(sketch.estimate(hot), MAX_COUNT);
        assert!(sketch.estimate(cold) >= 1);
        assert!(sketch.estimate(cold) < sketch.estimate(hot));
        assert_eq!(sketch.estimate(sketch.hash(b"never")), 0);
    }

    #[test]
    fn aging_halves_counts_after_a_sample_period() {
        let sketch = FrequencySketch::new(1024);
        let hot = sketch.hash(b"hot");
        for _ in 0..10 {
            sketch.record(hot);
        }
        assert!(!sketch.age_if_due(), "not due yet");
        assert_eq!(sketch.estimate(hot), 10);
        // Fill the sample period with distinct keys.
        for i in 0..(1024 * SAMPLE_FACTOR as usize) {
            sketch.record(sketch.hash(&i.to_le_bytes()));
        }
        assert!(sketch.age_if_due());
        assert!(
            sketch.estimate(hot) <= 7,
            "halved: {}",
            sketch.estimate(hot)
        );
        assert!(
            !sketch.age_if_due(),
            "the next aging waits for another period"
        );
    }
}
