//! Fairness between connections on one event loop: a client that pipelines a million
//! requests gets a bounded share of its loop per turn, so another client's request waits
//! a few turns, not for the whole pipeline. Measured as a count of requests, not a time:
//! the probing client reads the hog's counter twice in a row, and the difference is how
//! many of the hog's requests the server ran between the probe's two requests.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{info_fields, Resp, Server};

/// Requests the hog pipelines: far more than many turns' worth.
const HOG_REQUESTS: u64 = 1_000_000;

/// The server's turn: requests a connection runs before the loop serves the others.
const TURN_REQUESTS: u64 = 512;

/// One `INCR hog` in RESP: the hog's counter is how many of its requests have run.
const INCR: &[u8] = b"*2\r\n$4\r\nINCR\r\n$3\r\nhog\r\n";

/// Reads the hog's counter over `probe`: one round trip, 0 before the first INCR.
fn counter(probe: &mut TcpStream) -> u64 {
    probe
        .write_all(b"*2\r\n$3\r\nGET\r\n$3\r\nhog\r\n")
        .unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 64];
    loop {
        let n = probe.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed the probe");
        reply.extend_from_slice(&chunk[..n]);
        if reply == b"$-1\r\n" {
            return 0;
        }
        let text = String::from_utf8_lossy(&reply);
        let lines: Vec<&str> = text.split("\r\n").collect();
        if lines.len() >= 3 {
            return lines[1].parse().unwrap();
        }
    }
}

#[test]
fn a_deep_pipeline_delays_another_client_by_a_few_turns() {
    // One loop, so both clients share it.
    let server = Server::start(&["--workers", "1", "--memory-limit", "64MiB"]);
    let addr = server.tcp.unwrap();
    let hog = TcpStream::connect(addr).unwrap();
    let mut hog_reader = hog.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut hog = hog;
        let pipeline = INCR.repeat(HOG_REQUESTS as usize);
        hog.write_all(&pipeline).unwrap();
        hog
    });
    // The hog reads its replies, as a well-behaved pipelining client does.
    let reader = std::thread::spawn(move || {
        let mut replies = 0u64;
        let mut chunk = vec![0u8; 1 << 16];
        while replies < HOG_REQUESTS {
            let n = hog_reader.read(&mut chunk).unwrap();
            assert!(n > 0, "server closed the hog");
            replies += chunk[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    });

    let mut probe = TcpStream::connect(addr).unwrap();
    probe.set_nodelay(true).unwrap();
    let mut between = Vec::new();
    loop {
        let first = counter(&mut probe);
        let second = counter(&mut probe);
        if second >= HOG_REQUESTS {
            break;
        }
        if first > 0 {
            between.push(second - first);
        }
    }
    reader.join().unwrap();
    drop(writer.join().unwrap());

    between.sort_unstable();
    let median = between.get(between.len() / 2).copied();
    let max = between.last().copied();
    eprintln!(
        "hog requests run between two probe requests: {} samples, median {median:?}, max {max:?}",
        between.len()
    );
    // Unfair serving runs a whole read buffer's or I/O budget's worth of the hog between
    // two probes (thousands of requests), and so samples the hog's run only a few times.
    assert!(
        between.len() >= 20,
        "the probe got only {} round trips while the hog ran",
        between.len()
    );
    let median = median.unwrap();
    assert!(
        median <= 2 * TURN_REQUESTS,
        "the hog ran {median} requests between two of the probe's (median); a turn is \
         {TURN_REQUESTS}"
    );
}

/// `total_reads_processed` and `total_writes_processed` from INFO stats.
fn reads_and_writes(admin: &mut Resp) -> (u64, u64) {
    let stats = info_fields(&admin.call(&[b"INFO", b"stats"]));
    let field = |name: &str| -> u64 {
        let value = stats.get(name);
        value
            .unwrap_or_else(|| panic!("no {name} in {stats:?}"))
            .parse()
            .unwrap()
    };
    (
        field("total_reads_processed"),
        field("total_writes_processed"),
    )
}

#[test]
fn a_batch_that_outlasts_its_turn_is_answered_in_one_write() {
    let server = Server::start(&["--workers", "1"]);
    let addr = server.tcp.unwrap();
    let mut admin = Resp::connect(addr);
    let mut client = TcpStream::connect(addr).unwrap();
    // More requests than a turn, small enough to arrive in one or two reads.
    let requests = TURN_REQUESTS as usize + 100;
    let (reads_before, writes_before) = reads_and_writes(&mut admin);
    client
        .write_all(&b"*1\r\n$4\r\nPING\r\n".repeat(requests))
        .unwrap();
    let expected = b"+PONG\r\n".repeat(requests);
    let mut replies = vec![0u8; expected.len()];
    client.read_exact(&mut replies).unwrap();
    assert_eq!(replies, expected);
    let (reads_after, writes_after) = reads_and_writes(&mut admin);
    // Between the two INFOs: the client's reads, the second INFO's read, the first INFO's
    // reply, and the client's replies. The turn ends inside the client's batch; its
    // replies must still leave in one write per read, not be cut where the turn ended.
    let reads = reads_after - reads_before;
    let writes = writes_after - writes_before;
    assert!(reads >= 2, "{reads} reads");
    assert_eq!(
        writes, reads,
        "{writes} writes for {reads} reads: a batch's replies were split at the turn"
    );
}
