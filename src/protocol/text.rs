//! The Blink line protocol: one request per LF-terminated line (a CR before the LF is
//! dropped), command words case-insensitive, one reply line per request.
//! This file knows the syntax and the limits, never the store.

use std::io::Write as _;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use std::cell::Cell;

use super::command_table::{self as table, CommandSpec};
use super::info::Report;
use super::{
    Args, Call, ClientError, Deadline, Frame, Limits, Protocol, ProtocolError, Recovery, Reply,
    Request, TimeUnit, MAX_RELATIVE_TTL_MS,
};
use crate::command::Session;

/// Default maximum key length, in bytes. Generous next to memcached's 250, small enough
/// that a key never dominates an entry's memory.
pub const DEFAULT_MAX_KEY_LEN: usize = 1024;

/// Default maximum value length, in bytes: 1 MiB, memcached's item size.
pub const DEFAULT_MAX_VALUE_LEN: usize = 1 << 20;

/// Room on a line for the command word, separators and the CR, beyond key and value.
const LINE_OVERHEAD: usize = 64;

/// How many bytes of an unknown command word an error reply quotes.
const MAX_QUOTED_WORD: usize = 32;

/// The line protocol's parser and encoder, with its limits.
#[derive(Debug, Clone, Copy)]
pub struct TextProtocol {
    /// Longest key accepted, in bytes.
    max_key_len: usize,
    /// Longest value accepted, in bytes.
    max_value_len: usize,
}

impl Default for TextProtocol {
    fn default() -> Self {
        Self::new()
    }
}

impl TextProtocol {
    /// The protocol with default limits.
    pub fn new() -> Self {
        Self {
            max_key_len: DEFAULT_MAX_KEY_LEN,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
        }
    }

    /// The protocol with the server's limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self::new()
            .max_key_len(limits.max_key_len)
            .max_value_len(limits.max_value_len)
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

    /// The longest key accepted, in bytes.
    pub fn key_limit(&self) -> usize {
        self.max_key_len
    }

    /// The longest value accepted, in bytes.
    pub fn value_limit(&self) -> usize {
        self.max_value_len
    }

    /// The longest line, without its LF, that can hold a valid request. Longer lines are
    /// refused and discarded as they arrive.
    pub fn max_line_len(&self) -> usize {
        self.max_key_len + self.max_value_len + LINE_OVERHEAD
    }

    /// Parses one line (without its LF).
    ///
    /// # Errors
    /// A [`ClientError`] describing what is wrong with the line.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Request<'a>, ClientError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = trim_leading_spaces(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(ClientError::EmptyLine);
        }
        let (word, args) = split_word(line);
        if word.eq_ignore_ascii_case(b"SET") {
            return self.parse_set(args);
        }
        if word.eq_ignore_ascii_case(b"AUTH") {
            // The password is the rest of the line, spaces and all.
            if args.is_empty() {
                return Err(ClientError::Arity { cmd: "AUTH" });
            }
            return Ok(Request::Auth {
                user: None,
                password: args,
            });
        }
        let &(cmd, kind) = COMMANDS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name.as_bytes()))
            .ok_or_else(|| ClientError::UnknownCommand(quote(word)))?;
        let mut tokens = args.split(|&b| b == b' ').filter(|t| !t.is_empty());
        let first = tokens.next();
        // Built only when needed: every well-formed request would otherwise pay for it.
        let arity = || ClientError::Arity { cmd };
        if kind == Kind::Expire {
            let (Some(key), Some(seconds), None) = (first, tokens.next(), tokens.next()) else {
                return Err(arity());
            };
            return self.parse_expire(key, seconds);
        }
        if tokens.next().is_some() {
            return Err(arity());
        }
        let key = || first.ok_or_else(arity).and_then(|key| self.check_key(key));
        let no_args = || first.map_or(Ok(()), |_| Err(arity()));
        Ok(match kind {
            Kind::Get => Request::Get { key: key()? },
            Kind::Delete => Request::Delete { key: key()? },
            Kind::Usage => no_args().map(|()| Request::Usage)?,
            Kind::Ping => no_args().map(|()| Request::Ping)?,
            Kind::Quit => no_args().map(|()| Request::Quit)?,
            Kind::Ttl => Request::Ttl {
                key: key()?,
                unit: TimeUnit::Seconds,
            },
            Kind::Persist => Request::Persist { key: key()? },
            Kind::Info => no_args().map(|()| Request::Info {
                sections: Args::new(&[], &[]),
            })?,
            // Handled above, with its two arguments.
            Kind::Expire => return Err(arity()),
        })
    }

    /// `EXPIRE <key> <seconds>`: zero or negative seconds delete the key, as in Redis.
    fn parse_expire<'a>(&self, key: &'a [u8], seconds: &[u8]) -> Result<Request<'a>, ClientError> {
        let key = self.check_key(key)?;
        let seconds = crate::decimal::parse_integer(seconds).ok_or(ClientError::NotAnInteger)?;
        let Some(millis) = seconds
            .checked_mul(1000)
            .filter(|ms| ms.unsigned_abs() <= MAX_RELATIVE_TTL_MS)
        else {
            return Ok(Request::ExpireInvalid { cmd: "EXPIRE" });
        };
        let deadline = match u64::try_from(millis) {
            Ok(millis) if millis > 0 => Deadline::In(millis),
            _ => Deadline::At(0),
        };
        Ok(Request::Expire {
            key,
            deadline,
            condition: crate::store::update::ExpireIf::default(),
        })
    }

    /// `SET <key> <value>`: the value is every byte after the one space after the key.
    fn parse_set<'a>(&self, args: &'a [u8]) -> Result<Request<'a>, ClientError> {
        let args = trim_leading_spaces(args);
        let Some(space) = args.iter().position(|&b| b == b' ') else {
            return Err(ClientError::Arity { cmd: "SET" });
        };
        let key = self.check_key(&args[..space])?;
        let value = &args[space + 1..];
        if value.len() > self.max_value_len {
            return Err(ClientError::ValueTooLarge {
                limit: self.max_value_len,
            });
        }
        Ok(Request::Set { key, value })
    }

    fn check_key<'a>(&self, key: &'a [u8]) -> Result<&'a [u8], ClientError> {
        if key.len() > self.max_key_len {
            return Err(ClientError::KeyTooLong {
                limit: self.max_key_len,
            });
        }
        if key.iter().any(|&b| b <= b' ' || b == 0x7f) {
            return Err(ClientError::KeyInvalid);
        }
        Ok(key)
    }

    /// The error for a line that grew past [`TextProtocol::max_line_len`], judged from
    /// the part that arrived: a SET whose key is complete is a value that is too large.
    pub fn overlong_error(&self, prefix: &[u8]) -> ProtocolError {
        let (word, args) = split_word(trim_leading_spaces(prefix));
        let key_complete = trim_leading_spaces(args)
            .iter()
            .position(|&b| b == b' ')
            .is_some_and(|space| space <= self.max_key_len);
        if word.eq_ignore_ascii_case(b"SET") && key_complete {
            ProtocolError::ValueTooLarge {
                limit: self.max_value_len,
            }
        } else {
            ProtocolError::LineTooLong {
                limit: self.max_line_len(),
            }
        }
    }

    /// Appends the reply's line to `out`; [`Reply::Close`] appends nothing.
    pub fn encode(&self, reply: &Reply<'_>, out: &mut Vec<u8>) {
        match reply {
            Reply::Ok => out.extend_from_slice(b"OK\n"),
            Reply::Value(value) => {
                out.extend_from_slice(b"VALUE ");
                encode_base64(value, out);
                out.push(b'\n');
            }
            Reply::NotFound => out.extend_from_slice(b"NOT_FOUND\n"),
            // Writing to a Vec cannot fail.
            Reply::Usage(bytes) => {
                let _ = writeln!(out, "USAGE {bytes}");
            }
            Reply::Pong => out.extend_from_slice(b"PONG\n"),
            // A delete answers as it always has: `OK` if a key was removed.
            Reply::Deleted(0) => out.extend_from_slice(b"NOT_FOUND\n"),
            Reply::Deleted(_) => out.extend_from_slice(b"OK\n"),
            Reply::Close => {}
            Reply::Error(err) => {
                let _ = writeln!(out, "ERROR {err}");
            }
            Reply::Refused(refusal) => {
                let _ = writeln!(out, "ERROR {refusal}");
            }
            Reply::Broken(err) => {
                let _ = writeln!(out, "ERROR {err}");
            }
            Reply::Ttl(-2) | Reply::Expired(false) | Reply::Persisted { exists: false, .. } => {
                out.extend_from_slice(b"NOT_FOUND\n")
            }
            Reply::Ttl(seconds) => {
                let _ = writeln!(out, "TTL {seconds}");
            }
            Reply::Expired(true) | Reply::Persisted { exists: true, .. } => {
                out.extend_from_slice(b"OK\n");
            }
            Reply::Info { report, .. } => {
                out.extend_from_slice(b"INFO ");
                info_line(report, out);
                out.push(b'\n');
            }
            Reply::Integer(n) => {
                let _ = writeln!(out, "INTEGER {n}");
            }
            Reply::Text(text) => {
                out.extend_from_slice(b"VALUE ");
                encode_base64(text.as_bytes(), out);
                out.push(b'\n');
            }
            Reply::Bytes(bytes) => {
                out.extend_from_slice(b"VALUE ");
                encode_base64(bytes, out);
                out.push(b'\n');
            }
            // No line-protocol request produces these.
            Reply::Silent => {}
            Reply::Values(_)
            | Reply::Map(_)
            | Reply::Status(_)
            | Reply::Texts(_)
            | Reply::Queued
            | Reply::Transaction(_)
            | Reply::TransactionAborted
            | Reply::Reset
            | Reply::Scan { .. }
            | Reply::HelpText(_)
            | Reply::Matches { .. }
            | Reply::CommandInfo(_)
            | Reply::CommandDocs(_)
            | Reply::KeysAndFlags(_)
            | Reply::Help(_)
            | Reply::Clients(_)
            | Reply::SlowLog(_)
            | Reply::Memcache(_) => {
                out.extend_from_slice(b"ERROR reply has no line form\n");
            }
        }
    }
}

/// The line protocol as one connection speaks it: the codec, and whether the rest of a
/// refused overlong line is still to be dropped.
#[derive(Debug, Clone)]
pub struct TextWire {
    /// Parser, encoder and limits.
    codec: TextProtocol,
    /// Inside a line that was too long: drop bytes up to its LF.
    discarding: bool,
    /// The command the last parse called, for [`Protocol::call`].
    call: Cell<Option<Call>>,
}

impl TextWire {
    /// A connection's line protocol with the server's limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            codec: TextProtocol::with_limits(limits),
            discarding: false,
            call: Cell::new(None),
        }
    }
}

/// The command of the command table a line's request is counted as: the RESP command
/// that does the same.
fn counted_as(request: &Request<'_>) -> Option<&'static CommandSpec> {
    Some(match request {
        Request::Get { .. } => &table::GET,
        Request::Set { .. } => &table::SET,
        Request::Delete { .. } => &table::DEL,
        Request::Usage => &table::USAGE,
        Request::Ping => &table::PING,
        Request::Quit => &table::QUIT,
        Request::Ttl { .. } => &table::TTL,
        Request::Persist { .. } => &table::PERSIST,
        Request::Expire { .. } | Request::ExpireInvalid { .. } => &table::EXPIRE,
        Request::Info { .. } => &table::INFO,
        Request::Auth { .. } => &table::AUTH,
        _ => return None,
    })
}

impl Protocol for TextWire {
    /// A line up to its LF. While a refused line's rest is being dropped, every byte up
    /// to its LF is skipped, so none of it is buffered.
    fn frame(&mut self, buf: &mut [u8], _session: &Session) -> Frame {
        let Some(len) = memchr::memchr(b'\n', buf) else {
            return if self.discarding && !buf.is_empty() {
                Frame::Skip(buf.len())
            } else {
                Frame::Incomplete
            };
        };
        if std::mem::take(&mut self.discarding) {
            Frame::Skip(len + 1)
        } else if len > self.codec.max_line_len() {
            Frame::Invalid(len + 1, self.codec.overlong_error(&buf[..len]))
        } else {
            Frame::Request(len + 1)
        }
    }

    fn parse<'a>(&'a self, frame: &'a [u8]) -> Result<Request<'a>, ClientError> {
        let request = self.codec.parse(frame.strip_suffix(b"\n").unwrap_or(frame));
        let command = request.as_ref().ok().and_then(counted_as);
        self.call.set(command.map(|command| Call {
            command,
            rejected: false,
        }));
        request
    }

    fn encode(&self, reply: &Reply<'_>, _session: &Session, out: &mut Vec<u8>) {
        self.codec.encode(reply, out);
    }

    fn max_request_len(&self) -> usize {
        self.codec.max_line_len()
    }

    fn overlong(&mut self, buffered: &[u8]) -> ProtocolError {
        self.discarding = true;
        self.codec.overlong_error(buffered)
    }

    fn recovery(&self) -> Recovery {
        Recovery::Skip
    }

    fn call(&self) -> Option<Call> {
        self.call.get()
    }
}

/// The commands other than SET, which has a grammar of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Delete,
    Usage,
    Ping,
    Quit,
    Expire,
    Ttl,
    Persist,
    Info,
}

/// Command words (matched case-insensitively) and what they mean.
const COMMANDS: [(&str, Kind); 11] = [
    ("EXPIRE", Kind::Expire),
    ("TTL", Kind::Ttl),
    ("PERSIST", Kind::Persist),
    ("INFO", Kind::Info),
    ("GET", Kind::Get),
    ("DELETE", Kind::Delete),
    ("DEL", Kind::Delete),
    ("USAGE", Kind::Usage),
    ("STATS", Kind::Usage),
    ("PING", Kind::Ping),
    ("QUIT", Kind::Quit),
];

/// The line protocol's INFO: one line of `key=value` pairs, every value an integer (the
/// memory figures of Redis's `INFO memory` that are integers come last, under its names).
fn info_line(report: &Report, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "keys={} used_bytes={} limit={} hits={} misses={} evictions={} expirations={} connections={} uptime={} used_memory={} used_memory_rss={} used_memory_dataset={} maxmemory={}",
        report.keys,
        report.usage_bytes,
        report.max_bytes,
        report.hits,
        report.misses,
        report.evicted,
        report.expired,
        report.connected,
        report.uptime_secs,
        report.used_memory,
        report.rss_bytes,
        report.usage_bytes,
        report.max_bytes,
    );
}

/// Base64 straight into the output buffer, without an intermediate string.
fn encode_base64(value: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let len = base64::encoded_len(value.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    // Cannot fail: the slice has exactly the encoded length.
    let written = BASE64.encode_slice(value, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

/// Splits off the command word at the first space; the rest follows that space.
fn split_word(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &[]),
    }
}

/// A command word made safe to echo: printable ASCII kept, the rest escaped, shortened.
fn quote(word: &[u8]) -> String {
    let mut quoted: String = word
        .iter()
        .take(MAX_QUOTED_WORD)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if word.len() > MAX_QUOTED_WORD {
        quoted.push_str("...");
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[u8]) -> Result<Request<'_>, ClientError> {
        TextProtocol::new()
            .max_key_len(8)
            .max_value_len(16)
            .parse(line)
    }

    #[test]
    fn parses_every_command() {
        let cases: &[(&[u8], Request<'_>)] = &[
            (
                b"SET user alice",
                Request::Set {
                    key: b"user",
                    value: b"alice",
                },
            ),
            (
                b"set k hello world",
                Request::Set {
                    key: b"k",
                    value: b"hello world",
                },
            ),
            (
                b"SET k ",
                Request::Set {
                    key: b"k",
                    value: b"",
                },
            ),
            (
                b"SET k  two",
                Request::Set {
                    key: b"k",
                    value: b" two",
                },
            ),
            (
                b"SET k \xff\x00\xfe\r",
                Request::Set {
                    key: b"k",
                    value: b"\xff\x00\xfe",
                },
            ),
            (
                b"SET k v\r\r",
                Request::Set {
                    key: b"k",
                    value: b"v\r",
                },
            ),
            (
                b"  SET   k v",
                Request::Set {
                    key: b"k",
                    value: b"v",
                },
            ),
            (b"GET user", Request::Get { key: b"user" }),
            (b"get  user ", Request::Get { key: b"user" }),
            (b"GET user\r", Request::Get { key: b"user" }),
            (b"GET k\xc3\xa9", Request::Get { key: b"k\xc3\xa9" }),
            (b"DELETE user", Request::Delete { key: b"user" }),
            (b"Del user", Request::Delete { key: b"user" }),
            (b"USAGE", Request::Usage),
            (b"stats", Request::Usage),
            (b"PING", Request::Ping),
            (b"QUIT", Request::Quit),
            (b"quit\r", Request::Quit),
        ];
        for (line, expected) in cases {
            assert_eq!(
                parse(line).as_ref(),
                Ok(expected),
                "{:?}",
                line.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn rejects_bad_lines_with_the_right_error() {
        let arity = |cmd| Err(ClientError::Arity { cmd });
        let cases: &[(&[u8], Result<Request<'_>, ClientError>)] = &[
            (b"", Err(ClientError::EmptyLine)),
            (b"\r", Err(ClientError::EmptyLine)),
            (b"   \t ", Err(ClientError::EmptyLine)),
            (b"FOO bar", Err(ClientError::UnknownCommand("FOO".into()))),
            (
                b"G\xffT k",
                Err(ClientError::UnknownCommand("G\\xffT".into())),
            ),
            (b"SET", arity("SET")),
            (b"SET k", arity("SET")),
            (b"SET  ", arity("SET")),
            (b"GET", arity("GET")),
            (b"GET a b", arity("GET")),
            (b"DELETE", arity("DELETE")),
            (b"DEL a b", arity("DEL")),
            (b"USAGE now", arity("USAGE")),
            (b"PING x", arity("PING")),
            (b"QUIT x", arity("QUIT")),
            (b"GET k\tx", Err(ClientError::KeyInvalid)),
            (b"SET k\x00 v", Err(ClientError::KeyInvalid)),
            (b"GET k\x7f", Err(ClientError::KeyInvalid)),
            (b"GET 123456789", Err(ClientError::KeyTooLong { limit: 8 })),
            (
                b"SET 123456789 v",
                Err(ClientError::KeyTooLong { limit: 8 }),
            ),
            (
                b"SET k 12345678901234567",
                Err(ClientError::ValueTooLarge { limit: 16 }),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(
                &parse(line),
                expected,
                "{:?}",
                line.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn unknown_command_is_quoted_short() {
        let word = vec![b'X'; 100];
        let Err(ClientError::UnknownCommand(quoted)) = parse(&word) else {
            panic!("expected an unknown command");
        };
        assert_eq!(quoted, format!("{}...", "X".repeat(MAX_QUOTED_WORD)));
    }

    #[test]
    fn overlong_line_error_depends_on_what_arrived() {
        let protocol = TextProtocol::new().max_key_len(8).max_value_len(16);
        let line_too_long = ProtocolError::LineTooLong {
            limit: 8 + 16 + LINE_OVERHEAD,
        };
        let value_too_large = ProtocolError::ValueTooLarge { limit: 16 };
        assert_eq!(
            protocol.overlong_error(b"SET key vvvvvvvv"),
            value_too_large
        );
        assert_eq!(
            protocol.overlong_error(b"set  key vvvvvvvv"),
            value_too_large
        );
        assert_eq!(
            protocol.overlong_error(b"SET kkkkkkkkkkkkkkkkk"),
            line_too_long
        );
        assert_eq!(protocol.overlong_error(b"GET kkkkkkkk"), line_too_long);
        assert_eq!(protocol.overlong_error(b"xxxxxxxxxxxxxxxx"), line_too_long);
    }

    #[test]
    fn encodes_every_reply() {
        let cases: &[(Reply<'_>, &[u8])] = &[
            (Reply::Ok, b"OK\n"),
            (Reply::Value(b"alice"), b"VALUE YWxpY2U=\n"),
            (Reply::Value(b""), b"VALUE \n"),
            (Reply::Value(b"\x00\xff\xfe"), b"VALUE AP/+\n"),
            (Reply::NotFound, b"NOT_FOUND\n"),
            (Reply::Usage(9), b"USAGE 9\n"),
            (Reply::Pong, b"PONG\n"),
            (Reply::Deleted(1), b"OK\n"),
            (Reply::Deleted(0), b"NOT_FOUND\n"),
            (Reply::Close, b""),
            (Reply::Error(ClientError::EmptyLine), b"ERROR empty line\n"),
            (
                Reply::Error(ClientError::Arity { cmd: "GET" }),
                b"ERROR wrong number of arguments for 'GET'\n",
            ),
        ];
        for (reply, expected) in cases {
            let mut out = b"prefix|".to_vec();
            TextProtocol::new().encode(reply, &mut out);
            assert_eq!(
                out[7..].escape_ascii().to_string(),
                expected.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn base64_of_large_values_round_trips() {
        let value: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        encode_base64(&value, &mut out);
        assert_eq!(BASE64.decode(&out).unwrap(), value);
    }
}
