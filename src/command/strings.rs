//! Commands on values: GET, SET and its variants, MGET, MSET, GETDEL, GETEX, INCR and
//! DECR, APPEND, STRLEN.

use crate::protocol::{Reply, Request, SetCondition, TtlOption};
use crate::store::update::{Condition, ExpiryChange, SetOptions};
use crate::store::Store;
use crate::sync::Guard;

/// Applies a command on values.
pub fn apply<'a>(request: Request<'a>, store: &Store, guard: &'a Guard<'_>) -> Reply<'a> {
    match request {
        Request::Get { key } => {
            tracing::debug!(key_len = key.len(), "get");
            store.get(key, guard).map_or(Reply::NotFound, Reply::Value)
        }
        Request::Set { key, value } => {
            tracing::debug!(key_len = key.len(), value_len = value.len(), "set");
            match store.set(key, value) {
                Ok(()) => Reply::Ok,
                Err(err) => Reply::Refused(err.into()),
            }
        }
        Request::SetWith {
            key,
            value,
            condition,
            ttl,
            get,
        } => {
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
        Request::SetNx { key, value } => {
            let options = SetOptions {
                condition: Condition::IfAbsent,
                expiry: ExpiryChange::Clear,
            };
            match store.set_with(key, value, options, guard) {
                Ok(outcome) => Reply::Integer(i64::from(outcome.stored)),
                Err(err) => Reply::Refused(err.into()),
            }
        }
        Request::MGet { keys } => {
            Reply::Values(keys.iter().map(|key| store.get(key, guard)).collect())
        }
        Request::MSet { pairs } => {
            let mut pairs = pairs.iter();
            while let (Some(key), Some(value)) = (pairs.next(), pairs.next()) {
                if let Err(err) = store.set(key, value) {
                    return Reply::Refused(err.into());
                }
            }
            Reply::Ok
        }
        Request::GetDel { key } => store.take(key, guard).map_or(Reply::NotFound, Reply::Value),
        Request::GetEx { key, ttl } => store
            .get_and_expire(key, expiry_change(store, ttl), guard)
            .map_or(Reply::NotFound, Reply::Value),
        Request::IncrBy { key, delta } => match store.increment(key, delta, guard) {
            Ok(n) => Reply::Integer(n),
            Err(err) => Reply::Refused(err.into()),
        },
        Request::Append {
            key,
            value,
            max_len,
        } => match store.append(key, value, max_len, guard) {
            Ok(len) => Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX)),
            Err(err) => Reply::Refused(err.into()),
        },
        Request::StrLen { key } => {
            let len = store
                .lookup(key, guard)
                .map_or(0, |entry| entry.value().len());
            Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX))
        }
        _ => Reply::Error(crate::protocol::ClientError::Syntax),
    }
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
