//! Real Redis clients against the real server. The acceptance scripts in tests/clients/
//! drive redis-py (RESP2 and RESP3, over TCP and the Unix socket), ioredis and redis-cli
//! through every Redis command the server speaks; redis-benchmark runs a pipelined
//! load; and twemproxy, configured by the documented docs/nutcracker.yml, shards keys
//! over three servers.
//!
//! Caching libraries run their own scripts: Django's and Flask-Caching's Redis backends,
//! and redis-py's and ioredis's transactions, WATCH retries and SCAN iteration. Each of
//! these scripts also runs against a real `redis-server`, which shows that what it
//! expects is what Redis does.
//!
//! .ci/test installs every tool these tests drive. A missing one fails its test with a
//! message that says so: nothing is skipped.

use crate::common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{
    free_port, pyenv_python, resp_command, root, run_with_deadline, tool, wait_for, Process, Reply,
    Resp, Server, STEP_TIMEOUT,
};

/// How long one client script may run; each takes a few seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

fn client_script(name: &str) -> PathBuf {
    root().join("tests/clients").join(name)
}

fn start_server() -> Server {
    Server::start(&["--memory-limit", "64MiB"])
}

fn host_and_port(server: &Server) -> (String, String) {
    let addr = server.tcp.unwrap();
    (addr.ip().to_string(), addr.port().to_string())
}

#[test]
fn redis_py_passes_its_checks_in_resp2_and_resp3_over_tcp_and_the_unix_socket() {
    let python = pyenv_python();
    let server = start_server();
    let (host, port) = host_and_port(&server);
    let finished = run_with_deadline(
        Command::new(&python)
            .arg(client_script("redis_py_check.py"))
            .args([&host, &port])
            .arg(server.unix.as_ref().unwrap()),
        SCRIPT_TIMEOUT,
    );
    finished.assert_success("redis-py check");
    assert!(
        finished.stdout.contains("all checks passed"),
        "{}",
        finished.stdout
    );
}

#[test]
fn ioredis_passes_its_checks_with_and_without_its_ready_check() {
    let node = tool("node", "nodejs");
    let module = root().join("tests/clients/node_modules/ioredis");
    assert!(
        module.is_dir(),
        "ioredis is missing: .ci/test installs it (npm install --prefix tests/clients ioredis)"
    );
    let server = start_server();
    let (host, port) = host_and_port(&server);
    let finished = run_with_deadline(
        Command::new(node)
            .arg(client_script("ioredis_check.js"))
            .args([&host, &port]),
        SCRIPT_TIMEOUT,
    );
    finished.assert_success("ioredis check");
    assert!(
        finished.stdout.contains("all checks passed"),
        "{}",
        finished.stdout
    );
}

#[test]
fn redis_cli_sessions_print_exactly_what_redis_documents() {
    tool("redis-cli", "redis-tools");
    let server = start_server();
    let (host, port) = host_and_port(&server);
    let finished = run_with_deadline(
        Command::new(tool("bash", "bash"))
            .arg(client_script("redis_cli_session.sh"))
            .args([&host, &port]),
        SCRIPT_TIMEOUT,
    );
    finished.assert_success("redis-cli session");
    assert!(
        finished.stdout.contains("checks passed"),
        "{}",
        finished.stdout
    );
}

#[test]
fn redis_benchmark_runs_every_pipelined_test_without_an_error() {
    let benchmark = tool("redis-benchmark", "redis-tools");
    let server = start_server();
    let (host, port) = host_and_port(&server);
    let finished = run_with_deadline(
        Command::new(benchmark)
            .args(["-h", &host, "-p", &port])
            .args(["-t", "ping,set,get,incr,mset"])
            .args(["-P", "16", "-q", "-n", "20000"]),
        SCRIPT_TIMEOUT,
    );
    finished.assert_success("redis-benchmark");
    let all = format!("{}\n{}", finished.stdout, finished.stderr);
    // -q rewrites a progress line with carriage returns before the result.
    let lines: Vec<&str> = all.split(['\r', '\n']).map(str::trim).collect();
    for test in ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"] {
        assert!(
            lines.iter().any(|line| line.starts_with(test)
                && line.contains(": ")
                && line.contains("requests per second")),
            "no requests-per-second line for {test}:\n{all}"
        );
    }
    assert!(
        !all.contains("ERR") && !all.to_lowercase().contains("error"),
        "redis-benchmark saw errors:\n{all}"
    );
}

fn bulk(bytes: &[u8]) -> Reply {
    Reply::Bulk(Some(bytes.to_vec()))
}

fn ok() -> Reply {
    Reply::Simple("OK".to_owned())
}

/// The shipped example configuration with its listen address and server ports replaced.
fn configure(template: &str, listen: u16, ports: &[u16]) -> String {
    for setting in [
        "redis: true",
        "distribution: ketama",
        "hash: fnv1a_64",
        "auto_eject_hosts: false",
    ] {
        assert!(
            template.lines().any(|line| line.trim() == setting),
            "docs/nutcracker.yml no longer says {setting:?}"
        );
    }
    let mut servers = ports.iter();
    let mut listens = 0;
    let mut out = String::new();
    for line in template.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let trimmed = line.trim();
        if trimmed.starts_with("listen:") {
            listens += 1;
            out.push_str(&format!("{indent}listen: 127.0.0.1:{listen}\n"));
        } else if let Some(server) = trimmed.strip_prefix("- 127.0.0.1:") {
            // 127.0.0.1:PORT:WEIGHT NAME: keep the weight and the name.
            let (_, rest) = server.split_once(':').expect("host:port:weight");
            let port = servers
                .next()
                .expect("docs/nutcracker.yml lists more servers than the test starts");
            out.push_str(&format!("{indent}- 127.0.0.1:{port}:{rest}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!(
        listens, 1,
        "docs/nutcracker.yml should have one listen line"
    );
    assert!(
        servers.next().is_none(),
        "docs/nutcracker.yml lists fewer servers than the test starts"
    );
    out
}

fn key(i: usize) -> Vec<u8> {
    format!("tw:key:{i}").into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    format!("value-{i}").into_bytes()
}

#[test]
fn twemproxy_shards_keys_over_three_servers_with_the_documented_config() {
    let nutcracker = tool("nutcracker", "nutcracker");
    let servers: Vec<Server> = (0..3).map(|_| start_server()).collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.tcp.unwrap().port()).collect();
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let stats = free_port();
    let template = std::fs::read_to_string(root().join("docs/nutcracker.yml")).unwrap();
    let conf = dir.path().join("nutcracker.yml");
    std::fs::write(&conf, configure(&template, listen, &ports)).unwrap();

    let checked = run_with_deadline(
        Command::new(&nutcracker).arg("-t").arg("-c").arg(&conf),
        STEP_TIMEOUT,
    );
    checked.assert_success("nutcracker -t");
    assert!(
        format!("{}{}", checked.stdout, checked.stderr).contains("syntax is ok"),
        "nutcracker -t: {}{}",
        checked.stdout,
        checked.stderr
    );

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

    let mut client = Resp::connect(proxy_addr);
    assert_eq!(client.call(&[b"PING"]), Reply::Simple("PONG".to_owned()));

    // 300 SETs in one pipeline, then each key read back.
    let total = 300;
    for i in 0..total {
        client.queue(&[b"SET", &key(i), &value(i)]);
    }
    for i in 0..total {
        assert_eq!(client.read(), Some(ok()), "SET {i} through the proxy");
    }
    for i in 0..total {
        assert_eq!(client.call(&[b"GET", &key(i)]), bulk(&value(i)), "GET {i}");
    }

    // One MGET of 50 keys spread over the servers, values in the order asked.
    let picked: Vec<usize> = (0..50).map(|n| (n * 7 + 3) % total).collect();
    let picked_keys: Vec<Vec<u8>> = picked.iter().map(|&i| key(i)).collect();
    let mut mget: Vec<&[u8]> = vec![b"MGET"];
    mget.extend(picked_keys.iter().map(Vec::as_slice));
    let expected: Vec<Reply> = picked.iter().map(|&i| bulk(&value(i))).collect();
    assert_eq!(client.call(&mget), Reply::Array(Some(expected)));
    // twemproxy routes EXISTS by its first key only, so one key at a time.
    assert_eq!(client.call(&[b"EXISTS", &key(7)]), Reply::Integer(1));
    assert_eq!(client.call(&[b"EXISTS", b"tw:missing"]), Reply::Integer(0));

    // MSET, counters and expiry through the proxy.
    let mut mset: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..10 {
        mset.push(format!("tw:mset:{i}").into_bytes());
        mset.push(format!("m{i}").into_bytes());
    }
    let mset_args: Vec<&[u8]> = mset.iter().map(Vec::as_slice).collect();
    assert_eq!(client.call(&mset_args), ok());
    assert_eq!(
        client.call(&[b"MGET", b"tw:mset:0", b"tw:missing", b"tw:mset:9"]),
        Reply::Array(Some(vec![bulk(b"m0"), Reply::Bulk(None), bulk(b"m9")]))
    );
    assert_eq!(client.call(&[b"INCR", b"tw:counter"]), Reply::Integer(1));
    assert_eq!(
        client.call(&[b"INCRBY", b"tw:counter", b"9"]),
        Reply::Integer(10)
    );
    assert_eq!(client.call(&[b"SET", b"tw:ttl", b"v", b"EX", b"100"]), ok());
    let ttl = client.call(&[b"TTL", b"tw:ttl"]);
    assert!(
        matches!(ttl, Reply::Integer(99 | 100)),
        "TTL through the proxy: {ttl:?}"
    );
    assert_eq!(client.call(&[b"PERSIST", b"tw:ttl"]), Reply::Integer(1));
    let written = total + 10 + 2;

    // One DEL of 20 keys and 2 missing ones: the proxy adds up the servers' counts.
    let deleted_keys: Vec<Vec<u8>> = (0..20).map(|i| key(i * 13)).collect();
    let mut del: Vec<&[u8]> = vec![b"DEL"];
    del.extend(deleted_keys.iter().map(Vec::as_slice));
    del.extend([&b"tw:missing"[..], b"tw:missing:2"]);
    assert_eq!(client.call(&del), Reply::Integer(20));
    assert_eq!(client.call(&[b"GET", &key(13)]), Reply::Bulk(None));
    let deleted = 20;

    // The proxy itself refuses server commands: the connection closes (or, in other
    // versions, gets an error), and nothing reaches a server.
    for command in [&[&b"INFO"[..]][..], &[b"HELLO", b"3"]] {
        let mut refused = Resp::connect(proxy_addr);
        refused.0.send(&resp_command(command));
        let reply = refused.read();
        assert!(
            matches!(reply, None | Some(Reply::Error(_))),
            "{:?} through twemproxy answered {reply:?}",
            String::from_utf8_lossy(command[0])
        );
    }
    assert_eq!(client.call(&[b"PING"]), Reply::Simple("PONG".to_owned()));

    // Every server holds some of the keys, and together exactly those written.
    let mut sum = 0;
    for server in &servers {
        let mut direct = Resp::connect(server.tcp.unwrap());
        match direct.call(&[b"DBSIZE"]) {
            Reply::Integer(n) => {
                assert!(n > 0, "server {} holds no keys", server.tcp.unwrap());
                sum += n;
            }
            other => panic!("DBSIZE on {}: {other:?}", server.tcp.unwrap()),
        }
    }
    assert_eq!(
        sum,
        i64::try_from(written - deleted).unwrap(),
        "keys over all servers"
    );
    proxy.stop();
}

/// Where an acceptance script connects: the server under test, or a real `redis-server`
/// that shows the script itself expects what Redis does. Either stops when dropped.
enum Target {
    Blink(Server),
    Redis(common::External),
}

impl Target {
    fn blink() -> Target {
        Target::Blink(start_server())
    }

    fn redis() -> Target {
        Target::Redis(common::External::redis())
    }

    fn host_and_port(&self) -> (String, String) {
        match self {
            Target::Blink(server) => host_and_port(server),
            Target::Redis(redis) => {
                let addr: SocketAddr = redis.addr().parse().unwrap();
                (addr.ip().to_string(), addr.port().to_string())
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Blink(_) => "Blink Store",
            Target::Redis(_) => "redis-server",
        }
    }
}

fn node_with_ioredis() -> PathBuf {
    let node = tool("node", "nodejs");
    let module = root().join("tests/clients/node_modules/ioredis");
    assert!(
        module.is_dir(),
        "ioredis is missing: .ci/test installs it (npm ci --prefix tests/clients)"
    );
    node
}

/// Runs the acceptance script `script` of tests/clients with `program` against
/// `target`, and fails with everything it printed unless it passes every check. The
/// scripts say themselves which library is missing, if one is.
fn passes(program: PathBuf, script: &str, target: &Target) {
    let (host, port) = target.host_and_port();
    let finished = run_with_deadline(
        Command::new(program)
            .arg(client_script(script))
            .args([&host, &port]),
        SCRIPT_TIMEOUT,
    );
    let what = format!("{script} against {}", target.name());
    finished.assert_success(&what);
    finished.assert_stdout_has(&what, "all checks passed");
}

#[test]
fn redis_py_transactions_watch_and_scan_iter_pass_against_redis() {
    passes(
        pyenv_python(),
        "redis_py_transactions_check.py",
        &Target::redis(),
    );
}

#[test]
fn redis_py_transactions_watch_and_scan_iter_pass() {
    passes(
        pyenv_python(),
        "redis_py_transactions_check.py",
        &Target::blink(),
    );
}

#[test]
fn django_redis_cache_passes_against_redis() {
    passes(pyenv_python(), "django_cache_check.py", &Target::redis());
}

#[test]
fn django_redis_cache_passes() {
    passes(pyenv_python(), "django_cache_check.py", &Target::blink());
}

#[test]
fn flask_caching_redis_cache_passes_against_redis() {
    passes(pyenv_python(), "flask_caching_check.py", &Target::redis());
}

#[test]
fn flask_caching_redis_cache_passes() {
    passes(pyenv_python(), "flask_caching_check.py", &Target::blink());
}

#[test]
fn ioredis_multi_pipeline_and_scan_stream_pass_against_redis() {
    passes(
        node_with_ioredis(),
        "ioredis_transactions_check.js",
        &Target::redis(),
    );
}

#[test]
fn ioredis_multi_pipeline_and_scan_stream_pass() {
    passes(
        node_with_ioredis(),
        "ioredis_transactions_check.js",
        &Target::blink(),
    );
}
