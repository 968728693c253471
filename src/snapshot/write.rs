//! Writing a snapshot file: every live entry, walked in parts so that no papaya guard is
//! held for long, encoded through a large buffer into a temporary file beside the
//! target, which is synced and renamed over it, and the directory synced: a reader
//! finds the old file or the new one, whole, never a mix, also after a power cut.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::format::{Encoder, Record};
use crate::store::Store;

/// Bytes of the write buffer: large writes keep the system calls few (about 1,000 for
/// a 1 GiB file) while costing one allocation per snapshot.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// Entries per part of the walk: about a million. Each part pins a papaya guard while
/// its entries are encoded and written, so entries removed meanwhile (by any thread)
/// wait that long to be freed: about half a second for a million entries of 100-byte
/// values (137 MB) on a 2-core machine, during which a server answering 135,000
/// requests a second, a tenth of them SETs, retires about 7,000 entries, 1.4 MB. Each
/// part costs a whole walk of the map, reading every entry's key to hash it (a cache
/// miss each): with parts of 65,536 entries a million took 2.4 s to write, not 0.5 s.
const ENTRIES_PER_PART: u64 = 1 << 20;

/// The most parts: past it the walks' cost would outgrow the writing's.
const MAX_PARTS: u64 = 64;

/// What one snapshot wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Entries written.
    pub entries: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// How long it took, from the first entry read to the directory synced.
    pub took: Duration,
}

/// Writes every live entry of `store` to `path`, atomically (see the module's notes).
/// The temporary file is removed if anything fails.
///
/// # Errors
/// If the temporary file cannot be created, written, synced or renamed.
pub fn write(store: &Store, path: &Path) -> io::Result<Written> {
    write_in_parts(store, path, ENTRIES_PER_PART)
}

/// [`write`], walking the map in parts of about `entries_per_part`.
fn write_in_parts(store: &Store, path: &Path, entries_per_part: u64) -> io::Result<Written> {
    let started = Instant::now();
    let temporary = temporary_path(path);
    let written = write_to(store, &temporary, entries_per_part).and_then(|(entries, bytes)| {
        std::fs::rename(&temporary, path)?;
        sync_directory(path)?;
        Ok(Written {
            entries,
            bytes,
            took: started.elapsed(),
        })
    });
    if written.is_err() {
        // Nothing to do if it is already gone.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Checks, at start, that a snapshot can be written beside `path`, by creating and
/// removing the temporary file: a directory that is missing or not writable is better
/// found at start than at shutdown, when the cache would be lost. A temporary file left
/// by a process killed while writing is replaced: in a container every start has the
/// same process id, so it has this process's name.
///
/// # Errors
/// If the temporary file cannot be created or removed.
pub fn check_writable(path: &Path) -> io::Result<()> {
    let temporary = temporary_path(path);
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", temporary.display())))?;
    std::fs::remove_file(&temporary)
}

/// The temporary file's path: hidden, beside `path` (a rename works only within one
/// file system), and named after the process, so two servers given one file by mistake
/// do not write into each other's temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Encodes the entries into a new file at `temporary` and syncs it; the entries and
/// bytes written.
fn write_to(store: &Store, temporary: &Path, entries_per_part: u64) -> io::Result<(u64, u64)> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // The cache's contents: readable by the server's user only.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(temporary)?;
    let now_ms = store.unix_ms();
    let mut encoder = Encoder::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file), now_ms)?;
    let parts = (store.len() as u64)
        .div_ceil(entries_per_part.max(1))
        .clamp(1, MAX_PARTS);
    for part in 0..parts {
        store.walk_part((part, parts), now_ms, |entry| {
            encoder.entry(&Record {
                key: entry.key(),
                value: entry.value(),
                expires_at_ms: entry.expires_at_ms(),
                flags: entry.flags(),
            })
        })?;
    }
    let (out, entries, bytes) = encoder.finish()?;
    let file: File = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok((entries, bytes))
}

/// Syncs the directory holding `path`, so the rename itself survives a crash.
fn sync_directory(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::format::{decode, ReadLimits};

    #[test]
    fn a_snapshot_holds_every_live_entry_once_and_no_temporary_file_is_left() {
        let store = Store::new(u64::MAX);
        for i in 0..150_000u32 {
            store
                .set(format!("k{i}").as_bytes(), &i.to_le_bytes())
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blink.snapshot");
        // Three parts.
        let written = write_in_parts(&store, &path, 65_536).unwrap();
        assert_eq!(written.entries, 150_000);
        let limits = ReadLimits {
            max_key_len: 64,
            max_value_len: 64,
        };
        let mut seen = std::collections::HashSet::new();
        let file = std::io::BufReader::new(File::open(&path).unwrap());
        let summary = decode(file, limits, |record| {
            let i = u32::from_le_bytes(record.value.try_into().unwrap());
            assert_eq!(record.key, format!("k{i}").as_bytes());
            assert!(seen.insert(i), "k{i} twice");
        })
        .unwrap();
        assert_eq!(seen.len(), 150_000);
        assert_eq!(summary.bytes, written.bytes);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the snapshot is left");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_alone() {
        let store = Store::new(u64::MAX);
        let path = Path::new("/nonexistent-directory/blink.snapshot");
        assert!(write(&store, path).is_err());
        assert!(check_writable(path).is_err());
        let dir = tempfile::tempdir().unwrap();
        check_writable(&dir.path().join("s")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // What a write killed halfway leaves is no reason to refuse the next start.
        std::fs::write(temporary_path(&dir.path().join("s")), b"half").unwrap();
        check_writable(&dir.path().join("s")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
