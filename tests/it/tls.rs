//! TLS listeners: real clients (redis-cli, redis-py, openssl s_client, the binary's own
//! cli, healthcheck and bench) over `--tls` and `--memcache-tls`, mutual TLS, what happens
//! to plaintext, stalled and untrusted clients, and what works on plain TCP working the
//! same over TLS. Certificates are made per test (tests/common/tls.rs).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::common::{
    blink, connect, free_port, pyenv_python, request, run_fed_with_deadline, run_with_deadline,
    start_tls, tool, wait_for, Finished, Pki, Server,
};

/// How long a client program may take: a handshake and a few requests.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// redis-cli with TLS flags against `addr`, running `command`.
fn redis_cli(pki: &Pki, addr: SocketAddr, client: Option<&str>, command: &[&str]) -> Finished {
    let mut cli = Command::new(tool("redis-cli", "redis-tools"));
    cli.args(["-h", "127.0.0.1", "-p", &addr.port().to_string(), "--tls"])
        .args(["--cacert", &pki.arg("ca.pem")]);
    if let Some(name) = client {
        cli.args(["--cert", &pki.arg(&format!("{name}.pem"))])
            .args(["--key", &pki.arg(&format!("{name}-key.pem"))]);
    }
    run_with_deadline(cli.args(command), RUN_TIMEOUT)
}

/// `openssl s_client` to `addr`, trusting the test CA, with `flags`, sending `input`.
fn s_client(pki: &Pki, addr: SocketAddr, flags: &[&str], input: &[u8]) -> Finished {
    let mut openssl = Command::new(tool("openssl", "openssl"));
    openssl
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-CAfile", &pki.arg("ca.pem"), "-verify_return_error"])
        .args(flags);
    run_fed_with_deadline(&mut openssl, Some(input), RUN_TIMEOUT)
}

/// The value of `field` in RESP's INFO (stats and clients), asked over the plain TCP listener.
fn info_stat(server: &Server, field: &str) -> u64 {
    let port = server.tcp.unwrap().port().to_string();
    let mut cli = Command::new(tool("redis-cli", "redis-tools"));
    cli.args(["-h", "127.0.0.1", "-p", &port, "INFO", "stats", "clients"]);
    let info = run_with_deadline(&mut cli, RUN_TIMEOUT);
    let prefix = format!("{field}:");
    let line = info
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix));
    let line = line.unwrap_or_else(|| panic!("no {field} in {}", info.describe()));
    line.trim().parse().unwrap()
}

#[test]
fn redis_cli_and_openssl_speak_to_the_tls_listener() {
    let pki = Pki::new();
    let (server, addr) = start_tls(&pki, false, &[]);
    redis_cli(&pki, addr, None, &["SET", "greeting", "hello"]).assert_stdout_has("SET", "OK");
    redis_cli(&pki, addr, None, &["GET", "greeting"]).assert_stdout_has("GET", "hello");

    // The line protocol after the handshake, TLS 1.3 by default; QUIT closes, so
    // s_client ends once every reply is in.
    let input = b"SET user alice\nGET user\nQUIT\n";
    let session = s_client(&pki, addr, &["-quiet", "-ign_eof"], input);
    session.assert_success("openssl s_client");
    assert_eq!(
        session.stdout,
        "OK\nVALUE YWxpY2U=\n",
        "{}",
        session.describe()
    );
    let brief = s_client(&pki, addr, &["-brief", "-ign_eof"], b"QUIT\n");
    assert!(
        brief.stderr.contains("Protocol version: TLSv1.3"),
        "{}",
        brief.describe()
    );
    let tls12 = s_client(&pki, addr, &["-brief", "-ign_eof", "-tls1_2"], b"QUIT\n");
    assert!(
        tls12.stderr.contains("Protocol version: TLSv1.2"),
        "{}",
        tls12.describe()
    );
    let tls11 = s_client(&pki, addr, &["-quiet", "-tls1_1"], b"GET user\n");
    assert!(
        !tls11.status.success(),
        "TLS 1.1 was accepted: {}",
        tls11.describe()
    );
    assert!(!tls11.stdout.contains("VALUE"), "{}", tls11.describe());
    // redis-cli closed without TLS's close_notify (long before now): a plain close.
    let log = server.process.log_text();
    assert!(!log.contains("closed with error"), "{log}");
}

#[test]
fn redis_py_sets_and_gets_over_tls() {
    let python = pyenv_python();
    let pki = Pki::new();
    let (_server, addr) = start_tls(&pki, false, &[]);
    let script = "import sys, redis\n\
        r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2])\n\
        assert r.set('k', b'v\\x00w')\n\
        assert r.get('k') == b'v\\x00w', r.get('k')\n\
        print('redis-py over tls: ok')\n";
    let finished = run_with_deadline(
        Command::new(&python)
            .args(["-c", script])
            .arg(addr.port().to_string())
            .arg(pki.path("ca.pem")),
        RUN_TIMEOUT,
    );
    finished
        .assert_success("redis-py")
        .assert_stdout_has("redis-py", "redis-py over tls: ok");
}

#[test]
fn memcached_protocol_over_memcache_tls() {
    let pki = Pki::new();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut flags = pki.server_flags(false);
    flags.extend(["--memcache-tls".to_owned(), addr.to_string()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let _server = Server::start(&flags);
    wait_for("the memcached TLS listener", || {
        TcpStream::connect(addr).is_ok()
    });
    let input = b"set greeting 5 0 5\r\nhello\r\nget greeting\r\nquit\r\n";
    let session = s_client(&pki, addr, &["-quiet", "-ign_eof"], input);
    session.assert_success("openssl s_client");
    assert_eq!(
        session.stdout,
        "STORED\r\nVALUE greeting 5 5\r\nhello\r\nEND\r\n",
        "{}",
        session.describe()
    );
}

#[test]
fn mutual_tls_admits_only_certificates_of_its_ca() {
    let pki = Pki::new();
    let (server, addr) = start_tls(&pki, true, &[]);
    redis_cli(&pki, addr, Some("client"), &["SET", "k", "v"]).assert_stdout_has("SET", "OK");
    let without = redis_cli(&pki, addr, None, &["GET", "k"]);
    assert_ne!(without.stdout.trim(), "v", "{}", without.describe());

    let mut trusted = connect(&pki, addr, "ca.pem", Some("client"));
    assert_eq!(request(&mut trusted, "GET k\n").unwrap(), "VALUE dg==\n");
    let mut rogue = connect(&pki, addr, "ca.pem", Some("rogue"));
    assert!(
        request(&mut rogue, "GET k\n").is_err(),
        "a rogue CA's client was served"
    );
    let mut anonymous = connect(&pki, addr, "ca.pem", None);
    assert!(
        request(&mut anonymous, "GET k\n").is_err(),
        "a client without a certificate was served"
    );
    // The trusted client was not disturbed, and the failures were counted.
    assert_eq!(request(&mut trusted, "GET k\n").unwrap(), "VALUE dg==\n");
    wait_for("three failed handshakes in INFO", || {
        info_stat(&server, "tls_handshake_failures") == 3
    });
}

#[test]
fn plaintext_and_stalled_clients_are_closed_and_others_served() {
    let pki = Pki::new();
    let (server, addr) = start_tls(&pki, false, &["--tls-handshake-timeout", "500ms"]);
    let mut steady = connect(&pki, addr, "ca.pem", None);
    assert_eq!(request(&mut steady, "SET a 1\n").unwrap(), "OK\n");

    // Plaintext: at most an alert comes back, then the close.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(RUN_TIMEOUT)).unwrap();
    plain.write_all(b"GET a\n").unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.windows(5).any(|w| w == b"VALUE"), "{answer:?}");
    assert_eq!(request(&mut steady, "GET a\n").unwrap(), "VALUE MQ==\n");

    // Silent: closed once the handshake timeout passes, not before.
    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).unwrap();
    silent.set_read_timeout(Some(RUN_TIMEOUT)).unwrap();
    let mut byte = [0u8; 1];
    let closed = silent.read(&mut byte);
    let waited = started.elapsed();
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    assert!(
        waited >= Duration::from_millis(400),
        "closed after {waited:?}"
    );
    assert!(waited < Duration::from_secs(10), "closed after {waited:?}");
    assert_eq!(request(&mut steady, "GET a\n").unwrap(), "VALUE MQ==\n");
    wait_for("two failed handshakes in INFO", || {
        info_stat(&server, "tls_handshake_failures") == 2
    });
}

#[test]
fn password_limit_client_list_and_idle_timeout_work_over_tls() {
    let pki = Pki::new();
    let flags = [
        "--requirepass",
        "s3cret",
        "--max-connections",
        "2",
        "--timeout",
        "1",
    ];
    let (_server, addr) = start_tls(&pki, false, &flags);
    let mut first = connect(&pki, addr, "ca.pem", None);
    let refused = request(&mut first, "GET k\n").unwrap();
    assert!(refused.contains("NOAUTH"), "{refused}");
    assert_eq!(request(&mut first, "AUTH s3cret\n").unwrap(), "OK\n");
    let list = redis_cli(
        &pki,
        addr,
        None,
        &["-a", "s3cret", "--no-auth-warning", "CLIENT", "LIST"],
    );
    let laddr = format!("laddr={addr} ");
    assert_eq!(
        list.stdout.matches(&laddr).count(),
        2,
        "{}",
        list.describe()
    );

    // The limit: a second client is the last one admitted (once redis-cli's slot is
    // free); a third is told over TLS.
    let mut second = None;
    wait_for("a second client admitted", || {
        let mut client = connect(&pki, addr, "ca.pem", None);
        let admitted = request(&mut client, "PING\n").is_ok_and(|r| r.contains("NOAUTH"));
        second = admitted.then_some(client);
        admitted
    });
    let mut third = connect(&pki, addr, "ca.pem", None);
    let refusal = request(&mut third, "PING\n").unwrap();
    assert_eq!(refusal, "ERROR too many connections (max 2)\n");

    // Idle for a second: closed, as on plain TCP (the socket, without close_notify).
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let closed = first.read(&mut byte).map_err(|err| err.kind());
    let eof = Err(std::io::ErrorKind::UnexpectedEof);
    assert!(closed == Ok(0) || closed == eof, "{closed:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn cli_healthcheck_and_bench_speak_tls() {
    let pki = Pki::new();
    let (_server, addr) = start_tls(&pki, true, &[]);
    let tls = [
        "--tls",
        "--tls-ca",
        &pki.arg("ca.pem"),
        "--tls-cert",
        &pki.arg("client.pem"),
        "--tls-key",
        &pki.arg("client-key.pem"),
    ];
    let run = |subcommand: &str, args: &[&str]| {
        run_with_deadline(blink(subcommand).args(tls).args(args), RUN_TIMEOUT)
    };
    let addr = addr.to_string();
    run("cli", &["--tcp", &addr, "SET", "user", "alice"]).assert_stdout_has("cli SET", "OK");
    run("cli", &["--tcp", &addr, "GET", "user"]).assert_stdout_has("cli GET", "alice");
    run("healthcheck", &["--tcp", &addr]).assert_success("healthcheck");
    let bench = run(
        "bench",
        &["--tcp", &addr, "--conns", "4", "--requests", "2000"],
    );
    bench
        .assert_success("bench")
        .assert_stdout_has("bench", "target       tls ")
        .assert_stdout_has("bench", "errors       0 (failed connections 0)")
        .assert_stdout_has("bench", "ops/s");
    // Without the client certificate the server refuses the handshake.
    let refused = run_with_deadline(
        blink("healthcheck").args(["--tcp", &addr, "--tls", "--tls-ca", &pki.arg("ca.pem")]),
        RUN_TIMEOUT,
    );
    assert!(!refused.status.success(), "{}", refused.describe());
}

#[test]
fn shutdown_does_not_wait_for_a_stalled_handshake() {
    let pki = Pki::new();
    let (mut server, addr) = start_tls(&pki, false, &[]);
    let _silent = TcpStream::connect(addr).unwrap();
    // Counted once accepted: the silent client and the asking one.
    wait_for("the silent client accepted", || {
        info_stat(&server, "connected_clients") == 2
    });
    let started = Instant::now();
    server.process.signal(Signal::TERM);
    assert!(server.process.wait_exit(RUN_TIMEOUT).success());
    let waited = started.elapsed();
    let log = server.process.log_text();
    assert!(!log.contains("still open after the grace period"), "{log}");
    assert!(
        waited < Duration::from_secs(1),
        "exited after {waited:?}\n{log}"
    );
}
