//! Linearizability of the real server: concurrent clients over TCP and Unix sockets run
//! random `SET` / `GET` / `DELETE` on a few shared keys, every request's invocation and
//! response time is recorded, and `blink_model::linearizability::check` must find a legal
//! sequential order for the whole history.
//!
//! Set `BLINK_LONG_LINEARIZABILITY=1` for the long run (32 clients, 1,000,000 operations);
//! `BLINK_LINEARIZABILITY_SEED=<n>` replays a given random seed.

use crate::common;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blink_model::linearizability::{check, OpKind, Operation};
use common::{decode_get, Client, Server};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The shape of one run.
struct Workload {
    clients: usize,
    ops_per_client: usize,
    keys: usize,
    seed: u64,
}

fn seed() -> u64 {
    match std::env::var("BLINK_LINEARIZABILITY_SEED") {
        Ok(seed) => seed
            .parse()
            .expect("BLINK_LINEARIZABILITY_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// Runs one client's random operations, timing each request against `origin`.
fn run_client(
    mut client: Client,
    id: usize,
    workload: &Workload,
    origin: Instant,
) -> Vec<Operation> {
    let mut rng =
        SmallRng::seed_from_u64(workload.seed ^ (id as u64 + 1).wrapping_mul(0x1234_5678_9abc));
    let nanos = |t: Instant| t.duration_since(origin).as_nanos() as u64;
    let mut history = Vec::with_capacity(workload.ops_per_client);
    for i in 0..workload.ops_per_client {
        let key = format!("lin-k{}", rng.random_range(0..workload.keys)).into_bytes();
        let dice: u32 = rng.random_range(0..100);
        let (request, value) = if dice < 50 {
            (format!("GET {}\n", String::from_utf8_lossy(&key)), None)
        } else if dice < 85 {
            let value = format!("c{id}-{i}");
            (
                format!("SET {} {value}\n", String::from_utf8_lossy(&key)),
                Some(value.into_bytes()),
            )
        } else {
            (format!("DELETE {}\n", String::from_utf8_lossy(&key)), None)
        };
        let call = nanos(Instant::now());
        let reply = client.request(request.as_bytes());
        let ret = nanos(Instant::now());
        let kind = match (dice, reply.as_str()) {
            (0..50, reply) => OpKind::Get {
                key,
                result: decode_get(reply),
            },
            (50..85, "OK\n") => OpKind::Set {
                key,
                value: value.unwrap(),
            },
            (85.., "OK\n") => OpKind::Delete { key, existed: true },
            (85.., "NOT_FOUND\n") => OpKind::Delete {
                key,
                existed: false,
            },
            (_, reply) => panic!("bad reply to {request:?}: {reply:?}"),
        };
        history.push(Operation {
            client: id,
            call,
            ret: Some(ret),
            kind,
        });
    }
    history
}

/// Runs `workload` against a fresh server (default memory limit: nothing is evicted),
/// half the clients over TCP and half over the Unix socket, and returns the history.
fn record(workload: &Workload) -> Vec<Operation> {
    let server = Server::start(&[]);
    let origin = Instant::now();
    let histories: Vec<Vec<Operation>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..workload.clients)
            .map(|id| {
                let client = if id % 2 == 0 {
                    server.tcp_client()
                } else {
                    server.unix_client()
                };
                scope.spawn(move || run_client(client, id, workload, origin))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    histories.into_iter().flatten().collect()
}

fn long_mode() -> bool {
    std::env::var("BLINK_LONG_LINEARIZABILITY").is_ok_and(|v| v == "1")
}

#[test]
fn concurrent_clients_see_a_linearizable_store() {
    let workload = if long_mode() {
        Workload {
            clients: 32,
            ops_per_client: 1_000_000 / 32,
            keys: 16,
            seed: seed(),
        }
    } else {
        Workload {
            clients: 8,
            ops_per_client: 2_000,
            keys: 8,
            seed: seed(),
        }
    };
    let started = Instant::now();
    let history = record(&workload);
    let recorded = started.elapsed();
    assert_eq!(history.len(), workload.clients * workload.ops_per_client);
    let started = Instant::now();
    let result = check(&history);
    eprintln!(
        "linearizability: {} clients x {} ops over {} keys (seed {}): recorded in {recorded:?}, checked in {:?}",
        workload.clients,
        workload.ops_per_client,
        workload.keys,
        workload.seed,
        started.elapsed()
    );
    if let Err(violation) = result {
        panic!(
            "history is not linearizable (seed {}):\n{violation}",
            workload.seed
        );
    }
}

#[test]
fn a_tampered_real_history_is_rejected() {
    let workload = Workload {
        clients: 4,
        ops_per_client: 500,
        keys: 4,
        seed: seed(),
    };
    let mut history = record(&workload);
    check(&history).unwrap_or_else(|v| panic!("seed {}: {v}", workload.seed));

    // Make the middle GET return a value nobody ever wrote.
    let reads: Vec<usize> = (0..history.len())
        .filter(|&i| matches!(history[i].kind, OpKind::Get { .. }))
        .collect();
    let victim = reads[reads.len() / 2];
    let key = history[victim].kind.key().to_vec();
    history[victim].kind = OpKind::Get {
        key: key.clone(),
        result: Some(b"never-written".to_vec()),
    };
    let violation = check(&history).expect_err("a read of a value never written must fail");
    eprintln!("rejected as expected:\n{violation}");
    assert_eq!(violation.keys, [key]);
    assert!(
        violation.to_string().contains("never-written"),
        "the report shows the bad read:\n{violation}"
    );
}
