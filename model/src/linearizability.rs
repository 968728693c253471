//! A linearizability checker for histories of concurrent `SET` / `GET` / `DELETE`
//! operations, in the style of Wing & Gong, Lowe ("Testing for linearizability") and
//! Porcupine.
//!
//! The model is a map of independent registers: every key starts absent, `SET` stores a
//! value, `GET` reads it, `DELETE` removes it and says whether it was there. Operations on
//! different keys never constrain each other, so [`check`] splits the history per key and
//! checks each key on its own. For one key it runs a depth-first search for a sequential
//! order that respects real time (if A's response comes before B's invocation, A goes
//! first) and in which every operation's result is the one the sequential register gives.
//! Every (set of linearized operations, register value) configuration that has been
//! explored is remembered and never explored again, which keeps the search close to
//! linear for real histories.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

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
}

impl OpKind {
    /// The key the operation is on.
    pub fn key(&self) -> &[u8] {
        match self {
            OpKind::Set { key, .. } | OpKind::Get { key, .. } | OpKind::Delete { key, .. } => key,
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
    /// its recorded result is ignored.
    pub ret: Option<u64>,
    /// What it was and what it answered.
    pub kind: OpKind,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        write!(f, "client {} [{}..", self.client, self.call)?;
        match self.ret {
            Some(ret) => write!(f, "{ret}] ")?,
            None => write!(f, "pending] ")?,
        }
        match &self.kind {
            OpKind::Set { key, value } => write!(f, "SET {} {} -> OK", text(key), text(value)),
            OpKind::Get { key, result } => match result {
                Some(value) => write!(f, "GET {} -> VALUE {}", text(key), text(value)),
                None => write!(f, "GET {} -> NOT_FOUND", text(key)),
            },
            OpKind::Delete { key, existed } => write!(
                f,
                "DELETE {} -> {}",
                text(key),
                if *existed { "OK" } else { "NOT_FOUND" }
            ),
        }
    }
}

/// Why a history is not linearizable (or not a valid history at all), with a small
/// window of the operations involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The key whose operations admit no legal order.
    pub key: Vec<u8>,
    /// What went wrong, in words.
    pub reason: String,
    /// How many of this key's operations the longest legal prefix found could order.
    pub linearized: usize,
    /// How many operations the key has in the history.
    pub total: usize,
    /// The register's value after that longest prefix (`None`: absent).
    pub state: Option<Vec<u8>>,
    /// The last few operations of that longest prefix, in their linearized order.
    pub last_linearized: Vec<Operation>,
    /// The operations that could have come next after that prefix, none of which leads
    /// to a complete legal order.
    pub stuck: Vec<Operation>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "key {:?}: {} ({} of {} operations linearized)",
            String::from_utf8_lossy(&self.key),
            self.reason,
            self.linearized,
            self.total
        )?;
        writeln!(f, "  last linearized operations:")?;
        for op in &self.last_linearized {
            writeln!(f, "    {op}")?;
        }
        match &self.state {
            Some(value) => writeln!(
                f,
                "  register then holds {:?}",
                String::from_utf8_lossy(value)
            )?,
            None => writeln!(f, "  register then is absent")?,
        }
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
/// start absent. On failure, reports the first key (in byte order) for which no legal
/// order exists, or the first malformed operation (response before invocation).
pub fn check(history: &[Operation]) -> Result<(), Box<Violation>> {
    let mut per_key: BTreeMap<&[u8], Vec<&Operation>> = BTreeMap::new();
    for op in history {
        if let Some(ret) = op.ret {
            if ret < op.call {
                return Err(Box::new(Violation {
                    key: op.kind.key().to_vec(),
                    reason: "malformed history: response before invocation".to_owned(),
                    linearized: 0,
                    total: 0,
                    state: None,
                    last_linearized: Vec::new(),
                    stuck: vec![op.clone()],
                }));
            }
        }
        per_key.entry(op.kind.key()).or_default().push(op);
    }
    for (key, ops) in per_key {
        check_key(key, &ops)?;
    }
    Ok(())
}

/// What one operation does to the register, with values interned as small integers.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Writes the value.
    Set(u32),
    /// Must observe exactly this value (`None`: absent).
    Get(Option<u32>),
    /// Must observe presence as given (`None`: unknown, pending) and clears the register.
    Delete(Option<bool>),
}

impl Step {
    /// The next state if the step is legal from `state`.
    fn apply(self, state: Option<u32>) -> Option<Option<u32>> {
        match self {
            Step::Set(value) => Some(Some(value)),
            Step::Get(observed) => (observed == state).then_some(state),
            Step::Delete(existed) => match existed {
                Some(existed) if existed != state.is_some() => None,
                _ => Some(None),
            },
        }
    }
}

/// No node: the end of the event list.
const NONE: usize = usize::MAX;

/// The compact encoding of a [`Bits`] used as a memoisation key.
type BitsKey = (usize, Box<[u64]>);

/// A fixed-size set of operation indices.
struct Bits {
    words: Vec<u64>,
    /// How many leading words are all ones.
    full: usize,
    /// One past the last non-zero word (0 if none).
    top: usize,
}

impl Bits {
    fn new(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            full: 0,
            top: 0,
        }
    }

    fn set(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word |= 1 << (i % 64);
            self.top = self.top.max(i / 64 + 1);
            while self.words.get(self.full) == Some(&u64::MAX) {
                self.full += 1;
            }
        }
    }

    fn clear(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
            self.full = self.full.min(i / 64);
            while self.top > 0 && self.words.get(self.top - 1) == Some(&0) {
                self.top -= 1;
            }
        }
    }

    /// A compact, unique encoding: the number of leading all-ones words, then the words
    /// from there up to the last non-zero one. Operations are numbered by invocation
    /// order, so the linearized set is a long run of ones plus a short ragged edge.
    fn key(&self) -> BitsKey {
        let end = self.top.max(self.full);
        (
            self.full,
            self.words.get(self.full..end).unwrap_or_default().into(),
        )
    }
}

/// The deepest point the search reached, for the report.
struct Deepest {
    depth: usize,
    state: Option<u32>,
    last: Vec<usize>,
    stuck: Vec<usize>,
}

/// Searches for a legal order of one key's operations.
fn check_key<'a>(key: &[u8], ops: &[&'a Operation]) -> Result<(), Box<Violation>> {
    // Pending reads constrain nothing: drop them.
    let mut ops: Vec<&'a Operation> = ops
        .iter()
        .copied()
        .filter(|op| op.ret.is_some() || !matches!(op.kind, OpKind::Get { .. }))
        .collect();
    ops.sort_by_key(|op| (op.call, op.ret.unwrap_or(u64::MAX)));
    let n = ops.len();

    // Intern values; a value read but never written gets an id no SET produces.
    let mut ids: HashMap<&[u8], u32> = HashMap::new();
    let mut values: Vec<&[u8]> = Vec::new();
    let mut intern = |value: &'a [u8]| -> u32 {
        let next = u32::try_from(values.len()).unwrap_or(u32::MAX);
        *ids.entry(value).or_insert_with(|| {
            values.push(value);
            next
        })
    };
    let mut steps = Vec::with_capacity(n);
    for op in ops.iter().copied() {
        let pending = op.ret.is_none();
        steps.push(match &op.kind {
            OpKind::Set { value, .. } => Step::Set(intern(value)),
            OpKind::Get { result, .. } => Step::Get(result.as_deref().map(&mut intern)),
            OpKind::Delete { existed, .. } => Step::Delete((!pending).then_some(*existed)),
        });
    }

    // The event list: node 2i is op i's invocation, 2i+1 its response; node 2n is the
    // head. Invocations sort before responses at equal times (those ops overlap).
    let head = 2 * n;
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in ops.iter().enumerate() {
        events.push((op.call, false, 2 * i));
        events.push((op.ret.unwrap_or(u64::MAX), true, 2 * i + 1));
    }
    events.sort_unstable();
    let mut next = vec![NONE; 2 * n + 1];
    let mut prev = vec![NONE; 2 * n + 1];
    let mut last = head;
    for &(_, _, node) in &events {
        next[last] = node;
        prev[node] = last;
        last = node;
    }

    let unlink = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        let (p, q) = (prev[node], next[node]);
        next[p] = q;
        if q != NONE {
            prev[q] = p;
        }
    };
    let relink = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        let (p, q) = (prev[node], next[node]);
        next[p] = node;
        if q != NONE {
            prev[q] = node;
        }
    };

    let mut linearized = Bits::new(n);
    let mut seen: HashSet<(BitsKey, Option<u32>)> = HashSet::new();
    // (invocation node, state before it) for each linearized op, in order.
    let mut stack: Vec<(usize, Option<u32>)> = Vec::new();
    let mut state: Option<u32> = None;
    let mut deepest = Deepest {
        depth: 0,
        state: None,
        last: Vec::new(),
        stuck: Vec::new(),
    };
    let mut entry = next[head];
    loop {
        if next[head] == NONE {
            return Ok(());
        }
        let is_call = entry != NONE && entry % 2 == 0;
        if is_call {
            let op = entry / 2;
            if let Some(new_state) = steps[op].apply(state) {
                linearized.set(op);
                if seen.insert((linearized.key(), new_state)) {
                    stack.push((entry, state));
                    state = new_state;
                    unlink(&mut next, &mut prev, entry);
                    unlink(&mut next, &mut prev, entry + 1);
                    entry = next[head];
                    continue;
                }
                linearized.clear(op);
            }
            entry = next[entry];
            continue;
        }
        // A response whose operation is not yet linearized: nothing later can go first.
        if stack.len() > deepest.depth || deepest.stuck.is_empty() {
            let mut stuck = Vec::new();
            let mut node = next[head];
            while node != NONE && node % 2 == 0 && stuck.len() < WINDOW {
                stuck.push(node / 2);
                node = next[node];
            }
            deepest = Deepest {
                depth: stack.len(),
                state,
                last: stack
                    .iter()
                    .rev()
                    .take(WINDOW)
                    .rev()
                    .map(|&(node, _)| node / 2)
                    .collect(),
                stuck,
            };
        }
        let Some((call, before)) = stack.pop() else {
            let op = |i: usize| ops[i].clone();
            return Err(Box::new(Violation {
                key: key.to_vec(),
                reason: "no linearization exists".to_owned(),
                linearized: deepest.depth,
                total: n,
                state: deepest
                    .state
                    .and_then(|id| values.get(id as usize))
                    .map(|v| v.to_vec()),
                last_linearized: deepest.last.iter().map(|&i| op(i)).collect(),
                stuck: deepest.stuck.iter().map(|&i| op(i)).collect(),
            }));
        };
        relink(&mut next, &mut prev, call + 1);
        relink(&mut next, &mut prev, call);
        linearized.clear(call / 2);
        state = before;
        entry = next[call];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(client: usize, call: u64, ret: u64, value: &str) -> Operation {
        Operation {
            client,
            call,
            ret: Some(ret),
            kind: OpKind::Set {
                key: b"k".to_vec(),
                value: value.as_bytes().to_vec(),
            },
        }
    }

    fn get(client: usize, call: u64, ret: u64, result: Option<&str>) -> Operation {
        Operation {
            client,
            call,
            ret: Some(ret),
            kind: OpKind::Get {
                key: b"k".to_vec(),
                result: result.map(|v| v.as_bytes().to_vec()),
            },
        }
    }

    fn delete(client: usize, call: u64, ret: u64, existed: bool) -> Operation {
        Operation {
            client,
            call,
            ret: Some(ret),
            kind: OpKind::Delete {
                key: b"k".to_vec(),
                existed,
            },
        }
    }

    fn on_key(mut op: Operation, key: &str) -> Operation {
        match &mut op.kind {
            OpKind::Set { key: k, .. }
            | OpKind::Get { key: k, .. }
            | OpKind::Delete { key: k, .. } => *k = key.as_bytes().to_vec(),
        }
        op
    }

    fn rejected(history: &[Operation]) -> Violation {
        match check(history) {
            Ok(()) => panic!("accepted a non-linearizable history: {history:#?}"),
            Err(violation) => *violation,
        }
    }

    #[test]
    fn empty_and_sequential_histories_are_linearizable() {
        assert_eq!(check(&[]), Ok(()));
        let history = [
            get(0, 0, 1, None),
            set(0, 2, 3, "a"),
            get(0, 4, 5, Some("a")),
            delete(0, 6, 7, true),
            delete(0, 8, 9, false),
            get(0, 10, 11, None),
        ];
        assert_eq!(check(&history), Ok(()));
    }

    #[test]
    fn overlapping_set_and_get_may_see_either_value() {
        for seen in [Some("a"), Some("b")] {
            let history = [set(0, 0, 1, "a"), set(1, 2, 10, "b"), get(2, 3, 9, seen)];
            assert_eq!(check(&history), Ok(()), "get saw {seen:?}");
        }
        // Two reads during one write: the second may not go back once the first saw "b".
        let history = [
            set(0, 0, 1, "a"),
            set(1, 2, 20, "b"),
            get(2, 3, 5, Some("b")),
            get(3, 6, 8, Some("b")),
        ];
        assert_eq!(check(&history), Ok(()));
    }

    #[test]
    fn delete_racing_set_may_go_either_way() {
        // Delete before set: NOT_FOUND, then the value stays.
        let history = [
            set(0, 0, 10, "a"),
            delete(1, 1, 9, false),
            get(2, 11, 12, Some("a")),
        ];
        assert_eq!(check(&history), Ok(()));
        // Set before delete: OK, then the key is gone.
        let history = [
            set(0, 0, 10, "a"),
            delete(1, 1, 9, true),
            get(2, 11, 12, None),
        ];
        assert_eq!(check(&history), Ok(()));
    }

    #[test]
    fn touching_intervals_overlap() {
        // The get's response time equals the set's invocation time: they are concurrent.
        let history = [get(0, 0, 5, Some("a")), set(1, 5, 6, "a")];
        assert_eq!(check(&history), Ok(()));
    }

    #[test]
    fn a_read_from_the_future_is_rejected() {
        let history = [get(0, 0, 1, Some("a")), set(1, 2, 3, "a")];
        let violation = rejected(&history);
        assert_eq!(violation.key, b"k");
        assert_eq!(violation.linearized, 0);
        assert!(!violation.stuck.is_empty());
    }

    #[test]
    fn a_stale_read_after_a_completed_set_is_rejected() {
        let history = [
            set(0, 0, 1, "a"),
            set(0, 2, 3, "b"),
            get(1, 4, 5, Some("a")),
        ];
        let violation = rejected(&history);
        assert_eq!(violation.linearized, 2);
        assert_eq!(violation.state.as_deref(), Some(&b"b"[..]));
    }

    #[test]
    fn a_delete_of_a_key_that_cannot_exist_is_rejected() {
        let history = [delete(0, 0, 1, true)];
        rejected(&history);
        let history = [
            set(0, 0, 1, "a"),
            delete(1, 2, 3, true),
            delete(0, 4, 5, true),
        ];
        rejected(&history);
    }

    #[test]
    fn a_stale_read_after_a_completed_delete_is_rejected() {
        let history = [
            set(0, 0, 1, "a"),
            delete(1, 2, 3, true),
            get(0, 4, 5, Some("a")),
        ];
        rejected(&history);
    }

    #[test]
    fn reads_may_not_flip_flop() {
        let history = [
            set(0, 0, 1, "a"),
            set(1, 2, 20, "b"),
            get(2, 3, 5, Some("b")),
            get(3, 6, 8, Some("a")),
        ];
        rejected(&history);
    }

    #[test]
    fn a_value_never_written_is_rejected() {
        let history = [set(0, 0, 10, "a"), get(1, 1, 9, Some("z"))];
        rejected(&history);
    }

    #[test]
    fn keys_are_independent_and_the_bad_key_is_named() {
        let history = [
            on_key(set(0, 0, 1, "a"), "x"),
            on_key(get(1, 2, 3, Some("a")), "x"),
            on_key(get(1, 4, 5, Some("a")), "y"),
        ];
        let violation = rejected(&history);
        assert_eq!(violation.key, b"y");
        assert!(violation.to_string().contains("GET y -> VALUE a"));
    }

    #[test]
    fn pending_operations_may_or_may_not_take_effect() {
        let pending_set = Operation {
            ret: None,
            ..set(0, 0, 0, "a")
        };
        let pending_delete = Operation {
            ret: None,
            ..delete(1, 2, 0, false)
        };
        for history in [
            vec![pending_set.clone(), get(1, 5, 6, Some("a"))],
            vec![pending_set.clone(), get(1, 5, 6, None)],
            vec![
                set(0, 0, 1, "a"),
                pending_delete.clone(),
                get(2, 3, 4, None),
            ],
            vec![
                set(0, 0, 1, "a"),
                pending_delete.clone(),
                get(2, 3, 4, Some("a")),
            ],
        ] {
            assert_eq!(check(&history), Ok(()), "{history:#?}");
        }
        // Once a read has seen it take effect, it stays in effect.
        rejected(&[pending_set, get(1, 5, 6, Some("a")), get(1, 7, 8, None)]);
    }

    #[test]
    fn a_response_before_its_invocation_is_malformed() {
        let violation = rejected(&[get(0, 5, 4, None)]);
        assert!(violation.reason.contains("malformed"));
    }

    /// A long, highly concurrent but linearizable history: simulated clients whose
    /// operations take effect at a random instant inside their interval.
    #[test]
    fn a_long_concurrent_history_is_checked_quickly() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let clients = 8;
        let mut free_at = vec![0_u64; clients];
        // (effect time, client, call, ret, op index within client, kind code)
        let mut planned = Vec::new();
        for i in 0..4_000_u64 {
            let client = (random() % clients as u64) as usize;
            let call = free_at[client] + random() % 5;
            let ret = call + 1 + random() % 40;
            free_at[client] = ret + 1;
            let effect = call + random() % (ret - call + 1);
            planned.push((effect, client, call, ret, i, random() % 100));
        }
        planned.sort();
        let mut value: Option<String> = None;
        let mut history = Vec::new();
        for (_, client, call, ret, i, code) in planned {
            history.push(if code < 50 {
                get(client, call, ret, value.as_deref())
            } else if code < 85 {
                let v = format!("v{i}");
                value = Some(v.clone());
                set(client, call, ret, &v)
            } else {
                delete(client, call, ret, value.take().is_some())
            });
        }
        let start = std::time::Instant::now();
        assert_eq!(check(&history), Ok(()));
        assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());

        // Make one read return a value that was never written.
        let mut bad = history.clone();
        let reads: Vec<usize> = (0..bad.len())
            .filter(|&i| matches!(bad[i].kind, OpKind::Get { .. }))
            .collect();
        if let Some(op) = bad.get_mut(reads[reads.len() / 2]) {
            op.kind = OpKind::Get {
                key: b"k".to_vec(),
                result: Some(b"never".to_vec()),
            };
        }
        rejected(&bad);
    }
}
