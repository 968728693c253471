//! CLIENT and its subcommands: this connection's name, id and reply mode, and the other
//! connections, read from and closed through the server's [`Registry`].
//!
//! [`Registry`]: super::registry::Registry

use std::sync::Arc;
use std::time::Instant;

use super::registry::ClientEntry;
use super::Context;
use crate::decimal::parse_integer;
use crate::protocol::{
    ClientAttr, ClientError, ClientQuery, ClientSelection, KillFilter, Reply, ReplyMode,
};

/// The subcommands beyond ID, GETNAME and SETNAME.
pub fn client<'a>(cx: &mut Context<'_>, query: ClientQuery<'_>) -> Reply<'a> {
    match query {
        ClientQuery::List(selection) => list(cx, selection),
        ClientQuery::Info => {
            let now = Instant::now();
            Reply::Clients(
                this_client(cx)
                    .map(|entry| entry.report(now))
                    .into_iter()
                    .collect(),
            )
        }
        ClientQuery::Kill(filter) => kill(cx, filter),
        ClientQuery::Reply(mode) => {
            cx.session.set_reply_mode(mode);
            match mode {
                ReplyMode::On => Reply::Ok,
                // Neither is answered.
                ReplyMode::Off | ReplyMode::Skip => Reply::Silent,
            }
        }
        ClientQuery::NoEvict(on) => {
            if let Some(entry) = this_client(cx) {
                entry.set_no_evict(on);
            }
            Reply::Ok
        }
        // Reads here always count as accesses, as Redis's default mode does.
        ClientQuery::NoTouch(_) => Reply::Ok,
        ClientQuery::SetInfo { attr, value } => {
            if let Some(entry) = this_client(cx) {
                match attr {
                    ClientAttr::LibName => entry.set_lib_name(value),
                    ClientAttr::LibVersion => entry.set_lib_version(value),
                }
            }
            Reply::Ok
        }
    }
}

/// This connection's entry in the registry (none for a connection that is not served
/// by a server, as in unit tests).
pub fn this_client(cx: &Context<'_>) -> Option<Arc<ClientEntry>> {
    cx.server.clients.get(cx.session.id)
}

/// CLIENT SETNAME.
pub fn set_name<'a>(cx: &mut Context<'_>, name: &[u8]) -> Reply<'a> {
    if name.iter().any(|&b| b <= b' ' || b > b'~') {
        return Reply::Error(ClientError::InvalidClientName);
    }
    name_session(cx, name);
    Reply::Ok
}

/// Names the connection (empty: unnames it), where CLIENT GETNAME and CLIENT LIST see it.
pub fn name_session(cx: &mut Context<'_>, name: &[u8]) {
    cx.session.name = (!name.is_empty()).then(|| name.to_vec());
    if let Some(entry) = this_client(cx) {
        entry.set_name(name);
    }
}

/// CLIENT GETNAME.
pub fn get_name<'a>(cx: &Context<'_>) -> Reply<'a> {
    match &cx.session.name {
        Some(name) => Reply::Text(String::from_utf8_lossy(name).into_owned()),
        None => Reply::NotFound,
    }
}

/// CLIENT ID.
pub fn id<'a>(cx: &Context<'_>) -> Reply<'a> {
    Reply::Integer(i64::try_from(cx.session.id).unwrap_or(i64::MAX))
}

/// CLIENT LIST: every connection's line, or those asked for by id, in that order.
fn list<'a>(cx: &Context<'_>, selection: ClientSelection<'_>) -> Reply<'a> {
    let now = Instant::now();
    let registry = &cx.server.clients;
    let entries = match selection {
        ClientSelection::All => registry.all(),
        ClientSelection::Nobody => Vec::new(),
        ClientSelection::Ids(ids) => ids
            .iter()
            .filter_map(parse_integer)
            .filter_map(|id| registry.get(u64::try_from(id).ok()?))
            .collect(),
    };
    Reply::Clients(entries.iter().map(|entry| entry.report(now)).collect())
}

/// CLIENT KILL: closes every connection that matches the filter. The new form answers
/// how many; the old form (an address alone) answers OK, or an error if none matched,
/// and may close this connection too, once its reply is sent.
fn kill<'a>(cx: &mut Context<'_>, filter: KillFilter<'_>) -> Reply<'a> {
    let matches = |entry: &ClientEntry| {
        !filter.nobody
            && filter
                .addr
                .is_none_or(|addr| addr == entry.peer.addr.as_bytes())
            && filter
                .laddr
                .is_none_or(|laddr| laddr == entry.peer.local.as_bytes())
            && filter.id.is_none_or(|id| id == entry.id)
            && !(filter.skip_me && entry.id == cx.session.id)
    };
    let mut killed: i64 = 0;
    let mut this_one = false;
    for entry in cx.server.clients.all() {
        if matches(&entry) {
            // Another connection closes at once; this one once its reply is sent.
            if entry.id == cx.session.id {
                this_one = true;
            } else {
                entry.kill();
            }
            killed = killed.saturating_add(1);
        }
    }
    if this_one {
        cx.session.close_after_reply();
    }
    match (filter.old_form, killed) {
        (true, 0) => Reply::Error(ClientError::NoSuchClient),
        (true, _) => Reply::Ok,
        (false, killed) => Reply::Integer(killed),
    }
}
