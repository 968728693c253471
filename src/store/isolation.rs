//! Isolation of transactions: the commands of one `EXEC` run with no other command
//! between them, as in Redis, while every other command stays on the lock-free path.
//!
//! A "big reader" lock: one reader-writer lock per slot, each thread reading the slot it
//! was given, so a command outside a transaction takes a read lock nobody else writes
//! (its cache line stays on its core) and commands never wait for one another. A
//! transaction takes every slot's write lock, in slot order, so it waits for the commands
//! in flight to finish and holds the others back until it is done: its commands are
//! observed all at once or not at all, with nothing interleaved. A transaction costs the
//! server the time it runs, as it does in single-threaded Redis; commands outside one
//! cost two uncontended atomic operations.
//!
//! No thread holding a slot's read lock waits for anything a transaction holds: a
//! command runs synchronously, never waits for another command, and takes no lock of
//! this module besides its own slot's, so neither side can deadlock the other. Threads
//! beyond [`SLOTS`] share slots, which only makes them wait on each other's read locks'
//! cache line, never on each other.

use std::cell::Cell;
use std::sync::PoisonError;

use crate::sync::{AtomicUsize, Ordering, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Read-lock slots: more than the threads that serve commands on most machines (two
/// under loom, whose model threads share one OS thread's slot anyway).
pub const SLOTS: usize = if cfg!(blink_loom) { 2 } else { 64 };

/// A slot's lock on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(RwLock<()>);

/// The slots, and the next slot a thread is given.
#[derive(Debug)]
pub struct Isolation {
    /// One lock per slot.
    slots: Box<[Slot]>,
    /// Slots are handed to threads round-robin.
    next: AtomicUsize,
}

impl Default for Isolation {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(blink_loom))]
std::thread_local! {
    /// This thread's slot, once it has one.
    static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

// Loom's, so each model thread gets its slot afresh in every execution.
#[cfg(blink_loom)]
loom::thread_local! {
    static SLOT: Cell<Option<usize>> = Cell::new(None);
}

impl Isolation {
    /// [`SLOTS`] unlocked slots.
    pub fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The calling thread's slot.
    fn slot(&self) -> &Slot {
        let index = SLOT.with(|slot| {
            slot.get().unwrap_or_else(|| {
                // Ordering: Relaxed; only spreads threads over slots.
                let index = self.next.fetch_add(1, Ordering::Relaxed) % SLOTS;
                slot.set(Some(index));
                index
            })
        });
        // The index is taken modulo SLOTS, the slots' length.
        &self.slots[index % self.slots.len()]
    }

    /// Held while one command outside a transaction runs: no transaction runs meanwhile.
    /// Never call it while this thread holds [`Isolation::exclusive`].
    pub fn shared(&self) -> Shared<'_> {
        // A poisoned lock guards nothing: its `()` cannot be left half-changed.
        Shared(self.slot().0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Like [`Isolation::shared`], but `None` instead of waiting while a transaction
    /// runs: for background work (eviction, expiry) that can come back later.
    pub fn try_shared(&self) -> Option<Shared<'_>> {
        match self.slot().0.try_read() {
            Ok(guard) => Some(Shared(guard)),
            Err(crate::sync::TryLockError::Poisoned(poisoned)) => {
                Some(Shared(poisoned.into_inner()))
            }
            Err(crate::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Held while a transaction runs: waits for the commands in flight, then holds back
    /// every other command until dropped. Never call it while this thread holds
    /// [`Isolation::shared`].
    pub fn exclusive(&self) -> Exclusive<'_> {
        Exclusive(
            self.slots
                .iter()
                .map(|slot| slot.0.write().unwrap_or_else(PoisonError::into_inner))
                .collect(),
        )
    }
}

/// One command's read lock; see [`Isolation::shared`].
#[derive(Debug)]
#[must_use = "isolation lasts while the guard is held"]
pub struct Shared<'a>(#[allow(dead_code)] RwLockReadGuard<'a, ()>);

/// A transaction's hold on every slot; see [`Isolation::exclusive`].
#[derive(Debug)]
#[must_use = "isolation lasts while the guard is held"]
pub struct Exclusive<'a>(#[allow(dead_code)] Vec<RwLockWriteGuard<'a, ()>>);

#[cfg(all(test, not(blink_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn shared_holders_do_not_wait_for_each_other() {
        let isolation = Isolation::new();
        let first = isolation.shared();
        let second = isolation.try_shared();
        assert!(second.is_some(), "a second reader on the same slot");
        drop((first, second));
    }

    #[test]
    fn a_transaction_holds_back_commands_until_it_ends() {
        let isolation = Arc::new(Isolation::new());
        let on_another_thread = |isolation: &Arc<Isolation>| {
            let isolation = isolation.clone();
            std::thread::spawn(move || isolation.try_shared().is_some())
                .join()
                .unwrap()
        };
        let exclusive = isolation.exclusive();
        assert!(!on_another_thread(&isolation), "refused while held");
        drop(exclusive);
        assert!(on_another_thread(&isolation), "served once it ends");
    }
}
