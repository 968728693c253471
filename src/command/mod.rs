//! Executes requests against the store. The only module that knows both
//! [`Request`] and [`Store`]; it never fails: a refusal is a [`Reply::Error`].
//!
//! [`strings`] holds the commands on values, [`bits`] those on their bits and [`lcs`]
//! the longest common subsequence of two; [`keys`] those on keys and their expiry,
//! [`keyspace`] those on the keyspace as a whole or on two keys, [`object`] those on a
//! key's entry (OBJECT, MEMORY, DUMP, RESTORE), [`transaction`] MULTI, EXEC and WATCH,
//! [`server`] those about the server, [`persistence`] SAVE, BGSAVE and LASTSAVE, [`clients`] CLIENT, [`config`] CONFIG and
//! [`catalog`] COMMAND. [`registry`], [`stats`] and [`slowlog`] keep the server-wide
//! state they report: the live connections, per-command counters and slow commands.
//! [`glob`] matches Redis's patterns and [`dump`] is DUMP's format.

pub mod bits;
pub mod catalog;
pub mod clients;
pub mod config;
pub mod dump;
pub mod glob;
pub mod keys;
pub mod keyspace;
pub mod latency;
pub mod lcs;
pub mod memcache;
pub mod memcache_meta;
pub mod object;
pub mod persistence;
pub mod registry;
pub mod server;
pub mod slowlog;
pub mod stats;
pub mod strings;
pub mod transaction;

pub use self::persistence::Deferred;
pub use self::server::{ServerInfo, Session};

use crate::protocol::{ClientError, ConfigQuery, Refusal, Reply, Request, SlowLogQuery, TtlOption};
use crate::store::update::Ttl;
use crate::store::Store;
use crate::sync::Guard;

/// What a command may use besides its arguments.
pub struct Context<'c> {
    /// The shared cache.
    pub store: &'c Store,
    /// Server-wide facts and counters, for INFO.
    pub server: &'c ServerInfo,
    /// This connection's state: its id, name and protocol version.
    pub session: &'c mut Session,
    /// What of the store's isolation ([`crate::store::isolation`]) the caller holds.
    pub held: Held,
}

/// What of the store's isolation the caller of [`apply`] holds for the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Nothing: [`apply`] takes what the command needs.
    Nothing,
    /// This thread's shared slot, taken once for a batch of commands: none of them may be
    /// one that [`holds_the_server`].
    Shared,
    /// Everything: the command runs inside EXEC.
    Exclusive,
}

impl<'c> Context<'c> {
    /// What a command on this connection may use.
    pub fn new(store: &'c Store, server: &'c ServerInfo, session: &'c mut Session) -> Self {
        Self {
            store,
            server,
            session,
            held: Held::Nothing,
        }
    }
}

/// Applies one request. A returned value borrows from the request or from the store
/// under `guard`.
pub fn apply<'a>(request: &Request<'a>, cx: &mut Context<'_>, guard: &'a Guard<'_>) -> Reply<'a> {
    if !cx.session.authenticated && cx.server.requires_auth() {
        match request {
            Request::Auth { .. } | Request::Quit | Request::Reset => {}
            Request::Hello { auth: Some(_), .. } => {}
            Request::Hello { .. } => return Reply::Refused(Refusal::HelloNoAuth),
            Request::Exec => return transaction::abort(cx.session, &Refusal::NoAuth),
            _ => return Reply::Refused(Refusal::NoAuth),
        }
    }
    let isolation = cx.store.isolation();
    match cx.held {
        Held::Exclusive => execute(request, cx, guard),
        Held::Shared => {
            debug_assert!(!holds_the_server(request), "would wait for its own slot");
            execute(request, cx, guard)
        }
        Held::Nothing if holds_the_server(request) => {
            let _held = isolation.exclusive();
            execute(request, cx, guard)
        }
        Held::Nothing => {
            let _held = isolation.shared();
            execute(request, cx, guard)
        }
    }
}

/// Whether `request` runs as a transaction does, with every other command held back:
/// WATCH (see [`transaction`]), and the rare commands that change several keys at once
/// and must be seen doing it all or not at all (MSETNX, RENAME, RENAMENX, COPY). MSET,
/// common and often large, sets its keys one by one instead.
pub fn holds_the_server(request: &Request<'_>) -> bool {
    matches!(
        request,
        Request::Watch { .. }
            | Request::MSetNx { .. }
            | Request::Rename { .. }
            | Request::Copy { .. }
    )
}

/// Applies one request under the isolation [`apply`] chose, then marks the watchers of
/// what it modified.
fn execute<'a>(request: &Request<'a>, cx: &mut Context<'_>, guard: &'a Guard<'_>) -> Reply<'a> {
    let store = cx.store;
    let watches = &*cx.server.watches;
    let reply = match *request {
        Request::Get { key } => strings::get(store, key, guard),
        Request::GetRange { key, start, end } => strings::get_range(store, key, start, end, guard),
        Request::Set { key, value } => strings::set(store, key, value),
        Request::SetWith {
            key,
            value,
            condition,
            ttl,
            get,
        } => strings::set_with(store, (key, value), condition, ttl, get, guard),
        Request::SetNx { key, value } => strings::set_nx(store, key, value, guard),
        Request::MGet { keys } => strings::mget(store, keys, guard),
        Request::MSet { pairs } => strings::mset(store, pairs),
        Request::GetDel { key } => strings::get_del(store, key, guard),
        Request::GetEx { key, ttl } => {
            // PERSIST modifies the key only if it had an expiry to remove.
            let persists = ttl == Ok(TtlOption::Persist)
                && watches.any()
                && matches!(store.ttl(key, guard), Ttl::Millis(_));
            let reply = strings::get_ex(store, key, ttl, guard);
            if persists {
                watches.touch(key);
            }
            reply
        }
        Request::IncrBy { key, delta } => strings::incr_by(store, key, delta, guard),
        Request::Append {
            key,
            value,
            max_len,
        } => strings::append(store, (key, value), max_len, guard),
        Request::StrLen { key } => strings::strlen(store, key, guard),
        Request::SetRange {
            key,
            offset,
            value,
            max_len,
        } => strings::set_range(store, (key, value), offset, max_len, guard),
        Request::GetBit { key, offset } => bits::get_bit(store, key, offset, guard),
        Request::SetBit {
            key,
            offset,
            on,
            max_len,
        } => {
            // Redis marks the key only if the value grows or the bit flips.
            let changes = watches.any()
                && store.lookup(key, guard).is_none_or(|entry| {
                    let byte = usize::try_from(offset / 8).unwrap_or(usize::MAX);
                    entry.value().get(byte).is_none_or(|&value| {
                        let mask = 0x80u8 >> (offset % 8);
                        (value & mask != 0) != on
                    })
                });
            let reply = bits::set_bit(store, key, (offset, on), max_len, guard);
            if changes && matches!(reply, Reply::Integer(_)) {
                watches.touch(key);
            }
            reply
        }
        Request::BitCount { key, span } => bits::bit_count(store, key, span, guard),
        Request::IncrByFloat { key, delta } => strings::incr_by_float(store, key, delta, guard),
        Request::MSetNx { pairs } => strings::mset_nx(store, pairs, guard),
        Request::Lcs {
            keys,
            answer,
            max_table_bytes,
        } => lcs::lcs(store, keys, answer, max_table_bytes, guard),
        Request::Wait => server::wait(),
        Request::Delete { key } => keys::delete(store, key),
        Request::DeleteMany { keys } => {
            // Only the keys that existed are modified, and the reply counts, not names,
            // them: find them first (a key another client deletes meanwhile is marked
            // twice, which changes nothing).
            let existed: Vec<&[u8]> = if watches.any() {
                keys.iter()
                    .filter(|key| store.lookup(key, guard).is_some())
                    .collect()
            } else {
                Vec::new()
            };
            let reply = keys::delete_many(store, keys);
            existed.into_iter().for_each(|key| watches.touch(key));
            reply
        }
        Request::Exists { keys } => keys::exists(store, keys, guard),
        Request::Expire {
            key,
            deadline,
            condition,
        } => keys::expire(store, key, deadline, condition, guard),
        Request::ExpireInvalid { cmd } => Reply::Error(ClientError::InvalidExpireTime { cmd }),
        Request::Ttl { key, unit } => keys::ttl(store, key, unit, guard),
        Request::ExpireTime { key, unit } => keys::expire_time(store, key, unit, guard),
        Request::Touch { keys } => keys::touch(store, keys, guard),
        Request::Persist { key } => keys::persist(store, key, guard),
        Request::DbSize => keys::db_size(store),
        Request::Type { key } => keys::kind(store, key, guard),
        Request::Time => server::time(),
        Request::Save => persistence::save(cx),
        Request::BgSave { schedule } => persistence::bgsave(cx, schedule),
        Request::LastSave => persistence::lastsave(cx),
        Request::Flush => {
            if watches.any() {
                watches.touch_where(|key| store.lookup(key, guard).is_some());
            }
            keys::flush(store)
        }
        Request::Keys { pattern } => keyspace::keys(store, pattern, guard),
        Request::Scan {
            cursor,
            pattern,
            count,
            type_name,
        } => keyspace::scan(store, cursor, (pattern, type_name), count, guard),
        Request::RandomKey => keyspace::random_key(store, guard),
        Request::Rename { from, to, replace } => {
            keyspace::rename(store, (from, to), replace, guard)
        }
        Request::Copy { from, to, replace } => keyspace::copy(store, (from, to), replace, guard),
        Request::Object { key, field } => object::object(store, key, field, guard),
        Request::MemoryUsage { key } => object::memory_usage(store, key, guard),
        Request::HelpTopic { topic } => Reply::HelpText(topic),
        Request::Dump { key } => object::dump(store, key, guard),
        Request::Restore {
            key,
            ttl_ms,
            payload,
            options,
        } => object::restore(store, (key, ttl_ms, payload), options, guard),
        Request::Usage => Reply::Usage(store.usage_bytes()),
        Request::Ping => Reply::Pong,
        Request::Echo { message } => Reply::Value(message),
        Request::Quit => Reply::Close,
        Request::Info { sections } => server::info(cx, sections),
        Request::Select { db } => server::select(db),
        Request::ClientSetName { name } => clients::set_name(cx, name),
        Request::ClientGetName => clients::get_name(cx),
        Request::ClientId => clients::id(cx),
        Request::Client(query) => clients::client(cx, query),
        Request::Hello {
            version,
            name,
            auth,
        } => server::hello_with_auth(cx, version, name, auth),
        Request::Command(query) => catalog::command(query),
        Request::Config(ConfigQuery::Get(patterns)) => config::get(cx, patterns),
        Request::Config(ConfigQuery::Set(pairs)) => config::set(cx, pairs),
        Request::Config(ConfigQuery::ResetStat) => config::reset_stats(cx),
        Request::SlowLog(SlowLogQuery::Get(count)) => {
            Reply::SlowLog(cx.server.slow_log.newest(count))
        }
        Request::SlowLog(SlowLogQuery::Len) => {
            Reply::Integer(i64::try_from(cx.server.slow_log.len()).unwrap_or(i64::MAX))
        }
        Request::SlowLog(SlowLogQuery::Reset) => {
            cx.server.slow_log.reset();
            Reply::Ok
        }
        Request::Help(container) => Reply::Help(container),
        Request::Auth { user, password } => server::auth(cx, user, password),
        Request::Multi => transaction::multi(cx),
        // Inside MULTI the connection runs these itself (see `transaction::intercept`).
        Request::Exec => Reply::Error(ClientError::ExecWithoutMulti),
        Request::Discard => Reply::Error(ClientError::DiscardWithoutMulti),
        Request::Watch { keys } => transaction::watch(cx, keys, guard),
        Request::Unwatch => {
            cx.session.unwatch();
            Reply::Ok
        }
        Request::Reset => server::reset(cx),
        Request::Memcache(request) => memcache::apply(request, cx, guard),
    };
    if watches.any() {
        transaction::touch_modified(watches, request, &reply);
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn run<'a>(store: &Store, request: Request<'a>, guard: &'a Guard<'_>) -> Reply<'a> {
        let server = ServerInfo::default();
        let mut session = server.session(0);
        let mut cx = Context::new(store, &server, &mut session);
        apply(&request, &mut cx, guard)
    }

    #[test]
    fn the_quick_start_session() {
        let store = Store::new(1024);
        let guard = store.guard();
        let run = |request| run(&store, request, &guard);
        assert_eq!(
            run(Request::Set {
                key: b"user",
                value: b"alice"
            }),
            Reply::Ok
        );
        assert_eq!(run(Request::Get { key: b"user" }), Reply::Value(b"alice"));
        assert_eq!(run(Request::Usage), Reply::Usage(9));
        assert_eq!(run(Request::Delete { key: b"user" }), Reply::Deleted(1));
        assert_eq!(run(Request::Delete { key: b"user" }), Reply::Deleted(0));
        assert_eq!(run(Request::Get { key: b"user" }), Reply::NotFound);
        assert_eq!(run(Request::Ping), Reply::Pong);
        assert_eq!(run(Request::Quit), Reply::Close);
    }

    #[test]
    fn a_store_refusal_is_an_error_reply() {
        let store = Store::new(4);
        let guard = store.guard();
        assert_eq!(
            run(
                &store,
                Request::Set {
                    key: b"k",
                    value: b"long"
                },
                &guard
            ),
            Reply::Refused(Refusal::Store(StoreError::LargerThanLimit { max_bytes: 4 }))
        );
    }
}
