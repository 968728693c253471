//! Which arguments of a full command line are keys, read from the command's key specs as
//! Redis 7's COMMAND GETKEYS reads them, with the flags each key is used with.

use super::{BeginSearch, CommandSpec, FindKeys, KeySpec};

/// Why a command line's keys cannot be found, worded as COMMAND GETKEYS words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    /// No command of that name.
    #[error("Invalid command specified")]
    UnknownCommand,
    /// The command takes no keys.
    #[error("The command has no key arguments")]
    NoKeys,
    /// The arguments do not fit the command's arity.
    #[error("Invalid number of arguments specified for command")]
    Arity,
    /// A key spec points outside the arguments.
    #[error("Invalid arguments specified for command")]
    Invalid,
}

/// One key found: its position in the command line, and how the command uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundKey {
    /// Its index among the arguments (the name is 0).
    pub position: usize,
    /// Its access flags, as the key spec lists them.
    pub flags: &'static [&'static str],
}

/// SET's key flags without GET: it overwrites.
const SET_FLAGS: &[&str] = &["OW", "update"];

/// SET's key flags with GET: it reads, then overwrites.
const SET_GET_FLAGS: &[&str] = &["RW", "access", "update"];

/// The keys of the command line `args` (the name first), in key-spec order.
///
/// # Errors
/// A [`KeysError`] in Redis's order of checks: unknown command, no keys, wrong arity, a
/// key spec pointing past the arguments.
pub fn find_keys(args: &[&[u8]]) -> Result<Vec<FoundKey>, KeysError> {
    let spec = super::lookup_call(args.iter().copied()).ok_or(KeysError::UnknownCommand)?;
    if !spec.key_specs.iter().any(|key| !key.has_flag("not_key")) {
        return Err(KeysError::NoKeys);
    }
    if !spec.accepts(args.len()) {
        return Err(KeysError::Arity);
    }
    let mut found = Vec::new();
    for key_spec in spec.key_specs.iter().filter(|key| !key.has_flag("not_key")) {
        let flags = flags_for(spec, key_spec, args);
        match positions(key_spec, args) {
            Some(positions) => found.extend(positions.map(|position| FoundKey { position, flags })),
            None if spec.has_flag("no_mandatory_keys") => return Ok(Vec::new()),
            None => return Err(KeysError::Invalid),
        }
    }
    Ok(found)
}

/// A key spec's flags for this command line. A spec whose flags vary with the arguments
/// has them worked out from the arguments, as Redis's own key finder for the command
/// does: among the commands here that is SET, which reads the key only with GET.
fn flags_for(spec: &CommandSpec, key_spec: &KeySpec, args: &[&[u8]]) -> &'static [&'static str] {
    if !key_spec.has_flag("variable_flags") || spec.name != "set" {
        return key_spec.flags;
    }
    let get = args
        .iter()
        .skip(3)
        .any(|arg| arg.eq_ignore_ascii_case(b"get"));
    if get {
        SET_GET_FLAGS
    } else {
        SET_FLAGS
    }
}

/// The positions of one key spec's keys, `None` if the spec points outside `args`.
fn positions(spec: &KeySpec, args: &[&[u8]]) -> Option<impl Iterator<Item = usize>> {
    let argc = i64::try_from(args.len()).ok()?;
    let first = match spec.begin_search {
        BeginSearch::Index(index) => i64::from(index),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => after_keyword(args, keyword, i64::from(start_from))?,
        BeginSearch::Unknown => return None,
    };
    let (first, last, step) = match spec.find_keys {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => {
            let (last_key, limit) = (i64::from(last_key), i64::from(limit));
            let last = if last_key >= 0 {
                first + last_key
            } else if limit <= 0 {
                argc + last_key
            } else {
                first + (argc - first) / limit + last_key
            };
            (first, last, i64::from(step))
        }
        FindKeys::KeyNum {
            key_num_index,
            first_key,
            step,
        } => {
            let count = args
                .get(usize::try_from(first + i64::from(key_num_index)).ok()?)
                .and_then(|count| crate::decimal::parse_integer(count))
                .filter(|&count| count >= 0)?;
            let first = first + i64::from(first_key);
            (first, first + count - 1, i64::from(step))
        }
        FindKeys::Unknown => return None,
    };
    if last >= argc || last < first || first >= argc || first < 1 || step < 1 {
        return None;
    }
    let (first, last, step) = (
        usize::try_from(first).ok()?,
        usize::try_from(last).ok()?,
        usize::try_from(step).ok()?,
    );
    Some((first..=last).step_by(step))
}

/// The position after the first argument equal to `keyword` (any case), searching from
/// `start_from` forwards, or backwards from the end if it is negative; `None` if absent.
/// As in Redis, a forward search stops before the last argument and a backward one
/// before the first.
fn after_keyword(args: &[&[u8]], keyword: &str, start_from: i64) -> Option<i64> {
    let argc = i64::try_from(args.len()).ok()?;
    let matches = |i: &i64| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| args.get(i))
            .is_some_and(|arg| arg.eq_ignore_ascii_case(keyword.as_bytes()))
    };
    let found = if start_from > 0 {
        (start_from..argc - 1).find(matches)
    } else {
        (2..=argc + start_from).rev().find(matches)
    };
    found.map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(line: &str) -> Result<Vec<(String, Vec<&'static str>)>, KeysError> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        Ok(find_keys(&args)?
            .into_iter()
            .map(|key| {
                (
                    line.split(' ').nth(key.position).unwrap().to_owned(),
                    key.flags.to_vec(),
                )
            })
            .collect())
    }

    fn names(line: &str) -> Vec<String> {
        keys(line)
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn keys_are_found_as_redis_finds_them() {
        assert_eq!(names("get k"), ["k"]);
        assert_eq!(names("mset a 1 b 2"), ["a", "b"]);
        // Redis's key specs do not check MSET's pairs.
        assert_eq!(names("mset a 1 b"), ["a", "b"]);
        assert_eq!(names("del a b c"), ["a", "b", "c"]);
        assert_eq!(names("EXPIRE k 10 nx"), ["k"]);
        assert_eq!(keys("set k v").unwrap()[0].1, ["OW", "update"]);
        assert_eq!(
            keys("set k v GET").unwrap()[0].1,
            ["RW", "access", "update"]
        );
        assert_eq!(keys("get k").unwrap()[0].1, ["RO", "access"]);
    }

    #[test]
    fn errors_come_in_redis_order() {
        assert_eq!(keys("nope k"), Err(KeysError::UnknownCommand));
        assert_eq!(keys("ping x y"), Err(KeysError::NoKeys));
        assert_eq!(keys("client list"), Err(KeysError::NoKeys));
        assert_eq!(keys("client nope"), Err(KeysError::UnknownCommand));
        assert_eq!(keys("get a b"), Err(KeysError::Arity));
        assert_eq!(keys("expire k"), Err(KeysError::Arity));
    }

    #[test]
    fn keyword_and_keynum_specs_find_their_keys() {
        let args: Vec<&[u8]> = vec![b"cmd", b"x", b"STREAMS", b"2", b"a", b"b", b"tail"];
        let keyword = KeySpec::new(
            &["RO"],
            BeginSearch::Keyword {
                keyword: "streams",
                start_from: 1,
            },
            FindKeys::KeyNum {
                key_num_index: 0,
                first_key: 1,
                step: 1,
            },
        );
        assert_eq!(
            positions(&keyword, &args).unwrap().collect::<Vec<_>>(),
            [4, 5]
        );
        let backwards = KeySpec::new(
            &["RO"],
            BeginSearch::Keyword {
                keyword: "b",
                start_from: -1,
            },
            FindKeys::Range {
                last_key: 0,
                step: 1,
                limit: 0,
            },
        );
        assert_eq!(
            positions(&backwards, &args).unwrap().collect::<Vec<_>>(),
            [6]
        );
        let halves = KeySpec::new(
            &["RO"],
            BeginSearch::Index(1),
            FindKeys::Range {
                last_key: -1,
                step: 1,
                limit: 2,
            },
        );
        assert_eq!(
            positions(&halves, &args).unwrap().collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let past_end = KeySpec::new(
            &["RO"],
            BeginSearch::Index(9),
            FindKeys::Range {
                last_key: 0,
                step: 1,
                limit: 0,
            },
        );
        assert!(positions(&past_end, &args).is_none());
    }
}
