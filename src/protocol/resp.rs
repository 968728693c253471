//! RESP2, the Redis protocol: frames multibulk and inline commands out of the read buffer,
//! parses them into [`Request`]s and encodes [`Reply`]s, with Redis's own error texts.
//! This file knows the syntax and the limits, never the store.

use std::ops::Range;

use std::cell::Cell;
use std::fmt::Write as _;

use super::info::{human_bytes, Persistence, Report, REDIS_VERSION};
use super::resp_reports::Writer;
use super::text::DEFAULT_MAX_KEY_LEN;
use super::{
    Args, Call, ClientError, Field, Frame, Limits, Match, Protocol, ProtocolError, Recovery,
    Refusal, Reply, Request,
};
use crate::command::Session;

/// Default longest bulk string, in bytes: 512 MiB, Redis's `proto-max-bulk-len`.
pub const DEFAULT_MAX_BULK_LEN: usize = 512 << 20;

/// Default most arguments in one command: 1024 * 1024, Redis's multibulk count limit
/// before 7.0, which bounds the argument list a single header can promise.
pub const DEFAULT_MAX_ARGS: usize = 1024 * 1024;

/// Default longest inline command, or length line without its CR, in bytes: 64 KiB,
/// Redis's `PROTO_INLINE_MAX_SIZE`.
pub const DEFAULT_MAX_INLINE_LEN: usize = 64 * 1024;

/// Most arguments a client that has not authenticated may promise: Redis 7 refuses more
/// before AUTH, so a stranger cannot make the server hold a large argument list.
pub const MAX_UNAUTHENTICATED_ARGS: usize = 10;

/// Longest bulk string a client that has not authenticated may promise, in bytes: Redis
/// 7's bound before AUTH.
pub const MAX_UNAUTHENTICATED_BULK_LEN: usize = 16 * 1024;

/// The largest `*` count Redis 7 reads at all: a larger one is an invalid length even
/// before AUTH, where smaller ones past [`MAX_UNAUTHENTICATED_ARGS`] are refused as
/// unauthenticated.
const REDIS_MAX_MULTIBULK_LEN: usize = i32::MAX as usize;

/// Bytes a RESP command may take beyond its key and value: room for its headers, or for
/// an inline command.
const RESP_OVERHEAD: usize = 64 * 1024;

/// Bytes of an unknown command's name, and of its quoted arguments together, that the
/// error reply echoes: Redis's budget.
const MAX_QUOTED: usize = 128;

/// A framing violation. Redis replies with it and closes the connection, and so should
/// the caller: nothing after it in the buffer can be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    /// The count after `*` is not a number, or is above the argument limit.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// An argument does not start with `$`; the byte found is echoed (CR and LF as a space).
    #[error("Protocol error: expected '$', got '{}'", shown(.0))]
    ExpectedBulk(u8),
    /// The length after `$` is not a number, is negative, or is above the bulk limit.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// The `*` count line grew past the inline limit without a CR.
    #[error("Protocol error: too big mbulk count string")]
    MultibulkLineTooLong,
    /// A `$` length line grew past the inline limit without a CR.
    #[error("Protocol error: too big bulk count string")]
    BulkLineTooLong,
    /// An inline command grew past the inline limit without an LF.
    #[error("Protocol error: too big inline request")]
    InlineTooLong,
    /// An inline command has an unclosed quote, or a closing quote followed by more bytes.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A client that has not authenticated promised more than
    /// [`MAX_UNAUTHENTICATED_ARGS`] arguments.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A client that has not authenticated promised a bulk string longer than
    /// [`MAX_UNAUTHENTICATED_BULK_LEN`].
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

/// The RESP framer, parser and encoder, with its limits.
#[derive(Debug, Clone, Copy)]
pub struct RespProtocol {
    /// Longest bulk string accepted, in bytes; a longer `$` header is refused before its
    /// bytes arrive. The server passes its value limit.
    max_bulk_len: usize,
    /// Most arguments one command may promise in its `*` header.
    max_args: usize,
    /// Longest inline command, or `*`/`$` length line, in bytes.
    max_inline_len: usize,
    /// Longest key accepted, in bytes, so RESP enforces the same key limit as the line
    /// protocol.
    max_key_len: usize,
    /// Whether replies use RESP3's types: the connection said `HELLO 3`.
    resp3: bool,
    /// Whether the client may run commands: before AUTH, headers are held to Redis's
    /// smaller unauthenticated limits.
    authenticated: bool,
}

impl Default for RespProtocol {
    fn default() -> Self {
        Self::new()
    }
}

impl RespProtocol {
    /// The protocol with Redis's default limits and the line protocol's key limit.
    pub fn new() -> Self {
        Self {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_args: DEFAULT_MAX_ARGS,
            max_inline_len: DEFAULT_MAX_INLINE_LEN,
            max_key_len: DEFAULT_MAX_KEY_LEN,
            resp3: false,
            authenticated: true,
        }
    }

    /// The protocol with the server's limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self::new()
            .max_key_len(limits.max_key_len)
            .max_bulk_len(limits.max_value_len)
            .max_args(limits.max_args)
            .max_inline_len(limits.max_inline_len)
    }

    /// Sets the longest bulk string (any argument, the value included) accepted, in bytes.
    pub fn max_bulk_len(mut self, bytes: usize) -> Self {
        self.max_bulk_len = bytes;
        self
    }

    /// Sets the most arguments one command may have.
    pub fn max_args(mut self, count: usize) -> Self {
        self.max_args = count;
        self
    }

    /// Sets the longest inline command, or `*`/`$` length line, accepted, in bytes.
    pub fn max_inline_len(mut self, bytes: usize) -> Self {
        self.max_inline_len = bytes;
        self
    }

    /// Sets the longest key accepted, in bytes.
    pub fn max_key_len(mut self, bytes: usize) -> Self {
        self.max_key_len = bytes;
        self
    }

    /// Says whether the client has authenticated (the default). Before it has, a `*`
    /// count above [`MAX_UNAUTHENTICATED_ARGS`] or a `$` length above
    /// [`MAX_UNAUTHENTICATED_BULK_LEN`] is refused, as Redis 7 refuses them.
    pub fn authenticated(mut self, authenticated: bool) -> Self {
        self.authenticated = authenticated;
        self
    }

    /// Frames one command at the start of `buf`, the bytes received so far: a multibulk
    /// (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) if it starts with `*`, else an inline line.
    ///
    /// Returns `Ok(None)` while the command is incomplete (call again, from the same start,
    /// once more bytes arrived), or `Ok(Some(consumed))` with `args` holding one range of
    /// `buf` per argument. No arguments means an empty command (`*0`, `*-1`, a blank line)
    /// that is consumed and gets no reply. `args` is cleared first and reused, so framing
    /// does not allocate once it has held the longest argument list.
    ///
    /// Validation follows Redis 7's `processMultibulkBuffer` and `processInlineBuffer`,
    /// with one deliberate difference: a length line or inline line longer than the
    /// inline limit is refused even when its end arrived in the same read (Redis then
    /// accepts it or not depending on how the bytes were split). As in Redis, the byte
    /// after a length line's CR and the two bytes after a bulk string are skipped
    /// unchecked, and a NUL byte before a line's end hides that end (Redis looks for it
    /// with `strchr`): the line waits for more bytes until it is too long.
    ///
    /// Inline quotes are resolved as Redis's `sdssplitargs` does, in place: the bytes of
    /// a complete inline line are rewritten, which is why `buf` is mutable. Bytes of an
    /// incomplete command are never changed.
    ///
    /// # Errors
    /// A [`RespError`] as soon as the bytes received cannot start a valid command: a
    /// `*` or `$` header above the limits is refused before the bytes it promises arrive.
    pub fn frame(
        &self,
        buf: &mut [u8],
        args: &mut Vec<Range<usize>>,
    ) -> Result<Option<usize>, RespError> {
        args.clear();
        match buf.first() {
            None => Ok(None),
            Some(b'*') => self.frame_multibulk(buf, args),
            Some(_) => self.frame_inline(buf, args),
        }
    }

    fn frame_multibulk(
        &self,
        buf: &[u8],
        args: &mut Vec<Range<usize>>,
    ) -> Result<Option<usize>, RespError> {
        let Some((cr, mut pos)) = self.length_line(buf, 0, RespError::MultibulkLineTooLong)? else {
            return Ok(None);
        };
        let Some(count) = self.arg_count(buf.get(1..cr).unwrap_or_default())? else {
            return Ok(Some(pos));
        };
        for _ in 0..count {
            let Some((cr, start)) = self.length_line(buf, pos, RespError::BulkLineTooLong)? else {
                return Ok(None);
            };
            match buf.get(pos) {
                Some(b'$') => {}
                Some(&byte) => return Err(RespError::ExpectedBulk(byte)),
                None => return Ok(None),
            }
            let len = self.bulk_len(buf.get(pos + 1..cr).unwrap_or_default())?;
            let end = start.checked_add(len).ok_or(RespError::InvalidBulkLength)?;
            let next = end.checked_add(2).ok_or(RespError::InvalidBulkLength)?;
            if buf.len() < next {
                return Ok(None);
            }
            args.push(start..end);
            pos = next;
        }
        Ok(Some(pos))
    }

    /// The arguments a `*` count promises, checked in Redis 7's order: a number; before
    /// AUTH, within the unauthenticated bound (a count Redis would not read at all is
    /// invalid instead); then within ours. `None` for zero or less: an empty command.
    fn arg_count(&self, digits: &[u8]) -> Result<Option<usize>, RespError> {
        let count = parse_int(digits).ok_or(RespError::InvalidMultibulkLength)?;
        let Ok(count) = usize::try_from(count) else {
            return Ok(None);
        };
        if !self.authenticated && count > MAX_UNAUTHENTICATED_ARGS {
            return Err(if count > REDIS_MAX_MULTIBULK_LEN {
                RespError::InvalidMultibulkLength
            } else {
                RespError::UnauthenticatedMultibulkLength
            });
        }
        match count {
            0 => Ok(None),
            count if count > self.max_args => Err(RespError::InvalidMultibulkLength),
            count => Ok(Some(count)),
        }
    }

    /// The bytes a `$` length promises, checked in Redis 7's order: a number, not
    /// negative; before AUTH, within the unauthenticated bound (a length past Redis's
    /// own bulk limit is invalid instead); then within ours.
    fn bulk_len(&self, digits: &[u8]) -> Result<usize, RespError> {
        let len = parse_int(digits)
            .and_then(|len| usize::try_from(len).ok())
            .ok_or(RespError::InvalidBulkLength)?;
        if !self.authenticated && len > MAX_UNAUTHENTICATED_BULK_LEN {
            return Err(if len > DEFAULT_MAX_BULK_LEN {
                RespError::InvalidBulkLength
            } else {
                RespError::UnauthenticatedBulkLength
            });
        }
        if len > self.max_bulk_len {
            return Err(RespError::InvalidBulkLength);
        }
        Ok(len)
    }

    /// Finds the `*` or `$` line starting at `start`: `(cr, next)`, where `cr` is the index
    /// of its CR and `next` is past the byte after it. `None` while incomplete, which a
    /// NUL before the CR makes it until the line is too long.
    fn length_line(
        &self,
        buf: &[u8],
        start: usize,
        too_long: RespError,
    ) -> Result<Option<(usize, usize)>, RespError> {
        let rest = buf.get(start..).unwrap_or_default();
        let window = rest.get(..=self.max_inline_len).unwrap_or(rest);
        match line_end(window, b'\r') {
            None if rest.len() > self.max_inline_len => Err(too_long),
            None => Ok(None),
            Some(cr) if cr + 2 > rest.len() => Ok(None),
            Some(cr) => Ok(Some((start + cr, start + cr + 2))),
        }
    }

    fn frame_inline(
        &self,
        buf: &mut [u8],
        args: &mut Vec<Range<usize>>,
    ) -> Result<Option<usize>, RespError> {
        let window = buf.get(..=self.max_inline_len).unwrap_or(buf);
        let Some(lf) = line_end(window, b'\n') else {
            return if buf.len() > self.max_inline_len {
                Err(RespError::InlineTooLong)
            } else {
                Ok(None)
            };
        };
        let end = match lf.checked_sub(1) {
            Some(cr) if buf.get(cr) == Some(&b'\r') => cr,
            _ => lf,
        };
        let line = buf.get_mut(..end).unwrap_or_default();
        Splitter {
            line,
            read: 0,
            write: 0,
        }
        .split(args)?;
        Ok(Some(lf + 1))
    }

    /// Parses one framed command; `args` are the ranges [`RespProtocol::frame`] filled.
    /// Command names are case-insensitive. A range outside `buf` reads as empty.
    ///
    /// # Errors
    /// A [`ClientError`] worded as Redis words it: unknown command, wrong number of
    /// arguments, a bad option, or a key or value over its limit. An empty
    /// command is [`ClientError::EmptyLine`]; Redis skips those without a reply, so callers
    /// should not parse them.
    pub fn parse<'a>(
        &self,
        buf: &'a [u8],
        args: &'a [Range<usize>],
    ) -> Result<Request<'a>, ClientError> {
        self.parse_call(buf, args, &mut None)
    }

    /// [`RespProtocol::parse`], also saying which command of the command table the
    /// request called, if it named one.
    pub fn parse_call<'a>(
        &self,
        buf: &'a [u8],
        args: &'a [Range<usize>],
        call: &mut Option<Call>,
    ) -> Result<Request<'a>, ClientError> {
        let limits = (self.max_key_len, self.max_bulk_len);
        super::resp_commands::parse(buf, args, limits, || unknown_command(buf, args), call)
    }

    /// Whether replies use RESP3's types (after `HELLO 3`).
    pub fn resp3(mut self, on: bool) -> Self {
        self.resp3 = on;
        self
    }

    /// Appends the reply to `out`: `+OK`, `+PONG`, a bulk string or a null, an integer,
    /// an array, a map (RESP3; a flat array in RESP2), or `-ERR <text>`.
    /// [`Reply::Close`] is `+OK`, as Redis answers QUIT before it closes.
    pub fn encode(&self, reply: &Reply<'_>, out: &mut Vec<u8>) {
        match reply {
            Reply::Ok | Reply::Close => out.extend_from_slice(b"+OK\r\n"),
            Reply::Pong => out.extend_from_slice(b"+PONG\r\n"),
            Reply::Value(value) => encode_bulk(value, out),
            Reply::NotFound => self.encode_null(out),
            Reply::Usage(n) | Reply::Deleted(n) => encode_unsigned(*n, out),
            Reply::Integer(n) | Reply::Ttl(n) => encode_integer(*n, out),
            Reply::Expired(existed) => encode_integer(i64::from(*existed), out),
            Reply::Persisted { removed, .. } => encode_integer(i64::from(*removed), out),
            Reply::Values(values) => {
                encode_header(b'*', values.len(), out);
                for value in values {
                    match value {
                        Some(value) => encode_bulk(value, out),
                        None => self.encode_null(out),
                    }
                }
            }
            Reply::Text(text) => encode_bulk(text.as_bytes(), out),
            Reply::Bytes(bytes) => encode_bulk(bytes, out),
            Reply::Matches {
                matches,
                len,
                with_len,
            } => self.encode_matches(matches, *len, *with_len, out),
            Reply::Status(word) => {
                out.push(b'+');
                out.extend_from_slice(word.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Texts(texts) => {
                encode_header(b'*', texts.len(), out);
                for text in texts {
                    encode_bulk(text.as_bytes(), out);
                }
            }
            Reply::Info { report, sections } => {
                encode_bulk(info_sections(report, *sections).as_bytes(), out);
            }
            Reply::CommandInfo(rows) => Writer::new(out, self.resp3).command_info(rows),
            Reply::CommandDocs(rows) => Writer::new(out, self.resp3).command_docs(rows),
            Reply::KeysAndFlags(keys) => Writer::new(out, self.resp3).keys_and_flags(keys),
            Reply::Help(spec) => Writer::new(out, self.resp3).help(spec),
            Reply::Clients(clients) => Writer::new(out, self.resp3).clients(clients),
            Reply::SlowLog(entries) => Writer::new(out, self.resp3).slow_log(entries),
            Reply::Silent => {}
            // No RESP request is answered in memcached's words.
            Reply::Memcache(_) => encode_error(&"reply has no RESP form", out),
            Reply::Map(fields) => {
                if self.resp3 {
                    encode_header(b'%', fields.len(), out);
                } else {
                    encode_header(b'*', fields.len() * 2, out);
                }
                for (name, field) in fields {
                    encode_bulk(name.as_bytes(), out);
                    match field {
                        Field::Text(text) => encode_bulk(text.as_bytes(), out),
                        Field::Integer(n) => encode_integer(*n, out),
                        Field::Empty => out.extend_from_slice(b"*0\r\n"),
                    }
                }
            }
            Reply::Queued => out.extend_from_slice(b"+QUEUED\r\n"),
            Reply::Reset => out.extend_from_slice(b"+RESET\r\n"),
            Reply::Transaction(count) => encode_header(b'*', *count, out),
            Reply::TransactionAborted => {
                if self.resp3 {
                    out.extend_from_slice(b"_\r\n");
                } else {
                    out.extend_from_slice(b"*-1\r\n");
                }
            }
            Reply::Scan { cursor, keys } => {
                encode_header(b'*', 2, out);
                let mut digits = Vec::with_capacity(20);
                write_decimal(*cursor, &mut digits);
                encode_bulk(&digits, out);
                encode_header(b'*', keys.len(), out);
                for key in keys {
                    encode_bulk(key, out);
                }
            }
            Reply::HelpText(topic) => {
                let lines = topic.lines();
                encode_header(b'*', lines.len(), out);
                for line in lines {
                    out.push(b'+');
                    out.extend_from_slice(line.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
            }
            Reply::Error(err) => encode_error(err, out),
            // Redis 7 words a full server this way, without the limit.
            Reply::Refused(Refusal::TooManyConnections { .. }) => {
                out.extend_from_slice(b"-ERR max number of clients reached\r\n");
            }
            Reply::Refused(refusal) => encode_error(refusal, out),
            Reply::Broken(err) => encode_error(err, out),
        }
    }

    /// LCS IDX's answer, as Redis lays it out: `matches`, an array with one entry per
    /// range (its two ranges, each a pair, and its length with WITHMATCHLEN), then `len`;
    /// a map in RESP3.
    fn encode_matches(&self, matches: &[Match], len: u64, with_len: bool, out: &mut Vec<u8>) {
        if self.resp3 {
            encode_header(b'%', 2, out);
        } else {
            encode_header(b'*', 4, out);
        }
        encode_bulk(b"matches", out);
        encode_header(b'*', matches.len(), out);
        for found in matches {
            encode_header(b'*', 2 + usize::from(with_len), out);
            for (first, last) in [found.a, found.b] {
                encode_header(b'*', 2, out);
                encode_unsigned(first, out);
                encode_unsigned(last, out);
            }
            if with_len {
                encode_unsigned(found.len, out);
            }
        }
        encode_bulk(b"len", out);
        encode_unsigned(len, out);
    }

    fn encode_null(&self, out: &mut Vec<u8>) {
        if self.resp3 {
            out.extend_from_slice(b"_\r\n");
        } else {
            out.extend_from_slice(b"$-1\r\n");
        }
    }
}

/// RESP as one connection speaks it: the codec and the argument ranges of the command being executed, reused.
#[derive(Debug, Clone)]
pub struct RespWire {
    /// Framer, parser, encoder and limits.
    codec: RespProtocol,
    /// One range of the read buffer per argument of the command framed last.
    args: Vec<Range<usize>>,
    /// The longest command that can be valid: a key, a value and headers.
    max_command_len: usize,
    /// The command the last parse called, for [`Protocol::call`].
    call: Cell<Option<Call>>,
}

impl RespWire {
    /// A connection's RESP with the server's limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            codec: RespProtocol::with_limits(limits),
            args: Vec::new(),
            max_command_len: limits.max_key_len + limits.max_value_len + RESP_OVERHEAD,
            call: Cell::new(None),
        }
    }
}

impl Protocol for RespWire {
    fn frame(&mut self, buf: &mut [u8], session: &Session) -> Frame {
        let codec = self.codec.authenticated(session.authenticated);
        match codec.frame(buf, &mut self.args) {
            Ok(None) => Frame::Incomplete,
            // `*0`, `*-1` or a blank line: Redis skips it without a reply.
            Ok(Some(len)) if self.args.is_empty() => Frame::Skip(len),
            Ok(Some(len)) => Frame::Request(len),
            Err(err) => Frame::Invalid(0, err.into()),
        }
    }

    fn parse<'a>(&'a self, frame: &'a [u8]) -> Result<Request<'a>, ClientError> {
        let mut call = None;
        let request = self.codec.parse_call(frame, &self.args, &mut call);
        self.call.set(call);
        request
    }

    /// As a multibulk request, whether it arrived as one or inline: an inline frame's
    /// arguments were unquoted in place, and framing them again would unquote them twice.
    fn queued_form(&self, frame: &[u8], out: &mut Vec<u8>) {
        encode_header(b'*', self.args.len(), out);
        for arg in super::Args::new(frame, &self.args).iter() {
            encode_bulk(arg, out);
        }
    }

    fn encode(&self, reply: &Reply<'_>, session: &Session, out: &mut Vec<u8>) {
        self.codec.resp3(session.resp3).encode(reply, out);
    }

    fn max_request_len(&self) -> usize {
        self.max_command_len
    }

    fn overlong(&mut self, _buffered: &[u8]) -> ProtocolError {
        ProtocolError::LineTooLong {
            limit: self.max_command_len,
        }
    }

    /// As Redis does: nothing after a framing error can be trusted.
    fn recovery(&self) -> Recovery {
        Recovery::Close
    }

    fn call(&self) -> Option<Call> {
        self.call.get()
    }

    fn arguments<'a>(&self, frame: &'a [u8]) -> Vec<&'a [u8]> {
        self.args
            .iter()
            .map(|range| frame.get(range.clone()).unwrap_or_default())
            .collect()
    }
}

/// INFO's persistence section: Redis's fields that hold here, then Blink Store's own
/// (`blink_snapshot:off` without a snapshot file).
fn persistence_section(figures: Option<&Persistence>, out: &mut String) {
    out.push_str("# Persistence\r\nloading:0\r\nasync_loading:0\r\n");
    let Some(f) = figures else {
        out.push_str(
            "rdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\nblink_snapshot:off\r\n\r\n",
        );
        return;
    };
    let status = if f.last_failed { "err" } else { "ok" };
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{status}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nblink_snapshot:on\r\nblink_snapshot_file:{}\r\nblink_snapshot_last_entries:{}\r\nblink_snapshot_last_bytes:{}\r\nblink_snapshot_last_ms:{}\r\nblink_snapshot_loaded_entries:{}\r\n\r\n",
        u8::from(f.in_progress),
        f.last_save_secs,
        f.last_took_secs,
        f.current_secs,
        f.saves,
        f.path,
        f.last_entries,
        f.last_bytes,
        f.last_took_ms,
        f.loaded_entries,
    );
}

/// INFO's text: the sections asked for, or Redis's default ones (all but
/// `commandstats`); `all` and `everything` ask for every section, `default` for those.
fn info_sections(report: &Report, sections: Args<'_>) -> String {
    let wanted = |name: &str| {
        let by_default = name != "commandstats";
        if sections.is_empty() {
            return by_default;
        }
        sections.iter().any(|asked| {
            asked.eq_ignore_ascii_case(name.as_bytes())
                || asked.eq_ignore_ascii_case(b"all")
                || asked.eq_ignore_ascii_case(b"everything")
                || (by_default && asked.eq_ignore_ascii_case(b"default"))
        })
    };
    let mut out = String::new();
    // Writing to a String cannot fail.
    if wanted("server") {
        let _ = write!(
            out,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nblink_version:{}\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            usize::BITS,
            std::process::id(),
            report.tcp_port,
            report.uptime_secs,
            report.uptime_secs / 86_400,
        );
    }
    if wanted("clients") {
        let _ = write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\n\r\n",
            report.connected, report.max_connections,
        );
    }
    if wanted("memory") {
        let _ = write!(
            out,
            "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\nused_memory_dataset:{}\r\nmem_fragmentation_ratio:{:.2}\r\n",
            report.used_memory,
            human_bytes(report.used_memory),
            report.rss_bytes,
            human_bytes(report.rss_bytes),
            report.usage_bytes,
            report.fragmentation_ratio(),
        );
        if let Some(heap) = report.allocator {
            let _ = write!(
                out,
                "allocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\nallocator_metadata:{}\r\n",
                heap.allocated, heap.active, heap.resident, heap.metadata,
            );
        }
        let _ = write!(
            out,
            "maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\n\r\n",
            report.max_bytes,
            human_bytes(report.max_bytes),
            report.policy,
        );
    }
    if wanted("persistence") {
        persistence_section(report.persistence.as_ref(), &mut out);
    }
    if wanted("stats") {
        let _ = write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\nevicted_keys:{}\r\nexpired_keys:{}\r\ntotal_error_replies:{}\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\ntls_handshake_failures:{}\r\n\r\n",
            report.accepted,
            report.commands_processed,
            report.net_input_bytes,
            report.net_output_bytes,
            report.rejected_connections,
            report.hits,
            report.misses,
            report.evicted,
            report.expired,
            report.error_replies,
            report.reads_processed,
            report.writes_processed,
            report.tls_handshake_failures,
        );
    }
    if wanted("replication") {
        out.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n");
    }
    if wanted("cpu") {
        out.push_str("# CPU\r\n");
        if let Some(cpu) = report.cpu {
            let seconds = |time: std::time::Duration| {
                format!("{}.{:06}", time.as_secs(), time.subsec_micros())
            };
            let _ = write!(
                out,
                "used_cpu_sys:{}\r\nused_cpu_user:{}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n",
                seconds(cpu.system),
                seconds(cpu.user),
            );
        }
        out.push_str("\r\n");
    }
    if wanted("commandstats") {
        out.push_str("# Commandstats\r\n");
        for stat in &report.commands {
            let _ = write!(
                out,
                "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                stat.name,
                stat.calls,
                stat.usec,
                stat.usec_per_call(),
                stat.rejected,
                stat.failed,
            );
        }
        out.push_str("\r\n");
    }
    if wanted("errorstats") {
        out.push_str("# Errorstats\r\n");
        for (code, count) in &report.errors {
            let _ = write!(out, "errorstat_{code}:count={count}\r\n");
        }
        out.push_str("\r\n");
    }
    if wanted("keyspace") {
        out.push_str("# Keyspace\r\n");
        if report.keys > 0 {
            let _ = write!(
                out,
                "db0:keys={},expires={},avg_ttl=0\r\n",
                report.keys, report.volatile_keys
            );
        }
        out.push_str("\r\n");
    }
    // Redis ends the text after the last section's fields, without the blank line.
    while out.ends_with("\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// `$<len>\r\n<bytes>\r\n`.
pub(super) fn encode_bulk(value: &[u8], out: &mut Vec<u8>) {
    out.reserve(value.len() + 32);
    encode_header(b'$', value.len(), out);
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `<kind><len>\r\n`.
pub(super) fn encode_header(kind: u8, len: usize, out: &mut Vec<u8>) {
    out.push(kind);
    // usize → u64 is lossless on every supported target.
    write_decimal(len as u64, out);
    out.extend_from_slice(b"\r\n");
}

/// `:<n>\r\n`.
pub(super) fn encode_integer(n: i64, out: &mut Vec<u8>) {
    out.push(b':');
    if n < 0 {
        out.push(b'-');
    }
    write_decimal(n.unsigned_abs(), out);
    out.extend_from_slice(b"\r\n");
}

/// `:<n>\r\n` for a count that cannot be negative.
fn encode_unsigned(n: u64, out: &mut Vec<u8>) {
    out.push(b':');
    write_decimal(n, out);
    out.extend_from_slice(b"\r\n");
}

/// Splits an inline line into arguments exactly as Redis's `sdssplitargs` does, writing
/// each unquoted argument over the line's own bytes: an argument is never longer than
/// the bytes it was read from, so `write` never passes `read`.
struct Splitter<'b> {
    /// The line without its LF (or CRLF); rewritten in place.
    line: &'b mut [u8],
    /// The next byte to read.
    read: usize,
    /// Where the next byte of an argument goes.
    write: usize,
}

impl Splitter<'_> {
    fn split(mut self, args: &mut Vec<Range<usize>>) -> Result<(), RespError> {
        loop {
            while self.peek(0).is_some_and(is_space) {
                self.read += 1;
            }
            if self.peek(0).is_none() {
                return Ok(());
            }
            let start = self.write;
            self.argument()?;
            args.push(start..self.write);
        }
    }

    /// One argument: bare bytes and "double" or 'single' quoted runs, up to a separator.
    fn argument(&mut self) -> Result<(), RespError> {
        let mut quote = None;
        loop {
            let done = match (quote, self.peek(0)) {
                (Some(_), None) => return Err(RespError::UnbalancedQuotes),
                (Some(b'"'), Some(b'\\')) => match (self.peek(1), self.peek(2), self.peek(3)) {
                    (Some(b'x'), Some(high), Some(low)) if is_hex(high) && is_hex(low) => {
                        self.emit((hex_value(high) << 4) | hex_value(low));
                        self.read += 3;
                        false
                    }
                    (Some(escaped), _, _) => {
                        self.emit(unescape(escaped));
                        self.read += 1;
                        false
                    }
                    (None, _, _) => self.emit(b'\\'),
                },
                (Some(b'\''), Some(b'\\')) if self.peek(1) == Some(b'\'') => {
                    self.emit(b'\'');
                    self.read += 1;
                    false
                }
                (Some(open), Some(byte)) if byte == open => {
                    // A closing quote must end the argument.
                    if self.peek(1).is_some_and(|next| !is_space(next)) {
                        return Err(RespError::UnbalancedQuotes);
                    }
                    true
                }
                (Some(_), Some(byte)) => self.emit(byte),
                (None, None | Some(b' ' | b'\t' | b'\r' | b'\n')) => true,
                (None, Some(open @ (b'"' | b'\''))) => {
                    quote = Some(open);
                    false
                }
                (None, Some(byte)) => self.emit(byte),
            };
            if self.read < self.line.len() {
                self.read += 1;
            }
            if done {
                return Ok(());
            }
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.line.get(self.read + ahead).copied()
    }

    /// Appends a byte to the current argument; `false`, so it reads as "not done".
    fn emit(&mut self, byte: u8) -> bool {
        if let Some(slot) = self.line.get_mut(self.write) {
            *slot = byte;
        }
        self.write += 1;
        false
    }
}

/// Bytes of a line looked at one by one before the rest is searched with `memchr`: a
/// length line (`*3`, `$16`) is this short, and setting up a vector search costs more
/// than reading it.
const SHORT_LINE: usize = 16;

/// Where the line in `window` ends: the index of its first `end` byte, if no NUL comes
/// before it. Redis finds line ends with C's `strchr`, which stops at a NUL.
fn line_end(window: &[u8], end: u8) -> Option<usize> {
    let (head, tail) = window.split_at(window.len().min(SHORT_LINE));
    for (at, &byte) in head.iter().enumerate() {
        if byte == end {
            return Some(at);
        }
        if byte == 0 {
            return None;
        }
    }
    let at = memchr::memchr2(end, 0, tail)?;
    (tail.get(at) == Some(&end)).then_some(head.len() + at)
}

/// C's `isspace`: what separates inline arguments and may follow a closing quote.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_hex(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// The byte a backslash escape stands for inside double quotes.
fn unescape(byte: u8) -> u8 {
    match byte {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

/// A signed decimal as Redis's `string2ll` reads it: no sign but `-`, no leading zeros,
/// no spaces, no overflow, not empty.
fn parse_int(digits: &[u8]) -> Option<i64> {
    let (negative, magnitude) = match digits {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, digits),
    };
    if !matches!(magnitude.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut value: u64 = 0;
    for &digit in magnitude {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// Writes `n` in decimal without allocating.
fn write_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for slot in digits.iter_mut().rev() {
        // The remainder is below 10, so the cast is exact.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(digits.len() - len..).unwrap_or_default());
}

/// `-<text>\r\n`, with `ERR ` in front unless the text opens with its own error code.
/// CR and LF in the text become spaces, as Redis does, so a reply is always one line.
fn encode_error(err: &dyn std::fmt::Display, out: &mut Vec<u8>) {
    let text = err.to_string();
    out.push(b'-');
    if !has_error_code(&text) {
        out.extend_from_slice(b"ERR ");
    }
    out.extend(text.bytes().map(|byte| {
        if byte == b'\r' || byte == b'\n' {
            b' '
        } else {
            byte
        }
    }));
    out.extend_from_slice(b"\r\n");
}

/// Redis error codes an error text may open with; any other text gets `ERR ` in front
/// (a text such as "DB index is out of range" opens with a capitalised word that is not
/// a code).
const ERROR_CODES: [&str; 10] = [
    "ERR",
    "EXECABORT",
    "WRONGTYPE",
    "OOM",
    "NOPROTO",
    "NOAUTH",
    "WRONGPASS",
    "NOPERM",
    "BUSY",
    "BUSYKEY",
];

/// Whether an error text opens with a Redis error code such as `ERR` or `WRONGTYPE`
/// followed by a space.
fn has_error_code(text: &str) -> bool {
    text.split_once(' ')
        .is_some_and(|(word, _)| ERROR_CODES.contains(&word))
}

/// The error codes an error reply can open with: what `INFO errorstats` counts by.
pub fn error_codes() -> &'static [&'static str] {
    &ERROR_CODES
}

/// The index in [`error_codes`] of the code an error reply with this text opens with:
/// its own, or `ERR`'s (0).
pub fn error_code_index(text: &str) -> usize {
    text.split_once(' ')
        .and_then(|(word, _)| ERROR_CODES.iter().position(|code| *code == word))
        .unwrap_or(0)
}

/// Redis 7's reply to an unknown command: the name cut to 128 bytes, then each argument
/// as `'<arg>' ` while the list is under 128 bytes, cut to what remains of that budget.
/// Each is cut at its first NUL, as C's `%s` is.
fn unknown_command(buf: &[u8], args: &[Range<usize>]) -> ClientError {
    let arg = |range: &Range<usize>| until_nul(buf.get(range.clone()).unwrap_or_default());
    let name = args.first().map(arg).unwrap_or_default();
    let mut quoted = Vec::new();
    for range in args.iter().skip(1) {
        let Some(budget) = MAX_QUOTED.checked_sub(quoted.len()).filter(|&b| b > 0) else {
            break;
        };
        let arg = arg(range);
        quoted.push(b'\'');
        quoted.extend_from_slice(arg.get(..budget).unwrap_or(arg));
        quoted.extend_from_slice(b"' ");
    }
    ClientError::RespUnknownCommand {
        name: echo(name.get(..MAX_QUOTED).unwrap_or(name)),
        args: echo(&quoted),
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    memchr::memchr(0, bytes).map_or(bytes, |nul| bytes.get(..nul).unwrap_or_default())
}

/// Client bytes made fit for an error line: CR and LF become spaces, as in every Redis
/// error reply, and bytes that are not UTF-8 become U+FFFD.
fn echo(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

/// The byte an `expected '$'` error echoes: ASCII as Redis sends it (CR and LF as a
/// space), anything else as U+FFFD so the reply stays UTF-8.
fn shown(byte: &u8) -> char {
    match byte {
        b'\r' | b'\n' => ' ',
        byte if byte.is_ascii() => char::from(*byte),
        _ => char::REPLACEMENT_CHARACTER,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::protocol::Args;

    /// Small limits, so every limit is cheap to reach.
    fn small() -> RespProtocol {
        RespProtocol::new()
            .max_key_len(8)
            .max_bulk_len(16)
            .max_args(6)
            .max_inline_len(32)
    }

    type Framed = Option<(Vec<Vec<u8>>, usize)>;

    /// Frames a copy of `input`: the arguments' bytes and the bytes consumed.
    fn frame(protocol: &RespProtocol, input: &[u8]) -> Result<Framed, RespError> {
        let mut buf = input.to_vec();
        let mut args = vec![0..0; 3];
        let consumed = protocol.frame(&mut buf, &mut args)?;
        Ok(consumed.map(|n| (args.iter().map(|r| buf[r.clone()].to_vec()).collect(), n)))
    }

    fn show(bytes: &[u8]) -> String {
        bytes.escape_ascii().to_string()
    }

    fn multibulk(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// One complete command each, and its arguments.
    const FRAMES: &[(&[u8], &[&[u8]])] = &[
        (b"*1\r\n$4\r\nPING\r\n", &[b"PING"]),
        (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", &[b"GET", b"k"]),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\x00\xff\r\n",
            &[b"SET", b"k", b"a\r\nb\x00\xff"],
        ),
        (b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", &[b"GET", b""]),
        (b"*1\r\n$16\r\n0123456789abcdef\r\n", &[b"0123456789abcdef"]),
        (
            b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
            &[b"a", b"b", b"c", b"d"],
        ),
        (b"*0\r\n", &[]),
        (b"*-1\r\n", &[]),
        (b"*-7\r\n", &[]),
        // As in Redis, the byte after a CR and the two after a bulk string go unchecked.
        (b"*1\rX$4\rXPINGXY", &[b"PING"]),
        (b"GET k\r\n", &[b"GET", b"k"]),
        (b"GET k\n", &[b"GET", b"k"]),
        (b"  get   k  \r\n", &[b"get", b"k"]),
        (b"\tSET\tk \x0cv\n", &[b"SET", b"k", b"v"]),
        (b"GET k\r\r\n", &[b"GET", b"k"]),
        (b"GET\x0bk\n", &[b"GET\x0bk"]),
        (b"GET k\x01\xff\n", &[b"GET", b"k\x01\xff"]),
        (
            b"SET k \"hello world\"\r\n",
            &[b"SET", b"k", b"hello world"],
        ),
        (b"SET k \"a\\x41\\n\\\"\"\n", &[b"SET", b"k", b"aA\n\""]),
        (b"SET k \"\\xzz\\q\\t\"\n", &[b"SET", b"k", b"xzzq\t"]),
        (b"SET k 'it\\'s'\n", &[b"SET", b"k", b"it's"]),
        (b"SET k 'a\\nb'\n", &[b"SET", b"k", b"a\\nb"]),
        (b"SET k \"\" ''\n", &[b"SET", b"k", b"", b""]),
        (b"SET k a\"b c\"\n", &[b"SET", b"k", b"ab c"]),
        (b"\r\n", &[]),
        (b"\n", &[]),
        (b"   \t\n", &[]),
        (
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            &[b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
        ),
    ];

    #[test]
    fn frames_one_command_only_once_its_last_byte_arrived() {
        for (input, expected) in FRAMES {
            let expected: Vec<Vec<u8>> = expected.iter().map(|a| a.to_vec()).collect();
            for end in 0..input.len() {
                assert_eq!(
                    frame(&small(), &input[..end]),
                    Ok(None),
                    "{}",
                    show(&input[..end])
                );
            }
            let framed = Some((expected, input.len()));
            assert_eq!(
                frame(&small(), input),
                Ok(framed.clone()),
                "{}",
                show(input)
            );
            let mut more = input.to_vec();
            more.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
            assert_eq!(frame(&small(), &more), Ok(framed), "{}", show(&more));
        }
    }

    #[test]
    fn frames_pipelined_commands_back_to_back() {
        let mut input: Vec<u8> = FRAMES
            .iter()
            .flat_map(|(bytes, _)| bytes.to_vec())
            .collect();
        let mut args = Vec::new();
        let mut start = 0;
        for (bytes, expected) in FRAMES {
            let consumed = small().frame(&mut input[start..], &mut args).unwrap();
            assert_eq!(consumed, Some(bytes.len()), "{}", show(bytes));
            let got: Vec<&[u8]> = args.iter().map(|r| &input[start..][r.clone()]).collect();
            assert_eq!(&got, expected, "{}", show(bytes));
            start += bytes.len();
        }
        assert_eq!(small().frame(&mut input[start..], &mut args), Ok(None));
    }

    #[test]
    fn framing_reuses_the_argument_list() {
        let mut input = multibulk(&[b"SET", b"k", b"v"]);
        let mut args = Vec::new();
        small().frame(&mut input, &mut args).unwrap();
        let (pointer, capacity) = (args.as_ptr(), args.capacity());
        for _ in 0..100 {
            small().frame(&mut input, &mut args).unwrap();
        }
        assert_eq!((args.as_ptr(), args.capacity()), (pointer, capacity));
    }

    /// Inputs refused only once their last byte arrived, and why.
    const ERRORS: &[(&[u8], RespError)] = &[
        (b"*x\r\n", RespError::InvalidMultibulkLength),
        (b"*\r\n", RespError::InvalidMultibulkLength),
        (b"*01\r\n", RespError::InvalidMultibulkLength),
        (b"*+1\r\n", RespError::InvalidMultibulkLength),
        (b"*-0\r\n", RespError::InvalidMultibulkLength),
        (b"* 1\r\n", RespError::InvalidMultibulkLength),
        (b"*7\r\n", RespError::InvalidMultibulkLength),
        (
            b"*99999999999999999999\r\n",
            RespError::InvalidMultibulkLength,
        ),
        (b"*1\r\nX\r\n", RespError::ExpectedBulk(b'X')),
        (b"*1\r\n:1\r\n", RespError::ExpectedBulk(b':')),
        (b"*1\r\n\r\n", RespError::ExpectedBulk(b'\r')),
        (b"*2\r\n$3\r\nGET\r\n*1\r\n", RespError::ExpectedBulk(b'*')),
        (b"*1\r\n$-1\r\n", RespError::InvalidBulkLength),
        (b"*1\r\n$\r\n", RespError::InvalidBulkLength),
        (b"*1\r\n$x\r\n", RespError::InvalidBulkLength),
        (b"*1\r\n$01\r\n", RespError::InvalidBulkLength),
        // Refused on the header, before the 17 bytes it promises.
        (b"*1\r\n$17\r\n", RespError::InvalidBulkLength),
        (
            b"*11111111111111111111111111111111",
            RespError::MultibulkLineTooLong,
        ),
        (
            b"*1\r\n$11111111111111111111111111111111",
            RespError::BulkLineTooLong,
        ),
        (
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            RespError::InlineTooLong,
        ),
        (b"GET \"k\n", RespError::UnbalancedQuotes),
        (b"GET 'k\r\n", RespError::UnbalancedQuotes),
        (b"GET \"a\"b\n", RespError::UnbalancedQuotes),
        (b"GET 'a'b\n", RespError::UnbalancedQuotes),
        (b"GET \"a\\\"\n", RespError::UnbalancedQuotes),
        (b"GET \"a\\\n", RespError::UnbalancedQuotes),
    ];

    #[test]
    fn refuses_bad_frames_as_soon_as_they_arrive() {
        for (input, expected) in ERRORS {
            for end in 0..input.len() {
                assert_eq!(
                    frame(&small(), &input[..end]),
                    Ok(None),
                    "{}",
                    show(&input[..end])
                );
            }
            assert_eq!(frame(&small(), input), Err(*expected), "{}", show(input));
        }
    }

    #[test]
    fn a_nul_before_the_line_end_hides_it_until_the_line_is_too_long() {
        let waiting: &[&[u8]] = &[
            b"\x00\n",
            b"GET k\x00\r\nPING\r\n",
            b"*1\x00\r\n$4\r\nPING\r\n",
            b"*1\r\n$4\x00\r\nPING\r\n",
        ];
        for input in waiting {
            assert_eq!(frame(&small(), input), Ok(None), "{}", show(input));
        }
        let cases: &[(&[u8], RespError)] = &[
            (b"\x00\n", RespError::InlineTooLong),
            (b"*1\x00\r\n", RespError::MultibulkLineTooLong),
            (b"*1\r\n$4\x00\r\n", RespError::BulkLineTooLong),
        ];
        for (start, expected) in cases {
            let mut input = start.to_vec();
            input.resize(40, b'x');
            assert_eq!(frame(&small(), &input), Err(*expected), "{}", show(&input));
        }
        // After the line end, a NUL is an ordinary byte.
        let input = b"*1\r\n$2\r\n\x00\x00\r\n";
        assert_eq!(
            frame(&small(), input),
            Ok(Some((vec![b"\x00\x00".to_vec()], input.len())))
        );
    }

    #[test]
    fn before_auth_headers_are_held_to_redis_unauthenticated_limits() {
        let stranger = RespProtocol::new().authenticated(false);
        let cases: &[(&[u8], Result<Framed, RespError>)] = &[
            (b"*10\r\n", Ok(None)),
            (b"*11\r\n", Err(RespError::UnauthenticatedMultibulkLength)),
            (
                b"*2147483647\r\n",
                Err(RespError::UnauthenticatedMultibulkLength),
            ),
            // Past what Redis reads at all: invalid, as Redis says.
            (b"*2147483648\r\n", Err(RespError::InvalidMultibulkLength)),
            (b"*-5\r\n", Ok(Some((vec![], 5)))),
            (b"*1\r\n$16384\r\n", Ok(None)),
            (
                b"*1\r\n$16385\r\n",
                Err(RespError::UnauthenticatedBulkLength),
            ),
            (
                b"*1\r\n$536870912\r\n",
                Err(RespError::UnauthenticatedBulkLength),
            ),
            (b"*1\r\n$536870913\r\n", Err(RespError::InvalidBulkLength)),
            (b"*1\r\n$-1\r\n", Err(RespError::InvalidBulkLength)),
        ];
        for (input, expected) in cases {
            assert_eq!(&frame(&stranger, input), expected, "{}", show(input));
        }
        // Our own limits still apply below Redis's: small() takes 6 arguments of 16 bytes.
        let small_stranger = small().authenticated(false);
        assert_eq!(
            frame(&small_stranger, b"*7\r\n"),
            Err(RespError::InvalidMultibulkLength)
        );
        assert_eq!(
            frame(&small_stranger, b"*1\r\n$17\r\n"),
            Err(RespError::InvalidBulkLength)
        );
    }

    #[test]
    fn default_limits_are_redis_limits() {
        let protocol = RespProtocol::new();
        let cases: &[(&[u8], Result<Framed, RespError>)] = &[
            (b"*1048576\r\n", Ok(None)),
            (b"*1048577\r\n", Err(RespError::InvalidMultibulkLength)),
            (b"*1\r\n$536870912\r\n", Ok(None)),
            (b"*1\r\n$536870913\r\n", Err(RespError::InvalidBulkLength)),
        ];
        for (input, expected) in cases {
            assert_eq!(&frame(&protocol, input), expected, "{}", show(input));
        }
        let long_line = vec![b'a'; DEFAULT_MAX_INLINE_LEN];
        assert_eq!(frame(&protocol, &long_line), Ok(None));
        let too_long = vec![b'a'; DEFAULT_MAX_INLINE_LEN + 1];
        assert_eq!(frame(&protocol, &too_long), Err(RespError::InlineTooLong));
    }

    fn parse(input: &[u8], check: impl FnOnce(Result<Request<'_>, ClientError>)) {
        let mut buf = input.to_vec();
        let mut args = Vec::new();
        let consumed = small().frame(&mut buf, &mut args).unwrap();
        assert_eq!(consumed, Some(input.len()), "{}", show(input));
        check(small().parse(&buf, &args));
    }

    #[test]
    fn parses_every_command() {
        let cases: &[(Vec<u8>, Request<'_>)] = &[
            (multibulk(&[b"GET", b"user"]), Request::Get { key: b"user" }),
            (
                multibulk(&[b"gEt", b"k\r\n\x00"]),
                Request::Get { key: b"k\r\n\x00" },
            ),
            (
                multibulk(&[b"SET", b"k", b"a\r\nb"]),
                Request::Set {
                    key: b"k",
                    value: b"a\r\nb",
                },
            ),
            (
                multibulk(&[b"set", b"", b""]),
                Request::Set {
                    key: b"",
                    value: b"",
                },
            ),
            (
                multibulk(&[b"DEL", b"k"]),
                Request::DeleteMany {
                    keys: Args::new(b"k", std::slice::from_ref(&(0..1))),
                },
            ),
            (multibulk(&[b"usage"]), Request::Usage),
            (multibulk(&[b"PING"]), Request::Ping),
            (multibulk(&[b"QUIT"]), Request::Quit),
            (multibulk(&[b"quit", b"now"]), Request::Quit),
            (b"GET user\r\n".to_vec(), Request::Get { key: b"user" }),
            (
                b"set k \"hello world\"\n".to_vec(),
                Request::Set {
                    key: b"k",
                    value: b"hello world",
                },
            ),
            (b"ping\r\n".to_vec(), Request::Ping),
        ];
        for (input, expected) in cases {
            parse(input, |got| {
                assert_eq!(got, Ok(*expected), "{}", show(input))
            });
        }
    }

    fn error_reply(err: ClientError) -> String {
        let mut out = Vec::new();
        small().encode(&Reply::Error(err), &mut out);
        show(&out)
    }

    #[test]
    fn refuses_bad_commands_with_redis_texts() {
        let cases: &[(&[&[u8]], &str)] = &[
            (
                &[b"foo", b"a", b"b"],
                "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
            ),
            (
                &[b"foo"],
                "-ERR unknown command 'foo', with args beginning with: \r\n",
            ),
            (
                &[b"f\ro\no", b"a\r\nb"],
                "-ERR unknown command 'f o o', with args beginning with: 'a  b' \r\n",
            ),
            (
                &[b"fo\x00x", b"a\x00b", b""],
                "-ERR unknown command 'fo', with args beginning with: 'a' '' \r\n",
            ),
            (
                &[b"f\xc3\xa9\xff"],
                "-ERR unknown command 'f\u{e9}\u{fffd}', with args beginning with: \r\n",
            ),
            (
                &[b"GET"],
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &[b"get", b"a", b"b"],
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &[b"SET", b"k"],
                "-ERR wrong number of arguments for 'set' command\r\n",
            ),
            (&[b"SET", b"k", b"v", b"EX"], "-ERR syntax error\r\n"),
            (
                &[b"DEL"],
                "-ERR wrong number of arguments for 'del' command\r\n",
            ),
            (
                &[b"PING", b"x", b"y"],
                "-ERR wrong number of arguments for 'ping' command\r\n",
            ),
            (
                &[b"MSET", b"a", b"1", b"b"],
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (&[b"SET", b"k", b"v", b"NX", b"XX"], "-ERR syntax error\r\n"),
            (
                &[b"SET", b"k", b"v", b"EX", b"0"],
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &[b"SET", b"k", b"v", b"PX", b"x"],
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                &[b"SETEX", b"k", b"-1", b"v"],
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                &[b"INCRBY", b"k", b"1.5"],
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                &[b"SELECT", b"x"],
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                &[b"CLIENT", b"FOO"],
                "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
            ),
            (
                &[b"EXPIRE", b"k", b"1", b"NX", b"LT"],
                "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
            ),
            (
                &[b"PEXPIRE", b"k", b"1", b"gt", b"lt"],
                "-ERR GT and LT options at the same time are not compatible\r\n",
            ),
            (
                &[b"EXPIRE", b"k", b"x", b"KEEPTTL"],
                "-ERR Unsupported option KEEPTTL\r\n",
            ),
            (
                &[b"USAGE", b"x"],
                "-ERR wrong number of arguments for 'usage' command\r\n",
            ),
            (
                &[b"CLIENT"],
                "-ERR wrong number of arguments for 'client' command\r\n",
            ),
            (
                &[b"client", b"KILL"],
                "-ERR wrong number of arguments for 'client|kill' command\r\n",
            ),
            (
                &[b"CLIENT", b"KILL", b"ID", b"0"],
                "-ERR client-id should be greater than 0\r\n",
            ),
            (
                &[b"CLIENT", b"KILL", b"ID", b"1", b"SKIPME", b"maybe"],
                "-ERR syntax error\r\n",
            ),
            (
                &[b"CLIENT", b"KILL", b"USER", b"bob"],
                "-ERR No such user 'bob'\r\n",
            ),
            (
                &[b"CLIENT", b"LIST", b"TYPE", b"foo"],
                "-ERR Unknown client type 'foo'\r\n",
            ),
            (
                &[b"CLIENT", b"LIST", b"ID", b"x"],
                "-ERR Invalid client ID\r\n",
            ),
            (&[b"CLIENT", b"REPLY", b"x"], "-ERR syntax error\r\n"),
            (
                &[b"CLIENT", b"SETINFO", b"foo", b"x"],
                "-ERR Unrecognized option 'foo'\r\n",
            ),
            (
                &[b"CLIENT", b"SETINFO", b"LIB-NAME", b"a b"],
                "-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n",
            ),
            (
                &[b"CONFIG", b"SET", b"a", b"b", b"c"],
                "-ERR syntax error\r\n",
            ),
            (
                &[b"SLOWLOG", b"GET", b"-2"],
                "-ERR count should be greater than or equal to -1\r\n",
            ),
            (
                &[b"SLOWLOG", b"GET", b"1", b"2"],
                "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n",
            ),
            (
                &[b"COMMAND", b"LIST", b"FILTERBY", b"x", b"y"],
                "-ERR syntax error\r\n",
            ),
            (
                &[b"command", b"foo"],
                "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n",
            ),
            (
                &[b"COMMAND", b"COUNT", b"x"],
                "-ERR wrong number of arguments for 'command|count' command\r\n",
            ),
            (
                &[b"GET", b"123456789"],
                "-ERR key too long (max 8 bytes)\r\n",
            ),
            (
                &[b"SET", b"123456789", b"v"],
                "-ERR key too long (max 8 bytes)\r\n",
            ),
        ];
        for (args, expected) in cases {
            parse(&multibulk(args), |got| {
                assert_eq!(error_reply(got.unwrap_err()), show(expected.as_bytes()));
            });
        }
    }

    #[test]
    fn unknown_command_echo_is_cut_to_redis_budget() {
        let name = vec![b'n'; 200];
        let arg = vec![b'a'; 100];
        let input = multibulk(&[&name, &arg, &arg, &arg]);
        let mut buf = input.clone();
        let mut args = Vec::new();
        RespProtocol::new().frame(&mut buf, &mut args).unwrap();
        let err = RespProtocol::new().parse(&buf, &args).unwrap_err();
        // The first argument takes 103 bytes of the 128; the second gets the other 25.
        let expected = format!(
            "-ERR unknown command '{}', with args beginning with: '{}' '{}' \r\n",
            "n".repeat(128),
            "a".repeat(100),
            "a".repeat(25)
        );
        assert_eq!(error_reply(err), show(expected.as_bytes()));
    }

    #[test]
    fn framing_errors_have_redis_texts() {
        let cases: &[(RespError, &str)] = &[
            (
                RespError::InvalidMultibulkLength,
                "-ERR Protocol error: invalid multibulk length\r\n",
            ),
            (
                RespError::ExpectedBulk(b'X'),
                "-ERR Protocol error: expected '$', got 'X'\r\n",
            ),
            (
                RespError::ExpectedBulk(b'\r'),
                "-ERR Protocol error: expected '$', got ' '\r\n",
            ),
            (
                RespError::ExpectedBulk(0xff),
                "-ERR Protocol error: expected '$', got '\u{fffd}'\r\n",
            ),
            (
                RespError::InvalidBulkLength,
                "-ERR Protocol error: invalid bulk length\r\n",
            ),
            (
                RespError::MultibulkLineTooLong,
                "-ERR Protocol error: too big mbulk count string\r\n",
            ),
            (
                RespError::BulkLineTooLong,
                "-ERR Protocol error: too big bulk count string\r\n",
            ),
            (
                RespError::InlineTooLong,
                "-ERR Protocol error: too big inline request\r\n",
            ),
            (
                RespError::UnbalancedQuotes,
                "-ERR Protocol error: unbalanced quotes in request\r\n",
            ),
            (
                RespError::UnauthenticatedMultibulkLength,
                "-ERR Protocol error: unauthenticated multibulk length\r\n",
            ),
            (
                RespError::UnauthenticatedBulkLength,
                "-ERR Protocol error: unauthenticated bulk length\r\n",
            ),
        ];
        for (err, expected) in cases {
            let mut out = Vec::new();
            small().encode(&Reply::Broken((*err).into()), &mut out);
            assert_eq!(show(&out), show(expected.as_bytes()));
        }
    }

    #[test]
    fn encodes_every_reply() {
        let large = vec![b'v'; 70_000];
        let mut large_reply = b"$70000\r\n".to_vec();
        large_reply.extend_from_slice(&large);
        large_reply.extend_from_slice(b"\r\n");
        let cases: &[(Reply<'_>, &[u8])] = &[
            (Reply::Ok, b"+OK\r\n"),
            (Reply::Close, b"+OK\r\n"),
            (Reply::Pong, b"+PONG\r\n"),
            (Reply::Status("string"), b"+string\r\n"),
            (
                Reply::Texts(vec!["1700000000".into(), "42".into()]),
                b"*2\r\n$10\r\n1700000000\r\n$2\r\n42\r\n",
            ),
            (Reply::Value(b"alice"), b"$5\r\nalice\r\n"),
            (Reply::Value(b""), b"$0\r\n\r\n"),
            (Reply::Value(b"a\r\n\x00\xff"), b"$5\r\na\r\n\x00\xff\r\n"),
            (Reply::Value(&large), &large_reply),
            (Reply::NotFound, b"$-1\r\n"),
            (Reply::Usage(0), b":0\r\n"),
            (Reply::Usage(1_234_567_890), b":1234567890\r\n"),
            (Reply::Usage(u64::MAX), b":18446744073709551615\r\n"),
            (Reply::Deleted(0), b":0\r\n"),
            (Reply::Deleted(1), b":1\r\n"),
            (Reply::Error(ClientError::Syntax), b"-ERR syntax error\r\n"),
            (Reply::Integer(-42), b":-42\r\n"),
            (Reply::Ttl(-2), b":-2\r\n"),
            (Reply::Expired(true), b":1\r\n"),
            (
                Reply::Persisted {
                    exists: true,
                    removed: false,
                },
                b":0\r\n",
            ),
            (
                Reply::Values(vec![Some(b"a"), None]),
                b"*2\r\n$1\r\na\r\n$-1\r\n",
            ),
            (
                Reply::Map(vec![("proto".into(), Field::Integer(2))]),
                b"*2\r\n$5\r\nproto\r\n:2\r\n",
            ),
            (
                Reply::Error(ClientError::NoProto),
                b"-NOPROTO unsupported protocol version\r\n",
            ),
            (
                Reply::Scan {
                    cursor: 4_503_599_627_370_495,
                    keys: vec![b"a", b""],
                },
                b"*2\r\n$16\r\n4503599627370495\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n",
            ),
            (
                Reply::Scan {
                    cursor: 0,
                    keys: vec![],
                },
                b"*2\r\n$1\r\n0\r\n*0\r\n",
            ),
            (Reply::Bytes(vec![0xb1, 0, b'\r']), b"$3\r\n\xb1\x00\r\r\n"),
            (
                Reply::Error(ClientError::BusyKey),
                b"-BUSYKEY Target key name already exists.\r\n",
            ),
            (
                Reply::Error(ClientError::NoSuchKey),
                b"-ERR no such key\r\n",
            ),
            (
                Reply::Refused(Refusal::TooManyConnections { limit: 2 }),
                b"-ERR max number of clients reached\r\n",
            ),
        ];
        for (reply, expected) in cases {
            let mut out = b"prefix|".to_vec();
            RespProtocol::new().encode(reply, &mut out);
            assert_eq!(show(&out[7..]), show(expected), "{reply:?}");
        }
    }

    #[test]
    fn resp3_has_nulls_and_maps() {
        let resp3 = RespProtocol::new().resp3(true);
        let cases: &[(Reply<'_>, &[u8])] = &[
            (Reply::NotFound, b"_\r\n"),
            (Reply::Values(vec![None]), b"*1\r\n_\r\n"),
            (
                Reply::Map(vec![
                    ("proto".into(), Field::Integer(3)),
                    ("modules".into(), Field::Empty),
                ]),
                b"%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n",
            ),
        ];
        for (reply, expected) in cases {
            let mut out = Vec::new();
            resp3.encode(reply, &mut out);
            assert_eq!(show(&out), show(expected), "{reply:?}");
        }
    }

    #[test]
    fn lcs_ranges_are_an_array_in_resp2_and_a_map_in_resp3() {
        let reply = Reply::Matches {
            matches: vec![Match {
                a: (4, 7),
                b: (5, 8),
                len: 4,
            }],
            len: 6,
            with_len: true,
        };
        let body = b"$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                     $3\r\nlen\r\n:6\r\n";
        for (protocol, header) in [
            (RespProtocol::new(), &b"*4\r\n"[..]),
            (RespProtocol::new().resp3(true), b"%2\r\n"),
        ] {
            let mut out = Vec::new();
            protocol.encode(&reply, &mut out);
            assert_eq!(show(&out), show(&[header, body].concat()));
        }
        let mut out = Vec::new();
        RespProtocol::new().encode(&Reply::Bytes(b"my\0text".to_vec()), &mut out);
        assert_eq!(out, b"$7\r\nmy\0text\r\n");
    }

    #[test]
    fn error_code_is_not_prefixed_twice() {
        let cases = [
            ("WRONGTYPE Operation against a key", true),
            ("ERR syntax error", true),
            ("OOM command not allowed", true),
            ("Protocol error: invalid bulk length", false),
            ("value too large", false),
            ("A b", false),
            ("ERR", false),
            ("DB index is out of range", false),
            ("NOPROTO unsupported protocol version", true),
        ];
        for (text, expected) in cases {
            assert_eq!(has_error_code(text), expected, "{text}");
        }
    }

    #[test]
    fn reads_integers_as_redis_does() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"0", Some(0)),
            (b"7", Some(7)),
            (b"-1", Some(-1)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"", None),
            (b"-", None),
            (b"-0", None),
            (b"00", None),
            (b"+1", None),
            (b"1 ", None),
            (b"1x", None),
        ];
        for (digits, expected) in cases {
            assert_eq!(parse_int(digits), *expected, "{}", show(digits));
        }
    }

    /// Bytes that matter to the framer, so random input often gets past the first check.
    fn interesting_byte() -> impl Strategy<Value = u8> {
        prop::sample::select(b"*$\r\n0123-\"'\\x aGgEeTt\x00\xff".to_vec())
    }

    proptest! {
        #[test]
        fn any_input_frames_and_parses_without_panic(
            input in prop::collection::vec(interesting_byte(), 0..64),
        ) {
            let mut buf = input;
            let mut args = Vec::new();
            let mut start = 0;
            while let Ok(Some(consumed)) = small().frame(&mut buf[start..], &mut args) {
                let rest = &buf[start..];
                prop_assert!(consumed > 0 && consumed <= rest.len());
                for range in &args {
                    prop_assert!(range.start <= range.end && range.end <= consumed);
                }
                if !args.is_empty() {
                    let reply = match small().parse(rest, &args) {
                        Ok(_) => Reply::Ok,
                        Err(err) => Reply::Error(err),
                    };
                    small().encode(&reply, &mut Vec::new());
                }
                start += consumed;
            }
        }
    }
}
