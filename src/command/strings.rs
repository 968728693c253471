//! Commands on values: GET, SET and its variants, MGET, MSET, MSETNX, GETDEL, GETEX,
//! INCR and DECR, INCRBYFLOAT, APPEND, SETRANGE, STRLEN.

use crate::float::LongDouble;
use crate::protocol::{Args, LateError, Reply, SetCondition, TtlOption};
use crate::store::update::{Condition, ExpiryChange, SetOptions};
use crate::store::Store;
use crate::sync::Guard;

/// GET.
pub fn get<'a>(store: &Store, key: &[u8], guard: &'a Guard<'_>) -> Reply<'a> {
    tracing::debug!(key_len = key.len(), "get");
    store.get(key, guard).map_or(Reply::NotFound, Reply::Value)
}

/// GETRANGE and SUBSTR: bytes `start` to `end` inclusive, negative indexes counting from
/// the end, clamped to the value as Redis clamps them; empty for a missing key.
pub fn get_range<'a>(
    store: &Store,
    key: &[u8],
    start: i64,
    end: i64,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let value = store.get(key, guard).unwrap_or_default();
    Reply::Value(byte_range(value, start, end))
}

/// The bytes of `value` from `start` to `end` inclusive, by Redis's rules.
fn byte_range(value: &[u8], start: i64, end: i64) -> &[u8] {
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    let len = i64::try_from(value.len()).unwrap_or(i64::MAX);
    let from_end = |index: i64| if index < 0 { len + index } else { index };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(len - 1);
    if len == 0 || start > end {
        return &[];
    }
    // Both are within 0..len here.
    let (start, end) = (start as usize, end as usize);
    &value[start..=end]
}

/// SET without options.
pub fn set<'a>(store: &Store, key: &[u8], value: &[u8]) -> Reply<'a> {
    tracing::debug!(key_len = key.len(), value_len = value.len(), "set");
    match store.set(key, value) {
        Ok(()) => Reply::Ok,
        Err(err) => Reply::Refused(err.into()),
    }
}

/// SET with a condition, an expiry, or GET.
pub fn set_with<'a>(
    store: &Store,
    (key, value): (&[u8], &[u8]),
    condition: SetCondition,
    ttl: TtlOption,
    get: bool,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let options = SetOptions {
        condition: match condition {
            SetCondition::Always => Condition::Always,
            SetCondition::IfAbsent => Condition::IfAbsent,
            SetCondition::IfPresent => Condition::IfPresent,
        },
        expiry: expiry_change(store, ttl).unwrap_or(ExpiryChange::Clear),
    };
    match store.set_with(key, value, options, guard) {
        Ok(outcome) if get => outcome.old.map_or(Reply::NotFound, Reply::Value),
        Ok(outcome) if outcome.stored => Reply::Ok,
        Ok(_) => Reply::NotFound,
        Err(err) => Reply::Refused(err.into()),
    }
}

/// SETNX.
pub fn set_nx<'a>(store: &Store, key: &[u8], value: &[u8], guard: &'a Guard<'_>) -> Reply<'a> {
    let options = SetOptions {
        condition: Condition::IfAbsent,
        expiry: ExpiryChange::Clear,
    };
    match store.set_with(key, value, options, guard) {
        Ok(outcome) => Reply::Integer(i64::from(outcome.stored)),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// MGET.
pub fn mget<'a>(store: &Store, keys: Args<'_>, guard: &'a Guard<'_>) -> Reply<'a> {
    Reply::Values(keys.iter().map(|key| store.get(key, guard)).collect())
}

/// MSET: key, value, key, value...
pub fn mset<'a>(store: &Store, pairs: Args<'_>) -> Reply<'a> {
    let mut pairs = pairs.iter();
    while let (Some(key), Some(value)) = (pairs.next(), pairs.next()) {
        if let Err(err) = store.set(key, value) {
            return Reply::Refused(err.into());
        }
    }
    Reply::Ok
}

/// MSETNX: all the pairs if no key exists, else none; 1 or 0. A pair that could never be
/// stored is refused before any is written.
pub fn mset_nx<'a>(store: &Store, pairs: Args<'_>, guard: &Guard<'_>) -> Reply<'a> {
    if pairs
        .iter()
        .step_by(2)
        .any(|key| store.lookup(key, guard).is_some())
    {
        return Reply::Integer(0);
    }
    let mut checked = pairs.iter();
    while let (Some(key), Some(value)) = (checked.next(), checked.next()) {
        if let Err(err) = store.check_entry(key, value) {
            return Reply::Refused(err.into());
        }
    }
    match mset(store, pairs) {
        Reply::Ok => Reply::Integer(1),
        refused => refused,
    }
}

/// GETDEL.
pub fn get_del<'a>(store: &Store, key: &[u8], guard: &'a Guard<'_>) -> Reply<'a> {
    store.take(key, guard).map_or(Reply::NotFound, Reply::Value)
}

/// GETEX.
pub fn get_ex<'a>(
    store: &Store,
    key: &[u8],
    ttl: Result<TtlOption, LateError>,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let ttl = match ttl {
        Ok(ttl) => ttl,
        Err(_) if store.lookup(key, guard).is_none() => return Reply::NotFound,
        Err(err) => return Reply::Error(err.into()),
    };
    store
        .get_and_expire(key, expiry_change(store, ttl), guard)
        .map_or(Reply::NotFound, Reply::Value)
}

/// INCR, DECR, INCRBY, DECRBY.
pub fn incr_by<'a>(store: &Store, key: &[u8], delta: i64, guard: &Guard<'_>) -> Reply<'a> {
    match store.increment(key, delta, guard) {
        Ok(n) => Reply::Integer(n),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// INCRBYFLOAT: the new value, as Redis prints it, in a bulk string.
pub fn incr_by_float<'a>(
    store: &Store,
    key: &[u8],
    delta: LongDouble,
    guard: &Guard<'_>,
) -> Reply<'a> {
    match store.increment_float(key, delta, guard) {
        Ok(n) => Reply::Text(n.to_string()),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// SETRANGE, up to `max_len` bytes of value: the new length.
pub fn set_range<'a>(
    store: &Store,
    (key, value): (&[u8], &[u8]),
    offset: usize,
    max_len: usize,
    guard: &Guard<'_>,
) -> Reply<'a> {
    match store.set_range(key, offset, value, max_len, guard) {
        Ok(len) => Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX)),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// APPEND, up to `max_len` bytes of value.
pub fn append<'a>(
    store: &Store,
    (key, value): (&[u8], &[u8]),
    max_len: usize,
    guard: &Guard<'_>,
) -> Reply<'a> {
    match store.append(key, value, max_len, guard) {
        Ok(len) => Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX)),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// STRLEN.
pub fn strlen<'a>(store: &Store, key: &[u8], guard: &Guard<'_>) -> Reply<'a> {
    let len = store
        .lookup(key, guard)
        .map_or(0, |entry| entry.value().len());
    Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

/// The store's expiry change for a TTL option; `None` for "leave it" (GETEX without
/// options). A relative time is added to the store's clock.
pub fn expiry_change(store: &Store, ttl: TtlOption) -> Option<ExpiryChange> {
    match ttl {
        TtlOption::Unchanged => None,
        TtlOption::Keep => Some(ExpiryChange::Keep),
        TtlOption::Persist => Some(ExpiryChange::Clear),
        TtlOption::In(ms) => Some(ExpiryChange::At(store.unix_ms().saturating_add(ms))),
        TtlOption::At(ms) => Some(ExpiryChange::At(ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_redis() {
        let value = b"This is a string";
        let cases: [(i64, i64, &[u8]); 9] = [
            (0, 3, b"This"),
            (-3, -1, b"ing"),
            (0, -1, b"This is a string"),
            (10, 100, b"string"),
            (5, 3, b""),
            (-1, -5, b""),
            (-100, 2, b"Thi"),
            (100, 200, b""),
            (i64::MIN, i64::MAX, b"This is a string"),
        ];
        for (start, end, want) in cases {
            assert_eq!(byte_range(value, start, end), want, "{start}..{end}");
        }
        assert_eq!(byte_range(b"", 0, -1), b"");
    }
}
