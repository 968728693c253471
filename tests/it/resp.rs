//! RESP2 on the same listeners: a connection whose first byte is `*` speaks Redis's
//! protocol. Raw frames over real sockets, binary values, Redis's error texts, and the
//! real `redis-cli` and `redis-benchmark` against the real server.

use crate::common;

use std::process::Command;

use common::{expect, resp_command, tool, value_reply, Server};

#[test]
fn the_basic_commands_answer_as_redis_does_pipelined_over_tcp_and_unix() {
    let server = Server::start(&[]);
    for mut client in [server.tcp_client(), server.unix_client()] {
        let mut batch = Vec::new();
        for args in [
            &[&b"PING"[..]][..],
            &[b"SET", b"user", b"alice"],
            &[b"get", b"user"],
            &[b"GET", b"nobody"],
            &[b"USAGE"],
            &[b"DEL", b"user"],
            &[b"DEL", b"user"],
        ] {
            batch.extend(resp_command(args));
        }
        client.send(&batch);
        expect(
            &mut client,
            b"+PONG\r\n+OK\r\n$5\r\nalice\r\n$-1\r\n:9\r\n:1\r\n:0\r\n",
        );
        client.send(&resp_command(&[b"QUIT"]));
        expect(&mut client, b"+OK\r\n");
        assert_eq!(client.read_to_end(), b"", "closed after QUIT");
    }
}

#[test]
fn values_are_binary_safe_and_shared_with_the_line_protocol() {
    let server = Server::start(&[]);
    let value: Vec<u8> = (0..=255u8)
        .chain(b"\r\n\r\n*3\r\n".iter().copied())
        .collect();
    let mut resp = server.tcp_client();
    resp.send(&resp_command(&[b"SET", b"bytes", &value]));
    expect(&mut resp, b"+OK\r\n");
    resp.send(&resp_command(&[b"GET", b"bytes"]));
    let mut reply = format!("${}\r\n", value.len()).into_bytes();
    reply.extend_from_slice(&value);
    reply.extend_from_slice(b"\r\n");
    expect(&mut resp, &reply);

    let mut line = server.tcp_client();
    assert_eq!(line.request(b"GET bytes\n").as_bytes(), value_reply(&value));
}

#[test]
fn client_mistakes_get_redis_errors_and_the_connection_keeps_working() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    client.send(&resp_command(&[b"FOO", b"a", b"b"]));
    expect(
        &mut client,
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
    );
    client.send(&resp_command(&[b"GET"]));
    expect(
        &mut client,
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    client.send(&resp_command(&[b"SET", &[b'k'; 2000], b"v"]));
    expect(&mut client, b"-ERR key too long (max 1024 bytes)\r\n");
    client.send(&resp_command(&[b"PING"]));
    expect(&mut client, b"+PONG\r\n");
}

#[test]
fn framing_errors_are_answered_then_the_connection_closes() {
    let server = Server::start(&[]);
    for (junk, error) in [
        (&b"*abc\r\n"[..], "invalid multibulk length"),
        (b"*1\r\n+PING\r\n", "expected '$', got '+'"),
        (b"*1\r\n$-5\r\n", "invalid bulk length"),
        (b"*1\r\n$999999999999\r\n", "invalid bulk length"),
    ] {
        let mut client = server.tcp_client();
        client.send(junk);
        let rest = client.read_to_end();
        assert_eq!(
            String::from_utf8(rest).unwrap(),
            format!("-ERR Protocol error: {error}\r\n")
        );
    }
    // A value bigger than --max-value-size is refused by its header, before it arrives.
    let mut client = server.tcp_client();
    client.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n");
    assert_eq!(
        client.read_to_end(),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut fresh = server.tcp_client();
    fresh.send(&resp_command(&[b"PING"]));
    expect(&mut fresh, b"+PONG\r\n");
}

#[test]
fn redis_cli_runs_a_session() {
    let server = Server::start(&[]);
    let port = server.tcp.unwrap().port().to_string();
    let cli = |args: &[&str]| {
        let output = Command::new(tool("redis-cli", "redis-tools"))
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(cli(&["PING"]), "PONG\n");
    assert_eq!(cli(&["SET", "user", "alice"]), "OK\n");
    assert_eq!(cli(&["GET", "user"]), "alice\n");
    assert_eq!(cli(&["USAGE"]), "9\n");
    assert_eq!(cli(&["DEL", "user"]), "1\n");
    // redis-cli prints a nil as an empty line, and an error followed by an empty line,
    // exactly as it does for a real Redis.
    assert_eq!(cli(&["GET", "user"]), "\n");
    assert_eq!(
        cli(&["GET"]),
        "ERR wrong number of arguments for 'get' command\n\n"
    );
}

#[test]
fn redis_benchmark_sets_and_gets_without_errors() {
    let server = Server::start(&[]);
    let port = server.tcp.unwrap().port().to_string();
    let output = Command::new(tool("redis-benchmark", "redis-tools"))
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(["-t", "set,get", "-n", "20000", "-P", "16", "-q"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for test in ["SET", "GET"] {
        assert!(
            stdout
                .lines()
                .any(|line| line.contains(&format!("{test}: "))
                    && line.contains("requests per second")),
            "no {test} result:\n{stdout}\n{stderr}"
        );
    }
    assert!(
        !stdout.to_lowercase().contains("error") && !stderr.to_lowercase().contains("error"),
        "{stdout}\n{stderr}"
    );
    // The server is still there and its accounting whole.
    let mut client = server.tcp_client();
    assert!(client.request(b"USAGE\n").starts_with("USAGE "));
}

/// A real `redis-server` and a Blink Store server, each with a RESP client: the same
/// commands go to both.
pub struct SideBySide {
    /// The client of `redis-server`.
    pub theirs: common::Resp,
    /// The client of Blink Store.
    pub ours: common::Resp,
    /// Held so both servers live as long as the clients.
    pub redis: common::External,
    /// Held so both servers live as long as the clients.
    pub blink: Server,
}

impl SideBySide {
    /// Starts both servers.
    pub fn start() -> SideBySide {
        Self::start_with(&[])
    }

    /// [`SideBySide::start`] with flags for Blink Store.
    pub fn start_with(blink_flags: &[&str]) -> SideBySide {
        let redis = common::External::redis();
        let blink = Server::start(blink_flags);
        SideBySide {
            theirs: common::Resp::connect(redis.addr().parse().unwrap()),
            ours: common::Resp::connect(blink.tcp.unwrap()),
            redis,
            blink,
        }
    }

    /// A new client of each: Redis's, then Blink's.
    pub fn connect(&self) -> (common::Resp, common::Resp) {
        (
            common::Resp::connect(self.redis.addr().parse().unwrap()),
            common::Resp::connect(self.blink.tcp.unwrap()),
        )
    }

    /// Sends `command` to both: Redis's reply, then Blink's.
    pub fn call(&mut self, command: &[&[u8]]) -> (common::Reply, common::Reply) {
        (self.theirs.call(command), self.ours.call(command))
    }
}

/// A command's arguments, readable in a failure message.
pub fn show_args(command: &[&[u8]]) -> Vec<String> {
    command
        .iter()
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// EXPIRE's NX, XX, GT and LT, their errors, and the order Redis checks them in: the same
/// commands to a real `redis-server` and to Blink Store, every reply compared (TTLs to
/// within a second, as the two clocks start apart).
#[test]
fn expire_options_answer_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"SET", b"k", b"v"],
        &[b"EXPIRE", b"k", b"100", b"XX"],
        &[b"EXPIRE", b"k", b"100", b"GT"],
        &[b"EXPIRE", b"k", b"100", b"NX"],
        &[b"EXPIRE", b"k", b"200", b"nx"],
        &[b"EXPIRE", b"k", b"50", b"GT"],
        &[b"EXPIRE", b"k", b"200", b"gt"],
        &[b"EXPIRE", b"k", b"300", b"LT"],
        &[b"EXPIRE", b"k", b"100", b"XX", b"LT"],
        &[b"PEXPIRE", b"k", b"150000", b"XX"],
        &[b"TTL", b"k"],
        &[b"PERSIST", b"k"],
        &[b"EXPIRE", b"k", b"100", b"LT"],
        &[b"EXPIRE", b"missing", b"10", b"XX"],
        &[b"EXPIRE", b"missing", b"10"],
        &[b"EXPIRE", b"k", b"10", b"NX", b"XX"],
        &[b"EXPIRE", b"k", b"10", b"NX", b"GT"],
        &[b"EXPIRE", b"k", b"10", b"GT", b"LT"],
        &[b"EXPIRE", b"k", b"10", b"FOO"],
        &[b"EXPIRE", b"k", b"abc", b"FOO"],
        &[b"EXPIRE", b"k", b"abc", b"NX"],
        &[b"EXPIREAT", b"k", b"99999999999", b"GT"],
        &[b"PEXPIREAT", b"k", b"1", b"GT"],
        &[b"EXPIREAT", b"k", b"1", b"LT"],
        &[b"EXISTS", b"k"],
        &[b"SET", b"n", b"v"],
        &[b"EXPIRE", b"n", b"-1", b"NX"],
        &[b"EXISTS", b"n"],
    ];
    for command in script {
        let (want, got) = both.call(command);
        let shown = show_args(command);
        match (&want, &got) {
            (common::Reply::Integer(want), common::Reply::Integer(got)) if command[0] == b"TTL" => {
                assert!(
                    (want - got).abs() <= 1,
                    "{shown:?}: Redis {want}, Blink {got}"
                )
            }
            _ => assert_eq!(got, want, "{shown:?}"),
        }
    }
}

/// EXPIRETIME, PEXPIRETIME and TOUCH beside a real `redis-server`: every reply compared,
/// expiry times to within a second (the two servers' clocks are read apart).
#[test]
fn expire_times_and_touch_answer_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"SET", b"a", b"1"],
        &[b"SET", b"b", b"2"],
        &[b"EXPIRETIME", b"a"],
        &[b"PEXPIRETIME", b"missing"],
        &[b"EXPIREAT", b"a", b"4000000000"],
        &[b"EXPIRETIME", b"a"],
        &[b"PEXPIREAT", b"b", b"4000000000999"],
        &[b"PEXPIRETIME", b"b"],
        &[b"EXPIRETIME", b"b"],
        &[b"PEXPIRE", b"b", b"100000"],
        &[b"TOUCH", b"a", b"b", b"missing", b"a"],
        &[b"TOUCH"],
        &[b"EXPIRETIME"],
        &[b"EXPIRETIME", b"a", b"b"],
    ];
    for command in script {
        let (want, got) = both.call(command);
        let shown = show_args(command);
        assert_eq!(got, want, "{shown:?}");
    }
    // A relative expiry's absolute time, which the two servers compute from their clocks.
    let (common::Reply::Integer(want), common::Reply::Integer(got)) =
        both.call(&[b"PEXPIRETIME", b"b"])
    else {
        panic!("PEXPIRETIME is an integer");
    };
    assert!((want - got).abs() < 1000, "Redis {want}, Blink {got}");
}

/// TYPE and TIME beside a real `redis-server`: TYPE's replies compared, TIME's shape
/// and its seconds to within one of Redis's.
#[test]
fn type_and_time_answer_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"SET", b"k", b"v"],
        &[b"TYPE", b"k"],
        &[b"TYPE", b"missing"],
        &[b"TYPE"],
        &[b"TYPE", b"k", b"k"],
        &[b"TIME", b"now"],
    ];
    for command in script {
        let (want, got) = both.call(command);
        assert_eq!(got, want, "{:?}", show_args(command));
    }
    let seconds_and_micros = |reply: common::Reply| -> (u64, u64) {
        let common::Reply::Array(Some(parts)) = reply else {
            panic!("TIME is an array: {reply:?}");
        };
        let numbers: Vec<u64> = parts
            .iter()
            .map(|part| match part {
                common::Reply::Bulk(Some(digits)) => {
                    std::str::from_utf8(digits).unwrap().parse().unwrap()
                }
                other => panic!("TIME's parts are bulk strings: {other:?}"),
            })
            .collect();
        assert_eq!(numbers.len(), 2);
        assert!(numbers[1] < 1_000_000, "microseconds {}", numbers[1]);
        (numbers[0], numbers[1])
    };
    let (theirs, ours) = both.call(&[b"TIME"]);
    let ((their_seconds, _), (our_seconds, _)) =
        (seconds_and_micros(theirs), seconds_and_micros(ours));
    assert!(their_seconds.abs_diff(our_seconds) <= 1);
}

/// GETSET, GETRANGE and SUBSTR beside a real `redis-server`, every reply compared.
#[test]
fn getset_and_getrange_answer_as_redis_does() {
    let mut both = SideBySide::start();
    let script: &[&[&[u8]]] = &[
        &[b"GETSET", b"k", b"This is a string"],
        &[b"GETRANGE", b"k", b"0", b"3"],
        &[b"GETRANGE", b"k", b"-3", b"-1"],
        &[b"GETRANGE", b"k", b"0", b"-1"],
        &[b"GETRANGE", b"k", b"10", b"100"],
        &[b"GETRANGE", b"k", b"5", b"3"],
        &[b"GETRANGE", b"k", b"-1", b"-5"],
        &[b"GETRANGE", b"k", b"-100", b"2"],
        &[b"SUBSTR", b"k", b"0", b"3"],
        &[b"GETRANGE", b"missing", b"0", b"-1"],
        &[b"GETRANGE", b"k", b"x", b"1"],
        &[b"GETRANGE", b"k", b"0"],
        &[b"EXPIRE", b"k", b"100"],
        &[b"GETSET", b"k", b"new"],
        &[b"TTL", b"k"],
        &[b"GET", b"k"],
        &[b"GETSET", b"k"],
        &[b"SET", b"e", b""],
        &[b"GETRANGE", b"e", b"0", b"-1"],
    ];
    for command in script {
        let (want, got) = both.call(command);
        assert_eq!(got, want, "{:?}", show_args(command));
    }
}
