//! The socket file of a bound Unix listener: removed when serving ends, but only if it
//! is still the file this server created, never a successor's.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The socket file of a bound listener; dropping it removes the file if it is unchanged.
#[derive(Debug)]
pub struct SocketFile {
    /// Where the socket lives.
    path: PathBuf,
    /// Device and inode of the file we created, so we never remove a successor's socket.
    identity: (u64, u64),
}

impl SocketFile {
    /// Takes the socket file now at `path`, just created by this process, as ours.
    ///
    /// # Errors
    /// If the file cannot be read.
    pub fn created(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::symlink_metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| (meta.dev(), meta.ino()) == self.identity);
        if ours {
            if let Err(err) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), cause = %err, "could not remove socket file");
            }
        }
    }
}
