//! What an entry is charged is what it costs the heap: the charge model of
//! `store::footprint` checked against jemalloc's own count of allocated bytes, so a change
//! of layout that makes an entry dearer than charged fails here.
#![cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use blink_store::store::entry::allocated_entry_bytes;
use blink_store::store::Store;
use blink_store::sync::Reclaim as _;

/// The figures here are the whole process's (the heap, and the entries allocated): the
/// tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bytes jemalloc counts as allocated right now.
fn allocated() -> u64 {
    tikv_jemalloc_ctl::epoch::advance().unwrap();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap() as u64
}

/// Loads `count` entries of 16-byte keys and `value_len`-byte values; returns the heap's
/// growth and what the store charges for it (entries and shared structures).
fn load(count: usize, value_len: usize) -> (u64, u64) {
    // A limit nothing is evicted at. The frequency sketch reserves its memory up front
    // (the system maps it only as it is used), so it is left out of the heap's growth.
    let store = Store::new(1 << 30);
    let before = allocated();
    let value = vec![b'v'; value_len];
    for i in 0..count {
        store
            .set(format!("key:{i:012}").as_bytes(), &value)
            .unwrap();
    }
    // Completes the table's growth and moves new keys into the sampler, as the evictor's
    // idle ticks do (the first after writes only notes them; the next, finding no new
    // key, completes the growth), then estimates the shared structures.
    store.maintain();
    store.maintain();
    store.refresh_structures();
    let grown = allocated() - before;
    let charged = store.charged_bytes();
    assert_eq!(store.used_bytes(), store.recount_charged());
    (grown, charged)
}

#[test]
fn an_entry_costs_the_heap_what_it_is_charged() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    const COUNT: usize = 200_000;
    for value_len in [32, 100, 1000] {
        let (grown, charged) = load(COUNT, value_len);
        let per_entry = |bytes: u64| bytes as f64 / COUNT as f64;
        println!(
            "{value_len}-byte values: heap {:.1} B per entry, charged {:.1} B per entry",
            per_entry(grown),
            per_entry(charged)
        );
        // Never charged less than the heap holds (the limit would not bound memory),
        // and not much more (the cache would hold fewer entries than it could).
        assert!(
            charged >= grown,
            "{value_len}-byte values: charged {charged} < heap {grown}"
        );
        assert!(
            charged <= grown + grown / 5,
            "{value_len}-byte values: charged {charged} is over 1.2 x the heap's {grown}"
        );
    }
}

#[test]
fn removed_entries_are_counted_until_they_are_freed() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let store = Store::new(1 << 30);
    let key = |i: usize| format!("key:{i:012}");
    let value = [b'v'; 100];
    for i in 0..1000 {
        store.set(key(i).as_bytes(), &value).unwrap();
    }
    // Completes the table's growth (see `load`): papaya frees entries removed while it
    // copies its table only with the old table, after the copy.
    store.maintain();
    store.maintain();
    assert_eq!(store.reclaiming_bytes(), 0, "nothing removed yet");
    let entry_bytes = (4 + 16 + value.len()) as u64;
    {
        // papaya frees what is removed only once no thread pinned since can reach it, and
        // this thread stays pinned.
        let _pinned = store.guard();
        for i in 0..500 {
            assert!(store.delete(key(i).as_bytes()));
        }
        let reclaiming = store.reclaiming_bytes();
        // Scaled from entry bytes to charges: at least the bytes, at most the charges.
        assert!(
            reclaiming >= 500 * entry_bytes && reclaiming <= 500 * 200,
            "{reclaiming} bytes awaiting reclamation"
        );
    }
    store.guard().flush();
    assert_eq!(
        store.reclaiming_bytes(),
        0,
        "all freed once nobody is pinned"
    );
    assert_eq!(
        allocated_entry_bytes(),
        500 * entry_bytes,
        "the live entries alone"
    );
    drop(store);
    assert_eq!(
        allocated_entry_bytes(),
        0,
        "a dropped store frees every entry"
    );
}
