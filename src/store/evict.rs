//! Sampled eviction: pick random live entries, remove the least recently used of each
//! sample, until the store is back under its limit. Synchronous, so it can be driven by
//! the evictor thread, by tests, and by a model checker alike.
//!
//! A pass walks the map once and keeps each entry with the same probability (Bernoulli
//! sampling, so every live entry is equally likely), shuffles the kept entries and cuts
//! them into samples. The walk is O(entries), paid once for up to
//! [`MAX_EVICTIONS_PER_PASS`] evictions.
//!
//! Identity: the whole pass runs under one guard, so no sampled entry can be freed and its
//! address reused while the pass runs. `remove_if` with an address comparison therefore
//! removes exactly the sampled entry, never a newer value that a concurrent SET stored
//! under the same key, and only the thread whose removal succeeds discharges its size.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use super::{entry_size, Entry, Store};

/// How many entries one sample holds by default, like Redis's `maxmemory-samples`.
pub const DEFAULT_SAMPLES: usize = 5;

/// The most evictions one pass plans for; bounds the candidate pool of a pass to
/// `MAX_EVICTIONS_PER_PASS × samples` references.
pub const MAX_EVICTIONS_PER_PASS: usize = 1024;

/// What one eviction pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EvictOutcome {
    /// Entries removed by this pass.
    pub evicted: usize,
    /// Bytes discharged by this pass.
    pub freed_bytes: u64,
    /// Entries drawn into the candidate pool.
    pub sampled: usize,
}

/// Runs one eviction pass with samples of `samples` entries (at least 1).
/// Does nothing when the store is within its limit.
pub fn evict_once(store: &Store, rng: &mut impl Rng, samples: usize) -> EvictOutcome {
    let samples = samples.max(1);
    let mut outcome = EvictOutcome::default();
    let used = store.usage_bytes();
    let len = store.len();
    if used <= store.max_bytes() || len == 0 {
        return outcome;
    }
    let average = (used / len as u64).max(1);
    let wanted = usize::try_from((used - store.max_bytes()).div_ceil(average))
        .unwrap_or(usize::MAX)
        .saturating_add(1)
        .min(MAX_EVICTIONS_PER_PASS);
    let pool_target = wanted * samples;
    let keep_probability = pool_target as f64 / len as f64;

    let guard = store.map.guard();
    let mut pool: Vec<(&[u8], &Entry)> = Vec::with_capacity(pool_target + pool_target / 4);
    for (key, entry) in store.map.iter(&guard) {
        if keep_probability >= 1.0 || rng.random::<f64>() < keep_probability {
            pool.push((key, entry));
        }
    }
    outcome.sampled = pool.len();
    pool.shuffle(rng);

    let now = store.now_ms();
    for sample in pool.chunks(samples) {
        if store.usage_bytes() <= store.max_bytes() {
            break;
        }
        // Age as a signed distance, so an entry touched after `now` counts as youngest.
        let Some(&(key, victim)) = sample
            .iter()
            .max_by_key(|(_, entry)| now.wrapping_sub(entry.stamp()) as i32)
        else {
            continue;
        };
        let removed = store
            .map
            .remove_if(key, |_, entry| std::ptr::eq(entry, victim), &guard);
        // Err or Ok(None): the sampled entry was replaced or deleted meanwhile, and the
        // thread that did it has discharged it.
        if let Ok(Some((key, entry))) = removed {
            let size = entry_size(key, entry.value());
            store.discharge(size);
            outcome.evicted += 1;
            outcome.freed_bytes += size;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn fill(store: &Store, count: usize, value_len: usize) {
        for i in 0..count {
            store
                .set(format!("key{i:05}").as_bytes(), &vec![b'v'; value_len])
                .unwrap();
        }
    }

    #[test]
    fn does_nothing_under_the_limit() {
        let store = Store::new(10_000);
        fill(&store, 10, 100);
        let outcome = evict_once(&store, &mut SmallRng::seed_from_u64(1), DEFAULT_SAMPLES);
        assert_eq!(outcome, EvictOutcome::default());
        assert_eq!(store.len(), 10);
    }

    #[test]
    fn evicts_until_within_limit_and_accounts_exactly() {
        let store = Store::new(50 * 108);
        fill(&store, 200, 100);
        let mut rng = SmallRng::seed_from_u64(7);
        while store.usage_bytes() > store.max_bytes() {
            evict_once(&store, &mut rng, DEFAULT_SAMPLES);
        }
        assert!(store.usage_bytes() <= store.max_bytes());
        assert_eq!(store.usage_bytes(), store.recount());
        assert!(
            store.len() >= 49,
            "evicted far more than needed: {}",
            store.len()
        );
    }

    #[test]
    fn prefers_entries_not_accessed_recently() {
        let store = Store::new(u64::MAX);
        fill(&store, 1000, 10);
        // Let the clock move, then read the first half so it is more recent.
        std::thread::sleep(std::time::Duration::from_millis(5));
        for i in 0..500 {
            store
                .get(format!("key{i:05}").as_bytes(), &store.guard())
                .unwrap();
        }
        let limit = store.usage_bytes() / 2;
        let store = Store {
            max_bytes: limit,
            ..store
        };
        let mut rng = SmallRng::seed_from_u64(3);
        while store.usage_bytes() > store.max_bytes() {
            evict_once(&store, &mut rng, DEFAULT_SAMPLES);
        }
        let guard = store.guard();
        let recent_kept = (0..500)
            .filter(|i| store.get(format!("key{i:05}").as_bytes(), &guard).is_some())
            .count();
        // Sampled LRU with 5 samples keeps most of the recently read half.
        assert!(
            recent_kept > 400,
            "kept only {recent_kept} of 500 recent keys"
        );
    }
}
