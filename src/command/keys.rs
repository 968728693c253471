//! Commands on keys: DEL, EXISTS, EXPIRE and friends, TTL, PERSIST, DBSIZE, FLUSHDB.

use crate::protocol::{ClientError, Reply, Request, TimeUnit};
use crate::store::update::{ExpiryChange, Ttl};
use crate::store::Store;
use crate::sync::Guard;

/// Applies a command on keys.
pub fn apply<'a>(request: Request<'a>, store: &Store, guard: &'a Guard<'_>) -> Reply<'a> {
    match request {
        Request::Delete { key } => {
            tracing::debug!(key_len = key.len(), "delete");
            Reply::Deleted(u64::from(store.delete(key)))
        }
        Request::DeleteMany { keys } => {
            Reply::Deleted(keys.iter().map(|key| u64::from(store.delete(key))).sum())
        }
        Request::Exists { keys } => {
            let found = keys.iter().filter(|key| store.lookup(key, guard).is_some());
            Reply::Integer(i64::try_from(found.count()).unwrap_or(i64::MAX))
        }
        Request::Expire { key, ttl } => {
            match super::strings::expiry_change(store, ttl) {
                Some(ExpiryChange::At(at_ms)) => Reply::Expired(store.expire_at(key, at_ms, guard)),
                // The parser only gives relative or absolute times.
                _ => Reply::Error(ClientError::Syntax),
            }
        }
        Request::ExpireInvalid { cmd } => Reply::Error(ClientError::InvalidExpireTime { cmd }),
        Request::Ttl { key, unit } => Reply::Ttl(match store.ttl(key, guard) {
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
        }),
        Request::Persist { key } => {
            let removed = store.persist(key, guard);
            Reply::Persisted {
                exists: removed || store.lookup(key, guard).is_some(),
                removed,
            }
        }
        Request::DbSize => Reply::Integer(i64::try_from(store.len()).unwrap_or(i64::MAX)),
        Request::Flush => {
            let removed = store.flush();
            tracing::debug!(removed, "flushed");
            Reply::Ok
        }
        _ => Reply::Error(ClientError::Syntax),
    }
}
