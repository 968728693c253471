//! Warm restarts with `--snapshot`: what a restart keeps, when the file is written
//! (SIGTERM, SIGUSR1, SAVE, BGSAVE), what a damaged file does, the memory limit while
//! loading, and serving while a snapshot is written.

use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::process::Signal;

use crate::common::{
    blink, resp_command, try_wait_for, wait_for, Client, Reply, Resp, Server, STEP_TIMEOUT,
};

/// The snapshot flag for `path`.
fn flag(path: &Path) -> [&str; 2] {
    ["--snapshot", path.to_str().unwrap()]
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Waits for the server's log line saying a snapshot was written, and returns its
/// `entries=` figure.
fn snapshot_written(server: &Server) -> u64 {
    server.process.wait_line("snapshot written", |line| {
        line.contains("snapshot written")
            .then(|| field(line, "entries=").parse().unwrap())
    })
}

/// The value after `name` in a log line, up to the next space.
fn field<'l>(line: &'l str, name: &str) -> &'l str {
    let start = line.find(name).unwrap() + name.len();
    line[start..].split(' ').next().unwrap()
}

/// Sends SIGTERM and checks that the server exits with success.
fn stop(mut server: Server) -> String {
    server.signal(Signal::TERM);
    let status = server.wait_exit(Duration::from_secs(20));
    let log = server.log_text();
    assert!(status.success(), "{status:?}\n{log}");
    log
}

/// Sends `commands` as one pipeline and reads their replies.
fn pipeline(resp: &mut Resp, commands: &[Vec<Vec<u8>>]) -> Vec<Reply> {
    let mut bytes = Vec::new();
    for command in commands {
        let args: Vec<&[u8]> = command.iter().map(Vec::as_slice).collect();
        bytes.extend_from_slice(&resp_command(&args));
    }
    resp.0.send(&bytes);
    commands.iter().map(|_| resp.read().unwrap()).collect()
}

fn args(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|part| part.as_bytes().to_vec()).collect()
}

/// `DBSIZE`.
fn db_size(resp: &mut Resp) -> i64 {
    match resp.call(&[b"DBSIZE"]) {
        Reply::Integer(n) => n,
        other => panic!("DBSIZE: {other:?}"),
    }
}

/// Stores `count` keys `k0...` of `value_len` bytes with MSET, 1,000 at a time.
fn fill(resp: &mut Resp, count: usize, value_len: usize) {
    let value = "v".repeat(value_len);
    for start in (0..count).step_by(1000) {
        let mut mset = args(&["MSET"]);
        for i in start..(start + 1000).min(count) {
            mset.extend(args(&[&format!("k{i}"), &value]));
        }
        assert_eq!(pipeline(resp, &[mset]), [Reply::Simple("OK".into())]);
    }
}

/// What key `i` of the restart test is: which of four kinds.
const PLAIN: usize = 0;
const LONG_TTL: usize = 1;
const SHORT_TTL: usize = 2;
const MEMCACHED: usize = 3;
const KEYS: usize = 100_000;

#[test]
fn a_restart_keeps_every_entry_with_its_expiry_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    let limit = ["--memory-limit", "256MiB"];
    let server = Server::start_memcache(&[&flag(&path)[..], &limit].concat());
    let mut resp = Resp::connect(server.tcp.unwrap());
    let long_at = now_ms() + 3_600_000;
    let mut commands = Vec::new();
    for i in (0..KEYS).filter(|i| i % 4 != SHORT_TTL && i % 4 != MEMCACHED) {
        let (key, value) = (format!("k{i}"), format!("v{i}"));
        commands.push(match i % 4 {
            PLAIN => args(&["SET", &key, &value]),
            _ => args(&["SET", &key, &value, "PXAT", &long_at.to_string()]),
        });
    }
    let replies = pipeline(&mut resp, &commands);
    assert!(replies.iter().all(|r| *r == Reply::Simple("OK".into())));
    let mut memcached = server.memcache_client(false);
    let mut sets = Vec::new();
    for i in (0..KEYS).filter(|i| i % 4 == MEMCACHED) {
        let value = format!("v{i}");
        sets.extend_from_slice(format!("set k{i} {i} 0 {}\r\n{value}\r\n", value.len()).as_bytes());
    }
    memcached.send(&sets);
    for _ in 0..KEYS / 4 {
        assert_eq!(memcached.read_line(), b"STORED\r\n");
    }
    // Last, so that they are still live when the snapshot is written.
    let short_at = now_ms() + 1500;
    let shorts: Vec<_> = (0..KEYS)
        .filter(|i| i % 4 == SHORT_TTL)
        .map(|i| args(&["SET", &format!("k{i}"), "v", "PXAT", &short_at.to_string()]))
        .collect();
    pipeline(&mut resp, &shorts);
    assert_eq!(db_size(&mut resp), KEYS as i64);
    let log = stop(server);
    assert!(path.exists(), "{log}");
    let written = log.lines().find(|line| line.contains("snapshot written"));
    assert_eq!(
        field(written.unwrap(), "entries="),
        KEYS.to_string(),
        "{log}"
    );

    wait_for("the short expiry to pass", || now_ms() > short_at);
    let server = Server::start_memcache(&[&flag(&path)[..], &limit].concat());
    let log = server.log_text();
    let loaded = log.lines().find(|line| line.contains("snapshot loaded"));
    let loaded = loaded.unwrap_or_else(|| panic!("{log}"));
    assert_eq!(
        field(loaded, "entries="),
        (KEYS / 4 * 3).to_string(),
        "{log}"
    );
    assert_eq!(field(loaded, "expired="), (KEYS / 4).to_string());
    let took_ms: u64 = field(loaded, "took_ms=").parse().unwrap();
    eprintln!("loaded 75,000 entries of 100,000 in {took_ms} ms (debug build)");

    let mut resp = Resp::connect(server.tcp.unwrap());
    assert_eq!(db_size(&mut resp), (KEYS / 4 * 3) as i64);
    let checks: Vec<_> = (0..KEYS)
        .flat_map(|i| {
            let key = format!("k{i}");
            [args(&["GET", &key]), args(&["PEXPIRETIME", &key])]
        })
        .collect();
    let replies = pipeline(&mut resp, &checks);
    for (i, pair) in replies.chunks(2).enumerate() {
        let value = Reply::Bulk(Some(format!("v{i}").into_bytes()));
        let want: [Reply; 2] = match i % 4 {
            PLAIN | MEMCACHED => [value, Reply::Integer(-1)],
            LONG_TTL => [value, Reply::Integer(i64::try_from(long_at).unwrap())],
            _ => [Reply::Bulk(None), Reply::Integer(-2)],
        };
        assert_eq!(pair, want, "k{i}");
    }
    let mut memcached = server.memcache_client(false);
    for start in (MEMCACHED..KEYS).step_by(4000) {
        let keys: Vec<String> = (start..(start + 4000).min(KEYS))
            .step_by(4)
            .map(|i| format!("k{i}"))
            .collect();
        memcached.send(format!("get {}\r\n", keys.join(" ")).as_bytes());
        for key in &keys {
            let header = String::from_utf8(memcached.read_line()).unwrap();
            let i = &key[1..];
            let value = format!("v{i}");
            assert_eq!(header, format!("VALUE {key} {i} {}\r\n", value.len()));
            assert_eq!(memcached.read_line(), format!("{value}\r\n").as_bytes());
        }
        assert_eq!(memcached.read_line(), b"END\r\n");
    }
}

#[test]
fn sigusr1_writes_a_snapshot_and_serving_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    let server = Server::start(&flag(&path));
    let mut resp = Resp::connect(server.tcp.unwrap());
    fill(&mut resp, 10, 4);
    server.signal(Signal::USR1);
    assert_eq!(snapshot_written(&server), 10);
    let first = std::fs::metadata(&path).unwrap().ino();
    assert_eq!(resp.call(&[b"PING"]), Reply::Simple("PONG".into()));
    fill(&mut resp, 20, 4);
    server.signal(Signal::USR1);
    assert_eq!(snapshot_written(&server), 20);
    let second = std::fs::metadata(&path).unwrap().ino();
    assert_ne!(
        first, second,
        "the file was replaced by a rename, not rewritten"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    assert_eq!(db_size(&mut resp), 20, "the server still serves");
    assert!(!server.process.has_exited());
}

#[test]
fn save_bgsave_and_lastsave_answer_as_redis_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    let server = Server::start(&flag(&path));
    let mut resp = Resp::connect(server.tcp.unwrap());
    let Reply::Integer(started) = resp.call(&[b"LASTSAVE"]) else {
        panic!("LASTSAVE is an integer")
    };
    fill(&mut resp, 5, 4);
    assert_eq!(resp.call(&[b"SAVE"]), Reply::Simple("OK".into()));
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"BLINKSNP"),
        "the file is written when SAVE answers"
    );
    let Reply::Integer(saved) = resp.call(&[b"LASTSAVE"]) else {
        panic!("LASTSAVE is an integer")
    };
    assert!(saved >= started);
    assert_eq!(
        resp.call(&[b"BGSAVE"]),
        Reply::Simple("Background saving started".into())
    );
    assert_eq!(
        resp.call(&[b"BGSAVE", b"NOW"]),
        Reply::Error("ERR syntax error".into())
    );
    wait_for("INFO to show the background save done", || {
        let Reply::Bulk(Some(info)) = resp.call(&[b"INFO", b"persistence"]) else {
            panic!("INFO is a bulk string")
        };
        let info = String::from_utf8(info).unwrap();
        assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
        info.contains("rdb_bgsave_in_progress:0") && info.contains("rdb_saves:2")
    });
    // SAVE may not be queued in a transaction, as in Redis.
    assert_eq!(resp.call(&[b"MULTI"]), Reply::Simple("OK".into()));
    let refused = resp.call(&[b"SAVE"]);
    assert_eq!(
        refused,
        Reply::Error("ERR Command not allowed inside a transaction".into())
    );
    assert!(matches!(resp.call(&[b"EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
    stop(server);

    let plain = Server::start(&[]);
    let mut resp = Resp::connect(plain.tcp.unwrap());
    for command in [&b"SAVE"[..], b"BGSAVE"] {
        let Reply::Error(error) = resp.call(&[command]) else {
            panic!("{command:?} without --snapshot is an error")
        };
        assert!(error.starts_with("ERR snapshots are off") && error.contains("--snapshot"));
    }
    assert!(matches!(resp.call(&[b"LASTSAVE"]), Reply::Integer(t) if t > 0));
    // SIGUSR1 without a snapshot file is logged, not the end of the process.
    plain.signal(Signal::USR1);
    plain.process.wait_line("SIGUSR1 ignored", |line| {
        line.contains("SIGUSR1 ignored").then_some(())
    });
    assert_eq!(resp.call(&[b"PING"]), Reply::Simple("PONG".into()));
}

/// Starts a server on `path` after `damage` was done to a good snapshot of 1,000
/// entries, and checks it logs `expected`, starts empty and serves.
fn starts_empty_after(damage: impl FnOnce(&mut Vec<u8>), expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    let server = Server::start(&flag(&path));
    fill(&mut Resp::connect(server.tcp.unwrap()), 1000, 16);
    stop(server);
    let mut bytes = std::fs::read(&path).unwrap();
    damage(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    let server = Server::start(&flag(&path));
    let log = server.log_text();
    let error = log
        .lines()
        .find(|line| line.contains("snapshot file not loaded"));
    let error = error.unwrap_or_else(|| panic!("{log}"));
    assert!(
        error.contains("ERROR") && error.contains(path.to_str().unwrap()),
        "{error}"
    );
    assert!(error.contains(expected), "{error}");
    let mut resp = Resp::connect(server.tcp.unwrap());
    assert_eq!(db_size(&mut resp), 0, "nothing of the file was loaded");
    assert_eq!(resp.call(&[b"SET", b"k", b"v"]), Reply::Simple("OK".into()));
    assert_eq!(resp.call(&[b"GET", b"k"]), Reply::Bulk(Some(b"v".to_vec())));
}

#[test]
fn a_corrupt_snapshot_is_reported_and_skipped() {
    starts_empty_after(
        |bytes| {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        },
        "corrupt",
    );
}

#[test]
fn a_truncated_snapshot_is_reported_and_skipped() {
    starts_empty_after(|bytes| bytes.truncate(bytes.len() / 2), "truncated");
}

#[test]
fn loading_stops_at_a_smaller_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    let server = Server::start(&[&flag(&path)[..], &["--memory-limit", "64MiB"]].concat());
    fill(&mut Resp::connect(server.tcp.unwrap()), 50_000, 200);
    stop(server);
    let server = Server::start(&[&flag(&path)[..], &["--memory-limit", "4MiB"]].concat());
    let log = server.log_text();
    let left_out = log.lines().find(|line| line.contains("entries left out"));
    let left_out: u64 = field(left_out.unwrap_or_else(|| panic!("{log}")), "left_out=")
        .parse()
        .unwrap();
    let mut client = server.tcp_client();
    let mut info = client.info();
    eprintln!("after loading: {:?}", info.0);
    // Loading stops at the limit as the store last estimated its overheads; the
    // evictor may trim a few entries afterwards, as its reading of the heap catches up
    // with the load (a few dozen seen of 11,000 on an idle machine, 263 beside the
    // whole test suite). It goes on a little below the limit (its headroom), and an
    // INFO taken during a pass may find entries removed and not yet counted as evicted:
    // the counts add up once it rests, which the assertion below checks either way.
    try_wait_for(STEP_TIMEOUT, || {
        info = client.info();
        info["used_memory"] <= info["maxmemory"]
            && info["keys"] + info["evictions"] + left_out == 50_000
    });
    assert!(info["used_memory"] <= info["maxmemory"], "{:?}", info.0);
    let stored = info["keys"];
    assert!(
        stored > 1000 && left_out > 1000,
        "{stored} stored, {left_out} left out"
    );
    let evicted = info["evictions"];
    assert!(evicted < stored / 20, "{evicted} evicted");
    assert_eq!(
        stored + evicted + left_out,
        50_000,
        "{stored} stored, {evicted} evicted, {left_out} left out"
    );
}

#[test]
fn other_clients_are_served_while_a_snapshot_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blink.snapshot");
    // One event loop: the client that sends SAVE and the one that pings share it.
    let limit = ["--memory-limit", "256MiB", "--workers", "1"];
    let server = Server::start(&[&flag(&path)[..], &limit].concat());
    let addr = server.tcp.unwrap();
    fill(&mut Resp::connect(addr), 200_000, 100);
    let mut saver = Client::tcp(addr);
    let done = Arc::new(AtomicBool::new(false));
    saver.send(&resp_command(&[b"SAVE"]));
    let waiter = {
        let done = done.clone();
        std::thread::spawn(move || {
            let reply = saver.read_line();
            done.store(true, Ordering::SeqCst);
            reply
        })
    };
    let mut pinger = Resp::connect(addr);
    let mut during = 0u64;
    while !done.load(Ordering::SeqCst) {
        assert_eq!(pinger.call(&[b"PING"]), Reply::Simple("PONG".into()));
        during += 1;
    }
    assert_eq!(waiter.join().unwrap(), b"+OK\r\n");
    let entries = snapshot_written(&server);
    assert_eq!(entries, 200_000);
    eprintln!("{during} PINGs answered while 200,000 entries were written");
    assert!(
        during >= 10,
        "only {during} requests were answered during the save"
    );
    let mut file = std::fs::File::open(&path).unwrap();
    let mut magic = [0; 8];
    file.read_exact(&mut magic).unwrap();
    assert_eq!(&magic, b"BLINKSNP");
}

#[test]
fn a_snapshot_directory_that_cannot_be_written_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("blink.snapshot");
    let out = blink("serve")
        .args(["--tcp", "127.0.0.1:0"])
        .args(flag(&path))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write beside it") && stderr.contains("No such file"),
        "{stderr}"
    );
}
