//! Time to live: the clock expiry times are read against, and active expiry, which finds
//! expired keys nobody reads and removes them, as Redis's `activeExpireCycle` does.
//!
//! Keys expire lazily, when a command touches them, and actively: the evictor thread
//! draws random keys among those with an expiry (a second [`super::sampler::Sampler`],
//! fed when an entry gains an expiry) and removes the expired ones, sample after sample
//! while more than a quarter of a sample was expired, within a time budget. A removal
//! goes through `remove_if` on the exact entry drawn, so it follows the same accounting
//! rules as eviction and DEL.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrayvec::ArrayVec;

use super::entry::ByHash;
use super::sampler::Pool;
use super::Store;
use crate::sync::Ordering;

/// Keys drawn per sample, as Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
const KEYS_PER_SAMPLE: usize = 20;

/// Another sample follows while more than one in this many of the last one had expired,
/// as in Redis's cycle at its default effort.
const REPEAT_ABOVE_ONE_IN: usize = 4;

/// The most time one cycle takes, so eviction and maintenance are never held up long.
const CYCLE_BUDGET: Duration = Duration::from_millis(25);

/// The time expiry is measured against: the system clock, or a manual one for tests and
/// models.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// Unix time from the operating system.
    #[default]
    System,
    /// A time that moves only when set.
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// A manual clock reading `now_ms`.
    pub fn manual(now_ms: u64) -> Self {
        Self::Manual(Arc::new(AtomicU64::new(now_ms)))
    }

    /// Moves a manual clock to `now_ms`; a system clock ignores it.
    pub fn set(&self, now_ms: u64) {
        if let Self::Manual(now) = self {
            // Ordering: Relaxed; tests set the time before the operations that read it.
            now.store(now_ms, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(&self) -> u64 {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                // Milliseconds since 1970 fit in 64 bits for 584 million years.
                .map_or(0, |since| since.as_millis() as u64),
            Self::Manual(now) => now.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// What one active expiry cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireOutcome {
    /// Keys drawn.
    pub sampled: usize,
    /// Expired keys removed.
    pub expired: usize,
}

/// Removes expired keys among random keys with an expiry, sample after sample while
/// more than a quarter of the last sample had expired, for at most [`CYCLE_BUDGET`].
pub fn expire_cycle(store: &Store, pool: &mut Pool) -> ExpireOutcome {
    let started = Instant::now();
    let mut outcome = ExpireOutcome::default();
    let guard = store.map.guard();
    // A drawn hash counts as live only while its key still has an expiry.
    let find = |hash| {
        store
            .map
            .get_key_value(&ByHash(hash), &guard)
            .filter(|(_, meta)| meta.expires())
            .map(|(entry, _)| entry)
    };
    // Ordering: Relaxed; a statistic, only used to size the pool's sweeps.
    let volatile = store.volatile.load(Ordering::Relaxed);
    pool.refresh(usize::try_from(volatile).unwrap_or(usize::MAX), |hash| {
        find(hash).is_some()
    });
    let mut sample = ArrayVec::<_, KEYS_PER_SAMPLE>::new();
    loop {
        // A pool smaller than a sample is drawn once per key it holds: drawing with
        // replacement more often than that only finds the same keys again.
        pool.draw(KEYS_PER_SAMPLE.min(pool.len()), &find, &mut sample);
        if sample.is_empty() {
            break;
        }
        outcome.sampled += sample.len();
        let now_ms = store.unix_ms();
        let mut expired = 0;
        for &(index, _, entry) in &sample {
            if entry.is_expired(now_ms) && store.remove_exact(entry, &guard).is_some() {
                expired += 1;
                pool.discard(index);
            }
        }
        pool.forget_discarded();
        outcome.expired += expired;
        if expired * REPEAT_ABOVE_ONE_IN <= sample.len() || started.elapsed() > CYCLE_BUDGET {
            break;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::update::{ExpiryChange, SetOptions};
    use crate::store::StoreConfig;

    #[test]
    fn a_cycle_removes_expired_keys_nobody_reads() {
        let clock = Clock::manual(1_000);
        let store = Store::with_clock(StoreConfig::new(1 << 30), clock.clone());
        let guard = store.guard();
        let ttl = |at| SetOptions {
            expiry: ExpiryChange::At(at),
            ..SetOptions::default()
        };
        for i in 0..1_000 {
            let at = if i % 2 == 0 { 1_500 } else { 10_000 };
            store
                .set_with(format!("k{i}").as_bytes(), b"v", ttl(at), &guard)
                .unwrap();
        }
        for i in 0..1_000 {
            store.set(format!("p{i}").as_bytes(), b"v").unwrap();
        }
        drop(guard);
        assert_eq!(store.volatile_count(), 1_000);
        assert_eq!(store.expire_expired().expired, 0, "nothing is due yet");
        clock.set(2_000);
        let mut removed = 0;
        let mut cycles = 0;
        while removed < 500 && cycles < 10_000 {
            removed += store.expire_expired().expired;
            cycles += 1;
        }
        assert_eq!(removed, 500, "every expired key, in {cycles} cycles");
        assert_eq!(store.expire_expired().expired, 0, "and only those");
        assert_eq!(store.len(), 1_500);
        assert_eq!(store.volatile_count(), 500);
        assert_eq!(store.stats().expired, 500);
        assert_eq!(store.usage_bytes(), store.recount());
    }
}
