//! Installs the tracing subscriber: text or JSON, to stderr or to rolling hourly files
//! whose old ones are pruned by age.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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
        return Ok(LogGuard { _writer: None });
    };
    let dir_err = |cause: &dyn std::fmt::Display| LoggingError::Dir {
        path: dir.clone(),
        cause: cause.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|err| dir_err(&err))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::HOURLY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix(LOG_FILE_SUFFIX)
        .build(dir)
        .map_err(|err| dir_err(&err))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let builder = builder.with_writer(writer).with_ansi(false);
    match config.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    spawn_pruner(dir.clone(), config.retention).map_err(|err| dir_err(&err))?;
    Ok(LogGuard {
        _writer: Some(guard),
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
