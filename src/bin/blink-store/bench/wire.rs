//! The bytes on the wire for each protocol: how a GET or SET is encoded, and how its reply
//! is framed and checked against the value the key must hold. Knows no sockets.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use memchr::memchr;

use super::config::Protocol;
use super::workload::{write_key, Op, OpKind, Values, KEY_LEN};

/// A reply claiming to be longer than this is not waited for: it is wrong, and the
/// connection resynchronises on the next line.
pub const MAX_CLAIMED_BYTES: usize = 64 << 20;

/// What ends memcached's reply to a `get`, after the value if there is one.
const MEMCACHE_END: &[u8] = b"END\r\n";

/// How many bytes of a wrong reply an error message quotes.
const QUOTED_BYTES: usize = 80;

/// What a reply said about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A SET was stored, or the echo server sent the request back.
    Done,
    /// A GET found the key with exactly its value.
    Hit,
    /// A GET found no such key.
    Miss,
    /// Anything else: an error reply, a wrong value, or a reply to some other request.
    Wrong,
}

/// The result of looking at the start of the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// The reply has not fully arrived yet.
    Incomplete,
    /// One reply, `len` bytes long, judged.
    Reply {
        /// Bytes the reply takes, to be consumed.
        len: usize,
        /// What it said.
        outcome: Outcome,
    },
}

/// Encodes requests and checks replies for one protocol and one set of values.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The protocol spoken.
    protocol: Protocol,
    /// The value every key must hold at each length.
    values: Values,
    /// Reused for decoded values and echoed lines, so checking never allocates.
    scratch: Vec<u8>,
}

impl Wire {
    /// The encoder and checker of `protocol` for `values`.
    pub fn new(protocol: Protocol, values: Values) -> Self {
        Self {
            protocol,
            values,
            scratch: Vec::new(),
        }
    }

    /// Appends the request for `op` to `out`.
    pub fn encode(&self, op: Op, out: &mut Vec<u8>) {
        let mut key = [0u8; KEY_LEN];
        write_key(op.key, &mut key);
        let parts: [&[u8]; 3] = match (self.protocol, op.kind) {
            (Protocol::Line | Protocol::Echo, OpKind::Get) => [b"GET ", &key, b"\n"],
            (Protocol::Line | Protocol::Echo, OpKind::Set { .. }) => [b"SET ", &key, b" "],
            (Protocol::Resp, OpKind::Get) => [b"*2\r\n$3\r\nGET\r\n$16\r\n", &key, b"\r\n"],
            (Protocol::Resp, OpKind::Set { .. }) => [b"*3\r\n$3\r\nSET\r\n$16\r\n", &key, b"\r\n$"],
            (Protocol::Memcache, OpKind::Get) => [b"get ", &key, b"\r\n"],
            (Protocol::Memcache, OpKind::Set { .. }) => [b"set ", &key, b" 0 0 "],
        };
        parts.iter().for_each(|part| out.extend_from_slice(part));
        let OpKind::Set { value_len } = op.kind else {
            return;
        };
        match self.protocol {
            Protocol::Line | Protocol::Echo => {}
            Protocol::Resp | Protocol::Memcache => {
                push_decimal(value_len, out);
                out.extend_from_slice(b"\r\n");
            }
        }
        self.values.write(op.key, value_len, out);
        out.extend_from_slice(match self.protocol {
            Protocol::Line | Protocol::Echo => b"\n",
            Protocol::Resp | Protocol::Memcache => b"\r\n",
        });
    }

    /// Frames and judges the reply to `op` at the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], op: Op) -> Parse {
        let Some((line, line_len)) = first_line(buf) else {
            return Parse::Incomplete;
        };
        let judged = |outcome| reply(line_len, outcome);
        match (self.protocol, op.kind) {
            (Protocol::Line, OpKind::Set { .. }) => judged(expect(line == b"OK")),
            (Protocol::Line, OpKind::Get) => judged(self.line_get(line, op)),
            (Protocol::Echo, _) => {
                self.scratch.clear();
                let mut request = std::mem::take(&mut self.scratch);
                self.encode(op, &mut request);
                let same = buf[..line_len] == request[..];
                self.scratch = request;
                judged(expect(same))
            }
            (Protocol::Resp, _) if line.starts_with(b"$") => {
                self.resp_bulk(buf, line, line_len, op)
            }
            (Protocol::Resp, kind) => {
                judged(expect(matches!(kind, OpKind::Set { .. }) && line == b"+OK"))
            }
            (Protocol::Memcache, OpKind::Set { .. }) => judged(expect(line == b"STORED")),
            (Protocol::Memcache, OpKind::Get) if line == b"END" => judged(Outcome::Miss),
            (Protocol::Memcache, OpKind::Get) if line.starts_with(b"VALUE ") => {
                self.memcache_value(buf, line, line_len, op)
            }
            (Protocol::Memcache, OpKind::Get) => judged(Outcome::Wrong),
        }
    }

    /// `VALUE <base64>` or `NOT_FOUND`.
    fn line_get(&mut self, line: &[u8], op: Op) -> Outcome {
        if line == b"NOT_FOUND" {
            return Outcome::Miss;
        }
        let Some(encoded) = line.strip_prefix(b"VALUE ") else {
            return Outcome::Wrong;
        };
        self.scratch.clear();
        let decoded = BASE64.decode_vec(encoded, &mut self.scratch).is_ok();
        expect_hit(decoded && self.values.matches(op.key, &self.scratch))
    }

    /// `$-1` or `$<n>` and n bytes of data: a GET's hit or miss, wrong for a SET.
    fn resp_bulk(&self, buf: &[u8], header: &[u8], header_len: usize, op: Op) -> Parse {
        let wrong_line = reply(header_len, Outcome::Wrong);
        if header == b"$-1" {
            let miss = op.kind == OpKind::Get;
            return reply(
                header_len,
                if miss { Outcome::Miss } else { Outcome::Wrong },
            );
        }
        let Some(data_len) = parse_len(&header[1..]) else {
            return wrong_line;
        };
        let Some(data) = data_with_crlf(buf, header_len, data_len) else {
            return Parse::Incomplete;
        };
        let Some(data) = data else {
            return wrong_line;
        };
        let hit = op.kind == OpKind::Get && self.values.matches(op.key, data);
        reply(header_len + data_len + 2, expect_hit(hit))
    }

    /// `VALUE <key> <flags> <n>[ <cas>]`, n bytes of data, then `END`.
    fn memcache_value(&self, buf: &[u8], header: &[u8], header_len: usize, op: Op) -> Parse {
        let wrong_line = reply(header_len, Outcome::Wrong);
        let mut fields = header.split(|&b| b == b' ').skip(1);
        let (Some(key), Some(_flags), Some(len)) = (fields.next(), fields.next(), fields.next())
        else {
            return wrong_line;
        };
        let Some(data_len) = parse_len(len) else {
            return wrong_line;
        };
        let Some(data) = data_with_crlf(buf, header_len, data_len) else {
            return Parse::Incomplete;
        };
        let Some(data) = data else {
            return wrong_line;
        };
        // The value is framed by its length alone: data holding "END\r\n" ends nothing.
        let end_at = header_len + data_len + 2;
        let after = buf.get(end_at..).unwrap_or_default();
        if !after.starts_with(MEMCACHE_END) {
            // Anything but the start of END is wrong now, not worth waiting for.
            if MEMCACHE_END.starts_with(after) {
                return Parse::Incomplete;
            }
            return reply(end_at, Outcome::Wrong);
        }
        let mut expected_key = [0u8; KEY_LEN];
        write_key(op.key, &mut expected_key);
        let hit = key == expected_key && self.values.matches(op.key, data);
        reply(end_at + MEMCACHE_END.len(), expect_hit(hit))
    }

    /// Appends the request that gives `password` (AUTH), sent first on a connection to a
    /// server that requires one.
    ///
    /// # Errors
    /// Why the protocol cannot give this password: memcached's text protocol and the echo
    /// server have no AUTH, and the line protocol cannot carry a line end.
    pub fn encode_auth(&self, password: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
        match self.protocol {
            Protocol::Line if password.contains(&b'\n') || password.ends_with(b"\r") => Err(
                "the line protocol cannot carry a password with a line end; use --protocol resp",
            ),
            Protocol::Line => {
                out.extend_from_slice(b"AUTH ");
                out.extend_from_slice(password);
                out.push(b'\n');
                Ok(())
            }
            Protocol::Resp => {
                out.extend_from_slice(b"*2\r\n$4\r\nAUTH\r\n$");
                push_decimal(password.len(), out);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(password);
                out.extend_from_slice(b"\r\n");
                Ok(())
            }
            Protocol::Memcache => Err("memcached's text protocol has no AUTH"),
            Protocol::Echo => Err("the echo server takes no password"),
        }
    }

    /// Whether `line` (without its line end) accepts the password [`Wire::encode_auth`]
    /// gave.
    pub fn auth_accepted(&self, line: &[u8]) -> bool {
        match self.protocol {
            Protocol::Line => line == b"OK",
            Protocol::Resp => line == b"+OK",
            Protocol::Memcache | Protocol::Echo => false,
        }
    }

    /// A one-line description of a wrong reply to `op`, for the error report.
    pub fn describe(&self, op: Op, bytes: &[u8]) -> String {
        let mut key = [0u8; KEY_LEN];
        write_key(op.key, &mut key);
        let size = self.values.sizes();
        let expected = match (self.protocol, op.kind) {
            (Protocol::Line, OpKind::Get) => {
                format!("VALUE <base64 of its {size}-byte value> or NOT_FOUND")
            }
            (Protocol::Line, OpKind::Set { .. }) => "OK".into(),
            (Protocol::Resp, OpKind::Get) => format!("${size} with its value, or $-1"),
            (Protocol::Resp, OpKind::Set { .. }) => "+OK".into(),
            (Protocol::Memcache, OpKind::Get) => {
                format!("VALUE with its {size}-byte value then END, or END")
            }
            (Protocol::Memcache, OpKind::Set { .. }) => "STORED".into(),
            (Protocol::Echo, _) => "the request line back".into(),
        };
        let kind = match op.kind {
            OpKind::Get => "GET",
            OpKind::Set { .. } => "SET",
        };
        let shown = &bytes[..bytes.len().min(QUOTED_BYTES)];
        format!(
            "{kind} {}: expected {expected}, got \"{}\"",
            key.escape_ascii(),
            shown.escape_ascii()
        )
    }
}

/// Appends `n` in decimal, as RESP and memcached headers carry a value's length, without
/// allocating.
fn push_decimal(mut n: usize, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10, so the cast is exact.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The first line of `buf` without its CR LF (or LF), and the bytes it takes with them.
pub fn first_line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let lf = memchr(b'\n', buf)?;
    let line = &buf[..lf];
    Some((line.strip_suffix(b"\r").unwrap_or(line), lf + 1))
}

/// `n` bytes of data after a `start`-byte header, if they and their CR LF have arrived:
/// `Some(None)` when the CR LF is missing.
fn data_with_crlf(buf: &[u8], start: usize, n: usize) -> Option<Option<&[u8]>> {
    let framed = buf.get(start..start + n + 2)?;
    Some(framed.strip_suffix(b"\r\n"))
}

/// A decimal length, refused past [`MAX_CLAIMED_BYTES`].
fn parse_len(text: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    text.parse().ok().filter(|&n| n <= MAX_CLAIMED_BYTES)
}

/// A whole reply of `len` bytes, judged.
fn reply(len: usize, outcome: Outcome) -> Parse {
    Parse::Reply { len, outcome }
}

/// `Done` when the reply is the one expected, else `Wrong`.
fn expect(right: bool) -> Outcome {
    if right {
        Outcome::Done
    } else {
        Outcome::Wrong
    }
}

/// `Hit` when the value is the one expected, else `Wrong`.
fn expect_hit(right: bool) -> Outcome {
    if right {
        Outcome::Hit
    } else {
        Outcome::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::config::ValueSize;

    fn wire(protocol: Protocol) -> Wire {
        Wire::new(protocol, Values::new(ValueSize::fixed(5)))
    }

    const GET: Op = Op {
        kind: OpKind::Get,
        key: 3,
    };
    const SET: Op = Op {
        kind: OpKind::Set { value_len: 5 },
        key: 3,
    };

    fn encoded(protocol: Protocol, op: Op) -> String {
        let mut out = Vec::new();
        wire(protocol).encode(op, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn judge(protocol: Protocol, op: Op, reply: &[u8]) -> Parse {
        wire(protocol).parse(reply, op)
    }

    #[test]
    fn a_password_is_given_where_the_protocol_has_auth() {
        let auth = |protocol, password: &[u8]| {
            let mut out = Vec::new();
            wire(protocol)
                .encode_auth(password, &mut out)
                .map(|()| String::from_utf8(out).unwrap())
        };
        assert_eq!(auth(Protocol::Line, b"pa ss"), Ok("AUTH pa ss\n".into()));
        assert_eq!(
            auth(Protocol::Resp, b"pa\nss"),
            Ok("*2\r\n$4\r\nAUTH\r\n$5\r\npa\nss\r\n".into())
        );
        assert!(auth(Protocol::Line, b"pa\nss").is_err());
        assert!(auth(Protocol::Line, b"pass\r").is_err());
        assert!(auth(Protocol::Memcache, b"pass").is_err());
        assert!(auth(Protocol::Echo, b"pass").is_err());
        assert!(wire(Protocol::Line).auth_accepted(b"OK"));
        assert!(wire(Protocol::Resp).auth_accepted(b"+OK"));
        assert!(!wire(Protocol::Resp).auth_accepted(b"-WRONGPASS nope"));
        assert!(!wire(Protocol::Line).auth_accepted(b"ERROR NOAUTH"));
    }

    #[test]
    fn requests_are_encoded_per_protocol() {
        let value = "00003";
        assert_eq!(encoded(Protocol::Line, GET), "GET key:000000000003\n");
        assert!(encoded(Protocol::Line, SET).starts_with("SET key:000000000003 00003"));
        assert_eq!(
            encoded(Protocol::Resp, GET),
            "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000003\r\n"
        );
        assert_eq!(
            encoded(Protocol::Resp, SET),
            format!("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000003\r\n$5\r\n{value}\r\n")
        );
        assert_eq!(encoded(Protocol::Memcache, GET), "get key:000000000003\r\n");
        assert_eq!(
            encoded(Protocol::Memcache, SET),
            format!("set key:000000000003 0 0 5\r\n{value}\r\n")
        );
    }

    #[test]
    fn replies_are_framed_and_judged() {
        use Outcome::{Done, Hit, Miss, Wrong};
        use Protocol::{Line, Memcache, Resp};
        let hit = format!("VALUE {}\n", BASE64.encode("00003"));
        let other = format!("VALUE {}\n", BASE64.encode("00004"));
        let mc_hit = b"VALUE key:000000000003 0 5\r\n00003\r\nEND\r\n";
        let mc_other = b"VALUE key:000000000004 0 5\r\n00003\r\nEND\r\n";
        let table: &[(Protocol, Op, &[u8], Parse)] = &[
            (Line, SET, b"OK\n", reply(3, Done)),
            (Line, SET, b"OK", Parse::Incomplete),
            (Line, GET, hit.as_bytes(), reply(hit.len(), Hit)),
            (Line, GET, b"NOT_FOUND\r\nOK\n", reply(11, Miss)),
            (Line, GET, other.as_bytes(), reply(other.len(), Wrong)),
            (Line, GET, b"VALUE !!\n", reply(9, Wrong)),
            (Line, SET, b"ERROR unknown command\n", reply(22, Wrong)),
            (Resp, SET, b"+OK\r\n", reply(5, Done)),
            (Resp, GET, b"$5\r\n00003\r\n", reply(11, Hit)),
            (Resp, GET, b"$5\r\n0000", Parse::Incomplete),
            (Resp, GET, b"$5\r\n00004\r\n", reply(11, Wrong)),
            (Resp, GET, b"$-1\r\n", reply(5, Miss)),
            (Resp, GET, b"$5\r\n00003xx", reply(4, Wrong)),
            (Resp, SET, b"-ERR wrong\r\n", reply(12, Wrong)),
            (Resp, GET, b"+OK\r\n", reply(5, Wrong)),
            (Resp, GET, b"$99999999999\r\n", reply(14, Wrong)),
            (Memcache, SET, b"STORED\r\n", reply(8, Done)),
            (Memcache, GET, mc_hit, reply(mc_hit.len(), Hit)),
            (
                Memcache,
                GET,
                &mc_hit[..mc_hit.len() - 1],
                Parse::Incomplete,
            ),
            (Memcache, GET, b"END\r\n", reply(5, Miss)),
            (Memcache, GET, mc_other, reply(mc_other.len(), Wrong)),
            (Memcache, GET, b"ERROR\r\n", reply(7, Wrong)),
            (
                Memcache,
                SET,
                b"SERVER_ERROR out of memory\r\n",
                reply(28, Wrong),
            ),
        ];
        for (protocol, op, bytes, expected) in table {
            let got = judge(*protocol, *op, bytes);
            assert_eq!(
                got,
                *expected,
                "{protocol:?} {op:?} {:?}",
                bytes.escape_ascii().to_string()
            );
        }
    }

    /// Judges each reply of `stream` as it arrives one byte at a time, as a connection
    /// would over the slowest network, checking nothing is judged before it has all come.
    fn judge_byte_by_byte(protocol: Protocol, ops: &[Op], stream: &[u8]) -> Vec<Outcome> {
        let mut wire = wire(protocol);
        let (mut start, mut end) = (0, 0);
        let mut outcomes = Vec::new();
        for &op in ops {
            loop {
                match wire.parse(&stream[start..end], op) {
                    Parse::Reply { len, outcome } => {
                        assert!(len <= end - start, "{op:?} took unread bytes");
                        outcomes.push(outcome);
                        start += len;
                        break;
                    }
                    Parse::Incomplete => {
                        assert!(end < stream.len(), "{op:?} waits past the stream's end");
                        end += 1;
                    }
                }
            }
        }
        assert_eq!(start, stream.len(), "bytes left unjudged");
        outcomes
    }

    #[test]
    fn memcache_replies_are_judged_whole_however_they_are_split() {
        use Outcome::{Done, Hit, Miss, Wrong};
        let miss = Op {
            kind: OpKind::Get,
            key: 4,
        };
        let stream = [
            &b"STORED\r\n"[..],
            b"VALUE key:000000000003 0 5\r\n00003\r\nEND\r\n",
            b"END\r\n",
            // A value is framed by its length: the END inside it ends nothing.
            b"VALUE key:000000000003 0 5\r\nEND\r\n\r\nEND\r\n",
            // With the cas field that `gets` adds, and flags.
            b"VALUE key:000000000003 7 5 99\r\n00003\r\nEND\r\n",
            b"SERVER_ERROR out of memory storing object\r\n",
            b"VALUE key:000000000003 0 5\r\n00003\r\nEND\r\n",
        ]
        .concat();
        let ops = [SET, GET, miss, GET, GET, SET, GET];
        assert_eq!(
            judge_byte_by_byte(Protocol::Memcache, &ops, &stream),
            [Done, Hit, Miss, Wrong, Hit, Wrong, Hit]
        );
    }

    #[test]
    fn a_memcache_reply_that_cannot_end_well_is_wrong_without_waiting() {
        use Outcome::Wrong;
        let hit = b"VALUE key:000000000003 0 5\r\n00003\r\n";
        let table: &[(&[u8], Parse)] = &[
            (&hit[..], Parse::Incomplete),
            (
                b"VALUE key:000000000003 0 5\r\n00003\r\nEN",
                Parse::Incomplete,
            ),
            // The value and its line end are consumed; what follows is the next reply's.
            (
                b"VALUE key:000000000003 0 5\r\n00003\r\nEXTRA\r\n",
                reply(hit.len(), Wrong),
            ),
            (
                b"VALUE key:000000000003 0 5\r\n00003\r\nVALUE",
                reply(hit.len(), Wrong),
            ),
            (
                b"VALUE key:000000000003 0 5\r\n00003\r\nX",
                reply(hit.len(), Wrong),
            ),
            // A length the data does not end at: only the header line is consumed.
            (
                b"VALUE key:000000000003 0 4\r\n00003\r\nEND\r\n",
                reply(28, Wrong),
            ),
        ];
        for (bytes, expected) in table {
            let got = judge(Protocol::Memcache, GET, bytes);
            assert_eq!(got, *expected, "{:?}", bytes.escape_ascii().to_string());
        }
        let wrong_lines: &[&[u8]] = &[
            b"VALUE key:000000000003 0\r\n",
            b"VALUE key:000000000003 0 -5\r\n",
            b"VALUE key:000000000003 0 999999999999\r\n",
            b"STORED\r\n",
            b"CLIENT_ERROR bad data chunk\r\n",
        ];
        for bytes in wrong_lines {
            let got = judge(Protocol::Memcache, GET, bytes);
            let expected = reply(bytes.len(), Wrong);
            assert_eq!(got, expected, "{:?}", bytes.escape_ascii().to_string());
        }
        assert_eq!(
            judge(Protocol::Memcache, SET, b"END\r\n"),
            reply(5, Wrong),
            "a GET's reply to a SET"
        );
    }

    #[test]
    fn mixed_sizes_carry_each_length_and_accept_any_in_range() {
        let sizes = ValueSize::range(1, 1000).unwrap();
        let mut resp = Wire::new(Protocol::Resp, Values::new(sizes));
        let memcache = Wire::new(Protocol::Memcache, Values::new(sizes));
        for value_len in [1, 9, 10, 999, 1000] {
            let set = Op {
                kind: OpKind::Set { value_len },
                key: 3,
            };
            let mut request = Vec::new();
            resp.encode(set, &mut request);
            let header = format!("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000003\r\n${value_len}\r\n");
            assert!(request.starts_with(header.as_bytes()), "{value_len}");
            let value = &request[header.len()..request.len() - 2];
            assert_eq!(value.len(), value_len);

            let mut reply = format!("${value_len}\r\n").into_bytes();
            reply.extend_from_slice(value);
            reply.extend_from_slice(b"\r\n");
            assert_eq!(
                resp.parse(&reply, GET),
                super::reply(reply.len(), Outcome::Hit)
            );

            let mut request = Vec::new();
            memcache.encode(set, &mut request);
            let header = format!("set key:000000000003 0 0 {value_len}\r\n");
            assert!(request.starts_with(header.as_bytes()), "{value_len}");
            assert_eq!(&request[header.len()..request.len() - 2], value);
        }
        let mut too_long = vec![b'0'; 1001];
        too_long.extend_from_slice(b"\r\n");
        let mut reply = b"$1001\r\n".to_vec();
        reply.extend_from_slice(&too_long);
        assert_eq!(
            resp.parse(&reply, GET),
            super::reply(reply.len(), Outcome::Wrong)
        );
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 16_384, usize::MAX] {
            let mut out = b"$".to_vec();
            push_decimal(n, &mut out);
            assert_eq!(out, format!("${n}").into_bytes());
        }
    }

    #[test]
    fn echo_expects_the_request_back() {
        let line = encoded(Protocol::Echo, SET);
        let echoed = judge(Protocol::Echo, SET, line.as_bytes());
        assert_eq!(echoed, reply(line.len(), Outcome::Done));
        assert_eq!(
            judge(Protocol::Echo, GET, b"GET key:000000000004\n"),
            reply(21, Outcome::Wrong)
        );
    }

    #[test]
    fn wrong_replies_are_described() {
        let message = wire(Protocol::Line).describe(SET, b"ERROR unknown command\n");
        assert_eq!(
            message,
            r#"SET key:000000000003: expected OK, got "ERROR unknown command\n""#
        );
    }
}
