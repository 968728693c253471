//! Loom models of the commands that write one key from another (RENAME, RENAMENX, COPY):
//! every interleaving with a SET or DELETE of either key keeps `USAGE` and the charged
//! bytes exact, never shows the value lost or doubled, and never undoes the other write.
//!
//! Run: `RUSTFLAGS="--cfg blink_loom" CARGO_TARGET_DIR=target/loom cargo test -p blink-loom-tests --release`
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::keyspace::Transfer;
use blink_store::store::{Store, StoreConfig};
use common::{model_bounded, race};

/// A store with room for everything: no eviction, no hard cap.
fn store() -> Arc<Store> {
    Arc::new(Store::with_config(
        StoreConfig::new(1 << 20)
            .policy(EvictionPolicy::Lru)
            .overshoot_bytes(u64::MAX / 4),
    ))
}

/// What `key` holds, if anything.
fn value(store: &Store, key: &[u8]) -> Option<Vec<u8>> {
    store
        .lookup(key, &store.guard())
        .map(|entry| entry.value().to_vec())
}

fn rename(store: &Store, from: &[u8], to: &[u8], replace: bool) -> Transfer {
    store.rename(from, to, replace, &store.guard()).unwrap()
}

#[test]
fn rename_racing_a_write_of_its_source() {
    model_bounded(2, || {
        let store = store();
        store.set(b"a", b"old").unwrap();
        let store = race(
            store,
            |s| assert_eq!(rename(s, b"a", b"b", true), Transfer::Done),
            |s| s.set(b"a", b"new").unwrap(),
        );
        // The write landed before the move (and moved with it) or after it (and stays).
        let outcome = (value(&store, b"a"), value(&store, b"b"));
        let new_moved = (None, Some(b"new".to_vec()));
        let new_stays = (Some(b"new".to_vec()), Some(b"old".to_vec()));
        assert!(outcome == new_moved || outcome == new_stays, "{outcome:?}");
    });
}

#[test]
fn rename_racing_a_delete_of_its_destination() {
    model_bounded(2, || {
        let store = store();
        store.set(b"a", b"1").unwrap();
        store.set(b"b", b"22").unwrap();
        let store = race(
            store,
            |s| assert_eq!(rename(s, b"a", b"b", true), Transfer::Done),
            |s| {
                s.delete(b"b");
            },
        );
        assert_eq!(value(&store, b"a"), None);
        assert!(matches!(value(&store, b"b").as_deref(), None | Some(b"1")));
    });
}

#[test]
fn renamenx_racing_a_write_of_its_destination() {
    model_bounded(2, || {
        let store = store();
        store.set(b"a", b"1").unwrap();
        let store = race(
            store,
            |s| {
                rename(s, b"a", b"b", false);
            },
            |s| s.set(b"b", b"x").unwrap(),
        );
        // The write wins `b` either way; `a` moved only if it got there first.
        assert_eq!(value(&store, b"b").as_deref(), Some(&b"x"[..]));
        assert!(matches!(value(&store, b"a").as_deref(), None | Some(b"1")));
    });
}

#[test]
fn copy_racing_a_delete_of_its_source() {
    model_bounded(2, || {
        let store = store();
        store.set(b"a", b"1").unwrap();
        let store = race(
            store,
            |s| {
                s.copy(b"a", b"b", false, &s.guard()).unwrap();
            },
            |s| {
                s.delete(b"a");
            },
        );
        assert_eq!(value(&store, b"a"), None);
        assert!(matches!(value(&store, b"b").as_deref(), None | Some(b"1")));
    });
}
