//! Start-up, configuration, limits, logging and shutdown of the real binary.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{
    binary, blink, clean_command, run_to_end, wait_for, Client, Process, Server, STEP_TIMEOUT,
};
use rustix::process::Signal;

#[test]
fn sigterm_and_sigint_exit_zero_and_remove_the_socket_file() {
    // SIGTERM with an event loop that sleeps as soon as it is idle, SIGINT with one that
    // polls first, as by default.
    for (signal, polls) in [(Signal::TERM, "0"), (Signal::INT, "64")] {
        let mut server = Server::start(&["--busy-polls", polls]);
        let mut client = server.tcp_client();
        client.script(&[(b"SET k v\n", "OK\n")]);
        let socket = server.unix.clone().unwrap();
        assert!(socket.exists());
        let sent = Instant::now();
        server.signal(signal);
        let status = server.wait_exit(Duration::from_secs(5));
        assert!(status.success(), "{signal:?}: {status:?}");
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "took {:?}",
            sent.elapsed()
        );
        assert!(!socket.exists(), "socket file left behind after {signal:?}");
        assert_eq!(client.read_to_end(), b"", "open connections are closed");
        let log = server.log_text();
        assert!(log.contains("shutdown done"), "{log}");
    }
}

#[test]
fn shutdown_answers_what_was_read_completely() {
    let mut server = Server::start(&[]);
    let mut client = server.tcp_client();
    let mut batch = Vec::new();
    for i in 0..20_000 {
        batch.extend_from_slice(format!("SET k{i} v\n").as_bytes());
    }
    client.send(&batch);
    assert_eq!(
        client.read_line(),
        b"OK\n",
        "the server is working on the batch"
    );
    server.signal(Signal::TERM);
    let rest = client.read_to_end();
    // Whatever was answered is a run of whole, correct replies; nothing is cut mid-line.
    assert!(rest.len() % 3 == 0 && rest.chunks(3).all(|r| r == b"OK\n"));
    assert!(server.wait_exit(Duration::from_secs(5)).success());
}

#[test]
fn a_second_server_on_a_live_socket_is_refused() {
    let server = Server::start(&[]);
    let socket = server.unix.clone().unwrap();
    let (status, _, stderr) = run_to_end(&["serve", "--unix", socket.to_str().unwrap()], &[]);
    assert!(!status.success());
    assert!(
        stderr.contains("another server is already listening"),
        "{stderr}"
    );
    // The first server still owns and serves its socket.
    server.unix_client().script(&[(b"PING\n", "PONG\n")]);
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists(), "a closed listener leaves its file behind");
    let mut command = clean_command(binary());
    command.args(["serve", "--unix", socket.to_str().unwrap()]);
    let server = Server::spawn(&mut command, dir, false, true);
    server.unix_client().script(&[(b"PING\n", "PONG\n")]);
}

#[test]
fn a_path_that_is_not_a_socket_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "precious").unwrap();
    let (status, _, stderr) = run_to_end(&["serve", "--unix", path.to_str().unwrap()], &[]);
    assert!(!status.success());
    assert!(stderr.contains("is not a socket"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn a_socket_directory_that_is_missing_or_a_file_is_named_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let socket = missing.join("blink.sock");
    let (status, _, stderr) = run_to_end(&["serve", "--unix", socket.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "blink-store: {}: directory {} does not exist\n",
            socket.display(),
            missing.display()
        )
    );
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let socket = file.join("blink.sock");
    let (status, _, stderr) = run_to_end(&["serve", "--unix", socket.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "blink-store: {}: {} is not a directory\n",
            socket.display(),
            file.display()
        )
    );
}

#[test]
fn the_socket_is_private_unless_asked_otherwise() {
    let server = Server::start(&[]);
    let mode = std::fs::metadata(server.unix.as_ref().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let server = Server::start(&["--unix-mode", "660"]);
    let mode = std::fs::metadata(server.unix.as_ref().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
}

#[test]
fn unix_only_serves_no_tcp_and_env_vars_configure_everything() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("env.sock");
    let mut command = clean_command(binary());
    command
        .env("BLINK_UNIX", &socket)
        .env("BLINK_MEMORY_LIMIT", "1KiB")
        .env("BLINK_MAX_VALUE_SIZE", "100");
    let server = Server::spawn(&mut command, dir, false, true);
    assert!(
        server.log_text().contains("memory_limit=1KiB (1024 bytes)"),
        "{}",
        server.log_text()
    );
    assert!(!server.log_text().contains("listening on tcp"));
    server.unix_client().script(&[
        (
            &[b"SET k ".as_slice(), &[b'v'; 101], b"\n"].concat(),
            "ERROR value too large (max 100 bytes)\n",
        ),
        (b"SET k v\n", "OK\n"),
    ]);

    let mut command = clean_command(binary());
    command.env("BLINK_TCP", "127.0.0.1:0");
    let server = Server::spawn(&mut command, tempfile::tempdir().unwrap(), true, false);
    server.tcp_client().script(&[(b"PING\n", "PONG\n")]);
}

/// The `starting` line of a server's log, with a space after its last field as after
/// every other.
fn starting_line(server: &Server) -> String {
    let log = server.log_text();
    let line = log
        .lines()
        .find(|line| line.contains("starting"))
        .unwrap_or_else(|| panic!("no starting line in {log}"));
    format!("{line} ")
}

#[test]
fn the_start_up_log_shows_workers_in_use_the_policy_as_spelt_and_sizes_in_units() {
    let server = Server::start(&[
        "--workers",
        "2",
        "--eviction-policy",
        "lru",
        "--memory-limit",
        "512MiB",
        "--max-value-size",
        "1000",
    ]);
    let line = starting_line(&server);
    for field in [
        "workers=2 ",
        "eviction_policy=lru ",
        "memory_limit=512MiB (536870912 bytes) ",
        "max_value_size=1k (1000 bytes) ",
        "max_key_size=1KiB (1024 bytes) ",
    ] {
        assert!(line.contains(field), "{field:?} in {line}");
    }
    let server = Server::start(&[]);
    let line = starting_line(&server);
    assert!(line.contains("eviction_policy=tinylfu "), "{line}");
    let workers: usize = line
        .split("workers=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no workers in {line}"))
        .parse()
        .unwrap_or_else(|_| panic!("workers is not a count in {line}"));
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(
        workers,
        cpus.saturating_sub(1).max(1),
        "one per CPU but one by default: {line}"
    );
}

#[test]
fn bad_memory_limits_are_refused_with_exit_code_2() {
    for bad in ["0", "-5", "lots", "0MiB", ""] {
        let (status, _, stderr) = run_to_end(&["serve", "--memory-limit", bad], &[]);
        assert_eq!(status.code(), Some(2), "--memory-limit {bad:?}: {stderr}");
        assert!(stderr.contains("--memory-limit"), "{stderr}");
        let (status, _, stderr) = run_to_end(&["serve"], &[("BLINK_MEMORY_LIMIT", bad)]);
        assert_eq!(
            status.code(),
            Some(2),
            "BLINK_MEMORY_LIMIT={bad:?}: {stderr}"
        );
    }
    for bad in [
        &["--max-connections", "0"][..],
        &["--eviction-samples", "0"],
        &["--eviction-samples", "65"],
        &["--eviction-policy", "fifo"],
        &["--max-value-size", "0"],
    ] {
        let (status, _, stderr) = run_to_end(&[&["serve"], bad].concat(), &[]);
        assert_eq!(status.code(), Some(2), "{bad:?}: {stderr}");
    }
}

#[test]
fn a_host_name_is_resolved_and_each_of_its_addresses_served_on_one_port() {
    let mut command = blink("serve");
    command.args(["--tcp", "localhost:0"]);
    let server = Server::spawn(&mut command, tempfile::tempdir().unwrap(), true, false);
    let first = server.tcp.unwrap();
    assert!(first.ip().is_loopback(), "{first}");
    server.tcp_client().script(&[(b"PING\n", "PONG\n")]);
    let log = server.log_text();
    let listening: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("listening on tcp"))
        .collect();
    assert!(!listening.is_empty(), "{log}");
    for line in listening {
        let addr: std::net::SocketAddr = line
            .split("addr=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(addr.ip().is_loopback(), "{line}");
        assert_eq!(
            addr.port(),
            first.port(),
            "one port for every address: {log}"
        );
    }
    assert!(!log.contains("SECURITY WARNING"), "loopback only: {log}");
}

#[test]
fn a_tcp_address_that_is_not_host_and_port_says_what_to_write() {
    let table = [
        (":8765", "has no host: write 127.0.0.1:8765 for this machine only, or 0.0.0.0:8765 for every interface"),
        ("localhost", "has no port; expected HOST:PORT, such as 127.0.0.1:8765, localhost:8765"),
        ("::1:8765", "write it in brackets, as [::1]:8765"),
    ];
    for (bad, message) in table {
        let (status, _, stderr) = run_to_end(&["serve", "--tcp", bad], &[]);
        assert_eq!(status.code(), Some(2), "--tcp {bad}: {stderr}");
        assert!(stderr.contains(message), "--tcp {bad}: {stderr}");
        assert!(
            !stderr.contains("invalid socket address syntax"),
            "{stderr}"
        );
        let (status, _, stderr) = run_to_end(&["serve"], &[("BLINK_TCP", bad)]);
        assert_eq!(status.code(), Some(2), "BLINK_TCP={bad}: {stderr}");
        assert!(stderr.contains(message), "BLINK_TCP={bad}: {stderr}");
    }
}

#[test]
fn version_and_help_with_examples() {
    let (status, stdout, _) = run_to_end(&["--version"], &[]);
    assert!(status.success());
    assert_eq!(
        stdout.trim(),
        format!("blink-store {}", env!("CARGO_PKG_VERSION"))
    );
    for args in [&["--help"][..], &["serve", "--help"]] {
        let (status, stdout, _) = run_to_end(args, &[]);
        assert!(status.success());
        assert!(stdout.contains("Examples:"), "{stdout}");
        assert!(stdout.contains("--memory-limit"), "{stdout}");
        assert!(stdout.contains("BLINK_MEMORY_LIMIT"), "{stdout}");
        for example in stdout.lines().filter(|line| line.contains("0.0.0.0")) {
            assert!(
                example.contains("--requirepass"),
                "an example beyond loopback without a password: {example}"
            );
        }
    }
}

#[test]
fn connections_over_the_limit_get_an_error_and_the_rest_keep_working() {
    let server = Server::start(&["--max-connections", "2"]);
    let mut first = server.tcp_client();
    let mut second = server.unix_client();
    first.script(&[(b"PING\n", "PONG\n")]);
    second.script(&[(b"PING\n", "PONG\n")]);
    let mut third = server.tcp_client();
    third.send(b"PING\n");
    assert_eq!(third.read_line(), b"ERROR too many connections (max 2)\n");
    assert_eq!(third.read_to_end(), b"");
    first.script(&[(b"SET still working\n", "OK\n")]);
    // A freed slot is usable again.
    drop(first);
    wait_for("the closed connection's slot to come back", || {
        let mut next = server.tcp_client();
        next.send(b"PING\n");
        next.read_line() == b"PONG\n"
    });
}

#[test]
fn logs_go_to_rolling_files_as_json_when_asked() {
    let log_dir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("log.sock");
    // It logs to files, so it announces nothing on stderr: its socket says it is up.
    let mut server = Process::spawn(blink("serve").args([
        "--unix",
        socket.to_str().unwrap(),
        "--log-dir",
        log_dir.path().to_str().unwrap(),
        "--log-format",
        "json",
        "--log",
        "debug",
    ]));
    wait_for("the server to create its socket", || socket.exists());
    let mut client = Client::unix(&socket);
    client.script(&[(b"SET secret-key top-secret-value\n", "OK\n")]);
    drop(client);
    server.signal(Signal::TERM);
    assert!(server.wait_exit(STEP_TIMEOUT).success());

    let files: Vec<_> = std::fs::read_dir(log_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("blink-store.") && name.ends_with(".log"),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.lines().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{text}"
    );
    assert!(text.contains("listening on unix socket"), "{text}");
    assert!(
        text.contains("\"key_len\":10"),
        "per-request debug logs carry sizes: {text}"
    );
    assert!(
        text.contains("\"conn\""),
        "requests are logged inside the connection span: {text}"
    );
    assert!(
        !text.contains("top-secret-value"),
        "values are never logged"
    );
}

#[test]
fn info_level_logs_nothing_per_request() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    let before = server.process.log_len();
    for i in 0..100 {
        client.script(&[
            (format!("SET k{i} v\n").as_bytes(), "OK\n"),
            (format!("GET k{i}\n").as_bytes(), "VALUE dg==\n"),
        ]);
    }
    drop(client);
    server.tcp_client().script(&[(b"PING\n", "PONG\n")]);
    assert_eq!(server.process.log_len(), before, "{}", server.log_text());
}
