//! TLS for the clients: where a TLS server listens, whom to trust there, and the handshake
//! after the TCP connection.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A TCP address spoken to over TLS, with the client's configuration.
#[derive(Clone)]
pub struct TlsEndpoint {
    /// The TCP address, such as `127.0.0.1:6380`.
    pub addr: String,
    /// The name the server's certificate must carry.
    pub server_name: ServerName<'static>,
    /// Whom to trust, and what certificate to present if any.
    pub config: Arc<ClientConfig>,
}

/// The same address and name, and the very same configuration.
impl PartialEq for TlsEndpoint {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
            && self.server_name == other.server_name
            && Arc::ptr_eq(&self.config, &other.config)
    }
}

impl Eq for TlsEndpoint {}

impl std::fmt::Debug for TlsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsEndpoint")
            .field("addr", &self.addr)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsEndpoint {
    /// Connects to [`TlsEndpoint::addr`] with `TCP_NODELAY` (requests are written whole;
    /// waiting to coalesce would only add latency), then does the TLS handshake.
    ///
    /// # Errors
    /// If the connection or the handshake fails, for example because the server's
    /// certificate is not trusted or does not carry the name.
    pub async fn connect(&self) -> std::io::Result<TlsStream<TcpStream>> {
        let stream = TcpStream::connect(&self.addr).await?;
        stream.set_nodelay(true)?;
        let connector = TlsConnector::from(self.config.clone());
        connector.connect(self.server_name.clone(), stream).await
    }
}
