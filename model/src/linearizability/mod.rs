//! A linearizability checker for histories of concurrent `SET` / `GET` / `DELETE`
//! operations, transactions of them and multi-key commands, in the style of Wing & Gong,
//! Lowe ("Testing for linearizability") and Porcupine.
//!
//! The model is a map of registers: every key starts absent, `SET` stores a value, `GET`
//! reads it, `DELETE` removes it and says whether it was there. A transaction
//! ([`OpKind::Transaction`]) applies several of these at one instant; a batch
//! ([`OpKind::Batch`], `MGET` and `MSET`) applies them one key at a time, in order, with
//! no transaction in between.
//!
//! # Groups
//! A key that only single-key operations touch constrains no other key, so it is checked
//! on its own (the fast path: the registers are one value). Transactions and batches tie
//! keys together, and their rules (all at once; no transaction inside a batch) tie them
//! to each other: every key one of them touches is checked in one group over the whole
//! state of those keys, with every operation on them. Checking groups apart is exact:
//! nothing relates operations of different groups but real time, and linearizability is
//! local (Herlihy & Wing), so legal orders of the groups merge into one of the history.
//!
//! # memcached's CAS
//! `gets` reads a value with its CAS unique, and `cas` writes only over the unique it
//! names ([`OpKind::Gets`], [`OpKind::Cas`]). A unique names one write: the server never
//! gives two writes the same. Writes do not report theirs, so the checker ties each
//! unique a `gets` saw to the write of the value it came with; that is exact when no two
//! writes of one key write the same value (a history where they do, and a `gets` saw one
//! of them, is refused as ambiguous). The registers then hold versions, a value and the
//! unique seen with it, and two `cas` with one unique can never both store.
//!
//! Each group is searched on its own (`search.rs`): a depth-first search for an order
//! that respects real time and gives every operation the result it returned, memoised on
//! (set of operations placed, registers' values).

mod search;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use search::{Plan, Registers, Step, Stuck, Unit, NONE, NO_VERSION};

/// The kind of an operation together with the result it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    /// `SET key value`, which always answers `OK`.
    Set {
        /// The key.
        key: Vec<u8>,
        /// The value written.
        value: Vec<u8>,
    },
    /// `GET key`, which answered the value (`Some`) or `NOT_FOUND` (`None`).
    Get {
        /// The key.
        key: Vec<u8>,
        /// The value read, `None` for `NOT_FOUND`.
        result: Option<Vec<u8>>,
    },
    /// `DELETE key`, which answered whether the key existed (`OK` / `NOT_FOUND`).
    Delete {
        /// The key.
        key: Vec<u8>,
        /// `true` for `OK` (the key existed), `false` for `NOT_FOUND`.
        existed: bool,
    },
    /// memcached's `gets key`, which answered the value and its CAS unique (`Some`) or a
    /// miss (`None`).
    Gets {
        /// The key.
        key: Vec<u8>,
        /// The value read and its unique, `None` for a miss.
        result: Option<(Vec<u8>, u64)>,
    },
    /// memcached's `cas key flags exptime bytes unique`: stores `value` if the key's CAS
    /// unique is still `unique`.
    Cas {
        /// The key.
        key: Vec<u8>,
        /// The value written if it stores.
        value: Vec<u8>,
        /// The unique it names, from an earlier `gets`.
        unique: u64,
        /// What it answered.
        result: CasResult,
    },
    /// The commands of one `MULTI` ... `EXEC`, each with its reply inside EXEC's: they
    /// take effect at one instant, in order (a later one sees an earlier one's write),
    /// with nothing else between them. Operations nested in it are flattened into it.
    Transaction(Vec<OpKind>),
    /// One command on several keys that runs key by key, in order, each key taking effect
    /// at its own instant inside the command's interval: other commands may come between
    /// two keys, a transaction may not. This is `MGET` and `MSET` on this server, which
    /// runs them under one command's isolation; Redis, which runs them at one instant,
    /// meets it too. Operations nested in it are flattened into it.
    Batch(Vec<OpKind>),
}

/// What memcached's `cas` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CasResult {
    /// `STORED`: the key held the unique named, and now holds the value.
    Stored,
    /// `EXISTS`: the key holds another unique; nothing changed.
    Exists,
    /// `NOT_FOUND`: the key is absent; nothing changed.
    NotFound,
}

impl CasResult {
    /// memcached's word for it.
    pub fn word(self) -> &'static str {
        match self {
            CasResult::Stored => "STORED",
            CasResult::Exists => "EXISTS",
            CasResult::NotFound => "NOT_FOUND",
        }
    }
}

impl OpKind {
    /// The key a single-key operation is on; for a transaction or a batch, the first key
    /// it touches (empty if it touches none).
    pub fn key(&self) -> &[u8] {
        match self {
            OpKind::Set { key, .. }
            | OpKind::Get { key, .. }
            | OpKind::Delete { key, .. }
            | OpKind::Gets { key, .. }
            | OpKind::Cas { key, .. } => key,
            OpKind::Transaction(_) | OpKind::Batch(_) => {
                self.accesses().first().map_or(&[], Access::key)
            }
        }
    }

    /// Its single-key reads and writes, in order, nested operations flattened.
    pub fn accesses(&self) -> Vec<Access<'_>> {
        let mut accesses = Vec::new();
        self.push_accesses(&mut accesses);
        accesses
    }

    fn push_accesses<'a>(&'a self, out: &mut Vec<Access<'a>>) {
        match self {
            OpKind::Set { key, value } => out.push(Access::Set { key, value }),
            OpKind::Get { key, result } => out.push(Access::Get {
                key,
                result: result.as_deref(),
            }),
            OpKind::Delete { key, existed } => out.push(Access::Delete {
                key,
                existed: *existed,
            }),
            OpKind::Gets { key, result } => out.push(Access::Gets {
                key,
                result: result
                    .as_ref()
                    .map(|(value, unique)| (value.as_slice(), *unique)),
            }),
            OpKind::Cas {
                key,
                value,
                unique,
                result,
            } => out.push(Access::Cas {
                key,
                value,
                unique: *unique,
                result: *result,
            }),
            OpKind::Transaction(ops) | OpKind::Batch(ops) => {
                ops.iter().for_each(|op| op.push_accesses(out));
            }
        }
    }
}

/// One single-key read or write of an operation, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    /// A `SET`.
    Set {
        /// The key.
        key: &'a [u8],
        /// The value written.
        value: &'a [u8],
    },
    /// A `GET`.
    Get {
        /// The key.
        key: &'a [u8],
        /// The value read, `None` for `NOT_FOUND`.
        result: Option<&'a [u8]>,
    },
    /// A `DELETE`.
    Delete {
        /// The key.
        key: &'a [u8],
        /// Whether the key existed.
        existed: bool,
    },
    /// A `gets`.
    Gets {
        /// The key.
        key: &'a [u8],
        /// The value read and its unique, `None` for a miss.
        result: Option<(&'a [u8], u64)>,
    },
    /// A `cas`.
    Cas {
        /// The key.
        key: &'a [u8],
        /// The value written if it stores.
        value: &'a [u8],
        /// The unique it names.
        unique: u64,
        /// What it answered.
        result: CasResult,
    },
}

impl<'a> Access<'a> {
    /// The key it reads or writes.
    pub fn key(&self) -> &'a [u8] {
        match *self {
            Access::Set { key, .. }
            | Access::Get { key, .. }
            | Access::Delete { key, .. }
            | Access::Gets { key, .. }
            | Access::Cas { key, .. } => key,
        }
    }

    /// Whether it only reads (`GET`, `gets`): a pending one constrains nothing.
    pub fn reads(&self) -> bool {
        matches!(self, Access::Get { .. } | Access::Gets { .. })
    }

    /// The single-key operation it is.
    pub fn to_kind(&self) -> OpKind {
        match *self {
            Access::Set { key, value } => OpKind::Set {
                key: key.to_vec(),
                value: value.to_vec(),
            },
            Access::Get { key, result } => OpKind::Get {
                key: key.to_vec(),
                result: result.map(<[u8]>::to_vec),
            },
            Access::Delete { key, existed } => OpKind::Delete {
                key: key.to_vec(),
                existed,
            },
            Access::Gets { key, result } => OpKind::Gets {
                key: key.to_vec(),
                result: result.map(|(value, unique)| (value.to_vec(), unique)),
            },
            Access::Cas {
                key,
                value,
                unique,
                result,
            } => OpKind::Cas {
                key: key.to_vec(),
                value: value.to_vec(),
                unique,
                result,
            },
        }
    }
}

/// One operation of a concurrent history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Which client issued it; only used to make reports readable.
    pub client: usize,
    /// When it was invoked, in nanoseconds from any fixed origin shared by the history.
    pub call: u64,
    /// When its response arrived, on the same clock; `None` if it never came (the client
    /// crashed or timed out). A pending operation may or may not have taken effect, and
    /// its recorded results are ignored.
    pub ret: Option<u64>,
    /// What it was and what it answered.
    pub kind: OpKind,
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

impl fmt::Display for Access<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Access::Set { key, value } => write!(f, "SET {} {} -> OK", text(key), text(value)),
            Access::Get { key, result } => match result {
                Some(value) => write!(f, "GET {} -> VALUE {}", text(key), text(value)),
                None => write!(f, "GET {} -> NOT_FOUND", text(key)),
            },
            Access::Delete { key, existed } => {
                let reply = if existed { "OK" } else { "NOT_FOUND" };
                write!(f, "DELETE {} -> {reply}", text(key))
            }
            Access::Gets { key, result } => match result {
                Some((value, unique)) => {
                    write!(f, "GETS {} -> VALUE {} {unique}", text(key), text(value))
                }
                None => write!(f, "GETS {} -> END", text(key)),
            },
            Access::Cas {
                key,
                value,
                unique,
                result,
            } => write!(
                f,
                "CAS {} {} {unique} -> {}",
                text(key),
                text(value),
                result.word()
            ),
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            OpKind::Transaction(_) => "EXEC",
            OpKind::Batch(_) => "BATCH",
            single => return write!(f, "{}", single.accesses().first().ok_or(fmt::Error)?),
        };
        write!(f, "{name} [")?;
        for (i, access) in self.accesses().iter().enumerate() {
            write!(f, "{}{access}", if i == 0 { "" } else { "; " })?;
        }
        write!(f, "]")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client {} [{}..", self.client, self.call)?;
        match self.ret {
            Some(ret) => write!(f, "{ret}] ")?,
            None => write!(f, "pending] ")?,
        }
        write!(f, "{}", self.kind)
    }
}

/// Why a history is not linearizable (or not a valid history at all), with a small
/// window of the operations involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The keys checked together whose operations admit no legal order, in byte order:
    /// one key, or every key that transactions and batches tie together.
    pub keys: Vec<Vec<u8>>,
    /// What went wrong, in words.
    pub reason: String,
    /// How many of those operations the longest legal prefix found could order (a batch
    /// counts once per key, as each key takes effect on its own).
    pub linearized: usize,
    /// How many operations those keys have in the history, counted the same way.
    pub total: usize,
    /// Each key's value after that longest prefix (`None`: absent), in key order.
    pub state: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The last few operations of that longest prefix, in their linearized order (a
    /// batch's key shown alone).
    pub last_linearized: Vec<Operation>,
    /// The operations that could have come next after that prefix, none of which leads
    /// to a complete legal order.
    pub stuck: Vec<Operation>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| format!("{:?}", text(k))).collect();
        writeln!(
            f,
            "{} {}: {} ({} of {} operations linearized)",
            if keys.len() == 1 { "key" } else { "keys" },
            keys.join(", "),
            self.reason,
            self.linearized,
            self.total
        )?;
        writeln!(f, "  last linearized operations:")?;
        for op in &self.last_linearized {
            writeln!(f, "    {op}")?;
        }
        write!(f, "  then")?;
        for (key, value) in &self.state {
            match value {
                Some(value) => write!(f, " {:?} holds {:?};", text(key), text(value))?,
                None => write!(f, " {:?} is absent;", text(key))?,
            }
        }
        writeln!(f)?;
        writeln!(f, "  none of these can come next:")?;
        for op in &self.stuck {
            writeln!(f, "    {op}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violation {}

/// How many operations a [`Violation`] lists in each of its windows.
const WINDOW: usize = 8;

/// Checks that `history` is linearizable with respect to a map of registers that all
/// start absent. On failure, reports the first group of keys (by its first key in byte
/// order) for which no legal order exists, or the first malformed operation (response
/// before invocation).
pub fn check(history: &[Operation]) -> Result<(), Box<Violation>> {
    for op in history {
        if op.ret.is_some_and(|ret| ret < op.call) {
            let keys: BTreeSet<&[u8]> = op.kind.accesses().iter().map(Access::key).collect();
            return Err(Box::new(Violation {
                keys: keys.into_iter().map(<[u8]>::to_vec).collect(),
                reason: "malformed history: response before invocation".to_owned(),
                linearized: 0,
                total: 0,
                state: Vec::new(),
                last_linearized: Vec::new(),
                stuck: vec![op.clone()],
            }));
        }
    }
    let parts = split(history);
    // Every key a transaction or a batch touches: one group.
    let tied: BTreeSet<&[u8]> = parts
        .iter()
        .filter(|part| part.ties())
        .flat_map(|part| part.accesses.iter().map(Access::key))
        .collect();
    let mut groups: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        let own = part.accesses.first().map(Access::key).unwrap_or_default();
        let in_tied = part.ties() || part.accesses.iter().any(|a| tied.contains(a.key()));
        let group = match tied.first() {
            Some(&first) if in_tied => first,
            _ => own,
        };
        groups.entry(group).or_default().push(i);
    }
    for (first, members) in groups {
        let keys: Vec<&[u8]> = if tied.first() == Some(&first) {
            tied.iter().copied().collect()
        } else {
            vec![first]
        };
        check_group(&keys, &parts, &members)?;
    }
    Ok(())
}

/// What takes effect at one instant: a single-key operation, a transaction, or one key
/// of a batch.
struct Part<'a> {
    /// The operation it belongs to.
    op: &'a Operation,
    /// Its reads and writes, in order.
    accesses: Vec<Access<'a>>,
    /// A transaction.
    exclusive: bool,
    /// The part of its batch just before it (an index into the parts).
    after: Option<usize>,
    /// Its batch's first and last parts, when the batch has several.
    opens: bool,
    closes: bool,
}

impl Part<'_> {
    /// Whether it ties its keys into the group checked together.
    fn ties(&self) -> bool {
        self.exclusive || self.after.is_some() || self.opens
    }

    /// The operation as a report shows it: a batch's part alone.
    fn shown(&self) -> Operation {
        let kind = match (&self.op.kind, self.accesses.as_slice()) {
            (OpKind::Batch(_), [access]) => access.to_kind(),
            (kind, _) => kind.clone(),
        };
        Operation {
            kind,
            ..self.op.clone()
        }
    }
}

/// Splits the history into parts. Pending reads constrain nothing and are dropped.
fn split(history: &[Operation]) -> Vec<Part<'_>> {
    let mut parts = Vec::with_capacity(history.len());
    for op in history {
        let pending = op.ret.is_none();
        let mut accesses = op.kind.accesses();
        let part = |accesses, exclusive| Part {
            op,
            accesses,
            exclusive,
            after: None,
            opens: false,
            closes: false,
        };
        if pending && accesses.iter().all(Access::reads) {
            continue;
        }
        match op.kind {
            OpKind::Set { .. }
            | OpKind::Get { .. }
            | OpKind::Delete { .. }
            | OpKind::Gets { .. }
            | OpKind::Cas { .. } => {
                parts.push(part(accesses, false));
            }
            OpKind::Transaction(_) => parts.push(part(accesses, true)),
            OpKind::Batch(_) => {
                accesses.retain(|a| !(pending && a.reads()));
                let first = parts.len();
                let count = accesses.len();
                for (i, access) in accesses.into_iter().enumerate() {
                    parts.push(Part {
                        after: (i > 0).then(|| first + i - 1),
                        opens: count > 1 && i == 0,
                        closes: count > 1 && i + 1 == count,
                        ..part(vec![access], false)
                    });
                }
            }
        }
    }
    parts
}

/// Searches one group: the parts `members` over `keys`.
fn check_group(
    keys: &[&[u8]],
    parts: &[Part<'_>],
    members: &[usize],
) -> Result<(), Box<Violation>> {
    let mut order = members.to_vec();
    // Stable: a batch's parts share an interval and stay in their order.
    order.sort_by_key(|&i| (parts[i].op.call, parts[i].op.ret.unwrap_or(u64::MAX)));
    let (plan, values) = plan(keys, parts, &order).map_err(|reason| {
        Box::new(Violation {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            reason,
            linearized: 0,
            total: order.len(),
            state: Vec::new(),
            last_linearized: Vec::new(),
            stuck: Vec::new(),
        })
    })?;
    // The registers inline for the groups of a few keys that real histories have.
    let n = keys.len();
    let result = match n {
        1 => search::search::<Option<u32>>(&plan, n, WINDOW).map_err(|s| registers(*s, n)),
        2..=4 => search::search::<[Option<u32>; 4]>(&plan, n, WINDOW).map_err(|s| registers(*s, n)),
        5..=8 => search::search::<[Option<u32>; 8]>(&plan, n, WINDOW).map_err(|s| registers(*s, n)),
        _ => search::search::<Box<[Option<u32>]>>(&plan, n, WINDOW).map_err(|s| registers(*s, n)),
    };
    let Err(stuck) = result else {
        return Ok(());
    };
    let shown = |units: &[usize]| -> Vec<Operation> {
        let members = units.iter().filter_map(|&u| order.get(u));
        members.map(|&i| parts[i].shown()).collect()
    };
    let value = |id: Option<u32>| {
        id.and_then(|id| values.get(id as usize))
            .map(|v| v.to_vec())
    };
    Err(Box::new(Violation {
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        reason: "no linearization exists".to_owned(),
        linearized: stuck.depth,
        total: order.len(),
        state: keys
            .iter()
            .zip(&stuck.registers)
            .map(|(key, &id)| (key.to_vec(), value(id)))
            .collect(),
        last_linearized: shown(&stuck.last),
        stuck: shown(&stuck.next),
    }))
}

/// The search's input for the parts `order` (sorted by invocation) over `keys`, and the
/// versions interned: a version's id is its index, and its value is listed there.
///
/// # Errors
/// A history where a `gets` saw a unique that more than one write could have made.
fn plan<'a>(
    keys: &[&[u8]],
    parts: &[Part<'a>],
    order: &[usize],
) -> Result<(Plan, Vec<&'a [u8]>), String> {
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let slots: HashMap<&[u8], usize> = keys.iter().enumerate().map(|(s, &k)| (k, s)).collect();
    let uniques = uniques(parts, order)?;
    // A version read but never written gets an id no write produces.
    let mut ids: HashMap<(&[u8], Option<u64>), u32> = HashMap::new();
    let mut values: Vec<&[u8]> = Vec::new();
    let mut classes: HashMap<&[u8], u32> = HashMap::new();
    let mut plan = Plan::default();
    let mut intern = |value: &'a [u8], unique: Option<u64>, plan: &mut Plan| -> u32 {
        let next = u32::try_from(values.len()).unwrap_or(NO_VERSION);
        *ids.entry((value, unique)).or_insert_with(|| {
            values.push(value);
            let next_class = u32::try_from(classes.len()).unwrap_or(NO_VERSION);
            plan.classes
                .push(*classes.entry(value).or_insert(next_class));
            next
        })
    };
    // The version each unique names, for `cas`: the write it was tied to.
    let mut named: HashMap<u64, u32> = HashMap::new();
    for (&(_, value), &unique) in &uniques {
        let version = intern(value, Some(unique), &mut plan);
        named.insert(unique, version);
    }
    for &i in order {
        let part = &parts[i];
        let pending = part.op.ret.is_none();
        let start = plan.steps.len();
        for access in &part.accesses {
            let key = access.key();
            let slot = slots.get(key).copied().unwrap_or_default();
            let written = |value| uniques.get(&(key, value)).copied();
            let step = match *access {
                Access::Set { value, .. } => Step::Set(intern(value, written(value), &mut plan)),
                Access::Get { .. } | Access::Gets { .. } if pending => continue,
                Access::Get { result, .. } => Step::Get(result.map(|value| {
                    let version = intern(value, None, &mut plan);
                    plan.classes[version as usize]
                })),
                Access::Gets { result, .. } => {
                    Step::Gets(result.map(|(value, unique)| intern(value, Some(unique), &mut plan)))
                }
                Access::Delete { existed, .. } => Step::Delete((!pending).then_some(existed)),
                Access::Cas {
                    value,
                    unique,
                    result,
                    ..
                } => Step::Cas {
                    expected: named.get(&unique).copied().unwrap_or(NO_VERSION),
                    written: intern(value, written(value), &mut plan),
                    result: (!pending).then_some(result),
                },
            };
            plan.steps.push((slot, step));
        }
        plan.units.push(Unit {
            call: part.op.call,
            ret: part.op.ret.unwrap_or(u64::MAX),
            steps: start..plan.steps.len(),
            exclusive: part.exclusive,
            after: part
                .after
                .and_then(|a| position.get(&a).copied())
                .unwrap_or(NONE),
            opens: part.opens,
            closes: part.closes,
        });
    }
    Ok((plan, values))
}

/// The unique the write of a (key, value) made, where a `gets` saw it.
type Uniques<'a> = HashMap<(&'a [u8], &'a [u8]), u64>;

/// The unique each write of the parts `order` made, where a `gets` saw it: keyed by key
/// and value, as at most one write of a key may write a value whose unique was seen.
/// (A value seen with two uniques keeps the first: one write has one unique, so the
/// other `gets` finds no version to match and the search rejects it.)
///
/// # Errors
/// A `gets` saw a value that two writes of its key wrote.
fn uniques<'a>(parts: &[Part<'a>], order: &[usize]) -> Result<Uniques<'a>, String> {
    let mut writes: HashMap<(&[u8], &[u8]), usize> = HashMap::new();
    let mut seen: Vec<(&[u8], &[u8], u64)> = Vec::new();
    for &i in order {
        let pending = parts[i].op.ret.is_none();
        for access in &parts[i].accesses {
            match *access {
                Access::Set { key, value }
                | Access::Cas {
                    key,
                    value,
                    result: CasResult::Stored,
                    ..
                } => *writes.entry((key, value)).or_default() += 1,
                Access::Cas { key, value, .. } if pending => {
                    *writes.entry((key, value)).or_default() += 1;
                }
                Access::Gets {
                    key,
                    result: Some((value, unique)),
                } if !pending => seen.push((key, value, unique)),
                _ => {}
            }
        }
    }
    let mut uniques = HashMap::new();
    for (key, value, unique) in seen {
        if writes.get(&(key, value)).is_some_and(|&count| count > 1) {
            return Err(format!(
                "ambiguous history: a gets saw {:?} with unique {unique}, and several writes \
                 wrote that value to {:?}",
                text(value),
                text(key)
            ));
        }
        uniques.entry((key, value)).or_insert(unique);
    }
    Ok(uniques)
}

/// A failed search's report with the registers as one value per key.
fn registers<S: Registers>(stuck: Stuck<S>, keys: usize) -> Stuck<Vec<Option<u32>>> {
    Stuck {
        depth: stuck.depth,
        registers: (0..keys).map(|slot| stuck.registers.value(slot)).collect(),
        last: stuck.last,
        next: stuck.next,
    }
}
