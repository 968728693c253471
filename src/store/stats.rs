//! Counters that many threads bump on the request path: each is split into per-thread
//! shards on cache lines of their own, so no global counter is contended, and is summed
//! only when read (by `INFO`, or by the sketch's aging check).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards per counter; threads pick one round-robin. More than the cores of most hosts
/// this runs on, so two busy threads rarely share one.
pub const SHARDS: usize = 16;

/// One shard, on a cache line of its own (two, for CPUs that prefetch line pairs).
#[derive(Default)]
#[repr(align(128))]
struct Shard(AtomicU64);

/// Source of shard numbers for new threads.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard of every counter.
    static SHARD: Cell<usize> = Cell::new(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
}

/// This thread's shard, below [`SHARDS`]: for other sharded counters to pick theirs the
/// same way.
pub fn thread_shard() -> usize {
    SHARD.with(Cell::get)
}

/// A counter sharded by thread.
pub struct Counter {
    /// The shards; the total is their sum.
    shards: Box<[Shard]>,
}

impl Default for Counter {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }
}

impl Counter {
    /// Adds `n` on this thread's shard.
    pub fn add(&self, n: u64) {
        let shard = SHARD.with(Cell::get);
        // Ordering: Relaxed; a statistic, read only as a sum.
        self.shards[shard].0.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` on this thread's shard (which may wrap below zero: only the sum of
    /// all shards means anything).
    pub fn sub(&self, n: u64) {
        let shard = SHARD.with(Cell::get);
        // Ordering: Relaxed; as in `add`.
        self.shards[shard].0.fetch_sub(n, Ordering::Relaxed);
    }

    /// The total so far (shards are added with wrapping, as `sub` may wrap one).
    pub fn sum(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Zeroes every shard; adds made meanwhile may survive.
    pub fn reset(&self) {
        for shard in self.shards.iter() {
            // Ordering: Relaxed; a statistic.
            shard.0.store(0, Ordering::Relaxed);
        }
    }

    /// Bytes of memory the counter takes.
    pub fn memory_bytes(&self) -> usize {
        self.shards.len() * std::mem::size_of::<Shard>()
    }
}

/// What the store counts for `INFO`.
#[derive(Default)]
pub struct Stats {
    /// Reads that found their key.
    pub hits: Counter,
    /// Reads that did not.
    pub misses: Counter,
    /// Entries removed by eviction.
    pub evicted: Counter,
    /// Entries removed because their time was up.
    pub expired: Counter,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Reads that found their key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Entries removed by eviction.
    pub evicted: u64,
    /// Entries removed because their time was up.
    pub expired: u64,
}

impl Stats {
    /// Zeroes every counter.
    pub fn reset(&self) {
        for counter in [&self.hits, &self.misses, &self.evicted, &self.expired] {
            counter.reset();
        }
    }

    /// The counters' current totals.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            hits: self.hits.sum(),
            misses: self.misses.sum(),
            evicted: self.evicted.sum(),
            expired: self.expired.sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_sums_its_shards_across_threads() {
        let counter = std::sync::Arc::new(Counter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| counter.add(1)))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        counter.add(5);
        assert_eq!(counter.sum(), 4005);
    }
}
