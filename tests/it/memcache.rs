//! memcached's text and meta protocols over a real socket: a script of commands and
//! mistakes answered byte for byte as a real memcached answers it, the CAS and quiet
//! pipelines, values too large, the store shared with RESP (values, flags, TTLs,
//! eviction, flush_all) and the rule that keeps a password from being bypassed.

use std::net::SocketAddr;

use crate::common::{
    self, expect, expect_close, resp_command, run_to_end, wait_for, Client, External, Server,
};

/// A server with an auto-detecting TCP listener and a memcached one, with `extra` flags:
/// the server (its `tcp` the auto-detecting listener) and the memcached address.
fn start(extra: &[&str]) -> (Server, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = common::clean_command(common::binary());
    command
        .args(["serve", "--tcp", "127.0.0.1:0", "--memcache", "127.0.0.1:0"])
        .args(extra);
    let server = Server::spawn(&mut command, dir, true, false);
    let memcache = server
        .process
        .wait_line("the memcached listener's address", |line| {
            if !(line.contains("listening on tcp") && line.contains("wire=memcache")) {
                return None;
            }
            let (_, addr) = line.split_once("addr=")?;
            addr.split_whitespace().next()?.parse().ok()
        });
    (server, memcache)
}

/// A real memcached on a free loopback port.
fn memcached() -> External {
    External::start(
        ("memcached", "memcached"),
        |port| {
            let mut args: Vec<String> = ["-p", &port.to_string(), "-U", "0", "-l", "127.0.0.1"]
                .map(String::from)
                .into();
            // memcached refuses to run as root unless told which user to be.
            if rustix::process::geteuid().is_root() {
                args.extend(["-u".into(), "root".into()]);
            }
            args
        },
        (b"version\r\n", "VERSION"),
    )
}

/// Sends `script` then `mn`, and returns everything answered before `MN`.
fn run_script(client: &mut Client, script: &[u8]) -> String {
    client.send(script);
    client.send(b"mn\r\n");
    let mut answered = Vec::new();
    while !answered.ends_with(b"MN\r\n") {
        let line = client.read_line();
        assert!(
            !line.is_empty(),
            "closed after {:?}",
            answered.escape_ascii()
        );
        answered.extend(line);
    }
    answered.truncate(answered.len() - 4);
    String::from_utf8_lossy(&answered).into_owned()
}

/// Commands and mistakes whose answers depend on no CAS unique, pid or clock: each line
/// is sent as it is, with CRLF.
const SCRIPT: &str = "\
set a 5 0 3|abc|get a b|add a 0 0 1|x|replace a 0 0 2|xy|get a|replace nope 0 0 1|x|\
append a 0 0 2|de|prepend a 0 0 2|<<|get a|append nope 0 0 1|x|add b 7 0 0||get b|\
incr n 1|set n 0 0 2|10|incr n 5|decr n 100|incr n 18446744073709551615|incr a 1|\
set big 0 0 20|18446744073709551615|incr big 1|incr n abc|decr n -1|\
touch a 100|touch nope 1|gat 100 a nope|set neg 0 -1 1|x|get neg|\
delete a|delete a|delete b 5|delete b 0|delete b 0 noreply|get b|\
set q 0 0 1 noreply|q|get q|incr q 1 noreply|get q|set q x 0 1 noreply|set q 0 0 1 foo|r|get q|\
version|verbosity 1|verbosity|verbosity x|bogus|GET q|get|\
set k 0 0 2|abcd|set k 0 0 -1|set k 0 0|set k abc 0 1|x|\
gat abc q|touch q|flush_all abc|flush_all 0 0 0|\
mg q v f s k t Oop|mg zz v|mg zz v q k|mg zz v k Oo|\
ms m 2 T0 F3|hi|mg m v f t|ms m 2 ME|no|ms m 2 MA|!!|ms m 1 MR|R|mg m v|\
ms m 2 MX|zz|ms m 1 MSS|z|ms m 2|zzz|ms m|ms m x|\
ma n v|ma n MD D3 v|ma n M- v|ma nope|ma nope q|ma nope N0 J7 v|ma nope v|ma q v|ma n MX|\
ma n Dx|md m q|md m|md m|md m x|md m Cx|\
mg q v v|mg q E5|mg q Tx|mg|mg q ts3z |mg !!!! b|mg bQ== b v k|ms bQ== b 2|hi|mg bQ== b v k|\
mg q O123456789012345678901234567890123|me|\
mg viv N0 v s k|mg viv N0 v s k|mg viv v h|mg viv h|md viv I|mg viv v f|mg viv v|\
ms viv 2 C1 I|hi|mg viv v t|ms viv 2|ho|mg viv v h|mg viv u h|mg viv h|\
set r 0 100 1|x|mg r R300 v|mg r R300 v|mg r R5|set r2 0 100 1|x|mg r2 R5|mg r2 T20 R30|\
mg r2 R30|set a2 0 100 1|1|md a2 I T0 q|mg a2 t v|md a2 I C1|md a2 I T-1|mg a2 v|md nope I|\
set b2 0 0 1|1|ms b2 1 I|2|mg b2 v|ms b2 1 I MA C1|3|mg b2 v|ms b2 1 I MR C1|4|mg b2 v|\
mg c2 N0 T-1 v|mg c2 v|mg d2 T-1 N0 v|mg d2 v|mg e2 N-1 v|mg e2 v|mg e2 N-1 q|\
set f2 0 0 1|1|get f2|mg f2 h|set g2 0 0 1|1|touch g2 10|mg g2 h|gat 0 g2|mg g2 h t|\
mg i2 k q|mg j2 N0 q k|mg viv I v|ma viv I|mg viv R0 N0 Rx|mg viv Nx|\
stats nope|flush_all|get q m n|";

#[test]
fn commands_and_mistakes_are_answered_as_memcached_answers_them() {
    let memcached = memcached();
    let (_blink, addr) = start(&[]);
    let script: String = SCRIPT
        .split('|')
        .map(|line| format!("{line}\r\n"))
        .collect();
    let mut theirs = Client::tcp(memcached.addr().parse().unwrap());
    let mut ours = Client::tcp(addr);
    let expected = run_script(&mut theirs, script.as_bytes());
    let answered = run_script(&mut ours, script.as_bytes());
    let (expected, answered): (Vec<_>, Vec<_>) =
        (expected.lines().collect(), answered.lines().collect());
    for (i, (theirs, ours)) in expected.iter().zip(&answered).enumerate() {
        assert_eq!(
            ours,
            theirs,
            "line {i}; memcached answered:\n{}",
            expected.join("\n")
        );
    }
    assert_eq!(answered.len(), expected.len(), "{answered:#?}");
}

#[test]
fn cas_uniques_let_one_writer_win() {
    let (_blink, addr) = start(&[]);
    let mut client = Client::tcp(addr);
    client.send(b"set k 3 0 2\r\nv1\r\ngets k\r\n");
    assert_eq!(client.read_line(), b"STORED\r\n");
    let header = String::from_utf8(client.read_line()).unwrap();
    let cas: u64 = header
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(header.starts_with("VALUE k 3 2 "), "{header}");
    expect(&mut client, b"v1\r\nEND\r\n");
    let stale = format!("cas k 0 0 2 {cas}\r\nv2\r\ncas k 0 0 2 {cas}\r\nv3\r\n");
    client.send(stale.as_bytes());
    expect(&mut client, b"STORED\r\nEXISTS\r\n");
    // The meta protocol's C compares the same unique; the winner's c is a new one.
    let line = client.request(b"mg k c v\r\n");
    let new_cas: u64 = line
        .trim_end()
        .strip_prefix("VA 2 c")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(new_cas, cas);
    expect(&mut client, b"v2\r\n");
    client.send(format!("md k C{cas}\r\nmd k C{new_cas} q\r\nmn\r\n").as_bytes());
    expect(&mut client, b"EX\r\nMN\r\n");
    client.send(b"cas k 0 0 1 1\r\nx\r\n");
    expect(&mut client, b"NOT_FOUND\r\n");
}

#[test]
fn a_recache_token_goes_to_one_client_and_me_shows_the_fetch() {
    let (_blink, addr) = start(&[]);
    let (mut one, mut other) = (Client::tcp(addr), Client::tcp(addr));
    one.send(b"set k 0 0 1\r\nx\r\n");
    expect(&mut one, b"STORED\r\n");
    let fetch = |line: String| {
        line.split(' ')
            .find(|word| word.starts_with("fetch="))
            .map(str::to_owned)
    };
    assert_eq!(fetch(one.request(b"me k\r\n")).as_deref(), Some("fetch=no"));
    assert_eq!(other.request(b"mg k h\r\n"), "HD h0\r\n");
    assert_eq!(
        fetch(one.request(b"me k\r\n")).as_deref(),
        Some("fetch=yes")
    );
    // Marked stale: the first client to ask wins, whichever connection it is on.
    assert_eq!(one.request(b"md k I q\r\nmn\r\n"), "MN\r\n");
    assert_eq!(other.request(b"mg k s\r\n"), "HD s1 X W\r\n");
    assert_eq!(one.request(b"mg k s\r\n"), "HD s1 Z X\r\n");
    // A missing key: created once, empty.
    assert_eq!(one.request(b"mg new N30 s k\r\n"), "HD s0 knew W\r\n");
    assert_eq!(other.request(b"mg new N30 s k\r\n"), "HD s0 knew Z\r\n");
}

#[test]
fn a_quiet_pipeline_answers_only_misses_and_mistakes() {
    let (_blink, addr) = start(&[]);
    let mut client = Client::tcp(addr);
    client.send(b"ms a 1 q\r\n1\r\nms b 1 q MR\r\n2\r\nmg a v q k\r\nmg b v q k\r\nmd a q\r\nmd a q\r\nmg a v q\r\nmn\r\n");
    expect(&mut client, b"NS\r\nVA 1 ka\r\n1\r\nNF\r\nMN\r\n");
}

#[test]
fn a_value_too_large_is_refused_and_dropped_even_as_it_arrives() {
    let (_blink, addr) = start(&["--max-value-size", "1000"]);
    let mut client = Client::tcp(addr);
    client.send(b"set k 0 0 1\r\nx\r\nset k 0 0 5000\r\n");
    expect(
        &mut client,
        b"STORED\r\nSERVER_ERROR object too large for cache\r\n",
    );
    // The data comes later, in pieces; none of it is read as commands.
    let data = "get k\r\n".repeat(5000 / 7 + 1);
    client.send(&data.as_bytes()[..2500]);
    client.send(&data.as_bytes()[2500..5000]);
    client.send(b"\r\nget k\r\nms k 1001 T0\r\n");
    // memcached drops the old value of a set it could not store.
    expect(
        &mut client,
        b"END\r\nSERVER_ERROR object too large for cache\r\n",
    );
    client.send(&[b'y'; 1003]);
    client.send(b"mn\r\n");
    expect(&mut client, b"MN\r\n");
}

#[test]
fn an_append_past_the_value_limit_is_not_stored_as_in_memcached() {
    // At memcached's scale (its 1 MB item limit; Blink Store's default 1 MiB): the
    // same answers, and the value stays as it was.
    let memcached = memcached();
    let (_blink, addr) = start(&[]);
    let half = vec![b'x'; 600_000];
    let script = [
        &b"set k 0 0 600000\r\n"[..],
        &half,
        b"\r\nappend k 0 0 600000\r\n",
        &half,
        b"\r\nprepend k 0 0 600000\r\n",
        &half,
        b"\r\nms k 600000 MA\r\n",
        &half,
        b"\r\nms k 600000 MP q\r\n",
        &half,
        b"\r\nmg k s\r\nappend k 0 0 1\r\n!\r\nmg k s\r\n",
    ]
    .concat();
    let expected = "STORED\r\nNOT_STORED\r\nNOT_STORED\r\nNS\r\nNS\r\nHD s600000\r\nSTORED\r\n\
                    HD s600001\r\n";
    let mut theirs = Client::tcp(memcached.addr().parse().unwrap());
    assert_eq!(run_script(&mut theirs, &script), expected, "memcached");
    let mut ours = Client::tcp(addr);
    assert_eq!(run_script(&mut ours, &script), expected, "Blink Store");

    // Exactly at --max-value-size is allowed, one byte more is not, over either
    // protocol; racing appends cannot pass it together.
    let (blink, addr) = start(&["--max-value-size", "1000"]);
    let mut client = Client::tcp(addr);
    client.send(b"set k 0 0 999\r\n");
    client.send(&[b'v'; 999]);
    client.send(b"\r\nappend k 0 0 2\r\n!!\r\nprepend k 0 0 1\r\n<\r\nappend k 0 0 1\r\n>\r\n");
    expect(
        &mut client,
        b"STORED\r\nNOT_STORED\r\nSTORED\r\nNOT_STORED\r\n",
    );
    let mut resp = blink.tcp_client();
    resp.send(&resp_command(&[b"APPEND", b"k", b">"]));
    expect(
        &mut resp,
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    resp.send(&resp_command(&[b"STRLEN", b"k"]));
    expect(&mut resp, b":1000\r\n");
    client.send(b"set r 0 0 0\r\n\r\n");
    expect(&mut client, b"STORED\r\n");
    let stored: usize = std::thread::scope(|scope| {
        let appenders: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut client = Client::tcp(addr);
                    let chunk = [&b"append r 0 0 10\r\n"[..], &[b'a'; 10], b"\r\n"].concat();
                    (0..40)
                        .filter(|_| client.request(&chunk) == "STORED\r\n")
                        .count()
                })
            })
            .collect();
        appenders.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(stored, 100, "100 appends of 10 bytes fill 1000 bytes");
    assert_eq!(run_script(&mut client, b"mg r s\r\n"), "HD s1000\r\n");
}

#[test]
fn bad_input_keeps_the_connection_and_an_endless_line_closes_it() {
    let (_blink, addr) = start(&[]);
    let mut client = Client::tcp(addr);
    let long_key = "k".repeat(251);
    client.send(format!("get {long_key}\r\nset {long_key} 0 0 1\r\nx\r\n\r\n\x00\r\n").as_bytes());
    expect(
        &mut client,
        b"CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nERROR\r\nERROR\r\n",
    );
    client.send(b"version\r\n");
    expect(&mut client, b"VERSION 1.6.18\r\n");
    // A line that cannot be a multi-get is given up on past 2048 bytes.
    client.send(b"set k 0 0 1\r\nx\r\n");
    client.send(&[b'x'; 4096]);
    expect_close(&mut client, b"STORED\r\nCLIENT_ERROR line too long\r\n");
}

#[test]
fn both_protocols_share_values_flags_and_ttls() {
    let (blink, addr) = start(&[]);
    let mut mc = Client::tcp(addr);
    let mut resp = blink.tcp_client();
    resp.send(&resp_command(&[
        b"SET",
        b"from-resp",
        b"hello",
        b"EX",
        b"100",
    ]));
    expect(&mut resp, b"+OK\r\n");
    mc.send(b"get from-resp\r\nmg from-resp t f\r\n");
    expect(&mut mc, b"VALUE from-resp 0 5\r\nhello\r\nEND\r\n");
    let ttl = String::from_utf8(mc.read_line()).unwrap();
    assert!(ttl == "HD t100 f0\r\n" || ttl == "HD t99 f0\r\n", "{ttl}");
    mc.send(b"set from-mc 9 50 2\r\nhi\r\n");
    expect(&mut mc, b"STORED\r\n");
    resp.send(&resp_command(&[b"GET", b"from-mc"]));
    resp.send(&resp_command(&[b"TTL", b"from-mc"]));
    expect(&mut resp, b"$2\r\nhi\r\n:50\r\n");
    // APPEND over RESP keeps memcached's flags; SET over RESP resets them.
    resp.send(&resp_command(&[b"APPEND", b"from-mc", b"!"]));
    expect(&mut resp, b":3\r\n");
    mc.send(b"get from-mc\r\n");
    expect(&mut mc, b"VALUE from-mc 9 3\r\nhi!\r\nEND\r\n");
    resp.send(&resp_command(&[b"SET", b"from-mc", b"plain"]));
    expect(&mut resp, b"+OK\r\n");
    mc.send(b"mg from-mc f t v\r\n");
    expect(&mut mc, b"VA 5 f0 t-1\r\nplain\r\n");
    // A write over memcached aborts a RESP transaction watching the key.
    resp.send(&resp_command(&[b"WATCH", b"from-mc"]));
    expect(&mut resp, b"+OK\r\n");
    mc.send(b"touch from-mc 10\r\n");
    expect(&mut mc, b"TOUCHED\r\n");
    resp.send(&resp_command(&[b"MULTI"]));
    resp.send(&resp_command(&[b"GET", b"from-mc"]));
    resp.send(&resp_command(&[b"EXEC"]));
    expect(&mut resp, b"+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn a_delayed_flush_all_empties_the_store_when_due() {
    let (_blink, addr) = start(&[]);
    let mut client = Client::tcp(addr);
    client.send(b"set a 0 0 1\r\n1\r\nflush_all 1\r\nget a\r\n");
    expect(&mut client, b"STORED\r\nOK\r\nVALUE a 0 1\r\n1\r\nEND\r\n");
    wait_for("the delayed flush", || {
        run_script(&mut client, b"get a\r\n") == "END\r\n"
    });
    // A flush now cancels a pending one: b, set after it, stays.
    client.send(b"flush_all 1\r\nflush_all\r\nset b 0 0 1\r\n2\r\n");
    expect(&mut client, b"OK\r\nOK\r\nSTORED\r\n");
    // Past the cancelled deadline: a wait for something that must not happen.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    client.send(b"get b\r\n");
    expect(&mut client, b"VALUE b 0 1\r\n2\r\nEND\r\n");
}

#[test]
fn the_memory_limit_evicts_memcached_items() {
    let (_blink, addr) = start(&["--memory-limit", "2MiB", "--max-value-size", "1000"]);
    let mut client = Client::tcp(addr);
    let value = [b'v'; 1000];
    for i in 0..6000 {
        client.queue(&[
            format!("set key:{i} 1 0 1000 noreply\r\n").as_bytes(),
            &value,
            b"\r\n",
        ]);
    }
    let stats = |client: &mut Client| -> (u64, u64) {
        client.send(b"stats\r\n");
        let (mut items, mut evictions) = (0, 0);
        loop {
            let line = String::from_utf8(client.read_line()).unwrap();
            if line == "END\r\n" {
                return (items, evictions);
            }
            let mut words = line.split_whitespace().skip(1);
            match (words.next(), words.next().and_then(|n| n.parse().ok())) {
                (Some("curr_items"), Some(n)) => items = n,
                (Some("evictions"), Some(n)) => evictions = n,
                _ => {}
            }
        }
    };
    wait_for("evictions to bring the store under its limit", || {
        let (items, evictions) = stats(&mut client);
        evictions > 0 && items < 2100
    });
}

#[test]
fn a_password_allows_memcached_only_on_loopback_or_a_unix_socket() {
    let (status, _, stderr) = run_to_end(
        &[
            "serve",
            "--requirepass",
            "secret",
            "--memcache",
            "0.0.0.0:0",
        ],
        &[],
    );
    assert!(!status.success());
    assert!(
        stderr.contains("memcached's protocol has no AUTH"),
        "{stderr}"
    );
    let (blink, addr) = start(&["--requirepass", "secret"]);
    let mut mc = Client::tcp(addr);
    mc.send(b"set k 0 0 1\r\nx\r\n");
    expect(&mut mc, b"STORED\r\n");
    let mut other = blink.tcp_client();
    assert_eq!(
        other.request(b"GET k\n"),
        "ERROR NOAUTH Authentication required.\n"
    );
    assert_eq!(mc.request(b"mn\r\n"), "MN\r\n");
}
