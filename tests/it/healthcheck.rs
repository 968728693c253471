//! `blink-store healthcheck` against a real server over TCP and a Unix socket, configured
//! by flags or by `serve`'s environment, and against nothing, a wrong server and a
//! silent one: exit 0 only on PONG, exit 1 otherwise, within its timeout.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;

use common::{blink, free_port, Server};

fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    blink("healthcheck")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn a_running_server_is_healthy_by_flag_and_by_environment() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    let sock = server.unix.clone().unwrap();
    let sock = sock.to_str().unwrap();
    for out in [
        healthcheck(&["--tcp", &addr], &[]),
        healthcheck(&["--unix", sock], &[]),
        healthcheck(&[], &[("BLINK_TCP", addr.as_str())]),
        healthcheck(&[], &[("BLINK_UNIX", sock)]),
        healthcheck(
            &[
                "--tcp",
                &format!("localhost:{}", server.tcp.unwrap().port()),
            ],
            &[],
        ),
    ] {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
}

#[test]
fn nothing_listening_is_unhealthy() {
    let addr = format!("127.0.0.1:{}", free_port());
    let out = healthcheck(&["--tcp", &addr], &[]);
    assert_eq!(out.status.code(), Some(1));
    let message = String::from_utf8(out.stderr).unwrap();
    assert!(
        message.contains(&format!("unhealthy: tcp {addr}")),
        "{message}"
    );
}

#[test]
fn a_wrong_answer_or_none_is_unhealthy() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        // First client: a wrong answer. Second: read the PING and say nothing.
        let (mut wrong, _) = listener.accept().unwrap();
        let mut ping = [0; 5];
        wrong.read_exact(&mut ping).unwrap();
        wrong.write_all(b"-ERR no\r\n").unwrap();
        let (mut silent, _) = listener.accept().unwrap();
        silent.read_exact(&mut ping).unwrap();
        let mut rest = Vec::new();
        let _ = silent.read_to_end(&mut rest);
    });
    let wrong = healthcheck(&["--tcp", &addr], &[]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8(wrong.stderr)
        .unwrap()
        .contains("answered"));
    let silent = healthcheck(&["--tcp", &addr, "--timeout", "300ms"], &[]);
    assert_eq!(silent.status.code(), Some(1));
    server.join().unwrap();
}

#[test]
fn a_server_with_a_password_is_healthy_only_with_the_password() {
    let server = Server::start(&["--requirepass", "pw"]);
    let addr = server.tcp_arg();
    let without = healthcheck(&["--tcp", &addr], &[]);
    assert_eq!(without.status.code(), Some(1), "NOAUTH is not healthy");
    let with = healthcheck(&["--tcp", &addr], &[("BLINK_PASSWORD", "pw")]);
    assert_eq!(with.status.code(), Some(0), "{with:?}");
    let wrong = healthcheck(&["--tcp", &addr, "--password", "nope"], &[]);
    assert_eq!(wrong.status.code(), Some(1));
}
