//! RESP at its edges, byte for byte beside a real `redis-server`: inline commands split as
//! Redis splits them, framing errors that close the connection, NUL bytes and endless
//! lines, the header limits before AUTH, and the listener fixed to RESP. Each case goes to
//! both servers on fresh connections: every byte each sends back, and whether it then
//! closes, must be the same.

use crate::common;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use common::{expect, expect_close, resp_command, show, tcp_stream, Client, External, Server};

/// The password of the servers that require one.
const PASSWORD: &str = "s3cret";

/// Ends every case that leaves the connection in step: both servers answer `+OK` and close.
const QUIT: &[u8] = b"*1\r\n$4\r\nQUIT\r\n";

/// Redis's inline limit, `PROTO_INLINE_MAX_SIZE`: a line, or a `*`/`$` length line, that
/// grows past it without its end is refused.
const MAX_INLINE: usize = 64 * 1024;

/// How long a server must stay silent to be taken as waiting for more bytes.
const QUIET: Duration = Duration::from_millis(300);

/// One thing a case's client does.
enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read what comes until nothing has come for [`QUIET`].
    Quiet,
}

/// What a client sends, and a name for failure messages.
struct Case {
    name: String,
    steps: Vec<Step>,
}

/// A case that leaves the connection in step: `input`, then QUIT.
fn answers(name: &str, input: &[u8]) -> Case {
    Case {
        name: name.to_owned(),
        steps: vec![Step::Send([input, QUIT].concat())],
    }
}

/// A case the server answers and then closes.
fn closes(name: &str, input: &[u8]) -> Case {
    Case {
        name: name.to_owned(),
        steps: vec![Step::Send(input.to_vec())],
    }
}

/// A case whose `input` leaves the server waiting for more; then `more` arrives.
fn waits(name: &str, input: &[u8], more: &[u8]) -> Case {
    Case {
        name: name.to_owned(),
        steps: vec![
            Step::Send(input.to_vec()),
            Step::Quiet,
            Step::Send(more.to_vec()),
        ],
    }
}

/// `len` bytes that end no line.
fn filler(len: usize) -> Vec<u8> {
    vec![b'x'; len]
}

/// What a server did with a case: what it sent back (shown escaped) and whether it
/// closed the connection.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    replies: String,
    closed: bool,
}

/// Runs `case` on a fresh connection to `addr`.
fn outcome(addr: SocketAddr, case: &Case) -> Outcome {
    let mut stream = tcp_stream(addr);
    let mut got = Vec::new();
    for step in &case.steps {
        match step {
            // A server that closed early refuses the rest: what it sent is still read.
            Step::Send(bytes) => {
                if stream.write_all(bytes).is_err() {
                    break;
                }
            }
            Step::Quiet => {
                if read_until_closed(&mut stream, QUIET, &mut got) {
                    return Outcome {
                        replies: show(&got),
                        closed: true,
                    };
                }
            }
        }
    }
    let closed = read_until_closed(&mut stream, common::STEP_TIMEOUT, &mut got);
    Outcome {
        replies: show(&got),
        closed,
    }
}

/// Reads into `got` until the server closes (`true`) or sends nothing for `quiet`.
fn read_until_closed(stream: &mut std::net::TcpStream, quiet: Duration, got: &mut Vec<u8>) -> bool {
    stream.set_read_timeout(Some(quiet)).unwrap();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(err) if err.kind() == ErrorKind::ConnectionReset => {
                got.extend_from_slice(b"<reset>");
                return true;
            }
            Err(err) => panic!("reading after {:?}: {err}", show(got)),
        }
    }
}

/// Runs every case against Redis at `theirs` and Blink Store at each of `ours`, and
/// fails listing every case whose outcome differs.
fn same_as_redis(theirs: SocketAddr, ours: &[(&str, SocketAddr)], cases: &[Case]) {
    let mut differences = Vec::new();
    for case in cases {
        let want = outcome(theirs, case);
        for (listener, addr) in ours {
            let got = outcome(*addr, case);
            if got != want {
                differences.push(format!(
                    "{} (on the {listener} listener):\n  Redis {want:?}\n  Blink {got:?}",
                    case.name
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}

/// A server with an auto-detecting TCP listener and one fixed to RESP, with `extra`
/// flags: the server (its `tcp` the auto-detecting listener) and the RESP address.
fn start_blink(extra: &[&str]) -> (Server, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = common::clean_command(common::binary());
    command
        .args(["serve", "--tcp", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
        .args(extra);
    let server = Server::spawn(&mut command, dir, true, false);
    let resp = server
        .process
        .wait_line("the RESP listener's address", |line| {
            if !(line.contains("listening on tcp") && line.contains("wire=resp")) {
                return None;
            }
            let (_, addr) = line.split_once("addr=")?;
            addr.split_whitespace().next()?.parse().ok()
        });
    (server, resp)
}

#[test]
fn inline_commands_are_split_as_redis_splits_them() {
    let redis = External::redis();
    let (_blink, resp) = start_blink(&[]);
    let mut at_limit = b"ECHO ".to_vec();
    at_limit.extend(filler(MAX_INLINE - 1 - b"ECHO ".len()));
    at_limit.extend_from_slice(b"\r\n");
    assert_eq!(at_limit.len(), MAX_INLINE + 1);
    let cases = [
        answers(
            "double quotes group words",
            b"SET k \"hello world\"\r\nGET k\r\n",
        ),
        answers(
            "double-quote escapes",
            &[
                &br#"SET k "\x41\x4a\n\r\t\b\a\\\"\q\'""#[..],
                b"\r\nGET k\r\n",
            ]
            .concat(),
        ),
        answers(
            "a hex escape without two hex digits is its letters",
            &[&br#"SET k "\xzz\x4""#[..], b"\r\nGET k\r\n"].concat(),
        ),
        answers(
            "single quotes take only \\' as an escape",
            &[&br#"SET k 'it\'s \n \x41 "q"'"#[..], b"\r\nGET k\r\n"].concat(),
        ),
        answers(
            "empty quoted arguments",
            b"SET k \"\"\r\nGET k\r\nECHO ''\r\n",
        ),
        answers(
            "quotes inside a word join it",
            b"SET k a\"b c\"\r\nGET k\r\nSET k x'y z'\r\nGET k\r\n",
        ),
        answers(
            "tabs, runs of spaces and a leading vertical tab separate",
            b"\x0b  SET\tk \t v  \r\nGET k\r\n",
        ),
        answers(
            "a vertical tab or form feed inside a word is part of it",
            b"ECHO a\x0bb\x0c\r\n",
        ),
        answers(
            "LF alone ends a line; a CR inside one separates words",
            b"ECHO a\nECHO b\r\nECHO c\rd\r\n",
        ),
        answers(
            "empty and blank lines are skipped",
            b"\r\n\n   \r\n\t\n*1\r\n$4\r\nPING\r\n\r\nPING\r\n",
        ),
        answers(
            "a NUL written as an escape is a byte of the argument",
            &[&br#"SET k "a\x00b""#[..], b"\r\nGET k\r\n"].concat(),
        ),
        answers(
            "an unknown inline command echoes its arguments",
            b"FOO \"a b\" 'c' d\r\n",
        ),
        answers(
            "a line that opens with $ is an inline command",
            b"$5\r\nPING\r\n",
        ),
        answers(
            "multibulk and inline commands mix",
            b"*1\r\n$4\r\nPING\r\nECHO x\r\n*0\r\n*-1\r\nPING\r\n",
        ),
        answers("an inline command as long as the limit", &at_limit),
    ];
    same_as_redis(redis.addr().parse().unwrap(), &[("resp", resp)], &cases);
}

#[test]
fn unbalanced_quotes_and_bad_frames_close_as_in_redis() {
    let redis = External::redis();
    let (blink, resp) = start_blink(&[]);
    let inline = [
        closes(
            "a closing quote followed by a quote",
            b"set \"\"\"k\"\"\" v\r\n",
        ),
        closes(
            "an unclosed double quote, after a command that is answered",
            b"PING\r\nECHO \"x\r\nPING\r\n",
        ),
        closes("an unclosed single quote", b"ECHO 'abc\r\n"),
        closes(
            "a closing double quote followed by a letter",
            b"ECHO \"a\"b\r\n",
        ),
        closes(
            "a closing single quote followed by a letter",
            b"ECHO 'a'b\r\n",
        ),
        closes("an escaped closing quote", b"ECHO \"a\\\"\r\n"),
        closes("an inline line past the limit", &filler(MAX_INLINE + 1)),
        closes(
            "a line that opens with $ and never ends",
            &[&b"$"[..], &filler(MAX_INLINE)].concat(),
        ),
    ];
    same_as_redis(redis.addr().parse().unwrap(), &[("resp", resp)], &inline);

    let mut endless_count = b"*".to_vec();
    endless_count.extend(std::iter::repeat_n(b'1', MAX_INLINE));
    let mut endless_length = b"*1\r\n$".to_vec();
    endless_length.extend(std::iter::repeat_n(b'1', MAX_INLINE));
    // Every one opens with `*`, so the auto-detecting listener speaks RESP to it too.
    let frames = [
        closes("an element that is not a bulk string", b"*1\r\nx\r\n"),
        closes("an integer element", b"*1\r\n:1\r\n"),
        closes("an empty element line", b"*1\r\n\r\n"),
        closes("an array inside a command", b"*2\r\n$3\r\nGET\r\n*1\r\n"),
        closes("a count that is not a number", b"*x\r\n"),
        closes("an empty count", b"*\r\n"),
        closes("a count with a leading zero", b"*01\r\n"),
        closes("a count of minus zero", b"*-0\r\n"),
        closes("a length that is not a number", b"*1\r\n$x\r\n"),
        closes("a negative length", b"*1\r\n$-1\r\n"),
        closes("a length with a leading zero", b"*1\r\n$01\r\n"),
        closes("an empty length", b"*1\r\n$\r\n"),
        closes(
            "a length past Redis's bulk limit",
            b"*1\r\n$999999999999\r\n",
        ),
        closes("a count line past the limit", &endless_count),
        closes("a length line past the limit", &endless_length),
        closes(
            "a bad frame after a good one",
            b"*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n",
        ),
    ];
    let ours = [("resp", resp), ("auto-detecting", blink.tcp.unwrap())];
    same_as_redis(redis.addr().parse().unwrap(), &ours, &frames);
}

#[test]
fn a_nul_hides_a_line_end_until_the_line_is_too_long_as_in_redis() {
    let redis = External::redis();
    let (_blink, resp) = start_blink(&[]);
    let cases = [
        waits(
            "a NUL first byte",
            b"\x00abc\r\nPING\r\n",
            &filler(MAX_INLINE + 1 - b"\x00abc\r\nPING\r\n".len()),
        ),
        waits(
            "a NUL in an inline command after one that is answered",
            b"PING\r\nGET k\x00\r\nPING\r\n",
            &filler(MAX_INLINE + 1 - b"GET k\x00\r\nPING\r\n".len()),
        ),
        waits(
            "a NUL in a count line",
            b"*1\x00\r\n$4\r\nPING\r\n",
            &filler(MAX_INLINE + 1 - b"*1\x00\r\n$4\r\nPING\r\n".len()),
        ),
        waits(
            "a NUL in a length line",
            b"*1\r\n$4\x00\r\nPING\r\n",
            &filler(MAX_INLINE + 1 - b"$4\x00\r\nPING\r\n".len()),
        ),
        waits(
            "a header waits for the arguments it promises",
            b"*2\r\n$3\r\nGET\r\n",
            &[&b"$1\r\nk\r\n"[..], QUIT].concat(),
        ),
    ];
    same_as_redis(redis.addr().parse().unwrap(), &[("resp", resp)], &cases);
}

#[test]
fn before_auth_long_headers_are_refused_as_in_redis() {
    let redis = External::redis_with_password(PASSWORD);
    let (blink, resp) = start_blink(&["--requirepass", PASSWORD]);
    let auth = resp_command(&[b"AUTH", PASSWORD.as_bytes()]);
    let long_value = filler(100_000);
    let mut eleven_keys: Vec<&[u8]> = vec![b"MGET"];
    eleven_keys.extend([&b"k"[..]; 11]);
    let mut nine_keys: Vec<&[u8]> = vec![b"MGET"];
    nine_keys.extend([&b"k"[..]; 9]);
    let cases = [
        closes("100 arguments", b"*100\r\n"),
        closes("11 arguments", b"*11\r\n"),
        closes("more arguments than Redis reads at all", b"*3000000000\r\n"),
        closes("a 100 MB bulk string", b"*1\r\n$100000000\r\n"),
        closes("a bulk string of 16 KiB and one byte", b"*1\r\n$16385\r\n"),
        closes(
            "a bulk string longer than Redis reads at all",
            b"*1\r\n$600000000\r\n",
        ),
        closes("a negative length", b"*1\r\n$-1\r\n"),
        closes(
            "a wrong password leaves the limits in place",
            &[&resp_command(&[b"AUTH", b"wrong"])[..], b"*100\r\n"].concat(),
        ),
        answers("10 arguments", &resp_command(&nine_keys)),
        answers(
            "a bulk string of 16 KiB",
            &resp_command(&[b"ECHO", &filler(16 * 1024)]),
        ),
        answers(
            "after AUTH, Redis's usual limits",
            &[
                &auth[..],
                &resp_command(&eleven_keys),
                &resp_command(&[b"ECHO", &long_value]),
            ]
            .concat(),
        ),
    ];
    let ours = [("resp", resp), ("auto-detecting", blink.tcp.unwrap())];
    same_as_redis(redis.addr().parse().unwrap(), &ours, &cases);
    let inline = [answers("an inline command", b"GET k\r\n")];
    same_as_redis(redis.addr().parse().unwrap(), &[("resp", resp)], &inline);
}

#[test]
fn the_resp_listener_speaks_resp_from_the_first_byte() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("resp.sock");
    let mut command = common::clean_command(common::binary());
    command
        .args(["serve", "--resp", "127.0.0.1:0", "--resp-unix"])
        .arg(&socket);
    // Fixed to RESP, and no other listener: both announce themselves as TCP and Unix.
    let server = Server::spawn(&mut command, dir, true, true);
    for mut client in [server.tcp_client(), server.unix_client()] {
        // A line the auto-detecting listener would give the line protocol.
        client.send(b"SET k \"a b\"\nGET k\n");
        expect(&mut client, b"+OK\r\n$3\r\na b\r\n");
        client.send(b"set \"\"\"k\"\"\" v\r\n");
        expect_close(
            &mut client,
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        );
    }
    assert!(
        !server.log_text().contains("wire=auto"),
        "no auto-detecting listener: {}",
        server.log_text()
    );
}

#[test]
fn the_auto_detecting_listener_skips_empty_lines_and_keeps_quotes_for_the_line_protocol() {
    let (server, _) = start_blink(&[]);
    let mut resp = server.tcp_client();
    resp.send(b"\r\n\n\r\n*1\r\n$4\r\nPING\r\n\r\nPING\r\n");
    expect(&mut resp, b"+PONG\r\n+PONG\r\n");
    let mut inline_ping = server.tcp_client();
    inline_ping.send(b"\n\r\nPING\r\nECHO \"a b\"\r\n");
    expect(&mut inline_ping, b"+PONG\r\n$3\r\na b\r\n");
    // Only `*` and an inline PING select RESP: quotes are the line protocol's bytes.
    let mut line = server.tcp_client();
    line.script(&[
        (b"\r\nset \"\"\"k\"\"\" v\r\n", "OK\n"),
        (b"GET \"\"\"k\"\"\"\n", "VALUE dg==\n"),
        (b"\n", "ERROR empty line\n"),
    ]);
}

#[test]
fn a_resp_listener_refuses_a_client_over_the_limit_in_redis_words() {
    let (server, resp) = start_blink(&["--max-connections", "1"]);
    let mut first = Client::tcp(resp);
    first.send(b"PING\r\n");
    expect(&mut first, b"+PONG\r\n");
    expect_close(
        &mut Client::tcp(resp),
        b"-ERR max number of clients reached\r\n",
    );
    // The auto-detecting listener cannot know a client's protocol before it speaks.
    expect_close(
        &mut server.tcp_client(),
        b"ERROR too many connections (max 1)\n",
    );
}
