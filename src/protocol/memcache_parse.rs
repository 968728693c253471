//! Parses memcached's command lines, text and meta, with memcached 1.6's rules: command
//! names are case-sensitive, tokens are split at spaces, a wrong number of tokens is
//! `ERROR`, and `noreply` silences every answer of its command, errors included.

use super::memcache::{
    decode_key, Asked, Keys, McError, McRequest, MetaFlags, MetaKey, StatsGroup, StoreMode,
    MAX_DECODED_KEY_LEN, MAX_META_TOKENS, MAX_OPAQUE_LEN,
};
use super::Request;

/// Tokens memcached splits a line into at most; past this, the rest of the line is one
/// token, which makes every command but the retrievals have too many.
const MAX_TOKENS: usize = 23;

/// What follows a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// Nothing: the line is the whole request.
    Line,
    /// A data block of this many bytes, then CRLF.
    Data(usize),
    /// A data block of this many bytes, then CRLF, larger than the value limit: to drop.
    TooLarge(usize),
}

/// A command line split at spaces: the first [`MAX_TOKENS`] tokens.
struct Tokens<'a> {
    /// The tokens.
    items: [&'a [u8]; MAX_TOKENS],
    /// How many there are, up to [`MAX_TOKENS`] plus one for a rest that did not fit.
    len: usize,
}

impl<'a> Tokens<'a> {
    fn split(line: &'a [u8]) -> Self {
        let mut items: [&[u8]; MAX_TOKENS] = [&[]; MAX_TOKENS];
        let mut len = 0;
        for token in line.split(|&b| b == b' ').filter(|t| !t.is_empty()) {
            if let Some(slot) = items.get_mut(len) {
                *slot = token;
            }
            len += 1;
            if len > MAX_TOKENS {
                break;
            }
        }
        Self { items, len }
    }

    /// Token `i`, empty past the end.
    fn get(&self, i: usize) -> &'a [u8] {
        self.items.get(i).copied().unwrap_or_default()
    }

    /// Whether the last token is `noreply`, which memcached reads wherever the command
    /// allows one more token.
    fn noreply(&self) -> bool {
        self.len > 1 && self.get(self.len - 1) == b"noreply"
    }
}

/// The line of a request: up to the LF, without one CR before it (unless the CR is all
/// there is) and cut at a NUL, as memcached reads it as a C string.
fn command_line(line: &[u8]) -> &[u8] {
    let line = match line {
        [rest @ .., b'\r'] if !rest.is_empty() => rest,
        _ => line,
    };
    match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    }
}

/// The parts of a classic storage command's line.
struct StorageLine<'a> {
    mode: StoreMode,
    key: &'a [u8],
    flags: u32,
    exptime: i32,
    len: usize,
    compare_cas: Option<u64>,
    noreply: bool,
}

/// The storage command a word names, and whether it is `cas`.
fn storage_mode(word: &[u8]) -> Option<(StoreMode, bool)> {
    Some(match word {
        b"set" => (StoreMode::Set, false),
        b"add" => (StoreMode::Add, false),
        b"replace" => (StoreMode::Replace, false),
        b"append" => (StoreMode::Append, false),
        b"prepend" => (StoreMode::Prepend, false),
        b"cas" => (StoreMode::Set, true),
        _ => return None,
    })
}

/// `<cmd> <key> <flags> <exptime> <bytes> [<cas>] [noreply]`.
fn storage_line<'a>(
    tokens: &Tokens<'a>,
    (mode, cas): (StoreMode, bool),
    max_key_len: usize,
) -> Result<StorageLine<'a>, McError> {
    let args = tokens.len - 1;
    let fixed = if cas { 5 } else { 4 };
    if args != fixed && args != fixed + 1 {
        return Err(McError::UNKNOWN);
    }
    let noreply = tokens.noreply();
    let bad = McError::BAD_FORMAT.noreply(noreply);
    let key = tokens.get(1);
    if key.len() > max_key_len {
        return Err(bad);
    }
    let flags = parse_u32(tokens.get(2)).ok_or(bad)?;
    let exptime = parse_i32(tokens.get(3)).ok_or(bad)?;
    let len = parse_data_len(tokens.get(4)).ok_or(bad)?;
    let compare_cas = match cas {
        true => Some(parse_u64(tokens.get(5)).ok_or(bad)?),
        false => None,
    };
    Ok(StorageLine {
        mode,
        key,
        flags,
        exptime,
        len,
        compare_cas,
        noreply,
    })
}

/// `ms <key> <datalen> ...`: the data length, if the line is one memcached reads data
/// after (a bad flag still has its data dropped).
fn meta_set_len(tokens: &Tokens<'_>, max_key_len: usize) -> Result<usize, McError> {
    if tokens.len < 2 {
        return Err(McError::UNKNOWN);
    }
    if tokens.get(1).len() > max_key_len || tokens.len == 2 {
        return Err(McError::BAD_FORMAT);
    }
    if tokens.len + 1 > MAX_META_TOKENS {
        return Err(McError::new("CLIENT_ERROR options flags too long"));
    }
    parse_data_len(tokens.get(2)).ok_or(McError::BAD_FORMAT)
}

/// What follows the command `line` (without its LF): a data block, for a storage
/// command or `ms` whose line memcached accepts.
pub fn header(line: &[u8], max_key_len: usize, max_value_len: usize) -> Header {
    let tokens = Tokens::split(command_line(line));
    let len = match tokens.get(0) {
        b"ms" => meta_set_len(&tokens, max_key_len),
        word => match storage_mode(word) {
            Some(mode) => storage_line(&tokens, mode, max_key_len).map(|line| line.len),
            None => return Header::Line,
        },
    };
    match len {
        Ok(len) if len > max_value_len => Header::TooLarge(len),
        Ok(len) => Header::Data(len),
        Err(_) => Header::Line,
    }
}

/// The data block after the line of a storage request, if it ends in CRLF.
fn data_block(data: &[u8], len: usize) -> Option<&[u8]> {
    match data.split_at_checked(len) {
        Some((value, b"\r\n")) => Some(value),
        _ => None,
    }
}

/// Parses one request framed by [`super::memcache::McWire`]: its line with the LF, and
/// the data block that follows for a storage command.
///
/// # Errors
/// memcached's error for the request, silenced if it asked for `noreply`.
pub fn parse(
    frame: &[u8],
    max_key_len: usize,
    max_value_len: usize,
) -> Result<Request<'_>, McError> {
    let lf = memchr::memchr(b'\n', frame).unwrap_or(frame.len());
    let line = command_line(&frame[..lf]);
    let data = frame.get(lf + 1..).unwrap_or_default();
    let tokens = Tokens::split(line);
    let word = tokens.get(0);
    if word.len() < 2 {
        return Err(McError::UNKNOWN);
    }
    let request = match word {
        [b'm', _] => parse_meta(line, &tokens, data, (max_key_len, max_value_len))?,
        b"get" | b"bget" | b"gets" | b"gat" | b"gats" => parse_get(line, &tokens, max_key_len)?,
        b"incr" | b"decr" => parse_arith(&tokens, max_key_len)?,
        b"delete" => parse_delete(&tokens, max_key_len)?,
        b"touch" => {
            want(&tokens, 2, 3)?;
            let noreply = tokens.noreply();
            McRequest::Touch {
                key: key(tokens.get(1), max_key_len, noreply)?,
                exptime: parse_i32(tokens.get(2))
                    .ok_or(McError::INVALID_EXPTIME.noreply(noreply))?,
                noreply,
            }
        }
        b"flush_all" => {
            want(&tokens, 0, 2)?;
            let noreply = tokens.noreply();
            let delay = match tokens.len - 1 == usize::from(noreply) {
                true => 0,
                false => {
                    parse_i32(tokens.get(1)).ok_or(McError::INVALID_EXPTIME.noreply(noreply))?
                }
            };
            McRequest::FlushAll { delay, noreply }
        }
        b"version" => McRequest::Version,
        b"verbosity" => {
            want(&tokens, 1, 2)?;
            let noreply = tokens.noreply();
            parse_u32(tokens.get(1)).ok_or(McError::BAD_FORMAT.noreply(noreply))?;
            McRequest::Verbosity { noreply }
        }
        b"stats" => McRequest::Stats(match tokens.get(1) {
            b"" => StatsGroup::General,
            b"settings" => StatsGroup::Settings,
            b"items" => StatsGroup::Items,
            b"slabs" => StatsGroup::Slabs,
            b"reset" => StatsGroup::Reset,
            _ => return Err(McError::UNKNOWN),
        }),
        b"quit" => return Ok(Request::Quit),
        word => match storage_mode(word) {
            Some(mode) => parse_storage(&tokens, mode, data, (max_key_len, max_value_len))?,
            // memcached hangs up on what looks like HTTP.
            None if tokens
                .get(tokens.len.min(MAX_TOKENS) - 1)
                .starts_with(b"HTTP/") =>
            {
                return Ok(Request::Quit)
            }
            None => return Err(McError::UNKNOWN),
        },
    };
    Ok(Request::Memcache(request))
}

/// The rest of `line` after its first `n` tokens.
fn rest_after(line: &[u8], n: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..n {
        let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
        rest = &rest[start..];
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest
}

/// Refuses a command with fewer than `min` or more than `max` arguments: `ERROR`.
fn want(tokens: &Tokens<'_>, min: usize, max: usize) -> Result<(), McError> {
    match tokens.len - 1 {
        args if (min..=max).contains(&args) => Ok(()),
        _ => Err(McError::UNKNOWN),
    }
}

/// A key no longer than the limit.
fn key(key: &[u8], max_key_len: usize, noreply: bool) -> Result<&[u8], McError> {
    match key.len() <= max_key_len {
        true => Ok(key),
        false => Err(McError::BAD_FORMAT.noreply(noreply)),
    }
}

/// `get`, `gets`, `gat`, `gats` (and memcached's old alias `bget`).
fn parse_get<'a>(
    line: &'a [u8],
    tokens: &Tokens<'a>,
    max_key_len: usize,
) -> Result<McRequest<'a>, McError> {
    if tokens.len < 2 {
        return Err(McError::UNKNOWN);
    }
    let word = tokens.get(0);
    let touch = match word {
        b"gat" | b"gats" => Some(parse_i32(tokens.get(1)).ok_or(McError::INVALID_EXPTIME)?),
        _ => None,
    };
    // The keys are the rest of the line after the command (and gat's exptime).
    let keys = Keys(rest_after(line, 1 + usize::from(touch.is_some())));
    if keys.iter().any(|key| key.len() > max_key_len) {
        return Err(McError::BAD_FORMAT);
    }
    Ok(McRequest::Get {
        keys,
        cas: matches!(word, b"gets" | b"gats"),
        touch,
    })
}

/// `set`, `add`, `replace`, `append`, `prepend`, `cas`, with their data block.
fn parse_storage<'a>(
    tokens: &Tokens<'a>,
    mode: (StoreMode, bool),
    data: &'a [u8],
    (max_key_len, max_value_len): (usize, usize),
) -> Result<McRequest<'a>, McError> {
    let line = storage_line(tokens, mode, max_key_len)?;
    if line.len > max_value_len {
        return Ok(McRequest::TooLarge {
            key: MetaKey::plain(line.key),
            set: line.mode == StoreMode::Set && line.compare_cas.is_none(),
            noreply: line.noreply,
        });
    }
    let value = data_block(data, line.len).ok_or(McError::BAD_DATA_CHUNK.noreply(line.noreply))?;
    Ok(McRequest::Store {
        mode: line.mode,
        key: line.key,
        flags: line.flags,
        exptime: line.exptime,
        value,
        compare_cas: line.compare_cas,
        noreply: line.noreply,
    })
}

/// `incr`/`decr <key> <delta> [noreply]`.
fn parse_arith<'a>(tokens: &Tokens<'a>, max_key_len: usize) -> Result<McRequest<'a>, McError> {
    want(tokens, 2, 3)?;
    let noreply = tokens.noreply();
    let key = key(tokens.get(1), max_key_len, noreply)?;
    let delta = parse_u64(tokens.get(2))
        .ok_or(McError::new("CLIENT_ERROR invalid numeric delta argument").noreply(noreply))?;
    Ok(McRequest::Arith {
        key,
        incr: tokens.get(0) == b"incr",
        delta,
        noreply,
    })
}

/// `delete <key> [0] [noreply]`: memcached still takes an old hold time, if it is 0.
fn parse_delete<'a>(tokens: &Tokens<'a>, max_key_len: usize) -> Result<McRequest<'a>, McError> {
    want(tokens, 1, 3)?;
    let noreply = tokens.noreply();
    if tokens.len > 2 {
        let hold_is_zero = tokens.get(2) == b"0";
        let valid = (tokens.len == 3 && (hold_is_zero || noreply))
            || (tokens.len == 4 && hold_is_zero && noreply);
        if !valid {
            return Err(McError::new(
                "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
            )
            .noreply(noreply));
        }
    }
    Ok(McRequest::Delete {
        key: key(tokens.get(1), max_key_len, noreply)?,
        noreply,
    })
}

/// The meta commands: `mg`, `ms`, `md`, `ma`, `mn`, `me`.
fn parse_meta<'a>(
    line: &'a [u8],
    tokens: &Tokens<'a>,
    data: &'a [u8],
    (max_key_len, max_value_len): (usize, usize),
) -> Result<McRequest<'a>, McError> {
    let command = tokens.get(0).get(1).copied().unwrap_or_default();
    match command {
        b'n' => return Ok(McRequest::MetaNoop),
        b'e' => return parse_meta_debug(tokens, max_key_len),
        b'g' | b's' | b'd' | b'a' => {}
        _ => return Err(McError::UNKNOWN),
    }
    if tokens.len < 2 {
        return Err(McError::UNKNOWN);
    }
    if command == b's' {
        let len = meta_set_len(tokens, max_key_len)?;
        let (key, flags) = meta_flags(line, tokens, 3, command)?;
        check_mode(command, flags.mode)?;
        if len > max_value_len {
            return Ok(McRequest::TooLarge {
                key,
                set: true,
                noreply: false,
            });
        }
        let value = data_block(data, len).ok_or(McError::BAD_DATA_CHUNK)?;
        return Ok(McRequest::MetaSet { key, value, flags });
    }
    if tokens.get(1).len() > max_key_len {
        return Err(McError::BAD_FORMAT);
    }
    if tokens.len + 1 > MAX_META_TOKENS {
        return Err(McError::new(match command {
            b'g' => "CLIENT_ERROR options flags are too long",
            _ => "CLIENT_ERROR options flags too long",
        }));
    }
    let (key, flags) = meta_flags(line, tokens, 2, command).map_err(|err| match command {
        // memcached words any flag mistake of md and ma alike.
        b'd' | b'a' if err.line != OPAQUE_TOO_LONG => {
            McError::new("CLIENT_ERROR invalid or duplicate flag")
        }
        _ => err,
    })?;
    check_mode(command, flags.mode)?;
    Ok(match command {
        b'g' => McRequest::MetaGet { key, flags },
        b'd' => McRequest::MetaDelete { key, flags },
        _ => McRequest::MetaArith { key, flags },
    })
}

/// `me <key> [b]`.
fn parse_meta_debug<'a>(tokens: &Tokens<'a>, max_key_len: usize) -> Result<McRequest<'a>, McError> {
    let token = tokens.get(1);
    if tokens.len < 2 || token.len() > max_key_len {
        return Err(McError::BAD_FORMAT);
    }
    let binary = tokens.get(2) == b"b";
    if binary && decode_key(token, &mut [0; MAX_DECODED_KEY_LEN]).is_none() {
        return Err(McError::BAD_FORMAT);
    }
    Ok(McRequest::MetaDebug {
        key: MetaKey { token, binary },
    })
}

/// memcached's error for an opaque token longer than [`MAX_OPAQUE_LEN`].
const OPAQUE_TOO_LONG: &str = "CLIENT_ERROR opaque token too long";

/// Reads the key and the flags of a meta command, from token `first` on, as memcached's
/// flag parser does: each flag once, numbers where a flag takes one. A flag memcached
/// 1.6.18 does not know is `CLIENT_ERROR invalid flag`.
fn meta_flags<'a>(
    line: &'a [u8],
    tokens: &Tokens<'a>,
    first: usize,
    command: u8,
) -> Result<(MetaKey<'a>, MetaFlags<'a>), McError> {
    let mut flags = MetaFlags {
        asked: Asked::new(rest_after(line, first), command),
        ..MetaFlags::default()
    };
    let mut opaque_too_long = false;
    let mut seen = [false; 128];
    let mut error = None;
    let mut binary = false;
    let mut fail = |message: &'static str| error = Some(McError::new(message));
    for i in first..tokens.len.min(MAX_TOKENS) {
        let token = tokens.get(i);
        let letter = token.first().copied().unwrap_or_default();
        let arg = token.get(1..).unwrap_or_default();
        // memcached reports a byte past ASCII as a duplicate too.
        match seen.get_mut(usize::from(letter)) {
            Some(seen) if !*seen && letter < 127 => *seen = true,
            _ => return Err(McError::new("CLIENT_ERROR duplicate flag")),
        }
        let bad_token = "CLIENT_ERROR bad token in command line format";
        match letter {
            b'b' => binary = true,
            b'N' | b'T' | b'R' => match parse_i32(arg) {
                Some(exptime) if letter == b'T' => {
                    flags.ttl = Some(exptime);
                    flags.ttl_after_vivify = flags.vivify.is_some();
                }
                Some(exptime) if letter == b'N' => flags.vivify = Some(exptime),
                Some(exptime) => {
                    flags.recache = Some(exptime);
                    flags.ttl_before_recache = flags.ttl.is_some();
                }
                None => fail(bad_token),
            },
            b'O' if token.len() > MAX_OPAQUE_LEN => opaque_too_long = true,
            b'O' => {}
            b'k' | b's' | b't' | b'c' | b'f' | b'l' | b'h' | b'P' | b'L' => {}
            b'u' => flags.no_bump = true,
            b'I' => flags.invalidate = true,
            b'v' => flags.value = true,
            b'q' => flags.quiet = true,
            b'F' => match parse_u32(arg) {
                Some(client_flags) => flags.client_flags = client_flags,
                None => fail(McError::BAD_FORMAT.line),
            },
            b'C' => match parse_u64(arg) {
                Some(cas) => flags.compare_cas = Some(cas),
                None => fail(bad_token),
            },
            b'M' => match arg {
                [mode] => flags.mode = Some(*mode),
                _ => fail("CLIENT_ERROR incorrect length for M token"),
            },
            b'J' => match parse_u64(arg) {
                Some(initial) => flags.initial = initial,
                None => fail("CLIENT_ERROR invalid numeric initial value"),
            },
            b'D' => match parse_u64(arg) {
                Some(delta) => flags.delta = delta,
                None => fail("CLIENT_ERROR invalid numeric delta value"),
            },
            _ => return Err(McError::INVALID_FLAG),
        }
    }
    let token = tokens.get(1);
    if binary && decode_key(token, &mut [0; MAX_DECODED_KEY_LEN]).is_none() {
        fail("CLIENT_ERROR error decoding key");
    }
    if let Some(err) = error {
        return Err(err);
    }
    if opaque_too_long {
        return Err(McError::new(OPAQUE_TOO_LONG));
    }
    Ok((MetaKey { token, binary }, flags))
}

/// The mode letters `ms` (set, add, append, prepend, replace) and `ma` (incr, decr) know.
fn check_mode(command: u8, mode: Option<u8>) -> Result<(), McError> {
    match (command, mode) {
        (_, None) | (b's', Some(b'S' | b'E' | b'A' | b'P' | b'R')) => Ok(()),
        (b'a', Some(b'I' | b'+' | b'D' | b'-')) => Ok(()),
        (b's', Some(_)) => Err(McError::new("CLIENT_ERROR invalid mode for ms M token")),
        (b'a', Some(_)) => Err(McError::new("CLIENT_ERROR invalid mode for ma M token")),
        // mg and md have no modes: memcached ignores the letter.
        (_, Some(_)) => Ok(()),
    }
}

/// The digits of a number, after an optional sign.
fn digits(token: &[u8]) -> Option<(bool, &[u8])> {
    let (negative, digits) = match token {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, token),
    };
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some((negative, digits))
}

/// A decimal `u64`, as memcached's `safe_strtoull` reads one (no minus sign).
pub fn parse_u64(token: &[u8]) -> Option<u64> {
    let (false, digits) = digits(token)? else {
        return None;
    };
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A decimal `u32`.
fn parse_u32(token: &[u8]) -> Option<u32> {
    parse_u64(token).and_then(|n| u32::try_from(n).ok())
}

/// A data block's length: memcached reads at most `INT_MAX - 2`, so that the length
/// with its CRLF fits in a C `int`.
fn parse_data_len(token: &[u8]) -> Option<usize> {
    let len = parse_i32(token).filter(|&len| len <= i32::MAX - 2)?;
    usize::try_from(len).ok()
}

/// A decimal `i32`, as memcached's `safe_strtol` reads one.
fn parse_i32(token: &[u8]) -> Option<i32> {
    let (negative, digits) = digits(token)?;
    let magnitude: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(frame: &[u8]) -> Result<McRequest<'_>, McError> {
        match parse(frame, 250, 16)? {
            Request::Memcache(request) => Ok(request),
            Request::Quit => Err(McError::new("QUIT")),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn returned(flags: &MetaFlags<'_>) -> Vec<String> {
        flags
            .asked
            .returned()
            .map(|token| String::from_utf8_lossy(token).into_owned())
            .collect()
    }

    fn error(line: &'static str) -> Result<McRequest<'static>, McError> {
        Err(McError::new(line))
    }

    fn silent(line: &'static str) -> Result<McRequest<'static>, McError> {
        Err(McError::new(line).noreply(true))
    }

    #[test]
    fn text_commands() {
        let cases: &[(&[u8], Result<McRequest<'_>, McError>)] = &[
            (
                b"get a  bb\r\n",
                Ok(McRequest::Get {
                    keys: Keys(b" a  bb"),
                    cas: false,
                    touch: None,
                }),
            ),
            (
                b"gats 60 a\r\n",
                Ok(McRequest::Get {
                    keys: Keys(b" a"),
                    cas: true,
                    touch: Some(60),
                }),
            ),
            (
                b"set k 5 -1 2 noreply\r\nhi\r\n",
                Ok(McRequest::Store {
                    mode: StoreMode::Set,
                    key: b"k",
                    flags: 5,
                    exptime: -1,
                    value: b"hi",
                    compare_cas: None,
                    noreply: true,
                }),
            ),
            (
                b"cas k 0 0 1 77\nx\r\n",
                Ok(McRequest::Store {
                    mode: StoreMode::Set,
                    key: b"k",
                    flags: 0,
                    exptime: 0,
                    value: b"x",
                    compare_cas: Some(77),
                    noreply: false,
                }),
            ),
            // A fifth token that is not noreply is ignored, as memcached ignores it.
            (
                b"append k 0 0 0 extra\r\n\r\n",
                Ok(McRequest::Store {
                    mode: StoreMode::Append,
                    key: b"k",
                    flags: 0,
                    exptime: 0,
                    value: b"",
                    compare_cas: None,
                    noreply: false,
                }),
            ),
            (
                b"set k 0 0 20 noreply\r\n",
                Ok(McRequest::TooLarge {
                    key: MetaKey::plain(b"k"),
                    set: true,
                    noreply: true,
                }),
            ),
            (
                b"decr k 18446744073709551615\r\n",
                Ok(McRequest::Arith {
                    key: b"k",
                    incr: false,
                    delta: u64::MAX,
                    noreply: false,
                }),
            ),
            (
                b"delete k 0 noreply\r\n",
                Ok(McRequest::Delete {
                    key: b"k",
                    noreply: true,
                }),
            ),
            (
                b"touch k 10\r\n",
                Ok(McRequest::Touch {
                    key: b"k",
                    exptime: 10,
                    noreply: false,
                }),
            ),
            (
                b"flush_all noreply\r\n",
                Ok(McRequest::FlushAll {
                    delay: 0,
                    noreply: true,
                }),
            ),
            (
                b"flush_all 30\r\n",
                Ok(McRequest::FlushAll {
                    delay: 30,
                    noreply: false,
                }),
            ),
            (b"version\r\n", Ok(McRequest::Version)),
            (b"stats slabs\r\n", Ok(McRequest::Stats(StatsGroup::Slabs))),
            (
                b"verbosity 1 noreply\r\n",
                Ok(McRequest::Verbosity { noreply: true }),
            ),
            (b"quit\r\n", error("QUIT")),
            (b"GET / HTTP/1.1\r\n", error("QUIT")),
        ];
        for (frame, expected) in cases {
            assert_eq!(&parsed(frame), expected, "{}", frame.escape_ascii());
        }
    }

    #[test]
    fn text_mistakes_get_memcacheds_words() {
        let long_key = format!("get {}\r\n", "k".repeat(251));
        let cases: &[(&[u8], Result<McRequest<'_>, McError>)] = &[
            (b"\r\n", error("ERROR")),
            (b"g\r\n", error("ERROR")),
            (b"GET k\r\n", error("ERROR")),
            (b"get\r\n", error("ERROR")),
            (
                long_key.as_bytes(),
                error("CLIENT_ERROR bad command line format"),
            ),
            (b"set k 0 0\r\n", error("ERROR")),
            (
                b"set k x 0 1\r\n",
                error("CLIENT_ERROR bad command line format"),
            ),
            (
                b"set k 0 0 -1\r\n",
                error("CLIENT_ERROR bad command line format"),
            ),
            (
                b"set k -1 0 1\r\n",
                error("CLIENT_ERROR bad command line format"),
            ),
            (
                b"set k x 0 1 noreply\r\n",
                silent("CLIENT_ERROR bad command line format"),
            ),
            (
                b"set k 0 0 2\r\nabc\r\n",
                error("CLIENT_ERROR bad data chunk"),
            ),
            (
                b"set k 0 0 2 noreply\r\nab\n\n",
                silent("CLIENT_ERROR bad data chunk"),
            ),
            (
                b"incr k x\r\n",
                error("CLIENT_ERROR invalid numeric delta argument"),
            ),
            (
                b"incr k -1\r\n",
                error("CLIENT_ERROR invalid numeric delta argument"),
            ),
            (
                b"touch k soon\r\n",
                error("CLIENT_ERROR invalid exptime argument"),
            ),
            (
                b"gat soon k\r\n",
                error("CLIENT_ERROR invalid exptime argument"),
            ),
            (
                b"flush_all soon\r\n",
                error("CLIENT_ERROR invalid exptime argument"),
            ),
            (
                b"delete k 5\r\n",
                error("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"),
            ),
            (b"delete k 0 0 0\r\n", error("ERROR")),
            (b"verbosity\r\n", error("ERROR")),
            (
                b"verbosity x\r\n",
                error("CLIENT_ERROR bad command line format"),
            ),
            (b"stats detail on\r\n", error("ERROR")),
            (b"shutdown\r\n", error("ERROR")),
        ];
        for (frame, expected) in cases {
            assert_eq!(&parsed(frame), expected, "{}", frame.escape_ascii());
        }
    }

    #[test]
    fn meta_commands() {
        let Ok(McRequest::MetaGet { key, flags }) = parsed(b"mg a2V5 b v t Oab k c q\r\n") else {
            panic!("mg");
        };
        assert_eq!(key.key(&mut [0; MAX_DECODED_KEY_LEN]), b"key");
        assert_eq!((key.token, key.binary), (&b"a2V5"[..], true));
        assert_eq!(returned(&flags), ["t", "Oab", "k", "c"]);
        assert!(flags.value && flags.quiet);
        let Ok(McRequest::MetaSet { value, flags, .. }) =
            parsed(b"ms k 2 F7 T-1 C9 MA c\r\nhi\r\n")
        else {
            panic!("ms");
        };
        assert_eq!(value, b"hi");
        assert_eq!(
            (flags.client_flags, flags.ttl, flags.compare_cas, flags.mode),
            (7, Some(-1), Some(9), Some(b'A'))
        );
        assert_eq!(returned(&flags), ["c"]);
        let Ok(McRequest::MetaArith { flags, .. }) = parsed(b"ma k N0 J5 D3 MD v t\r\n") else {
            panic!("ma");
        };
        assert_eq!(
            (flags.vivify, flags.initial, flags.delta, flags.mode),
            (Some(0), 5, 3, Some(b'D'))
        );
        assert_eq!(returned(&flags), ["t"]);
        let Ok(McRequest::MetaGet { flags, .. }) = parsed(b"mg k N30 T5 R9 u h\r\n") else {
            panic!("mg N T R");
        };
        assert_eq!(
            (flags.vivify, flags.ttl, flags.recache, flags.no_bump),
            (Some(30), Some(5), Some(9), true)
        );
        assert!(flags.ttl_after_vivify && flags.ttl_before_recache);
        assert_eq!(returned(&flags), ["h"]);
        let Ok(McRequest::MetaGet { flags, .. }) = parsed(b"mg k R9 T5 N30\r\n") else {
            panic!("mg R T N");
        };
        assert!(!flags.ttl_after_vivify && !flags.ttl_before_recache);
        let Ok(McRequest::MetaDelete { flags, .. }) = parsed(b"md k I T30 C4\r\n") else {
            panic!("md I");
        };
        assert_eq!(
            (flags.invalidate, flags.ttl, flags.compare_cas),
            (true, Some(30), Some(4))
        );
        let Ok(McRequest::MetaSet { flags, .. }) = parsed(b"ms k 1 I C4\r\nx\r\n") else {
            panic!("ms I");
        };
        assert!(flags.invalidate);
        assert_eq!(parsed(b"mn\r\n"), Ok(McRequest::MetaNoop));
        assert!(matches!(
            parsed(b"ms k 20 T0\r\n"),
            Ok(McRequest::TooLarge {
                set: true,
                noreply: false,
                ..
            })
        ));
    }

    #[test]
    fn meta_mistakes_get_memcacheds_words() {
        let many = format!("mg k {}\r\n", "v ".repeat(20));
        let cases: &[(&[u8], Result<McRequest<'_>, McError>)] = &[
            (b"mg\r\n", error("ERROR")),
            (b"mx k\r\n", error("ERROR")),
            (b"mg k v v\r\n", error("CLIENT_ERROR duplicate flag")),
            (b"mg k E5\r\n", error("CLIENT_ERROR invalid flag")),
            (
                b"mg k Nx\r\n",
                error("CLIENT_ERROR bad token in command line format"),
            ),
            (
                b"mg k Rx\r\n",
                error("CLIENT_ERROR bad token in command line format"),
            ),
            (
                b"mg k Tx\r\n",
                error("CLIENT_ERROR bad token in command line format"),
            ),
            (b"mg !! b\r\n", error("CLIENT_ERROR error decoding key")),
            (
                many.as_bytes(),
                error("CLIENT_ERROR options flags are too long"),
            ),
            (
                b"mg k O123456789012345678901234567890123\r\n",
                error("CLIENT_ERROR opaque token too long"),
            ),
            (b"ms k\r\n", error("CLIENT_ERROR bad command line format")),
            (b"ms k x\r\n", error("CLIENT_ERROR bad command line format")),
            (
                b"ms k 1 MX\r\nx\r\n",
                error("CLIENT_ERROR invalid mode for ms M token"),
            ),
            (
                b"ms k 1 MSS\r\nx\r\n",
                error("CLIENT_ERROR incorrect length for M token"),
            ),
            (b"ms k 1 I E1\r\nx\r\n", error("CLIENT_ERROR invalid flag")),
            (
                b"ms k 1 Fx\r\nx\r\n",
                error("CLIENT_ERROR bad command line format"),
            ),
            (b"ms k 1\r\nxy\r\n", error("CLIENT_ERROR bad data chunk")),
            (
                b"md k x\r\n",
                error("CLIENT_ERROR invalid or duplicate flag"),
            ),
            (
                b"ma k Dx\r\n",
                error("CLIENT_ERROR invalid or duplicate flag"),
            ),
            (
                b"ma k MX\r\n",
                error("CLIENT_ERROR invalid mode for ma M token"),
            ),
            (b"me\r\n", error("CLIENT_ERROR bad command line format")),
        ];
        for (frame, expected) in cases {
            assert_eq!(&parsed(frame), expected, "{}", frame.escape_ascii());
        }
    }

    #[test]
    fn headers_say_what_data_follows() {
        let cases: &[(&[u8], Header)] = &[
            (b"set k 0 0 5", Header::Data(5)),
            (b"cas k 0 0 5 1 noreply\r", Header::Data(5)),
            (b"set k 0 0 17", Header::TooLarge(17)),
            (b"set k 0 0", Header::Line),
            (b"set k 0 x 5", Header::Line),
            (b"SET k 0 0 5", Header::Line),
            (b"ms k 3 T0 Zz", Header::Data(3)),
            (b"ms k -3", Header::Line),
            (b"get k", Header::Line),
            // memcached reads lengths up to INT_MAX - 2: past that, the line is bad.
            (b"set k 0 0 +5", Header::Data(5)),
            (b"set k 0 0 2147483645", Header::TooLarge(2_147_483_645)),
            (b"set k 0 0 2147483646", Header::Line),
            (b"ms k 2147483645", Header::TooLarge(2_147_483_645)),
            (b"ms k 2147483646", Header::Line),
        ];
        for (line, expected) in cases {
            assert_eq!(header(line, 250, 16), *expected, "{}", line.escape_ascii());
        }
    }
}
