//! memcached's reads, and the meta protocol's marks that reads and `md` set: `get`,
//! `gat`, `touch` and `mg` with `T` (new TTL), `N` (create a missing key) and `R` (win a
//! key close to expiry), and `md` with `I` (mark stale).
//!
//! # Marks and win tokens
//! An entry carries memcached's [`Marks`] in header bits: stale (`md`/`ms` with `I`),
//! win token handed out, fetched. `mg` hands the win token (`W`) to exactly one client:
//! the reader that finds the token free installs a copy of the entry with the token
//! taken, through [`Store::modify`], which installs only over the very entry it read; a
//! racing reader then reads again and sees the token gone (`Z`). The fetched mark costs
//! one rebuild of the entry, on its first read over memcached, and only while the store
//! keeps CAS uniques (a memcached listener is configured). Most reads find nothing to
//! change and write nothing.

use super::Removed;
use crate::store::entry::{Extras, Marks, Value};
use crate::store::update::{ExpiryChange, Plan};
use crate::store::{key_hash, Entry, Store, StoreError};
use crate::sync::Guard;

/// A live entry as memcached reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'g> {
    /// The value.
    pub value: &'g [u8],
    /// The client flags (0 if none were set).
    pub flags: u32,
    /// The CAS unique (0 if the store keeps none).
    pub cas: u64,
    /// When it expires (Unix milliseconds), if ever.
    pub expires_at_ms: Option<u64>,
    /// Milliseconds since the last access before this one (meta `l`).
    pub idle_ms: u64,
    /// memcached's marks as they were before this read (meta `h`, `X`, `Z`).
    pub marks: Marks,
}

impl<'g> Item<'g> {
    fn of(entry: &'g Entry, idle_ms: u64) -> Self {
        Self {
            value: entry.value(),
            flags: entry.flags(),
            cas: entry.cas(),
            expires_at_ms: entry.expires_at_ms(),
            idle_ms,
            marks: entry.marks(),
        }
    }
}

/// What a read asks of the item besides its bytes: the meta protocol's `mg` flags that
/// change it, as memcached 1.6 applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    /// A new expiry (`T`, gat, touch); [`ExpiryChange::Keep`] for none.
    pub touch: ExpiryChange,
    /// `N`: on a miss, create an empty item with this expiry and win its token.
    pub vivify: Option<ExpiryChange>,
    /// `R`: win the token if the item has fewer seconds left than it has until this
    /// Unix time (milliseconds).
    pub recache_at_ms: Option<u64>,
    /// `R` judges the expiry `touch` sets, not the old one (`T` came before `R`).
    pub recache_after_touch: bool,
    /// An access: refreshes the access stamp and the frequency sketch, and marks the
    /// item fetched (`u` says not).
    pub bump: bool,
    /// The read may win the token (`mg` may; get, gat and touch never do).
    pub can_win: bool,
}

impl Fetch {
    /// A plain read.
    pub const READ: Self = Self {
        touch: ExpiryChange::Keep,
        vivify: None,
        recache_at_ms: None,
        recache_after_touch: false,
        bump: true,
        can_win: false,
    };

    /// A plain `mg`: a read that wins the token of a stale item nobody holds yet.
    pub const META_GET: Self = Self {
        can_win: true,
        ..Self::READ
    };

    /// A read that sets a new expiry.
    pub const fn touch(expiry: ExpiryChange) -> Self {
        Self {
            touch: expiry,
            ..Self::READ
        }
    }

    /// Whether it may write more than memcached's marks.
    fn writes(&self) -> bool {
        self.touch != ExpiryChange::Keep || self.vivify.is_some()
    }
}

/// What a fetch found and what it handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched<'g> {
    /// The item, with the expiry it has after the fetch and the marks it had before.
    pub item: Item<'g>,
    /// This read took the item's win token (`W`): its client should recache the item.
    pub won: bool,
    /// The key was missing and `N` created the item, empty.
    pub created: bool,
}

/// Whole seconds from `now_ms` until `at_ms`, rounded up as memcached's `t` shows them.
fn secs_left(at_ms: u64, now_ms: u64) -> u64 {
    at_ms.saturating_sub(now_ms).div_ceil(1000)
}

impl Store {
    /// Reads a live entry, counting a hit or miss and refreshing its access stamp as GET
    /// does (and marking it fetched, [`Fetch::READ`]).
    pub fn item<'g>(&self, key: &[u8], guard: &'g Guard<'_>) -> Option<Item<'g>> {
        // A fetch that writes no more than the marks never fails (see `fetch`).
        let fetched = self.fetch_item(key, Fetch::READ, guard).ok().flatten();
        fetched.map(|fetched| fetched.item)
    }

    /// Reads and sets a new expiry (gat/gats): the returned item has the new expiry; the
    /// CAS unique, the flags and the marks are unchanged by a touch (as in memcached). A
    /// time not in the future removes the key after this read, which still returns it.
    /// Counts a hit or a miss.
    ///
    /// # Errors
    /// None in practice: the new entry holds the same bytes as the old one.
    pub fn item_and_touch<'g>(
        &self,
        key: &[u8],
        expiry: ExpiryChange,
        guard: &'g Guard<'_>,
    ) -> Result<Option<Item<'g>>, StoreError> {
        let fetched = self.fetch_item(key, Fetch::touch(expiry), guard)?;
        Ok(fetched.map(|fetched| fetched.item))
    }

    /// Reads a live entry as `mg` does with `fetch`: touches it, creates it on a miss,
    /// hands out its win token and marks it fetched, all in one [`Store::modify`], so
    /// that one token goes to exactly one reader. Counts a hit (a created item too, as
    /// memcached does) or a miss.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the rebuilt entry no longer fits (the limit was
    /// lowered below it); a fetch that writes only the marks then reports the item as
    /// read instead.
    pub fn fetch_item<'g>(
        &self,
        key: &[u8],
        fetch: Fetch,
        guard: &'g Guard<'_>,
    ) -> Result<Option<Fetched<'g>>, StoreError> {
        if fetch.bump {
            self.record_access(key_hash(key));
        }
        let fetched = self.fetch(key, fetch, guard)?;
        self.count_read(fetched.is_some());
        Ok(fetched)
    }

    /// [`Store::fetch_item`] without counting a read.
    fn fetch<'g>(
        &self,
        key: &[u8],
        fetch: Fetch,
        guard: &'g Guard<'_>,
    ) -> Result<Option<Fetched<'g>>, StoreError> {
        let now_ms = self.unix_ms();
        let found = self.lookup_meta(key, guard);
        // The idle time is a heuristic: read before the write, not with it.
        let idle_ms = found.map_or(0, |(_, meta)| self.idle_ms(meta));
        let as_read = |entry| Fetched {
            item: Item::of(entry, idle_ms),
            won: false,
            created: false,
        };
        if let Some((entry, meta)) = found {
            // Most reads change nothing: no write, and no token can be won.
            if self.fetched_extras(entry, fetch, now_ms).0 == entry.extras() {
                if fetch.bump {
                    meta.touch(self.access_ms());
                }
                return Ok(Some(as_read(entry)));
            }
        }
        let outcome = self.modify(key, guard, |live| {
            self.fetch_plan(live, fetch, idle_ms, now_ms)
        });
        match outcome {
            Err(_) if !fetch.writes() => Ok(found.map(|(entry, _)| as_read(entry))),
            outcome => outcome,
        }
    }

    /// What `fetch` does with the live entry (or its absence), and what it reports.
    fn fetch_plan<'g>(
        &self,
        live: Option<&'g Entry>,
        fetch: Fetch,
        idle_ms: u64,
        now_ms: u64,
    ) -> (Plan<'g>, Option<Fetched<'g>>) {
        let Some(entry) = live else {
            let Some(expiry) = fetch.vivify else {
                return (Plan::Keep, None);
            };
            return self.vivify(expiry, fetch.bump, now_ms);
        };
        let old = entry.extras();
        let (extras, won) = self.fetched_extras(entry, fetch, now_ms);
        let mut item = Item::of(entry, idle_ms);
        item.expires_at_ms = extras.expires_at_ms;
        let expiry_changed = extras.expires_at_ms != old.expires_at_ms;
        let plan = match extras.expires_at_ms {
            _ if extras == old => Plan::Keep,
            Some(at) if expiry_changed && at <= now_ms => Plan::Remove,
            _ => Plan::Install {
                value: Value::Bytes(entry.value()),
                extras,
            },
        };
        let fetched = Fetched {
            item,
            won,
            created: false,
        };
        (plan, Some(fetched))
    }

    /// The extras `fetch` leaves the live `entry` with, and whether it wins the token:
    /// as memcached's `mg`, a reader wins if no token was handed out yet and the item is
    /// stale or (`R`) expires within the time given.
    fn fetched_extras(&self, entry: &Entry, fetch: Fetch, now_ms: u64) -> (Extras, bool) {
        let old = entry.extras();
        let mut extras = old;
        match fetch.touch {
            ExpiryChange::Keep => {}
            ExpiryChange::Clear => extras.expires_at_ms = None,
            ExpiryChange::At(at) => extras.expires_at_ms = Some(at),
        }
        let judged = match fetch.recache_after_touch {
            true => extras.expires_at_ms,
            false => old.expires_at_ms,
        };
        let recache = fetch
            .recache_at_ms
            .zip(judged)
            .is_some_and(|(limit, at)| secs_left(at, now_ms) < secs_left(limit, now_ms));
        let won = fetch.can_win && !old.marks.won && (old.marks.stale || recache);
        extras.marks.won |= won;
        extras.marks.fetched |= fetch.bump && self.config.cas;
        (extras, won)
    }

    /// `mg` with `N` on a miss: an empty item with `expiry` whose token this reader
    /// wins (not stored if the expiry is already past).
    fn vivify<'g>(
        &self,
        expiry: ExpiryChange,
        bump: bool,
        now_ms: u64,
    ) -> (Plan<'g>, Option<Fetched<'g>>) {
        let expires_at_ms = match expiry {
            ExpiryChange::At(at) => Some(at),
            ExpiryChange::Keep | ExpiryChange::Clear => None,
        };
        let extras = Extras {
            expires_at_ms,
            flags: 0,
            cas: self.next_cas(),
            marks: Marks {
                won: true,
                fetched: bump && self.config.cas,
                stale: false,
            },
        };
        let item = Item {
            value: b"",
            flags: 0,
            cas: extras.cas,
            expires_at_ms,
            idle_ms: 0,
            marks: Marks::default(),
        };
        let plan = match expires_at_ms {
            Some(at) if at <= now_ms => Plan::Keep,
            _ => Plan::Install {
                value: Value::Bytes(b""),
                extras,
            },
        };
        let fetched = Fetched {
            item,
            won: true,
            created: true,
        };
        (plan, Some(fetched))
    }

    /// touch: sets the expiry, true if the key was live. The CAS unique, the flags and
    /// the marks stay (it marks the item fetched, as memcached's touch does); a time not
    /// in the future removes the key. Not counted as a read.
    pub fn touch_item(&self, key: &[u8], expiry: ExpiryChange, guard: &Guard<'_>) -> bool {
        let touched = self.fetch(key, Fetch::touch(expiry), guard);
        // The new entry holds the same bytes as the old one, so it always fits.
        touched.is_ok_and(|fetched| fetched.is_some())
    }

    /// `md` with `I`: marks the live item stale with a new CAS unique and frees its win
    /// token for the next `mg`, instead of removing it; `expiry` (`md`'s `T`) sets a new
    /// one unless it is [`ExpiryChange::Keep`], and one not in the future removes the
    /// key. Only if the unique is `compare_cas`, when given.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the rebuilt entry no longer fits (the limit was
    /// lowered below it).
    pub fn invalidate_item(
        &self,
        key: &[u8],
        compare_cas: Option<u64>,
        expiry: ExpiryChange,
        guard: &Guard<'_>,
    ) -> Result<Removed, StoreError> {
        let now_ms = self.unix_ms();
        self.modify(key, guard, |live| {
            let Some(entry) = live else {
                return (Plan::Keep, Removed::NotFound);
            };
            if compare_cas.is_some_and(|cas| cas != entry.cas()) {
                return (Plan::Keep, Removed::Exists);
            }
            let mut extras = entry.extras();
            match expiry {
                ExpiryChange::Keep => {}
                ExpiryChange::Clear => extras.expires_at_ms = None,
                ExpiryChange::At(at) if at <= now_ms => {
                    return (Plan::Remove, Removed::Invalidated)
                }
                ExpiryChange::At(at) => extras.expires_at_ms = Some(at),
            }
            extras.cas = self.next_cas();
            extras.marks.stale = true;
            extras.marks.won = false;
            let plan = Plan::Install {
                value: Value::Bytes(entry.value()),
                extras,
            };
            (plan, Removed::Invalidated)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{accounted, cas_of, set, store_at, LIMIT};
    use super::super::{Storage, StoreMode, Stored};
    use super::*;

    #[test]
    fn reads_count_hits_and_misses_and_report_idle_time() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        assert_eq!(store.item(b"k", &guard), None);
        set(&store, b"k", b"v", 0);
        let item = store.item(b"k", &guard).unwrap();
        assert!(item.idle_ms < 1_000);
        let stats = store.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));
    }

    /// An `mg` with `N` (vivify on a miss, never expiring) and `R` (recache within
    /// `recache_at_ms`).
    fn fetch(recache_at_ms: Option<u64>) -> Fetch {
        Fetch {
            vivify: Some(ExpiryChange::Clear),
            recache_at_ms,
            ..Fetch::META_GET
        }
    }

    fn fetched<'g>(store: &Store, key: &[u8], fetch: Fetch, guard: &'g Guard<'_>) -> Fetched<'g> {
        store.fetch_item(key, fetch, guard).unwrap().unwrap()
    }

    #[test]
    fn a_miss_with_n_creates_an_empty_item_whose_token_one_reader_wins() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let first = fetched(&store, b"k", fetch(None), &guard);
        assert!(first.created && first.won);
        assert_eq!((first.item.value, first.item.flags), (&b""[..], 0));
        assert_eq!(first.item.marks, Marks::default());
        assert_ne!(first.item.cas, 0);
        let second = fetched(&store, b"k", fetch(None), &guard);
        assert!(!second.created && !second.won);
        assert!(second.item.marks.won, "Z: the token is taken");
        assert_eq!(second.item.cas, first.item.cas, "a win keeps the unique");
        // N's TTL is the item's; one already past creates nothing, but still wins.
        let past = Fetch {
            vivify: Some(ExpiryChange::At(1)),
            ..Fetch::META_GET
        };
        assert!(fetched(&store, b"gone", past, &guard).won);
        assert_eq!(store.lookup(b"gone", &guard), None);
        let timed = Fetch {
            vivify: Some(ExpiryChange::At(60_000)),
            ..Fetch::META_GET
        };
        fetched(&store, b"timed", timed, &guard);
        assert_eq!(
            store.item(b"timed", &guard).unwrap().expires_at_ms,
            Some(60_000)
        );
        assert_eq!(store.stats().misses, 0, "a created item is a hit");
        accounted(&store);
    }

    #[test]
    fn r_wins_once_when_the_item_has_less_time_left() {
        let (store, clock) = store_at(1_000);
        let guard = store.guard();
        let expiry = ExpiryChange::At(11_000);
        store
            .store_item(b"k", b"v", LIMIT, StoreMode::Set, 0, expiry, None, &guard)
            .unwrap();
        set(&store, b"forever", b"v", 0);
        // 10 s left: R10 does not win, R11 does, once.
        assert!(!fetched(&store, b"k", fetch(Some(11_000)), &guard).won);
        assert!(!fetched(&store, b"forever", fetch(Some(99_000)), &guard).won);
        clock.set(1_500);
        let won = fetched(&store, b"k", fetch(Some(12_500)), &guard);
        assert!(won.won && !won.item.marks.won);
        let late = fetched(&store, b"k", fetch(Some(12_500)), &guard);
        assert!(!late.won && late.item.marks.won);
        // R after T judges T's expiry.
        set(&store, b"t", b"v", 0);
        let touched = Fetch {
            touch: ExpiryChange::At(3_000),
            recache_at_ms: Some(5_000),
            ..Fetch::META_GET
        };
        assert!(!fetched(&store, b"t", touched, &guard).won);
        let after_touch = Fetch {
            recache_after_touch: true,
            touch: ExpiryChange::At(4_000),
            ..touched
        };
        let won = fetched(&store, b"t", after_touch, &guard);
        assert!(won.won);
        assert_eq!(won.item.expires_at_ms, Some(4_000));
        // A new value frees the token.
        set(&store, b"k", b"new", 0);
        assert!(!store.item(b"k", &guard).unwrap().marks.won);
        accounted(&store);
    }

    #[test]
    fn invalidation_marks_stale_and_hands_the_token_to_the_next_reader() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        let invalidate = |cas, expiry| store.invalidate_item(b"k", cas, expiry, &guard);
        assert_eq!(invalidate(None, ExpiryChange::Keep), Ok(Removed::NotFound));
        let old = cas_of(set(&store, b"k", b"v1", 4));
        assert_eq!(
            invalidate(Some(old + 1), ExpiryChange::Keep),
            Ok(Removed::Exists)
        );
        assert_eq!(
            invalidate(Some(old), ExpiryChange::At(9_000)),
            Ok(Removed::Invalidated)
        );
        // A text get or touch neither wins nor takes the token.
        assert!(!store.item(b"k", &guard).unwrap().marks.won);
        assert!(store.touch_item(b"k", ExpiryChange::At(9_000), &guard));
        let first = fetched(&store, b"k", Fetch::META_GET, &guard);
        assert!(first.won && first.item.marks.stale && !first.item.marks.won);
        assert_eq!((first.item.value, first.item.flags), (&b"v1"[..], 4));
        assert_eq!(first.item.expires_at_ms, Some(9_000));
        let stale = first.item.cas;
        assert!(stale > old, "invalidation bumps the unique");
        let second = fetched(&store, b"k", Fetch::META_GET, &guard);
        assert!(!second.won && second.item.marks.stale && second.item.marks.won);
        // ms with I: an older unique stores, stale, keeping the expiry and the token.
        let storage = |compare_cas, invalidate| Storage {
            mode: StoreMode::Set,
            flags: 5,
            expiry: ExpiryChange::Clear,
            compare_cas: Some(compare_cas),
            invalidate,
            max_len: LIMIT,
        };
        let write = |storage| store.store_item_with(b"k", b"v2", storage, &guard);
        assert_eq!(write(storage(old, false)), Ok(Stored::Exists));
        assert_eq!(write(storage(stale + 1, true)), Ok(Stored::Exists), "newer");
        assert_eq!(
            write(storage(0, true)),
            Ok(Stored::Exists),
            "0 is no unique"
        );
        let renewed = cas_of(write(storage(old, true)).unwrap());
        let item = store.item(b"k", &guard).unwrap();
        assert_eq!((item.value, item.flags, item.cas), (&b"v2"[..], 5, renewed));
        assert_eq!(item.expires_at_ms, Some(9_000));
        assert!(item.marks.stale && item.marks.won);
        // The matching unique stores a fresh item: not stale, token free.
        assert!(matches!(
            write(storage(renewed, true)),
            Ok(Stored::Stored { .. })
        ));
        let fresh = fetched(&store, b"k", Fetch::META_GET, &guard);
        assert!(!fresh.won && !fresh.item.marks.stale && !fresh.item.marks.won);
        assert_eq!(fresh.item.expires_at_ms, None);
        // A TTL already past removes the key.
        assert_eq!(
            invalidate(None, ExpiryChange::At(1)),
            Ok(Removed::Invalidated)
        );
        assert_eq!(store.lookup(b"k", &guard), None);
        accounted(&store);
    }

    #[test]
    fn the_first_read_marks_an_item_fetched_and_a_write_clears_it() {
        let (store, _) = store_at(1_000);
        let guard = store.guard();
        set(&store, b"k", b"v", 0);
        let unbumped = Fetch {
            bump: false,
            ..Fetch::READ
        };
        assert!(!fetched(&store, b"k", unbumped, &guard).item.marks.fetched);
        assert!(!store.item(b"k", &guard).unwrap().marks.fetched, "u: not");
        assert!(store.item(b"k", &guard).unwrap().marks.fetched);
        let cas = store.item(b"k", &guard).unwrap().cas;
        assert!(store.touch_item(b"k", ExpiryChange::At(5_000), &guard));
        let item = store.item(b"k", &guard).unwrap();
        assert!(item.marks.fetched && item.cas == cas, "a touch keeps both");
        assert!(store.expire_at(b"k", 6_000, &guard), "as does EXPIRE");
        assert!(store.item(b"k", &guard).unwrap().marks.fetched);
        assert_eq!(store.append(b"k", b"w", 100, &guard), Ok(2));
        assert!(!store.item(b"k", &guard).unwrap().marks.fetched);
        accounted(&store);
        // Without CAS uniques no read rebuilds an entry to mark it.
        let plain = Store::new(1 << 20);
        let guard = plain.guard();
        plain.set(b"k", b"v").unwrap();
        let before = plain.lookup(b"k", &guard).unwrap() as *const Entry;
        plain.item(b"k", &guard).unwrap();
        assert!(!plain.item(b"k", &guard).unwrap().marks.fetched);
        assert!(std::ptr::eq(before, plain.lookup(b"k", &guard).unwrap()));
    }

    #[test]
    fn concurrent_readers_win_one_token() {
        let (store, _) = store_at(1_000);
        let store = std::sync::Arc::new(store);
        let race = |fetch: Fetch| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let guard = store.guard();
                        let fetched = store.fetch_item(b"k", fetch, &guard).unwrap().unwrap();
                        (fetched.won, fetched.created)
                    })
                })
                .collect();
            let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            outcomes.iter().filter(|(won, _)| *won).count()
        };
        for round in 0..100 {
            let guard = store.guard();
            store.delete_item(b"k", None, &guard);
            assert_eq!(race(fetch(None)), 1, "vivify, round {round}");
            store
                .invalidate_item(b"k", None, ExpiryChange::Keep, &guard)
                .unwrap();
            assert_eq!(race(Fetch::META_GET), 1, "stale, round {round}");
            let expiry = ExpiryChange::At(5_000);
            store
                .store_item(b"k", b"v", LIMIT, StoreMode::Set, 0, expiry, None, &guard)
                .unwrap();
            assert_eq!(race(fetch(Some(9_000))), 1, "recache, round {round}");
        }
        accounted(&store);
    }
}
