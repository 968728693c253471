//! Latency histograms per command family, for the Prometheus endpoint: how long commands
//! take to execute in the server (not counting the network), bucketed by powers of two
//! from 1 µs to about 4 s.
//!
//! Sharded like every other counter on the request path ([`crate::store::stats`]): each
//! thread adds to its own shard with relaxed `fetch_add`s, and a scrape sums the shards.
//! An observation is two uncontended adds (its bucket and the sum); a run of quick
//! commands timed together ([`super::stats::CommandStats::record_run`]) is one
//! observation of its average, counted once per call. The memory is fixed: 16 shards of
//! 8 families of 25 counters, 25 KiB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::protocol::command_table::ALL;
use crate::store::stats::{thread_shard, SHARDS};

/// The families commands are grouped in, as Redis's COMMAND DOCS groups them, and
/// memcached's protocols as one more.
pub const FAMILIES: [&str; 8] = [
    "string",
    "bitmap",
    "generic",
    "connection",
    "server",
    "transactions",
    "memcache",
    "other",
];

/// The family of memcached's requests, which have no row in the command table.
const MEMCACHE: usize = 6;

/// The family of a command whose group has none of its own.
const OTHER: usize = 7;

/// Finite buckets: the first holds what took at most 1 µs, each next one twice as long,
/// the last at most 2^22 µs (4.2 s). Then one for everything longer.
const FINITE_BUCKETS: usize = 23;

/// Counters per family: the buckets, the overflow bucket, and the sum in nanoseconds.
const PER_FAMILY: usize = FINITE_BUCKETS + 2;

/// One shard: every family's counters, on cache lines no other shard shares.
#[repr(align(128))]
struct Shard([AtomicU64; PER_FAMILY * FAMILIES.len()]);

impl Default for Shard {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// One family's histogram, summed over the shards.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// The family's name, one of [`FAMILIES`].
    pub family: &'static str,
    /// Each bucket's upper bound and the observations in it alone (not cumulative); the
    /// last bound is infinite.
    pub buckets: Vec<(Duration, u64)>,
    /// Observations in all.
    pub count: u64,
    /// The observed durations added up.
    pub sum: Duration,
}

/// Every family's latency histogram.
pub struct Latencies {
    /// One shard per thread slot.
    shards: Box<[Shard]>,
    /// Each command's family, by its id in [`ALL`].
    family_of: Box<[u8]>,
}

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latencies").finish_non_exhaustive()
    }
}

impl Default for Latencies {
    fn default() -> Self {
        let family_of = ALL
            .iter()
            .map(|spec| {
                let family = FAMILIES.iter().position(|&name| name == spec.docs.group);
                // At most 8 families: the index fits.
                family.unwrap_or(OTHER) as u8
            })
            .collect();
        Self {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            family_of,
        }
    }
}

impl Latencies {
    /// Counts `calls` executions of the command with this id that took `elapsed` in all.
    pub fn observe_command(&self, id: u16, calls: u64, elapsed: Duration) {
        let family = self.family_of.get(usize::from(id)).copied();
        self.observe(usize::from(family.unwrap_or(OTHER as u8)), calls, elapsed);
    }

    /// Counts one memcached request that took `elapsed`.
    pub fn observe_memcache(&self, elapsed: Duration) {
        self.observe(MEMCACHE, 1, elapsed);
    }

    /// Adds `calls` observations of `elapsed / calls` to `family` in this thread's shard.
    fn observe(&self, family: usize, calls: u64, elapsed: Duration) {
        if calls == 0 {
            return;
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let each_micros = (nanos / calls).div_ceil(1000);
        let bucket = bucket_of(each_micros);
        let Some(shard) = self.shards.get(thread_shard()) else {
            return;
        };
        let base = family * PER_FAMILY;
        for (index, n) in [(base + bucket, calls), (base + PER_FAMILY - 1, nanos)] {
            if let Some(counter) = shard.0.get(index) {
                // Ordering: Relaxed; a statistic, read only as a sum.
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Every family's histogram, summed over the shards, families never observed left
    /// out.
    pub fn histograms(&self) -> Vec<Histogram> {
        FAMILIES
            .iter()
            .enumerate()
            .map(|(family, &name)| {
                let sum = |index: usize| {
                    (self.shards.iter())
                        .filter_map(|shard| shard.0.get(family * PER_FAMILY + index))
                        .map(|counter| counter.load(Ordering::Relaxed))
                        .fold(0, u64::wrapping_add)
                };
                let buckets: Vec<(Duration, u64)> = (0..=FINITE_BUCKETS)
                    .map(|bucket| (upper_bound(bucket), sum(bucket)))
                    .collect();
                Histogram {
                    family: name,
                    count: buckets.iter().map(|&(_, n)| n).sum(),
                    buckets,
                    sum: Duration::from_nanos(sum(PER_FAMILY - 1)),
                }
            })
            .filter(|histogram| histogram.count > 0)
            .collect()
    }

    /// Zeroes every counter (CONFIG RESETSTAT); adds made meanwhile may survive.
    pub fn reset(&self) {
        for counter in self.shards.iter().flat_map(|shard| &shard.0) {
            // Ordering: Relaxed; a statistic.
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// The bucket of a duration of `micros` microseconds (rounded up): the first whose bound
/// is at least that, or the overflow bucket.
fn bucket_of(micros: u64) -> usize {
    // 0 and 1 µs go to the first bucket; 2^k + 1 ..= 2^(k+1) µs to bucket k + 1.
    let bits = (u64::BITS - micros.saturating_sub(1).leading_zeros()) as usize;
    bits.min(FINITE_BUCKETS)
}

/// A bucket's upper bound: 2^bucket µs, infinite for the overflow bucket.
fn upper_bound(bucket: usize) -> Duration {
    if bucket >= FINITE_BUCKETS {
        return Duration::MAX;
    }
    Duration::from_micros(1 << bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command_table;

    #[test]
    fn buckets_hold_durations_up_to_their_bound() {
        for (micros, bucket) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (1024, 10),
            (1025, 11),
            (1 << 22, 22),
            ((1 << 22) + 1, 23),
            (u64::MAX, 23),
        ] {
            assert_eq!(bucket_of(micros), bucket, "{micros} µs");
            assert!(Duration::from_micros(micros) <= upper_bound(bucket_of(micros)));
        }
    }

    #[test]
    fn observations_land_in_their_family_and_bucket() {
        let latencies = Latencies::default();
        let get = command_table::lookup(b"GET").unwrap();
        let ping = command_table::lookup(b"PING").unwrap();
        latencies.observe_command(get.id, 4, Duration::from_micros(12));
        latencies.observe_command(ping.id, 1, Duration::from_millis(3));
        latencies.observe_memcache(Duration::from_nanos(500));
        let histograms = latencies.histograms();
        let families: Vec<_> = histograms.iter().map(|h| h.family).collect();
        assert_eq!(families, ["string", "connection", "memcache"]);
        let string = &histograms[0];
        assert_eq!((string.count, string.sum), (4, Duration::from_micros(12)));
        // 3 µs each: the 4 µs bucket.
        assert_eq!(string.buckets[2], (Duration::from_micros(4), 4));
        let connection = &histograms[1];
        assert_eq!(connection.buckets[12], (Duration::from_micros(4096), 1));
        assert_eq!(histograms[2].buckets[0], (Duration::from_micros(1), 1));
        latencies.reset();
        assert!(latencies.histograms().is_empty());
    }

    #[test]
    fn every_command_group_has_a_family() {
        let latencies = Latencies::default();
        for spec in ALL {
            let family = latencies.family_of[usize::from(spec.id)];
            assert!(
                usize::from(family) != OTHER || spec.docs.group.is_empty(),
                "{} ({})",
                spec.name,
                spec.docs.group
            );
        }
    }
}
