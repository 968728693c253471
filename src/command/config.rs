//! CONFIG GET, SET and RESETSTAT: the parameters this server has, which of them change
//! while it serves, and Redis 7's rules for both (glob patterns for GET; for SET, every
//! pair checked before any is applied, and Redis's error texts).

use super::Context;
use crate::decimal::parse_integer;
use crate::protocol::{Args, ClientError, Field, Reply};
use crate::store::evict::{EvictionPolicy, MAX_SAMPLES};

use super::slowlog::MAX_MAX_LEN;

/// How a parameter reads a new value: a change, or why not, as Redis words it.
type Parse = fn(&[u8]) -> Result<Change, String>;

/// One parameter: its name, how its value reads, and what a new value does.
struct Param {
    /// The name, lowercase as Redis spells it.
    name: &'static str,
    /// Its value now.
    get: fn(&Context<'_>) -> String,
    /// How a new value is read into a change; `None` for a parameter fixed at start.
    parse: Option<Parse>,
}

/// A checked new value, applied only once every pair of a CONFIG SET is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// `maxmemory`.
    MaxMemory(u64),
    /// `maxmemory-policy`.
    Policy(EvictionPolicy),
    /// `maxmemory-samples`.
    Samples(usize),
    /// `maxclients`.
    MaxClients(u64),
    /// `timeout`, in seconds; 0: none.
    Timeout(u64),
    /// `requirepass`; empty: none.
    Password(Vec<u8>),
    /// `slowlog-log-slower-than`.
    SlowerThan(i64),
    /// `slowlog-max-len`.
    SlowLogLen(usize),
    /// A value equal to what a parameter that cannot change already has.
    Unchanged,
}

/// The parameters, in the order CONFIG GET lists them.
const PARAMS: &[Param] = &[
    Param {
        name: "maxmemory",
        get: |cx| cx.store.max_bytes().to_string(),
        parse: Some(|value| match memory_bytes(value) {
            Some(0) => Err("a limit of 0 (no limit) is not supported".into()),
            Some(bytes) => Ok(Change::MaxMemory(bytes)),
            None => Err("argument must be a memory value".into()),
        }),
    },
    Param {
        name: "maxmemory-policy",
        get: |cx| policy_name(cx.store.policy()).into(),
        parse: Some(|value| {
            if value.eq_ignore_ascii_case(b"allkeys-lru") {
                Ok(Change::Policy(EvictionPolicy::Lru))
            } else if value.eq_ignore_ascii_case(b"allkeys-lfu") {
                Ok(Change::Policy(EvictionPolicy::TinyLfu))
            } else {
                Err("argument(s) must be one of the following: allkeys-lru, allkeys-lfu".into())
            }
        }),
    },
    Param {
        name: "maxmemory-samples",
        get: |cx| cx.store.samples().to_string(),
        parse: Some(|value| {
            let samples = integer_in(value, 1, MAX_SAMPLES as i64)?;
            Ok(Change::Samples(usize::try_from(samples).unwrap_or(1)))
        }),
    },
    Param {
        name: "maxclients",
        get: |cx| cx.server.max_connections().to_string(),
        parse: Some(|value| {
            let max = integer_in(value, 1, i64::from(u32::MAX))?;
            Ok(Change::MaxClients(max.unsigned_abs()))
        }),
    },
    Param {
        name: "timeout",
        get: |cx| {
            let timeout = cx.server.idle_timeout();
            timeout.map_or(0, |timeout| timeout.as_secs()).to_string()
        },
        parse: Some(|value| {
            let secs = integer_in(value, 0, i64::from(i32::MAX))?;
            Ok(Change::Timeout(secs.unsigned_abs()))
        }),
    },
    Param {
        name: "requirepass",
        get: |cx| String::from_utf8_lossy(&cx.server.password().unwrap_or_default()).into(),
        parse: Some(|value| Ok(Change::Password(value.to_vec()))),
    },
    Param {
        name: "slowlog-log-slower-than",
        get: |cx| cx.server.slow_log.slower_than_micros().to_string(),
        parse: Some(|value| Ok(Change::SlowerThan(integer_in(value, -1, i64::MAX)?))),
    },
    Param {
        name: "slowlog-max-len",
        get: |cx| cx.server.slow_log.max_len().to_string(),
        parse: Some(|value| {
            let len = integer_in(value, 0, MAX_MAX_LEN as i64)?;
            Ok(Change::SlowLogLen(usize::try_from(len).unwrap_or(0)))
        }),
    },
    Param {
        name: "databases",
        get: |_| "1".into(),
        parse: None,
    },
    Param {
        name: "save",
        get: |_| String::new(),
        parse: Some(|value| unchanged(value.is_empty())),
    },
    Param {
        name: "appendonly",
        get: |_| "no".into(),
        parse: Some(|value| {
            if !value.eq_ignore_ascii_case(b"yes") && !value.eq_ignore_ascii_case(b"no") {
                return Err("argument must be 'yes' or 'no'".into());
            }
            unchanged(value.eq_ignore_ascii_case(b"no"))
        }),
    },
];

/// The eviction policy, as Redis names the closest of its own.
pub fn policy_name(policy: EvictionPolicy) -> &'static str {
    match policy {
        EvictionPolicy::TinyLfu => "allkeys-lfu",
        EvictionPolicy::Lru => "allkeys-lru",
    }
}

/// A persistence setting: only the value it has (none), as nothing is ever saved.
fn unchanged(same: bool) -> Result<Change, String> {
    if same {
        Ok(Change::Unchanged)
    } else {
        Err("persistence is not supported".into())
    }
}

/// An integer within `min..=max`, with Redis's errors.
fn integer_in(value: &[u8], min: i64, max: i64) -> Result<i64, String> {
    let n = parse_integer(value).ok_or("argument couldn't be parsed into an integer")?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// A memory value as Redis reads one: digits, then nothing or a unit (`b`; `k`, `m`,
/// `g` for powers of 1000; `kb`, `mb`, `gb` for powers of 1024), any case.
fn memory_bytes(value: &[u8]) -> Option<u64> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, unit) = value.split_at(digits);
    let unit = unit.to_ascii_lowercase();
    let scale: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let number: u64 = std::str::from_utf8(number).ok()?.parse().ok()?;
    number.checked_mul(scale)
}

/// The parameter named `name`, any case.
fn param(name: &[u8]) -> Option<&'static Param> {
    PARAMS
        .iter()
        .find(|param| name.eq_ignore_ascii_case(param.name.as_bytes()))
}

/// CONFIG GET: each parameter that a pattern names or matches, once, with its value. A
/// pattern without `*`, `?` or `[` names one parameter, which is reported under the name
/// as given, as Redis reports it.
pub fn get<'a>(cx: &Context<'_>, patterns: Args<'_>) -> Reply<'a> {
    let mut found: Vec<(String, &'static Param)> = Vec::new();
    for pattern in patterns.iter() {
        let matching: Vec<(String, &'static Param)> = if pattern.iter().any(|b| b"*?[".contains(b))
        {
            PARAMS
                .iter()
                .filter(|param| glob_match(pattern, param.name.as_bytes()))
                .map(|param| (param.name.to_owned(), param))
                .collect()
        } else {
            let name = String::from_utf8_lossy(pattern).into_owned();
            param(pattern)
                .map(|param| (name, param))
                .into_iter()
                .collect()
        };
        for (name, param) in matching {
            if !found.iter().any(|(_, seen)| std::ptr::eq(*seen, param)) {
                found.push((name, param));
            }
        }
    }
    Reply::Map(
        found
            .into_iter()
            .map(|(name, param)| (name, Field::Text((param.get)(cx))))
            .collect(),
    )
}

/// CONFIG SET: every pair is checked (known, changeable, not named twice, a valid value)
/// before any is applied, so either all change or none does; the first problem is the
/// error, worded as Redis words it.
pub fn set<'a>(cx: &Context<'_>, pairs: Args<'_>) -> Reply<'a> {
    match checked(pairs) {
        Ok(changes) => {
            for change in changes {
                apply(cx, change);
            }
            Reply::Ok
        }
        Err(err) => Reply::Error(err),
    }
}

/// The changes CONFIG SET's pairs ask for, or the first problem with them.
fn checked(pairs: Args<'_>) -> Result<Vec<Change>, ClientError> {
    let failed = |name: &[u8], reason: &str| ClientError::ConfigSetFailed {
        name: String::from_utf8_lossy(name).into_owned(),
        reason: reason.to_owned(),
    };
    let mut params: Vec<(&'static Param, Parse)> = Vec::new();
    for name in pairs.iter().step_by(2) {
        let Some(param) = param(name) else {
            return Err(ClientError::UnknownConfig(
                String::from_utf8_lossy(name).into_owned(),
            ));
        };
        let Some(parse) = param.parse else {
            return Err(failed(name, "can't set immutable config"));
        };
        if params.iter().any(|(seen, _)| std::ptr::eq(*seen, param)) {
            return Err(failed(name, "duplicate parameter"));
        }
        params.push((param, parse));
    }
    // Values are checked once every name is: a bad value is named by its parameter's
    // own name, as Redis names it.
    params
        .iter()
        .zip(pairs.iter().skip(1).step_by(2))
        .map(|((param, parse), value)| {
            parse(value).map_err(|reason| failed(param.name.as_bytes(), &reason))
        })
        .collect()
}

/// Applies one checked change.
fn apply(cx: &Context<'_>, change: Change) {
    match change {
        Change::MaxMemory(bytes) => cx.store.set_max_bytes(bytes),
        Change::Policy(policy) => cx.store.set_policy(policy),
        Change::Samples(samples) => cx.store.set_samples(samples),
        Change::MaxClients(max) => cx.server.set_max_connections(max),
        Change::Timeout(secs) => cx.server.set_idle_timeout(secs),
        Change::Password(password) => {
            cx.server
                .set_password((!password.is_empty()).then_some(password));
        }
        Change::SlowerThan(micros) => cx.server.slow_log.set_slower_than_micros(micros),
        Change::SlowLogLen(len) => cx.server.slow_log.set_max_len(len),
        Change::Unchanged => {}
    }
}

/// CONFIG RESETSTAT: zeroes what INFO counts (commands, errors, connections accepted
/// and refused, hits, misses, evictions and expirations).
pub fn reset_stats<'a>(cx: &Context<'_>) -> Reply<'a> {
    cx.server.reset_stats();
    cx.store.reset_stats();
    Reply::Ok
}

/// Glob matching as Redis's `stringmatchlen` does it, case-insensitive: `*`, `?`,
/// `[abc]`, `[^abc]`, `[a-z]` and `\` escapes. Iterative, backtracking to the last `*`
/// only, so any pattern costs at most O(pattern × name) and no stack.
pub fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: the pattern after it, and the next name byte
    // it will try to swallow.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, n));
            continue;
        }
        if p == pattern.len() && n == name.len() {
            return true;
        }
        if let (Some(rest), Some(&byte)) = (pattern.get(p..), name.get(n)) {
            if let Some(len) = token_matches(rest, byte) {
                p += len;
                n += 1;
                continue;
            }
        }
        match star {
            Some((star_p, star_n)) if star_n < name.len() => {
                star = Some((star_p, star_n + 1));
                p = star_p;
                n = star_n + 1;
            }
            _ => return false,
        }
    }
}

/// Whether the pattern's first token (not `*`) matches `byte`, and if so its length.
fn token_matches(pattern: &[u8], byte: u8) -> Option<usize> {
    let same = |a: u8| a.eq_ignore_ascii_case(&byte);
    match pattern {
        [] => None,
        [b'?', ..] => Some(1),
        [b'\\', escaped, ..] => same(*escaped).then_some(2),
        [b'[', class @ ..] => {
            let (matched, len) = class_matches(class, byte);
            matched.then_some(len + 1)
        }
        [literal, ..] => same(*literal).then_some(1),
    }
}

/// A bracket class after its `[`: whether it matches `byte`, and its length up to and
/// including its `]` (or the rest of the pattern, if it is not closed).
fn class_matches(class: &[u8], byte: u8) -> (bool, usize) {
    let negated = class.first() == Some(&b'^');
    let mut i = usize::from(negated);
    let mut matched = false;
    let lower = byte.to_ascii_lowercase();
    loop {
        match class.get(i..).unwrap_or_default() {
            [] => return (matched != negated, class.len()),
            [b']', ..] => return (matched != negated, i + 1),
            // As in Redis, an escaped byte in a class is compared as is.
            [b'\\', escaped, ..] => {
                matched |= *escaped == byte;
                i += 2;
            }
            [start, b'-', end, ..] => {
                let (low, high) = if start <= end {
                    (*start, *end)
                } else {
                    (*end, *start)
                };
                let range = low.to_ascii_lowercase()..=high.to_ascii_lowercase();
                matched |= range.contains(&lower);
                i += 3;
            }
            [literal, ..] => {
                matched |= literal.eq_ignore_ascii_case(&byte);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_redis_matches_them() {
        let cases: &[(&str, &str, bool)] = &[
            ("maxmemory", "maxmemory", true),
            ("MAXMEMORY", "maxmemory", true),
            ("max*", "maxmemory-policy", true),
            ("*", "save", true),
            ("", "", true),
            ("s?ve", "save", true),
            ("max", "maxmemory", false),
            ("*policy", "maxmemory", false),
            ("*memory*", "maxmemory-samples", true),
            ("m*y-*s", "maxmemory-samples", true),
            ("**a**", "save", true),
            ("[st]ave", "save", true),
            ("[^st]ave", "save", false),
            ("[a-t]ave", "Save", true),
            ("[z-a]ave", "save", true),
            ("s[!-b]ve", "save", true),
            ("\\save", "save", true),
            ("sav\\*", "sav*", true),
            ("sav\\*", "save", false),
            ("[abc", "b", true),
            ("[abc", "d", false),
            ("a*b", "aaaa", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), name.as_bytes()),
                *expected,
                "{pattern} {name}"
            );
        }
        // Long patterns cost no stack.
        let stars = vec![b'*'; 100_000];
        assert!(glob_match(&stars, b"anything"));
        let mut many = b"*a".repeat(2_000);
        many.push(b'b');
        assert!(!glob_match(&many, &[b'a'; 100]));
    }

    #[test]
    fn memory_values_are_read_as_redis_reads_them() {
        let cases: &[(&str, Option<u64>)] = &[
            ("100", Some(100)),
            ("1b", Some(1)),
            ("2k", Some(2000)),
            ("2KB", Some(2048)),
            ("1m", Some(1_000_000)),
            ("1mb", Some(1 << 20)),
            ("3g", Some(3_000_000_000)),
            ("1Gb", Some(1 << 30)),
            ("10x", None),
            ("-1", None),
            ("1.5mb", None),
            ("99999999999999999999", None),
            ("18446744073709551615gb", None),
        ];
        for (value, expected) in cases {
            assert_eq!(memory_bytes(value.as_bytes()), *expected, "{value}");
        }
    }
}
