//! Runs memcached's text requests against the store (the meta commands are in
//! [`super::memcache_meta`]): converts exptimes to expiries on the store's clock, counts
//! what `stats` reports that the store does not count itself ([`McState`]), and runs a
//! delayed `flush_all` on a timer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::memcache_meta;
use super::{Context, ServerInfo};
use crate::protocol::memcache::{
    Hit, Keys, McReply, McRequest, StatsGroup, StatsReport, Status, StoreMode, MAX_RELATIVE_EXPTIME,
};
use crate::protocol::{Limits, Refusal, Reply};
use crate::store::memcache::{self as store_mc, Arith, Removed, Stored};
use crate::store::stats::Counter;
use crate::store::update::ExpiryChange;
use crate::store::{Store, StoreError};
use crate::sync::Guard;

/// The counters memcached's `stats` reports that the store does not keep.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// Keys asked for by retrievals (`cmd_get`).
    CmdGet,
    /// Storage commands (`cmd_set`).
    CmdSet,
    /// `flush_all` commands.
    CmdFlush,
    /// Keys touched (`touch`, `gat`, `mg` with `T`).
    CmdTouch,
    /// `me` commands (`cmd_meta`).
    CmdMeta,
    /// Retrieval hits.
    GetHits,
    /// Retrieval misses.
    GetMisses,
    /// Deletes that found their key.
    DeleteHits,
    /// Deletes that did not.
    DeleteMisses,
    /// incr hits.
    IncrHits,
    /// incr misses.
    IncrMisses,
    /// decr hits.
    DecrHits,
    /// decr misses.
    DecrMisses,
    /// CAS stores that matched.
    CasHits,
    /// CAS stores of absent keys.
    CasMisses,
    /// CAS stores that found another CAS.
    CasBadval,
    /// Touches that found their key.
    TouchHits,
    /// Touches that did not.
    TouchMisses,
    /// Items stored.
    TotalItems,
}

/// How many [`Count`]s there are.
const COUNTS: usize = Count::TotalItems as usize + 1;

/// Server-wide state of memcached's protocols: the counters `stats` reports, and the
/// deadline of a delayed `flush_all`.
pub struct McState {
    /// One sharded counter per [`Count`]: commands on every core count without
    /// contending on one cache line.
    counts: [Counter; COUNTS],
    /// When a delayed `flush_all` empties the store (Unix ms on the store's clock), if
    /// one is pending: [`run_flush_timer`] waits for it; a newer `flush_all` replaces it.
    flush_at: watch::Sender<Option<u64>>,
    /// Threads serving connections, for `stats`.
    threads: AtomicU64,
    /// The TCP port of the memcached listener, for `stats settings`.
    tcp_port: AtomicU64,
    /// The longest value accepted (`--max-value-size`), for `stats settings` and as
    /// the limit on what append and prepend make.
    item_size_max: AtomicU64,
}

impl Default for McState {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| Counter::default()),
            flush_at: watch::Sender::new(None),
            threads: AtomicU64::new(0),
            tcp_port: AtomicU64::new(0),
            item_size_max: AtomicU64::new(Limits::new().max_value_len as u64),
        }
    }
}

impl std::fmt::Debug for McState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McState")
            .field("flush_at", &*self.flush_at.borrow())
            .finish_non_exhaustive()
    }
}

impl McState {
    /// Records the threads serving connections, the memcached TCP port and the longest
    /// value accepted, for `stats`.
    pub fn configure(&self, threads: usize, tcp_port: u16, item_size_max: usize) {
        // Ordering: Relaxed; settings shown by stats.
        self.threads.store(threads as u64, Ordering::Relaxed);
        self.tcp_port.store(u64::from(tcp_port), Ordering::Relaxed);
        self.item_size_max
            .store(item_size_max as u64, Ordering::Relaxed);
    }

    /// The longest value a write may make: the server's `--max-value-size`.
    pub fn max_value_len(&self) -> usize {
        // Ordering: Relaxed; a setting written once at start.
        let limit = self.item_size_max.load(Ordering::Relaxed);
        usize::try_from(limit).unwrap_or(usize::MAX)
    }

    /// Adds one to `count`.
    pub fn count(&self, count: Count) {
        self.add(count, 1);
    }

    /// Adds `n` to `count`.
    pub fn add(&self, count: Count, n: u64) {
        if let Some(counter) = self.counts.get(count as usize) {
            counter.add(n);
        }
    }

    /// The total of `count`.
    pub fn get(&self, count: Count) -> u64 {
        self.counts.get(count as usize).map_or(0, Counter::sum)
    }

    /// Counts a hit or a miss, as a retrieval (`cmd_get`) or a touch (`cmd_touch`).
    pub fn count_read(&self, touch: bool, hit: bool) {
        let (cmd, hits, misses) = match touch {
            true => (Count::CmdTouch, Count::TouchHits, Count::TouchMisses),
            false => (Count::CmdGet, Count::GetHits, Count::GetMisses),
        };
        self.count(cmd);
        self.count(if hit { hits } else { misses });
    }

    /// Counts a storage command and what it did.
    pub fn count_store(&self, outcome: &Result<Stored, StoreError>, cas: bool) {
        self.count(Count::CmdSet);
        match outcome {
            Ok(Stored::Stored { .. }) => {
                self.count(Count::TotalItems);
                if cas {
                    self.count(Count::CasHits);
                }
            }
            Ok(Stored::NotFound) if cas => self.count(Count::CasMisses),
            Ok(Stored::Exists) if cas => self.count(Count::CasBadval),
            _ => {}
        }
    }

    /// Counts an incr or a decr that found its key or not.
    pub fn count_arith(&self, incr: bool, hit: bool) {
        self.count(match (incr, hit) {
            (true, true) => Count::IncrHits,
            (true, false) => Count::IncrMisses,
            (false, true) => Count::DecrHits,
            (false, false) => Count::DecrMisses,
        });
    }

    /// Zeroes the counters (`stats reset`).
    pub fn reset(&self) {
        self.counts.iter().for_each(Counter::reset);
    }
}

/// The expiry memcached's `exptime` stands for at `now_ms`: 0 never expires; a negative
/// one has already expired; up to 30 days it is seconds from now, beyond that a Unix
/// time (one in the past has expired too).
pub fn expiry(exptime: i32, now_ms: u64) -> ExpiryChange {
    let secs = i64::from(exptime);
    match secs {
        0 => ExpiryChange::Clear,
        ..0 => ExpiryChange::At(0),
        1..=MAX_RELATIVE_EXPTIME => ExpiryChange::At(now_ms.saturating_add(secs as u64 * 1000)),
        _ => ExpiryChange::At(secs as u64 * 1000),
    }
}

/// The reply, or nothing if the request asked for `noreply`.
fn answer(noreply: bool, reply: McReply<'_>) -> Reply<'_> {
    match noreply {
        true => Reply::Silent,
        false => Reply::Memcache(reply),
    }
}

/// The status for a write the store refused.
pub fn refused(err: &StoreError) -> Status {
    match err {
        StoreError::TooLong { .. } => Status::TooLarge,
        _ => Status::OutOfMemory,
    }
}

/// Marks the connections that WATCH `key` (over RESP), which a memcached write changed.
pub fn modified(cx: &Context<'_>, key: &[u8]) {
    if cx.server.watches.any() {
        cx.server.watches.touch(key);
    }
}

/// Runs one memcached request. Never fails: a refusal is a reply in memcached's words.
pub fn apply<'a>(request: McRequest<'a>, cx: &mut Context<'_>, guard: &'a Guard<'_>) -> Reply<'a> {
    let store = cx.store;
    let state = &cx.server.memcache;
    match request {
        McRequest::Get { keys, cas, touch } => get(cx, keys, (cas, touch), guard),
        McRequest::Store {
            mode,
            key,
            flags,
            exptime,
            value,
            compare_cas,
            noreply,
        } => {
            let mode = match mode {
                StoreMode::Set => store_mc::StoreMode::Set,
                StoreMode::Add => store_mc::StoreMode::Add,
                StoreMode::Replace => store_mc::StoreMode::Replace,
                StoreMode::Append => store_mc::StoreMode::Append,
                StoreMode::Prepend => store_mc::StoreMode::Prepend,
            };
            let expiry = expiry(exptime, store.unix_ms());
            let max_len = state.max_value_len();
            let outcome =
                store.store_item(key, value, max_len, mode, flags, expiry, compare_cas, guard);
            state.count_store(&outcome, compare_cas.is_some());
            let status = match outcome {
                Ok(Stored::Stored { .. }) => {
                    modified(cx, key);
                    Status::Stored
                }
                Ok(Stored::NotStored) => Status::NotStored,
                Ok(Stored::Exists) => Status::Exists,
                Ok(Stored::NotFound) => Status::NotFound,
                // An append or prepend past the value limit: memcached cannot allocate
                // the longer item and answers NOT_STORED.
                Err(StoreError::TooLong { .. }) => Status::NotStored,
                Err(err) => refused(&err),
            };
            answer(noreply, McReply::Status(status))
        }
        McRequest::TooLarge { key, set, noreply } => {
            // memcached drops the old value of a set it cannot store, so that a stale
            // value does not outlive the write.
            if set {
                let mut buf = [0; crate::protocol::memcache::MAX_DECODED_KEY_LEN];
                let key = key.key(&mut buf);
                if store.delete_item(key, None, guard) == Removed::Deleted {
                    modified(cx, key);
                }
            }
            match noreply {
                true => Reply::Silent,
                false => Reply::Memcache(McReply::Status(Status::TooLarge)),
            }
        }
        McRequest::Delete { key, noreply } => {
            let status = match store.delete_item(key, None, guard) {
                Removed::Deleted | Removed::Invalidated => {
                    state.count(Count::DeleteHits);
                    modified(cx, key);
                    Status::Deleted
                }
                Removed::NotFound | Removed::Exists => {
                    state.count(Count::DeleteMisses);
                    Status::NotFound
                }
            };
            answer(noreply, McReply::Status(status))
        }
        McRequest::Arith {
            key,
            incr,
            delta,
            noreply,
        } => {
            let reply = match store.arith(key, incr, delta, None, guard) {
                Ok(Arith::Value { value, .. }) => {
                    state.count_arith(incr, true);
                    modified(cx, key);
                    McReply::Number(value)
                }
                Ok(Arith::NotFound | Arith::Exists) => {
                    state.count_arith(incr, false);
                    McReply::Status(Status::NotFound)
                }
                Ok(Arith::NonNumeric) => McReply::Status(Status::NonNumeric),
                Err(err) => McReply::Status(refused(&err)),
            };
            answer(noreply, reply)
        }
        McRequest::Touch {
            key,
            exptime,
            noreply,
        } => {
            let touched = store.touch_item(key, expiry(exptime, store.unix_ms()), guard);
            state.count_read(true, touched);
            if touched {
                modified(cx, key);
            }
            let status = if touched {
                Status::Touched
            } else {
                Status::NotFound
            };
            answer(noreply, McReply::Status(status))
        }
        McRequest::FlushAll { delay, noreply } => {
            state.count(Count::CmdFlush);
            flush_all(store, cx.server, delay);
            answer(noreply, McReply::Status(Status::Ok))
        }
        McRequest::Version => Reply::Memcache(McReply::Version),
        McRequest::Verbosity { noreply } => answer(noreply, McReply::Status(Status::Ok)),
        McRequest::Stats(group) => stats(cx, group),
        McRequest::MetaGet { .. }
        | McRequest::MetaSet { .. }
        | McRequest::MetaDelete { .. }
        | McRequest::MetaArith { .. }
        | McRequest::MetaNoop
        | McRequest::MetaDebug { .. } => memcache_meta::apply(request, cx, guard),
    }
}

/// `get`, `gets`, `gat`, `gats`: the hits, in the order asked.
fn get<'a>(
    cx: &Context<'_>,
    keys: Keys<'a>,
    (cas, touch): (bool, Option<i32>),
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let store = cx.store;
    let state = &cx.server.memcache;
    let mut hits = Vec::new();
    for key in keys.iter() {
        let item = match touch {
            None => store.item(key, guard),
            Some(exptime) => {
                match store.item_and_touch(key, expiry(exptime, store.unix_ms()), guard) {
                    Ok(item) => item,
                    Err(err) => return Reply::Refused(Refusal::Store(err)),
                }
            }
        };
        state.count_read(touch.is_some(), item.is_some());
        if let Some(item) = item {
            if touch.is_some() {
                modified(cx, key);
            }
            hits.push(Hit {
                key,
                value: item.value,
                flags: item.flags,
                cas: item.cas,
            });
        }
    }
    Reply::Memcache(McReply::Values { hits, cas })
}

/// `flush_all [delay]`: empties the store now, or sets the timer for later (a later
/// `flush_all` replaces a pending one, as in memcached).
fn flush_all(store: &Store, server: &ServerInfo, delay: i32) {
    let at = match expiry(delay, store.unix_ms()) {
        ExpiryChange::At(at) if at > store.unix_ms() => Some(at),
        _ => None,
    };
    server.memcache.flush_at.send_replace(at);
    if at.is_none() {
        flush_now(store, server);
    }
}

/// Empties the store, as FLUSHALL does, marking the watchers of the keys it removes.
fn flush_now(store: &Store, server: &ServerInfo) {
    let guard = store.guard();
    if server.watches.any() {
        server
            .watches
            .touch_where(|key| store.lookup(key, &guard).is_some());
    }
    let removed = store.flush();
    tracing::debug!(removed, "flushed");
}

/// Waits for the deadlines of delayed `flush_all`s and flushes at each, until
/// `shutdown`. One task per server.
pub async fn run_flush_timer(
    store: Arc<Store>,
    server: Arc<ServerInfo>,
    shutdown: CancellationToken,
) {
    let mut deadline = server.memcache.flush_at.subscribe();
    loop {
        let at = *deadline.borrow_and_update();
        let wait = async {
            match at {
                Some(at) => {
                    let ms = at.saturating_sub(store.unix_ms());
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = deadline.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = wait => {
                // Only if no later flush_all replaced this deadline meanwhile.
                let due = server.memcache.flush_at.send_if_modified(|pending| {
                    let due = *pending == at;
                    if due {
                        *pending = None;
                    }
                    due
                });
                if due {
                    let _held = store.isolation().shared();
                    flush_now(&store, &server);
                }
            }
        }
    }
}

/// `stats [settings|items|slabs|reset]`.
fn stats<'a>(cx: &Context<'_>, group: StatsGroup) -> Reply<'a> {
    let state = &cx.server.memcache;
    if group == StatsGroup::Reset {
        state.reset();
        return Reply::Memcache(McReply::Status(Status::Reset));
    }
    let store = cx.store;
    let stats = store.stats();
    let cpu = crate::cpu::used().unwrap_or_default();
    let (accepted, rejected) = cx.server.connections_counted();
    let count = |count| state.get(count);
    let pair = |hits, misses| (count(hits), count(misses));
    let report = StatsReport {
        group: Some(group),
        pid: std::process::id(),
        uptime: cx.server.uptime_secs(),
        time: store.unix_ms() / 1000,
        rusage_micros: (
            u64::try_from(cpu.user.as_micros()).unwrap_or(u64::MAX),
            u64::try_from(cpu.system.as_micros()).unwrap_or(u64::MAX),
        ),
        connections: (
            cx.server.max_connections(),
            cx.server.connected(),
            accepted,
            rejected,
        ),
        // Ordering: Relaxed; settings written once at start.
        threads: state.threads.load(Ordering::Relaxed),
        tcp_port: u16::try_from(state.tcp_port.load(Ordering::Relaxed)).unwrap_or(0),
        cmd: (
            count(Count::CmdGet),
            count(Count::CmdSet),
            count(Count::CmdFlush),
            count(Count::CmdTouch),
            count(Count::CmdMeta),
        ),
        get: pair(Count::GetHits, Count::GetMisses),
        delete: pair(Count::DeleteHits, Count::DeleteMisses),
        incr: pair(Count::IncrHits, Count::IncrMisses),
        decr: pair(Count::DecrHits, Count::DecrMisses),
        cas: (
            count(Count::CasHits),
            count(Count::CasMisses),
            count(Count::CasBadval),
        ),
        touch: pair(Count::TouchHits, Count::TouchMisses),
        traffic: cx.server.traffic.totals(),
        total_items: count(Count::TotalItems),
        curr_items: store.len() as u64,
        bytes: store.usage_bytes(),
        charged_bytes: store.charged_bytes(),
        limit_maxbytes: store.max_bytes(),
        evictions: stats.evicted,
        expired: stats.expired,
        item_size_max: state.item_size_max.load(Ordering::Relaxed),
    };
    Reply::Memcache(McReply::Stats(Box::new(report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exptimes_follow_memcacheds_rules() {
        let now = 1_700_000_000_000;
        assert_eq!(expiry(0, now), ExpiryChange::Clear);
        assert_eq!(expiry(-1, now), ExpiryChange::At(0));
        assert_eq!(expiry(10, now), ExpiryChange::At(now + 10_000));
        let month = MAX_RELATIVE_EXPTIME as i32;
        assert_eq!(
            expiry(month, now),
            ExpiryChange::At(now + month as u64 * 1000)
        );
        assert_eq!(
            expiry(month + 1, now),
            ExpiryChange::At((month as u64 + 1) * 1000)
        );
        assert_eq!(
            expiry(1_800_000_000, now),
            ExpiryChange::At(1_800_000_000_000)
        );
    }
}
