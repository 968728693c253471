//! Hostile input over real sockets, in the spirit of Redis's `tests/unit/protocol.tcl` and
//! memcached's `t/bogus-commands.t`: empty and overlong lines, NUL bytes and invalid
//! UTF-8, wrong arities, broken RESP framing, broken memcached data blocks and numbers
//! (`memcache.rs`), half requests, half-closed sockets and a 100 MB line, then a
//! connection storm and the connection limit.
//!
//! The byte-level cases are one table: each row is what a client sends and what it must
//! get back, exactly (replies, then a connection still in step; or replies and a clean
//! close: EOF, never a reset), run by one loop on a fresh connection over TCP and over the
//! Unix socket (the memcached listener's, for memcached's rows). Every case runs against ONE server process, started once and never
//! restarted; after each, a fresh client must still be served, every connection the case
//! opened must be gone, and the server's peak RSS may not have grown by 32 MiB.

use crate::common;

mod memcache;

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{
    base64_of, expect, expect_close, resp_command, status_kib, try_wait_for, value_reply,
    wait_connections, Client, Server, Stream,
};

/// `--max-key-size`: small, so every limit is cheap to reach.
const MAX_KEY: usize = 16;
/// `--max-value-size`.
const MAX_VALUE: usize = 1024;
/// The longest line of the line protocol: key, value and 64 bytes of room.
const MAX_LINE: usize = MAX_KEY + MAX_VALUE + 64;
/// Redis's inline limit, which also bounds RESP's `*` and `$` length lines.
const MAX_INLINE: usize = 64 * 1024;
/// The longest RESP command: key, value and 64 KiB of headers.
const MAX_RESP_COMMAND: usize = MAX_KEY + MAX_VALUE + 64 * 1024;
/// `--max-connections`.
const MAX_CONNECTIONS: usize = 100;
/// RESP's most arguments in one command.
const MAX_ARGS: usize = 1024 * 1024;
/// How much the server's resident memory may grow in one case: far below what buffering
/// a 100 MB line, or a pipeline's replies, would take.
const MAX_GROWTH_KIB: u64 = 32 * 1024;
/// The cases there are (README.md gives the number): a floor, so none is lost unnoticed.
const CASES: usize = 89 + memcache::CASES;

/// A RESP PING, to check that a RESP connection is still in step.
const RESP_PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

#[test]
fn hostile_input_is_answered_or_closed_cleanly_by_one_long_lived_server() {
    let started = Instant::now();
    let max_key = MAX_KEY.to_string();
    let max_value = MAX_VALUE.to_string();
    let max_connections = MAX_CONNECTIONS.to_string();
    let server = Server::start_memcache(&[
        "--max-key-size",
        &max_key,
        "--max-value-size",
        &max_value,
        "--memory-limit",
        "1MiB",
        "--max-connections",
        &max_connections,
    ]);
    let mut suite = Suite {
        server: &server,
        cases: 0,
        failures: Vec::new(),
        idle_connections: 1,
    };
    for case in table() {
        suite.case(&case.name, |server, _| run_case(server, &case));
    }
    suite.case("3,000 connections opened and dropped", connection_storm);
    suite.case(
        "a client over --max-connections is refused and closed",
        connection_limit,
    );

    let cases = suite.cases;
    let mut failures = suite.failures;
    let log = server.log_text();
    if log.contains("panicked") {
        failures.push(format!("the server panicked; its log:\n{log}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases >= CASES, "only {cases} cases");
    println!("hostile input: {cases} cases, all answered or closed cleanly, server still serving");
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// One row: a name, the protocol the connection speaks, and what the client does.
struct Case {
    name: String,
    /// How the loop checks, after the steps, that a connection left open is in step.
    wire: Wire,
    steps: Vec<Step>,
}

/// A case's protocol.
#[derive(Clone, Copy)]
enum Wire {
    Line,
    Resp,
    /// memcached's, on the server's memcached listeners.
    Memcache,
}

/// One thing a case's client does; writes go out from a second thread, in order, so a
/// long pipeline never stalls on full socket buffers while replies are read.
enum Step {
    /// Write these bytes at once.
    Send(Vec<u8>),
    /// Write these bytes a few at a time, one write each.
    Trickle(Vec<u8>, usize),
    /// Write `chunk` `times` times, watching the server's RSS as it goes.
    Stream { chunk: Vec<u8>, times: usize },
    /// Shut the sending half.
    ShutdownWrite,
    /// Exactly these bytes come back next.
    Reply(Vec<u8>),
    /// Exactly these bytes come back, then a clean close.
    Closed(Vec<u8>),
    /// The client goes away.
    HangUp,
    /// A fresh client over the other transport gets exactly these replies.
    Check(Vec<(Vec<u8>, &'static str)>),
}

fn case(name: impl Into<String>, wire: Wire, steps: Vec<Step>) -> Case {
    Case {
        name: name.into(),
        wire,
        steps,
    }
}

/// A line-protocol case: `input` in one write, answered with exactly `expected`.
fn line(name: &str, input: impl Into<Vec<u8>>, expected: impl Into<Vec<u8>>) -> Case {
    let steps = vec![Step::Send(input.into()), Step::Reply(expected.into())];
    case(name, Wire::Line, steps)
}

/// A RESP case: `input` in one write, answered with exactly `expected`.
fn resp(name: &str, input: impl Into<Vec<u8>>, expected: impl Into<Vec<u8>>) -> Case {
    let steps = vec![Step::Send(input.into()), Step::Reply(expected.into())];
    case(name, Wire::Resp, steps)
}

/// A RESP case the server answers with exactly `expected` and then closes.
fn resp_closes(name: &str, input: impl Into<Vec<u8>>, expected: impl Into<Vec<u8>>) -> Case {
    let steps = vec![Step::Send(input.into()), Step::Closed(expected.into())];
    case(name, Wire::Resp, steps)
}

fn table() -> Vec<Case> {
    [
        line_protocol_cases(),
        resp_cases(),
        memcache::cases(),
        connection_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn line_protocol_cases() -> Vec<Case> {
    let line_too_long = format!("ERROR line too long (max {MAX_LINE} bytes)\n");
    let key_too_long = format!("ERROR key too long (max {MAX_KEY} bytes)\n");
    vec![
        // Empty lines before the first request are dropped before the protocol is
        // chosen; after it, the line protocol answers each.
        line(
            "empty lines before the first request",
            b"\n\r\n\nPING\n",
            b"PONG\n",
        ),
        line("empty line", b"PING\n\n", b"PONG\nERROR empty line\n"),
        line(
            "whitespace-only lines",
            b"     \n\t\t\n \t \x0c \r\n",
            b"ERROR empty line\n".repeat(3),
        ),
        // A vertical tab is not whitespace to the line protocol: it is a command word.
        line(
            "a vertical tab is a command word",
            b"\x0b\n",
            b"ERROR unknown command '\\x0b'\n",
        ),
        line("CRLF-only line", b"PING\n\r\n", b"PONG\nERROR empty line\n"),
        line(
            "10,000 empty lines pipelined",
            [
                b"PING\n".to_vec(),
                [&b"\n"[..], b"\r\n", b"  \n", b" \t \r\n"]
                    .concat()
                    .repeat(2_500),
                b"PING\n".to_vec(),
            ]
            .concat(),
            [
                b"PONG\n".to_vec(),
                b"ERROR empty line\n".repeat(10_000),
                b"PONG\n".to_vec(),
            ]
            .concat(),
        ),
        line(
            "NUL bytes in the command word",
            b"G\x00T k\n\x00\n\x00PING\n",
            b"ERROR unknown command 'G\\x00T'\n\
              ERROR unknown command '\\x00'\n\
              ERROR unknown command '\\x00PING'\n",
        ),
        line(
            "NUL and other control bytes in a key",
            b"GET a\x00b\nSET a\x00b v\nDEL \x00\nGET a\rb\nGET a\x7fb\nTTL \x1b[0m\n\
              EXPIRE k\x00 5\nPERSIST \x01\n",
            b"ERROR key contains invalid bytes\n".repeat(8),
        ),
        line(
            "NUL bytes in a value round-trip through base64",
            b"SET nul:v \x00a\x00\nGET nul:v\nSET nul:v \x00\nGET nul:v\nDEL nul:v\n",
            b"OK\nVALUE AGEA\nOK\nVALUE AA==\nOK\n",
        ),
        line(
            "invalid UTF-8 in the command word",
            b"\xff\xfe GET\n\xc3\x28 k\nG\xc0\xafT k\n",
            b"ERROR unknown command '\\xff\\xfe'\n\
              ERROR unknown command '\\xc3('\n\
              ERROR unknown command 'G\\xc0\\xafT'\n",
        ),
        line(
            "invalid UTF-8 in a key is allowed",
            b"SET \xff\xfe\x80 v\nGET \xff\xfe\x80\nTTL \xff\xfe\x80\nDEL \xff\xfe\x80\n\
              GET \xff\xfe\x80\n",
            b"OK\nVALUE dg==\nTTL -1\nOK\nNOT_FOUND\n",
        ),
        invalid_utf8_value(),
        line(
            "an overlong line in one write, then a pipelined command",
            [&b"GET "[..], &[b'x'; 2_000], b"\nPING\n"].concat(),
            format!("{line_too_long}PONG\n"),
        ),
        line(
            "a line exactly at the limit and one byte over",
            [
                &b"GET "[..],
                &[b'k'; MAX_LINE - 4],
                b"\nGET ",
                &[b'k'; MAX_LINE - 3],
                b"\n",
            ]
            .concat(),
            format!("{key_too_long}{line_too_long}"),
        ),
        case(
            "an overlong SET value with a complete key, streamed",
            Wire::Line,
            vec![
                Step::Send(b"SET big:v ".to_vec()),
                Step::Stream {
                    chunk: vec![b'v'; 1_000],
                    times: 10,
                },
                Step::Send(b"\nGET big:v\n".to_vec()),
                Step::Reply(
                    format!("ERROR value too large (max {MAX_VALUE} bytes)\nNOT_FOUND\n").into(),
                ),
            ],
        ),
        line(
            "an overlong SET whose key never ends",
            [&b"SET "[..], &[b'k'; 5_000], b" v\n"].concat(),
            line_too_long.clone(),
        ),
        line(
            "a key over --max-key-size, in every command",
            format!(
                "GET {k}\nSET {k} v\nDEL {k}\nDELETE {k}\nEXPIRE {k} 5\nTTL {k}\nPERSIST {k}\n",
                k = "K".repeat(MAX_KEY + 1)
            ),
            key_too_long.repeat(7),
        ),
        line(
            "a key exactly --max-key-size accepted, one byte more refused",
            format!(
                "SET {k} v\nGET {k}\nSET {k}x v\nGET {k}x\nDEL {k}\n",
                k = "k".repeat(MAX_KEY)
            ),
            format!("OK\nVALUE dg==\n{key_too_long}{key_too_long}OK\n"),
        ),
        largest_value(),
        long_command_names(),
        line(
            "command words in mixed case",
            b"sEt mixed:k v\nGeT mixed:k\nExPiRe mixed:k 100\npErSiSt mixed:k\ntTl mixed:k\n\
              dElEtE mixed:k\nDeL mixed:k\npInG\n",
            b"OK\nVALUE dg==\nOK\nOK\nTTL -1\nOK\nNOT_FOUND\nPONG\n",
        ),
        wrong_arities(),
        line(
            "hostile numbers in EXPIRE",
            b"SET num:k v\nEXPIRE num:k 99999999999999999999\nEXPIRE num:k +5\n\
              EXPIRE num:k 1e5\nEXPIRE num:k 0x10\nEXPIRE num:k 05\nEXPIRE num:k -\n\
              EXPIRE num:k 9223372036854775807\nEXPIRE num:k -9223372036854775808\n\
              TTL num:k\nEXPIRE num:k -1\nGET num:k\n",
            [
                "OK\n",
                &"ERROR value is not an integer or out of range\n".repeat(6),
                &"ERROR invalid expire time in 'EXPIRE' command\n".repeat(2),
                "TTL -1\nOK\nNOT_FOUND\n",
            ]
            .concat(),
        ),
        binary_junk(),
        case(
            "binary junk longer than a line, then LF",
            Wire::Line,
            vec![
                Step::Trickle(XorShift(0x0ddb_a110_0ddb_a110).junk(8 * 1024), 1_000),
                Step::Send(b"\n".to_vec()),
                Step::Reply(line_too_long.clone().into()),
            ],
        ),
        case(
            "a 100 MB line streamed in 64 KiB writes",
            Wire::Line,
            vec![
                Step::Send([&b"GET "[..], &[b'x'; 64 * 1024]].concat()),
                // Answered once, as soon as the line is too long; the rest is dropped as
                // it comes.
                Step::Reply(line_too_long.into()),
                Step::Stream {
                    chunk: vec![b'x'; 64 * 1024],
                    times: 1_599,
                },
                Step::Send(b"\nPING\n".to_vec()),
                Step::Reply(b"PONG\n".to_vec()),
            ],
        ),
        case(
            "a line request sent one byte per write",
            Wire::Line,
            vec![
                Step::Trickle(
                    b"SET slow:k slow value\r\nGET slow:k\nDEL slow:k\n".to_vec(),
                    1,
                ),
                Step::Reply(b"OK\nVALUE c2xvdyB2YWx1ZQ==\nOK\n".to_vec()),
            ],
        ),
    ]
}

fn invalid_utf8_value() -> Case {
    let value = b"\xff\xfe\xc3\x28 \xed\xa0\x80\xf8\x88\x80\x80\x80";
    line(
        "invalid UTF-8 in a value round-trips",
        [
            &b"SET utf8:v "[..],
            value,
            b"\nGET utf8:v\nDEL utf8:v\nGET utf8:v\n",
        ]
        .concat(),
        [&b"OK\n"[..], &value_reply(value), b"OK\nNOT_FOUND\n"].concat(),
    )
}

fn largest_value() -> Case {
    let value = vec![b'v'; MAX_VALUE];
    let key = "m".repeat(MAX_KEY);
    let encoded = base64_of(&value);
    line(
        "a value exactly at the maximum accepted, one byte more refused",
        [
            // The longest valid line: the longest key, the largest value and a CR.
            format!("SET {key} ").as_bytes(),
            &value,
            b"\r\n",
            format!("GET {key}\nSET {key} ").as_bytes(),
            &value,
            b"w\n",
            format!("GET {key}\nDEL {key}\n").as_bytes(),
        ]
        .concat(),
        format!(
            "OK\nVALUE {encoded}\nERROR value too large (max {MAX_VALUE} bytes)\n\
             VALUE {encoded}\nOK\n"
        ),
    )
}

fn long_command_names() -> Case {
    line(
        "unknown commands with long names are quoted short",
        [
            &[b'X'; 100][..],
            b"\n",
            &[b'Y'; 32],
            b"\n",
            &[b'Z'; 33],
            b" k\n",
            &[b'\x01'; 40],
            b"\n",
            b"'quoted'\\\"name\" k\n",
        ]
        .concat(),
        format!(
            "ERROR unknown command '{}...'\nERROR unknown command '{}'\n\
             ERROR unknown command '{}...'\nERROR unknown command '{}...'\n\
             ERROR unknown command '\\'quoted\\'\\\\\\\"name\\\"'\n",
            "X".repeat(32),
            "Y".repeat(32),
            "Z".repeat(32),
            "\\x01".repeat(32),
        ),
    )
}

fn wrong_arities() -> Case {
    let requests: &[(&str, &str)] = &[
        ("SET", "SET"),
        ("SET k", "SET"),
        ("SET  ", "SET"),
        ("GET", "GET"),
        ("GET a b", "GET"),
        ("DELETE", "DELETE"),
        ("DELETE a b", "DELETE"),
        ("DEL", "DEL"),
        ("DEL a b", "DEL"),
        ("USAGE x", "USAGE"),
        ("STATS x", "STATS"),
        ("EXPIRE", "EXPIRE"),
        ("EXPIRE k", "EXPIRE"),
        ("EXPIRE k 1 2", "EXPIRE"),
        ("TTL", "TTL"),
        ("TTL a b", "TTL"),
        ("PERSIST", "PERSIST"),
        ("PERSIST a b", "PERSIST"),
        ("INFO x", "INFO"),
        ("PING x", "PING"),
        ("QUIT x", "QUIT"),
    ];
    let mut input = String::new();
    let mut expected = String::new();
    for (request, cmd) in requests {
        input.push_str(&format!("{request}\n"));
        expected.push_str(&format!("ERROR wrong number of arguments for '{cmd}'\n"));
    }
    line("wrong arity for every line command", input, expected)
}

fn binary_junk() -> Case {
    let junk = XorShift(0x0bad_5eed_1234_5678).junk(700);
    let word = command_word(&junk);
    assert!(!is_line_command(word), "the seed made a real command word");
    let dots = if word.len() > 32 { "..." } else { "" };
    let expected = format!(
        "ERROR unknown command '{}{dots}'\n",
        word[..word.len().min(32)].escape_ascii()
    );
    case(
        "binary junk without LF, then LF",
        Wire::Line,
        vec![
            Step::Trickle(junk, 97),
            Step::Send(b"\n".to_vec()),
            Step::Reply(expected.into()),
        ],
    )
}

fn resp_cases() -> Vec<Case> {
    let invalid_bulk = b"-ERR Protocol error: invalid bulk length\r\n";
    let invalid_multibulk = b"-ERR Protocol error: invalid multibulk length\r\n";
    let unbalanced = b"+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n";
    let mut cases = vec![
        // As in Redis: `*-1` (a null array) and `*0` are skipped without a reply.
        resp(
            "RESP: null and empty multibulks get no reply",
            [
                &b"*-1\r\n*0\r\n*-7\r\n"[..],
                RESP_PING,
                b"*-1\r\n",
                RESP_PING,
            ]
            .concat(),
            b"+PONG\r\n+PONG\r\n",
        ),
        resp(
            "RESP: empty lines before the first frame get no reply",
            [&b"\r\n\n\r\n"[..], RESP_PING].concat(),
            b"+PONG\r\n",
        ),
        resp(
            "RESP: empty inline lines between frames get no reply",
            [
                &b"PING\r\n\r\n\n  \t \r\n"[..],
                RESP_PING,
                b"\r\n\r\n",
                RESP_PING,
            ]
            .concat(),
            b"+PONG\r\n+PONG\r\n+PONG\r\n",
        ),
    ];
    for junk in [
        &b"*1\r\n$-5\r\n"[..],
        b"*1\r\n$-1\r\n",
        b"*2\r\n$3\r\nGET\r\n$-1\r\n",
    ] {
        let name = format!("RESP: a negative bulk length: {}", common::show(junk));
        cases.push(resp_closes(&name, junk, invalid_bulk));
    }
    for junk in [
        &b"*1\r\n$99999999999\r\n"[..],
        b"*1\r\n$99999999999999999999999\r\n",
        b"*1\r\n$9223372036854775807\r\n",
    ] {
        let name = format!("RESP: a huge bulk length: {}", common::show(junk));
        cases.push(resp_closes(&name, junk, invalid_bulk));
    }
    cases.push(resp_closes(
        "RESP: a bulk over --max-value-size is refused by its header",
        format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", MAX_VALUE + 1),
        invalid_bulk,
    ));
    for junk in [
        &b"*x\r\n"[..],
        b"*\r\n",
        b"*1x\r\n",
        b"* 1\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*1.0\r\n",
    ] {
        let name = format!(
            "RESP: a non-numeric multibulk count: {}",
            common::show(junk)
        );
        cases.push(resp_closes(&name, junk, invalid_multibulk));
    }
    for junk in [
        &b"*1\r\n$abc\r\n"[..],
        b"*1\r\n$\r\n",
        b"*1\r\n$+4\r\nPING\r\n",
        b"*1\r\n$04\r\nPING\r\n",
        b"*1\r\n$4x\r\nPING\r\n",
        b"*1\r\n$ 4\r\nPING\r\n",
    ] {
        let name = format!("RESP: a non-numeric bulk length: {}", common::show(junk));
        cases.push(resp_closes(&name, junk, invalid_bulk));
    }
    for junk in [
        format!("*{}\r\n", MAX_ARGS + 1),
        "*99999999999999999999\r\n".to_owned(),
    ] {
        let name = format!(
            "RESP: a multibulk count over the limit: {}",
            junk.trim_end()
        );
        cases.push(resp_closes(&name, junk, invalid_multibulk));
    }
    cases.extend([
        // The largest count is accepted and waits for its arguments; EOF ends it quietly.
        case(
            "RESP: the largest multibulk count waits for its arguments",
            Wire::Resp,
            vec![
                Step::Send(format!("*{MAX_ARGS}\r\n$4\r\nPING\r\n").into()),
                Step::ShutdownWrite,
                Step::Closed(Vec::new()),
            ],
        ),
        resp_closes(
            "RESP: an argument that is an integer, not a bulk string",
            b"*1\r\n:4\r\n",
            b"-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        resp_closes(
            "RESP: an argument that is a simple string, not a bulk string",
            b"*2\r\n$3\r\nGET\r\n+k\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        resp_closes(
            "RESP: an argument that starts with a byte that is not UTF-8",
            b"*2\r\n$3\r\nGET\r\n\xff\r\n",
            "-ERR Protocol error: expected '$', got '\u{fffd}'\r\n",
        ),
        resp(
            "RESP: junk after a valid frame is an inline command",
            [RESP_PING, b"XYZ\r\n", b"XYZ 1 2\n"].concat(),
            b"+PONG\r\n-ERR unknown command 'XYZ', with args beginning with: \r\n\
              -ERR unknown command 'XYZ', with args beginning with: '1' '2' \r\n",
        ),
        // `PI\r\n` fills the 4 bytes, the next two (`*1`) are skipped unchecked as Redis
        // skips them, and the rest is read as inline commands: Redis 7 answers the same.
        resp(
            "RESP: a bulk shorter than declared desyncs as in Redis",
            b"*1\r\n$4\r\nPI\r\n*1\r\n$4\r\nPING\r\n",
            b"-ERR unknown command 'PI  ', with args beginning with: \r\n\
              -ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n",
        ),
        resp_closes(
            "RESP: a desync that lands on a bad header closes",
            b"*1\r\n$4\r\nPI\r\n\r\n*1\r\n$-3\r\n",
            b"-ERR unknown command 'PI  ', with args beginning with: \r\n\
              -ERR Protocol error: invalid bulk length\r\n",
        ),
        // The two bytes after a bulk are skipped unchecked, as Redis 7 does.
        resp(
            "RESP: missing CRLF after bulk data",
            [&b"*1\r\n$4\r\nPINGXY"[..], RESP_PING].concat(),
            b"+PONG\r\n+PONG\r\n",
        ),
    ]);
    for junk in [
        &b"PING\r\nSET k \"abc\r\n"[..],
        b"PING\r\nGET 'a'b\r\n",
        b"PING\r\nGET \"a\"b\r\n",
        b"PING\r\nSET k 'abc\\'\r\n",
    ] {
        let name = format!("RESP: unbalanced quotes inline: {}", common::show(junk));
        cases.push(resp_closes(&name, junk, unbalanced));
    }
    cases.push(resp(
        "RESP: inline quotes and escapes are resolved",
        b"PING\r\nSET \"q k\" \"a\\x00\\n\\\"b\"\r\nGET 'q k'\r\nDEL \"q k\"\r\n",
        b"+PONG\r\n+OK\r\n$5\r\na\x00\n\"b\r\n:1\r\n",
    ));
    cases.extend(resp_limit_cases());
    cases.extend(resp_binary_cases());
    cases.extend(resp_command_cases());
    cases
}

fn resp_limit_cases() -> Vec<Case> {
    // Many one-byte arguments, one byte over the limit in all.
    let header = b"*100000\r\n";
    let arg = b"$1\r\na\r\n";
    let count = (MAX_RESP_COMMAND - header.len()) / arg.len();
    let mut longest = [&header[..], &arg.repeat(count)].concat();
    longest.extend_from_slice(&arg[..MAX_RESP_COMMAND + 1 - longest.len()]);
    assert_eq!(longest.len(), MAX_RESP_COMMAND + 1);
    vec![
        // Exactly one byte over, so the server has read everything when it closes.
        resp_closes(
            "RESP: an inline command over the inline limit closes",
            [&b"PING\r\n"[..], &vec![b'a'; MAX_INLINE + 1]].concat(),
            b"+PONG\r\n-ERR Protocol error: too big inline request\r\n",
        ),
        resp_closes(
            "RESP: a command longer than any valid one closes",
            longest,
            format!("-ERR line too long (max {MAX_RESP_COMMAND} bytes)\r\n"),
        ),
        resp_closes(
            "RESP: a multibulk count line over the inline limit closes",
            [&b"*"[..], &vec![b'9'; MAX_INLINE]].concat(),
            b"-ERR Protocol error: too big mbulk count string\r\n",
        ),
        resp_closes(
            "RESP: a bulk length line over the inline limit closes",
            [&b"*1\r\n$"[..], &vec![b'9'; MAX_INLINE]].concat(),
            b"-ERR Protocol error: too big bulk count string\r\n",
        ),
    ]
}

fn resp_binary_cases() -> Vec<Case> {
    let key = vec![b'r'; MAX_KEY];
    let long = vec![b'r'; MAX_KEY + 1];
    let too_long = format!("-ERR key too long (max {MAX_KEY} bytes)\r\n");
    let largest = vec![b'\xee'; MAX_VALUE];
    vec![
        resp(
            "RESP: NUL bytes in keys and values are binary-safe",
            [
                resp_command(&[b"GET", b"\x00"]),
                resp_command(&[b"SET", b"k\x00k", b"v\x00v"]),
                resp_command(&[b"GET", b"k\x00k"]),
                resp_command(&[b"GET", b"k"]),
                resp_command(&[b"DEL", b"k\x00k"]),
            ]
            .concat(),
            b"$-1\r\n+OK\r\n$3\r\nv\x00v\r\n$-1\r\n:1\r\n",
        ),
        resp(
            "RESP: a command name with NUL bytes is echoed up to the NUL",
            resp_command(&[b"A\x00B", b"c\x00d"]),
            b"-ERR unknown command 'A', with args beginning with: 'c' \r\n",
        ),
        resp(
            "RESP: invalid UTF-8 in names, keys and values",
            [
                resp_command(&[b"\xff\xfe", b"\xc3\x28"]),
                resp_command(&[b"SET", b"\xff\xfe", b"\xc3\x28\xed\xa0\x80"]),
                resp_command(&[b"GET", b"\xff\xfe"]),
                resp_command(&[b"DEL", b"\xff\xfe"]),
            ]
            .concat(),
            [
                "-ERR unknown command '\u{fffd}\u{fffd}', with args beginning with: \
                 '\u{fffd}(' \r\n"
                    .as_bytes(),
                b"+OK\r\n$5\r\n\xc3\x28\xed\xa0\x80\r\n:1\r\n",
            ]
            .concat(),
        ),
        resp(
            "RESP: long unknown command names are cut to 128 bytes",
            resp_command(&[&[b'X'; 300], &[b'a'; 200], b"b"]),
            format!(
                "-ERR unknown command '{}', with args beginning with: '{}' \r\n",
                "X".repeat(128),
                "a".repeat(128)
            ),
        ),
        resp(
            "RESP: a key at --max-key-size accepted, one byte more refused",
            [
                resp_command(&[b"SET", &key, b"v"]),
                resp_command(&[b"SET", &long, b"v"]),
                resp_command(&[b"GET", &long]),
                resp_command(&[b"GET", &key]),
                resp_command(&[b"DEL", &key]),
            ]
            .concat(),
            format!("+OK\r\n{too_long}{too_long}$1\r\nv\r\n:1\r\n"),
        ),
        resp(
            "RESP: a value exactly at the maximum",
            [
                resp_command(&[b"SET", b"rmax", &largest]),
                resp_command(&[b"STRLEN", b"rmax"]),
                resp_command(&[b"APPEND", b"rmax", b""]),
                resp_command(&[b"DEL", b"rmax"]),
            ]
            .concat(),
            format!("+OK\r\n:{MAX_VALUE}\r\n:{MAX_VALUE}\r\n:1\r\n"),
        ),
    ]
}

fn resp_command_cases() -> Vec<Case> {
    // `now + ttl` overflows a signed 64-bit millisecond clock: Redis refuses each.
    let ms = b"9223372036854775807";
    let s = b"9223372036854775";
    let slow = [
        resp_command(&[b"SET", b"slow:r", b"a\r\nb"]),
        resp_command(&[b"GET", b"slow:r"]),
        resp_command(&[b"DEL", b"slow:r"]),
    ]
    .concat();
    vec![
        resp(
            "RESP: wrong arity and mixed-case names",
            [
                resp_command(&[b"GET"]),
                resp_command(&[b"gEt", b"a", b"b"]),
                resp_command(&[b"SeT", b"k"]),
                resp_command(&[b"eXpIrE", b"k"]),
                resp_command(&[b"sEt", b"mixed:r", b"v"]),
                resp_command(&[b"GeT", b"mixed:r"]),
                resp_command(&[b"UnLiNk", b"mixed:r"]),
            ]
            .concat(),
            b"-ERR wrong number of arguments for 'get' command\r\n\
              -ERR wrong number of arguments for 'get' command\r\n\
              -ERR wrong number of arguments for 'set' command\r\n\
              -ERR wrong number of arguments for 'expire' command\r\n\
              +OK\r\n$1\r\nv\r\n:1\r\n",
        ),
        resp(
            "RESP: integer overflow in the INCR family",
            [
                resp_command(&[b"SET", b"num:r", b"9223372036854775807"]),
                resp_command(&[b"INCR", b"num:r"]),
                resp_command(&[b"DECRBY", b"num:r", b"-9223372036854775808"]),
                resp_command(&[b"INCRBY", b"num:r", b"99999999999999999999"]),
                resp_command(&[b"SET", b"num:r", b"-9223372036854775808"]),
                resp_command(&[b"DECR", b"num:r"]),
                resp_command(&[b"SET", b"num:r", b"\xff1"]),
                resp_command(&[b"INCR", b"num:r"]),
                resp_command(&[b"DEL", b"num:r"]),
            ]
            .concat(),
            b"+OK\r\n-ERR increment or decrement would overflow\r\n\
              -ERR decrement would overflow\r\n\
              -ERR value is not an integer or out of range\r\n\
              +OK\r\n-ERR increment or decrement would overflow\r\n\
              +OK\r\n-ERR value is not an integer or out of range\r\n:1\r\n",
        ),
        resp(
            "RESP: relative expiries past the end of time are refused",
            [
                resp_command(&[b"SET", b"ttl:r", b"v"]),
                resp_command(&[b"PEXPIRE", b"ttl:r", ms]),
                resp_command(&[b"EXPIRE", b"ttl:r", s]),
                resp_command(&[b"SET", b"ttl:r", b"v", b"PX", ms]),
                resp_command(&[b"SET", b"ttl:r", b"v", b"EX", s]),
                resp_command(&[b"PSETEX", b"ttl:r", ms, b"v"]),
                resp_command(&[b"SETEX", b"ttl:r", s, b"v"]),
                resp_command(&[b"GETEX", b"ttl:r", b"PX", ms]),
                resp_command(&[b"TTL", b"ttl:r"]),
                resp_command(&[b"DEL", b"ttl:r"]),
            ]
            .concat(),
            b"+OK\r\n\
              -ERR invalid expire time in 'pexpire' command\r\n\
              -ERR invalid expire time in 'expire' command\r\n\
              -ERR invalid expire time in 'set' command\r\n\
              -ERR invalid expire time in 'set' command\r\n\
              -ERR invalid expire time in 'psetex' command\r\n\
              -ERR invalid expire time in 'setex' command\r\n\
              -ERR invalid expire time in 'getex' command\r\n\
              :-1\r\n:1\r\n",
        ),
        case(
            "RESP: an inline PING split across writes chooses RESP",
            Wire::Resp,
            vec![
                Step::Send(b"pI".to_vec()),
                Step::Send(b"nG\r".to_vec()),
                Step::Send(b"\n".to_vec()),
                Step::Reply(b"+PONG\r\n".to_vec()),
            ],
        ),
        case(
            "RESP: a command sent one byte per write",
            Wire::Resp,
            vec![
                Step::Trickle(slow, 1),
                Step::Reply(b"+OK\r\n$4\r\na\r\nb\r\n:1\r\n".to_vec()),
            ],
        ),
    ]
}

fn connection_cases() -> Vec<Case> {
    let quit_check = |a: &str, b: &str| {
        Step::Check(vec![
            (format!("GET {a}\n").into(), "VALUE MQ==\n"),
            (format!("GET {b}\n").into(), "NOT_FOUND\n"),
            (format!("DEL {a}\n").into(), "OK\n"),
        ])
    };
    let not_found = |key: &str| Step::Check(vec![(format!("GET {key}\n").into(), "NOT_FOUND\n")]);
    vec![
        case(
            "QUIT mid-pipeline (line protocol)",
            Wire::Line,
            vec![
                Step::Send(b"SET quit:a 1\nPING\nQUIT\nDEL quit:a\nSET quit:b 2\nPING\n".to_vec()),
                Step::Closed(b"OK\nPONG\n".to_vec()),
                quit_check("quit:a", "quit:b"),
            ],
        ),
        case(
            "QUIT mid-pipeline (RESP)",
            Wire::Resp,
            vec![
                Step::Send(
                    [
                        resp_command(&[b"SET", b"quit:c", b"1"]),
                        RESP_PING.to_vec(),
                        resp_command(&[b"QUIT"]),
                        resp_command(&[b"DEL", b"quit:c"]),
                        resp_command(&[b"SET", b"quit:d", b"2"]),
                    ]
                    .concat(),
                ),
                Step::Closed(b"+OK\r\n+PONG\r\n+OK\r\n".to_vec()),
                quit_check("quit:c", "quit:d"),
            ],
        ),
        // Another client is served while the half request waits, and after it is gone
        // the half request has done nothing.
        case(
            "half a line request, then disconnect",
            Wire::Line,
            vec![
                Step::Send(b"PING\nSET half:l partial-val".to_vec()),
                Step::Reply(b"PONG\n".to_vec()),
                not_found("half:l"),
                Step::HangUp,
                not_found("half:l"),
            ],
        ),
        case(
            "half a RESP request, then disconnect",
            Wire::Resp,
            vec![
                Step::Send(RESP_PING.to_vec()),
                Step::Send(b"*3\r\n$3\r\nSET\r\n$6\r\nhalf:r\r\n$5\r\nva".to_vec()),
                Step::Reply(b"+PONG\r\n".to_vec()),
                not_found("half:r"),
                Step::HangUp,
                not_found("half:r"),
            ],
        ),
        half_closed_line(),
        case(
            "half-closed socket before sending anything: EOF and nothing else",
            Wire::Line,
            vec![Step::ShutdownWrite, Step::Closed(Vec::new())],
        ),
        half_closed_resp(),
    ]
}

fn half_closed_line() -> Case {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..500 {
        input.extend_from_slice(format!("SET hc:{i} {i}\nGET hc:{i}\nDEL hc:{i}\n").as_bytes());
        expected.extend_from_slice(b"OK\n");
        expected.extend_from_slice(&value_reply(i.to_string().as_bytes()));
        expected.extend_from_slice(b"OK\n");
    }
    input.extend_from_slice(b"PING\nGET hc:0");
    expected.extend_from_slice(b"PONG\n");
    half_closed(
        "half-closed socket: every reply, then EOF (line)",
        Wire::Line,
        input,
        expected,
    )
}

fn half_closed_resp() -> Case {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..500 {
        let key = format!("hc:{i}");
        input.extend(resp_command(&[b"SET", key.as_bytes(), key.as_bytes()]));
        input.extend(resp_command(&[b"GET", key.as_bytes()]));
        input.extend(resp_command(&[b"DEL", key.as_bytes()]));
        expected.extend_from_slice(format!("+OK\r\n${}\r\n{key}\r\n:1\r\n", key.len()).as_bytes());
    }
    input.extend_from_slice(RESP_PING);
    input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$4\r\nhc");
    expected.extend_from_slice(b"+PONG\r\n");
    half_closed(
        "half-closed socket: every reply, then EOF (RESP)",
        Wire::Resp,
        input,
        expected,
    )
}

/// A case whose client sends `input`, ending in half a request, and shuts its sending
/// half: every whole request is answered, then the server closes.
fn half_closed(name: &str, wire: Wire, input: Vec<u8>, expected: Vec<u8>) -> Case {
    let steps = vec![
        Step::Send(input),
        Step::ShutdownWrite,
        Step::Closed(expected),
    ];
    case(name, wire, steps)
}

// ---------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------

/// Runs one row on a fresh connection over each transport: the writes go out from a
/// second thread while the replies are read; a connection still open after the steps
/// must still be in step.
fn run_case(server: &Server, case: &Case) {
    let client_of = |unix| match case.wire {
        Wire::Line | Wire::Resp => server.client(unix),
        Wire::Memcache => server.memcache_client(unix),
    };
    for (transport, unix) in [("tcp", false), ("unix", true)] {
        println!("  over {transport}");
        let client = client_of(unix);
        let other = !unix;
        let mut client = Some(client);
        let rss_growth = std::thread::scope(|scope| {
            let (writes, queue) = mpsc::channel::<&Step>();
            let mut stream = client.as_ref().unwrap().writer();
            let pid = server.pid();
            let writer = scope.spawn(move || write_steps(&mut stream, queue, pid));
            let mut writes = Some(writes);
            for step in &case.steps {
                match step {
                    Step::Send(_)
                    | Step::Trickle(..)
                    | Step::Stream { .. }
                    | Step::ShutdownWrite => {
                        writes.as_ref().unwrap().send(step).unwrap();
                    }
                    Step::Reply(bytes) => expect(client.as_mut().unwrap(), bytes),
                    Step::Closed(bytes) => {
                        expect_close(client.as_mut().unwrap(), bytes);
                        client = None;
                    }
                    Step::HangUp => {
                        writes = None;
                        client = None;
                    }
                    Step::Check(script) => {
                        let script: Vec<(&[u8], &str)> =
                            script.iter().map(|(r, e)| (r.as_slice(), *e)).collect();
                        client_of(other).script(&script);
                    }
                }
            }
            drop(writes);
            writer.join().unwrap().expect("writing the requests")
        });
        if let Some(growth) = rss_growth {
            println!("  RSS grew at most {growth} KiB while the client streamed");
            assert!(growth < MAX_GROWTH_KIB, "RSS grew by {growth} KiB");
        }
        if let Some(mut client) = client {
            still_in_step(&mut client, case.wire);
        }
    }
}

/// Makes the writes of the steps `queue` passes on, in order; returns how far the
/// server's RSS (of process `pid`) rose above where it was while a [`Step::Stream`] ran.
fn write_steps(
    stream: &mut Stream,
    queue: mpsc::Receiver<&Step>,
    pid: u32,
) -> std::io::Result<Option<u64>> {
    let mut rss_growth = None;
    for step in queue {
        match step {
            Step::Send(bytes) => stream.write_all(bytes)?,
            Step::Trickle(bytes, size) => {
                for piece in bytes.chunks(*size) {
                    stream.write_all(piece)?;
                }
            }
            Step::Stream { chunk, times } => {
                let before = status_kib(pid, "VmRSS");
                let mut growth = 0;
                for i in 0..*times {
                    stream.write_all(chunk)?;
                    if i % 100 == 99 || i + 1 == *times {
                        growth = growth.max(status_kib(pid, "VmRSS").saturating_sub(before));
                    }
                }
                rss_growth = Some(growth);
            }
            Step::ShutdownWrite => stream.shutdown_write(),
            Step::Reply(_) | Step::Closed(_) | Step::HangUp | Step::Check(_) => {
                unreachable!("not a write")
            }
        }
    }
    Ok(rss_growth)
}

/// A connection still in step: PING is answered with PONG and nothing else, and it
/// closes cleanly once the client shuts its side.
fn still_in_step(client: &mut Client, wire: Wire) {
    match wire {
        Wire::Line => common::exchange(client, b"PING\n", b"PONG\n"),
        Wire::Resp => common::exchange(client, RESP_PING, b"+PONG\r\n"),
        Wire::Memcache => common::exchange(client, b"mn\r\n", b"MN\r\n"),
    }
    client.shutdown_write();
    expect_close(client, b"");
}

// ---------------------------------------------------------------------------------------
// The two cases about connections, not bytes
// ---------------------------------------------------------------------------------------

fn connection_storm(server: &Server, idle: u64) {
    // `idle` counts one client: this poller.
    let mut poller = server.tcp_client();
    wait_connections(&mut poller, idle);
    let started = Instant::now();
    for batch in 0..100 {
        let mut open = Vec::new();
        for i in 0..30 {
            let n = batch * 30 + i;
            let mut client = server.client(n % 2 == 1);
            if i >= 28 {
                // The last client on each listener is served, so every connection before
                // it has been accepted: the listen queues never fill up.
                common::exchange(&mut client, b"PING\n", b"PONG\n");
                continue;
            }
            // A write may fail if the client was reset; that is fine here.
            let _ = match n % 5 {
                0 => Ok(()),
                1 => client.try_send(b"SET storm half a reque"),
                2 => client.try_send(b"*3\r\n$3\r\nSET\r\n$5\r\nstorm\r\n$9\r\nva"),
                // A whole request whose reply is never read.
                3 => client.try_send(b"PING\n"),
                _ => client.try_send(b"PING\r\n*1\r\n$4\r\nPI"),
            };
            open.push(client);
        }
        drop(open);
    }
    let opened = started.elapsed();
    wait_connections(&mut poller, idle);
    println!(
        "  3,000 connections in {} ms, all closed {} ms later",
        opened.as_millis(),
        (started.elapsed() - opened).as_millis()
    );
    poller.script(&[(b"GET storm\n", "NOT_FOUND\n")]);
}

fn connection_limit(server: &Server, idle: u64) {
    let mut poller = server.tcp_client();
    wait_connections(&mut poller, idle);
    let mut open = Vec::new();
    for i in 0..MAX_CONNECTIONS - 1 {
        let mut client = server.client(i % 2 == 1);
        client.script(&[(b"PING\n", "PONG\n")]);
        open.push(client);
    }
    let refusal = format!("ERROR too many connections (max {MAX_CONNECTIONS})\n");
    for mut extra in [server.tcp_client(), server.unix_client()] {
        expect_close(&mut extra, refusal.as_bytes());
    }
    let full = idle + (MAX_CONNECTIONS as u64 - 1);
    assert_eq!(
        poller.connections(),
        full,
        "refused clients are not counted"
    );
    drop(open);
    wait_connections(&mut poller, idle);
    // A slot is free again.
    server.unix_client().script(&[(b"PING\n", "PONG\n")]);
}

// ---------------------------------------------------------------------------------------
// The suite: one server, every case, a check after each
// ---------------------------------------------------------------------------------------

/// Runs the cases in order against one server, keeps going past a failed case, and
/// checks after every case that a fresh client is still served, that every connection
/// the case opened is gone, and that the server's peak RSS grew by less than
/// [`MAX_GROWTH_KIB`].
struct Suite<'s> {
    server: &'s Server,
    cases: usize,
    failures: Vec<String>,
    /// What `INFO` reports for `connections=` while only the checking client is
    /// connected: 1, unless a connection was leaked.
    idle_connections: u64,
}

impl Suite<'_> {
    /// Runs `body`, which is told how many connections `INFO` counts with one client
    /// connected.
    fn case(&mut self, name: &str, body: impl FnOnce(&Server, u64)) {
        self.cases += 1;
        let n = self.cases;
        let started = Instant::now();
        let idle = self.idle_connections;
        let peak_before = status_kib(self.server.pid(), "VmHWM");
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| body(self.server, idle)));
        let verdict = match outcome {
            Ok(()) => "ok",
            Err(panic) => {
                self.failures
                    .push(format!("case {n} ({name}): {}", panic_message(&*panic)));
                "FAILED"
            }
        };
        let peak_growth = status_kib(self.server.pid(), "VmHWM").saturating_sub(peak_before);
        println!(
            "case {n:2} {verdict} in {:4} ms, peak RSS +{peak_growth} KiB: {name}",
            started.elapsed().as_millis()
        );
        if peak_growth >= MAX_GROWTH_KIB {
            self.failures.push(format!(
                "case {n} ({name}): the server's peak RSS grew by {peak_growth} KiB"
            ));
        }
        // If the server stopped serving, nothing after this case would mean anything.
        let check = std::panic::catch_unwind(AssertUnwindSafe(|| {
            still_serving(self.server, n, self.idle_connections)
        }));
        match check {
            Ok(Ok(())) => {}
            Ok(Err(open)) => {
                self.failures.push(format!(
                    "case {n} ({name}): INFO still counts {open} connections after it, \
                     expected {}: a connection was never counted as closed",
                    self.idle_connections
                ));
                self.idle_connections = open;
            }
            Err(panic) => panic!(
                "the server stopped serving after case {n} ({name}): {}\n\
                 failures so far: {:#?}\nserver log:\n{}",
                panic_message(&*panic),
                self.failures,
                self.server.log_text()
            ),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// A fresh client on each transport is served normally: a PING over the Unix socket, and
/// a SET/GET round trip over TCP; then, on that TCP client, `INFO` must come back to
/// `idle` connections. `Err` with the count if it does not within a few seconds.
fn still_serving(server: &Server, n: usize, idle: u64) -> Result<(), u64> {
    let mut client = server.unix_client();
    common::exchange(&mut client, RESP_PING, b"+PONG\r\n");
    drop(client);
    let key = format!("ok:{n}");
    let value = format!("after case {n}");
    let mut client = server.tcp_client();
    client.script(&[
        (format!("SET {key} {value}\n").as_bytes(), "OK\n"),
        (
            format!("GET {key}\n").as_bytes(),
            std::str::from_utf8(&value_reply(value.as_bytes())).unwrap(),
        ),
        (format!("DEL {key}\n").as_bytes(), "OK\n"),
    ]);
    let mut open = 0;
    match try_wait_for(Duration::from_secs(5), || {
        open = client.connections();
        open <= idle
    }) {
        Some(_) => Ok(()),
        None => Err(open),
    }
}

// ---------------------------------------------------------------------------------------
// Junk
// ---------------------------------------------------------------------------------------

/// The command word of a line-protocol line: after leading spaces, up to the next space.
fn command_word(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start = line.iter().position(|&b| b != b' ').unwrap_or(line.len());
    line[start..]
        .split(|&b| b == b' ')
        .next()
        .unwrap_or_default()
}

fn is_line_command(word: &[u8]) -> bool {
    [
        "SET", "GET", "DELETE", "DEL", "USAGE", "STATS", "EXPIRE", "TTL", "PERSIST", "INFO",
        "PING", "QUIT",
    ]
    .iter()
    .any(|name| word.eq_ignore_ascii_case(name.as_bytes()))
}

/// A fixed-seed generator, so the junk is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `len` random bytes, none of them LF, the first not a space.
    fn junk(&mut self, len: usize) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..len).map(|_| self.next().to_le_bytes()[3]).collect();
        for byte in &mut bytes {
            if *byte == b'\n' {
                *byte = 0;
            }
        }
        if bytes.first() == Some(&b' ') {
            bytes[0] = b'#';
        }
        bytes
    }
}
