//! Sampled eviction: draw random live entries from the sampler, remove the one the policy
//! scores lowest in each sample, until the store is back under a target. Synchronous, so
//! the evictor thread, a writer above the hard cap, a simulation and a model checker can
//! all drive it.
//!
//! Identity: a victim is removed with `remove_if` comparing the map's entry to the
//! sampled one by address. The pass holds a guard from the draw to the removal, so that
//! address cannot be freed and reused meanwhile: a concurrent SET of the same key installs
//! a new entry that `remove_if` leaves alone, and only the thread whose removal succeeds
//! discharges the size.

use std::cmp::Reverse;

use arrayvec::ArrayVec;

use super::entry::{ByHash, Lookup};
use super::sampler::Pool;
use super::{Entry, Meta, Store};

/// Entries per sample by default, like Redis's `maxmemory-samples`.
pub const DEFAULT_SAMPLES: usize = 5;

/// The most entries one sample may hold; more only costs time. Samples live on the stack.
pub const MAX_SAMPLES: usize = 64;

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

/// Evicts until the entries' charge is at most `target_bytes`, at most `max_evictions` entries, or until the pool
/// yields nothing evictable.
pub fn evict_once(
    store: &Store,
    pool: &mut Pool,
    target_bytes: u64,
    max_evictions: usize,
) -> EvictOutcome {
    let mut outcome = EvictOutcome::default();
    // Guards are held briefly: papaya frees no removed entry while any thread that was
    // pinned when it was removed stays pinned, so an evictor descheduled while pinned
    // (it runs at a low priority) would hold back megabytes of dead entries.
    pool.refresh(store.len(), |hash| {
        store.map.get(&ByHash(hash), &store.map.guard()).is_some()
    });
    let mut fruitless = 0;
    while store.used_bytes() > target_bytes
        && outcome.evicted < max_evictions
        && fruitless < MAX_FRUITLESS_SAMPLES
    {
        // One guard per sample, from the draw to the removal: the victim is removed by
        // address, which the guard keeps from being freed and reused meanwhile.
        let guard = store.map.guard();
        let find = |hash| store.map.get_key_value(&ByHash(hash), &guard);
        let mut sample = ArrayVec::<_, MAX_SAMPLES>::new();
        let now = store.now_ms();
        pool.draw(store.samples(), &find, &mut sample);
        outcome.sampled += sample.len();
        let Some(&(index, hash, (victim, victim_meta))) = choose(store, &sample, now) else {
            break;
        };
        let expired = victim_meta.expires() && victim.is_expired(store.unix_ms());
        let key = Lookup {
            hash,
            key: victim.key(),
        };
        let removed = store
            .map
            .remove_if(&key, |entry, _| std::ptr::eq(entry, victim), &guard);
        // Err or Ok(None): the sampled entry was replaced or deleted meanwhile, and the
        // thread that did it has discharged it. A replaced key stays in the pool: it is
        // registered again only if it was absent in between.
        match removed {
            Ok(Some((entry, meta))) => {
                store.forget_removed(entry, meta, &guard);
                if !expired {
                    store.stats.evicted.add(1);
                }
                outcome.evicted += 1;
                outcome.freed_bytes += meta.charge();
                pool.forget(index);
            }
            Ok(None) => {
                fruitless += 1;
                pool.forget(index);
            }
            Err(_) => fruitless += 1,
        }
    }
    if outcome.evicted > 0 {
        tracing::trace!(evicted = outcome.evicted, "evicted");
    }
    outcome
}

/// A sampled entry: its index in the pool, its key's hash, and the entry under a guard.
type Candidate<'g> = (usize, u64, (&'g Entry, &'g Meta));

/// The sample member to evict.
fn choose<'s, 'g>(
    store: &Store,
    sample: &'s [Candidate<'g>],
    now: u32,
) -> Option<&'s Candidate<'g>> {
    // An expired entry goes first: it is dead already.
    if sample.iter().any(|(_, _, (_, meta))| meta.expires()) {
        let unix_ms = store.unix_ms();
        if let Some(expired) = sample
            .iter()
            .find(|(_, _, (entry, meta))| meta.expires() && entry.is_expired(unix_ms))
        {
            return Some(expired);
        }
    }
    // Age as a signed distance, so an entry touched after `now` counts as youngest.
    let age = |meta: &Meta| now.wrapping_sub(meta.stamp()) as i32;
    match store.policy() {
        EvictionPolicy::Lru => sample.iter().max_by_key(|(_, _, (_, meta))| age(meta)),
        EvictionPolicy::TinyLfu => sample
            .iter()
            .min_by_key(|(_, hash, (_, meta))| (store.frequency(*hash), Reverse(age(meta)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::footprint::entry_charge;
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

    /// `store` with its limit lowered to its shared structures plus `entry_bytes`.
    fn with_entry_budget(store: Store, entry_bytes: u64) -> Store {
        store.refresh_structures();
        store.set_max_bytes(store.structure_bytes() + entry_bytes);
        store
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
            let store = store(u64::MAX, policy);
            fill(&store, 200, 100);
            let store = with_entry_budget(store, 50 * entry_charge(108, false));
            let outcome = store.evict_to_limit();
            assert!(store.charged_bytes() <= store.max_bytes());
            assert_eq!(store.usage_bytes(), store.recount());
            assert_eq!(store.used_bytes(), store.recount_charged());
            assert_eq!(outcome.evicted, 200 - store.len());
            assert!(
                store.len() >= 49,
                "{policy:?} evicted far more than needed: {}",
                store.len()
            );
        }
    }

    #[test]
    fn the_evictor_leaves_headroom_below_the_limit() {
        let store = store(u64::MAX, EvictionPolicy::Lru);
        fill(&store, 4_000, 100);
        let budget = 2_000 * entry_charge(108, false);
        let headroom = budget / crate::store::EVICTOR_HEADROOM_FRACTION;
        let store = with_entry_budget(store, budget);
        store.evict_to_limit();
        let exact = store.used_bytes();
        assert!(exact <= budget);
        assert!(
            exact > budget - headroom,
            "evicting to the limit went past the headroom: {exact} of {budget}"
        );
        store.evict_with_headroom();
        assert!(
            store.used_bytes() <= budget - headroom,
            "{} of {budget} left: no headroom",
            store.used_bytes()
        );
        assert!(store.len() >= 1_980, "evicted far more than the headroom");
        assert_eq!(store.used_bytes(), store.recount_charged());
    }

    #[test]
    fn lru_prefers_entries_not_accessed_recently() {
        let store = store(u64::MAX, EvictionPolicy::Lru);
        fill(&store, 1000, 10);
        // Let the millisecond clock move, then read the first half so it is more recent.
        std::thread::sleep(std::time::Duration::from_millis(5));
        store.tick(std::time::Instant::now());
        for i in 0..500 {
            store
                .get(format!("key{i:05}").as_bytes(), &store.guard())
                .unwrap();
        }
        let half = store.used_bytes() / 2;
        let store = with_entry_budget(store, half);
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
        let quarter = store.used_bytes() / 4;
        let store = with_entry_budget(store, quarter);
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
        let store = store(1 << 20, EvictionPolicy::Lru);
        store.set(b"k", b"old-value").unwrap();
        let guard = store.guard();
        let (sampled, _) = store.map.get_key_value(&Lookup::new(b"k"), &guard).unwrap();
        // A newer SET of the same key lands after the sample was drawn.
        store.set(b"k", b"a-newer-and-much-longer-value").unwrap();
        let removed = store.map.remove_if(
            &Lookup::new(b"k"),
            |entry, _| std::ptr::eq(entry, sampled),
            &guard,
        );
        assert!(removed.is_err(), "the newer value must survive");
        assert_eq!(
            store.get(b"k", &guard),
            Some(&b"a-newer-and-much-longer-value"[..])
        );
        assert_eq!(store.usage_bytes(), store.recount());
    }

    #[test]
    fn a_key_deleted_and_written_again_stays_evictable() {
        let store = store(1 << 20, EvictionPolicy::Lru);
        for _ in 0..3 {
            store.set(b"k", b"value").unwrap();
            store.delete(b"k");
        }
        store.set(b"k", b"value").unwrap();
        let store = with_entry_budget(store, 0);
        assert_eq!(store.evict_to_limit().evicted, 1);
        assert!(store.is_empty());
        assert_eq!(store.usage_bytes(), 0);
    }
}
