//! The arguments of RESP's subcommands that take more than a fixed list: CLIENT LIST,
//! KILL, REPLY and SETINFO, COMMAND LIST, SLOWLOG GET. Checked in the order Redis checks
//! them, with its error texts. Knows the syntax, never the store.

use super::resp_commands::Command;
use super::{
    ClientAttr, ClientError, ClientQuery, ClientSelection, CommandQuery, KillFilter, ListFilter,
    ReplyMode, Request, SlowLogQuery,
};
use crate::decimal::parse_integer;

/// How many entries SLOWLOG GET returns without a count, as in Redis.
const DEFAULT_SLOWLOG_COUNT: usize = 10;

/// The kinds of client CLIENT LIST and KILL filter by, as Redis names them: only
/// `normal` clients exist here.
enum ClientType {
    /// Every client.
    Normal,
    /// Replicas, masters and pub/sub clients: none here.
    Other,
}

/// A client type by its name (any case).
fn client_type(name: &[u8]) -> Result<ClientType, ClientError> {
    let is = |word: &str| name.eq_ignore_ascii_case(word.as_bytes());
    if is("normal") {
        Ok(ClientType::Normal)
    } else if is("master") || is("replica") || is("slave") || is("pubsub") {
        Ok(ClientType::Other)
    } else {
        Err(ClientError::UnknownClientType(lossy(name)))
    }
}

/// `ON` or `OFF`, any case.
pub(super) fn on_off(word: &[u8]) -> Result<bool, ClientError> {
    if word.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if word.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(ClientError::Syntax)
    }
}

/// `CLIENT LIST [TYPE type | ID id...]`.
pub(super) fn client_list<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let n = c.all.len();
    let option = c.arg(2);
    let selection = if n == 2 {
        ClientSelection::All
    } else if n == 4 && option.eq_ignore_ascii_case(b"type") {
        match client_type(c.arg(3))? {
            ClientType::Normal => ClientSelection::All,
            ClientType::Other => ClientSelection::Nobody,
        }
    } else if n > 3 && option.eq_ignore_ascii_case(b"id") {
        let ids = c.rest(3);
        if ids.iter().any(|id| parse_integer(id).is_none()) {
            return Err(ClientError::InvalidClientId);
        }
        ClientSelection::Ids(ids)
    } else {
        return Err(ClientError::Syntax);
    };
    Ok(Request::Client(ClientQuery::List(selection)))
}

/// `CLIENT KILL addr`, or `CLIENT KILL <filter> <value>...` with ID, TYPE, ADDR, LADDR,
/// USER and SKIPME, each checked as it comes.
pub(super) fn client_kill<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let n = c.all.len();
    if n == 3 {
        return Ok(Request::Client(ClientQuery::Kill(KillFilter {
            old_form: true,
            addr: Some(c.arg(2)),
            ..KillFilter::default()
        })));
    }
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    let mut i = 2;
    while i < n {
        if i + 1 >= n {
            return Err(ClientError::Syntax);
        }
        let (option, value) = (c.arg(i), c.arg(i + 1));
        let is = |word: &str| option.eq_ignore_ascii_case(word.as_bytes());
        if is("id") {
            let id = parse_integer(value)
                .and_then(|id| u64::try_from(id).ok())
                .filter(|&id| id > 0)
                .ok_or(ClientError::ClientIdNotPositive)?;
            filter.id = Some(id);
        } else if is("type") {
            filter.nobody = matches!(client_type(value)?, ClientType::Other);
        } else if is("addr") {
            filter.addr = Some(value);
        } else if is("laddr") {
            filter.laddr = Some(value);
        } else if is("user") {
            // Only the default user exists, and every connection is it.
            if value != b"default" {
                return Err(ClientError::NoSuchUser(lossy(value)));
            }
        } else if is("skipme") {
            filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                true
            } else if value.eq_ignore_ascii_case(b"no") {
                false
            } else {
                return Err(ClientError::Syntax);
            };
        } else {
            return Err(ClientError::Syntax);
        }
        i += 2;
    }
    Ok(Request::Client(ClientQuery::Kill(filter)))
}

/// `CLIENT REPLY ON|OFF|SKIP`.
pub(super) fn client_reply<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let mode = c.arg(2);
    let mode = if mode.eq_ignore_ascii_case(b"on") {
        ReplyMode::On
    } else if mode.eq_ignore_ascii_case(b"off") {
        ReplyMode::Off
    } else if mode.eq_ignore_ascii_case(b"skip") {
        ReplyMode::Skip
    } else {
        return Err(ClientError::Syntax);
    };
    Ok(Request::Client(ClientQuery::Reply(mode)))
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value`: a value CLIENT LIST can show, as a name.
pub(super) fn client_set_info<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let (attr, value) = (c.arg(2), c.arg(3));
    let attr_kind = if attr.eq_ignore_ascii_case(b"lib-name") {
        ClientAttr::LibName
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        ClientAttr::LibVersion
    } else {
        return Err(ClientError::UnrecognizedOption(lossy(attr)));
    };
    if value.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(ClientError::InvalidClientAttr(lossy(attr)));
    }
    Ok(Request::Client(ClientQuery::SetInfo {
        attr: attr_kind,
        value,
    }))
}

/// `COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN glob]`: one filter, last.
pub(super) fn command_list<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let filter = match c.all.len() {
        2 => None,
        5 if c.arg(2).eq_ignore_ascii_case(b"filterby") => {
            let (kind, value) = (c.arg(3), c.arg(4));
            Some(if kind.eq_ignore_ascii_case(b"module") {
                ListFilter::Module(value)
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                ListFilter::AclCategory(value)
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                ListFilter::Pattern(value)
            } else {
                return Err(ClientError::Syntax);
            })
        }
        _ => return Err(ClientError::Syntax),
    };
    Ok(Request::Command(CommandQuery::List(filter)))
}

/// `SLOWLOG GET [count]`: 10 entries by default, all with -1.
pub(super) fn slowlog_get<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let count = match c.all.len() {
        2 => Some(DEFAULT_SLOWLOG_COUNT),
        3 => match parse_integer(c.arg(2)) {
            Some(-1) => None,
            Some(count) => Some(usize::try_from(count).map_err(|_| ClientError::SlowLogCount)?),
            None => return Err(ClientError::SlowLogCount),
        },
        _ => {
            return Err(ClientError::SubcommandSyntax {
                sub: lossy(c.arg(1)),
                cmd: c.container.map_or(c.name, |container| container.name),
            })
        }
    };
    Ok(Request::SlowLog(SlowLogQuery::Get(count)))
}

/// Client bytes for an error text: cut to 128 bytes (Redis's `%.128s` where it has one),
/// CR and LF as spaces, other bytes that are not UTF-8 as U+FFFD.
fn lossy(bytes: &[u8]) -> String {
    let bytes = bytes.get(..128).unwrap_or(bytes);
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}
