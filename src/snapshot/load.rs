//! Loading a snapshot file at start: the whole file is read and checked first, and only
//! a file found whole is read again into the store, dropping entries that expired while
//! the server was down and stopping, without evicting, at the memory limit.

use std::fs::File;
use std::io::{self, BufReader, Seek as _};
use std::path::Path;
use std::time::{Duration, Instant};

use super::format::{decode, FormatError, ReadLimits, Record};
use crate::store::entry::Value;
use crate::store::footprint::entry_charge_with;
use crate::store::update::Plan;
use crate::store::Store;

/// Bytes of the read buffer.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// Entries inserted under one papaya guard, and between two refreshes of the shared
/// structures' estimate (papaya's table grows as entries arrive, and the limit counts
/// it): a refresh costs about a microsecond, a thousandth of inserting that many.
const ENTRIES_PER_GUARD: u64 = 1024;

/// What a load put back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Entries in the file.
    pub in_file: u64,
    /// Entries put back in the store.
    pub entries: u64,
    /// Key and value bytes put back.
    pub data_bytes: u64,
    /// Entries that expired while the server was down.
    pub expired: u64,
    /// Entries left out at the memory limit.
    pub over_limit: u64,
    /// Bytes of the file.
    pub file_bytes: u64,
    /// How long the check and the load took together.
    pub took: Duration,
}

/// Why a file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// It could not be opened or read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// It is not a whole, valid snapshot.
    #[error("{0}")]
    Format(#[from] FormatError),
}

/// Loads the snapshot at `path` into `store`; `Ok(None)` if there is no file.
///
/// # Errors
/// If the file cannot be read, or is not a whole, valid snapshot ([`FormatError`]):
/// then nothing was inserted.
pub fn load(store: &Store, path: &Path, limits: ReadLimits) -> Result<Option<Loaded>, LoadError> {
    let started = Instant::now();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    // First pass: the whole file, checked before anything is inserted.
    let summary = decode(reader(&file), limits, |_| {})?;
    file.rewind()?;
    let mut loaded = Loaded {
        in_file: summary.entries,
        file_bytes: summary.bytes,
        ..Loaded::default()
    };
    let now_ms = store.unix_ms();
    let mut guard = store.guard();
    let mut full = false;
    let mut inserted = 0u64;
    // The file is the one just checked (the handle stays open), so this pass finds it
    // whole too; its errors are reported all the same.
    decode(reader(&file), limits, |record| {
        if full {
            loaded.over_limit += 1;
            return;
        }
        if record.expires_at_ms.is_some_and(|at| at <= now_ms) {
            loaded.expired += 1;
            return;
        }
        if !fits(store, record) && {
            // The table's estimate may be behind: is it really full?
            store.refresh_structures();
            !fits(store, record)
        } {
            full = true;
            loaded.over_limit += 1;
            return;
        }
        if insert(store, record, &guard) {
            loaded.entries += 1;
            loaded.data_bytes += (record.key.len() + record.value.len()) as u64;
        }
        inserted += 1;
        if inserted % ENTRIES_PER_GUARD == 0 {
            guard = store.guard();
            store.refresh_structures();
        }
    })?;
    store.refresh_structures();
    loaded.took = started.elapsed();
    Ok(Some(loaded))
}

/// A buffered reader of `file` from where it is.
fn reader(file: &File) -> BufReader<&File> {
    BufReader::with_capacity(READ_BUFFER_BYTES, file)
}

/// Whether `record` fits under the memory limit beside what is stored, without evicting.
fn fits(store: &Store, record: &Record<'_>) -> bool {
    let cas_bytes = if store.config().cas { 8 } else { 0 };
    let flags_bytes = if record.flags != 0 { 4 } else { 0 };
    let size = (record.key.len() + record.value.len()) as u64;
    let charge = entry_charge_with(
        size,
        record.expires_at_ms.is_some(),
        cas_bytes + flags_bytes,
    );
    store.used_bytes().saturating_add(charge) <= store.entry_budget()
}

/// Stores `record` with its expiry and flags and a fresh CAS unique; `false` if the
/// store refused it (larger than the limit allows for one entry).
fn insert(store: &Store, record: &Record<'_>, guard: &crate::sync::Guard<'_>) -> bool {
    let plan = Plan::Write {
        value: Value::Bytes(record.value),
        expires_at_ms: record.expires_at_ms,
        flags: record.flags,
        cas: store.next_cas(),
    };
    store.modify(record.key, guard, |_| (plan, ())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::write::write;

    const LIMITS: ReadLimits = ReadLimits {
        max_key_len: 64,
        max_value_len: 1 << 20,
    };

    #[test]
    fn entries_come_back_with_their_expiry_and_flags_and_the_expired_do_not() {
        let store = Store::new(u64::MAX);
        let now = store.unix_ms();
        store.set(b"plain", b"v").unwrap();
        let guard = store.guard();
        for (key, expires_at_ms, flags) in [
            (&b"ttl"[..], Some(now + 3_600_000), 0),
            (b"mc", None, 42),
            (b"soon", Some(now + 50), 7),
        ] {
            let plan = Plan::Write {
                value: Value::Bytes(b"x"),
                expires_at_ms,
                flags,
                cas: 0,
            };
            store.modify(key, &guard, |_| (plan, ())).unwrap();
        }
        drop(guard);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        assert_eq!(write(&store, &path).unwrap().entries, 4);
        std::thread::sleep(Duration::from_millis(60));
        let back = Store::new(u64::MAX);
        let loaded = load(&back, &path, LIMITS).unwrap().unwrap();
        assert_eq!((loaded.entries, loaded.expired, loaded.in_file), (3, 1, 4));
        let guard = back.guard();
        assert_eq!(back.get(b"plain", &guard), Some(&b"v"[..]));
        let ttl = back.lookup(b"ttl", &guard).unwrap();
        assert_eq!(ttl.expires_at_ms(), Some(now + 3_600_000));
        assert_eq!(back.lookup(b"mc", &guard).unwrap().flags(), 42);
        assert!(back.lookup(b"soon", &guard).is_none());
        assert_eq!(back.usage_bytes(), back.recount());
    }

    #[test]
    fn a_missing_file_loads_nothing() {
        let store = Store::new(1 << 20);
        let path = Path::new("/nonexistent-directory/blink.snapshot");
        assert!(load(&store, path, LIMITS).unwrap().is_none());
    }

    #[test]
    fn a_bad_file_inserts_nothing() {
        let store = Store::new(u64::MAX);
        for i in 0..100 {
            store.set(format!("k{i}").as_bytes(), b"value").unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        write(&store, &path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let back = Store::new(u64::MAX);
        assert!(load(&back, &path, LIMITS).is_err());
        assert_eq!(back.len(), 0, "nothing was inserted");
    }

    #[test]
    fn loading_stops_at_the_memory_limit() {
        let store = Store::new(u64::MAX);
        for i in 0..10_000 {
            store.set(format!("k{i}").as_bytes(), &[0; 100]).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        write(&store, &path).unwrap();
        let small = Store::new(256 << 10);
        let loaded = load(&small, &path, LIMITS).unwrap().unwrap();
        assert!(loaded.entries > 0 && loaded.over_limit > 0, "{loaded:?}");
        assert_eq!(loaded.entries + loaded.over_limit, 10_000);
        assert_eq!(small.len() as u64, loaded.entries);
        assert!(
            small.charged_bytes() <= small.max_bytes(),
            "{} {} {}",
            small.charged_bytes(),
            small.used_bytes(),
            small.structure_bytes()
        );
    }
}
