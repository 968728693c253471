//! Rows of the command table: commands about the server.

use super::{Arg, ArgType, BeginSearch, CommandSpec, Docs, FindKeys, KeySpec};

/// TIME.
pub static TIME: CommandSpec = CommandSpec {
    id: 73,
    name: "time",
    arity: 1,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast"],
    tips: &["nondeterministic_output"],
    docs: Docs {
        summary: "Return the current server time",
        since: "2.6.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// DBSIZE.
pub static DBSIZE: CommandSpec = CommandSpec {
    id: 74,
    name: "dbsize",
    arity: 1,
    flags: &["readonly", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:all_shards", "response_policy:agg_sum"],
    docs: Docs {
        summary: "Return the number of keys in the selected database",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// USAGE.
pub static USAGE: CommandSpec = CommandSpec {
    id: 75,
    name: "usage",
    arity: 1,
    flags: &["readonly", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@read", "@fast"],
    docs: Docs {
        summary: "Returns the bytes of keys and values stored",
        since: "0.1.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// FLUSHDB.
pub static FLUSHDB: CommandSpec = CommandSpec {
    id: 76,
    name: "flushdb",
    arity: -1,
    flags: &["write"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Remove all keys from the current database",
        since: "1.0.0",
        group: "server",
        complexity: "O(N) where N is the number of keys in the selected database",
        history: &[
            ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
            ("6.2.0", "Added the `SYNC` flushing mode modifier."),
        ],
        arguments: &[Arg::new("async", ArgType::OneOf).optional().of(&[
            Arg::new("async", ArgType::PureToken)
                .token("ASYNC")
                .since("4.0.0"),
            Arg::new("sync", ArgType::PureToken)
                .token("SYNC")
                .since("6.2.0"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// FLUSHALL.
pub static FLUSHALL: CommandSpec = CommandSpec {
    id: 77,
    name: "flushall",
    arity: -1,
    flags: &["write"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Remove all keys from all databases",
        since: "1.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of keys in all databases",
        history: &[
            ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
            ("6.2.0", "Added the `SYNC` flushing mode modifier."),
        ],
        arguments: &[Arg::new("async", ArgType::OneOf).optional().of(&[
            Arg::new("async", ArgType::PureToken)
                .token("ASYNC")
                .since("4.0.0"),
            Arg::new("sync", ArgType::PureToken)
                .token("SYNC")
                .since("6.2.0"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// INFO.
pub static INFO: CommandSpec = CommandSpec {
    id: 78,
    name: "info",
    arity: -1,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@dangerous"],
    tips: &[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ],
    docs: Docs {
        summary: "Get information and statistics about the server",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        history: &[(
            "7.0.0",
            "Added support for taking multiple section arguments.",
        )],
        arguments: &[Arg::new("section", ArgType::String).optional().multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND.
pub static COMMAND: CommandSpec = CommandSpec {
    id: 79,
    name: "command",
    arity: -1,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    subcommands: &[
        &COMMAND_COUNT,
        &COMMAND_DOCS,
        &COMMAND_GETKEYS,
        &COMMAND_GETKEYSANDFLAGS,
        &COMMAND_HELP,
        &COMMAND_INFO,
        &COMMAND_LIST,
    ],
    help: &[
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ],
    docs: Docs {
        summary: "Get array of Redis command details",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the total number of Redis commands",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND COUNT.
pub static COMMAND_COUNT: CommandSpec = CommandSpec {
    id: 80,
    name: "command|count",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Get total number of Redis commands",
        since: "2.8.13",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND DOCS.
pub static COMMAND_DOCS: CommandSpec = CommandSpec {
    id: 81,
    name: "command|docs",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    docs: Docs {
        summary: "Get array of specific Redis command documentation",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        arguments: &[Arg::new("command-name", ArgType::String)
            .optional()
            .multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND GETKEYS.
pub static COMMAND_GETKEYS: CommandSpec = CommandSpec {
    id: 82,
    name: "command|getkeys",
    arity: -4,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Extract keys given a full Redis command",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the number of arguments to the command",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND GETKEYSANDFLAGS.
pub static COMMAND_GETKEYSANDFLAGS: CommandSpec = CommandSpec {
    id: 83,
    name: "command|getkeysandflags",
    arity: -4,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Extract keys and access flags given a full Redis command",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of arguments to the command",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND HELP.
pub static COMMAND_HELP: CommandSpec = CommandSpec {
    id: 84,
    name: "command|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND INFO.
pub static COMMAND_INFO: CommandSpec = CommandSpec {
    id: 85,
    name: "command|info",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    docs: Docs {
        summary: "Get array of specific Redis command details, or all when no \
            argument is given.",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        history: &[(
            "7.0.0",
            "Allowed to be called with no argument to get info on all commands.",
        )],
        arguments: &[Arg::new("command-name", ArgType::String)
            .optional()
            .multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// COMMAND LIST.
pub static COMMAND_LIST: CommandSpec = CommandSpec {
    id: 86,
    name: "command|list",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    docs: Docs {
        summary: "Get an array of Redis command names",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of Redis commands",
        arguments: &[Arg::new("filterby", ArgType::OneOf)
            .token("FILTERBY")
            .optional()
            .of(&[
                Arg::new("module-name", ArgType::String).token("MODULE"),
                Arg::new("category", ArgType::String).token("ACLCAT"),
                Arg::new("pattern", ArgType::Pattern).token("PATTERN"),
            ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CONFIG.
pub static CONFIG: CommandSpec = CommandSpec {
    id: 87,
    name: "config",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    subcommands: &[&CONFIG_GET, &CONFIG_SET, &CONFIG_RESETSTAT, &CONFIG_HELP],
    help: &[
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
    ],
    docs: Docs {
        summary: "A container for server configuration commands",
        since: "2.0.0",
        group: "server",
        complexity: "Depends on subcommand.",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CONFIG GET.
pub static CONFIG_GET: CommandSpec = CommandSpec {
    id: 88,
    name: "config|get",
    arity: -3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    docs: Docs {
        summary: "Get the values of configuration parameters",
        since: "2.0.0",
        group: "server",
        complexity: "O(N) when N is the number of configuration parameters provided",
        history: &[(
            "7.0.0",
            "Added the ability to pass multiple pattern parameters in one call",
        )],
        arguments: &[Arg::new("parameter", ArgType::Block)
            .multiple()
            .of(&[Arg::new("parameter", ArgType::String)])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CONFIG SET.
pub static CONFIG_SET: CommandSpec = CommandSpec {
    id: 89,
    name: "config|set",
    arity: -4,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Set configuration parameters to the given values",
        since: "2.0.0",
        group: "server",
        complexity: "O(N) when N is the number of configuration parameters provided",
        history: &[(
            "7.0.0",
            "Added the ability to set multiple parameters in one call.",
        )],
        arguments: &[Arg::new("parameter_value", ArgType::Block).multiple().of(&[
            Arg::new("parameter", ArgType::String),
            Arg::new("value", ArgType::String),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CONFIG RESETSTAT.
pub static CONFIG_RESETSTAT: CommandSpec = CommandSpec {
    id: 90,
    name: "config|resetstat",
    arity: 2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    docs: Docs {
        summary: "Reset the stats returned by INFO",
        since: "2.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CONFIG HELP.
pub static CONFIG_HELP: CommandSpec = CommandSpec {
    id: 91,
    name: "config|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SLOWLOG.
pub static SLOWLOG: CommandSpec = CommandSpec {
    id: 92,
    name: "slowlog",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    subcommands: &[&SLOWLOG_GET, &SLOWLOG_LEN, &SLOWLOG_RESET, &SLOWLOG_HELP],
    help: &[
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ],
    docs: Docs {
        summary: "A container for slow log commands",
        since: "2.2.12",
        group: "server",
        complexity: "Depends on subcommand.",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SLOWLOG GET.
pub static SLOWLOG_GET: CommandSpec = CommandSpec {
    id: 93,
    name: "slowlog|get",
    arity: -2,
    flags: &["admin", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &["request_policy:all_nodes", "nondeterministic_output"],
    docs: Docs {
        summary: "Get the slow log's entries",
        since: "2.2.12",
        group: "server",
        complexity: "O(N) where N is the number of entries returned",
        history: &[(
            "4.0.0",
            "Added client IP address, port and name to the reply.",
        )],
        arguments: &[Arg::new("count", ArgType::Integer).optional()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SLOWLOG LEN.
pub static SLOWLOG_LEN: CommandSpec = CommandSpec {
    id: 94,
    name: "slowlog|len",
    arity: 2,
    flags: &["admin", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ],
    docs: Docs {
        summary: "Get the slow log's length",
        since: "2.2.12",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SLOWLOG RESET.
pub static SLOWLOG_RESET: CommandSpec = CommandSpec {
    id: 95,
    name: "slowlog|reset",
    arity: 2,
    flags: &["admin", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Clear all entries from the slow log",
        since: "2.2.12",
        group: "server",
        complexity: "O(N) where N is the number of entries in the slowlog",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SLOWLOG HELP.
pub static SLOWLOG_HELP: CommandSpec = CommandSpec {
    id: 96,
    name: "slowlog|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MEMORY.
pub static MEMORY: CommandSpec = CommandSpec {
    id: 97,
    name: "memory",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    subcommands: &[&MEMORY_USAGE, &MEMORY_HELP],
    docs: Docs {
        summary: "A container for memory diagnostics commands",
        since: "4.0.0",
        group: "server",
        complexity: "Depends on subcommand.",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MEMORY USAGE.
pub static MEMORY_USAGE: CommandSpec = CommandSpec {
    id: 98,
    name: "memory|usage",
    arity: -3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    step: 1,
    acl_categories: &["@read", "@slow"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(2),
        FindKeys::range(0, 1, 0),
    )],
    docs: Docs {
        summary: "Estimate the memory usage of a key",
        since: "4.0.0",
        group: "server",
        complexity: "O(N) where N is the number of samples.",
        arguments: &[
            Arg::new("key", ArgType::Key).key_spec(0),
            Arg::new("count", ArgType::Integer)
                .token("SAMPLES")
                .optional(),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// MEMORY HELP.
pub static MEMORY_HELP: CommandSpec = CommandSpec {
    id: 99,
    name: "memory|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "4.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SAVE.
pub static SAVE: CommandSpec = CommandSpec {
    id: 105,
    name: "save",
    arity: 1,
    flags: &["admin", "noscript", "no_async_loading", "no_multi"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    docs: Docs {
        summary: "Synchronously save the dataset to disk",
        since: "1.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of keys in all databases",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// BGSAVE.
pub static BGSAVE: CommandSpec = CommandSpec {
    id: 106,
    name: "bgsave",
    arity: -1,
    flags: &["admin", "noscript", "no_async_loading"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous"],
    docs: Docs {
        summary: "Asynchronously save the dataset to disk",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        history: &[("3.2.2", "Added the `SCHEDULE` option.")],
        arguments: &[Arg::new("schedule", ArgType::PureToken)
            .token("SCHEDULE")
            .since("3.2.2")
            .optional()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// LASTSAVE.
pub static LASTSAVE: CommandSpec = CommandSpec {
    id: 107,
    name: "lastsave",
    arity: 1,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@fast", "@dangerous"],
    tips: &["nondeterministic_output"],
    docs: Docs {
        summary: "Get the UNIX time stamp of the last successful save to disk",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};
