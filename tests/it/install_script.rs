//! `scripts/install.sh` against a fake release server: a directory laid out like GitHub's
//! release downloads (`latest/download/<asset>`, `download/<tag>/<asset>`), holding an
//! archive of the freshly built binary and its checksum, served by `python3 -m
//! http.server` on 127.0.0.1. Only loopback addresses ever see traffic.
#![cfg(all(
    unix,
    any(target_os = "linux", target_os = "macos"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{binary, free_port, root, run_with_deadline, tool, try_wait_for, Finished, Process};

/// How long one run of the install script, or any helper command, may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the HTTP server may take to answer its first connection.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// The version the binary under test reports.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn script() -> PathBuf {
    root().join("scripts/install.sh")
}

/// The asset the install script picks on this machine.
fn this_machine_asset() -> String {
    let os = if cfg!(target_os = "macos") {
        "apple-darwin"
    } else {
        "unknown-linux-musl"
    };
    format!("blink-store-{}-{os}.tar.gz", std::env::consts::ARCH)
}

/// Runs `command` to the end, killing it (and its children) after `RUN_TIMEOUT`.
fn run(command: &mut Command) -> Finished {
    run_with_deadline(command, RUN_TIMEOUT)
}

fn run_ok(command: &mut Command) -> Finished {
    let outcome = run(command);
    assert!(
        outcome.status.success(),
        "{command:?}: {}",
        outcome.describe()
    );
    outcome
}

/// The SHA-256 of a file, as hex, from sha256sum or shasum.
fn sha256_hex(path: &Path) -> String {
    let have_sha256sum = Command::new("sha256sum")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let outcome = if have_sha256sum {
        run_ok(Command::new("sha256sum").arg(path))
    } else {
        run_ok(Command::new("shasum").args(["-a", "256"]).arg(path))
    };
    let hex = outcome.stdout.split_whitespace().next().unwrap().to_owned();
    assert_eq!(hex.len(), 64, "{}", outcome.stdout);
    hex
}

/// A release archive of the freshly built binary, packed as the release workflow packs
/// it, and its SHA-256: built once per test run.
struct Archive {
    bytes: Vec<u8>,
    sha256: String,
}

fn archive() -> &'static Archive {
    static ARCHIVE: OnceLock<Archive> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir(&staging).unwrap();
        std::fs::copy(binary(), staging.join("blink-store")).unwrap();
        std::fs::copy(root().join("README.md"), staging.join("README.md")).unwrap();
        let path = dir.path().join("archive.tar.gz");
        run_ok(
            Command::new("tar")
                .arg("-czf")
                .arg(&path)
                .arg("-C")
                .arg(&staging)
                .args(["blink-store", "README.md"]),
        );
        Archive {
            bytes: std::fs::read(&path).unwrap(),
            sha256: sha256_hex(&path),
        }
    })
}

/// Whether an HTTP server at `addr` serves `/site-token` with `token` in it.
fn answers_with(addr: SocketAddr, token: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /site-token HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.0 200") && reply.ends_with(token)
}

/// A fake release site in a temporary directory, served over HTTP on 127.0.0.1.
struct ReleaseSite {
    dir: tempfile::TempDir,
    server: Option<Process>,
    addr: Option<SocketAddr>,
}

impl ReleaseSite {
    fn new() -> ReleaseSite {
        ReleaseSite {
            dir: tempfile::tempdir().unwrap(),
            server: None,
            addr: None,
        }
    }

    /// Publishes `bytes` as `asset` under `release` (`latest` or a tag), with a
    /// checksum file that claims `sha256`.
    fn publish(&self, release: &str, asset: &str, bytes: &[u8], sha256: &str) {
        let dir = if release == "latest" {
            self.dir.path().join("latest/download")
        } else {
            self.dir.path().join("download").join(release)
        };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(asset), bytes).unwrap();
        std::fs::write(
            dir.join(format!("{asset}.sha256")),
            format!("{sha256}  {asset}\n"),
        )
        .unwrap();
    }

    /// Publishes the real archive, with its true checksum.
    fn publish_archive(&self, release: &str, asset: &str) {
        let archive = archive();
        self.publish(release, asset, &archive.bytes, &archive.sha256);
    }

    /// Starts the server and waits until it accepts connections.
    fn serve(&mut self) -> String {
        // A file only this site holds: the server that serves it is ours.
        let token = format!(
            "blink-store release site {}",
            self.dir.path().file_name().unwrap().to_string_lossy()
        );
        std::fs::write(self.dir.path().join("site-token"), &token).unwrap();
        for _ in 0..5 {
            // A port the kernel just handed out; should another process take it first,
            // the server exits (or the token is missing) and the next attempt takes
            // another.
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let server = Process::spawn(
                Command::new(tool("python3", "python3"))
                    .args(["-m", "http.server", "--bind", "127.0.0.1"])
                    .arg(port.to_string())
                    .arg("--directory")
                    .arg(self.dir.path()),
            );
            let mut answered = false;
            let settled = try_wait_for(SERVER_START_TIMEOUT, || {
                answered = answers_with(addr, &token);
                answered || server.has_exited()
            });
            assert!(
                settled.is_some(),
                "the HTTP server did not answer on {addr} within {SERVER_START_TIMEOUT:?}:\n{}",
                server.log_text()
            );
            if answered {
                self.server = Some(server);
                self.addr = Some(addr);
                return self.url();
            }
        }
        panic!("the HTTP server could not start");
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr.expect("serve() first"))
    }
}

impl Drop for ReleaseSite {
    fn drop(&mut self) {
        // Stop the server before its directory goes.
        self.server.take();
    }
}

/// A scratch directory for one run of the install script: `home`, `tmp` (its TMPDIR)
/// and room for install directories.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bash scripts/install.sh ARGS` with the download URL set to `url`, HOME and
    /// TMPDIR inside the sandbox, and no proxy, so every request goes to `url`.
    fn command(&self, url: &str, args: &[&Path]) -> Command {
        let mut command = Command::new("bash");
        command
            .arg(script())
            .args(args)
            .env("BLINK_STORE_DOWNLOAD_URL", url)
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"));
        for proxy in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "CURL_HOME",
            "WGETRC",
        ] {
            command.env_remove(proxy);
        }
        command
    }

    fn install(&self, url: &str, args: &[&Path]) -> Finished {
        let outcome = run(&mut self.command(url, args));
        self.assert_tmp_cleaned(&outcome);
        outcome
    }

    /// The script removed its temporary directory, whatever happened.
    fn assert_tmp_cleaned(&self, outcome: &Finished) {
        let left: Vec<_> = std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "left behind {left:?}: {}",
            outcome.describe()
        );
    }
}

/// The install succeeded and `dir/blink-store` is the binary under test.
fn assert_installed(outcome: &Finished, dir: &Path) {
    assert!(outcome.status.success(), "{}", outcome.describe());
    let installed = dir.join("blink-store");
    let mode = std::fs::metadata(&installed)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", installed.display(), outcome.describe()))
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0, "not executable: {mode:o}");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(binary()).unwrap(),
        "the installed binary is not the one released"
    );
    let expected = format!("blink-store {VERSION}");
    assert_eq!(
        outcome.stdout.trim(),
        expected,
        "the script prints the installed version: {}",
        outcome.describe()
    );
    let version = run_ok(Command::new(&installed).arg("--version"));
    assert_eq!(version.stdout.trim(), expected);
    // Nothing but the binary is left in the install directory.
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["blink-store"], "{}", dir.display());
}

/// The script failed, said `needle` on stderr, and installed nothing in `dir`.
fn assert_refused(outcome: &Finished, needle: &str, dir: &Path) {
    assert!(!outcome.status.success(), "{}", outcome.describe());
    assert!(
        outcome
            .stderr
            .to_lowercase()
            .contains(&needle.to_lowercase()),
        "expected {needle:?} in: {}",
        outcome.describe()
    );
    assert!(
        !dir.join("blink-store").exists(),
        "installed despite the failure: {}",
        outcome.describe()
    );
}

#[test]
fn installs_the_latest_release_and_a_given_version() {
    let asset = this_machine_asset();
    let mut site = ReleaseSite::new();
    site.publish_archive("latest", &asset);
    site.publish_archive("v9.9.9", &asset);
    let url = site.serve();
    let sandbox = Sandbox::new();

    let bin = sandbox.path("bin");
    let outcome = sandbox.install(&url, &[Path::new("latest"), &bin]);
    assert_installed(&outcome, &bin);
    assert!(
        outcome
            .stderr
            .contains(&format!("{url}/latest/download/{asset}")),
        "{}",
        outcome.describe()
    );
    assert!(outcome.stderr.contains("checksum verified"));

    let bin2 = sandbox.path("bin2");
    let outcome = sandbox.install(&url, &[Path::new("v9.9.9"), &bin2]);
    assert_installed(&outcome, &bin2);
    assert!(
        outcome
            .stderr
            .contains(&format!("{url}/download/v9.9.9/{asset}")),
        "{}",
        outcome.describe()
    );

    // Installing again replaces the binary in place.
    let outcome = sandbox.install(&url, &[Path::new("v9.9.9"), &bin2]);
    assert_installed(&outcome, &bin2);
}

#[test]
fn installs_the_latest_release_into_home_local_bin_by_default() {
    let mut site = ReleaseSite::new();
    site.publish_archive("latest", &this_machine_asset());
    let url = site.serve();
    let sandbox = Sandbox::new();

    let outcome = sandbox.install(&url, &[]);
    assert_installed(&outcome, &sandbox.path("home/.local/bin"));
    assert!(
        outcome.stderr.contains("is not on PATH"),
        "{}",
        outcome.describe()
    );
}

#[test]
fn refuses_an_archive_whose_checksum_does_not_match() {
    let asset = this_machine_asset();
    let archive = archive();
    let mut corrupted = archive.bytes.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0xff;
    let mut site = ReleaseSite::new();
    site.publish("latest", &asset, &corrupted, &archive.sha256);
    site.publish("v9.9.9", &asset, &corrupted, &archive.sha256);
    let url = site.serve();
    let sandbox = Sandbox::new();

    for release in ["latest", "v9.9.9"] {
        let bin = sandbox.path(&format!("bin-{release}"));
        let outcome = sandbox.install(&url, &[Path::new(release), &bin]);
        assert_refused(&outcome, "checksum mismatch", &bin);
        assert!(
            outcome.stderr.contains(&archive.sha256),
            "names the expected checksum: {}",
            outcome.describe()
        );
        assert!(!bin.exists(), "created {} for nothing", bin.display());
    }
}

#[test]
fn refuses_a_malformed_checksum_file() {
    let asset = this_machine_asset();
    let mut site = ReleaseSite::new();
    site.publish("latest", &asset, &archive().bytes, "not-a-checksum");
    let url = site.serve();
    let sandbox = Sandbox::new();

    let bin = sandbox.path("bin");
    let outcome = sandbox.install(&url, &[Path::new("latest"), &bin]);
    assert_refused(&outcome, "malformed checksum", &bin);
}

#[test]
fn fails_clearly_when_the_release_does_not_exist() {
    let mut site = ReleaseSite::new();
    site.publish_archive("v9.9.9", &this_machine_asset());
    let url = site.serve();
    let sandbox = Sandbox::new();

    let bin = sandbox.path("bin");
    let outcome = sandbox.install(&url, &[Path::new("v7.7.7"), &bin]);
    assert_refused(&outcome, "could not download", &bin);
    assert!(outcome.stderr.contains("v7.7.7"), "{}", outcome.describe());
}

#[test]
fn refuses_invalid_arguments() {
    // Nothing listens there, and nothing may be asked: every case fails before any
    // download.
    let url = "http://127.0.0.1:9";
    let sandbox = Sandbox::new();
    let bin = sandbox.path("bin");
    for version in [
        "1.2.3", "v1.2", "vfoo", "v1.2.3.4", "latest-1", "", "V1.2.3",
    ] {
        let outcome = sandbox.install(url, &[Path::new(version), &bin]);
        assert_refused(&outcome, "invalid version", &bin);
        assert!(
            outcome.stderr.contains("v1.2.3"),
            "says what a version looks like: {}",
            outcome.describe()
        );
        assert!(
            !outcome.stderr.contains("downloading"),
            "{}",
            outcome.describe()
        );
    }
    let outcome = sandbox.install(url, &[Path::new("latest"), &bin, Path::new("extra")]);
    assert_refused(&outcome, "too many arguments", &bin);
    let outcome = sandbox.install(url, &[Path::new("latest"), Path::new("")]);
    assert_refused(&outcome, "must not be empty", &bin);

    let outcome = sandbox.install(url, &[Path::new("--help")]);
    assert!(outcome.status.success(), "{}", outcome.describe());
    assert!(outcome
        .stdout
        .contains("usage: install.sh [latest|vX.Y.Z] [DIR]"));
    assert!(!bin.exists());
}

/// A directory holding a `uname` that reports `$FAKE_UNAME_S` and `$FAKE_UNAME_M`.
fn fake_uname(dir: &Path) -> PathBuf {
    let shim = dir.join("uname-shim");
    std::fs::create_dir(&shim).unwrap();
    let uname = shim.join("uname");
    std::fs::write(
        &uname,
        "#!/bin/sh\ncase \"$1\" in\n  -m) echo \"$FAKE_UNAME_M\" ;;\n  *) echo \"$FAKE_UNAME_S\" ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755)).unwrap();
    shim
}

fn path_with_first(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn chooses_the_asset_for_the_operating_system_and_architecture() {
    let cases = [
        ("Linux", "x86_64", "x86_64-unknown-linux-musl"),
        ("Linux", "amd64", "x86_64-unknown-linux-musl"),
        ("Linux", "aarch64", "aarch64-unknown-linux-musl"),
        ("Linux", "arm64", "aarch64-unknown-linux-musl"),
        ("Darwin", "x86_64", "x86_64-apple-darwin"),
        ("Darwin", "arm64", "aarch64-apple-darwin"),
    ];
    let mut site = ReleaseSite::new();
    for (_, _, target) in cases {
        // The same archive under every name: what is checked is the name asked for.
        site.publish_archive("v9.9.9", &format!("blink-store-{target}.tar.gz"));
    }
    let url = site.serve();
    let sandbox = Sandbox::new();
    let path = path_with_first(&fake_uname(sandbox.dir.path()));

    for (i, (os, arch, target)) in cases.into_iter().enumerate() {
        let bin = sandbox.path(&format!("bin{i}"));
        let mut command = sandbox.command(&url, &[Path::new("v9.9.9"), &bin]);
        command
            .env("PATH", &path)
            .env("FAKE_UNAME_S", os)
            .env("FAKE_UNAME_M", arch);
        let outcome = run(&mut command);
        sandbox.assert_tmp_cleaned(&outcome);
        assert_installed(&outcome, &bin);
        let wanted = format!("{url}/download/v9.9.9/blink-store-{target}.tar.gz");
        assert!(
            outcome.stderr.contains(&wanted),
            "{os} {arch} should fetch {wanted}: {}",
            outcome.describe()
        );
    }

    for (os, arch, needle) in [
        ("FreeBSD", "x86_64", "unsupported operating system: FreeBSD"),
        ("MINGW64_NT-10.0", "x86_64", "unsupported operating system"),
        ("Linux", "riscv64", "unsupported architecture: riscv64"),
        ("Darwin", "i386", "unsupported architecture: i386"),
    ] {
        let bin = sandbox.path("unsupported");
        let mut command = sandbox.command(&url, &[Path::new("latest"), &bin]);
        command
            .env("PATH", &path)
            .env("FAKE_UNAME_S", os)
            .env("FAKE_UNAME_M", arch);
        let outcome = run(&mut command);
        sandbox.assert_tmp_cleaned(&outcome);
        assert_refused(&outcome, needle, &bin);
        assert!(
            !outcome.stderr.contains("downloading"),
            "{}",
            outcome.describe()
        );
    }
}

/// A directory of links to every command on PATH except curl.
fn path_without_curl(dir: &Path) -> PathBuf {
    let farm = dir.join("no-curl");
    std::fs::create_dir(&farm).unwrap();
    for bin_dir in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        let Ok(entries) = std::fs::read_dir(&bin_dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = farm.join(&name);
            if name == "curl" || link.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), link).unwrap();
        }
    }
    farm
}

#[test]
fn downloads_with_wget_when_curl_is_missing() {
    let asset = this_machine_asset();
    let mut site = ReleaseSite::new();
    site.publish_archive("latest", &asset);
    let url = site.serve();
    let sandbox = Sandbox::new();
    let farm = path_without_curl(sandbox.dir.path());
    let has_wget = farm.join("wget").exists();

    let bin = sandbox.path("bin");
    let mut command = sandbox.command(&url, &[Path::new("latest"), &bin]);
    command.env("PATH", &farm);
    let outcome = run(&mut command);
    sandbox.assert_tmp_cleaned(&outcome);
    if has_wget {
        assert_installed(&outcome, &bin);
    } else {
        assert_refused(&outcome, "neither curl nor wget", &bin);
    }
}
