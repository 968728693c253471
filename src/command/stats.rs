//! Per-command statistics for INFO (`commandstats`, `errorstats`, the totals in `stats`):
//! calls, time, rejections and failures per command of the command table, and error
//! replies per error code.
//!
//! Every request adds to these, from every connection thread, so they are sharded like
//! the store's counters ([`crate::store::stats`]): each thread adds to its own shard, a
//! run of cache lines no other shard shares, with relaxed `fetch_add`s; INFO sums the
//! shards. A request costs two uncontended atomic adds (calls and microseconds), and
//! nothing is lost or delayed, unlike per-connection counters folded in batches, which
//! would leave INFO behind by whatever a quiet connection has not folded yet. The memory
//! is fixed: 16 shards of 4 counters per command, about 55 KiB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::latency::{Histogram, Latencies};
use crate::protocol::command_table::ALL;
use crate::protocol::info::CommandStat;
use crate::protocol::resp::{error_code_index, error_codes};
use crate::protocol::{Call, Refusal, Reply};
use crate::store::stats::{thread_shard, SHARDS};

/// Counters per command: calls, microseconds, rejected calls, failed calls.
const PER_COMMAND: usize = 4;

/// Counters per cache line (two lines, for CPUs that fetch them in pairs).
const PER_LINE: usize = 16;

/// One run of cache lines: a shard is a whole number of them, so shards share none.
#[derive(Default)]
#[repr(align(128))]
struct Line([AtomicU64; PER_LINE]);

/// The counters of every command and every error code.
pub struct CommandStats {
    /// Shard after shard, each `lines_per_shard` lines: the commands' counters in
    /// [`ALL`]'s order, then one counter per error code.
    lines: Box<[Line]>,
    /// Lines in one shard.
    lines_per_shard: usize,
    /// How long commands took, per family.
    latencies: Latencies,
}

impl std::fmt::Debug for CommandStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandStats").finish_non_exhaustive()
    }
}

impl Default for CommandStats {
    fn default() -> Self {
        let counters = ALL.len() * PER_COMMAND + error_codes().len();
        let lines_per_shard = counters.div_ceil(PER_LINE);
        Self {
            lines: (0..lines_per_shard * SHARDS)
                .map(|_| Line::default())
                .collect(),
            lines_per_shard,
            latencies: Latencies::default(),
        }
    }
}

/// How a request ended, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It ran and succeeded.
    Done,
    /// It ran and answered with an error.
    Failed,
    /// It was refused before it ran.
    Rejected,
}

impl CommandStats {
    /// Counts one request: a call of `call`'s command that took `elapsed`, or a refusal,
    /// and its error reply if it got one. A request that named no command counts only
    /// its error.
    pub fn record(&self, call: Option<Call>, reply: &Reply<'_>, elapsed: Duration) {
        let error = match reply {
            Reply::Error(err) => Some(err.to_string()),
            Reply::Refused(refusal) => Some(refusal.to_string()),
            Reply::Broken(err) => Some(err.to_string()),
            _ => None,
        };
        let refused = matches!(
            reply,
            Reply::Refused(Refusal::NoAuth | Refusal::HelloNoAuth)
        );
        if let Some(call) = call {
            let outcome = match (call.rejected || refused, error.is_some()) {
                (true, _) => Outcome::Rejected,
                (false, true) => Outcome::Failed,
                (false, false) => Outcome::Done,
            };
            self.count_call(call.command.id, outcome, elapsed);
        }
        if let Some(text) = error {
            self.add(ALL.len() * PER_COMMAND + error_code_index(&text), 1);
        }
    }

    /// Counts `calls` calls of the command with this [`CommandSpec::id`] that succeeded
    /// and took `elapsed` in all: a connection's run of quick commands, timed together.
    ///
    /// [`CommandSpec::id`]: crate::protocol::CommandSpec
    pub fn record_run(&self, id: u16, calls: u64, elapsed: Duration) {
        self.latencies.observe_command(id, calls, elapsed);
        let base = usize::from(id) * PER_COMMAND;
        self.add(base, calls);
        self.add(
            base + 1,
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
    }

    fn count_call(&self, id: u16, outcome: Outcome, elapsed: Duration) {
        let base = usize::from(id) * PER_COMMAND;
        if outcome == Outcome::Rejected {
            self.add(base + 2, 1);
            return;
        }
        self.latencies.observe_command(id, 1, elapsed);
        self.add(base, 1);
        self.add(
            base + 1,
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
        if outcome == Outcome::Failed {
            self.add(base + 3, 1);
        }
    }

    /// Adds `n` to counter `index` in this thread's shard.
    fn add(&self, index: usize, n: u64) {
        let line = thread_shard() * self.lines_per_shard + index / PER_LINE;
        if let Some(counter) = self
            .lines
            .get(line)
            .and_then(|line| line.0.get(index % PER_LINE))
        {
            // Ordering: Relaxed; a statistic, read only as a sum.
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counter `index` summed over the shards.
    fn sum(&self, index: usize) -> u64 {
        (0..SHARDS)
            .filter_map(|shard| {
                let line = self
                    .lines
                    .get(shard * self.lines_per_shard + index / PER_LINE)?;
                line.0.get(index % PER_LINE)
            })
            .map(|counter| counter.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// The counters of every command called, refused or failed since the last reset, in
    /// table order.
    pub fn commands(&self) -> Vec<CommandStat> {
        ALL.iter()
            .enumerate()
            .map(|(id, spec)| {
                let base = id * PER_COMMAND;
                CommandStat {
                    name: spec.name,
                    calls: self.sum(base),
                    usec: self.sum(base + 1),
                    rejected: self.sum(base + 2),
                    failed: self.sum(base + 3),
                }
            })
            .filter(|stat| stat.calls > 0 || stat.rejected > 0 || stat.failed > 0)
            .collect()
    }

    /// Error replies per error code, of the codes seen since the last reset.
    pub fn errors(&self) -> Vec<(&'static str, u64)> {
        error_codes()
            .iter()
            .enumerate()
            .map(|(i, code)| (*code, self.sum(ALL.len() * PER_COMMAND + i)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// Counts one memcached request that took `elapsed`, in its latency histogram
    /// (memcached's own counters are [`super::memcache::McState`]'s).
    pub fn record_memcache(&self, elapsed: Duration) {
        self.latencies.observe_memcache(elapsed);
    }

    /// How long commands took, per family, of the families seen since the last reset.
    pub fn latencies(&self) -> Vec<Histogram> {
        self.latencies.histograms()
    }

    /// Zeroes every counter (CONFIG RESETSTAT); adds made meanwhile may survive.
    pub fn reset(&self) {
        self.latencies.reset();
        for line in self.lines.iter() {
            for counter in &line.0 {
                // Ordering: Relaxed; a statistic.
                counter.store(0, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command_table;
    use crate::protocol::ClientError;

    fn call(command: &'static command_table::CommandSpec, rejected: bool) -> Option<Call> {
        Some(Call { command, rejected })
    }

    #[test]
    fn calls_failures_rejections_and_errors_are_counted_apart() {
        let stats = CommandStats::default();
        let micros = Duration::from_micros(7);
        stats.record(call(&command_table::GET, false), &Reply::NotFound, micros);
        stats.record(call(&command_table::GET, false), &Reply::NotFound, micros);
        let arity = Reply::Error(ClientError::RespArity { cmd: "get" });
        stats.record(call(&command_table::GET, true), &arity, micros);
        stats.record(
            call(&command_table::SET, false),
            &Reply::Error(ClientError::Syntax),
            micros,
        );
        stats.record(
            call(&command_table::SET, false),
            &Reply::Refused(Refusal::NoAuth),
            micros,
        );
        stats.record(None, &Reply::Error(ClientError::WrongPass), micros);
        let commands = stats.commands();
        assert_eq!(
            commands,
            [
                CommandStat {
                    name: "get",
                    calls: 2,
                    usec: 14,
                    rejected: 1,
                    failed: 0
                },
                CommandStat {
                    name: "set",
                    calls: 1,
                    usec: 7,
                    rejected: 1,
                    failed: 1
                },
            ]
        );
        assert_eq!(
            stats.errors(),
            [("ERR", 2), ("NOAUTH", 1), ("WRONGPASS", 1)]
        );
        stats.reset();
        assert!(stats.commands().is_empty() && stats.errors().is_empty());
    }

    #[test]
    fn threads_add_to_their_own_shards_and_reads_sum_them() {
        let stats = std::sync::Arc::new(CommandStats::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let stats = stats.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        stats.record(
                            call(&command_table::PING, false),
                            &Reply::Pong,
                            Duration::ZERO,
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(stats.commands()[0].calls, 2000);
    }
}
