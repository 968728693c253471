//! Real memcached tools and clients against Blink Store's memcached listeners: the
//! ASCII tests of memccapable (libmemcached), the acceptance scripts in tests/clients/
//! for pymemcache and python-memcached (over TCP and the Unix socket) and for the
//! `memcached` npm client, and twemproxy in memcache mode sharding keys over three
//! servers.
//!
//! Every scenario also runs against a real `memcached`, which shows that what it
//! expects is what memcached does. .ci/test installs every tool these tests drive; a
//! missing one fails its test with a message that says so: nothing is skipped.

use crate::common;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{
    free_port, memcached_unix, pyenv_python, root, run_with_deadline, show, tcp_answers, tool,
    unix_answers, wait_for, Client, External, Process, Server, STEP_TIMEOUT,
};

/// How long one client script or tool run may take; each takes a few seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Blink Store's flags besides its memcached listeners (`--memcache ADDR` and
/// `--memcache-unix PATH`).
const BLINK_FLAGS: &[&str] = &["--memory-limit", "64MiB"];

/// Where a scenario connects: Blink Store's memcached listeners, or real memcached
/// processes that show the scenario expects what memcached does. Each stops when
/// dropped.
enum Target {
    Blink {
        /// The server, which also serves its line and RESP listeners.
        _server: Server,
        /// Its `--memcache` listener.
        tcp: SocketAddr,
        /// Its `--memcache-unix` socket.
        unix: PathBuf,
        /// Holds the socket's directory alive.
        _dir: tempfile::TempDir,
    },
    Memcached {
        /// memcached on TCP.
        tcp: External,
        /// A second memcached on the Unix socket: memcached serves one or the other.
        _unix_process: Process,
        /// Its socket.
        unix: PathBuf,
        /// Holds the socket's directory alive.
        _dir: tempfile::TempDir,
    },
}

impl Target {
    /// Blink Store with a memcached listener on a free loopback port and one on a Unix
    /// socket, returned once both answer `version`.
    fn blink() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let unix = dir.path().join("memcache.sock");
        let tcp = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let (tcp_arg, unix_arg) = (tcp.to_string(), unix.to_str().unwrap().to_owned());
        let mut flags = vec!["--memcache", &tcp_arg, "--memcache-unix", &unix_arg];
        flags.extend(BLINK_FLAGS);
        let server = Server::start(&flags);
        wait_for(
            "Blink Store's memcached listeners to answer version",
            || {
                assert!(
                    !server.process.has_exited(),
                    "blink-store exited:\n{}",
                    server.log_text()
                );
                tcp_answers(&tcp_arg, b"version\r\n", "VERSION ")
                    && unix_answers(&unix, b"version\r\n", "VERSION ")
            },
        );
        Target::Blink {
            _server: server,
            tcp,
            unix,
            _dir: dir,
        }
    }

    /// A memcached on a free loopback port and another on a Unix socket.
    fn memcached() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let unix = dir.path().join("memcached.sock");
        Target::Memcached {
            tcp: External::memcached(),
            _unix_process: memcached_unix(&unix),
            unix,
            _dir: dir,
        }
    }

    fn tcp(&self) -> SocketAddr {
        match self {
            Target::Blink { tcp, .. } => *tcp,
            Target::Memcached { tcp, .. } => tcp.addr().parse().unwrap(),
        }
    }

    fn unix(&self) -> &PathBuf {
        match self {
            Target::Blink { unix, .. } | Target::Memcached { unix, .. } => unix,
        }
    }

    fn host_and_port(&self) -> (String, String) {
        let addr = self.tcp();
        (addr.ip().to_string(), addr.port().to_string())
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Blink { .. } => "Blink Store",
            Target::Memcached { .. } => "memcached",
        }
    }
}

/// memccapable's ASCII tests (libmemcached 1.0), by the names it prints.
const MEMCCAPABLE_ASCII_TESTS: &[&str] = &[
    "version",
    "quit",
    "verbosity",
    "set",
    "set noreply",
    "get",
    "gets",
    "mget",
    "flush",
    "flush noreply",
    "add",
    "add noreply",
    "replace",
    "replace noreply",
    "cas",
    "cas noreply",
    "delete",
    "delete noreply",
    "incr",
    "incr noreply",
    "decr",
    "decr noreply",
    "append",
    "append noreply",
    "prepend",
    "prepend noreply",
    "stat",
];

/// Each `ascii <test>   [<result>]` line of memccapable's output: test name to result.
fn memccapable_results(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| {
            let (name, result) = line.strip_prefix("ascii ")?.rsplit_once('[')?;
            let result = result.trim().strip_suffix(']')?;
            Some((name.trim().to_owned(), result.to_owned()))
        })
        .collect()
}

/// Runs memccapable's ASCII tests (`-a`) against `target` and fails unless it reports
/// every one of them passed.
fn memccapable_passes(target: &Target) {
    let (host, port) = target.host_and_port();
    let finished = run_with_deadline(
        Command::new(tool("memccapable", "libmemcached-tools"))
            .args(["-h", &host, "-p", &port, "-a", "-t", "5"]),
        SCRIPT_TIMEOUT,
    );
    let what = format!("memccapable -a against {}", target.name());
    finished.assert_success(&what);
    let results = memccapable_results(&finished.stdout);
    for test in MEMCCAPABLE_ASCII_TESTS {
        assert_eq!(
            results.get(*test).map(String::as_str),
            Some("pass"),
            "{what}: ascii {test} {}",
            finished.describe()
        );
    }
    let failed: Vec<_> = results.iter().filter(|(_, r)| *r != "pass").collect();
    assert!(
        failed.is_empty(),
        "{what}: {failed:?} {}",
        finished.describe()
    );
    finished.assert_stdout_has(&what, "All tests passed");
}

#[test]
fn memccapable_passes_every_ascii_test_against_memcached() {
    memccapable_passes(&Target::memcached());
}

#[test]
fn memccapable_passes_every_ascii_test() {
    memccapable_passes(&Target::blink());
}

fn client_script(name: &str) -> PathBuf {
    root().join("tests/clients").join(name)
}

fn node_with_memcached() -> PathBuf {
    let node = tool("node", "nodejs");
    let module = root().join("tests/clients/node_modules/memcached");
    assert!(
        module.is_dir(),
        "the memcached npm client is missing: .ci/test installs it (npm ci --prefix tests/clients)"
    );
    node
}

/// Runs the acceptance script `script` of tests/clients with `program` against
/// `target`'s TCP listener (and its Unix socket, if `unix`), and fails with everything
/// it printed unless it passes every check. The scripts say themselves which library is
/// missing, if one is.
fn passes(program: PathBuf, script: &str, target: &Target, unix: bool) {
    let (host, port) = target.host_and_port();
    let mut command = Command::new(program);
    command.arg(client_script(script)).args([&host, &port]);
    if unix {
        command.arg(target.unix());
    }
    let finished = run_with_deadline(&mut command, SCRIPT_TIMEOUT);
    let what = format!("{script} against {}", target.name());
    finished.assert_success(&what);
    finished.assert_stdout_has(&what, "all checks passed");
}

#[test]
fn pymemcache_passes_its_checks_against_memcached() {
    passes(
        pyenv_python(),
        "pymemcache_check.py",
        &Target::memcached(),
        true,
    );
}

#[test]
fn pymemcache_passes_its_checks_over_tcp_and_the_unix_socket() {
    passes(
        pyenv_python(),
        "pymemcache_check.py",
        &Target::blink(),
        true,
    );
}

#[test]
fn python_memcached_passes_its_checks_against_memcached() {
    let target = Target::memcached();
    passes(pyenv_python(), "python_memcached_check.py", &target, true);
}

#[test]
fn python_memcached_passes_its_checks_over_tcp_and_the_unix_socket() {
    passes(
        pyenv_python(),
        "python_memcached_check.py",
        &Target::blink(),
        true,
    );
}

#[test]
fn memcached_npm_client_passes_its_checks_against_memcached() {
    let target = Target::memcached();
    passes(node_with_memcached(), "memcached_check.js", &target, false);
}

#[test]
fn memcached_npm_client_passes_its_checks() {
    let target = Target::blink();
    passes(node_with_memcached(), "memcached_check.js", &target, false);
}

/// A nutcracker configuration: one memcache-mode pool listening on `listen` that
/// shards over `servers` by ketama on fnv1a_64, as docs/nutcracker.yml does for RESP.
fn nutcracker_config(listen: u16, servers: &[SocketAddr]) -> String {
    let mut config = format!(
        "memcache:\n  listen: 127.0.0.1:{listen}\n  hash: fnv1a_64\n  distribution: ketama\n  \
         redis: false\n  auto_eject_hosts: false\n  timeout: 2000\n  servers:\n"
    );
    for (i, server) in servers.iter().enumerate() {
        config.push_str(&format!("   - {server}:1 server{i}\n"));
    }
    config
}

/// How many keys the twemproxy scenario writes.
const SHARDED_KEYS: usize = 1000;

fn key(i: usize) -> Vec<u8> {
    format!("tw:key:{i}").into_bytes()
}

/// A value of key `i`; every tenth holds the bytes of a line end and an END line, which
/// only a length-framed reader passes through.
fn value(i: usize) -> Vec<u8> {
    if i % 10 == 0 {
        format!("value-{i}\r\nEND\r\n\0").into_bytes()
    } else {
        format!("value-{i}").into_bytes()
    }
}

/// Flags of key `i`: each key its own, so a value delivered under the wrong key shows.
fn flags(i: usize) -> u32 {
    u32::try_from(i).unwrap() * 7 + 1
}

/// Reads a retrieval reply up to its `END`: each key with its flags and value.
fn read_values(client: &mut Client) -> BTreeMap<Vec<u8>, (u32, Vec<u8>)> {
    let mut values = BTreeMap::new();
    loop {
        let line = client.read_line();
        if line == b"END\r\n" {
            return values;
        }
        let header = line
            .strip_prefix(b"VALUE ")
            .and_then(|rest| rest.strip_suffix(b"\r\n"))
            .unwrap_or_else(|| panic!("not a VALUE line: {}", show(&line)));
        let header = String::from_utf8(header.to_vec()).unwrap();
        let fields: Vec<&str> = header.split(' ').collect();
        assert_eq!(fields.len(), 3, "VALUE line {header:?}");
        let length: usize = fields[2].parse().unwrap();
        let mut data = vec![0; length + 2];
        client.reader().read_exact(&mut data).unwrap();
        assert_eq!(&data[length..], b"\r\n", "after the value of {}", fields[0]);
        data.truncate(length);
        let flags = fields[1].parse().unwrap();
        values.insert(fields[0].as_bytes().to_vec(), (flags, data));
    }
}

/// `get` of the keys `range` in requests of 50 keys each: what came back.
fn get_all(
    client: &mut Client,
    range: std::ops::Range<usize>,
) -> BTreeMap<Vec<u8>, (u32, Vec<u8>)> {
    let mut found = BTreeMap::new();
    let indices: Vec<usize> = range.collect();
    for batch in indices.chunks(50) {
        let mut request = b"get".to_vec();
        for &i in batch {
            request.push(b' ');
            request.extend(key(i));
        }
        request.extend(b"\r\n");
        client.send(&request);
        found.extend(read_values(client));
    }
    found
}

/// Through twemproxy in memcache mode over three `servers`: 1000 keys set (pipelined,
/// 100 at a time) and read back with multi-key gets that the proxy splits over the
/// servers; then each server, read directly, holds a fair share, and every key is on
/// exactly one of them.
fn twemproxy_shards(servers: &[Target]) {
    let nutcracker = tool("nutcracker", "nutcracker");
    let addrs: Vec<SocketAddr> = servers.iter().map(Target::tcp).collect();
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let stats = free_port();
    let conf = dir.path().join("nutcracker.yml");
    std::fs::write(&conf, nutcracker_config(listen, &addrs)).unwrap();
    let checked = run_with_deadline(
        Command::new(&nutcracker).arg("-t").arg("-c").arg(&conf),
        STEP_TIMEOUT,
    );
    checked.assert_success("nutcracker -t");

    // nutcracker logs to stderr.
    let mut proxy = Process::spawn(Command::new(&nutcracker).arg("-c").arg(&conf).args([
        "-a",
        "127.0.0.1",
        "-s",
        &stats.to_string(),
    ]));
    let proxy_addr = SocketAddr::from(([127, 0, 0, 1], listen));
    wait_for(&format!("nutcracker to listen on {proxy_addr}"), || {
        assert!(
            !proxy.has_exited(),
            "nutcracker exited before listening:\n{}",
            proxy.log_text()
        );
        TcpStream::connect_timeout(&proxy_addr, Duration::from_millis(200)).is_ok()
    });

    let mut client = Client::tcp(proxy_addr);
    let indices: Vec<usize> = (0..SHARDED_KEYS).collect();
    for batch in indices.chunks(100) {
        for &i in batch {
            let header = format!(" {} 0 {}\r\n", flags(i), value(i).len());
            client.queue(&[b"set ", &key(i), header.as_bytes(), &value(i), b"\r\n"]);
        }
        for &i in batch {
            assert_eq!(
                show(&client.read_line()),
                "STORED\\r\\n",
                "set of key {i} through the proxy"
            );
        }
    }

    let through_proxy = get_all(&mut client, 0..SHARDED_KEYS);
    for i in 0..SHARDED_KEYS {
        assert_eq!(
            through_proxy.get(&key(i)),
            Some(&(flags(i), value(i))),
            "key {i} read back through the proxy"
        );
    }
    assert_eq!(
        through_proxy.len(),
        SHARDED_KEYS,
        "keys read through the proxy"
    );

    let mut holders = vec![0; SHARDED_KEYS];
    for (server, addr) in servers.iter().zip(&addrs) {
        let held = get_all(&mut Client::tcp(*addr), 0..SHARDED_KEYS);
        // ketama over three equal servers gives each about a third; a tenth is the
        // least that is not an accident.
        assert!(
            held.len() >= SHARDED_KEYS / 10,
            "{} at {addr} holds only {} of {SHARDED_KEYS} keys",
            server.name(),
            held.len()
        );
        for (i, count) in holders.iter_mut().enumerate() {
            if let Some(found) = held.get(&key(i)) {
                assert_eq!(found, &(flags(i), value(i)), "key {i} on {addr}");
                *count += 1;
            }
        }
    }
    let misplaced: Vec<usize> = (0..SHARDED_KEYS).filter(|&i| holders[i] != 1).collect();
    assert!(
        misplaced.is_empty(),
        "keys not on exactly one server: {misplaced:?}"
    );
    proxy.stop();
}

#[test]
fn twemproxy_shards_keys_over_three_memcached() {
    let servers: Vec<Target> = (0..3).map(|_| Target::memcached()).collect();
    twemproxy_shards(&servers);
}

#[test]
fn twemproxy_shards_keys_over_three_memcache_listeners() {
    let servers: Vec<Target> = (0..3).map(|_| Target::blink()).collect();
    twemproxy_shards(&servers);
}
