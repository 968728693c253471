//! Commands about one key's entry rather than its value: OBJECT, MEMORY USAGE, DUMP and
//! RESTORE.
//!
//! OBJECT FREQ and IDLETIME report the store's own eviction figures, under the Redis
//! policy each Blink policy stands for (as INFO and CONFIG GET name them): TinyLFU is
//! `allkeys-lfu`, so FREQ is the key's read count in the frequency sketch (0 to 15, where
//! Redis's logarithmic counter runs to 255) and IDLETIME is refused as Redis refuses it
//! under LFU; LRU is `allkeys-lru`, so IDLETIME is the seconds since the entry's access
//! stamp and FREQ is refused.

use super::dump;
use crate::decimal::parse_integer;
use crate::protocol::keyspace::{ObjectField, RestoreOptions};
use crate::protocol::{ClientError, Reply};
use crate::store::evict::EvictionPolicy;
use crate::store::keyspace::{Access, Transfer};
use crate::store::{key_hash, Store};
use crate::sync::Guard;

/// The longest value Redis keeps in one allocation with its object header (`embstr`).
const EMBSTR_MAX_LEN: usize = 44;

/// OBJECT ENCODING, FREQ, IDLETIME and REFCOUNT; nil for a missing key. Not an access.
pub fn object<'a>(store: &Store, key: &[u8], field: ObjectField, guard: &Guard<'_>) -> Reply<'a> {
    let Some((entry, meta)) = store.lookup_meta(key, guard) else {
        return Reply::NotFound;
    };
    let policy = store.config().policy;
    match field {
        ObjectField::Encoding => Reply::Value(encoding(entry.value()).as_bytes()),
        // No value is shared between keys.
        ObjectField::RefCount => Reply::Integer(1),
        ObjectField::Freq => match policy {
            EvictionPolicy::TinyLfu => Reply::Integer(i64::from(store.frequency(key_hash(key)))),
            EvictionPolicy::Lru => Reply::Error(ClientError::FreqNotTracked),
        },
        ObjectField::IdleTime => match policy {
            EvictionPolicy::Lru => {
                Reply::Integer(i64::try_from(store.idle_ms(meta) / 1000).unwrap_or(i64::MAX))
            }
            EvictionPolicy::TinyLfu => Reply::Error(ClientError::IdleTimeNotTracked),
        },
    }
}

/// How Redis would encode a string value it was given whole: `int` if it reads as a
/// 64-bit integer, `embstr` up to 44 bytes, `raw` beyond. (Redis says `raw` for any value
/// built by APPEND or SETRANGE; here the bytes alone decide.)
fn encoding(value: &[u8]) -> &'static str {
    if parse_integer(value).is_some() {
        "int"
    } else if value.len() <= EMBSTR_MAX_LEN {
        "embstr"
    } else {
        "raw"
    }
}

/// MEMORY USAGE: the bytes the key's entry is charged against the memory limit (its
/// allocation, papaya's node and its sampler slots); nil for a missing key.
pub fn memory_usage<'a>(store: &Store, key: &[u8], guard: &Guard<'_>) -> Reply<'a> {
    match store.lookup(key, guard) {
        Some(entry) => Reply::Integer(i64::try_from(entry.charge()).unwrap_or(i64::MAX)),
        None => Reply::NotFound,
    }
}

/// DUMP: the value in [`dump`]'s payload, or nil for a missing key. Not an access.
pub fn dump<'a>(store: &Store, key: &[u8], guard: &Guard<'_>) -> Reply<'a> {
    match store.lookup(key, guard) {
        Some(entry) => Reply::Bytes(dump::encode(entry.value())),
        None => Reply::NotFound,
    }
}

/// RESTORE: stores a DUMP payload's value, with a time to live in milliseconds (0 for
/// none; an absolute Unix time with ABSTTL). Errors in Redis's order: an existing key
/// without REPLACE, then the time to live, then the payload.
pub fn restore<'a>(
    store: &Store,
    (key, ttl_ms, payload): (&[u8], Option<i64>, &[u8]),
    options: RestoreOptions,
    guard: &Guard<'_>,
) -> Reply<'a> {
    if !options.replace && store.lookup(key, guard).is_some() {
        return Reply::Error(ClientError::BusyKey);
    }
    let Some(ttl_ms) = ttl_ms else {
        return Reply::Error(ClientError::NotAnInteger);
    };
    let Ok(ttl_ms) = u64::try_from(ttl_ms) else {
        return Reply::Error(ClientError::InvalidTtl);
    };
    let Some(value) = dump::decode(payload) else {
        return Reply::Error(ClientError::BadPayload);
    };
    let expires_at_ms = match ttl_ms {
        0 => None,
        at if options.absolute => Some(at),
        ms => Some(store.unix_ms().saturating_add(ms)),
    };
    let access = Access {
        idle_ms: options.idle_secs.map(|secs| secs.saturating_mul(1000)),
        reads: options.freq,
    };
    match store.restore(key, (value, expires_at_ms), options.replace, access, guard) {
        Ok(Transfer::Blocked) => Reply::Error(ClientError::BusyKey),
        Ok(_) => Reply::Ok,
        Err(err) => Reply::Refused(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_for_values_set_whole() {
        let cases: &[(&[u8], &str)] = &[
            (b"123", "int"),
            (b"-5", "int"),
            (b"9223372036854775807", "int"),
            (b"99999999999999999999", "embstr"),
            (b"007", "embstr"),
            (b"hello", "embstr"),
            (b"", "embstr"),
            (&[b'x'; 44], "embstr"),
            (&[b'x'; 45], "raw"),
        ];
        for (value, want) in cases {
            assert_eq!(encoding(value), *want, "{value:?}");
        }
    }
}
