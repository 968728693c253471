//! SIGHUP on a serving server: the TLS certificate reloaded (open connections kept, bad
//! files refused), the Unix socket kept, and the log file re-opened after it was moved.

use std::time::Duration;

use rustix::process::Signal;

use crate::common::{
    blink, connect, file_cert, request, served_cert, start_tls, wait_for, Client, Pki, Process,
};

/// How long the server may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn sighup_reloads_the_certificate_and_keeps_connections_and_the_socket() {
    let pki = Pki::new();
    let (server, addr) = start_tls(&pki, false, &[]);
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
    assert!(server.wait_exit(STOP_TIMEOUT).success());
    assert!(!socket.exists());
}
