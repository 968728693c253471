//! Uniform random sampling of live entries in O(1) expected time, which papaya cannot do
//! (it has no random access, and its iterator always starts at the first slot).
//!
//! Writers hand the hash of each new key to the sampler through its [`intake`], a lock-free
//! array (`register`), and never wait for it. Whoever evicts (the evictor thread, or a
//! writer helping above the hard cap) locks the [`Pool`], drains the intake into a dense
//! vector, draws random indexes from it, and looks each drawn hash up in the map. The pool
//! holds hashes, not references: it never keeps an entry's memory alive. A hash whose key
//! is gone is dropped when a draw meets it, and the whole vector is swept (dead hashes
//! dropped, duplicates of keys deleted and written again merged) once it outgrows the live
//! entries by an eighth. So a draw needs under 1.13 tries on average, and the pool costs 8
//! bytes per live entry plus at most 1 for the slack: under 16 bytes per entry, amortised
//! O(1) work per registration. The intake holds a hash only until the next drain (8 bytes a
//! slot, see [`intake`]).

#[path = "intake.rs"]
pub mod intake;

use arrayvec::ArrayVec;
use rand::rngs::SmallRng;
use rand::RngExt;

use self::intake::{Drainer, Intake};
use crate::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// How many random indexes one draw tries before deciding the pool is (nearly) all dead.
const MAX_TRIES: usize = 64;

/// Dead hashes tolerated beyond this many before a sweep, so small pools are not swept
/// over and over.
const SWEEP_SLACK: usize = 1024;

/// The sampling index: an intake of new keys' hashes, and the pool that draws from them.
pub struct Sampler {
    /// Where writers leave the hashes of new keys; lock-free, never blocks.
    intake: Arc<Intake>,
    /// The dense vector and its random source, used by one evicting thread at a time.
    pool: Mutex<Pool>,
}

/// The hashes a sampler draws from.
pub struct Pool {
    /// The intake's collecting end: hashes of new keys not yet in `hashes`.
    intake: Drainer,
    /// The hash of every key registered that might still be live.
    hashes: Vec<u64>,
    /// Drawing randomness; private to the pool, so no lock or thread-local is needed.
    rng: SmallRng,
    /// Indexes of dead hashes met while drawing, removed by the next `forget`.
    dead: Vec<usize>,
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    /// An empty sampler.
    pub fn new() -> Self {
        let intake = Arc::new(Intake::new());
        Self {
            pool: Mutex::new(Pool {
                intake: Drainer::new(Arc::clone(&intake)),
                hashes: Vec::new(),
                rng: crate::sync::sampling_rng(),
                dead: Vec::new(),
            }),
            intake,
        }
    }

    /// Makes the key with this hash eligible for sampling. Never blocks.
    pub fn register(&self, hash: u64) {
        self.intake.register(hash);
    }

    /// The pool, if no other thread is evicting right now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, Pool>> {
        match self.pool.try_lock() {
            Ok(pool) => Some(pool),
            // Poisoned is still usable; see `lock`.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Locks the pool for one eviction pass.
    pub fn lock(&self) -> MutexGuard<'_, Pool> {
        // A panic while sampling leaves the pool consistent (at worst holding dead
        // hashes), so a poisoned lock is still usable.
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Pool {
    /// Moves the hashes registered so far into the pool (one whose writer is still
    /// mid-register comes with the next refresh), and sweeps the pool once it holds an
    /// eighth more hashes than `live`, the number of entries in the map: hashes for which
    /// `is_live` is false are dropped, and duplicates merged.
    pub fn refresh(&mut self, live: usize, is_live: impl Fn(u64) -> bool) {
        // Grow by an eighth at a time rather than doubling, so the spare capacity costs
        // about a byte per entry, not up to eight.
        let len = self.hashes.len();
        if self.hashes.capacity() - len < len / 16 + SWEEP_SLACK {
            self.hashes.reserve_exact(len / 8 + SWEEP_SLACK);
        }
        self.intake.drain(&mut self.hashes);
        if self.hashes.len() > live + live / 8 + SWEEP_SLACK {
            self.hashes.retain(|&hash| is_live(hash));
            self.hashes.sort_unstable();
            self.hashes.dedup();
        }
    }

    /// Draws up to `size` live entries (at most `N`) uniformly at random, with
    /// replacement, into `sample`, as `(index, hash, found)`; `find` looks a hash up, and
    /// `None` marks it dead. `sample` is empty afterwards if the pool has no live entries.
    pub fn draw<T, const N: usize>(
        &mut self,
        size: usize,
        mut find: impl FnMut(u64) -> Option<T>,
        sample: &mut ArrayVec<(usize, u64, T), N>,
    ) {
        sample.clear();
        let size = size.min(N);
        let mut tries = 0;
        while sample.len() < size && tries < MAX_TRIES * size && !self.hashes.is_empty() {
            tries += 1;
            let index = self.rng.random_range(0..self.hashes.len());
            let hash = self.hashes[index];
            match find(hash) {
                Some(found) => sample.push((index, hash, found)),
                // Removed by the next `forget`, so indexes already drawn stay valid.
                None => self.dead.push(index),
            }
        }
    }

    /// Forgets the hash at `index` of the last sample (its entry was evicted, or is no
    /// longer in the map), and the dead hashes the last draw met.
    pub fn forget(&mut self, index: usize) {
        self.discard(index);
        self.forget_discarded();
    }

    /// Marks the hash at `index` of the last sample for removal by the next
    /// [`Pool::forget_discarded`]; indexes of the sample stay valid until then.
    pub fn discard(&mut self, index: usize) {
        self.dead.push(index);
    }

    /// Forgets the hashes discarded since the last sample, and the dead ones it met.
    pub fn forget_discarded(&mut self) {
        self.dead.sort_unstable_by(|a, b| b.cmp(a));
        self.dead.dedup();
        // Descending order: each swap_remove moves the last element into a larger index
        // than any still to be removed.
        for index in self.dead.drain(..) {
            if index < self.hashes.len() {
                self.hashes.swap_remove(index);
            }
        }
    }

    /// Hashes in the pool, dead or alive.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the pool holds no hashes.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn pool_of<'s>(sampler: &'s Sampler, live: &HashSet<u64>) -> MutexGuard<'s, Pool> {
        let mut pool = sampler.lock();
        pool.refresh(live.len(), |hash| live.contains(&hash));
        pool
    }

    #[test]
    fn draws_are_close_to_uniform_and_skip_dead_entries() {
        let sampler = Sampler::new();
        let live: HashSet<u64> = (0..10).collect();
        for hash in 0..40 {
            sampler.register(hash);
        }
        let mut pool = pool_of(&sampler, &live);
        assert_eq!(pool.len(), 40);
        let mut counts = [0usize; 10];
        let mut sample = ArrayVec::<_, 4>::new();
        for _ in 0..20_000 {
            pool.draw(1, |hash| live.contains(&hash).then_some(()), &mut sample);
            counts[sample[0].1 as usize] += 1;
        }
        for count in counts {
            assert!((1_700..2_300).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn forgetting_keeps_the_other_entries_and_drops_dead_ones() {
        let sampler = Sampler::new();
        let mut live: HashSet<u64> = (0..5).collect();
        for hash in 0..5 {
            sampler.register(hash);
        }
        let mut pool = pool_of(&sampler, &live);
        let mut sample = ArrayVec::<_, 4>::new();
        pool.draw(1, |hash| live.contains(&hash).then_some(()), &mut sample);
        let (index, victim, ()) = sample[0];
        live.remove(&victim);
        pool.forget(index);
        assert_eq!(pool.len(), 4);
        for _ in 0..100 {
            pool.draw(3, |hash| live.contains(&hash).then_some(()), &mut sample);
            assert_eq!(sample.len(), 3);
            assert!(sample.iter().all(|&(_, hash, ())| hash != victim));
        }
        live.clear();
        pool.draw(1, |hash| live.contains(&hash).then_some(()), &mut sample);
        assert!(sample.is_empty(), "all dead");
        pool.forget(usize::MAX);
        assert!(pool.is_empty());
    }

    #[test]
    fn refresh_sweeps_dead_and_duplicate_hashes() {
        let sampler = Sampler::new();
        for hash in 0..5_000 {
            sampler.register(hash);
        }
        // A key deleted and written again is registered twice.
        for _ in 0..3 {
            sampler.register(7);
        }
        let live: HashSet<u64> = [7].into();
        let pool = pool_of(&sampler, &live);
        assert_eq!(pool.hashes, vec![7]);
    }
}
