//! RESP framing, parsing and encoding on arbitrary bytes, with default and with small
//! limits. Commands are framed back to back as the connection frames them; each framing
//! is checked against the framer's contract, including that the bytes arriving in pieces
//! could not have framed differently. Each command is parsed and every reply built from
//! it is encoded in RESP2 and RESP3 and checked to be one well-formed value.

#![no_main]

use std::ops::Range;

use blink_store::protocol::resp::{RespError, RespProtocol};
use blink_store::protocol::text::DEFAULT_MAX_KEY_LEN;
use blink_store::protocol::{Reply, Request};
use blink_store_fuzz::{check_resp_encoding, replies_for, show, RespVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Each protocol with its key limit, which it keeps private.
    let protocols = [
        (RespProtocol::new(), DEFAULT_MAX_KEY_LEN),
        (
            RespProtocol::new()
                .max_bulk_len(16)
                .max_args(8)
                .max_inline_len(64)
                .max_key_len(8),
            8,
        ),
        (
            RespProtocol::new()
                .max_bulk_len(0)
                .max_args(1)
                .max_inline_len(1)
                .max_key_len(0),
            0,
        ),
    ];
    for (protocol, max_key_len) in &protocols {
        frame_all(protocol, *max_key_len, data);
    }
});

type Framed = Result<Option<usize>, RespError>;

/// Frames commands back to back until one is incomplete or refused.
fn frame_all(protocol: &RespProtocol, max_key_len: usize, data: &[u8]) {
    let mut buf = data.to_vec();
    let mut args: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    loop {
        let rest = &mut buf[start..];
        let len = rest.len();
        let framed = protocol.frame(rest, &mut args);
        // Framing rewrites only the bytes of the command it framed, so `data` still holds
        // what arrived from `start` on.
        check_pieces(protocol, &data[start..], &framed, rest, &args);
        match framed {
            Ok(Some(consumed)) => {
                assert!(
                    consumed > 0 && consumed <= len,
                    "consumed {consumed} of {len} bytes"
                );
                for range in &args {
                    assert!(
                        range.start <= range.end && range.end <= consumed,
                        "argument {range:?} outside a frame of {consumed} bytes"
                    );
                }
                if !args.is_empty() {
                    check_command(protocol, max_key_len, &buf[start..start + consumed], &args);
                }
                start += consumed;
            }
            Ok(None) => break,
            Err(err) => {
                let reply = Reply::Broken(err.into());
                check_replies(protocol, std::slice::from_ref(&reply));
                break;
            }
        }
    }
}

/// The framer's contract with a connection that receives the same bytes in pieces: a
/// prefix of what arrived either is incomplete or frames exactly as the whole does, and
/// once the whole command arrived it frames the same whatever follows.
fn check_pieces(
    protocol: &RespProtocol,
    arrived: &[u8],
    framed: &Framed,
    framed_buf: &[u8],
    framed_args: &[Range<usize>],
) {
    let len = arrived.len();
    let mut cuts = vec![0, 1, len / 2, len.saturating_sub(1)];
    if let Ok(Some(consumed)) = *framed {
        cuts.extend([
            consumed.saturating_sub(1),
            consumed,
            consumed / 2,
            consumed.saturating_sub(2),
        ]);
    }
    let mut piece = Vec::new();
    let mut args = Vec::new();
    for cut in cuts {
        if cut > len || (cut == len && len > 0) {
            continue;
        }
        piece.clear();
        piece.extend_from_slice(&arrived[..cut]);
        let got = protocol.frame(&mut piece, &mut args);
        let complete = matches!(*framed, Ok(Some(consumed)) if cut >= consumed);
        if complete {
            assert_eq!(
                got,
                *framed,
                "the first {cut} bytes frame differently from all {len}: {}",
                show(&arrived[..cut])
            );
        } else {
            assert!(
                got == Ok(None) || got == *framed,
                "the first {cut} bytes give {got:?}, all {len} give {framed:?}: {}",
                show(&arrived[..cut.min(400)])
            );
        }
        if got.is_ok_and(|got| got.is_some()) {
            assert_eq!(args.len(), framed_args.len(), "argument count differs");
            for (a, b) in args.iter().zip(framed_args) {
                assert_eq!(a, b, "argument range differs");
                assert_eq!(
                    &piece[a.clone()],
                    &framed_buf[b.clone()],
                    "argument differs"
                );
            }
        }
    }
}

/// Parses one framed command and encodes what it leads to.
fn check_command(protocol: &RespProtocol, max_key_len: usize, frame: &[u8], args: &[Range<usize>]) {
    let replies = match protocol.parse(frame, args) {
        Ok(request) => {
            let _ = format!("{request:?}");
            check_request(max_key_len, frame, args, &request);
            replies_for(&request)
        }
        Err(err) => vec![Reply::Error(err)],
    };
    check_replies(protocol, &replies);
}

/// Keys within the limit, and many-key commands take every argument after the name.
fn check_request(max_key_len: usize, frame: &[u8], args: &[Range<usize>], request: &Request<'_>) {
    let check_key = |key: &[u8]| {
        assert!(
            key.len() <= max_key_len,
            "a key of {} bytes accepted (limit {max_key_len}): {}",
            key.len(),
            show(frame)
        );
    };
    match *request {
        Request::Get { key, .. }
        | Request::GetDel { key, .. }
        | Request::GetEx { key, .. }
        | Request::StrLen { key, .. }
        | Request::Set { key, .. }
        | Request::SetWith { key, .. }
        | Request::SetNx { key, .. }
        | Request::Append { key, .. }
        | Request::IncrBy { key, .. }
        | Request::Expire { key, .. }
        | Request::Ttl { key, .. }
        | Request::ExpireTime { key, .. }
        | Request::GetRange { key, .. }
        | Request::Persist { key, .. } => check_key(key),
        Request::MGet { keys, .. }
        | Request::Exists { keys, .. }
        | Request::Touch { keys, .. }
        | Request::DeleteMany { keys, .. } => {
            assert_eq!(keys.len() + 1, args.len(), "keys are not the arguments");
            keys.iter().for_each(check_key);
        }
        Request::MSet { pairs, .. } => {
            assert!(
                pairs.len() % 2 == 0 && !pairs.is_empty(),
                "MSET of {} arguments",
                pairs.len()
            );
            pairs.iter().step_by(2).for_each(check_key);
        }
        _ => {}
    }
}

fn check_replies(protocol: &RespProtocol, replies: &[Reply<'_>]) {
    let resp3 = protocol.resp3(true);
    for reply in replies {
        check_resp_encoding(protocol, RespVersion::Two, reply);
        check_resp_encoding(&resp3, RespVersion::Three, reply);
    }
}
