//! `blink-store cli` against a real server: one-shot commands, `--raw`, refusals and their
//! exit status, arguments that arrive intact (spaces, line ends, empty), piped commands,
//! redis-cli's `-h`/`-p`/`-s`, the Unix socket and the environment, an unreachable server,
//! and an interactive session on a pseudo-terminal with its history.

use crate::common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{binary, blink, expect, free_port, resp_command, Server};

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
    let out = run(&["SET", "user", "alice and bob"]);
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
    assert_eq!(
        text(&run(&["--raw", "GET", "nobody"]).stdout),
        "NOT_FOUND\n"
    );
    assert_eq!(text(&run(&["USAGE"]).stdout), "(integer) 17\n");
    assert_eq!(
        text(&run(&["MGET", "user", "nobody"]).stdout),
        "1) alice and bob\n2) (nil)\n"
    );
    let refused = run(&["FOO"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(text(&refused.stdout), "");
    assert_eq!(
        text(&refused.stderr),
        "(error) unknown command 'FOO', with args beginning with: \n"
    );
}

#[test]
fn every_argument_arrives_intact_and_words_are_never_joined() {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap().to_string();
    let tcp = ["--tcp", addr.as_str()];
    let run = |args: &[&str]| cli(&[&tcp[..], args].concat(), &[], b"");
    for (key, value) in [
        ("key with space", "line one\nline two"),
        ("empty value", ""),
        ("-dash", "--raw"),
    ] {
        let out = run(&["SET", key, value]);
        assert_eq!(text(&out.stdout), "OK\n", "SET {key:?}: {out:?}");
        assert_eq!(text(&run(&["GET", key]).stdout), format!("{value}\n"));
    }
    // Read back by another client, the words exactly as given: nothing was split or joined.
    let mut raw = server.tcp_client();
    raw.send(&resp_command(&[b"GET", b"key with space"]));
    expect(&mut raw, b"$17\r\nline one\nline two\r\n");
    raw.send(&resp_command(&[b"GET", b"empty value"]));
    expect(&mut raw, b"$0\r\n\r\n");
    raw.send(&resp_command(&[b"EXISTS", b"key", b"key with", b"-dash"]));
    expect(&mut raw, b":1\r\n");
    // Several words are several arguments, as redis-cli sends them.
    let out = run(&["SET", "user", "alice", "and", "bob"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "(error) syntax error\n");
    let mut line = server.unix_client();
    line.script(&[(b"GET user\n", "NOT_FOUND\n")]);
}

#[test]
fn piped_lines_are_split_like_redis_cli_with_quotes_and_escapes() {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap().to_string();
    let out = cli(
        &["--tcp", addr.as_str()],
        &[],
        b"SET \"a key\" \"two\\nlines\"\r\nSET 'it''s' x\nSET plain 'single \\'quoted\\''\nGET plain\nSET \"open\n",
    );
    assert_eq!(text(&out.stdout), "OK\nOK\nsingle 'quoted'\n");
    assert_eq!(
        text(&out.stderr),
        "(error) a closing quote must be followed by a space or the end of the line\n\
         (error) unbalanced quotes\n"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a line that cannot be split fails the run"
    );
    let mut raw = server.tcp_client();
    raw.send(&resp_command(&[b"GET", b"a key"]));
    expect(&mut raw, b"$9\r\ntwo\nlines\r\n");
}

#[test]
fn piped_commands_run_one_per_line() {
    let server = Server::start(&[]);
    let sock = server.unix.clone().unwrap();
    let out = cli(
        &["--unix", sock.to_str().unwrap()],
        &[],
        b"SET a 1\nGET a\n\nBAD\nDEL a\nGET a\nQUIT\nGET never\n",
    );
    assert_eq!(text(&out.stdout), "OK\n1\n(integer) 1\n(nil)\n");
    assert_eq!(
        text(&out.stderr),
        "(error) unknown command 'BAD', with args beginning with: \n"
    );
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
fn redis_cli_flags_name_the_server() {
    let server = Server::start(&[]);
    let port = server.tcp.unwrap().port().to_string();
    let sock = server.unix.clone().unwrap();
    for args in [
        &["-p", port.as_str(), "PING"][..],
        &["-h", "127.0.0.1", "-p", port.as_str(), "PING"],
        &["--host", "localhost", "--port", port.as_str(), "PING"],
        &["-s", sock.to_str().unwrap(), "PING"],
    ] {
        let out = cli(args, &[], b"");
        assert_eq!(text(&out.stdout), "PONG\n", "{args:?}: {out:?}");
    }
    let out = cli(&["--help"], &[], b"");
    let help = text(&out.stdout);
    for flag in [
        "-h, --host <HOST>",
        "-p, --port <PORT>",
        "-s, --unix <PATH>",
        "-a, --password",
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}

#[test]
fn an_unknown_dash_is_refused_with_a_hint_and_nothing_is_sent() {
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap().to_string();
    let out = cli(
        &["--tcp", addr.as_str(), "-n", "1", "SET", "k", "v"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out.stderr);
    assert!(message.contains("unexpected argument '-n'"), "{message}");
    assert!(message.contains("'-- -n'"), "the hint: {message}");
    let mut client = server.tcp_client();
    client.script(&[(b"GET k\n", "NOT_FOUND\n")]);
    let conflicting = cli(&["--tcp", addr.as_str(), "-p", "1", "PING"], &[], b"");
    assert_eq!(conflicting.status.code(), Some(2), "{conflicting:?}");
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
for command, reply in [("SET color blue", "OK"), ("GET color", "blue"), ('SET "a b" "c d"', "OK"), ('GET "a b"', "c d"), ("NOPE", "(error) unknown command 'NOPE'")]:
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
    for command in ["SET color blue", "GET color", "GET \"a b\"", "NOPE", "QUIT"] {
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
