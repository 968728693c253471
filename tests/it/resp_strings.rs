//! The string commands with offsets, bits, floats or options (SETRANGE, GETBIT, SETBIT,
//! BITCOUNT, INCRBYFLOAT, MSETNX, LCS) and WAIT, beside a real `redis-server`: the same
//! commands go to both and every reply is compared, errors included, then generated
//! inputs in bulk.

use crate::common::SideBySide;
use crate::common::{self, Reply};
use crate::resp::show_args;

/// Both servers, with Redis's proto-max-bulk-len set to Blink Store's default value limit
/// (1 MiB, the least Redis allows), so limits on offsets and lengths fall at the same
/// place in both.
fn side_by_side() -> SideBySide {
    let mut both = SideBySide::start();
    let set = [&b"CONFIG"[..], b"SET", b"proto-max-bulk-len", b"1048576"];
    assert_eq!(both.theirs.call(&set), Reply::Simple("OK".into()));
    both
}

/// Sends each command to both and compares the replies (a TTL to within a second, as
/// the two clocks are read apart).
fn compare(both: &mut SideBySide, script: &[&[&[u8]]]) {
    for command in script {
        let (want, got) = both.call(command);
        let shown = show_args(command);
        match (&want, &got) {
            (Reply::Integer(want), Reply::Integer(got)) if command[0] == b"TTL" => {
                assert!(
                    (want - got).abs() <= 1,
                    "{shown:?}: Redis {want}, Blink {got}"
                )
            }
            _ => assert_eq!(got, want, "{shown:?}"),
        }
    }
}

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, count: u64, alphabet: &[u8]) -> String {
        (0..count)
            .map(|_| char::from(alphabet[self.below(alphabet.len() as u64) as usize]))
            .collect()
    }
}

#[test]
fn setrange_answers_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"SETRANGE", b"k", b"5", b"hello"],
            &[b"GET", b"k"],
            &[b"EXPIRE", b"k", b"100"],
            &[b"SETRANGE", b"k", b"0", b"X"],
            &[b"TTL", b"k"],
            &[b"SETRANGE", b"k", b"8", b"world"],
            &[b"GET", b"k"],
            // Nothing to write: the length as it is, and no key is created.
            &[b"SETRANGE", b"missing", b"0", b""],
            &[b"SETRANGE", b"missing", b"10", b""],
            &[b"EXISTS", b"missing"],
            &[b"SETRANGE", b"k", b"1048576", b""],
            // The value limit: offset plus length up to 1 MiB.
            &[b"SETRANGE", b"k", b"1048575", b"x"],
            &[b"STRLEN", b"k"],
            &[b"SETRANGE", b"k", b"1048575", b"xy"],
            &[b"SETRANGE", b"k", b"1048576", b"x"],
            &[b"SETRANGE", b"new", b"1048576", b"x"],
            &[b"EXISTS", b"new"],
            &[b"SETRANGE", b"k", b"9223372036854775807", b"x"],
            // Offsets that are not integers, or negative.
            &[b"SETRANGE", b"k", b"-1", b"x"],
            &[b"SETRANGE", b"k", b"-1", b""],
            &[b"SETRANGE", b"k", b"abc", b"x"],
            &[b"SETRANGE", b"k", b"1.5", b"x"],
            &[b"SETRANGE", b"k", b"9223372036854775808", b""],
            &[b"SETRANGE", b"k", b"0"],
            &[b"SETRANGE", b"k", b"0", b"x", b"y"],
            &[b"SET", b"e", b""],
            &[b"SETRANGE", b"e", b"3", b""],
            &[b"SETRANGE", b"e", b"2", b"\x00\xff"],
            &[b"GET", b"e"],
        ],
    );
}

#[test]
fn getbit_setbit_and_bitcount_answer_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"SETBIT", b"b", b"7", b"1"],
            &[b"GET", b"b"],
            &[b"SETBIT", b"b", b"7", b"0"],
            &[b"SETBIT", b"b", b"100", b"0"],
            &[b"STRLEN", b"b"],
            &[b"EXPIRE", b"b", b"100"],
            &[b"SETBIT", b"b", b"1", b"1"],
            &[b"TTL", b"b"],
            &[b"GETBIT", b"b", b"1"],
            &[b"GETBIT", b"b", b"7"],
            &[b"GETBIT", b"b", b"999999"],
            &[b"GETBIT", b"missing", b"5"],
            &[b"SETBIT", b"zero", b"0", b"0"],
            &[b"GET", b"zero"],
            // The last bit within the value limit, and the first past it.
            &[b"SETBIT", b"b", b"8388607", b"0"],
            &[b"STRLEN", b"b"],
            &[b"SETBIT", b"b", b"8388608", b"1"],
            &[b"GETBIT", b"b", b"8388608"],
            &[b"GETBIT", b"missing", b"8388608"],
            // Offsets and bits that are not integers or out of range: the offset first.
            &[b"SETBIT", b"b", b"-1", b"1"],
            &[b"SETBIT", b"b", b"abc", b"1"],
            &[b"SETBIT", b"b", b"#1", b"1"],
            &[b"SETBIT", b"b", b"1", b"2"],
            &[b"SETBIT", b"b", b"1", b"-1"],
            &[b"SETBIT", b"b", b"1", b"01"],
            &[b"SETBIT", b"b", b"1", b"abc"],
            &[b"SETBIT", b"b", b"abc", b"abc"],
            &[b"SETBIT", b"b", b"8388608", b"abc"],
            &[b"GETBIT", b"b", b"-1"],
            &[b"GETBIT", b"b", b"1.0"],
            &[b"GETBIT", b"b"],
            &[b"SETBIT", b"b", b"1"],
            // BITCOUNT's ranges, in bytes and in bits.
            &[b"SET", b"s", b"foobar"],
            &[b"BITCOUNT", b"s"],
            &[b"BITCOUNT", b"s", b"0", b"0"],
            &[b"BITCOUNT", b"s", b"1", b"1", b"BYTE"],
            &[b"BITCOUNT", b"s", b"5", b"30", b"BIT"],
            &[b"BITCOUNT", b"s", b"5", b"30", b"bit"],
            &[b"BITCOUNT", b"s", b"-1", b"-1"],
            &[b"BITCOUNT", b"s", b"-3", b"-1", b"BIT"],
            &[b"BITCOUNT", b"s", b"-1", b"-3"],
            &[b"BITCOUNT", b"s", b"0", b"-100"],
            &[b"BITCOUNT", b"s", b"-100", b"100"],
            &[
                b"BITCOUNT",
                b"s",
                b"-9223372036854775808",
                b"9223372036854775807",
                b"BIT",
            ],
            // Errors in the range, answered only if the key exists.
            &[b"BITCOUNT", b"s", b"0"],
            &[b"BITCOUNT", b"s", b"a", b"1"],
            &[b"BITCOUNT", b"s", b"a", b"1", b"FOO"],
            &[b"BITCOUNT", b"s", b"0", b"1", b"FOO"],
            &[b"BITCOUNT", b"s", b"0", b"1", b"BIT", b"x"],
            &[b"BITCOUNT", b"missing", b"0"],
            &[b"BITCOUNT", b"missing", b"a", b"b"],
            &[b"BITCOUNT", b"missing", b"0", b"1", b"FOO"],
            &[b"BITCOUNT"],
            &[b"SET", b"e", b""],
            &[b"BITCOUNT", b"e", b"0", b"-1", b"BIT"],
        ],
    );
}

#[test]
fn random_bits_and_counts_answer_as_redis_does() {
    let mut both = side_by_side();
    let mut random = Random(0x5eed_b175);
    for _ in 0..150 {
        let offset = random.below(300).to_string();
        let bit = random.below(2).to_string();
        compare(
            &mut both,
            &[&[b"SETBIT", b"r", offset.as_bytes(), bit.as_bytes()]],
        );
    }
    compare(&mut both, &[&[b"GET", b"r"]]);
    for _ in 0..150 {
        let start = (random.below(340) as i64 - 170).to_string();
        let end = (random.below(340) as i64 - 170).to_string();
        let unit: &[u8] = [&b"BIT"[..], b"BYTE"][random.below(2) as usize];
        compare(
            &mut both,
            &[&[b"BITCOUNT", b"r", start.as_bytes(), end.as_bytes(), unit]],
        );
    }
}

#[test]
fn incrbyfloat_answers_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"SET", b"f", b"10.50"],
            &[b"INCRBYFLOAT", b"f", b"0.1"],
            &[b"INCRBYFLOAT", b"f", b"-5"],
            &[b"EXPIRE", b"f", b"100"],
            &[b"INCRBYFLOAT", b"f", b"2.0e2"],
            &[b"TTL", b"f"],
            &[b"GET", b"f"],
            &[b"INCRBYFLOAT", b"new", b"0x1p-2"],
            &[b"INCRBYFLOAT", b"new", b"1e300"],
            &[b"SET", b"f", b"1000.1"],
            &[b"INCRBYFLOAT", b"f", b"0"],
            &[b"SET", b"f", b"0.000011444091796875"],
            &[b"INCRBYFLOAT", b"f", b"0"],
            &[b"SET", b"f", b"12345678901234567891"],
            &[b"INCRBYFLOAT", b"f", b"0.5"],
            &[b"INCRBYFLOAT", b"f", b"-12345678901234567892"],
            // Not floats, and sums that are not finite.
            &[b"INCRBYFLOAT", b"f", b"abc"],
            &[b"INCRBYFLOAT", b"f", b" 1"],
            &[b"INCRBYFLOAT", b"f", b"1e"],
            &[b"INCRBYFLOAT", b"f", b"nan"],
            &[b"INCRBYFLOAT", b"f", b""],
            &[b"INCRBYFLOAT", b"f", b"1e5000"],
            &[b"INCRBYFLOAT", b"f", b"1\x00"],
            &[b"INCRBYFLOAT", b"f", b"inf"],
            &[b"SET", b"big", b"1e4932"],
            &[b"INCRBYFLOAT", b"big", b"1e4932"],
            &[b"GET", b"big"],
            &[b"SET", b"s", b"text"],
            &[b"INCRBYFLOAT", b"s", b"1"],
            &[b"INCRBYFLOAT", b"s", b"x"],
            &[b"INCRBYFLOAT", b"f"],
            &[b"INCRBYFLOAT", b"f", b"1", b"2"],
        ],
    );
}

#[test]
fn random_incrbyfloats_answer_as_redis_does() {
    let mut both = side_by_side();
    let mut random = Random(0xf10a7);
    let number = |random: &mut Random| -> String {
        let sign = ["", "-", "+"][random.below(3) as usize];
        let len = 1 + random.below(22);
        let digits = random.digits(len, b"0123456789");
        let point = random.below(len + 1) as usize;
        let (whole, fraction) = digits.split_at(point);
        match random.below(5) {
            0 => format!("{sign}{whole}.{fraction}"),
            1 => format!("{sign}{digits}e{}", random.below(80) as i64 - 40),
            2 => format!("{sign}{digits}e{}", random.below(9900) as i64 - 4950),
            3 => {
                let hex = random.digits(len, b"0123456789abcdefABCDEF");
                format!("{sign}0x{hex}p{}", random.below(200) as i64 - 100)
            }
            _ => format!("{sign}{}", random.next()),
        }
    };
    for _ in 0..300 {
        let (start, delta) = (number(&mut random), number(&mut random));
        compare(
            &mut both,
            &[
                &[b"SET", b"f", start.as_bytes()],
                &[b"INCRBYFLOAT", b"f", delta.as_bytes()],
                &[b"INCRBYFLOAT", b"f", delta.as_bytes()],
            ],
        );
    }
}

#[test]
fn msetnx_answers_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"MSETNX", b"a", b"1", b"b", b"2"],
            &[b"MGET", b"a", b"b"],
            &[b"MSETNX", b"a", b"9", b"c", b"3"],
            &[b"MGET", b"a", b"c"],
            &[b"MSETNX", b"d", b"1", b"d", b"2"],
            &[b"GET", b"d"],
            &[b"PEXPIRE", b"a", b"1"],
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    compare(
        &mut both,
        &[
            // An expired key is absent.
            &[b"MSETNX", b"a", b"new", b"e", b"5"],
            &[b"MGET", b"a", b"e"],
            &[b"MSETNX", b"a", b"1", b"c"],
            &[b"MSETNX", b"a"],
            &[b"MSETNX"],
        ],
    );
}

#[test]
fn lcs_answers_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"MSET", b"key1", b"ohmytext", b"key2", b"mynewtext"],
            &[b"LCS", b"key1", b"key2"],
            &[b"LCS", b"key1", b"key2", b"LEN"],
            &[b"LCS", b"key1", b"key2", b"IDX"],
            &[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"4"],
            &[
                b"LCS",
                b"key1",
                b"key2",
                b"idx",
                b"minmatchlen",
                b"4",
                b"withmatchlen",
            ],
            &[b"LCS", b"key1", b"key2", b"IDX", b"WITHMATCHLEN"],
            &[b"LCS", b"key1", b"key2", b"MINMATCHLEN", b"-5", b"IDX"],
            &[b"LCS", b"key1", b"key2", b"LEN", b"LEN", b"WITHMATCHLEN"],
            &[b"LCS", b"key1", b"missing"],
            &[b"LCS", b"missing", b"other", b"IDX"],
            // Option errors, in Redis's order.
            &[b"LCS", b"key1", b"key2", b"LEN", b"IDX"],
            &[b"LCS", b"key1", b"key2", b"IDX", b"FOO", b"LEN"],
            &[b"LCS", b"key1", b"key2", b"LEN", b"MINMATCHLEN", b"x"],
            &[b"LCS", b"key1", b"key2", b"MINMATCHLEN"],
            &[b"LCS", b"key1", b"key2", b"FOO"],
            &[b"LCS", b"key1"],
        ],
    );
    // The table's bound: 512 × 512 lengths of 4 bytes is exactly the 1 MiB limit.
    let (a511, a512) = ("a".repeat(511), "a".repeat(512));
    compare(
        &mut both,
        &[
            &[b"MSET", b"x", a511.as_bytes(), b"y", a511.as_bytes()],
            &[b"LCS", b"x", b"y", b"LEN"],
            &[b"SET", b"x", a512.as_bytes()],
            &[b"LCS", b"x", b"y", b"LEN"],
            &[b"LCS", b"x", b"y"],
        ],
    );
}

#[test]
fn random_lcs_answers_as_redis_does() {
    let mut both = side_by_side();
    let mut random = Random(0x1c5);
    for _ in 0..100 {
        let (a_len, b_len) = (random.below(40), random.below(40));
        let a = random.digits(a_len, b"abc");
        let b = random.digits(b_len, b"abcd");
        let min = random.below(4).to_string();
        compare(
            &mut both,
            &[
                &[b"MSET", b"a", a.as_bytes(), b"b", b.as_bytes()],
                &[b"LCS", b"a", b"b"],
                &[b"LCS", b"a", b"b", b"LEN"],
                &[b"LCS", b"a", b"b", b"IDX", b"WITHMATCHLEN"],
                &[b"LCS", b"b", b"a", b"IDX", b"MINMATCHLEN", min.as_bytes()],
            ],
        );
    }
}

#[test]
fn wait_answers_as_redis_does() {
    let mut both = side_by_side();
    compare(
        &mut both,
        &[
            &[b"WAIT", b"0", b"0"],
            &[b"WAIT", b"-5", b"100"],
            &[b"WAIT", b"1", b"10"],
            &[b"WAIT", b"x", b"0"],
            &[b"WAIT", b"0", b"x"],
            &[b"WAIT", b"0", b"1.5"],
            &[b"WAIT", b"0", b"-1"],
            &[b"WAIT", b"x", b"-1"],
            &[b"WAIT", b"0"],
        ],
    );
}

/// RESP3 after `HELLO 3`: INCRBYFLOAT is still a bulk string, LCS IDX a map. The test
/// client reads RESP2 only, so each reply is read as raw lines up to a PING's `+PONG`.
#[test]
fn resp3_replies_are_the_same_bytes_as_redis() {
    let mut both = side_by_side();
    both.call(&[b"MSET", b"key1", b"ohmytext", b"key2", b"mynewtext"]);
    let raw = |client: &mut common::Resp, command: &[&[u8]]| -> Vec<u8> {
        client.queue(command);
        client.queue(&[b"PING"]);
        let mut reply = Vec::new();
        loop {
            let line = client.0.read_line();
            assert!(!line.is_empty(), "connection closed");
            if line == b"+PONG\r\n" {
                return reply;
            }
            reply.extend(line);
        }
    };
    for client in [&mut both.theirs, &mut both.ours] {
        raw(client, &[b"HELLO", b"3"]);
    }
    for command in [
        &[&b"INCRBYFLOAT"[..], b"f", b"1.5"][..],
        &[b"LCS", b"key1", b"key2", b"IDX", b"WITHMATCHLEN"],
        &[b"LCS", b"key1", b"missing", b"IDX"],
        &[b"LCS", b"key1", b"key2"],
        &[b"BITCOUNT", b"key1", b"0", b"-1", b"BIT"],
    ] {
        let want = raw(&mut both.theirs, command);
        let got = raw(&mut both.ours, command);
        assert_eq!(
            common::show(&got),
            common::show(&want),
            "{:?}",
            show_args(command)
        );
    }
}
