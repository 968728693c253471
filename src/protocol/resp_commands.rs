//! RESP's command table: from a framed command's arguments to a [`Request`], with Redis's
//! arity rules and its error texts. Knows the syntax, never the store.

use std::ops::Range;

use crate::decimal::parse_integer;
use crate::store::update::ExpireIf;

use super::resp_strings;
use super::{
    resp_keyspace, Args, ClientError, Deadline, Request, SetCondition, TimeUnit, TtlOption,
    MAX_RELATIVE_TTL_MS,
};

/// The commands RESP knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
    DbSize,
    Flush,
    Info,
    Usage,
    Ping,
    Echo,
    Select,
    Client,
    Hello,
    Command,
    Config,
    Auth,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Reset,
    Quit,
}

/// Command names, lowercase as Redis names them in errors; what they mean; and their
/// arity as Redis counts it (the name included; negative: at least that many).
const COMMANDS: &[(&str, Kind, i32)] = &[
    ("get", Kind::Get, 2),
    ("set", Kind::Set, -3),
    ("setex", Kind::SetEx, 4),
    ("psetex", Kind::PSetEx, 4),
    ("setnx", Kind::SetNx, 3),
    ("getset", Kind::GetSet, 3),
    ("getrange", Kind::GetRange, 4),
    ("substr", Kind::GetRange, 4),
    ("getdel", Kind::GetDel, 2),
    ("getex", Kind::GetEx, -2),
    ("mget", Kind::MGet, -2),
    ("mset", Kind::MSet, -3),
    ("del", Kind::Del, -2),
    ("unlink", Kind::Del, -2),
    ("exists", Kind::Exists, -2),
    ("expire", Kind::Expire, -3),
    ("pexpire", Kind::PExpire, -3),
    ("expireat", Kind::ExpireAt, -3),
    ("pexpireat", Kind::PExpireAt, -3),
    ("ttl", Kind::Ttl, 2),
    ("pttl", Kind::PTtl, 2),
    ("expiretime", Kind::ExpireTime, 2),
    ("pexpiretime", Kind::PExpireTime, 2),
    ("persist", Kind::Persist, 2),
    ("touch", Kind::Touch, -2),
    ("type", Kind::Type, 2),
    ("time", Kind::Time, 1),
    ("keys", Kind::Keys, 2),
    ("scan", Kind::Scan, -2),
    ("randomkey", Kind::RandomKey, 1),
    ("rename", Kind::Rename, 3),
    ("renamenx", Kind::RenameNx, 3),
    ("copy", Kind::Copy, -3),
    ("object", Kind::Object, -2),
    ("memory", Kind::Memory, -2),
    ("dump", Kind::Dump, 2),
    ("restore", Kind::Restore, -4),
    ("incr", Kind::Incr, 2),
    ("decr", Kind::Decr, 2),
    ("incrby", Kind::IncrBy, 3),
    ("decrby", Kind::DecrBy, 3),
    ("append", Kind::Append, 3),
    ("strlen", Kind::StrLen, 2),
    ("setrange", Kind::SetRange, 4),
    ("getbit", Kind::GetBit, 3),
    ("setbit", Kind::SetBit, 4),
    ("bitcount", Kind::BitCount, -2),
    ("incrbyfloat", Kind::IncrByFloat, 3),
    ("msetnx", Kind::MSetNx, -3),
    ("lcs", Kind::Lcs, -3),
    ("wait", Kind::Wait, 3),
    ("dbsize", Kind::DbSize, 1),
    ("flushdb", Kind::Flush, -1),
    ("flushall", Kind::Flush, -1),
    ("info", Kind::Info, -1),
    ("usage", Kind::Usage, 1),
    ("ping", Kind::Ping, -1),
    ("echo", Kind::Echo, 2),
    ("select", Kind::Select, 2),
    ("client", Kind::Client, -2),
    ("hello", Kind::Hello, -1),
    ("command", Kind::Command, -1),
    ("config", Kind::Config, -2),
    ("auth", Kind::Auth, -2),
    ("multi", Kind::Multi, 1),
    ("exec", Kind::Exec, 1),
    ("discard", Kind::Discard, 1),
    ("watch", Kind::Watch, -2),
    ("unwatch", Kind::Unwatch, 1),
    ("reset", Kind::Reset, 1),
    ("quit", Kind::Quit, -1),
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
    /// The command's name, lowercase.
    name: &'static str,
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

    /// Arguments from `from` on, each checked as a key if `keys`.
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

/// Parses one framed command; see [`super::resp::RespProtocol::parse`].
pub(super) fn parse<'a>(
    buf: &'a [u8],
    ranges: &'a [Range<usize>],
    (max_key_len, max_value_len): (usize, usize),
    unknown: impl FnOnce() -> ClientError,
) -> Result<Request<'a>, ClientError> {
    let all = Args::new(buf, ranges);
    let Some(name) = all.iter().next() else {
        return Err(ClientError::EmptyLine);
    };
    let Some(&(cmd, kind, arity)) = COMMANDS
        .iter()
        .find(|(known, _, _)| name.eq_ignore_ascii_case(known.as_bytes()))
    else {
        return Err(unknown());
    };
    let count = i32::try_from(all.len()).unwrap_or(i32::MAX);
    let command = Command {
        all,
        buf,
        ranges,
        max_key_len,
        max_value_len,
        name: cmd,
    };
    if (arity > 0 && count != arity) || (arity < 0 && count < -arity) {
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
            section: (n > 1).then(|| c.arg(1)),
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
        Kind::Client => parse_client(c)?,
        Kind::Hello => parse_hello(c)?,
        Kind::Command => {
            let sub = c.arg(1);
            Request::Command {
                count: n > 1 && sub.eq_ignore_ascii_case(b"count"),
            }
        }
        Kind::Config => {
            let sub = c.arg(1);
            if !sub.eq_ignore_ascii_case(b"get") {
                return Err(ClientError::UnknownSubcommand {
                    sub: String::from_utf8_lossy(sub).into_owned(),
                    cmd: "CONFIG",
                });
            }
            if n != 3 {
                return Err(ClientError::RespArity { cmd: "config|get" });
            }
            Request::ConfigGet { pattern: c.arg(2) }
        }
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
    let mut condition = SetCondition::Always;
    let mut ttl = TtlOption::Unchanged;
    let mut get = false;
    let mut i = 3;
    while i < c.all.len() {
        let option = c.arg(i);
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        if is("nx") && condition == SetCondition::Always {
            condition = SetCondition::IfAbsent;
        } else if is("xx") && condition == SetCondition::Always {
            condition = SetCondition::IfPresent;
        } else if is("get") && !get {
            get = true;
        } else if is("keepttl") && ttl == TtlOption::Unchanged {
            ttl = TtlOption::Keep;
        } else if let Some(unit) = ttl_unit(option).filter(|_| ttl == TtlOption::Unchanged) {
            if i + 1 >= c.all.len() {
                return Err(ClientError::Syntax);
            }
            i += 1;
            ttl = ttl_option(c.integer(i)?, unit, "set")?;
        } else {
            return Err(ClientError::Syntax);
        }
        i += 1;
    }
    Ok(set_with(c.key(1)?, c.value(2)?, condition, ttl, get))
}

/// `GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]`.
fn parse_getex<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let key = c.key(1)?;
    let ttl = match c.all.len() {
        2 => TtlOption::Unchanged,
        3 if c.arg(2).eq_ignore_ascii_case(b"persist") => TtlOption::Persist,
        4 => match ttl_unit(c.arg(2)) {
            Some(unit) => ttl_option(c.integer(3)?, unit, "getex")?,
            None => return Err(ClientError::Syntax),
        },
        _ => return Err(ClientError::Syntax),
    };
    Ok(Request::GetEx { key, ttl })
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

/// CLIENT SETNAME / GETNAME / ID / SETINFO, and other subcommands clients send when they
/// connect, accepted without effect.
fn parse_client<'a>(c: &Command<'a>) -> Result<Request<'a>, ClientError> {
    let sub = c.arg(1);
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let n = c.all.len();
    let arity = |cmd| ClientError::RespArity { cmd };
    Ok(if is("setname") {
        if n != 3 {
            return Err(arity("client|setname"));
        }
        Request::ClientSetName { name: c.arg(2) }
    } else if is("getname") {
        Request::ClientGetName
    } else if is("id") {
        Request::ClientId
    } else if is("setinfo") {
        if n != 4 {
            return Err(arity("client|setinfo"));
        }
        Request::ClientNoop
    } else if is("no-evict") || is("no-touch") || is("reply") {
        Request::ClientNoop
    } else {
        return Err(ClientError::UnknownSubcommand {
            sub: String::from_utf8_lossy(sub).into_owned(),
            cmd: "CLIENT",
        });
    })
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
