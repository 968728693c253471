//! What every wire protocol decodes into and encodes from. The store never sees these
//! types and the protocols never see the store; [`crate::command`] connects them.

pub mod resp;
mod resp_commands;
pub mod text;

use std::ops::Range;

/// The arguments of a RESP command, borrowed from the read buffer: for commands that take
/// any number of keys. Equal when their arguments are.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    /// The frame the ranges point into.
    buf: &'a [u8],
    /// One range per argument.
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// Arguments at `ranges` of `buf`.
    pub fn new(buf: &'a [u8], ranges: &'a [Range<usize>]) -> Self {
        Self { buf, ranges }
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Each argument's bytes (a range outside the frame reads as empty).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.ranges
            .iter()
            .map(move |range| buf.get(range.clone()).unwrap_or_default())
    }
}

impl PartialEq for Args<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Args<'_> {}

/// The longest relative time to live, in milliseconds: one that, added to any Unix time
/// before the year 4199 (2^46 ms), stays within 64-bit signed milliseconds. Redis refuses
/// relative times that would overflow when added to the current time; this bound makes
/// the same refusal without reading the clock while parsing.
pub const MAX_RELATIVE_TTL_MS: u64 = (i64::MAX as u64) - (1 << 46);

/// What a SET with options does to the key's time to live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TtlOption {
    /// None given: a SET clears the key's expiry; GETEX leaves it.
    #[default]
    Unchanged,
    /// `KEEPTTL`: keep the old expiry.
    Keep,
    /// `PERSIST` (GETEX): remove the expiry.
    Persist,
    /// `EX`/`PX`: expire this many milliseconds from now.
    In(u64),
    /// `EXAT`/`PXAT`: expire at this Unix time in milliseconds.
    At(u64),
}

/// `NX`/`XX`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SetCondition {
    /// Store in any case.
    #[default]
    Always,
    /// `NX`: only if absent.
    IfAbsent,
    /// `XX`: only if present.
    IfPresent,
}

/// The unit a TTL is reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (TTL), rounded as Redis rounds them.
    Seconds,
    /// Milliseconds (PTTL).
    Millis,
}

/// Which form of `INFO` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoFormat {
    /// The line protocol's one line of `key=value` pairs.
    Line,
    /// Redis's sections, optionally only one of them.
    Sections,
}

/// One parsed request. Keys and values borrow from the connection's read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// Read a value.
    Get {
        /// The key to read.
        key: &'a [u8],
    },
    /// Store a value, replacing any previous one and its expiry.
    Set {
        /// The key to write.
        key: &'a [u8],
        /// The value bytes, binary-safe.
        value: &'a [u8],
    },
    /// SET with options: a condition, an expiry, or returning the old value.
    SetWith {
        /// The key to write.
        key: &'a [u8],
        /// The value bytes.
        value: &'a [u8],
        /// `NX`/`XX`.
        condition: SetCondition,
        /// `EX`/`PX`/`EXAT`/`PXAT`/`KEEPTTL`.
        ttl: TtlOption,
        /// `GET`: reply with the old value.
        get: bool,
    },
    /// SETNX: store only if absent, replying 1 or 0.
    SetNx {
        /// The key to write.
        key: &'a [u8],
        /// The value bytes.
        value: &'a [u8],
    },
    /// Remove a key.
    Delete {
        /// The key to remove.
        key: &'a [u8],
    },
    /// Remove keys (DEL/UNLINK); replies with how many existed.
    DeleteMany {
        /// The keys.
        keys: Args<'a>,
    },
    /// Read several keys.
    MGet {
        /// The keys.
        keys: Args<'a>,
    },
    /// Write several keys: key, value, key, value...
    MSet {
        /// Keys and values, alternating.
        pairs: Args<'a>,
    },
    /// Count how many of the keys exist (a key named twice counts twice).
    Exists {
        /// The keys.
        keys: Args<'a>,
    },
    /// Read and remove.
    GetDel {
        /// The key.
        key: &'a [u8],
    },
    /// Read and change the expiry.
    GetEx {
        /// The key.
        key: &'a [u8],
        /// The new expiry.
        ttl: TtlOption,
    },
    /// Set an expiry (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT).
    Expire {
        /// The key.
        key: &'a [u8],
        /// `In` (relative) or `At` (absolute) milliseconds; may be in the past.
        ttl: TtlOption,
    },
    /// A relative or absolute expiry that does not fit in 64-bit milliseconds.
    ExpireInvalid {
        /// The command, lowercase.
        cmd: &'static str,
    },
    /// The remaining time to live.
    Ttl {
        /// The key.
        key: &'a [u8],
        /// Seconds or milliseconds.
        unit: TimeUnit,
    },
    /// Remove the expiry.
    Persist {
        /// The key.
        key: &'a [u8],
    },
    /// Add to an integer value.
    IncrBy {
        /// The key.
        key: &'a [u8],
        /// The amount (negative to decrement).
        delta: i64,
    },
    /// Append to a value.
    Append {
        /// The key.
        key: &'a [u8],
        /// The bytes to append.
        value: &'a [u8],
        /// The longest value the result may be: the protocol's value limit.
        max_len: usize,
    },
    /// The length of a value.
    StrLen {
        /// The key.
        key: &'a [u8],
    },
    /// The number of keys.
    DbSize,
    /// Remove every key.
    Flush,
    /// Server information.
    Info {
        /// Line or sections.
        format: InfoFormat,
        /// Only this section (RESP), lowercase match.
        section: Option<&'a [u8]>,
    },
    /// Report the bytes of keys and values held.
    Usage,
    /// Liveness check.
    Ping,
    /// PING with a message, or ECHO: reply with the message.
    Echo {
        /// The message.
        message: &'a [u8],
    },
    /// Choose a database: only 0 exists.
    Select {
        /// The database index as sent.
        db: &'a [u8],
    },
    /// Name the connection (CLIENT SETNAME).
    ClientSetName {
        /// The name.
        name: &'a [u8],
    },
    /// The connection's name (CLIENT GETNAME).
    ClientGetName,
    /// The connection's id (CLIENT ID).
    ClientId,
    /// Accepted and ignored: CLIENT SETINFO and other client bookkeeping.
    ClientNoop,
    /// Switch protocol version (HELLO), replying with server facts.
    Hello {
        /// The version asked for, if any.
        version: Option<&'a [u8]>,
        /// A `SETNAME` given with it.
        name: Option<&'a [u8]>,
        /// `AUTH user password` given with it.
        auth: Option<(&'a [u8], &'a [u8])>,
    },
    /// COMMAND, COMMAND DOCS, COMMAND COUNT...: an empty command table.
    Command {
        /// Whether the reply is a count (COMMAND COUNT).
        count: bool,
    },
    /// CONFIG GET with a pattern.
    ConfigGet {
        /// The glob pattern.
        pattern: &'a [u8],
    },
    /// Authenticate the connection (AUTH password, or AUTH default password in RESP).
    Auth {
        /// The user name given, if any (only `default` exists).
        user: Option<&'a [u8]>,
        /// The password.
        password: &'a [u8],
    },
    /// Close the connection once earlier replies are flushed.
    Quit,
}

/// One entry of a [`Reply::Map`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A bulk string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// An empty array.
    Empty,
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
    /// An integer (RESP only).
    Integer(i64),
    /// Several values or absences (MGET), or an empty list.
    Values(Vec<Option<&'a [u8]>>),
    /// A text of the server's own (INFO, CLIENT GETNAME): a bulk string in RESP.
    Text(String),
    /// Named fields (HELLO, CONFIG GET): a map in RESP3, a flat array in RESP2.
    Map(Vec<(String, Field)>),
    /// A key's time to live: `TTL <n>` in the line protocol, an integer in RESP.
    Ttl(i64),
    /// PERSIST's answer: whether the key exists, and whether an expiry was removed.
    Persisted {
        /// The key exists.
        exists: bool,
        /// It had an expiry, now removed.
        removed: bool,
    },
    /// EXPIRE's answer: whether the key existed.
    Expired(bool),
    /// One line of `key=value` pairs (the line protocol's INFO).
    Info(String),
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
            Self::Integer(n) => write!(f, "Integer({n})"),
            Self::Values(values) => write!(f, "Values(count={})", values.len()),
            Self::Text(text) | Self::Info(text) => write!(f, "Text(len={})", text.len()),
            Self::Map(fields) => write!(f, "Map(count={})", fields.len()),
            Self::Ttl(ttl) => write!(f, "Ttl({ttl})"),
            Self::Persisted { exists, removed } => write!(f, "Persisted({exists}, {removed})"),
            Self::Expired(existed) => write!(f, "Expired({existed})"),
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
    /// An argument that should be an integer is not one.
    #[error("value is not an integer or out of range")]
    NotAnInteger,
    /// An expire time that is zero, negative or too large, as Redis words it.
    #[error("invalid expire time in '{cmd}' command")]
    InvalidExpireTime {
        /// The command, lowercase.
        cmd: &'static str,
    },
    /// DECRBY of the smallest integer, which cannot be negated.
    #[error("decrement would overflow")]
    DecrementOverflow,
    /// A client name with spaces or other bytes Redis refuses.
    #[error("Client names cannot contain spaces, newlines or special characters.")]
    InvalidClientName,
    /// HELLO with a version that is not a number.
    #[error("Protocol version is not an integer or out of range")]
    ProtocolVersionNotInteger,
    /// A command before AUTH on a server with a password, as Redis words it.
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    /// HELLO without AUTH before authenticating, as Redis words it.
    #[error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")]
    HelloNoAuth,
    /// A wrong password (or a user other than `default`), as Redis words it.
    #[error("WRONGPASS invalid username-password pair or user is disabled.")]
    WrongPass,
    /// AUTH on a server without a password, as Redis words it.
    #[error("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")]
    NoPasswordSet,
    /// A database other than 0.
    #[error("DB index is out of range")]
    DbIndexOutOfRange,
    /// A protocol version other than 2 or 3.
    #[error("NOPROTO unsupported protocol version")]
    NoProto,
    /// An unknown subcommand, as Redis words it.
    #[error("unknown subcommand '{sub}'. Try {cmd} HELP.")]
    UnknownSubcommand {
        /// The subcommand as sent.
        sub: String,
        /// The command, uppercase.
        cmd: &'static str,
    },
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
