//! Warm restarts: the store's entries written to one file (`--snapshot`) on request and
//! at shutdown, and read back at start. [`format`] is the file's layout, [`write`] and
//! [`load`] move entries between it and the store; [`Snapshots`] decides when a write
//! runs, one at a time, on a thread of its own beside the event loops.
//!
//! # One write at a time
//! A write started while another runs does not run beside it. BGSAVE and SIGUSR1 are
//! told one is in progress; SAVE and the save at shutdown wait for the next write, which
//! starts when the running one ends, so what they get back covers every write made
//! before they asked (several waiting together share one).

pub mod format;
pub mod load;
pub mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

pub use self::format::ReadLimits;
pub use self::write::Written;
use crate::protocol::info::Persistence;
use crate::store::Store;

/// What a waiting SAVE gets back: the write's figures, or why it failed.
pub type Outcome = Result<Written, Arc<str>>;

/// Who waits for the next write.
type Waiters = Vec<oneshot::Sender<Outcome>>;

/// A write was asked for while one runs (BGSAVE and SIGUSR1 do not wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Background save already in progress")]
pub struct InProgress;

/// The snapshot file of a server started with `--snapshot`, and the writes to it.
pub struct Snapshots {
    /// The file.
    path: PathBuf,
    /// What is written.
    store: Arc<Store>,
    /// Whether a write runs, and who waits for the one after it.
    state: Mutex<State>,
    /// What INFO persistence and LASTSAVE report.
    status: Status,
}

/// Whether a write runs, and who waits for the next one.
#[derive(Default)]
struct State {
    /// A writer thread is running.
    running: bool,
    /// Asked for while one ran: the writer runs again for them once it is done.
    next: Option<Waiters>,
}

/// The last write's figures, kept in atomics so that INFO never waits for a write.
#[derive(Default)]
struct Status {
    /// A write is running (`rdb_bgsave_in_progress`).
    running: AtomicBool,
    /// Unix seconds of the last successful write, or of the start (LASTSAVE).
    last_save_secs: AtomicU64,
    /// Unix milliseconds when the running write started.
    started_ms: AtomicU64,
    /// Whether the last write failed (`rdb_last_bgsave_status`).
    last_failed: AtomicBool,
    /// Milliseconds the last write took, `u64::MAX` before any.
    last_took_ms: AtomicU64,
    /// Entries and bytes the last successful write wrote.
    last_entries: AtomicU64,
    /// See `last_entries`.
    last_bytes: AtomicU64,
    /// Successful writes since start.
    saves: AtomicU64,
    /// Entries the load at start put back.
    loaded_entries: AtomicU64,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The Unix time now, in milliseconds (0 before 1970).
fn unix_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Snapshots {
    /// The snapshots of `store` in the file at `path`; nothing is read or written yet.
    pub fn new(store: Arc<Store>, path: PathBuf) -> Arc<Self> {
        let status = Status {
            last_took_ms: AtomicU64::new(u64::MAX),
            last_save_secs: AtomicU64::new(unix_ms() / 1000),
            ..Status::default()
        };
        Arc::new(Self {
            path,
            store,
            state: Mutex::new(State::default()),
            status,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the file into the store, if it exists, and logs what came back; a file
    /// that cannot be read or is not whole is logged as an error and left alone, and the
    /// store stays empty. Before any client is served.
    pub fn load(&self, limits: ReadLimits) {
        let file = self.path.display();
        match load::load(&self.store, &self.path, limits) {
            Ok(None) => tracing::info!(%file, "no snapshot file: starting empty"),
            Ok(Some(loaded)) => {
                // Ordering: Relaxed; a figure for INFO.
                (self.status.loaded_entries).store(loaded.entries, Ordering::Relaxed);
                tracing::info!(
                    %file,
                    entries = loaded.entries,
                    data_bytes = loaded.data_bytes,
                    file_bytes = loaded.file_bytes,
                    expired = loaded.expired,
                    took_ms = loaded.took.as_millis() as u64,
                    "snapshot loaded"
                );
                if loaded.over_limit > 0 {
                    tracing::warn!(
                        %file,
                        left_out = loaded.over_limit,
                        max_bytes = self.store.max_bytes(),
                        "the memory limit was reached while loading: entries left out"
                    );
                }
            }
            Err(err) => tracing::error!(
                %file,
                cause = %err,
                "snapshot file not loaded: starting empty (the file is kept, and replaced \
                 by the next snapshot)"
            ),
        }
    }

    /// Starts a write unless one runs (BGSAVE, SIGUSR1).
    ///
    /// # Errors
    /// [`InProgress`] if a write runs.
    pub fn start(self: &Arc<Self>) -> Result<(), InProgress> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.running {
            return Err(InProgress);
        }
        state.running = true;
        drop(state);
        self.spawn(Vec::new());
        Ok(())
    }

    /// A write that starts after every write made before this call (SAVE, shutdown):
    /// now if none runs, else right after the running one. Await the receiver for its
    /// outcome.
    pub fn save(self: &Arc<Self>) -> oneshot::Receiver<Outcome> {
        let (done, outcome) = oneshot::channel();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.running {
            state.next.get_or_insert_with(Vec::new).push(done);
            return outcome;
        }
        state.running = true;
        drop(state);
        self.spawn(vec![done]);
        outcome
    }

    /// Runs writes on a thread of its own until nobody waits for another.
    fn spawn(self: &Arc<Self>, waiters: Waiters) {
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("blink-snapshot".into())
            .spawn(move || this.run(waiters));
        if let Err(err) = spawned {
            tracing::error!(cause = %err, "could not start the snapshot thread");
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.running = false;
            // Dropped senders tell the waiters it failed.
            state.next = None;
            (self.status.last_failed).store(true, Ordering::Relaxed);
        }
    }

    /// The writer thread: one write, its outcome to its waiters, then again for those
    /// who asked meanwhile.
    /// The write is marked done before anyone hears of it (the log, a waiting SAVE): a
    /// BGSAVE sent after SAVE's reply, or a SIGUSR1 after the log line, starts a write.
    fn run(&self, mut waiters: Waiters) {
        loop {
            let outcome = self.write_once();
            let next = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let next = state.next.take();
                state.running = next.is_some();
                next
            };
            // Ordering: Relaxed; a figure for INFO.
            (self.status.running).store(next.is_some(), Ordering::Relaxed);
            self.log(&outcome);
            for waiter in waiters.drain(..) {
                // A waiter that went away (its client closed) needs no answer.
                let _ = waiter.send(outcome.clone());
            }
            match next {
                Some(next) => waiters = next,
                None => return,
            }
        }
    }

    /// Logs a write's outcome.
    fn log(&self, outcome: &Outcome) {
        let file = self.path.display();
        match outcome {
            Ok(written) => tracing::info!(
                %file,
                entries = written.entries,
                bytes = written.bytes,
                took_ms = written.took.as_millis() as u64,
                "snapshot written"
            ),
            Err(cause) => tracing::error!(%cause, "snapshot failed"),
        }
    }

    /// One write, recorded for INFO.
    fn write_once(&self) -> Outcome {
        let status = &self.status;
        // Ordering: Relaxed throughout; figures for INFO, read independently.
        status.started_ms.store(unix_ms(), Ordering::Relaxed);
        status.running.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let result = write::write(&self.store, &self.path);
        let took_ms = started.elapsed().as_millis() as u64;
        status.last_took_ms.store(took_ms, Ordering::Relaxed);
        match result {
            Ok(written) => {
                status.last_failed.store(false, Ordering::Relaxed);
                status
                    .last_entries
                    .store(written.entries, Ordering::Relaxed);
                status.last_bytes.store(written.bytes, Ordering::Relaxed);
                status.saves.fetch_add(1, Ordering::Relaxed);
                status
                    .last_save_secs
                    .store(unix_ms() / 1000, Ordering::Relaxed);
                Ok(written)
            }
            Err(err) => {
                status.last_failed.store(true, Ordering::Relaxed);
                Err(format!("{}: {err}", self.path.display()).into())
            }
        }
    }

    /// Unix seconds of the last successful write, or of the start (LASTSAVE).
    pub fn last_save_secs(&self) -> u64 {
        // Ordering: Relaxed; a figure.
        self.status.last_save_secs.load(Ordering::Relaxed)
    }

    /// What INFO persistence shows.
    pub fn figures(&self) -> Persistence {
        let status = &self.status;
        // Ordering: Relaxed throughout; figures, each read on its own.
        let load = |value: &AtomicU64| value.load(Ordering::Relaxed);
        let in_progress = status.running.load(Ordering::Relaxed);
        let last_took_ms = load(&status.last_took_ms);
        let last_took_ms = i64::try_from(last_took_ms).unwrap_or(-1);
        let current_ms = unix_ms().saturating_sub(load(&status.started_ms));
        Persistence {
            path: self.path.display().to_string(),
            in_progress,
            last_save_secs: load(&status.last_save_secs),
            last_failed: status.last_failed.load(Ordering::Relaxed),
            last_took_secs: if last_took_ms < 0 {
                -1
            } else {
                (last_took_ms + 500) / 1000
            },
            current_secs: if in_progress {
                i64::try_from(current_ms / 1000).unwrap_or(i64::MAX)
            } else {
                -1
            },
            last_took_ms,
            last_entries: load(&status.last_entries),
            last_bytes: load(&status.last_bytes),
            saves: load(&status.saves),
            loaded_entries: load(&status.loaded_entries),
        }
    }
}

/// Starts a write on every SIGUSR1 until the process exits; one asked for while a write
/// runs, or without a snapshot file, is logged and skipped (rather than end the
/// process, SIGUSR1's default).
///
/// # Errors
/// If the signal handler cannot be installed.
#[cfg(unix)]
pub fn save_on_sigusr1(
    snapshots: Option<Arc<Snapshots>>,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut usr1 = signal(SignalKind::user_defined1())?;
    Ok(async move {
        while usr1.recv().await.is_some() {
            let Some(snapshots) = &snapshots else {
                tracing::warn!("SIGUSR1 ignored: snapshots are off (start with --snapshot FILE)");
                continue;
            };
            tracing::info!("received SIGUSR1: writing a snapshot");
            if let Err(err) = snapshots.start() {
                tracing::warn!(cause = %err, "SIGUSR1 ignored");
            }
        }
    })
}
