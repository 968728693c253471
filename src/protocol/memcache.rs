//! memcached's text and meta protocols, as memcached 1.6 speaks them: frames a command
//! line (and, for the storage commands and `ms`, the data block that follows it), parses
//! it into a [`McRequest`] ([`super::memcache_parse`]) and encodes [`McReply`]s in
//! memcached's words ([`super::memcache_reply`]). This file knows the syntax and the
//! limits, never the store.

use std::cell::Cell;

use super::memcache_parse::{self, Header};
use super::memcache_reply;
use super::{ClientError, Frame, Limits, Protocol, ProtocolError, Recovery, Reply, Request};
use crate::command::Session;

/// memcached's longest key, in bytes (`KEY_MAX_LENGTH`).
pub const MAX_KEY_LEN: usize = 250;

/// Bytes memcached waits for without an LF before it gives up on a line that is not a
/// `get` or `gets`: it closes the connection.
pub const MAX_LINE_LEN: usize = 2048;

/// Longest `get`/`gets` line, in bytes: memcached lets a multi-get line grow without
/// bound; 256 KiB holds a thousand keys of 250 bytes.
pub const MAX_GET_LINE_LEN: usize = 256 * 1024;

/// The largest exptime memcached reads as relative seconds (30 days); larger ones are
/// Unix times.
pub const MAX_RELATIVE_EXPTIME: i64 = 60 * 60 * 24 * 30;

/// The memcached version Blink Store answers `version` and `stats` with: the release
/// whose text and meta protocols it speaks.
pub const MEMCACHED_VERSION: &str = "1.6.18";

/// Most tokens of a meta command line, its name, key and end included, as memcached
/// counts them (`MFLAG_MAX_OPT_LENGTH`).
pub const MAX_META_TOKENS: usize = 20;

/// Longest opaque (`O`) token, in bytes, the `O` included.
pub const MAX_OPAQUE_LEN: usize = 32;

/// A memcached error line, as memcached words it, and whether `noreply` silences it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{line}")]
pub struct McError {
    /// The whole line, without its CRLF: `ERROR`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`.
    pub line: &'static str,
    /// The command asked for `noreply`: memcached sends nothing, errors included.
    pub silent: bool,
}

impl McError {
    /// `ERROR`: an unknown command, or a known one with the wrong number of tokens.
    pub const UNKNOWN: Self = Self::new("ERROR");
    /// A malformed command line.
    pub const BAD_FORMAT: Self = Self::new("CLIENT_ERROR bad command line format");
    /// A data block not followed by CRLF.
    pub const BAD_DATA_CHUNK: Self = Self::new("CLIENT_ERROR bad data chunk");
    /// An exptime that is not a 32-bit integer.
    pub const INVALID_EXPTIME: Self = Self::new("CLIENT_ERROR invalid exptime argument");
    /// A meta flag memcached does not know, or that Blink Store does not serve.
    pub const INVALID_FLAG: Self = Self::new("CLIENT_ERROR invalid flag");

    /// The error `line`, sent even with `noreply`.
    pub const fn new(line: &'static str) -> Self {
        Self {
            line,
            silent: false,
        }
    }

    /// The same error, silenced if `noreply`.
    pub const fn noreply(self, noreply: bool) -> Self {
        Self {
            line: self.line,
            silent: noreply,
        }
    }
}

impl From<McError> for ClientError {
    fn from(err: McError) -> Self {
        ClientError::Memcache(err)
    }
}

/// The keys of a retrieval command: the rest of its line, split at spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys<'a>(pub(super) &'a [u8]);

impl<'a> Keys<'a> {
    /// Each key, in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.split(|&b| b == b' ').filter(|key| !key.is_empty())
    }
}

/// What a storage command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `set`: store in any case.
    Set,
    /// `add`: only if absent.
    Add,
    /// `replace`: only if present.
    Replace,
    /// `append`: after the present value.
    Append,
    /// `prepend`: before the present value.
    Prepend,
}

/// Which figures `stats` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// `stats`: the general figures.
    General,
    /// `stats settings`.
    Settings,
    /// `stats items`: per slab class (Blink Store has one).
    Items,
    /// `stats slabs`.
    Slabs,
    /// `stats reset`: zero the counters.
    Reset,
}

/// Room for a key sent in base64: a 250-byte token decodes to at most 187 bytes.
pub const MAX_DECODED_KEY_LEN: usize = 192;

/// A meta command's key as sent, in base64 if it came with `b` (checked when parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaKey<'a> {
    /// The key token as sent: what `k` echoes.
    pub token: &'a [u8],
    /// It came in base64: `k` echoes it with a `b` flag.
    pub binary: bool,
}

impl<'a> MetaKey<'a> {
    /// A key sent as it is.
    pub fn plain(token: &'a [u8]) -> Self {
        Self {
            token,
            binary: false,
        }
    }

    /// The key itself: the token, or the bytes it decodes to, in `buf`.
    pub fn key<'k>(&'k self, buf: &'k mut [u8; MAX_DECODED_KEY_LEN]) -> &'k [u8] {
        if !self.binary {
            return self.token;
        }
        let len = decode_key(self.token, buf).unwrap_or(0);
        buf.get(..len).unwrap_or_default()
    }
}

/// Decodes a base64 key into `buf` as memcached decodes one: bytes outside the alphabet
/// are skipped, `=` is a zero digit, the first group of four that holds a `=` ends the
/// key (one drops its last byte, two its last two, more make it invalid), and the digits
/// must come in whole groups. Its length; `None` if it decodes to nothing or is invalid.
pub(super) fn decode_key(token: &[u8], buf: &mut [u8; MAX_DECODED_KEY_LEN]) -> Option<usize> {
    let digit = |byte: u8| match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        b'=' => Some(0),
        _ => None,
    };
    let digits = token.iter().filter(|&&byte| digit(byte).is_some()).count();
    if digits == 0 || digits % 4 != 0 || digits / 4 * 3 > buf.len() {
        return None;
    }
    let (mut group, mut filled, mut padding, mut len) = ([0u8; 4], 0, 0, 0);
    for &byte in token {
        let Some(value) = digit(byte) else {
            continue;
        };
        padding += usize::from(byte == b'=');
        *group.get_mut(filled)? = value;
        filled += 1;
        if filled < 4 {
            continue;
        }
        let [a, b, c, d] = group;
        buf.get_mut(len..len + 3)?
            .copy_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2, c << 6 | d]);
        len += 3;
        filled = 0;
        if padding > 0 {
            len = match padding {
                1 | 2 => len - padding,
                _ => return None,
            };
            break;
        }
    }
    (len > 0).then_some(len)
}

/// The flag tokens of a meta command as sent, for its reply: each flag that asks for
/// something back is answered in the order sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked<'a> {
    /// The flag tokens, separated by spaces.
    tokens: &'a [u8],
    /// The command's letter (`g`, `s`, `d`, `a`): which flags it answers.
    command: u8,
}

impl<'a> Asked<'a> {
    /// The flags `tokens` of the meta command `command`.
    pub fn new(tokens: &'a [u8], command: u8) -> Self {
        Self { tokens, command }
    }

    /// The tokens of the flags the reply answers, in the order sent: `mg` the most,
    /// `ms` its CAS, `ma` its CAS and TTL, all of them the opaque token and the key.
    pub fn returned(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let command = self.command;
        self.tokens
            .split(|&b| b == b' ')
            .filter(move |token| match token.first() {
                Some(b'O' | b'k') => true,
                Some(b'c') => matches!(command, b'g' | b's' | b'a'),
                Some(b't') => matches!(command, b'g' | b'a'),
                Some(b's' | b'f' | b'l' | b'h') => command == b'g',
                _ => false,
            })
    }
}

/// The flags of a meta command, read once: what to do, and what to send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaFlags<'a> {
    /// The flag tokens, for the reply.
    pub asked: Asked<'a>,
    /// `v`: send the value.
    pub value: bool,
    /// `q`: leave out the nominal answer (`EN` for mg, `HD` for the others).
    pub quiet: bool,
    /// `T`: a new exptime.
    pub ttl: Option<i32>,
    /// `N` (mg, ma): create a missing item with this exptime.
    pub vivify: Option<i32>,
    /// `R` (mg): win the recache token if the item has less time left than this.
    pub recache: Option<i32>,
    /// `T` came after `N` (mg): a created item gets `T`'s exptime, not `N`'s.
    pub ttl_after_vivify: bool,
    /// `T` came before `R` (mg): `R` judges the exptime `T` set.
    pub ttl_before_recache: bool,
    /// `I` (ms, md): invalidate, marking the item stale.
    pub invalidate: bool,
    /// `u` (mg): not an access; the item's access time and fetched mark stay.
    pub no_bump: bool,
    /// `C`: act only if the item's CAS is this.
    pub compare_cas: Option<u64>,
    /// `F` (ms): the client flags to store.
    pub client_flags: u32,
    /// `M`: the mode letter.
    pub mode: Option<u8>,
    /// `D` (ma): the delta, 1 by default.
    pub delta: u64,
    /// `J` (ma): the value a created item starts at, 0 by default.
    pub initial: u64,
}

impl Default for MetaFlags<'_> {
    fn default() -> Self {
        Self {
            asked: Asked::default(),
            value: false,
            quiet: false,
            ttl: None,
            vivify: None,
            recache: None,
            ttl_after_vivify: false,
            ttl_before_recache: false,
            invalidate: false,
            no_bump: false,
            compare_cas: None,
            client_flags: 0,
            mode: None,
            delta: 1,
            initial: 0,
        }
    }
}

/// A request in memcached's text or meta protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McRequest<'a> {
    /// `get`/`gets` (`cas`), `gat`/`gats` (`touch`: the new exptime).
    Get {
        /// The keys, in the order their hits are sent.
        keys: Keys<'a>,
        /// Each hit carries its CAS (`gets`, `gats`).
        cas: bool,
        /// `gat`/`gats`: the exptime each hit gets.
        touch: Option<i32>,
    },
    /// `set`, `add`, `replace`, `append`, `prepend` and `cas`.
    Store {
        /// Which of them.
        mode: StoreMode,
        /// The key.
        key: &'a [u8],
        /// The client flags stored with the value.
        flags: u32,
        /// memcached's exptime, as sent.
        exptime: i32,
        /// The data block.
        value: &'a [u8],
        /// `cas`: store only if the item's CAS is this.
        compare_cas: Option<u64>,
        /// Send no reply.
        noreply: bool,
    },
    /// A storage command (or `ms`) whose value is larger than the limit: answered
    /// `SERVER_ERROR object too large for cache` while its data is dropped as it
    /// arrives. A `set` (or `ms` in set mode) removes the key's old value, as memcached
    /// does, so a stale value does not outlive the failed write.
    TooLarge {
        /// The key.
        key: MetaKey<'a>,
        /// It was a set, whose old value goes.
        set: bool,
        /// Send no reply (not for `ms`, whose errors are always sent).
        noreply: bool,
    },
    /// `delete <key> [0] [noreply]`.
    Delete {
        /// The key.
        key: &'a [u8],
        /// Send no reply.
        noreply: bool,
    },
    /// `incr`/`decr <key> <delta> [noreply]`.
    Arith {
        /// The key.
        key: &'a [u8],
        /// `incr` rather than `decr`.
        incr: bool,
        /// The amount.
        delta: u64,
        /// Send no reply.
        noreply: bool,
    },
    /// `touch <key> <exptime> [noreply]`.
    Touch {
        /// The key.
        key: &'a [u8],
        /// The new exptime.
        exptime: i32,
        /// Send no reply.
        noreply: bool,
    },
    /// `flush_all [delay] [noreply]`.
    FlushAll {
        /// Seconds (or a Unix time) until the flush; 0 or less: now.
        delay: i32,
        /// Send no reply.
        noreply: bool,
    },
    /// `version`.
    Version,
    /// `verbosity <level> [noreply]`: accepted, changes nothing.
    Verbosity {
        /// Send no reply.
        noreply: bool,
    },
    /// `stats [group]`.
    Stats(StatsGroup),
    /// `mg <key> <flags>*`.
    MetaGet {
        /// The key.
        key: MetaKey<'a>,
        /// The flags.
        flags: MetaFlags<'a>,
    },
    /// `ms <key> <datalen> <flags>*` and its data block.
    MetaSet {
        /// The key.
        key: MetaKey<'a>,
        /// The data block.
        value: &'a [u8],
        /// The flags.
        flags: MetaFlags<'a>,
    },
    /// `md <key> <flags>*`.
    MetaDelete {
        /// The key.
        key: MetaKey<'a>,
        /// The flags.
        flags: MetaFlags<'a>,
    },
    /// `ma <key> <flags>*`.
    MetaArith {
        /// The key.
        key: MetaKey<'a>,
        /// The flags.
        flags: MetaFlags<'a>,
    },
    /// `mn`: answered `MN`, marking the end of a pipeline of quiet commands.
    MetaNoop,
    /// `me <key> [b]`: an item's metadata in a line.
    MetaDebug {
        /// The key.
        key: MetaKey<'a>,
    },
}

/// One hit of a retrieval command. Its `Debug` shows the value's length, not its bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The key, as asked for.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// Its client flags.
    pub flags: u32,
    /// Its CAS unique.
    pub cas: u64,
}

impl std::fmt::Debug for Hit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Hit(key_len={}, len={})",
            self.key.len(),
            self.value.len()
        )
    }
}

/// The status words of the text protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `STORED`.
    Stored,
    /// `NOT_STORED`.
    NotStored,
    /// `EXISTS`.
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// `OK`.
    Ok,
    /// `RESET`.
    Reset,
    /// `SERVER_ERROR object too large for cache`.
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`.
    OutOfMemory,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    NonNumeric,
}

/// The meta protocol's return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCode {
    /// `HD`: done (or `VA <size>` when a value follows).
    Done,
    /// `EN`: no such item (mg).
    Miss,
    /// `NF`: not found.
    NotFound,
    /// `NS`: not stored.
    NotStored,
    /// `EX`: the CAS did not match.
    Exists,
}

/// What an item shows in a meta reply's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemFacts {
    /// `f`: client flags.
    pub flags: u32,
    /// `s`: value size (values are smaller than 4 GiB).
    pub size: u32,
    /// `c`: CAS unique.
    pub cas: u64,
    /// `t`: seconds to live, -1 for never.
    pub ttl_secs: i64,
    /// `l`: seconds since the last access before this one.
    pub idle_secs: u32,
    /// `h`: fetched before this request.
    pub hit_before: bool,
    /// `Z`: another client won the recache token already.
    pub token_sent: bool,
    /// `X`: marked stale.
    pub stale: bool,
    /// `W`: this request won the recache token.
    pub won: bool,
}

/// A meta command's value block. Its `Debug` shows a value's length, not its bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MetaValue<'a> {
    /// None (`HD`).
    None,
    /// A stored value (mg with `v`).
    Bytes(&'a [u8]),
    /// A number (ma with `v`).
    Number(u64),
}

impl std::fmt::Debug for MetaValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bytes(bytes) => write!(f, "Bytes(len={})", bytes.len()),
            Self::Number(n) => write!(f, "Number({n})"),
        }
    }
}

/// A meta command's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaReply<'a> {
    /// The return code.
    pub code: MetaCode,
    /// The value sent after the line, if any (then the code shows as `VA <size>`).
    pub value: MetaValue<'a>,
    /// The item's facts, for the flags that ask for them; `None` answers only `O` and `k`.
    pub facts: Option<ItemFacts>,
    /// The key as sent, for `k`.
    pub key: MetaKey<'a>,
    /// The flags of the request, which say what to answer.
    pub asked: Asked<'a>,
}

/// The figures `stats` reports, gathered by the command layer and laid out by the
/// encoder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsReport {
    /// Which group was asked for.
    pub group: Option<StatsGroup>,
    /// The server's process id.
    pub pid: u32,
    /// Seconds since start.
    pub uptime: u64,
    /// The Unix time now, in seconds.
    pub time: u64,
    /// CPU time in user and system mode, in microseconds.
    pub rusage_micros: (u64, u64),
    /// Connection limit, connections open, accepted since start, refused at the limit.
    pub connections: (u64, u64, u64, u64),
    /// Threads serving connections.
    pub threads: u64,
    /// The TCP port of the memcached listener (0 if none).
    pub tcp_port: u16,
    /// Retrievals, storage commands, flushes, touches and meta commands.
    pub cmd: (u64, u64, u64, u64, u64),
    /// Retrieval hits and misses.
    pub get: (u64, u64),
    /// Delete hits and misses.
    pub delete: (u64, u64),
    /// incr hits and misses.
    pub incr: (u64, u64),
    /// decr hits and misses.
    pub decr: (u64, u64),
    /// CAS stores that matched, found no item, or found another CAS.
    pub cas: (u64, u64, u64),
    /// Touch hits and misses.
    pub touch: (u64, u64),
    /// Bytes read from and written to clients, over every protocol.
    pub traffic: (u64, u64),
    /// Items stored since start.
    pub total_items: u64,
    /// Live items now.
    pub curr_items: u64,
    /// Bytes of keys and values held.
    pub bytes: u64,
    /// Bytes charged against the limit (entries and their structures).
    pub charged_bytes: u64,
    /// The memory limit.
    pub limit_maxbytes: u64,
    /// Items evicted, and expired, since start.
    pub evictions: u64,
    /// Items removed because their time was up.
    pub expired: u64,
    /// The longest value accepted.
    pub item_size_max: u64,
}

/// A reply in memcached's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McReply<'a> {
    /// A retrieval's hits, then `END`; each hit shows its CAS if `cas`.
    Values {
        /// The hits, in the order the keys were asked for.
        hits: Vec<Hit<'a>>,
        /// `gets`/`gats`.
        cas: bool,
    },
    /// A status word.
    Status(Status),
    /// incr/decr's new value.
    Number(u64),
    /// `VERSION ...`.
    Version,
    /// `STAT` lines, then `END` (or `RESET`).
    Stats(Box<StatsReport>),
    /// A meta command's answer.
    Meta(MetaReply<'a>),
    /// `mn`'s `MN`.
    MetaNoop,
    /// `me`: the item's metadata (its key as sent), or `EN`.
    Debug(Option<(&'a [u8], ItemFacts)>),
}

/// memcached's protocols as one connection speaks them: the limits, and what framing
/// left to do.
#[derive(Debug)]
pub struct McWire {
    /// Longest key accepted: memcached's 250, or the server's limit if lower.
    max_key_len: usize,
    /// Longest value accepted.
    max_value_len: usize,
    /// Bytes of a refused data block still to drop as they arrive.
    swallow: usize,
    /// The framing error just answered closes the connection.
    close: Cell<bool>,
}

impl McWire {
    /// A connection's memcached protocol with the server's limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            max_key_len: MAX_KEY_LEN.min(limits.max_key_len),
            max_value_len: limits.max_value_len,
            swallow: 0,
            close: Cell::new(false),
        }
    }

    /// Longest key accepted.
    pub fn key_limit(&self) -> usize {
        self.max_key_len
    }

    /// Longest value accepted.
    pub fn value_limit(&self) -> usize {
        self.max_value_len
    }
}

/// Appends `reply` to `out` in memcached's words, as a memcached connection sends it:
/// for replies sent before a connection has a protocol (the connection limit's).
pub fn encode(reply: &Reply<'_>, out: &mut Vec<u8>) {
    memcache_reply::encode(reply, out);
}

/// Whether a line that has no LF yet may still be a long multi-get: memcached lets only
/// `get` and `gets` lines (after at most 100 spaces) grow past [`MAX_LINE_LEN`].
fn may_be_multiget(buf: &[u8]) -> bool {
    let spaces = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = buf.get(spaces..).unwrap_or_default();
    spaces <= 100 && (rest.starts_with(b"get ") || rest.starts_with(b"gets "))
}

impl Protocol for McWire {
    /// A command line; for a storage command or `ms` whose line is valid, its data
    /// block too. A refused data block (larger than the limit) is dropped as it
    /// arrives, never buffered.
    fn frame(&mut self, buf: &mut [u8], _session: &Session) -> Frame {
        if self.swallow > 0 {
            let len = self.swallow.min(buf.len());
            self.swallow -= len;
            return if len == 0 {
                Frame::Incomplete
            } else {
                Frame::Skip(len)
            };
        }
        let Some(lf) = memchr::memchr(b'\n', buf) else {
            if buf.len() > MAX_LINE_LEN && !may_be_multiget(buf) {
                self.close.set(true);
                return Frame::Invalid(
                    buf.len(),
                    ProtocolError::LineTooLong {
                        limit: MAX_LINE_LEN,
                    },
                );
            }
            return Frame::Incomplete;
        };
        let line_len = lf + 1;
        match memcache_parse::header(&buf[..lf], self.max_key_len, self.max_value_len) {
            Header::Line => Frame::Request(line_len),
            Header::Data(len) => {
                let total = line_len.saturating_add(len).saturating_add(2);
                if buf.len() < total {
                    Frame::Incomplete
                } else {
                    Frame::Request(total)
                }
            }
            Header::TooLarge(len) => {
                self.swallow = len.saturating_add(2);
                Frame::Request(line_len)
            }
        }
    }

    fn parse<'a>(&'a self, frame: &'a [u8]) -> Result<Request<'a>, ClientError> {
        memcache_parse::parse(frame, self.max_key_len, self.max_value_len)
            .map_err(ClientError::Memcache)
    }

    fn encode(&self, reply: &Reply<'_>, _session: &Session, out: &mut Vec<u8>) {
        memcache_reply::encode(reply, out);
    }

    /// A valid value with its line, or a long multi-get line.
    fn max_request_len(&self) -> usize {
        (self.max_value_len + MAX_LINE_LEN + 2).max(MAX_GET_LINE_LEN)
    }

    /// Only a multi-get line grows this long: refused, and the connection closed, as
    /// memcached closes a connection it cannot buffer a request for.
    fn overlong(&mut self, _buffered: &[u8]) -> ProtocolError {
        self.close.set(true);
        ProtocolError::LineTooLong {
            limit: self.max_request_len(),
        }
    }

    fn recovery(&self) -> Recovery {
        if self.close.get() {
            Recovery::Close
        } else {
            Recovery::Skip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire() -> McWire {
        McWire::new(Limits::new().max_value_len(10))
    }

    fn frame(wire: &mut McWire, bytes: &[u8]) -> Frame {
        wire.frame(&mut bytes.to_vec(), &Session::default())
    }

    #[test]
    fn base64_keys_decode_as_memcached_decodes_them() {
        let decode = |token: &[u8]| {
            let mut buf = [0; MAX_DECODED_KEY_LEN];
            decode_key(token, &mut buf).map(|len| buf[..len].to_vec())
        };
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"Zm9v", Some(b"foo")),
            (b"Zm9vYg==", Some(b"foob")),
            (b"Zm9vYmE=", Some(b"fooba")),
            // Bytes outside the alphabet are skipped; `=` is a zero digit.
            (b"Zm!9v", Some(b"foo")),
            (b"a=b=", Some(b"h")),
            // The first padded group ends the key.
            (b"QQ==Zm9v", Some(b"A")),
            (b"!!!!", None),
            (b"Zm9", None),
            (b"A===", None),
            (b"====", None),
            (b"", None),
        ];
        for (token, expected) in cases {
            let expected = expected.map(<[u8]>::to_vec);
            assert_eq!(decode(token), expected, "{}", token.escape_ascii());
        }
        let longest = b"QUFB".repeat(MAX_DECODED_KEY_LEN / 3);
        assert_eq!(
            decode(&longest).map(|key| key.len()),
            Some(MAX_DECODED_KEY_LEN)
        );
        assert_eq!(
            decode(&[&longest[..], b"QUFB"].concat()),
            None,
            "does not fit"
        );
    }

    #[test]
    fn a_command_line_is_a_request() {
        let mut wire = wire();
        assert_eq!(frame(&mut wire, b"get a b\r\nget"), Frame::Request(9));
        assert_eq!(frame(&mut wire, b"get a"), Frame::Incomplete);
        assert_eq!(frame(&mut wire, b"\r\n"), Frame::Request(2));
    }

    #[test]
    fn a_storage_command_takes_its_data_block_along() {
        let mut wire = wire();
        assert_eq!(
            frame(&mut wire, b"set k 0 0 5\r\nhello\r\nget k\r\n"),
            Frame::Request(20)
        );
        assert_eq!(
            frame(&mut wire, b"set k 0 0 5\r\nhello\r"),
            Frame::Incomplete
        );
        assert_eq!(frame(&mut wire, b"ms k 2 T0\r\nhi\r\n"), Frame::Request(15));
        // A line memcached refuses has no data block: the data is read as a command.
        assert_eq!(
            frame(&mut wire, b"set k x 0 5\r\nhello\r\n"),
            Frame::Request(13)
        );
        assert_eq!(frame(&mut wire, b"set k 0 0\r\n"), Frame::Request(11));
    }

    #[test]
    fn an_oversized_value_is_refused_and_dropped_as_it_arrives() {
        let mut wire = wire();
        let line = b"set k 0 0 20\r\n";
        assert_eq!(frame(&mut wire, line), Frame::Request(line.len()));
        assert_eq!(frame(&mut wire, b"0123456789"), Frame::Skip(10));
        assert_eq!(frame(&mut wire, b""), Frame::Incomplete);
        assert_eq!(
            frame(&mut wire, b"0123456789\r\nget k\r\n"),
            Frame::Skip(12)
        );
        assert_eq!(frame(&mut wire, b"get k\r\n"), Frame::Request(7));
        assert_eq!(wire.recovery(), Recovery::Skip);
    }

    #[test]
    fn a_long_line_closes_unless_it_may_be_a_multiget() {
        let mut wire = wire();
        let long = vec![b'x'; MAX_LINE_LEN + 1];
        assert_eq!(frame(&mut wire, &long[..MAX_LINE_LEN]), Frame::Incomplete);
        assert!(matches!(
            frame(&mut wire, &long),
            Frame::Invalid(len, ProtocolError::LineTooLong { .. }) if len == long.len()
        ));
        assert_eq!(wire.recovery(), Recovery::Close);
        let mut wire = self::wire();
        let mut get = b"get ".to_vec();
        get.resize(MAX_LINE_LEN * 4, b'k');
        assert_eq!(frame(&mut wire, &get), Frame::Incomplete);
        assert!(wire.max_request_len() >= MAX_GET_LINE_LEN);
        wire.overlong(&get);
        assert_eq!(wire.recovery(), Recovery::Close);
    }
}
