//! Hostile input over real sockets, in the spirit of Redis's `tests/unit/protocol.tcl` and
//! memcached's `t/bogus-commands.t`: empty and overlong lines, NUL bytes and invalid
//! UTF-8, wrong arities, broken RESP framing, half requests, half-closed sockets,
//! connection storms and a 100 MB line. Every case runs against ONE server process,
//! started once and never restarted; each asserts the exact reply (or a clean close: EOF,
//! never a reset), and after each a fresh client must still be served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use common::{
    base64_of, exchange, expect, expect_close, resp_command, status_kib, wait_connections, Client,
    Server,
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

/// A RESP PING, to check that a RESP connection is still in step.
const RESP_PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

#[test]
fn hostile_input_is_answered_or_closed_cleanly_by_one_long_lived_server() {
    let started = Instant::now();
    let max_key = MAX_KEY.to_string();
    let max_value = MAX_VALUE.to_string();
    let max_connections = MAX_CONNECTIONS.to_string();
    let server = Server::start(&[
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
    line_protocol_cases(&mut suite);
    resp_cases(&mut suite);
    connection_cases(&mut suite);

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
    assert!(cases >= 40, "only {cases} cases");
    println!("hostile input: {cases} cases, all answered or closed cleanly, server still serving");
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}

fn line_protocol_cases(suite: &mut Suite<'_>) {
    suite.case("empty line", |server| {
        line_case(server, b"\n", b"ERROR empty line\n");
    });

    suite.case("whitespace-only lines", |server| {
        line_case(
            server,
            b"     \n\t\t\n \t \x0c \r\n",
            &b"ERROR empty line\n".repeat(3),
        );
        // A vertical tab is not whitespace to the line protocol: it is a command word.
        line_case(server, b"\x0b\n", b"ERROR unknown command '\\x0b'\n");
    });

    suite.case("CRLF-only line", |server| {
        line_case(server, b"\r\n", b"ERROR empty line\n");
    });

    suite.case("10,000 empty lines pipelined", |server| {
        let mut input = [&b"\n"[..], b"\r\n", b"  \n", b" \t \r\n"]
            .concat()
            .repeat(2_500);
        input.extend_from_slice(b"PING\n");
        let mut expected = b"ERROR empty line\n".repeat(10_000);
        expected.extend_from_slice(b"PONG\n");
        line_case(server, &input, &expected);
    });

    suite.case("NUL bytes in the command word", |server| {
        line_case(
            server,
            b"G\x00T k\n\x00\n\x00PING\n",
            b"ERROR unknown command 'G\\x00T'\n\
              ERROR unknown command '\\x00'\n\
              ERROR unknown command '\\x00PING'\n",
        );
    });

    suite.case("NUL and other control bytes in a key", |server| {
        let invalid = b"ERROR key contains invalid bytes\n";
        line_case(
            server,
            b"GET a\x00b\nSET a\x00b v\nDEL \x00\nGET a\rb\nGET a\x7fb\nTTL \x1b[0m\n\
              EXPIRE k\x00 5\nPERSIST \x01\n",
            &invalid.repeat(8),
        );
    });

    suite.case("NUL bytes in a value round-trip through base64", |server| {
        line_case(
            server,
            b"SET nul:v \x00a\x00\nGET nul:v\nSET nul:v \x00\nGET nul:v\nDEL nul:v\n",
            b"OK\nVALUE AGEA\nOK\nVALUE AA==\nOK\n",
        );
    });

    suite.case("invalid UTF-8 in the command word", |server| {
        line_case(
            server,
            b"\xff\xfe GET\n\xc3\x28 k\nG\xc0\xafT k\n",
            b"ERROR unknown command '\\xff\\xfe'\n\
              ERROR unknown command '\\xc3('\n\
              ERROR unknown command 'G\\xc0\\xafT'\n",
        );
    });

    suite.case("invalid UTF-8 in a key is allowed", |server| {
        line_case(
            server,
            b"SET \xff\xfe\x80 v\nGET \xff\xfe\x80\nTTL \xff\xfe\x80\nDEL \xff\xfe\x80\n\
              GET \xff\xfe\x80\n",
            b"OK\nVALUE dg==\nTTL -1\nOK\nNOT_FOUND\n",
        );
    });

    suite.case("invalid UTF-8 in a value round-trips", |server| {
        let value = b"\xff\xfe\xc3\x28 \xed\xa0\x80\xf8\x88\x80\x80\x80";
        let mut input = [&b"SET utf8:v "[..], value, b"\nGET utf8:v\nDEL utf8:v\n"].concat();
        input.extend_from_slice(b"GET utf8:v\n");
        let expected = format!("OK\nVALUE {}\nOK\nNOT_FOUND\n", base64_of(value));
        line_case(server, &input, expected.as_bytes());
    });

    suite.case(
        "an overlong line in one write, then a pipelined command",
        |server| {
            let input = [&b"GET "[..], &[b'x'; 2_000], b"\nPING\n"].concat();
            let expected = format!("ERROR line too long (max {MAX_LINE} bytes)\nPONG\n");
            line_case(server, &input, expected.as_bytes());
        },
    );

    suite.case("a line exactly at the limit and one byte over", |server| {
        let at_limit = [&b"GET "[..], &[b'k'; MAX_LINE - 4], b"\n"].concat();
        let over = [&b"GET "[..], &[b'k'; MAX_LINE - 3], b"\n"].concat();
        line_case(
            server,
            &[at_limit, over].concat(),
            format!(
                "ERROR key too long (max {MAX_KEY} bytes)\n\
                 ERROR line too long (max {MAX_LINE} bytes)\n"
            )
            .as_bytes(),
        );
    });

    suite.case(
        "an overlong SET value with a complete key, streamed",
        |server| {
            for (_, mut client) in server.clients() {
                client.send(b"SET big:v ");
                for _ in 0..10 {
                    client.send(&[b'v'; 1_000]);
                }
                client.send(b"\nGET big:v\n");
                expect(
                    &mut client,
                    format!("ERROR value too large (max {MAX_VALUE} bytes)\nNOT_FOUND\n")
                        .as_bytes(),
                );
                still_usable_line(&mut client);
            }
        },
    );

    suite.case("an overlong SET whose key never ends", |server| {
        let input = [&b"SET "[..], &[b'k'; 5_000], b" v\n"].concat();
        let expected = format!("ERROR line too long (max {MAX_LINE} bytes)\n");
        line_case(server, &input, expected.as_bytes());
    });

    suite.case("a key over --max-key-size, in every command", |server| {
        let key = "K".repeat(MAX_KEY + 1);
        let input = format!(
            "GET {key}\nSET {key} v\nDEL {key}\nDELETE {key}\nEXPIRE {key} 5\nTTL {key}\n\
             PERSIST {key}\n"
        );
        let expected = format!("ERROR key too long (max {MAX_KEY} bytes)\n").repeat(7);
        line_case(server, input.as_bytes(), expected.as_bytes());
    });

    suite.case(
        "a key exactly --max-key-size accepted, one byte more refused",
        |server| {
            let key = "k".repeat(MAX_KEY);
            let input = format!("SET {key} v\nGET {key}\nSET {key}x v\nGET {key}x\nDEL {key}\n");
            let expected = format!(
                "OK\nVALUE dg==\nERROR key too long (max {MAX_KEY} bytes)\n\
                 ERROR key too long (max {MAX_KEY} bytes)\nOK\n"
            );
            line_case(server, input.as_bytes(), expected.as_bytes());
        },
    );

    suite.case(
        "a value exactly at the maximum accepted, one byte more refused",
        |server| {
            let value = vec![b'v'; MAX_VALUE];
            let key = "m".repeat(MAX_KEY);
            // The longest valid line: the longest key, the largest value and a CR.
            let longest = [format!("SET {key} ").as_bytes(), &value, b"\r\n"].concat();
            let input = [
                longest.as_slice(),
                format!("GET {key}\nSET {key} ").as_bytes(),
                &value,
                b"w\n",
                format!("GET {key}\nDEL {key}\n").as_bytes(),
            ]
            .concat();
            let encoded = base64_of(&value);
            let expected = format!(
                "OK\nVALUE {encoded}\nERROR value too large (max {MAX_VALUE} bytes)\n\
                 VALUE {encoded}\nOK\n"
            );
            line_case(server, &input, expected.as_bytes());
        },
    );

    suite.case(
        "unknown commands with long names are quoted short",
        |server| {
            let input = [
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
            .concat();
            let expected = format!(
                "ERROR unknown command '{}...'\nERROR unknown command '{}'\n\
                 ERROR unknown command '{}...'\nERROR unknown command '{}...'\n\
                 ERROR unknown command '\\'quoted\\'\\\\\\\"name\\\"'\n",
                "X".repeat(32),
                "Y".repeat(32),
                "Z".repeat(32),
                "\\x01".repeat(32),
            );
            line_case(server, &input, expected.as_bytes());
        },
    );

    suite.case("command words in mixed case", |server| {
        line_case(
            server,
            b"sEt mixed:k v\nGeT mixed:k\nExPiRe mixed:k 100\npErSiSt mixed:k\ntTl mixed:k\n\
              dElEtE mixed:k\nDeL mixed:k\npInG\n",
            b"OK\nVALUE dg==\nOK\nOK\nTTL -1\nOK\nNOT_FOUND\nPONG\n",
        );
    });

    suite.case("wrong arity for every line command", |server| {
        let cases: &[(&str, &str)] = &[
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
        for (request, cmd) in cases {
            input.push_str(request);
            input.push('\n');
            expected.push_str(&format!("ERROR wrong number of arguments for '{cmd}'\n"));
        }
        line_case(server, input.as_bytes(), expected.as_bytes());
    });

    suite.case("hostile numbers in EXPIRE", |server| {
        let not_integer = "ERROR value is not an integer or out of range\n";
        let invalid = "ERROR invalid expire time in 'EXPIRE' command\n";
        line_case(
            server,
            b"SET num:k v\nEXPIRE num:k 99999999999999999999\nEXPIRE num:k +5\n\
              EXPIRE num:k 1e5\nEXPIRE num:k 0x10\nEXPIRE num:k 05\nEXPIRE num:k -\n\
              EXPIRE num:k 9223372036854775807\nEXPIRE num:k -9223372036854775808\n\
              TTL num:k\nEXPIRE num:k -1\nGET num:k\n",
            [
                "OK\n",
                &not_integer.repeat(6),
                &invalid.repeat(2),
                "TTL -1\nOK\nNOT_FOUND\n",
            ]
            .concat()
            .as_bytes(),
        );
    });

    suite.case("binary junk without LF, then LF", |server| {
        let mut rng = XorShift(0x0bad_5eed_1234_5678);
        let junk = rng.junk(700);
        let word = command_word(&junk);
        assert!(!is_line_command(word), "the seed made a real command word");
        let dots = if word.len() > 32 { "..." } else { "" };
        let expected = format!(
            "ERROR unknown command '{}{dots}'\n",
            word[..word.len().min(32)].escape_ascii()
        );
        for (_, mut client) in server.clients() {
            for piece in junk.chunks(97) {
                client.send(piece);
            }
            client.send(b"\n");
            expect(&mut client, expected.as_bytes());
            still_usable_line(&mut client);
        }
    });

    suite.case("binary junk longer than a line, then LF", |server| {
        let mut rng = XorShift(0x0ddb_a110_0ddb_a110);
        let junk = rng.junk(8 * 1024);
        for (_, mut client) in server.clients() {
            for piece in junk.chunks(1_000) {
                client.send(piece);
            }
            client.send(b"\n");
            expect(
                &mut client,
                format!("ERROR line too long (max {MAX_LINE} bytes)\n").as_bytes(),
            );
            still_usable_line(&mut client);
        }
    });

    suite.case("a 100 MB line streamed in 64 KiB writes", |server| {
        let pid = server.pid();
        let rss_before = status_kib(pid, "VmRSS");
        let peak_before = status_kib(pid, "VmHWM");
        let mut client = server.tcp_client();
        let chunk = vec![b'x'; 64 * 1024];
        let chunks = 1_600; // 100 MiB
        client.send(b"GET ");
        client.send(&chunk);
        // Answered once, as soon as the line is too long; the rest is dropped as it comes.
        expect(
            &mut client,
            format!("ERROR line too long (max {MAX_LINE} bytes)\n").as_bytes(),
        );
        let mut rss_max = rss_before;
        for i in 1..chunks {
            client.send(&chunk);
            if i % 100 == 0 {
                rss_max = rss_max.max(status_kib(pid, "VmRSS"));
            }
        }
        client.send(b"\nPING\n");
        expect(&mut client, b"PONG\n");
        rss_max = rss_max.max(status_kib(pid, "VmRSS"));
        let peak_growth = status_kib(pid, "VmHWM").saturating_sub(peak_before);
        let growth = rss_max.saturating_sub(rss_before);
        println!(
            "  100 MiB line: RSS {rss_before} KiB before, at most {rss_max} KiB during, \
             peak grew {peak_growth} KiB"
        );
        assert!(growth < 32 * 1024, "RSS grew by {growth} KiB");
        assert!(
            peak_growth < 32 * 1024,
            "peak RSS grew by {peak_growth} KiB"
        );
        still_usable_line(&mut client);
    });

    suite.case("a line request sent one byte per write", |server| {
        for (_, mut client) in server.clients() {
            for &byte in b"SET slow:k slow value\r\nGET slow:k\nDEL slow:k\n" {
                client.send(&[byte]);
            }
            expect(&mut client, b"OK\nVALUE c2xvdyB2YWx1ZQ==\nOK\n");
            still_usable_line(&mut client);
        }
    });
}

fn resp_cases(suite: &mut Suite<'_>) {
    suite.case("RESP: null and empty multibulks get no reply", |server| {
        // As in Redis: `*-1` (a null array) and `*0` are skipped without a reply.
        resp_case(
            server,
            &[
                &b"*-1\r\n*0\r\n*-7\r\n"[..],
                RESP_PING,
                b"*-1\r\n",
                RESP_PING,
            ]
            .concat(),
            b"+PONG\r\n+PONG\r\n",
        );
    });

    suite.case(
        "RESP: empty inline lines between frames get no reply",
        |server| {
            resp_case(
                server,
                &[
                    &b"PING\r\n\r\n\n  \t \r\n"[..],
                    RESP_PING,
                    b"\r\n\r\n",
                    RESP_PING,
                ]
                .concat(),
                b"+PONG\r\n+PONG\r\n+PONG\r\n",
            );
        },
    );

    suite.case("RESP: negative bulk lengths", |server| {
        for junk in [
            &b"*1\r\n$-5\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*2\r\n$3\r\nGET\r\n$-1\r\n",
        ] {
            resp_closing_case(
                server,
                junk,
                b"-ERR Protocol error: invalid bulk length\r\n",
            );
        }
    });

    suite.case("RESP: huge bulk lengths", |server| {
        for junk in [
            &b"*1\r\n$99999999999\r\n"[..],
            b"*1\r\n$99999999999999999999999\r\n",
            b"*1\r\n$9223372036854775807\r\n",
        ] {
            resp_closing_case(
                server,
                junk,
                b"-ERR Protocol error: invalid bulk length\r\n",
            );
        }
    });

    suite.case(
        "RESP: a bulk over --max-value-size is refused by its header",
        |server| {
            let junk = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", MAX_VALUE + 1);
            resp_closing_case(
                server,
                junk.as_bytes(),
                b"-ERR Protocol error: invalid bulk length\r\n",
            );
        },
    );

    suite.case("RESP: non-numeric multibulk counts", |server| {
        for junk in [
            &b"*x\r\n"[..],
            b"*\r\n",
            b"*1x\r\n",
            b"* 1\r\n",
            b"*+1\r\n",
            b"*01\r\n",
            b"*1.0\r\n",
        ] {
            resp_closing_case(
                server,
                junk,
                b"-ERR Protocol error: invalid multibulk length\r\n",
            );
        }
    });

    suite.case("RESP: non-numeric bulk lengths", |server| {
        for junk in [
            &b"*1\r\n$abc\r\n"[..],
            b"*1\r\n$\r\n",
            b"*1\r\n$+4\r\nPING\r\n",
            b"*1\r\n$04\r\nPING\r\n",
            b"*1\r\n$4x\r\nPING\r\n",
            b"*1\r\n$ 4\r\nPING\r\n",
        ] {
            resp_closing_case(
                server,
                junk,
                b"-ERR Protocol error: invalid bulk length\r\n",
            );
        }
    });

    suite.case("RESP: multibulk counts over the limit", |server| {
        for junk in [
            format!("*{}\r\n", MAX_ARGS + 1),
            "*99999999999999999999\r\n".to_owned(),
        ] {
            resp_closing_case(
                server,
                junk.as_bytes(),
                b"-ERR Protocol error: invalid multibulk length\r\n",
            );
        }
        // The largest count is accepted and waits for its arguments; EOF ends it quietly.
        for (_, mut client) in server.clients() {
            client.send(format!("*{MAX_ARGS}\r\n$4\r\nPING\r\n").as_bytes());
            client.shutdown_write();
            expect_close(&mut client, b"");
        }
    });

    suite.case("RESP: an argument that is not a bulk string", |server| {
        resp_closing_case(
            server,
            b"*1\r\n:4\r\n",
            b"-ERR Protocol error: expected '$', got ':'\r\n",
        );
        resp_closing_case(
            server,
            b"*2\r\n$3\r\nGET\r\n+k\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        );
        resp_closing_case(
            server,
            b"*2\r\n$3\r\nGET\r\n\xff\r\n",
            "-ERR Protocol error: expected '$', got '\u{fffd}'\r\n".as_bytes(),
        );
    });

    suite.case(
        "RESP: junk after a valid frame is an inline command",
        |server| {
            resp_case(
                server,
                &[RESP_PING, b"XYZ\r\n", b"XYZ 1 2\n"].concat(),
                b"+PONG\r\n-ERR unknown command 'XYZ', with args beginning with: \r\n\
                  -ERR unknown command 'XYZ', with args beginning with: '1' '2' \r\n",
            );
        },
    );

    suite.case(
        "RESP: a bulk shorter than declared desyncs as in Redis",
        |server| {
            // `PI\r\n` fills the 4 bytes, the next two (`*1`) are skipped unchecked as Redis
            // skips them, and the rest is read as inline commands: Redis 7 answers the same.
            resp_case(
                server,
                b"*1\r\n$4\r\nPI\r\n*1\r\n$4\r\nPING\r\n",
                b"-ERR unknown command 'PI  ', with args beginning with: \r\n\
                  -ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n",
            );
        },
    );

    suite.case(
        "RESP: a desync that lands on a bad header closes",
        |server| {
            resp_closing_case(
                server,
                b"*1\r\n$4\r\nPI\r\n\r\n*1\r\n$-3\r\n",
                b"-ERR unknown command 'PI  ', with args beginning with: \r\n\
                  -ERR Protocol error: invalid bulk length\r\n",
            );
        },
    );

    suite.case("RESP: missing CRLF after bulk data", |server| {
        // The two bytes after a bulk are skipped unchecked, as Redis 7 does.
        resp_case(
            server,
            &[&b"*1\r\n$4\r\nPINGXY"[..], RESP_PING].concat(),
            b"+PONG\r\n+PONG\r\n",
        );
    });

    suite.case("RESP: unbalanced quotes in an inline command", |server| {
        for junk in [
            &b"PING\r\nSET k \"abc\r\n"[..],
            b"PING\r\nGET 'a'b\r\n",
            b"PING\r\nGET \"a\"b\r\n",
            b"PING\r\nSET k 'abc\\'\r\n",
        ] {
            resp_closing_case(
                server,
                junk,
                b"+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n",
            );
        }
    });

    suite.case("RESP: inline quotes and escapes are resolved", |server| {
        resp_case(
            server,
            b"PING\r\nSET \"q k\" \"a\\x00\\n\\\"b\"\r\nGET 'q k'\r\nDEL \"q k\"\r\n",
            b"+PONG\r\n+OK\r\n$5\r\na\x00\n\"b\r\n:1\r\n",
        );
    });

    suite.case(
        "RESP: an inline command over the inline limit closes",
        |server| {
            // Exactly one byte over, so the server has read everything when it closes.
            let junk = [&b"PING\r\n"[..], &vec![b'a'; MAX_INLINE + 1]].concat();
            resp_closing_case(
                server,
                &junk,
                b"+PONG\r\n-ERR Protocol error: too big inline request\r\n",
            );
        },
    );

    suite.case(
        "RESP: a command longer than any valid one closes",
        |server| {
            // Many one-byte arguments, one byte over the limit in all.
            let header = b"*100000\r\n";
            let arg = b"$1\r\na\r\n";
            let count = (MAX_RESP_COMMAND - header.len()) / arg.len();
            let mut junk = [&header[..], &arg.repeat(count)].concat();
            let partial = b"$1\r\na\r\n";
            junk.extend_from_slice(&partial[..MAX_RESP_COMMAND + 1 - junk.len()]);
            assert_eq!(junk.len(), MAX_RESP_COMMAND + 1);
            resp_closing_case(
                server,
                &junk,
                format!("-ERR line too long (max {MAX_RESP_COMMAND} bytes)\r\n").as_bytes(),
            );
        },
    );

    suite.case("RESP: length lines over the inline limit close", |server| {
        let count = [&b"*"[..], &vec![b'9'; MAX_INLINE]].concat();
        resp_closing_case(
            server,
            &count,
            b"-ERR Protocol error: too big mbulk count string\r\n",
        );
        let bulk = [&b"*1\r\n$"[..], &vec![b'9'; MAX_INLINE]].concat();
        resp_closing_case(
            server,
            &bulk,
            b"-ERR Protocol error: too big bulk count string\r\n",
        );
    });

    suite.case(
        "RESP: NUL bytes in keys and values are binary-safe",
        |server| {
            resp_case(
                server,
                &[
                    resp_command(&[b"GET", b"\x00"]),
                    resp_command(&[b"SET", b"k\x00k", b"v\x00v"]),
                    resp_command(&[b"GET", b"k\x00k"]),
                    resp_command(&[b"GET", b"k"]),
                    resp_command(&[b"DEL", b"k\x00k"]),
                ]
                .concat(),
                b"$-1\r\n+OK\r\n$3\r\nv\x00v\r\n$-1\r\n:1\r\n",
            );
        },
    );

    suite.case(
        "RESP: a command name with NUL bytes is echoed up to the NUL",
        |server| {
            resp_case(
                server,
                &resp_command(&[b"A\x00B", b"c\x00d"]),
                b"-ERR unknown command 'A', with args beginning with: 'c' \r\n",
            );
        },
    );

    suite.case("RESP: invalid UTF-8 in names, keys and values", |server| {
        resp_case(
            server,
            &[
                resp_command(&[b"\xff\xfe", b"\xc3\x28"]),
                resp_command(&[b"SET", b"\xff\xfe", b"\xc3\x28\xed\xa0\x80"]),
                resp_command(&[b"GET", b"\xff\xfe"]),
                resp_command(&[b"DEL", b"\xff\xfe"]),
            ]
            .concat(),
            &[
                "-ERR unknown command '\u{fffd}\u{fffd}', with args beginning with: \
                 '\u{fffd}(' \r\n"
                    .as_bytes(),
                b"+OK\r\n$5\r\n\xc3\x28\xed\xa0\x80\r\n:1\r\n",
            ]
            .concat(),
        );
    });

    suite.case(
        "RESP: long unknown command names are cut to 128 bytes",
        |server| {
            let name = vec![b'X'; 300];
            let arg = vec![b'a'; 200];
            let expected = format!(
                "-ERR unknown command '{}', with args beginning with: '{}' \r\n",
                "X".repeat(128),
                "a".repeat(128)
            );
            resp_case(
                server,
                &resp_command(&[&name, &arg, b"b"]),
                expected.as_bytes(),
            );
        },
    );

    suite.case(
        "RESP: a key at --max-key-size accepted, one byte more refused",
        |server| {
            let key = vec![b'r'; MAX_KEY];
            let long = vec![b'r'; MAX_KEY + 1];
            let too_long = format!("-ERR key too long (max {MAX_KEY} bytes)\r\n");
            resp_case(
                server,
                &[
                    resp_command(&[b"SET", &key, b"v"]),
                    resp_command(&[b"SET", &long, b"v"]),
                    resp_command(&[b"GET", &long]),
                    resp_command(&[b"GET", &key]),
                    resp_command(&[b"DEL", &key]),
                ]
                .concat(),
                format!("+OK\r\n{too_long}{too_long}$1\r\nv\r\n:1\r\n").as_bytes(),
            );
        },
    );

    suite.case("RESP: a value exactly at the maximum", |server| {
        let value = vec![b'\xee'; MAX_VALUE];
        resp_case(
            server,
            &[
                resp_command(&[b"SET", b"rmax", &value]),
                resp_command(&[b"STRLEN", b"rmax"]),
                resp_command(&[b"APPEND", b"rmax", b""]),
                resp_command(&[b"DEL", b"rmax"]),
            ]
            .concat(),
            format!("+OK\r\n:{MAX_VALUE}\r\n:{MAX_VALUE}\r\n:1\r\n").as_bytes(),
        );
    });

    suite.case("RESP: wrong arity and mixed-case names", |server| {
        resp_case(
            server,
            &[
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
        );
    });

    suite.case("RESP: integer overflow in the INCR family", |server| {
        resp_case(
            server,
            &[
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
        );
    });

    suite.case(
        "RESP: relative expiries past the end of time are refused",
        |server| {
            // `now + ttl` overflows a signed 64-bit millisecond clock: Redis refuses each.
            let ms = b"9223372036854775807";
            let s = b"9223372036854775";
            resp_case(
                server,
                &[
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
            );
        },
    );

    suite.case(
        "RESP: an inline PING split across writes chooses RESP",
        |server| {
            for (_, mut client) in server.clients() {
                client.send(b"pI");
                client.send(b"nG\r");
                client.send(b"\n");
                expect(&mut client, b"+PONG\r\n");
                still_usable_resp(&mut client);
            }
        },
    );

    suite.case("RESP: a command sent one byte per write", |server| {
        let input = [
            resp_command(&[b"SET", b"slow:r", b"a\r\nb"]),
            resp_command(&[b"GET", b"slow:r"]),
            resp_command(&[b"DEL", b"slow:r"]),
        ]
        .concat();
        for (_, mut client) in server.clients() {
            for &byte in &input {
                client.send(&[byte]);
            }
            expect(&mut client, b"+OK\r\n$4\r\na\r\nb\r\n:1\r\n");
            still_usable_resp(&mut client);
        }
    });
}

fn connection_cases(suite: &mut Suite<'_>) {
    suite.case("QUIT mid-pipeline (line protocol)", |server| {
        let mut client = server.tcp_client();
        client.send(b"SET quit:a 1\nPING\nQUIT\nDEL quit:a\nSET quit:b 2\nPING\n");
        expect_close(&mut client, b"OK\nPONG\n");
        let mut fresh = server.unix_client();
        fresh.script(&[
            (b"GET quit:a\n", "VALUE MQ==\n"),
            (b"GET quit:b\n", "NOT_FOUND\n"),
            (b"DEL quit:a\n", "OK\n"),
        ]);
    });

    suite.case("QUIT mid-pipeline (RESP)", |server| {
        let mut client = server.unix_client();
        client.send(
            &[
                resp_command(&[b"SET", b"quit:c", b"1"]),
                RESP_PING.to_vec(),
                resp_command(&[b"QUIT"]),
                resp_command(&[b"DEL", b"quit:c"]),
                resp_command(&[b"SET", b"quit:d", b"2"]),
            ]
            .concat(),
        );
        expect_close(&mut client, b"+OK\r\n+PONG\r\n+OK\r\n");
        let mut fresh = server.tcp_client();
        fresh.script(&[
            (b"GET quit:c\n", "VALUE MQ==\n"),
            (b"GET quit:d\n", "NOT_FOUND\n"),
            (b"DEL quit:c\n", "OK\n"),
        ]);
    });

    suite.case("half a line request, then disconnect", |server| {
        for (_, mut client) in server.clients() {
            client.send(b"PING\nSET half:l partial-val");
            expect(&mut client, b"PONG\n");
            // Another client is served while the half request waits.
            let mut other = server.tcp_client();
            other.script(&[(b"GET half:l\n", "NOT_FOUND\n")]);
            drop(client);
            let mut after = server.unix_client();
            after.script(&[(b"GET half:l\n", "NOT_FOUND\n")]);
        }
    });

    suite.case("half a RESP request, then disconnect", |server| {
        for (_, mut client) in server.clients() {
            client.send(RESP_PING);
            client.send(b"*3\r\n$3\r\nSET\r\n$6\r\nhalf:r\r\n$5\r\nva");
            expect(&mut client, b"+PONG\r\n");
            let mut other = server.unix_client();
            other.script(&[(b"GET half:r\n", "NOT_FOUND\n")]);
            drop(client);
            let mut after = server.tcp_client();
            after.script(&[(b"GET half:r\n", "NOT_FOUND\n")]);
        }
    });

    suite.case(
        "half-closed socket: every reply, then EOF (line)",
        |server| {
            let mut input = Vec::new();
            let mut expected = Vec::new();
            for i in 0..500 {
                input.extend_from_slice(
                    format!("SET hc:{i} {i}\nGET hc:{i}\nDEL hc:{i}\n").as_bytes(),
                );
                let encoded = base64_of(i.to_string().as_bytes());
                expected.extend_from_slice(format!("OK\nVALUE {encoded}\nOK\n").as_bytes());
            }
            input.extend_from_slice(b"PING\nGET hc:0");
            expected.extend_from_slice(b"PONG\n");
            for (_, mut client) in server.clients() {
                client.send(&input);
                client.shutdown_write();
                expect_close(&mut client, &expected);
            }
            // Shut before sending anything: EOF and nothing else.
            for (_, mut client) in server.clients() {
                client.shutdown_write();
                expect_close(&mut client, b"");
            }
        },
    );

    suite.case(
        "half-closed socket: every reply, then EOF (RESP)",
        |server| {
            let mut input = Vec::new();
            let mut expected = Vec::new();
            for i in 0..500 {
                let key = format!("hc:{i}");
                input.extend(resp_command(&[b"SET", key.as_bytes(), key.as_bytes()]));
                input.extend(resp_command(&[b"GET", key.as_bytes()]));
                input.extend(resp_command(&[b"DEL", key.as_bytes()]));
                expected.extend_from_slice(
                    format!("+OK\r\n${}\r\n{key}\r\n:1\r\n", key.len()).as_bytes(),
                );
            }
            input.extend_from_slice(RESP_PING);
            input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$4\r\nhc");
            expected.extend_from_slice(b"+PONG\r\n");
            for (_, mut client) in server.clients() {
                client.send(&input);
                client.shutdown_write();
                expect_close(&mut client, &expected);
            }
        },
    );

    suite.case_at_baseline("3,000 connections opened and dropped", |server, idle| {
        // `idle` counts one client: this poller.
        let mut poller = server.tcp_client();
        wait_connections(&mut poller, idle);
        let started = Instant::now();
        for batch in 0..100 {
            let mut open = Vec::new();
            for i in 0..30 {
                let n = batch * 30 + i;
                let mut client = if n % 2 == 0 {
                    Client::tcp(server.tcp.unwrap())
                } else {
                    Client::unix(server.unix.as_deref().unwrap())
                };
                if i >= 28 {
                    // The last client on each listener is served, so every connection
                    // before it has been accepted: the listen queues never fill up.
                    exchange(&mut client, b"PING\n", b"PONG\n");
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
    });

    suite.case_at_baseline(
        "a client over --max-connections is refused and closed",
        |server, idle| {
            let mut poller = server.tcp_client();
            wait_connections(&mut poller, idle);
            let mut open = Vec::new();
            for i in 0..MAX_CONNECTIONS - 1 {
                let mut client = if i % 2 == 0 {
                    server.tcp_client()
                } else {
                    server.unix_client()
                };
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
            let mut next = server.unix_client();
            next.script(&[(b"PING\n", "PONG\n")]);
        },
    );
}

/// Runs the cases in order against one server, keeps going past a failed case, and
/// checks after every case that a fresh client is still served and that every
/// connection the case opened is gone.
struct Suite<'s> {
    server: &'s Server,
    cases: usize,
    failures: Vec<String>,
    /// What `INFO` reports for `connections=` while only the checking client is
    /// connected: 1, unless a connection was leaked.
    idle_connections: u64,
}

impl Suite<'_> {
    fn case(&mut self, name: &str, body: impl FnOnce(&Server)) {
        self.case_at_baseline(name, |server, _| body(server));
    }

    /// A case that is told how many connections `INFO` counts with one client connected.
    fn case_at_baseline(&mut self, name: &str, body: impl FnOnce(&Server, u64)) {
        self.cases += 1;
        let n = self.cases;
        let started = Instant::now();
        let idle = self.idle_connections;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| body(self.server, idle)));
        let verdict = match outcome {
            Ok(()) => "ok",
            Err(panic) => {
                self.failures
                    .push(format!("case {n} ({name}): {}", panic_message(&*panic)));
                "FAILED"
            }
        };
        println!(
            "case {n:2} {verdict} in {:4} ms: {name}",
            started.elapsed().as_millis()
        );
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
    exchange(&mut client, RESP_PING, b"+PONG\r\n");
    drop(client);
    let key = format!("ok:{n}");
    let value = format!("after case {n}");
    let mut client = server.tcp_client();
    client.script(&[
        (format!("SET {key} {value}\n").as_bytes(), "OK\n"),
        (
            format!("GET {key}\n").as_bytes(),
            &format!("VALUE {}\n", base64_of(value.as_bytes())),
        ),
        (format!("DEL {key}\n").as_bytes(), "OK\n"),
    ]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open = client.connections();
        if open <= idle {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(open);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// For each transport: sends `input` on a fresh line-protocol connection, expects exactly
/// `expected`, then checks that the connection is still usable.
fn line_case(server: &Server, input: &[u8], expected: &[u8]) {
    for (transport, mut client) in server.clients() {
        println!("  over {transport}");
        exchange(&mut client, input, expected);
        still_usable_line(&mut client);
    }
}

/// As [`line_case`], for RESP.
fn resp_case(server: &Server, input: &[u8], expected: &[u8]) {
    for (transport, mut client) in server.clients() {
        println!("  over {transport}");
        exchange(&mut client, input, expected);
        still_usable_resp(&mut client);
    }
}

/// For each transport: sends `input` on a fresh connection and expects exactly
/// `expected`, then a clean close.
fn resp_closing_case(server: &Server, input: &[u8], expected: &[u8]) {
    for (transport, mut client) in server.clients() {
        println!("  over {transport}");
        client.send(input);
        expect_close(&mut client, expected);
    }
}

/// A line-protocol connection still in step: PING is answered with PONG and nothing
/// else, and it closes cleanly once the client shuts its side.
fn still_usable_line(client: &mut Client) {
    exchange(client, b"PING\n", b"PONG\n");
    client.shutdown_write();
    expect_close(client, b"");
}

/// As [`still_usable_line`], for RESP.
fn still_usable_resp(client: &mut Client) {
    exchange(client, RESP_PING, b"+PONG\r\n");
    client.shutdown_write();
    expect_close(client, b"");
}

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
