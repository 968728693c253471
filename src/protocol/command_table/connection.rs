//! Rows of the command table: commands about the connection.

use super::{Arg, ArgType, CommandSpec, Docs};

/// PING.
pub static PING: CommandSpec = CommandSpec {
    id: 54,
    name: "ping",
    arity: -1,
    flags: &["fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Ping the server",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("message", ArgType::String).optional()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// ECHO.
pub static ECHO: CommandSpec = CommandSpec {
    id: 55,
    name: "echo",
    arity: 2,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Echo the given string",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("message", ArgType::String)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// SELECT.
pub static SELECT: CommandSpec = CommandSpec {
    id: 56,
    name: "select",
    arity: 2,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Change the selected database for the current connection",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("index", ArgType::Integer)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT.
pub static CLIENT: CommandSpec = CommandSpec {
    id: 57,
    name: "client",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow"],
    subcommands: &[
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
    ],
    help: &[
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ],
    docs: Docs {
        summary: "A container for client connection commands",
        since: "2.4.0",
        group: "connection",
        complexity: "Depends on subcommand.",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT ID.
pub static CLIENT_ID: CommandSpec = CommandSpec {
    id: 58,
    name: "client|id",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Returns the client ID for the current connection",
        since: "5.0.0",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT GETNAME.
pub static CLIENT_GETNAME: CommandSpec = CommandSpec {
    id: 59,
    name: "client|getname",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Get the current connection name",
        since: "2.6.9",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT SETNAME.
pub static CLIENT_SETNAME: CommandSpec = CommandSpec {
    id: 60,
    name: "client|setname",
    arity: 3,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Set the current connection name",
        since: "2.6.9",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("connection-name", ArgType::String)],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT SETINFO.
pub static CLIENT_SETINFO: CommandSpec = CommandSpec {
    id: 61,
    name: "client|setinfo",
    arity: 4,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    docs: Docs {
        summary: "Sets information specific to the client or connection.",
        since: "7.2.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("attr", ArgType::OneOf).of(&[
            Arg::new("libname", ArgType::String).token("lib-name"),
            Arg::new("libver", ArgType::String).token("lib-ver"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT LIST.
pub static CLIENT_LIST: CommandSpec = CommandSpec {
    id: 62,
    name: "client|list",
    arity: -2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    tips: &["nondeterministic_output"],
    docs: Docs {
        summary: "Get the list of client connections",
        since: "2.4.0",
        group: "connection",
        complexity: "O(N) where N is the number of client connections",
        history: &[
            ("2.8.12", "Added unique client `id` field."),
            ("5.0.0", "Added optional `TYPE` filter."),
            ("6.0.0", "Added `user` field."),
            (
                "6.2.0",
                "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and \
            the optional `ID` filter.",
            ),
            (
                "7.0.0",
                "Added `resp`, `multi-mem`, `rbs` and `rbp` fields.",
            ),
            ("7.0.3", "Added `ssub` field."),
        ],
        arguments: &[
            Arg::new("normal_master_replica_pubsub", ArgType::OneOf)
                .token("TYPE")
                .since("5.0.0")
                .optional()
                .of(&[
                    Arg::new("normal", ArgType::PureToken).token("NORMAL"),
                    Arg::new("master", ArgType::PureToken).token("MASTER"),
                    Arg::new("replica", ArgType::PureToken).token("REPLICA"),
                    Arg::new("pubsub", ArgType::PureToken).token("PUBSUB"),
                ]),
            Arg::new("id", ArgType::Block)
                .token("ID")
                .since("6.2.0")
                .optional()
                .of(&[Arg::new("client-id", ArgType::Integer).multiple()]),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT INFO.
pub static CLIENT_INFO: CommandSpec = CommandSpec {
    id: 63,
    name: "client|info",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output"],
    docs: Docs {
        summary: "Returns information about the current client connection.",
        since: "6.2.0",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT KILL.
pub static CLIENT_KILL: CommandSpec = CommandSpec {
    id: 64,
    name: "client|kill",
    arity: -3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    docs: Docs {
        summary: "Kill the connection of a client",
        since: "2.4.0",
        group: "connection",
        complexity: "O(N) where N is the number of client connections",
        history: &[
            ("2.8.12", "Added new filter format."),
            ("2.8.12", "`ID` option."),
            ("3.2.0", "Added `master` type in for `TYPE` option."),
            (
                "5.0.0",
                "Replaced `slave` `TYPE` with `replica`. `slave` still \
            supported for backward compatibility.",
            ),
            ("6.2.0", "`LADDR` option."),
        ],
        arguments: &[Arg::new("filter", ArgType::OneOf).of(&[
            Arg::new("ip:port", ArgType::String).deprecated_since("2.8.12"),
            Arg::new("new-format", ArgType::OneOf).multiple().of(&[
                Arg::new("client-id", ArgType::Integer)
                    .token("ID")
                    .since("2.8.12")
                    .optional(),
                Arg::new("normal_master_slave_pubsub", ArgType::OneOf)
                    .token("TYPE")
                    .since("2.8.12")
                    .optional()
                    .of(&[
                        Arg::new("normal", ArgType::PureToken).token("NORMAL"),
                        Arg::new("master", ArgType::PureToken)
                            .token("MASTER")
                            .since("3.2.0"),
                        Arg::new("slave", ArgType::PureToken).token("SLAVE"),
                        Arg::new("replica", ArgType::PureToken)
                            .token("REPLICA")
                            .since("5.0.0"),
                        Arg::new("pubsub", ArgType::PureToken).token("PUBSUB"),
                    ]),
                Arg::new("username", ArgType::String)
                    .token("USER")
                    .optional(),
                Arg::new("ip:port", ArgType::String)
                    .token("ADDR")
                    .optional(),
                Arg::new("ip:port", ArgType::String)
                    .token("LADDR")
                    .since("6.2.0")
                    .optional(),
                Arg::new("yes/no", ArgType::String)
                    .token("SKIPME")
                    .optional(),
            ]),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT REPLY.
pub static CLIENT_REPLY: CommandSpec = CommandSpec {
    id: 65,
    name: "client|reply",
    arity: 3,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Instruct the server whether to reply to commands",
        since: "3.2.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("on_off_skip", ArgType::OneOf).of(&[
            Arg::new("on", ArgType::PureToken).token("ON"),
            Arg::new("off", ArgType::PureToken).token("OFF"),
            Arg::new("skip", ArgType::PureToken).token("SKIP"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT NO-EVICT.
pub static CLIENT_NO_EVICT: CommandSpec = CommandSpec {
    id: 66,
    name: "client|no-evict",
    arity: 3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    docs: Docs {
        summary: "Set client eviction mode for the current connection",
        since: "7.0.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("enabled", ArgType::OneOf).of(&[
            Arg::new("on", ArgType::PureToken).token("ON"),
            Arg::new("off", ArgType::PureToken).token("OFF"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT NO-TOUCH.
pub static CLIENT_NO_TOUCH: CommandSpec = CommandSpec {
    id: 67,
    name: "client|no-touch",
    arity: 3,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Controls whether commands sent by the client affect the \
            LRU/LFU of accessed keys.",
        since: "7.2.0",
        group: "connection",
        complexity: "O(1)",
        arguments: &[Arg::new("enabled", ArgType::OneOf).of(&[
            Arg::new("on", ArgType::PureToken).token("ON"),
            Arg::new("off", ArgType::PureToken).token("OFF"),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// CLIENT HELP.
pub static CLIENT_HELP: CommandSpec = CommandSpec {
    id: 68,
    name: "client|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@connection"],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// HELLO.
pub static HELLO: CommandSpec = CommandSpec {
    id: 69,
    name: "hello",
    arity: -1,
    flags: &[
        "noscript",
        "loading",
        "stale",
        "fast",
        "no_auth",
        "allow_busy",
    ],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Handshake with Redis",
        since: "6.0.0",
        group: "connection",
        complexity: "O(1)",
        history: &[(
            "6.2.0",
            "`protover` made optional; when called without arguments the \
            command reports the current connection's context.",
        )],
        arguments: &[Arg::new("arguments", ArgType::Block).optional().of(&[
            Arg::new("protover", ArgType::Integer),
            Arg::new("username_password", ArgType::Block)
                .token("AUTH")
                .optional()
                .of(&[
                    Arg::new("username", ArgType::String),
                    Arg::new("password", ArgType::String),
                ]),
            Arg::new("clientname", ArgType::String)
                .token("SETNAME")
                .optional(),
        ])],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// AUTH.
pub static AUTH: CommandSpec = CommandSpec {
    id: 70,
    name: "auth",
    arity: -2,
    flags: &[
        "noscript",
        "loading",
        "stale",
        "fast",
        "no_auth",
        "allow_busy",
    ],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Authenticate to the server",
        since: "1.0.0",
        group: "connection",
        complexity: "O(N) where N is the number of passwords defined for the user",
        history: &[("6.0.0", "Added ACL style (username and password).")],
        arguments: &[
            Arg::new("username", ArgType::String)
                .since("6.0.0")
                .optional(),
            Arg::new("password", ArgType::String),
        ],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// QUIT.
pub static QUIT: CommandSpec = CommandSpec {
    id: 71,
    name: "quit",
    arity: -1,
    flags: &[
        "noscript",
        "loading",
        "stale",
        "fast",
        "no_auth",
        "allow_busy",
    ],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Close the connection",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// RESET.
pub static RESET: CommandSpec = CommandSpec {
    id: 72,
    name: "reset",
    arity: 1,
    flags: &[
        "noscript",
        "loading",
        "stale",
        "fast",
        "no_auth",
        "allow_busy",
    ],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@connection"],
    docs: Docs {
        summary: "Reset the connection",
        since: "6.2.0",
        group: "connection",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};
