//! Rows of the command table: commands on keys, whatever they hold, and their expiry.

use super::{Arg, ArgType, BeginSearch, CommandSpec, Docs, FindKeys, KeySpec};

/// DEL.
pub static DEL: CommandSpec = CommandSpec {
    id: 25,
    name: "del",
    arity: -2,
    flags: &["write"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@slow"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    key_specs: &[KeySpec::new(
        &["RM", "delete"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Delete a key",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) where N is the number of keys that will be removed. \
            When a key to remove holds a value other than a string, the \
            individual complexity for this key is O(M) where M is the \
            number of elements in the list, set, sorted set or hash. \
            Removing a single key that holds a string value is O(1).",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// UNLINK.
pub static UNLINK: CommandSpec = CommandSpec {
    id: 26,
    name: "unlink",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    key_specs: &[KeySpec::new(
        &["RM", "delete"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Delete a key asynchronously in another thread. Otherwise it \
            is just as DEL, but non blocking.",
        since: "4.0.0",
        group: "generic",
        complexity: "O(1) for each key removed regardless of its size. Then the \
            command does O(N) work in a different thread in order to \
            reclaim memory, where N is the number of allocations the \
            deleted objects where composed of.",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// EXISTS.
pub static EXISTS: CommandSpec = CommandSpec {
    id: 27,
    name: "exists",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Determine if a key exists",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) where N is the number of keys to check.",
        history: &[("3.0.3", "Accepts multiple `key` arguments.")],
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// EXPIRE.
pub static EXPIRE: CommandSpec = CommandSpec {
    id: 28,
    name: "expire",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set a key's time to live in seconds",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("seconds", ArgType::Integer),
            Arg::new("condition", ArgType::OneOf)
                .since("7.0.0")
                .optional()
                .of(&[
                    Arg::new("nx", ArgType::PureToken).token("NX"),
                    Arg::new("xx", ArgType::PureToken).token("XX"),
                    Arg::new("gt", ArgType::PureToken).token("GT"),
                    Arg::new("lt", ArgType::PureToken).token("LT"),
                ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PEXPIRE.
pub static PEXPIRE: CommandSpec = CommandSpec {
    id: 29,
    name: "pexpire",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set a key's time to live in milliseconds",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("milliseconds", ArgType::Integer),
            Arg::new("condition", ArgType::OneOf)
                .since("7.0.0")
                .optional()
                .of(&[
                    Arg::new("nx", ArgType::PureToken).token("NX"),
                    Arg::new("xx", ArgType::PureToken).token("XX"),
                    Arg::new("gt", ArgType::PureToken).token("GT"),
                    Arg::new("lt", ArgType::PureToken).token("LT"),
                ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// EXPIREAT.
pub static EXPIREAT: CommandSpec = CommandSpec {
    id: 30,
    name: "expireat",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the expiration for a key as a UNIX timestamp",
        since: "1.2.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("unix-time-seconds", ArgType::UnixTime),
            Arg::new("condition", ArgType::OneOf)
                .since("7.0.0")
                .optional()
                .of(&[
                    Arg::new("nx", ArgType::PureToken).token("NX"),
                    Arg::new("xx", ArgType::PureToken).token("XX"),
                    Arg::new("gt", ArgType::PureToken).token("GT"),
                    Arg::new("lt", ArgType::PureToken).token("LT"),
                ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PEXPIREAT.
pub static PEXPIREAT: CommandSpec = CommandSpec {
    id: 31,
    name: "pexpireat",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the expiration for a key as a UNIX timestamp specified \
            in milliseconds",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("unix-time-milliseconds", ArgType::UnixTime),
            Arg::new("condition", ArgType::OneOf)
                .since("7.0.0")
                .optional()
                .of(&[
                    Arg::new("nx", ArgType::PureToken).token("NX"),
                    Arg::new("xx", ArgType::PureToken).token("XX"),
                    Arg::new("gt", ArgType::PureToken).token("GT"),
                    Arg::new("lt", ArgType::PureToken).token("LT"),
                ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// TTL.
pub static TTL: CommandSpec = CommandSpec {
    id: 32,
    name: "ttl",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the time to live for a key in seconds",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("2.8.0", "Added the -2 reply.")],
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PTTL.
pub static PTTL: CommandSpec = CommandSpec {
    id: 33,
    name: "pttl",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the time to live for a key in milliseconds",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1)",
        history: &[("2.8.0", "Added the -2 reply.")],
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// EXPIRETIME.
pub static EXPIRETIME: CommandSpec = CommandSpec {
    id: 34,
    name: "expiretime",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the expiration Unix timestamp for a key",
        since: "7.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PEXPIRETIME.
pub static PEXPIRETIME: CommandSpec = CommandSpec {
    id: 35,
    name: "pexpiretime",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the expiration Unix timestamp for a key in milliseconds",
        since: "7.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PERSIST.
pub static PERSIST: CommandSpec = CommandSpec {
    id: 36,
    name: "persist",
    arity: 2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Remove the expiration from a key",
        since: "2.2.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// TOUCH.
pub static TOUCH: CommandSpec = CommandSpec {
    id: 37,
    name: "touch",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Alters the last access time of a key(s). Returns the number \
            of existing keys specified.",
        since: "3.2.1",
        group: "generic",
        complexity: "O(N) where N is the number of keys that will be touched.",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// TYPE.
pub static TYPE: CommandSpec = CommandSpec {
    id: 38,
    name: "type",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Determine the type stored at key",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SCAN.
pub static SCAN: CommandSpec = CommandSpec {
    id: 39,
    name: "scan",
    arity: -2,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output", "request_policy:special"],
    docs: Docs {
        summary: "Incrementally iterate the keys space",
        since: "2.8.0",
        group: "generic",
        complexity: "O(1) for every call. O(N) for a complete iteration, \
            including enough command calls for the cursor to return back \
            to 0. N is the number of elements inside the collection.",
        history: &[("6.0.0", "Added the `TYPE` subcommand.")],
        arguments: &[
            Arg::new("cursor", ArgType::Integer),
            Arg::new("pattern", ArgType::Pattern)
                .token("MATCH")
                .optional(),
            Arg::new("count", ArgType::Integer)
                .token("COUNT")
                .optional(),
            Arg::new("type", ArgType::String)
                .token("TYPE")
                .since("6.0.0")
                .optional(),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// KEYS.
pub static KEYS: CommandSpec = CommandSpec {
    id: 40,
    name: "keys",
    arity: 2,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@read", "@slow", "@dangerous"],
    tips: &["request_policy:all_shards", "nondeterministic_output_order"],
    docs: Docs {
        summary: "Find all keys matching the given pattern",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) with N being the number of keys in the database, under \
            the assumption that the key names in the database and the \
            given pattern have limited length.",
        arguments: &[Arg::new("pattern", ArgType::Pattern)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// RANDOMKEY.
pub static RANDOMKEY: CommandSpec = CommandSpec {
    id: 41,
    name: "randomkey",
    arity: 1,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["request_policy:all_shards", "nondeterministic_output"],
    docs: Docs {
        summary: "Return a random key from the keyspace",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// RENAME.
pub static RENAME: CommandSpec = CommandSpec {
    id: 42,
    name: "rename",
    arity: 3,
    flags: &["write"],
    first_key: 1,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@slow"],
    key_specs: &[
        KeySpec::new(
            &["RW", "access", "delete"],
            BeginSearch::Index(1),
            FindKeys::range(0, 1, 0),
        ),
        KeySpec::new(
            &["OW", "update"],
            BeginSearch::Index(2),
            FindKeys::range(0, 1, 0),
        ),
    ],
    docs: Docs {
        summary: "Rename a key",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("newkey", ArgType::Key).key_spec(1),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// RENAMENX.
pub static RENAMENX: CommandSpec = CommandSpec {
    id: 43,
    name: "renamenx",
    arity: 3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@fast"],
    key_specs: &[
        KeySpec::new(
            &["RW", "access", "delete"],
            BeginSearch::Index(1),
            FindKeys::range(0, 1, 0),
        ),
        KeySpec::new(
            &["OW", "insert"],
            BeginSearch::Index(2),
            FindKeys::range(0, 1, 0),
        ),
    ],
    docs: Docs {
        summary: "Rename a key, only if the new key does not exist",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        history: &[(
            "3.2.0",
            "The command no longer returns an error when source and \
            destination names are the same.",
        )],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("newkey", ArgType::Key).key_spec(1),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COPY.
pub static COPY: CommandSpec = CommandSpec {
    id: 44,
    name: "copy",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@slow"],
    key_specs: &[
        KeySpec::new(
            &["RO", "access"],
            BeginSearch::Index(1),
            FindKeys::range(0, 1, 0),
        ),
        KeySpec::new(
            &["OW", "update"],
            BeginSearch::Index(2),
            FindKeys::range(0, 1, 0),
        ),
    ],
    docs: Docs {
        summary: "Copy a key",
        since: "6.2.0",
        group: "generic",
        complexity: "O(N) worst case for collections, where N is the number of \
            nested items. O(1) for string values.",
        arguments: &[
            Arg::new("source", ArgType::Key).key_spec(0),
            Arg::new("destination", ArgType::Key).key_spec(1),
            Arg::new("destination-db", ArgType::Integer)
                .token("DB")
                .optional(),
            Arg::new("replace", ArgType::PureToken)
                .token("REPLACE")
                .optional(),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT.
pub static OBJECT: CommandSpec = CommandSpec {
    id: 45,
    name: "object",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    subcommands: &[
        &OBJECT_ENCODING,
        &OBJECT_FREQ,
        &OBJECT_HELP,
        &OBJECT_IDLETIME,
        &OBJECT_REFCOUNT,
    ],
    docs: Docs {
        summary: "A container for object introspection commands",
        since: "2.2.3",
        group: "generic",
        complexity: "Depends on subcommand.",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT ENCODING.
pub static OBJECT_ENCODING: CommandSpec = CommandSpec {
    id: 46,
    name: "object|encoding",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(2),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Inspect the internal encoding of a Redis object",
        since: "2.2.3",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT FREQ.
pub static OBJECT_FREQ: CommandSpec = CommandSpec {
    id: 47,
    name: "object|freq",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(2),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the logarithmic access frequency counter of a Redis object",
        since: "4.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT HELP.
pub static OBJECT_HELP: CommandSpec = CommandSpec {
    id: 48,
    name: "object|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@slow"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "generic",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT IDLETIME.
pub static OBJECT_IDLETIME: CommandSpec = CommandSpec {
    id: 49,
    name: "object|idletime",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(2),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the time since a Redis object was last accessed",
        since: "2.2.3",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// OBJECT REFCOUNT.
pub static OBJECT_REFCOUNT: CommandSpec = CommandSpec {
    id: 50,
    name: "object|refcount",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(2),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the number of references to the value of the key",
        since: "2.2.3",
        group: "generic",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// DUMP.
pub static DUMP: CommandSpec = CommandSpec {
    id: 51,
    name: "dump",
    arity: 2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Return a serialized version of the value stored at the \
            specified key.",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1) to access the key and additional O(N*M) to serialize \
            it, where N is the number of Redis objects composing the \
            value and M their average size. For small string values the \
            time complexity is thus O(1)+O(1*M) where M is small, so \
            simply O(1).",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// RESTORE.
pub static RESTORE: CommandSpec = CommandSpec {
    id: 52,
    name: "restore",
    arity: -4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
    key_specs: &[KeySpec::new(
        &["OW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Create a key using the provided serialized value, previously \
            obtained using DUMP.",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1) to create the new key and additional O(N*M) to \
            reconstruct the serialized value, where N is the number of \
            Redis objects composing the value and M their average size. \
            For small string values the time complexity is thus \
            O(1)+O(1*M) where M is small, so simply O(1). However for \
            sorted set values the complexity is O(N*M*log(N)) because \
            inserting values into sorted sets is O(log(N)).",
        history: &[
            ("3.0.0", "Added the `REPLACE` modifier."),
            ("5.0.0", "Added the `ABSTTL` modifier."),
            ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
        ],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("ttl", ArgType::Integer),
            Arg::new("serialized-value", ArgType::String),
            Arg::new("replace", ArgType::PureToken)
                .token("REPLACE")
                .since("3.0.0")
                .optional(),
            Arg::new("absttl", ArgType::PureToken)
                .token("ABSTTL")
                .since("5.0.0")
                .optional(),
            Arg::new("seconds", ArgType::Integer)
                .token("IDLETIME")
                .since("5.0.0")
                .optional(),
            Arg::new("frequency", ArgType::Integer)
                .token("FREQ")
                .since("5.0.0")
                .optional(),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// WAIT.
pub static WAIT: CommandSpec = CommandSpec {
    id: 53,
    name: "wait",
    arity: 3,
    flags: &["noscript"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["request_policy:all_shards", "response_policy:agg_min"],
    docs: Docs {
        summary: "Wait for the synchronous replication of all the write \
            commands sent in the context of the current connection",
        since: "3.0.0",
        group: "generic",
        complexity: "O(1)",
        arguments: &[
            Arg::new("numreplicas", ArgType::Integer),
            Arg::new("timeout", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};
