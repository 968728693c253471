//! The Go client in examples/clients/go against the real server: its code is gofmt-clean
//! and passes `go vet`, its `go test` suite passes over TCP and the Unix socket, its
//! example program runs on both, and its backend app serves a repeated request from the
//! cache.
//!
//! .ci/test installs Go (Debian's golang-go) when missing; without it these tests fail
//! with a message that says so. Go builds offline (standard library only, no module
//! proxy), and keeps its caches under the cargo target directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{run_with_deadline, Finished, Server, STEP_TIMEOUT};

/// How long a `go` command may take: the first build compiles part of the standard
/// library into an empty cache.
const GO_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a built Go program may run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn go_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clients/go")
}

/// Where Go keeps its build cache and module path, shared by every run.
fn go_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-client")
}

/// The `go` executable, or a failure that says how to get it.
fn go() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let system = ["/usr/local/go/bin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(system)
        .map(|dir| dir.join("go"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("go is missing: .ci/test installs it (apt-get install golang-go)")
        })
}

/// Sets the environment every Go tool runs in: offline, standard library only, nothing
/// written outside the target directory, no cgo (so no C compiler is needed).
fn go_env(command: &mut Command) -> &mut Command {
    let home = go_home();
    command
        .current_dir(go_dir())
        .env("GOCACHE", home.join("cache"))
        .env("GOPATH", home.join("gopath"))
        .env("GOMODCACHE", home.join("gopath/pkg/mod"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("GOENV", "off")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env_remove("BLINK_ADDR")
        .env_remove("BLINK_SOCKET")
}

fn go_command(args: &[&str]) -> Command {
    let mut command = Command::new(go());
    go_env(&mut command).args(args);
    command
}

/// Runs one `go` command at a time: parallel ones would each compile the same standard
/// library packages into an empty cache, on a machine with few cores.
fn run_go(command: &mut Command) -> Finished {
    static GO: Mutex<()> = Mutex::new(());
    let _one_at_a_time = GO.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    run(command, GO_TIMEOUT)
}

/// Runs `command` to its end, or kills it (and what it started) after `timeout` and
/// fails the test.
fn run(command: &mut Command, timeout: Duration) -> Finished {
    run_with_deadline(command, timeout)
}

/// Builds the program in `cmd/<name>` into `dir` and returns its path.
fn build(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(name);
    run(
        &mut go_command(&[
            "build",
            "-o",
            out.to_str().unwrap(),
            &format!("./cmd/{name}"),
        ]),
        GO_TIMEOUT,
    )
    .assert_success(&format!("go build ./cmd/{name}"));
    out
}

/// A directory for built programs, removed at the end of the test.
fn bin_dir() -> tempfile::TempDir {
    std::fs::create_dir_all(go_home()).unwrap();
    tempfile::tempdir_in(go_home()).unwrap()
}

fn tcp_addr(server: &Server) -> String {
    server.tcp.unwrap().to_string()
}

fn unix_path(server: &Server) -> String {
    server.unix.as_ref().unwrap().to_str().unwrap().to_owned()
}

#[test]
fn go_code_is_gofmt_clean_and_passes_go_vet() {
    let goroot = run(&mut go_command(&["env", "GOROOT"]), GO_TIMEOUT);
    goroot.assert_success("go env GOROOT");
    let gofmt = Path::new(goroot.stdout.trim()).join("bin/gofmt");
    let mut command = Command::new(&gofmt);
    let formatted = run(go_env(&mut command).args(["-l", "."]), GO_TIMEOUT);
    formatted.assert_success("gofmt -l");
    assert!(
        formatted.stdout.trim().is_empty(),
        "gofmt would reformat:\n{}",
        formatted.stdout
    );
    run_go(&mut go_command(&["vet", "./..."])).assert_success("go vet");
}

#[test]
fn go_tests_pass_over_tcp_and_the_unix_socket() {
    let server = Server::start(&[]);
    let finished = run_go(
        go_command(&["test", "-count=1", "-v", "./..."])
            .env("BLINK_ADDR", tcp_addr(&server))
            .env("BLINK_SOCKET", unix_path(&server)),
    );
    finished.assert_success("go test");
    let out = &finished.stdout;
    assert!(!out.contains("--- SKIP"), "go tests were skipped:\n{out}");
    assert!(out.contains("ok  \texample.com/blink"), "{out}");
    for test in [
        "TestEveryCommand",
        "TestExpiry",
        "TestBinaryValues",
        "TestRefusedBeforeSending",
        "TestServerErrors",
        "TestPipeline",
        "TestLongPipeline",
        "TestConcurrentGoroutinesShareAClient",
    ] {
        for transport in ["tcp", "unix"] {
            assert!(
                out.contains(&format!("--- PASS: {test}/{transport} ")),
                "{test} did not pass over {transport}:\n{out}"
            );
        }
    }
    for test in [
        "TestKeyExpires",
        "TestDownServer",
        "TestReconnectsOnceAfterTheConnectionBreaks",
        "TestTimeout",
        "TestUnexpectedReply",
        "TestClose",
        "TestDialEnv",
    ] {
        assert!(
            out.contains(&format!("--- PASS: {test} ")),
            "{test} did not pass:\n{out}"
        );
    }
}

#[test]
fn example_program_runs_over_tcp_and_the_unix_socket() {
    let server = Server::start(&[]);
    let bin = bin_dir();
    let example = build("example", bin.path());
    for (var, value) in [
        ("BLINK_ADDR", tcp_addr(&server)),
        ("BLINK_SOCKET", unix_path(&server)),
    ] {
        let mut command = Command::new(&example);
        let finished = run(
            command
                .env_remove("BLINK_ADDR")
                .env_remove("BLINK_SOCKET")
                .env(var, &value),
            RUN_TIMEOUT,
        );
        finished.assert_success(&format!("example with {var}"));
        let out = &finished.stdout;
        let network = if var == "BLINK_ADDR" { "tcp" } else { "unix" };
        for line in [
            format!("connected to {network} {value}"),
            "PING: ok".to_owned(),
            "GET greeting: \"hello, world\"".to_owned(),
            "TTL greeting: 1m0s".to_owned(),
            "SET with an LF: refused before sending".to_owned(),
            "pipeline: GET binary 000102feff".to_owned(),
            "pipeline: GET no-such-key not found".to_owned(),
            "GET greeting after DELETE: not found".to_owned(),
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "no line {line:?} in the example's output with {var}:\n{out}"
            );
        }
    }
    // The example cleans up after itself.
    assert_eq!(server.tcp_client().usage(), 0);
}

/// A running backend app; killed on drop if still running.
struct Backend {
    child: Child,
    lines: Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
    /// Collects stderr into `log`; finishes when the process has exited.
    stderr_reader: Option<JoinHandle<()>>,
}

impl Backend {
    fn start(program: &Path, env: &[(&str, &str)]) -> Backend {
        let mut child = Command::new(program)
            .env_remove("BLINK_ADDR")
            .env_remove("BLINK_SOCKET")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        let stderr_reader = std::thread::spawn({
            let log = log.clone();
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            }
        });
        Backend {
            child,
            lines,
            log,
            stderr_reader: Some(stderr_reader),
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits for the line that announces the HTTP port, and returns the port.
    fn wait_listening(&self) -> u16 {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!("backend did not start listening:\n{}", self.log_text());
            };
            if let Some((_, rest)) = line.split_once("listening on ") {
                let addr = rest.split([',', ' ']).next().unwrap();
                let port = addr.rsplit(':').next().unwrap();
                return port.parse().unwrap();
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit; then `log` holds everything
    /// it wrote.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "backend still running {STEP_TIMEOUT:?} after SIGTERM:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 GET to the loopback: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, STEP_TIMEOUT).unwrap();
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(STEP_TIMEOUT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

/// The raw text of a JSON field's value in a flat object, such as `true` or `12.5`.
fn json_field<'a>(body: &'a str, name: &str) -> &'a str {
    let start = body
        .find(&format!("\"{name}\":"))
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + name.len()
        + 3;
    body[start..].split([',', '}']).next().unwrap().trim()
}

#[test]
fn backend_app_serves_the_second_request_from_the_cache() {
    let server = Server::start(&[]);
    let bin = bin_dir();
    let program = build("backend", bin.path());
    let addr = tcp_addr(&server);
    let mut backend = Backend::start(&program, &[("BLINK_ADDR", &addr), ("PORT", "0")]);
    let port = backend.wait_listening();

    let (status, first) = http_get(port, "/quote?symbol=BLNK");
    assert_eq!(status, 200, "{first}");
    assert_eq!(json_field(&first, "cached"), "false", "{first}");
    let (status, second) = http_get(port, "/quote?symbol=BLNK");
    assert_eq!(status, 200, "{second}");
    assert_eq!(json_field(&second, "cached"), "true", "{second}");
    assert_eq!(json_field(&first, "price"), json_field(&second, "price"));
    assert_eq!(json_field(&second, "symbol"), "\"BLNK\"");

    // It is in Blink Store, with the app's 30-second TTL.
    let mut client = server.tcp_client();
    let ttl = client.request(b"TTL quote:BLNK\n");
    let seconds: i64 = ttl
        .trim_end()
        .strip_prefix("TTL ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("reply to TTL: {ttl:?}"));
    assert!((1..=30).contains(&seconds), "TTL {seconds}");

    let (status, body) = http_get(port, "/quote?symbol=not%20valid");
    assert_eq!(status, 400, "{body}");
    let (status, body) = http_get(port, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    let status = backend.terminate();
    assert!(
        status.success(),
        "backend exited with {status} after SIGTERM:\n{}",
        backend.log_text()
    );
    assert!(
        backend.log_text().contains("stopped"),
        "{}",
        backend.log_text()
    );
}
