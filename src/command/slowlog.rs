//! The slow log: commands that ran for at least `slowlog-log-slower-than` microseconds,
//! newest first, at most `slowlog-max-len` of them, as Redis keeps them (SLOWLOG GET, LEN,
//! RESET). Deciding whether a command is slow reads one atomic; only slow commands take
//! the log's lock, so the log is no shared hot spot while commands are fast.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::protocol::command_table::CommandSpec;
use crate::protocol::info::SlowEntry;

/// Redis's default `slowlog-log-slower-than`: 10 ms.
pub const DEFAULT_SLOWER_THAN_MICROS: i64 = 10_000;

/// Redis's default `slowlog-max-len`.
pub const DEFAULT_MAX_LEN: usize = 128;

/// The most entries `slowlog-max-len` may ask for. An entry holds up to about 4.6 KiB of
/// arguments, so the log stays under 5 MiB. (Redis lets it grow without bound.)
pub const MAX_MAX_LEN: usize = 1024;

/// Arguments an entry keeps, as Redis's `SLOWLOG_ENTRY_MAX_ARGC`: the last one kept says
/// how many more there were.
const MAX_ARGS: usize = 32;

/// Bytes of an argument an entry keeps, as Redis's `SLOWLOG_ENTRY_MAX_STRING`.
const MAX_ARG_BYTES: usize = 128;

/// What an argument that must not be shown (a password) is logged as, as in Redis.
const REDACTED: &[u8] = b"(redacted)";

/// The slow log and its two settings.
#[derive(Debug)]
pub struct SlowLog {
    /// Commands at least this long are logged; negative: none.
    slower_than_micros: AtomicI64,
    /// The most entries kept.
    max_len: AtomicUsize,
    /// The entries, newest first, and the next entry's number.
    log: Mutex<Log>,
}

/// The entries and their numbering.
#[derive(Debug, Default)]
struct Log {
    /// Newest first.
    entries: VecDeque<SlowEntry>,
    /// The next entry's id; ids are never reused, also across RESET.
    next_id: u64,
}

impl Default for SlowLog {
    fn default() -> Self {
        Self {
            slower_than_micros: AtomicI64::new(DEFAULT_SLOWER_THAN_MICROS),
            max_len: AtomicUsize::new(DEFAULT_MAX_LEN),
            log: Mutex::default(),
        }
    }
}

impl SlowLog {
    /// `slowlog-log-slower-than`, in microseconds; negative: logging is off.
    pub fn slower_than_micros(&self) -> i64 {
        // Ordering: Relaxed; a setting, guarding no memory.
        self.slower_than_micros.load(Ordering::Relaxed)
    }

    /// Sets `slowlog-log-slower-than`.
    pub fn set_slower_than_micros(&self, micros: i64) {
        // Ordering: Relaxed; see `slower_than_micros`.
        self.slower_than_micros.store(micros, Ordering::Relaxed);
    }

    /// `slowlog-max-len`.
    pub fn max_len(&self) -> usize {
        // Ordering: Relaxed; a setting, read again under the lock when it matters.
        self.max_len.load(Ordering::Relaxed)
    }

    /// Sets `slowlog-max-len` (at most [`MAX_MAX_LEN`]), dropping the oldest entries
    /// beyond it now (Redis waits for the next entry).
    pub fn set_max_len(&self, max_len: usize) {
        let max_len = max_len.min(MAX_MAX_LEN);
        let mut log = self.lock();
        // Ordering: Relaxed; the lock orders it with the entries.
        self.max_len.store(max_len, Ordering::Relaxed);
        log.entries.truncate(max_len);
    }

    /// Whether a command that ran this long is logged.
    pub fn is_slow(&self, elapsed: Duration) -> bool {
        let threshold = self.slower_than_micros();
        threshold >= 0 && elapsed.as_micros() >= threshold.unsigned_abs().into()
    }

    /// Logs a call of `command` with these arguments (the name first) that ran for
    /// `elapsed`, from the client at `addr` named `name`. Arguments are cut as Redis
    /// cuts them, and passwords are redacted.
    pub fn push(
        &self,
        command: &CommandSpec,
        args: &[&[u8]],
        elapsed: Duration,
        (addr, name): (&str, &str),
    ) {
        let unix_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let args = kept_args(command, args);
        let mut log = self.lock();
        let entry = SlowEntry {
            id: log.next_id,
            unix_secs,
            micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            args,
            addr: addr.to_owned(),
            name: name.to_owned(),
        };
        log.next_id += 1;
        log.entries.push_front(entry);
        let max_len = self.max_len();
        log.entries.truncate(max_len);
    }

    /// The newest entries, at most `count` (`None`: all).
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let log = self.lock();
        let count = count.unwrap_or(log.entries.len());
        log.entries.iter().take(count).cloned().collect()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn reset(&self) {
        self.lock().entries.clear();
    }

    /// The lock; entries are added and dropped whole, so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The arguments an entry keeps: at most [`MAX_ARGS`], the last kept one saying how many
/// more there were; each cut to [`MAX_ARG_BYTES`] with how many more bytes it had;
/// passwords redacted.
fn kept_args(command: &CommandSpec, args: &[&[u8]]) -> Vec<Vec<u8>> {
    let secret = secret_args(command, args);
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in args.iter().enumerate().take(kept) {
        if kept < args.len() && i == kept - 1 {
            let more = args.len() - kept + 1;
            out.push(format!("... ({more} more arguments)").into_bytes());
        } else if secret.contains(&i) {
            out.push(REDACTED.to_vec());
        } else if arg.len() > MAX_ARG_BYTES {
            let mut cut = arg.get(..MAX_ARG_BYTES).unwrap_or(arg).to_vec();
            let more = arg.len() - MAX_ARG_BYTES;
            cut.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            out.push(cut);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

/// The positions of arguments Redis keeps out of the slow log: AUTH's, HELLO's AUTH
/// user and password, CONFIG SET requirepass's value.
fn secret_args(command: &CommandSpec, args: &[&[u8]]) -> Vec<usize> {
    match command.name {
        "auth" => (1..args.len()).collect(),
        "hello" => args
            .iter()
            .enumerate()
            .skip(2)
            .filter(|(_, arg)| arg.eq_ignore_ascii_case(b"auth"))
            .flat_map(|(i, _)| [i + 1, i + 2])
            .collect(),
        "config|set" => args
            .iter()
            .enumerate()
            .skip(2)
            .step_by(2)
            .filter(|(_, name)| name.eq_ignore_ascii_case(b"requirepass"))
            .map(|(i, _)| i + 1)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command_table;

    fn texts(entry: &SlowEntry) -> Vec<String> {
        entry
            .args
            .iter()
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect()
    }

    #[test]
    fn entries_are_kept_newest_first_within_the_length() {
        let log = SlowLog::default();
        log.set_max_len(2);
        for key in [&b"a"[..], b"b", b"c"] {
            log.push(
                &command_table::GET,
                &[b"GET", key],
                Duration::from_micros(5),
                ("1.2.3.4:5", "me"),
            );
        }
        let entries = log.newest(None);
        assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(texts(&entries[0]), ["GET", "c"]);
        assert_eq!(
            (entries[0].micros, entries[0].addr.as_str()),
            (5, "1.2.3.4:5")
        );
        assert_eq!(log.newest(Some(1)).len(), 1);
        log.reset();
        assert!(log.is_empty());
        log.push(&command_table::GET, &[b"GET"], Duration::ZERO, ("", ""));
        assert_eq!(log.newest(None)[0].id, 3);
    }

    #[test]
    fn arguments_are_cut_and_passwords_redacted_as_redis_does() {
        let long = vec![b'x'; 130];
        let many: Vec<&[u8]> = std::iter::repeat_n(&b"k"[..], 40).collect();
        let kept = kept_args(&command_table::DEL, &many);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[31], b"... (9 more arguments)");
        let cut = kept_args(&command_table::GET, &[b"GET", &long]);
        assert_eq!(cut[1], [&[b'x'; 128][..], b"... (2 more bytes)"].concat());
        let auth = kept_args(&command_table::AUTH, &[b"AUTH", b"user", b"secret"]);
        assert_eq!(auth, [&b"AUTH"[..], REDACTED, REDACTED]);
        let hello = kept_args(
            &command_table::HELLO,
            &[b"HELLO", b"3", b"auth", b"default", b"pw", b"SETNAME", b"n"],
        );
        assert_eq!(hello[3], REDACTED);
        assert_eq!(hello[4], REDACTED);
        assert_eq!(hello[6], b"n");
        let config = kept_args(
            &command_table::CONFIG_SET,
            &[b"CONFIG", b"SET", b"timeout", b"1", b"REQUIREPASS", b"pw"],
        );
        assert_eq!(config[3], b"1");
        assert_eq!(config[5], REDACTED);
    }

    #[test]
    fn a_negative_threshold_logs_nothing_and_zero_logs_everything() {
        let log = SlowLog::default();
        assert!(!log.is_slow(Duration::from_millis(9)));
        assert!(log.is_slow(Duration::from_millis(10)));
        log.set_slower_than_micros(0);
        assert!(log.is_slow(Duration::ZERO));
        log.set_slower_than_micros(-1);
        assert!(!log.is_slow(Duration::from_secs(100)));
    }
}
