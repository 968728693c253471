//! What every wire protocol decodes into and encodes from, and the [`Protocol`] trait a
//! connection drives. The store never sees these types and the protocols never see the
//! store; [`crate::command`] connects them.
//!
//! A protocol is one value per connection implementing [`Protocol`]: it frames requests
//! out of the read buffer, parses them into [`Request`]s, encodes [`Reply`]s in its own
//! words, and says what an unrecoverable framing error does. [`choose`] is the one place
//! a connection's protocol is picked. Errors come in three tiers, each worded by the
//! encoder: [`ProtocolError`] (the bytes cannot be framed), [`ClientError`] (a mistake in
//! a well-framed request) and [`Refusal`] (the server will not serve it).

pub mod command_table;
pub mod info;
pub mod resp;
mod resp_commands;
mod resp_reports;
mod resp_subcommands;
pub mod text;

use std::ops::Range;

use crate::command::Session;

pub use self::command_table::CommandSpec;

/// The request limits every protocol enforces, set once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest key accepted, in bytes.
    pub max_key_len: usize,
    /// Longest value accepted, in bytes (RESP's longest bulk string too).
    pub max_value_len: usize,
    /// Most arguments one RESP command may promise.
    pub max_args: usize,
    /// Longest RESP inline command, or `*`/`$` length line, in bytes.
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

impl Limits {
    /// The default limits: 1 KiB keys, 1 MiB values, Redis's argument and inline limits.
    pub fn new() -> Self {
        Self {
            max_key_len: text::DEFAULT_MAX_KEY_LEN,
            max_value_len: text::DEFAULT_MAX_VALUE_LEN,
            max_args: resp::DEFAULT_MAX_ARGS,
            max_inline_len: resp::DEFAULT_MAX_INLINE_LEN,
        }
    }

    /// Sets the longest key accepted, in bytes.
    pub fn max_key_len(mut self, bytes: usize) -> Self {
        self.max_key_len = bytes;
        self
    }

    /// Sets the longest value accepted, in bytes.
    pub fn max_value_len(mut self, bytes: usize) -> Self {
        self.max_value_len = bytes;
        self
    }

    /// Sets the most arguments one command may have.
    pub fn max_args(mut self, count: usize) -> Self {
        self.max_args = count;
        self
    }

    /// Sets the longest inline command, or length line, accepted, in bytes.
    pub fn max_inline_len(mut self, bytes: usize) -> Self {
        self.max_inline_len = bytes;
        self
    }
}

/// What [`Protocol::frame`] found at the start of the bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// No complete request yet: call again, from the same start, once more bytes arrive.
    Incomplete,
    /// This many bytes hold nothing to answer (an empty command, the rest of a refused
    /// line); consume them.
    Skip(usize),
    /// This many bytes hold one request: [`Protocol::parse`] it.
    Request(usize),
    /// The bytes cannot be framed: answer the error after consuming this many bytes,
    /// then do what [`Protocol::recovery`] says.
    Invalid(usize, ProtocolError),
}

/// What a connection does after a framing error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing after it can be framed: reply, then close (RESP).
    Close,
    /// Reply, drop the bad request, and go on with the next (the line protocol).
    Skip,
}

/// One wire protocol as one connection speaks it.
pub trait Protocol: Send {
    /// Frames the request at the start of `buf`, the bytes received and not yet consumed.
    /// May rewrite the bytes of a complete request in place (RESP's inline quotes).
    fn frame(&mut self, buf: &mut [u8]) -> Frame;

    /// Parses the request [`Protocol::frame`] just framed, at `frame`.
    ///
    /// # Errors
    /// A [`ClientError`] in this protocol's terms; the connection stays usable.
    fn parse<'a>(&'a self, frame: &'a [u8]) -> Result<Request<'a>, ClientError>;

    /// Appends the reply, in this protocol's words, to `out`, in the form the session
    /// asked for (HELLO 3 switches RESP's reply types, its own reply included).
    fn encode(&self, reply: &Reply<'_>, session: &Session, out: &mut Vec<u8>);

    /// The longest request that can be valid: more bytes without a complete request are
    /// refused with [`Protocol::overlong`].
    fn max_request_len(&self) -> usize;

    /// The error for `buffered`, an incomplete request already longer than any valid one.
    /// The connection drops those bytes, answers, and recovers as [`Protocol::recovery`]
    /// says; a protocol that skips discards the rest of the request as it arrives.
    fn overlong(&mut self, buffered: &[u8]) -> ProtocolError;

    /// What a framing error does to the connection.
    fn recovery(&self) -> Recovery;

    /// The command the last [`Protocol::parse`] called, for per-command statistics and
    /// the slow log; `None` if it named none this protocol counts.
    fn call(&self) -> Option<Call> {
        None
    }

    /// The arguments of the request at `frame`, the one [`Protocol::parse`] read last,
    /// as sent: for the slow log. Without arguments of its own, a protocol's are the
    /// words of its line.
    fn arguments<'a>(&self, frame: &'a [u8]) -> Vec<&'a [u8]> {
        frame
            .split(u8::is_ascii_whitespace)
            .filter(|word| !word.is_empty())
            .collect()
    }
}

/// Redis's inline PING, as redis-benchmark and Redis health checks send it first.
const INLINE_PING: &[u8] = b"PING\r\n";

/// The protocol a connection speaks, from its first bytes: RESP if it opens with `*` or
/// with Redis's inline `PING` (CRLF-terminated, any case); the line protocol otherwise.
/// `None` while the bytes so far could still be an inline PING.
pub fn choose(received: &[u8], limits: Limits) -> Option<Box<dyn Protocol>> {
    let resp = || Some(Box::new(resp::RespWire::new(limits)) as Box<dyn Protocol>);
    if received.first() == Some(&b'*') {
        return resp();
    }
    let len = received.len().min(INLINE_PING.len());
    if !received[..len].eq_ignore_ascii_case(&INLINE_PING[..len]) {
        Some(Box::new(text::TextWire::new(limits)))
    } else if len == INLINE_PING.len() {
        resp()
    } else {
        None
    }
}

/// A framing violation: the bytes received cannot be split into requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A line or request longer than the protocol allows.
    #[error("line too long (max {limit} bytes)")]
    LineTooLong {
        /// The maximum length in bytes.
        limit: usize,
    },
    /// A SET line whose key arrived complete and whose value passed the limit.
    #[error("value too large (max {limit} bytes)")]
    ValueTooLarge {
        /// The maximum value length in bytes.
        limit: usize,
    },
    /// RESP that cannot be framed.
    #[error("{0}")]
    Resp(#[from] resp::RespError),
}

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

/// When EXPIRE and friends make a key expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// This many milliseconds from now.
    In(u64),
    /// At this Unix time in milliseconds (0, or any past time: now).
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

/// A COMMAND subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandQuery<'a> {
    /// COMMAND: every command's COMMAND INFO.
    All,
    /// COMMAND COUNT.
    Count,
    /// COMMAND INFO: the named commands' entries (none named: every command's).
    Info(Args<'a>),
    /// COMMAND DOCS: the named commands' documentation (none named: every command's).
    Docs(Args<'a>),
    /// COMMAND LIST, maybe filtered.
    List(Option<ListFilter<'a>>),
    /// COMMAND GETKEYS and GETKEYSANDFLAGS.
    GetKeys {
        /// The command line whose keys are asked for, its name first.
        line: Args<'a>,
        /// Whether each key comes with its access flags (GETKEYSANDFLAGS).
        flags: bool,
    },
}

/// COMMAND LIST's FILTERBY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter<'a> {
    /// `MODULE name`: commands of a module (there are none).
    Module(&'a [u8]),
    /// `ACLCAT category`: commands in an ACL category, named without its `@`.
    AclCategory(&'a [u8]),
    /// `PATTERN glob`: commands whose name matches.
    Pattern(&'a [u8]),
}

/// A CLIENT subcommand beyond ID, GETNAME and SETNAME.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientQuery<'a> {
    /// CLIENT LIST, of every client or of some.
    List(ClientSelection<'a>),
    /// CLIENT INFO: this connection's line of CLIENT LIST.
    Info,
    /// CLIENT KILL.
    Kill(KillFilter<'a>),
    /// CLIENT REPLY.
    Reply(ReplyMode),
    /// CLIENT NO-EVICT: recorded, and shown in CLIENT LIST's flags; a connection is never
    /// evicted here anyway.
    NoEvict(bool),
    /// CLIENT NO-TOUCH: accepted; commands touch keys either way.
    NoTouch(bool),
    /// CLIENT SETINFO.
    SetInfo {
        /// Which attribute.
        attr: ClientAttr,
        /// Its value; empty clears it.
        value: &'a [u8],
    },
}

/// Which clients CLIENT LIST shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSelection<'a> {
    /// Every client (no filter, or `TYPE normal`: every client here is a normal one).
    All,
    /// None (`TYPE` of a kind of client that does not exist here: replicas, masters...).
    Nobody,
    /// `ID id...`: those, in the order given (already checked to be integers).
    Ids(Args<'a>),
}

/// Which connections CLIENT KILL closes: those that match every filter given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KillFilter<'a> {
    /// The old form, `CLIENT KILL addr`: replies OK or an error, and may close this
    /// connection.
    pub old_form: bool,
    /// `ADDR`: the client's address, as CLIENT LIST shows it.
    pub addr: Option<&'a [u8]>,
    /// `LADDR`: the address it connected to.
    pub laddr: Option<&'a [u8]>,
    /// `ID`.
    pub id: Option<u64>,
    /// A `TYPE` no client here has (replicas, masters, pub/sub): matches nobody.
    pub nobody: bool,
    /// `SKIPME yes` (the new form's default): never this connection.
    pub skip_me: bool,
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Reply to every command.
    On,
    /// Reply to none, this one included, until ON.
    Off,
    /// Reply to neither this command nor the next.
    Skip,
}

/// What CLIENT SETINFO sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAttr {
    /// `LIB-NAME`: the client library's name.
    LibName,
    /// `LIB-VER`: its version.
    LibVersion,
}

/// A CONFIG subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigQuery<'a> {
    /// CONFIG GET with glob patterns.
    Get(Args<'a>),
    /// CONFIG SET with parameter and value pairs, all applied or none.
    Set(Args<'a>),
    /// CONFIG RESETSTAT: zero the counters INFO reports.
    ResetStat,
}

/// A SLOWLOG subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowLogQuery {
    /// SLOWLOG GET: the newest entries, at most this many (`None`: all).
    Get(Option<usize>),
    /// SLOWLOG LEN.
    Len,
    /// SLOWLOG RESET.
    Reset,
}

/// Which command of the command table a request called, for per-command statistics and
/// the slow log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Its row (a subcommand's own row for a subcommand).
    pub command: &'static CommandSpec,
    /// Refused before it could run (the wrong number of arguments), as Redis counts
    /// `rejected_calls`; such a call is not counted among the command's calls.
    pub rejected: bool,
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
    /// Part of the value (GETRANGE, SUBSTR): bytes `start` to `end` inclusive, negative
    /// indexes counting from the end.
    GetRange {
        /// The key.
        key: &'a [u8],
        /// The first byte's index.
        start: i64,
        /// The last byte's index.
        end: i64,
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
        /// Relative or absolute milliseconds; may be in the past.
        deadline: Deadline,
        /// NX, XX, GT, LT.
        condition: crate::store::update::ExpireIf,
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
    /// The absolute expiry (EXPIRETIME, PEXPIRETIME).
    ExpireTime {
        /// The key.
        key: &'a [u8],
        /// Unix seconds or milliseconds.
        unit: TimeUnit,
    },
    /// Count how many of the keys exist, as reads do (TOUCH): each found one is an access.
    Touch {
        /// The keys.
        keys: Args<'a>,
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
    /// What the key holds: a string, or nothing (TYPE).
    Type {
        /// The key.
        key: &'a [u8],
    },
    /// The server's clock (TIME).
    Time,
    /// Remove every key.
    Flush,
    /// Server information.
    Info {
        /// The sections asked for (RESP), any case; none: the default ones.
        sections: Args<'a>,
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
    /// The other CLIENT subcommands.
    Client(ClientQuery<'a>),
    /// Switch protocol version (HELLO), replying with server facts.
    Hello {
        /// The version asked for, if any.
        version: Option<&'a [u8]>,
        /// A `SETNAME` given with it.
        name: Option<&'a [u8]>,
        /// `AUTH user password` given with it.
        auth: Option<(&'a [u8], &'a [u8])>,
    },
    /// COMMAND and its subcommands: what the command table says.
    Command(CommandQuery<'a>),
    /// CONFIG GET, SET and RESETSTAT.
    Config(ConfigQuery<'a>),
    /// SLOWLOG GET, LEN and RESET.
    SlowLog(SlowLogQuery),
    /// A container's HELP (CLIENT HELP, CONFIG HELP...).
    Help(&'static CommandSpec),
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
    /// A status word (TYPE's `string` or `none`): a simple string in RESP.
    Status(&'static str),
    /// Texts of the server's own (TIME): an array of bulk strings in RESP.
    Texts(Vec<String>),
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
    /// INFO's figures, laid out by each protocol's encoder.
    Info {
        /// The figures.
        report: Box<info::Report>,
        /// The sections asked for, where the protocol has sections; none: the default.
        sections: Args<'a>,
    },
    /// Rows of the command table (COMMAND, COMMAND INFO): an entry each, or a null
    /// for a name that is not a command.
    CommandInfo(Vec<Option<&'static CommandSpec>>),
    /// Rows of the command table (COMMAND DOCS): each command's name and documentation.
    CommandDocs(Vec<&'static CommandSpec>),
    /// COMMAND GETKEYSANDFLAGS: each key with its access flags.
    KeysAndFlags(Vec<(&'a [u8], &'static [&'static str])>),
    /// A container's HELP: its lines between Redis's header and footer.
    Help(&'static CommandSpec),
    /// CLIENT LIST and CLIENT INFO: a line per client.
    Clients(Vec<info::ClientReport>),
    /// SLOWLOG GET: the newest entries first.
    SlowLog(Vec<info::SlowEntry>),
    /// Nothing at all: CLIENT REPLY OFF and SKIP, which are not answered.
    Silent,
    /// The connection closes after flushing earlier replies. The line protocol writes
    /// nothing for it; RESP writes `+OK`, as Redis answers QUIT.
    Close,
    /// The request was refused; the connection stays usable.
    Error(ClientError),
    /// The server refuses to serve it: the connection limit, a missing AUTH, memory.
    Refused(Refusal),
    /// The bytes could not be framed; what follows depends on [`Protocol::recovery`].
    Broken(ProtocolError),
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
            Self::Text(text) => write!(f, "Text(len={})", text.len()),
            Self::Status(word) => write!(f, "Status({word})"),
            Self::Texts(texts) => write!(f, "Texts(count={})", texts.len()),
            Self::Info { .. } => f.write_str("Info"),
            Self::Map(fields) => write!(f, "Map(count={})", fields.len()),
            Self::Ttl(ttl) => write!(f, "Ttl({ttl})"),
            Self::Persisted { exists, removed } => write!(f, "Persisted({exists}, {removed})"),
            Self::Expired(existed) => write!(f, "Expired({existed})"),
            Self::CommandInfo(rows) => write!(f, "CommandInfo(count={})", rows.len()),
            Self::CommandDocs(rows) => write!(f, "CommandDocs(count={})", rows.len()),
            Self::KeysAndFlags(keys) => write!(f, "KeysAndFlags(count={})", keys.len()),
            Self::Help(spec) => write!(f, "Help({})", spec.name),
            Self::Clients(clients) => write!(f, "Clients(count={})", clients.len()),
            Self::SlowLog(entries) => write!(f, "SlowLog(count={})", entries.len()),
            Self::Silent => f.write_str("Silent"),
            Self::Close => f.write_str("Close"),
            Self::Error(err) => write!(f, "Error({err})"),
            Self::Refused(refusal) => write!(f, "Refused({refusal})"),
            Self::Broken(err) => write!(f, "Broken({err})"),
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
    /// An option a command does not know, as Redis words it for EXPIRE (shown escaped).
    #[error("Unsupported option {0}")]
    UnsupportedOption(String),
    /// EXPIRE's NX with XX, GT or LT.
    #[error("NX and XX, GT or LT options at the same time are not compatible")]
    ExpireNxAndOthers,
    /// EXPIRE's GT with LT.
    #[error("GT and LT options at the same time are not compatible")]
    ExpireGtAndLt,
    /// DECRBY of the smallest integer, which cannot be negated.
    #[error("decrement would overflow")]
    DecrementOverflow,
    /// A client name with spaces or other bytes Redis refuses.
    #[error("Client names cannot contain spaces, newlines or special characters.")]
    InvalidClientName,
    /// HELLO with a version that is not a number.
    #[error("Protocol version is not an integer or out of range")]
    ProtocolVersionNotInteger,
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
    #[error("unknown subcommand '{sub}'. Try {} HELP.", cmd.to_ascii_uppercase())]
    UnknownSubcommand {
        /// The subcommand as sent, cut to 128 bytes.
        sub: String,
        /// The command (shown uppercase).
        cmd: &'static str,
    },
    /// A known subcommand with arguments its command does not take, as Redis words it.
    #[error(
        "unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        cmd.to_ascii_uppercase()
    )]
    SubcommandSyntax {
        /// The subcommand as sent.
        sub: String,
        /// The command (shown uppercase).
        cmd: &'static str,
    },
    /// A client type CLIENT LIST or KILL does not know.
    #[error("Unknown client type '{0}'")]
    UnknownClientType(String),
    /// CLIENT LIST ID with an id that is not an integer.
    #[error("Invalid client ID")]
    InvalidClientId,
    /// CLIENT KILL ID 0 or less, or not an integer.
    #[error("client-id should be greater than 0")]
    ClientIdNotPositive,
    /// CLIENT KILL USER with a user that does not exist (only `default` does).
    #[error("No such user '{0}'")]
    NoSuchUser(String),
    /// CLIENT KILL's old form matched no client.
    #[error("No such client")]
    NoSuchClient,
    /// CLIENT SETINFO with an attribute other than LIB-NAME and LIB-VER.
    #[error("Unrecognized option '{0}'")]
    UnrecognizedOption(String),
    /// CLIENT SETINFO with spaces or other bytes CLIENT LIST could not show.
    #[error("{0} cannot contain spaces, newlines or special characters.")]
    InvalidClientAttr(String),
    /// SLOWLOG GET with a count below -1 or not a number.
    #[error("count should be greater than or equal to -1")]
    SlowLogCount,
    /// COMMAND GETKEYS that finds no keys.
    #[error("{0}")]
    Keys(#[from] command_table::keys::KeysError),
    /// CONFIG SET of a parameter that does not exist.
    #[error("Unknown option or number of arguments for CONFIG SET - '{0}'")]
    UnknownConfig(String),
    /// CONFIG SET of a value that cannot be set.
    #[error("CONFIG SET failed (possibly related to argument '{name}') - {reason}")]
    ConfigSetFailed {
        /// The parameter, as sent.
        name: String,
        /// Why, as Redis words it.
        reason: String,
    },
}

/// The server's refusals: the request may be fine, but the server will not serve it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The store refused the write (for example, it could never fit the memory limit).
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// A command before AUTH on a server with a password, as Redis words it.
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    /// HELLO without AUTH before authenticating, as Redis words it.
    #[error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")]
    HelloNoAuth,
    /// The server is at its connection limit; the connection is closed after this reply.
    #[error("too many connections (max {limit})")]
    TooManyConnections {
        /// The configured maximum number of connections.
        limit: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which protocol `choose` picks from `received`: "resp", "text", or "undecided".
    fn chosen(received: &[u8]) -> &'static str {
        let Some(protocol) = choose(received, Limits::new()) else {
            return "undecided";
        };
        match protocol.recovery() {
            Recovery::Close => "resp",
            Recovery::Skip => "text",
        }
    }

    #[test]
    fn the_first_bytes_choose_the_protocol() {
        assert_eq!(chosen(b"*1\r\n$4\r\nPING\r\n"), "resp");
        assert_eq!(chosen(b"PING\r\nPING\r\n"), "resp");
        assert_eq!(chosen(b"ping\r\n"), "resp");
        assert_eq!(chosen(b"PING\n"), "text");
        assert_eq!(chosen(b"PIN"), "undecided");
        assert_eq!(chosen(b"PING\r"), "undecided");
        assert_eq!(chosen(b"PINGX"), "text");
        assert_eq!(chosen(b"SET user alice\r\n"), "text");
        assert_eq!(chosen(b"GET k\n"), "text");
    }

    #[test]
    fn the_line_protocol_frames_lines_and_skips_the_rest_of_a_refused_one() {
        let mut text = text::TextWire::new(Limits::new().max_key_len(4).max_value_len(4));
        assert_eq!(text.frame(&mut b"GET k\nGET".to_vec()), Frame::Request(6));
        assert_eq!(text.frame(&mut b"GET".to_vec()), Frame::Incomplete);
        let long = format!("GET {}\n", "k".repeat(100));
        assert!(matches!(
            text.frame(&mut long.clone().into_bytes()),
            Frame::Invalid(len, ProtocolError::LineTooLong { .. }) if len == long.len()
        ));
        // Refused while incomplete: the rest of that line is dropped as it arrives.
        let err = text.overlong(
            b"GET kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        );
        assert!(matches!(err, ProtocolError::LineTooLong { .. }));
        assert_eq!(text.frame(&mut b"kkkk".to_vec()), Frame::Skip(4));
        assert_eq!(text.frame(&mut b"kk\nPING\n".to_vec()), Frame::Skip(3));
        assert_eq!(text.frame(&mut b"PING\n".to_vec()), Frame::Request(5));
        assert_eq!(text.recovery(), Recovery::Skip);
    }

    #[test]
    fn resp_skips_empty_commands_and_closes_on_framing_errors() {
        let mut resp = resp::RespWire::new(Limits::new());
        assert_eq!(resp.frame(&mut b"*0\r\n".to_vec()), Frame::Skip(4));
        assert_eq!(
            resp.frame(&mut b"*1\r\n$4\r\nPI".to_vec()),
            Frame::Incomplete
        );
        assert_eq!(
            resp.frame(&mut b"*1\r\n$4\r\nPING\r\n".to_vec()),
            Frame::Request(14)
        );
        assert!(matches!(
            resp.frame(&mut b"*x\r\n".to_vec()),
            Frame::Invalid(_, ProtocolError::Resp(_))
        ));
        assert_eq!(resp.recovery(), Recovery::Close);
    }
}
