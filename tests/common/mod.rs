//! Test harness shared by every integration test and the benches: starting the
//! `blink-store` binary (and other programs) and waiting until it listens, clients that
//! speak to it over real sockets, and polling with a deadline.
// Each test file uses some of the helpers: the rest are unused there.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

mod client;
mod process;
mod resp;
mod tls;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use blink_model::linearizability::{OpKind, Operation};

pub use client::{
    decode_get, exchange, expect, expect_close, live_bytes, resp_command, settled_usage_and_live,
    tcp_stream, unix_stream, wait_connections, wait_usage_within, Client, Info, Stream,
};
pub use process::{
    blink, clean_command, field, memcached_unix, run_fed_with_deadline, run_to_end,
    run_with_deadline, tcp_answers, unix_answers, External, Finished, Process, Server,
};
pub use resp::{info_fields, Reply, Resp, SideBySide};
pub use tls::{connect, file_cert, request, served_cert, start_tls, Pki};

/// How long any single step of a test may wait before it is a failure.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// How often [`wait_for`] looks again: often enough that a test waits no longer than it
/// must, rarely enough that the polling does not load a 2-core machine.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// The repository's root directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_blink-store")
}

/// The Python of the test virtualenv, where the client libraries are (redis-py,
/// pymemcache, python-memcached, Django, Flask-Caching), or a failure that says how
/// `.ci/test` makes it.
pub fn pyenv_python() -> PathBuf {
    let python = root().join("target/pyenv/bin/python3");
    assert!(
        python.is_file(),
        "{} is missing: .ci/test makes it (python3 -m venv target/pyenv, then pip install)",
        python.display()
    );
    python
}

/// An executable on PATH or in the system directories (Debian puts nutcracker in
/// /usr/sbin, the upstream Go archive unpacks to /usr/local/go), or a failure that says
/// which Debian package `.ci/test` installs it from.
pub fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let system = [
        "/usr/local/bin",
        "/usr/bin",
        "/usr/sbin",
        "/bin",
        "/sbin",
        "/usr/local/go/bin",
    ]
    .map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(system)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: .ci/test installs it (apt-get install {package})")
        })
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A field of `/proc/<pid>/status` in KiB, such as `VmRSS` or `VmHWM` (the peak).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .parse()
        .unwrap()
}

/// Polls `condition` until it holds or `timeout` passes; how long it took, or `None` if
/// it never held.
pub fn try_wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Polls `condition` until it holds, failing the test after [`STEP_TIMEOUT`] with
/// `what` it waited for; returns how long it took.
pub fn wait_for(what: &str, condition: impl FnMut() -> bool) -> Duration {
    try_wait_for(STEP_TIMEOUT, condition)
        .unwrap_or_else(|| panic!("timed out after {STEP_TIMEOUT:?} waiting for {what}"))
}

/// How many of `ops` are GETs that found a value: a recorded history says little about
/// reads unless enough of them hit.
pub fn gets_that_found<'a>(ops: impl IntoIterator<Item = &'a Operation>) -> usize {
    ops.into_iter()
        .filter(|op| {
            matches!(
                op.kind,
                OpKind::Get {
                    result: Some(_),
                    ..
                }
            )
        })
        .count()
}

/// Standard base64, as the line protocol's `VALUE` replies carry values.
pub fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The line protocol's reply to `GET` of a key holding `value`.
pub fn value_reply(value: &[u8]) -> Vec<u8> {
    format!("VALUE {}\n", base64_of(value)).into_bytes()
}

/// Bytes as text with everything but printable ASCII escaped, for failure messages.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// A size as a short label for a benchmark's name: `64B`, `4KiB`.
pub fn size_label(bytes: usize) -> String {
    if bytes >= 1024 {
        format!("{}KiB", bytes / 1024)
    } else {
        format!("{bytes}B")
    }
}

/// An HTTP response: status, headers (names lower-cased) and body.
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Each header's lower-cased name and its value.
    pub headers: Vec<(String, String)>,
    /// Everything after the headers.
    pub body: String,
}

impl HttpResponse {
    /// The value of the header `name` (lower case), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 GET of `path` from `addr`, with `Connection: close`, read to the end.
pub fn http_get(addr: SocketAddr, path: &str) -> HttpResponse {
    let mut stream = tcp_stream(addr);
    // One write: a server that reads only the request line must still find the whole
    // request read when it closes, or its kernel resets the connection.
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let mut head_lines = head.split("\r\n");
    let status_line = head_lines.next().unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = head_lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_owned(),
    }
}
