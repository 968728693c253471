//! Binding the Unix socket: refuse a path a live server answers on, replace a stale
//! socket, and create it with the requested mode. The library's [`SocketFile`] removes it
//! (only if it is still ours) when serving ends.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use blink_store::socket_file::SocketFile;

/// Why the socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another server accepts connections on that path.
    #[error("{0}: another server is already listening on this socket")]
    InUse(PathBuf),
    /// The path is a regular file, a directory or something else that is not ours to remove.
    #[error("{0}: exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    /// The directory the socket would be created in does not exist.
    #[error("{path}: directory {dir} does not exist")]
    NoDirectory {
        /// The socket path.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// What should be the socket's directory is something else, such as a file.
    #[error("{path}: {dir} is not a directory")]
    NotADirectory {
        /// The socket path.
        path: PathBuf,
        /// What should be its directory.
        dir: PathBuf,
    },
    /// This process may not create files in the socket's directory.
    #[error("{path}: directory {dir} is not writable")]
    NotWritable {
        /// The socket path.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// The operating system refused.
    #[error("{path}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
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
        Err(err) => return Err(directory_error(path, err)),
    }
    let listener = bind_with_mode(path, mode)?;
    let file = SocketFile::created(path).map_err(io_err)?;
    Ok((listener, file))
}

/// Binds in a private staging directory, sets the mode, then renames the socket into
/// place, so no client can connect before the mode is final. Paths too long for a
/// staging name fall back to bind-then-chmod.
fn bind_with_mode(path: &Path, mode: u32) -> Result<UnixListener, BindError> {
    let io_err = |source| BindError::Io {
        path: path.to_owned(),
        source,
    };
    let staging = tempfile::Builder::new()
        .prefix(".blink-")
        .tempdir_in(directory(path))
        .map_err(|err| directory_error(path, without_staging_name(err)))?;
    let staged = staging.path().join("s");
    let listener = match UnixListener::bind(&staged) {
        Ok(listener) => listener,
        Err(err) if err.kind() == ErrorKind::InvalidInput => {
            let listener = UnixListener::bind(path).map_err(|err| directory_error(path, err))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(io_err)?;
            return Ok(listener);
        }
        Err(err) => return Err(io_err(err)),
    };
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode)).map_err(io_err)?;
    std::fs::rename(&staged, path).map_err(io_err)?;
    Ok(listener)
}

/// The directory the socket file goes in.
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Why no file could be made at `path`, in plain words about its directory where the
/// error is about the directory: missing, not a directory, or not writable.
fn directory_error(path: &Path, source: std::io::Error) -> BindError {
    let (path, dir) = (path.to_owned(), directory(path).to_owned());
    match source.kind() {
        ErrorKind::NotFound => BindError::NoDirectory { path, dir },
        ErrorKind::NotADirectory => BindError::NotADirectory { path, dir },
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            BindError::NotWritable { path, dir }
        }
        _ => BindError::Io { path, source },
    }
}

/// An error of creating the staging directory, reduced to its kind: its message names
/// the temporary staging path, which means nothing to whoever reads it.
fn without_staging_name(err: std::io::Error) -> std::io::Error {
    std::io::Error::from(err.kind())
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
    fn directory_errors_are_said_in_plain_words() {
        let path = Path::new("/srv/blink/s.sock");
        let said = |kind: ErrorKind| directory_error(path, kind.into()).to_string();
        assert_eq!(
            said(ErrorKind::NotFound),
            "/srv/blink/s.sock: directory /srv/blink does not exist"
        );
        assert_eq!(
            said(ErrorKind::PermissionDenied),
            "/srv/blink/s.sock: directory /srv/blink is not writable"
        );
        assert_eq!(
            said(ErrorKind::ReadOnlyFilesystem),
            "/srv/blink/s.sock: directory /srv/blink is not writable"
        );
        assert_eq!(
            said(ErrorKind::NotADirectory),
            "/srv/blink/s.sock: /srv/blink is not a directory"
        );
        assert!(matches!(
            directory_error(path, ErrorKind::AddrInUse.into()),
            BindError::Io { .. }
        ));
        assert_eq!(
            directory(Path::new("s.sock")),
            Path::new("."),
            "a bare name is in the working directory"
        );
    }

    #[test]
    fn the_staging_name_is_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = tempfile::Builder::new()
            .prefix(".blink-")
            .tempdir_in(&missing)
            .unwrap_err();
        let plain = without_staging_name(err);
        assert_eq!(plain.kind(), ErrorKind::NotFound);
        assert!(!plain.to_string().contains(".blink-"), "{plain}");
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
