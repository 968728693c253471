//! RESP's command table: from a framed command's arguments to a [`Request`], with Redis's
//! arity rules and its error texts. Knows the syntax, never the store.

use std::ops::Range;

use crate::decimal::parse_integer;
use crate::store::update::ExpireIf;

use super::command_table::{self as table, CommandSpec};
use super::resp_strings;
use super::resp_subcommands as sub;
use super::{
    resp_keyspace, Args, Call, ClientError, ClientQuery, CommandQuery, ConfigQuery, Deadline,
    LateError, Request, SetCondition, SlowLogQuery, TimeUnit, TtlOption, MAX_RELATIVE_TTL_MS,
};

/// Bytes of an unknown subcommand that its error echoes, as Redis's `%.128s`.
const MAX_SUBCOMMAND_ECHO: usize = 128;

/// The commands RESP knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Get,
    Set,
    SetEx,
    PSetEx,
    SetNx,
    GetSet,
    GetRange,
    GetDel,
    GetEx,
    MGet,
    MSet,
    Del,
    Exists,
    Expire,
    PExpire,
    ExpireAt,
    PExpireAt,
    Ttl,
    PTtl,
    ExpireTime,
    PExpireTime,
    Persist,
    Touch,
    Type,
    Time,
    Keys,
    Scan,
    RandomKey,
    Rename,
    RenameNx,
    Copy,
    Object,
    Memory,
    Dump,
    Restore,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    Append,
    StrLen,
    SetRange,
    GetBit,
    SetBit,
    BitCount,
    IncrByFloat,
    MSetNx,
    Lcs,
    Wait,
    Save,
    BgSave,
    LastSave,
    DbSize,
    Flush,
    Info,
    Usage,
    Ping,
    Echo,
    Select,
    Hello,
    Auth,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Reset,
    Quit,
    /// A container (CLIENT, CONFIG, SLOWLOG) called without a subcommand.
    Container,
    /// COMMAND without a subcommand: the whole table.
    CommandAll,
    ClientId,
    ClientGetName,
    ClientSetName,
    ClientSetInfo,
    ClientList,
    ClientInfo,
    ClientKill,
    ClientReply,
    ClientNoEvict,
    ClientNoTouch,
    CommandCount,
    CommandDocs,
    CommandGetKeys,
    CommandGetKeysAndFlags,
    CommandInfo,
    CommandList,
    ConfigGet,
    ConfigSet,
    ConfigResetStat,
    SlowLogGet,
    SlowLogLen,
    SlowLogReset,
    /// A container's HELP.
    Help,
}

/// The commands RESP serves: each one's row in the command table, which gives its name
/// (lowercase, as Redis names it in errors) and its arity, and what it means.
const COMMANDS: &[(&CommandSpec, Kind)] = &[
    (&table::GET, Kind::Get),
    (&table::SET, Kind::Set),
    (&table::SETEX, Kind::SetEx),
    (&table::PSETEX, Kind::PSetEx),
    (&table::SETNX, Kind::SetNx),
    (&table::GETSET, Kind::GetSet),
    (&table::GETRANGE, Kind::GetRange),
    (&table::SUBSTR, Kind::GetRange),
    (&table::GETDEL, Kind::GetDel),
    (&table::GETEX, Kind::GetEx),
    (&table::MGET, Kind::MGet),
    (&table::MSET, Kind::MSet),
    (&table::DEL, Kind::Del),
    (&table::UNLINK, Kind::Del),
    (&table::EXISTS, Kind::Exists),
    (&table::EXPIRE, Kind::Expire),
    (&table::PEXPIRE, Kind::PExpire),
    (&table::EXPIREAT, Kind::ExpireAt),
    (&table::PEXPIREAT, Kind::PExpireAt),
    (&table::TTL, Kind::Ttl),
    (&table::PTTL, Kind::PTtl),
    (&table::EXPIRETIME, Kind::ExpireTime),
    (&table::PEXPIRETIME, Kind::PExpireTime),
    (&table::PERSIST, Kind::Persist),
    (&table::TOUCH, Kind::Touch),
    (&table::TYPE, Kind::Type),
    (&table::TIME, Kind::Time),
    (&table::INCR, Kind::Incr),
    (&table::DECR, Kind::Decr),
    (&table::INCRBY, Kind::IncrBy),
    (&table::DECRBY, Kind::DecrBy),
    (&table::APPEND, Kind::Append),
    (&table::STRLEN, Kind::StrLen),
    (&table::DBSIZE, Kind::DbSize),
    (&table::FLUSHDB, Kind::Flush),
    (&table::FLUSHALL, Kind::Flush),
    (&table::INFO, Kind::Info),
    (&table::USAGE, Kind::Usage),
    (&table::PING, Kind::Ping),
    (&table::ECHO, Kind::Echo),
    (&table::SELECT, Kind::Select),
    (&table::CLIENT, Kind::Container),
    (&table::HELLO, Kind::Hello),
    (&table::COMMAND, Kind::CommandAll),
    (&table::CONFIG, Kind::Container),
    (&table::SLOWLOG, Kind::Container),
    (&table::AUTH, Kind::Auth),
    (&table::KEYS, Kind::Keys),
    (&table::SCAN, Kind::Scan),
    (&table::RANDOMKEY, Kind::RandomKey),
    (&table::RENAME, Kind::Rename),
    (&table::RENAMENX, Kind::RenameNx),
    (&table::COPY, Kind::Copy),
    (&table::OBJECT, Kind::Object),
    (&table::MEMORY, Kind::Memory),
    (&table::DUMP, Kind::Dump),
    (&table::RESTORE, Kind::Restore),
    (&table::SETRANGE, Kind::SetRange),
    (&table::GETBIT, Kind::GetBit),
    (&table::SETBIT, Kind::SetBit),
    (&table::BITCOUNT, Kind::BitCount),
    (&table::INCRBYFLOAT, Kind::IncrByFloat),
    (&table::MSETNX, Kind::MSetNx),
    (&table::LCS, Kind::Lcs),
    (&table::WAIT, Kind::Wait),
    (&table::SAVE, Kind::Save),
    (&table::BGSAVE, Kind::BgSave),
    (&table::LASTSAVE, Kind::LastSave),
    (&table::MULTI, Kind::Multi),
    (&table::EXEC, Kind::Exec),
    (&table::DISCARD, Kind::Discard),
    (&table::WATCH, Kind::Watch),
    (&table::UNWATCH, Kind::Unwatch),
    (&table::RESET, Kind::Reset),
    (&table::QUIT, Kind::Quit),
];

/// The subcommands RESP serves, by their rows in the command table.
const SUBCOMMANDS: &[(&CommandSpec, Kind)] = &[
    (&table::CLIENT_ID, Kind::ClientId),
    (&table::CLIENT_GETNAME, Kind::ClientGetName),
    (&table::CLIENT_SETNAME, Kind::ClientSetName),
    (&table::CLIENT_SETINFO, Kind::ClientSetInfo),
    (&table::CLIENT_LIST, Kind::ClientList),
    (&table::CLIENT_INFO, Kind::ClientInfo),
    (&table::CLIENT_KILL, Kind::ClientKill),
    (&table::CLIENT_REPLY, Kind::ClientReply),
    (&table::CLIENT_NO_EVICT, Kind::ClientNoEvict),
    (&table::CLIENT_NO_TOUCH, Kind::ClientNoTouch),
    (&table::CLIENT_HELP, Kind::Help),
    (&table::COMMAND_COUNT, Kind::CommandCount),
    (&table::COMMAND_DOCS, Kind::CommandDocs),
    (&table::COMMAND_GETKEYS, Kind::CommandGetKeys),
    (
        &table::COMMAND_GETKEYSANDFLAGS,
        Kind::CommandGetKeysAndFlags,
    ),
    (&table::COMMAND_HELP, Kind::Help),
    (&table::COMMAND_INFO, Kind::CommandInfo),
    (&table::COMMAND_LIST, Kind::CommandList),
    (&table::CONFIG_GET, Kind::ConfigGet),
    (&table::CONFIG_SET, Kind::ConfigSet),
    (&table::CONFIG_RESETSTAT, Kind::ConfigResetStat),
    (&table::CONFIG_HELP, Kind::Help),
    (&table::SLOWLOG_GET, Kind::SlowLogGet),
    (&table::SLOWLOG_LEN, Kind::SlowLogLen),
    (&table::SLOWLOG_RESET, Kind::SlowLogReset),
    (&table::SLOWLOG_HELP, Kind::Help),
    (&table::OBJECT_ENCODING, Kind::Object),
    (&table::OBJECT_FREQ, Kind::Object),
    (&table::OBJECT_IDLETIME, Kind::Object),
    (&table::OBJECT_REFCOUNT, Kind::Object),
    (&table::OBJECT_HELP, Kind::Object),
    (&table::MEMORY_USAGE, Kind::Memory),
    (&table::MEMORY_HELP, Kind::Memory),
];

/// The arguments of one command, with the limits keys are checked against.
pub(super) struct Command<'a> {
    /// Every argument, the name first.
    pub(super) all: Args<'a>,
    /// The frame.
    buf: &'a [u8],
    /// The argument ranges.
    ranges: &'a [Range<usize>],
    /// Longest key accepted.
    max_key_len: usize,
    /// Longest value accepted, however it arrived (bulk string or inline argument).
    pub(super) max_value_len: usize,
    /// The command's name, lowercase (`container|sub` for a subcommand).
    pub(super) name: &'static str,
    /// The container, for a subcommand.
    pub(super) container: Option<&'static CommandSpec>,
}

impl<'a> Command<'a> {
    /// The argument at `i` (the name is 0), empty past the last.
    pub(super) fn arg(&self, i: usize) -> &'a [u8] {
        self.all.iter().nth(i).unwrap_or_default()
    }

    /// The argument at `i` as a key, within the key limit.
    pub(super) fn key(&self, i: usize) -> Result<&'a [u8], ClientError> {
        let key = self.arg(i);
        if key.len() > self.max_key_len {
            return Err(ClientError::KeyTooLong {
                limit: self.max_key_len,
            });
        }
        Ok(key)
    }

    /// Arguments from `from` on.
    pub(super) fn rest(&self, from: usize) -> Args<'a> {
        Args::new(self.buf, self.ranges.get(from..).unwrap_or_default())
    }

    /// Checks every `step`th of `args`, from the first, against the key limit.
    pub(super) fn check_keys(&self, args: Args<'a>, step: usize) -> Result<(), ClientError> {
        for key in args.iter().step_by(step) {
            if key.len() > self.max_key_len {
                return Err(ClientError::KeyTooLong {
                    limit: self.max_key_len,
                });
            }
        }
        Ok(())
    }

    /// The argument at `i` as a value, within the value limit.
    pub(super) fn value(&self, i: usize) -> Result<&'a [u8], ClientError> {
        let value = self.arg(i);
        if value.len() > self.max_value_len {
            return Err(ClientError::ValueTooLarge {
                limit: self.max_value_len,
            });
        }
        Ok(value)
    }

    /// The argument at `i` as an integer, as Redis reads one.
    pub(super) fn integer(&self, i: usize) -> Result<i64, ClientError> {
        parse_integer(self.arg(i)).ok_or(ClientError::NotAnInteger)
    }

    /// How many arguments there are, the name included.
    pub(super) fn len(&self) -> usize {
        self.all.len()
    }

    /// Redis's wrong-number-of-arguments error for this command.
    pub(super) fn arity(&self) -> ClientError {
        ClientError::RespArity { cmd: self.name }
    }
}

/// Parses one framed command; see [`super::resp::RespProtocol::parse`]. Also says, in
/// `call`, which command of the command table it called, if it named one (an out
/// parameter, not a returned pair: the request is large, and is returned in place).
pub(super) fn parse<'a>(
    buf: &'a [u8],
    ranges: &'a [Range<usize>],
    (max_key_len, max_value_len): (usize, usize),
    unknown: impl FnOnce() -> ClientError,
    call: &mut Option<Call>,
) -> Result<Request<'a>, ClientError> {
    *call = None;
    let all = Args::new(buf, ranges);
    let Some(name) = all.iter().next() else {
        return Err(ClientError::EmptyLine);
    };
    let Some(&(mut spec, mut kind)) = COMMANDS
        .iter()
        .find(|(spec, _)| name.eq_ignore_ascii_case(spec.name.as_bytes()))
    else {
        return Err(unknown());
    };
    let mut container = None;
    // As Redis looks a call up: a container's subcommand names the command, and only its
    // arity is checked; a container alone is checked as itself.
    if let (false, Some(sub)) = (spec.subcommands.is_empty(), all.iter().nth(1)) {
        let Some(&(sub_spec, sub_kind)) = spec.subcommand(sub).and_then(|found| {
            SUBCOMMANDS
                .iter()
                .find(|(row, _)| std::ptr::eq(*row, found))
        }) else {
            let sub = sub.get(..MAX_SUBCOMMAND_ECHO).unwrap_or(sub);
            return Err(ClientError::UnknownSubcommand {
                sub: String::from_utf8_lossy(sub).replace(['\r', '\n'], " "),
                cmd: spec.name,
            });
        };
        container = Some(spec);
        (spec, kind) = (sub_spec, sub_kind);
    }
    let command = Command {
        all,
        buf,
        ranges,
        max_key_len,
        max_value_len,
        name: spec.name,
        container,
    };
    let rejected = !spec.accepts(all.len());
    *call = Some(Call {
        command: spec,
        rejected,
    });
    if rejected {
        return Err(command.arity());
    }
    parse_kind(&command, kind)
}

fn parse_kind<'a>(c: &Command<'a>, kind: Kind) -> Result<Request<'a>, ClientError> {
    let n = c.all.len();
    Ok(match kind {
        Kind::Get => Request::Get { key: c.key(1)? },
        Kind::Set if n == 3 => Request::Set {
            key: c.key(1)?,
            value: c.value(2)?,
        },
        Kind::Set => parse_set(c)?,
        Kind::SetEx | Kind::PSetEx => {
            let unit = if kind == Kind::SetEx { 1000 } else { 1 };
            let ttl = relative_ttl(c.integer(2)?, unit, c.name)?;
            set_with(c.key(1)?, c.value(3)?, SetCondition::Always, ttl, false)
        }
        Kind::SetNx => Request::SetNx {
            key: c.key(1)?,
            value: c.value(2)?,
        },
        // GETSET is SET with GET: the expiry goes, as with a plain SET.
        Kind::GetSet => set_with(
            c.key(1)?,
            c.value(2)?,
            SetCondition::Always,
            TtlOption::Unchanged,
            true,
        ),
        Kind::GetRange => Request::GetRange {
            key: c.key(1)?,
            start: c.integer(2)?,
            end: c.integer(3)?,
        },
        Kind::GetDel => Request::GetDel { key: c.key(1)? },
        Kind::GetEx => parse_getex(c)?,
        Kind::MGet | Kind::Del | Kind::Exists | Kind::Touch => {
            let keys = c.rest(1);
            c.check_keys(keys, 1)?;
            match kind {
                Kind::MGet => Request::MGet { keys },
                Kind::Del => Request::DeleteMany { keys },
                Kind::Touch => Request::Touch { keys },
                _ => Request::Exists { keys },
            }
        }
        Kind::MSet => Request::MSet { pairs: pairs(c)? },
        Kind::Expire | Kind::PExpire | Kind::ExpireAt | Kind::PExpireAt => parse_expire(c, kind)?,
        Kind::Ttl | Kind::PTtl => Request::Ttl {
            key: c.key(1)?,
            unit: if kind == Kind::Ttl {
                TimeUnit::Seconds
            } else {
                TimeUnit::Millis
            },
        },
        Kind::ExpireTime | Kind::PExpireTime => Request::ExpireTime {
            key: c.key(1)?,
            unit: if kind == Kind::ExpireTime {
                TimeUnit::Seconds
            } else {
                TimeUnit::Millis
            },
        },
        Kind::Persist => Request::Persist { key: c.key(1)? },
        Kind::Incr | Kind::Decr => Request::IncrBy {
            key: c.key(1)?,
            delta: if kind == Kind::Incr { 1 } else { -1 },
        },
        Kind::IncrBy => Request::IncrBy {
            key: c.key(1)?,
            delta: c.integer(2)?,
        },
        Kind::DecrBy => Request::IncrBy {
            key: c.key(1)?,
            // Redis refuses to negate the smallest integer.
            delta: c
                .integer(2)?
                .checked_neg()
                .ok_or(ClientError::DecrementOverflow)?,
        },
        Kind::Append => Request::Append {
            key: c.key(1)?,
            value: c.value(2)?,
            max_len: c.max_value_len,
        },
        Kind::StrLen => Request::StrLen { key: c.key(1)? },
        Kind::SetRange => resp_strings::set_range(c)?,
        Kind::GetBit => resp_strings::get_bit(c)?,
        Kind::SetBit => resp_strings::set_bit(c)?,
        Kind::BitCount => resp_strings::bit_count(c)?,
        Kind::IncrByFloat => resp_strings::incr_by_float(c)?,
        Kind::MSetNx => Request::MSetNx { pairs: pairs(c)? },
        Kind::Lcs => resp_strings::lcs(c)?,
        Kind::Wait => resp_strings::wait(c)?,
        Kind::DbSize => Request::DbSize,
        Kind::Type => Request::Type { key: c.key(1)? },
        Kind::Time => Request::Time,
        Kind::Save => Request::Save,
        Kind::BgSave => resp_strings::bgsave(c)?,
        Kind::LastSave => Request::LastSave,
        Kind::Keys => Request::Keys { pattern: c.arg(1) },
        Kind::Scan => resp_keyspace::parse_scan(c)?,
        Kind::RandomKey => Request::RandomKey,
        Kind::Rename | Kind::RenameNx => Request::Rename {
            from: c.key(1)?,
            to: c.key(2)?,
            replace: kind == Kind::Rename,
        },
        Kind::Copy => resp_keyspace::parse_copy(c)?,
        Kind::Object => resp_keyspace::parse_object(c)?,
        Kind::Memory => resp_keyspace::parse_memory(c)?,
        Kind::Dump => Request::Dump { key: c.key(1)? },
        Kind::Restore => resp_keyspace::parse_restore(c)?,
        Kind::Flush => {
            // ASYNC and SYNC are accepted; a flush here is immediate either way.
            let modes_ok = c.rest(1).iter().all(|mode| {
                mode.eq_ignore_ascii_case(b"async") || mode.eq_ignore_ascii_case(b"sync")
            });
            if n > 2 || !modes_ok {
                return Err(ClientError::Syntax);
            }
            Request::Flush
        }
        Kind::Info => Request::Info {
            sections: c.rest(1),
        },
        Kind::Usage => Request::Usage,
        Kind::Ping => match n {
            1 => Request::Ping,
            2 => Request::Echo { message: c.arg(1) },
            _ => return Err(c.arity()),
        },
        Kind::Echo => Request::Echo { message: c.arg(1) },
        Kind::Select => {
            c.integer(1)?;
            Request::Select { db: c.arg(1) }
        }
        Kind::Hello => parse_hello(c)?,
        Kind::Auth => match n {
            2 => Request::Auth {
                user: None,
                password: c.arg(1),
            },
            3 => Request::Auth {
                user: Some(c.arg(1)),
                password: c.arg(2),
            },
            _ => return Err(ClientError::Syntax),
        },
        // Redis's QUIT ignores its arguments.
        Kind::Multi => Request::Multi,
        Kind::Exec => Request::Exec,
        Kind::Discard => Request::Discard,
        Kind::Watch => {
            let keys = c.rest(1);
            c.check_keys(keys, 1)?;
            Request::Watch { keys }
        }
        Kind::Unwatch => Request::Unwatch,
        Kind::Reset => Request::Reset,
        Kind::Quit => Request::Quit,
        // Only reached if a container's arity lets it be called alone.
        Kind::Container => return Err(c.arity()),
        Kind::Help => match c.container {
            Some(container) => Request::Help(container),
            None => return Err(c.arity()),
        },
        Kind::CommandAll => Request::Command(CommandQuery::All),
        Kind::ClientId => Request::ClientId,
        Kind::ClientGetName => Request::ClientGetName,
        Kind::ClientSetName => Request::ClientSetName { name: c.arg(2) },
        Kind::ClientSetInfo => sub::client_set_info(c)?,
        Kind::ClientList => sub::client_list(c)?,
        Kind::ClientInfo => Request::Client(ClientQuery::Info),
        Kind::ClientKill => sub::client_kill(c)?,
        Kind::ClientReply => sub::client_reply(c)?,
        Kind::ClientNoEvict => Request::Client(ClientQuery::NoEvict(sub::on_off(c.arg(2))?)),
        Kind::ClientNoTouch => Request::Client(ClientQuery::NoTouch(sub::on_off(c.arg(2))?)),
        Kind::CommandCount => Request::Command(CommandQuery::Count),
        Kind::CommandDocs => Request::Command(CommandQuery::Docs(c.rest(2))),
        Kind::CommandGetKeys | Kind::CommandGetKeysAndFlags => {
            Request::Command(CommandQuery::GetKeys {
                line: c.rest(2),
                flags: kind == Kind::CommandGetKeysAndFlags,
            })
        }
        Kind::CommandInfo => Request::Command(CommandQuery::Info(c.rest(2))),
        Kind::CommandList => sub::command_list(c)?,
        Kind::ConfigGet => Request::Config(ConfigQuery::Get(c.rest(2))),
        Kind::ConfigSet => {
            // Parameter and value pairs.
            if n % 2 == 1 {
                return Err(ClientError::Syntax);
            }
            Request::Config(ConfigQuery::Set(c.rest(2)))
        }
        Kind::ConfigResetStat => Request::Config(ConfigQuery::ResetStat),
        Kind::SlowLogGet => sub::slowlog_get(c)?,
        Kind::SlowLogLen => Request::SlowLog(SlowLogQuery::Len),
        Kind::SlowLogReset => Request::SlowLog(SlowLogQuery::Reset),
    })
}

/// MSET's and MSETNX's arguments: keys and values, alternating, each within its limit.
fn pairs<'a>(c: &Command<'a>) -> Result<Args<'a>, ClientError> {
    let n = c.all.len();
    if n % 2 == 0 {
        return Err(c.arity());
    }
    let pairs = c.rest(1);
    c.check_keys(pairs, 2)?;
    for i in (2..n).step_by(2) {
        c.value(i)?;
    }
    Ok(pairs)
}

fn set_with<'a>(
    key: &'a [u8],
    value: &'a [u8],
    condition: SetCondition,
    ttl: TtlOption,
    get: bool,
) -> Request<'a> {
    Request::SetWith {
        key,
        value,
        condition,
        ttl,
        get,
    }
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]`, in any order, each
/// at most once, as Redis's `parseExtendedStringArgumentsOrReply` reads them.
fn parse_set<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let options = TimeOptions::read(c, 3)?;
    // Redis checks the time only once every option has been read.
    let ttl = match options.ttl {
        TtlChoice::Unchanged => TtlOption::Unchanged,
        TtlChoice::Keep => TtlOption::Keep,
        TtlChoice::Persist => TtlOption::Persist,
        TtlChoice::Time(unit, at) => ttl_option(c.integer(at)?, unit, "set")?,
    };
    Ok(set_with(
        c.key(1)?,
        c.value(2)?,
        options.condition,
        ttl,
        options.get,
    ))
}

/// `GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]`. Redis reads the options, then answers
/// nil for a missing key, and only then checks the time: a bad time is a late error.
fn parse_getex<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    let options = TimeOptions::read(c, 2)?;
    let ttl = match options.ttl {
        TtlChoice::Unchanged => Ok(TtlOption::Unchanged),
        TtlChoice::Keep => Ok(TtlOption::Keep),
        TtlChoice::Persist => Ok(TtlOption::Persist),
        TtlChoice::Time(unit, at) => match parse_integer(c.arg(at)) {
            None => Err(LateError::NotAnInteger),
            Some(n) => ttl_option(n, unit, "getex")
                .map_err(|_| LateError::InvalidExpireTime { cmd: "getex" }),
        },
    };
    Ok(Request::GetEx { key, ttl })
}

/// The time option SET or GETEX was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TtlChoice {
    /// None.
    Unchanged,
    /// `KEEPTTL` (SET).
    Keep,
    /// `PERSIST` (GETEX).
    Persist,
    /// `EX`, `PX`, `EXAT` or `PXAT` (its unit), the time at this argument.
    Time((u64, bool), usize),
}

/// SET's and GETEX's options, read as Redis reads them: an option may be given again
/// (a time given twice in the same unit: the last one counts) but never with one it
/// conflicts with; anything else is a syntax error.
struct TimeOptions {
    condition: SetCondition,
    get: bool,
    ttl: TtlChoice,
}

impl TimeOptions {
    /// The options from argument `from` on: SET's (from 3) or GETEX's (from 2).
    fn read(c: &Command<'_>, from: usize) -> Result<Self, ClientError> {
        let set = from == 3;
        let mut options = Self {
            condition: SetCondition::Always,
            get: false,
            ttl: TtlChoice::Unchanged,
        };
        let mut i = from;
        while i < c.all.len() {
            let option = c.arg(i);
            let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
            let ttl = options.ttl;
            if set && is("nx") && options.condition != SetCondition::IfPresent {
                options.condition = SetCondition::IfAbsent;
            } else if set && is("xx") && options.condition != SetCondition::IfAbsent {
                options.condition = SetCondition::IfPresent;
            } else if set && is("get") {
                options.get = true;
            } else if set && is("keepttl") && matches!(ttl, TtlChoice::Unchanged | TtlChoice::Keep)
            {
                options.ttl = TtlChoice::Keep;
            } else if !set
                && is("persist")
                && matches!(ttl, TtlChoice::Unchanged | TtlChoice::Persist)
            {
                options.ttl = TtlChoice::Persist;
            } else if let Some(unit) = ttl_unit(option).filter(|&unit| {
                i + 1 < c.all.len()
                    && match ttl {
                        TtlChoice::Unchanged => true,
                        TtlChoice::Time(given, _) => given == unit,
                        TtlChoice::Keep | TtlChoice::Persist => false,
                    }
            }) {
                i += 1;
                options.ttl = TtlChoice::Time(unit, i);
            } else {
                return Err(ClientError::Syntax);
            }
            i += 1;
        }
        Ok(options)
    }
}

/// EXPIRE and friends: a time that may be zero or in the past (the key is then deleted),
/// but must fit in 64-bit milliseconds.
fn parse_expire<'a>(c: &Command<'a>, kind: Kind) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    // Redis checks the options before the time.
    let condition = expire_condition(c.rest(3))?;
    let n = c.integer(2)?;
    let millis = match kind {
        Kind::Expire | Kind::ExpireAt => n.checked_mul(1000),
        _ => Some(n),
    };
    let relative = matches!(kind, Kind::Expire | Kind::PExpire);
    let Some(millis) = millis.filter(|&ms| !relative || ms.unsigned_abs() <= MAX_RELATIVE_TTL_MS)
    else {
        return Ok(Request::ExpireInvalid { cmd: c.name });
    };
    let deadline = match kind {
        Kind::Expire | Kind::PExpire => Deadline::In(millis.max(0).unsigned_abs()),
        _ => Deadline::At(millis.max(0).unsigned_abs()),
    };
    // A relative time that is zero or negative: expire now, which `In(0)` with a
    // negative sign would lose, so mark it as an absolute time in the past.
    let deadline = match (kind, millis <= 0) {
        (Kind::Expire | Kind::PExpire, true) => Deadline::At(0),
        _ => deadline,
    };
    Ok(Request::Expire {
        key,
        deadline,
        condition,
    })
}

/// EXPIRE's options: any of NX, XX, GT and LT, in any case and order, with Redis's errors
/// for unknown and incompatible ones.
fn expire_condition(options: Args<'_>) -> Result<ExpireIf, ClientError> {
    let mut condition = ExpireIf::default();
    for option in options.iter() {
        let flag = match option.to_ascii_lowercase().as_slice() {
            b"nx" => &mut condition.nx,
            b"xx" => &mut condition.xx,
            b"gt" => &mut condition.gt,
            b"lt" => &mut condition.lt,
            _ => {
                return Err(ClientError::UnsupportedOption(
                    String::from_utf8_lossy(option).into_owned(),
                ))
            }
        };
        *flag = true;
    }
    if condition.nx && (condition.xx || condition.gt || condition.lt) {
        return Err(ClientError::ExpireNxAndOthers);
    }
    if condition.gt && condition.lt {
        return Err(ClientError::ExpireGtAndLt);
    }
    Ok(condition)
}

/// Whether an option names a TTL, and its milliseconds per unit and whether absolute.
fn ttl_unit(option: &[u8]) -> Option<(u64, bool)> {
    let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
    if is("ex") {
        Some((1000, false))
    } else if is("px") {
        Some((1, false))
    } else if is("exat") {
        Some((1000, true))
    } else if is("pxat") {
        Some((1, true))
    } else {
        None
    }
}

/// A TTL option's value: positive, and within 64-bit milliseconds.
fn ttl_option(
    n: i64,
    (unit, absolute): (u64, bool),
    cmd: &'static str,
) -> Result<TtlOption, ClientError> {
    let invalid = ClientError::InvalidExpireTime { cmd };
    let n = u64::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .ok_or(invalid.clone())?;
    let most = if absolute {
        i64::MAX as u64
    } else {
        MAX_RELATIVE_TTL_MS
    };
    let millis = n
        .checked_mul(unit)
        .filter(|&ms| ms <= most)
        .ok_or(invalid)?;
    Ok(if absolute {
        TtlOption::At(millis)
    } else {
        TtlOption::In(millis)
    })
}

fn relative_ttl(n: i64, unit: u64, cmd: &'static str) -> Result<TtlOption, ClientError> {
    ttl_option(n, (unit, false), cmd)
}

/// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
fn parse_hello<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let version = (c.all.len() > 1).then(|| c.arg(1));
    let mut name = None;
    let mut auth = None;
    let mut i = 2;
    while i < c.all.len() {
        let option = c.arg(i);
        if option.eq_ignore_ascii_case(b"setname") && i + 1 < c.all.len() {
            name = Some(c.arg(i + 1));
            i += 2;
        } else if option.eq_ignore_ascii_case(b"auth") && i + 2 < c.all.len() {
            auth = Some((c.arg(i + 1), c.arg(i + 2)));
            i += 3;
        } else {
            return Err(ClientError::Syntax);
        }
    }
    Ok(Request::Hello {
        version,
        name,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the parser serves this row: as a command, or as a subcommand.
    fn parsed(spec: &CommandSpec) -> bool {
        COMMANDS
            .iter()
            .chain(SUBCOMMANDS)
            .any(|(row, _)| std::ptr::eq(*row, spec))
    }

    /// The command table and the parser cannot drift: every row of the table is parsed
    /// (but those still pending, and their subcommands), and everything parsed has a row.
    #[test]
    fn every_row_is_parsed_and_everything_parsed_has_a_row() {
        for spec in table::ALL {
            let top = spec.name.split('|').next().unwrap();
            let pending = table::PENDING.contains(&top);
            assert_eq!(parsed(spec), !pending, "{}", spec.name);
        }
        for (spec, _) in COMMANDS.iter().chain(SUBCOMMANDS) {
            assert!(
                table::ALL.iter().any(|row| std::ptr::eq(*row, *spec)),
                "{} is parsed but not in the table",
                spec.name
            );
            assert!(
                table::is_served(spec),
                "{} is parsed but pending",
                spec.name
            );
        }
        for (spec, _) in SUBCOMMANDS {
            let container = spec.name.split('|').next().unwrap();
            let row = COMMANDS.iter().find(|(row, _)| row.name == container);
            assert!(row.is_some(), "{}'s container is not parsed", spec.name);
        }
    }
}
