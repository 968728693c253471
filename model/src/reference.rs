//! `RefStore`: the sequential specification of the line protocol's commands: for each
//! operation, the exact reply, and the exact `USAGE` (Σ key + value bytes). It has no
//! eviction: compare it with a server whose memory limit is never reached.

use std::collections::BTreeMap;
use std::io::Write as _;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// One operation of the line protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `SET <key> <value>`.
    Set {
        /// The key: non-empty, no byte ≤ 0x20 and no 0x7f.
        key: Vec<u8>,
        /// The value: no LF, and not ending in CR (the line protocol cannot carry those).
        value: Vec<u8>,
    },
    /// `GET <key>`.
    Get {
        /// The key.
        key: Vec<u8>,
    },
    /// `DELETE <key>`.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
    /// `USAGE`.
    Usage,
    /// `PING`.
    Ping,
}

impl Op {
    /// The request line, LF included.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = Vec::new();
        match self {
            Op::Set { key, value } => {
                line.extend_from_slice(b"SET ");
                line.extend_from_slice(key);
                line.push(b' ');
                line.extend_from_slice(value);
            }
            Op::Get { key } => {
                line.extend_from_slice(b"GET ");
                line.extend_from_slice(key);
            }
            Op::Delete { key } => {
                line.extend_from_slice(b"DELETE ");
                line.extend_from_slice(key);
            }
            Op::Usage => line.extend_from_slice(b"USAGE"),
            Op::Ping => line.extend_from_slice(b"PING"),
        }
        line.push(b'\n');
        line
    }
}

/// What the specification answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK`.
    Ok,
    /// `VALUE <base64>`, holding the raw value.
    Value(Vec<u8>),
    /// `NOT_FOUND`.
    NotFound,
    /// `USAGE <bytes>`.
    Usage(u64),
    /// `PONG`.
    Pong,
}

impl Reply {
    /// The reply line exactly as the server writes it, LF included.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = match self {
            Reply::Ok => writeln!(line, "OK"),
            Reply::Value(value) => writeln!(line, "VALUE {}", BASE64.encode(value)),
            Reply::NotFound => writeln!(line, "NOT_FOUND"),
            Reply::Usage(bytes) => writeln!(line, "USAGE {bytes}"),
            Reply::Pong => writeln!(line, "PONG"),
        };
        line
    }
}

/// The sequential reference store.
#[derive(Debug, Clone, Default)]
pub struct RefStore {
    /// The live entries.
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl RefStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `op` and returns the reply the server must give.
    pub fn apply(&mut self, op: &Op) -> Reply {
        match op {
            Op::Set { key, value } => {
                self.entries.insert(key.clone(), value.clone());
                Reply::Ok
            }
            Op::Get { key } => self
                .entries
                .get(key)
                .map_or(Reply::NotFound, |value| Reply::Value(value.clone())),
            Op::Delete { key } => match self.entries.remove(key) {
                Some(_) => Reply::Ok,
                None => Reply::NotFound,
            },
            Op::Usage => Reply::Usage(self.usage_bytes()),
            Op::Ping => Reply::Pong,
        }
    }

    /// Σ(key + value bytes) of the live entries.
    pub fn usage_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|(key, value)| (key.len() + value.len()) as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_start_session() {
        let mut store = RefStore::new();
        let set = Op::Set {
            key: b"user".to_vec(),
            value: b"alice".to_vec(),
        };
        assert_eq!(set.to_line(), b"SET user alice\n");
        assert_eq!(store.apply(&set).to_line(), b"OK\n");
        let get = Op::Get {
            key: b"user".to_vec(),
        };
        assert_eq!(store.apply(&get).to_line(), b"VALUE YWxpY2U=\n");
        assert_eq!(store.apply(&Op::Usage).to_line(), b"USAGE 9\n");
        let delete = Op::Delete {
            key: b"user".to_vec(),
        };
        assert_eq!(store.apply(&delete), Reply::Ok);
        assert_eq!(store.apply(&delete), Reply::NotFound);
        assert_eq!(store.apply(&get), Reply::NotFound);
        assert_eq!(store.apply(&Op::Usage), Reply::Usage(0));
        assert_eq!(store.apply(&Op::Ping).to_line(), b"PONG\n");
    }

    #[test]
    fn overwrites_count_the_new_value_only() {
        let mut store = RefStore::new();
        store.apply(&Op::Set {
            key: b"k".to_vec(),
            value: b"long value".to_vec(),
        });
        store.apply(&Op::Set {
            key: b"k".to_vec(),
            value: Vec::new(),
        });
        assert_eq!(store.usage_bytes(), 1);
        assert_eq!(
            store.apply(&Op::Get { key: b"k".to_vec() }).to_line(),
            b"VALUE \n"
        );
    }
}
