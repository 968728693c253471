//! TLS listeners: real clients (redis-cli, redis-py, openssl s_client, the binary's own
//! cli, healthcheck and bench) over `--tls` and `--memcache-tls`, mutual TLS, what happens
//! to plaintext, stalled and untrusted clients, and SIGHUP reloading the certificate and
//! re-opening the log file. Certificates are made per test with rcgen.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustix::process::Signal;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::common::{
    blink, free_port, root, run_fed_with_deadline, run_with_deadline, tool, wait_for, Client,
    Finished, Process, Server,
};

/// How long a client program may take: a handshake and a few requests.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// A CA, the certificates it issued, and an unrelated CA's client certificate, as PEM
/// files in a directory of their own.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA, a server certificate for 127.0.0.1 and localhost (CN `server-1`), a client
    /// certificate, and a client certificate from another CA.
    fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        let ca = pki.ca("ca", "Test CA");
        pki.issue(&ca, "server", "server-1", true);
        pki.issue(&ca, "client", "client", false);
        let rogue = pki.ca("rogue-ca", "Rogue CA");
        pki.issue(&rogue, "rogue", "client", false);
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A self-signed CA, written to `<name>.pem`.
    fn ca(&self, name: &str, cn: &str) -> Issuer<'static, KeyPair> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, cn);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        Issuer::new(params, key)
    }

    /// A certificate `ca` signed, to `<name>.pem` and `<name>-key.pem`: for a server on
    /// 127.0.0.1 and localhost, or for a client.
    fn issue(&self, ca: &Issuer<'static, KeyPair>, name: &str, cn: &str, server: bool) {
        let key = KeyPair::generate().unwrap();
        let names = if server {
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params.signed_by(&key, ca).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}-key.pem")), key.serialize_pem()).unwrap();
    }

    /// The server flags for these files, and mutual TLS if `mutual`.
    fn server_flags(&self, mutual: bool) -> Vec<String> {
        let mut flags = vec![
            "--tls-cert".to_owned(),
            self.arg("server.pem"),
            "--tls-key".to_owned(),
            self.arg("server-key.pem"),
        ];
        if mutual {
            flags.extend(["--tls-ca".to_owned(), self.arg("ca.pem")]);
        }
        flags
    }
}

/// A server with a `--tls` listener (and the plain TCP one and the Unix socket of
/// [`Server::start`]), started once the TLS port accepts.
fn start(pki: &Pki, mutual: bool, extra: &[&str]) -> (Server, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut flags = pki.server_flags(mutual);
    flags.extend(["--tls".to_owned(), addr.to_string()]);
    flags.extend(extra.iter().map(|flag| (*flag).to_owned()));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = Server::start(&flags);
    (server, addr)
}

/// A TLS connection with rustls, trusting `ca`, presenting `client` (certificate and key
/// file names in `pki`) if given; the handshake is not done yet.
fn connect(
    pki: &Pki,
    addr: SocketAddr,
    ca: &str,
    client: Option<&str>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let roots = blink_store::tls::read_roots(&pki.path(ca)).unwrap();
    let builder = ClientConfig::builder_with_provider(blink_store::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(name) => {
            let certs = blink_store::tls::read_certs(&pki.path(&format!("{name}.pem"))).unwrap();
            let key = blink_store::tls::read_key(&pki.path(&format!("{name}-key.pem"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
    };
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let session = ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(RUN_TIMEOUT)).unwrap();
    StreamOwned::new(session, socket)
}

/// Sends one line-protocol request and reads its one-line reply; an error if the
/// connection fails or closes first.
fn request(
    stream: &mut StreamOwned<ClientConnection, TcpStream>,
    line: &str,
) -> std::io::Result<String> {
    stream.write_all(line.as_bytes())?;
    stream.flush()?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        reply.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The certificate the server presented on `stream`, after a request.
fn served_cert(stream: &StreamOwned<ClientConnection, TcpStream>) -> CertificateDer<'static> {
    let chain = stream.conn.peer_certificates().unwrap();
    chain[0].clone().into_owned()
}

/// The first certificate of a PEM file.
fn file_cert(path: &Path) -> CertificateDer<'static> {
    blink_store::tls::read_certs(path).unwrap().remove(0)
}

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
    let (server, addr) = start(&pki, false, &[]);
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
    let python = root().join("target/pyenv/bin/python3");
    assert!(
        python.is_file(),
        "{} is missing: .ci/test makes it (python3 -m venv target/pyenv && \
         target/pyenv/bin/pip install redis)",
        python.display()
    );
    let pki = Pki::new();
    let (_server, addr) = start(&pki, false, &[]);
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
    let (server, addr) = start(&pki, true, &[]);
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
    let (server, addr) = start(&pki, false, &["--tls-handshake-timeout", "500ms"]);
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
    let (_server, addr) = start(&pki, false, &flags);
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
fn sighup_reloads_the_certificate_and_keeps_connections_and_the_socket() {
    let pki = Pki::new();
    let (server, addr) = start(&pki, false, &[]);
    let mut before = connect(&pki, addr, "ca.pem", None);
    assert_eq!(request(&mut before, "SET k v\n").unwrap(), "OK\n");
    assert_eq!(served_cert(&before), file_cert(&pki.path("server.pem")));

    // New files at the same paths (a new CA too, under the same name, which the clients
    // made after it trust): new connections get the new certificate.
    let ca = pki.ca("ca", "Test CA");
    pki.issue(&ca, "server", "server-2", true);
    let renewed = file_cert(&pki.path("server.pem"));
    server.process.signal(Signal::HUP);
    server.process.wait_line("the reload", |line| {
        line.contains("reloaded the TLS certificate").then_some(())
    });
    let mut after = connect(&pki, addr, "ca.pem", None);
    assert_eq!(request(&mut after, "GET k\n").unwrap(), "VALUE dg==\n");
    assert_eq!(served_cert(&after), renewed);
    assert_eq!(request(&mut before, "GET k\n").unwrap(), "VALUE dg==\n");

    // Broken files: an error, and the certificate in use stays.
    std::fs::write(pki.path("server-key.pem"), "not a key\n").unwrap();
    server.process.signal(Signal::HUP);
    server.process.wait_line("the failed reload", |line| {
        line.contains("could not reload the TLS certificate")
            .then_some(())
    });
    let mut later = connect(&pki, addr, "ca.pem", None);
    assert_eq!(request(&mut later, "GET k\n").unwrap(), "VALUE dg==\n");
    assert_eq!(served_cert(&later), renewed);
    assert!(!server.process.has_exited());
    assert!(server.unix.as_deref().unwrap().exists());
    assert_eq!(server.unix_client().request(b"GET k\n"), "VALUE dg==\n");
}

#[test]
fn sighup_reopens_a_log_file_moved_away() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let socket = dir.path().join("blink.sock");
    // It logs to files, so it announces nothing on stderr: its socket says it is up.
    let mut server = Process::spawn(
        blink("serve")
            .arg("--unix")
            .arg(&socket)
            .arg("--log-dir")
            .arg(&logs),
    );
    wait_for("the server to create its socket", || socket.exists());
    let log_file = || {
        let entries = std::fs::read_dir(&logs).ok()?;
        let mut files = entries.filter_map(|entry| Some(entry.ok()?.path()));
        files.find(|path| path.extension().is_some_and(|ext| ext == "log"))
    };
    // Listening is logged once the server runs, its signal handlers installed.
    wait_for("the log file to say it listens", || {
        log_file().is_some_and(|path| {
            std::fs::read_to_string(path).is_ok_and(|text| text.contains("listening on unix"))
        })
    });
    let path = log_file().unwrap();
    let moved = dir.path().join("moved.log");
    std::fs::rename(&path, &moved).unwrap();
    server.signal(Signal::HUP);
    wait_for("a fresh log file saying it was re-opened", || {
        std::fs::read_to_string(&path).is_ok_and(|text| text.contains("re-opened the log file"))
    });
    let old = std::fs::read_to_string(&moved).unwrap();
    assert!(old.contains("listening on unix socket"), "{old}");
    assert!(!old.contains("re-opened"), "{old}");
    // Still serving, and stops as usual.
    assert_eq!(Client::unix(&socket).request(b"PING\n"), "PONG\n");
    server.signal(Signal::TERM);
    assert!(server.wait_exit(RUN_TIMEOUT).success());
    assert!(!socket.exists());
}

#[test]
fn cli_healthcheck_and_bench_speak_tls() {
    let pki = Pki::new();
    let (_server, addr) = start(&pki, true, &[]);
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
    let (mut server, addr) = start(&pki, false, &[]);
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
