//! Test harness: starts the real `blink-store` binary on a free TCP port and a Unix
//! socket in a temporary directory, waits until it says it listens, and speaks to it over
//! real sockets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any single step of a test may wait before it is a failure.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// A field of `/proc/<pid>/status` in KiB, such as `VmRSS` or `VmHWM` (the peak).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .parse()
        .unwrap()
}

/// The path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_blink-store")
}

/// A running server process; killed on drop if still running.
pub struct Server {
    child: Child,
    /// Collects stderr into `log`; finishes when the process has exited.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    /// The bound TCP address, if it serves TCP.
    pub tcp: Option<SocketAddr>,
    /// The Unix socket path, if it serves one.
    pub unix: Option<PathBuf>,
    /// Everything the server wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// Holds the socket's directory alive.
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server on `127.0.0.1:0` and a Unix socket, with extra flags.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_binary(binary(), extra)
    }

    /// [`Server::start`] with another build of the server, at `binary`.
    pub fn start_binary(binary: &str, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("blink.sock");
        let mut args = vec!["serve", "--tcp", "127.0.0.1:0", "--unix"];
        let sock_str = sock.to_str().unwrap().to_owned();
        args.push(&sock_str);
        args.extend_from_slice(extra);
        Self::spawn(Command::new(binary).args(&args), dir, true, true)
    }

    /// Starts `command` (already holding its flags) and waits until it announces the
    /// listeners it was asked for.
    pub fn spawn(command: &mut Command, dir: tempfile::TempDir, tcp: bool, unix: bool) -> Server {
        let mut child = command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        let stderr_reader = std::thread::spawn({
            let log = log.clone();
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lock().unwrap().push(line.clone());
                    let _ = lines_tx.send(line);
                }
            }
        });
        let mut server = Server {
            child,
            stderr_reader: Some(stderr_reader),
            tcp: None,
            unix: None,
            log,
            dir,
        };
        let deadline = Instant::now() + STEP_TIMEOUT;
        while (tcp && server.tcp.is_none()) || (unix && server.unix.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines_rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("server did not start: {:?}", server.log_text()));
            if line.contains("listening on tcp") {
                server.tcp = Some(field(&line, "addr=").parse().unwrap());
            } else if line.contains("listening on unix socket") {
                server.unix = Some(PathBuf::from(field(&line, "path=")));
            }
        }
        server
    }

    /// A client over TCP.
    pub fn tcp_client(&self) -> Client {
        Client::tcp(self.tcp.expect("server has no TCP listener"))
    }

    /// A client over the Unix socket.
    pub fn unix_client(&self) -> Client {
        Client::unix(self.unix.as_deref().expect("server has no Unix socket"))
    }

    /// One client over each transport the server listens on.
    pub fn clients(&self) -> Vec<(&'static str, Client)> {
        let mut clients = Vec::new();
        if self.tcp.is_some() {
            clients.push(("tcp", self.tcp_client()));
        }
        if self.unix.is_some() {
            clients.push(("unix", self.unix_client()));
        }
        clients
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal to the server.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit, failing the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Everything the process wrote is in `log` once its stderr reaches EOF.
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server still running after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything logged so far, one string.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `name` (such as `addr=`) in a log line, up to the next space.
fn field(line: &str, name: &str) -> String {
    let start = line
        .find(name)
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

/// Runs the binary to completion with `args` and extra environment, returning its
/// exit status, stdout and stderr.
pub fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let output = Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A byte stream over TCP or a Unix socket.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> Stream {
        match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone().unwrap()),
            Stream::Unix(s) => Stream::Unix(s.try_clone().unwrap()),
        }
    }

    /// Closes the sending half, so the server sees EOF.
    pub fn shutdown_write(&self) {
        match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write).unwrap(),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write).unwrap(),
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

/// A blocking line-protocol client for tests.
pub struct Client {
    /// Where requests are written.
    pub writer: Stream,
    /// Where replies are read, line by line.
    pub reader: BufReader<Stream>,
}

impl Client {
    /// Connects over TCP.
    pub fn tcp(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        Self::from_stream(Stream::Tcp(stream))
    }

    /// Connects over a Unix socket.
    pub fn unix(path: &Path) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        Self::from_stream(Stream::Unix(stream))
    }

    fn from_stream(stream: Stream) -> Client {
        Client {
            writer: stream.try_clone(),
            reader: BufReader::new(stream),
        }
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Reads one reply line, including its LF; empty at EOF.
    pub fn read_line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
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
        self.reader.read_to_end(&mut rest).unwrap();
        rest
    }

    /// Sends each request and asserts its exact reply.
    pub fn script(&mut self, steps: &[(&[u8], &str)]) {
        for (request, expected) in steps {
            let reply = self.request(request);
            assert_eq!(
                reply,
                *expected,
                "reply to {:?}",
                request.escape_ascii().to_string()
            );
        }
    }

    /// The server's `USAGE`, as a number.
    pub fn usage(&mut self) -> u64 {
        let reply = self.request(b"USAGE\n");
        reply
            .trim_end()
            .strip_prefix("USAGE ")
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// What a finished process printed.
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl Finished {
    /// Its status and output, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "({})\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    /// Fails the test, showing everything the process printed, unless it exited 0.
    pub fn assert_success(&self, what: &str) -> &Finished {
        assert!(self.status.success(), "{what} failed {}", self.describe());
        self
    }

    /// Fails the test unless stdout contains `part`.
    pub fn assert_stdout_has(&self, what: &str, part: &str) -> &Finished {
        assert!(
            self.stdout.contains(part),
            "{what}: no {part:?} in stdout {}",
            self.describe()
        );
        self
    }
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
pub fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Kills a process group: a child started with `process_group(0)` and anything it
/// started. kill(2) on exactly that group: a `kill` program may read `-<pgid>` as a
/// signal number, and a group id that reads as -1 would signal every process.
pub fn kill_group(child: &Child) {
    use rustix::process::{kill_process_group, Pid, Signal};
    let group = Pid::from_child(child);
    if group != Pid::INIT {
        let _ = kill_process_group(group, Signal::KILL);
    }
}

/// Whether the child has exited, leaving it to be reaped.
fn has_exited(child: &Child) -> bool {
    use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(
        waitid(WaitId::Pid(Pid::from_child(child)), options),
        Ok(Some(_))
    )
}

/// Runs `command` in a process group of its own to its end, or kills it (and what it
/// started) after `timeout` and fails the test.
pub fn run_with_deadline(command: &mut Command, timeout: Duration) -> Finished {
    use std::os::unix::process::CommandExt;
    let description = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {description}: {error}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let deadline = Instant::now() + timeout;
    let finished_in_time = loop {
        if has_exited(&child) {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The child is not reaped yet, so its process group id cannot have been reused:
    // end anything it left running, which would hold the pipes open.
    kill_group(&child);
    let _ = child.kill();
    let status = child.wait().unwrap();
    let stdout = String::from_utf8_lossy(&stdout.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(
        finished_in_time,
        "{description} still running after {timeout:?}: killed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    Finished {
        status,
        stdout,
        stderr,
    }
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

/// Reads exactly `expected.len()` bytes and compares them (shown escaped on failure).
pub fn expect(client: &mut Client, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    client.reader.read_exact(&mut got).unwrap();
    assert_eq!(
        got.escape_ascii().to_string(),
        expected.escape_ascii().to_string()
    );
}
