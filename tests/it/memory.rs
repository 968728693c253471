//! The memory cap: eviction keeps `USAGE` under the limit and exact.

use crate::common;

use common::{settled_usage_and_live, status_kib, wait_usage_within, Server};

#[test]
fn four_thousand_kib_values_into_a_two_mib_limit() {
    for policy in ["tinylfu", "lru"] {
        println!("policy {policy}");
        four_thousand_kib_values_with(policy);
    }
}

fn four_thousand_kib_values_with(policy: &str) {
    const LIMIT: u64 = 2 * 1024 * 1024;
    let server = Server::start(&["--memory-limit", "2MiB", "--eviction-policy", policy]);
    let mut client = server.tcp_client();
    let value = vec![b'x'; 1024];
    for i in 0..4_000 {
        let line = [format!("SET key{i:04} ").as_bytes(), &value, b"\n"].concat();
        assert_eq!(client.request(&line), "OK\n", "write {i}");
    }
    let usage = wait_usage_within(&mut client, LIMIT);
    assert!(usage <= LIMIT);

    let mut found_bytes = 0;
    let mut found = 0;
    let mut recent_evicted = Vec::new();
    for i in 0..4_000 {
        let key = format!("key{i:04}");
        let reply = client.request(format!("GET {key}\n").as_bytes());
        if reply.starts_with("VALUE ") {
            found += 1;
            found_bytes += (key.len() + value.len()) as u64;
        } else {
            assert_eq!(reply, "NOT_FOUND\n");
            if i >= 3_900 {
                recent_evicted.push(key);
            }
        }
    }
    // Sampled LRU evicts a new key only from a sample holding nothing older: never one
    // of the last few written. TinyLFU evicts the lowest estimated frequency first and
    // breaks ties by recency, and its count-min sketch may overestimate the old keys it
    // samples beside a new one, so now and then a recent key goes first: it may lose a
    // couple of the last hundred, not more.
    let (window, tolerated) = if policy == "lru" { (5, 0) } else { (100, 2) };
    let lost: Vec<_> = recent_evicted
        .iter()
        .filter(|key| key.as_str() >= format!("key{:04}", 4_000 - window).as_str())
        .collect();
    assert!(
        lost.len() <= tolerated,
        "{policy}: of the last {window} keys written, these were evicted: {lost:?}"
    );
    assert!(
        found >= 1_000,
        "eviction removed far too much: {found} keys left"
    );
    assert_eq!(
        client.usage(),
        found_bytes,
        "USAGE must equal the bytes of the keys still found"
    );
}

#[test]
fn overwrites_and_deletes_under_pressure_keep_usage_exact() {
    let server = Server::start(&["--memory-limit", "64KiB"]);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut client = if t % 2 == 0 {
                server.tcp_client()
            } else {
                server.unix_client()
            };
            std::thread::spawn(move || {
                for i in 0..3_000usize {
                    let key = format!("k{}", (i * 7 + t) % 300);
                    let request = if i % 5 == 4 {
                        format!("DELETE {key}\n")
                    } else {
                        format!("SET {key} {}\n", "v".repeat((i * 13 + t) % 700))
                    };
                    let reply = client.request(request.as_bytes());
                    assert!(reply == "OK\n" || reply == "NOT_FOUND\n", "{reply}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut client = server.tcp_client();
    wait_usage_within(&mut client, 64 * 1024);
    let keys: Vec<String> = (0..300).map(|k| format!("k{k}")).collect();
    let (usage, live) = settled_usage_and_live(&mut client, &keys);
    assert_eq!(usage, live);
}

#[test]
fn a_write_flood_never_passes_the_hard_cap_and_settles_under_the_limit() {
    const LIMIT: u64 = 256 * 1024;
    const MAX_VALUE: usize = 8 * 1024;
    const WRITERS: usize = 8;
    // The documented bound on what the store charges (INFO's used_memory: entries, table
    // and heap, not USAGE's key and value bytes): limit + max(1% of the limit, one
    // maximum-size value).
    let bound = LIMIT + (LIMIT / 100).max(MAX_VALUE as u64);
    let server = Server::start(&["--memory-limit", "256KiB", "--max-value-size", "8KiB"]);
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    // The writers keep writing until the poller has polled this often, so the two overlap
    // however the threads are scheduled.
    const MIN_POLLS: u64 = 200;
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let polls = std::sync::Arc::new(AtomicU64::new(0));
    let poller = {
        let mut client = server.tcp_client();
        let (done, polls) = (done.clone(), polls.clone());
        std::thread::spawn(move || {
            let mut max = 0;
            while !done.load(Ordering::Acquire) {
                max = max.max(client.info()["used_memory"]);
                polls.fetch_add(1, Ordering::Relaxed);
            }
            max
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut client = if w % 2 == 0 {
                server.tcp_client()
            } else {
                server.unix_client()
            };
            let polls = polls.clone();
            std::thread::spawn(move || {
                let mut written = 0u64;
                let mut i = 0usize;
                // Together the writers write at least ten times the limit, in pipelined
                // batches.
                while written < 10 * LIMIT / WRITERS as u64
                    || polls.load(Ordering::Relaxed) < MIN_POLLS
                {
                    let mut batch = Vec::new();
                    for _ in 0..16 {
                        let len = 512 + (i * 997 + w * 131) % (MAX_VALUE - 512);
                        batch.extend_from_slice(format!("SET w{w}-{i} ").as_bytes());
                        batch.resize(batch.len() + len, b'f');
                        batch.push(b'\n');
                        written += len as u64;
                        i += 1;
                    }
                    client.send(&batch);
                    for _ in 0..16 {
                        assert_eq!(client.read_line(), b"OK\n");
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let max = poller.join().unwrap();
    assert!(polls.load(Ordering::Relaxed) >= MIN_POLLS);
    assert!(
        max <= bound,
        "the charge reached {max}, over the bound {bound}"
    );
    let mut client = server.tcp_client();
    wait_usage_within(&mut client, LIMIT);
}

/// `writers` connections pipeline SETs of distinct keys with `value_len`-byte values, 16
/// deep, until `bytes` of keys and values are written in all.
fn churn(server: &Server, writers: usize, value_len: usize, bytes: u64) {
    const BATCH: usize = 16;
    let per_writer = bytes / writers as u64;
    std::thread::scope(|scope| {
        for w in 0..writers {
            let mut client = if w % 2 == 0 {
                server.tcp_client()
            } else {
                server.unix_client()
            };
            scope.spawn(move || {
                let value = vec![b'a' + w as u8; value_len];
                let (mut written, mut i) = (0u64, 0u64);
                let mut batch = Vec::new();
                while written < per_writer {
                    batch.clear();
                    for _ in 0..BATCH {
                        let key = format!("churn-{w}-{i:010}");
                        written += (key.len() + value_len) as u64;
                        batch.extend_from_slice(format!("SET {key} ").as_bytes());
                        batch.extend_from_slice(&value);
                        batch.push(b'\n');
                        i += 1;
                    }
                    client.send(&batch);
                    for _ in 0..BATCH {
                        assert_eq!(client.read_line(), b"OK\n", "writer {w}");
                    }
                }
            });
        }
    });
}

/// The memory limit under eviction churn, on a release build: peak RSS (the kernel's
/// high-water mark, `VmHWM`, so no moment between samples is missed) against the promise,
/// 1.1 x the limit plus the empty server's RSS, under the load `benches/compare.sh
/// --memory` measures (a 64 MiB limit, eight writers pipelining 16 deep). That load peaks
/// at 1.08-1.10 x over the empty server with 32-byte values and 1.03-1.04 x with
/// 1000-byte ones; the test allows 2 MiB more than the promise, for a machine whose
/// scheduling delays the store's readings of the heap more than this one's, and still
/// fails at the 1.3 x that reclamation stalls gave before (docs/memory.md).
///
/// The debug build's own overheads are not the product's, so the server measured is the
/// release binary at `BLINK_RELEASE_BIN` (`.ci/test` passes the static binary the
/// container check builds, the one the image ships), or this test's own binary when the
/// test itself is built with `--release`.
#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs a release server: BLINK_RELEASE_BIN=path, or --release (.ci/test does it)"]
fn peak_rss_stays_within_the_limit_under_churn() {
    let binary = match std::env::var("BLINK_RELEASE_BIN") {
        Ok(binary) => binary,
        Err(_) if cfg!(debug_assertions) => {
            panic!("set BLINK_RELEASE_BIN to a release build of blink-store, or run with --release")
        }
        Err(_) => common::binary().to_owned(),
    };
    const LIMIT: u64 = 64 << 20;
    const TOLERANCE_KIB: u64 = 2 << 10;
    for value_len in [32, 1000] {
        let server = Server::start_binary(&binary, &["--memory-limit", "64MiB"]);
        let pid = server.pid();
        let empty_kib = status_kib(pid, "VmRSS");
        // Three times the limit in key and value bytes: for 32-byte values that is many
        // times the entries that fit, since each is charged its whole footprint.
        churn(&server, 8, value_len, 3 * LIMIT);
        let peak_kib = status_kib(pid, "VmHWM");
        let mut client = server.tcp_client();
        let info = client.request(b"INFO\n");
        let mut resp = server.tcp_client();
        resp.send(&common::resp_command(&[b"INFO", b"memory"]));
        resp.send(&common::resp_command(&[b"QUIT"]));
        let memory = String::from_utf8_lossy(&resp.read_to_end()).into_owned();
        let promise_kib = LIMIT * 110 / 100 / 1024 + empty_kib;
        let bound_kib = promise_kib + TOLERANCE_KIB;
        println!(
            "{value_len}-byte values: empty {empty_kib} KiB, peak {peak_kib} KiB = {:.3} x the \
             limit over empty, promise {promise_kib} KiB; {}",
            (peak_kib - empty_kib) as f64 * 1024.0 / LIMIT as f64,
            info.trim()
        );
        println!("{}", memory.replace("\r\n", " "));
        assert!(info.contains(" evictions=") && !info.contains(" evictions=0 "));
        assert!(
            peak_kib <= bound_kib,
            "{value_len}-byte values: peak RSS {peak_kib} KiB over 110% of the limit + the \
             empty server's {empty_kib} KiB + {TOLERANCE_KIB} KiB = {bound_kib} KiB"
        );
    }
}
