//! The event loops that serve connections: one thread per loop, each running its own
//! current-thread tokio runtime, which owns every connection handed to it from its first
//! read to its close (decision 0007).
//!
//! A request is read, executed on the shared store and answered on one thread: nothing
//! wakes another thread on its behalf, and no run queue, work-stealing scheduler or
//! parked worker sits between a socket's readiness and the task that serves it. The
//! loops share the store and the sharded counters, never a lock or a counter per request.
//!
//! Accepting stays on the caller's runtime (with signals, timers and shutdown); each
//! accepted connection is handed to the loop with the fewest open connections, the loops
//! taken in turn among equals, so the loops stay balanced as connections come and go.
//!
//! A loop that runs out of work polls its sockets a few more times before it sleeps (at
//! most `busy_polls`, see [`EventLoops::start`]; fewer after long idle gaps): the next
//! request of a client waiting for a reply usually arrives within tens of microseconds,
//! and finding it awake saves the sleep, the wake-up and the switch between threads,
//! which on a virtual machine cost more than serving the request. With four clients on
//! two CPUs it served about 2.5 times as many requests, at a third less CPU time each
//! (decision 0007). A loop with nothing to do for that long sleeps as before, and costs
//! nothing while idle.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// One loop as the accepting side sees it.
struct Loop {
    /// Where its connections are spawned.
    runtime: tokio::runtime::Handle,
    /// Connections handed to it and not yet closed.
    open: Arc<AtomicUsize>,
}

/// The running loops. [`EventLoops::stop`] stops them and waits for their threads;
/// dropping them only tells them to stop, as the last owner may be a task on a loop.
pub struct EventLoops {
    loops: Vec<Loop>,
    /// Each loop's thread, joined by [`EventLoops::stop`].
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Ends every loop's runtime.
    stop: CancellationToken,
    /// Where the search for the least loaded loop starts, so equals take turns.
    next: AtomicUsize,
}

impl std::fmt::Debug for EventLoops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoops")
            .field("loops", &self.loops.len())
            .finish_non_exhaustive()
    }
}

impl EventLoops {
    /// Starts `count` loops (at least one), on threads named `name-0`, `name-1`, ...;
    /// each polls its sockets up to `busy_polls` times after its last work before it
    /// sleeps.
    ///
    /// # Errors
    /// If a runtime or a thread cannot be created.
    pub fn start(count: usize, name: &str, busy_polls: u32) -> std::io::Result<Self> {
        let stop = CancellationToken::new();
        let mut loops = Vec::new();
        let mut threads = Vec::new();
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            loops.push(Loop {
                runtime: runtime.handle().clone(),
                open: Arc::new(AtomicUsize::new(0)),
            });
            let stop = stop.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    // Runs the loop's tasks until told to stop; dropping the runtime then
                    // drops (and so closes) whatever connection is still open on it.
                    runtime.block_on(async {
                        tokio::select! {
                            () = stop.cancelled() => {}
                            () = poll_before_sleeping(busy_polls) => {}
                        }
                    });
                })?;
            threads.push(thread);
        }
        Ok(Self {
            loops,
            threads: Mutex::new(threads),
            stop,
            next: AtomicUsize::new(0),
        })
    }

    /// How many loops run.
    pub fn len(&self) -> usize {
        self.loops.len()
    }

    /// Always false: there is at least one loop.
    pub fn is_empty(&self) -> bool {
        self.loops.is_empty()
    }

    /// Runs `task`, one connection, on the loop with the fewest open connections. The
    /// task is first polled on that loop, so it registers its socket there.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(chosen) = self.least_loaded() else {
            return;
        };
        // Ordering: Relaxed; the count only balances the loops.
        chosen.open.fetch_add(1, Ordering::Relaxed);
        let open = Closes(chosen.open.clone());
        chosen.runtime.spawn(async move {
            let _open = open;
            task.await;
        });
    }

    /// The loop with the fewest open connections, searched from the one after the last
    /// chosen, so that loops with equal counts take turns.
    fn least_loaded(&self) -> Option<&Loop> {
        // Ordering: Relaxed; only spreads connections over the loops.
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.loops.len();
        (0..count)
            .map(|offset| &self.loops[(start + offset) % count])
            .min_by_key(|candidate| candidate.open.load(Ordering::Relaxed))
    }

    /// Stops every loop, dropping the connections still open on them, and waits for the
    /// threads to end. Must not be called from a loop.
    pub fn stop(&self) {
        self.stop.cancel();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("an event loop thread panicked");
            }
        }
    }
}

impl Drop for EventLoops {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

std::thread_local! {
    /// Batches of work done on this thread's loop, as connections note them ([`worked`]).
    static WORK: Cell<u64> = const { Cell::new(0) };
    /// The waker of this loop's poller while it sleeps, until work wakes it.
    static SLEEPING: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

/// Notes that a connection on this thread's loop did work: a batch of requests. A
/// thread-local count, so noting costs no shared write; it wakes the loop's poller if it
/// went to sleep.
pub fn worked() {
    WORK.with(|work| work.set(work.get().wrapping_add(1)));
    SLEEPING.with(|sleeping| {
        if let Some(poller) = sleeping.borrow_mut().take() {
            poller.wake();
        }
    });
}

/// The loop's poller: while the loop has worked within its last few turns (its polling
/// window, at most `busy_polls`), it yields, and so keeps the loop polling its sockets
/// without sleeping (a current-thread runtime with a task ready polls for I/O without
/// waiting); then it sleeps until work is noted again, and the loop sleeps in the kernel
/// when it has nothing else to do. The window adapts, as KVM's halt polling does
/// ([`next_window`]): full while the loop's sleeps are short (clients waiting on it turn
/// by turn), halved by each long one, so sporadic traffic soon costs no polling. A loop confined to one CPU does not poll at all:
/// whoever sends it work (a client pinned beside it, the kernel's network processing)
/// needs that CPU, as spinning locks are pointless on one processor.
async fn poll_before_sleeping(busy_polls: u32) {
    if busy_polls == 0 {
        return std::future::pending().await;
    }
    let mut cpus = Cpus::default();
    let mut window = busy_polls;
    loop {
        if !cpus.several() {
            // Not woken by work meanwhile: the loop sleeps whenever it is idle.
            tokio::time::sleep(CPUS_RECHECK).await;
            continue;
        }
        let mut seen = WORK.with(Cell::get);
        let mut idle_polls = 0;
        while idle_polls < window {
            tokio::task::yield_now().await;
            let now = WORK.with(Cell::get);
            if now == seen {
                idle_polls += 1;
            } else {
                seen = now;
                idle_polls = 0;
            }
        }
        let asleep = Instant::now();
        std::future::poll_fn(|cx| {
            if WORK.with(Cell::get) != seen {
                return Poll::Ready(());
            }
            SLEEPING.with(|sleeping| *sleeping.borrow_mut() = Some(cx.waker().clone()));
            Poll::Pending
        })
        .await;
        window = next_window(window, asleep.elapsed(), busy_polls);
    }
}

/// A sleep this short means a client is waiting on the loop turn by turn (a round trip
/// to a client on another CPU takes tens of microseconds here): worth polling for.
const SHORT_SLEEP: Duration = Duration::from_micros(200);

/// The polling window after a sleep of `slept`: the whole `max` after a short sleep,
/// halved after a long one, so a few long gaps in a row stop the polling.
fn next_window(window: u32, slept: Duration, max: u32) -> u32 {
    if slept <= SHORT_SLEEP {
        max
    } else {
        window / 2
    }
}

/// How often the poller looks again at the CPUs its thread may run on: they change when
/// an operator pins a running server (`taskset`).
const CPUS_RECHECK: Duration = Duration::from_millis(100);

/// Whether this thread may run on more than one CPU, as last looked up.
#[derive(Default)]
struct Cpus {
    /// The answer, and when it was looked up.
    last: Option<(bool, Instant)>,
}

impl Cpus {
    fn several(&mut self) -> bool {
        let now = Instant::now();
        match self.last {
            Some((several, at)) if now.duration_since(at) < CPUS_RECHECK => several,
            _ => {
                let several = thread_cpus() != Some(1);
                self.last = Some((several, now));
                several
            }
        }
    }
}

/// The number of CPUs the calling thread may run on, where the system says.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn thread_cpus() -> Option<u32> {
    rustix::thread::sched_getaffinity(None)
        .ok()
        .map(|set| set.count())
}

/// Unknown here: the poller polls on.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn thread_cpus() -> Option<u32> {
    None
}

/// Counts a connection closed on its loop when dropped: when its task ends, or when the
/// loop stops and drops it unfinished.
struct Closes(Arc<AtomicUsize>);

impl Drop for Closes {
    fn drop(&mut self) {
        // Ordering: Relaxed; see `EventLoops::spawn`.
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use std::time::Duration;

    use super::{next_window, EventLoops};

    #[test]
    fn connections_are_spread_over_the_loops_and_run_on_their_threads() {
        let loops = EventLoops::start(2, "test-loop", 0).unwrap();
        let (sent, received) = mpsc::channel();
        let (release, hold) = tokio::sync::watch::channel(false);
        for _ in 0..4 {
            let sent = sent.clone();
            let mut hold = hold.clone();
            loops.spawn(async move {
                let name = std::thread::current().name().map(str::to_owned);
                sent.send(name).unwrap();
                // Stays open, so the next connection goes to the other loop.
                let _ = hold.wait_for(|released| *released).await;
            });
        }
        let mut names: Vec<_> = (0..4).map(|_| received.recv().unwrap().unwrap()).collect();
        names.sort();
        assert_eq!(
            names,
            ["test-loop-0", "test-loop-0", "test-loop-1", "test-loop-1"]
        );
        release.send(true).unwrap();
        loops.stop();
    }

    #[test]
    fn the_polling_window_fades_with_long_sleeps_and_returns_with_a_short_one() {
        let short = Duration::from_micros(20);
        let long = Duration::from_millis(5);
        let mut window = 64;
        for expected in [32, 16, 8, 4, 2, 1, 0, 0] {
            window = next_window(window, long, 64);
            assert_eq!(window, expected);
        }
        window = next_window(window, short, 64);
        assert_eq!(window, 64, "one short sleep polls in full again");
    }

    #[test]
    fn stopping_drops_what_is_still_open() {
        let loops = EventLoops::start(1, "test-stop", 64).unwrap();
        let (dropped, is_dropped) = mpsc::channel::<()>();
        loops.spawn(async move {
            let _dropped = dropped;
            std::future::pending::<()>().await;
        });
        loops.stop();
        // The sender went with the task: the channel is disconnected, not waiting.
        assert!(is_dropped.recv().is_err());
    }
}
