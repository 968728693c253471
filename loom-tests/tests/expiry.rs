//! Loom models of expiry and read-modify-write commands: every interleaving of a SET, an
//! EXPIRE, an INCR or an APPEND with lazy expiry, active expiry, DELETE and eviction on
//! one key keeps `USAGE` and the count of keys with an expiry exact, and never removes a
//! newer entry in place of the expired one.
//!
//! Run: `RUSTFLAGS="--cfg blink_loom" CARGO_TARGET_DIR=target/loom cargo test -p blink-loom-tests --release`
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::update::{ExpiryChange, SetOptions};
use blink_store::store::{Clock, Store, StoreConfig};
use common::race;

/// The time every model runs at, in Unix milliseconds.
const NOW: u64 = 10_000;

/// A store whose clock stands at [`NOW`], sampled LRU, no hard cap.
fn store(max_bytes: u64) -> Arc<Store> {
    let config = StoreConfig::new(max_bytes)
        .policy(EvictionPolicy::Lru)
        .samples(2)
        .overshoot_bytes(u64::MAX / 4);
    Arc::new(Store::with_clock(config, Clock::manual(NOW)))
}

/// `k` holding `old`, expired one millisecond ago.
fn with_expired_key(max_bytes: u64) -> Arc<Store> {
    let store = store(max_bytes);
    store
        .set_with(b"k", b"old", expiring_at(NOW - 1), &store.guard())
        .unwrap();
    store
}

fn expiring_at(at_ms: u64) -> SetOptions {
    SetOptions {
        expiry: ExpiryChange::At(at_ms),
        ..SetOptions::default()
    }
}

#[test]
fn a_new_set_survives_lazy_expiry_of_the_old_entry() {
    loom::model(|| {
        let store = race(
            with_expired_key(1 << 20),
            |s| s.set(b"k", b"new").unwrap(),
            |s| {
                // A read finds the expired entry, or the new one.
                let got = s.get(b"k", &s.guard()).map(<[u8]>::to_vec);
                assert!(got.is_none() || got.as_deref() == Some(&b"new"[..]));
            },
        );
        assert_eq!(store.get(b"k", &store.guard()), Some(&b"new"[..]));
    });
}

#[test]
fn a_new_set_with_expiry_survives_active_expiry_of_the_old_entry() {
    loom::model(|| {
        let store = race(
            with_expired_key(1 << 20),
            |s| {
                s.set_with(b"k", b"new", expiring_at(NOW + 1_000), &s.guard())
                    .unwrap();
            },
            |s| {
                s.expire_expired();
            },
        );
        assert_eq!(store.get(b"k", &store.guard()), Some(&b"new"[..]));
        assert_eq!(store.volatile_count(), 1);
    });
}

#[test]
fn expire_races_set() {
    loom::model(|| {
        let store = store(1 << 20);
        store.set(b"k", b"old").unwrap();
        let store = race(
            store,
            |s| {
                s.expire_at(b"k", NOW + 1_000, &s.guard());
            },
            |s| s.set(b"k", b"newer").unwrap(),
        );
        // Either order: the newer value is there, with or without the expiry.
        assert_eq!(store.get(b"k", &store.guard()), Some(&b"newer"[..]));
    });
}

#[test]
fn increments_are_atomic() {
    loom::model(|| {
        let store = race(
            store(1 << 20),
            |s| {
                s.increment(b"n", 1, &s.guard()).unwrap();
            },
            |s| {
                s.increment(b"n", 2, &s.guard()).unwrap();
            },
        );
        assert_eq!(store.get(b"n", &store.guard()), Some(&b"3"[..]));
    });
}

#[test]
fn append_races_delete() {
    loom::model(|| {
        let store = store(1 << 20);
        store.set(b"k", b"ab").unwrap();
        let store = race(
            store,
            |s| {
                s.append(b"k", b"cd", 1024, &s.guard()).unwrap();
            },
            |s| {
                s.delete(b"k");
            },
        );
        let got = store.get(b"k", &store.guard()).map(<[u8]>::to_vec);
        assert!(
            got.is_none()
                || got.as_deref() == Some(&b"cd"[..])
                || got.as_deref() == Some(&b"abcd"[..]),
            "{got:?}"
        );
    });
}

#[test]
fn eviction_and_active_expiry_remove_an_expired_entry_once() {
    loom::model(|| {
        // `k` (expired, 4 bytes) and `b` (3 bytes) over a limit that holds `b` alone:
        // eviction prefers the expired entry when it samples it, and active expiry wants
        // it gone too.
        let store = with_expired_key(common::limit_for(common::charge(3)));
        store.set(b"b", b"22").unwrap();
        let store = race(
            store,
            |s| {
                s.evict_to_limit();
            },
            |s| {
                s.expire_expired();
            },
        );
        assert!(store.lookup(b"k", &store.guard()).is_none());
        assert_eq!(store.stats().expired, 1, "counted once, as expired");
    });
}
