//! The random source of one sequence: picks the enabled generators by weight, and the
//! arguments they draw, from small pools so keys collide, and times to live that no
//! arrival time can change (see the `generators` module's doc).

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::generators::{cmd, Command, Generator, Make, Step};

/// The keys every command draws from: few, so that commands meet on the same keys.
const KEYS: &[&[u8]] = &[b"a", b"b", b"c", b"k:1", b"k:2", b"{t}x", b"bin\x00\xff"];

/// Values that are integers, floats, text, empty or binary.
const VALUES: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"42",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"007",
    b"+1",
    b"1.5",
    b"-0.5",
    b"0.1",
    b"3e2",
    b"10.50",
    b"",
    b"hello",
    b"a b c",
    b"\x00\r\n\xff",
];

/// Arguments [`Maker::wrong`] adds: none a small positive integer, which could become a
/// time to live that ends during the run, and no option word, which could repeat one.
const JUNK: &[&[u8]] = &[b"", b"x", b"-1", b"0", b"1.5", b"99999999999999999999"];

/// Special relative times: zero or negative (EXPIRE deletes, SET refuses), and not
/// times at all.
pub(super) const ANY_RELATIVE: &[&[u8]] = &[
    b"0",
    b"-1",
    b"-100",
    b"x",
    b"1.5",
    b"9223372036854775807",
    b"",
];
/// Special Unix times: in the past (EXPIREAT and GETEX delete the key), and refused.
pub(super) const ANY_UNIX: &[&[u8]] = &[b"1", b"1000000000", b"0", b"-1", b"x", b""];
/// Unix times in the past that are valid times.
pub(super) const PAST_UNIX: &[&[u8]] = &[b"1", b"1000000000"];
/// Unix times refused as expiry times by SET and GETEX.
pub(super) const REFUSED_UNIX: &[&[u8]] = &[b"0", b"-1", b"x", b""];

/// The values [`Maker::unique`] walks: a prime, so that any step below it visits each
/// value once.
const UNIQUE_RANGE: u64 = 1_000_003;
/// The stride of that walk: prime to [`UNIQUE_RANGE`], so no value repeats.
const UNIQUE_STRIDE: u64 = 104_729;
/// Where future absolute expiry times start: after any relative time added to today
/// (relative times stay under about 32 years).
const FUTURE_UNIX_SECONDS: u64 = 4_000_000_000;

/// The random source of one sequence, and the generators it draws from.
pub struct Maker<'g> {
    rng: SmallRng,
    /// The enabled generators.
    enabled: Vec<&'g Generator>,
    /// Whether "wrong arity" is enabled: then pipelines and transactions carry such
    /// commands too.
    wrong: bool,
    /// Steps through [`Maker::unique`]'s walk.
    serial: u64,
}

impl<'g> Maker<'g> {
    /// A maker for the sequence `seed`, drawing from `enabled`.
    pub fn new(seed: u64, enabled: Vec<&'g Generator>) -> Maker<'g> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let serial = rng.random_range(0..UNIQUE_RANGE);
        let wrong = enabled.iter().any(|g| g.name == "wrong arity");
        Maker {
            rng,
            enabled,
            wrong,
            serial,
        }
    }

    /// The next step: an enabled generator picked by weight.
    pub fn step(&mut self) -> Step {
        let generator = self.weighted(|_| true);
        match generator.make {
            Make::One(make) => Step {
                commands: vec![make(self)],
                together: false,
            },
            Make::Batch(make) => make(self),
        }
    }

    /// A command from the enabled single-command generators, one time in ten with a
    /// wrong arity if "wrong arity" is enabled.
    pub(super) fn command(&mut self) -> Command {
        if self.wrong && self.chance(10) {
            return self.wrong();
        }
        self.plain()
    }

    fn plain(&mut self) -> Command {
        match self.weighted(|g| matches!(g.make, Make::One(_))).make {
            Make::One(make) => make(self),
            Make::Batch(_) => unreachable!("only single commands were picked"),
        }
    }

    fn weighted(&mut self, mut wanted: impl FnMut(&Generator) -> bool) -> &'g Generator {
        let pool: Vec<&'g Generator> = self.enabled.iter().copied().filter(|g| wanted(g)).collect();
        assert!(!pool.is_empty(), "no enabled generator can make this step");
        let total: u32 = pool.iter().map(|g| g.weight).sum();
        let mut roll = self.rng.random_range(0..total);
        for generator in &pool {
            if roll < generator.weight {
                return generator;
            }
            roll -= generator.weight;
        }
        unreachable!("the roll is below the total weight")
    }

    /// A command with arguments missing or added, or an unknown command. (Wrong
    /// values are each generator's own.)
    pub(super) fn wrong(&mut self) -> Command {
        if self.chance(10) {
            let args = self.keys(2);
            return cmd(["NOSUCHCOMMAND"], args);
        }
        let mut command = self.plain();
        if command.len() > 1 && self.chance(50) {
            let keep = 1 + self.below(command.len() - 1);
            command.truncate(keep);
        } else {
            for _ in 0..=self.below(2) {
                command.push(self.pick(JUNK).to_vec());
            }
        }
        command
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    pub(super) fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    pub(super) fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    /// An option word, in lower case one time in five (Redis ignores case).
    pub(super) fn word(&mut self, word: &str) -> Vec<u8> {
        if self.chance(20) {
            word.to_ascii_lowercase().into_bytes()
        } else {
            word.as_bytes().to_vec()
        }
    }

    pub(super) fn key(&mut self) -> Vec<u8> {
        self.pick(KEYS).to_vec()
    }

    pub(super) fn keys(&mut self, most: usize) -> Vec<Vec<u8>> {
        (0..=self.below(most)).map(|_| self.key()).collect()
    }

    pub(super) fn pairs(&mut self) -> Vec<Vec<u8>> {
        (0..=self.below(3))
            .flat_map(|_| [self.key(), self.value()])
            .collect()
    }

    pub(super) fn value(&mut self) -> Vec<u8> {
        if self.chance(25) {
            let len = self.below(12);
            (0..len).map(|_| self.rng.random::<u8>()).collect()
        } else {
            self.pick(VALUES).to_vec()
        }
    }

    /// A start or end index: small, negative, or at the edges of 64 bits.
    pub(super) fn index(&mut self) -> Vec<u8> {
        if self.chance(90) {
            (self.rng.random_range(-12..12i32)).to_string().into_bytes()
        } else {
            let edge: &[&[u8]] = &[b"9223372036854775807", b"-9223372036854775808", b"x"];
            self.pick(edge).to_vec()
        }
    }

    pub(super) fn bit_offset(&mut self, special: &[&[u8]]) -> Vec<u8> {
        if self.chance(85) {
            self.below(130).to_string().into_bytes()
        } else {
            self.pick(special).to_vec()
        }
    }

    /// A number no earlier call in this sequence returned, from 1 to [`UNIQUE_RANGE`]:
    /// times to live made from it are at least 1,000 s apart.
    fn unique(&mut self) -> u64 {
        self.serial += 1;
        (self.serial.wrapping_mul(UNIQUE_STRIDE) % UNIQUE_RANGE) + 1
    }

    /// A relative time in units of `millis` ms: at least 1,000 s (with a part of a
    /// second, in milliseconds), or one time in five one of `special`.
    pub(super) fn relative(&mut self, millis: u64, special: &[&[u8]]) -> Vec<u8> {
        if !special.is_empty() && self.chance(20) {
            return self.pick(special).to_vec();
        }
        let ms = self.unique() * 1_000_000 + self.rng.random_range(0..1000);
        (ms / millis).to_string().into_bytes()
    }

    /// A Unix time in units of `millis` ms, after every relative time from today, or
    /// one time in five one of `special`.
    pub(super) fn unix(&mut self, millis: u64, special: &[&[u8]]) -> Vec<u8> {
        if !special.is_empty() && self.chance(20) {
            return self.pick(special).to_vec();
        }
        let ms =
            (FUTURE_UNIX_SECONDS + self.unique() * 1000) * 1000 + self.rng.random_range(0..1000);
        (ms / millis).to_string().into_bytes()
    }

    /// An expiry option of SET or GETEX: EX, PX, EXAT or PXAT with its time (special
    /// ones from `relative` and `unix`), or `last` (KEEPTTL or PERSIST).
    pub(super) fn expiry(
        &mut self,
        relative: &[&[u8]],
        unix: &[&[u8]],
        last: &str,
    ) -> Vec<Vec<u8>> {
        match self.below(5) {
            0 => vec![self.word("EX"), self.relative(1000, relative)],
            1 => vec![self.word("PX"), self.relative(1, relative)],
            2 => vec![self.word("EXAT"), self.unix(1000, unix)],
            3 => vec![self.word("PXAT"), self.unix(1, unix)],
            _ => vec![self.word(last)],
        }
    }
}
