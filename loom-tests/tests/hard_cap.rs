//! Loom models of the hard cap: a writer whose charge would pass it helps evict, then
//! retries its check-and-charge, one compare-exchange, until the charge fits. Every
//! interleaving (up to [`PREEMPTIONS`] preemptions) of such a writer with the evictor,
//! or with a second such writer, keeps `used` within the hard cap, discharges each
//! evicted entry once and keeps `USAGE` exact; the write that leaves `used` over the
//! limit wakes the parked evictor. Each round of helping here finds an entry to evict,
//! so a writer never gives up on the cap and charges anyway. When the cap drops under
//! `used` (the structures' charge rose), a writer racing the evictor goes ahead once
//! eviction has lowered `used` from the level it stood at by the write's charge and as
//! much again: over the cap, each write lowers `used`. (Waiting for room under the cap
//! itself, it spun until it gave up, which loom reports as a model that never ends.)
//!
//! Run: `RUSTFLAGS="--cfg blink_loom" CARGO_TARGET_DIR=target/loom cargo test -p blink-loom-tests --release`
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use blink_store::store::evict::EvictionPolicy;
use blink_store::store::{HeapStats, Store, StoreConfig};
use common::{assert_exact, charge, limit_for, model_bounded, race};
use loom::thread::{self, JoinHandle};

/// Preemptions per execution. Unbounded, each model runs for minutes: a writer that
/// finds the sampler taken yields and looks again, and each look is one more point at
/// which the other thread may run. Three, as for the three-thread accounting models,
/// take each model about a second here.
const PREEMPTIONS: usize = 3;

/// A store with room for one 4-byte entry under the limit and one more in the overshoot,
/// holding two, `a` and `b`: at the hard cap, so a write of a new key must evict first.
fn at_hard_cap() -> Arc<Store> {
    let store = Arc::new(Store::with_config(
        StoreConfig::new(limit_for(charge(4)))
            .policy(EvictionPolicy::Lru)
            .samples(2)
            .overshoot_bytes(charge(4)),
    ));
    store.set(b"a", b"111").unwrap();
    store.set(b"b", b"222").unwrap();
    // Charge the map's table, as the evictor does before its first pass.
    store.refresh_structures();
    assert_eq!(store.used_bytes(), entry_cap(&store));
    store
}

/// The most the entries may be charged: the hard cap less the shared structures.
fn entry_cap(store: &Store) -> u64 {
    store.hard_cap_bytes() - store.structure_bytes()
}

/// `used` has neither wrapped below zero nor passed the hard cap.
fn assert_within_cap(store: &Store) {
    let (used, cap) = (store.used_bytes(), entry_cap(store));
    assert!(used <= cap, "used {used} passed the hard cap {cap}");
}

/// Starts a thread that evicts as the evictor thread does, registered as the store's
/// evictor: a pass, a park until a write wakes it, and another pass. Returns the
/// entries it evicted. A write that never woke it would leave it parked, which loom
/// reports as a deadlock.
fn spawn_evictor(store: &Arc<Store>) -> JoinHandle<usize> {
    let evictor = {
        let store = store.clone();
        thread::spawn(move || {
            let first = store.evict_to_limit().evicted;
            assert_within_cap(&store);
            thread::park();
            first + store.evict_to_limit().evicted
        })
    };
    store.set_evictor(evictor.thread().clone());
    evictor
}

#[test]
fn a_writer_at_the_hard_cap_races_the_evictor() {
    // Executions in which the writer evicted for itself: in others the evictor's first
    // pass made room before the writer looked.
    static HELPED: AtomicUsize = AtomicUsize::new(0);
    model_bounded(PREEMPTIONS, || {
        let store = at_hard_cap();
        let evictor = spawn_evictor(&store);
        store.set(b"c", b"333").unwrap();
        assert_within_cap(&store);
        let by_evictor = evictor.join().unwrap();
        assert_exact(&store);
        // Three entries written into room for one: the two evictions are the writer's
        // and the evictor's together, and the evictor's pass after the wake-up brought
        // `used` back within the limit.
        assert_eq!(store.stats().evicted, 2);
        assert_eq!(store.len(), 1);
        assert_eq!(store.used_bytes(), store.entry_budget());
        if by_evictor < 2 {
            HELPED.fetch_add(1, Ordering::Relaxed);
        }
    });
    assert!(
        HELPED.load(Ordering::Relaxed) > 0,
        "no execution took the writer's help path"
    );
}

#[test]
fn two_writers_at_the_hard_cap_evict_for_each_other() {
    model_bounded(PREEMPTIONS, || {
        let store = race(
            at_hard_cap(),
            |s| s.set(b"c", b"333").unwrap(),
            |s| {
                s.set(b"d", b"444").unwrap();
                assert_within_cap(s);
            },
        );
        // Four entries written into room for two, and no evictor: every eviction was a
        // writer's, and each writer charged only once its charge fitted under the cap.
        assert_within_cap(&store);
        assert_eq!(store.stats().evicted, 2);
        assert_eq!(store.len(), 2);
        assert_eq!(store.used_bytes(), entry_cap(&store));
    });
}

/// Heap bytes [`grown_heap`] reports as allocated.
static HEAP_ALLOCATED: AtomicU64 = AtomicU64::new(0);

/// A heap gauge reporting [`HEAP_ALLOCATED`], with no fragmentation.
fn grown_heap() -> Option<HeapStats> {
    let allocated = HEAP_ALLOCATED.load(Ordering::Relaxed);
    Some(HeapStats {
        allocated,
        active: allocated,
        resident: allocated,
        metadata: 0,
        process_resident: 0,
    })
}

#[test]
fn a_writer_over_a_lowered_cap_races_the_evictor_and_lowers_used() {
    model_bounded(PREEMPTIONS, || {
        let store = at_hard_cap();
        // The heap grows by more than the charges explain, as when papaya's table is
        // about to grow: charged to the structures, it lowers the cap on entries to
        // nothing, under `used`.
        HEAP_ALLOCATED.store(0, Ordering::Relaxed);
        store.set_heap_gauge(grown_heap);
        HEAP_ALLOCATED.store(u64::MAX / 2, Ordering::Relaxed);
        store.refresh_structures();
        let level = store.used_bytes();
        let cap = store
            .hard_cap_bytes()
            .saturating_sub(store.structure_bytes());
        assert!(
            level > cap,
            "the cap {cap} did not drop under `used` ({level})"
        );
        let evictor = spawn_evictor(&store);
        // Room for it under the cap never comes: the write goes ahead once eviction (its
        // own help or the evictor's) has lowered `used` by twice its charge.
        store.set(b"c", b"333").unwrap();
        let used = store.used_bytes();
        assert!(
            used + charge(4) <= level,
            "used {used} not lowered from its level {level}"
        );
        evictor.join().unwrap();
        assert_exact(&store);
        assert_eq!(store.len() as u64 + store.stats().evicted, 3);
    });
}
