//! `blink-store bench` and `blink-store echo`, run as the real binary against the real
//! server, the echo server, Redis and memcached, over TCP and a Unix socket.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{blink, free_port, run_to_end, External, Server, STEP_TIMEOUT};
use rustix::process::Signal;
use serde_json::Value;

/// Runs `bench` with `args` and `--json`, asserts it succeeded and returns its report.
fn bench_json(args: &[&str]) -> Value {
    let mut all = vec!["bench", "--json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_to_end(&all, &[]);
    assert!(status.success(), "bench {args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

fn count(report: &Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {report}"))
}

/// No errors, the latency percentiles in order, and a positive rate.
fn assert_clean(report: &Value) {
    assert_eq!(count(report, "errors"), 0, "{report}");
    assert_eq!(count(report, "failed_conns"), 0, "{report}");
    assert_eq!(
        count(report, "gets") + count(report, "sets"),
        count(report, "requests")
    );
    assert!(report["ops_per_sec"].as_f64().unwrap() > 0.0, "{report}");
    let latency = |p: &str| report["latency_us"][p].as_f64().unwrap();
    assert!(latency("p50") > 0.0, "{report}");
    assert!(latency("p50") <= latency("p90"), "{report}");
    assert!(latency("p90") <= latency("p99"), "{report}");
    assert!(latency("p99") <= latency("p999"), "{report}");
    assert!(latency("p999") <= latency("max"), "{report}");
}

/// `--tcp ADDR` and `--unix PATH` for each transport `server` listens on.
fn targets(server: &Server) -> Vec<[String; 2]> {
    vec![
        ["--tcp".to_owned(), server.tcp_arg()],
        ["--unix".to_owned(), server.unix_arg()],
    ]
}

#[test]
fn line_protocol_after_preload_hits_every_get_over_tcp_and_unix() {
    let server = Server::start(&[]);
    for [flag, target] in targets(&server) {
        let report = bench_json(&[
            &flag,
            &target,
            "--protocol",
            "line",
            "--requests",
            "2000",
            "--conns",
            "2",
            "--pipeline",
            "4",
            "--keys",
            "5000",
            "--preload",
        ]);
        assert_clean(&report);
        assert_eq!(count(&report, "requests"), 2000, "{report}");
        assert_eq!(count(&report, "hits"), count(&report, "gets"), "{report}");
        assert_eq!(count(&report, "misses"), 0, "{report}");
        assert_eq!(report["protocol"], "line");
        assert!(server_cpu(&report) >= 0.0, "{report}");
        assert_eq!(report["conns"], 2);
        assert_eq!(report["pipeline"], 4);
    }
}

#[test]
fn mixed_value_sizes_are_written_and_read_back_over_line_and_resp() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    for protocol in ["line", "resp"] {
        let report = bench_json(&[
            "--tcp",
            &addr,
            "--protocol",
            protocol,
            "--requests",
            "2000",
            "--conns",
            "2",
            "--pipeline",
            "4",
            "--keys",
            "300",
            "--ratio",
            "1:1",
            "--value-size",
            "16..16KiB",
            "--preload",
        ]);
        assert_clean(&report);
        assert_eq!(count(&report, "hits"), count(&report, "gets"), "{report}");
        assert_eq!(report["value_size"], "16..16384", "{report}");
    }
}

#[test]
fn zipf_keys_for_a_fixed_duration() {
    let server = Server::start(&[]);
    let started = Instant::now();
    let report = bench_json(&[
        "--tcp",
        &server.tcp_arg(),
        "--key-dist",
        "zipf",
        "--duration",
        "1s",
        "--conns",
        "2",
        "--pipeline",
        "4",
        "--keys",
        "1000",
        "--ratio",
        "1:1",
    ]);
    assert_clean(&report);
    assert!(count(&report, "requests") > 0, "{report}");
    let seconds = report["seconds"].as_f64().unwrap();
    assert!((1.0..5.0).contains(&seconds), "{report}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(report["key_dist"], "zipf(0.99)");
}

/// The server's CPU time per request in `report`, which must be there, with its user and
/// system parts, which must add up to it.
fn server_cpu(report: &Value) -> f64 {
    let figure = |name: &str| {
        report[name]
            .as_f64()
            .unwrap_or_else(|| panic!("no {name} in {report}"))
    };
    let total = figure("server_cpu_us_per_request");
    let parts = figure("server_user_us_per_request") + figure("server_sys_us_per_request");
    assert!((total - parts).abs() < 1e-6, "{report}");
    total
}

#[test]
fn the_echo_server_sends_every_line_back() {
    echoes_every_line_back(&[]);
}

#[test]
fn the_blocking_echo_server_sends_every_line_back() {
    echoes_every_line_back(&["--blocking"]);
}

#[test]
fn the_epoll_echo_server_sends_every_line_back() {
    echoes_every_line_back(&["--epoll"]);
}

/// `blink-store echo` with `extra` flags echoes over TCP and a Unix socket, has no CPU
/// time to report, and on SIGTERM exits cleanly and removes its socket file.
fn echoes_every_line_back(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("echo.sock");
    let mut command = blink("echo");
    command.args(["--tcp", "127.0.0.1:0", "--unix", sock.to_str().unwrap()]);
    command.args(extra);
    let mut echo = Server::spawn(&mut command, dir, true, true);
    for [flag, target] in targets(&echo) {
        let report = bench_json(&[
            &flag,
            &target,
            "--protocol",
            "echo",
            "--requests",
            "2000",
            "--conns",
            "2",
            "--pipeline",
            "8",
            "--value-size",
            "100",
        ]);
        assert_clean(&report);
        assert_eq!(count(&report, "requests"), 2000, "{report}");
        assert!(report["server_cpu_us_per_request"].is_null(), "{report}");
    }
    echo.signal(Signal::TERM);
    assert!(
        echo.wait_exit(STEP_TIMEOUT).success(),
        "{}",
        echo.log_text()
    );
    assert!(!sock.exists(), "echo left its socket file behind");
}

#[test]
fn a_wrong_protocol_or_no_server_fails_with_a_message() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    let args = [
        "bench",
        "--tcp",
        &addr,
        "--protocol",
        "memcache",
        "--requests",
        "200",
    ];
    let (status, stdout, stderr) = run_to_end(&args, &[]);
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("200 of 200 requests"), "{stderr}");
    assert!(stderr.contains("--protocol"), "{stderr}");
    assert!(stdout.contains("errors       200"), "{stdout}");

    let closed = format!("127.0.0.1:{}", free_port());
    let (status, _, stderr) = run_to_end(&["bench", "--tcp", &closed], &[]);
    assert!(!status.success());
    assert!(stderr.contains("cannot connect"), "{stderr}");

    let (status, _, stderr) = run_to_end(&["bench", "--requests", "5", "--duration", "1s"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
}

#[test]
fn resp_against_redis() {
    let redis = External::redis();
    let report = bench_json(&[
        "--tcp",
        &redis.addr(),
        "--protocol",
        "resp",
        "--requests",
        "2000",
        "--conns",
        "2",
        "--pipeline",
        "4",
        "--keys",
        "2000",
        "--preload",
    ]);
    assert_clean(&report);
    assert_eq!(count(&report, "hits"), count(&report, "gets"), "{report}");
    assert!(server_cpu(&report) > 0.0, "{report}");
}

/// A memcached 1.6 on a free loopback port, without UDP.
fn memcached() -> External {
    External::start(
        ("memcached", "memcached"),
        |port| {
            let mut args = vec![
                "-p".into(),
                port.to_string(),
                "-U".into(),
                "0".into(),
                "-l".into(),
                "127.0.0.1".into(),
            ];
            // memcached refuses to run as root unless told which user to be.
            if rustix::process::geteuid().is_root() {
                args.extend(["-u".into(), "root".into()]);
            }
            args
        },
        (b"version\r\n", "VERSION"),
    )
}

#[test]
fn memcache_against_memcached() {
    let memcached = memcached();
    let addr = memcached.addr();
    // compare.sh's multi-connection row, briefly, and over keys never set yet: misses
    // (a bare END) and hits with values of many lengths, pipelined.
    let report = bench_json(&[
        "--tcp",
        &addr,
        "--protocol",
        "memcache",
        "--duration",
        "500ms",
        "--conns",
        "4",
        "--pipeline",
        "16",
        "--keys",
        "100000",
        "--ratio",
        "9:1",
        "--value-size",
        "16..16KiB",
    ]);
    assert_clean(&report);
    assert!(count(&report, "requests") > 0, "{report}");
    assert!(count(&report, "sets") > 0, "{report}");
    assert!(count(&report, "misses") > 0, "{report}");
    assert_eq!(
        count(&report, "hits") + count(&report, "misses"),
        count(&report, "gets"),
        "{report}"
    );

    // Preloading rewrites every key the run reads, at the fixed 32-byte length.
    let report = bench_json(&[
        "--tcp",
        &addr,
        "--protocol",
        "memcache",
        "--requests",
        "2000",
        "--conns",
        "2",
        "--pipeline",
        "4",
        "--keys",
        "2000",
        "--preload",
    ]);
    assert_clean(&report);
    assert_eq!(count(&report, "hits"), count(&report, "gets"), "{report}");
    assert_eq!(report["protocol"], "memcache");
    assert!(server_cpu(&report) > 0.0, "{report}");
}

#[test]
fn blink_stores_memcached_listener_reports_its_cpu_time_in_stats() {
    let server = Server::start_memcache(&[]);
    let listeners = server.memcache.as_deref().unwrap();
    let report = bench_json(&[
        "--tcp",
        &listeners.tcp.to_string(),
        "--protocol",
        "memcache",
        "--requests",
        "2000",
        "--pipeline",
        "4",
        "--keys",
        "500",
        "--preload",
    ]);
    assert_clean(&report);
    assert!(server_cpu(&report) >= 0.0, "{report}");
}

#[test]
fn a_memcache_reply_that_cannot_be_right_is_an_error_not_a_wait() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        // One `get` of a 16-byte key, answered with a value followed by something other
        // than END; then the connection stays open and silent until the client leaves.
        let (mut client, _) = listener.accept().unwrap();
        let mut request = [0; 22];
        client.read_exact(&mut request).unwrap();
        assert!(request.starts_with(b"get key:"), "{request:?}");
        client
            .write_all(b"VALUE key:000000000000 0 2\r\nab\r\nX")
            .unwrap();
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
    });
    let started = Instant::now();
    let args = [
        "bench",
        "--tcp",
        &addr,
        "--protocol",
        "memcache",
        "--requests",
        "1",
        "--ratio",
        "1:0",
        "--timeout",
        "60s",
    ];
    let (status, stdout, stderr) = run_to_end(&args, &[]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited for the reply to end"
    );
    assert!(!status.success(), "{stdout}");
    assert!(stdout.contains("errors       1"), "{stdout}");
    assert!(
        stderr.contains("expected VALUE with its 32-byte value then END, or END"),
        "{stderr}"
    );
    server.join().unwrap();
}

#[test]
fn a_line_protocol_run_ends_with_what_the_server_says_of_itself() {
    let server = Server::start(&[]);
    let tcp = server.tcp_arg();
    let args = [
        "bench",
        "--tcp",
        &tcp,
        "--requests",
        "500",
        "--keys",
        "50",
        "--preload",
    ];
    let (status, stdout, stderr) = run_to_end(&args, &[]);
    assert!(status.success(), "{stderr}");
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with("server       keys 50  used "),
        "{stdout}"
    );
    assert!(summary.contains("evictions 0  expirations 0"), "{stdout}");
}

#[test]
fn a_server_with_a_password_is_benchmarked_with_it_given_as_cli_takes_it() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let addr = server.tcp.unwrap().to_string();
    let file = server.dir.path().join("password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let file = file.to_str().unwrap();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let base = ["bench", "--json", "--tcp", &addr, "--requests", "300"];
        let args = [
            &base[..],
            &["--keys", "30", "--preload", "--conns", "2"],
            extra,
        ]
        .concat();
        run_to_end(&args, env)
    };
    for (extra, env) in [
        (&["--password", "s3cret"][..], &[][..]),
        (&["-a", "s3cret", "--protocol", "resp"], &[]),
        (&["--password-file", file], &[]),
        (&[], &[("BLINK_PASSWORD", "s3cret")]),
        (&["--protocol", "resp"], &[("BLINK_PASSWORD_FILE", file)]),
    ] {
        let (status, stdout, stderr) = run(extra, env);
        assert!(status.success(), "{extra:?} {env:?}: {stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_clean(&report);
        assert_eq!(count(&report, "hits"), count(&report, "gets"), "{report}");
        // The side connection that reads the server's CPU time gives the password too.
        assert!(server_cpu(&report) >= 0.0, "{extra:?} {env:?}: {report}");
    }
    let table = run_to_end(
        &["bench", "--tcp", &addr, "--requests", "10", "-a", "s3cret"],
        &[],
    );
    assert!(table.0.success(), "{}", table.2);
    let summary = table.1.lines().last().unwrap();
    assert!(
        summary.starts_with("server       keys "),
        "the server's own figures, read with the password too: {}",
        table.1
    );
    let (status, _, stderr) = run(&[], &[]);
    assert!(!status.success());
    assert!(
        stderr.contains("NOAUTH Authentication required."),
        "without the password: {stderr}"
    );
    let (status, _, stderr) = run(&["--password", "wrong"], &[]);
    assert!(!status.success());
    assert!(
        stderr.contains("bench: authentication failed: the server answered \"ERROR WRONGPASS"),
        "{stderr}"
    );
    let (status, _, stderr) = run(&["--password", "s3cret", "--protocol", "memcache"], &[]);
    assert!(!status.success());
    assert!(
        stderr.contains("cannot give a password: memcached's text protocol has no AUTH"),
        "{stderr}"
    );
}
