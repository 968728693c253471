//! Installs the tracing subscriber: text or JSON, to stderr or to rolling hourly files
//! whose old ones are pruned by age, and which SIGHUP re-opens ([`LogReopener`]).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Log file names start with this, and only such files are ever pruned.
pub const LOG_FILE_PREFIX: &str = "blink-store";

/// Log file names end with this.
pub const LOG_FILE_SUFFIX: &str = "log";

/// How often the log directory is checked for files past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The filter does not parse.
    #[error("invalid log filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// The log directory cannot be created or written.
    #[error("log directory {path}: {cause}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        cause: String,
    },
}

/// Where and how to log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `None` logs to stderr.
    pub dir: Option<PathBuf>,
    /// Age after which a log file is deleted.
    pub retention: Duration,
    /// Text or JSON lines.
    pub format: LogFormat,
    /// A RUST_LOG-style filter; `None` reads RUST_LOG, else `info`.
    pub filter: Option<String>,
}

/// Keeps file logging alive; dropping it flushes buffered lines.
pub struct LogGuard {
    /// Flushes the background writer on drop.
    _writer: Option<WorkerGuard>,
    /// Re-opens the log file, when logs go to files.
    reopener: Option<LogReopener>,
}

impl LogGuard {
    /// What re-opens the log file, when logs go to files.
    pub fn reopener(&self) -> Option<LogReopener> {
        self.reopener.clone()
    }
}

/// Re-opens the log file at its path, for SIGHUP after logrotate moved it away: lines
/// logged after [`LogReopener::reopen`] go to the file now at that path (created if it is
/// gone), not to the moved one.
#[derive(Clone)]
pub struct LogReopener {
    /// The log directory.
    dir: PathBuf,
    /// Shared with the writer, which takes the new file before its next line.
    next: Arc<NextFile>,
}

/// A newly opened log file, waiting for the writer to take it.
#[derive(Default)]
struct NextFile {
    /// Whether `file` holds one: checked by the writer before each line without the lock.
    ready: AtomicBool,
    /// The newly opened file.
    file: Mutex<Option<RollingFileAppender>>,
}

impl LogReopener {
    /// Opens the log file afresh at its path; the writer switches to it before its next
    /// line and closes the old one.
    ///
    /// # Errors
    /// If the file cannot be opened; logging goes on to the old one.
    pub fn reopen(&self) -> Result<(), LoggingError> {
        let file = open_appender(&self.dir)?;
        *self.next.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        // Ordering: Release, after the file is stored; pairs with the writer's Acquire.
        self.next.ready.store(true, Ordering::Release);
        Ok(())
    }
}

/// The log file writer, on the background logging thread: writes to the current file,
/// switching to a re-opened one when there is one.
struct ReopeningWriter {
    /// The file lines go to now.
    file: RollingFileAppender,
    /// Where a re-opened file comes from.
    next: Arc<NextFile>,
}

impl Write for ReopeningWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Ordering: Acquire; pairs with `reopen`'s Release, so the file is there.
        if self.next.ready.swap(false, Ordering::Acquire) {
            let next = self
                .next
                .file
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(file) = next {
                self.file = file;
            }
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The hourly rolling appender of `dir`, its current file opened for appending.
fn open_appender(dir: &Path) -> Result<RollingFileAppender, LoggingError> {
    RollingFileAppender::builder()
        .rotation(Rotation::HOURLY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix(LOG_FILE_SUFFIX)
        .build(dir)
        .map_err(|err| LoggingError::Dir {
            path: dir.to_owned(),
            cause: err.to_string(),
        })
}

/// Installs the global subscriber, and for a log directory starts the pruning thread.
///
/// # Errors
/// [`LoggingError`] for a bad filter or an unusable directory.
pub fn init(config: &LogConfig) -> Result<LogGuard, LoggingError> {
    let filter = match &config.filter {
        Some(filter) => EnvFilter::try_new(filter)?,
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("info"))?,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let Some(dir) = &config.dir else {
        let builder = builder
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal());
        match config.format {
            LogFormat::Text => builder.init(),
            LogFormat::Json => builder.json().init(),
        }
        return Ok(LogGuard {
            _writer: None,
            reopener: None,
        });
    };
    let dir_err = |cause: &dyn std::fmt::Display| LoggingError::Dir {
        path: dir.clone(),
        cause: cause.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|err| dir_err(&err))?;
    let reopener = LogReopener {
        dir: dir.clone(),
        next: Arc::default(),
    };
    let appender = ReopeningWriter {
        file: open_appender(dir)?,
        next: reopener.next.clone(),
    };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let builder = builder.with_writer(writer).with_ansi(false);
    match config.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    spawn_pruner(dir.clone(), config.retention).map_err(|err| dir_err(&err))?;
    Ok(LogGuard {
        _writer: Some(guard),
        reopener: Some(reopener),
    })
}

fn spawn_pruner(dir: PathBuf, retention: Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("blink-log-pruner".into())
        .spawn(move || loop {
            match prune(&dir, retention, SystemTime::now()) {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "pruned old log files"),
                Err(err) => tracing::warn!(cause = %err, "could not prune log files"),
            }
            std::thread::sleep(PRUNE_EVERY);
        })
        .map(drop)
}

/// Deletes this server's log files in `dir` last modified more than `retention` before
/// `now`; returns how many it deleted. Other files are never touched.
///
/// # Errors
/// If the directory cannot be listed.
pub fn prune(dir: &Path, retention: Duration, now: SystemTime) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(LOG_FILE_PREFIX) && name.ends_with(LOG_FILE_SUFFIX)) {
            continue;
        }
        let modified = entry.metadata().and_then(|meta| meta.modified());
        let expired = modified
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > retention);
        if expired && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_only_our_expired_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "blink-store.2026-01-01-00.log",
            "blink-store.2026-01-01-01.log",
            "other.log",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let later = SystemTime::now() + Duration::from_secs(3600);
        assert_eq!(
            prune(dir.path(), Duration::from_secs(7200), later).unwrap(),
            0
        );
        assert_eq!(
            prune(dir.path(), Duration::from_secs(60), later).unwrap(),
            2
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["other.log"]);
    }
}
