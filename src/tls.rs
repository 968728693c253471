//! TLS for the listeners that ask for it: the server's rustls configuration built from PEM
//! files (certificate chain, key, and optionally the CA clients must present a certificate
//! of), held where a reload can replace it while connections keep their sessions, and the
//! bounded handshake each accepted client does on the event loop that then serves it.
//! TLS 1.2 and 1.3 only, with ring's modern suites: ECDHE key exchange and AEAD ciphers.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client has to finish its TLS handshake once accepted: a handshake takes a
/// few round trips, well under a second even across continents, so ten seconds only
/// closes clients that will never finish (a plaintext client waiting for a greeting, a
/// stalled or hostile one) while each holds a connection slot.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocol versions served: TLS 1.3, and 1.2 for clients that have nothing newer.
static VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The PEM files the server's TLS configuration is read from, again at each reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain, leaf first.
    pub cert: PathBuf,
    /// The certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The CA whose certificates clients must present (mutual TLS), if any.
    pub client_ca: Option<PathBuf>,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read or holds no valid PEM of the kind wanted.
    #[error("{path}: {cause}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        cause: String,
    },
    /// rustls refused the certificate, key or CA (a key that does not match the
    /// certificate, say).
    #[error("{0}")]
    Config(String),
}

/// The server's TLS configuration, replaceable while it serves: each accepted client
/// takes the configuration current at its accept, and keeps it for its whole session.
#[derive(Debug)]
pub struct ServerTls {
    /// Where the configuration is read from, at start and at each reload.
    files: TlsFiles,
    /// The configuration new handshakes use.
    config: ArcSwap<ServerConfig>,
    /// How long each handshake may take.
    handshake_timeout: Duration,
}

impl ServerTls {
    /// Reads `files` into a configuration; each handshake may take `handshake_timeout`.
    ///
    /// # Errors
    /// [`TlsError`] if a file cannot be read or parsed, or rustls refuses its contents.
    pub fn load(files: TlsFiles, handshake_timeout: Duration) -> Result<Self, TlsError> {
        let config = server_config(&files)?;
        Ok(Self {
            files,
            config: ArcSwap::from_pointee(config),
            handshake_timeout,
        })
    }

    /// Reads the files again and, if they make a valid configuration, uses it for every
    /// handshake from now on; otherwise keeps the current one. Open connections keep
    /// their sessions either way.
    ///
    /// # Errors
    /// [`TlsError`] if the files do not make a configuration (the old one stays).
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.files)?;
        self.config.store(Arc::new(config));
        Ok(())
    }

    /// Whether clients must present a certificate.
    pub fn requires_client_cert(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// The handshake for a client accepted now, with the current configuration; it
    /// gives up when `shutdown` fires.
    pub fn handshake(&self, shutdown: CancellationToken) -> Handshake {
        Handshake {
            acceptor: TlsAcceptor::from(self.config.load_full()),
            timeout: self.handshake_timeout,
            shutdown,
        }
    }
}

/// One accepted client's TLS handshake, yet to run.
#[derive(Clone)]
pub struct Handshake {
    /// The configuration current when the client was accepted.
    acceptor: TlsAcceptor,
    /// How long the handshake may take.
    timeout: Duration,
    /// Fired when the server shuts down: a client still in its handshake has sent no
    /// request to answer, so it is closed at once rather than waited for.
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Handshake {
    /// Runs the handshake on `stream`.
    ///
    /// # Errors
    /// The handshake failed (plaintext, an unacceptable client certificate, no common
    /// version or suite), took longer than its timeout (`TimedOut`), or the server began
    /// shutting down first (`Interrupted`).
    pub async fn run<S>(self, stream: S) -> std::io::Result<ServerStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let accepted = tokio::time::timeout(self.timeout, self.acceptor.accept(stream));
        tokio::select! {
            () = self.shutdown.cancelled() => Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the server is shutting down",
            )),
            done = accepted => match done {
                Ok(done) => done.map(ServerStream),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no TLS handshake within {:?}", self.timeout),
                )),
            },
        }
    }
}

/// A client's TLS stream once its handshake is done. A client that closes its socket
/// without TLS's `close_notify` (as redis-cli and most clients do) has simply closed:
/// its end reads as EOF, as on plain TCP. Truncation does not matter here, as every
/// request is framed, and a cut one stays incomplete.
#[derive(Debug)]
pub struct ServerStream<S>(TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ServerStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                Poll::Ready(Ok(()))
            }
            polled => polled,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ServerStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The crypto provider every configuration uses: ring, which builds for every target the
/// static binary is made for, with its default (modern) cipher suites and key exchanges:
/// TLS 1.3's AES-256-GCM, AES-128-GCM and ChaCha20-Poly1305, and TLS 1.2's ECDHE-ECDSA
/// and ECDHE-RSA with the same three ciphers; X25519, P-256 and P-384.
// ring offers no post-quantum key exchange, hence rustls's deprecation; aws-lc-rs, which
// does, needs a C toolchain per target for the static builds.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocol versions served, for a client configuration to match.
pub fn versions() -> &'static [&'static rustls::SupportedProtocolVersion] {
    VERSIONS
}

/// Builds the server configuration `files` describe.
fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let chain = read_certs(&files.cert)?;
    let key = read_key(&files.key)?;
    let config = |err: rustls::Error| TlsError::Config(err.to_string());
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(config)?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = Arc::new(read_roots(ca)?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
                .build()
                .map_err(|err| TlsError::Config(format!("{}: {err}", ca.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder.with_single_cert(chain, key).map_err(|err| {
        let (cert, key) = (files.cert.display(), files.key.display());
        TlsError::Config(format!("{cert} with {key}: {err}"))
    })
}

/// Every certificate in a PEM file, in order; at least one.
///
/// # Errors
/// [`TlsError::Pem`] if the file cannot be read, a certificate does not parse, or there
/// is none.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |cause: String| TlsError::Pem {
        path: path.to_owned(),
        cause,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|err| pem(err.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem(err.to_string()))?;
    if certs.is_empty() {
        return Err(pem(
            "no PEM certificate (BEGIN CERTIFICATE) in the file".into()
        ));
    }
    Ok(certs)
}

/// The first private key in a PEM file.
///
/// # Errors
/// [`TlsError::Pem`] if the file cannot be read or holds no private key.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|err| TlsError::Pem {
        path: path.to_owned(),
        cause: err.to_string(),
    })
}

/// The certificates of a PEM file as trust anchors.
///
/// # Errors
/// [`TlsError`] if the file cannot be read or a certificate is not a usable anchor.
pub fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path)? {
        roots.add(cert).map_err(|err| TlsError::Pem {
            path: path.to_owned(),
            cause: err.to_string(),
        })?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"not pem\n").unwrap();
        let files = TlsFiles {
            cert: empty.clone(),
            key: dir.path().join("missing.pem"),
            client_ca: None,
        };
        let err = ServerTls::load(files, DEFAULT_HANDSHAKE_TIMEOUT).unwrap_err();
        assert!(err.to_string().contains("empty.pem"), "{err}");
        let err = read_key(&dir.path().join("missing.pem")).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }
}
