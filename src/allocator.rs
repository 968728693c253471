//! Tuning of glibc's allocator, the one place `unsafe` is allowed: two calls into the C
//! library, each a plain function call with integer arguments.
//!
//! A cache that evicts under a steady stream of writes frees and allocates entries on
//! every connection thread. glibc gives each thread its own arena, and memory freed in
//! one arena is not reused by another: under a write flood of ten times the limit with
//! 1 KiB values, RSS reached 2 to 3 times the limit with the default arenas, and stayed
//! within 1.5 times with one. One arena costs little here: glibc's per-thread caches
//! serve most small allocations without taking the arena's lock, and a server has a few
//! threads per CPU, not hundreds. After eviction bursts, trimming returns freed pages at
//! the top of the heap and unused pages inside it to the system.
#![allow(unsafe_code)]

/// Makes every thread share one malloc arena. Call it first thing in `main`, before
/// other threads start. Returns whether glibc accepted it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn use_one_arena() -> bool {
    // SAFETY: mallopt only adjusts a malloc parameter; it takes two integers, touches no
    // memory of ours, and glibc documents it as safe to call at any time.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) == 1 }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn use_one_arena() -> bool {
    false
}

/// Returns free memory of the heap to the system; for the evictor's idle ticks after
/// evictions. Returns whether any memory was released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() -> bool {
    // SAFETY: malloc_trim takes an integer (the padding to keep) and only releases free
    // pages it manages; it is thread-safe and touches no memory of ours.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other platforms have nothing to trim.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}
