//! Uniform random sampling of live entries in O(1) expected time, which papaya cannot do
//! (it has no random access, and its iterator always starts at the first slot).
//!
//! Writers hand each new entry to the sampler through a lock-free queue (`register`), and
//! never wait for it. Whoever evicts (the evictor thread, or a writer helping above the hard
//! cap) locks the [`Pool`], moves the queued entries into a dense vector, and draws random
//! indexes from it. The vector holds `Weak` references: it never keeps a value alive, so
//! a value's bytes are freed as soon as the map lets its entry go; only the entry's
//! 40-byte `Arc` header waits for the reference to be dropped. Dead references are dropped
//! when a draw meets them, and the whole vector is swept once they outnumber an eighth of
//! the live entries. So a draw needs under 1.13 tries on average, and the pool costs 8
//! bytes per live entry plus at most 6 more for dead references (8 bytes) and their
//! headers (40) per eight live entries: under 16 bytes per entry, amortised O(1) work.

use std::sync::{Arc, Weak};

use rand::rngs::SmallRng;
use rand::RngExt;

use crate::sync::mpsc::{self, Receiver, Sender};
use crate::sync::{Mutex, MutexGuard, TryLockError};

use super::Entry;

/// How many random indexes one draw tries before deciding the pool is (nearly) all dead.
const MAX_TRIES: usize = 64;

/// Dead references tolerated beyond this many before a sweep, so small pools are not
/// swept over and over.
const SWEEP_SLACK: usize = 1024;

/// The sampling index: a queue of new entries, and the pool that draws from them.
pub struct Sampler {
    /// Where writers drop new entries; lock-free, never blocks.
    incoming: Sender<Weak<Entry>>,
    /// The dense vector and its random source, used by one evicting thread at a time.
    pool: Mutex<Pool>,
}

/// The entries a sampler draws from, with the scratch space of one sample.
pub struct Pool {
    /// New entries not yet in `entries`.
    incoming: Receiver<Weak<Entry>>,
    /// Every registered entry that might still be live.
    entries: Vec<Weak<Entry>>,
    /// Drawing randomness; private to the pool, so no lock or thread-local is needed.
    rng: SmallRng,
    /// The current sample: indexes into `entries` and the entries themselves.
    sample: Vec<(usize, Arc<Entry>)>,
    /// Indexes of dead references met while drawing, removed after the sample is used.
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
        let (incoming, receiver) = mpsc::channel();
        Self {
            incoming,
            pool: Mutex::new(Pool {
                incoming: receiver,
                entries: Vec::new(),
                rng: crate::sync::sampling_rng(),
                sample: Vec::new(),
                dead: Vec::new(),
            }),
        }
    }

    /// Makes `entry` eligible for sampling. Never blocks.
    pub fn register(&self, entry: &Arc<Entry>) {
        // The receiver lives in `self.pool`, so the channel cannot be disconnected.
        let _ = self.incoming.send(Arc::downgrade(entry));
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
        // references), so a poisoned lock is still usable.
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Pool {
    /// Moves queued entries into the pool, and sweeps out dead references once they
    /// outnumber an eighth of the live entries. `live` is the number of entries in the map.
    pub fn refresh(&mut self, live: usize) {
        while let Ok(entry) = self.incoming.try_recv() {
            self.entries.push(entry);
        }
        if self.entries.len() > live + live / 8 + SWEEP_SLACK {
            self.entries.retain(|entry| entry.strong_count() > 0);
        }
    }

    /// Draws `size` live entries uniformly at random (with replacement) into the
    /// sample, and returns it; empty if the pool has none.
    pub fn draw(&mut self, size: usize) -> &[(usize, Arc<Entry>)] {
        self.sample.clear();
        let mut tries = 0;
        while self.sample.len() < size && tries < MAX_TRIES * size && !self.entries.is_empty() {
            tries += 1;
            let index = self.rng.random_range(0..self.entries.len());
            match self.entries[index].upgrade() {
                Some(entry) => self.sample.push((index, entry)),
                None => {
                    // Replace in place, so indexes already drawn stay valid; removed below.
                    self.entries[index] = Weak::new();
                    self.dead.push(index);
                }
            }
        }
        &self.sample
    }

    /// Forgets the entry at `index` of the last sample (it was evicted, or found no longer
    /// in the map), and the dead references the draw met.
    pub fn forget(&mut self, index: usize) {
        self.dead.push(index);
        self.sample.clear();
        self.dead.sort_unstable_by(|a, b| b.cmp(a));
        self.dead.dedup();
        // Descending order: each swap_remove moves the last element into a larger index
        // than any still to be removed.
        for index in self.dead.drain(..) {
            if index < self.entries.len() {
                self.entries.swap_remove(index);
            }
        }
    }

    /// Entries in the pool, dead or alive.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Arc<Entry> {
        Arc::new(Entry::new(key.as_bytes(), b"v", 0))
    }

    #[test]
    fn draws_are_close_to_uniform_and_skip_dead_entries() {
        let sampler = Sampler::new();
        let live: Vec<_> = (0..10).map(|i| entry(&format!("k{i}"))).collect();
        for e in &live {
            sampler.register(e);
        }
        for i in 0..30 {
            sampler.register(&entry(&format!("dead{i}")));
        }
        let mut pool = sampler.lock();
        pool.refresh(10);
        assert_eq!(pool.len(), 40);
        let mut counts = [0usize; 10];
        for _ in 0..20_000 {
            let drawn = pool.draw(1)[0].1.clone();
            let k: usize = std::str::from_utf8(&drawn.key()[1..])
                .unwrap()
                .parse()
                .unwrap();
            counts[k] += 1;
        }
        for count in counts {
            assert!((1_700..2_300).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn forgetting_keeps_the_other_entries_and_sweeps_dead_ones() {
        let sampler = Sampler::new();
        let live: Vec<_> = (0..5).map(|i| entry(&format!("k{i}"))).collect();
        for e in &live {
            sampler.register(e);
        }
        let mut pool = sampler.lock();
        pool.refresh(5);
        let (index, victim) = pool.draw(1)[0].clone();
        pool.forget(index);
        assert_eq!(pool.len(), 4);
        for _ in 0..100 {
            let drawn = pool.draw(3).to_vec();
            assert_eq!(drawn.len(), 3);
            assert!(drawn.iter().all(|(_, e)| !Arc::ptr_eq(e, &victim)));
            pool.sample.clear();
        }
        drop(live);
        assert!(pool.draw(1).is_empty(), "all dead");
        pool.forget(usize::MAX);
        assert!(pool.is_empty());
    }

    #[test]
    fn refresh_sweeps_a_mostly_dead_pool() {
        let sampler = Sampler::new();
        for i in 0..5_000 {
            sampler.register(&entry(&format!("gone{i}")));
        }
        let kept = entry("kept");
        sampler.register(&kept);
        let mut pool = sampler.lock();
        pool.refresh(1);
        assert_eq!(pool.len(), 1);
    }
}
