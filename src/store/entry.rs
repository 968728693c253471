//! What the map holds and how it is searched. An [`Entry`] is the map's key: the key and
//! value bytes, the expiry time, CAS unique and client flags if it has them, and
//! memcached's marks ([`Marks`]), in one allocation. [`Meta`] is the map's value: the entry's size, which of those it carries,
//! and its access stamp. Every key is hashed once per operation with [`key_hash`], and the map's
//! hasher passes that hash through, so lookups by key ([`Lookup`]) and by hash alone
//! ([`ByHash`], how the sampler finds entries) probe the same slots.

use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::LazyLock;

use thin_slice::ThinBoxedSlice;

use super::stats::Counter;
use crate::float::LongDouble;
use crate::sync::{AtomicU32, Equivalent, Ordering};

/// Bytes before the key in an entry's allocation: the key's length, with [`EXPIRES`],
/// [`HAS_CAS`], [`HAS_FLAGS`] and the [`Marks`] bits.
pub(super) const HEADER_BYTES: usize = 4;

/// Bytes of the expiry time, when there is one: Unix milliseconds, after the header.
pub(super) const EXPIRY_BYTES: usize = 8;

/// Bytes of the CAS unique, when the store keeps them: after the expiry.
pub(super) const CAS_BYTES: usize = 8;

/// Bytes of memcached's client flags, when they are not zero: after the CAS unique.
pub(super) const FLAGS_BYTES: usize = 4;

/// Entries of at least this many bytes (header included) keep their length in a separate
/// allocation of [`SPILL_BYTES`]; shorter ones carry it in the pointer.
pub(super) const SPILL_FROM_BYTES: u64 = 0xffff;

/// The separate allocation of a long entry's length (a boxed fat pointer), on x86_64;
/// elsewhere the entry's pointer is a fat pointer already.
pub(super) const SPILL_BYTES: u64 = if cfg!(target_arch = "x86_64") { 16 } else { 0 };

/// The header's top bit: an expiry time follows the header.
const EXPIRES: u32 = 1 << 31;

/// The header's next bit: a CAS unique follows the expiry (or the header).
const HAS_CAS: u32 = 1 << 30;

/// The header's third bit: client flags follow the CAS unique (or what comes before).
const HAS_FLAGS: u32 = 1 << 29;

/// The header's bits that say what an entry carries besides its key and value; the same
/// bits mark the same things in [`Meta`].
const FIELDS: u32 = EXPIRES | HAS_CAS | HAS_FLAGS;

/// The header's fourth bit: memcached's stale mark ([`Marks::stale`]).
const STALE: u32 = 1 << 28;

/// The header's fifth bit: memcached's win token was handed out ([`Marks::won`]).
const WON: u32 = 1 << 27;

/// The header's sixth bit: fetched since it was written ([`Marks::fetched`]).
const FETCHED: u32 = 1 << 26;

/// The header's bits that hold the key's length: the 26 below the marks.
const KEY_LEN_BITS: u32 = FETCHED - 1;

/// The longest key an entry holds: 64 MiB less a byte, the header's 26 low bits. The
/// protocols refuse keys far shorter (1 KiB by default, `--max-key-size` at most this);
/// a longer one would be cut short, never read out of bounds.
pub const MAX_KEY_LEN: usize = KEY_LEN_BITS as usize;

/// memcached's per-item state that the meta protocol reports and acts on. Each mark is
/// one header bit, so it costs no byte; it belongs to one CAS unique: a write of a new
/// value clears the marks, a change of the expiry alone keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Marked stale (`md` with `I`, or an `ms` with `I` over a newer unique): `mg`
    /// answers `X`, and hands the first asker the win token.
    pub stale: bool,
    /// A win token (`W`) was handed out for this item: later `mg`s answer `Z`.
    pub won: bool,
    /// Fetched since it was written: `mg`'s `h`, `me`'s `fetch`. Set by memcached's
    /// reads only, and only when the store keeps CAS uniques.
    pub fetched: bool,
}

impl Marks {
    /// The header bits of these marks.
    fn bits(self) -> u32 {
        let mut bits = 0;
        if self.stale {
            bits |= STALE;
        }
        if self.won {
            bits |= WON;
        }
        if self.fetched {
            bits |= FETCHED;
        }
        bits
    }

    /// The marks the header bits `bits` hold.
    fn of(bits: u32) -> Self {
        Self {
            stale: bits & STALE != 0,
            won: bits & WON != 0,
            fetched: bits & FETCHED != 0,
        }
    }
}

/// What an entry carries besides its key and value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// When it expires (Unix milliseconds), if ever.
    pub expires_at_ms: Option<u64>,
    /// memcached's client flags; 0 takes no bytes.
    pub flags: u32,
    /// memcached's CAS unique; 0 (never a unique) takes no bytes: the store has CAS off.
    pub cas: u64,
    /// memcached's marks; header bits, no bytes.
    pub marks: Marks,
}

impl Extras {
    /// The header bits that mark these fields.
    fn bits(&self) -> u32 {
        let mut bits = 0;
        if self.expires_at_ms.is_some() {
            bits |= EXPIRES;
        }
        if self.cas != 0 {
            bits |= HAS_CAS;
        }
        if self.flags != 0 {
            bits |= HAS_FLAGS;
        }
        bits | self.marks.bits()
    }
}

/// Bytes of the CAS unique and client flags that `bits` (header or [`Meta`] bits) mark.
const fn field_bytes(bits: u32) -> u64 {
    let cas = if bits & HAS_CAS != 0 { CAS_BYTES } else { 0 };
    let flags = if bits & HAS_FLAGS != 0 {
        FLAGS_BYTES
    } else {
        0
    };
    (cas + flags) as u64
}

/// A value to store, built straight into an entry's allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// These bytes.
    Bytes(&'a [u8]),
    /// One slice followed by another (APPEND).
    Concat(&'a [u8], &'a [u8]),
    /// An integer in decimal (INCR).
    Integer(i64),
    /// An unsigned integer in decimal (memcached's incr and decr).
    Unsigned(u64),
    /// `base` with `patch` written from byte `offset` on, zero bytes filling any gap
    /// between the two (SETRANGE).
    Overwrite {
        /// The old value.
        base: &'a [u8],
        /// Where the patch starts.
        offset: usize,
        /// The bytes written there.
        patch: &'a [u8],
    },
    /// `base` with the byte at `index` replaced, zero bytes filling any gap (SETBIT).
    Byte {
        /// The old value.
        base: &'a [u8],
        /// Which byte.
        index: usize,
        /// Its new value.
        byte: u8,
    },
    /// A float, as Redis writes INCRBYFLOAT's result.
    Float(LongDouble),
}

impl Value<'_> {
    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Self::Bytes(bytes) => bytes.len(),
            Self::Concat(head, tail) => head.len() + tail.len(),
            Self::Integer(n) => decimal_len(*n),
            Self::Unsigned(n) => n.checked_ilog10().map_or(1, |log| log as usize + 1),
            Self::Overwrite {
                base,
                offset,
                patch,
            } => base.len().max(offset.saturating_add(patch.len())),
            Self::Byte { base, index, .. } => base.len().max(index.saturating_add(1)),
            Self::Float(n) => {
                let mut counter = Counted(0);
                // Counting cannot fail.
                let _ = write!(counter, "{n}");
                counter.0
            }
        }
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Bytes(bytes) => out.extend_from_slice(bytes),
            Self::Concat(head, tail) => {
                out.extend_from_slice(head);
                out.extend_from_slice(tail);
            }
            Self::Integer(n) => {
                use std::io::Write as _;
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{n}");
            }
            Self::Unsigned(n) => {
                use std::io::Write as _;
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{n}");
            }
            Self::Overwrite {
                base,
                offset,
                patch,
            } => {
                out.extend_from_slice(base.get(..*offset).unwrap_or(base));
                let gap = offset.saturating_sub(base.len());
                out.resize(out.len().saturating_add(gap), 0);
                out.extend_from_slice(patch);
                let after = offset.saturating_add(patch.len());
                out.extend_from_slice(base.get(after..).unwrap_or_default());
            }
            Self::Byte { base, index, byte } => {
                let patch = [*byte];
                let overwrite = Value::Overwrite {
                    base,
                    offset: *index,
                    patch: &patch,
                };
                overwrite.write_to(out);
            }
            Self::Float(n) => {
                use std::io::Write as _;
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{n}");
            }
        }
    }
}

/// A `fmt::Write` that only counts the bytes written to it.
struct Counted(usize);

impl fmt::Write for Counted {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

/// Digits (and sign) of `n` in decimal.
fn decimal_len(n: i64) -> usize {
    let digits = n
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |log| log as usize + 1);
    digits + usize::from(n < 0)
}

/// The 64-bit hash of a key: what the map, the sampler and the frequency sketch all use.
/// Seeded once per process, so clients cannot choose keys that collide.
pub fn key_hash(key: &[u8]) -> u64 {
    crate::sync::key_hasher().hash_one(key)
}

/// A stored key and value, in one allocation: the key's length (4 bytes, whose top three
/// bits say which of the next fields follow and the next three hold the [`Marks`]), the expiry time (8 bytes, only if it has
/// one), the CAS unique (8 bytes, only if the store keeps them), the client flags (4
/// bytes, only if not zero), the key, the value. It is the map's key; hashed and compared
/// by its key bytes. Entries never change: a new value or a new expiry is a new entry.
#[derive(Debug)]
pub struct Entry {
    /// Header (little-endian `u32`), expiry (little-endian `u64`), CAS unique
    /// (little-endian `u64`), flags (little-endian `u32`), each of the three optional, key
    /// bytes, value bytes. One word: on x86_64 the length rides in the pointer's top 16
    /// bits (entries of 64 KiB and more keep a boxed fat pointer instead, [`SPILL_BYTES`]).
    bytes: ThinBoxedSlice<u8>,
}

impl Entry {
    /// An entry holding `key` and `value`, with no expiry.
    pub fn new(key: &[u8], value: &[u8]) -> Self {
        Self::build(key, Value::Bytes(value), None)
    }

    /// An entry holding `key` and `value` that expires after the Unix time `expires_at_ms`
    /// (milliseconds), if given; no flags, no CAS unique.
    pub fn build(key: &[u8], value: Value<'_>, expires_at_ms: Option<u64>) -> Self {
        Self::build_with(
            key,
            value,
            Extras {
                expires_at_ms,
                ..Extras::default()
            },
        )
    }

    /// An entry holding `key` and `value` with `extras`. Keys are limited far below
    /// [`MAX_KEY_LEN`] by the protocols; a longer one would be cut short, never read out
    /// of bounds.
    pub fn build_with(key: &[u8], value: Value<'_>, extras: Extras) -> Self {
        let key = &key[..key.len().min(MAX_KEY_LEN)];
        let bits = extras.bits();
        let fields = Self::fields_bytes(bits);
        let mut bytes = Vec::with_capacity(HEADER_BYTES + fields + key.len() + value.len());
        // The key length fits in 26 bits: it was cut to MAX_KEY_LEN above.
        let header = key.len() as u32 | bits;
        bytes.extend_from_slice(&header.to_le_bytes());
        if let Some(at) = extras.expires_at_ms {
            bytes.extend_from_slice(&at.to_le_bytes());
        }
        if bits & HAS_CAS != 0 {
            bytes.extend_from_slice(&extras.cas.to_le_bytes());
        }
        if bits & HAS_FLAGS != 0 {
            bytes.extend_from_slice(&extras.flags.to_le_bytes());
        }
        bytes.extend_from_slice(key);
        value.write_to(&mut bytes);
        ALLOCATED.add(bytes.len() as u64);
        Self {
            bytes: bytes.into_boxed_slice().into(),
        }
    }

    /// Bytes of the fields between the header and the key that `bits` mark.
    fn fields_bytes(bits: u32) -> usize {
        let expiry = if bits & EXPIRES != 0 { EXPIRY_BYTES } else { 0 };
        // At most 12 bytes: the cast is lossless.
        expiry + field_bytes(bits) as usize
    }

    fn header(&self) -> u32 {
        let mut header = [0; HEADER_BYTES];
        header.copy_from_slice(&self.bytes[..HEADER_BYTES]);
        u32::from_le_bytes(header)
    }

    /// Where the key starts: after the header and the fields it marks.
    fn key_start(&self) -> usize {
        HEADER_BYTES + Self::fields_bytes(self.header())
    }

    fn key_end(&self) -> usize {
        self.key_start() + (self.header() & KEY_LEN_BITS) as usize
    }

    /// The `N` bytes at `at`.
    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut field = [0; N];
        field.copy_from_slice(&self.bytes[at..at + N]);
        field
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        &self.bytes[self.key_start()..self.key_end()]
    }

    /// The stored value.
    pub fn value(&self) -> &[u8] {
        &self.bytes[self.key_end()..]
    }

    /// Bytes of key and value: what `USAGE` counts.
    pub fn size(&self) -> u64 {
        (self.bytes.len() - self.key_start()) as u64
    }

    /// Bytes charged against the memory limit for this entry ([`super::footprint`]).
    pub fn charge(&self) -> u64 {
        let header = self.header();
        super::footprint::entry_charge_with(self.size(), header & EXPIRES != 0, field_bytes(header))
    }

    /// The Unix time in milliseconds after which the entry is gone, if it expires.
    pub fn expires_at_ms(&self) -> Option<u64> {
        if self.header() & EXPIRES == 0 {
            return None;
        }
        Some(u64::from_le_bytes(self.field(HEADER_BYTES)))
    }

    /// memcached's CAS unique: 0 if the store keeps none.
    pub fn cas(&self) -> u64 {
        let header = self.header();
        if header & HAS_CAS == 0 {
            return 0;
        }
        let at = HEADER_BYTES + Self::fields_bytes(header & EXPIRES);
        u64::from_le_bytes(self.field(at))
    }

    /// memcached's client flags (0 if none were set).
    pub fn flags(&self) -> u32 {
        let header = self.header();
        if header & HAS_FLAGS == 0 {
            return 0;
        }
        let at = HEADER_BYTES + Self::fields_bytes(header & (EXPIRES | HAS_CAS));
        u32::from_le_bytes(self.field(at))
    }

    /// memcached's marks.
    pub fn marks(&self) -> Marks {
        Marks::of(self.header())
    }

    /// The expiry, CAS unique, flags and marks together.
    pub fn extras(&self) -> Extras {
        Extras {
            expires_at_ms: self.expires_at_ms(),
            flags: self.flags(),
            cas: self.cas(),
            marks: self.marks(),
        }
    }

    /// Whether the entry has expired at the Unix time `now_ms`: its expiry is in the past
    /// (an entry is still there at the very millisecond it expires, as in Redis).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms().is_some_and(|at| at < now_ms)
    }
}

/// Bytes of every entry allocated in this process and not yet freed: those in maps, those
/// being built, and those removed that papaya has not reclaimed yet. Process-wide, like
/// the allocator's own figures it is compared with (see `Store::reclaiming_bytes`).
static ALLOCATED: LazyLock<Counter> = LazyLock::new(Counter::default);

/// Bytes of every [`Entry`] allocated in this process and not yet freed.
pub fn allocated_entry_bytes() -> u64 {
    ALLOCATED.sum()
}

impl Drop for Entry {
    fn drop(&mut self) {
        ALLOCATED.sub(self.bytes.len() as u64);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Entry {}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly as `Lookup` and `ByHash` do.
        state.write_u64(key_hash(self.key()));
    }
}

/// The map's value: what eviction scores an entry by, and its size and which fields it
/// carries, which `insert` hands back for the entry it replaced (papaya returns the old
/// value, not the old key).
#[derive(Debug)]
pub struct Meta {
    /// Milliseconds since the store's epoch at the last access; eviction's recency score.
    stamp: AtomicU32,
    /// Key plus value bytes (below 512 MiB), and the entry's header bits ([`EXPIRES`],
    /// [`HAS_CAS`], [`HAS_FLAGS`]): enough to recompute the entry's charge when it leaves
    /// the map. A third word would double papaya's node (16 to 32 bytes).
    size: u32,
}

/// The most key and value bytes one entry may hold: its size is kept in 29 bits.
pub const MAX_ENTRY_BYTES: u64 = (HAS_FLAGS - 1) as u64;

impl Meta {
    /// Metadata of `entry`, last accessed at `now`.
    pub fn of(entry: &Entry, now: u32) -> Self {
        let size = u32::try_from(entry.size().min(MAX_ENTRY_BYTES)).unwrap_or(HAS_FLAGS - 1);
        Self {
            stamp: AtomicU32::new(now),
            size: size | (entry.header() & FIELDS),
        }
    }

    /// A copy, with the same stamp.
    pub fn duplicate(&self) -> Self {
        Self {
            stamp: AtomicU32::new(self.stamp()),
            size: self.size,
        }
    }

    /// Bytes of the entry's key and value.
    pub fn size(&self) -> u64 {
        u64::from(self.size & !FIELDS)
    }

    /// Bytes charged against the memory limit for the entry ([`super::footprint`]).
    pub fn charge(&self) -> u64 {
        super::footprint::entry_charge_with(self.size(), self.expires(), field_bytes(self.size))
    }

    /// Whether the entry has an expiry time.
    pub fn expires(&self) -> bool {
        self.size & EXPIRES != 0
    }

    /// The last access time, in milliseconds since the store's epoch (wrapping).
    pub fn stamp(&self) -> u32 {
        // Ordering: Relaxed; the stamp is a heuristic and guards no other memory.
        self.stamp.load(Ordering::Relaxed)
    }

    /// Records an access at `now`.
    pub fn touch(&self, now: u32) {
        // Ordering: Relaxed, as above. Skipping equal stores keeps hot keys' cache lines
        // shared between cores instead of bouncing on every read.
        if self.stamp.load(Ordering::Relaxed) != now {
            self.stamp.store(now, Ordering::Relaxed);
        }
    }
}

/// A lookup by key whose hash is already known.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// `key_hash(key)`.
    pub hash: u64,
    /// The key bytes.
    pub key: &'a [u8],
}

impl<'a> Lookup<'a> {
    /// A lookup of `key`, hashing it.
    pub fn new(key: &'a [u8]) -> Self {
        Self {
            hash: key_hash(key),
            key,
        }
    }
}

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Equivalent<Entry> for Lookup<'_> {
    fn equivalent(&self, entry: &Entry) -> bool {
        self.key == entry.key()
    }
}

/// A lookup by hash alone: finds the entry whose key has this hash (64-bit hashes of
/// distinct live keys collide too rarely to matter for sampling).
#[derive(Debug, Clone, Copy)]
pub struct ByHash(pub u64);

impl Hash for ByHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

impl Equivalent<Entry> for ByHash {
    fn equivalent(&self, entry: &Entry) -> bool {
        key_hash(entry.key()) == self.0
    }
}

/// The map's hasher: keys arrive already hashed by [`key_hash`], so it passes the hash on.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// The hasher of [`PassThrough`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by the types above; anything else is mixed in properly
        // rather than trusted.
        self.0 = crate::sync::key_hasher().hash_one((self.0, bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_holds_key_and_value_in_one_allocation() {
        let entry = Entry::new(b"user", b"alice");
        assert_eq!(entry.key(), b"user");
        assert_eq!(entry.value(), b"alice");
        assert_eq!(entry.size(), 9);
        let empty = Entry::new(b"k", b"");
        assert_eq!(
            (empty.key(), empty.value(), empty.size()),
            (&b"k"[..], &b""[..], 1)
        );
    }

    #[test]
    fn an_entry_may_carry_an_expiry_without_changing_its_size() {
        let entry = Entry::build(b"user", Value::Bytes(b"alice"), Some(1_000));
        assert_eq!(entry.key(), b"user");
        assert_eq!(entry.value(), b"alice");
        assert_eq!(entry.size(), 9);
        assert_eq!(entry.expires_at_ms(), Some(1_000));
        assert!(
            !entry.is_expired(1_000),
            "still there at its expiry millisecond"
        );
        assert!(entry.is_expired(1_001));
        assert_eq!(Entry::new(b"user", b"alice").expires_at_ms(), None);
        assert!(Meta::of(&entry, 0).expires());
        assert_eq!(Meta::of(&entry, 0).size(), 9);
        assert!(!Meta::of(&Entry::new(b"k", b"v"), 0).expires());
    }

    #[test]
    fn an_entry_carries_each_field_only_when_it_has_one() {
        for expires_at_ms in [None, Some(1_000)] {
            for flags in [0, 1, u32::MAX] {
                for cas in [0, 1, u64::MAX] {
                    let extras = Extras {
                        expires_at_ms,
                        flags,
                        cas,
                        marks: Marks::default(),
                    };
                    let entry = Entry::build_with(b"key", Value::Bytes(b"value"), extras);
                    assert_eq!((entry.key(), entry.value()), (&b"key"[..], &b"value"[..]));
                    assert_eq!(entry.extras(), extras);
                    assert_eq!(entry.size(), 8);
                    let fields = [expires_at_ms.map(|_| 8), (flags != 0).then_some(4)]
                        .into_iter()
                        .chain([(cas != 0).then_some(8)])
                        .flatten()
                        .sum::<u64>();
                    let charge = super::super::footprint::entry_charge_with(
                        8,
                        expires_at_ms.is_some(),
                        fields - expires_at_ms.map_or(0, |_| 8),
                    );
                    assert_eq!(entry.charge(), charge, "{extras:?}");
                    let meta = Meta::of(&entry, 0);
                    assert_eq!((meta.size(), meta.charge()), (8, charge), "{extras:?}");
                }
            }
        }
    }

    #[test]
    fn marks_take_header_bits_and_leave_the_key_and_fields_alone() {
        let key = vec![b'k'; 70_000];
        for bits in 0..8u32 {
            let marks = Marks::of(bits << 26);
            assert_eq!(marks.bits(), bits << 26);
            let extras = Extras {
                expires_at_ms: Some(9),
                flags: 3,
                cas: 7,
                marks,
            };
            let entry = Entry::build_with(&key, Value::Bytes(b"v"), extras);
            assert_eq!((entry.key(), entry.value()), (&key[..], &b"v"[..]));
            assert_eq!((entry.extras(), entry.size()), (extras, 70_001));
            let plain = Extras {
                marks: Marks::default(),
                ..extras
            };
            let unmarked = Entry::build_with(&key, Value::Bytes(b"v"), plain);
            assert_eq!(entry.charge(), unmarked.charge(), "marks cost nothing");
            assert_eq!(Meta::of(&entry, 0).charge(), entry.charge());
        }
        let longest = vec![b'k'; MAX_KEY_LEN + 1];
        let cut = Entry::build_with(&longest, Value::Bytes(b"v"), Extras::default());
        assert_eq!((cut.key().len(), cut.value()), (MAX_KEY_LEN, &b"v"[..]));
    }

    #[test]
    fn values_are_built_in_place() {
        let concat = Entry::build(b"k", Value::Concat(b"ab", b"cd"), None);
        assert_eq!(concat.value(), b"abcd");
        for n in [0, 7, -7, 10, -10, 99, i64::MAX, i64::MIN] {
            let value = Value::Integer(n);
            let entry = Entry::build(b"k", value, None);
            assert_eq!(entry.value(), n.to_string().as_bytes());
            assert_eq!(value.len(), n.to_string().len());
        }
        for n in [0, 9, 10, u64::MAX] {
            let entry = Entry::build(b"k", Value::Unsigned(n), None);
            assert_eq!(entry.value(), n.to_string().as_bytes());
            assert_eq!(Value::Unsigned(n).len(), n.to_string().len());
        }
    }

    #[test]
    fn lookups_hash_and_compare_like_the_entry() {
        let entry = Entry::new(b"user", b"alice");
        let hash_of = |value: &dyn Fn(&mut PassThroughHasher)| {
            let mut hasher = PassThrough.build_hasher();
            value(&mut hasher);
            hasher.finish()
        };
        let by_entry = hash_of(&|h| entry.hash(h));
        assert_eq!(by_entry, hash_of(&|h| Lookup::new(b"user").hash(h)));
        assert_eq!(by_entry, hash_of(&|h| ByHash(key_hash(b"user")).hash(h)));
        assert!(Lookup::new(b"user").equivalent(&entry));
        assert!(!Lookup::new(b"users").equivalent(&entry));
        assert!(ByHash(key_hash(b"user")).equivalent(&entry));
        assert!(!ByHash(key_hash(b"other")).equivalent(&entry));
        assert_eq!(entry, Entry::new(b"user", b"bob"), "equal by key alone");
    }
}
