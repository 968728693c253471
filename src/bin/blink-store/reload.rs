//! SIGHUP: reloads what a running server reads from files without stopping it or dropping
//! a connection: the TLS certificate, key and CA, and the log file (re-opened, so a file
//! moved away by logrotate is replaced by a fresh one at its path).

use std::sync::Arc;

use blink_store::tls::ServerTls;

use crate::logging::LogReopener;

/// What SIGHUP reloads.
pub struct Reload {
    /// The TLS listeners' configuration, when there are any.
    tls: Option<Arc<ServerTls>>,
    /// The log file's re-opener, when logs go to files.
    log: Option<LogReopener>,
}

impl Reload {
    /// Reloads `tls` and re-opens the log file through `log`, where given.
    pub fn new(tls: Option<Arc<ServerTls>>, log: Option<LogReopener>) -> Self {
        Self { tls, log }
    }

    /// Reloads each part; a part that fails is logged and keeps what it had, so a bad
    /// certificate file never stops a serving server.
    pub fn run(&self) {
        if let Some(log) = &self.log {
            match log.reopen() {
                Ok(()) => tracing::info!("re-opened the log file"),
                Err(err) => tracing::error!(cause = %err, "could not re-open the log file"),
            }
        }
        if let Some(tls) = &self.tls {
            // A few small files, read on the accepting thread: it pauses for microseconds.
            match tls.reload() {
                Ok(()) => tracing::info!("reloaded the TLS certificate; new connections use it"),
                Err(err) => tracing::error!(
                    cause = %err,
                    "could not reload the TLS certificate; still serving the previous one"
                ),
            }
        }
    }

    /// Runs [`Reload::run`] on every SIGHUP from now on, on the current runtime; SIGHUP no
    /// longer ends the process. Must be called inside a runtime.
    ///
    /// # Errors
    /// If the signal handler cannot be installed.
    #[cfg(unix)]
    pub fn on_sighup(self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("received SIGHUP");
                self.run();
            }
        });
        Ok(())
    }

    /// There is no SIGHUP here: nothing to listen for.
    ///
    /// # Errors
    /// Never; the signature matches the Unix one.
    #[cfg(not(unix))]
    pub fn on_sighup(self) -> std::io::Result<()> {
        Ok(())
    }
}
