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

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    clean_command, free_port, http_get, root, run_with_deadline, tool, HttpResponse, Process,
    Server,
};

/// How long one script may run; each takes a few seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn example_dir(language: &str) -> PathBuf {
    root().join("examples/clients").join(language)
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

/// `program` with `args`, run in the server's directory (so nothing is written into
/// the repository), with no address variables inherited.
fn command(program: &Path, args: &[&str], server: &Server) -> Command {
    let mut command = clean_command(program);
    command
        .args(args)
        .current_dir(server.dir.path())
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

/// Runs a language's test script with HOST PORT SOCKET [extra...] and checks that
/// every check passed.
fn run_test_script(program: &Path, language: &str, name: &str, extra: &[&str]) {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap();
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let test_script = script(language, name);
    let socket = server.unix_arg();
    let mut args = vec![test_script.as_str(), &host, &port, &socket];
    args.extend_from_slice(extra);
    let finished = run_with_deadline(&mut command(program, &args, &server), SCRIPT_TIMEOUT);
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
        ("BLINK_ADDR", server.tcp_arg()),
        ("BLINK_SOCKET", server.unix_arg()),
    ] {
        let what = format!("{language} {name} with {variable}={value}");
        let finished = run_with_deadline(
            command(program, &[&example], &server).env(variable, &value),
            SCRIPT_TIMEOUT,
        );
        finished
            .assert_success(&what)
            .assert_stdout_has(&what, &format!("connected to Blink Store at {value}"));
        for part in expected {
            finished.assert_stdout_has(&what, part);
        }
    }
    let port = free_port();
    let finished = run_with_deadline(
        command(program, &[&example], &server).env("BLINK_ADDR", format!("127.0.0.1:{port}")),
        SCRIPT_TIMEOUT,
    );
    assert!(
        !finished.status.success()
            && finished.stderr.contains(&format!(
                "cannot connect to Blink Store at 127.0.0.1:{port}: "
            )),
        "{language} {name} against a closed port should fail clearly {}",
        finished.describe()
    );
}

/// The body without spaces, so `"cached": true` and `"cached":true` compare equal.
fn compact_body(response: &HttpResponse) -> String {
    response
        .body
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The JSON of the looked-up user in the compact body.
fn looked_up_user(response: &HttpResponse) -> String {
    let body = compact_body(response);
    let start = body
        .find("\"user\":{")
        .unwrap_or_else(|| panic!("no user in {body}"));
    let end = start + body[start..].find('}').unwrap();
    body[start..=end].to_owned()
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
        ("BLINK_ADDR", server.tcp_arg(), "tcp-42"),
        ("BLINK_SOCKET", server.unix_arg(), "unix-42"),
    ] {
        let mut service = Process::spawn_group(
            command(program, &[&app], &server)
                .env(variable, &value)
                .env("PORT", "0"),
        );
        let service_addr = SocketAddr::from(([127, 0, 0, 1], service.wait_port()));
        let path = format!("/users/{user}");
        let first = http_get(service_addr, &path);
        let second = http_get(service_addr, &path);
        let missing = http_get(service_addr, "/nothing-here");
        let output = service.stop();
        let context = format!(
            "{language} {name} with {variable}={value}\n--- first\n{}\n--- second\n{}\n--- output\n{output}",
            first.body, second.body
        );
        assert_eq!(first.status, 200, "{context}");
        assert!(
            compact_body(&first).contains("\"cached\":false"),
            "the first request should be computed: {context}"
        );
        assert_eq!(first.header("x-cache"), Some("MISS"), "{context}");
        assert_eq!(second.status, 200, "{context}");
        assert!(
            compact_body(&second).contains("\"cached\":true"),
            "the second request should come from the cache: {context}"
        );
        assert_eq!(second.header("x-cache"), Some("HIT"), "{context}");
        assert_eq!(
            looked_up_user(&first),
            looked_up_user(&second),
            "the cached user is the computed one: {context}"
        );
        assert!(
            looked_up_user(&first).contains(&format!("\"id\":\"{user}\"")),
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
    let closed = free_port().to_string();
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
        let finished = run_with_deadline(
            command(&bash, &[&demo, "42"], &server).env(variable, value),
            SCRIPT_TIMEOUT,
        );
        finished.assert_success("cache_demo.sh");
        let compact: String = finished
            .stdout
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        (compact, finished)
    };
    let (first, _) = lookup("BLINK_ADDR", &server.tcp_arg());
    assert!(first.contains("\"cached\":false"), "first lookup: {first}");
    assert!(first.contains("\"id\":\"42\""), "first lookup: {first}");
    assert_cached_with_ttl(&server, "user:42");
    let (second, _) = lookup("BLINK_ADDR", &server.tcp_arg());
    assert!(
        second.contains("\"cached\":true"),
        "second lookup: {second}"
    );
    let (third, _) = lookup("BLINK_SOCKET", &server.unix_arg());
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
    let port = free_port();
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
