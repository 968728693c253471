//! The command table: every command RESP serves, as Redis 7 describes its own in COMMAND
//! INFO and COMMAND DOCS (arity, flags, key positions, ACL categories, key specs,
//! subcommands and documentation). The RESP parser takes each command's name and arity
//! from its row here, so what COMMAND reports cannot drift from what is parsed; a test in
//! `resp_commands` checks that every row is parsed and every parsed command has a row.
//!
//! Rows are grouped by Redis's documentation groups, one file each. Each row has a dense
//! [`CommandSpec::id`], its index in [`ALL`], which per-command statistics index by.

mod connection;
mod generic;
pub mod keys;
mod server;
mod strings;
mod transactions;

pub use self::connection::*;
pub use self::generic::*;
pub use self::server::*;
pub use self::strings::*;
pub use self::transactions::*;

/// One command or subcommand, as COMMAND INFO and COMMAND DOCS report it.
#[derive(Debug)]
pub struct CommandSpec {
    /// Its index in [`ALL`]: per-command statistics are kept in an array by this index.
    pub id: u16,
    /// The name, lowercase as Redis names it in errors; `container|sub` for a subcommand.
    pub name: &'static str,
    /// Redis's arity: the argument count with the name (and, for a subcommand, the
    /// container's name); negative means at least that many.
    pub arity: i32,
    /// Command flags in Redis's order: `write`, `readonly`, `denyoom`, `admin`, `fast`...
    pub flags: &'static [&'static str],
    /// The first key's position, 0 without keys (COMMAND INFO's legacy key range).
    pub first_key: i32,
    /// The last key's position; negative counts from the end.
    pub last_key: i32,
    /// The distance between keys.
    pub step: i32,
    /// ACL categories, each with its `@`.
    pub acl_categories: &'static [&'static str],
    /// Hints for clients and proxies, such as `nondeterministic_output`.
    pub tips: &'static [&'static str],
    /// Where the keys are, and how the command uses them.
    pub key_specs: &'static [KeySpec],
    /// A container's subcommands (CLIENT's, CONFIG's...); empty for other commands.
    pub subcommands: &'static [&'static CommandSpec],
    /// A container's HELP lines, between Redis's header and footer.
    pub help: &'static [&'static str],
    /// What COMMAND DOCS reports.
    pub docs: Docs,
}

impl CommandSpec {
    /// A row with nothing filled in, for the struct update syntax.
    pub const NONE: CommandSpec = CommandSpec {
        id: 0,
        name: "",
        arity: 0,
        flags: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &[],
        tips: &[],
        key_specs: &[],
        subcommands: &[],
        help: &[],
        docs: Docs::NONE,
    };

    /// Whether `count` arguments (the name included) satisfy the arity.
    pub fn accepts(&self, count: usize) -> bool {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            count == arity
        } else {
            count >= -arity
        }
    }

    /// Whether it has the flag (`write`, `skip_slowlog`...).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// Whether its calls take a time bounded by one value's copy: Redis's `fast` commands,
    /// and SET, SETEX and PSETEX. A connection times a run of them together rather than
    /// each alone (see `connection`), as reading the clock would cost a pipelined GET a
    /// tenth of its time.
    pub fn is_quick(&self) -> bool {
        static QUICK: std::sync::LazyLock<Box<[bool]>> = std::sync::LazyLock::new(|| {
            ALL.iter()
                .map(|spec| {
                    spec.has_flag("fast") || matches!(spec.name, "set" | "setex" | "psetex")
                })
                .collect()
        });
        QUICK.get(usize::from(self.id)).copied().unwrap_or(false)
    }

    /// The subcommand named `name` (any case), if it is a container with one.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().copied().find(|sub| {
            sub.name
                .split_once('|')
                .is_some_and(|(_, own)| name.eq_ignore_ascii_case(own.as_bytes()))
        })
    }

    /// The command's name uppercased, as Redis echoes a container in its HELP and in its
    /// unknown-subcommand error.
    pub fn upper_name(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

/// Rows are unique statics: two are equal when they are the same row.
impl PartialEq for CommandSpec {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for CommandSpec {}

/// What COMMAND DOCS reports about a command; an empty text is left out of the reply.
#[derive(Debug)]
pub struct Docs {
    /// One line on what it does.
    pub summary: &'static str,
    /// The Redis version that introduced it.
    pub since: &'static str,
    /// Its documentation group: `string`, `generic`, `connection`, `server`...
    pub group: &'static str,
    /// Its time complexity.
    pub complexity: &'static str,
    /// `deprecated` and the like.
    pub doc_flags: &'static [&'static str],
    /// The version that deprecated it.
    pub deprecated_since: &'static str,
    /// What replaces it.
    pub replaced_by: &'static str,
    /// Changes by version: (version, what changed).
    pub history: &'static [(&'static str, &'static str)],
    /// Its arguments.
    pub arguments: &'static [Arg],
}

impl Docs {
    /// Documentation with nothing filled in, for the struct update syntax.
    pub const NONE: Docs = Docs {
        summary: "",
        since: "",
        group: "",
        complexity: "",
        doc_flags: &[],
        deprecated_since: "",
        replaced_by: "",
        history: &[],
        arguments: &[],
    };
}

/// Where one group of a command's keys is, and how the command uses them.
#[derive(Debug)]
pub struct KeySpec {
    /// A remark on the flags, if any.
    pub notes: &'static str,
    /// Access flags in Redis's order: `RO`, `RW`, `OW`, `RM`, `access`, `update`...
    pub flags: &'static [&'static str],
    /// Where the search for the keys starts.
    pub begin_search: BeginSearch,
    /// How the keys are found from there.
    pub find_keys: FindKeys,
}

impl KeySpec {
    /// A key spec without notes.
    pub const fn new(
        flags: &'static [&'static str],
        begin_search: BeginSearch,
        find_keys: FindKeys,
    ) -> Self {
        Self {
            notes: "",
            flags,
            begin_search,
            find_keys,
        }
    }

    /// Adds a remark on the flags.
    pub const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = notes;
        self
    }

    /// Whether the flag is set.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// Where the search for a key spec's keys starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument.
    Index(i32),
    /// After the first argument equal to `keyword` (any case), searching from
    /// `start_from` (negative: from the end, backwards).
    Keyword {
        /// The keyword.
        keyword: &'static str,
        /// The argument the search starts at.
        start_from: i32,
    },
    /// Only the command itself knows.
    Unknown,
}

/// How a key spec's keys are found from where the search began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `last_key` (relative to the first; negative: from the end), `step`
    /// apart; a `limit` above 0 takes that fraction of the remaining arguments.
    Range {
        /// The last key, relative to the first.
        last_key: i32,
        /// The distance between keys.
        step: i32,
        /// With `last_key` -1, the fraction of the remaining arguments that are keys.
        limit: i32,
    },
    /// An argument says how many keys follow.
    KeyNum {
        /// The count's position, relative to where the search began.
        key_num_index: i32,
        /// The first key's position, relative to where the search began.
        first_key: i32,
        /// The distance between keys.
        step: i32,
    },
    /// Only the command itself knows.
    Unknown,
}

impl FindKeys {
    /// [`FindKeys::Range`], in a row's few words.
    pub const fn range(last_key: i32, step: i32, limit: i32) -> Self {
        Self::Range {
            last_key,
            step,
            limit,
        }
    }
}

/// One argument in COMMAND DOCS.
#[derive(Debug)]
pub struct Arg {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: ArgType,
    /// The key spec it is a key of, for a key.
    pub key_spec: Option<u8>,
    /// The word that introduces it (`EX`), empty if none.
    pub token: &'static str,
    /// What it does, empty if not documented.
    pub summary: &'static str,
    /// The version that introduced it, empty if the command's.
    pub since: &'static str,
    /// The version that deprecated it, empty if not.
    pub deprecated_since: &'static str,
    /// [`Arg::OPTIONAL`], [`Arg::MULTIPLE`], [`Arg::MULTIPLE_TOKEN`].
    pub flags: u8,
    /// The choices of a `oneof`, the parts of a `block`.
    pub arguments: &'static [Arg],
}

impl Arg {
    /// It may be left out.
    pub const OPTIONAL: u8 = 1;
    /// It may be repeated.
    pub const MULTIPLE: u8 = 2;
    /// Its token is repeated with each repetition.
    pub const MULTIPLE_TOKEN: u8 = 4;

    /// An argument with only a name and a type.
    pub const fn new(name: &'static str, kind: ArgType) -> Self {
        Self {
            name,
            kind,
            key_spec: None,
            token: "",
            summary: "",
            since: "",
            deprecated_since: "",
            flags: 0,
            arguments: &[],
        }
    }

    /// Marks it as a key of the key spec at `index`.
    pub const fn key_spec(mut self, index: u8) -> Self {
        self.key_spec = Some(index);
        self
    }

    /// Sets the word that introduces it.
    pub const fn token(mut self, token: &'static str) -> Self {
        self.token = token;
        self
    }

    /// Sets what it does.
    pub const fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// Sets the version that introduced it.
    pub const fn since(mut self, since: &'static str) -> Self {
        self.since = since;
        self
    }

    /// Sets the version that deprecated it.
    pub const fn deprecated_since(mut self, since: &'static str) -> Self {
        self.deprecated_since = since;
        self
    }

    /// Marks it optional.
    pub const fn optional(mut self) -> Self {
        self.flags |= Self::OPTIONAL;
        self
    }

    /// Marks it repeatable.
    pub const fn multiple(mut self) -> Self {
        self.flags |= Self::MULTIPLE;
        self
    }

    /// Marks its token as repeated with it.
    pub const fn multiple_token(mut self) -> Self {
        self.flags |= Self::MULTIPLE_TOKEN;
        self
    }

    /// Sets the choices of a `oneof` or the parts of a `block`.
    pub const fn of(mut self, arguments: &'static [Arg]) -> Self {
        self.arguments = arguments;
        self
    }

    /// Its flags' names, in Redis's order.
    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            (Self::OPTIONAL, "optional"),
            (Self::MULTIPLE, "multiple"),
            (Self::MULTIPLE_TOKEN, "multiple_token"),
        ]
        .into_iter()
        .filter(|(bit, _)| self.flags & bit != 0)
        .map(|(_, name)| name)
    }
}

/// An argument's type, as COMMAND DOCS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `double`.
    Double,
    /// `key`.
    Key,
    /// `pattern`.
    Pattern,
    /// `unix-time`.
    UnixTime,
    /// `pure-token`: the token alone.
    PureToken,
    /// `oneof`: one of its arguments.
    OneOf,
    /// `block`: its arguments together.
    Block,
}

impl ArgType {
    /// The name COMMAND DOCS gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Double => "double",
            Self::Key => "key",
            Self::Pattern => "pattern",
            Self::UnixTime => "unix-time",
            Self::PureToken => "pure-token",
            Self::OneOf => "oneof",
            Self::Block => "block",
        }
    }

    /// Whether it has arguments of its own (`oneof`, `block`).
    pub fn has_arguments(self) -> bool {
        matches!(self, Self::OneOf | Self::Block)
    }
}

/// Every row, top-level commands each followed by its subcommands; a row's
/// [`CommandSpec::id`] is its index here.
pub static ALL: &[&CommandSpec] = &[
    &GET,
    &SET,
    &SETEX,
    &PSETEX,
    &SETNX,
    &GETSET,
    &GETRANGE,
    &SUBSTR,
    &GETDEL,
    &GETEX,
    &MGET,
    &MSET,
    &INCR,
    &DECR,
    &INCRBY,
    &DECRBY,
    &APPEND,
    &STRLEN,
    &SETRANGE,
    &GETBIT,
    &SETBIT,
    &BITCOUNT,
    &INCRBYFLOAT,
    &MSETNX,
    &LCS,
    &DEL,
    &UNLINK,
    &EXISTS,
    &EXPIRE,
    &PEXPIRE,
    &EXPIREAT,
    &PEXPIREAT,
    &TTL,
    &PTTL,
    &EXPIRETIME,
    &PEXPIRETIME,
    &PERSIST,
    &TOUCH,
    &TYPE,
    &SCAN,
    &KEYS,
    &RANDOMKEY,
    &RENAME,
    &RENAMENX,
    &COPY,
    &OBJECT,
    &OBJECT_ENCODING,
    &OBJECT_FREQ,
    &OBJECT_HELP,
    &OBJECT_IDLETIME,
    &OBJECT_REFCOUNT,
    &DUMP,
    &RESTORE,
    &WAIT,
    &PING,
    &ECHO,
    &SELECT,
    &CLIENT,
    &CLIENT_ID,
    &CLIENT_GETNAME,
    &CLIENT_SETNAME,
    &CLIENT_SETINFO,
    &CLIENT_LIST,
    &CLIENT_INFO,
    &CLIENT_KILL,
    &CLIENT_REPLY,
    &CLIENT_NO_EVICT,
    &CLIENT_NO_TOUCH,
    &CLIENT_HELP,
    &HELLO,
    &AUTH,
    &QUIT,
    &RESET,
    &TIME,
    &DBSIZE,
    &USAGE,
    &FLUSHDB,
    &FLUSHALL,
    &INFO,
    &COMMAND,
    &COMMAND_COUNT,
    &COMMAND_DOCS,
    &COMMAND_GETKEYS,
    &COMMAND_GETKEYSANDFLAGS,
    &COMMAND_HELP,
    &COMMAND_INFO,
    &COMMAND_LIST,
    &CONFIG,
    &CONFIG_GET,
    &CONFIG_SET,
    &CONFIG_RESETSTAT,
    &CONFIG_HELP,
    &SLOWLOG,
    &SLOWLOG_GET,
    &SLOWLOG_LEN,
    &SLOWLOG_RESET,
    &SLOWLOG_HELP,
    &MEMORY,
    &MEMORY_USAGE,
    &MEMORY_HELP,
    &MULTI,
    &EXEC,
    &DISCARD,
    &WATCH,
    &UNWATCH,
    &SAVE,
    &BGSAVE,
    &LASTSAVE,
];

/// Commands with a row here whose parsing has not been connected yet: COMMAND and its
/// subcommands leave them out, and the parser's test allows them to be missing. Empty
/// once every row is served.
pub const PENDING: &[&str] = &[];

/// Whether a top-level command is served (not [`PENDING`]).
pub fn is_served(spec: &CommandSpec) -> bool {
    let top = spec.name.split('|').next().unwrap_or_default();
    !PENDING.contains(&top)
}

/// The top-level commands served, in table order.
pub fn commands() -> impl Iterator<Item = &'static CommandSpec> {
    ALL.iter()
        .copied()
        .filter(|spec| !spec.name.contains('|') && is_served(spec))
}

/// The served command or subcommand named `name` (any case), `container|sub` naming a
/// subcommand, as COMMAND INFO and DOCS look names up.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let top = parts.next().unwrap_or_default();
    let command = commands().find(|spec| top.eq_ignore_ascii_case(spec.name.as_bytes()))?;
    match parts.next() {
        None => Some(command),
        Some(sub) => command.subcommand(sub),
    }
}

/// The command a full command line runs (`CLIENT KILL ...` runs `client|kill`), as
/// COMMAND GETKEYS finds it: `None` if unknown, or if a container's subcommand is.
pub fn lookup_call<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> Option<&'static CommandSpec> {
    let command = lookup(args.next()?).filter(|spec| !spec.name.contains('|'))?;
    if command.subcommands.is_empty() {
        return Some(command);
    }
    match args.next() {
        None => Some(command),
        Some(sub) => command.subcommand(sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_indexes_into_all() {
        for (index, spec) in ALL.iter().enumerate() {
            assert_eq!(usize::from(spec.id), index, "{}", spec.name);
        }
    }

    #[test]
    fn every_subcommand_is_listed_after_its_container() {
        for spec in ALL.iter().filter(|spec| !spec.name.contains('|')) {
            for (i, sub) in spec.subcommands.iter().enumerate() {
                assert_eq!(
                    usize::from(sub.id),
                    usize::from(spec.id) + 1 + i,
                    "{}",
                    sub.name
                );
                assert!(
                    sub.name.starts_with(&format!("{}|", spec.name)),
                    "{}",
                    sub.name
                );
            }
        }
        for name in PENDING {
            assert!(ALL.iter().any(|spec| spec.name == *name), "{name}");
        }
    }

    #[test]
    fn names_are_looked_up_in_any_case() {
        assert_eq!(lookup(b"GET").map(|spec| spec.name), Some("get"));
        assert_eq!(
            lookup(b"Client|Kill").map(|spec| spec.name),
            Some("client|kill")
        );
        assert!(lookup(b"client|nope").is_none());
        assert!(lookup(b"get|x").is_none());
        assert!(lookup(b"nope").is_none());
        let call = |args: &[&[u8]]| lookup_call(args.iter().copied()).map(|spec| spec.name);
        assert_eq!(call(&[b"config", b"GET", b"x"]), Some("config|get"));
        assert_eq!(call(&[b"config"]), Some("config"));
        assert_eq!(call(&[b"config", b"nope"]), None);
        assert_eq!(call(&[b"set", b"k"]), Some("set"));
        assert_eq!(call(&[b"client|kill"]), None);
    }

    #[test]
    fn arity_is_exact_or_a_minimum() {
        assert!(GET.accepts(2) && !GET.accepts(1) && !GET.accepts(3));
        assert!(SET.accepts(3) && SET.accepts(9) && !SET.accepts(2));
    }
}
