//! The background evictor: a thread of its own that sleeps until a write pushes the
//! store over its limit, then runs eviction passes until it is back under, with a little
//! room to spare ([`Store::evict_with_headroom`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::store::Store;

/// How long the evictor sleeps between checks when nobody wakes it. Writers wake it as
/// soon as they cross the limit; this is only a backstop.
const IDLE_CHECK: Duration = Duration::from_millis(100);

/// How long to back off when a pass over the limit could evict nothing (every sampled
/// entry was replaced meanwhile), so the thread does not spin.
const EMPTY_PASS_BACKOFF: Duration = Duration::from_millis(1);

/// The evictor thread's nice value: below the connection threads, not starved.
#[cfg(unix)]
const EVICTOR_NICE: i32 = 10;

/// Handle to the evictor thread; dropping it stops and joins the thread.
pub struct Evictor {
    /// Set on drop to ask the thread to exit.
    stop: Arc<AtomicBool>,
    /// The running thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl Evictor {
    /// Starts the evictor thread for `store`.
    ///
    /// # Errors
    /// If the operating system cannot create the thread.
    pub fn spawn(store: Arc<Store>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::Builder::new().name("blink-evictor".into()).spawn({
            let stop = stop.clone();
            move || {
                // Registered before the first look at `used`: a write before this is seen
                // by that look, and a write after it unparks the thread. The handle is
                // `crate::sync`'s, the type the store takes.
                store.set_evictor(crate::sync::thread::current());
                run(&store, &stop)
            }
        })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Evictor {
    fn drop(&mut self) {
        // Ordering: Release pairs with the Acquire load in `run`.
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // A panicked evictor has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

fn run(store: &Store, stop: &AtomicBool) {
    // Serving requests comes first: the evictor yields the CPU to connection threads, and
    // when it falls behind, writers above the hard cap evict for themselves. On Linux the
    // nice value is per thread, so this lowers only the evictor.
    #[cfg(unix)]
    if let Err(err) = rustix::process::setpriority_process(None, EVICTOR_NICE) {
        tracing::debug!(cause = %err, "could not lower the evictor's priority");
    }
    while !stop.load(Ordering::Acquire) {
        // The access clock moves at least this often while no client is served.
        store.tick(Instant::now());
        store.refresh_structures();
        if store.used_bytes() <= store.entry_budget() {
            store.maintain();
            thread::park_timeout(IDLE_CHECK);
            continue;
        }
        let outcome = store.evict_with_headroom();
        tracing::debug!(
            evicted = outcome.evicted,
            freed_bytes = outcome.freed_bytes,
            used_bytes = store.used_bytes(),
            structure_bytes = store.structure_bytes(),
            "eviction pass"
        );
        if outcome.evicted == 0 {
            thread::park_timeout(EMPTY_PASS_BACKOFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_store_under_its_limit() {
        let store = Arc::new(Store::new(10_000));
        let evictor = Evictor::spawn(store.clone()).unwrap();
        for i in 0..2_000 {
            store.set(format!("k{i}").as_bytes(), &[b'v'; 100]).unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while store.used_bytes() > store.entry_budget() {
            assert!(
                std::time::Instant::now() < deadline,
                "evictor never settled"
            );
            thread::sleep(Duration::from_millis(1));
        }
        drop(evictor);
        assert_eq!(store.usage_bytes(), store.recount());
    }
}
