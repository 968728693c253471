//! The snapshot file's format (docs/snapshot.md): a header (magic, version, when it was
//! written), one record per entry, an end tag, and a trailer with the entry count and a
//! CRC-32 of every byte before it. [`Encoder`] writes it; [`decode`] reads it back and
//! refuses anything it cannot trust whole.

use std::io::{self, Read, Write};

/// The file's first bytes: what it is.
pub const MAGIC: &[u8; 8] = b"BLINKSNP";

/// The format this build writes and the only one it reads. Bumped whenever a field
/// changes; an older server refuses a newer file rather than misread it.
pub const VERSION: u32 = 1;

/// The tag before each entry's record.
const ENTRY_TAG: u8 = 0x01;

/// The tag after the last record, before the trailer.
const END_TAG: u8 = 0xff;

/// Bytes of the header: magic, version (`u32`), written at (`u64` Unix ms).
pub const HEADER_BYTES: u64 = 8 + 4 + 8;

/// Bytes of a record besides its key and value: tag, key length (`u32`), value length
/// (`u32`), expiry (`u64`), flags (`u32`).
pub const RECORD_OVERHEAD_BYTES: u64 = 1 + 4 + 4 + 8 + 4;

/// Bytes of the end: tag, entry count (`u64`), CRC-32 (`u32`).
pub const TRAILER_BYTES: u64 = 1 + 8 + 4;

/// One entry as the file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// When it expires, Unix milliseconds; stored as 0 for never (an entry that
    /// expired at the epoch is never written).
    pub expires_at_ms: Option<u64>,
    /// memcached's client flags (0 if none).
    pub flags: u32,
}

/// The longest key and value a reader accepts: the server's own limits, so that a file
/// cannot hand the store what no client could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The longest key, in bytes.
    pub max_key_len: usize,
    /// The longest value, in bytes.
    pub max_value_len: usize,
}

/// What a complete, verified file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Entries in the file.
    pub entries: u64,
    /// Bytes of the whole file.
    pub bytes: u64,
    /// When the file was written, Unix milliseconds.
    pub written_at_ms: u64,
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// It does not open with [`MAGIC`]: not a snapshot.
    #[error("not a snapshot file (bad magic)")]
    BadMagic,
    /// A format this build does not know.
    #[error("unknown snapshot format version {found} (this build reads version {VERSION})")]
    UnknownVersion {
        /// The version the file says.
        found: u32,
    },
    /// The file ends before its trailer.
    #[error("truncated: the file ends before its trailer")]
    Truncated,
    /// A byte where a record's or the end's tag should be.
    #[error("corrupt: unknown record tag {tag:#04x} at byte {at}")]
    BadTag {
        /// The byte found.
        tag: u8,
        /// Its offset in the file.
        at: u64,
    },
    /// A key or value longer than the server accepts.
    #[error(
        "a {what} of {len} bytes at byte {at} is over the limit of {limit} bytes (a corrupt \
         file, or one written with a larger --max-key-size or --max-value-size)"
    )]
    TooLong {
        /// `key` or `value`.
        what: &'static str,
        /// Its length, as the file says.
        len: u64,
        /// The limit.
        limit: usize,
        /// The record's offset in the file.
        at: u64,
    },
    /// The trailer's count is not the number of records read.
    #[error("corrupt: the trailer counts {counted} entries, the file holds {found}")]
    CountMismatch {
        /// What the trailer says.
        counted: u64,
        /// Records read.
        found: u64,
    },
    /// The checksum does not match the bytes.
    #[error("corrupt: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadChecksum {
        /// The trailer's CRC-32.
        stored: u32,
        /// The bytes' CRC-32.
        computed: u32,
    },
    /// Bytes after the trailer.
    #[error("corrupt: bytes after the trailer")]
    TrailingBytes,
    /// Reading failed.
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for FormatError {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            Self::Truncated
        } else {
            Self::Io(err)
        }
    }
}

/// A writer that sums what passes through it: the CRC-32 and the byte count.
struct Summed<W> {
    inner: W,
    crc: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a snapshot: [`Encoder::new`] writes the header, [`Encoder::entry`] one record,
/// [`Encoder::finish`] the trailer.
pub struct Encoder<W: Write> {
    out: Summed<W>,
    entries: u64,
}

impl<W: Write> Encoder<W> {
    /// Starts a snapshot written at `written_at_ms` (Unix ms) on `out`.
    ///
    /// # Errors
    /// If `out` fails.
    pub fn new(out: W, written_at_ms: u64) -> io::Result<Self> {
        let mut out = Summed {
            inner: out,
            crc: crc32fast::Hasher::new(),
            bytes: 0,
        };
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&written_at_ms.to_le_bytes())?;
        Ok(Self { out, entries: 0 })
    }

    /// Writes one entry's record.
    ///
    /// # Errors
    /// If `out` fails, or a key or value is 4 GiB or longer (the store holds none).
    pub fn entry(&mut self, record: &Record<'_>) -> io::Result<()> {
        let len = |bytes: &[u8]| {
            u32::try_from(bytes.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "entry over 4 GiB"))
        };
        let (key_len, value_len) = (len(record.key)?, len(record.value)?);
        let out = &mut self.out;
        out.write_all(&[ENTRY_TAG])?;
        out.write_all(&key_len.to_le_bytes())?;
        out.write_all(&value_len.to_le_bytes())?;
        out.write_all(&record.expires_at_ms.unwrap_or(0).to_le_bytes())?;
        out.write_all(&record.flags.to_le_bytes())?;
        out.write_all(record.key)?;
        out.write_all(record.value)?;
        self.entries += 1;
        Ok(())
    }

    /// Writes the trailer and hands back the writer, the entries and the file's bytes.
    ///
    /// # Errors
    /// If `out` fails.
    pub fn finish(mut self) -> io::Result<(W, u64, u64)> {
        self.out.write_all(&[END_TAG])?;
        self.out.write_all(&self.entries.to_le_bytes())?;
        let crc = self.out.crc.clone().finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        let Summed { inner, bytes, .. } = self.out;
        Ok((inner, self.entries, bytes))
    }
}

/// A reader that sums what passes through it, as [`Summed`] does for writes.
struct SummedReader<R> {
    inner: R,
    crc: crc32fast::Hasher,
    bytes: u64,
}

impl<R: Read> SummedReader<R> {
    /// `N` bytes, summed.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut bytes = [0; N];
        self.inner.read_exact(&mut bytes)?;
        self.crc.update(&bytes);
        self.bytes += N as u64;
        Ok(bytes)
    }

    /// `len` bytes into `buf` (replacing what it held), summed.
    fn bytes_into(&mut self, len: usize, buf: &mut Vec<u8>) -> Result<(), FormatError> {
        buf.clear();
        // `take` bounds what a lying length could make us allocate to what the file has.
        let read = (&mut self.inner).take(len as u64).read_to_end(buf)?;
        if read < len {
            return Err(FormatError::Truncated);
        }
        self.crc.update(buf);
        self.bytes += len as u64;
        Ok(())
    }
}

/// Reads a whole snapshot from `input`, calling `each` with every record in order, and
/// checks it to the last byte. `each` may be called before a later problem is found:
/// a caller that must not act on a bad file reads it twice, the first time with an
/// `each` that does nothing.
///
/// # Errors
/// Any [`FormatError`]: a bad magic or version, a truncated file, a length past
/// `limits`, a bad tag, count or checksum, or bytes after the trailer.
pub fn decode<R: Read>(
    input: R,
    limits: ReadLimits,
    mut each: impl FnMut(&Record<'_>),
) -> Result<Summary, FormatError> {
    let mut input = SummedReader {
        inner: input,
        crc: crc32fast::Hasher::new(),
        bytes: 0,
    };
    let written_at_ms = read_header(&mut input)?;
    let (mut key, mut value) = (Vec::new(), Vec::new());
    let mut entries = 0u64;
    while let Some((expires_at_ms, flags)) =
        read_record(&mut input, limits, (&mut key, &mut value))?
    {
        entries += 1;
        each(&Record {
            key: &key,
            value: &value,
            // `Some(0)` is written as 0 too, but a live entry never expired at the epoch.
            expires_at_ms: (expires_at_ms != 0).then_some(expires_at_ms),
            flags,
        });
    }
    read_trailer(&mut input, entries)?;
    Ok(Summary {
        entries,
        bytes: input.bytes,
        written_at_ms,
    })
}

/// Checks the magic and the version; returns when the file was written.
fn read_header<R: Read>(input: &mut SummedReader<R>) -> Result<u64, FormatError> {
    let magic: [u8; 8] = input.array().map_err(|err| match err {
        FormatError::Truncated => FormatError::BadMagic,
        err => err,
    })?;
    if &magic != MAGIC {
        return Err(FormatError::BadMagic);
    }
    let found = u32::from_le_bytes(input.array()?);
    if found != VERSION {
        return Err(FormatError::UnknownVersion { found });
    }
    Ok(u64::from_le_bytes(input.array()?))
}

/// Reads one record's key and value into `key` and `value`, returning its expiry (0 for
/// none) and flags; `None` at the end tag.
fn read_record<R: Read>(
    input: &mut SummedReader<R>,
    limits: ReadLimits,
    (key, value): (&mut Vec<u8>, &mut Vec<u8>),
) -> Result<Option<(u64, u32)>, FormatError> {
    let at = input.bytes;
    match input.array::<1>()?[0] {
        ENTRY_TAG => {}
        END_TAG => return Ok(None),
        tag => return Err(FormatError::BadTag { tag, at }),
    }
    let key_len = u64::from(u32::from_le_bytes(input.array()?));
    let value_len = u64::from(u32::from_le_bytes(input.array()?));
    let check = |what, len: u64, limit: usize| match usize::try_from(len) {
        Ok(len) if len <= limit => Ok(len),
        _ => Err(FormatError::TooLong {
            what,
            len,
            limit,
            at,
        }),
    };
    let key_len = check("key", key_len, limits.max_key_len)?;
    let value_len = check("value", value_len, limits.max_value_len)?;
    let expires_at_ms = u64::from_le_bytes(input.array()?);
    let flags = u32::from_le_bytes(input.array()?);
    input.bytes_into(key_len, key)?;
    input.bytes_into(value_len, value)?;
    Ok(Some((expires_at_ms, flags)))
}

/// Checks the trailer after `entries` records: the checksum of everything before it,
/// the count, and that nothing follows.
fn read_trailer<R: Read>(input: &mut SummedReader<R>, entries: u64) -> Result<(), FormatError> {
    let counted = u64::from_le_bytes(input.array()?);
    let computed = input.crc.clone().finalize();
    let stored = u32::from_le_bytes(input.array()?);
    if stored != computed {
        return Err(FormatError::BadChecksum { stored, computed });
    }
    if counted != entries {
        return Err(FormatError::CountMismatch {
            counted,
            found: entries,
        });
    }
    let mut extra = [0; 1];
    if input.inner.read(&mut extra)? != 0 {
        return Err(FormatError::TrailingBytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ReadLimits = ReadLimits {
        max_key_len: 16,
        max_value_len: 64,
    };

    /// An owned record, for comparisons.
    type Owned = (Vec<u8>, Vec<u8>, Option<u64>, u32);

    fn encode(records: &[Owned]) -> Vec<u8> {
        let mut encoder = Encoder::new(Vec::new(), 1_700_000_000_000).unwrap();
        for (key, value, expires_at_ms, flags) in records {
            let record = Record {
                key,
                value,
                expires_at_ms: *expires_at_ms,
                flags: *flags,
            };
            encoder.entry(&record).unwrap();
        }
        let (bytes, entries, len) = encoder.finish().unwrap();
        assert_eq!(entries, records.len() as u64);
        assert_eq!(len, bytes.len() as u64);
        bytes
    }

    fn read(bytes: &[u8]) -> Result<(Vec<Owned>, Summary), FormatError> {
        let mut records = Vec::new();
        let summary = decode(bytes, LIMITS, |r| {
            records.push((r.key.to_vec(), r.value.to_vec(), r.expires_at_ms, r.flags));
        })?;
        Ok((records, summary))
    }

    fn sample() -> Vec<Owned> {
        vec![
            (b"a".to_vec(), b"1".to_vec(), None, 0),
            (
                b"ttl".to_vec(),
                b"value".to_vec(),
                Some(1_800_000_000_000),
                0,
            ),
            (b"mc".to_vec(), Vec::new(), Some(5), 0xdead_beef),
        ]
    }

    #[test]
    fn a_snapshot_reads_back_as_written() {
        let records = sample();
        let bytes = encode(&records);
        let (back, summary) = read(&bytes).unwrap();
        assert_eq!(back, records);
        assert_eq!(summary.entries, 3);
        assert_eq!(summary.bytes, bytes.len() as u64);
        assert_eq!(summary.written_at_ms, 1_700_000_000_000);
        let empty = encode(&[]);
        assert_eq!(empty.len() as u64, HEADER_BYTES + TRAILER_BYTES);
        assert_eq!(read(&empty).unwrap().0, vec![]);
    }

    #[test]
    fn a_record_costs_its_overhead_plus_its_bytes() {
        let one = encode(&[(b"key".to_vec(), b"value".to_vec(), None, 0)]);
        let want = HEADER_BYTES + RECORD_OVERHEAD_BYTES + 8 + TRAILER_BYTES;
        assert_eq!(one.len() as u64, want);
    }

    #[test]
    fn every_damage_is_refused() {
        let good = encode(&sample());
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        assert!(matches!(read(&bad_magic), Err(FormatError::BadMagic)));
        assert!(matches!(read(b"BLI"), Err(FormatError::BadMagic)));
        let mut version = good.clone();
        version[8] = 2;
        assert!(matches!(
            read(&version),
            Err(FormatError::UnknownVersion { found: 2 })
        ));
        for cut in [
            HEADER_BYTES as usize - 1,
            30,
            good.len() - 5,
            good.len() - 1,
        ] {
            let result = read(&good[..cut]);
            assert!(
                matches!(result, Err(FormatError::Truncated)),
                "{cut}: {result:?}"
            );
        }
        let mut flipped = good.clone();
        let middle = good.len() / 2;
        flipped[middle] ^= 0x40;
        assert!(read(&flipped).is_err(), "a flipped byte is found");
        let mut value_byte = good.clone();
        // The last byte of the last record's key ("mc"): only the checksum can tell.
        let at = good.len() - TRAILER_BYTES as usize - 1;
        value_byte[at] ^= 1;
        assert!(matches!(
            read(&value_byte),
            Err(FormatError::BadChecksum { .. })
        ));
        let mut tag = good.clone();
        tag[HEADER_BYTES as usize] = 0x07;
        assert!(matches!(
            read(&tag),
            Err(FormatError::BadTag { tag: 0x07, at: 20 })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(read(&trailing), Err(FormatError::TrailingBytes)));
    }

    #[test]
    fn a_wrong_count_is_refused_even_with_a_matching_checksum() {
        let mut bytes = encode(&sample());
        let count_at = bytes.len() - 12;
        bytes.truncate(count_at);
        bytes.extend_from_slice(&7u64.to_le_bytes());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            read(&bytes),
            Err(FormatError::CountMismatch {
                counted: 7,
                found: 3
            })
        ));
    }

    #[test]
    fn lengths_past_the_limits_are_refused() {
        let long_key = encode(&[(vec![b'k'; 17], Vec::new(), None, 0)]);
        assert!(matches!(
            read(&long_key),
            Err(FormatError::TooLong {
                what: "key",
                len: 17,
                ..
            })
        ));
        let long_value = encode(&[(b"k".to_vec(), vec![0; 65], None, 0)]);
        assert!(matches!(
            read(&long_value),
            Err(FormatError::TooLong { what: "value", .. })
        ));
        // A huge length in a short file is refused by the limit, never allocated.
        let mut huge = encode(&[(b"k".to_vec(), Vec::new(), None, 0)]);
        huge[HEADER_BYTES as usize + 5..HEADER_BYTES as usize + 9]
            .copy_from_slice(&u32::MAX.to_le_bytes());
        let wide = ReadLimits {
            max_key_len: 16,
            max_value_len: usize::MAX,
        };
        let result = decode(&huge[..], wide, |_| {});
        assert!(matches!(result, Err(FormatError::Truncated)), "{result:?}");
    }

    proptest::proptest! {
        #[test]
        fn any_entries_round_trip(
            records in proptest::collection::vec(
                (
                    proptest::collection::vec(proptest::num::u8::ANY, 0..16),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..64),
                    proptest::option::of(1u64..),
                    proptest::num::u32::ANY,
                ),
                0..20,
            )
        ) {
            let bytes = encode(&records);
            let (back, summary) = read(&bytes).unwrap();
            proptest::prop_assert_eq!(back, records);
            proptest::prop_assert_eq!(summary.bytes, bytes.len() as u64);
        }

        #[test]
        fn no_input_panics_the_reader(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = read(&bytes);
        }
    }
}
