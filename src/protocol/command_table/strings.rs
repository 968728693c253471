//! Rows of the command table: commands on string values, bit commands among them.

use super::{Arg, ArgType, BeginSearch, CommandSpec, Docs, FindKeys, KeySpec};

/// GET.
pub static GET: CommandSpec = CommandSpec {
    id: 0,
    name: "get",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the value of a key",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SET.
pub static SET: CommandSpec = CommandSpec {
    id: 1,
    name: "set",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update", "variable_flags"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )
    .notes("RW and ACCESS due to the optional `GET` argument")],
    docs: Docs {
        summary: "Set the string value of a key",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        history: &[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            (
                "7.0.0",
                "Allowed the `NX` and `GET` options to be used together.",
            ),
        ],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
            Arg::new("condition", ArgType::OneOf)
                .since("2.6.12")
                .optional()
                .of(&[
                    Arg::new("nx", ArgType::PureToken).token("NX"),
                    Arg::new("xx", ArgType::PureToken).token("XX"),
                ]),
            Arg::new("get", ArgType::PureToken)
                .token("GET")
                .since("6.2.0")
                .optional(),
            Arg::new("expiration", ArgType::OneOf).optional().of(&[
                Arg::new("seconds", ArgType::Integer)
                    .token("EX")
                    .since("2.6.12"),
                Arg::new("milliseconds", ArgType::Integer)
                    .token("PX")
                    .since("2.6.12"),
                Arg::new("unix-time-seconds", ArgType::UnixTime)
                    .token("EXAT")
                    .since("6.2.0"),
                Arg::new("unix-time-milliseconds", ArgType::UnixTime)
                    .token("PXAT")
                    .since("6.2.0"),
                Arg::new("keepttl", ArgType::PureToken)
                    .token("KEEPTTL")
                    .since("6.0.0"),
            ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SETEX.
pub static SETEX: CommandSpec = CommandSpec {
    id: 2,
    name: "setex",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["OW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the value and expiration of a key",
        since: "2.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("seconds", ArgType::Integer),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// PSETEX.
pub static PSETEX: CommandSpec = CommandSpec {
    id: 3,
    name: "psetex",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["OW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the value and expiration in milliseconds of a key",
        since: "2.6.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("milliseconds", ArgType::Integer),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SETNX.
pub static SETNX: CommandSpec = CommandSpec {
    id: 4,
    name: "setnx",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["OW", "insert"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the value of a key, only if the key does not exist",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// GETSET.
pub static GETSET: CommandSpec = CommandSpec {
    id: 5,
    name: "getset",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Set the string value of a key and return its old value",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`SET` with the `!GET` argument",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// GETRANGE.
pub static GETRANGE: CommandSpec = CommandSpec {
    id: 6,
    name: "getrange",
    arity: 4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get a substring of the string stored at a key",
        since: "2.4.0",
        group: "string",
        complexity: "O(N) where N is the length of the returned string. The \
            complexity is ultimately determined by the returned length, \
            but because creating a substring from an existing string is \
            very cheap, it can be considered O(1) for small strings.",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("start", ArgType::Integer),
            Arg::new("end", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SUBSTR.
pub static SUBSTR: CommandSpec = CommandSpec {
    id: 7,
    name: "substr",
    arity: 4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get a substring of the string stored at a key",
        since: "1.0.0",
        group: "string",
        complexity: "O(N) where N is the length of the returned string. The \
            complexity is ultimately determined by the returned length, \
            but because creating a substring from an existing string is \
            very cheap, it can be considered O(1) for small strings.",
        doc_flags: &["deprecated"],
        deprecated_since: "2.0.0",
        replaced_by: "`GETRANGE`",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("start", ArgType::Integer),
            Arg::new("end", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// GETDEL.
pub static GETDEL: CommandSpec = CommandSpec {
    id: 8,
    name: "getdel",
    arity: 2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "delete"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the value of a key and delete the key",
        since: "6.2.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// GETEX.
pub static GETEX: CommandSpec = CommandSpec {
    id: 9,
    name: "getex",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )
    .notes("RW and UPDATE because it changes the TTL")],
    docs: Docs {
        summary: "Get the value of a key and optionally set its expiration",
        since: "6.2.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("expiration", ArgType::OneOf).optional().of(&[
                Arg::new("seconds", ArgType::Integer).token("EX"),
                Arg::new("milliseconds", ArgType::Integer).token("PX"),
                Arg::new("unix-time-seconds", ArgType::UnixTime).token("EXAT"),
                Arg::new("unix-time-milliseconds", ArgType::UnixTime).token("PXAT"),
                Arg::new("persist", ArgType::PureToken).token("PERSIST"),
            ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MGET.
pub static MGET: CommandSpec = CommandSpec {
    id: 10,
    name: "mget",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@read", "@string", "@fast"],
    tips: &["request_policy:multi_shard"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Get the values of all the given keys",
        since: "1.0.0",
        group: "string",
        complexity: "O(N) where N is the number of keys to retrieve.",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MSET.
pub static MSET: CommandSpec = CommandSpec {
    id: 11,
    name: "mset",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    step: 2,
    acl_categories: &["@write", "@string", "@slow"],
    tips: &[
        "request_policy:multi_shard",
        "response_policy:all_succeeded",
    ],
    key_specs: &[KeySpec::new(
        &["OW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 2, 0),
    )],
    docs: Docs {
        summary: "Set multiple keys to multiple values",
        since: "1.0.1",
        group: "string",
        complexity: "O(N) where N is the number of keys to set.",
        arguments: &[Arg::new("key_value", ArgType::Block).multiple().of(&[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// INCR.
pub static INCR: CommandSpec = CommandSpec {
    id: 12,
    name: "incr",
    arity: 2,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Increment the integer value of a key by one",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// DECR.
pub static DECR: CommandSpec = CommandSpec {
    id: 13,
    name: "decr",
    arity: 2,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Decrement the integer value of a key by one",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// INCRBY.
pub static INCRBY: CommandSpec = CommandSpec {
    id: 14,
    name: "incrby",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Increment the integer value of a key by the given amount",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("increment", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// DECRBY.
pub static DECRBY: CommandSpec = CommandSpec {
    id: 15,
    name: "decrby",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Decrement the integer value of a key by the given number",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("decrement", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// APPEND.
pub static APPEND: CommandSpec = CommandSpec {
    id: 16,
    name: "append",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "insert"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Append a value to a key",
        since: "2.0.0",
        group: "string",
        complexity: "O(1). The amortized time complexity is O(1) assuming the \
            appended value is small and the already present value is of \
            any size, since the dynamic string library used by Redis \
            will double the free space available on every reallocation.",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// STRLEN.
pub static STRLEN: CommandSpec = CommandSpec {
    id: 17,
    name: "strlen",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Get the length of the value stored in a key",
        since: "2.2.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SETRANGE.
pub static SETRANGE: CommandSpec = CommandSpec {
    id: 18,
    name: "setrange",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["RW", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Overwrite part of a string at key starting at the specified offset",
        since: "2.2.0",
        group: "string",
        complexity: "O(1), not counting the time taken to copy the new string in \
            place. Usually, this string is very small so the amortized \
            complexity is O(1). Otherwise, complexity is O(M) with M \
            being the length of the value argument.",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("offset", ArgType::Integer),
            Arg::new("value", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// GETBIT.
pub static GETBIT: CommandSpec = CommandSpec {
    id: 19,
    name: "getbit",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@bitmap", "@fast"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Returns the bit value at offset in the string value stored at key",
        since: "2.2.0",
        group: "bitmap",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("offset", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SETBIT.
pub static SETBIT: CommandSpec = CommandSpec {
    id: 20,
    name: "setbit",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@bitmap", "@slow"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Sets or clears the bit at offset in the string value stored at key",
        since: "2.2.0",
        group: "bitmap",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("offset", ArgType::Integer),
            Arg::new("value", ArgType::Integer),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// BITCOUNT.
pub static BITCOUNT: CommandSpec = CommandSpec {
    id: 21,
    name: "bitcount",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@read", "@bitmap", "@slow"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Count set bits in a string",
        since: "2.6.0",
        group: "bitmap",
        complexity: "O(N)",
        history: &[("7.0.0", "Added the `BYTE|BIT` option.")],
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("index", ArgType::Block).optional().of(&[
                Arg::new("start", ArgType::Integer),
                Arg::new("end", ArgType::Integer),
                Arg::new("index_unit", ArgType::OneOf)
                    .since("7.0.0")
                    .optional()
                    .of(&[
                        Arg::new("byte", ArgType::PureToken).token("BYTE"),
                        Arg::new("bit", ArgType::PureToken).token("BIT"),
                    ]),
            ]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// INCRBYFLOAT.
pub static INCRBYFLOAT: CommandSpec = CommandSpec {
    id: 22,
    name: "incrbyfloat",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    step: 1,
    acl_categories: &["@write", "@string", "@fast"],
    key_specs: &[KeySpec::new(
        &["RW", "access", "update"],
        BeginSearch::Index(1),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Increment the float value of a key by the given amount",
        since: "2.6.0",
        group: "string",
        complexity: "O(1)",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("increment", ArgType::Double),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MSETNX.
pub static MSETNX: CommandSpec = CommandSpec {
    id: 23,
    name: "msetnx",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    step: 2,
    acl_categories: &["@write", "@string", "@slow"],
    tips: &["request_policy:multi_shard", "response_policy:agg_min"],
    key_specs: &[KeySpec::new(
        &["OW", "insert"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 2, 0),
    )],
    docs: Docs {
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        since: "1.0.1",
        group: "string",
        complexity: "O(N) where N is the number of keys to set.",
        arguments: &[Arg::new("key_value", ArgType::Block).multiple().of(&[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("value", ArgType::String),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// LCS.
pub static LCS: CommandSpec = CommandSpec {
    id: 24,
    name: "lcs",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 2,
    step: 1,
    acl_categories: &["@read", "@string", "@slow"],
    key_specs: &[KeySpec::new(
        &["RO", "access"],
        BeginSearch::Index(1),
        FindKeys::range(1, 1, 0),
    )],
    docs: Docs {
        summary: "Find longest common substring",
        since: "7.0.0",
        group: "string",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        arguments: &[
            Arg::new("key1", ArgType::Key).key_spec(0),
            Arg::new("key2", ArgType::Key).key_spec(0),
            Arg::new("len", ArgType::PureToken).token("LEN").optional(),
            Arg::new("idx", ArgType::PureToken).token("IDX").optional(),
            Arg::new("len", ArgType::Integer)
                .token("MINMATCHLEN")
                .optional(),
            Arg::new("withmatchlen", ArgType::PureToken)
                .token("WITHMATCHLEN")
                .optional(),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};
