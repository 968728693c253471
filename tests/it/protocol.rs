//! The line protocol over real sockets, byte for byte, on TCP and on a Unix socket.

use crate::common;

use common::{decode_get, value_reply, Client, Server};

#[test]
fn quick_start_session() {
    let server = Server::start(&[]);
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        client.script(&[
            (b"SET user alice\n", "OK\n"),
            (b"GET user\n", "VALUE YWxpY2U=\n"),
            (b"USAGE\n", "USAGE 9\n"),
            (b"DELETE user\n", "OK\n"),
        ]);
    }
}

#[test]
fn every_command_and_alias() {
    let server = Server::start(&[]);
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        client.script(&[
            (b"PING\n", "PONG\n"),
            (b"ping\n", "PONG\n"),
            (b"GET missing\n", "NOT_FOUND\n"),
            (b"SET k hello world\n", "OK\n"),
            (b"get k\n", "VALUE aGVsbG8gd29ybGQ=\n"),
            (b"STATS\n", "USAGE 12\n"),
            (b"set k  two  spaces \n", "OK\n"),
            (b"GET k\n", "VALUE IHR3byAgc3BhY2VzIA==\n"),
            (b"SET empty \n", "OK\n"),
            (b"GET empty\n", "VALUE \n"),
            (b"USAGE\n", "USAGE 19\n"),
            (b"DEL k\n", "OK\n"),
            (b"del k\n", "NOT_FOUND\n"),
            (b"Delete empty\n", "OK\n"),
            (b"DELETE empty\n", "NOT_FOUND\n"),
            (b"usage\n", "USAGE 0\n"),
        ]);
        client.send(b"QUIT\n");
        assert_eq!(client.read_to_end(), b"", "QUIT replies nothing and closes");
    }
}

#[test]
fn every_client_error_keeps_the_connection_usable() {
    let server = Server::start(&["--max-key-size", "8", "--max-value-size", "16"]);
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        client.script(&[
            (b"PING\n", "PONG\n"),
            (b"\n", "ERROR empty line\n"),
            (b"   \r\n", "ERROR empty line\n"),
            (b"FLY away\n", "ERROR unknown command 'FLY'\n"),
            (b"G\xffT k\n", "ERROR unknown command 'G\\xffT'\n"),
            (b"SET\n", "ERROR wrong number of arguments for 'SET'\n"),
            (b"SET k\n", "ERROR wrong number of arguments for 'SET'\n"),
            (b"GET\n", "ERROR wrong number of arguments for 'GET'\n"),
            (b"GET a b\n", "ERROR wrong number of arguments for 'GET'\n"),
            (
                b"DELETE\n",
                "ERROR wrong number of arguments for 'DELETE'\n",
            ),
            (b"DEL a b\n", "ERROR wrong number of arguments for 'DEL'\n"),
            (
                b"USAGE x\n",
                "ERROR wrong number of arguments for 'USAGE'\n",
            ),
            (b"PING x\n", "ERROR wrong number of arguments for 'PING'\n"),
            (
                b"QUIT now\n",
                "ERROR wrong number of arguments for 'QUIT'\n",
            ),
            (b"GET a\tb\n", "ERROR key contains invalid bytes\n"),
            (b"SET a\x00b v\n", "ERROR key contains invalid bytes\n"),
            (b"GET 123456789\n", "ERROR key too long (max 8 bytes)\n"),
            (
                b"SET k 12345678901234567\n",
                "ERROR value too large (max 16 bytes)\n",
            ),
            (b"SET k 1234567890123456\n", "OK\n"),
            (b"GET k\n", "VALUE MTIzNDU2Nzg5MDEyMzQ1Ng==\n"),
        ]);
    }
}

#[test]
fn overlong_lines_are_refused_and_discarded_as_they_arrive() {
    let server = Server::start(&["--max-key-size", "8", "--max-value-size", "16"]);
    let max_line = 8 + 16 + 64;
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        // Far more than the limit, in pieces, for a line that is not a SET.
        client.send(b"GET ");
        for _ in 0..64 {
            client.send(&[b'x'; 1024]);
        }
        let reply = String::from_utf8(client.read_line()).unwrap();
        assert_eq!(
            reply,
            format!("ERROR line too long (max {max_line} bytes)\n")
        );
        client.send(&[b'y'; 4096]);
        client.send(b"\nPING\n");
        assert_eq!(
            client.read_line(),
            b"PONG\n",
            "the rest of the long line was dropped"
        );
        // A SET whose key is complete gets the value error instead.
        client.send(b"SET k ");
        client.send(&[b'v'; 10_000]);
        client.send(b"\n");
        assert_eq!(
            client.request(b"GET k\n"),
            "ERROR value too large (max 16 bytes)\n"
        );
        assert_eq!(client.read_line(), b"NOT_FOUND\n");
    }
}

#[test]
fn a_value_over_the_default_maximum_is_refused() {
    let server = Server::start(&["--memory-limit", "8MiB"]);
    let mut client = server.tcp_client();
    let mut line = b"SET big ".to_vec();
    line.resize(line.len() + (1 << 20) + 1, b'v');
    line.push(b'\n');
    client.send(&line);
    assert_eq!(
        client.read_line(),
        b"ERROR value too large (max 1048576 bytes)\n"
    );
    let mut line = b"SET big ".to_vec();
    line.resize(line.len() + (1 << 20), b'v');
    line.push(b'\n');
    assert_eq!(client.request(&line), "OK\n");
    assert_eq!(client.usage(), 3 + (1 << 20));
}

#[test]
fn a_value_larger_than_the_memory_limit_is_refused_without_evicting() {
    let server = Server::start(&["--memory-limit", "1000"]);
    let mut client = server.tcp_client();
    client.script(&[
        (b"SET small v\n", "OK\n"),
        (
            &[b"SET big ".as_slice(), &[b'v'; 998], b"\n"].concat(),
            "ERROR value too large for the memory limit (1000 bytes)\n",
        ),
        (b"GET small\n", "VALUE dg==\n"),
        (b"USAGE\n", "USAGE 6\n"),
    ]);
}

#[test]
fn binary_values_round_trip_through_base64() {
    let server = Server::start(&[]);
    // Every byte but LF (the line terminator); CR only where it is not last.
    let value: Vec<u8> = (0u8..=255).filter(|&b| b != b'\n').collect();
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        let mut line = b"SET bin ".to_vec();
        line.extend_from_slice(&value);
        line.push(b'\n');
        assert_eq!(client.request(&line), "OK\n");
        let reply = client.request(b"GET bin\n");
        assert_eq!(decode_get(&reply), Some(value.clone()));
        assert_eq!(client.usage(), 3 + value.len() as u64);
    }
}

#[test]
fn crlf_clients_work() {
    let server = Server::start(&[]);
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        client.script(&[
            (b"SET user alice\r\n", "OK\n"),
            (b"GET user\r\n", "VALUE YWxpY2U=\n"),
            (b"USAGE\r\n", "USAGE 9\n"),
            (b"PING\r\n", "PONG\n"),
            (b"DELETE user\r\n", "OK\n"),
        ]);
        client.send(b"QUIT\r\n");
        assert_eq!(client.read_to_end(), b"");
    }
}

#[test]
fn ten_thousand_pipelined_requests_in_one_write() {
    let server = Server::start(&[]);
    for (transport, mut client) in server.clients() {
        println!("over {transport}");
        let mut batch = Vec::new();
        let mut expected = Vec::new();
        for i in 0..5_000 {
            batch.extend_from_slice(format!("SET key{i} value{i}\nGET key{i}\n").as_bytes());
            expected.extend_from_slice(b"OK\n");
            expected.extend_from_slice(&value_reply(format!("value{i}").as_bytes()));
        }
        batch.extend_from_slice(b"QUIT\n");
        client.send(&batch);
        let replies = client.read_to_end();
        assert_eq!(replies.len(), expected.len());
        assert!(replies == expected, "10,000 replies, in order");
    }
}

#[test]
fn pipelined_large_replies_arrive_complete_and_in_order() {
    let server = Server::start(&["--memory-limit", "64MiB"]);
    let mut client = server.unix_client();
    let value = vec![b'z'; 512 * 1024];
    client.send(&[b"SET big ".as_slice(), &value, b"\n"].concat());
    assert_eq!(client.read_line(), b"OK\n");
    // 200 GETs of 512 KiB ask for ~140 MB of replies; the server must stream them.
    client.send(&b"GET big\n".repeat(200));
    client.send(b"QUIT\n");
    let expected = value_reply(&value);
    for _ in 0..200 {
        assert!(client.read_line() == expected);
    }
    assert_eq!(client.read_to_end(), b"");
}

#[test]
fn eof_in_the_middle_of_a_line_closes_quietly() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    client.send(b"PING\nSET half");
    client.shutdown_write();
    assert_eq!(client.read_to_end(), b"PONG\n");
    let mut fresh = server.tcp_client();
    fresh.script(&[(b"GET half\n", "NOT_FOUND\n")]);
}

#[test]
fn clients_see_each_others_writes_across_transports() {
    let server = Server::start(&[]);
    let mut tcp = server.tcp_client();
    let mut unix = Client::unix(server.unix.as_deref().unwrap());
    tcp.script(&[(b"SET shared from-tcp\n", "OK\n")]);
    unix.script(&[
        (b"GET shared\n", "VALUE ZnJvbS10Y3A=\n"),
        (b"DEL shared\n", "OK\n"),
    ]);
    tcp.script(&[(b"GET shared\n", "NOT_FOUND\n")]);
}
