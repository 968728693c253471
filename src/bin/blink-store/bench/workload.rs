//! The requests of a run: which operation on which key with which value length, the
//! 16-byte key names, and the value every key holds at each length, which is fixed by the
//! key, the length and the value sizes alone so any GET reply can be checked byte for byte.

use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

use super::config::{BenchConfig, KeyDist, Ratio, ValueSize};

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
    Set {
        /// Bytes of the value written.
        value_len: usize,
    },
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

/// The value of every key at every length of the value sizes: the key's 12-digit index
/// (its low digits in values shorter than that), then printable ASCII without spaces from a
/// fixed pool. Values are slices of the one pool, so writing one allocates nothing.
#[derive(Debug, Clone)]
pub struct Values {
    /// Printable bytes, the longest value plus [`POOL_SPREAD`]; a value's tail is a window
    /// of it. Shared, so each connection's copy of the values costs no memory.
    pool: Arc<[u8]>,
    /// The lengths a value may have.
    sizes: ValueSize,
}

impl Values {
    /// The values of the lengths `sizes` allows.
    pub fn new(sizes: ValueSize) -> Self {
        // Seeded by the longest length, so one size gives the values it always gave.
        let mut state = sizes.max() as u64;
        let pool = (0..sizes.max() + POOL_SPREAD)
            .map(|_| {
                state = mix(state);
                // `%` keeps it within the 94 printable characters after the space.
                b'!' + (state % 94) as u8
            })
            .collect();
        Self { pool, sizes }
    }

    /// The lengths a value may have.
    pub fn sizes(&self) -> ValueSize {
        self.sizes
    }

    /// How many leading index digits the `len`-byte value of key `index` holds, and its
    /// window of the pool; `len` is at most the longest size.
    fn parts(&self, index: u64, len: usize) -> (usize, &[u8]) {
        let digits = INDEX_DIGITS.min(len);
        // The remainder is below POOL_SPREAD, so it fits a usize.
        let offset = (mix(index) % POOL_SPREAD as u64) as usize;
        (digits, &self.pool[offset..offset + len - digits])
    }

    /// Appends the `len`-byte value of key `index` to `out`.
    ///
    /// # Panics
    /// If `len` is longer than the longest of the sizes.
    pub fn write(&self, index: u64, len: usize, out: &mut Vec<u8>) {
        let (digits, tail) = self.parts(index, len);
        let mut prefix = [0u8; INDEX_DIGITS];
        write_digits(index, &mut prefix);
        out.extend_from_slice(&prefix[INDEX_DIGITS - digits..]);
        out.extend_from_slice(tail);
    }

    /// Whether `bytes` is exactly the value of key `index` at one of the lengths allowed.
    pub fn matches(&self, index: u64, bytes: &[u8]) -> bool {
        if !(self.sizes.min()..=self.sizes.max()).contains(&bytes.len()) {
            return false;
        }
        let (digits, tail) = self.parts(index, bytes.len());
        let mut prefix = [0u8; INDEX_DIGITS];
        write_digits(index, &mut prefix);
        bytes[..digits] == prefix[INDEX_DIGITS - digits..] && &bytes[digits..] == tail
    }
}

/// The length of a value drawn log-uniformly over `sizes` from `unit`, a uniform draw from
/// `[0, 1)`: `⌊min · ((max + 1) / min)^unit⌋`, so every doubling of the length is about as
/// likely as every other and most values are small while most bytes are in large ones, as
/// in real caches.
pub fn log_uniform_len(sizes: ValueSize, unit: f64) -> usize {
    let (min, max) = (sizes.min() as f64, sizes.max() as f64);
    let len = min * ((max + 1.0) / min).powf(unit);
    // The cast truncates, as the floor should; the clamp catches rounding at either end.
    (len as usize).clamp(sizes.min(), sizes.max())
}

/// Draws the value length of each SET.
#[derive(Debug, Clone)]
struct LenPicker {
    /// Its own generator, so the keys and operations drawn do not depend on the sizes.
    rng: SmallRng,
    /// The lengths allowed.
    sizes: ValueSize,
}

impl LenPicker {
    fn next(&mut self) -> usize {
        if self.sizes.is_fixed() {
            return self.sizes.min();
        }
        log_uniform_len(self.sizes, self.rng.random::<f64>())
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
    /// How long each SET's value is.
    lens: LenPicker,
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
            lens: LenPicker {
                rng: SmallRng::seed_from_u64(mix(seed)),
                sizes: config.value_size,
            },
        })
    }

    /// The next request.
    pub fn next_op(&mut self) -> Op {
        let total = self.ratio.gets + self.ratio.sets;
        let kind = if total == 0 || self.rng.random_range(0..total) < self.ratio.gets {
            OpKind::Get
        } else {
            OpKind::Set {
                value_len: self.lens.next(),
            }
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

    /// The length of the next value SET, for requests this workload does not pick itself
    /// (preloading).
    pub fn next_value_len(&mut self) -> usize {
        self.lens.next()
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
            let values = Values::new(ValueSize::fixed(size));
            let mut a = Vec::new();
            values.write(7, size, &mut a);
            assert_eq!(a.len(), size);
            assert!(a.iter().all(|b| b.is_ascii_graphic()));
            let mut again = Vec::new();
            Values::new(ValueSize::fixed(size)).write(7, size, &mut again);
            assert_eq!(a, again);
            assert!(values.matches(7, &a));
            assert!(!values.matches(8, &a));
            assert!(!values.matches(7, &a[..size - 1]));
        }
        let mut one = Vec::new();
        Values::new(ValueSize::fixed(32)).write(1, 32, &mut one);
        assert!(one.starts_with(b"000000000001"));
    }

    #[test]
    fn mixed_values_are_checkable_at_every_length_in_range() {
        let values = Values::new(ValueSize::range(4, 100).unwrap());
        for len in [4, 12, 13, 57, 100] {
            let mut value = Vec::new();
            values.write(9, len, &mut value);
            assert_eq!(value.len(), len);
            assert!(values.matches(9, &value), "{len}");
            assert!(!values.matches(10, &value), "{len}");
        }
        let mut short = Vec::new();
        Values::new(ValueSize::range(1, 100).unwrap()).write(9, 3, &mut short);
        assert!(!values.matches(9, &short), "3 bytes is below the range");
        let mut long = Vec::new();
        values.write(9, 100, &mut long);
        long.push(b'x');
        assert!(!values.matches(9, &long), "101 bytes is above the range");
    }

    #[test]
    fn log_uniform_lengths_reach_both_ends() {
        let sizes = ValueSize::range(16, 16 * 1024).unwrap();
        assert_eq!(log_uniform_len(sizes, 0.0), 16);
        assert_eq!(log_uniform_len(sizes, 1.0 - f64::EPSILON), 16 * 1024);
        assert_eq!(log_uniform_len(sizes, 0.5), 512, "the geometric mean");
        let one = ValueSize::fixed(7);
        assert_eq!(log_uniform_len(one, 0.0), 7);
        assert_eq!(log_uniform_len(one, 0.99), 7);
    }

    /// SETs drawn from 16..16KiB: within bounds, at the very ends, about as many in each
    /// of the ten doublings, the same for the same seed.
    #[test]
    fn drawn_value_lengths_stay_in_range_and_spread_log_uniformly() {
        let target = Target::Unix("s".into());
        let sizes = ValueSize::range(16, 16 * 1024).unwrap();
        let config = BenchConfig::new(target)
            .ratio(Ratio { gets: 0, sets: 1 })
            .value_size(sizes)
            .seed(3);
        let lens = |stream| {
            let mut workload = Workload::new(&config, stream).unwrap();
            (0..100_000)
                .map(|_| match workload.next_op().kind {
                    OpKind::Set { value_len } => value_len,
                    OpKind::Get => panic!("0:1 sent a GET"),
                })
                .collect::<Vec<_>>()
        };
        let drawn = lens(0);
        assert!(drawn.iter().all(|len| (16..=16 * 1024).contains(len)));
        assert!(drawn.contains(&16), "never drew the shortest");
        assert!(
            drawn.iter().any(|&len| len > 16 * 1024 - 64),
            "never came near the longest"
        );
        let mut per_doubling = [0u32; 10];
        for len in &drawn {
            per_doubling[(len / 16).ilog2().min(9) as usize] += 1;
        }
        for count in per_doubling {
            assert!((9_000..11_000).contains(&count), "{per_doubling:?}");
        }
        assert_eq!(drawn, lens(0), "the same seed, the same lengths");
        assert_ne!(drawn, lens(1), "each connection draws its own");
    }

    #[test]
    fn one_value_size_draws_nothing() {
        let target = Target::Unix("s".into());
        let config = BenchConfig::new(target).value_size(ValueSize::fixed(100));
        let mut workload = Workload::new(&config, 0).unwrap();
        for _ in 0..1000 {
            if let OpKind::Set { value_len } = workload.next_op().kind {
                assert_eq!(value_len, 100);
            }
        }
        assert_eq!(workload.next_value_len(), 100);
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
        assert!((0..100).all(|_| sets.next_op().kind == OpKind::Set { value_len: 32 }));

        let zipf = config.key_dist(KeyDist::Zipf { exponent: 0.99 });
        let mut skewed = Workload::new(&zipf, 0).unwrap();
        let ops: Vec<Op> = (0..10_000).map(|_| skewed.next_op()).collect();
        let hot = ops.iter().filter(|op| op.key < 10).count();
        assert!(hot > 2_000, "only {hot} of 10 000 on the 10 hottest keys");
        assert!(ops.iter().all(|op| op.key < 1000));
    }
}
