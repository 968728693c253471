//! The Prometheus endpoint (`--metrics`), scraped over HTTP from a live server: the
//! figures move with the traffic sent, in Prometheus's names and units.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::common::{self, field, http_get, resp_command, Server};

/// Every sample of a scrape, by its name with labels (`name{a="b"}`).
fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let response = http_get(addr, "/metrics");
    assert_eq!(response.status, 200, "{}", response.body);
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(response.body.ends_with("# EOF\n"), "{}", response.body);
    response
        .body
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// The sample `name`, 0 if the scrape has none.
fn get(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

/// What moved from `before` to `after` in the sample `name`.
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, name: &str) -> f64 {
    get(after, name) - get(before, name)
}

/// A server with memcached listeners and the endpoint on a port the system chooses, and
/// the endpoint's address.
fn start() -> (Server, SocketAddr) {
    let server = Server::start_memcache(&["--metrics", "127.0.0.1:0", "--memory-limit", "32MiB"]);
    let metrics = endpoint(&server);
    (server, metrics)
}

/// Where `server` serves its metrics, from its log.
fn endpoint(server: &Server) -> SocketAddr {
    let log = server.log_text();
    let line = log
        .lines()
        .find(|line| line.contains("serving metrics"))
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{log}"));
    field(line, "addr=").parse().unwrap()
}

#[test]
fn figures_move_with_traffic() {
    let (server, metrics) = start();
    let before = scrape(metrics);
    assert_eq!(
        get(&before, "blink_memory_limit_bytes"),
        32.0 * 1024.0 * 1024.0
    );
    assert_eq!(get(&before, "blink_keys"), 0.0);

    // Over the line protocol: 3 SETs, 2 hits and 1 miss.
    let mut line = common::Client::tcp(server.tcp.unwrap());
    let mut sent = 0;
    for (request, reply) in [
        (&b"SET a 1\n"[..], "OK\n"),
        (b"SET b 2\n", "OK\n"),
        (b"SET c 3\n", "OK\n"),
        (b"GET a\n", "VALUE MQ==\n"),
        (b"GET b\n", "VALUE Mg==\n"),
        (b"GET nope\n", "NOT_FOUND\n"),
    ] {
        assert_eq!(line.request(request), reply);
        sent += request.len();
    }
    // Over RESP: one error reply and one refusal (wrong arity).
    let mut resp = common::Client::tcp(server.tcp.unwrap());
    for (args, reply) in [
        (&[&b"INCR"[..], b"a"][..], ""),
        (&[b"SET", b"word", b"text"], "+OK\r\n"),
        (
            &[b"INCR", b"word"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &[b"GET"],
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
    ] {
        let request = resp_command(args);
        let got = resp.request(&request);
        if !reply.is_empty() {
            assert_eq!(got, reply);
        }
        sent += request.len();
    }
    // Over memcached's protocol.
    let mut mc = server.memcache_client(false);
    assert_eq!(mc.request(b"set m 5 0 1\r\nx\r\n"), "STORED\r\n");
    assert_eq!(mc.request(b"get m\r\n"), "VALUE m 5 1\r\n");
    assert_eq!(mc.read_line(), b"x\r\n");
    assert_eq!(mc.read_line(), b"END\r\n");
    sent += b"set m 5 0 1\r\nx\r\n".len() + b"get m\r\n".len();

    let after = scrape(metrics);
    let delta = |name: &str| moved(&before, &after, name);
    for (name, expected) in [
        (r#"blink_commands_total{command="set",result="ok"}"#, 4),
        (r#"blink_commands_total{command="get",result="ok"}"#, 3),
        (
            r#"blink_commands_total{command="get",result="rejected"}"#,
            1,
        ),
        (r#"blink_commands_total{command="incr",result="ok"}"#, 1),
        (r#"blink_commands_total{command="incr",result="error"}"#, 1),
        (r#"blink_error_replies_total{code="ERR"}"#, 2),
        (r#"blink_memcache_commands_total{command="get"}"#, 1),
        (r#"blink_memcache_commands_total{command="set"}"#, 1),
        ("blink_keyspace_hits_total", 3),
        ("blink_keyspace_misses_total", 1),
        ("blink_connections_accepted_total", 3),
        // The string family's histogram: 3 SETs, 3 GETs, SET and 2 INCRs (the refused
        // GET never ran); memcached's set and get.
        (
            r#"blink_command_duration_seconds_count{family="string"}"#,
            9,
        ),
        (
            r#"blink_command_duration_seconds_count{family="memcache"}"#,
            2,
        ),
    ] {
        assert_eq!(delta(name), f64::from(expected), "{name}");
    }
    assert_eq!(get(&after, "blink_keys"), 5.0);
    assert!(get(&after, "blink_memory_used_bytes") > get(&before, "blink_memory_used_bytes"));
    assert!(get(&after, "blink_memory_rss_bytes") > 0.0);
    assert_eq!(get(&after, "blink_connections"), 3.0);
    assert_eq!(delta("blink_net_input_bytes_total"), sent as f64);
    assert!(delta("blink_net_output_bytes_total") > 0.0);
    // Each of the three clients was read from and answered at least once.
    assert!(delta("blink_reads_total") >= 3.0);
    assert!(delta("blink_writes_total") >= 3.0);
    // The process clock's total, split between the modes by the kernel's 10 ms ticks.
    let cpu = |mode: &str| {
        get(
            &after,
            &format!(r#"blink_cpu_seconds_total{{mode="{mode}"}}"#),
        )
    };
    assert!(cpu("user") + cpu("system") > 0.0);

    // Each histogram's buckets hold every observation, and their time adds up.
    for family in ["string", "memcache"] {
        let all =
            format!(r#"blink_command_duration_seconds_bucket{{le="+Inf",family="{family}"}}"#);
        let total = format!(r#"blink_command_duration_seconds_count{{family="{family}"}}"#);
        assert_eq!(get(&after, &all), get(&after, &total), "{family}");
        let sum = format!(r#"blink_command_duration_seconds_sum{{family="{family}"}}"#);
        assert!(get(&after, &sum) > 0.0, "{family}");
    }
    drop((line, resp, mc));
}

#[test]
fn only_metrics_is_served() {
    let (_server, metrics) = start();
    assert_eq!(http_get(metrics, "/").status, 404);
    assert_eq!(http_get(metrics, "/metrics/extra").status, 404);
    // The endpoint keeps serving after requests it refuses.
    assert!(scrape(metrics).contains_key("blink_keys"));
}

#[test]
fn snapshots_show_when_they_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blink.snapshot");
    let server = Server::start(&[
        "--metrics",
        "127.0.0.1:0",
        "--snapshot",
        file.to_str().unwrap(),
    ]);
    let metrics = endpoint(&server);
    assert_eq!(get(&scrape(metrics), "blink_snapshot_saves_total"), 0.0);
    let mut client = common::Client::tcp(server.tcp.unwrap());
    for request in [&b"SET a 1\n"[..], b"SET b 2\n"] {
        assert_eq!(client.request(request), "OK\n");
    }
    // A connection speaks one protocol: SAVE is RESP's.
    let mut resp = common::Client::tcp(server.tcp.unwrap());
    assert_eq!(resp.request(&resp_command(&[b"SAVE"])), "+OK\r\n");
    let after = scrape(metrics);
    assert_eq!(get(&after, "blink_snapshot_saves_total"), 1.0);
    assert_eq!(get(&after, "blink_snapshot_last_entries"), 2.0);
    assert_eq!(get(&after, "blink_snapshot_last_failed"), 0.0);
    let size = std::fs::metadata(&file).unwrap().len();
    assert_eq!(get(&after, "blink_snapshot_last_size_bytes"), size as f64);
}
