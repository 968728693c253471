//! Safe defaults and bounded connections against the real server: the password
//! (line protocol, RESP, HELLO ... AUTH, and a password file), the warning for a
//! non-loopback listener without one, the idle timeout, the cap on replies a client does
//! not read, and RESP's configurable argument and inline limits.

use crate::common;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{binary, clean_command, expect, tcp_stream, tool, Server, STEP_TIMEOUT};

#[test]
fn with_a_password_every_command_waits_for_auth_in_both_protocols() {
    let server = Server::start(&["--requirepass", "s3cret pass"]);
    let mut line = server.tcp_client();
    line.script(&[
        (b"GET k\n", "ERROR NOAUTH Authentication required.\n"),
        (b"PING\n", "ERROR NOAUTH Authentication required.\n"),
        (
            b"AUTH wrong\n",
            "ERROR WRONGPASS invalid username-password pair or user is disabled.\n",
        ),
        (b"AUTH s3cret pass\n", "OK\n"),
        (b"SET k v\n", "OK\n"),
        (b"GET k\n", "VALUE dg==\n"),
    ]);
    let mut resp = server.unix_client();
    resp.send(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    expect(&mut resp, b"-NOAUTH Authentication required.\r\n");
    resp.send(b"*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$11\r\ns3cret pass\r\n");
    expect(
        &mut resp,
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    resp.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
    let mut hello = resp.read_line();
    assert!(
        String::from_utf8_lossy(&hello).starts_with("-NOAUTH HELLO must be called"),
        "{hello:?}"
    );
    resp.send(
        b"*5\r\n$5\r\nHELLO\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$11\r\ns3cret pass\r\n",
    );
    hello = resp.read_line();
    assert_eq!(
        hello, b"*14\r\n",
        "HELLO's reply (7 fields) after authenticating"
    );
    let mut redis = server.tcp_client();
    redis.send(b"*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$11\r\ns3cret pass\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    expect(&mut redis, b"+OK\r\n$1\r\nv\r\n");
}

#[test]
fn auth_without_a_password_set_is_refused_as_redis_refuses_it() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    client.send(b"*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n");
    expect(
        &mut client,
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
}

#[test]
fn the_password_may_come_from_a_file_and_redis_cli_can_give_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let server = Server::start(&["--requirepass-file", file.to_str().unwrap()]);
    let port = server.tcp.unwrap().port().to_string();
    let out = Command::new(tool("redis-cli", "redis-tools"))
        .args([
            "-p",
            &port,
            "--no-auth-warning",
            "-a",
            "from-a-file",
            "SET",
            "a",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n");
    let refused = Command::new(tool("redis-cli", "redis-tools"))
        .args(["-p", &port, "GET", "a"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stdout).contains("NOAUTH"));
}

#[test]
fn a_non_loopback_listener_without_a_password_logs_a_loud_warning() {
    for (password, warned) in [(None, true), (Some("pw"), false)] {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("blink.sock");
        let mut command = clean_command(binary());
        command.args([
            "serve",
            "--tcp",
            "0.0.0.0:0",
            "--unix",
            sock.to_str().unwrap(),
        ]);
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let server = Server::spawn(&mut command, dir, true, true);
        assert_eq!(
            server.log_text().contains("SECURITY WARNING"),
            warned,
            "{}",
            server.log_text()
        );
    }
    let server = Server::start(&[]);
    assert!(
        !server.log_text().contains("SECURITY WARNING"),
        "loopback is fine"
    );
}

#[test]
fn idle_connections_are_closed_after_the_timeout_and_busy_ones_are_not() {
    let server = Server::start(&["--timeout", "1"]);
    let started = Instant::now();
    let mut idle = server.tcp_client();
    // Half a line, then nothing: closed, holding no more than that half line.
    idle.send(b"SET k hal");
    assert_eq!(idle.read_to_end(), b"", "closed without a reply");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
    assert!(waited < STEP_TIMEOUT, "never closed");
    let mut busy = server.unix_client();
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        assert_eq!(busy.request(b"PING\n"), "PONG\n");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_client_that_never_reads_its_replies_is_disconnected_at_the_cap() {
    let server = Server::start(&["--max-output-buffer", "1MiB"]);
    let mut setup = server.tcp_client();
    let value = "x".repeat(60_000);
    setup.script(&[(format!("SET big {value}\n").as_bytes(), "OK\n")]);
    // GET after GET, never reading: 80 KB of replies each. The server must give up on
    // this client after holding about 1 MiB, not buffer everything it was asked for.
    let mut greedy = tcp_stream(server.tcp.unwrap());
    let request = b"GET big\n".repeat(1000);
    let mut sent = 0usize;
    let deadline = Instant::now() + STEP_TIMEOUT;
    while Instant::now() < deadline {
        match greedy.write(&request) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    // The server logs before it hangs up; the log is read from its stderr by another
    // thread, which may not have seen the line yet when the write fails.
    let logged = common::try_wait_for(STEP_TIMEOUT, || {
        server
            .log_text()
            .contains("replies waiting for this client passed the output limit")
    });
    assert!(
        logged.is_some(),
        "sent {sent} bytes; log: {}",
        server.log_text()
    );
    // Everyone else is still served.
    let mut other = server.unix_client();
    assert_eq!(other.request(b"PING\n"), "PONG\n");
}

#[test]
fn resp_argument_and_inline_limits_are_configurable() {
    let server = Server::start(&["--max-args", "3", "--max-inline", "32"]);
    let mut args = server.tcp_client();
    args.send(b"*4\r\n");
    expect(
        &mut args,
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    assert_eq!(args.read_to_end(), b"");
    let mut inline = server.tcp_client();
    inline.send(b"*1\r\n$4\r\nPING\r\n");
    expect(&mut inline, b"+PONG\r\n");
    inline.send(&[b'a'; 64]);
    expect(
        &mut inline,
        b"-ERR Protocol error: too big inline request\r\n",
    );
    let mut fine = server.unix_client();
    assert_eq!(fine.request(b"PING\n"), "PONG\n");
}

#[test]
fn the_value_limit_holds_however_a_value_arrives() {
    let server = Server::start(&["--max-value-size", "16"]);
    let mut client = server.tcp_client();
    let long = "v".repeat(40);
    // A RESP connection's inline command carries its value as a plain argument, not a
    // bulk string.
    client.send(b"*1\r\n$4\r\nPING\r\n");
    expect(&mut client, b"+PONG\r\n");
    client.send(format!("SET k {long}\r\n").as_bytes());
    expect(&mut client, b"-ERR value too large (max 16 bytes)\r\n");
    client.send(format!("MSET a 1 b {long}\r\n").as_bytes());
    expect(&mut client, b"-ERR value too large (max 16 bytes)\r\n");
    client.send(b"*3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$10\r\n0123456789\r\n");
    expect(&mut client, b":10\r\n");
    client.send(b"*3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$10\r\n0123456789\r\n");
    expect(
        &mut client,
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    client.send(b"*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n");
    expect(&mut client, b":10\r\n");
}
