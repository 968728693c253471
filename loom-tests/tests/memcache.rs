//! Loom models of memcached's CAS: two writers holding the same unique race to replace
//! the entry it was read from, and exactly one wins; a CAS write racing a plain SET wins
//! only if it comes first. Two `mg`s racing for a recache token (a stale item's, or a
//! missing key's with `N`) hand it to exactly one. Every interleaving keeps the charged
//! bytes and `USAGE` exact, with the unique's 8 bytes and the flags' 4 in every entry.
//!
//! Run: `RUSTFLAGS="--cfg blink_loom" CARGO_TARGET_DIR=target/loom cargo test -p blink-loom-tests --release`
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::memcache::{Fetch, StoreMode, Stored};
use blink_store::store::update::ExpiryChange;
use blink_store::store::{Store, StoreConfig};
use common::assert_exact;
use loom::thread;

/// A store with CAS on and room for everything: no eviction, no hard cap.
fn store() -> Arc<Store> {
    Arc::new(Store::with_config(
        StoreConfig::new(1 << 20)
            .policy(EvictionPolicy::Lru)
            .overshoot_bytes(u64::MAX / 4)
            .cas(true),
    ))
}

/// memcached's `cas`: stores `value` with `flags` if the key still holds `unique`.
fn cas(store: &Store, value: &[u8], flags: u32, unique: u64) -> Stored {
    let guard = store.guard();
    let expiry = ExpiryChange::Clear;
    store
        .store_item(
            b"k",
            value,
            usize::MAX,
            StoreMode::Set,
            flags,
            expiry,
            Some(unique),
            &guard,
        )
        .unwrap()
}

/// What `k` holds: value, flags and unique.
fn item(store: &Store) -> (Vec<u8>, u32, u64) {
    let guard = store.guard();
    let item = store.item(b"k", &guard).unwrap();
    (item.value.to_vec(), item.flags, item.cas)
}

#[test]
fn two_cas_writers_with_one_unique_store_once() {
    loom::model(|| {
        let store = store();
        store.set(b"k", b"old").unwrap();
        let (_, _, unique) = item(&store);
        let other = {
            let store = store.clone();
            thread::spawn(move || cas(&store, b"one", 1, unique))
        };
        let mine = cas(&store, b"second", 2, unique);
        let theirs = other.join().unwrap();
        let (value, flags, now) = item(&store);
        match (theirs, mine) {
            (Stored::Stored { cas }, Stored::Exists) => {
                assert_eq!((value.as_slice(), flags, now), (&b"one"[..], 1, cas));
            }
            (Stored::Exists, Stored::Stored { cas }) => {
                assert_eq!((value.as_slice(), flags, now), (&b"second"[..], 2, cas));
            }
            outcomes => panic!("exactly one CAS must store: {outcomes:?}"),
        }
        assert_ne!(now, unique, "the winner's write has a new unique");
        assert_exact(&store);
    });
}

#[test]
fn a_cas_write_racing_a_plain_set() {
    loom::model(|| {
        let store = store();
        store.set(b"k", b"old").unwrap();
        let (_, _, unique) = item(&store);
        let setter = {
            let store = store.clone();
            thread::spawn(move || store.set(b"k", b"plain").unwrap())
        };
        let outcome = cas(&store, b"by cas", 9, unique);
        setter.join().unwrap();
        let (value, flags, _) = item(&store);
        match outcome {
            // The CAS came first; the SET replaced it, and its flags with it.
            Stored::Stored { .. } => assert_eq!((value.as_slice(), flags), (&b"plain"[..], 0)),
            // The SET came first and changed the unique.
            Stored::Exists => assert_eq!((value.as_slice(), flags), (&b"plain"[..], 0)),
            other => panic!("a CAS over a present key answered {other:?}"),
        }
        assert_exact(&store);
    });
}

/// An `mg` with `fetch`: whether it won the token, and whether it created the item.
fn fetch(store: &Store, fetch: Fetch) -> (bool, bool) {
    let guard = store.guard();
    let fetched = store.fetch_item(b"k", fetch, &guard).unwrap().unwrap();
    (fetched.won, fetched.created)
}

#[test]
fn two_readers_of_a_stale_item_win_its_token_once() {
    loom::model(|| {
        let store = store();
        store.set(b"k", b"old").unwrap();
        let stale = store.invalidate_item(b"k", None, ExpiryChange::Keep, &store.guard());
        assert!(stale.is_ok());
        let other = {
            let store = store.clone();
            thread::spawn(move || fetch(&store, Fetch::META_GET))
        };
        let (mine, _) = fetch(&store, Fetch::META_GET);
        let (theirs, _) = other.join().unwrap();
        assert!(mine != theirs, "exactly one reader wins");
        let guard = store.guard();
        let marks = store.item(b"k", &guard).unwrap().marks;
        assert!(marks.stale && marks.won);
        assert_exact(&store);
    });
}

#[test]
fn two_readers_of_a_missing_key_create_it_once() {
    loom::model(|| {
        let store = store();
        let vivify = Fetch {
            vivify: Some(ExpiryChange::Clear),
            ..Fetch::META_GET
        };
        let other = {
            let store = store.clone();
            thread::spawn(move || fetch(&store, vivify))
        };
        let mine = fetch(&store, vivify);
        let theirs = other.join().unwrap();
        match (mine, theirs) {
            ((true, true), (false, false)) | ((false, false), (true, true)) => {}
            outcomes => panic!("exactly one reader creates and wins: {outcomes:?}"),
        }
        assert_eq!(item(&store).0, b"");
        assert_exact(&store);
    });
}
