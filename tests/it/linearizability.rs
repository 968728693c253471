//! Linearizability of the real server: concurrent clients over TCP and Unix sockets run
//! random `SET` / `GET` / `DELETE` on a few shared keys, every request's invocation and
//! response time is recorded, and `blink_model::linearizability::check` must find a legal
//! sequential order for the whole history. Then the same over RESP with `MGET`, `MSET`
//! and `MULTI` ... `EXEC` on two to four keys, checked over all keys together: a
//! transaction must take effect at one instant.
//!
//! Set `BLINK_LONG_LINEARIZABILITY=1` for the long runs (1,000,000 and 200,000
//! operations); `BLINK_LINEARIZABILITY_SEED=<n>` replays a given random seed.

use crate::common;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blink_model::linearizability::{check, Access, OpKind, Operation};
use common::{decode_get, Client, Reply, Resp, Server};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The shape of one run.
struct Workload {
    clients: usize,
    ops_per_client: usize,
    keys: usize,
    seed: u64,
}

/// The run's random seed: `BLINK_LINEARIZABILITY_SEED`, or one from the clock.
pub(crate) fn seed() -> u64 {
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

/// One command of the RESP mix, as sent, to become an [`OpKind`] once answered.
enum Command {
    Get(Vec<u8>),
    Set(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
    /// Checked as a batch: this server reads the keys one at a time.
    MGet(Vec<Vec<u8>>),
    /// Checked as a batch: this server writes the keys one at a time.
    MSet(Vec<(Vec<u8>, Vec<u8>)>),
}

impl Command {
    /// Queues it on `client`'s pipeline.
    fn queue(&self, client: &mut Resp) {
        let mut args: Vec<&[u8]> = Vec::new();
        match self {
            Command::Get(key) => args.extend([&b"GET"[..], key]),
            Command::Set(key, value) => args.extend([&b"SET"[..], key, value]),
            Command::Del(key) => args.extend([&b"DEL"[..], key]),
            Command::MGet(keys) => {
                args.push(b"MGET");
                args.extend(keys.iter().map(Vec::as_slice));
            }
            Command::MSet(pairs) => {
                args.push(b"MSET");
                for (key, value) in pairs {
                    args.extend([key.as_slice(), value.as_slice()]);
                }
            }
        }
        client.queue(&args);
    }

    /// What the checker sees once `reply` came.
    fn answered(self, reply: Reply) -> OpKind {
        match (self, reply) {
            (Command::Get(key), Reply::Bulk(result)) => OpKind::Get { key, result },
            (Command::Set(key, value), Reply::Simple(ok)) if ok == "OK" => {
                OpKind::Set { key, value }
            }
            (Command::Del(key), Reply::Integer(n @ (0 | 1))) => OpKind::Delete {
                key,
                existed: n == 1,
            },
            (Command::MGet(keys), Reply::Array(Some(values))) if values.len() == keys.len() => {
                let reads = keys
                    .into_iter()
                    .zip(values)
                    .map(|(key, value)| match value {
                        Reply::Bulk(result) => OpKind::Get { key, result },
                        other => panic!("MGET answered {other:?} for a key"),
                    });
                OpKind::Batch(reads.collect())
            }
            (Command::MSet(pairs), Reply::Simple(ok)) if ok == "OK" => OpKind::Batch(
                pairs
                    .into_iter()
                    .map(|(key, value)| OpKind::Set { key, value })
                    .collect(),
            ),
            (_, reply) => panic!("unexpected reply {reply:?}"),
        }
    }
}

/// Two to `max` different keys of the workload's, in a random order.
fn some_keys(rng: &mut SmallRng, workload: &Workload, max: usize) -> Vec<Vec<u8>> {
    let start = rng.random_range(0..workload.keys);
    let count = rng.random_range(2..=max.min(workload.keys));
    let step = if rng.random_bool(0.5) {
        1
    } else {
        workload.keys - 1
    };
    (0..count)
        .map(|j| format!("tx-k{}", (start + j * step) % workload.keys).into_bytes())
        .collect()
}

/// A random single-key command on `key`; `value` is unique to this client and command.
fn single(rng: &mut SmallRng, key: Vec<u8>, value: String) -> Command {
    match rng.random_range(0..100) {
        0..45 => Command::Get(key),
        45..85 => Command::Set(key, value.into_bytes()),
        _ => Command::Del(key),
    }
}

/// Runs one RESP client's random commands: single GET / SET / DEL, MGET, MSET, and
/// transactions of two or three commands on different keys (MULTI, the commands and
/// EXEC pipelined in one write), timing each against `origin`.
fn run_resp_client(
    mut client: Resp,
    id: usize,
    workload: &Workload,
    origin: Instant,
) -> Vec<Operation> {
    let mut rng =
        SmallRng::seed_from_u64(workload.seed ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a));
    let nanos = |t: Instant| t.duration_since(origin).as_nanos() as u64;
    let mut history = Vec::with_capacity(workload.ops_per_client);
    for i in 0..workload.ops_per_client {
        let value = |j: usize| format!("c{id}-{i}-{j}");
        let dice: u32 = rng.random_range(0..100);
        let call;
        let kind = if dice < 60 {
            let command = match dice {
                0..35 => {
                    let key = format!("tx-k{}", rng.random_range(0..workload.keys));
                    single(&mut rng, key.into_bytes(), value(0))
                }
                35..50 => Command::MGet(some_keys(&mut rng, workload, 4)),
                _ => {
                    let keys = some_keys(&mut rng, workload, 3);
                    Command::MSet(
                        keys.into_iter()
                            .zip(0..)
                            .map(|(k, j)| (k, value(j).into_bytes()))
                            .collect(),
                    )
                }
            };
            call = nanos(Instant::now());
            command.queue(&mut client);
            let reply = client.read().expect("a reply");
            command.answered(reply)
        } else {
            let commands: Vec<Command> = some_keys(&mut rng, workload, 3)
                .into_iter()
                .zip(0..)
                .map(|(key, j)| single(&mut rng, key, value(j)))
                .collect();
            call = nanos(Instant::now());
            client.queue(&[b"MULTI"]);
            commands
                .iter()
                .for_each(|command| command.queue(&mut client));
            client.queue(&[b"EXEC"]);
            assert_eq!(client.read(), Some(Reply::Simple("OK".into())));
            for _ in &commands {
                assert_eq!(client.read(), Some(Reply::Simple("QUEUED".into())));
            }
            let Some(Reply::Array(Some(replies))) = client.read() else {
                panic!("EXEC did not answer an array");
            };
            assert_eq!(replies.len(), commands.len(), "EXEC's replies");
            let answered = commands.into_iter().zip(replies);
            OpKind::Transaction(answered.map(|(c, reply)| c.answered(reply)).collect())
        };
        let ret = nanos(Instant::now());
        history.push(Operation {
            client: id,
            call,
            ret: Some(ret),
            kind,
        });
    }
    history
}

#[test]
fn transactions_and_multi_key_commands_are_linearizable() {
    let workload = if long_mode() {
        Workload {
            clients: 8,
            ops_per_client: 200_000 / 8,
            keys: 4,
            seed: seed(),
        }
    } else {
        Workload {
            clients: 6,
            ops_per_client: 2_000,
            keys: 3,
            seed: seed(),
        }
    };
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap();
    let started = Instant::now();
    let origin = Instant::now();
    let history: Vec<Operation> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..workload.clients)
            .map(|id| {
                let client = Resp::connect(addr);
                let workload = &workload;
                scope.spawn(move || run_resp_client(client, id, workload, origin))
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let recorded = started.elapsed();
    let count = |f: fn(&OpKind) -> bool| history.iter().filter(|op| f(&op.kind)).count();
    let transactions = count(|kind| matches!(kind, OpKind::Transaction(_)));
    let found = history
        .iter()
        .flat_map(|op| op.kind.accesses())
        .filter(|access| {
            matches!(
                access,
                Access::Get {
                    result: Some(_),
                    ..
                }
            )
        })
        .count();
    assert!(transactions > 0 && found > 0, "a history worth checking");
    let started = Instant::now();
    let result = check(&history);
    eprintln!(
        "linearizability (RESP, transactions): {} clients x {} ops over {} keys (seed {}), \
         {transactions} transactions, {found} reads that found a value: recorded in {recorded:?}, \
         checked in {:?}",
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
