//! Clients over real sockets: raw streams with deadlines, a line-oriented client that
//! can pipeline, RESP request encoding, and exact comparisons of what comes back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;

use super::{show, try_wait_for, STEP_TIMEOUT};

/// A TCP connection to `addr` whose reads and writes give up after [`STEP_TIMEOUT`],
/// with Nagle off so each write leaves as the test wrote it.
pub fn tcp_stream(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, STEP_TIMEOUT)
        .unwrap_or_else(|error| panic!("cannot connect to {addr}: {error}"));
    stream.set_nodelay(true).unwrap();
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(STEP_TIMEOUT)).unwrap();
    stream
}

/// A Unix socket connection to `path`, with the same deadlines as [`tcp_stream`].
pub fn unix_stream(path: &Path) -> UnixStream {
    let stream = UnixStream::connect(path)
        .unwrap_or_else(|error| panic!("cannot connect to {}: {error}", path.display()));
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(STEP_TIMEOUT)).unwrap();
    stream
}

/// A byte stream over TCP or a Unix socket.
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix socket connection.
    Unix(UnixStream),
}

impl Stream {
    /// A second handle on the same connection, for writing from another thread.
    pub fn try_clone(&self) -> Stream {
        match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone().unwrap()),
            Stream::Unix(s) => Stream::Unix(s.try_clone().unwrap()),
        }
    }

    /// Closes the sending half, so the server sees EOF.
    pub fn shutdown_write(&self) {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write).unwrap(),
            Stream::Unix(s) => s.shutdown(Shutdown::Write).unwrap(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A blocking client over one connection (one file descriptor, so a test can hold a
/// thousand): writes go straight out, replies are read through a buffer.
pub struct Client {
    /// The connection, read through a buffer.
    conn: BufReader<Stream>,
    /// Requests added by [`Client::queue`], written in one go before the next read.
    queued: Vec<u8>,
}

impl Client {
    /// Connects over TCP.
    pub fn tcp(addr: SocketAddr) -> Client {
        Self::from_stream(Stream::Tcp(tcp_stream(addr)))
    }

    /// Connects over a Unix socket.
    pub fn unix(path: &Path) -> Client {
        Self::from_stream(Stream::Unix(unix_stream(path)))
    }

    /// A client over a connection made elsewhere.
    pub fn from_stream(stream: Stream) -> Client {
        Client {
            conn: BufReader::new(stream),
            queued: Vec::new(),
        }
    }

    /// A second handle on the connection, for writing from another thread.
    pub fn writer(&self) -> Stream {
        self.conn.get_ref().try_clone()
    }

    /// The buffered reading side, for replies that are not lines.
    pub fn reader(&mut self) -> &mut BufReader<Stream> {
        self.send_queued().unwrap();
        &mut self.conn
    }

    /// Writes raw bytes (after anything queued).
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes)
            .unwrap_or_else(|error| panic!("sending {:?}: {error}", show(bytes)));
    }

    /// Writes raw bytes (after anything queued); the error if the connection is gone.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.send_queued()?;
        self.conn.get_mut().write_all(bytes)
    }

    /// Adds `parts` to what is not sent yet: it goes out in one write with the next send
    /// or read, as a pipelining client sends its requests.
    pub fn queue(&mut self, parts: &[&[u8]]) {
        for part in parts {
            self.queued.extend_from_slice(part);
        }
    }

    fn send_queued(&mut self) -> std::io::Result<()> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let result = self.conn.get_mut().write_all(&self.queued);
        self.queued.clear();
        result
    }

    /// Closes the sending half, so the server sees EOF.
    pub fn shutdown_write(&mut self) {
        self.send_queued().unwrap();
        self.conn.get_ref().shutdown_write();
    }

    /// Reads the next reply line into `line` (emptied first), including its LF: true if
    /// a whole line came, false at EOF. At EOF or on an error, whatever arrived after
    /// the last LF is left in `line`.
    pub fn try_read_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<bool> {
        self.send_queued()?;
        line.clear();
        self.conn.read_until(b'\n', line)?;
        Ok(line.last() == Some(&b'\n'))
    }

    /// Reads one reply line, including its LF; empty at EOF.
    pub fn read_line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.try_read_line(&mut line).unwrap();
        line
    }

    /// Sends `request` and returns the reply line as text.
    pub fn request(&mut self, request: &[u8]) -> String {
        self.send(request);
        String::from_utf8(self.read_line()).unwrap()
    }

    /// Reads until the server closes the connection; returns what arrived.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        self.reader().read_to_end(&mut rest).unwrap();
        rest
    }

    /// Sends each request and asserts its exact reply.
    pub fn script(&mut self, steps: &[(&[u8], &str)]) {
        for (request, expected) in steps {
            let reply = self.request(request);
            assert_eq!(reply, *expected, "reply to {:?}", show(request));
        }
    }

    /// The server's `USAGE`, as a number.
    pub fn usage(&mut self) -> u64 {
        let reply = self.request(b"USAGE\n");
        reply
            .trim_end()
            .strip_prefix("USAGE ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bad USAGE reply {reply:?}"))
    }

    /// The line protocol's `INFO`, field by field.
    pub fn info(&mut self) -> Info {
        let reply = self.request(b"INFO\n");
        let fields = reply
            .trim_end()
            .strip_prefix("INFO ")
            .unwrap_or_else(|| panic!("bad INFO reply {reply:?}"));
        let fields = fields
            .split(' ')
            .map(|field| {
                let (name, value) = field
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad INFO field {field:?}"));
                let value = value
                    .parse()
                    .unwrap_or_else(|_| panic!("bad INFO value {field:?}"));
                (name.to_owned(), value)
            })
            .collect();
        Info(fields)
    }

    /// The server's open connections (`INFO`'s `connections=`, this one included).
    pub fn connections(&mut self) -> u64 {
        self.info()["connections"]
    }
}

/// The line protocol's `INFO` reply: each field's name and value, in the order the
/// server sent them; `info["keys"]` is one field's value.
pub struct Info(
    /// Each field's name and value.
    pub Vec<(String, u64)>,
);

impl Info {
    /// The fields' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }
}

impl std::ops::Index<&str> for Info {
    type Output = u64;

    fn index(&self, name: &str) -> &u64 {
        self.0
            .iter()
            .find_map(|(n, value)| (n == name).then_some(value))
            .unwrap_or_else(|| panic!("no {name} in INFO: {:?}", self.0))
    }
}

/// Polls `INFO` until the server counts `expected` open connections (the asking client
/// included); returns how long it took.
pub fn wait_connections(client: &mut Client, expected: u64) -> Duration {
    let mut open = 0;
    try_wait_for(STEP_TIMEOUT, || {
        open = client.connections();
        open == expected
    })
    .unwrap_or_else(|| {
        panic!("connections= stayed at {open} for {STEP_TIMEOUT:?}, expected {expected}")
    })
}

/// Polls `USAGE` until it is at most `bound` (the evictor works in the background);
/// returns the last value.
pub fn wait_usage_within(client: &mut Client, bound: u64) -> u64 {
    let mut usage = 0;
    try_wait_for(STEP_TIMEOUT, || {
        usage = client.usage();
        usage <= bound
    })
    .unwrap_or_else(|| panic!("USAGE stayed at {usage}, over {bound}, for {STEP_TIMEOUT:?}"));
    usage
}

/// What a line-protocol `GET` reply says: the value a `VALUE <base64>` line carries, or
/// `None` for `NOT_FOUND`. Anything else fails the test.
pub fn decode_get(reply: &str) -> Option<Vec<u8>> {
    if reply == "NOT_FOUND\n" {
        return None;
    }
    let encoded = reply
        .strip_prefix("VALUE ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("not a reply to GET: {reply:?}"));
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_else(|error| panic!("{reply:?}: {error}")),
    )
}

/// The bytes of key and value of every one of `keys` that `GET` still finds: what
/// `USAGE` must say once the store is quiet. One GET at a time: the server counts the
/// memory its connections' buffers hold against the limit, so a pipeline's waiting
/// replies could make it evict while the keys are being counted.
pub fn live_bytes(client: &mut Client, keys: &[String]) -> u64 {
    keys.iter()
        .map(|key| {
            let reply = client.request(format!("GET {key}\n").as_bytes());
            decode_get(&reply).map_or(0, |value| (key.len() + value.len()) as u64)
        })
        .sum()
}

/// `USAGE` and the bytes of `keys` still found, read together at a moment when `USAGE`
/// did not change around the GETs: after the writers stop, the evictor may still be
/// trimming, and an entry it removes mid-reading would be counted by one side only.
pub fn settled_usage_and_live(client: &mut Client, keys: &[String]) -> (u64, u64) {
    let mut reading = (0, 0);
    try_wait_for(STEP_TIMEOUT, || {
        let before = client.usage();
        let live = live_bytes(client, keys);
        reading = (client.usage(), live);
        reading.0 == before
    })
    .unwrap_or_else(|| panic!("USAGE kept changing for {STEP_TIMEOUT:?}: {reading:?}"));
    reading
}

/// A RESP multibulk command.
pub fn resp_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads exactly `expected`, failing as soon as a byte differs (rather than waiting for
/// bytes that will never come) and showing what did arrive.
pub fn expect(client: &mut Client, expected: &[u8]) {
    let reader = client.reader();
    let mut got = Vec::with_capacity(expected.len());
    let mut buf = vec![0; expected.len().clamp(1, 64 * 1024)];
    while got.len() < expected.len() {
        let want = (expected.len() - got.len()).min(buf.len());
        let last = |got: &[u8]| show(&got[got.len().saturating_sub(200)..]);
        let read = reader.read(&mut buf[..want]).unwrap_or_else(|err| {
            panic!(
                "got {} of {} bytes, then {err}; the last: {:?}",
                got.len(),
                expected.len(),
                last(&got)
            )
        });
        assert!(
            read > 0,
            "got {} of {} bytes, then EOF; the last: {:?}",
            got.len(),
            expected.len(),
            last(&got)
        );
        got.extend_from_slice(&buf[..read]);
        if !expected.starts_with(&got) {
            let at = got.iter().zip(expected).take_while(|(a, b)| a == b).count();
            let from = at.saturating_sub(100);
            panic!(
                "replies differ at byte {at}: got {:?}, expected {:?}",
                show(&got[from..got.len().min(at + 200)]),
                show(&expected[from..expected.len().min(at + 200)])
            );
        }
    }
}

/// Writes `input` from a second thread, so a long pipeline cannot stall on full socket
/// buffers, while reading exactly `expected`.
pub fn exchange(client: &mut Client, input: &[u8], expected: &[u8]) {
    let mut writer = client.writer();
    std::thread::scope(|scope| {
        let sender = scope.spawn(move || writer.write_all(input));
        expect(client, expected);
        sender.join().unwrap().expect("writing the request");
    });
}

/// Reads until the server closes: exactly `expected`, then EOF. A reset fails the test.
pub fn expect_close(client: &mut Client, expected: &[u8]) {
    let mut rest = Vec::new();
    client
        .reader()
        .read_to_end(&mut rest)
        .unwrap_or_else(|err| panic!("no clean close after {:?}: {err}", show(&rest)));
    assert_eq!(show(&rest), show(expected), "before EOF");
}
