//! The synchronous clients: the async [`super::Client`] and [`super::resp::Client`], each
//! driven by a runtime of its own on the calling thread, for programs that do not run
//! tokio.

use std::path::PathBuf;
use std::time::Duration;

use super::resp::Reply;
use super::{Command, Endpoint, Error, Response, Ttl};

/// A synchronous connection to a Blink Store server. Do not use it inside an async
/// runtime; use [`super::Client`] there.
pub struct Client {
    /// A single-threaded runtime that drives the async client.
    runtime: tokio::runtime::Runtime,
    /// The async client.
    inner: super::Client,
}

impl Client {
    /// Connects over TCP.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers, or [`Error::Io`] if no runtime can start.
    pub fn connect_tcp(addr: impl Into<String>) -> Result<Self, Error> {
        Self::connect(Endpoint::Tcp(addr.into()))
    }

    /// Connects over a Unix socket.
    ///
    /// # Errors
    /// As [`Client::connect_tcp`].
    pub fn connect_unix(path: impl Into<PathBuf>) -> Result<Self, Error> {
        Self::connect(Endpoint::Unix(path.into()))
    }

    /// Connects to `endpoint`.
    ///
    /// # Errors
    /// As [`Client::connect_tcp`].
    pub fn connect(endpoint: Endpoint) -> Result<Self, Error> {
        let runtime = runtime()?;
        let inner = runtime.block_on(super::Client::connect(endpoint))?;
        Ok(Self { runtime, inner })
    }

    /// Where this client connects.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    /// See [`super::Client::request`].
    ///
    /// # Errors
    /// As there.
    pub fn request(&mut self, line: &[u8]) -> Result<String, Error> {
        self.runtime.block_on(self.inner.request(line))
    }

    /// See [`super::Client::set`].
    ///
    /// # Errors
    /// As there.
    pub fn set(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), Error> {
        self.runtime.block_on(self.inner.set(key, value))
    }

    /// See [`super::Client::get`].
    ///
    /// # Errors
    /// As there.
    pub fn get(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, Error> {
        self.runtime.block_on(self.inner.get(key))
    }

    /// See [`super::Client::delete`].
    ///
    /// # Errors
    /// As there.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.delete(key))
    }

    /// See [`super::Client::usage`].
    ///
    /// # Errors
    /// As there.
    pub fn usage(&mut self) -> Result<u64, Error> {
        self.runtime.block_on(self.inner.usage())
    }

    /// See [`super::Client::ping`].
    ///
    /// # Errors
    /// As there.
    pub fn ping(&mut self) -> Result<(), Error> {
        self.runtime.block_on(self.inner.ping())
    }

    /// See [`super::Client::expire`].
    ///
    /// # Errors
    /// As there.
    pub fn expire(&mut self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.expire(key, ttl))
    }

    /// See [`super::Client::ttl`].
    ///
    /// # Errors
    /// As there.
    pub fn ttl(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Ttl>, Error> {
        self.runtime.block_on(self.inner.ttl(key))
    }

    /// See [`super::Client::persist`].
    ///
    /// # Errors
    /// As there.
    pub fn persist(&mut self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.persist(key))
    }

    /// See [`super::Client::info`].
    ///
    /// # Errors
    /// As there.
    pub fn info(&mut self) -> Result<Vec<(String, String)>, Error> {
        self.runtime.block_on(self.inner.info())
    }

    /// See [`super::Client::pipeline`].
    ///
    /// # Errors
    /// As there.
    pub fn pipeline(&mut self, commands: &[Command<'_>]) -> Result<Vec<Response>, Error> {
        self.runtime.block_on(self.inner.pipeline(commands))
    }
}

/// A synchronous connection that sends every command over RESP: see
/// [`super::resp::Client`]. Do not use it inside an async runtime.
pub struct RespClient {
    /// A single-threaded runtime that drives the async client.
    runtime: tokio::runtime::Runtime,
    /// The async client.
    inner: super::resp::Client,
}

impl RespClient {
    /// Connects to `endpoint`.
    ///
    /// # Errors
    /// [`Error::Connect`] if nothing answers, or [`Error::Io`] if no runtime can start.
    pub fn connect(endpoint: Endpoint) -> Result<Self, Error> {
        let runtime = runtime()?;
        let inner = runtime.block_on(super::resp::Client::connect(endpoint))?;
        Ok(Self { runtime, inner })
    }

    /// Where this client connects.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    /// See [`super::resp::Client::command`].
    ///
    /// # Errors
    /// As there.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, Error> {
        self.runtime.block_on(self.inner.command(args))
    }
}

/// The runtime a synchronous client drives its async one with: one thread, the caller's.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}
