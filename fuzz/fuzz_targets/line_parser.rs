//! The line protocol's parser and encoder on arbitrary bytes: every line (and the
//! unterminated rest) is parsed with default and with small limits, what it parses to is
//! checked against the limits, and every reply built from it is encoded and checked to be
//! one well-formed line. Overlong lines and their prefixes go through `overlong_error`.

#![no_main]

use blink_store::protocol::text::TextProtocol;
use blink_store::protocol::{ClientError, ProtocolError, Reply, Request};
use blink_store_fuzz::{check_text_encoding, replies_for, show};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let protocols = [
        TextProtocol::new(),
        TextProtocol::new().max_key_len(8).max_value_len(16),
        TextProtocol::new().max_key_len(1).max_value_len(0),
    ];
    for protocol in &protocols {
        for line in data.split(|&b| b == b'\n') {
            check_line(protocol, line);
        }
        // Not a line the connection would parse, but parsing must not care.
        let _ = protocol.parse(data);
    }
});

fn check_line(protocol: &TextProtocol, line: &[u8]) {
    let result = protocol.parse(line);
    let replies = match &result {
        Ok(request) => {
            check_request(protocol, line, request);
            replies_for(request)
        }
        Err(err) => {
            check_error(err, line);
            vec![Reply::Error(err.clone())]
        }
    };
    for reply in &replies {
        check_text_encoding(protocol, reply);
    }
    // What the connection answers for a line that grew too long: the whole line, and the
    // part of it one read may have brought.
    let limit = protocol.max_line_len();
    for prefix in [line, line.get(..limit + 1).unwrap_or(line)] {
        let err = protocol.overlong_error(prefix);
        assert!(
            matches!(
                err,
                ProtocolError::LineTooLong { .. } | ProtocolError::ValueTooLarge { .. }
            ),
            "overlong_error gave {err:?} for {}",
            show(prefix)
        );
        check_text_encoding(protocol, &Reply::Broken(err));
    }
}

/// A key is 1 to `key_limit` bytes without spaces or control bytes; a value is at most
/// `value_limit` bytes and is the end of the line.
fn check_request(protocol: &TextProtocol, line: &[u8], request: &Request<'_>) {
    let check_key = |key: &[u8]| {
        assert!(
            !key.is_empty() && key.len() <= protocol.key_limit(),
            "key of {} bytes accepted from {}",
            key.len(),
            show(line)
        );
        assert!(
            key.iter().all(|&b| b > b' ' && b != 0x7f),
            "key with a space or control byte accepted from {}",
            show(line)
        );
        assert!(is_within(key, line), "key is not part of the line");
    };
    match *request {
        Request::Set { key, value, .. } => {
            check_key(key);
            assert!(
                value.len() <= protocol.value_limit(),
                "value of {} bytes accepted from {}",
                value.len(),
                show(line)
            );
            let body = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(body.ends_with(value), "value is not the end of the line");
        }
        Request::Get { key, .. }
        | Request::Delete { key, .. }
        | Request::Ttl { key, .. }
        | Request::Persist { key, .. }
        | Request::Expire { key, .. } => check_key(key),
        Request::Usage | Request::Ping | Request::Quit | Request::Info { .. } => {}
        Request::ExpireInvalid { .. } => {}
        // The password is the rest of the line: never empty, and part of the line.
        Request::Auth {
            user: None,
            password,
        } => {
            assert!(!password.is_empty(), "empty password from {}", show(line));
            assert!(
                is_within(password, line),
                "password is not part of the line"
            );
        }
        ref other => panic!("the line protocol produced {other:?} from {}", show(line)),
    }
}

/// Errors that quote the line quote it escaped and short.
fn check_error(err: &ClientError, line: &[u8]) {
    if let ClientError::UnknownCommand(word) = err {
        assert!(
            word.len() <= 32 * 4 + 3 && word.bytes().all(|b| (b' '..0x7f).contains(&b)),
            "unknown command quoted as {word:?} from {}",
            show(line)
        );
    }
}

/// Whether `part` lies inside `whole`.
fn is_within(part: &[u8], whole: &[u8]) -> bool {
    let whole = whole.as_ptr_range();
    let part = part.as_ptr_range();
    whole.start <= part.start && part.end <= whole.end
}
