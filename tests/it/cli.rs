//! `blink-store cli` against a real server: one-shot commands, `--raw`, refusals and their
//! exit status, piped commands, the Unix socket and the environment, an unreachable
//! server, and an interactive session on a pseudo-terminal with its history.

use crate::common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{binary, blink, free_port, Server};

/// Runs `blink-store cli` with `args` and `stdin`, and waits for it.
fn cli(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = blink("cli")
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn one_shot_commands_print_decoded_replies() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    let tcp = ["--tcp", addr.as_str()];
    let run = |args: &[&str]| cli(&[&tcp[..], args].concat(), &[], b"");
    let out = run(&["SET", "user", "alice", "and", "bob"]);
    assert_eq!(
        (text(&out.stdout), out.status.success()),
        ("OK\n".into(), true)
    );
    assert_eq!(text(&run(&["GET", "user"]).stdout), "alice and bob\n");
    assert_eq!(
        text(&run(&["--raw", "GET", "user"]).stdout),
        "VALUE YWxpY2UgYW5kIGJvYg==\n"
    );
    assert_eq!(text(&run(&["GET", "nobody"]).stdout), "(nil)\n");
    assert_eq!(text(&run(&["USAGE"]).stdout), "USAGE 17\n");
    let refused = run(&["FOO"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(text(&refused.stdout), "");
    assert_eq!(text(&refused.stderr), "(error) unknown command 'FOO'\n");
}

#[test]
fn piped_commands_run_one_per_line() {
    let server = Server::start(&[]);
    let sock = server.unix.clone().unwrap();
    let out = cli(
        &["--unix", sock.to_str().unwrap()],
        &[],
        b"SET a 1\nGET a\n\nBAD\nDELETE a\nGET a\nQUIT\nGET never\n",
    );
    assert_eq!(text(&out.stdout), "OK\n1\nOK\n(nil)\n");
    assert_eq!(text(&out.stderr), "(error) unknown command 'BAD'\n");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused command fails the run"
    );
}

#[test]
fn the_address_comes_from_the_environment_when_no_flag_gives_one() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    let out = cli(&["PING"], &[("BLINK_TCP", addr.as_str())], b"");
    assert_eq!(text(&out.stdout), "PONG\n");
    let sock = server.unix.clone().unwrap();
    let out = cli(&["PING"], &[("BLINK_UNIX", sock.to_str().unwrap())], b"");
    assert_eq!(text(&out.stdout), "PONG\n");
}

#[test]
fn an_unreachable_server_is_a_clear_message_and_status_1() {
    let addr = format!("127.0.0.1:{}", free_port());
    let out = cli(&["--tcp", addr.as_str(), "PING"], &[], b"");
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.starts_with(&format!(
            "blink-store: cannot connect to Blink Store at {addr}: "
        )),
        "{message}"
    );
}

/// Drives the interactive client on a pseudo-terminal with Python's `pty` module: types
/// commands, waits for each reply and prompt, quits, and prints what the terminal showed.
const PTY_DRIVER: &str = r#"
import os, pty, select, subprocess, sys, time
binary, addr = sys.argv[1], sys.argv[2]
master, slave = pty.openpty()
child = subprocess.Popen([binary, "cli", "--tcp", addr], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
seen = b""
def wait_for(text):
    global seen
    deadline = time.time() + 20
    while text.encode() not in seen:
        if time.time() > deadline:
            sys.exit("timed out waiting for %r; saw %r" % (text, seen))
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
prompt = "blink %s> " % addr
wait_for(prompt)
for command, reply in [("SET color blue", "OK"), ("GET color", "blue"), ("NOPE", "(error) unknown command 'NOPE'")]:
    seen = b""
    os.write(master, command.encode() + b"\r")
    wait_for(reply)
    wait_for(prompt)
os.write(master, b"QUIT\r")
sys.exit(child.wait(timeout=20))
"#;

#[test]
fn an_interactive_session_prompts_answers_and_keeps_history() {
    let server = Server::start(&[]);
    let addr = server.tcp_arg();
    let history = server.dir.path().join("history");
    let out = Command::new("python3")
        .args(["-c", PTY_DRIVER, binary(), addr.as_str()])
        .env("BLINK_CLI_HISTORY", &history)
        .output()
        .expect("python3 is needed to drive a pseudo-terminal");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let saved = std::fs::read_to_string(&history).unwrap();
    for command in ["SET color blue", "GET color", "NOPE", "QUIT"] {
        assert!(saved.contains(command), "{command} in history: {saved}");
    }
}

#[test]
fn a_password_is_given_before_the_command() {
    let server = Server::start(&["--requirepass", "pw"]);
    let addr = server.tcp_arg();
    let out = cli(
        &["--tcp", addr.as_str(), "-a", "pw", "SET", "k", "v"],
        &[],
        b"",
    );
    assert_eq!(text(&out.stdout), "OK\n");
    let out = cli(
        &["--tcp", addr.as_str(), "GET", "k"],
        &[("BLINK_PASSWORD", "pw")],
        b"",
    );
    assert_eq!(text(&out.stdout), "v\n");
    let refused = cli(&["--tcp", addr.as_str(), "GET", "k"], &[], b"");
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        text(&refused.stderr),
        "(error) NOAUTH Authentication required.\n"
    );
    let wrong = cli(
        &["--tcp", addr.as_str(), "-a", "nope", "GET", "k"],
        &[],
        b"",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("authentication failed"),
        "{wrong:?}"
    );
}
