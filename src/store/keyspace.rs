//! Commands that move values between keys (RENAME, COPY), put a value back (RESTORE),
//! draw a random key, or read an entry's eviction figures (OBJECT, MEMORY USAGE).
//!
//! # Two keys, one map
//! The map has no transaction across keys, so a move takes two steps, each a single-key
//! operation of [`Store::modify`]'s kind: RENAME first removes exactly the source entry it
//! read (reading again if another write got there first), then writes the destination
//! from that entry, which the caller's guard keeps readable. In between, neither key
//! holds the value; no reader ever sees it under both, and a write to the source that
//! lands meanwhile is never undone. If the destination cannot be written (RENAMENX finds
//! it taken after all, or the memory limit refuses it) the source is put back unless
//! something newer took its place. (Commands run these under the store's exclusive
//! [`isolation`](super::isolation), so clients never see the middle; the steps stay
//! safe without it, for eviction and expiry, which do not take it.)
//!
//! # Accounting
//! Every step is an insert or a removal the store already accounts for ([`Store::modify`],
//! `remove_exact`): the destination is charged before it becomes visible and the source
//! discharged from what the map removed, so `used` stays exact whatever races.

use arrayvec::ArrayVec;
use rand::RngExt as _;

use super::entry::{ByHash, Lookup, Value};
use super::evict::EvictionPolicy;
use super::update::Plan;
use super::{key_hash, Entry, Meta, Store, StoreError};
use crate::sync::Guard;

/// Draws from the sampler before RANDOMKEY falls back to walking the map.
const RANDOM_DRAWS: usize = 16;

/// What a RENAME, COPY or RESTORE did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// The source key does not exist.
    NoSource,
    /// The destination exists and was to be kept; nothing changed.
    Blocked,
    /// The destination holds the value now.
    Done,
}

/// How a restored entry looks to eviction (RESTORE's IDLETIME and FREQ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// Milliseconds since its last access, under the LRU policy.
    pub idle_ms: Option<u64>,
    /// Reads to count for it in the frequency sketch, under TinyLFU (up to 15).
    pub reads: Option<u8>,
}

impl Store {
    /// The key's live entry and its eviction metadata, without counting an access; an
    /// expired entry found on the way is removed.
    pub fn lookup_meta<'g>(
        &self,
        key: &[u8],
        guard: &'g Guard<'_>,
    ) -> Option<(&'g Entry, &'g Meta)> {
        let (entry, meta) = self.map.get_key_value(&Lookup::new(key), guard)?;
        if meta.expires() && entry.is_expired(self.unix_ms()) {
            self.remove_expired(entry, guard);
            return None;
        }
        Some((entry, meta))
    }

    /// Milliseconds since the entry was last read or written, by its access stamp.
    pub fn idle_ms(&self, meta: &Meta) -> u64 {
        // Stamps wrap every 49 days: a signed distance, and a stamp set after `now`
        // (by a racing access) is no time ago.
        let age = self.now_ms().wrapping_sub(meta.stamp()) as i32;
        u64::try_from(age).unwrap_or(0)
    }

    /// A live key drawn at random (nearly uniformly, from the eviction sampler), or `None`
    /// if the store is empty. Not an access.
    pub fn random_key<'g>(&self, guard: &'g Guard<'_>) -> Option<&'g [u8]> {
        // The evictor may hold the sampler; then walk instead of waiting for it.
        if let Some(mut pool) = self.sampler.try_lock() {
            pool.refresh(self.len(), |hash| {
                self.map.get(&ByHash(hash), guard).is_some()
            });
            let mut sample = ArrayVec::<_, 1>::new();
            for _ in 0..RANDOM_DRAWS {
                pool.draw(
                    1,
                    |hash| self.map.get_key_value(&ByHash(hash), guard),
                    &mut sample,
                );
                pool.forget_discarded();
                let Some(&(_, _, (entry, meta))) = sample.first() else {
                    break;
                };
                if !(meta.expires() && entry.is_expired(self.unix_ms())) {
                    return Some(entry.key());
                }
                self.remove_expired(entry, guard);
            }
        }
        self.random_key_by_walking(guard)
    }

    /// A live key at a random position of the map's order: O(n), for when the sampler is
    /// busy or holds only keys that have gone.
    fn random_key_by_walking<'g>(&self, guard: &'g Guard<'_>) -> Option<&'g [u8]> {
        let now_ms = self.unix_ms();
        let live = || {
            self.map
                .iter(guard)
                .filter(move |(entry, meta)| !(meta.expires() && entry.is_expired(now_ms)))
                .map(|(entry, _)| entry.key())
        };
        let skip = crate::sync::sampling_rng().random_range(0..self.len().max(1));
        live().nth(skip).or_else(|| live().next())
    }

    /// Moves the value of `from`, with its expiry and flags (and a new CAS unique), to `to` (RENAME; RENAMENX unless
    /// `replace`). See the module's notes for the two steps.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the destination could never fit; the source is
    /// then put back.
    pub fn rename(
        &self,
        from: &[u8],
        to: &[u8],
        replace: bool,
        guard: &Guard<'_>,
    ) -> Result<Transfer, StoreError> {
        loop {
            let Some(source) = self.lookup(from, guard) else {
                return Ok(Transfer::NoSource);
            };
            if from == to {
                return Ok(if replace {
                    Transfer::Done
                } else {
                    Transfer::Blocked
                });
            }
            if !replace && self.lookup(to, guard).is_some() {
                return Ok(Transfer::Blocked);
            }
            if self.remove_exact(source, guard).is_none() {
                // Changed or removed since it was read: read it again.
                continue;
            }
            let written = self.write_from(to, source, replace, guard);
            if !matches!(written, Ok(true)) {
                // Only if nothing newer took the source's place. It fitted before, so
                // it fits again (at worst after helping to evict).
                let _ = self.write_from(from, source, false, guard);
            }
            return written.map(|done| {
                if done {
                    Transfer::Done
                } else {
                    Transfer::Blocked
                }
            });
        }
    }

    /// Copies the value of `from`, with its expiry and flags (and a new CAS unique), to `to`, replacing what `to` holds only
    /// if `replace` (COPY). `from` and `to` differ.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the copy could never fit.
    pub fn copy(
        &self,
        from: &[u8],
        to: &[u8],
        replace: bool,
        guard: &Guard<'_>,
    ) -> Result<Transfer, StoreError> {
        let Some(source) = self.lookup(from, guard) else {
            return Ok(Transfer::NoSource);
        };
        Ok(if self.write_from(to, source, replace, guard)? {
            Transfer::Done
        } else {
            Transfer::Blocked
        })
    }

    /// Stores `value` under `key` with an expiry (RESTORE), unless the key exists and
    /// `replace` is off. An expiry already past stores nothing (and with `replace`,
    /// removes the key), as Redis does. `access` sets how eviction sees the new entry.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the entry could never fit.
    pub fn restore(
        &self,
        key: &[u8],
        (value, expires_at_ms): (&[u8], Option<u64>),
        replace: bool,
        access: Access,
        guard: &Guard<'_>,
    ) -> Result<Transfer, StoreError> {
        let now_ms = self.unix_ms();
        let done = self.modify(key, guard, |live| match live {
            Some(_) if !replace => (Plan::Keep, Transfer::Blocked),
            _ if expires_at_ms.is_some_and(|at| at <= now_ms) => (Plan::Remove, Transfer::Done),
            _ => (
                // DUMP's payload carries no client flags: a restored value has none.
                Plan::Write {
                    value: Value::Bytes(value),
                    expires_at_ms,
                    flags: 0,
                    cas: self.next_cas(),
                },
                Transfer::Done,
            ),
        })?;
        if done == Transfer::Done {
            self.set_access(key, access, guard);
        }
        Ok(done)
    }

    /// Makes the key's entry look idle, or frequently read, as RESTORE asks; each under
    /// the policy that uses it, as Redis sets only the figure its policy keeps.
    fn set_access(&self, key: &[u8], access: Access, guard: &Guard<'_>) {
        match self.config.policy {
            EvictionPolicy::Lru => {
                let (Some(idle_ms), Some((_, meta))) =
                    (access.idle_ms, self.lookup_meta(key, guard))
                else {
                    return;
                };
                // An age beyond 24 days would wrap into the future: hold it at the oldest.
                let idle = u32::try_from(idle_ms)
                    .unwrap_or(u32::MAX)
                    .min(i32::MAX as u32);
                meta.touch(self.now_ms().wrapping_sub(idle));
            }
            EvictionPolicy::TinyLfu => {
                let hash = key_hash(key);
                for _ in 0..access.reads.unwrap_or(0).min(15) {
                    self.record_access(hash);
                }
            }
        }
    }

    /// Writes the value and expiry of `source` under `to`, over an existing key only if
    /// `replace`; `false` if `to` exists and was kept.
    fn write_from(
        &self,
        to: &[u8],
        source: &Entry,
        replace: bool,
        guard: &Guard<'_>,
    ) -> Result<bool, StoreError> {
        self.modify(to, guard, |live| {
            if live.is_some() && !replace {
                return (Plan::Keep, false);
            }
            let plan = Plan::Write {
                value: Value::Bytes(source.value()),
                expires_at_ms: source.expires_at_ms(),
                flags: source.flags(),
                cas: self.next_cas(),
            };
            (plan, true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::update::Ttl;
    use crate::store::{Clock, StoreConfig};

    fn store_at(now_ms: u64) -> Store {
        store_with_clock(now_ms).0
    }

    fn store_with_clock(now_ms: u64) -> (Store, Clock) {
        let clock = Clock::manual(now_ms);
        let store = Store::with_clock(StoreConfig::new(1 << 20), clock.clone());
        (store, clock)
    }

    fn accounted(store: &Store) {
        assert_eq!(store.usage_bytes(), store.recount());
        assert_eq!(store.used_bytes(), store.recount_charged());
        assert_eq!(store.volatile_count(), store.recount_volatile());
    }

    #[test]
    fn rename_moves_the_value_and_its_expiry() {
        let store = store_at(1_000);
        let guard = store.guard();
        store.set(b"a", b"hello").unwrap();
        store.set(b"b", b"old").unwrap();
        assert!(store.expire_at(b"a", 5_000, &guard));
        assert_eq!(
            store.rename(b"a", b"b", false, &guard),
            Ok(Transfer::Blocked)
        );
        assert_eq!(store.rename(b"a", b"b", true, &guard), Ok(Transfer::Done));
        assert_eq!(store.lookup(b"a", &guard), None);
        assert_eq!(store.get(b"b", &guard), Some(&b"hello"[..]));
        assert_eq!(store.ttl(b"b", &guard), Ttl::Millis(4_000));
        assert_eq!(
            store.rename(b"a", b"c", true, &guard),
            Ok(Transfer::NoSource)
        );
        assert_eq!(
            store.rename(b"b", b"b", false, &guard),
            Ok(Transfer::Blocked)
        );
        assert_eq!(store.rename(b"b", b"b", true, &guard), Ok(Transfer::Done));
        assert_eq!(store.rename(b"b", b"c", false, &guard), Ok(Transfer::Done));
        assert_eq!((store.len(), store.usage_bytes()), (1, 6));
        accounted(&store);
    }

    #[test]
    fn copy_keeps_the_source_and_restore_honours_replace_and_expiry() {
        let store = store_at(1_000);
        let guard = store.guard();
        store.set(b"a", b"hello").unwrap();
        assert!(store.expire_at(b"a", 5_000, &guard));
        assert_eq!(store.copy(b"a", b"b", false, &guard), Ok(Transfer::Done));
        assert_eq!(store.copy(b"a", b"b", false, &guard), Ok(Transfer::Blocked));
        assert_eq!(store.copy(b"x", b"b", true, &guard), Ok(Transfer::NoSource));
        assert_eq!(store.ttl(b"b", &guard), Ttl::Millis(4_000));
        assert_eq!(store.get(b"a", &guard), Some(&b"hello"[..]));
        let restore = |key: &[u8], expires, replace| {
            store.restore(key, (b"v", expires), replace, Access::default(), &guard)
        };
        assert_eq!(restore(b"a", None, false), Ok(Transfer::Blocked));
        assert_eq!(restore(b"a", None, true), Ok(Transfer::Done));
        assert_eq!(store.ttl(b"a", &guard), Ttl::Forever);
        assert_eq!(restore(b"b", Some(1_000), true), Ok(Transfer::Done));
        assert_eq!(store.lookup(b"b", &guard), None, "a past expiry removes");
        assert_eq!(restore(b"c", Some(900), false), Ok(Transfer::Done));
        assert_eq!(store.lookup(b"c", &guard), None);
        accounted(&store);
    }

    #[test]
    fn restore_sets_the_figure_of_the_policy() {
        let lru = Store::with_config(StoreConfig::new(1 << 20).policy(EvictionPolicy::Lru));
        let guard = lru.guard();
        let idle = Access {
            idle_ms: Some(60_000),
            reads: Some(3),
        };
        lru.restore(b"k", (b"v", None), false, idle, &guard)
            .unwrap();
        let (_, meta) = lru.lookup_meta(b"k", &guard).unwrap();
        assert!((60_000..61_000).contains(&lru.idle_ms(meta)));
        let lfu = Store::new(1 << 20);
        let guard = lfu.guard();
        lfu.restore(b"k", (b"v", None), false, idle, &guard)
            .unwrap();
        assert_eq!(lfu.frequency(key_hash(b"k")), 3);
        let (_, meta) = lfu.lookup_meta(b"k", &guard).unwrap();
        assert!(lfu.idle_ms(meta) < 1_000);
    }

    #[test]
    fn random_keys_are_live_keys() {
        let (store, clock) = store_with_clock(1_000);
        let guard = store.guard();
        assert_eq!(store.random_key(&guard), None);
        for i in 0..50 {
            store.set(format!("k{i}").as_bytes(), b"v").unwrap();
        }
        store.set(b"gone", b"v").unwrap();
        assert!(store.expire_at(b"gone", 1_001, &guard));
        for i in 0..25 {
            store.delete(format!("k{i}").as_bytes());
        }
        clock.set(2_000);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let key = store.random_key(&guard).unwrap();
            assert!(key.starts_with(b"k"), "{key:?}");
            seen.insert(key.to_vec());
        }
        assert!(seen.len() >= 20, "{} distinct keys", seen.len());
        assert!(!seen.contains(&b"k0"[..]));
        let walked = store.random_key_by_walking(&guard).unwrap();
        assert!(store.lookup(walked, &guard).is_some());
    }
}
