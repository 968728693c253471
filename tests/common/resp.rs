//! A RESP2 client over the harness's [`Client`]: commands written as multibulks, one at
//! a time or queued into a pipeline, and replies parsed.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::net::SocketAddr;

use super::{resp_command, show, Client, External, Server};

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+...`
    Simple(String),
    /// `-...`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$n` and its bytes, or `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` and its elements, or `*-1`.
    Array(Option<Vec<Reply>>),
}

/// The `name:value` lines of an INFO reply.
pub fn info_fields(reply: &Reply) -> BTreeMap<String, String> {
    let text = match reply {
        Reply::Bulk(Some(bytes)) => String::from_utf8(bytes.clone()).unwrap(),
        Reply::Simple(text) => text.clone(),
        other => panic!("INFO did not answer with text: {other:?}"),
    };
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// A blocking RESP2 client.
pub struct Resp(
    /// The connection, for raw writes.
    pub Client,
);

impl Resp {
    /// Connects over TCP.
    pub fn connect(addr: SocketAddr) -> Resp {
        Resp(Client::tcp(addr))
    }

    /// Adds a command to the pipeline: it goes out, with everything queued before it,
    /// at the next read.
    pub fn queue(&mut self, args: &[&[u8]]) {
        self.0.queue(&[&resp_command(args)]);
    }

    /// Sends one command (after anything queued) and returns its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Reply {
        self.queue(args);
        self.read()
            .unwrap_or_else(|| panic!("connection closed instead of a reply"))
    }

    /// The next reply, or `None` if the peer closed the connection.
    pub fn read(&mut self) -> Option<Reply> {
        let mut line = Vec::new();
        match self.0.try_read_line(&mut line) {
            Ok(false) if line.is_empty() => return None,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return None,
            Err(error) => panic!("reading a reply: {error}"),
        }
        assert!(line.ends_with(b"\r\n"), "bad reply line {:?}", show(&line));
        let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        let length = || body.parse::<i64>().unwrap();
        Some(match line[0] {
            b'+' => Reply::Simple(body),
            b'-' => Reply::Error(body),
            b':' => Reply::Integer(length()),
            b'$' if length() < 0 => Reply::Bulk(None),
            b'$' => {
                let mut data = vec![0; usize::try_from(length()).unwrap() + 2];
                self.0.reader().read_exact(&mut data).unwrap();
                data.truncate(data.len() - 2);
                Reply::Bulk(Some(data))
            }
            b'*' if length() < 0 => Reply::Array(None),
            b'*' => Reply::Array(Some(
                (0..length())
                    .map(|_| self.read().expect("connection closed inside an array"))
                    .collect(),
            )),
            other => panic!("bad reply type byte {other:#x} in {body:?}"),
        })
    }
}

/// A real `redis-server` and a Blink Store server, each with a RESP client: the same
/// commands go to both.
pub struct SideBySide {
    /// Redis's client.
    pub theirs: Resp,
    /// Blink Store's client.
    pub ours: Resp,
    /// Redis, held so it lives as long as the clients.
    pub redis: External,
    /// Blink Store, held so it lives as long as the clients.
    pub blink: Server,
}

impl SideBySide {
    /// Both servers, Blink Store with its defaults.
    pub fn start() -> SideBySide {
        Self::start_with(&[])
    }

    /// Both, Blink Store started with `args`.
    pub fn start_with(args: &[&str]) -> SideBySide {
        let redis = External::redis();
        let blink = Server::start(args);
        SideBySide {
            theirs: Resp::connect(redis.addr().parse().unwrap()),
            ours: Resp::connect(blink.tcp.unwrap()),
            redis,
            blink,
        }
    }

    /// Sends `command` to both: Redis's reply, then Blink's.
    pub fn call(&mut self, command: &[&[u8]]) -> (Reply, Reply) {
        (self.theirs.call(command), self.ours.call(command))
    }

    /// Sends each command to both and asserts the replies are the same; TTLs may differ
    /// by a second, as the two servers' clocks are read apart.
    pub fn assert_same(&mut self, script: &[&[&[u8]]]) {
        for command in script {
            let (theirs, ours) = self.call(command);
            let shown: Vec<_> = command.iter().map(|arg| show(arg)).collect();
            match (&theirs, &ours) {
                (Reply::Integer(theirs), Reply::Integer(ours))
                    if command[0].eq_ignore_ascii_case(b"TTL") =>
                {
                    assert!(
                        (theirs - ours).abs() <= 1,
                        "{shown:?}: Redis {theirs}, Blink {ours}"
                    );
                }
                _ => assert_eq!(ours, theirs, "{shown:?}: Blink's reply, then Redis's"),
            }
        }
    }

    /// A new client of each: Redis's, then Blink's.
    pub fn connect(&self) -> (Resp, Resp) {
        (
            Resp::connect(self.redis.addr().parse().unwrap()),
            Resp::connect(self.blink.tcp.unwrap()),
        )
    }
}
