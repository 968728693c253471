//! RESP's arguments of the string commands with offsets, bits, floats or options
//! (SETRANGE, GETBIT, SETBIT, BITCOUNT, INCRBYFLOAT, LCS) and of WAIT, checked in the
//! order Redis checks them, with its error texts. Knows the syntax, never the store.

use super::resp_commands::Command;
use super::{BitSpan, ClientError, LateError, LcsAnswer, Request};
use crate::decimal::parse_integer;
use crate::float::LongDouble;

/// `SETRANGE key offset value`: the offset must not be negative; whether the result is
/// too long is decided against the value found.
pub(super) fn set_range<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    let offset = c.integer(2)?;
    if offset < 0 {
        return Err(ClientError::OffsetOutOfRange);
    }
    Ok(Request::SetRange {
        key,
        // Beyond the address space is beyond the value limit too.
        offset: usize::try_from(offset).unwrap_or(usize::MAX),
        value: c.value(3)?,
        max_len: c.max_value_len,
    })
}

/// `GETBIT key offset`.
pub(super) fn get_bit<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    Ok(Request::GetBit {
        key: c.key(1)?,
        offset: bit_offset(c, 2)?,
    })
}

/// `SETBIT key offset 0|1`: the offset is checked first.
pub(super) fn set_bit<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    let offset = bit_offset(c, 2)?;
    let on = match parse_integer(c.arg(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(ClientError::BitInvalid),
    };
    Ok(Request::SetBit {
        key,
        offset,
        on,
        max_len: c.max_value_len,
    })
}

/// A bit offset, as Redis's `getBitOffsetFromArgument` reads it: a non-negative integer
/// whose byte lies within the value limit (Redis's proto-max-bulk-len).
fn bit_offset(c: &Command<'_>, i: usize) -> Result<u64, ClientError> {
    // usize → u64 is lossless on every supported target.
    let max_len = c.max_value_len as u64;
    parse_integer(c.arg(i))
        .and_then(|n| u64::try_from(n).ok())
        .filter(|bits| bits / 8 < max_len)
        .ok_or(ClientError::BitOffsetInvalid)
}

/// `BITCOUNT key [start end [BYTE|BIT]]`. Redis looks the key up before it reads the
/// range, so an error in the range is answered only if the key exists.
pub(super) fn bit_count<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    Ok(Request::BitCount {
        key: c.key(1)?,
        span: bit_span(c),
    })
}

fn bit_span(c: &Command<'_>) -> Result<BitSpan, LateError> {
    let n = c.all.len();
    if n == 2 {
        return Ok(BitSpan::All);
    }
    if n != 4 && n != 5 {
        return Err(LateError::Syntax);
    }
    let integer = |i| parse_integer(c.arg(i)).ok_or(LateError::NotAnInteger);
    let (start, end) = (integer(2)?, integer(3)?);
    // Redis answers 0 for a range of two negative indexes the wrong way round before it
    // reads the unit, so even an unknown unit is no error then.
    if start < 0 && end < 0 && start > end {
        return Ok(BitSpan::Bytes { start, end });
    }
    let unit = c.arg(4);
    if n == 4 || unit.eq_ignore_ascii_case(b"byte") {
        Ok(BitSpan::Bytes { start, end })
    } else if unit.eq_ignore_ascii_case(b"bit") {
        Ok(BitSpan::Bits { start, end })
    } else {
        Err(LateError::Syntax)
    }
}

/// `INCRBYFLOAT key increment`: the increment must be a float as Redis reads one.
pub(super) fn incr_by_float<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    Ok(Request::IncrByFloat {
        key: c.key(1)?,
        delta: LongDouble::parse(c.arg(2)).ok_or(ClientError::NotAFloat)?,
    })
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`, options in any order and
/// any number of times; a negative MINMATCHLEN is 0. LEN with IDX is refused after every
/// option has been read, as Redis does.
pub(super) fn lcs<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let keys = (c.key(1)?, c.key(2)?);
    let n = c.all.len();
    let (mut idx, mut len, mut with_len, mut min_len) = (false, false, false, 0);
    let mut i = 3;
    while i < n {
        let option = c.arg(i);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        if is("idx") {
            idx = true;
        } else if is("len") {
            len = true;
        } else if is("withmatchlen") {
            with_len = true;
        } else if is("minmatchlen") && i + 1 < n {
            i += 1;
            min_len = c.integer(i)?.max(0).unsigned_abs();
        } else {
            return Err(ClientError::Syntax);
        }
        i += 1;
    }
    let answer = match (idx, len) {
        (true, true) => return Err(ClientError::LcsLenAndIdx),
        (true, false) => LcsAnswer::Ranges { min_len, with_len },
        (false, true) => LcsAnswer::Len,
        (false, false) => LcsAnswer::Subsequence,
    };
    Ok(Request::Lcs {
        keys,
        answer,
        max_table_bytes: c.max_value_len,
    })
}

/// `WAIT numreplicas timeout`: both integers, the timeout not negative.
pub(super) fn wait<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    c.integer(1)?;
    match parse_integer(c.arg(2)) {
        None => Err(ClientError::TimeoutNotInteger),
        Some(timeout) if timeout < 0 => Err(ClientError::TimeoutNegative),
        Some(_) => Ok(Request::Wait),
    }
}

/// `BGSAVE [SCHEDULE]`: anything else is a syntax error, as in Redis.
pub(super) fn bgsave<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    match c.all.len() {
        1 => Ok(Request::BgSave { schedule: false }),
        2 if c.arg(1).eq_ignore_ascii_case(b"schedule") => Ok(Request::BgSave { schedule: true }),
        _ => Err(ClientError::Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` as one RESP command, with keys up to 8 bytes and values up to 16.
    fn parsed(args: &[&[u8]], check: impl FnOnce(Result<Request<'_>, ClientError>)) {
        let mut buf = Vec::new();
        let mut ranges = Vec::new();
        for arg in args {
            let start = buf.len();
            buf.extend_from_slice(arg);
            ranges.push(start..buf.len());
        }
        let unknown = || ClientError::UnknownCommand("?".into());
        check(super::super::resp_commands::parse(
            &buf,
            &ranges,
            (8, 16),
            unknown,
            &mut None,
        ));
    }

    fn float(text: &str) -> LongDouble {
        LongDouble::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn parses_each_command_as_redis_reads_it() {
        let bytes = |start, end| Ok(BitSpan::Bytes { start, end });
        type Case<'a> = (&'a [&'a [u8]], Result<Request<'a>, ClientError>);
        let cases: &[Case<'_>] = &[
            (
                &[b"SETRANGE", b"k", b"3", b"ab"],
                Ok(Request::SetRange {
                    key: b"k",
                    offset: 3,
                    value: b"ab",
                    max_len: 16,
                }),
            ),
            (
                &[b"setrange", b"k", b"-1", b""],
                Err(ClientError::OffsetOutOfRange),
            ),
            (
                &[b"SETRANGE", b"k", b"x", b""],
                Err(ClientError::NotAnInteger),
            ),
            (
                &[b"GETBIT", b"k", b"127"],
                Ok(Request::GetBit {
                    key: b"k",
                    offset: 127,
                }),
            ),
            (
                &[b"GETBIT", b"k", b"128"],
                Err(ClientError::BitOffsetInvalid),
            ),
            (
                &[b"GETBIT", b"k", b"-0"],
                Err(ClientError::BitOffsetInvalid),
            ),
            (
                &[b"SETBIT", b"k", b"0", b"1"],
                Ok(Request::SetBit {
                    key: b"k",
                    offset: 0,
                    on: true,
                    max_len: 16,
                }),
            ),
            (
                &[b"SETBIT", b"k", b"x", b"x"],
                Err(ClientError::BitOffsetInvalid),
            ),
            (&[b"SETBIT", b"k", b"0", b"2"], Err(ClientError::BitInvalid)),
            (
                &[b"BITCOUNT", b"k"],
                Ok(Request::BitCount {
                    key: b"k",
                    span: Ok(BitSpan::All),
                }),
            ),
            (
                &[b"BITCOUNT", b"k", b"-2", b"5"],
                Ok(Request::BitCount {
                    key: b"k",
                    span: bytes(-2, 5),
                }),
            ),
            (
                &[b"BITCOUNT", b"k", b"1", b"2", b"Bit"],
                Ok(Request::BitCount {
                    key: b"k",
                    span: Ok(BitSpan::Bits { start: 1, end: 2 }),
                }),
            ),
            (
                &[b"BITCOUNT", b"k", b"1"],
                Ok(Request::BitCount {
                    key: b"k",
                    span: Err(LateError::Syntax),
                }),
            ),
            (
                &[b"BITCOUNT", b"k", b"1", b"x", b"FOO"],
                Ok(Request::BitCount {
                    key: b"k",
                    span: Err(LateError::NotAnInteger),
                }),
            ),
            (
                &[b"INCRBYFLOAT", b"k", b"1.5"],
                Ok(Request::IncrByFloat {
                    key: b"k",
                    delta: float("1.5"),
                }),
            ),
            (
                &[b"INCRBYFLOAT", b"k", b"1.5x"],
                Err(ClientError::NotAFloat),
            ),
            (
                &[b"LCS", b"a", b"b", b"minmatchlen", b"-3", b"IDX", b"idx"],
                Ok(Request::Lcs {
                    keys: (b"a", b"b"),
                    answer: LcsAnswer::Ranges {
                        min_len: 0,
                        with_len: false,
                    },
                    max_table_bytes: 16,
                }),
            ),
            (
                &[b"LCS", b"a", b"b", b"LEN", b"WITHMATCHLEN"],
                Ok(Request::Lcs {
                    keys: (b"a", b"b"),
                    answer: LcsAnswer::Len,
                    max_table_bytes: 16,
                }),
            ),
            (
                &[b"LCS", b"a", b"b", b"LEN", b"IDX"],
                Err(ClientError::LcsLenAndIdx),
            ),
            (
                &[b"LCS", b"a", b"b", b"IDX", b"LEN", b"X"],
                Err(ClientError::Syntax),
            ),
            (
                &[b"LCS", b"a", b"b", b"MINMATCHLEN"],
                Err(ClientError::Syntax),
            ),
            (&[b"WAIT", b"1", b"0"], Ok(Request::Wait)),
            (&[b"WAIT", b"x", b"-1"], Err(ClientError::NotAnInteger)),
            (&[b"WAIT", b"1", b"x"], Err(ClientError::TimeoutNotInteger)),
            (&[b"WAIT", b"1", b"-1"], Err(ClientError::TimeoutNegative)),
            (
                &[b"GETBIT", b"too-long-key", b"0"],
                Err(ClientError::KeyTooLong { limit: 8 }),
            ),
        ];
        for (args, expected) in cases {
            parsed(args, |got| assert_eq!(&got, expected, "{args:?}"));
        }
    }
}
