//! Under eviction pressure a key may vanish at any time, so the history of concurrent
//! clients is checked against the weaker "lossy register" properties
//! (`blink_model::lossy`): every GET returns a value some SET wrote to that key, never one
//! deleted or overwritten before the GET began, never a torn one; and once the clients
//! stop, `USAGE` equals the bytes of the keys that GET still finds.

use crate::common;

use std::time::Instant;

use blink_model::linearizability::{OpKind, Operation};
use blink_model::lossy::check_lossy;
use common::{
    decode_get, gets_that_found, settled_usage_and_live, wait_usage_within, Client, Server,
};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

const CLIENTS: usize = 8;
const OPS_PER_CLIENT: usize = 1_500;
const KEYS: usize = 8;
/// Filler values: big enough that the 32 KiB limit is passed every few writes.
const FILLER_LEN: usize = 2048;

/// What one client did: its history on the tracked keys, and the filler keys it wrote.
struct Run {
    history: Vec<Operation>,
    fillers: Vec<String>,
}

fn run_client(mut client: Client, id: usize, origin: Instant) -> Run {
    let mut rng = SmallRng::seed_from_u64(id as u64 + 1);
    let nanos = |t: Instant| t.duration_since(origin).as_nanos() as u64;
    let filler = "f".repeat(FILLER_LEN);
    let mut run = Run {
        history: Vec::new(),
        fillers: Vec::new(),
    };
    for i in 0..OPS_PER_CLIENT {
        let key = format!("lossy-k{}", rng.random_range(0..KEYS));
        let dice: u32 = rng.random_range(0..100);
        if dice >= 70 {
            let name = format!("fill-{id}-{i}");
            assert_eq!(
                client.request(format!("SET {name} {filler}\n").as_bytes()),
                "OK\n"
            );
            run.fillers.push(name);
            continue;
        }
        // Unique, self-describing values of varied length, so a torn value cannot pass.
        let value = format!("c{id}-{i}-{}", "v".repeat(i % 300));
        let request = match dice {
            0..35 => format!("GET {key}\n"),
            35..60 => format!("SET {key} {value}\n"),
            _ => format!("DELETE {key}\n"),
        };
        let call = nanos(Instant::now());
        let reply = client.request(request.as_bytes());
        let ret = Some(nanos(Instant::now()));
        let key = key.into_bytes();
        let kind = match (dice, reply.as_str()) {
            (0..35, reply) => OpKind::Get {
                key,
                result: decode_get(reply),
            },
            (35..60, "OK\n") => OpKind::Set {
                key,
                value: value.into_bytes(),
            },
            (60.., "OK\n" | "NOT_FOUND\n") => OpKind::Delete {
                key,
                existed: reply == "OK\n",
            },
            (_, reply) => panic!("bad reply to {request:?}: {reply:?}"),
        };
        run.history.push(Operation {
            client: id,
            call,
            ret,
            kind,
        });
    }
    run
}

/// Runs the clients against a server with a 32 KiB limit; returns the server (still
/// running) and every client's run.
fn record() -> (Server, Vec<Run>) {
    let server = Server::start(&["--memory-limit", "32KiB"]);
    let origin = Instant::now();
    let runs = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let client = if id % 2 == 0 {
                    server.tcp_client()
                } else {
                    server.unix_client()
                };
                scope.spawn(move || run_client(client, id, origin))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    (server, runs)
}

#[test]
fn under_eviction_pressure_reads_are_lossy_but_never_wrong() {
    let (server, runs) = record();
    let history: Vec<Operation> = runs.iter().flat_map(|run| run.history.clone()).collect();
    let found = gets_that_found(&history);
    assert!(
        found > 100,
        "too few reads found a value ({found}) for the check to mean much"
    );
    if let Err(violation) = check_lossy(&history) {
        panic!("{violation}");
    }

    // Quiescence: USAGE is exactly the bytes still readable.
    let mut client = server.tcp_client();
    wait_usage_within(&mut client, 32 * 1024);
    let keys: Vec<String> = (0..KEYS)
        .map(|k| format!("lossy-k{k}"))
        .chain(runs.iter().flat_map(|run| run.fillers.iter().cloned()))
        .collect();
    let (usage, live) = settled_usage_and_live(&mut client, &keys);
    assert_eq!(usage, live);
}

#[test]
fn a_tampered_history_is_rejected() {
    let (_server, runs) = record();
    let mut history: Vec<Operation> = runs.into_iter().flat_map(|run| run.history).collect();
    let get = history
        .iter_mut()
        .find(|op| matches!(op.kind, OpKind::Get { .. }))
        .expect("a GET was recorded");
    if let OpKind::Get { result, .. } = &mut get.kind {
        *result = Some(b"torn-or-invented".to_vec());
    }
    assert!(check_lossy(&history).is_err());
}
