//! The example clients in examples/clients/ (Python, Node.js and Bash) against the real
//! server. For each language: its test script exercises every method over TCP and the
//! Unix socket (pipelining, binary values, NOT_FOUND, ERROR, TTLs, reconnecting and a
//! clear failure when the server is down); its example program runs over both
//! transports and fails clearly against a closed port; and its backend example
//! computes a lookup once, stores it with a TTL, and answers the repeat from the cache.
//!
//! .ci/test installs every tool these tests drive (python3, node, bash, and nc from
//! netcat-openbsd). A missing one fails its test with a message that says so: nothing
//! is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{drain, kill_group, run_with_deadline, Finished, Server, STEP_TIMEOUT};

/// How long one script may run; each takes a few seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn example_dir(language: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/clients")
        .join(language)
}

/// An executable on PATH or in the system directories, or a failure that says how to
/// get it.
fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let system = ["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(system)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: .ci/test installs it (apt-get install {package})")
        })
}

fn python() -> PathBuf {
    tool("python3", "python3")
}

fn node() -> PathBuf {
    tool("node", "nodejs")
}

/// Bash, and nc for its Unix socket connections.
fn bash() -> PathBuf {
    tool("nc", "netcat-openbsd");
    tool("bash", "bash")
}

/// A loopback port nothing listens on right now.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `program` with `args`, run in the server's directory (so nothing is written into
/// the repository), with no address variables inherited.
fn command(program: &Path, args: &[&str], server: &Server) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(server.dir.path())
        .env_remove("BLINK_ADDR")
        .env_remove("BLINK_SOCKET")
        .env_remove("BLINK_REPLY_TIMEOUT")
        .env_remove("PORT")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

fn script(language: &str, name: &str) -> String {
    example_dir(language)
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn tcp_addr(server: &Server) -> String {
    server.tcp.unwrap().to_string()
}

fn unix_path(server: &Server) -> String {
    server.unix.as_ref().unwrap().to_str().unwrap().to_owned()
}

/// Runs `command` to its end, or kills it (and what it started) after
/// SCRIPT_TIMEOUT and fails the test.
fn run(command: &mut Command) -> Finished {
    run_with_deadline(command, SCRIPT_TIMEOUT)
}

/// Runs a language's test script with HOST PORT SOCKET [extra...] and checks that
/// every check passed.
fn run_test_script(program: &Path, language: &str, name: &str, extra: &[&str]) {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap();
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let test_script = script(language, name);
    let socket = unix_path(&server);
    let mut args = vec![test_script.as_str(), &host, &port, &socket];
    args.extend_from_slice(extra);
    let finished = run(&mut command(program, &args, &server));
    finished
        .assert_success(&format!("{language} {name}"))
        .assert_stdout_has(name, "all checks passed");
}

/// Runs a language's example program over TCP and over the Unix socket, checking its
/// output, then against a closed port, where it must fail with a clear message.
fn run_example(program: &Path, language: &str, name: &str, expected: &[&str]) {
    let server = Server::start(&[]);
    let example = script(language, name);
    for (variable, value) in [
        ("BLINK_ADDR", tcp_addr(&server)),
        ("BLINK_SOCKET", unix_path(&server)),
    ] {
        let what = format!("{language} {name} with {variable}={value}");
        let finished = run(command(program, &[&example], &server).env(variable, &value));
        finished
            .assert_success(&what)
            .assert_stdout_has(&what, &format!("connected to Blink Store at {value}"));
        for part in expected {
            finished.assert_stdout_has(&what, part);
        }
    }
    let port = closed_port();
    let finished =
        run(command(program, &[&example], &server).env("BLINK_ADDR", format!("127.0.0.1:{port}")));
    assert!(
        !finished.status.success()
            && finished.stderr.contains(&format!(
                "cannot connect to Blink Store at 127.0.0.1:{port}: "
            )),
        "{language} {name} against a closed port should fail clearly {}",
        finished.describe()
    );
}

/// A long-running child (an HTTP service), killed with everything it started when
/// dropped.
struct Service {
    child: Child,
    stopped: bool,
    description: String,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Service {
    fn start(command: &mut Command) -> Service {
        use std::os::unix::process::CommandExt;
        let description = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {description}: {error}"));
        let stdout = child.stdout.take().unwrap();
        let stderr = drain(child.stderr.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Service {
            child,
            stopped: false,
            description,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// Kills it (once) and returns what it wrote to stderr.
    fn stop(&mut self) -> String {
        if !self.stopped {
            self.stopped = true;
            kill_group(&self.child);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.stderr
            .take()
            .map(|handle| String::from_utf8_lossy(&handle.join().unwrap()).into_owned())
            .unwrap_or_default()
    }

    /// Waits until it prints "listening on http://127.0.0.1:PORT"; returns PORT.
    fn wait_listening(&mut self) -> u16 {
        const ANNOUNCEMENT: &str = "listening on http://127.0.0.1:";
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let port = line.strip_prefix(ANNOUNCEMENT).map(|p| p.trim().parse());
                    self.stdout.push(line);
                    if let Some(port) = port {
                        return port.unwrap();
                    }
                }
                Err(error) => {
                    let stderr = self.stop();
                    panic!(
                        "{} did not announce its port ({error:?})\n--- stdout\n{}\n--- stderr\n{stderr}",
                        self.description,
                        self.stdout.join("\n")
                    );
                }
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP response: status, headers (names lower-cased) and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body without spaces, so `"cached": true` and `"cached":true` compare equal.
    fn compact_body(&self) -> String {
        self.body.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// The JSON of the looked-up user in the compact body.
    fn user(&self) -> String {
        let body = self.compact_body();
        let start = body
            .find("\"user\":{")
            .unwrap_or_else(|| panic!("no user in {body}"));
        let end = start + body[start..].find('}').unwrap();
        body[start..=end].to_owned()
    }
}

fn http_get(port: u16, path: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {text:?}"));
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
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The TTL the server reports for `key`: it must have been stored with an expiry.
fn assert_cached_with_ttl(server: &Server, key: &str) {
    let reply = server
        .tcp_client()
        .request(format!("TTL {key}\n").as_bytes());
    let ttl: i64 = reply
        .trim_end()
        .strip_prefix("TTL ")
        .unwrap_or_else(|| panic!("{key} is not cached: {reply:?}"))
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&ttl),
        "{key} has TTL {ttl}, expected 1..=60"
    );
}

/// Starts a language's backend app over each transport, asks for the same user twice,
/// and checks that the first answer was computed and the second came from the cache.
fn run_backend_app(program: &Path, language: &str, name: &str) {
    let server = Server::start(&[]);
    let app = script(language, name);
    for (variable, value, user) in [
        ("BLINK_ADDR", tcp_addr(&server), "tcp-42"),
        ("BLINK_SOCKET", unix_path(&server), "unix-42"),
    ] {
        let mut service = Service::start(
            command(program, &[&app], &server)
                .env(variable, &value)
                .env("PORT", "0"),
        );
        let port = service.wait_listening();
        let path = format!("/users/{user}");
        let first = http_get(port, &path);
        let second = http_get(port, &path);
        let missing = http_get(port, "/nothing-here");
        let stderr = service.stop();
        let context = format!(
            "{language} {name} with {variable}={value}\n--- first\n{}\n--- second\n{}\n--- stderr\n{stderr}",
            first.body, second.body
        );
        assert_eq!(first.status, 200, "{context}");
        assert!(
            first.compact_body().contains("\"cached\":false"),
            "the first request should be computed: {context}"
        );
        assert_eq!(first.header("x-cache"), Some("MISS"), "{context}");
        assert_eq!(second.status, 200, "{context}");
        assert!(
            second.compact_body().contains("\"cached\":true"),
            "the second request should come from the cache: {context}"
        );
        assert_eq!(second.header("x-cache"), Some("HIT"), "{context}");
        assert_eq!(
            first.user(),
            second.user(),
            "the cached user is the computed one: {context}"
        );
        assert!(
            first.user().contains(&format!("\"id\":\"{user}\"")),
            "{context}"
        );
        assert_eq!(missing.status, 404, "{context}");
        assert_cached_with_ttl(&server, &format!("user:{user}"));
    }
}

#[test]
fn python_client_passes_its_checks_over_tcp_and_the_unix_socket() {
    run_test_script(&python(), "python", "test_client.py", &[]);
}

#[test]
fn python_example_runs_over_tcp_and_the_unix_socket() {
    run_example(
        &python(),
        "python",
        "example.py",
        &[
            "greeting: hello, world",
            "missing: None",
            "pipelined squares: ['0', '1', '4', '9', '16']",
            "refused before sending:",
            "server error: key too long",
        ],
    );
}

#[test]
fn python_backend_app_answers_a_repeated_request_from_the_cache() {
    run_backend_app(&python(), "python", "backend_app.py");
}

#[test]
fn node_client_passes_its_checks_over_tcp_and_the_unix_socket() {
    run_test_script(&node(), "node", "test-client.js", &[]);
}

#[test]
fn node_example_runs_over_tcp_and_the_unix_socket() {
    run_example(
        &node(),
        "node",
        "example.js",
        &[
            "greeting: hello, world",
            "missing: null",
            "pipelined squares: [ '0', '1', '4', '9', '16' ]",
            "refused before sending:",
            "server error: key too long",
        ],
    );
}

#[test]
fn node_backend_app_answers_a_repeated_request_from_the_cache() {
    run_backend_app(&node(), "node", "backend-app.js");
}

#[test]
fn bash_client_passes_its_checks_over_tcp_and_the_unix_socket() {
    let closed = closed_port().to_string();
    run_test_script(&bash(), "bash", "test_client.sh", &[&closed]);
}

#[test]
fn bash_example_runs_over_tcp_and_the_unix_socket() {
    run_example(
        &bash(),
        "bash",
        "example.sh",
        &[
            "greeting: hello, world",
            "missing: not found (status 1)",
            "  value one\n  value two\n  NOT_FOUND",
            "(refused before sending, status 2)",
            "blink: key too long",
        ],
    );
}

#[test]
fn bash_cache_demo_answers_a_repeated_lookup_from_the_cache() {
    let bash = bash();
    let server = Server::start(&[]);
    let demo = script("bash", "cache_demo.sh");
    let lookup = |variable: &str, value: &str| {
        let finished = run(command(&bash, &[&demo, "42"], &server).env(variable, value));
        finished.assert_success("cache_demo.sh");
        let compact: String = finished
            .stdout
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        (compact, finished)
    };
    let (first, _) = lookup("BLINK_ADDR", &tcp_addr(&server));
    assert!(first.contains("\"cached\":false"), "first lookup: {first}");
    assert!(first.contains("\"id\":\"42\""), "first lookup: {first}");
    assert_cached_with_ttl(&server, "user:42");
    let (second, _) = lookup("BLINK_ADDR", &tcp_addr(&server));
    assert!(
        second.contains("\"cached\":true"),
        "second lookup: {second}"
    );
    let (third, _) = lookup("BLINK_SOCKET", &unix_path(&server));
    assert!(
        third.contains("\"cached\":true"),
        "over the socket: {third}"
    );
    let user = |line: &str| line[..line.find(",\"cached\"").unwrap()].to_owned();
    assert_eq!(
        user(&first),
        user(&second),
        "the cached user is the computed one"
    );
    assert_eq!(
        user(&first),
        user(&third),
        "the cached user is the computed one"
    );

    // With the server down the lookup still works, uncached, and says why.
    let port = closed_port();
    let (down, finished) = lookup("BLINK_ADDR", &format!("127.0.0.1:{port}"));
    assert!(down.contains("\"cached\":false"), "server down: {down}");
    assert!(
        finished.stderr.contains(&format!(
            "cannot connect to Blink Store at 127.0.0.1:{port}: Connection refused"
        )),
        "server down: {}",
        finished.describe()
    );
}
