//! What an entry is charged is what it costs the heap: the charge model of
//! `store::footprint` checked against jemalloc's own count of allocated bytes, so a change
//! of layout that makes an entry dearer than charged fails here.
#![cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use blink_store::store::Store;

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
    // idle tick does, then estimates the shared structures.
    store.maintain();
    store.refresh_structures();
    let grown = allocated() - before;
    let charged = store.charged_bytes();
    assert_eq!(store.used_bytes(), store.recount_charged());
    (grown, charged)
}

#[test]
fn an_entry_costs_the_heap_what_it_is_charged() {
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
