//! Loom models: every interleaving of a few SETs, DELETEs and evictions on one or two
//! keys keeps `USAGE` exact. They run the store's real code; only its map, atomics
//! and locks are loom's (see `src/sync.rs`).
//!
//! Run: `RUSTFLAGS="--cfg blink_loom" CARGO_TARGET_DIR=target/loom cargo test -p blink-loom-tests --release`
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::{Store, StoreConfig};
use common::{assert_exact, charge, limit_for, model_bounded, race};
use loom::thread;

/// A store with `max_bytes`, sampled LRU, and no hard cap (so writers never help evict
/// unless a model asks them to).
fn store(max_bytes: u64) -> Arc<Store> {
    Arc::new(Store::with_config(
        StoreConfig::new(max_bytes)
            .policy(EvictionPolicy::Lru)
            .samples(2)
            .overshoot_bytes(u64::MAX / 4),
    ))
}

/// Two 4-byte entries, `a` and `b`, over a limit for one and a half: eviction must
/// remove one.
fn over_limit() -> Arc<Store> {
    let store = store(limit_for(charge(4) * 3 / 2));
    store.set(b"a", b"111").unwrap();
    store.set(b"b", b"222").unwrap();
    store
}

/// One eviction run, as the evictor thread does it.
fn evict(store: &Store) {
    store.evict_to_limit();
}

#[test]
fn set_set_of_one_key_with_different_sizes() {
    loom::model(|| {
        race(
            store(1 << 20),
            |s| s.set(b"k", b"short").unwrap(),
            |s| s.set(b"k", b"a longer value").unwrap(),
        );
    });
}

#[test]
fn set_delete() {
    loom::model(|| {
        let store = store(1 << 20);
        store.set(b"k", b"old").unwrap();
        race(
            store,
            |s| s.set(b"k", b"newer").unwrap(),
            |s| {
                s.delete(b"k");
            },
        );
    });
}

#[test]
fn set_evict() {
    loom::model(|| {
        race(over_limit(), |s| s.set(b"a", b"9").unwrap(), evict);
    });
}

#[test]
fn delete_evict() {
    loom::model(|| {
        race(
            over_limit(),
            |s| {
                s.delete(b"a");
            },
            evict,
        );
    });
}

#[test]
fn evict_evict_of_the_same_candidate() {
    loom::model(|| {
        // One entry over the limit: both evictors go for it; it is discharged once.
        let store = store(limit_for(charge(4) * 3 / 2));
        store.set(b"a", b"111").unwrap();
        store.set(b"b", b"22").unwrap();
        let used_before = store.used_bytes();
        let store2 = store.clone();
        race(store2, evict, evict);
        assert!(store.used_bytes() <= store.entry_budget());
        assert!(store.used_bytes() < used_before);
    });
}

#[test]
fn eviction_racing_a_newer_set_keeps_the_newer_value_or_evicts_it_whole() {
    loom::model(|| {
        // Over the limit by one entry; a SET replaces "b" while the evictor samples.
        let store = store(limit_for(charge(4)));
        store.set(b"a", b"123").unwrap();
        store.set(b"b", b"1").unwrap();
        let store2 = store.clone();
        race(store2, |s| s.set(b"b", b"2").unwrap(), evict);
        // The old value of "b" never comes back, and the accounting is exact (checked
        // in `race`): the evictor discharged only what it removed itself.
        let guard = store.guard();
        assert_ne!(store.get(b"b", &guard), Some(&b"1"[..]));
    });
}

#[test]
fn set_set_delete_three_threads() {
    model_bounded(3, || {
        let store = store(1 << 20);
        let a = {
            let store = store.clone();
            thread::spawn(move || store.set(b"k", b"one").unwrap())
        };
        let b = {
            let store = store.clone();
            thread::spawn(move || store.set(b"k", b"second value").unwrap())
        };
        store.delete(b"k");
        a.join().unwrap();
        b.join().unwrap();
        assert_exact(&store);
    });
}

#[test]
fn usage_never_underflows_or_undercounts_while_ops_race() {
    loom::model(|| {
        let store = store(1 << 20);
        store.set(b"k", b"v").unwrap();
        let writer = {
            let store = store.clone();
            thread::spawn(move || {
                store.set(b"k", b"longer").unwrap();
                store.delete(b"k");
            })
        };
        // The charge never wraps below zero.
        let observed = store.used_bytes();
        assert!(observed < 1 << 32, "used underflowed: {observed}");
        writer.join().unwrap();
        assert_exact(&store);
    });
}

/// The seed's read-then-write accounting loses a race that loom must find.
#[test]
fn loom_finds_the_read_then_write_accounting_bug() {
    let found = std::panic::catch_unwind(|| {
        loom::model(|| {
            let store = store(1 << 20);
            let other = {
                let store = store.clone();
                thread::spawn(move || store.set_read_then_write(b"k", b"aa"))
            };
            store.set_read_then_write(b"k", b"bbbb");
            other.join().unwrap();
            assert_exact(&store);
        });
    });
    assert!(
        found.is_err(),
        "loom should have found the drift in the broken accounting"
    );
}

/// While SETs of new keys race (nothing is replaced, deleted or evicted, so nothing is
/// discharged), `used` never counts less than what is published: read the published
/// entries first, then `used`; each charge precedes its publication, so the counter read
/// later covers at least the entries seen earlier. (With overwrites a two-step read
/// proves nothing: the entry seen may be replaced and discharged between the reads.)
#[test]
fn usage_never_counts_less_than_what_is_published() {
    model_bounded(3, || {
        let store = store(1 << 20);
        let writers: Vec<_> = [(&b"k1"[..], &b"one"[..]), (b"k2", b"a much longer value")]
            .into_iter()
            .map(|(key, value)| {
                let store = store.clone();
                thread::spawn(move || store.set(key, value).unwrap())
            })
            .collect();
        let published = store.recount_charged();
        let used = store.used_bytes();
        assert!(used >= published, "used {used} < published {published}");
        for writer in writers {
            writer.join().unwrap();
        }
        assert_exact(&store);
    });
}
