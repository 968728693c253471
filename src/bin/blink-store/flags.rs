//! Flags and parsers every subcommand shares: the default address, the password a client
//! gives, sizes like `64MiB`, durations like `500ms`, and TCP addresses. A leaf: it
//! imports none of the subcommands.

mod addr;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

pub use addr::TcpAddr;

/// The TCP address served when neither `--tcp` nor `--unix` is given.
pub const DEFAULT_TCP: &str = "127.0.0.1:8765";

/// The host of [`DEFAULT_TCP`]: loopback, so a server started without flags is reachable
/// from this machine only.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// The port of [`DEFAULT_TCP`].
pub const DEFAULT_PORT: u16 = 8765;

/// The password a client gives first (`healthcheck`, `cli`, `bench`), read as `serve`
/// reads its own: a flag or `BLINK_PASSWORD`, or a file's first line.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Password to give first (AUTH), when the server requires one
    #[arg(
        short = 'a',
        long,
        env = "BLINK_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Read the password from this file (its first line) instead
    #[arg(long, env = "BLINK_PASSWORD_FILE", value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}

impl PasswordArgs {
    /// The password, if one was given.
    ///
    /// # Errors
    /// If the file cannot be read, or the password is empty.
    pub fn read(&self) -> Result<Option<Vec<u8>>, String> {
        read_password(self.password.as_deref(), self.password_file.as_deref())
    }
}

/// A password given directly, or as the first line of a file; `None` if neither.
///
/// # Errors
/// If the file cannot be read, or the password is empty.
pub fn read_password(
    given: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<Option<Vec<u8>>, String> {
    let password = match (given, file) {
        (Some(password), _) => password.to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|err| format!("{}: {err}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        (None, None) => return Ok(None),
    };
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    Ok(Some(password.into_bytes()))
}

/// Parses a byte size: a plain number, or one with an SI (`k`, `M`, `G`: powers of 1000)
/// or IEC (`KiB`, `MiB`, `GiB`: powers of 1024) suffix. Zero is refused.
///
/// # Errors
/// A message saying what is wrong, for clap to print before exiting with code 2.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bytes = parse_size::parse_size(text.trim())
        .map_err(|err| format!("{err}; expected bytes or a size like 64MiB or 1G"))?;
    if bytes == 0 {
        return Err("must be greater than zero".into());
    }
    Ok(bytes)
}

/// A byte count as a size flag would take it, then exactly: `512MiB (536870912 bytes)`.
/// The largest IEC unit that divides it, else the largest SI one, else the largest IEC
/// unit below it to one decimal (`1.2KiB (1234 bytes)`).
pub fn show_size(bytes: u64) -> String {
    const IEC: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    const SI: [(u64, &str); 4] = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ];
    let exact = IEC
        .iter()
        .chain(&SI)
        .find(|&&(unit, _)| bytes >= unit && bytes % unit == 0)
        .map(|&(unit, suffix)| format!("{}{suffix}", bytes / unit));
    let near = || {
        IEC.iter()
            .find(|&&(unit, _)| bytes >= unit)
            .map(|&(unit, suffix)| format!("{:.1}{suffix}", bytes as f64 / unit as f64))
    };
    let short = exact.or_else(near).unwrap_or_else(|| format!("{bytes}B"));
    format!("{short} ({bytes} bytes)")
}

/// Parses a positive duration: a number with `ms`, `s`, `m` or `h`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 10s or 500ms"))?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown unit '{other}'; use ms, s, m or h")),
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err("must be greater than zero".into()),
    }
}
