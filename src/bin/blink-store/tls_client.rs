//! The clients' side of TLS, for `cli`, `healthcheck` and `bench`: the `--tls` flags, and
//! the rustls client configuration they describe (whom to trust, which certificate to
//! present, which name the server's certificate must carry).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use blink_store::tls::{provider, read_certs, read_key, read_roots, versions};

/// The TLS flags of the clients.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsClientArgs {
    /// Connect with TLS, to a server's --tls or --memcache-tls listener
    #[arg(long)]
    pub tls: bool,

    /// Trust the server certificates this CA signed, PEM [default: the system's CAs]
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_ca: Option<PathBuf>,

    /// Present this certificate, PEM, to a server that requires one (mutual TLS)
    #[arg(long, value_name = "FILE", requires_all = ["tls", "tls_key"])]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert, PEM
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The name the server's certificate must carry [default: the host connected to]
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub tls_server_name: Option<String>,
}

/// What a client needs to open TLS connections to one server.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// Whom to trust and what to present.
    pub config: Arc<ClientConfig>,
    /// The name the server's certificate must carry.
    pub server_name: ServerName<'static>,
}

impl TlsClientArgs {
    /// The TLS settings for connecting to `host` (a name or an IP address, IPv6 with or
    /// without brackets), or `None` without `--tls`.
    ///
    /// # Errors
    /// If a file cannot be read, the system's CAs cannot be loaded, or the name is not a
    /// valid server name.
    pub fn for_host(&self, host: &str) -> Result<Option<ClientTls>, String> {
        if !self.tls {
            return Ok(None);
        }
        let roots = match &self.tls_ca {
            Some(ca) => read_roots(ca).map_err(|err| err.to_string())?,
            None => system_roots()?,
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions())
            .map_err(|err| err.to_string())?
            .with_root_certificates(roots);
        let config = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert).map_err(|err| err.to_string())?;
                let key = read_key(key).map_err(|err| err.to_string())?;
                (builder.with_client_auth_cert(chain, key)).map_err(|err| err.to_string())?
            }
            _ => builder.with_no_client_auth(),
        };
        let name = self.tls_server_name.as_deref().unwrap_or(host);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|err| format!("{name} cannot name a TLS server: {err}"))?;
        Ok(Some(ClientTls {
            config: Arc::new(config),
            server_name,
        }))
    }
}

/// The host part of a `HOST:PORT` address.
pub fn host_of(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(host, _)| host)
}

/// The CAs the system trusts.
fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let errors = found.errors.iter().map(ToString::to_string);
        let errors: Vec<_> = errors.collect();
        return Err(format!(
            "no system CA certificates found ({}); give the server's CA with --tls-ca",
            errors.join("; ")
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_taken_from_addresses() {
        assert_eq!(host_of("127.0.0.1:6380"), "127.0.0.1");
        assert_eq!(host_of("[::1]:6380"), "[::1]");
        assert_eq!(host_of("localhost"), "localhost");
    }

    #[test]
    fn no_tls_without_the_flag() {
        assert!(TlsClientArgs::default().for_host("x").unwrap().is_none());
    }
}
