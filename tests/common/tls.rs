//! TLS for the tests: a CA and the certificates it issued (made with rcgen, as PEM files),
//! a server with a TLS listener using them, and a rustls client that speaks the line
//! protocol over it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::{free_port, Server, STEP_TIMEOUT};

/// A CA, the certificates it issued, and an unrelated CA's client certificate, as PEM
/// files in a directory of their own.
pub struct Pki {
    /// Holds the files.
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA, a server certificate for 127.0.0.1 and localhost (CN `server-1`), a client
    /// certificate, and a client certificate from another CA.
    pub fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        let ca = pki.ca("ca", "Test CA");
        pki.issue(&ca, "server", "server-1", true);
        pki.issue(&ca, "client", "client", false);
        let rogue = pki.ca("rogue-ca", "Rogue CA");
        pki.issue(&rogue, "rogue", "client", false);
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A self-signed CA, written to `<name>.pem`.
    pub fn ca(&self, name: &str, cn: &str) -> Issuer<'static, KeyPair> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, cn);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        Issuer::new(params, key)
    }

    /// A certificate `ca` signed, to `<name>.pem` and `<name>-key.pem`: for a server on
    /// 127.0.0.1 and localhost, or for a client.
    pub fn issue(&self, ca: &Issuer<'static, KeyPair>, name: &str, cn: &str, server: bool) {
        let key = KeyPair::generate().unwrap();
        let names = if server {
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params.signed_by(&key, ca).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}-key.pem")), key.serialize_pem()).unwrap();
    }

    /// The server flags for these files, and mutual TLS if `mutual`.
    pub fn server_flags(&self, mutual: bool) -> Vec<String> {
        let mut flags = vec![
            "--tls-cert".to_owned(),
            self.arg("server.pem"),
            "--tls-key".to_owned(),
            self.arg("server-key.pem"),
        ];
        if mutual {
            flags.extend(["--tls-ca".to_owned(), self.arg("ca.pem")]);
        }
        flags
    }
}

/// A server with a `--tls` listener (and the plain TCP one and the Unix socket of
/// [`Server::start`]), started once the TLS port accepts.
pub fn start_tls(pki: &Pki, mutual: bool, extra: &[&str]) -> (Server, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut flags = pki.server_flags(mutual);
    flags.extend(["--tls".to_owned(), addr.to_string()]);
    flags.extend(extra.iter().map(|flag| (*flag).to_owned()));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = Server::start(&flags);
    (server, addr)
}

/// A TLS connection with rustls, trusting `ca`, presenting `client` (certificate and key
/// file names in `pki`) if given; the handshake is not done yet.
pub fn connect(
    pki: &Pki,
    addr: SocketAddr,
    ca: &str,
    client: Option<&str>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let roots = blink_store::tls::read_roots(&pki.path(ca)).unwrap();
    let builder = ClientConfig::builder_with_provider(blink_store::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(name) => {
            let certs = blink_store::tls::read_certs(&pki.path(&format!("{name}.pem"))).unwrap();
            let key = blink_store::tls::read_key(&pki.path(&format!("{name}-key.pem"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
    };
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let session = ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    StreamOwned::new(session, socket)
}

/// Sends one line-protocol request and reads its one-line reply; an error if the
/// connection fails or closes first.
pub fn request(
    stream: &mut StreamOwned<ClientConnection, TcpStream>,
    line: &str,
) -> std::io::Result<String> {
    stream.write_all(line.as_bytes())?;
    stream.flush()?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        reply.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The certificate the server presented on `stream`, after a request.
pub fn served_cert(stream: &StreamOwned<ClientConnection, TcpStream>) -> CertificateDer<'static> {
    let chain = stream.conn.peer_certificates().unwrap();
    chain[0].clone().into_owned()
}

/// The first certificate of a PEM file.
pub fn file_cert(path: &Path) -> CertificateDer<'static> {
    blink_store::tls::read_certs(path).unwrap().remove(0)
}
