//! `blink-store cli`: an interactive client like `redis-cli`. With a command on the command
//! line it runs it once; on a terminal it prompts, with line editing and history; with
//! piped input it runs one command per line. Commands go over RESP, so every argument
//! arrives as it was given; typed lines are split into words as `redis-cli` splits them.
//! Values are shown decoded unless `--raw`.

mod words;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::Args;

use crate::flags::{TcpAddr, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TCP as DEFAULT_ADDR};
use blink_store::client::blocking::RespClient;
use blink_store::client::resp::Reply;
use blink_store::client::tls::TlsEndpoint;
use blink_store::client::{Endpoint, Error};

use crate::tls_client::{host_of, TlsClientArgs};

/// History entries kept between sessions.
const HISTORY_LEN: usize = 1000;

/// Flags of `blink-store cli`. `-h`, `-p`, `-s` and `-a` mean what they mean to
/// `redis-cli`, so `-h` is the host and help is `--help` alone.
#[derive(Debug, Clone, Args)]
pub struct CliArgs {
    /// TCP address of the server [default: $BLINK_TCP, or 127.0.0.1:8765]
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["unix", "host", "port"])]
    pub tcp: Option<String>,

    /// Server host name or address, as redis-cli takes it [default: 127.0.0.1]
    #[arg(short = 'h', long, value_name = "HOST", conflicts_with = "unix")]
    pub host: Option<String>,

    /// Server port, as redis-cli takes it [default: 8765]
    #[arg(short = 'p', long, value_name = "PORT", conflicts_with = "unix")]
    pub port: Option<u16>,

    /// Unix socket path of the server [default: $BLINK_UNIX when set]
    #[arg(short = 's', long, value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// The password to give first, when the server requires one.
    #[command(flatten)]
    pub password: crate::flags::PasswordArgs,

    /// Print values as the line protocol sends them: VALUE and base64, or NOT_FOUND
    #[arg(long)]
    pub raw: bool,

    /// How to speak TLS, if at all.
    #[command(flatten)]
    pub tls: TlsClientArgs,

    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,

    /// A command to run once, such as `GET user`, each argument sent as it is (quote
    /// one that holds spaces); without one, read commands
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

impl CliArgs {
    /// Where to connect: the flags, else `BLINK_TCP` or `BLINK_UNIX` (TCP first, as
    /// `healthcheck` chooses), else the default.
    pub fn endpoint(&self) -> Endpoint {
        if let Some(path) = &self.unix {
            return Endpoint::Unix(path.clone());
        }
        if let Some(addr) = &self.tcp {
            return Endpoint::Tcp(addr.clone());
        }
        if self.host.is_some() || self.port.is_some() {
            let host = self.host.as_deref().unwrap_or(DEFAULT_HOST);
            return Endpoint::Tcp(host_port(host, self.port.unwrap_or(DEFAULT_PORT)));
        }
        if let Some(addr) = std::env::var("BLINK_TCP").ok().filter(|a| !a.is_empty()) {
            return Endpoint::Tcp(addr);
        }
        if let Some(path) = std::env::var_os("BLINK_UNIX").filter(|p| !p.is_empty()) {
            return Endpoint::Unix(path.into());
        }
        Endpoint::Tcp(DEFAULT_ADDR.to_owned())
    }

    /// Where to connect, over TLS with `--tls`.
    ///
    /// # Errors
    /// If the TLS files cannot be read, or `--tls` is asked for over a Unix socket.
    pub fn secure_endpoint(&self) -> Result<Endpoint, String> {
        match self.endpoint() {
            Endpoint::Tcp(addr) => match self.tls.for_host(host_of(&addr))? {
                Some(tls) => Ok(Endpoint::Tls(TlsEndpoint {
                    addr,
                    server_name: tls.server_name,
                    config: tls.config,
                })),
                None => Ok(Endpoint::Tcp(addr)),
            },
            _ if self.tls.tls => Err("--tls is for TCP servers, not Unix sockets".into()),
            other => Ok(other),
        }
    }
}

/// `host:port`, with an IPv6 address in brackets (whether or not it came in them).
fn host_port(host: &str, port: u16) -> String {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    TcpAddr::new(host, port).to_string()
}

/// How a session ended: `Ok(true)` if every command was accepted, `Ok(false)` if the
/// server refused one (already reported on stderr).
pub type Outcome = Result<bool, Box<dyn std::error::Error>>;

/// Runs the client.
///
/// # Errors
/// The server is unreachable, or the connection or the terminal fails.
pub fn run(args: &CliArgs) -> Outcome {
    let mut client = RespClient::connect(args.secure_endpoint()?)?;
    if let Some(password) = args.password.read()? {
        match client.command(&[&b"AUTH"[..], &password])? {
            Reply::Status(ok) if ok == "OK" => {}
            Reply::Error(text) => {
                return Err(format!("authentication failed: {}", error_text(&text)).into())
            }
            other => return Err(format!("authentication failed: {other:?}").into()),
        }
    }
    if !args.command.is_empty() {
        let command: Vec<Vec<u8>> = args
            .command
            .iter()
            .map(|arg| arg.as_encoded_bytes().to_vec())
            .collect();
        let reply = client.command(&command)?;
        return show(&reply, args.raw, &mut std::io::stdout().lock());
    }
    if std::io::stdin().is_terminal() {
        interactive(&mut client, args.raw)
    } else {
        piped(&mut client, args.raw)
    }
}

/// Shows a reply on `out`; a refusal goes to stderr instead, and is `Ok(false)`.
fn show(reply: &Reply, raw: bool, out: &mut impl Write) -> Outcome {
    if let Reply::Error(text) = reply {
        eprintln!("(error) {}", error_text(text));
        return Ok(false);
    }
    let mut shown = Vec::new();
    render(reply, raw, 0, &mut shown);
    out.write_all(&shown)?;
    out.flush()?;
    Ok(true)
}

/// An error reply's text without the generic `ERR` code; a specific code such as
/// `NOAUTH` or `WRONGPASS` stays.
fn error_text(text: &str) -> &str {
    text.strip_prefix("ERR ").unwrap_or(text)
}

/// Appends `reply` as it is shown, ending in a line end: a value decoded (with `raw`, as
/// `VALUE` and its base64), a missing one as `(nil)` (with `raw`, `NOT_FOUND`), an integer
/// as `(integer) 3`, an array one numbered element per line, nested arrays indented under
/// their number, a map as `1# key => value` with a nested value's later lines under its
/// key. The first line goes where `out` ends; later ones are indented `indent`.
fn render(reply: &Reply, raw: bool, indent: usize, out: &mut Vec<u8>) {
    match reply {
        Reply::Status(text) => out.extend_from_slice(text.as_bytes()),
        Reply::Error(text) => {
            out.extend_from_slice(format!("(error) {}", error_text(text)).as_bytes())
        }
        Reply::Integer(n) => out.extend_from_slice(format!("(integer) {n}").as_bytes()),
        Reply::Bulk(value) if raw => {
            out.extend_from_slice(format!("VALUE {}", BASE64.encode(value)).as_bytes());
        }
        Reply::Bulk(value) => out.extend_from_slice(value),
        Reply::Nil if raw => out.extend_from_slice(b"NOT_FOUND"),
        Reply::Nil => out.extend_from_slice(b"(nil)"),
        Reply::Array(items) if items.is_empty() => out.extend_from_slice(b"(empty array)"),
        Reply::Map(pairs) if pairs.is_empty() => out.extend_from_slice(b"(empty map)"),
        Reply::Array(items) => {
            let width = items.len().to_string().len();
            for (i, item) in items.iter().enumerate() {
                let number = format!("{:>width$}) ", i + 1);
                indent_unless_first(i, indent, out);
                out.extend_from_slice(number.as_bytes());
                render(item, raw, indent + number.len(), out);
            }
            return;
        }
        Reply::Map(pairs) => {
            let width = pairs.len().to_string().len();
            for (i, (key, value)) in pairs.iter().enumerate() {
                let number = format!("{:>width$}# ", i + 1);
                indent_unless_first(i, indent, out);
                out.extend_from_slice(number.as_bytes());
                let mut key_shown = Vec::new();
                render(key, raw, indent + number.len(), &mut key_shown);
                out.extend_from_slice(key_shown.strip_suffix(b"\n").unwrap_or(&key_shown));
                out.extend_from_slice(b" => ");
                render(value, raw, indent + number.len(), out);
            }
            return;
        }
    }
    out.push(b'\n');
}

fn indent_unless_first(i: usize, indent: usize, out: &mut Vec<u8>) {
    if i > 0 {
        out.resize(out.len() + indent, b' ');
    }
}

/// What a line of input asks for.
enum Line {
    /// Nothing: a blank line.
    Blank,
    /// To leave.
    Quit,
    /// A command, its words.
    Command(Vec<Vec<u8>>),
}

/// Splits a typed line; `quit` or `exit` alone leave.
fn parse_line(line: &[u8]) -> Result<Line, words::WordsError> {
    let words = words::split(line)?;
    Ok(match words.as_slice() {
        [] => Line::Blank,
        [word] if word.eq_ignore_ascii_case(b"quit") || word.eq_ignore_ascii_case(b"exit") => {
            Line::Quit
        }
        _ => Line::Command(words),
    })
}

/// Commands from piped stdin, one per line; stops at the first failed connection, keeps
/// going after refused commands and lines that cannot be split, and reports at the end
/// whether any was refused.
fn piped(client: &mut RespClient, raw: bool) -> Outcome {
    let mut accepted = true;
    let stdout = std::io::stdout();
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        match parse_line(&line) {
            Ok(Line::Blank) => {}
            Ok(Line::Quit) => break,
            Ok(Line::Command(command)) => {
                let reply = client.command(&command)?;
                accepted &= show(&reply, raw, &mut stdout.lock())?;
            }
            Err(err) => {
                eprintln!("(error) {err}");
                accepted = false;
            }
        }
    }
    Ok(accepted)
}

/// The prompt loop on a terminal, with line editing and history.
fn interactive(client: &mut RespClient, raw: bool) -> Outcome {
    let config = rustyline::Config::builder()
        .max_history_size(HISTORY_LEN)?
        .auto_add_history(true)
        .build();
    let mut editor = rustyline::DefaultEditor::with_config(config)?;
    let history = history_path();
    if let Some(path) = &history {
        // A first session has no history file yet.
        let _ = editor.load_history(path);
    }
    let prompt = format!("blink {}> ", client.endpoint());
    loop {
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(err) => return Err(err.into()),
        };
        let command = match parse_line(line.as_bytes()) {
            Ok(Line::Blank) => continue,
            Ok(Line::Quit) => break,
            Ok(Line::Command(command)) => command,
            Err(err) => {
                eprintln!("(error) {err}");
                continue;
            }
        };
        match client.command(&command) {
            // A refusal was shown; the session goes on.
            Ok(reply) => {
                show(&reply, raw, &mut std::io::stdout().lock())?;
            }
            Err(err @ (Error::Connect { .. } | Error::Io(_) | Error::Closed)) => {
                eprintln!("{err}");
            }
            Err(err) => eprintln!("(error) {err}"),
        }
    }
    if let Some(path) = &history {
        if let Err(err) = editor.save_history(path) {
            eprintln!("could not save the history to {}: {err}", path.display());
        }
    }
    Ok(true)
}

/// `$BLINK_CLI_HISTORY`, or `~/.blink_store_history`; none without a home directory.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BLINK_CLI_HISTORY").filter(|p| !p.is_empty()) {
        return Some(path.into());
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".blink_store_history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(reply: &Reply, raw: bool) -> (String, bool) {
        let mut out = Vec::new();
        let ok = show(reply, raw, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), ok)
    }

    fn bulk(text: &str) -> Reply {
        Reply::Bulk(text.as_bytes().to_vec())
    }

    #[test]
    fn replies_are_shown_decoded_unless_raw() {
        let table: &[(Reply, &str, &str)] = &[
            (bulk("alice"), "alice\n", "VALUE YWxpY2U=\n"),
            (bulk("a\nb"), "a\nb\n", "VALUE YQpi\n"),
            (Reply::Nil, "(nil)\n", "NOT_FOUND\n"),
            (Reply::Status("OK".into()), "OK\n", "OK\n"),
            (Reply::Integer(-2), "(integer) -2\n", "(integer) -2\n"),
            (
                Reply::Array(Vec::new()),
                "(empty array)\n",
                "(empty array)\n",
            ),
            (
                Reply::Array(vec![bulk("a"), Reply::Nil]),
                "1) a\n2) (nil)\n",
                "1) VALUE YQ==\n2) NOT_FOUND\n",
            ),
        ];
        for (reply, decoded, raw) in table {
            assert_eq!(shown(reply, false), ((*decoded).into(), true), "{reply:?}");
            assert_eq!(shown(reply, true), ((*raw).into(), true), "{reply:?}");
        }
    }

    #[test]
    fn nested_arrays_and_maps_are_indented_under_their_number() {
        let items = (1..=10).map(Reply::Integer).collect::<Vec<_>>();
        let nested = Reply::Array(vec![
            bulk("k"),
            Reply::Array(vec![
                bulk("x"),
                Reply::Array(vec![Reply::Integer(1), bulk("y")]),
            ]),
            Reply::Array(items),
        ]);
        let expected = "1) k\n2) 1) x\n   2) 1) (integer) 1\n      2) y\n3)  1) (integer) 1\n    2) (integer) 2\n";
        assert!(
            shown(&nested, false).0.starts_with(expected),
            "{}",
            shown(&nested, false).0
        );
        let map = Reply::Map(vec![
            (bulk("proto"), Reply::Integer(2)),
            (bulk("modules"), Reply::Array(Vec::new())),
        ]);
        assert_eq!(
            shown(&map, false).0,
            "1# proto => (integer) 2\n2# modules => (empty array)\n"
        );
    }

    #[test]
    fn a_refusal_is_not_printed_on_stdout() {
        let refused = Reply::Error("ERR unknown command 'X'".into());
        assert_eq!(shown(&refused, false), (String::new(), false));
        assert_eq!(error_text("ERR syntax error"), "syntax error");
        assert_eq!(
            error_text("NOAUTH Authentication required."),
            "NOAUTH Authentication required."
        );
    }

    #[test]
    fn quit_and_exit_alone_leave() {
        assert!(matches!(parse_line(b" QUIT \r\n"), Ok(Line::Quit)));
        assert!(matches!(parse_line(b"exit"), Ok(Line::Quit)));
        assert!(matches!(parse_line(b"GET quit"), Ok(Line::Command(_))));
        assert!(matches!(parse_line(b"  "), Ok(Line::Blank)));
    }

    #[test]
    fn the_default_host_and_port_make_the_default_address() {
        assert_eq!(host_port(DEFAULT_HOST, DEFAULT_PORT), DEFAULT_ADDR);
        assert_eq!(host_port("::1", 6379), "[::1]:6379");
        assert_eq!(host_port("[::1]", 6379), "[::1]:6379");
        assert_eq!(host_port("cache.local", 1), "cache.local:1");
    }
}
