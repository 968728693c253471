//! Runs memcached's meta commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`) against the
//! store: each answers a return code and the flags its request asked for, and a quiet
//! (`q`) request leaves out its nominal answer, so a pipeline ending in `mn` answers only
//! what went wrong. `mg`'s `N` and `R` and `md`/`ms`'s `I` hand out recache tokens and
//! mark items stale through the store's [`Fetch`] and [`Storage`].

use super::memcache::{expiry, modified, refused, Count};
use super::Context;
use crate::protocol::memcache::{
    ItemFacts, McReply, McRequest, MetaCode, MetaFlags, MetaKey, MetaReply, MetaValue, Status,
    MAX_DECODED_KEY_LEN,
};
use crate::protocol::Reply;
use crate::store::memcache::{Arith, Fetch, Fetched, Removed, Storage, StoreMode, Stored};
use crate::store::update::ExpiryChange;
use crate::store::{Entry, StoreError};
use crate::sync::Guard;

/// Runs one meta request (anything else answers `ERROR`).
pub fn apply<'a>(request: McRequest<'a>, cx: &mut Context<'_>, guard: &'a Guard<'_>) -> Reply<'a> {
    match request {
        McRequest::MetaGet { key, flags } => get(cx, key, flags, guard),
        McRequest::MetaSet { key, value, flags } => set(cx, key, value, flags, guard),
        McRequest::MetaDelete { key, flags } => delete(cx, key, flags, guard),
        McRequest::MetaArith { key, flags } => arith(cx, key, flags, guard),
        McRequest::MetaNoop => Reply::Memcache(McReply::MetaNoop),
        McRequest::MetaDebug { key } => debug(cx, key, guard),
        _ => Reply::Error(crate::protocol::memcache::McError::UNKNOWN.into()),
    }
}

/// Seconds until `expires_at_ms` (rounded up, as memcached's whole-second clock shows a
/// fresh TTL), -1 for never.
fn ttl_secs(expires_at_ms: Option<u64>, now_ms: u64) -> i64 {
    match expires_at_ms {
        None => -1,
        Some(at) => i64::try_from(at.saturating_sub(now_ms).div_ceil(1000)).unwrap_or(i64::MAX),
    }
}

/// What a fetched item shows in a reply's flags.
fn facts(fetched: &Fetched<'_>, now_ms: u64) -> ItemFacts {
    let item = &fetched.item;
    ItemFacts {
        flags: item.flags,
        size: u32::try_from(item.value.len()).unwrap_or(u32::MAX),
        cas: item.cas,
        ttl_secs: ttl_secs(item.expires_at_ms, now_ms),
        idle_secs: u32::try_from(item.idle_ms / 1000).unwrap_or(u32::MAX),
        hit_before: item.marks.fetched,
        token_sent: item.marks.won,
        stale: item.marks.stale,
        won: fetched.won,
    }
}

/// The expiry an exptime stands for, if it is given.
fn expiry_of(exptime: Option<i32>, now_ms: u64) -> ExpiryChange {
    exptime.map_or(ExpiryChange::Keep, |exptime| expiry(exptime, now_ms))
}

/// What `mg`'s flags ask of the item: `T`, `N` (a created item takes whichever of `N`
/// and `T` came last, as in memcached), `R` (against `T`'s exptime if `T` came first),
/// `u`.
fn fetch_of(flags: &MetaFlags<'_>, now_ms: u64) -> Fetch {
    let touch = expiry_of(flags.ttl, now_ms);
    let vivify = flags.vivify.map(|exptime| match flags.ttl_after_vivify {
        true => touch,
        false => expiry(exptime, now_ms),
    });
    let recache_at_ms = match expiry_of(flags.recache, now_ms) {
        ExpiryChange::At(at) => Some(at),
        // R0 never wins: memcached compares with an exptime of 0.
        ExpiryChange::Keep | ExpiryChange::Clear => None,
    };
    Fetch {
        touch,
        vivify,
        recache_at_ms,
        recache_after_touch: flags.ttl_before_recache,
        bump: !flags.no_bump,
        can_win: true,
    }
}

/// A meta reply, or nothing if it is the nominal answer of a quiet request.
fn reply<'a>(
    (code, nominal): (MetaCode, bool),
    value: MetaValue<'a>,
    facts: Option<ItemFacts>,
    (key, flags): (MetaKey<'a>, &MetaFlags<'a>),
) -> Reply<'a> {
    if nominal && flags.quiet {
        return Reply::Silent;
    }
    Reply::Memcache(McReply::Meta(MetaReply {
        code,
        value,
        facts,
        key,
        asked: flags.asked,
    }))
}

/// `mg`: a hit is `VA` with the value (`v`) or `HD`; a miss `EN`. With `T`, a touch;
/// with `N`, a miss creates the item; `W`, `X` and `Z` tell of its recache token.
fn get<'a>(
    cx: &Context<'_>,
    key: MetaKey<'a>,
    flags: MetaFlags<'a>,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let store = cx.store;
    let mut buf = [0; MAX_DECODED_KEY_LEN];
    let name = key.key(&mut buf);
    let now_ms = store.unix_ms();
    let fetched = match store.fetch_item(name, fetch_of(&flags, now_ms), guard) {
        Ok(fetched) => fetched,
        Err(err) => return Reply::Memcache(McReply::Status(refused(&err))),
    };
    cx.server
        .memcache
        .count_read(flags.ttl.is_some(), fetched.is_some());
    let Some(fetched) = fetched else {
        return reply((MetaCode::Miss, true), MetaValue::None, None, (key, &flags));
    };
    if flags.ttl.is_some() || fetched.created {
        modified(cx, name);
    }
    let value = match flags.value {
        true => MetaValue::Bytes(fetched.item.value),
        false => MetaValue::None,
    };
    reply(
        (MetaCode::Done, false),
        value,
        Some(facts(&fetched, now_ms)),
        (key, &flags),
    )
}

/// `ms`: `HD` when stored; `NS`, `EX` or `NF` as the mode and `C` decide.
fn set<'a>(
    cx: &Context<'_>,
    key: MetaKey<'a>,
    value: &'a [u8],
    flags: MetaFlags<'a>,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let store = cx.store;
    let mut buf = [0; MAX_DECODED_KEY_LEN];
    let name = key.key(&mut buf);
    let mode = match flags.mode {
        Some(b'E') => StoreMode::Add,
        Some(b'A') => StoreMode::Append,
        Some(b'P') => StoreMode::Prepend,
        Some(b'R') => StoreMode::Replace,
        _ => StoreMode::Set,
    };
    let expiry = match flags.ttl {
        Some(exptime) => expiry(exptime, store.unix_ms()),
        None => ExpiryChange::Clear,
    };
    let storage = Storage {
        mode,
        flags: flags.client_flags,
        expiry,
        compare_cas: flags.compare_cas,
        invalidate: flags.invalidate,
        max_len: cx.server.memcache.max_value_len(),
    };
    let outcome = store.store_item_with(name, value, storage, guard);
    let cas_mode = matches!(mode, StoreMode::Set | StoreMode::Replace);
    cx.server
        .memcache
        .count_store(&outcome, flags.compare_cas.is_some() && cas_mode);
    let (code, cas) = match outcome {
        Ok(Stored::Stored { cas }) => {
            modified(cx, name);
            (MetaCode::Done, cas)
        }
        Ok(Stored::NotStored) => (MetaCode::NotStored, 0),
        Ok(Stored::Exists) => (MetaCode::Exists, 0),
        Ok(Stored::NotFound) => (MetaCode::NotFound, 0),
        // An append or prepend past the value limit: `NS`, as memcached answers.
        Err(StoreError::TooLong { .. }) => (MetaCode::NotStored, 0),
        Err(err) => return Reply::Memcache(McReply::Status(refused(&err))),
    };
    // memcached answers `c` with the new CAS, or 0 when nothing was stored.
    let facts = ItemFacts {
        cas,
        ..ItemFacts::default()
    };
    reply(
        (code, code == MetaCode::Done),
        MetaValue::None,
        Some(facts),
        (key, &flags),
    )
}

/// `md`: `HD` when deleted (or, with `I`, marked stale, `T` setting a new TTL), `NF` if
/// absent, `EX` if `C` did not match.
fn delete<'a>(
    cx: &Context<'_>,
    key: MetaKey<'a>,
    flags: MetaFlags<'a>,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let mut buf = [0; MAX_DECODED_KEY_LEN];
    let name = key.key(&mut buf);
    let state = &cx.server.memcache;
    let removed = match flags.invalidate {
        true => {
            let expiry = expiry_of(flags.ttl, cx.store.unix_ms());
            match cx
                .store
                .invalidate_item(name, flags.compare_cas, expiry, guard)
            {
                Ok(removed) => removed,
                Err(err) => return Reply::Memcache(McReply::Status(refused(&err))),
            }
        }
        false => cx.store.delete_item(name, flags.compare_cas, guard),
    };
    let code = match removed {
        Removed::Deleted => {
            state.count(Count::DeleteHits);
            modified(cx, name);
            MetaCode::Done
        }
        // memcached counts no delete hit for an item marked stale.
        Removed::Invalidated => {
            modified(cx, name);
            MetaCode::Done
        }
        Removed::NotFound => {
            state.count(Count::DeleteMisses);
            MetaCode::NotFound
        }
        Removed::Exists => {
            state.count(Count::DeleteMisses);
            MetaCode::Exists
        }
    };
    reply(
        (code, code == MetaCode::Done),
        MetaValue::None,
        None,
        (key, &flags),
    )
}

/// `ma`: increments (or decrements, `MD`) by `D`; with `N`, a missing key is created at
/// `J`. `HD`, or `VA` with the new value (`v`); `NF`, `NS` or `EX` otherwise.
fn arith<'a>(
    cx: &Context<'_>,
    key: MetaKey<'a>,
    flags: MetaFlags<'a>,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    let store = cx.store;
    let mut buf = [0; MAX_DECODED_KEY_LEN];
    let name = key.key(&mut buf);
    let incr = !matches!(flags.mode, Some(b'D' | b'-'));
    let now_ms = store.unix_ms();
    let outcome = store.arith(name, incr, flags.delta, flags.compare_cas, guard);
    let (value, cas) = match outcome {
        Ok(Arith::Value { value, cas }) => {
            cx.server.memcache.count_arith(incr, true);
            if let Some(exptime) = flags.ttl {
                store.touch_item(name, expiry(exptime, now_ms), guard);
            }
            (value, cas)
        }
        Ok(Arith::NotFound) => {
            let Some(exptime) = flags.vivify else {
                cx.server.memcache.count_arith(incr, false);
                let code = (MetaCode::NotFound, false);
                return reply(code, MetaValue::None, None, (key, &flags));
            };
            // Created at the initial value, as memcached's autovivify does.
            let initial = flags.initial.to_string();
            let expiry = expiry(exptime, now_ms);
            match store.store_item(
                name,
                initial.as_bytes(),
                cx.server.memcache.max_value_len(),
                StoreMode::Add,
                0,
                expiry,
                None,
                guard,
            ) {
                Ok(Stored::Stored { cas }) => (flags.initial, cas),
                Ok(_) => {
                    let code = (MetaCode::NotStored, false);
                    return reply(code, MetaValue::None, None, (key, &flags));
                }
                Err(err) => return Reply::Memcache(McReply::Status(refused(&err))),
            }
        }
        Ok(Arith::Exists) => {
            let code = (MetaCode::Exists, false);
            return reply(code, MetaValue::None, None, (key, &flags));
        }
        Ok(Arith::NonNumeric) => return Reply::Memcache(McReply::Status(Status::NonNumeric)),
        Err(err) => return Reply::Memcache(McReply::Status(refused(&err))),
    };
    modified(cx, name);
    let expires_at_ms = store.lookup(name, guard).and_then(Entry::expires_at_ms);
    let facts = ItemFacts {
        cas,
        ttl_secs: ttl_secs(expires_at_ms, now_ms),
        ..ItemFacts::default()
    };
    let value = match flags.value {
        true => MetaValue::Number(value),
        false => MetaValue::None,
    };
    reply((MetaCode::Done, true), value, Some(facts), (key, &flags))
}

/// `me`: the item's metadata in one line, without counting a read; `EN` if absent.
fn debug<'a>(cx: &Context<'_>, key: MetaKey<'a>, guard: &'a Guard<'_>) -> Reply<'a> {
    cx.server.memcache.count(Count::CmdMeta);
    let mut buf = [0; MAX_DECODED_KEY_LEN];
    let name = key.key(&mut buf);
    let found = cx
        .store
        .lookup_meta(name, guard)
        .map(|(entry, meta)| ItemFacts {
            flags: entry.flags(),
            size: u32::try_from(entry.value().len()).unwrap_or(u32::MAX),
            cas: entry.cas(),
            ttl_secs: ttl_secs(entry.expires_at_ms(), cx.store.unix_ms()),
            idle_secs: u32::try_from(cx.store.idle_ms(meta) / 1000).unwrap_or(u32::MAX),
            hit_before: entry.marks().fetched,
            ..ItemFacts::default()
        });
    Reply::Memcache(McReply::Debug(found.map(|facts| (key.token, facts))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_seconds() {
        assert_eq!(ttl_secs(None, 5), -1);
        assert_eq!(ttl_secs(Some(60_000), 1), 60);
        assert_eq!(ttl_secs(Some(60_000), 60_000), 0);
        assert_eq!(ttl_secs(Some(1), 2), 0);
    }
}
