//! What every wire protocol decodes into and encodes from. The store never sees these
//! types and the protocols never see the store; [`crate::command`] connects them.

pub mod resp;
pub mod text;

/// One parsed request. Keys and values borrow from the connection's read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// Read a value.
    Get {
        /// The key to read.
        key: &'a [u8],
    },
    /// Store a value, replacing any previous one.
    Set {
        /// The key to write.
        key: &'a [u8],
        /// The value bytes, binary-safe.
        value: &'a [u8],
    },
    /// Remove a key.
    Delete {
        /// The key to remove.
        key: &'a [u8],
    },
    /// Report the bytes of keys and values held.
    Usage,
    /// Liveness check.
    Ping,
    /// Close the connection once earlier replies are flushed.
    Quit,
}

/// One reply. A value borrows from the store under a guard held while it is encoded.
/// Its `Debug` shows a value's length, never its bytes, so logs stay small and private.
#[derive(Clone, PartialEq, Eq)]
pub enum Reply<'a> {
    /// The write or delete succeeded.
    Ok,
    /// The value found under the key.
    Value(&'a [u8]),
    /// The key is not present.
    NotFound,
    /// Bytes of keys and values held.
    Usage(u64),
    /// Answer to a ping.
    Pong,
    /// How many of the named keys a delete removed. RESP answers the count; the line
    /// protocol answers `OK` for any and `NOT_FOUND` for none.
    Deleted(u64),
    /// The connection closes after flushing earlier replies. The line protocol writes
    /// nothing for it; RESP writes `+OK`, as Redis answers QUIT.
    Close,
    /// The request was refused; the connection stays usable.
    Error(ClientError),
}

impl std::fmt::Debug for Reply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok => f.write_str("Ok"),
            Self::Value(value) => write!(f, "Value(len={})", value.len()),
            Self::NotFound => f.write_str("NotFound"),
            Self::Usage(bytes) => write!(f, "Usage({bytes})"),
            Self::Pong => f.write_str("Pong"),
            Self::Deleted(count) => write!(f, "Deleted({count})"),
            Self::Close => f.write_str("Close"),
            Self::Error(err) => write!(f, "Error({err})"),
        }
    }
}

/// A client mistake: it gets an error reply and the connection keeps working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A line with nothing but whitespace.
    #[error("empty line")]
    EmptyLine,
    /// The command word is not one this protocol knows (shown escaped and shortened).
    #[error("unknown command '{0}'")]
    UnknownCommand(String),
    /// Too few or too many arguments.
    #[error("wrong number of arguments for '{cmd}'")]
    Arity {
        /// The command, as documented.
        cmd: &'static str,
    },
    /// The key has control characters or other bytes a key may not hold.
    #[error("key contains invalid bytes")]
    KeyInvalid,
    /// The key is longer than the configured maximum.
    #[error("key too long (max {limit} bytes)")]
    KeyTooLong {
        /// The maximum key length in bytes.
        limit: usize,
    },
    /// The value is longer than the configured maximum.
    #[error("value too large (max {limit} bytes)")]
    ValueTooLarge {
        /// The maximum value length in bytes.
        limit: usize,
    },
    /// A line longer than the protocol allows; the rest of it was discarded unread.
    #[error("line too long (max {limit} bytes)")]
    LineTooLong {
        /// The maximum line length in bytes.
        limit: usize,
    },
    /// The store refused the write (for example, it could never fit the memory limit).
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// RESP's unknown command, worded as Redis 7 words it: the name and the start of the
    /// arguments, each quoted, within Redis's 128-byte budget.
    #[error("unknown command '{name}', with args beginning with: {args}")]
    RespUnknownCommand {
        /// The command name as sent, cut to 128 bytes.
        name: String,
        /// The arguments, each as `'<arg>' `, cut to a 128-byte budget.
        args: String,
    },
    /// RESP's wrong number of arguments, worded as Redis words it.
    #[error("wrong number of arguments for '{cmd}' command")]
    RespArity {
        /// The command, lowercase as Redis names it.
        cmd: &'static str,
    },
    /// Arguments a command does not accept, such as SET options that are not supported.
    #[error("syntax error")]
    Syntax,
    /// A RESP framing violation; the connection is closed after this reply.
    #[error("{0}")]
    Resp(#[from] resp::RespError),
    /// The server is at its connection limit; the connection is closed after this reply.
    #[error("too many connections (max {limit})")]
    TooManyConnections {
        /// The configured maximum number of connections.
        limit: usize,
    },
}
