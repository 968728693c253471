//! Sampled eviction: draw random live entries from the sampler, remove the one the policy
//! scores lowest in each sample, until the store is back under a target. Synchronous, so
//! the evictor thread, a writer above the hard cap, a simulation and a model checker can
//! all drive it.
//!
//! Identity: a victim is removed with `remove_if` comparing the map's value to the
//! sampled `Arc` by address. The sample holds that `Arc`, so the address cannot be reused
//! meanwhile: a concurrent SET of the same key installs a new `Arc` that `remove_if`
//! leaves alone, and only the thread whose removal succeeds discharges the size.

use std::cmp::Reverse;

use super::sampler::Pool;
use super::{Entry, Store};

/// Entries per sample by default, like Redis's `maxmemory-samples`.
pub const DEFAULT_SAMPLES: usize = 5;

/// The most evictions one pass makes before it lets go of the sampler, so a helping
/// writer or the evictor never holds it for long.
pub const MAX_EVICTIONS_PER_PASS: usize = 128;

/// Samples that evict nothing (every victim was already replaced or removed) tolerated
/// per pass before the pass gives up.
const MAX_FRUITLESS_SAMPLES: usize = 64;

/// Which entry of a sample is evicted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EvictionPolicy {
    /// The entry with the lowest estimated access frequency (a count-min sketch with
    /// aging, as TinyLFU keeps), the least recently used among equals.
    #[default]
    TinyLfu,
    /// The least recently used entry, as Redis's `allkeys-lru`.
    Lru,
}

/// What one eviction pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EvictOutcome {
    /// Entries removed by this pass.
    pub evicted: usize,
    /// Bytes discharged by this pass.
    pub freed_bytes: u64,
    /// Entries drawn into samples.
    pub sampled: usize,
}

/// Evicts until `used ≤ target_bytes`, at most `max_evictions` entries, or until the pool
/// yields nothing evictable.
pub fn evict_once(
    store: &Store,
    pool: &mut Pool,
    target_bytes: u64,
    max_evictions: usize,
) -> EvictOutcome {
    let mut outcome = EvictOutcome::default();
    pool.refresh(store.len());
    let mut fruitless = 0;
    while store.usage_bytes() > target_bytes
        && outcome.evicted < max_evictions
        && fruitless < MAX_FRUITLESS_SAMPLES
    {
        let now = store.now_ms();
        let sample = pool.draw(store.config.samples);
        outcome.sampled += sample.len();
        let Some((index, victim)) =
            choose(store, sample, now).map(|(index, entry)| (*index, entry.clone()))
        else {
            break;
        };
        let guard = store.map.guard();
        let removed = store.map.remove_if(
            victim.key(),
            |_, current| std::sync::Arc::ptr_eq(current, &victim),
            &guard,
        );
        // Err or Ok(None): the sampled entry was replaced or deleted meanwhile, and the
        // thread that did it has discharged it. Either way it leaves the pool.
        if let Ok(Some((_, entry))) = removed {
            store.discharge(entry.size());
            store.retired(entry.size(), &guard);
            outcome.evicted += 1;
            outcome.freed_bytes += entry.size();
        } else {
            fruitless += 1;
        }
        pool.forget(index);
    }
    if outcome.evicted > 0 {
        tracing::trace!(evicted = outcome.evicted, "evicted");
    }
    outcome
}

/// The sample member to evict: its pool index and entry.
fn choose<'s>(
    store: &Store,
    sample: &'s [(usize, std::sync::Arc<Entry>)],
    now: u32,
) -> Option<&'s (usize, std::sync::Arc<Entry>)> {
    // Age as a signed distance, so an entry touched after `now` counts as youngest.
    let age = |entry: &Entry| now.wrapping_sub(entry.stamp()) as i32;
    match store.config.policy {
        EvictionPolicy::Lru => sample.iter().max_by_key(|(_, entry)| age(entry)),
        EvictionPolicy::TinyLfu => sample
            .iter()
            .min_by_key(|(_, entry)| (store.frequency(entry.key()), Reverse(age(entry)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    fn fill(store: &Store, count: usize, value_len: usize) {
        for i in 0..count {
            store
                .set(format!("key{i:05}").as_bytes(), &vec![b'v'; value_len])
                .unwrap();
        }
    }

    fn store(max_bytes: u64, policy: EvictionPolicy) -> Store {
        Store::with_config(
            StoreConfig::new(max_bytes)
                .policy(policy)
                .overshoot_bytes(u64::MAX / 2),
        )
    }

    #[test]
    fn does_nothing_under_the_limit() {
        let store = store(10_000, EvictionPolicy::Lru);
        fill(&store, 10, 100);
        assert_eq!(store.evict_to_limit().evicted, 0);
        assert_eq!(store.len(), 10);
    }

    #[test]
    fn evicts_until_within_limit_and_accounts_exactly() {
        for policy in [EvictionPolicy::Lru, EvictionPolicy::TinyLfu] {
            let store = store(50 * 108, policy);
            fill(&store, 200, 100);
            let outcome = store.evict_to_limit();
            assert!(store.usage_bytes() <= store.max_bytes());
            assert_eq!(store.usage_bytes(), store.recount());
            assert_eq!(outcome.evicted, 200 - store.len());
            assert!(
                store.len() >= 49,
                "{policy:?} evicted far more than needed: {}",
                store.len()
            );
        }
    }

    #[test]
    fn lru_prefers_entries_not_accessed_recently() {
        let store = store(u64::MAX, EvictionPolicy::Lru);
        fill(&store, 1000, 10);
        // Let the millisecond clock move, then read the first half so it is more recent.
        std::thread::sleep(std::time::Duration::from_millis(5));
        for i in 0..500 {
            store
                .get(format!("key{i:05}").as_bytes(), &store.guard())
                .unwrap();
        }
        let store = Store {
            config: StoreConfig {
                max_bytes: store.usage_bytes() / 2,
                ..store.config
            },
            ..store
        };
        store.evict_to_limit();
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

    #[test]
    fn tinylfu_keeps_frequently_read_entries() {
        let store = store(u64::MAX, EvictionPolicy::TinyLfu);
        fill(&store, 1000, 10);
        // Read the first 100 keys often, before the others are written again (most recent).
        for _ in 0..5 {
            for i in 0..100 {
                store
                    .get(format!("key{i:05}").as_bytes(), &store.guard())
                    .unwrap();
            }
        }
        let store = Store {
            config: StoreConfig {
                max_bytes: store.usage_bytes() / 4,
                ..store.config
            },
            ..store
        };
        store.evict_to_limit();
        let guard = store.guard();
        let frequent_kept = (0..100)
            .filter(|i| store.get(format!("key{i:05}").as_bytes(), &guard).is_some())
            .count();
        assert!(
            frequent_kept >= 95,
            "kept only {frequent_kept} of 100 frequent keys"
        );
    }

    #[test]
    fn a_newer_value_of_a_sampled_key_is_never_evicted() {
        let store = store(100, EvictionPolicy::Lru);
        store.set(b"k", b"old-value").unwrap();
        let mut pool = store.sampler.lock();
        pool.refresh(store.len());
        let (index, sampled) = pool.draw(1)[0].clone();
        // A newer SET of the same key lands after the sample was drawn.
        store.set(b"k", b"a-newer-and-much-longer-value").unwrap();
        let guard = store.guard();
        let removed = store.map.remove_if(
            sampled.key(),
            |_, current| std::sync::Arc::ptr_eq(current, &sampled),
            &guard,
        );
        assert!(removed.is_err(), "the newer value must survive");
        drop(guard);
        pool.forget(index);
        drop(pool);
        assert_eq!(
            store.get(b"k", &store.guard()),
            Some(&b"a-newer-and-much-longer-value"[..])
        );
        assert_eq!(store.usage_bytes(), store.recount());
    }
}
