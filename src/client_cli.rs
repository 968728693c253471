//! `blink-store cli`: an interactive client like `redis-cli`. With a command on the command
//! line it runs it once; on a terminal it prompts, with line editing and history; with
//! piped input it runs one command per line. Values are shown decoded unless `--raw`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::Args;

use crate::client::{blocking::Client, Endpoint, Error};

/// The address used when neither a flag nor the environment names one.
const DEFAULT_ADDR: &str = crate::cli::DEFAULT_TCP;

/// History entries kept between sessions.
const HISTORY_LEN: usize = 1000;

/// Flags of `blink-store cli`.
#[derive(Debug, Clone, Args)]
pub struct CliArgs {
    /// TCP address of the server [default: $BLINK_TCP, or 127.0.0.1:8765]
    #[arg(long, value_name = "ADDR", conflicts_with = "unix")]
    pub tcp: Option<String>,

    /// Unix socket path of the server [default: $BLINK_UNIX when set]
    #[arg(long, value_name = "PATH")]
    pub unix: Option<PathBuf>,

    /// The password to give first, when the server requires one.
    #[command(flatten)]
    pub password: crate::cli::PasswordArgs,

    /// Print replies exactly as the server sends them (values stay base64)
    #[arg(long)]
    pub raw: bool,

    /// A command to run once, such as `GET user`; without one, read commands
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
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
        if let Some(addr) = std::env::var("BLINK_TCP").ok().filter(|a| !a.is_empty()) {
            return Endpoint::Tcp(addr);
        }
        if let Some(path) = std::env::var_os("BLINK_UNIX").filter(|p| !p.is_empty()) {
            return Endpoint::Unix(path.into());
        }
        Endpoint::Tcp(DEFAULT_ADDR.to_owned())
    }
}

/// How a session ended: `Ok(true)` if every command was accepted, `Ok(false)` if the
/// server refused one (already reported on stderr).
pub type Outcome = Result<bool, Box<dyn std::error::Error>>;

/// Runs the client.
///
/// # Errors
/// The server is unreachable, or the connection or the terminal fails.
pub fn run(args: &CliArgs) -> Outcome {
    let mut client = Client::connect(args.endpoint())?;
    let password = args.password.read()?;
    if let Some(password) = password {
        let reply = client.request(&[&b"AUTH "[..], &password].concat())?;
        if reply != "OK" {
            return Err(format!("authentication failed: {reply}").into());
        }
    }
    if !args.command.is_empty() {
        let line = args.command.join(" ");
        let reply = client.request(line.as_bytes())?;
        return print_reply(&reply, args.raw, &mut std::io::stdout().lock());
    }
    if std::io::stdin().is_terminal() {
        interactive(&mut client, args.raw)
    } else {
        piped(&mut client, args.raw)
    }
}

/// Shows a reply: a value decoded (unless `raw`), `NOT_FOUND` as `(nil)`, anything else
/// as sent; an `ERROR` reply goes to stderr, and is `Ok(false)`.
fn print_reply(reply: &str, raw: bool, out: &mut impl Write) -> Outcome {
    if let Some(text) = reply.strip_prefix("ERROR ") {
        eprintln!("(error) {text}");
        return Ok(false);
    }
    match (raw, reply.strip_prefix("VALUE ")) {
        (false, Some(encoded)) => {
            let value = BASE64.decode(encoded)?;
            out.write_all(&value)?;
            out.write_all(b"\n")?;
        }
        (false, None) if reply == "NOT_FOUND" => writeln!(out, "(nil)")?,
        _ => writeln!(out, "{reply}")?,
    }
    out.flush()?;
    Ok(true)
}

/// Whether a line asks to leave.
fn is_quit(line: &str) -> bool {
    let word = line.trim();
    word.eq_ignore_ascii_case("quit") || word.eq_ignore_ascii_case("exit")
}

/// Commands from piped stdin, one per line; stops at the first failed connection, keeps
/// going after refused commands, and reports at the end whether any was refused.
fn piped(client: &mut Client, raw: bool) -> Outcome {
    let mut accepted = true;
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if is_quit(&line) {
            break;
        }
        let reply = client.request(line.as_bytes())?;
        accepted &= print_reply(&reply, raw, &mut stdout.lock())?;
    }
    Ok(accepted)
}

/// The prompt loop on a terminal, with line editing and history.
fn interactive(client: &mut Client, raw: bool) -> Outcome {
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
        if line.trim().is_empty() {
            continue;
        }
        if is_quit(&line) {
            break;
        }
        match client.request(line.as_bytes()) {
            // A refusal was shown; the session goes on.
            Ok(reply) => {
                print_reply(&reply, raw, &mut std::io::stdout().lock())?;
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

    fn shown(reply: &str, raw: bool) -> (String, bool) {
        let mut out = Vec::new();
        let ok = print_reply(reply, raw, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), ok)
    }

    #[test]
    fn replies_are_shown_decoded_unless_raw() {
        assert_eq!(shown("VALUE YWxpY2U=", false), ("alice\n".into(), true));
        assert_eq!(
            shown("VALUE YWxpY2U=", true),
            ("VALUE YWxpY2U=\n".into(), true)
        );
        assert_eq!(shown("NOT_FOUND", false), ("(nil)\n".into(), true));
        assert_eq!(shown("NOT_FOUND", true), ("NOT_FOUND\n".into(), true));
        assert_eq!(shown("USAGE 9", false), ("USAGE 9\n".into(), true));
        assert_eq!(
            shown("ERROR unknown command 'X'", false),
            (String::new(), false)
        );
    }

    #[test]
    fn quit_and_exit_leave() {
        assert!(is_quit(" QUIT "));
        assert!(is_quit("exit"));
        assert!(!is_quit("GET quit"));
    }
}
