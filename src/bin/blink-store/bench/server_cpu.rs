//! The server's CPU time as it counts it, read over a side connection just before and
//! just after the timed run: RESP's `INFO cpu` (`used_cpu_user`, `used_cpu_sys`) for
//! line-protocol and RESP servers, since Blink Store's detecting port and Redis both
//! answer RESP; memcached's `stats` (`rusage_user`, `rusage_system`) for its protocol.
//! A server that answers neither, such as the echo server, has no figure, and the run
//! goes on without one.

use std::time::Duration;

use super::config::{BenchConfig, Protocol};
use super::conn::Conn;
use super::wire::{first_line, Wire};
use super::workload::Values;

/// How long the side connection waits to connect and for each answer. The server is idle
/// when asked, before and after the timed run; one that has not answered by then does
/// not answer this question, and the run should not wait on it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);

/// RESP's `INFO cpu`.
const INFO_CPU: &[u8] = b"*2\r\n$4\r\nINFO\r\n$3\r\ncpu\r\n";

/// memcached's `stats`.
const STATS: &[u8] = b"stats\r\n";

/// The longest `INFO cpu` answer waited for; Redis's is about 300 bytes, so a longer
/// length is not an answer to this question.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// CPU time a server has used, as it counts it: in user space, and in the kernel on its
/// behalf (system calls, and the network stack they run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// Time in user space.
    pub user: Duration,
    /// Time in the kernel.
    pub system: Duration,
}

impl CpuTime {
    /// User plus system time.
    pub fn total(self) -> Duration {
        self.user + self.system
    }

    /// The time used since `earlier`, each part at least zero (a counter that went back
    /// adds nothing).
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Which question gives the server's CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    /// RESP's `INFO cpu`, answered with a bulk string of `name:value` lines.
    InfoCpu,
    /// memcached's `stats`, answered with `STAT name value` lines and `END`.
    Stats,
}

impl Question {
    /// The question for a server spoken to in `protocol`; none for the echo server.
    fn for_protocol(protocol: Protocol) -> Option<Self> {
        match protocol {
            Protocol::Line | Protocol::Resp => Some(Question::InfoCpu),
            Protocol::Memcache => Some(Question::Stats),
            Protocol::Echo => None,
        }
    }

    /// The protocol the side connection speaks, and gives the password in.
    fn protocol(self) -> Protocol {
        match self {
            Question::InfoCpu => Protocol::Resp,
            Question::Stats => Protocol::Memcache,
        }
    }

    /// The bytes that ask it.
    fn request(self) -> &'static [u8] {
        match self {
            Question::InfoCpu => INFO_CPU,
            Question::Stats => STATS,
        }
    }

    /// The length of the whole answer at the start of `buf`, once it has all arrived.
    /// An answer of another shape ends with its first line.
    fn framed(self, buf: &[u8]) -> Option<usize> {
        match self {
            Question::InfoCpu => {
                let (line, header_len) = first_line(buf)?;
                let Some(len) = line.strip_prefix(b"$") else {
                    return Some(header_len);
                };
                let len = std::str::from_utf8(len).ok().and_then(|n| n.parse().ok());
                // A negative or unreadable length is a bulk string of nothing.
                let Some(len) = len.filter(|&len: &usize| len <= MAX_ANSWER_BYTES) else {
                    return Some(header_len);
                };
                let whole = header_len + len + 2;
                (buf.len() >= whole).then_some(whole)
            }
            Question::Stats => {
                let mut start = 0;
                loop {
                    let (line, len) = first_line(&buf[start..])?;
                    start += len;
                    if !line.starts_with(b"STAT ") {
                        return Some(start);
                    }
                }
            }
        }
    }

    /// The user and system CPU time in a whole answer, if it gives both.
    fn cpu_time(self, answer: &[u8]) -> Option<CpuTime> {
        let text = std::str::from_utf8(answer).ok()?;
        let (lines, user, system) = match self {
            Question::InfoCpu => (text.strip_prefix('$')?, "used_cpu_user", "used_cpu_sys"),
            Question::Stats => (text, "rusage_user", "rusage_system"),
        };
        let (mut user_time, mut system_time) = (None, None);
        for line in lines.lines() {
            let line = line.trim_end_matches('\r');
            let field = match self {
                Question::InfoCpu => line.split_once(':'),
                Question::Stats => line.strip_prefix("STAT ").and_then(|f| f.split_once(' ')),
            };
            match field {
                Some((name, value)) if name == user => user_time = parse_seconds(value),
                Some((name, value)) if name == system => system_time = parse_seconds(value),
                _ => {}
            }
        }
        Some(CpuTime {
            user: user_time?,
            system: system_time?,
        })
    }
}

/// Seconds written as the servers write them, `12.345678`, read exactly (nanoseconds at
/// most); `None` for anything else.
fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse().ok()?;
    Some(Duration::new(whole.parse().ok()?, nanos))
}

/// The side connection that asks the server for its CPU time; it gives up for good at the
/// first answer that says nothing of it.
pub struct CpuProbe {
    /// The connection and its question, while the server answers it.
    asking: Option<(Conn, Question)>,
}

impl CpuProbe {
    /// Connects to the server `config` drives, with its password if it has one. Never
    /// fails: a server that cannot be asked makes a probe that reads nothing.
    pub async fn connect(config: &BenchConfig) -> Self {
        let Some(question) = Question::for_protocol(config.protocol) else {
            return Self { asking: None };
        };
        let wire = Wire::new(question.protocol(), Values::new(config.value_size));
        let password = config.password.as_deref();
        let conn = Conn::connect(&config.target, wire, ANSWER_TIMEOUT, password).await;
        Self {
            asking: conn.ok().map(|conn| (conn, question)),
        }
    }

    /// The server's user and system CPU time so far, if it says.
    pub async fn read(&mut self) -> Option<CpuTime> {
        let (conn, question) = self.asking.as_mut()?;
        let question = *question;
        let answer = conn
            .ask(question.request(), |buf| question.framed(buf))
            .await;
        let time = answer.ok().and_then(|answer| question.cpu_time(&answer));
        if time.is_none() {
            self.asking = None;
        }
        time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_read_exactly() {
        let table = [
            ("0.123456", Some(Duration::from_micros(123_456))),
            ("12.5", Some(Duration::from_millis(12_500))),
            ("3", Some(Duration::from_secs(3))),
            ("1.000000001", Some(Duration::new(1, 1))),
            ("1.", Some(Duration::from_secs(1))),
            ("1.0000000001", None),
            (".5", None),
            ("-1.5", None),
            ("1e3", None),
            ("", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_seconds(text), expected, "{text:?}");
        }
    }

    /// A whole answer as `question` frames it, and the CPU time it gives.
    fn answered(question: Question, answer: &[u8]) -> Option<CpuTime> {
        assert_eq!(question.framed(answer), Some(answer.len()), "{answer:?}");
        for cut in 0..answer.len() {
            assert_eq!(question.framed(&answer[..cut]), None, "framed at {cut}");
        }
        question.cpu_time(answer)
    }

    #[test]
    fn info_cpu_as_redis_and_blink_store_answer_it() {
        let text = "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\n\
                    used_cpu_sys_children:9.000000\r\nused_cpu_user_children:9.000000\r\n\
                    used_cpu_sys_main_thread:9.000000\r\nused_cpu_user_main_thread:9.000000\r\n\r\n";
        let answer = format!("${}\r\n{text}\r\n", text.len());
        assert_eq!(
            answered(Question::InfoCpu, answer.as_bytes()),
            Some(CpuTime {
                user: Duration::from_millis(250),
                system: Duration::from_millis(1500),
            })
        );
        let empty = "# CPU\r\n\r\n";
        let answer = format!("${}\r\n{empty}\r\n", empty.len());
        assert_eq!(answered(Question::InfoCpu, answer.as_bytes()), None);
        // Not a bulk string: an error, or the echo server's copy of the question.
        for answer in [
            &b"-ERR unknown command 'INFO'\r\n"[..],
            b"*2\r\n",
            b"$-1\r\n",
        ] {
            assert_eq!(Question::InfoCpu.framed(answer), Some(answer.len()));
            assert_eq!(Question::InfoCpu.cpu_time(answer), None);
        }
    }

    #[test]
    fn stats_as_memcached_and_blink_store_answer_them() {
        let answer = b"STAT pid 7\r\nSTAT uptime 10\r\nSTAT rusage_user 0.123456\r\n\
                       STAT rusage_system 2.000001\r\nSTAT curr_connections 2\r\nEND\r\n";
        assert_eq!(
            answered(Question::Stats, answer),
            Some(CpuTime {
                user: Duration::from_micros(123_456),
                system: Duration::from_micros(2_000_001),
            })
        );
        assert_eq!(
            answered(Question::Stats, b"STAT rusage_user 1.0\r\nEND\r\n"),
            None
        );
        for answer in [&b"ERROR\r\n"[..], b"stats\r\n"] {
            assert_eq!(answered(Question::Stats, answer), None);
        }
    }

    #[test]
    fn time_since_an_earlier_reading_never_goes_below_zero() {
        let at = |user, system| CpuTime {
            user: Duration::from_millis(user),
            system: Duration::from_millis(system),
        };
        assert_eq!(at(30, 50).since(at(10, 20)), at(20, 30));
        assert_eq!(
            at(30, 50).since(at(10, 20)).total(),
            Duration::from_millis(50)
        );
        // A server restarted between the two readings starts its counters again.
        assert_eq!(at(5, 50).since(at(10, 20)), at(0, 30));
    }

    #[test]
    fn each_protocol_asks_its_own_question() {
        assert_eq!(
            Question::for_protocol(Protocol::Line),
            Some(Question::InfoCpu)
        );
        assert_eq!(
            Question::for_protocol(Protocol::Resp),
            Some(Question::InfoCpu)
        );
        assert_eq!(
            Question::for_protocol(Protocol::Memcache),
            Some(Question::Stats)
        );
        assert_eq!(Question::for_protocol(Protocol::Echo), None);
    }
}
