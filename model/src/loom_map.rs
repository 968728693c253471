//! A map with the contract the store relies on from papaya, built from loom's primitives
//! so loom can explore every interleaving of the store's real code around it:
//!
//! * every operation is atomic (linearizable) with respect to the others;
//! * `insert` returns the value it replaced, `remove` the value it removed;
//! * `remove_if` removes only if its predicate holds for the current value, and may call
//!   the predicate more than once (papaya retries after a lost race), so it must be pure;
//! * references handed out stay valid while the guard they were obtained under lives.
//!
//! References stay valid by never freeing an entry: each inserted pair is leaked. A model
//! runs a handful of operations per execution, so this costs a few bytes per execution.

use std::marker::PhantomData;

use loom::sync::Mutex;

/// What `compute` is asked to do and what it did, and how a borrowed key is compared with
/// a stored one: papaya's own types, so the store's code reads the same against either map.
pub use papaya::{Compute, Equivalent, Operation};

/// What papaya's guards offer beyond pinning.
pub trait Reclaim {
    /// Asks for retired entries to be reclaimed; nothing to do when nothing is freed.
    fn flush(&self);
}

/// A pin on the map; references obtained under it live as long as it does.
#[derive(Debug)]
pub struct Guard<'m>(PhantomData<&'m ()>);

impl Reclaim for Guard<'_> {
    fn flush(&self) {}
}

/// The loom-visible map. It searches linearly: models hold a handful of keys. `S`, the
/// hasher, is only kept for papaya's signature; keys are compared with `Equivalent`.
#[derive(Debug)]
pub struct Map<K: 'static, V: 'static, S = ()> {
    /// The live entries; each points at a leaked, never-freed pair.
    entries: Mutex<Vec<&'static (K, V)>>,
    /// papaya's hasher parameter, unused.
    hasher: PhantomData<S>,
}

impl<K, V, S> Map<K, V, S>
where
    K: Eq + 'static,
    V: 'static,
{
    /// An empty map; the hasher is ignored.
    pub fn with_hasher(_hasher: S) -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
            hasher: PhantomData,
        }
    }

    /// Pins the map.
    pub fn guard(&self) -> Guard<'_> {
        Guard(PhantomData)
    }

    fn lock(&self) -> loom::sync::MutexGuard<'_, Vec<&'static (K, V)>> {
        // A model that panicked is over; its poisoned state is never read again.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn position<Q>(entries: &[&'static (K, V)], key: &Q) -> Option<usize>
    where
        Q: Equivalent<K> + ?Sized,
    {
        entries.iter().position(|pair| key.equivalent(&pair.0))
    }

    /// The value under `key`.
    pub fn get<'g, Q>(&self, key: &Q, guard: &'g Guard<'_>) -> Option<&'g V>
    where
        Q: Equivalent<K> + ?Sized,
    {
        self.get_key_value(key, guard).map(|(_, value)| value)
    }

    /// The entry under `key`.
    pub fn get_key_value<'g, Q>(&self, key: &Q, _guard: &'g Guard<'_>) -> Option<(&'g K, &'g V)>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let entries = self.lock();
        let pair: &'static (K, V) = entries[Self::position(&entries, key)?];
        Some((&pair.0, &pair.1))
    }

    /// Stores `value` under `key`; returns the value it replaced.
    pub fn insert<'g>(&self, key: K, value: V, _guard: &'g Guard<'_>) -> Option<&'g V> {
        let pair: &'static (K, V) = Box::leak(Box::new((key, value)));
        let mut entries = self.lock();
        match entries.iter().position(|old| old.0 == pair.0) {
            Some(index) => Some(&std::mem::replace(&mut entries[index], pair).1),
            None => {
                entries.push(pair);
                None
            }
        }
    }

    /// Removes `key`; returns the value it removed.
    pub fn remove<'g, Q>(&self, key: &Q, _guard: &'g Guard<'_>) -> Option<&'g V>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let mut entries = self.lock();
        let index = Self::position(&entries, key)?;
        Some(&entries.swap_remove(index).1)
    }

    /// Removes `key`; returns the entry it removed.
    pub fn remove_entry<'g, Q>(&self, key: &Q, _guard: &'g Guard<'_>) -> Option<(&'g K, &'g V)>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let mut entries = self.lock();
        let index = Self::position(&entries, key)?;
        let pair = entries.swap_remove(index);
        Some((&pair.0, &pair.1))
    }

    /// papaya's compare-and-swap update: `compute` sees the entry under `key` (if any) and
    /// chooses to insert `key` with a new value, remove the entry, or abort. The function
    /// is called twice, as papaya may after losing a race, and must agree with itself.
    pub fn compute<'g, F, T>(
        &self,
        key: K,
        mut compute: F,
        _guard: &'g Guard<'_>,
    ) -> Compute<'g, K, V, T>
    where
        F: FnMut(Option<(&'g K, &'g V)>) -> Operation<V, T>,
    {
        let mut entries = self.lock();
        let index = entries.iter().position(|old| old.0 == key);
        let current: Option<&'static (K, V)> = index.map(|index| entries[index]);
        let found = || current.map(|pair| (&pair.0, &pair.1));
        let first = compute(found());
        let second = compute(found());
        assert_eq!(
            std::mem::discriminant(&first),
            std::mem::discriminant(&second),
            "compute functions must be pure"
        );
        match (first, index) {
            (Operation::Insert(value), None) => {
                let pair: &'static (K, V) = Box::leak(Box::new((key, value)));
                entries.push(pair);
                Compute::Inserted(&pair.0, &pair.1)
            }
            (Operation::Insert(value), Some(index)) => {
                let pair: &'static (K, V) = Box::leak(Box::new((key, value)));
                let old = std::mem::replace(&mut entries[index], pair);
                Compute::Updated {
                    old: (&old.0, &old.1),
                    new: (&pair.0, &pair.1),
                }
            }
            (Operation::Remove, Some(index)) => {
                let old = entries.swap_remove(index);
                Compute::Removed(&old.0, &old.1)
            }
            // papaya treats removing an absent key as nothing to do.
            (Operation::Remove, None) => panic!("compute asked to remove an absent key"),
            (Operation::Abort(value), _) => Compute::Aborted(value),
        }
    }

    /// Removes `key` if `should_remove` holds for its current entry: `Ok(Some)` with the
    /// removed entry, `Ok(None)` if the key is absent, `Err` with the entry it kept.
    /// The predicate is called twice, as papaya may after losing a race.
    #[allow(clippy::type_complexity)]
    pub fn remove_if<'g, Q, F>(
        &self,
        key: &Q,
        mut should_remove: F,
        _guard: &'g Guard<'_>,
    ) -> Result<Option<(&'g K, &'g V)>, (&'g K, &'g V)>
    where
        Q: Equivalent<K> + ?Sized,
        F: FnMut(&K, &V) -> bool,
    {
        let mut entries = self.lock();
        let Some(index) = Self::position(&entries, key) else {
            return Ok(None);
        };
        let pair: &'static (K, V) = entries[index];
        let first = should_remove(&pair.0, &pair.1);
        let second = should_remove(&pair.0, &pair.1);
        assert_eq!(first, second, "remove_if predicates must be pure");
        if first {
            entries.swap_remove(index);
            Ok(Some((&pair.0, &pair.1)))
        } else {
            Err((&pair.0, &pair.1))
        }
    }

    /// Every entry, as of one instant.
    pub fn iter<'g>(&self, _guard: &'g Guard<'_>) -> impl Iterator<Item = (&'g K, &'g V)> {
        let pairs: Vec<&'static (K, V)> = self.lock().clone();
        pairs.into_iter().map(|pair| (&pair.0, &pair.1))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}
