//! What the map holds and how it is searched. An [`Entry`] is the map's key: the key and
//! value bytes in one allocation. [`Meta`] is the map's value: the entry's size and its
//! access stamp. Every key is hashed once per operation with [`key_hash`], and the map's
//! hasher passes that hash through, so lookups by key ([`Lookup`]) and by hash alone
//! ([`ByHash`], how the sampler finds entries) probe the same slots.

use std::hash::{BuildHasher, Hash, Hasher};

use crate::sync::{AtomicU32, Ordering};

/// Bytes before the key in an entry's allocation: the key's length.
const HEADER_BYTES: usize = 4;

/// The 64-bit hash of a key: what the map, the sampler and the frequency sketch all use.
/// Seeded once per process, so clients cannot choose keys that collide.
pub fn key_hash(key: &[u8]) -> u64 {
    crate::sync::key_hasher().hash_one(key)
}

/// A stored key and value, in one allocation: the key's length (4 bytes), the key, the
/// value. It is the map's key; hashed and compared by its key bytes.
#[derive(Debug)]
pub struct Entry {
    /// Key length (little-endian `u32`), key bytes, value bytes.
    bytes: Box<[u8]>,
}

impl Entry {
    /// An entry holding `key` and `value`. Keys are limited far below 4 GiB by the
    /// protocols; a longer one would be cut short, never read out of bounds.
    pub fn new(key: &[u8], value: &[u8]) -> Self {
        let key_len = u32::try_from(key.len()).unwrap_or(u32::MAX);
        let key = &key[..key_len as usize];
        let mut bytes = Vec::with_capacity(HEADER_BYTES + key.len() + value.len());
        bytes.extend_from_slice(&key_len.to_le_bytes());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(value);
        Self {
            bytes: bytes.into_boxed_slice(),
        }
    }

    fn key_end(&self) -> usize {
        let mut len = [0; HEADER_BYTES];
        len.copy_from_slice(&self.bytes[..HEADER_BYTES]);
        HEADER_BYTES + u32::from_le_bytes(len) as usize
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        &self.bytes[HEADER_BYTES..self.key_end()]
    }

    /// The stored value.
    pub fn value(&self) -> &[u8] {
        &self.bytes[self.key_end()..]
    }

    /// Bytes charged for this entry: key plus value.
    pub fn size(&self) -> u64 {
        (self.bytes.len() - HEADER_BYTES) as u64
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

/// The map's value: what eviction scores an entry by, and its size, which `insert` hands
/// back for the entry it replaced (papaya returns the old value, not the old key).
#[derive(Debug)]
pub struct Meta {
    /// Milliseconds since the store's epoch at the last access; eviction's recency score.
    stamp: AtomicU32,
    /// Key plus value bytes, as charged; fits because a value is far below 4 GiB.
    size: u32,
}

impl Meta {
    /// Metadata of an entry of `size` bytes last accessed at `now`.
    pub fn new(size: u64, now: u32) -> Self {
        Self {
            stamp: AtomicU32::new(now),
            size: u32::try_from(size).unwrap_or(u32::MAX),
        }
    }

    /// Bytes charged for the entry.
    pub fn size(&self) -> u64 {
        u64::from(self.size)
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

impl papaya::Equivalent<Entry> for Lookup<'_> {
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

impl papaya::Equivalent<Entry> for ByHash {
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
    use papaya::Equivalent;

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
