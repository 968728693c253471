//! The Go client in examples/clients/go against the real server: its code is gofmt-clean
//! and passes `go vet`, its `go test` suite passes over TCP and the Unix socket, its
//! example program runs on both, and its backend app serves a repeated request from the
//! cache.
//!
//! .ci/test installs Go (Debian's golang-go) when missing; without it these tests fail
//! with a message that says so. Go builds offline (standard library only, no module
//! proxy), and keeps its caches under the cargo target directory.

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{
    clean_command, http_get, root, run_with_deadline, tool, Finished, Process, Server, STEP_TIMEOUT,
};
use rustix::process::Signal;

/// How long a `go` command may take: the first build compiles part of the standard
/// library into an empty cache.
const GO_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a built Go program may run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn go_dir() -> PathBuf {
    root().join("examples/clients/go")
}

/// Where Go keeps its build cache and module path, shared by every run.
fn go_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-client")
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
}

fn go_command(args: &[&str]) -> Command {
    let mut command = clean_command(tool("go", "golang-go"));
    go_env(&mut command).args(args);
    command
}

/// Runs one `go` command at a time: parallel ones would each compile the same standard
/// library packages into an empty cache, on a machine with few cores.
fn run_go(command: &mut Command) -> Finished {
    static GO: Mutex<()> = Mutex::new(());
    let _one_at_a_time = GO.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    run_with_deadline(command, GO_TIMEOUT)
}

/// Builds the program in `cmd/<name>` into `dir` and returns its path.
fn build(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(name);
    run_with_deadline(
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

#[test]
fn go_code_is_gofmt_clean_and_passes_go_vet() {
    let goroot = run_with_deadline(&mut go_command(&["env", "GOROOT"]), GO_TIMEOUT);
    goroot.assert_success("go env GOROOT");
    let gofmt = Path::new(goroot.stdout.trim()).join("bin/gofmt");
    let mut command = clean_command(&gofmt);
    let formatted = run_with_deadline(go_env(&mut command).args(["-l", "."]), GO_TIMEOUT);
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
            .env("BLINK_ADDR", server.tcp_arg())
            .env("BLINK_SOCKET", server.unix_arg()),
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
        ("BLINK_ADDR", server.tcp_arg()),
        ("BLINK_SOCKET", server.unix_arg()),
    ] {
        let finished = run_with_deadline(clean_command(&example).env(var, &value), RUN_TIMEOUT);
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
    let addr = server.tcp_arg();
    let mut backend = Process::spawn(
        clean_command(&program)
            .env("BLINK_ADDR", &addr)
            .env("PORT", "0"),
    );
    let port = backend.wait_port();
    let get = |path: &str| {
        let response = http_get(SocketAddr::from(([127, 0, 0, 1], port)), path);
        (response.status, response.body)
    };

    let (status, first) = get("/quote?symbol=BLNK");
    assert_eq!(status, 200, "{first}");
    assert_eq!(json_field(&first, "cached"), "false", "{first}");
    let (status, second) = get("/quote?symbol=BLNK");
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

    let (status, body) = get("/quote?symbol=not%20valid");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    backend.signal(Signal::TERM);
    let status = backend.wait_exit(STEP_TIMEOUT);
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
