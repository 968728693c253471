//! A count-min sketch of access frequency with periodic aging, as TinyLFU uses: it
//! remembers how often keys were asked for, including keys no longer (or not yet) stored,
//! in a few bytes per cached entry.
//!
//! Counters are 4 bits, two to a byte, saturating at 15, and all of one key's counters lie
//! in one 64-byte block, so an estimate or an increment touches one cache line. The
//! blocks for the largest expected size are reserved up front as zeroed memory, which the
//! system maps only when touched, and only a prefix sized to the entries actually stored
//! is used ([`FrequencySketch::fit`]): a cache far below its memory limit keeps its
//! sketch small, both in RAM and in the CPU caches. A hot key
//! stops writing once its counters are full: reading it from many cores costs loads, not
//! cache-line ping-pong. Increments are plain load/store pairs, not read-modify-writes: a
//! race can lose an increment (of this counter or of its byte's other half), which only
//! makes an estimate slightly low. Additions are counted on per-thread shards, so no
//! global counter is contended on the read path.

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

use super::stats::Counter;

/// Rows of the sketch: four independent estimates, of which the minimum is taken.
const DEPTH: usize = 4;

/// Counters saturate here (4 bits' worth), as in TinyLFU.
const MAX_COUNT: u8 = 15;

/// Columns per expected entry: four times as many columns as entries keeps collisions
/// among the rarely read keys, where eviction decides, from blurring their counts. With
/// 4-bit counters that is 8 bytes per expected entry.
const COLUMNS_PER_ENTRY: usize = 4;

/// Additions, per expected entry, before all counters are halved. TinyLFU uses 10; 5
/// forgets old popularity twice as fast, which follows shifting workloads at a small cost
/// on stable ones (measured in docs/eviction.md).
const SAMPLE_FACTOR: u64 = 5;

/// The smallest and largest number of columns.
const MIN_WIDTH: usize = 1 << 10;
const MAX_WIDTH: usize = 1 << 22;

/// Bytes per block: one cache line.
const BLOCK_BYTES: usize = 64;

/// 4-bit counters per block.
const BLOCK: usize = BLOCK_BYTES * 2;

/// One 4-bit counter: half of a byte.
struct Nibble<'a> {
    /// The byte holding the counter and its neighbour.
    byte: &'a AtomicU8,
    /// 0 for the low half, 4 for the high half.
    shift: u32,
}

impl Nibble<'_> {
    fn get(&self) -> u8 {
        // Ordering: Relaxed; counters are estimates and guard no other memory.
        (self.byte.load(Ordering::Relaxed) >> self.shift) & 0x0f
    }

    fn set(&self, count: u8) {
        let pair = self.byte.load(Ordering::Relaxed);
        let pair = (pair & !(0x0f << self.shift)) | (count << self.shift);
        self.byte.store(pair, Ordering::Relaxed);
    }
}

/// Estimated access frequency per key, aged so that old popularity fades.
pub struct FrequencySketch {
    /// The counters, two to a byte, in cache-line blocks: all of one key's counters share
    /// a block, so an estimate or an increment touches one cache line instead of `DEPTH`.
    /// Block `i` is `bytes[skew + i * BLOCK_BYTES..][..BLOCK_BYTES]`.
    bytes: Box<[AtomicU8]>,
    /// Bytes skipped at the start so that blocks begin on cache-line boundaries.
    skew: usize,
    /// Blocks allocated (a power of two).
    block_count: usize,
    /// Blocks in use minus one (a power of two minus one); grows, never shrinks.
    mask: AtomicUsize,
    /// Additions since creation, sharded by thread.
    additions: Counter,
    /// Additions between two agings: proportional to the blocks in use.
    sample_size: AtomicU64,
    /// The addition count at which the next aging is due.
    next_aging: AtomicU64,
}

impl FrequencySketch {
    /// A sketch for a cache of at most about `max_entries` entries, sized for few at first.
    pub fn new(max_entries: usize) -> Self {
        let block_count = Self::blocks_for(max_entries);
        let first = Self::blocks_for(0);
        let len = block_count * BLOCK_BYTES + BLOCK_BYTES - 1;
        // Zeroed memory that the system maps only when touched; filled byte by byte only
        // if the allocator refuses (the process would abort on its next allocation anyway).
        let bytes = bytemuck::allocation::try_zeroed_slice_box::<AtomicU8>(len)
            .unwrap_or_else(|()| (0..len).map(|_| AtomicU8::new(0)).collect());
        // Pointer to address: only its alignment is used.
        let skew = (BLOCK_BYTES - bytes.as_ptr() as usize % BLOCK_BYTES) % BLOCK_BYTES;
        Self {
            bytes,
            skew,
            block_count,
            mask: AtomicUsize::new(first - 1),
            additions: Counter::default(),
            sample_size: AtomicU64::new(Self::sample_size_for(first)),
            next_aging: AtomicU64::new(Self::sample_size_for(first)),
        }
    }

    /// Blocks for a cache of `entries` entries: a power of two.
    fn blocks_for(entries: usize) -> usize {
        let entries = entries.clamp(MIN_WIDTH, MAX_WIDTH).next_power_of_two();
        entries * COLUMNS_PER_ENTRY * DEPTH / BLOCK
    }

    /// Additions between agings when `blocks` blocks are in use.
    fn sample_size_for(blocks: usize) -> u64 {
        (blocks * BLOCK / DEPTH / COLUMNS_PER_ENTRY) as u64 * SAMPLE_FACTOR
    }

    /// Widens the part in use to suit `entries` entries, if it is narrower (up to the size
    /// allocated). Each doubling copies the blocks in use into the new half, so every
    /// key's estimate is kept. Meant for one background thread; returns whether it grew.
    pub fn fit(&self, entries: usize) -> bool {
        let wanted = Self::blocks_for(entries).min(self.block_count);
        // Ordering: Relaxed; blocks are estimates, and readers of either width are correct.
        let mut used = self.mask.load(Ordering::Relaxed) + 1;
        if used >= wanted {
            return false;
        }
        while used < wanted {
            let (old, new) = self.bytes[self.skew..].split_at(used * BLOCK_BYTES);
            for (from, to) in old.iter().zip(&new[..used * BLOCK_BYTES]) {
                to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            used *= 2;
            self.mask.store(used - 1, Ordering::Relaxed);
        }
        self.sample_size
            .store(Self::sample_size_for(used), Ordering::Relaxed);
        true
    }

    /// Counts one access to the key with this hash. Conservative update: only the
    /// counters at the current minimum grow, which keeps keys that share counters with
    /// popular ones from looking popular themselves.
    pub fn record(&self, hash: u64) {
        let estimate = self.estimate(hash);
        if estimate >= MAX_COUNT {
            return;
        }
        for counter in self.counters(hash) {
            if counter.get() == estimate {
                counter.set(estimate + 1);
            }
        }
        self.additions.add(1);
    }

    /// The estimated number of recent accesses (0 to 15) to the key with this hash.
    pub fn estimate(&self, hash: u64) -> u8 {
        self.counters(hash)
            .map(|counter| counter.get())
            .min()
            .unwrap_or(0)
    }

    /// Halves every counter if enough additions were made since the last aging; returns
    /// whether it did. Meant for one background thread; concurrent calls age at most once.
    pub fn age_if_due(&self) -> bool {
        let total = self.additions.sum();
        let due = self.next_aging.load(Ordering::Relaxed);
        if total < due {
            return false;
        }
        let next = total + self.sample_size.load(Ordering::Relaxed);
        // Ordering: Relaxed; the exchange only elects one thread to do the halving.
        if self
            .next_aging
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        let used = self.mask.load(Ordering::Relaxed) + 1;
        for byte in &self.bytes[self.skew..][..used * BLOCK_BYTES] {
            // Ordering: Relaxed; counters are estimates and guard no other memory.
            let pair = byte.load(Ordering::Relaxed);
            if pair != 0 {
                // Halves both 4-bit counters at once.
                byte.store((pair >> 1) & 0x77, Ordering::Relaxed);
            }
        }
        true
    }

    /// Bytes of the blocks in use beyond those of a new sketch: the memory the sketch has
    /// touched as the cache grew (the rest of its reservation is never mapped, and the
    /// first blocks belong to the empty server).
    pub fn grown_bytes(&self) -> u64 {
        // Ordering: Relaxed; the mask only widens, and a stale width is a fine estimate.
        let used = self.mask.load(Ordering::Relaxed) + 1;
        (used.saturating_sub(Self::blocks_for(0)) * BLOCK_BYTES) as u64
    }

    /// Bytes of memory the sketch takes.
    pub fn memory_bytes(&self) -> usize {
        self.bytes.len() + self.additions.memory_bytes()
    }

    /// The key's counters: a block chosen by the hash's low bits, and in each of the
    /// block's `DEPTH` segments one counter chosen by more bits of the hash.
    fn counters(&self, hash: u64) -> impl Iterator<Item = Nibble<'_>> + '_ {
        // Ordering: Relaxed; the mask only widens, and any width in use is valid.
        let index = hash as usize & self.mask.load(Ordering::Relaxed);
        let block = &self.bytes[self.skew + index * BLOCK_BYTES..][..BLOCK_BYTES];
        let segment = BLOCK / DEPTH;
        (0..DEPTH).map(move |row| {
            let counter = row * segment + (hash >> (32 + 8 * row)) as usize % segment;
            Nibble {
                byte: &block[counter / 2],
                shift: (counter % 2) as u32 * 4,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::key_hash;

    #[test]
    fn estimates_grow_with_accesses_and_saturate() {
        let sketch = FrequencySketch::new(1024);
        let hot = key_hash(b"hot");
        let cold = key_hash(b"cold");
        for _ in 0..40 {
            sketch.record(hot);
        }
        sketch.record(cold);
        assert_eq!(sketch.estimate(hot), MAX_COUNT);
        assert!(sketch.estimate(cold) >= 1);
        assert!(sketch.estimate(cold) < sketch.estimate(hot));
        assert_eq!(sketch.estimate(key_hash(b"never")), 0);
    }

    #[test]
    fn aging_halves_counts_after_a_sample_period() {
        let sketch = FrequencySketch::new(1024);
        let hot = key_hash(b"hot");
        for _ in 0..10 {
            sketch.record(hot);
        }
        assert!(!sketch.age_if_due(), "not due yet");
        assert_eq!(sketch.estimate(hot), 10);
        // Fill the sample period with distinct keys.
        for i in 0..(1024 * SAMPLE_FACTOR as usize) {
            sketch.record(key_hash(&i.to_le_bytes()));
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

    #[test]
    fn fitting_more_entries_widens_the_sketch_and_keeps_estimates() {
        let sketch = FrequencySketch::new(1 << 20);
        let keys: Vec<u64> = (0..200u32).map(|i| key_hash(&i.to_le_bytes())).collect();
        for (i, &key) in keys.iter().enumerate() {
            for _ in 0..i % 16 {
                sketch.record(key);
            }
        }
        let estimates = |sketch: &FrequencySketch| -> Vec<u8> {
            keys.iter().map(|&key| sketch.estimate(key)).collect()
        };
        let before = estimates(&sketch);
        assert!(sketch.fit(100_000));
        assert!(!sketch.fit(100_000), "already wide enough");
        assert!(!sketch.fit(10), "never narrower");
        assert_eq!(
            sketch.mask.load(Ordering::Relaxed) + 1,
            FrequencySketch::blocks_for(100_000)
        );
        assert_eq!(estimates(&sketch), before);
        sketch.fit(usize::MAX);
        assert_eq!(sketch.mask.load(Ordering::Relaxed) + 1, sketch.block_count);
    }

    #[test]
    fn blocks_start_on_cache_lines() {
        for entries in [0, 5_000, 1 << 20] {
            let sketch = FrequencySketch::new(entries);
            assert_eq!(
                (sketch.bytes.as_ptr() as usize + sketch.skew) % BLOCK_BYTES,
                0
            );
            assert!(sketch.skew + sketch.block_count * BLOCK_BYTES <= sketch.bytes.len());
        }
    }
}
