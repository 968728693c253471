//! SAVE, BGSAVE and LASTSAVE: snapshots asked for by clients ([`crate::snapshot`]).
//! SAVE's reply waits for the disk, so it is [`Deferred`]: the connection awaits it
//! before its next command, while the event loop serves its other connections.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::{Context, Held};
use crate::protocol::{Refusal, Reply};

/// A reply that comes later: SAVE's, once the snapshot is on disk.
pub struct Deferred(Pin<Box<dyn Future<Output = Reply<'static>> + Send>>);

impl Deferred {
    /// The reply `reply` resolves to.
    pub fn new(reply: impl Future<Output = Reply<'static>> + Send + 'static) -> Self {
        Self(Box::pin(reply))
    }
}

impl Future for Deferred {
    type Output = Reply<'static>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deferred")
    }
}

/// SAVE: writes a snapshot that holds every write made before it, and answers `+OK`
/// once it is on disk. If one is being written, the next one, right after it, serves.
/// The reply is deferred (see [`Deferred`]); the `Ok` returned here is never sent.
pub fn save<'a>(cx: &mut Context<'_>) -> Reply<'a> {
    let Some(snapshots) = &cx.server.snapshots else {
        return Reply::Refused(Refusal::SnapshotsOff);
    };
    if cx.held == Held::Exclusive {
        return Reply::Refused(Refusal::SaveInTransaction);
    }
    let outcome = snapshots.save();
    cx.session.defer(Deferred::new(async move {
        match outcome.await {
            Ok(Ok(_)) => Reply::Ok,
            Ok(Err(cause)) => Reply::Refused(Refusal::SaveFailed(cause)),
            // The writer thread could not start: it logged why.
            Err(_) => Reply::Refused(Refusal::SaveFailed("the snapshot thread failed".into())),
        }
    }));
    Reply::Ok
}

/// BGSAVE: starts writing a snapshot and answers at once; an error if one is being
/// written, unless SCHEDULE asks for another after it, as Redis has it.
pub fn bgsave<'a>(cx: &mut Context<'_>, schedule: bool) -> Reply<'a> {
    let Some(snapshots) = &cx.server.snapshots else {
        return Reply::Refused(Refusal::SnapshotsOff);
    };
    match snapshots.start() {
        Ok(()) => Reply::Status("Background saving started"),
        Err(_) if schedule => {
            // Nobody awaits this one: its outcome is logged and shown by INFO.
            drop(snapshots.save());
            Reply::Status("Background saving scheduled")
        }
        Err(_) => Reply::Refused(Refusal::SaveInProgress),
    }
}

/// LASTSAVE: the Unix time of the last successful snapshot, or of the start if none
/// (as Redis answers; also without a snapshot file).
pub fn lastsave<'a>(cx: &Context<'_>) -> Reply<'a> {
    let secs = match &cx.server.snapshots {
        Some(snapshots) => snapshots.last_save_secs(),
        None => cx.server.started_unix_secs(),
    };
    Reply::Integer(i64::try_from(secs).unwrap_or(i64::MAX))
}
