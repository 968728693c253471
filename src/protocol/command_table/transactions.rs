//! Rows of the command table: transactions.

use super::{Arg, ArgType, BeginSearch, CommandSpec, Docs, FindKeys, KeySpec};

/// MULTI.
pub static MULTI: CommandSpec = CommandSpec {
    id: 100,
    name: "multi",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@transaction"],
    docs: Docs {
        summary: "Mark the start of a transaction block",
        since: "1.2.0",
        group: "transactions",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// EXEC.
pub static EXEC: CommandSpec = CommandSpec {
    id: 101,
    name: "exec",
    arity: 1,
    flags: &["noscript", "loading", "stale", "skip_slowlog"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@slow", "@transaction"],
    docs: Docs {
        summary: "Execute all commands issued after MULTI",
        since: "1.2.0",
        group: "transactions",
        complexity: "Depends on commands in the transaction",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// DISCARD.
pub static DISCARD: CommandSpec = CommandSpec {
    id: 102,
    name: "discard",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@transaction"],
    docs: Docs {
        summary: "Discard all commands issued after MULTI",
        since: "2.0.0",
        group: "transactions",
        complexity: "O(N), when N is the number of queued commands",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// WATCH.
pub static WATCH: CommandSpec = CommandSpec {
    id: 103,
    name: "watch",
    arity: -2,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 1,
    last_key: -1,
    step: 1,
    acl_categories: &["@fast", "@transaction"],
    key_specs: &[KeySpec::new(
        &["RO"],
        BeginSearch::Index(1),
        FindKeys::range(-1, 1, 0),
    )],
    docs: Docs {
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        since: "2.2.0",
        group: "transactions",
        complexity: "O(1) for every key.",
        arguments: &[Arg::new("key", ArgType::Key).key_spec(0).multiple()],
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};

/// UNWATCH.
pub static UNWATCH: CommandSpec = CommandSpec {
    id: 104,
    name: "unwatch",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    step: 0,
    acl_categories: &["@fast", "@transaction"],
    docs: Docs {
        summary: "Forget about all watched keys",
        since: "2.2.0",
        group: "transactions",
        complexity: "O(1)",
        ..Docs::NONE
    },
    ..CommandSpec::NONE
};
