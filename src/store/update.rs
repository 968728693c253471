//! Read-modify-write commands (SET with conditions, INCR, APPEND, EXPIRE, PERSIST,
//! GETDEL, GETEX...) built on one primitive, [`Store::modify`]: read the key's entry,
//! decide what to do from it, and apply that only if the entry is still the one read.
//!
//! # Atomicity
//! Entries never change in place; a new value or a new expiry is a new entry. `modify`
//! decides from the entry it read, then installs the new one with papaya's `compute`,
//! which inserts only if the map still holds that same entry (compared by address, which
//! cannot be reused while the caller's guard is held), or removes with `remove_if` on the
//! same identity. If another write got there first, it reads again and decides again.
//! So every command here is linearizable, at the moment its map operation succeeds.
//!
//! # Accounting
//! As for SET: the new entry's size is charged before it becomes visible, and whatever
//! the map reports it replaced or removed is discharged. A write that loses its race
//! gives its charge back before trying again.

use super::entry::{Extras, Lookup, Value};
use super::{key_hash, Entry, Meta, Store, StoreError};
use crate::decimal::parse_integer;
use crate::sync::{Compute, Guard, Operation, Ordering};

/// What [`Store::modify`] does with the key's live entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan<'v> {
    /// Leave the key as it is.
    Keep,
    /// Remove the key.
    Remove,
    /// Store a new entry under the key.
    Write {
        /// The new value.
        value: Value<'v>,
        /// When the new entry expires (Unix milliseconds), if ever.
        expires_at_ms: Option<u64>,
        /// memcached's client flags: 0 for a write that replaces the value, the old
        /// entry's for one that transforms it or moves it to another key.
        flags: u32,
        /// The CAS unique: [`Store::next_cas`] for a write of a value (0 if the store
        /// keeps none), the old entry's for a change of the expiry alone (memcached's
        /// touch keeps it, and so do EXPIRE, PERSIST and GETEX). memcached's marks stay
        /// with the unique: kept when it is the old entry's, cleared otherwise.
        cas: u64,
    },
    /// Store a new entry under the key with exactly these extras, memcached's marks
    /// included (the meta protocol's stale items and win tokens).
    Install {
        /// The new value.
        value: Value<'v>,
        /// Its expiry, flags, CAS unique and marks.
        extras: Extras,
    },
}

/// Which existing state a SET requires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Condition {
    /// Store whatever is there.
    #[default]
    Always,
    /// Store only if the key is absent (`NX`).
    IfAbsent,
    /// Store only if the key is present (`XX`).
    IfPresent,
}

/// What a write does to the key's expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExpiryChange {
    /// The new entry never expires (a plain SET, or `PERSIST`).
    #[default]
    Clear,
    /// The new entry keeps the old one's expiry (`KEEPTTL`, INCR, APPEND).
    Keep,
    /// The new entry expires after this Unix time in milliseconds.
    At(u64),
}

/// How a SET behaves beyond storing the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// Which existing state the write requires.
    pub condition: Condition,
    /// What happens to the expiry.
    pub expiry: ExpiryChange,
}

/// What a SET with options did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetOutcome<'g> {
    /// Whether the value was stored (a condition may have refused it).
    pub stored: bool,
    /// The value the key held before, if it had one.
    pub old: Option<&'g [u8]>,
}

/// A key's remaining time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist.
    Missing,
    /// The key exists and never expires.
    Forever,
    /// The key expires in this many milliseconds.
    Millis(u64),
}

/// EXPIRE's conditions on the key's current expiry, as Redis 7 has them; several may be
/// given (`XX GT`), and none means always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpireIf {
    /// NX: only if the key has no expiry.
    pub nx: bool,
    /// XX: only if the key has an expiry.
    pub xx: bool,
    /// GT: only if the new time is later than the current one (a key without an expiry
    /// never expires, so nothing is later).
    pub gt: bool,
    /// LT: only if the new time is earlier than the current one (any time is earlier than
    /// never).
    pub lt: bool,
}

impl ExpireIf {
    /// Whether an expiry at `at_ms` may replace `current` (`None`: no expiry).
    pub fn allows(&self, current: Option<u64>, at_ms: u64) -> bool {
        match current {
            None => !self.xx && !self.gt,
            Some(current) => {
                !self.nx && (!self.gt || at_ms > current) && (!self.lt || at_ms < current)
            }
        }
    }
}

impl Store {
    /// Reads the key's live entry, lets `decide` choose a [`Plan`] from it, and applies
    /// the plan only if the entry is still the one read, retrying otherwise; returns what
    /// the last call of `decide` returned. `decide` may be called more than once.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the planned entry could never fit.
    pub fn modify<'g, 'v, T>(
        &self,
        key: &[u8],
        guard: &'g Guard<'_>,
        mut decide: impl FnMut(Option<&'g Entry>) -> (Plan<'v>, T),
    ) -> Result<T, StoreError>
    where
        'g: 'v,
    {
        let lookup = Lookup::new(key);
        loop {
            let current = self.map.get_key_value(&lookup, guard);
            let now_ms = self.unix_ms();
            let live = current
                .map(|(entry, _)| entry)
                .filter(|entry| !entry.is_expired(now_ms));
            let (plan, result) = decide(live);
            let done = match plan {
                Plan::Keep => {
                    if let (Some((expired, _)), None) = (current, live) {
                        self.remove_expired(expired, guard);
                    }
                    true
                }
                Plan::Remove => match current {
                    None => true,
                    Some((entry, _)) => self.remove_exact(entry, guard).is_some(),
                },
                Plan::Write {
                    value,
                    expires_at_ms,
                    flags,
                    cas,
                } => {
                    let old = current.map(|(entry, _)| entry);
                    let marks = match old {
                        Some(old) if cas != 0 && old.cas() == cas => old.marks(),
                        _ => Default::default(),
                    };
                    let extras = Extras {
                        expires_at_ms,
                        flags,
                        cas,
                        marks,
                    };
                    let entry = Entry::build_with(key, value, extras);
                    self.replace(entry, old, guard)?
                }
                Plan::Install { value, extras } => {
                    let entry = Entry::build_with(key, value, extras);
                    self.replace(entry, current.map(|(entry, _)| entry), guard)?
                }
            };
            if done {
                return Ok(result);
            }
        }
    }

    /// Installs `entry` if the map still holds `expected` under its key (`None`: the key
    /// is absent); `false` if something else is there now.
    fn replace(
        &self,
        entry: Entry,
        expected: Option<&Entry>,
        guard: &Guard<'_>,
    ) -> Result<bool, StoreError> {
        self.check_fits(entry.size(), entry.charge())?;
        let hash = key_hash(entry.key());
        let expires = entry.expires_at_ms().is_some();
        let meta = Meta::of(&entry, self.access_ms());
        if expires {
            // Counted before it is visible, like `used`.
            self.volatile.fetch_add(1, Ordering::Relaxed);
        }
        let after = self.charge(&meta);
        // papaya may call this again after losing a race; it must be pure.
        let outcome = self.map.compute(
            entry,
            |found| {
                let same = match (found, expected) {
                    (None, None) => true,
                    (Some((found, _)), Some(expected)) => std::ptr::eq(found, expected),
                    _ => false,
                };
                if same {
                    Operation::Insert(meta.duplicate())
                } else {
                    Operation::Abort(())
                }
            },
            guard,
        );
        match outcome {
            Compute::Inserted(..) => {
                self.registered(hash);
                if expires {
                    self.expiring.register(hash);
                }
            }
            Compute::Updated {
                old: (old, old_meta),
                ..
            } => {
                self.forget_removed(old, old_meta, guard);
                if expires && !old_meta.expires() {
                    self.expiring.register(hash);
                }
            }
            Compute::Removed(..) | Compute::Aborted(()) => {
                // Nothing was installed: give the charges back and let the caller retry.
                self.discharge(&meta);
                if expires {
                    self.volatile.fetch_sub(1, Ordering::Relaxed);
                }
                return Ok(false);
            }
        }
        if after > self.entry_budget() {
            self.wake_evictor();
        }
        Ok(true)
    }

    /// Removes exactly `entry` (not a newer entry of the same key); returns its metadata
    /// if this call removed it.
    pub(super) fn remove_exact<'g>(&self, entry: &Entry, guard: &'g Guard<'_>) -> Option<&'g Meta> {
        let lookup = Lookup {
            hash: key_hash(entry.key()),
            key: entry.key(),
        };
        match self
            .map
            .remove_if(&lookup, |found, _| std::ptr::eq(found, entry), guard)
        {
            Ok(Some((removed, meta))) => {
                self.forget_removed(removed, meta, guard);
                Some(meta)
            }
            Ok(None) | Err(_) => None,
        }
    }

    /// Removes `entry`, found expired, unless it was replaced meanwhile.
    pub(super) fn remove_expired(&self, entry: &Entry, guard: &Guard<'_>) {
        // `forget_removed` counts it as expired: it is past its time.
        let _ = self.remove_exact(entry, guard);
    }

    /// Accounts for an entry the map handed back as replaced or removed.
    pub(super) fn forget_removed(&self, entry: &Entry, meta: &Meta, guard: &Guard<'_>) {
        self.discharge(meta);
        if meta.expires() {
            // Ordering: Relaxed; a statistic like `used`, counted from what the map returned.
            self.volatile.fetch_sub(1, Ordering::Relaxed);
            if entry.is_expired(self.unix_ms()) {
                self.stats.expired.add(1);
            }
        }
        self.retired(meta.size(), guard);
    }

    /// The key's live entry, without counting a hit or refreshing its stamp; an expired
    /// entry found on the way is removed.
    pub fn lookup<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<&'g Entry> {
        let (entry, _) = self.map.get_key_value(&Lookup::new(key), guard)?;
        if entry.expires_at_ms().is_some() && entry.is_expired(self.unix_ms()) {
            self.remove_expired(entry, guard);
            return None;
        }
        Some(entry)
    }

    /// SET with conditions and expiry options. Returns whether it stored, and the old
    /// value (for `SET ... GET`).
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the entry could never fit.
    pub fn set_with<'g>(
        &self,
        key: &[u8],
        value: &[u8],
        options: SetOptions,
        guard: &'g Guard<'_>,
    ) -> Result<SetOutcome<'g>, StoreError> {
        self.modify(key, guard, |live| {
            let old = live.map(Entry::value);
            let allowed = match options.condition {
                Condition::Always => true,
                Condition::IfAbsent => live.is_none(),
                Condition::IfPresent => live.is_some(),
            };
            if !allowed {
                return (Plan::Keep, SetOutcome { stored: false, old });
            }
            let expires_at_ms = match options.expiry {
                ExpiryChange::Clear => None,
                ExpiryChange::Keep => live.and_then(Entry::expires_at_ms),
                ExpiryChange::At(at) => Some(at),
            };
            // A new value: its flags are reset, as memcached's would be by a set.
            let plan = Plan::Write {
                value: Value::Bytes(value),
                expires_at_ms,
                flags: 0,
                cas: self.next_cas(),
            };
            (plan, SetOutcome { stored: true, old })
        })
    }

    /// Removes the key and returns its value, if it had one (GETDEL).
    pub fn take<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<&'g [u8]> {
        let taken = self.modify(key, guard, |live| match live {
            Some(entry) => (Plan::Remove, Some(entry.value())),
            None => (Plan::Keep, None),
        });
        // Removing never writes, so it cannot be refused.
        taken.ok().flatten()
    }

    /// Sets the key's expiry to the Unix time `at_ms`, or removes the key if that time has
    /// passed, as Redis's EXPIRE does; `false` if the key does not exist.
    pub fn expire_at(&self, key: &[u8], at_ms: u64, guard: &Guard<'_>) -> bool {
        self.expire_at_if(key, at_ms, ExpireIf::default(), guard)
    }

    /// [`Store::expire_at`] if the key's current expiry meets `condition` (EXPIRE's NX,
    /// XX, GT and LT), checked and changed in one step; `true` if it was set or the key
    /// deleted.
    pub fn expire_at_if(
        &self,
        key: &[u8],
        at_ms: u64,
        condition: ExpireIf,
        guard: &Guard<'_>,
    ) -> bool {
        let now_ms = self.unix_ms();
        let done = self.modify(key, guard, |live| match live {
            None => (Plan::Keep, false),
            Some(entry) if !condition.allows(entry.expires_at_ms(), at_ms) => (Plan::Keep, false),
            Some(_) if at_ms <= now_ms => (Plan::Remove, true),
            Some(entry) => (
                Plan::Write {
                    value: Value::Bytes(entry.value()),
                    expires_at_ms: Some(at_ms),
                    flags: entry.flags(),
                    cas: entry.cas(),
                },
                true,
            ),
        });
        // The new entry is no larger than the one it replaces, so it always fits.
        done.unwrap_or(false)
    }

    /// Removes the key's expiry; `true` if it had one. Like every change of the expiry
    /// alone (EXPIRE, GETEX, memcached's touch), it keeps the CAS unique and the flags.
    pub fn persist(&self, key: &[u8], guard: &Guard<'_>) -> bool {
        let done = self.modify(key, guard, |live| match live {
            Some(entry) if entry.expires_at_ms().is_some() => (
                Plan::Write {
                    value: Value::Bytes(entry.value()),
                    expires_at_ms: None,
                    flags: entry.flags(),
                    cas: entry.cas(),
                },
                true,
            ),
            _ => (Plan::Keep, false),
        });
        // The same bytes, so it always fits.
        done.unwrap_or(false)
    }

    /// The value, with its expiry changed as GETEX does (`None`: unchanged).
    pub fn get_and_expire<'g>(
        &self,
        key: &[u8],
        change: Option<ExpiryChange>,
        guard: &'g Guard<'_>,
    ) -> Option<&'g [u8]> {
        let Some(change) = change else {
            return self.get(key, guard);
        };
        let now_ms = self.unix_ms();
        let value = self.modify(key, guard, |live| {
            let Some(entry) = live else {
                return (Plan::Keep, None);
            };
            let value = Some(entry.value());
            let plan = match change {
                ExpiryChange::At(at) if at <= now_ms => Plan::Remove,
                ExpiryChange::Keep => Plan::Keep,
                ExpiryChange::At(_) | ExpiryChange::Clear
                    if entry.expires_at_ms() == expiry_of(change) =>
                {
                    Plan::Keep
                }
                ExpiryChange::At(_) | ExpiryChange::Clear => Plan::Write {
                    value: Value::Bytes(entry.value()),
                    expires_at_ms: expiry_of(change),
                    flags: entry.flags(),
                    cas: entry.cas(),
                },
            };
            (plan, value)
        });
        let value = value.ok().flatten();
        self.count_read(value.is_some());
        value
    }

    /// The key's remaining time to live.
    pub fn ttl(&self, key: &[u8], guard: &Guard<'_>) -> Ttl {
        match self.lookup(key, guard) {
            None => Ttl::Missing,
            Some(entry) => match entry.expires_at_ms() {
                None => Ttl::Forever,
                Some(at) => Ttl::Millis(at.saturating_sub(self.unix_ms())),
            },
        }
    }

    /// Adds `delta` to the integer stored under the key (0 if absent), keeping its
    /// expiry; returns the new value.
    ///
    /// # Errors
    /// [`StoreError::NotAnInteger`] if the value is not a 64-bit decimal integer,
    /// [`StoreError::Overflow`] if the result would not be one, or
    /// [`StoreError::LargerThanLimit`] if even the number cannot fit.
    pub fn increment(&self, key: &[u8], delta: i64, guard: &Guard<'_>) -> Result<i64, StoreError> {
        self.modify(key, guard, |live| {
            let current = match live.map(|entry| parse_integer(entry.value())) {
                None => Ok(0),
                Some(Some(n)) => Ok(n),
                Some(None) => Err(StoreError::NotAnInteger),
            };
            let next = current.and_then(|n| n.checked_add(delta).ok_or(StoreError::Overflow));
            match next {
                Ok(n) => (
                    Plan::Write {
                        value: Value::Integer(n),
                        expires_at_ms: live.and_then(Entry::expires_at_ms),
                        flags: live.map_or(0, Entry::flags),
                        cas: self.next_cas(),
                    },
                    Ok(n),
                ),
                Err(err) => (Plan::Keep, Err(err)),
            }
        })?
    }

    /// Appends `suffix` to the key's value (creating it if absent), keeping its expiry;
    /// returns the new length.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] if the value would pass `max_len` bytes, or
    /// [`StoreError::LargerThanLimit`] if the longer entry could never fit.
    pub fn append(
        &self,
        key: &[u8],
        suffix: &[u8],
        max_len: usize,
        guard: &Guard<'_>,
    ) -> Result<u64, StoreError> {
        self.modify(key, guard, |live| {
            let head = live.map_or(&[][..], Entry::value);
            let value = Value::Concat(head, suffix);
            if value.len() > max_len {
                return (Plan::Keep, Err(StoreError::TooLong { limit: max_len }));
            }
            // usize → u64 is lossless on every supported target.
            let len = value.len() as u64;
            let plan = Plan::Write {
                value,
                expires_at_ms: live.and_then(Entry::expires_at_ms),
                flags: live.map_or(0, Entry::flags),
                cas: self.next_cas(),
            };
            (plan, Ok(len))
        })?
    }

    /// Removes every entry; returns how many this call removed.
    pub fn flush(&self) -> u64 {
        let guard = self.map.guard();
        let mut removed = 0;
        for (entry, _) in self.map.iter(&guard) {
            if self.remove_exact(entry, &guard).is_some() {
                removed += 1;
            }
        }
        removed
    }
}

/// The expiry a change sets (`Keep` has none of its own).
fn expiry_of(change: ExpiryChange) -> Option<u64> {
    match change {
        ExpiryChange::At(at) => Some(at),
        ExpiryChange::Clear | ExpiryChange::Keep => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_conditions_follow_redis() {
        let when = |nx, xx, gt, lt| ExpireIf { nx, xx, gt, lt };
        let (none, at_500) = (None, Some(500));
        // (condition, current expiry, new time, allowed)
        let cases = [
            (ExpireIf::default(), none, 100, true),
            (ExpireIf::default(), at_500, 100, true),
            (when(true, false, false, false), none, 100, true),
            (when(true, false, false, false), at_500, 100, false),
            (when(false, true, false, false), none, 100, false),
            (when(false, true, false, false), at_500, 100, true),
            // No expiry is forever: nothing is later, everything earlier.
            (when(false, false, true, false), none, 100, false),
            (when(false, false, true, false), at_500, 500, false),
            (when(false, false, true, false), at_500, 501, true),
            (when(false, false, false, true), none, 100, true),
            (when(false, false, false, true), at_500, 500, false),
            (when(false, false, false, true), at_500, 499, true),
            (when(false, true, false, true), none, 100, false),
            (when(false, true, false, true), at_500, 499, true),
        ];
        for (condition, current, at, allowed) in cases {
            assert_eq!(
                condition.allows(current, at),
                allowed,
                "{condition:?} with {current:?} at {at}"
            );
        }
    }

    #[test]
    fn a_refused_condition_leaves_the_key_as_it_was() {
        let store = Store::new(1 << 20);
        let guard = store.guard();
        store.set(b"k", b"v").unwrap();
        let gt = ExpireIf {
            gt: true,
            ..ExpireIf::default()
        };
        let far = store.unix_ms() + 100_000;
        assert!(
            !store.expire_at_if(b"k", far, gt, &guard),
            "no expiry is later"
        );
        assert_eq!(store.ttl(b"k", &guard), Ttl::Forever);
        assert!(store.expire_at_if(b"k", far, ExpireIf::default(), &guard));
        assert!(store.expire_at_if(b"k", far + 1, gt, &guard));
        assert!(!store.expire_at_if(b"k", far, gt, &guard));
        assert_eq!(store.usage_bytes(), store.recount());
    }
    use crate::store::Clock;

    fn store_at(now_ms: u64) -> (Store, Clock) {
        let clock = Clock::manual(now_ms);
        (
            Store::with_clock(crate::store::StoreConfig::new(1 << 20), clock.clone()),
            clock,
        )
    }

    #[test]
    fn increment_counts_keeps_the_expiry_and_refuses_non_integers() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        assert_eq!(store.increment(b"n", 5, &guard), Ok(5));
        assert_eq!(store.increment(b"n", -7, &guard), Ok(-2));
        assert_eq!(store.usage_bytes(), 3, "n plus \"-2\"");
        assert!(store.expire_at(b"n", 5_000, &guard));
        assert_eq!(store.increment(b"n", 1, &guard), Ok(-1));
        assert_eq!(store.ttl(b"n", &guard), Ttl::Millis(4_000));
        store.set(b"s", b"abc").unwrap();
        assert_eq!(
            store.increment(b"s", 1, &guard),
            Err(StoreError::NotAnInteger)
        );
        store.set(b"max", i64::MAX.to_string().as_bytes()).unwrap();
        assert_eq!(
            store.increment(b"max", 1, &guard),
            Err(StoreError::Overflow)
        );
        assert_eq!(store.usage_bytes(), store.recount());
    }

    #[test]
    fn conditions_and_old_values() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let nx = SetOptions {
            condition: Condition::IfAbsent,
            ..SetOptions::default()
        };
        let xx = SetOptions {
            condition: Condition::IfPresent,
            ..SetOptions::default()
        };
        let outcome = store.set_with(b"k", b"v1", xx, &guard).unwrap();
        assert_eq!(
            outcome,
            SetOutcome {
                stored: false,
                old: None
            }
        );
        let outcome = store.set_with(b"k", b"v1", nx, &guard).unwrap();
        assert_eq!(
            outcome,
            SetOutcome {
                stored: true,
                old: None
            }
        );
        let outcome = store.set_with(b"k", b"v2", nx, &guard).unwrap();
        assert_eq!(
            outcome,
            SetOutcome {
                stored: false,
                old: Some(&b"v1"[..])
            }
        );
        let outcome = store.set_with(b"k", b"v3", xx, &guard).unwrap();
        assert_eq!(
            outcome,
            SetOutcome {
                stored: true,
                old: Some(&b"v1"[..])
            }
        );
        assert_eq!(store.get(b"k", &guard), Some(&b"v3"[..]));
        assert_eq!(store.append(b"k", b"++", 4, &guard), Ok(4));
        assert_eq!(
            store.append(b"k", b"+", 4, &guard),
            Err(StoreError::TooLong { limit: 4 })
        );
        assert_eq!(store.take(b"k", &guard), Some(&b"v3++"[..]));
        assert_eq!(store.take(b"k", &guard), None);
        assert_eq!(store.usage_bytes(), 0);
    }

    #[test]
    fn keys_expire_when_their_time_is_past() {
        let (store, clock) = store_at(1_000);
        let guard = store.guard();
        let ex = SetOptions {
            expiry: ExpiryChange::At(1_100),
            ..SetOptions::default()
        };
        store.set_with(b"k", b"v", ex, &guard).unwrap();
        assert_eq!(store.volatile_count(), 1);
        assert_eq!(store.ttl(b"k", &guard), Ttl::Millis(100));
        clock.set(1_100);
        assert_eq!(store.get(b"k", &guard), Some(&b"v"[..]));
        clock.set(1_101);
        assert_eq!(store.get(b"k", &guard), None);
        assert_eq!(store.ttl(b"k", &guard), Ttl::Missing);
        assert_eq!(store.len(), 0, "removed when touched");
        assert_eq!(store.usage_bytes(), 0);
        assert_eq!(store.volatile_count(), 0);
        assert_eq!(store.stats().expired, 1);
    }

    #[test]
    fn persist_keeptll_and_getex() {
        let (store, clock) = store_at(1_000);
        let guard = store.guard();
        store.set(b"k", b"v").unwrap();
        assert!(!store.persist(b"k", &guard));
        assert!(store.expire_at(b"k", 2_000, &guard));
        let keep = SetOptions {
            expiry: ExpiryChange::Keep,
            ..SetOptions::default()
        };
        store.set_with(b"k", b"w", keep, &guard).unwrap();
        assert_eq!(store.ttl(b"k", &guard), Ttl::Millis(1_000));
        assert!(store.persist(b"k", &guard));
        assert_eq!(store.ttl(b"k", &guard), Ttl::Forever);
        let got = store.get_and_expire(b"k", Some(ExpiryChange::At(1_500)), &guard);
        assert_eq!(got, Some(&b"w"[..]));
        assert_eq!(store.ttl(b"k", &guard), Ttl::Millis(500));
        store.set(b"k", b"x").unwrap();
        assert_eq!(
            store.ttl(b"k", &guard),
            Ttl::Forever,
            "a plain SET clears it"
        );
        assert!(store.expire_at(b"k", 1_000, &guard), "a past time deletes");
        assert_eq!(store.ttl(b"k", &guard), Ttl::Missing);
        clock.set(5_000);
        assert_eq!(store.usage_bytes(), store.recount());
        assert_eq!(store.volatile_count(), 0);
    }

    #[test]
    fn flush_removes_everything() {
        let (store, _) = store_at(0);
        for i in 0..100 {
            store.set(format!("k{i}").as_bytes(), b"v").unwrap();
        }
        assert_eq!(store.flush(), 100);
        assert_eq!((store.len(), store.usage_bytes()), (0, 0));
    }
}
