//! Time to live and INFO over real sockets: the line protocol's EXPIRE, TTL, PERSIST and
//! INFO; keys that expire without being read (active expiry) free their memory; RESP's
//! TTL commands; and the inline `PING` that opens a connection in RESP.

use crate::common;

use std::io::Read;

use common::{wait_for, Server};

#[test]
fn the_line_protocol_has_expire_ttl_persist_and_info() {
    let server = Server::start(&["--memory-limit", "1MiB"]);
    for (_, mut client) in server.clients() {
        client.script(&[
            (b"EXPIRE k 10\n", "NOT_FOUND\n"),
            (b"TTL k\n", "NOT_FOUND\n"),
            (b"PERSIST k\n", "NOT_FOUND\n"),
            (b"SET k v\n", "OK\n"),
            (b"TTL k\n", "TTL -1\n"),
            (b"EXPIRE k 100\n", "OK\n"),
            (b"TTL k\n", "TTL 100\n"),
            (b"SET k w\n", "OK\n"),
            (b"TTL k\n", "TTL -1\n"),
            (b"EXPIRE k 100\n", "OK\n"),
            (b"PERSIST k\n", "OK\n"),
            (b"TTL k\n", "TTL -1\n"),
            (b"PERSIST k\n", "OK\n"),
            (
                b"EXPIRE k x\n",
                "ERROR value is not an integer or out of range\n",
            ),
            (
                b"EXPIRE k\n",
                "ERROR wrong number of arguments for 'EXPIRE'\n",
            ),
            (b"TTL\n", "ERROR wrong number of arguments for 'TTL'\n"),
            (
                b"INFO now\n",
                "ERROR wrong number of arguments for 'INFO'\n",
            ),
            (b"EXPIRE k 0\n", "OK\n"),
            (b"GET k\n", "NOT_FOUND\n"),
        ]);
        let info = client.info();
        assert_eq!(
            info.names(),
            [
                "keys",
                "used_bytes",
                "limit",
                "hits",
                "misses",
                "evictions",
                "expirations",
                "connections",
                "uptime",
                "used_memory",
                "used_memory_rss",
                "used_memory_dataset",
                "maxmemory"
            ]
        );
        assert_eq!(info["keys"], 0);
        assert_eq!(info["limit"], 1 << 20);
        assert!(info["misses"] >= 1);
        assert!(info["connections"] >= 1);
    }
}

#[test]
fn a_key_is_gone_once_its_time_is_up() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    client.script(&[(b"SET k v\n", "OK\n"), (b"EXPIRE k 1\n", "OK\n")]);
    assert_eq!(client.request(b"GET k\n"), "VALUE dg==\n");
    wait_for("k expires", || client.request(b"GET k\n") == "NOT_FOUND\n");
    assert_eq!(client.usage(), 0);
}

#[test]
fn expired_keys_free_their_memory_without_being_read() {
    let server = Server::start(&[]);
    let mut resp = server.tcp_client();
    let mut batch = Vec::new();
    for i in 0..500 {
        let key = format!("key{i}");
        batch.extend(
            format!(
                "*5\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n",
                key.len()
            )
            .into_bytes(),
        );
    }
    resp.send(&batch);
    let mut replies = vec![0; 500 * 5];
    resp.reader().read_exact(&mut replies).unwrap();
    assert_eq!(replies, b"+OK\r\n".repeat(500));
    let mut line = server.tcp_client();
    assert_eq!(line.info()["keys"], 500);
    // Nobody reads them: the background cycle must find and remove them.
    wait_for("every key expires", || line.info()["keys"] == 0);
    let info = line.info();
    assert_eq!(info["expirations"], 500);
    assert_eq!(info["used_bytes"], 0);
    assert_eq!(info["hits"] + info["misses"], 0, "nothing read them");
}

#[test]
fn resp_ttl_commands_answer_as_redis_does() {
    let server = Server::start(&[]);
    let mut client = server.unix_client();
    let steps: &[(&[u8], &[u8])] = &[
        (b"*2\r\n$3\r\nTTL\r\n$1\r\nk\r\n", b":-2\r\n"),
        (
            b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\n100\r\n",
            b"+OK\r\n",
        ),
        (b"*2\r\n$3\r\nTTL\r\n$1\r\nk\r\n", b":100\r\n"),
        (b"*2\r\n$7\r\nPERSIST\r\n$1\r\nk\r\n", b":1\r\n"),
        (b"*2\r\n$7\r\nPERSIST\r\n$1\r\nk\r\n", b":0\r\n"),
        (b"*2\r\n$4\r\nPTTL\r\n$1\r\nk\r\n", b":-1\r\n"),
        (b"*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n-1\r\n", b":1\r\n"),
        (b"*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n", b":0\r\n"),
        (b"*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n", b":0\r\n"),
    ];
    for (request, reply) in steps {
        client.send(request);
        let mut got = vec![0; reply.len()];
        client.reader().read_exact(&mut got).unwrap();
        assert_eq!(
            got.escape_ascii().to_string(),
            reply.escape_ascii().to_string()
        );
    }
}

#[test]
fn an_inline_ping_first_means_resp_and_a_bare_one_the_line_protocol() {
    let server = Server::start(&[]);
    let mut redis = server.tcp_client();
    redis.send(b"PING\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
    let mut got = vec![0; 21];
    redis.reader().read_exact(&mut got).unwrap();
    assert_eq!(got, b"+PONG\r\n+PONG\r\n+PONG\r\n");
    let mut line = server.tcp_client();
    line.script(&[(b"PING\n", "PONG\n"), (b"PING\r\n", "PONG\n")]);
    let mut slow = server.tcp_client();
    slow.send(b"PI");
    slow.send(b"NG\r\n");
    assert_eq!(slow.read_line(), b"+PONG\r\n");
}
