//! The TCP address the flags take: `HOST:PORT`, the host an IP address (IPv6 in brackets)
//! or a name resolved when the address is used, as `localhost:8765`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// What a TCP address flag expects, for its error messages.
const EXPECTED: &str = "expected HOST:PORT, such as 127.0.0.1:8765, localhost:8765 or [::1]:8765";

/// A TCP address as given: a host and a port, resolved by [`TcpAddr::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpAddr {
    /// An IP address (IPv6 without its brackets) or a host name.
    host: String,
    /// The port; 0 lets the system choose, for a listener.
    port: u16,
}

impl TcpAddr {
    /// The address of `host` (an IP address, IPv6 without brackets, or a name, taken as
    /// given) and `port`.
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
        }
    }

    /// The host: an IP address or a name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every address the host stands for, in the resolver's order, without repeats: one
    /// for an IP address, one or more for a name (`localhost` may be 127.0.0.1 and ::1).
    ///
    /// # Errors
    /// If the name cannot be resolved, or resolves to no address.
    pub fn resolve(&self) -> std::io::Result<Vec<SocketAddr>> {
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for addr in (self.host.as_str(), self.port).to_socket_addrs()? {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} resolves to no address", self.host),
            ));
        }
        Ok(addrs)
    }
}

impl From<SocketAddr> for TcpAddr {
    fn from(addr: SocketAddr) -> Self {
        Self {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }
}

/// `host:port`, an IPv6 host in brackets.
impl fmt::Display for TcpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for TcpAddr {
    type Err = String;

    /// Parses `HOST:PORT`. A missing host is refused rather than read as every
    /// interface, which would expose the cache: the message says what to write.
    fn from_str(text: &str) -> Result<Self, String> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(addr.into());
        }
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err(format!("'{text}' has no port; {EXPECTED}"));
        };
        let port: u16 = port
            .parse()
            .map_err(|_| format!("'{text}': the port must be a number from 0 to 65535"))?;
        if host.is_empty() {
            return Err(format!(
                "'{text}' has no host: write 127.0.0.1:{port} for this machine only, \
                 or 0.0.0.0:{port} for every interface"
            ));
        }
        if host.starts_with('[') || host.contains(':') {
            return Err(format!(
                "'{text}' is not an IPv6 address and port; write it in brackets, as [::1]:{port}"
            ));
        }
        let name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        if !host.bytes().all(name_byte) {
            return Err(format!(
                "'{host}' is not a host name or address; {EXPECTED}"
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_names_with_ports_are_taken() {
        let table = [
            ("127.0.0.1:8765", "127.0.0.1", 8765),
            ("0.0.0.0:0", "0.0.0.0", 0),
            ("[::1]:6379", "::1", 6379),
            ("localhost:8765", "localhost", 8765),
            ("cache-1.internal_net:1", "cache-1.internal_net", 1),
        ];
        for (text, host, port) in table {
            let addr: TcpAddr = text.parse().unwrap();
            assert_eq!((addr.host(), addr.port()), (host, port), "{text}");
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn what_is_wrong_is_said_in_words() {
        let table = [
            (":8765", "has no host: write 127.0.0.1:8765"),
            ("localhost", "has no port; expected HOST:PORT"),
            ("localhost:http", "the port must be a number"),
            ("localhost:70000", "the port must be a number"),
            ("::1:8765", "write it in brackets, as [::1]:8765"),
            ("[::1:8765", "write it in brackets"),
            ("a b:1", "is not a host name or address"),
            ("", "has no port"),
        ];
        for (text, message) in table {
            let err = text.parse::<TcpAddr>().unwrap_err();
            assert!(err.contains(message), "{text:?}: {err}");
        }
    }

    #[test]
    fn loopback_names_resolve_to_loopback() {
        let addrs = "localhost:8765"
            .parse::<TcpAddr>()
            .unwrap()
            .resolve()
            .unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|addr| addr.ip().is_loopback() && addr.port() == 8765));
        let one = "127.0.0.1:1".parse::<TcpAddr>().unwrap().resolve().unwrap();
        assert_eq!(one, ["127.0.0.1:1".parse::<SocketAddr>().unwrap()]);
    }
}
