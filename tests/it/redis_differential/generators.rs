//! The commands the Redis differential test sends: one generator per command family or
//! batch shape, in [`GENERATORS`], and the names switched on against Blink Store in
//! [`ENABLED`]. Arguments come from small pools, so keys collide and values are often
//! integers, floats or binary bytes.
//!
//! No generated sequence may depend on when a command arrives, or the two servers could
//! rightly disagree: every time to live is either already over (the key is deleted at
//! once) or at least 1,000 s away, and no two differ by less than 1,000 s (see
//! `Maker::unique`), so GT and LT never compare times a few milliseconds apart. An
//! expiry time already past is only sent where Redis deletes the key at once (EXPIRE
//! and friends, GETEX): SET with a past EXAT keeps a dead key that DBSIZE counts until
//! Redis's active expiry finds it.

use super::maker::{Maker, ANY_RELATIVE, ANY_UNIX, PAST_UNIX, REFUSED_UNIX};

/// One command: its name and arguments.
pub type Command = Vec<Vec<u8>>;

/// What one step of a sequence sends.
pub struct Step {
    /// The commands, in order.
    pub commands: Vec<Command>,
    /// Whether they are written in one go before any reply is read (a pipeline), rather
    /// than one at a time.
    pub together: bool,
}

/// How a generator makes its step.
pub enum Make {
    /// One command, which pipelines and transactions also draw from.
    One(fn(&mut Maker) -> Command),
    /// A batch of its own shape.
    Batch(fn(&mut Maker) -> Step),
}

/// A named source of steps.
pub struct Generator {
    /// The name [`ENABLED`] lists it by.
    pub name: &'static str,
    /// How often it is picked, relative to the other enabled generators.
    pub weight: u32,
    /// What it makes.
    pub make: Make,
}

/// The generators switched on for Blink Store against Redis: every one, today. A new
/// generator is listed here once Blink Store answers it as Redis does; the
/// Redis-against-Redis self-check runs every generator.
pub const ENABLED: &[&str] = &[
    "GET",
    "SET",
    "SETNX SETEX PSETEX",
    "GETSET",
    "GETDEL",
    "GETEX",
    "MGET",
    "MSET",
    "DEL UNLINK",
    "EXISTS",
    "EXPIRE PEXPIRE EXPIREAT PEXPIREAT",
    "TTL PTTL",
    "EXPIRETIME PEXPIRETIME",
    "PERSIST",
    "TOUCH",
    "TYPE",
    "INCR DECR",
    "INCRBY DECRBY",
    "APPEND",
    "STRLEN",
    "GETRANGE SUBSTR",
    "DBSIZE",
    "FLUSHDB",
    "PING ECHO",
    "wrong arity",
    "pipeline",
    "MSETNX",
    "INCRBYFLOAT",
    "SETRANGE",
    "GETBIT",
    "SETBIT",
    "BITCOUNT",
    "RENAME RENAMENX",
    "COPY",
    "KEYS",
    "RANDOMKEY",
    "LCS",
    "WATCH UNWATCH",
    "EXEC DISCARD MULTI alone",
    "MULTI",
    "SET odd options",
    "GETEX odd times",
];

/// Every generator. A new command is one entry here (and its name in [`ENABLED`] once
/// Blink Store serves it).
pub const GENERATORS: &[Generator] = &[
    one("GET", 6, |m| cmd(["GET"], [m.key()])),
    one("SET", 8, |m| set(m, false)),
    one("SET odd options", 3, |m| set(m, true)),
    one("SETNX SETEX PSETEX", 3, |m| match m.below(3) {
        0 => cmd(["SETNX"], [m.key(), m.value()]),
        1 => cmd(
            ["SETEX"],
            [m.key(), m.relative(1000, ANY_RELATIVE), m.value()],
        ),
        _ => cmd(
            ["PSETEX"],
            [m.key(), m.relative(1, ANY_RELATIVE), m.value()],
        ),
    }),
    one("GETSET", 2, |m| cmd(["GETSET"], [m.key(), m.value()])),
    one("GETDEL", 2, |m| cmd(["GETDEL"], [m.key()])),
    one("GETEX", 3, |m| getex(m, false)),
    one("GETEX odd times", 2, |m| getex(m, true)),
    one("MGET", 3, |m| cmd(["MGET"], m.keys(4))),
    one("MSET", 3, |m| cmd(["MSET"], m.pairs())),
    one("MSETNX", 2, |m| cmd(["MSETNX"], m.pairs())),
    one("DEL UNLINK", 3, |m| {
        let name = m.pick(&["DEL", "UNLINK"]);
        cmd([name], m.keys(3))
    }),
    one("EXISTS", 3, |m| cmd(["EXISTS"], m.keys(4))),
    one("EXPIRE PEXPIRE EXPIREAT PEXPIREAT", 5, expire),
    one("TTL PTTL", 4, |m| {
        let name = m.pick(&["TTL", "PTTL"]);
        cmd([name], [m.key()])
    }),
    one("EXPIRETIME PEXPIRETIME", 2, |m| {
        let name = m.pick(&["EXPIRETIME", "PEXPIRETIME"]);
        cmd([name], [m.key()])
    }),
    one("PERSIST", 2, |m| cmd(["PERSIST"], [m.key()])),
    one("TOUCH", 1, |m| cmd(["TOUCH"], m.keys(3))),
    one("TYPE", 1, |m| cmd(["TYPE"], [m.key()])),
    one("INCR DECR", 3, |m| {
        let name = m.pick(&["INCR", "DECR"]);
        cmd([name], [m.key()])
    }),
    one("INCRBY DECRBY", 3, |m| {
        let name = m.pick(&["INCRBY", "DECRBY"]);
        let by = m.pick(INCREMENTS).to_vec();
        cmd([name], [m.key(), by])
    }),
    one("INCRBYFLOAT", 3, |m| {
        let by = m.pick(FLOATS).to_vec();
        cmd(["INCRBYFLOAT"], [m.key(), by])
    }),
    one("APPEND", 3, |m| cmd(["APPEND"], [m.key(), m.value()])),
    one("STRLEN", 2, |m| cmd(["STRLEN"], [m.key()])),
    one("GETRANGE SUBSTR", 2, |m| {
        let name = m.pick(&["GETRANGE", "SUBSTR"]);
        cmd([name], [m.key(), m.index(), m.index()])
    }),
    one("SETRANGE", 3, |m| {
        let offset = match m.below(10) {
            0..=6 => m.below(40).to_string().into_bytes(),
            7 => (100 + m.below(200)).to_string().into_bytes(),
            // Past Redis's 512 MB string limit, or refused; never a large allocation.
            _ => m.pick(&[&b"-1"[..], b"536870911", b"x"]).to_vec(),
        };
        cmd(["SETRANGE"], [m.key(), offset, m.value()])
    }),
    one("GETBIT", 2, |m| {
        let offset = m.bit_offset(&[b"4294967295", b"4294967296", b"-1", b"x"]);
        cmd(["GETBIT"], [m.key(), offset])
    }),
    one("SETBIT", 3, |m| {
        // 4294967295 is valid, but makes Redis allocate 512 MB.
        let offset = m.bit_offset(&[b"4294967296", b"-1", b"x"]);
        let bit = m.pick(&[&b"0"[..], b"1", b"1", b"0", b"2", b"x"]).to_vec();
        cmd(["SETBIT"], [m.key(), offset, bit])
    }),
    one("BITCOUNT", 2, bitcount),
    one("RENAME RENAMENX", 3, |m| {
        let name = m.pick(&["RENAME", "RENAMENX"]);
        cmd([name], [m.key(), m.key()])
    }),
    one("COPY", 2, |m| {
        let mut command = cmd(["COPY"], [m.key(), m.key()]);
        if m.chance(30) {
            command.push(m.word("REPLACE"));
        }
        if m.chance(10) {
            command.extend([m.word("DB"), b"0".to_vec()]);
        }
        command
    }),
    one("KEYS", 2, |m| cmd(["KEYS"], [m.pick(PATTERNS).to_vec()])),
    one("RANDOMKEY", 1, |_| cmd(["RANDOMKEY"], [])),
    one("LCS", 1, |m| {
        let mut command = cmd(["LCS"], [m.key(), m.key()]);
        match m.below(4) {
            0 => command.push(m.word("LEN")),
            1 => {
                command.push(m.word("IDX"));
                if m.chance(50) {
                    command.extend([m.word("MINMATCHLEN"), m.below(4).to_string().into_bytes()]);
                }
                if m.chance(50) {
                    command.push(m.word("WITHMATCHLEN"));
                }
            }
            _ => {}
        }
        command
    }),
    one("DBSIZE", 1, |_| cmd(["DBSIZE"], [])),
    one("FLUSHDB", 1, |m| match m.below(4) {
        0 => cmd(["FLUSHDB"], [m.word("ASYNC")]),
        1 => cmd(["FLUSHDB"], [m.word("SYNC")]),
        _ => cmd(["FLUSHDB"], []),
    }),
    one("PING ECHO", 1, |m| match m.below(3) {
        0 => cmd(["PING"], []),
        1 => cmd(["PING"], [m.value()]),
        _ => cmd(["ECHO"], [m.value()]),
    }),
    one("WATCH UNWATCH", 2, |m| {
        if m.chance(70) {
            cmd(["WATCH"], m.keys(2))
        } else {
            cmd(["UNWATCH"], [])
        }
    }),
    one("EXEC DISCARD MULTI alone", 1, |m| {
        cmd([m.pick(&["EXEC", "DISCARD", "MULTI"])], [])
    }),
    batch("wrong arity", 4, |m| Step {
        commands: vec![m.wrong()],
        together: false,
    }),
    batch("pipeline", 4, |m| {
        let n = 2 + m.below(8);
        Step {
            commands: (0..n).map(|_| m.command()).collect(),
            together: true,
        }
    }),
    batch("MULTI", 6, transaction),
];

const fn one(name: &'static str, weight: u32, make: fn(&mut Maker) -> Command) -> Generator {
    Generator {
        name,
        weight,
        make: Make::One(make),
    }
}

const fn batch(name: &'static str, weight: u32, make: fn(&mut Maker) -> Step) -> Generator {
    Generator {
        name,
        weight,
        make: Make::Batch(make),
    }
}

/// A command of words and generated arguments.
pub(super) fn cmd<const N: usize>(
    words: [&str; N],
    args: impl IntoIterator<Item = Vec<u8>>,
) -> Command {
    let mut command: Command = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    command.extend(args);
    command
}

/// INCRBY's and DECRBY's amounts: small, at the edges of 64 bits, and not integers.
const INCREMENTS: &[&[u8]] = &[
    b"1",
    b"-1",
    b"0",
    b"7",
    b"-100",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"x",
    b"1.5",
    b"",
    b" 1",
];

/// INCRBYFLOAT's amounts: exact and inexact in binary, with exponents, infinite, and not
/// numbers.
const FLOATS: &[&[u8]] = &[
    b"1.5", b"-0.5", b"0.1", b"0.2", b"3e2", b"10", b"-1e-3", b"5.0e3", b"inf", b"-inf", b"nan",
    b"x", b"",
];

/// KEYS's patterns: wildcards, classes (negated, ranges either way round), escapes,
/// and ones that match nothing.
const PATTERNS: &[&[u8]] = &[
    b"*",
    b"k:*",
    b"?",
    b"[ab]",
    b"[^a]",
    b"[a-c]",
    b"k:[2-1]",
    b"*x*",
    b"\\{t\\}*",
    b"bin*",
    b"nomatch*",
    b"",
];

/// `SET key value` with a random set of its options in random order, each at most once
/// and with a valid time; if `odd`, now and then an option twice, two that conflict, or
/// a time that is not valid.
fn set(m: &mut Maker, odd: bool) -> Command {
    let mut options: Vec<Vec<Vec<u8>>> = Vec::new();
    if m.chance(30) {
        let condition = m.pick(&["NX", "XX"]);
        options.push(vec![m.word(condition)]);
    }
    if m.chance(25) {
        options.push(vec![m.word("GET")]);
    }
    // Never a past EXAT: it would leave a dead key that DBSIZE counts until Redis's
    // active expiry finds it.
    let (relative, unix) = if odd {
        (ANY_RELATIVE, REFUSED_UNIX)
    } else {
        (&[][..], &[][..])
    };
    if m.chance(45) {
        options.push(m.expiry(relative, unix, "KEEPTTL"));
    }
    if odd {
        for _ in 0..=m.below(2) {
            let extra = match m.below(4) {
                0 => {
                    let option = m.pick(&["NX", "XX", "GET", "KEEPTTL"]);
                    vec![m.word(option)]
                }
                _ => m.expiry(relative, unix, "KEEPTTL"),
            };
            options.push(extra);
        }
    }
    for i in (1..options.len()).rev() {
        let j = m.below(i + 1);
        options.swap(i, j);
    }
    let mut command = cmd(["SET"], [m.key(), m.value()]);
    command.extend(options.into_iter().flatten());
    command
}

/// `GETEX key` with no option, a valid one (a past Unix time deletes the key), or a
/// wrong pair; if `odd`, with a time that is not valid.
fn getex(m: &mut Maker, odd: bool) -> Command {
    let mut command = cmd(["GETEX"], [m.key()]);
    if odd {
        command.extend(m.expiry(ANY_RELATIVE, REFUSED_UNIX, "PERSIST"));
        return command;
    }
    match m.below(10) {
        0 | 1 => {}
        2 => command.extend([m.word("PERSIST"), m.word("EX")]),
        _ => command.extend(m.expiry(&[], PAST_UNIX, "PERSIST")),
    }
    command
}

/// EXPIRE, PEXPIRE, EXPIREAT or PEXPIREAT with up to two of NX, XX, GT and LT.
fn expire(m: &mut Maker) -> Command {
    let (name, time) = match m.below(4) {
        0 => ("EXPIRE", m.relative(1000, ANY_RELATIVE)),
        1 => ("PEXPIRE", m.relative(1, ANY_RELATIVE)),
        2 => ("EXPIREAT", m.unix(1000, ANY_UNIX)),
        _ => ("PEXPIREAT", m.unix(1, ANY_UNIX)),
    };
    let mut command = cmd([name], [m.key(), time]);
    for _ in 0..m.below(3) {
        let option = m.pick(&["NX", "XX", "GT", "LT", "NX", "XX", "GT", "LT", "FOO"]);
        command.push(m.word(option));
    }
    command
}

/// `BITCOUNT key [start end [BYTE|BIT]]`, or with a start alone.
fn bitcount(m: &mut Maker) -> Command {
    let mut command = cmd(["BITCOUNT"], [m.key()]);
    match m.below(10) {
        0..=3 => {}
        4 => command.push(m.index()),
        _ => {
            command.extend([m.index(), m.index()]);
            if m.chance(40) {
                let unit = m.pick(&["BYTE", "BIT", "BYTE", "BIT", "WORD"]);
                command.push(m.word(unit));
            }
        }
    }
    command
}

/// MULTI ... EXEC or DISCARD, sometimes after a WATCH, a write of a watched key by the
/// same client, or an UNWATCH; the queued commands sometimes wrong, which makes EXEC
/// refuse the whole transaction.
fn transaction(m: &mut Maker) -> Step {
    let mut commands = Vec::new();
    if m.chance(40) {
        let watched = m.keys(2);
        commands.push(cmd(["WATCH"], watched.iter().cloned()));
        if m.chance(40) {
            commands.push(cmd(["SET"], [watched[0].clone(), m.value()]));
        }
        if m.chance(25) {
            commands.push(cmd(["UNWATCH"], []));
        }
        if m.chance(30) {
            commands.push(m.command());
        }
    }
    commands.push(cmd(["MULTI"], []));
    for _ in 0..m.below(6) {
        commands.push(m.command());
    }
    if m.chance(5) {
        // Refused inside MULTI, without discarding the transaction.
        let refused = if m.chance(50) {
            cmd(["MULTI"], [])
        } else {
            cmd(["WATCH"], [m.key()])
        };
        commands.push(refused);
    }
    let end = if m.chance(15) { "DISCARD" } else { "EXEC" };
    commands.push(cmd([end], []));
    Step {
        commands,
        together: m.chance(50),
    }
}

/// The generators named in `names`; fails on a name that is not in [`GENERATORS`].
pub fn named(names: &[&str]) -> Vec<&'static Generator> {
    names
        .iter()
        .map(|name| {
            GENERATORS
                .iter()
                .find(|g| g.name == *name)
                .unwrap_or_else(|| panic!("no generator is named {name:?}"))
        })
        .collect()
}
