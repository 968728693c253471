//! Walking the keyspace: KEYS, SCAN's cursor, and a snapshot's walk in parts.
//!
//! # The cursor
//! A key's place in scan order is its *position*, the top 52 bits of its [`key_hash`], and
//! a cursor is the next position to visit. Each step walks the whole map and returns the
//! live keys that pass the filter with the smallest positions at or above the cursor, then
//! the cursor past the largest of them (0 once nothing is left above it). The cursor names
//! a point in hash order, not a place in papaya's table, so a key present for the whole
//! scan comes back exactly once, in the step whose range covers its position, however the
//! map grows, shrinks or is rewritten in between. (papaya's iterator walks one table,
//! completing a resize in progress first; an entry moved to a newer table during the walk
//! stays readable in the old one, so every entry present throughout a walk is seen.) Keys
//! with equal positions come back in the same step, so a collision cannot hide a key.
//! Cursors stay below 2^52: clients that keep them in a double (JavaScript) or a signed
//! 64-bit integer hand them back exactly.
//!
//! # Cost
//! A step is one walk of the map, O(n) for n entries, plus O(log k) per entry to keep the
//! k smallest positions. So that a full scan costs a bounded number of walks, a step
//! returns at least 1/[`SCAN_STEPS`] of the entries whatever its COUNT (COUNT is a hint
//! in Redis too), and filters (MATCH, TYPE) apply during the walk rather than after it.

use std::collections::BinaryHeap;

use super::{key_hash, Entry, Store};
use crate::sync::Guard;

/// A SCAN step returns at least this fraction (1/64) of the entries, so a full scan takes
/// at most about 64 walks of the map, however small its COUNT.
pub const SCAN_STEPS: usize = 64;

/// Hash bits dropped from a key's position in scan order: 12, leaving 52.
const POSITION_SHIFT: u32 = 12;

/// One step of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStep<'g> {
    /// Where the next step starts: the next position to visit (below 2^52); 0 once the
    /// scan is complete.
    pub cursor: u64,
    /// The keys of this step, in scan order.
    pub keys: Vec<&'g [u8]>,
}

impl Store {
    /// Every live key that passes `filter`, in the map's order (KEYS).
    pub fn keys<'g>(&self, filter: impl Fn(&[u8]) -> bool, guard: &'g Guard<'_>) -> Vec<&'g [u8]> {
        let now_ms = self.unix_ms();
        self.map
            .iter(guard)
            .filter(|(entry, meta)| !(meta.expires() && entry.is_expired(now_ms)))
            .map(|(entry, _)| entry.key())
            .filter(|key| filter(key))
            .collect()
    }

    /// One SCAN step from `cursor` (0 starts a scan): about `count` live keys that pass
    /// `filter`, and the cursor to continue from. See the module's notes for what a scan
    /// guarantees and what a step costs.
    pub fn scan<'g>(
        &self,
        cursor: u64,
        count: usize,
        filter: impl Fn(&[u8]) -> bool,
        guard: &'g Guard<'_>,
    ) -> ScanStep<'g> {
        let now_ms = self.unix_ms();
        let count = count.max(self.len() / SCAN_STEPS);
        let live = self
            .map
            .iter(guard)
            .filter(|(entry, meta)| !(meta.expires() && entry.is_expired(now_ms)))
            .map(|(entry, _)| entry.key())
            .filter(|key| filter(key))
            .map(|key| (key_hash(key) >> POSITION_SHIFT, key));
        let (cursor, keys) = select(cursor, count, live);
        ScanStep { cursor, keys }
    }
}

impl Store {
    /// Calls `each` with every live entry whose key falls in part `part` of `parts` (by
    /// its hash), under a guard pinned for this part only; stops at the first error. A
    /// key belongs to one part, so walking every part visits each key present throughout
    /// exactly once, and never one key twice (see the module's notes on papaya's walk).
    /// Smaller parts keep each guard, and what papaya cannot free while it is held,
    /// shorter; each part costs one walk of the map.
    ///
    /// # Errors
    /// The first error `each` returns.
    pub fn walk_part<E>(
        &self,
        (part, parts): (u64, u64),
        now_ms: u64,
        mut each: impl FnMut(&Entry) -> Result<(), E>,
    ) -> Result<(), E> {
        let parts = parts.max(1);
        let guard = self.guard();
        let live = self.map.iter(&guard).filter(|(entry, meta)| {
            !(meta.expires() && entry.is_expired(now_ms))
                && (parts == 1 || key_hash(entry.key()) % parts == part)
        });
        for (entry, _) in live {
            each(entry)?;
        }
        Ok(())
    }
}

/// The items with the `count` smallest positions at or above `cursor` (more if the largest
/// of them is tied), in order, and the cursor past them: the largest position taken plus
/// one, or 0 if no item with a larger position was left out.
fn select<T: Ord>(
    cursor: u64,
    count: usize,
    items: impl IntoIterator<Item = (u64, T)>,
) -> (u64, Vec<T>) {
    let count = count.max(1);
    // A max-heap: its top is the largest hash taken so far, the first to give up.
    let mut taken: BinaryHeap<(u64, T)> = BinaryHeap::new();
    let mut left_out = false;
    for (hash, item) in items {
        if hash < cursor {
            continue;
        }
        if taken.len() >= count && taken.peek().is_some_and(|(top, _)| hash > *top) {
            left_out = true;
            continue;
        }
        taken.push((hash, item));
        if taken.len() > count {
            left_out |= drop_largest(&mut taken, count);
        }
    }
    let next = match taken.peek() {
        // `top` is below a hash left out, so adding one cannot overflow; 0 if it did.
        Some(&(top, _)) if left_out => top.checked_add(1).unwrap_or(0),
        _ => 0,
    };
    let items = taken.into_sorted_vec().into_iter().map(|(_, item)| item);
    (next, items.collect())
}

/// Removes every item with the largest hash if at least `count` remain without them;
/// `true` if it removed them. Items sharing a hash stay or go together.
fn drop_largest<T: Ord>(taken: &mut BinaryHeap<(u64, T)>, count: usize) -> bool {
    let Some(&(top, _)) = taken.peek() else {
        return false;
    };
    let mut tied = Vec::new();
    while taken.peek().is_some_and(|(hash, _)| *hash == top) {
        tied.extend(taken.pop());
    }
    if taken.len() >= count {
        true
    } else {
        taken.extend(tied);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Every step of a scan of `items` with `count`, until the cursor returns to 0.
    fn scan_all(items: &[(u64, u32)], count: usize) -> Vec<Vec<u32>> {
        let mut cursor = 0;
        let mut steps = Vec::new();
        loop {
            let (next, step) = select(cursor, count, items.iter().copied());
            steps.push(step);
            if next == 0 {
                return steps;
            }
            assert!(next > cursor, "the cursor moves on");
            cursor = next;
        }
    }

    #[test]
    fn a_scan_visits_every_item_once_in_hash_order() {
        let items: Vec<(u64, u32)> = (0..100).map(|i| (u64::from(i) * 7919 % 1000, i)).collect();
        let steps = scan_all(&items, 10);
        assert_eq!(steps.len(), 10, "no empty last step");
        let seen: Vec<u32> = steps.concat();
        let mut want: Vec<(u64, u32)> = items.clone();
        want.sort();
        assert_eq!(seen, want.iter().map(|&(_, i)| i).collect::<Vec<_>>());
    }

    #[test]
    fn equal_hashes_come_back_in_the_same_step() {
        // Five items share hash 20, across the boundary of a count of 3.
        let items = [
            (10, 0),
            (20, 1),
            (20, 2),
            (20, 3),
            (20, 4),
            (20, 5),
            (30, 6),
        ];
        let steps = scan_all(&items, 3);
        assert_eq!(steps, vec![vec![0, 1, 2, 3, 4, 5], vec![6]]);
        let steps = scan_all(&items, 1);
        assert_eq!(steps, vec![vec![0], vec![1, 2, 3, 4, 5], vec![6]]);
    }

    #[test]
    fn the_cursor_ends_at_zero_at_the_top_of_the_hash_space() {
        let items = [(u64::MAX - 1, 0), (u64::MAX, 1), (u64::MAX, 2), (0, 3)];
        assert_eq!(select(0, 1, items), (1, vec![3]));
        assert_eq!(select(1, 1, items), (u64::MAX, vec![0]));
        assert_eq!(select(u64::MAX, 1, items), (0, vec![1, 2]));
        assert_eq!(select(5, 10, items), (0, vec![0, 1, 2]));
        assert_eq!(select(0, 10, Vec::<(u64, u32)>::new()), (0, vec![]));
    }

    #[test]
    fn a_scan_returns_the_keys_present_throughout_while_the_map_resizes() {
        let store = Arc::new(Store::new(u64::MAX));
        let stable: BTreeSet<Vec<u8>> = (0..500)
            .map(|i| format!("stable:{i}").into_bytes())
            .collect();
        for key in &stable {
            store.set(key, b"v").unwrap();
        }
        let done = Arc::new(AtomicBool::new(false));
        let churn: Vec<_> = (0..2)
            .map(|t| {
                let (store, done) = (store.clone(), done.clone());
                std::thread::spawn(move || {
                    // Waves of 5,000 keys added, then removed, until the scans are done:
                    // the table grows to 16 times its first size, and fills with
                    // tombstones that force it to be rewritten.
                    while !done.load(Ordering::Relaxed) {
                        for i in 0..5_000 {
                            store
                                .set(format!("churn:{t}:{i}").as_bytes(), b"v")
                                .unwrap();
                        }
                        for i in 0..5_000 {
                            store.delete(format!("churn:{t}:{i}").as_bytes());
                        }
                    }
                })
            })
            .collect();
        for scan in 0..3 {
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                let guard = store.guard();
                let step = store.scan(cursor, 5, |_| true, &guard);
                let found = step.keys.iter().filter(|key| key.starts_with(b"stable:"));
                seen.extend(found.map(|key| key.to_vec()));
                cursor = step.cursor;
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(seen, stable, "scan {scan}");
        }
        done.store(true, Ordering::Relaxed);
        for thread in churn {
            thread.join().unwrap();
        }
        assert_eq!(store.len(), stable.len());
        assert_eq!(store.usage_bytes(), store.recount());
    }
}
