//! Commands on keys: DEL, EXISTS, EXPIRE and friends, TTL, PERSIST, DBSIZE, FLUSHDB.

use crate::protocol::{Args, Deadline, Reply, TimeUnit};
use crate::store::update::{ExpireIf, Ttl};
use crate::store::Store;
use crate::sync::Guard;

/// DELETE (one key).
pub fn delete<'a>(store: &Store, key: &[u8]) -> Reply<'a> {
    tracing::debug!(key_len = key.len(), "delete");
    Reply::Deleted(u64::from(store.delete(key)))
}

/// DEL and UNLINK: how many of the keys existed.
pub fn delete_many<'a>(store: &Store, keys: Args<'_>) -> Reply<'a> {
    Reply::Deleted(keys.iter().map(|key| u64::from(store.delete(key))).sum())
}

/// EXISTS: a key named twice counts twice.
pub fn exists<'a>(store: &Store, keys: Args<'_>, guard: &Guard<'_>) -> Reply<'a> {
    let found = keys.iter().filter(|key| store.lookup(key, guard).is_some());
    Reply::Integer(i64::try_from(found.count()).unwrap_or(i64::MAX))
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, with NX, XX, GT or LT.
pub fn expire<'a>(
    store: &Store,
    key: &[u8],
    deadline: Deadline,
    condition: ExpireIf,
    guard: &Guard<'_>,
) -> Reply<'a> {
    let at_ms = match deadline {
        Deadline::In(ms) => store.unix_ms().saturating_add(ms),
        Deadline::At(ms) => ms,
    };
    Reply::Expired(store.expire_at_if(key, at_ms, condition, guard))
}

/// EXPIRETIME and PEXPIRETIME: the Unix time the key expires at, in seconds (rounded to
/// the nearest, as Redis does) or milliseconds; -2 for a missing key, -1 for one without
/// an expiry.
pub fn expire_time<'a>(store: &Store, key: &[u8], unit: TimeUnit, guard: &Guard<'_>) -> Reply<'a> {
    Reply::Integer(
        match store.lookup(key, guard).map(|entry| entry.expires_at_ms()) {
            None => -2,
            Some(None) => -1,
            Some(Some(at_ms)) => {
                let at = match unit {
                    TimeUnit::Seconds => at_ms.saturating_add(500) / 1000,
                    TimeUnit::Millis => at_ms,
                };
                i64::try_from(at).unwrap_or(i64::MAX)
            }
        },
    )
}

/// TOUCH: how many of the keys exist, each found one read as GET reads it (an access for
/// eviction, and a hit), without its value.
pub fn touch<'a>(store: &Store, keys: Args<'_>, guard: &Guard<'_>) -> Reply<'a> {
    let found = keys.iter().filter(|key| store.get(key, guard).is_some());
    Reply::Integer(i64::try_from(found.count()).unwrap_or(i64::MAX))
}

/// TYPE: every value here is a string; a missing key is `none`. Not an access, as in
/// Redis.
pub fn kind<'a>(store: &Store, key: &[u8], guard: &Guard<'_>) -> Reply<'a> {
    Reply::Status(match store.lookup(key, guard) {
        Some(_) => "string",
        None => "none",
    })
}

/// TTL and PTTL: -2 for a missing key, -1 for one without an expiry.
pub fn ttl<'a>(store: &Store, key: &[u8], unit: TimeUnit, guard: &Guard<'_>) -> Reply<'a> {
    Reply::Ttl(match store.ttl(key, guard) {
        Ttl::Missing => -2,
        Ttl::Forever => -1,
        Ttl::Millis(ms) => {
            let ms = i64::try_from(ms).unwrap_or(i64::MAX);
            match unit {
                // Rounded to the nearest second, as Redis does.
                TimeUnit::Seconds => ms.saturating_add(500) / 1000,
                TimeUnit::Millis => ms,
            }
        }
    })
}

/// PERSIST.
pub fn persist<'a>(store: &Store, key: &[u8], guard: &Guard<'_>) -> Reply<'a> {
    let removed = store.persist(key, guard);
    Reply::Persisted {
        exists: removed || store.lookup(key, guard).is_some(),
        removed,
    }
}

/// DBSIZE.
pub fn db_size<'a>(store: &Store) -> Reply<'a> {
    Reply::Integer(i64::try_from(store.len()).unwrap_or(i64::MAX))
}

/// FLUSHDB and FLUSHALL.
pub fn flush<'a>(store: &Store) -> Reply<'a> {
    let removed = store.flush();
    tracing::debug!(removed, "flushed");
    Reply::Ok
}
