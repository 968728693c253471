//! What the keyspace commands (OBJECT, MEMORY, RESTORE) carry beyond keys, and the help
//! texts of OBJECT HELP and MEMORY HELP, worded as Redis 7 words them.

/// What OBJECT reports about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectField {
    /// ENCODING: how Redis would hold the value (`int`, `embstr` or `raw`).
    Encoding,
    /// FREQ: the key's read frequency as the eviction policy estimates it.
    Freq,
    /// IDLETIME: seconds since the key was last read or written.
    IdleTime,
    /// REFCOUNT: references to the value, always 1 (values are never shared).
    RefCount,
}

/// RESTORE's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// REPLACE: overwrite an existing key.
    pub replace: bool,
    /// ABSTTL: the time to live is a Unix time in milliseconds.
    pub absolute: bool,
    /// IDLETIME: seconds since the value's last access.
    pub idle_secs: Option<u64>,
    /// FREQ: the value's access frequency (0 to 255).
    pub freq: Option<u8>,
}

/// A command whose HELP subcommand lists its subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpTopic {
    /// OBJECT HELP.
    Object,
    /// MEMORY HELP.
    Memory,
}

impl HelpTopic {
    /// The lines of the help text, as Redis 7 prints them: each subcommand served, its
    /// description, then HELP itself. MEMORY lists only the subcommands served here.
    pub fn lines(self) -> &'static [&'static str] {
        match self {
            Self::Object => OBJECT_HELP,
            Self::Memory => MEMORY_HELP,
        }
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];
