//! The memcached rows of the hostile-input table. Each expects, byte for byte, what
//! memcached 1.6.18 answers the same bytes (run with `-U 0`, and `-B ascii` for the
//! binary protocol's rows), except where docs/protocol.md lists a deliberate difference,
//! which the row names. The server's `--max-key-size` is 16, so keys stop at 16 bytes
//! here where memcached's stop at 250, with the same words past the limit.

use super::{case, Case, Step, Wire, MAX_KEY, MAX_VALUE};
use crate::common::{self, Client, External};

/// The rows in [`cases`], counted by the suite's floor.
pub(super) const CASES: usize = 25;

/// The rows whose answers differ from memcached's, each for a reason docs/protocol.md
/// gives: Blink Store's lower key and value limits here, its word before closing on a
/// long line, its refusal of numbers outside 32 bits, and its answer to a value too
/// large before the value has arrived.
const NOT_AS_MEMCACHED: &[&str] = &[
    "memcached: a line past 2048 bytes without LF closes",
    "memcached: a multi-get line past its limit closes",
    "memcached: numbers outside 32 bits",
    "memcached: a huge <bytes>, then the client hangs up",
    "memcached: a value one byte over --max-value-size, with its data",
    "memcached: keys at the limit, one byte over, 250 and 251 bytes",
];

/// The longest line memcached reads without its LF, unless it is a `get` or `gets`.
const MAX_LINE: usize = 2048;
/// The longest `get` line without its LF (the value limit plus 2 KiB, if larger).
const MAX_GET_LINE: usize = 256 * 1024;
/// The largest `<bytes>` memcached reads on a command line: its `INT_MAX - 2`.
const MAX_BYTES: i64 = i32::MAX as i64 - 2;

const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format\r\n";
const BAD_CHUNK: &str = "CLIENT_ERROR bad data chunk\r\n";
const TOO_LARGE: &str = "SERVER_ERROR object too large for cache\r\n";

/// A memcached case: `input` in one write, answered with exactly `expected`.
fn mc(name: &str, input: impl Into<Vec<u8>>, expected: impl Into<Vec<u8>>) -> Case {
    let steps = vec![Step::Send(input.into()), Step::Reply(expected.into())];
    case(format!("memcached: {name}"), Wire::Memcache, steps)
}

/// A memcached case the server answers with exactly `expected` and then closes.
fn mc_closes(name: &str, input: impl Into<Vec<u8>>, expected: impl Into<Vec<u8>>) -> Case {
    let steps = vec![Step::Send(input.into()), Step::Closed(expected.into())];
    case(format!("memcached: {name}"), Wire::Memcache, steps)
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = lines();
    cases.extend(numbers());
    cases.extend(data_blocks());
    cases.extend(keys());
    cases.extend(meta());
    cases.extend(mixed());
    cases
}

fn lines() -> Vec<Case> {
    vec![
        mc(
            "empty and blank lines",
            b"\r\n\n   \r\n \t \r\n\t\r\n\x0b\r\n\r\r\n",
            "ERROR\r\n".repeat(7),
        ),
        mc(
            "a NUL byte ends the command line, not the data",
            b"get a\x00b\r\n\x00\r\nge\x00t a\r\nset mc:nul 0 0 3\r\na\x00b\r\nget mc:nul\r\n\
              set mc:n\x00ul 0 0 1\r\nx\r\n",
            b"END\r\nERROR\r\nERROR\r\nSTORED\r\nVALUE mc:nul 0 3\r\na\x00b\r\nEND\r\n\
              ERROR\r\nERROR\r\n",
        ),
        // A multi-get line may pass 2048 bytes; a key over 250 bytes is refused.
        mc(
            "long lines with their LF",
            [
                &b"get "[..],
                &[b'x'; 3_000],
                b"\r\nset ",
                &[b'x'; 300],
                b" 0 0 1\r\nx\r\n",
                &[b'x'; MAX_LINE - 2],
                b"\r\n",
            ]
            .concat(),
            format!("{BAD_FORMAT}{BAD_FORMAT}ERROR\r\nERROR\r\n"),
        ),
        // memcached closes without a word (docs/protocol.md: "Long lines"). Exactly one
        // byte over, so the server has read everything when it closes.
        mc_closes(
            "a line past 2048 bytes without LF closes",
            vec![b'x'; MAX_LINE + 1],
            "CLIENT_ERROR line too long\r\n",
        ),
        mc_closes(
            "a multi-get line past its limit closes",
            multi_get(MAX_GET_LINE + 1),
            "CLIENT_ERROR line too long\r\n",
        ),
    ]
}

/// The first `len` bytes of a `get` of ever more keys, without its LF.
fn multi_get(len: usize) -> Vec<u8> {
    let mut line = b"get".to_vec();
    while line.len() < len {
        line.extend_from_slice(b" k");
    }
    line.truncate(len);
    line
}

fn numbers() -> Vec<Case> {
    // A command line memcached cannot read has no data block: its data is a command.
    let bad = format!("{BAD_FORMAT}ERROR\r\n");
    let delta = "CLIENT_ERROR invalid numeric delta argument\r\n";
    let exptime = "CLIENT_ERROR invalid exptime argument\r\n";
    vec![
        mc(
            "bad flags",
            b"set mc:f -1 0 1\r\nx\r\nset mc:f 1x 0 1\r\nx\r\nset mc:f 0x1 0 1\r\nx\r\n\
              set mc:f 99999999999999999999 0 1\r\nx\r\nset mc:f 4294967295 0 1\r\nx\r\n\
              get mc:f\r\n",
            format!(
                "{}STORED\r\nVALUE mc:f 4294967295 1\r\nx\r\nEND\r\n",
                bad.repeat(4)
            ),
        ),
        mc(
            "bad exptimes",
            b"set mc:e 0 x 1\r\nx\r\nset mc:e 0 1.5 1\r\nx\r\nset mc:e 0 -2147483648 1\r\nx\r\n\
              touch mc:e x\r\ntouch mc:e -\r\ngat x mc:e\r\n",
            format!("{}STORED\r\n{}", bad.repeat(2), exptime.repeat(3)),
        ),
        // memcached on 64 bits takes these and truncates them; Blink Store refuses them
        // (docs/protocol.md: "Numbers").
        mc(
            "numbers outside 32 bits",
            b"set mc:w 4294967296 0 1\r\nx\r\nset mc:w 0 2147483648 1\r\nx\r\n\
              set mc:w 0 0 4294967297\r\nx\r\nms mc:w 4294967297\r\nx\r\n",
            bad.repeat(4),
        ),
        mc(
            "bad byte counts",
            format!(
                "set mc:b 0 0 x\r\nx\r\nset mc:b 0 0 -1\r\nx\r\nset mc:b 0 0 1x\r\nx\r\n\
                 set mc:b 0 0 99999999999999999999\r\nx\r\n\
                 set mc:b 0 0 {too_many}\r\nx\r\nms mc:b x\r\nx\r\nms mc:b -1\r\nx\r\n\
                 ms mc:b {too_many}\r\nx\r\n",
                too_many = MAX_BYTES + 1
            ),
            bad.repeat(8),
        ),
        mc(
            "bad CAS uniques",
            b"set mc:c 0 0 1\r\nx\r\ncas mc:c 0 0 1 x\r\ny\r\ncas mc:c 0 0 1 -1\r\ny\r\n\
              cas mc:c 0 0 1 18446744073709551616\r\ny\r\n\
              cas mc:c 0 0 1 18446744073709551615\r\ny\r\ncas mc:c 0 0 1\r\ny\r\n",
            format!("STORED\r\n{}EXISTS\r\nERROR\r\nERROR\r\n", bad.repeat(3)),
        ),
        mc(
            "bad deltas",
            b"set mc:n 0 0 1\r\n5\r\nincr mc:n -1\r\nincr mc:n x\r\n\
              incr mc:n 18446744073709551616\r\ndecr mc:n 1x\r\nincr mc:n\r\n\
              incr mc:n 18446744073709551615\r\nincr mc:n 1 x\r\nincr mc:n 1 noreply\r\n\
              get mc:n\r\n",
            format!(
                "STORED\r\n{}ERROR\r\n4\r\n5\r\nVALUE mc:n 0 1\r\n6\r\nEND\r\n",
                delta.repeat(4)
            ),
        ),
    ]
}

fn data_blocks() -> Vec<Case> {
    vec![
        // A missing data block: the next line is read as the data.
        mc(
            "a data block that is the next command",
            b"set mc:d 0 0 5\r\nget k\r\nget mc:d\r\nset mc:d 0 0 3\r\nget k\r\n",
            format!("STORED\r\nVALUE mc:d 0 5\r\nget k\r\nEND\r\n{BAD_CHUNK}ERROR\r\n"),
        ),
        // What follows the bad block is read as a command; the old value stays.
        mc(
            "data blocks too short and too long",
            b"set mc:s 0 0 2\r\nok\r\nset mc:s 0 0 5\r\nab\r\nget k\r\n\
              set mc:s 0 0 2\r\nabcd\r\nset mc:s 0 0 2\r\nab\nget mc:s\r\n\
              ms mc:s 2\r\nabcd\r\nms mc:s 2 q\r\nabcd\r\nget mc:s\r\n",
            format!(
                "STORED\r\n{}VALUE mc:s 0 2\r\nok\r\nEND\r\n",
                format!("{BAD_CHUNK}ERROR\r\n").repeat(5)
            ),
        ),
        // memcached answers once it has dropped the whole block; Blink Store at once, so
        // the client may hang up before sending it. The set's old value is gone.
        case(
            "memcached: a huge <bytes>, then the client hangs up",
            Wire::Memcache,
            vec![
                Step::Send(
                    format!(
                        "set mc:h 0 0 1\r\nx\r\nset mc:h 0 0 {MAX_BYTES}\r\n{}",
                        "y".repeat(MAX_VALUE + 100)
                    )
                    .into(),
                ),
                Step::Reply(format!("STORED\r\n{TOO_LARGE}").into()),
                Step::HangUp,
                Step::Check(vec![(b"get mc:h\r\n".to_vec(), "END\r\n")]),
            ],
        ),
        mc(
            "a value one byte over --max-value-size, with its data",
            [
                format!("set mc:v 0 0 {}\r\n", MAX_VALUE + 1).as_bytes(),
                &[b'v'; MAX_VALUE + 1],
                b"\r\nget mc:v\r\n",
            ]
            .concat(),
            format!("{TOO_LARGE}END\r\n"),
        ),
    ]
}

fn keys() -> Vec<Case> {
    let key = "k".repeat(MAX_KEY);
    let over = "k".repeat(MAX_KEY + 1);
    let k250 = "k".repeat(250);
    let k251 = "k".repeat(251);
    vec![
        mc(
            "keys at the limit, one byte over, 250 and 251 bytes",
            format!(
                "set {key} 0 0 1\r\nx\r\nget {key}\r\ndelete {key}\r\nset {over} 0 0 1\r\nx\r\n\
                 get {over}\r\nget {k250}\r\nget {k251}\r\nmg {k251} v\r\ntouch {k251} 1\r\n"
            ),
            format!(
                "STORED\r\nVALUE {key} 0 1\r\nx\r\nEND\r\nDELETED\r\n{BAD_FORMAT}ERROR\r\n{}",
                BAD_FORMAT.repeat(5)
            ),
        ),
        // memcached splits only at spaces: any other byte is part of a key.
        mc(
            "control characters in keys",
            b"set a\x01b 0 0 1\r\nx\r\nget a\x01b\r\nset a\tb 0 0 1\r\nx\r\nmg a\tb v\r\n\
              mg a\x7fb v\r\nget\tk\r\ndelete a\x01b\r\nmd a\tb\r\n",
            b"STORED\r\nVALUE a\x01b 0 1\r\nx\r\nEND\r\nSTORED\r\nVA 1\r\nx\r\nEN\r\nERROR\r\n\
              DELETED\r\nHD\r\n",
        ),
    ]
}

fn meta() -> Vec<Case> {
    let invalid = "CLIENT_ERROR invalid flag\r\n";
    let invalid_or_dup = "CLIENT_ERROR invalid or duplicate flag\r\n";
    let dup = "CLIENT_ERROR duplicate flag\r\n";
    let decoding = "CLIENT_ERROR error decoding key\r\n";
    vec![
        // A bad flag on `ms` still has its data block dropped.
        mc(
            "junk meta flags",
            b"mg mc:m !\r\nmg mc:m v 9\r\nmg mc:m v Z\r\nmg mc:m -\r\nms mc:m 1 !\r\nx\r\n\
              md mc:m !\r\nma mc:m !\r\n",
            format!("{}{}", invalid.repeat(5), invalid_or_dup.repeat(2)),
        ),
        mc(
            "duplicate meta flags",
            b"ms mc:m 1\r\nx\r\nmg mc:m v v\r\nmg mc:m k k v\r\nmg mc:m T1 T2 v\r\n\
              ms mc:m 1 T1 T2\r\nx\r\nmd mc:m q q\r\nma mc:m N1 N2\r\nmg mc:m O1 O2 v\r\n",
            format!("HD\r\n{}{}{dup}", dup.repeat(4), invalid_or_dup.repeat(2)),
        ),
        // Too many tokens: `ms`'s data is then read as a command.
        mc(
            "too many meta flags",
            format!(
                "mg mc:m {}\r\nms mc:m 1 {}\r\nx\r\n",
                "v ".repeat(30),
                "T1 ".repeat(30)
            ),
            "CLIENT_ERROR options flags are too long\r\n\
             CLIENT_ERROR options flags too long\r\nERROR\r\n",
        ),
        mc(
            "base64 junk with b",
            b"mg !!!! b v\r\nmg a=b= b v\r\nmg Zm9v b v k\r\nms @@@ 1 b\r\nx\r\nmd %% b\r\n\
              ma ~~ b\r\nme @@ b\r\n",
            format!(
                "{decoding}EN\r\nEN kZm9v b\r\n{decoding}{}{BAD_FORMAT}",
                invalid_or_dup.repeat(2)
            ),
        ),
        // Blink Store does not serve the binary protocol: like memcached started with
        // `-B ascii`, it reads such a request as text (a NUL ends its line).
        mc(
            "binary protocol requests",
            [
                &[0x80u8, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
                &[0u8; 12],
                &[0x80u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
                &[0u8; 12],
                b"k\r\n",
            ]
            .concat(),
            b"ERROR\r\nERROR\r\n",
        ),
    ]
}

fn mixed() -> Vec<Case> {
    vec![
        mc(
            "a pipeline mixing good and bad",
            b"set mc:p 0 0 1\r\n1\r\nbogus\r\nget mc:p\r\nset mc:p 0 0 x\r\nincr mc:p 1\r\n\
              incr mc:p x\r\nmg mc:p v\r\nms mc:p 1 !\r\n2\r\nmg mc:p v\r\nGET mc:p\r\n\
              delete mc:p 0 0\r\ndelete mc:p\r\nget mc:p\r\nset mc:p 0 0 x noreply\r\n\
              incr mc:p x noreply\r\nset mc:p 0 0 1 noreply\r\nxy\r\nmn\r\n",
            format!(
                "STORED\r\nERROR\r\nVALUE mc:p 0 1\r\n1\r\nEND\r\n{BAD_FORMAT}2\r\n\
                 CLIENT_ERROR invalid numeric delta argument\r\nVA 1\r\n2\r\n\
                 CLIENT_ERROR invalid flag\r\nVA 1\r\n2\r\nERROR\r\n\
                 CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n\
                 DELETED\r\nEND\r\nERROR\r\nMN\r\n"
            ),
        ),
        mc_closes(
            "quit mid-pipeline",
            b"set mc:q 0 0 1\r\n1\r\nquit\r\ndelete mc:q\r\n",
            b"STORED\r\n",
        ),
        case(
            "memcached: half-closed socket mid-data-block: every reply, then EOF",
            Wire::Memcache,
            vec![
                Step::Send(b"set mc:hc 0 0 1\r\n1\r\nget mc:hc\r\nset mc:hc 0 0 5\r\nab".to_vec()),
                Step::ShutdownWrite,
                Step::Closed(b"STORED\r\nVALUE mc:hc 0 1\r\n1\r\nEND\r\n".to_vec()),
                Step::Check(vec![
                    (b"mg mc:hc s\r\n".to_vec(), "HD s1\r\n"),
                    (b"md mc:hc\r\n".to_vec(), "HD\r\n"),
                ]),
            ],
        ),
    ]
}

/// Every other row, against a real memcached (`-B ascii`, as Blink Store serves no binary
/// protocol): the same bytes get the same answers, and a connection closes where it
/// closes.
#[test]
fn the_rows_expect_what_memcached_answers() {
    let memcached = External::start(
        ("memcached", "memcached"),
        |port| {
            let mut args: Vec<String> = ["-p", &port.to_string(), "-U", "0", "-l", "127.0.0.1"]
                .map(String::from)
                .into();
            args.extend(["-B".into(), "ascii".into()]);
            // memcached refuses to run as root unless told which user to be.
            if rustix::process::geteuid().is_root() {
                args.extend(["-u".into(), "root".into()]);
            }
            args
        },
        (b"version\r\n", "VERSION"),
    );
    let addr: std::net::SocketAddr = memcached.addr().parse().unwrap();
    let mut compared = 0;
    for case in cases() {
        if NOT_AS_MEMCACHED.contains(&case.name.as_str()) {
            continue;
        }
        println!("{}", case.name);
        let mut client = Client::tcp(addr);
        for step in &case.steps {
            match step {
                Step::Send(bytes) => client.send(bytes),
                Step::ShutdownWrite => client.shutdown_write(),
                Step::Reply(bytes) => common::expect(&mut client, bytes),
                Step::Closed(bytes) => common::expect_close(&mut client, bytes),
                Step::Check(script) => {
                    let mut other = Client::tcp(addr);
                    for (request, expected) in script {
                        assert_eq!(other.request(request), *expected, "{}", case.name);
                    }
                }
                Step::Trickle(..) | Step::Stream { .. } | Step::HangUp => {
                    panic!("{}: a step this check does not take", case.name)
                }
            }
        }
        compared += 1;
    }
    assert_eq!(compared, CASES - NOT_AS_MEMCACHED.len());
}
