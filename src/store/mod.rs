//! The key-value store: a lock-free map of byte keys to byte values, with exact size
//! accounting and an access stamp per entry for eviction.
//!
//! # Size accounting
//! `used` changes only by amounts taken from what the map *returned*: charge the new
//! entry before `insert` publishes it, then discharge the entry `insert` replaced;
//! `remove`/`remove_if` discharge exactly what they removed. Never read-then-write: a
//! separate `get` of the old size races with a concurrent SET of the same key.
//! So `used` never underflows, never counts less than what is published while operations
//! race, and equals Σ(key + value bytes) of live entries whenever none is in flight.
//! [`Store::recount`] computes that sum for tests.
//!
//! # Access stamps
//! Each entry carries the millisecond (since the store was created) it was last read or
//! written. Reads store the stamp only when it changed, so a hot key costs one cache-line
//! write per millisecond at most, and there is no global counter on the read path.
//!
//! # Eviction
//! Eviction ([`evict`]) samples entries and removes only the exact entry it sampled, so
//! a concurrent newer SET of the same key survives and nothing is discharged twice.

pub mod evict;

use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Instant;

use crate::sync::{AtomicU32, AtomicU64, Guard, Map, Ordering};

/// A stored value and its eviction metadata.
#[derive(Debug)]
pub struct Entry {
    /// The value bytes, exactly as the client sent them.
    value: Box<[u8]>,
    /// Milliseconds since the store's epoch at the last access; eviction's recency score.
    stamp: AtomicU32,
}

impl Entry {
    /// The stored value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The last access time, in milliseconds since the store's epoch (wrapping).
    pub fn stamp(&self) -> u32 {
        // Ordering: Relaxed; the stamp is a heuristic and guards no other memory.
        self.stamp.load(Ordering::Relaxed)
    }

    fn touch(&self, now: u32) {
        // Ordering: Relaxed, as above. Skipping equal stores keeps hot keys' cache lines
        // shared between cores instead of bouncing on every read.
        if self.stamp.load(Ordering::Relaxed) != now {
            self.stamp.store(now, Ordering::Relaxed);
        }
    }
}

/// Why the store refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The entry alone is bigger than the whole memory limit; nothing is evicted for it.
    #[error("value too large for the memory limit ({max_bytes} bytes)")]
    LargerThanLimit {
        /// The store's memory limit.
        max_bytes: u64,
    },
}

/// The number of bytes an entry is charged: its key plus its value.
pub fn entry_size(key: &[u8], value: &[u8]) -> u64 {
    // usize → u64 is lossless on every supported target.
    (key.len() + value.len()) as u64
}

/// The cache: a concurrent map whose total key + value size is tracked exactly.
pub struct Store {
    /// The entries; papaya gives lock-free reads and writes and hands back what it replaced.
    map: Map<Box<[u8]>, Entry>,
    /// Σ(key + value bytes) of live entries, plus charges of inserts in flight.
    used: AtomicU64,
    /// The memory limit in bytes; the evictor keeps `used` at or below it.
    max_bytes: u64,
    /// The origin of access stamps.
    epoch: Instant,
    /// The evictor thread, woken by writers that push `used` over the limit.
    evictor: OnceLock<Thread>,
}

impl Store {
    /// An empty store that holds at most `max_bytes` of keys and values.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            map: Map::new(),
            used: AtomicU64::new(0),
            max_bytes,
            epoch: Instant::now(),
            evictor: OnceLock::new(),
        }
    }

    /// Pins the current thread so references returned by [`Store::get`] stay valid.
    /// Never hold a guard across an `.await`.
    pub fn guard(&self) -> Guard<'_> {
        self.map.guard()
    }

    /// The value stored under `key`, refreshing its access stamp.
    pub fn get<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<&'g [u8]> {
        let entry = self.map.get(key, guard)?;
        entry.touch(self.now_ms());
        Some(entry.value())
    }

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the entry could never fit under the limit.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let size = entry_size(key, value);
        if size > self.max_bytes {
            return Err(StoreError::LargerThanLimit {
                max_bytes: self.max_bytes,
            });
        }
        let entry = Entry {
            value: value.into(),
            stamp: AtomicU32::new(self.now_ms()),
        };
        // Charge before the entry becomes visible, so `used` never under-counts it.
        // Ordering: Relaxed; `used` is a counter, and nothing reads memory through it.
        let after = self.used.fetch_add(size, Ordering::Relaxed) + size;
        let guard = self.map.guard();
        if let Some(old) = self.map.insert(key.into(), entry, &guard) {
            // Discharge exactly what the map says it replaced (same key, old value).
            self.discharge(entry_size(key, old.value()));
        }
        if after > self.max_bytes {
            self.wake_evictor();
        }
        Ok(())
    }

    /// Removes `key`; `true` if it was present.
    pub fn delete(&self, key: &[u8]) -> bool {
        let guard = self.map.guard();
        match self.map.remove(key, &guard) {
            Some(old) => {
                self.discharge(entry_size(key, old.value()));
                true
            }
            None => false,
        }
    }

    /// Bytes of keys and values currently accounted.
    pub fn usage_bytes(&self) -> u64 {
        // Ordering: Relaxed; a snapshot of a counter.
        self.used.load(Ordering::Relaxed)
    }

    /// The memory limit in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Σ(key + value bytes) over live entries, by walking the map. For tests and checks:
    /// it equals [`Store::usage_bytes`] whenever no operation is in flight.
    pub fn recount(&self) -> u64 {
        let guard = self.map.guard();
        self.map
            .iter(&guard)
            .map(|(key, entry)| entry_size(key, entry.value()))
            .sum()
    }

    /// Registers the thread to unpark when a write pushes `used` over the limit.
    /// Only the first registration counts.
    pub fn set_evictor(&self, thread: Thread) {
        // A second evictor is ignored: one is enough, and the first is already running.
        let _ = self.evictor.set(thread);
    }

    /// The current access time in milliseconds since the store's epoch. Wraps after 49
    /// days; eviction compares ages with wrapping arithmetic.
    pub fn now_ms(&self) -> u32 {
        // Truncation is the intended wrap-around.
        self.epoch.elapsed().as_millis() as u32
    }

    fn discharge(&self, size: u64) {
        // Ordering: Relaxed, as in `set`. It cannot underflow: every discharged amount
        // was charged earlier, when the entry the map handed back was inserted.
        self.used.fetch_sub(size, Ordering::Relaxed);
    }

    fn wake_evictor(&self) {
        if let Some(thread) = self.evictor.get() {
            thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_account_exactly() {
        let store = Store::new(1024);
        store.set(b"user", b"alice").unwrap();
        assert_eq!(store.usage_bytes(), 9);
        assert_eq!(store.get(b"user", &store.guard()), Some(&b"alice"[..]));
        store.set(b"user", b"al").unwrap();
        assert_eq!(store.usage_bytes(), 6);
        assert!(store.delete(b"user"));
        assert!(!store.delete(b"user"));
        assert_eq!(store.usage_bytes(), 0);
        assert_eq!(store.get(b"user", &store.guard()), None);
    }

    #[test]
    fn entry_larger_than_limit_is_refused_and_not_charged() {
        let store = Store::new(8);
        assert_eq!(
            store.set(b"key", b"123456"),
            Err(StoreError::LargerThanLimit { max_bytes: 8 })
        );
        assert_eq!(store.usage_bytes(), 0);
        store.set(b"key", b"12345").unwrap();
        assert_eq!(store.usage_bytes(), 8);
    }

    #[test]
    fn concurrent_sets_and_deletes_of_few_keys_keep_usage_exact() {
        let store = std::sync::Arc::new(Store::new(u64::MAX));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000usize {
                        let key = [b'k', (i % 3) as u8];
                        match (i + t) % 3 {
                            0 | 1 => store.set(&key, &vec![b'x'; (i * 7 + t) % 50]).unwrap(),
                            _ => {
                                store.delete(&key);
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(store.usage_bytes(), store.recount());
    }
}
