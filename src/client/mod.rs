//! A client for the line protocol: async on tokio ([`Client`]), with a synchronous
//! wrapper ([`blocking::Client`]). It checks keys and values before sending (a line
//! protocol value cannot hold an LF), decodes base64, turns `NOT_FOUND` into `None` and
//! `ERROR ...` into [`Error::Server`], pipelines on request, and reconnects once when the
//! connection broke since the last request. For any command with any bytes in its
//! arguments, [`resp::Client`] (and [`blocking::RespClient`]) speak RESP instead.

pub mod blocking;
pub mod resp;
pub mod tls;

use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt,
    BufReader,
};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

/// How long connecting may take before it is an error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest reply line read: a maximum value in base64 plus room.
const MAX_REPLY_LEN: usize = 4 * (64 << 20) / 3 + 64;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP address such as `127.0.0.1:8765`.
    Tcp(String),
    /// A Unix socket path.
    Unix(PathBuf),
    /// A TCP address of a TLS listener.
    Tls(tls::TlsEndpoint),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(addr) => f.write_str(addr),
            Self::Tls(tls) => write!(f, "{} (TLS)", tls.addr),
            Self::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The error for a Unix socket where the platform has none.
pub fn unix_unsupported() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "Unix sockets are not supported on this platform",
    )
}

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing answers at the endpoint, or it refused.
    #[error("cannot connect to Blink Store at {endpoint}: {source}")]
    Connect {
        /// Where.
        endpoint: Endpoint,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The connection failed mid-request.
    #[error("connection to Blink Store failed: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("Blink Store closed the connection")]
    Closed,
    /// The server answered `ERROR <text>`.
    #[error("Blink Store refused the request: {0}")]
    Server(String),
    /// A key the line protocol cannot carry (empty, spaces or control bytes).
    #[error("invalid key: keys are non-empty and hold no spaces or control bytes")]
    InvalidKey,
    /// A value the line protocol cannot carry (an LF, or a CR at the end).
    #[error("invalid value: the line protocol cannot carry an LF, or a CR at the end")]
    InvalidValue,
    /// A reply this client does not understand.
    #[error("unexpected reply from Blink Store: {0}")]
    UnexpectedReply(String),
    /// A command with no words: not even its name.
    #[error("empty command: a command needs at least its name")]
    EmptyCommand,
}

/// A key's remaining time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// The key never expires.
    Forever,
    /// The key expires in about this long (whole seconds).
    Expires(Duration),
}

/// One request of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `SET key value`.
    Set(&'a [u8], &'a [u8]),
    /// `GET key`.
    Get(&'a [u8]),
    /// `DELETE key`.
    Delete(&'a [u8]),
    /// `USAGE`.
    Usage,
    /// `PING`.
    Ping,
}

/// One reply of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A SET was stored, or a PING answered.
    Done,
    /// A GET's value, or `None` if the key is absent.
    Value(Option<Vec<u8>>),
    /// Whether a DELETE removed the key.
    Deleted(bool),
    /// The bytes held, for USAGE.
    Usage(u64),
    /// The server refused this request; the others stand.
    Refused(String),
}

/// The connection's stream, TCP or Unix.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An async connection to a Blink Store server.
pub struct Client {
    /// Where to (re)connect.
    endpoint: Endpoint,
    /// The open connection, if any.
    stream: Option<BufReader<Box<dyn Stream>>>,
}

impl Client {
    /// Connects over TCP.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers.
    pub async fn connect_tcp(addr: impl Into<String>) -> Result<Self, Error> {
        Self::connect(Endpoint::Tcp(addr.into())).await
    }

    /// Connects over a Unix socket.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers.
    pub async fn connect_unix(path: impl Into<PathBuf>) -> Result<Self, Error> {
        Self::connect(Endpoint::Unix(path.into())).await
    }

    /// Connects to `endpoint`.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers.
    pub async fn connect(endpoint: Endpoint) -> Result<Self, Error> {
        let mut client = Self {
            endpoint,
            stream: None,
        };
        client.reconnect().await?;
        Ok(client)
    }

    /// Where this client connects.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn reconnect(&mut self) -> Result<(), Error> {
        self.stream = Some(open(&self.endpoint).await?);
        Ok(())
    }

    /// Sends raw request lines (each ending in LF) and returns `count` reply lines,
    /// without their line ends. Reconnects and retries once if the connection was broken
    /// before anything was answered.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Closed`] if the connection fails, [`Error::Connect`] if
    /// reconnecting fails.
    pub async fn exchange(&mut self, requests: &[u8], count: usize) -> Result<Vec<String>, Error> {
        match self.try_exchange(requests, count).await {
            Ok(replies) => Ok(replies),
            Err(Error::Io(_) | Error::Closed) => {
                self.reconnect().await?;
                self.try_exchange(requests, count).await
            }
            Err(err) => Err(err),
        }
    }

    async fn try_exchange(&mut self, requests: &[u8], count: usize) -> Result<Vec<String>, Error> {
        if self.stream.is_none() {
            self.reconnect().await?;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Error::Closed);
        };
        let result = exchange_on(stream, requests, count).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    /// One request line (without its LF) and its reply line.
    ///
    /// # Errors
    /// As [`Client::exchange`].
    pub async fn request(&mut self, line: &[u8]) -> Result<String, Error> {
        let mut request = Vec::with_capacity(line.len() + 1);
        request.extend_from_slice(line);
        request.push(b'\n');
        let mut replies = self.exchange(&request, 1).await?;
        replies.pop().ok_or(Error::Closed)
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`]/[`Error::InvalidValue`] before sending, [`Error::Server`] if
    /// refused (for example, too large), or a connection error.
    pub async fn set(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), Error> {
        let line = encode(Command::Set(key.as_ref(), value.as_ref()))?;
        expect_ok(self.request(&line).await?)
    }

    /// The value under `key`, or `None`.
    ///
    /// # Errors
    /// As [`Client::set`].
    pub async fn get(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, Error> {
        let line = encode(Command::Get(key.as_ref()))?;
        match decode(Command::Get(key.as_ref()), self.request(&line).await?)? {
            Response::Value(value) => Ok(value),
            other => Err(unexpected(other)),
        }
    }

    /// Removes `key`; `true` if it was there.
    ///
    /// # Errors
    /// As [`Client::set`].
    pub async fn delete(&mut self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        let line = encode(Command::Delete(key.as_ref()))?;
        match decode(Command::Delete(key.as_ref()), self.request(&line).await?)? {
            Response::Deleted(found) => Ok(found),
            other => Err(unexpected(other)),
        }
    }

    /// The bytes of keys and values the server holds.
    ///
    /// # Errors
    /// A connection error, or an unexpected reply.
    pub async fn usage(&mut self) -> Result<u64, Error> {
        match decode(Command::Usage, self.request(b"USAGE").await?)? {
            Response::Usage(bytes) => Ok(bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Checks that the server answers.
    ///
    /// # Errors
    /// A connection error, or a reply other than `PONG`.
    pub async fn ping(&mut self) -> Result<(), Error> {
        match decode(Command::Ping, self.request(b"PING").await?)? {
            Response::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Makes `key` expire after `ttl` (whole seconds, at least one); `false` if absent.
    ///
    /// # Errors
    /// As [`Client::set`].
    pub async fn expire(&mut self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool, Error> {
        let key = key.as_ref();
        check_key(key)?;
        let mut line = b"EXPIRE ".to_vec();
        line.extend_from_slice(key);
        line.extend_from_slice(format!(" {}", ttl.as_secs().max(1)).as_bytes());
        found(self.request(&line).await?)
    }

    /// The time `key` has left, or `None` if it is absent.
    ///
    /// # Errors
    /// As [`Client::set`].
    pub async fn ttl(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Ttl>, Error> {
        let key = key.as_ref();
        check_key(key)?;
        let reply = self.request(&[b"TTL ", key].concat()).await?;
        if reply == "NOT_FOUND" {
            return Ok(None);
        }
        let seconds = reply
            .strip_prefix("TTL ")
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| refusal_or_unexpected(&reply))?;
        Ok(Some(match u64::try_from(seconds) {
            Ok(seconds) => Ttl::Expires(Duration::from_secs(seconds)),
            Err(_) => Ttl::Forever,
        }))
    }

    /// Makes `key` never expire; `false` if absent.
    ///
    /// # Errors
    /// As [`Client::set`].
    pub async fn persist(&mut self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        let key = key.as_ref();
        check_key(key)?;
        found(self.request(&[b"PERSIST ", key].concat()).await?)
    }

    /// The server's `INFO` fields, in order.
    ///
    /// # Errors
    /// A connection error, or an unexpected reply.
    pub async fn info(&mut self) -> Result<Vec<(String, String)>, Error> {
        let reply = self.request(b"INFO").await?;
        let fields = reply
            .strip_prefix("INFO ")
            .ok_or_else(|| refusal_or_unexpected(&reply))?;
        Ok(fields
            .split(' ')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect())
    }

    /// Sends every command in one write and reads their replies in order. A refused
    /// command is a [`Response::Refused`]; the others stand.
    ///
    /// # Errors
    /// [`Error::InvalidKey`]/[`Error::InvalidValue`] before anything is sent, or a
    /// connection error.
    pub async fn pipeline(&mut self, commands: &[Command<'_>]) -> Result<Vec<Response>, Error> {
        let mut requests = Vec::new();
        for &command in commands {
            requests.extend(encode(command)?);
            requests.push(b'\n');
        }
        let replies = self.exchange(&requests, commands.len()).await?;
        commands
            .iter()
            .zip(replies)
            .map(|(&command, reply)| match decode(command, reply) {
                Err(Error::Server(text)) => Ok(Response::Refused(text)),
                other => other,
            })
            .collect()
    }
}

/// Opens a connection to `endpoint`, within [`CONNECT_TIMEOUT`].
async fn open(endpoint: &Endpoint) -> Result<BufReader<Box<dyn Stream>>, Error> {
    let connect_error = |source| Error::Connect {
        endpoint: endpoint.clone(),
        source,
    };
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
    let stream: Box<dyn Stream> = match endpoint {
        Endpoint::Tcp(addr) => {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
                .await
                .map_err(|_| connect_error(timed_out()))?
                .map_err(connect_error)?;
            stream.set_nodelay(true).map_err(connect_error)?;
            Box::new(stream)
        }
        Endpoint::Tls(tls) => {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, tls.connect())
                .await
                .map_err(|_| connect_error(timed_out()))?
                .map_err(connect_error)?;
            Box::new(stream)
        }
        #[cfg(unix)]
        Endpoint::Unix(path) => {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, UnixStream::connect(path))
                .await
                .map_err(|_| connect_error(timed_out()))?
                .map_err(connect_error)?;
            Box::new(stream)
        }
        #[cfg(not(unix))]
        Endpoint::Unix(_) => return Err(connect_error(unix_unsupported())),
    };
    Ok(BufReader::new(stream))
}

/// Reads one LF-terminated line of at most `max_len` bytes into `line` (cleared first),
/// without its line end (LF or CRLF).
///
/// # Errors
/// [`Error::Closed`] if the connection ends, or the line passes `max_len`, before its LF.
async fn read_line_into<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max_len: usize,
    line: &mut Vec<u8>,
) -> Result<(), Error> {
    line.clear();
    let read = (&mut *reader)
        .take(max_len as u64)
        .read_until(b'\n', line)
        .await?;
    if read == 0 || line.last() != Some(&b'\n') {
        return Err(Error::Closed);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(())
}

/// Writes `requests` and reads `count` reply lines.
async fn exchange_on(
    stream: &mut BufReader<Box<dyn Stream>>,
    requests: &[u8],
    count: usize,
) -> Result<Vec<String>, Error> {
    stream.get_mut().write_all(requests).await?;
    stream.get_mut().flush().await?;
    let mut replies = Vec::with_capacity(count);
    let mut line = Vec::new();
    for _ in 0..count {
        read_line_into(stream, MAX_REPLY_LEN, &mut line).await?;
        replies.push(String::from_utf8_lossy(&line).into_owned());
    }
    Ok(replies)
}

/// Checks a key the way the server does, so a bad one fails before it is sent.
fn check_key(key: &[u8]) -> Result<(), Error> {
    if key.is_empty() || key.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(Error::InvalidKey);
    }
    Ok(())
}

/// The request line of a command, without its LF.
fn encode(command: Command<'_>) -> Result<Vec<u8>, Error> {
    Ok(match command {
        Command::Set(key, value) => {
            check_key(key)?;
            if value.contains(&b'\n') || value.last() == Some(&b'\r') {
                return Err(Error::InvalidValue);
            }
            [b"SET ", key, b" ", value].concat()
        }
        Command::Get(key) => {
            check_key(key)?;
            [b"GET ", key].concat()
        }
        Command::Delete(key) => {
            check_key(key)?;
            [b"DELETE ", key].concat()
        }
        Command::Usage => b"USAGE".to_vec(),
        Command::Ping => b"PING".to_vec(),
    })
}

/// The reply line of a command, understood.
fn decode(command: Command<'_>, reply: String) -> Result<Response, Error> {
    let response = match (command, reply.as_str()) {
        (Command::Set(..), "OK") | (Command::Ping, "PONG") => Response::Done,
        (Command::Get(_), "NOT_FOUND") => Response::Value(None),
        (Command::Get(_), line) if line.starts_with("VALUE ") => {
            let value = BASE64
                .decode(&line["VALUE ".len()..])
                .map_err(|_| Error::UnexpectedReply(reply.clone()))?;
            Response::Value(Some(value))
        }
        (Command::Delete(_), "OK") => Response::Deleted(true),
        (Command::Delete(_), "NOT_FOUND") => Response::Deleted(false),
        (Command::Usage, line) if line.starts_with("USAGE ") => Response::Usage(
            line["USAGE ".len()..]
                .parse()
                .map_err(|_| Error::UnexpectedReply(reply.clone()))?,
        ),
        _ => return Err(refusal_or_unexpected(&reply)),
    };
    Ok(response)
}

/// `OK` → `true`, `NOT_FOUND` → `false`.
fn found(reply: String) -> Result<bool, Error> {
    match reply.as_str() {
        "OK" => Ok(true),
        "NOT_FOUND" => Ok(false),
        _ => Err(refusal_or_unexpected(&reply)),
    }
}

fn expect_ok(reply: String) -> Result<(), Error> {
    if reply == "OK" {
        Ok(())
    } else {
        Err(refusal_or_unexpected(&reply))
    }
}

/// `ERROR <text>` is the server's refusal; anything else is a surprise.
fn refusal_or_unexpected(reply: &str) -> Error {
    match reply.strip_prefix("ERROR ") {
        Some(text) => Error::Server(text.to_owned()),
        None => Error::UnexpectedReply(reply.to_owned()),
    }
}

fn unexpected(response: Response) -> Error {
    Error::UnexpectedReply(format!("{response:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_checked_and_encoded() {
        assert_eq!(
            encode(Command::Set(b"k", b"a b")).unwrap(),
            b"SET k a b".to_vec()
        );
        assert!(matches!(
            encode(Command::Set(b"k", b"a\nb")),
            Err(Error::InvalidValue)
        ));
        assert!(matches!(
            encode(Command::Set(b"k", b"ab\r")),
            Err(Error::InvalidValue)
        ));
        assert!(matches!(
            encode(Command::Get(b"a b")),
            Err(Error::InvalidKey)
        ));
        assert!(matches!(encode(Command::Get(b"")), Err(Error::InvalidKey)));
    }

    #[test]
    fn replies_are_decoded() {
        let get = Command::Get(b"k");
        assert_eq!(
            decode(get, "VALUE YWxpY2U=".into()).unwrap(),
            Response::Value(Some(b"alice".to_vec()))
        );
        assert_eq!(
            decode(get, "NOT_FOUND".into()).unwrap(),
            Response::Value(None)
        );
        assert!(matches!(
            decode(get, "ERROR key too long (max 4 bytes)".into()),
            Err(Error::Server(text)) if text == "key too long (max 4 bytes)"
        ));
        assert!(matches!(
            decode(get, "VALUE !!".into()),
            Err(Error::UnexpectedReply(_))
        ));
        assert_eq!(
            decode(Command::Usage, "USAGE 9".into()).unwrap(),
            Response::Usage(9)
        );
    }
}
