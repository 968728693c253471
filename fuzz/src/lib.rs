//! Checks shared by the fuzz targets: what a well-formed reply looks like on each wire,
//! and replies built from a parsed request so the encoders see the request's bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use blink_store::protocol::info::Report;
use blink_store::protocol::{ClientError, ConfigQuery, Field, Reply, Request};

/// The first words of every line-protocol reply.
const TEXT_REPLY_WORDS: [&[u8]; 9] = [
    b"OK",
    b"VALUE",
    b"NOT_FOUND",
    b"USAGE",
    b"PONG",
    b"ERROR",
    b"TTL",
    b"INFO",
    b"INTEGER",
];

/// Escaped bytes, for assertion messages.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Checks one line-protocol reply line, with its LF; `None` on success, else why not.
pub fn text_line_error(line: &[u8]) -> Option<&'static str> {
    let Some(body) = line.strip_suffix(b"\n") else {
        return Some("a reply line does not end with LF");
    };
    if body.contains(&b'\n') {
        return Some("a reply line holds an LF before its end");
    }
    let word = body.split(|&b| b == b' ').next().unwrap_or_default();
    if !TEXT_REPLY_WORDS.contains(&word) {
        return Some("a reply line starts with an unknown word");
    }
    if word == b"VALUE" {
        let encoded = body.get(6..).unwrap_or_default();
        if BASE64.decode(encoded).is_err() {
            return Some("a VALUE reply is not base64");
        }
    }
    None
}

/// Checks that `out` is a sequence of whole line-protocol reply lines; returns how many.
pub fn check_text_stream(out: &[u8]) -> usize {
    if out.is_empty() {
        return 0;
    }
    assert!(
        out.ends_with(b"\n"),
        "replies end mid-line: {}",
        show(out.get(out.len().saturating_sub(200)..).unwrap_or(out))
    );
    let mut count = 0;
    for line in out.split_inclusive(|&b| b == b'\n') {
        if let Some(why) = text_line_error(line) {
            panic!("{why}: {}", show(line));
        }
        count += 1;
    }
    count
}

/// Encodes `reply` with the line protocol and checks it is one well-formed line (or
/// nothing, for [`Reply::Close`]), and that a value comes back intact.
pub fn check_text_encoding(
    protocol: &blink_store::protocol::text::TextProtocol,
    reply: &Reply<'_>,
) {
    let mut out = b"x".to_vec();
    protocol.encode(reply, &mut out);
    let line = &out[1..];
    if matches!(reply, Reply::Close) {
        assert!(line.is_empty(), "Close wrote {}", show(line));
        return;
    }
    if let Some(why) = text_line_error(line) {
        panic!("{why}: {reply:?} encoded as {}", show(line));
    }
    if let Reply::Value(value) = reply {
        let encoded = &line[6..line.len() - 1];
        let decoded = BASE64.decode(encoded).expect("checked above");
        assert_eq!(&decoded[..], *value, "VALUE does not round-trip");
    }
}

/// Which RESP types a reply may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespVersion {
    /// RESP2 only: no `_` nulls, no `%` maps.
    Two,
    /// RESP3 only: no `$-1` nulls.
    Three,
    /// Either (a connection may switch with HELLO).
    Any,
}

/// The length of the one RESP value at the start of `buf`, or why it is malformed.
pub fn resp_value_len(buf: &[u8], version: RespVersion) -> Result<usize, String> {
    let line_end = |from: usize| -> Result<usize, String> {
        let rest = buf.get(from..).unwrap_or_default();
        let cr = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .ok_or_else(|| format!("unterminated line at {from}"))?;
        if rest.get(cr..cr + 2) != Some(b"\r\n") {
            return Err(format!("a bare CR or LF inside a line at {}", from + cr));
        }
        Ok(from + cr)
    };
    let number = |from: usize, end: usize| -> Result<i64, String> {
        let digits = &buf[from..end];
        std::str::from_utf8(digits)
            .ok()
            .filter(|s| !s.is_empty() && !s.starts_with('+'))
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| format!("not a number: {}", show(digits)))
    };
    let Some(&kind) = buf.first() else {
        return Err("empty reply".into());
    };
    let end = line_end(1)?;
    let next = end + 2;
    match kind {
        b'+' => Ok(next),
        b'-' => {
            if end == 1 {
                return Err("an empty error".into());
            }
            Ok(next)
        }
        b':' => number(1, end).map(|_| next),
        b'_' => {
            if version == RespVersion::Two {
                return Err("a RESP3 null in RESP2".into());
            }
            if end != 1 {
                return Err("a null with a payload".into());
            }
            Ok(next)
        }
        b'$' | b'=' => {
            if kind == b'=' && version == RespVersion::Two {
                return Err("a RESP3 verbatim string in RESP2".into());
            }
            let len = number(1, end)?;
            if len == -1 {
                if version == RespVersion::Three {
                    return Err("a RESP2 null in RESP3".into());
                }
                return Ok(next);
            }
            let len = usize::try_from(len).map_err(|_| format!("bulk length {len}"))?;
            let after = next + len;
            if buf.get(after..after + 2) != Some(b"\r\n") {
                return Err(format!(
                    "a bulk string of {len} bytes is not followed by CRLF"
                ));
            }
            Ok(after + 2)
        }
        b'*' | b'%' | b'~' => {
            if kind != b'*' && version == RespVersion::Two {
                return Err("a RESP3 map or set in RESP2".into());
            }
            let count = number(1, end)?;
            // EXEC's null array, in RESP2.
            if kind == b'*' && count == -1 {
                if version == RespVersion::Three {
                    return Err("a RESP2 null array in RESP3".into());
                }
                return Ok(next);
            }
            let count = usize::try_from(count).map_err(|_| format!("aggregate count {count}"))?;
            let items = if kind == b'%' { count * 2 } else { count };
            let mut pos = next;
            for _ in 0..items {
                pos += resp_value_len(&buf[pos..], version)?;
            }
            Ok(pos)
        }
        other => Err(format!("unknown reply type {}", show(&[other]))),
    }
}

/// Checks that `out` is a sequence of whole RESP values; returns how many.
pub fn check_resp_stream(out: &[u8], version: RespVersion) -> usize {
    let mut pos = 0;
    let mut count = 0;
    while pos < out.len() {
        match resp_value_len(&out[pos..], version) {
            Ok(len) => pos += len,
            Err(why) => panic!(
                "malformed RESP reply at byte {pos}: {why}: {}",
                show(&out[pos..out.len().min(pos + 300)])
            ),
        }
        count += 1;
    }
    count
}

/// Encodes `reply` with `protocol` and checks it is exactly one well-formed RESP value.
pub fn check_resp_encoding(
    protocol: &blink_store::protocol::resp::RespProtocol,
    version: RespVersion,
    reply: &Reply<'_>,
) {
    let mut out = b"x".to_vec();
    protocol.encode(reply, &mut out);
    let out = &out[1..];
    match resp_value_len(out, version) {
        Ok(len) if len == out.len() => {}
        Ok(len) => panic!(
            "{reply:?} encoded as one value of {len} bytes and {} more: {}",
            out.len() - len,
            show(out)
        ),
        Err(why) => panic!("{reply:?} encoded malformed ({why}): {}", show(out)),
    }
    if let Reply::Value(value) = reply {
        let header = format!("${}\r\n", value.len());
        assert_eq!(
            &out[header.len()..out.len() - 2],
            *value,
            "bulk string differs"
        );
    }
}

/// Replies that carry the request's own bytes, shaped as the commands' real replies are,
/// so the encoders see arbitrary keys, values and names.
pub fn replies_for<'a>(request: &Request<'a>) -> Vec<Reply<'a>> {
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match *request {
        Request::Get { key, .. }
        | Request::GetDel { key, .. }
        | Request::GetEx { key, .. }
        | Request::StrLen { key, .. } => vec![Reply::Value(key), Reply::NotFound],
        Request::Set { key, value, .. }
        | Request::SetWith { key, value, .. }
        | Request::SetNx { key, value, .. }
        | Request::Append { key, value, .. } => {
            vec![Reply::Value(value), Reply::Value(key), Reply::Ok]
        }
        Request::MGet { keys, .. } | Request::Exists { keys, .. } => vec![
            Reply::Values(keys.iter().map(Some).collect()),
            Reply::Values(
                keys.iter()
                    .enumerate()
                    .map(|(i, key)| (i % 2 == 0).then_some(key))
                    .collect(),
            ),
            Reply::Integer(i64::try_from(keys.len()).unwrap_or(i64::MAX)),
        ],
        Request::MSet { pairs, .. } => vec![Reply::Values(pairs.iter().map(Some).collect())],
        Request::Delete { .. } => vec![Reply::Deleted(1), Reply::Deleted(0)],
        Request::DeleteMany { keys, .. } => {
            vec![Reply::Deleted(keys.len() as u64), Reply::Deleted(0)]
        }
        Request::IncrBy { delta, .. } => vec![Reply::Integer(delta), Reply::Integer(i64::MIN)],
        Request::Echo { message, .. } => vec![Reply::Value(message), Reply::Text(lossy(message))],
        Request::Info { sections } => {
            let report = Report {
                keys: 1,
                usage_bytes: 9,
                ..Report::default()
            };
            vec![Reply::Info {
                report: Box::new(report),
                sections,
            }]
        }
        Request::ClientSetName { name, .. } => vec![Reply::Ok, Reply::Text(lossy(name))],
        Request::Select { db, .. } => vec![Reply::Error(ClientError::UnknownSubcommand {
            sub: lossy(db),
            cmd: "SELECT",
        })],
        Request::Hello { version, name, .. } => vec![Reply::Map(vec![
            ("server".into(), Field::Text("redis".into())),
            ("proto".into(), Field::Integer(3)),
            (
                "version".into(),
                Field::Text(lossy(version.unwrap_or_default())),
            ),
            ("name".into(), Field::Text(lossy(name.unwrap_or_default()))),
            ("modules".into(), Field::Empty),
        ])],
        Request::Config(ConfigQuery::Get(patterns)) => vec![Reply::Map(
            patterns
                .iter()
                .map(|pattern| (lossy(pattern), Field::Text(lossy(pattern))))
                .collect(),
        )],
        Request::Ttl { .. } => vec![Reply::Ttl(-2), Reply::Ttl(-1), Reply::Ttl(i64::MAX)],
        Request::Expire { .. } | Request::Persist { .. } => vec![
            Reply::Expired(true),
            Reply::Expired(false),
            Reply::Persisted {
                exists: true,
                removed: false,
            },
        ],
        // RESP integers are signed 64-bit; a byte count never gets near 2^63.
        Request::Usage | Request::DbSize => vec![Reply::Usage(i64::MAX as u64), Reply::Usage(0)],
        Request::Ping => vec![Reply::Pong],
        Request::Quit => vec![Reply::Close],
        _ => vec![Reply::Ok],
    }
}
