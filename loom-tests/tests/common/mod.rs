//! What every loom model shares: running two operations on two threads, then checking
//! that the store's counters equal what its entries say.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use blink_store::store::footprint::{entry_charge, Structures};
use blink_store::store::Store;
use loom::thread;

/// After every thread has joined, the charged bytes, `USAGE` and the count of keys with an
/// expiry equal the sums over live entries.
pub fn assert_exact(store: &Store) {
    assert_eq!(
        store.used_bytes(),
        store.recount_charged(),
        "charged bytes drifted from the entries"
    );
    assert_eq!(
        store.usage_bytes(),
        store.recount(),
        "usage drifted from the entries"
    );
    assert_eq!(
        store.volatile_count(),
        store.recount_volatile(),
        "count of keys with an expiry drifted"
    );
}

/// Runs `a` and `b` on two threads against `store`, then checks the counters.
pub fn race(
    store: Arc<Store>,
    a: impl Fn(&Store) + Send + Sync + 'static,
    b: impl Fn(&Store) + Send + Sync + 'static,
) -> Arc<Store> {
    let other = {
        let store = store.clone();
        thread::spawn(move || a(&store))
    };
    b(&store);
    other.join().unwrap();
    assert_exact(&store);
    store
}

/// Checks `model` in every interleaving with at most `preemptions` preemptions, unless
/// `LOOM_MAX_PREEMPTIONS` sets another bound: for models too large to explore whole.
pub fn model_bounded(preemptions: usize, model: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(model);
}

/// The charge of an entry of `data_bytes` key and value bytes, without an expiry.
pub fn charge(data_bytes: u64) -> u64 {
    entry_charge(data_bytes, false)
}

/// A memory limit that leaves `entry_bytes` to entries once a small store's shared
/// structures are charged.
pub fn limit_for(entry_bytes: u64) -> u64 {
    Structures::default().table_bytes() + entry_bytes
}
