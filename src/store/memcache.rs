//! memcached's operations on the store: the storage commands (set, add, replace, append,
//! prepend, cas), delete, incr and decr; the reads, touch and the meta protocol's marks
//! are in the `fetch` module. Each is one [`Store::modify`], so it is linearizable like
//! the RESP commands, and a CAS compare is exact under concurrent writers: the unique is
//! read from the very entry the write then replaces, or the write reads again and
//! decides again.

mod fetch;

pub use self::fetch::{Fetch, Fetched, Item};
use super::entry::{Extras, Marks, Value};
use super::update::{ExpiryChange, Plan};
use super::{Entry, Store, StoreError};
use crate::sync::Guard;

/// Most digits of a value incr and decr read: `u64::MAX` has 20.
const MAX_COUNTER_DIGITS: usize = 20;

/// Which write memcached asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Store whatever is there.
    Set,
    /// Store only if the key is absent.
    Add,
    /// Store only if the key is present.
    Replace,
    /// Add the data after the value of a present key.
    Append,
    /// Add the data before the value of a present key.
    Prepend,
}

/// What a storage command did (memcached's STORED / NOT_STORED / EXISTS / NOT_FOUND).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored; the new entry's CAS unique.
    Stored {
        /// The new entry's CAS unique (0 if the store keeps none).
        cas: u64,
    },
    /// The mode's condition did not hold.
    NotStored,
    /// The key's CAS unique was not the one given.
    Exists,
    /// A CAS was given and the key is absent.
    NotFound,
}

/// What delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The key was removed.
    Deleted,
    /// The key was absent.
    NotFound,
    /// The key's CAS unique was not the one given; it stays.
    Exists,
    /// The key was marked stale instead of removed (`md` with `I`).
    Invalidated,
}

/// What incr/decr did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// The new value, and the new entry's CAS unique.
    Value {
        /// The counter after the change.
        value: u64,
        /// The new entry's CAS unique (0 if the store keeps none).
        cas: u64,
    },
    /// The key was absent.
    NotFound,
    /// The value is not a decimal number of at most 20 digits that fits in 64 bits.
    NonNumeric,
    /// The key's CAS unique was not the one given (meta `ma` with `C`); nothing changed.
    Exists,
}

/// A counter as incr and decr read it: decimal digits only, at most 20, fitting in 64
/// bits.
fn parse_counter(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > MAX_COUNTER_DIGITS || !value.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    value.iter().try_fold(0u64, |n, &digit| {
        n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// A storage command's parameters besides the key and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storage {
    /// Which write.
    pub mode: StoreMode,
    /// The client flags (ignored by append and prepend).
    pub flags: u32,
    /// The new expiry (ignored by append and prepend).
    pub expiry: ExpiryChange,
    /// Store only over this CAS unique (see [`Store::store_item`]).
    pub compare_cas: Option<u64>,
    /// `ms` with `I`: a set or replace whose unique is older than the item's still
    /// stores, marked stale, with the item's expiry and win token.
    pub invalidate: bool,
    /// The longest value the write may make (see [`Store::store_item`]).
    pub max_len: usize,
}

/// How a write that passed memcached's checks stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admit {
    /// As asked.
    Store,
    /// Marked stale: `ms` with `I` and a unique older than the item's.
    Stale,
}

/// Whether the live entry passes memcached's checks for `storage`; the outcome to report
/// if it does not. With a CAS, set and replace are memcached's `cas` (absent:
/// NOT_FOUND); add ignores it; append and prepend check it only if it is not 0, and an
/// absent key is NOT_STORED for them, as in memcached's `do_store_item`.
fn admit(storage: &Storage, live: Option<&Entry>) -> Result<Admit, Stored> {
    match (storage.mode, live, storage.compare_cas) {
        (StoreMode::Add, Some(_), _) => Err(Stored::NotStored),
        (StoreMode::Add, None, _) => Ok(Admit::Store),
        (StoreMode::Set | StoreMode::Replace, None, Some(_)) => Err(Stored::NotFound),
        (StoreMode::Set | StoreMode::Replace, Some(entry), Some(cas)) if entry.cas() != cas => {
            match storage.invalidate && cas != 0 && cas < entry.cas() {
                true => Ok(Admit::Stale),
                false => Err(Stored::Exists),
            }
        }
        (StoreMode::Set, _, _) => Ok(Admit::Store),
        (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None, _) => {
            Err(Stored::NotStored)
        }
        (StoreMode::Append | StoreMode::Prepend, Some(entry), Some(cas))
            if cas != 0 && entry.cas() != cas =>
        {
            Err(Stored::Exists)
        }
        (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, Some(_), _) => {
            Ok(Admit::Store)
        }
    }
}

impl Store {
    /// set/add/replace/append/prepend/cas. `compare_cas: Some(c)` makes it a CAS: stored
    /// only if the live entry's cas == c (NotFound if absent, Exists if different); add
    /// ignores it, and append and prepend ignore a 0 and answer NotStored if absent, as
    /// memcached does. Append/Prepend keep the old entry's flags and expiry and ignore
    /// `flags`/`expiry` (as memcached does); NotStored if absent. Add: NotStored if
    /// present. Replace: NotStored if absent. An expiry not in the future stores an
    /// entry that is gone at once: the key's old value is removed, and the answer is
    /// Stored (as memcached answers for a negative exptime).
    ///
    ///
    /// No write makes a value longer than `max_len` bytes: an append or prepend whose
    /// result would is refused, checked on the very value it would extend, so two
    /// appends racing each other cannot together pass the limit.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] if the new value would pass `max_len` bytes (memcached
    /// answers `NOT_STORED` when an append outgrows its item size limit), or
    /// [`StoreError::LargerThanLimit`] if the entry could never fit (memcached's
    /// `SERVER_ERROR out of memory storing object`).
    #[allow(clippy::too_many_arguments)] // The agreed interface: one argument per field of memcached's request, and the value limit.
    pub fn store_item(
        &self,
        key: &[u8],
        value: &[u8],
        max_len: usize,
        mode: StoreMode,
        flags: u32,
        expiry: ExpiryChange,
        compare_cas: Option<u64>,
        guard: &Guard<'_>,
    ) -> Result<Stored, StoreError> {
        let storage = Storage {
            mode,
            flags,
            expiry,
            compare_cas,
            invalidate: false,
            max_len,
        };
        self.store_item_with(key, value, storage, guard)
    }

    /// [`Store::store_item`] with every parameter of `ms`, `I` included: a set or
    /// replace with a unique older than the item's stores the value marked stale, with
    /// the item's expiry and win token and a new unique, as memcached does.
    ///
    /// # Errors
    /// As [`Store::store_item`].
    pub fn store_item_with(
        &self,
        key: &[u8],
        value: &[u8],
        storage: Storage,
        guard: &Guard<'_>,
    ) -> Result<Stored, StoreError> {
        let Storage {
            mode,
            flags,
            expiry,
            max_len,
            ..
        } = storage;
        let now_ms = self.unix_ms();
        self.modify(key, guard, |live| {
            let admitted = match admit(&storage, live) {
                Ok(admitted) => admitted,
                Err(outcome) => return (Plan::Keep, Ok(outcome)),
            };
            let old = live.map(Entry::extras).unwrap_or_default();
            if admitted == Admit::Stale {
                if value.len() > max_len {
                    return (Plan::Keep, Err(StoreError::TooLong { limit: max_len }));
                }
                let cas = self.next_cas();
                let extras = Extras {
                    flags,
                    cas,
                    marks: Marks {
                        stale: true,
                        won: old.marks.won,
                        fetched: false,
                    },
                    ..old
                };
                let plan = Plan::Install {
                    value: Value::Bytes(value),
                    extras,
                };
                return (plan, Ok(Stored::Stored { cas }));
            }
            let (value, extras) = match (mode, live) {
                (StoreMode::Append, Some(entry)) => (Value::Concat(entry.value(), value), old),
                (StoreMode::Prepend, Some(entry)) => (Value::Concat(value, entry.value()), old),
                _ => {
                    let expires_at_ms = match expiry {
                        ExpiryChange::Clear => None,
                        ExpiryChange::Keep => old.expires_at_ms,
                        ExpiryChange::At(at) => Some(at),
                    };
                    let extras = Extras {
                        expires_at_ms,
                        flags,
                        ..old
                    };
                    (Value::Bytes(value), extras)
                }
            };
            if value.len() > max_len {
                return (Plan::Keep, Err(StoreError::TooLong { limit: max_len }));
            }
            let cas = self.next_cas();
            let stored = Stored::Stored { cas };
            if extras.expires_at_ms.is_some_and(|at| at <= now_ms) {
                return (Plan::Remove, Ok(stored));
            }
            let plan = Plan::Write {
                value,
                expires_at_ms: extras.expires_at_ms,
                flags: extras.flags,
                cas,
            };
            (plan, Ok(stored))
        })?
    }

    /// delete, optionally only if the cas matches (meta `md` with `C`).
    pub fn delete_item(&self, key: &[u8], compare_cas: Option<u64>, guard: &Guard<'_>) -> Removed {
        let removed = self.modify(key, guard, |live| match live {
            None => (Plan::Keep, Removed::NotFound),
            Some(entry) if compare_cas.is_some_and(|cas| cas != entry.cas()) => {
                (Plan::Keep, Removed::Exists)
            }
            Some(_) => (Plan::Remove, Removed::Deleted),
        });
        // Removing never writes, so it cannot be refused.
        removed.unwrap_or(Removed::NotFound)
    }

    /// incr/decr on a decimal u64 value (memcached rules: incr wraps at 2^64, decr stops
    /// at 0; a value that is not a decimal u64 of at most 20 digits is NonNumeric). Keeps
    /// flags and expiry; new cas. `compare_cas` as in [`Store::store_item`] (meta `ma`
    /// with `C`): a different unique is [`Arith::Exists`].
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if even the number cannot fit.
    pub fn arith(
        &self,
        key: &[u8],
        incr: bool,
        delta: u64,
        compare_cas: Option<u64>,
        guard: &Guard<'_>,
    ) -> Result<Arith, StoreError> {
        self.modify(key, guard, |live| {
            let Some(entry) = live else {
                return (Plan::Keep, Arith::NotFound);
            };
            if compare_cas.is_some_and(|cas| cas != entry.cas()) {
                return (Plan::Keep, Arith::Exists);
            }
            let Some(current) = parse_counter(entry.value()) else {
                return (Plan::Keep, Arith::NonNumeric);
            };
            let value = if incr {
                current.wrapping_add(delta)
            } else {
                current.saturating_sub(delta)
            };
            let cas = self.next_cas();
            let plan = Plan::Write {
                value: Value::Unsigned(value),
                expires_at_ms: entry.expires_at_ms(),
                flags: entry.flags(),
                cas,
            };
            (plan, Arith::Value { value, cas })
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::update::Ttl;
    use crate::store::{Clock, StoreConfig};

    /// The value limit the tests' writes pass: more than any of them needs.
    pub(in crate::store) const LIMIT: usize = 1 << 10;

    /// A store with CAS on, at the Unix time `now_ms`.
    pub(in crate::store) fn store_at(now_ms: u64) -> (Store, Clock) {
        let clock = Clock::manual(now_ms);
        let config = StoreConfig::new(1 << 20).cas(true);
        (Store::with_clock(config, clock.clone()), clock)
    }

    /// Asserts that the store's counts match what it holds.
    pub(in crate::store) fn accounted(store: &Store) {
        assert_eq!(store.usage_bytes(), store.recount());
        assert_eq!(store.used_bytes(), store.recount_charged());
        assert_eq!(store.volatile_count(), store.recount_volatile());
    }

    /// memcached's `set`.
    pub(in crate::store) fn set(store: &Store, key: &[u8], value: &[u8], flags: u32) -> Stored {
        let guard = store.guard();
        let expiry = ExpiryChange::Clear;
        store
            .store_item(
                key,
                value,
                LIMIT,
                StoreMode::Set,
                flags,
                expiry,
                None,
                &guard,
            )
            .unwrap()
    }

    /// The unique of a write that stored.
    pub(in crate::store) fn cas_of(stored: Stored) -> u64 {
        match stored {
            Stored::Stored { cas } => cas,
            other => panic!("not stored: {other:?}"),
        }
    }

    #[test]
    fn modes_store_only_when_their_condition_holds() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let write = |mode, value: &[u8]| {
            store
                .store_item(
                    b"k",
                    value,
                    LIMIT,
                    mode,
                    0,
                    ExpiryChange::Clear,
                    None,
                    &guard,
                )
                .unwrap()
        };
        assert_eq!(write(StoreMode::Replace, b"r"), Stored::NotStored);
        assert_eq!(write(StoreMode::Append, b"a"), Stored::NotStored);
        assert_eq!(write(StoreMode::Prepend, b"p"), Stored::NotStored);
        assert_eq!(store.len(), 0);
        assert!(matches!(
            write(StoreMode::Add, b"mid"),
            Stored::Stored { .. }
        ));
        assert_eq!(write(StoreMode::Add, b"again"), Stored::NotStored);
        assert!(matches!(
            write(StoreMode::Append, b">"),
            Stored::Stored { .. }
        ));
        assert!(matches!(
            write(StoreMode::Prepend, b"<"),
            Stored::Stored { .. }
        ));
        assert_eq!(store.item(b"k", &guard).unwrap().value, b"<mid>");
        assert!(matches!(
            write(StoreMode::Replace, b"new"),
            Stored::Stored { .. }
        ));
        assert_eq!(store.item(b"k", &guard).unwrap().value, b"new");
        accounted(&store);
    }

    #[test]
    fn append_and_prepend_stop_at_the_value_limit() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let write = |mode, value: &[u8], max_len| {
            let expiry = ExpiryChange::Clear;
            store.store_item(b"k", value, max_len, mode, 0, expiry, None, &guard)
        };
        assert!(matches!(
            write(StoreMode::Set, b"abc", 5),
            Ok(Stored::Stored { .. })
        ));
        let cas = store.item(b"k", &guard).unwrap().cas;
        let too_long = Err(StoreError::TooLong { limit: 5 });
        assert_eq!(write(StoreMode::Append, b"def", 5), too_long);
        assert_eq!(write(StoreMode::Prepend, b"xyz", 5), too_long);
        assert_eq!(write(StoreMode::Set, b"abcdef", 5), too_long);
        let item = store.item(b"k", &guard).unwrap();
        assert_eq!(
            (item.value, item.cas),
            (&b"abc"[..], cas),
            "nothing changed"
        );
        // Exactly at the limit is allowed.
        assert!(matches!(
            write(StoreMode::Append, b"d", 5),
            Ok(Stored::Stored { .. })
        ));
        assert!(matches!(
            write(StoreMode::Prepend, b"<", 5),
            Ok(Stored::Stored { .. })
        ));
        assert_eq!(store.item(b"k", &guard).unwrap().value, b"<abcd");
        assert_eq!(
            write(StoreMode::Append, b"", 4),
            Err(StoreError::TooLong { limit: 4 })
        );
        accounted(&store);
    }

    #[test]
    fn racing_appends_never_pass_the_value_limit_together() {
        let (store, _) = store_at(1_000);
        let store = std::sync::Arc::new(store);
        for round in 0..100 {
            set(&store, b"k", b"", 0);
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let guard = store.guard();
                        let mut stored = 0;
                        for _ in 0..10 {
                            let outcome = store.store_item(
                                b"k",
                                b"xyz",
                                10,
                                StoreMode::Append,
                                0,
                                ExpiryChange::Clear,
                                None,
                                &guard,
                            );
                            stored += usize::from(matches!(outcome, Ok(Stored::Stored { .. })));
                        }
                        stored
                    })
                })
                .collect();
            let stored: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(stored, 3, "round {round}: three appends fit in 10 bytes");
            assert_eq!(
                store.item(b"k", &store.guard()).unwrap().value,
                b"xyzxyzxyz"
            );
        }
        accounted(&store);
    }

    #[test]
    fn cas_stores_only_over_the_unique_it_names() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let cas = |mode, unique| {
            store
                .store_item(
                    b"k",
                    b"v",
                    LIMIT,
                    mode,
                    0,
                    ExpiryChange::Clear,
                    Some(unique),
                    &guard,
                )
                .unwrap()
        };
        assert_eq!(cas(StoreMode::Set, 1), Stored::NotFound);
        assert_eq!(cas(StoreMode::Replace, 1), Stored::NotFound);
        assert_eq!(cas(StoreMode::Append, 1), Stored::NotStored);
        let first = cas_of(set(&store, b"k", b"v0", 0));
        assert_eq!(cas(StoreMode::Set, first + 100), Stored::Exists);
        assert_eq!(cas(StoreMode::Set, 0), Stored::Exists, "0 is no unique");
        assert_eq!(cas(StoreMode::Append, first + 100), Stored::Exists);
        assert_eq!(cas(StoreMode::Add, first), Stored::NotStored);
        let second = cas_of(cas(StoreMode::Set, first));
        assert_ne!(second, first);
        assert_eq!(cas(StoreMode::Set, first), Stored::Exists, "used up");
        assert_eq!(store.item(b"k", &guard).unwrap().cas, second);
        // Append checks a unique only if one is given (0 is none).
        assert!(matches!(cas(StoreMode::Append, 0), Stored::Stored { .. }));
        assert_eq!(store.item(b"k", &guard).unwrap().value, b"vv");
        accounted(&store);
    }

    #[test]
    fn the_cas_unique_changes_on_every_write_and_not_on_a_touch() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let mut seen = std::collections::BTreeSet::new();
        let current = |store: &Store| {
            let cas = store.item(b"k", &store.guard()).unwrap().cas;
            assert_ne!(cas, 0);
            cas
        };
        store.set(b"k", b"1").unwrap();
        assert!(seen.insert(current(&store)));
        assert_eq!(store.increment(b"k", 1, &guard), Ok(2));
        assert!(seen.insert(current(&store)));
        assert_eq!(store.append(b"k", b"0", 100, &guard), Ok(2));
        assert!(seen.insert(current(&store)));
        assert!(matches!(
            store.arith(b"k", true, 1, None, &guard),
            Ok(Arith::Value { value: 21, .. })
        ));
        assert!(seen.insert(current(&store)));
        let before = current(&store);
        assert!(store.touch_item(b"k", ExpiryChange::At(5_000), &guard));
        assert!(store.expire_at(b"k", 6_000, &guard));
        assert!(store.persist(b"k", &guard));
        let touched = store.item_and_touch(b"k", ExpiryChange::At(7_000), &guard);
        assert_eq!(touched.unwrap().unwrap().cas, before);
        assert_eq!(current(&store), before, "touches keep the unique");
        assert_eq!(store.ttl(b"k", &guard), Ttl::Millis(6_000));
        assert_eq!(
            store.rename(b"k", b"m", true, &guard),
            Ok(crate::store::keyspace::Transfer::Done)
        );
        let moved = store.item(b"m", &guard).unwrap().cas;
        assert!(seen.insert(moved), "a move is a new write");
        accounted(&store);
    }

    #[test]
    fn with_cas_off_every_unique_is_zero_and_entries_carry_none() {
        let store = Store::new(1 << 20);
        let guard = store.guard();
        assert_eq!(set(&store, b"k", b"v", 0), Stored::Stored { cas: 0 });
        assert_eq!(store.item(b"k", &guard).unwrap().cas, 0);
        store.set(b"plain", b"v").unwrap();
        assert_eq!(store.item(b"plain", &guard).unwrap().cas, 0);
        assert_eq!(
            store.used_bytes(),
            crate::store::footprint::entry_charge(2, false)
                + crate::store::footprint::entry_charge(6, false),
            "no bytes for a unique"
        );
        assert_eq!(store.next_cas(), 0);
    }

    #[test]
    fn flags_round_trip_survive_transforms_and_are_reset_by_set() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        set(&store, b"k", b"v", 0xdead_beef);
        assert_eq!(store.item(b"k", &guard).unwrap().flags, 0xdead_beef);
        // Append ignores the flags it is given and keeps the old ones.
        let append = store.store_item(
            b"k",
            b"w",
            LIMIT,
            StoreMode::Append,
            7,
            ExpiryChange::Clear,
            None,
            &guard,
        );
        assert!(matches!(append, Ok(Stored::Stored { .. })));
        assert_eq!(store.item(b"k", &guard).unwrap().flags, 0xdead_beef);
        assert_eq!(store.append(b"k", b"x", 100, &guard), Ok(3));
        assert_eq!(store.set_range(b"k", 0, b"V", 100, &guard), Ok(3));
        assert_eq!(
            store.copy(b"k", b"c", false, &guard),
            Ok(crate::store::keyspace::Transfer::Done)
        );
        assert_eq!(store.item(b"c", &guard).unwrap().flags, 0xdead_beef);
        assert!(store.touch_item(b"k", ExpiryChange::At(9_000), &guard));
        let item = store.item(b"k", &guard).unwrap();
        assert_eq!((item.value, item.flags), (&b"Vwx"[..], 0xdead_beef));
        // A RESP SET replaces the value and resets the flags.
        store.set(b"k", b"new").unwrap();
        assert_eq!(store.item(b"k", &guard).unwrap().flags, 0);
        set(&store, b"n", b"1", 5);
        store
            .set_with(b"n", b"2", Default::default(), &guard)
            .unwrap();
        assert_eq!(store.item(b"n", &guard).unwrap().flags, 0);
        accounted(&store);
    }

    #[test]
    fn flags_and_cas_are_charged_exactly() {
        let (store, _) = store_at(1_000);
        use crate::store::footprint::entry_charge_with;
        set(&store, b"k", b"v", 1);
        assert_eq!(store.used_bytes(), entry_charge_with(2, false, 12));
        set(&store, b"k", b"v", 0);
        assert_eq!(store.used_bytes(), entry_charge_with(2, false, 8));
        let guard = store.guard();
        assert!(store.touch_item(b"k", ExpiryChange::At(5_000), &guard));
        assert_eq!(store.used_bytes(), entry_charge_with(2, true, 8));
        accounted(&store);
        assert!(store.delete(b"k"));
        assert_eq!((store.used_bytes(), store.usage_bytes()), (0, 0));
    }

    #[test]
    fn incr_wraps_decr_stops_at_zero_and_text_is_refused() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let arith = |key: &[u8], incr, delta| store.arith(key, incr, delta, None, &guard).unwrap();
        let value = |arith| match arith {
            Arith::Value { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(arith(b"n", true, 1), Arith::NotFound);
        set(&store, b"n", (u64::MAX - 1).to_string().as_bytes(), 3);
        assert_eq!(value(arith(b"n", true, 1)), u64::MAX);
        assert_eq!(value(arith(b"n", true, 2)), 1, "wraps at 2^64");
        assert_eq!(store.item(b"n", &guard).unwrap().value, b"1");
        assert_eq!(value(arith(b"n", false, 5)), 0, "stops at 0");
        assert_eq!(store.item(b"n", &guard).unwrap().flags, 3, "flags kept");
        for bad in [
            &b""[..],
            b"abc",
            b"12a",
            b"-1",
            b" 1",
            b"18446744073709551616",
            b"000000000000000000001",
        ] {
            set(&store, b"t", bad, 0);
            assert_eq!(arith(b"t", true, 1), Arith::NonNumeric, "{bad:?}");
        }
        set(&store, b"z", b"00000000000000000007", 0);
        assert_eq!(value(arith(b"z", true, 1)), 8, "20 digits are read");
        let cas = store.item(b"z", &guard).unwrap().cas;
        assert_eq!(
            store.arith(b"z", true, 1, Some(cas + 1), &guard),
            Ok(Arith::Exists)
        );
        assert!(matches!(
            store.arith(b"z", true, 1, Some(cas), &guard),
            Ok(Arith::Value { value: 9, .. })
        ));
        accounted(&store);
    }

    #[test]
    fn touch_and_expiry() {
        let (store, clock) = store_at(1_000);
        let guard = store.guard();
        assert!(!store.touch_item(b"k", ExpiryChange::At(2_000), &guard));
        let expiry = ExpiryChange::At(2_000);
        store
            .store_item(b"k", b"v", LIMIT, StoreMode::Set, 0, expiry, None, &guard)
            .unwrap();
        assert_eq!(store.item(b"k", &guard).unwrap().expires_at_ms, Some(2_000));
        let item = store.item_and_touch(b"k", ExpiryChange::At(3_000), &guard);
        assert_eq!(item.unwrap().unwrap().expires_at_ms, Some(3_000));
        assert!(store.touch_item(b"k", ExpiryChange::Clear, &guard));
        assert_eq!(store.item(b"k", &guard).unwrap().expires_at_ms, None);
        // Append keeps the expiry whatever it is given.
        assert!(store.touch_item(b"k", ExpiryChange::At(4_000), &guard));
        store
            .store_item(
                b"k",
                b"w",
                LIMIT,
                StoreMode::Append,
                0,
                ExpiryChange::Clear,
                None,
                &guard,
            )
            .unwrap();
        assert_eq!(store.item(b"k", &guard).unwrap().expires_at_ms, Some(4_000));
        clock.set(4_001);
        assert_eq!(store.item(b"k", &guard), None);
        assert_eq!(
            store.item_and_touch(b"k", ExpiryChange::Clear, &guard),
            Ok(None)
        );
        // A time already past: stored and gone at once; a touch to it removes the key.
        let past = store.store_item(
            b"p",
            b"v",
            LIMIT,
            StoreMode::Set,
            0,
            ExpiryChange::At(1),
            None,
            &guard,
        );
        assert!(matches!(past, Ok(Stored::Stored { .. })));
        assert_eq!(store.item(b"p", &guard), None);
        set(&store, b"p", b"v", 0);
        let item = store
            .item_and_touch(b"p", ExpiryChange::At(1), &guard)
            .unwrap();
        assert_eq!(item.map(|item| item.value), Some(&b"v"[..]));
        assert_eq!(store.item(b"p", &guard), None);
        accounted(&store);
    }

    #[test]
    fn delete_item_honours_the_unique() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        assert_eq!(store.delete_item(b"k", None, &guard), Removed::NotFound);
        let cas = cas_of(set(&store, b"k", b"v", 0));
        assert_eq!(
            store.delete_item(b"k", Some(cas + 1), &guard),
            Removed::Exists
        );
        assert_eq!(store.delete_item(b"k", Some(cas), &guard), Removed::Deleted);
        assert_eq!(store.delete_item(b"k", None, &guard), Removed::NotFound);
        accounted(&store);
    }

    #[test]
    fn concurrent_cas_writers_with_one_unique_store_once() {
        let (store, _) = store_at(1_000);
        let store = std::sync::Arc::new(store);
        for round in 0..200u32 {
            let cas = cas_of(set(&store, b"k", b"0", 0));
            let threads: Vec<_> = (0..4u32)
                .map(|t| {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let value = format!("{round}-{t}");
                        let guard = store.guard();
                        let outcome = store.store_item(
                            b"k",
                            value.as_bytes(),
                            LIMIT,
                            StoreMode::Set,
                            t,
                            ExpiryChange::Clear,
                            Some(cas),
                            &guard,
                        );
                        matches!(outcome, Ok(Stored::Stored { .. }))
                    })
                })
                .collect();
            let won = threads.into_iter().map(|t| t.join().unwrap());
            assert_eq!(won.filter(|&won| won).count(), 1, "round {round}");
        }
        accounted(&store);
    }
}
