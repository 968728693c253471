//! The keyspace commands beside a real `redis-server`: KEYS and SCAN (their results
//! compared as sets), RANDOMKEY, RENAME, RENAMENX and COPY (replies and error texts
//! compared exactly); SCAN's guarantee while keys come and go; `redis-cli --scan`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::SideBySide;
use crate::common::{self, Reply, Server};
use crate::resp::show_args;

/// The bulk strings of an array reply, sorted.
fn sorted(reply: Reply) -> Vec<Vec<u8>> {
    let Reply::Array(Some(items)) = reply else {
        panic!("not an array: {reply:?}");
    };
    let mut keys: Vec<Vec<u8>> = items
        .into_iter()
        .map(|item| match item {
            Reply::Bulk(Some(key)) => key,
            other => panic!("not a bulk string: {other:?}"),
        })
        .collect();
    keys.sort();
    keys
}

/// Every key a whole scan with `options` returns, sorted, without repeats.
fn scan_all(client: &mut common::Resp, options: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut cursor = b"0".to_vec();
    let mut keys = BTreeSet::new();
    for _ in 0..100_000 {
        let mut command: Vec<&[u8]> = vec![b"SCAN", &cursor];
        command.extend_from_slice(options);
        let reply = client.call(&command);
        let Reply::Array(Some(mut parts)) = reply else {
            panic!("SCAN {:?}: {reply:?}", show_args(options));
        };
        let (Some(batch), Some(Reply::Bulk(Some(next))), true) =
            (parts.pop(), parts.pop(), parts.is_empty())
        else {
            panic!("SCAN's reply is a cursor and a batch");
        };
        keys.extend(sorted(batch));
        if next == b"0" {
            return keys.into_iter().collect();
        }
        cursor = next;
    }
    panic!("the scan did not end");
}

/// Keys chosen for glob patterns: empty, binary, with pattern characters in them.
const KEYS: &[&[u8]] = &[
    b"",
    b"user:1",
    b"user:2",
    b"user:10",
    b"hello",
    b"hallo",
    b"hxllo",
    b"h[a]llo",
    b"*star",
    b"a\\b",
    b"bin\x00\xff\r\n",
    b"UPPER",
    b"x",
    b"]",
    b"^",
];

#[test]
fn keys_and_scan_find_what_redis_finds() {
    let mut both = SideBySide::start();
    let numbered: Vec<Vec<u8>> = (0..200).map(|i| format!("n:{i}").into_bytes()).collect();
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for key in KEYS
        .iter()
        .copied()
        .chain(numbered.iter().map(Vec::as_slice))
    {
        mset.extend([key, b"v"]);
    }
    both.assert_same(&[&mset, &[b"SET", b"gone", b"v", b"PX", b"1"]]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let patterns: &[&[u8]] = &[
        b"*",
        b"**",
        b"",
        b"user:*",
        b"user:?",
        b"h?llo",
        b"h[ae]llo",
        b"h[^e]llo",
        b"h[a-b]llo",
        b"h[b-a]llo",
        b"h\\[a\\]llo",
        b"\\*star",
        b"*\\\\*",
        b"bin*",
        b"bin\x00*",
        b"[A-Z]*",
        b"n:1?",
        b"n:1[0-9]*",
        b"x",
        b"nomatch*",
        b"[a-]",
        b"[",
        b"g*",
    ];
    for pattern in patterns {
        let (theirs, ours) = both.call(&[b"KEYS", pattern]);
        assert_eq!(
            sorted(ours),
            sorted(theirs),
            "KEYS {:?}",
            show_args(&[pattern])
        );
        for count in [&b"1"[..], b"10", b"1000"] {
            let options: &[&[u8]] = &[b"MATCH", pattern, b"COUNT", count];
            assert_eq!(
                scan_all(&mut both.ours, options),
                scan_all(&mut both.theirs, options),
                "SCAN {:?}",
                show_args(options)
            );
        }
    }
    let option_sets: &[&[&[u8]]] = &[
        &[],
        &[b"TYPE", b"string"],
        &[b"type", b"STRING", b"COUNT", b"3"],
        &[b"TYPE", b"hash"],
        &[b"TYPE", b"nosuchtype"],
        &[b"MATCH", b"user:*", b"MATCH", b"n:*"],
        &[b"COUNT", b"1", b"MATCH", b"h*", b"TYPE", b"string"],
    ];
    for options in option_sets {
        assert_eq!(
            scan_all(&mut both.ours, options),
            scan_all(&mut both.theirs, options),
            "SCAN {:?}",
            show_args(options)
        );
    }
    both.assert_same(&[
        &[b"KEYS"],
        &[b"KEYS", b"a", b"b"],
        &[b"SCAN"],
        &[b"SCAN", b"x"],
        &[b"SCAN", b" 1"],
        &[b"SCAN", b"1 "],
        &[b"SCAN", b"1x"],
        &[b"SCAN", b"+"],
        &[b"SCAN", b"18446744073709551616"],
        &[b"SCAN", b"-18446744073709551616"],
        &[b"SCAN", b"x", b"COUNT", b"0"],
        &[b"SCAN", b"0", b"COUNT", b"0"],
        &[b"SCAN", b"0", b"COUNT", b"-1"],
        &[b"SCAN", b"0", b"COUNT", b"x"],
        &[b"SCAN", b"0", b"COUNT", b"1.5"],
        &[b"SCAN", b"0", b"MATCH"],
        &[b"SCAN", b"0", b"COUNT"],
        &[b"SCAN", b"0", b"TYPE"],
        &[b"SCAN", b"0", b"FOO", b"bar"],
        &[b"SCAN", b"0", b"MATCH", b"*", b"FOO"],
    ]);
    // Cursors Redis reads with strtoul: accepted by both, whatever they then return.
    for cursor in [
        &b""[..],
        b"+0",
        b"-0",
        b"007",
        b"-1",
        b"18446744073709551615",
    ] {
        let (theirs, ours) = both.call(&[b"SCAN", cursor]);
        assert!(
            matches!(
                (&theirs, &ours),
                (Reply::Array(Some(_)), Reply::Array(Some(_)))
            ),
            "SCAN {:?}: Redis {theirs:?}, Blink {ours:?}",
            show_args(&[cursor])
        );
    }
}

#[test]
fn randomkey_rename_and_copy_answer_as_redis_does() {
    let mut both = SideBySide::start();
    both.assert_same(&[
        &[b"RANDOMKEY"],
        &[b"SET", b"only", b"v"],
        &[b"RANDOMKEY"],
        &[b"RANDOMKEY", b"x"],
        &[b"SET", b"a", b"hello"],
        &[b"SET", b"b", b"world"],
        &[b"RENAME", b"a", b"a"],
        &[b"RENAME", b"missing", b"x"],
        &[b"RENAME", b"missing", b"missing"],
        &[b"RENAMENX", b"missing", b"x"],
        &[b"RENAMENX", b"a", b"a"],
        &[b"RENAMENX", b"a", b"b"],
        &[b"RENAME", b"a"],
        &[b"RENAMENX", b"a", b"b", b"c"],
        &[b"EXPIRE", b"a", b"100"],
        &[b"RENAME", b"a", b"c"],
        &[b"GET", b"c"],
        &[b"EXISTS", b"a"],
        &[b"TTL", b"c"],
        &[b"RENAME", b"c", b"b"],
        &[b"GET", b"b"],
        &[b"TTL", b"b"],
        &[b"RENAMENX", b"b", b"d"],
        &[b"TTL", b"d"],
        &[b"EXISTS", b"b", b"c"],
        &[b"COPY", b"d", b"d"],
        &[b"COPY", b"d", b"e"],
        &[b"TTL", b"e"],
        &[b"COPY", b"d", b"e"],
        &[b"SET", b"e", b"other"],
        &[b"COPY", b"d", b"e", b"REPLACE"],
        &[b"GET", b"e"],
        &[b"COPY", b"missing", b"e"],
        &[b"COPY", b"d", b"e", b"DB", b"0", b"replace"],
        &[b"COPY", b"d", b"f", b"DB", b"16"],
        &[b"COPY", b"d", b"f", b"DB", b"x"],
        &[b"COPY", b"d", b"f", b"DB", b"99999999999"],
        &[b"COPY", b"d", b"f", b"DB", b"16", b"FOO"],
        &[b"COPY", b"d", b"f", b"FOO", b"DB", b"16"],
        &[b"COPY", b"d", b"f", b"DB"],
        &[b"COPY", b"d", b"d", b"DB", b"0"],
        &[b"COPY", b"d", b"f", b"REPLACE", b"REPLACE"],
        &[b"COPY", b"d"],
        &[b"GET", b"f"],
        &[b"PERSIST", b"f"],
        &[b"COPY", b"f", b"g"],
        &[b"TTL", b"g"],
    ]);
    // One database here, where Redis has sixteen.
    assert_eq!(
        both.ours.call(&[b"COPY", b"d", b"h", b"DB", b"1"]),
        Reply::Error("ERR DB index is out of range".into())
    );
}

#[test]
fn scan_returns_every_key_present_throughout_while_others_come_and_go() {
    // Two event loops, so the scans run beside the churn rather than between its
    // ten-thousand-key commands.
    let server = Server::start(&["--memory-limit", "64MiB", "--workers", "2"]);
    let mut client = common::Resp::connect(server.tcp.unwrap());
    let stable: BTreeSet<Vec<u8>> = (0..1000)
        .map(|i| format!("stable:{i}").into_bytes())
        .collect();
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for key in &stable {
        mset.extend([key.as_slice(), b"v"]);
    }
    assert_eq!(client.call(&mset), Reply::Simple("OK".into()));
    let done = Arc::new(AtomicBool::new(false));
    let churn = {
        let (addr, done) = (server.tcp.unwrap(), done.clone());
        std::thread::spawn(move || {
            let mut churner = common::Resp::connect(addr);
            let keys: Vec<Vec<u8>> = (0..10_000)
                .map(|i| format!("churn:{i}").into_bytes())
                .collect();
            let mut mset: Vec<&[u8]> = vec![b"MSET"];
            for key in &keys {
                mset.extend([key.as_slice(), b"v"]);
            }
            let mut del: Vec<&[u8]> = vec![b"DEL"];
            del.extend(keys.iter().map(Vec::as_slice));
            // Waves of 10,000 keys: the map grows to eleven times its size and back,
            // many times over, while the scans run.
            let mut waves = 0;
            while !done.load(Ordering::Relaxed) || waves < 2 {
                assert_eq!(churner.call(&mset), Reply::Simple("OK".into()));
                assert_eq!(churner.call(&del), Reply::Integer(10_000));
                waves += 1;
            }
            waves
        })
    };
    for scan in 0..3 {
        let found: BTreeSet<Vec<u8>> = scan_all(&mut client, &[b"COUNT", b"10"])
            .into_iter()
            .filter(|key| key.starts_with(b"stable:"))
            .collect();
        assert_eq!(found, stable, "scan {scan}");
    }
    done.store(true, Ordering::Relaxed);
    assert!(churn.join().unwrap() >= 2);
}

#[test]
fn redis_cli_scans_and_sizes_the_keyspace() {
    let server = Server::start(&[]);
    let mut client = common::Resp::connect(server.tcp.unwrap());
    let keys: Vec<String> = (0..300).map(|i| format!("user:{i}")).collect();
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for key in &keys {
        mset.extend([key.as_bytes(), b"v"]);
    }
    assert_eq!(client.call(&mset), Reply::Simple("OK".into()));
    let port = server.tcp.unwrap().port().to_string();
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(common::tool("redis-cli", "redis-tools"))
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let scanned = cli(&["--scan", "--pattern", "user:1*"]);
    let mut found: Vec<&str> = scanned.lines().collect();
    found.sort_unstable();
    let mut want: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|key| key.starts_with("user:1"))
        .collect();
    want.sort_unstable();
    assert_eq!(found, want);
    // --bigkeys reads TYPE and STRLEN of every key it scans, --memkeys MEMORY USAGE.
    for mode in ["--bigkeys", "--memkeys"] {
        let report = cli(&[mode]);
        assert!(report.contains("300 strings with"), "{mode}:\n{report}");
    }
}
