//! The Unix socket file: refuse a path a live server answers on, replace a stale socket,
//! create it with the requested mode, and remove it (only if it is still ours) on drop.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Why the socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another server accepts connections on that path.
    #[error("{0}: another server is already listening on this socket")]
    InUse(PathBuf),
    /// The path is a regular file, a directory or something else that is not ours to remove.
    #[error("{0}: exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    /// The operating system refused.
    #[error("{path}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// The socket file of a bound listener; dropping it removes the file if it is unchanged.
#[derive(Debug)]
pub struct SocketFile {
    /// Where the socket lives.
    path: PathBuf,
    /// Device and inode of the file we created, so we never remove a successor's socket.
    identity: (u64, u64),
}

impl SocketFile {
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

/// Binds a listening Unix socket at `path` with permission bits `mode` (for example 0o600).
///
/// # Errors
/// [`BindError`] if a live server answers there, the path is not a socket, or binding fails.
pub fn bind(path: &Path, mode: u32) -> Result<(UnixListener, SocketFile), BindError> {
    let io_err = |source| BindError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => return Err(BindError::InUse(path.to_owned())),
            Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                tracing::info!(path = %path.display(), "replacing stale socket file");
                std::fs::remove_file(path).map_err(io_err)?;
            }
            Err(err) => return Err(io_err(err)),
        },
        Ok(_) => return Err(BindError::NotASocket(path.to_owned())),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(io_err(err)),
    }
    let listener = bind_with_mode(path, mode).map_err(io_err)?;
    let meta = std::fs::symlink_metadata(path).map_err(io_err)?;
    let file = SocketFile {
        path: path.to_owned(),
        identity: (meta.dev(), meta.ino()),
    };
    Ok((listener, file))
}

/// Binds in a private staging directory, sets the mode, then renames the socket into
/// place, so no client can connect before the mode is final. Paths too long for a
/// staging name fall back to bind-then-chmod.
fn bind_with_mode(path: &Path, mode: u32) -> std::io::Result<UnixListener> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".blink-")
        .tempdir_in(parent)?;
    let staged = staging.path().join("s");
    let listener = match UnixListener::bind(&staged) {
        Ok(listener) => listener,
        Err(err) if err.kind() == ErrorKind::InvalidInput => {
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            return Ok(listener);
        }
        Err(err) => return Err(err),
    };
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&staged, path)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_with_mode_refuses_live_replaces_stale_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let (listener, file) = bind(&path, 0o600).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(bind(&path, 0o600), Err(BindError::InUse(_))));
        // A listener gone without removing its file leaves a stale socket behind.
        drop(listener);
        std::mem::forget(file);
        let (_listener, file) = bind(&path, 0o660).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn refuses_to_replace_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        std::fs::write(&path, b"keep me").unwrap();
        assert!(matches!(bind(&path, 0o600), Err(BindError::NotASocket(_))));
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    }
}
