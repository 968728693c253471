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
pub mod keyspace;
pub mod memcache;
mod memcache_parse;
mod memcache_reply;
pub mod resp;
mod resp_commands;
mod resp_keyspace;
mod resp_reports;
mod resp_strings;
mod resp_subcommands;
pub mod text;

use std::ops::Range;

use crate::command::Session;
use keyspace::{HelpTopic, ObjectField, RestoreOptions};

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
    /// `session` says what the client may send: before AUTH, RESP refuses long headers.
    fn frame(&mut self, buf: &mut [u8], session: &Session) -> Frame;

    /// Parses the request [`Protocol::frame`] just framed, at `frame`.
    ///
    /// # Errors
    /// A [`ClientError`] in this protocol's terms; the connection stays usable.
    fn parse<'a>(&'a self, frame: &'a [u8]) -> Result<Request<'a>, ClientError>;

    /// Appends to `out` the request just framed at `frame` in a form [`Protocol::frame`]
    /// reads back as the same request, for MULTI to queue: the bytes themselves, unless
    /// framing rewrote them in place.
    fn queued_form(&self, frame: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(frame);
    }

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

/// What the connections a listener accepts speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wire {
    /// Whichever protocol each connection's first bytes select (see [`choose`]).
    #[default]
    Auto,
    /// RESP from the first byte, whatever it is, as on a Redis server.
    Resp,
    /// memcached's text and meta protocols, which cannot be told from the line protocol
    /// by their first bytes.
    Memcache,
}

/// `auto` or `resp`, as logs show it.
impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Resp => "resp",
            Self::Memcache => "memcache",
        })
    }
}

/// The protocol a connection on a `wire` listener speaks, from the bytes `received` so
/// far: how many leading bytes to drop, and the protocol once it is known.
///
/// A RESP listener's connections speak RESP at once. On an auto-detecting listener,
/// leading empty lines (`\n` or `\r\n`) are dropped unanswered, so a client that sends
/// a blank line before its first command is not misjudged by it. Then a connection
/// speaks RESP if it opens with `*` or with Redis's inline `PING` (CRLF-terminated, any
/// case), and the line protocol otherwise. No protocol yet while the bytes so far could
/// still be an empty line or an inline PING.
pub fn choose(wire: Wire, received: &[u8], limits: Limits) -> (usize, Option<Box<dyn Protocol>>) {
    let resp = || Some(Box::new(resp::RespWire::new(limits)) as Box<dyn Protocol>);
    match wire {
        Wire::Resp => return (0, resp()),
        Wire::Memcache => return (0, Some(Box::new(memcache::McWire::new(limits)))),
        Wire::Auto => {}
    }
    let skip = leading_empty_lines(received);
    let received = received.get(skip..).unwrap_or_default();
    let protocol = match received {
        [] | [b'\r'] => None,
        [b'*', ..] => resp(),
        _ => {
            let ping = INLINE_PING.get(..received.len()).unwrap_or(INLINE_PING);
            let opening = received.get(..ping.len()).unwrap_or(received);
            if !opening.eq_ignore_ascii_case(ping) {
                Some(Box::new(text::TextWire::new(limits)) as Box<dyn Protocol>)
            } else if ping == INLINE_PING {
                resp()
            } else {
                None
            }
        }
    };
    (skip, protocol)
}

/// How many bytes at the start of `received` are whole empty lines: LFs, each perhaps
/// after one CR.
fn leading_empty_lines(received: &[u8]) -> usize {
    let mut skip = 0;
    loop {
        match received.get(skip..).unwrap_or_default() {
            [b'\n', ..] => skip += 1,
            [b'\r', b'\n', ..] => skip += 2,
            _ => return skip,
        }
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

/// Which bytes or bits BITCOUNT counts: indexes inclusive, negative ones counting from
/// the end, clamped to the value as Redis clamps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitSpan {
    /// The whole value.
    All,
    /// Bytes `start` to `end`.
    Bytes {
        /// The first byte's index.
        start: i64,
        /// The last byte's index.
        end: i64,
    },
    /// Bits `start` to `end` (`BIT`), bit 0 the most significant bit of the first byte.
    Bits {
        /// The first bit's index.
        start: i64,
        /// The last bit's index.
        end: i64,
    },
}

/// An argument error Redis reports only once it has found the key: BITCOUNT of a missing
/// key answers 0 whatever its range says, GETEX of one nil whatever its time says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateError {
    /// [`ClientError::NotAnInteger`].
    NotAnInteger,
    /// [`ClientError::Syntax`].
    Syntax,
    /// [`ClientError::InvalidExpireTime`].
    InvalidExpireTime {
        /// The command, lowercase.
        cmd: &'static str,
    },
}

impl From<LateError> for ClientError {
    fn from(err: LateError) -> Self {
        match err {
            LateError::NotAnInteger => ClientError::NotAnInteger,
            LateError::Syntax => ClientError::Syntax,
            LateError::InvalidExpireTime { cmd } => ClientError::InvalidExpireTime { cmd },
        }
    }
}

/// What LCS answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcsAnswer {
    /// The longest common subsequence itself.
    Subsequence,
    /// Its length (`LEN`).
    Len,
    /// The ranges it is made of, longest last, and its length (`IDX`).
    Ranges {
        /// `MINMATCHLEN`: leave out ranges shorter than this.
        min_len: u64,
        /// `WITHMATCHLEN`: give each range's length.
        with_len: bool,
    },
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
        /// The new expiry, or the error its time gets if the key exists.
        ttl: Result<TtlOption, LateError>,
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
    /// Overwrite part of a value (SETRANGE), padding with zero bytes.
    SetRange {
        /// The key.
        key: &'a [u8],
        /// Where the bytes go.
        offset: usize,
        /// The bytes.
        value: &'a [u8],
        /// The longest value the result may be: the protocol's value limit.
        max_len: usize,
    },
    /// Read one bit of a value (GETBIT).
    GetBit {
        /// The key.
        key: &'a [u8],
        /// The bit's index; 0 is the most significant bit of the first byte.
        offset: u64,
    },
    /// Set or clear one bit of a value (SETBIT), padding with zero bytes.
    SetBit {
        /// The key.
        key: &'a [u8],
        /// The bit's index; 0 is the most significant bit of the first byte.
        offset: u64,
        /// Set (1) or clear (0).
        on: bool,
        /// The longest value the result may be: the protocol's value limit.
        max_len: usize,
    },
    /// Count the set bits of a value (BITCOUNT).
    BitCount {
        /// The key.
        key: &'a [u8],
        /// Which part, or the error to answer if the key exists.
        span: Result<BitSpan, LateError>,
    },
    /// Add to a float value (INCRBYFLOAT).
    IncrByFloat {
        /// The key.
        key: &'a [u8],
        /// The amount.
        delta: crate::float::LongDouble,
    },
    /// Write several keys only if none exists (MSETNX): key, value, key, value...
    MSetNx {
        /// Keys and values, alternating.
        pairs: Args<'a>,
    },
    /// The longest common subsequence of two values (LCS).
    Lcs {
        /// The two keys.
        keys: (&'a [u8], &'a [u8]),
        /// What to answer with.
        answer: LcsAnswer,
        /// The most bytes its table may take: the protocol's value limit, as Redis bounds
        /// it by proto-max-bulk-len.
        max_table_bytes: usize,
    },
    /// Wait for replicas to acknowledge writes (WAIT): there are none.
    Wait,
    /// The number of keys.
    DbSize,
    /// What the key holds: a string, or nothing (TYPE).
    Type {
        /// The key.
        key: &'a [u8],
    },
    /// The server's clock (TIME).
    Time,
    /// Write a snapshot and answer when it is on disk (SAVE).
    Save,
    /// Start writing a snapshot (BGSAVE); with SCHEDULE, after the one running.
    BgSave {
        /// SCHEDULE: if a write runs, another follows it instead of an error.
        schedule: bool,
    },
    /// When the last snapshot was written (LASTSAVE).
    LastSave,
    /// Every key matching a glob pattern (KEYS).
    Keys {
        /// The pattern, as [`crate::command::glob`] reads it.
        pattern: &'a [u8],
    },
    /// One step of a scan of the keyspace (SCAN).
    Scan {
        /// Where the step starts: 0, or what the last step returned.
        cursor: u64,
        /// MATCH: only keys matching this glob pattern.
        pattern: Option<&'a [u8]>,
        /// COUNT: about how many keys to return (at least 1).
        count: usize,
        /// TYPE: only keys holding this type (compared ignoring case).
        type_name: Option<&'a [u8]>,
    },
    /// A random key (RANDOMKEY).
    RandomKey,
    /// Move a value and its expiry to another key (RENAME, RENAMENX).
    Rename {
        /// The key moved.
        from: &'a [u8],
        /// Its new name.
        to: &'a [u8],
        /// Whether an existing `to` is replaced (RENAME) or kept (RENAMENX).
        replace: bool,
    },
    /// Copy a value and its expiry to another key (COPY, within database 0).
    Copy {
        /// The key copied.
        from: &'a [u8],
        /// The copy's key.
        to: &'a [u8],
        /// REPLACE: overwrite an existing `to`.
        replace: bool,
    },
    /// What OBJECT reports about a key.
    Object {
        /// The key.
        key: &'a [u8],
        /// ENCODING, FREQ, IDLETIME or REFCOUNT.
        field: ObjectField,
    },
    /// The bytes a key's entry is charged (MEMORY USAGE).
    MemoryUsage {
        /// The key.
        key: &'a [u8],
    },
    /// A command's list of subcommands (OBJECT HELP, MEMORY HELP).
    HelpTopic {
        /// Which command's.
        topic: HelpTopic,
    },
    /// A key's value in a payload RESTORE reads (DUMP).
    Dump {
        /// The key.
        key: &'a [u8],
    },
    /// Store a DUMP payload's value under a key (RESTORE).
    Restore {
        /// The key.
        key: &'a [u8],
        /// The time to live in milliseconds (0: none), or `None` if it is not an integer;
        /// checked after the key, as Redis orders RESTORE's errors.
        ttl_ms: Option<i64>,
        /// DUMP's payload.
        payload: &'a [u8],
        /// REPLACE, ABSTTL, IDLETIME, FREQ.
        options: RestoreOptions,
    },
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
    /// Open a transaction (MULTI).
    Multi,
    /// Run the transaction (EXEC).
    Exec,
    /// Drop the transaction (DISCARD).
    Discard,
    /// Make the next EXEC depend on these keys staying unchanged (WATCH).
    Watch {
        /// The keys.
        keys: Args<'a>,
    },
    /// Forget the watched keys (UNWATCH).
    Unwatch,
    /// Return the connection to its state after connecting (RESET).
    Reset,
    /// Close the connection once earlier replies are flushed.
    Quit,
    /// A request in memcached's protocols, which [`crate::command::memcache`] runs.
    Memcache(memcache::McRequest<'a>),
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

/// One range two values share, part of their longest common subsequence (LCS IDX):
/// inclusive byte ranges in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// First and last byte in the first value.
    pub a: (u64, u64),
    /// First and last byte in the second value.
    pub b: (u64, u64),
    /// The range's length.
    pub len: u64,
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
    /// Bytes made for this reply (LCS's subsequence, DUMP's payload): a bulk string in
    /// RESP.
    Bytes(Vec<u8>),
    /// LCS IDX's answer: a map of `matches` and `len` in RESP3, a flat array in RESP2.
    Matches {
        /// The shared ranges, from the values' ends backwards.
        matches: Vec<Match>,
        /// The subsequence's length.
        len: u64,
        /// Whether each range carries its length (`WITHMATCHLEN`).
        with_len: bool,
    },
    /// A status word (TYPE's `string` or `none`): a simple string in RESP.
    Status(&'static str),
    /// Texts of the server's own (TIME): an array of bulk strings in RESP.
    Texts(Vec<String>),
    /// Named fields (HELLO, CONFIG GET): a map in RESP3, a flat array in RESP2.
    Map(Vec<(String, Field)>),
    /// One step of a scan: the cursor to continue from, and the keys found.
    Scan {
        /// 0 once the scan is complete.
        cursor: u64,
        /// The keys.
        keys: Vec<&'a [u8]>,
    },
    /// A command's help text: an array of simple strings in RESP.
    HelpText(HelpTopic),
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
    /// A command queued by MULTI: `+QUEUED` in RESP.
    Queued,
    /// The start of EXEC's reply: an array of this many replies, which follow.
    Transaction(usize),
    /// EXEC of a transaction a watched key's change aborted: a null array in RESP.
    TransactionAborted,
    /// RESET's answer: `+RESET` in RESP.
    Reset,
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
    /// A reply in memcached's words, to a [`Request::Memcache`].
    Memcache(memcache::McReply<'a>),
}

impl<'a> Reply<'a> {
    /// Whether it answers with an error of any tier.
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error(_) | Self::Refused(_) | Self::Broken(_))
    }
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
            Self::Bytes(bytes) => write!(f, "Bytes(len={})", bytes.len()),
            Self::Matches { matches, len, .. } => {
                write!(f, "Matches(count={}, len={len})", matches.len())
            }
            Self::Status(word) => write!(f, "Status({word})"),
            Self::Texts(texts) => write!(f, "Texts(count={})", texts.len()),
            Self::Info { .. } => f.write_str("Info"),
            Self::Map(fields) => write!(f, "Map(count={})", fields.len()),
            Self::Scan { cursor, keys } => write!(f, "Scan({cursor}, count={})", keys.len()),
            Self::HelpText(topic) => write!(f, "HelpText({topic:?})"),
            Self::Ttl(ttl) => write!(f, "Ttl({ttl})"),
            Self::Persisted { exists, removed } => write!(f, "Persisted({exists}, {removed})"),
            Self::Expired(existed) => write!(f, "Expired({existed})"),
            Self::Queued => f.write_str("Queued"),
            Self::Transaction(count) => write!(f, "Transaction(count={count})"),
            Self::TransactionAborted => f.write_str("TransactionAborted"),
            Self::Reset => f.write_str("Reset"),
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
            Self::Memcache(reply) => write!(f, "Memcache({reply:?})"),
        }
    }
}

/// A client mistake: it gets an error reply and the connection keeps working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A line with nothing but whitespace.
    #[error("empty line")]
    EmptyLine,
    /// A mistake in memcached's protocols, in memcached's words.
    #[error("{0}")]
    Memcache(memcache::McError),
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
    /// A negative SETRANGE offset.
    #[error("offset is out of range")]
    OffsetOutOfRange,
    /// A bit offset that is not an integer, is negative, or lies past the value limit.
    #[error("bit offset is not an integer or out of range")]
    BitOffsetInvalid,
    /// SETBIT's bit, not 0 or 1.
    #[error("bit is not an integer or out of range")]
    BitInvalid,
    /// An argument that should be a float (INCRBYFLOAT's) is not one as Redis reads them.
    #[error("value is not a valid float")]
    NotAFloat,
    /// LCS with both LEN and IDX.
    #[error("If you want both the length and indexes, please just use IDX.")]
    LcsLenAndIdx,
    /// WAIT's timeout, not an integer.
    #[error("timeout is not an integer or out of range")]
    TimeoutNotInteger,
    /// WAIT's timeout, negative.
    #[error("timeout is negative")]
    TimeoutNegative,
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
    /// MULTI inside a transaction.
    #[error("MULTI calls can not be nested")]
    NestedMulti,
    /// WATCH inside a transaction.
    #[error("WATCH inside MULTI is not allowed")]
    WatchInMulti,
    /// A command Redis flags `no_multi` (SAVE) inside a transaction, as Redis words it;
    /// the transaction fails.
    #[error("Command not allowed inside a transaction")]
    NotInMulti,
    /// EXEC without MULTI.
    #[error("EXEC without MULTI")]
    ExecWithoutMulti,
    /// DISCARD without MULTI.
    #[error("DISCARD without MULTI")]
    DiscardWithoutMulti,
    /// EXEC of a transaction a command was refused in while queuing, as Redis words it.
    #[error("EXECABORT Transaction discarded because of previous errors.")]
    ExecAbort,
    /// EXEC refused before it could run (wrong arity, no AUTH), as Redis words it.
    #[error("EXECABORT Transaction discarded because of: {0}")]
    ExecAbortBecause(String),
    /// More queued bytes than a transaction may hold.
    #[error("transaction too large (max {limit} bytes queued)")]
    TransactionTooLarge {
        /// The most bytes a transaction may queue.
        limit: usize,
    },
    /// More watched keys than one connection may hold.
    #[error("too many watched keys (max {limit})")]
    TooManyWatchedKeys {
        /// The most keys one connection may watch.
        limit: usize,
    },
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
    /// An integer argument beyond 32 bits where Redis reads a C `int` (COPY's DB), worded
    /// as Redis words it.
    #[error("value is out of range, value must between -2147483648 and 2147483647")]
    NotAnInt32,
    /// SCAN's cursor is not an unsigned 64-bit decimal number.
    #[error("invalid cursor")]
    InvalidCursor,
    /// RENAME of a key that does not exist.
    #[error("no such key")]
    NoSuchKey,
    /// COPY of a key onto itself.
    #[error("source and destination objects are the same")]
    SameObject,
    /// RESTORE onto an existing key without REPLACE, as Redis words it.
    #[error("BUSYKEY Target key name already exists.")]
    BusyKey,
    /// RESTORE of a payload that is not DUMP's, or is damaged.
    #[error("DUMP payload version or checksum are wrong")]
    BadPayload,
    /// RESTORE with a negative time to live.
    #[error("Invalid TTL value, must be >= 0")]
    InvalidTtl,
    /// RESTORE with a negative IDLETIME.
    #[error("Invalid IDLETIME value, must be >= 0")]
    InvalidIdleTime,
    /// RESTORE with a FREQ outside 0 to 255.
    #[error("Invalid FREQ value, must be >= 0 and <= 255")]
    InvalidFreq,
    /// OBJECT FREQ while the eviction policy keeps no frequencies (LRU), as Redis words it.
    #[error("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")]
    FreqNotTracked,
    /// OBJECT IDLETIME while the eviction policy ranks by frequency (TinyLFU), as Redis
    /// words it for its LFU policies.
    #[error("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")]
    IdleTimeNotTracked,
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
    /// LCS of values whose table would pass the value limit, as Redis words it for
    /// proto-max-bulk-len.
    #[error("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")]
    LcsTableTooLarge,
    /// LCS whose table would pass the server's own bound on one command's transient
    /// memory, or could not be allocated, as Redis words a failed allocation.
    #[error("Insufficient memory, failed allocating transient memory for LCS")]
    LcsNoMemory,
    /// SAVE or BGSAVE on a server started without a snapshot file.
    #[error(
        "snapshots are off: start the server with --snapshot FILE (or BLINK_SNAPSHOT) to save"
    )]
    SnapshotsOff,
    /// BGSAVE while a snapshot is being written, as Redis words it.
    #[error("Background save already in progress")]
    SaveInProgress,
    /// SAVE inside MULTI: a transaction cannot wait for the disk.
    #[error("SAVE cannot wait inside MULTI: use BGSAVE")]
    SaveInTransaction,
    /// The snapshot could not be written.
    #[error("snapshot failed: {0}")]
    SaveFailed(std::sync::Arc<str>),
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

    /// What `choose` does on an auto-detecting listener with `received`: the bytes it
    /// drops, and "resp", "text", or "undecided".
    fn chosen(received: &[u8]) -> (usize, &'static str) {
        let (skip, protocol) = choose(Wire::Auto, received, Limits::new());
        let Some(protocol) = protocol else {
            return (skip, "undecided");
        };
        match protocol.recovery() {
            Recovery::Close => (skip, "resp"),
            Recovery::Skip => (skip, "text"),
        }
    }

    #[test]
    fn the_first_bytes_choose_the_protocol() {
        let cases: &[(&[u8], (usize, &str))] = &[
            (b"*1\r\n$4\r\nPING\r\n", (0, "resp")),
            (b"PING\r\nPING\r\n", (0, "resp")),
            (b"ping\r\n", (0, "resp")),
            (b"PING\n", (0, "text")),
            (b"PIN", (0, "undecided")),
            (b"PING\r", (0, "undecided")),
            (b"PINGX", (0, "text")),
            (b"SET user alice\r\n", (0, "text")),
            (b"GET k\n", (0, "text")),
            (b"", (0, "undecided")),
            // Only `*` and an inline PING select RESP: quotes are the line protocol's.
            (b"set \"\"\"k\"\"\" v\r\n", (0, "text")),
            (b"$5\r\nhello\r\n", (0, "text")),
            (b"\x00PING\r\n", (0, "text")),
        ];
        for (received, expected) in cases {
            assert_eq!(chosen(received), *expected, "{}", received.escape_ascii());
        }
    }

    #[test]
    fn leading_empty_lines_are_dropped_before_choosing() {
        let cases: &[(&[u8], (usize, &str))] = &[
            (b"\r\n", (2, "undecided")),
            (b"\n\n\r\n", (4, "undecided")),
            (b"\r", (0, "undecided")),
            (b"\r\n\r", (2, "undecided")),
            (b"\r\n*1\r\n$4\r\nPING\r\n", (2, "resp")),
            (b"\n\r\nPING\r\n", (3, "resp")),
            (b"\nPI", (1, "undecided")),
            (b"\nGET k\n", (1, "text")),
            (b"\r\r\n", (0, "text")),
            (b" \n*1\r\n", (0, "text")),
        ];
        for (received, expected) in cases {
            assert_eq!(chosen(received), *expected, "{}", received.escape_ascii());
        }
    }

    #[test]
    fn a_resp_listener_speaks_resp_whatever_the_first_bytes() {
        for received in [&b""[..], b"GET k\n", b"\x00", b"\r\n"] {
            let (skip, protocol) = choose(Wire::Resp, received, Limits::new());
            assert_eq!(skip, 0);
            assert_eq!(protocol.map(|p| p.recovery()), Some(Recovery::Close));
        }
    }

    #[test]
    fn the_line_protocol_frames_lines_and_skips_the_rest_of_a_refused_one() {
        let session = Session::default();
        let mut text = text::TextWire::new(Limits::new().max_key_len(4).max_value_len(4));
        assert_eq!(
            text.frame(&mut b"GET k\nGET".to_vec(), &session),
            Frame::Request(6)
        );
        assert_eq!(
            text.frame(&mut b"GET".to_vec(), &session),
            Frame::Incomplete
        );
        let long = format!("GET {}\n", "k".repeat(100));
        assert!(matches!(
            text.frame(&mut long.clone().into_bytes(), &session),
            Frame::Invalid(len, ProtocolError::LineTooLong { .. }) if len == long.len()
        ));
        // Refused while incomplete: the rest of that line is dropped as it arrives.
        let err = text.overlong(
            b"GET kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        );
        assert!(matches!(err, ProtocolError::LineTooLong { .. }));
        assert_eq!(text.frame(&mut b"kkkk".to_vec(), &session), Frame::Skip(4));
        assert_eq!(
            text.frame(&mut b"kk\nPING\n".to_vec(), &session),
            Frame::Skip(3)
        );
        assert_eq!(
            text.frame(&mut b"PING\n".to_vec(), &session),
            Frame::Request(5)
        );
        assert_eq!(text.recovery(), Recovery::Skip);
    }

    #[test]
    fn resp_skips_empty_commands_and_closes_on_framing_errors() {
        let mut session = Session::default();
        session.authenticated = true;
        let mut resp = resp::RespWire::new(Limits::new());
        assert_eq!(
            resp.frame(&mut b"*0\r\n".to_vec(), &session),
            Frame::Skip(4)
        );
        assert_eq!(
            resp.frame(&mut b"*1\r\n$4\r\nPI".to_vec(), &session),
            Frame::Incomplete
        );
        assert_eq!(
            resp.frame(&mut b"*1\r\n$4\r\nPING\r\n".to_vec(), &session),
            Frame::Request(14)
        );
        assert!(matches!(
            resp.frame(&mut b"*x\r\n".to_vec(), &session),
            Frame::Invalid(_, ProtocolError::Resp(_))
        ));
        assert_eq!(resp.recovery(), Recovery::Close);
        // Before AUTH, Redis's smaller limits hold.
        let stranger = Session::default();
        assert_eq!(
            resp.frame(&mut b"*11\r\n".to_vec(), &stranger),
            Frame::Invalid(0, resp::RespError::UnauthenticatedMultibulkLength.into())
        );
        assert_eq!(
            resp.frame(&mut b"*11\r\n".to_vec(), &session),
            Frame::Incomplete
        );
    }
}
