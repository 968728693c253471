//! The sampler's intake: writers leave the hashes of new keys here without blocking or
//! (normally) allocating, and the thread refreshing the pool collects them. The one place
//! in the crate that needs `unsafe`: crossbeam-epoch frees the arrays writers may still
//! hold.
//!
//! # Claim, then store
//! Writers fill an array of 8-byte slots. One `fetch_add` on the array's claim counter
//! picks a slot, and one store writes the hash into it. A slot reads [`EMPTY`] until it is
//! written, so the drainer can tell a slot that was claimed but is still unwritten. A slot
//! would need 2^64 + 1 states to hold every hash and "unwritten" too. So the one hash equal
//! to `EMPTY` (one key in 2^64) is counted in `zero_hashes` instead of taking a slot. Every
//! hash is then collected exactly as often as it was registered, and the pool looks it up
//! unchanged. A register costs one pin (the outermost pin of a thread does one locked
//! instruction on its own epoch word, and every 128th tries to collect garbage), one
//! `fetch_add` on the claim counter every writer shares, and one store. It takes no lock.
//!
//! # Growth
//! A writer that finds its array full allocates one twice as large, links the full one
//! behind it (`older`), and installs it with a compare-exchange. A writer that loses that
//! race frees its copy and claims in the winner's. No hash is dropped, and writers allocate
//! only while a burst outgrows the array, one doubling at a time.
//!
//! # Draining
//! The drainer (one at a time, under the pool's lock) swaps in a fresh array. The fresh
//! array holds half as many slots again as the hashes being drained, rounded up to a power
//! of two, within [`MAX_FRESH_SLOTS`] and the intake's minimum. So a burst grows it and a
//! quiet period shrinks it back. The drainer then closes each array it took out: it sets
//! the claim counter to the array's length, so a late writer's claim fails and the writer
//! moves to the new array. Then it collects the claimed slots. A writer may be between its
//! claim and its store, perhaps preempted there. The drainer does not wait for it: it keeps
//! the array with the indexes still unwritten, and looks at them again on the next drain.
//!
//! # Reclamation
//! An array taken out of `current` may still be used by writers that loaded it before: they
//! are about to claim (and fail), or to store a hash. So once its claimed slots are
//! collected, the drainer retires it with crossbeam-epoch's `Guard::defer_destroy`, which
//! frees it only after every thread pinned at that moment has unpinned. An array is retired
//! only by the drainer that took it out of `current` (directly, or through the newer array
//! that links it), and only once. So an array a thread reached from `current` while pinned
//! stays allocated until that thread unpins; that is what each `SAFETY:` comment relies on.
//! The pointers, counters and slots are `crate::sync` atomics, so the loom models in
//! `loom-tests/tests/intake.rs` check this protocol; crossbeam-epoch's own loom tests check
//! the epochs (see `crate::sync::epoch` for why ours cannot).
//!
//! # Memory
//! 8 bytes a slot, and 32 bytes an array for the claim counter, the slice and the link.
//! Hashes stay only until the next drain, so stored entries cost nothing here. A chain
//! grown by writers holds at most twice the hashes registered since the last drain.
#![allow(unsafe_code)]

use std::ptr;

use crate::sync::epoch::{self, Guard, Shared};
use crate::sync::{Arc, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// What an unwritten slot holds; the hash equal to it is counted in `zero_hashes` instead.
pub const EMPTY: u64 = 0;

/// The smallest array: 512 bytes, enough for the new keys of a quiet moment.
pub const MIN_SLOTS: usize = 64;

/// The largest array the drainer installs (512 KiB). Writers grow past it during a long
/// burst, but an idle tick never leaves more than this allocated.
pub const MAX_FRESH_SLOTS: usize = 1 << 16;

/// Slots of retired arrays past which the drainer flushes its epoch garbage at once
/// (32 KiB). crossbeam-epoch otherwise frees a thread's garbage 64 objects at a time, and
/// the arrays of a burst could wait for 64 more drains.
const FLUSH_SLOTS: usize = 1 << 12;

/// Where writers leave hashes: the array they currently fill.
pub struct Intake {
    /// The array writers claim slots in (a `Box` made raw); never null. Older full arrays
    /// hang off it.
    current: AtomicPtr<Slots>,
    /// Registrations of the hash equal to [`EMPTY`], which no slot can hold.
    zero_hashes: AtomicUsize,
    /// The fewest slots a fresh array gets, so a quiet intake does not grow on every
    /// drain.
    min_slots: usize,
}

/// One array of slots.
struct Slots {
    /// Slots claimed so far. At or past `hashes.len()` the array is full, or closed by
    /// the drainer, and a claim fails.
    claimed: AtomicUsize,
    /// Registered hashes, [`EMPTY`] until written.
    hashes: Box<[AtomicU64]>,
    /// The full array this one replaced when a writer grew the intake, with hashes still
    /// to collect; null for an array the drainer installed. Set before this array is
    /// published, never changed after.
    older: AtomicPtr<Slots>,
}

/// The collecting end of an intake; the pool owns one.
pub struct Drainer {
    /// The intake collected from.
    intake: Arc<Intake>,
    /// Arrays taken out of the intake with claimed slots not yet written.
    unwritten: Vec<Unwritten>,
}

/// A closed array that still has claimed slots with no hash in them.
struct Unwritten {
    /// The array; the drainer retires it once `missing` is empty. (An atomic only so the
    /// drainer stays `Send`; it never changes.)
    array: AtomicPtr<Slots>,
    /// Indexes claimed by writers that had not stored their hash when last looked at.
    missing: Vec<usize>,
}

impl Slots {
    /// A new array of `len` empty slots, linking `older`, owned by the caller until it is
    /// published.
    fn allocate(len: usize, older: *mut Slots) -> *mut Slots {
        Box::into_raw(Box::new(Self {
            claimed: AtomicUsize::new(0),
            hashes: (0..len).map(|_| AtomicU64::new(EMPTY)).collect(),
            older: AtomicPtr::new(older),
        }))
    }

    /// Closes the array to further claims; returns how many slots were claimed.
    fn close(&self) -> usize {
        let len = self.hashes.len();
        // Ordering: Release pairs with the Acquire of a writer's claim that fails here,
        // so that writer then loads the `current` the drainer just installed.
        self.claimed.swap(len, Ordering::Release).min(len)
    }

    /// Hashes claimed so far, up to the array's length.
    fn claims(&self) -> usize {
        // Ordering: Relaxed; only sizes the next array.
        self.claimed.load(Ordering::Relaxed).min(self.hashes.len())
    }
}

/// The array `array` points to, or `None` for null; borrowed for as long as `guard` pins.
fn array(array: *mut Slots, _guard: &Guard) -> Option<&Slots> {
    // SAFETY: every pointer given here was loaded while `guard` pinned, from `current`,
    // from the `older` link of an array reached that way, or from a drainer's `unwritten`
    // list. The array was then still linked, or owned by that drainer, so not retired; and
    // `defer_destroy` keeps it allocated while `guard` pins. Arrays are `Box`es made raw.
    unsafe { array.as_ref() }
}

/// Has crossbeam-epoch free `array` once no thread pinned now can still use it.
///
/// # Safety
/// `array` came from [`Slots::allocate`], no thread can reach it any more except those
/// pinned now, and it is retired only this once.
unsafe fn retire(array: *mut Slots, guard: &Guard) {
    // SAFETY: the caller's promise; crossbeam-epoch frees a `Shared` of a sized type with
    // `Box::from_raw`, which matches `Slots::allocate`.
    unsafe { guard.defer_destroy(Shared::from(array.cast_const())) }
}

impl Default for Intake {
    fn default() -> Self {
        Self::new()
    }
}

impl Intake {
    /// An empty intake of [`MIN_SLOTS`] slots.
    pub fn new() -> Self {
        Self::with_min_slots(MIN_SLOTS)
    }

    /// An empty intake whose arrays have at least `min_slots` slots (at least 1).
    pub fn with_min_slots(min_slots: usize) -> Self {
        let min_slots = min_slots.max(1);
        Self {
            current: AtomicPtr::new(Slots::allocate(min_slots, ptr::null_mut())),
            zero_hashes: AtomicUsize::new(0),
            min_slots,
        }
    }

    /// Leaves `hash` for the next drain. Never blocks; allocates only when the array is
    /// full (and, inside crossbeam-epoch, on a thread's first pin).
    pub fn register(&self, hash: u64) {
        if hash == EMPTY {
            // Ordering: Relaxed; the count is the only data, and the drainer's swap takes
            // each increment exactly once.
            self.zero_hashes.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let guard = &epoch::pin();
        // Ordering: Acquire pairs with the Release that installed the array, so its slots
        // are initialised. `current` is never null, so the loop ends only by a store.
        let mut head = self.current.load(Ordering::Acquire);
        while let Some(slots) = array(head, guard) {
            // Ordering: Acquire pairs with the drainer's close (see `Slots::close`).
            let index = slots.claimed.fetch_add(1, Ordering::Acquire);
            if let Some(slot) = slots.hashes.get(index) {
                // Ordering: Relaxed; the hash is the only data, and the drainer takes it
                // from this slot alone. The epoch's unpin orders it before the free.
                slot.store(hash, Ordering::Relaxed);
                return;
            }
            head = self.grow(head, slots.hashes.len());
        }
    }

    /// Replaces the full array `full` of `len` slots with one twice as large, unless
    /// another thread already replaced it; returns the array to claim in next.
    fn grow(&self, full: *mut Slots, len: usize) -> *mut Slots {
        // Ordering: Acquire, as in `register`.
        let head = self.current.load(Ordering::Acquire);
        if head != full {
            return head;
        }
        let bigger = Slots::allocate(len.saturating_mul(2), full);
        // Ordering: Release publishes the new array and its link; Acquire, as in
        // `register`, for the array found instead.
        match self
            .current
            .compare_exchange(full, bigger, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => bigger,
            Err(head) => {
                // SAFETY: `bigger` came from `Box::into_raw` and was never published.
                drop(unsafe { Box::from_raw(bigger) });
                head
            }
        }
    }

    /// Slots in the array writers fill now.
    pub fn capacity(&self) -> usize {
        let guard = &epoch::pin();
        // Ordering: Acquire, as in `register`.
        array(self.current.load(Ordering::Acquire), guard).map_or(0, |slots| slots.hashes.len())
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        let guard = &epoch::pin();
        // Ordering: Relaxed; `&mut self` means no other thread uses the intake.
        let head = self.current.load(Ordering::Relaxed);
        for (array, _) in chain(head, guard) {
            // SAFETY: no drainer took this chain, and no writer can reach it any more.
            unsafe { retire(array, guard) };
        }
    }
}

impl Drainer {
    /// The collecting end of `intake`.
    pub fn new(intake: Arc<Intake>) -> Self {
        Self {
            intake,
            unwritten: Vec::new(),
        }
    }

    /// Appends to `out` every hash registered before this call and not yet drained, except
    /// those whose writer is still between claim and store: the next drain collects them.
    pub fn drain(&mut self, out: &mut Vec<u64>) {
        let guard = &epoch::pin();
        let mut retired = 0;
        for unwritten in std::mem::take(&mut self.unwritten) {
            // Ordering: Relaxed; the pointer never leaves this drainer.
            let array = unwritten.array.load(Ordering::Relaxed);
            retired += self.collect(array, unwritten.missing, out, guard);
        }
        // Ordering: Acquire, as in `register`.
        let head = self.intake.current.load(Ordering::Acquire);
        let arrived: usize = chain(head, guard).map(|(_, slots)| slots.claims()).sum();
        let len = (arrived + arrived / 2)
            .next_power_of_two()
            .min(MAX_FRESH_SLOTS)
            .max(self.intake.min_slots);
        let idle =
            arrived == 0 && array(head, guard).is_some_and(|slots| slots.hashes.len() == len);
        if !idle {
            let fresh = Slots::allocate(len, ptr::null_mut());
            // Ordering: Acquire to read the arrays writers installed, Release to publish
            // the fresh one.
            let taken = self.intake.current.swap(fresh, Ordering::AcqRel);
            for (array, slots) in chain(taken, guard) {
                retired += self.collect(array, 0..slots.close(), out, guard);
            }
        }
        // Ordering: Relaxed, as in `register`.
        let zeros = self.intake.zero_hashes.swap(0, Ordering::Relaxed);
        out.extend(std::iter::repeat_n(EMPTY, zeros));
        if retired > FLUSH_SLOTS {
            guard.flush();
        }
    }

    /// Moves the written hashes among `indexes` of the closed `array` to `out`. Retires the
    /// array if none is left unwritten, else keeps it with those left; returns the slots
    /// retired.
    fn collect(
        &mut self,
        array: *mut Slots,
        indexes: impl IntoIterator<Item = usize>,
        out: &mut Vec<u64>,
        guard: &Guard,
    ) -> usize {
        let Some(slots) = self::array(array, guard) else {
            return 0;
        };
        let missing: Vec<usize> = indexes
            .into_iter()
            .filter(|&index| {
                // Ordering: Relaxed; the hash is the only data (see `register`).
                let hash = slots.hashes[index].load(Ordering::Relaxed);
                if hash != EMPTY {
                    out.push(hash);
                }
                hash == EMPTY
            })
            .collect();
        if missing.is_empty() {
            // SAFETY: this drainer took the array out of `current` (or out of the chain
            // behind it) and closed it, so no writer can reach it any more except those
            // pinned now; it leaves this drainer here.
            unsafe { retire(array, guard) };
            slots.hashes.len()
        } else {
            self.unwritten.push(Unwritten {
                array: AtomicPtr::new(array),
                missing,
            });
            0
        }
    }

    /// Claimed slots that were still unwritten at the last drain.
    pub fn backlog(&self) -> usize {
        self.unwritten
            .iter()
            .map(|unwritten| unwritten.missing.len())
            .sum()
    }
}

impl Drop for Drainer {
    fn drop(&mut self) {
        let guard = &epoch::pin();
        for unwritten in self.unwritten.drain(..) {
            // Ordering: Relaxed; the pointer never leaves this drainer.
            let array = unwritten.array.load(Ordering::Relaxed);
            // SAFETY: only this drainer holds the array, and it leaves it here. A writer
            // still between claim and store is pinned, so it finishes first.
            unsafe { retire(array, guard) };
        }
    }
}

/// The arrays from `head` back through the `older` links, each with its pointer. The
/// caller may retire an array before its link is read: `guard` keeps it allocated.
fn chain(head: *mut Slots, guard: &Guard) -> impl Iterator<Item = (*mut Slots, &Slots)> {
    let first = array(head, guard).map(|slots| (head, slots));
    std::iter::successors(first, move |&(_, slots)| {
        // Ordering: Relaxed; the link was set before its array was published, and the
        // load that reached that array acquired it.
        let older = slots.older.load(Ordering::Relaxed);
        array(older, guard).map(|older_slots| (older, older_slots))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intake(min_slots: usize) -> (Arc<Intake>, Drainer) {
        let intake = Arc::new(Intake::with_min_slots(min_slots));
        let drainer = Drainer::new(Arc::clone(&intake));
        (intake, drainer)
    }

    fn drained(drainer: &mut Drainer) -> Vec<u64> {
        let mut out = Vec::new();
        drainer.drain(&mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn concurrent_writers_are_drained_exactly_once() {
        const WRITERS: u64 = 3;
        const PER_WRITER: u64 = 20_000;
        let (intake, mut drainer) = intake(4);
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let intake = Arc::clone(&intake);
                // Each writer registers hash 0 once, the rest are distinct.
                std::thread::spawn(move || {
                    for hash in (writer * PER_WRITER..(writer + 1) * PER_WRITER).chain([0]) {
                        intake.register(hash);
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        while !writers.iter().all(|writer| writer.is_finished()) {
            drainer.drain(&mut all);
        }
        for writer in writers {
            writer.join().unwrap();
        }
        drainer.drain(&mut all);
        assert_eq!(drainer.backlog(), 0);
        all.sort_unstable();
        let mut expected: Vec<u64> = (0..WRITERS * PER_WRITER).collect();
        expected.extend([0; WRITERS as usize]);
        expected.sort_unstable();
        assert_eq!(all, expected);
    }

    #[test]
    fn a_burst_grows_the_intake_and_a_quiet_period_shrinks_it() {
        let (intake, mut drainer) = intake(4);
        for hash in 1..=1_000 {
            intake.register(hash);
        }
        assert!(intake.capacity() >= 512, "grew to {}", intake.capacity());
        assert_eq!(drained(&mut drainer), (1..=1_000).collect::<Vec<_>>());
        // Sized for the burst: 1,000 and half as much again, rounded up.
        assert_eq!(intake.capacity(), 2_048);
        intake.register(7);
        assert_eq!(drained(&mut drainer), [7]);
        assert_eq!(intake.capacity(), 4);
        // An idle drain keeps the array it has.
        assert!(drained(&mut drainer).is_empty());
        assert_eq!(intake.capacity(), 4);
    }

    #[test]
    fn hash_zero_and_repeated_hashes_are_each_kept() {
        let (intake, mut drainer) = intake(4);
        for hash in [0, 5, 0, 5, 9] {
            intake.register(hash);
        }
        assert_eq!(drained(&mut drainer), [0, 0, 5, 5, 9]);
        assert!(drained(&mut drainer).is_empty());
    }

    #[test]
    fn a_claimed_but_unwritten_slot_is_collected_by_a_later_drain() {
        let (intake, mut drainer) = intake(4);
        intake.register(1);
        // A writer that claimed slot 1 and was preempted before its store.
        let guard = &epoch::pin();
        let slots = array(intake.current.load(Ordering::Acquire), guard).unwrap();
        let index = slots.claimed.fetch_add(1, Ordering::Acquire);
        intake.register(3);
        assert_eq!(drained(&mut drainer), [1, 3]);
        assert_eq!(drainer.backlog(), 1);
        assert!(drained(&mut drainer).is_empty());
        slots.hashes[index].store(2, Ordering::Relaxed);
        assert_eq!(drained(&mut drainer), [2]);
        assert_eq!(drainer.backlog(), 0);
    }
}
