//! The search for a legal order of one group of operations: Wing & Gong's depth-first
//! search with Lowe's memoisation. A *unit* is what takes effect at one instant: a
//! single-key operation, a whole transaction, or one key of a batch. Units are tried in
//! invocation order; one may go next only if no unit still unplaced returned before it
//! was invoked, and only if its accesses observe exactly what the registers hold. Every
//! (set of placed units, registers' values) configuration explored is remembered and
//! never explored again, which keeps the search close to linear for real histories.
//!
//! A read that may go next is placed at once, with no alternative tried: it changes no
//! register, so in any legal order from here it can be moved to the front and the rest
//! stays legal (nothing unplaced must precede it, and every unit after it still sees the
//! same values). Only a batch's first read is excluded, as it holds transactions back
//! until the batch ends. Rejecting a history costs every configuration before the
//! violation, and concurrent reads no longer multiply them.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Range;

use super::CasResult;

/// No node: the end of the event list, or no unit.
pub(super) const NONE: usize = usize::MAX;

/// What one access does to its register. Registers hold *versions*, interned as small
/// integers: a value, and the CAS unique it was seen with if a `gets` saw it (see
/// `plan` in `mod.rs`); without memcached's operations a version is just a value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// Writes the version.
    Set(u32),
    /// Must observe a version of exactly this value class (`None`: absent); see
    /// [`Plan::classes`].
    Get(Option<u32>),
    /// Must observe exactly this version, value and unique (`None`: absent).
    Gets(Option<u32>),
    /// Must observe presence as given (`None`: unknown, pending) and clears the register.
    Delete(Option<bool>),
    /// memcached's `cas`: writes `written` if the register holds `expected`, as the
    /// answer says (`None`: pending, either way).
    Cas {
        /// The version whose unique the `cas` named ([`NO_VERSION`] if none has it).
        expected: u32,
        /// The version it writes.
        written: u32,
        /// What it answered.
        result: Option<CasResult>,
    },
}

/// A version no register ever holds: the one a `cas` names when no write has its unique.
pub(super) const NO_VERSION: u32 = u32::MAX;

impl Step {
    /// The register's next value if the step is legal from `value`; `classes` gives each
    /// version's value class.
    fn apply(self, value: Option<u32>, classes: &[u32]) -> Option<Option<u32>> {
        match self {
            Step::Set(written) => Some(Some(written)),
            Step::Get(observed) => {
                let class = value.map(|v| classes.get(v as usize).copied().unwrap_or(NO_VERSION));
                (observed == class).then_some(value)
            }
            Step::Gets(observed) => (observed == value).then_some(value),
            Step::Delete(existed) => match existed {
                Some(existed) if existed != value.is_some() => None,
                _ => Some(None),
            },
            Step::Cas {
                expected,
                written,
                result,
            } => {
                let matches = value == Some(expected);
                match result {
                    Some(CasResult::Stored) => matches.then_some(Some(written)),
                    Some(CasResult::Exists) => (value.is_some() && !matches).then_some(value),
                    Some(CasResult::NotFound) => value.is_none().then_some(value),
                    None if matches => Some(Some(written)),
                    None => Some(value),
                }
            }
        }
    }

    /// Whether it never changes its register.
    fn reads(self) -> bool {
        match self {
            Step::Get(_) | Step::Gets(_) => true,
            Step::Cas { result, .. } => {
                matches!(result, Some(CasResult::Exists | CasResult::NotFound))
            }
            Step::Set(_) | Step::Delete(_) => false,
        }
    }
}

/// The registers' values as the search keeps them and remembers them: a bare value for
/// a key checked on its own (the fast path), a slice for keys checked together.
pub(super) trait Registers: Clone + Eq + Hash {
    /// `keys` registers, all absent.
    fn absent(keys: usize) -> Self;
    /// Register `slot`'s value.
    fn value(&self, slot: usize) -> Option<u32>;
    /// Stores `value` in register `slot`.
    fn store(&mut self, slot: usize, value: Option<u32>);
}

impl Registers for Option<u32> {
    fn absent(_keys: usize) -> Self {
        None
    }

    fn value(&self, _slot: usize) -> Option<u32> {
        *self
    }

    fn store(&mut self, _slot: usize, value: Option<u32>) {
        *self = value;
    }
}

impl<const N: usize> Registers for [Option<u32>; N] {
    fn absent(_keys: usize) -> Self {
        [None; N]
    }

    fn value(&self, slot: usize) -> Option<u32> {
        self.get(slot).copied().flatten()
    }

    fn store(&mut self, slot: usize, value: Option<u32>) {
        if let Some(register) = self.get_mut(slot) {
            *register = value;
        }
    }
}

impl Registers for Box<[Option<u32>]> {
    fn absent(keys: usize) -> Self {
        vec![None; keys].into()
    }

    fn value(&self, slot: usize) -> Option<u32> {
        self.get(slot).copied().flatten()
    }

    fn store(&mut self, slot: usize, value: Option<u32>) {
        if let Some(register) = self.get_mut(slot) {
            *register = value;
        }
    }
}

/// One unit to place.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    /// When it was invoked.
    pub call: u64,
    /// When it returned; `u64::MAX` if it never did (it may then take effect at any
    /// point after its invocation, or never: last is the same as never).
    pub ret: u64,
    /// Its accesses in [`Plan::steps`], applied in order.
    pub steps: Range<usize>,
    /// A transaction: it may not take effect while a batch is part way through.
    pub exclusive: bool,
    /// The unit of its batch just before it, which takes effect first ([`NONE`]: none).
    pub after: usize,
    /// The first unit of a batch of several: the batch is part way through once placed.
    pub opens: bool,
    /// The last unit of a batch of several: the batch is through once placed.
    pub closes: bool,
}

/// What to search: the units, numbered in order of invocation (then response), and
/// their accesses.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The units; [`Unit::after`] indexes this.
    pub units: Vec<Unit>,
    /// Every unit's accesses, (register slot, step), one unit after another.
    pub steps: Vec<(usize, Step)>,
    /// Each version's value class: versions of one value with different uniques are
    /// one class to a `GET`.
    pub classes: Vec<u32>,
}

impl Plan {
    /// Whether unit `u` only reads, and so may be placed as soon as it is legal.
    fn reads_only(&self, u: usize) -> bool {
        self.units.get(u).is_some_and(|unit| {
            !unit.opens
                && self
                    .steps
                    .get(unit.steps.clone())
                    .is_some_and(|steps| steps.iter().all(|(_, step)| step.reads()))
        })
    }

    /// Whether unit `u` may take effect now. Copies nothing: most tries fail.
    fn may_place<S: Registers>(&self, u: usize, registers: &S, placed: &Bits, open: usize) -> bool {
        let Some(unit) = self.units.get(u) else {
            return false;
        };
        if (unit.exclusive && open > 0) || (unit.after != NONE && !placed.contains(unit.after)) {
            return false;
        }
        let steps = self.steps.get(unit.steps.clone()).unwrap_or_default();
        steps.iter().enumerate().all(|(i, &(slot, step))| {
            // What the step sees: the register after the unit's own earlier accesses to it.
            let mut earlier = steps[..i].iter().filter(|&&(s, _)| s == slot);
            let value = earlier.try_fold(registers.value(slot), |value, &(_, e)| {
                e.apply(value, &self.classes)
            });
            value
                .and_then(|value| step.apply(value, &self.classes))
                .is_some()
        })
    }

    /// The registers after unit `u` if it may take effect now.
    fn place<S: Registers>(
        &self,
        u: usize,
        registers: &S,
        placed: &Bits,
        open: usize,
    ) -> Option<S> {
        if !self.may_place(u, registers, placed, open) {
            return None;
        }
        let mut next = registers.clone();
        for &(slot, step) in self.steps.get(self.units.get(u)?.steps.clone())? {
            next.store(slot, step.apply(next.value(slot), &self.classes)?);
        }
        Some(next)
    }
}

/// The deepest point a failed search reached, for the report.
#[derive(Debug)]
pub(super) struct Stuck<S> {
    /// How many units it placed.
    pub depth: usize,
    /// The registers then.
    pub registers: S,
    /// The last few units placed, in order.
    pub last: Vec<usize>,
    /// The units that could have come next, none of which leads to a legal order.
    pub next: Vec<usize>,
}

/// Searches for a legal order of `plan`'s units over `keys` registers that start absent;
/// on failure, where the search got deepest, with `window` units in each list.
pub(super) fn search<S: Registers>(
    plan: &Plan,
    keys: usize,
    window: usize,
) -> Result<(), Box<Stuck<S>>> {
    let n = plan.units.len();
    // The event list: node 2i is unit i's invocation, 2i+1 its response; node 2n is the
    // head. Invocations sort before responses at equal times (those units overlap).
    let head = 2 * n;
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, unit) in plan.units.iter().enumerate() {
        events.push((unit.call, false, 2 * i));
        events.push((unit.ret, true, 2 * i + 1));
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

    let reads_only: Vec<bool> = (0..n).map(|u| plan.reads_only(u)).collect();
    let mut placed = Bits::new(n);
    let mut seen: HashSet<(BitsKey, S), BuildHasherDefault<FxHasher>> = HashSet::default();
    // For each placed unit, in order: its invocation node, the registers and the count of
    // batches part way through before it, and whether it was a read placed at once (then
    // the configuration before it has no other way forward).
    let mut stack: Vec<(usize, S, usize, bool)> = Vec::new();
    let mut registers = S::absent(keys);
    // How many batches are part way through: a function of `placed`, so the memo stays
    // exact without it.
    let mut open = 0_usize;
    let mut deepest: Option<Stuck<S>> = None;
    let mut entry = next[head];
    // A configuration just reached: look for a read to place at once.
    let mut fresh = true;
    loop {
        if next[head] == NONE {
            return Ok(());
        }
        let mut forced = false;
        if fresh {
            fresh = false;
            let mut node = next[head];
            while node != NONE && node % 2 == 0 {
                let u = node / 2;
                if reads_only[u] && plan.may_place(u, &registers, &placed, open) {
                    (entry, forced) = (node, true);
                    break;
                }
                node = next[node];
            }
        }
        if entry != NONE && entry % 2 == 0 {
            let u = entry / 2;
            if let Some(after) = plan.place(u, &registers, &placed, open) {
                placed.set(u);
                if seen.insert((placed.key(), after.clone())) {
                    let before = std::mem::replace(&mut registers, after);
                    stack.push((entry, before, open, forced));
                    let unit = &plan.units[u];
                    open =
                        (open + usize::from(unit.opens)).saturating_sub(usize::from(unit.closes));
                    unlink(&mut next, &mut prev, entry);
                    unlink(&mut next, &mut prev, entry + 1);
                    entry = next[head];
                    fresh = true;
                    continue;
                }
                placed.clear(u);
            }
            // A read placed at once leads nowhere new: neither does this configuration.
            entry = if forced { NONE } else { next[entry] };
            continue;
        }
        // A response whose unit is not placed yet: nothing later can go first.
        if deepest.as_ref().is_none_or(|d| stack.len() > d.depth) {
            let mut stuck = Vec::new();
            let mut node = next[head];
            while node != NONE && node % 2 == 0 && stuck.len() < window {
                stuck.push(node / 2);
                node = next[node];
            }
            deepest = Some(Stuck {
                depth: stack.len(),
                registers: registers.clone(),
                last: stack
                    .iter()
                    .rev()
                    .take(window)
                    .rev()
                    .map(|&(node, ..)| node / 2)
                    .collect(),
                next: stuck,
            });
        }
        let Some((call, before, open_before, forced)) = stack.pop() else {
            return Err(Box::new(deepest.unwrap_or(Stuck {
                depth: 0,
                registers,
                last: Vec::new(),
                next: Vec::new(),
            })));
        };
        relink(&mut next, &mut prev, call + 1);
        relink(&mut next, &mut prev, call);
        placed.clear(call / 2);
        registers = before;
        open = open_before;
        // Where a read was placed at once, there is nothing else to try: back up further.
        entry = if forced { NONE } else { next[call] };
    }
}

/// The compact encoding of a [`Bits`] used as a memoisation key: the number of leading
/// all-ones words, then the words from there up to the last non-zero one, zero-padded
/// inline when there are few (the usual case), so that remembering a configuration
/// seldom allocates.
#[derive(Debug, PartialEq, Eq, Hash)]
enum BitsKey {
    /// An edge of up to [`INLINE_WORDS`] words.
    Inline(usize, [u64; INLINE_WORDS]),
    /// A longer edge.
    Spilled(usize, Box<[u64]>),
}

/// The longest ragged edge a [`BitsKey`] holds without allocating: 192 units, more than
/// the operations in flight at once in the histories we check.
const INLINE_WORDS: usize = 3;

/// A fixed-size set of unit indices.
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

    fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
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
    /// from there up to the last non-zero one. Units are numbered by invocation order,
    /// so the placed set is a long run of ones plus a short ragged edge.
    fn key(&self) -> BitsKey {
        let end = self.top.max(self.full);
        let edge = self.words.get(self.full..end).unwrap_or_default();
        match edge.len() {
            0..=INLINE_WORDS => {
                let mut words = [0; INLINE_WORDS];
                words[..edge.len()].copy_from_slice(edge);
                BitsKey::Inline(self.full, words)
            }
            _ => BitsKey::Spilled(self.full, edge.into()),
        }
    }
}

/// The memo's hasher: FxHash's rotate, xor and multiply per word, several times faster
/// than the default SipHash. Its keys are the search's own, so flooding is no concern.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
