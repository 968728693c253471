//! `blink-store healthcheck`: connects to the server the way `serve` is configured (same
//! flags and `BLINK_*` variables), sends `PING`, and succeeds only on `PONG` within a
//! timeout; for container health checks and probes.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::flags::{parse_duration, TcpAddr};
use crate::tls_client::{ClientTls, TlsClientArgs};

/// Flags of `blink-store healthcheck`.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// TCP address of the server, HOST:PORT [default: 127.0.0.1:8765 when --unix is not given either]
    #[arg(long, env = "BLINK_TCP", value_name = "ADDR")]
    pub tcp: Option<TcpAddr>,

    /// Unix socket path of the server (used when no TCP address is given)
    #[arg(long, env = "BLINK_UNIX", value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// The password to give first, when the server requires one.
    #[command(flatten)]
    pub password: crate::flags::PasswordArgs,

    /// How long connecting and the reply may take in all, such as 2s or 500ms
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// How to speak TLS, if at all.
    #[command(flatten)]
    pub tls: TlsClientArgs,
}

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// Connecting, writing or reading failed, or took too long.
    #[error("unhealthy: {target}: {source}")]
    Io {
        /// Where.
        target: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The password could not be read.
    #[error("unhealthy: {0}")]
    Password(String),
    /// The TLS flags do not make a configuration.
    #[error("unhealthy: tls: {0}")]
    Tls(String),
    /// Something other than `PONG` came back.
    #[error("unhealthy: {target} answered {reply:?} to PING")]
    Reply {
        /// Where.
        target: String,
        /// What it said.
        reply: String,
    },
}

/// Pings the server; `Ok` on `PONG`.
///
/// # Errors
/// [`HealthError`] if the server cannot be reached in time or answers otherwise.
pub fn check(args: &HealthcheckArgs) -> Result<(), HealthError> {
    let password = args.password.read().map_err(HealthError::Password)?;
    let auth = password.as_deref();
    let tcp = |addr: &TcpAddr| {
        let tls = args.tls.for_host(addr.host()).map_err(HealthError::Tls)?;
        ping_tcp(addr, auth, args.timeout, tls)
    };
    match (&args.tcp, &args.unix) {
        (Some(addr), _) => tcp(addr),
        (None, Some(_)) if args.tls.tls => Err(HealthError::Tls(
            "--tls is for TCP servers, not Unix sockets".into(),
        )),
        (None, Some(path)) => ping_unix(path, auth, args.timeout),
        (None, None) => tcp(&TcpAddr::new(
            crate::flags::DEFAULT_HOST,
            crate::flags::DEFAULT_PORT,
        )),
    }
}

fn ping_tcp(
    addr: &TcpAddr,
    auth: Option<&[u8]>,
    timeout: Duration,
    tls: Option<ClientTls>,
) -> Result<(), HealthError> {
    let target = format!("tcp {addr}");
    let io = |source| HealthError::Io {
        target: target.clone(),
        source,
    };
    let stream = connect_any(addr, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    match tls {
        None => ping(stream, auth, &target),
        Some(tls) => {
            // The handshake happens with the first write, within the socket's timeouts.
            let session = rustls::ClientConnection::new(tls.config, tls.server_name)
                .map_err(|err| HealthError::Tls(err.to_string()))?;
            ping(rustls::StreamOwned::new(session, stream), auth, &target)
        }
    }
}

/// A connection to the first of `addr`'s addresses that accepts one, each given
/// `timeout`; the last address's error if none does.
fn connect_any(addr: &TcpAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut last_error = None;
    for socket_addr in addr.resolve()? {
        match TcpStream::connect_timeout(&socket_addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::ErrorKind::NotFound.into()))
}

#[cfg(not(unix))]
fn ping_unix(
    path: &std::path::Path,
    _auth: Option<&[u8]>,
    _timeout: Duration,
) -> Result<(), HealthError> {
    Err(HealthError::Io {
        target: format!("unix {}", path.display()),
        source: blink_store::client::unix_unsupported(),
    })
}

#[cfg(unix)]
fn ping_unix(
    path: &std::path::Path,
    auth: Option<&[u8]>,
    timeout: Duration,
) -> Result<(), HealthError> {
    let target = format!("unix {}", path.display());
    let io = |source| HealthError::Io {
        target: target.clone(),
        source,
    };
    let stream = UnixStream::connect(path).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    ping(stream, auth, &target)
}

/// Sends `AUTH` (if there is a password) and `PING`, and expects `OK` and `PONG`.
fn ping<S: std::io::Read + Write>(
    mut stream: S,
    auth: Option<&[u8]>,
    target: &str,
) -> Result<(), HealthError> {
    let io = |source| HealthError::Io {
        target: target.to_owned(),
        source,
    };
    let mut request = Vec::new();
    if let Some(password) = auth {
        request.extend_from_slice(b"AUTH ");
        request.extend_from_slice(password);
        request.push(b'\n');
    }
    request.extend_from_slice(b"PING\n");
    stream.write_all(&request).map_err(io)?;
    // Replies longer than this are not OK or PONG anyway.
    let mut replies = BufReader::new(stream.take(1024));
    let expected: &[&str] = if auth.is_some() {
        &["OK\n", "PONG\n"]
    } else {
        &["PONG\n"]
    };
    for want in expected {
        let mut reply = String::new();
        replies.read_line(&mut reply).map_err(io)?;
        if reply != *want {
            return Err(HealthError::Reply {
                target: target.to_owned(),
                reply,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_or_milliseconds() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("x").is_err());
    }
}
