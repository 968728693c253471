//! Child processes: the server under test, other long-running programs whose output a
//! test reads, and commands run to their end with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::{binary, free_port, tool, try_wait_for, wait_for, Client, STEP_TIMEOUT};

/// `program` with nothing from the tests' own environment that configures Blink Store or
/// its clients: no `BLINK_*` variable and no `RUST_LOG`, so a developer's shell cannot
/// change what a test sees. Variables a test sets afterwards are kept.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env_remove("RUST_LOG");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BLINK_") {
            command.env_remove(name);
        }
    }
    command
}

/// The binary under test with `subcommand` (`serve`, `cli`, ...), in a clean
/// environment.
pub fn blink(subcommand: &str) -> Command {
    let mut command = clean_command(binary());
    command.arg(subcommand);
    command
}

/// Sends `signal` to the single process `pid`.
fn send_signal(pid: u32, signal: Signal) {
    let raw = i32::try_from(pid).unwrap();
    assert!(raw > 0, "refusing to signal pid {raw}");
    let pid = Pid::from_raw(raw).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

/// A running program whose output is read line by line into a log; killed on drop if
/// still running.
pub struct Process {
    child: Child,
    /// Whether it leads a process group of its own, killed with it.
    group: bool,
    /// Whether it has been waited for: then its process group id may be reused, and no
    /// longer names its group.
    reaped: bool,
    /// Read the output into `log` and `lines`; they finish when the process has exited.
    readers: Vec<JoinHandle<()>>,
    /// Every line it has written so far.
    log: Arc<Mutex<Vec<String>>>,
    /// The same lines as they arrive, for [`Process::wait_line`] (behind a lock so that
    /// threads can share a `&Process`).
    lines: Mutex<Receiver<String>>,
}

impl Process {
    /// Starts `command` (already holding its arguments) with no stdin and stdout, and
    /// its stderr collected.
    pub fn spawn(command: &mut Command) -> Process {
        Self::start(command.stdout(Stdio::null()), false)
    }

    /// Starts `command` as the leader of a process group of its own, so that what it
    /// starts goes with it, with both stdout and stderr collected: for a script that
    /// runs a service.
    pub fn spawn_group(command: &mut Command) -> Process {
        use std::os::unix::process::CommandExt;
        Self::start(command.stdout(Stdio::piped()).process_group(0), true)
    }

    fn start(command: &mut Command, group: bool) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        let readers = [stdout, stderr]
            .into_iter()
            .flatten()
            .map(|pipe| {
                let (log, lines_tx) = (log.clone(), lines_tx.clone());
                std::thread::spawn(move || {
                    for line in BufReader::new(pipe).lines() {
                        let Ok(line) = line else { break };
                        log.lock().unwrap().push(line.clone());
                        let _ = lines_tx.send(line);
                    }
                })
            })
            .collect();
        Process {
            child,
            group,
            reaped: false,
            readers,
            log,
            lines: Mutex::new(lines),
        }
    }

    /// Waits for the next line of output of which `parse` makes something, and returns
    /// that; fails the test, showing the log, if none comes within [`STEP_TIMEOUT`].
    pub fn wait_line<T>(&self, what: &str, mut parse: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let lines = self.lines.lock().unwrap();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no line saying {what}; the output:\n{}", self.log_text())
            });
            if let Some(found) = parse(&line) {
                return found;
            }
        }
    }

    /// Waits for the line in which a service says `listening on <address>:<port>` (the
    /// address may be a URL) and returns the port.
    pub fn wait_port(&self) -> u16 {
        self.wait_line("listening on <address>:<port>", |line| {
            let (_, rest) = line.split_once("listening on ")?;
            let address = rest.split([',', ' ']).next()?;
            address.rsplit(':').next()?.parse().ok()
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it a signal.
    pub fn signal(&self, signal: Signal) {
        send_signal(self.pid(), signal);
    }

    /// Waits for it to exit, failing the test after `timeout`; then `log` holds
    /// everything it wrote.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let exited = try_wait_for(timeout, || self.has_exited());
        assert!(
            exited.is_some(),
            "{} still running after {timeout:?}:\n{}",
            self.pid(),
            self.log_text()
        );
        self.reaped = true;
        let status = self.child.wait().unwrap();
        self.join_readers();
        status
    }

    /// Kills it (and its group, if it leads one), waits for it, and returns everything
    /// it wrote.
    pub fn stop(&mut self) -> String {
        self.kill();
        self.join_readers();
        self.log_text()
    }

    fn kill(&mut self) {
        if self.group && !self.reaped {
            // Not reaped yet, so the group id cannot have been reused.
            kill_group(&self.child);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
    }

    /// Waits until everything the process wrote is in `log`: its pipes reach EOF when
    /// it (and whatever it started that holds them) has exited.
    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
    }

    /// Whether it has exited (without reaping it).
    pub fn has_exited(&self) -> bool {
        self.reaped || has_exited(&self.child)
    }

    /// Every line of output so far, one string.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// How many lines it has written so far.
    pub fn log_len(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A running server; killed on drop if still running.
pub struct Server {
    /// The process and its log.
    pub process: Process,
    /// The bound TCP address, if it serves TCP.
    pub tcp: Option<SocketAddr>,
    /// The Unix socket path, if it serves one.
    pub unix: Option<PathBuf>,
    /// Holds the socket's directory alive.
    pub dir: tempfile::TempDir,
    /// The memcached listeners, if [`Server::start_memcache`] started them (boxed: most
    /// servers have none, and benches hold a `Server` by value in their enums).
    pub memcache: Option<Box<MemcacheListeners>>,
}

/// Where a server's memcached listeners are.
pub struct MemcacheListeners {
    /// The `--memcache` listener.
    pub tcp: SocketAddr,
    /// The `--memcache-unix` socket.
    pub unix: PathBuf,
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
        let mut command = clean_command(binary);
        command
            .args(["serve", "--tcp", "127.0.0.1:0", "--unix"])
            .arg(&sock)
            .args(extra);
        Self::spawn(&mut command, dir, true, true)
    }

    /// [`Server::start`] with memcached listeners too: `--memcache` on a free loopback
    /// port and `--memcache-unix` beside the Unix socket; returned once both answer
    /// `version`.
    pub fn start_memcache(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("blink.sock");
        let mc_sock = dir.path().join("memcache.sock");
        let mc_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut command = clean_command(binary());
        command
            .args(["serve", "--tcp", "127.0.0.1:0", "--unix"])
            .arg(&sock)
            .arg("--memcache")
            .arg(mc_addr.to_string())
            .arg("--memcache-unix")
            .arg(&mc_sock)
            .args(extra);
        let mut server = Self::spawn(&mut command, dir, true, true);
        wait_for("the memcached listeners to answer version", || {
            assert!(
                !server.process.has_exited(),
                "blink-store exited:\n{}",
                server.log_text()
            );
            tcp_answers(&mc_addr.to_string(), b"version\r\n", "VERSION ")
                && unix_answers(&mc_sock, b"version\r\n", "VERSION ")
        });
        server.memcache = Some(Box::new(MemcacheListeners {
            tcp: mc_addr,
            unix: mc_sock,
        }));
        server
    }

    /// A client of the memcached listener on the Unix socket if `unix`, else on TCP.
    pub fn memcache_client(&self, unix: bool) -> Client {
        let listeners = self.memcache.as_deref();
        let listeners = listeners.expect("server has no memcached listeners");
        if unix {
            Client::unix(&listeners.unix)
        } else {
            Client::tcp(listeners.tcp)
        }
    }

    /// Starts `command` (already holding its flags) and waits until it announces the
    /// listeners it was asked for.
    pub fn spawn(command: &mut Command, dir: tempfile::TempDir, tcp: bool, unix: bool) -> Server {
        let mut server = Server {
            process: Process::spawn(command.env_remove("RUST_LOG")),
            tcp: None,
            unix: None,
            dir,
            memcache: None,
        };
        while (tcp && server.tcp.is_none()) || (unix && server.unix.is_none()) {
            let (new_tcp, new_unix) = server.process.wait_line("where it listens", |line| {
                if line.contains("listening on tcp") {
                    Some((Some(field(line, "addr=").parse().unwrap()), None))
                } else if line.contains("listening on unix socket") {
                    Some((None, Some(PathBuf::from(field(line, "path=")))))
                } else {
                    None
                }
            });
            server.tcp = server.tcp.or(new_tcp);
            server.unix = server.unix.take().or(new_unix);
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

    /// A client over the Unix socket if `unix`, else over TCP.
    pub fn client(&self, unix: bool) -> Client {
        if unix {
            self.unix_client()
        } else {
            self.tcp_client()
        }
    }

    /// One fresh client over each transport the server listens on.
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

    /// The TCP address as text, for a command-line argument or an environment variable.
    pub fn tcp_arg(&self) -> String {
        self.tcp.expect("server has no TCP listener").to_string()
    }

    /// The Unix socket's path as text, for a command-line argument or an environment
    /// variable.
    pub fn unix_arg(&self) -> String {
        let path = self.unix.as_deref().expect("server has no Unix socket");
        path.to_str().unwrap().to_owned()
    }

    /// The process id, for signals and `/proc`.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends a signal to the server.
    pub fn signal(&self, signal: Signal) {
        self.process.signal(signal);
    }

    /// Waits for the process to exit, failing the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.process.wait_exit(timeout)
    }

    /// Everything logged so far, one string.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}

/// The value of `name` (such as `addr=`) in a log line, up to the next space.
pub fn field(line: &str, name: &str) -> String {
    let start = line
        .find(name)
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

/// Runs the binary to completion with `args` and extra environment, returning its
/// exit status, stdout and stderr.
pub fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let output = clean_command(binary())
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
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Kills a process group: a child started with `process_group(0)` and anything it
/// started. kill(2) on exactly that group: a `kill` program may read `-<pgid>` as a
/// signal number, and a group id that reads as -1 would signal every process.
fn kill_group(child: &Child) {
    use rustix::process::kill_process_group;
    let group = Pid::from_child(child);
    if group != Pid::INIT {
        let _ = kill_process_group(group, Signal::KILL);
    }
}

/// Whether the child has exited, leaving it to be reaped.
fn has_exited(child: &Child) -> bool {
    use rustix::process::{waitid, WaitId, WaitIdOptions};
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(
        waitid(WaitId::Pid(Pid::from_child(child)), options),
        Ok(Some(_))
    )
}

/// Runs `command` in a process group of its own to its end, or kills it (and what it
/// started) after `timeout` and fails the test.
pub fn run_with_deadline(command: &mut Command, timeout: Duration) -> Finished {
    run_fed_with_deadline(command, None, timeout)
}

/// [`run_with_deadline`] with `input` on its stdin (closed after it), or none.
pub fn run_fed_with_deadline(
    command: &mut Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Finished {
    use std::os::unix::process::CommandExt;
    let description = format!("{command:?}");
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {description}: {error}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        // A child that exits without reading it all only closes the pipe early.
        let _ = pipe.write_all(input);
    }
    let finished_in_time = try_wait_for(timeout, || has_exited(&child)).is_some();
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

/// The arguments of a `redis-server` on loopback at `port` that saves nothing, and `extra`.
fn redis_args(port: u16, extra: &[&str]) -> Vec<String> {
    let args = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"];
    let port = ["--port".to_owned(), port.to_string()];
    let args = args.iter().chain(extra).map(|arg| (*arg).to_owned());
    port.into_iter().chain(args).collect()
}

/// A Redis or memcached process on a free loopback port; killed on drop.
pub struct External {
    process: Process,
    port: u16,
}

impl External {
    /// Starts `program` (from the Debian `package`) with the arguments `args` gives for a
    /// free port, and waits until it answers `probe` (a request and the start of its
    /// reply).
    pub fn start(
        (program, package): (&str, &str),
        args: impl Fn(u16) -> Vec<String>,
        (request, answer): (&[u8], &str),
    ) -> External {
        let port = free_port();
        let process = Process::spawn(Command::new(tool(program, package)).args(args(port)));
        let external = External { process, port };
        wait_for(&format!("{program} to answer on port {port}"), || {
            assert!(
                !external.process.has_exited(),
                "{program} exited at start-up:\n{}",
                external.process.log_text()
            );
            external.answers(request, answer)
        });
        external
    }

    /// A `redis-server` on loopback that saves nothing.
    pub fn redis() -> External {
        Self::start(
            ("redis-server", "redis-server"),
            |port| redis_args(port, &[]),
            (b"PING\r\n", "+PONG"),
        )
    }

    /// [`External::redis`] with a password (`requirepass`) every client must give.
    pub fn redis_with_password(password: &str) -> External {
        let auth = format!("AUTH {password}\r\n");
        Self::start(
            ("redis-server", "redis-server"),
            |port| redis_args(port, &["--requirepass", password]),
            (auth.as_bytes(), "+OK"),
        )
    }

    /// A `memcached` on loopback with UDP off.
    pub fn memcached() -> External {
        Self::start(
            ("memcached", "memcached"),
            |port| memcached_args(&["-p", &port.to_string(), "-l", "127.0.0.1"]),
            (b"version\r\n", "VERSION"),
        )
    }

    /// Its `host:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn answers(&self, request: &[u8], answer: &str) -> bool {
        tcp_answers(&self.addr(), request, answer)
    }
}

/// The arguments of a `memcached` with UDP off, and `listen` (`-p`/`-l`, or `-s`).
fn memcached_args(listen: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-U", "0"]
        .iter()
        .chain(listen)
        .map(|arg| (*arg).to_owned())
        .collect();
    // memcached refuses to run as root unless told which user to be.
    if rustix::process::geteuid().is_root() {
        args.extend(["-u".to_owned(), "root".to_owned()]);
    }
    args
}

/// A `memcached` serving the Unix socket at `path` (memcached serves a Unix socket or
/// TCP, not both), returned once it answers there; killed on drop.
pub fn memcached_unix(path: &Path) -> Process {
    let path_arg = path.to_str().unwrap();
    let process = Process::spawn(
        Command::new(tool("memcached", "memcached")).args(memcached_args(&["-s", path_arg])),
    );
    wait_for(&format!("memcached to answer on {path_arg}"), || {
        assert!(
            !process.has_exited(),
            "memcached exited at start-up:\n{}",
            process.log_text()
        );
        unix_answers(path, b"version\r\n", "VERSION")
    });
    process
}

/// Whether a server listens at `addr` and answers `request` with a line that starts
/// with `answer` within [`STEP_TIMEOUT`].
pub fn tcp_answers(addr: &str, request: &[u8], answer: &str) -> bool {
    let Ok(stream) = TcpStream::connect(addr) else {
        return false;
    };
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    answers_on(stream, request, answer)
}

/// [`tcp_answers`] over the Unix socket at `path`.
pub fn unix_answers(path: &Path, request: &[u8], answer: &str) -> bool {
    let Ok(stream) = UnixStream::connect(path) else {
        return false;
    };
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    answers_on(stream, request, answer)
}

fn answers_on(mut stream: impl Read + Write, request: &[u8], answer: &str) -> bool {
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut line = String::new();
    let read = BufReader::new(stream).read_line(&mut line);
    read.is_ok() && line.starts_with(answer)
}
