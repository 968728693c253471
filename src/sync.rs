//! The one place the store takes its map, atomics, locks, threads, epochs, clock and seeds
//! from. Under `--cfg blink_loom` they come from loom and from `blink-model`'s loom-visible
//! map, so the loom models in `loom-tests/` run the store's real accounting and eviction
//! code.
//! (The cfg is `blink_loom`, not `loom`: under `cfg(loom)` tokio compiles out `tokio::net`.)

/// Epoch-based reclamation for the sampler's intake; the real crate in loom builds too.
/// Loom cannot run crossbeam-epoch's own loom mode here (`--cfg crossbeam_loom` breaks
/// crossbeam-channel, which tracing-appender needs), so loom sees the intake's pointers and
/// slots but not the epochs. That is still sound: loom's threads are coroutines on one
/// OS thread, which share one epoch participant, so a pinned model thread keeps the
/// participant pinned and nothing it loaded is freed.
pub use crossbeam_epoch as epoch;

#[cfg(not(blink_loom))]
pub use papaya::{
    Compute, Equivalent, Guard as Reclaim, HashMap as Map, LocalGuard as Guard, Operation,
};
#[cfg(not(blink_loom))]
pub use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(blink_loom))]
pub use std::sync::{
    Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError,
};

#[cfg(blink_loom)]
pub use blink_model::loom_map::{Compute, Equivalent, Guard, Map, Operation, Reclaim};
#[cfg(blink_loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(blink_loom)]
pub use loom::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(blink_loom)]
pub use std::sync::TryLockError;

/// The threads a writer deals with: a writer over the hard cap yields while another
/// thread evicts, and a writer over the limit unparks the evictor, which registered
/// itself with `current`. Loom's under `--cfg blink_loom` (where the evictor thread
/// itself never runs): loom takes a loop that yields through std for one that may spin
/// forever, and a std `unpark` does not wake a model's thread.
pub mod thread {
    #[cfg(not(blink_loom))]
    pub use std::thread::{current, yield_now, Thread};

    #[cfg(blink_loom)]
    pub use loom::thread::{current, yield_now, Thread};
}

/// Objects papaya retires per thread before it reclaims them. papaya's default, 32, makes
/// every 32nd overwrite or delete issue a `membarrier` system call that interrupts every
/// CPU running the process; on a virtual machine that took a third of the time of SETs
/// from two threads. Large retired values are flushed earlier, by size (see the store).
#[cfg(not(blink_loom))]
const RETIRE_BATCH: usize = 512;

/// An empty map hashing with `hasher`.
#[cfg(not(blink_loom))]
pub fn new_map<K, V, S>(hasher: S) -> Map<K, V, S> {
    Map::builder()
        .hasher(hasher)
        .collector(seize::Collector::new().batch_size(RETIRE_BATCH))
        .build()
}

/// An empty map; loom's map ignores the hasher.
#[cfg(blink_loom)]
pub fn new_map<K: Eq, V, S>(hasher: S) -> Map<K, V, S> {
    Map::with_hasher(hasher)
}

/// Milliseconds since `epoch`, truncated to 32 bits (wrapping after 49 days).
#[cfg(not(blink_loom))]
pub fn elapsed_ms(epoch: std::time::Instant) -> u32 {
    // Truncation is the intended wrap-around.
    epoch.elapsed().as_millis() as u32
}

/// Under loom time stands still, so every execution of a model is reproducible.
#[cfg(blink_loom)]
pub fn elapsed_ms(_epoch: std::time::Instant) -> u32 {
    0
}

/// Milliseconds from `epoch` to `now` (0 if `now` is earlier), truncated to 32 bits.
#[cfg(not(blink_loom))]
pub fn ms_between(epoch: std::time::Instant, now: std::time::Instant) -> u32 {
    // Truncation is the intended wrap-around.
    now.saturating_duration_since(epoch).as_millis() as u32
}

/// Under loom time stands still (see [`elapsed_ms`]).
#[cfg(blink_loom)]
pub fn ms_between(_epoch: std::time::Instant, _now: std::time::Instant) -> u32 {
    0
}

/// The sampler's random source: from the operating system normally, fixed under loom so
/// every execution of a model draws the same entries.
pub fn sampling_rng() -> rand::rngs::SmallRng {
    use rand::SeedableRng;
    if cfg!(blink_loom) {
        rand::rngs::SmallRng::seed_from_u64(0)
    } else {
        rand::rngs::SmallRng::from_rng(&mut rand::rng())
    }
}

/// The hasher of keys: seeded from the operating system once per process normally, so
/// clients cannot pick colliding keys; fixed under loom, so models are reproducible.
pub fn key_hasher() -> &'static foldhash::quality::FixedState {
    static HASHER: std::sync::OnceLock<foldhash::quality::FixedState> = std::sync::OnceLock::new();
    HASHER.get_or_init(|| {
        let seed = if cfg!(blink_loom) { 0 } else { rand::random() };
        foldhash::quality::FixedState::with_seed(seed)
    })
}
