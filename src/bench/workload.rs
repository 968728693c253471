//! The requests of a run: which operation on which key, the 16-byte key names, and the
//! value every key holds, which is fixed by the key and the value size alone so any GET
//! reply can be checked byte for byte.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

use super::config::{BenchConfig, KeyDist, Ratio};

/// Every key is this long: `key:` and a 12-digit index.
pub const KEY_LEN: usize = 16;

/// Digits of the key index, in keys and at the start of values.
const INDEX_DIGITS: usize = 12;

/// Values are windows into a pool this much longer than a value, starting at an offset
/// picked by the key, so neighbouring keys get different bytes without generating any.
const POOL_SPREAD: usize = 4096;

/// Mixes connection numbers into the seed so connections draw different sequences.
const STREAM_STRIDE: u64 = 0x9e37_79b9_7f4a_7c15;

/// The two operations a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Read a key.
    Get,
    /// Write a key's value.
    Set,
}

/// One request: an operation on the key with this index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// GET or SET.
    pub kind: OpKind,
    /// The key's index, from 0 to `keys - 1`.
    pub key: u64,
}

/// Writes the name of key `index` (`key:000000000042`) into `out`.
pub fn write_key(index: u64, out: &mut [u8; KEY_LEN]) {
    out[..KEY_LEN - INDEX_DIGITS].copy_from_slice(b"key:");
    write_digits(index, &mut out[KEY_LEN - INDEX_DIGITS..]);
}

/// Writes the low `out.len()` decimal digits of `n`, zero-padded.
fn write_digits(mut n: u64, out: &mut [u8]) {
    for byte in out.iter_mut().rev() {
        // `n % 10` is below 10, so the cast is exact.
        *byte = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// SplitMix64: a fixed, version-independent mixer, so values never change between builds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(STREAM_STRIDE);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The value of every key at one value size: the key's 12-digit index (its low digits in
/// values shorter than that), then printable ASCII without spaces from a fixed pool.
#[derive(Debug, Clone)]
pub struct Values {
    /// Printable bytes; a value's tail is a window of it.
    pool: Vec<u8>,
    /// Bytes per value.
    value_bytes: usize,
}

impl Values {
    /// The values of size `value_bytes`.
    pub fn new(value_bytes: usize) -> Self {
        let mut state = value_bytes as u64;
        let pool = (0..value_bytes + POOL_SPREAD)
            .map(|_| {
                state = mix(state);
                // `%` keeps it within the 94 printable characters after the space.
                b'!' + (state % 94) as u8
            })
            .collect();
        Self { pool, value_bytes }
    }

    /// Bytes per value.
    pub fn value_bytes(&self) -> usize {
        self.value_bytes
    }

    /// How many leading index digits a value holds, and its window of the pool.
    fn parts(&self, index: u64) -> (usize, &[u8]) {
        let digits = INDEX_DIGITS.min(self.value_bytes);
        // The remainder is below POOL_SPREAD, so it fits a usize.
        let offset = (mix(index) % POOL_SPREAD as u64) as usize;
        (
            digits,
            &self.pool[offset..offset + self.value_bytes - digits],
        )
    }

    /// Appends the value of key `index` to `out`.
    pub fn write(&self, index: u64, out: &mut Vec<u8>) {
        let (digits, tail) = self.parts(index);
        let mut prefix = [0u8; INDEX_DIGITS];
        write_digits(index, &mut prefix);
        out.extend_from_slice(&prefix[INDEX_DIGITS - digits..]);
        out.extend_from_slice(tail);
    }

    /// Whether `bytes` is exactly the value of key `index`.
    pub fn matches(&self, index: u64, bytes: &[u8]) -> bool {
        let (digits, tail) = self.parts(index);
        let mut prefix = [0u8; INDEX_DIGITS];
        write_digits(index, &mut prefix);
        bytes.len() == self.value_bytes
            && bytes[..digits] == prefix[INDEX_DIGITS - digits..]
            && &bytes[digits..] == tail
    }
}

/// Picks key indexes.
#[derive(Debug, Clone)]
enum KeyPicker {
    /// Uniform over this many keys.
    Uniform(u64),
    /// Zipf-ranked over this many keys: rank 1 is key 0.
    Zipf(Zipf<f64>, u64),
}

/// An endless, seeded sequence of requests for one connection.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The connection's own generator, seeded from the run's seed and its number.
    rng: SmallRng,
    /// Which key comes next.
    keys: KeyPicker,
    /// GET and SET weights.
    ratio: Ratio,
}

/// The key distribution cannot be built from these parameters.
#[derive(Debug, thiserror::Error)]
#[error("bad key distribution: {0}")]
pub struct WorkloadError(String);

impl Workload {
    /// The sequence of connection number `stream` under `config`.
    ///
    /// # Errors
    /// [`WorkloadError`] for a Zipf exponent that is negative or not a number.
    pub fn new(config: &BenchConfig, stream: u64) -> Result<Self, WorkloadError> {
        let keys = match config.key_dist {
            KeyDist::Uniform => KeyPicker::Uniform(config.keys),
            KeyDist::Zipf { exponent } => {
                let zipf = Zipf::new(config.keys as f64, exponent)
                    .map_err(|err| WorkloadError(err.to_string()))?;
                KeyPicker::Zipf(zipf, config.keys)
            }
        };
        let seed = config
            .seed
            .wrapping_add(stream.wrapping_add(1).wrapping_mul(STREAM_STRIDE));
        Ok(Self {
            rng: SmallRng::seed_from_u64(seed),
            keys,
            ratio: config.ratio,
        })
    }

    /// The next request.
    pub fn next_op(&mut self) -> Op {
        let total = self.ratio.gets + self.ratio.sets;
        let kind = if total == 0 || self.rng.random_range(0..total) < self.ratio.gets {
            OpKind::Get
        } else {
            OpKind::Set
        };
        let key = match &self.keys {
            KeyPicker::Uniform(keys) => self.rng.random_range(0..*keys),
            KeyPicker::Zipf(zipf, keys) => {
                // Samples are ranks from 1 to `keys`, as floats; the cast truncates.
                let rank = zipf.sample(&mut self.rng) as u64;
                rank.saturating_sub(1).min(keys - 1)
            }
        };
        Op { kind, key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::config::Target;

    #[test]
    fn keys_are_sixteen_bytes_with_the_index() {
        let mut key = [0u8; KEY_LEN];
        write_key(42, &mut key);
        assert_eq!(&key, b"key:000000000042");
        write_key(999_999_999_999, &mut key);
        assert_eq!(&key, b"key:999999999999");
    }

    #[test]
    fn values_are_deterministic_printable_and_checkable() {
        for size in [1, 5, 12, 13, 32, 1000] {
            let values = Values::new(size);
            let mut a = Vec::new();
            values.write(7, &mut a);
            assert_eq!(a.len(), size);
            assert!(a.iter().all(|b| b.is_ascii_graphic()));
            let mut again = Vec::new();
            Values::new(size).write(7, &mut again);
            assert_eq!(a, again);
            assert!(values.matches(7, &a));
            assert!(!values.matches(8, &a));
            assert!(!values.matches(7, &a[..size - 1]));
        }
        let mut one = Vec::new();
        Values::new(32).write(1, &mut one);
        assert!(one.starts_with(b"000000000001"));
    }

    #[test]
    fn ratios_and_distributions_hold() {
        let target = Target::Unix("s".into());
        let config = BenchConfig::new(target).keys(1000);
        let mut uniform = Workload::new(&config, 0).unwrap();
        let ops: Vec<Op> = (0..10_000).map(|_| uniform.next_op()).collect();
        let gets = ops.iter().filter(|op| op.kind == OpKind::Get).count();
        assert!((8_500..9_500).contains(&gets), "{gets} GETs of 10 000");
        assert!(ops.iter().all(|op| op.key < 1000));

        let only_sets = config.clone().ratio(Ratio { gets: 0, sets: 1 });
        let mut sets = Workload::new(&only_sets, 0).unwrap();
        assert!((0..100).all(|_| sets.next_op().kind == OpKind::Set));

        let zipf = config.key_dist(KeyDist::Zipf { exponent: 0.99 });
        let mut skewed = Workload::new(&zipf, 0).unwrap();
        let ops: Vec<Op> = (0..10_000).map(|_| skewed.next_op()).collect();
        let hot = ops.iter().filter(|op| op.key < 10).count();
        assert!(hot > 2_000, "only {hot} of 10 000 on the 10 hottest keys");
        assert!(ops.iter().all(|op| op.key < 1000));
    }
}
