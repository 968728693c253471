//! RESP's keyspace commands with options: SCAN, COPY, OBJECT, MEMORY and RESTORE, read
//! as Redis 7.0 reads them, options left to right, each error where Redis raises it.

use super::keyspace::{HelpTopic, ObjectField, RestoreOptions};
use super::resp_commands::Command;
use super::{ClientError, Request};
use crate::decimal::parse_integer;

/// SCAN's COUNT when none is given, as in Redis.
const DEFAULT_SCAN_COUNT: usize = 10;

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]`: the cursor first, then options in
/// any order, a repeated one overriding the earlier.
pub(super) fn parse_scan<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let cursor = parse_cursor(c.arg(1)).ok_or(ClientError::InvalidCursor)?;
    let (mut pattern, mut count, mut type_name) = (None, DEFAULT_SCAN_COUNT, None);
    let mut i = 2;
    while i < c.len() {
        let option = c.arg(i);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes()) && i + 1 < c.len();
        if is("count") {
            let n = c.integer(i + 1)?;
            if n < 1 {
                return Err(ClientError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is("match") {
            pattern = Some(c.arg(i + 1));
        } else if is("type") {
            type_name = Some(c.arg(i + 1));
        } else {
            return Err(ClientError::Syntax);
        }
        i += 2;
    }
    Ok(Request::Scan {
        cursor,
        pattern,
        count,
        type_name,
    })
}

/// A SCAN cursor as Redis reads one with C's `strtoul`: decimal digits after an optional
/// sign (a `-` negates modulo 2^64), up to the end or a NUL byte; no digits at all reads
/// as 0 only for an empty argument. A leading space, any other byte, or a value past 64
/// bits is refused.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let text = arg.split(|&byte| byte == 0).next().unwrap_or_default();
    if arg
        .first()
        .is_some_and(|&byte| byte.is_ascii_whitespace() || byte == 0x0b)
    {
        return None;
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        // strtoul read nothing and points at the start: fine only if that is the end.
        return text.is_empty().then_some(0);
    }
    let mut value: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// `COPY source destination [DB n] [REPLACE]`. Only database 0 exists, so any other is
/// refused where Redis refuses a database beyond its count.
pub(super) fn parse_copy<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let (from, to) = (c.key(1)?, c.key(2)?);
    let mut replace = false;
    let mut i = 3;
    while i < c.len() {
        let option = c.arg(i);
        if option.eq_ignore_ascii_case(b"replace") {
            replace = true;
            i += 1;
        } else if option.eq_ignore_ascii_case(b"db") && i + 1 < c.len() {
            let db = i32::try_from(c.integer(i + 1)?).map_err(|_| ClientError::NotAnInt32)?;
            if db != 0 {
                return Err(ClientError::DbIndexOutOfRange);
            }
            i += 2;
        } else {
            return Err(ClientError::Syntax);
        }
    }
    Ok(Request::Copy { from, to, replace })
}

/// `OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key` and `OBJECT HELP`, with Redis's errors
/// for a wrong count of arguments to each subcommand.
pub(super) fn parse_object<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let sub = c.arg(1);
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let (field, arity) = if is("help") {
        if c.len() != 2 {
            return Err(ClientError::RespArity { cmd: "object|help" });
        }
        return Ok(Request::HelpTopic {
            topic: HelpTopic::Object,
        });
    } else if is("encoding") {
        (ObjectField::Encoding, "object|encoding")
    } else if is("freq") {
        (ObjectField::Freq, "object|freq")
    } else if is("idletime") {
        (ObjectField::IdleTime, "object|idletime")
    } else if is("refcount") {
        (ObjectField::RefCount, "object|refcount")
    } else {
        return Err(unknown_subcommand(sub, "OBJECT"));
    };
    if c.len() != 3 {
        return Err(ClientError::RespArity { cmd: arity });
    }
    Ok(Request::Object {
        key: c.key(2)?,
        field,
    })
}

/// `MEMORY USAGE key [SAMPLES n]` (SAMPLES is checked, and has nothing to sample: a
/// value is one string) and `MEMORY HELP`.
pub(super) fn parse_memory<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let sub = c.arg(1);
    if sub.eq_ignore_ascii_case(b"help") {
        if c.len() != 2 {
            return Err(ClientError::RespArity { cmd: "memory|help" });
        }
        return Ok(Request::HelpTopic {
            topic: HelpTopic::Memory,
        });
    }
    if !sub.eq_ignore_ascii_case(b"usage") {
        return Err(unknown_subcommand(sub, "MEMORY"));
    }
    if c.len() < 3 {
        return Err(ClientError::RespArity {
            cmd: "memory|usage",
        });
    }
    let mut i = 3;
    while i < c.len() {
        if !c.arg(i).eq_ignore_ascii_case(b"samples") || i + 1 >= c.len() {
            return Err(ClientError::Syntax);
        }
        if c.integer(i + 1)? < 0 {
            return Err(ClientError::Syntax);
        }
        i += 2;
    }
    Ok(Request::MemoryUsage { key: c.key(2)? })
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`: IDLETIME and FREQ
/// exclude each other. The time to live is read here but judged after the key, as Redis
/// orders its errors.
pub(super) fn parse_restore<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    let mut options = RestoreOptions::default();
    let mut i = 4;
    while i < c.len() {
        let option = c.arg(i);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        let has_value = i + 1 < c.len();
        if is("replace") {
            options.replace = true;
        } else if is("absttl") {
            options.absolute = true;
        } else if is("idletime") && has_value && options.freq.is_none() {
            i += 1;
            let secs = u64::try_from(c.integer(i)?).map_err(|_| ClientError::InvalidIdleTime)?;
            options.idle_secs = Some(secs);
        } else if is("freq") && has_value && options.idle_secs.is_none() {
            i += 1;
            let freq = u8::try_from(c.integer(i)?).map_err(|_| ClientError::InvalidFreq)?;
            options.freq = Some(freq);
        } else {
            return Err(ClientError::Syntax);
        }
        i += 1;
    }
    Ok(Request::Restore {
        key,
        ttl_ms: parse_integer(c.arg(2)),
        payload: c.arg(3),
        options,
    })
}

fn unknown_subcommand(sub: &[u8], cmd: &'static str) -> ClientError {
    ClientError::UnknownSubcommand {
        sub: String::from_utf8_lossy(sub).into_owned(),
        cmd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::RespProtocol;

    /// `args` as a RESP multibulk, framed and parsed.
    fn parsed(args: &[&[u8]], check: impl FnOnce(Result<Request<'_>, ClientError>)) {
        let mut buf = Vec::new();
        buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            buf.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            buf.extend_from_slice(arg);
            buf.extend_from_slice(b"\r\n");
        }
        let protocol = RespProtocol::new();
        let mut ranges = Vec::new();
        assert_eq!(protocol.frame(&mut buf, &mut ranges), Ok(Some(buf.len())));
        check(protocol.parse(&buf, &ranges));
    }

    #[test]
    fn options_are_read_as_redis_reads_them() {
        let cases: &[(&[&[u8]], Request<'_>)] = &[
            (
                &[b"SCAN", b"0"],
                Request::Scan {
                    cursor: 0,
                    pattern: None,
                    count: 10,
                    type_name: None,
                },
            ),
            (
                &[
                    b"scan", b"7", b"count", b"3", b"MATCH", b"a*", b"type", b"x", b"COUNT", b"5",
                ],
                Request::Scan {
                    cursor: 7,
                    pattern: Some(b"a*"),
                    count: 5,
                    type_name: Some(b"x"),
                },
            ),
            (&[b"KEYS", b"*"], Request::Keys { pattern: b"*" }),
            (&[b"RANDOMKEY"], Request::RandomKey),
            (
                &[b"RENAMENX", b"a", b"b"],
                Request::Rename {
                    from: b"a",
                    to: b"b",
                    replace: false,
                },
            ),
            (
                &[b"COPY", b"a", b"b", b"db", b"0", b"REPLACE"],
                Request::Copy {
                    from: b"a",
                    to: b"b",
                    replace: true,
                },
            ),
            (
                &[b"OBJECT", b"Freq", b"k"],
                Request::Object {
                    key: b"k",
                    field: ObjectField::Freq,
                },
            ),
            (
                &[
                    b"MEMORY", b"usage", b"k", b"SAMPLES", b"0", b"samples", b"9",
                ],
                Request::MemoryUsage { key: b"k" },
            ),
            (
                &[b"MEMORY", b"HELP"],
                Request::HelpTopic {
                    topic: HelpTopic::Memory,
                },
            ),
            (
                &[
                    b"RESTORE",
                    b"k",
                    b"x",
                    b"p",
                    b"IDLETIME",
                    b"5",
                    b"IDLETIME",
                    b"6",
                    b"ABSTTL",
                ],
                Request::Restore {
                    key: b"k",
                    ttl_ms: None,
                    payload: b"p",
                    options: RestoreOptions {
                        absolute: true,
                        idle_secs: Some(6),
                        ..RestoreOptions::default()
                    },
                },
            ),
            (
                &[b"RESTORE", b"k", b"-5", b"p", b"FREQ", b"255", b"REPLACE"],
                Request::Restore {
                    key: b"k",
                    ttl_ms: Some(-5),
                    payload: b"p",
                    options: RestoreOptions {
                        replace: true,
                        freq: Some(255),
                        ..RestoreOptions::default()
                    },
                },
            ),
        ];
        for (args, want) in cases {
            parsed(args, |got| assert_eq!(got, Ok(*want), "{args:?}"));
        }
        let errors: &[(&[&[u8]], ClientError)] = &[
            (&[b"SCAN", b"x", b"COUNT", b"0"], ClientError::InvalidCursor),
            (&[b"SCAN", b"0", b"COUNT", b"0"], ClientError::Syntax),
            (&[b"SCAN", b"0", b"MATCH"], ClientError::Syntax),
            (
                &[b"COPY", b"a", b"b", b"DB", b"1", b"FOO"],
                ClientError::DbIndexOutOfRange,
            ),
            (
                &[b"COPY", b"a", b"b", b"FOO", b"DB", b"1"],
                ClientError::Syntax,
            ),
            (
                &[b"COPY", b"a", b"b", b"DB", b"4294967296"],
                ClientError::NotAnInt32,
            ),
            (
                &[b"OBJECT", b"HELP", b"x"],
                ClientError::RespArity { cmd: "object|help" },
            ),
            (
                &[b"OBJECT", b"FREQ"],
                ClientError::RespArity { cmd: "object|freq" },
            ),
            (
                &[b"MEMORY", b"USAGE"],
                ClientError::RespArity {
                    cmd: "memory|usage",
                },
            ),
            (
                &[b"MEMORY", b"USAGE", b"k", b"SAMPLES", b"-1"],
                ClientError::Syntax,
            ),
            (
                &[
                    b"RESTORE",
                    b"k",
                    b"0",
                    b"p",
                    b"FREQ",
                    b"1",
                    b"IDLETIME",
                    b"1",
                ],
                ClientError::Syntax,
            ),
            (
                &[b"RESTORE", b"k", b"0", b"p", b"FREQ", b"256"],
                ClientError::InvalidFreq,
            ),
            (
                &[b"RESTORE", b"k", b"0", b"p", b"IDLETIME", b"-1"],
                ClientError::InvalidIdleTime,
            ),
        ];
        for (args, want) in errors {
            parsed(args, |got| assert_eq!(got, Err(want.clone()), "{args:?}"));
        }
        parsed(&[b"OBJECT", b"nope", b"k"], |got| {
            let err = got.unwrap_err().to_string();
            assert_eq!(err, "unknown subcommand 'nope'. Try OBJECT HELP.");
        });
    }

    #[test]
    fn cursors_are_read_as_strtoul_reads_them() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"42", Some(42)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"", Some(0)),
            (b"007", Some(7)),
            (b"+5", Some(5)),
            (b"-1", Some(u64::MAX)),
            (b"-0", Some(0)),
            (b"-18446744073709551615", Some(1)),
            (b"-18446744073709551616", None),
            (b"+", None),
            (b"-", None),
            (b" 1", None),
            (b"\t1", None),
            (b"1 ", None),
            (b"1x", None),
            (b"0x10", None),
            (b"12\x00junk", Some(12)),
            (b"\x00", Some(0)),
            (b"+\x00", None),
        ];
        for (arg, want) in cases {
            assert_eq!(
                parse_cursor(arg),
                *want,
                "{:?}",
                String::from_utf8_lossy(arg)
            );
        }
    }
}
