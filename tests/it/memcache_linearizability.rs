//! Linearizability over memcached's protocol: concurrent clients on the memcached
//! listeners (TCP and the Unix socket) run `gets`-then-`cas` read-modify-write loops,
//! plain `get`, `set` and `delete` on a few shared keys; every request's invocation and
//! response time is recorded, and `blink_model::linearizability::check` must find a legal
//! sequential order in which every `cas` stored exactly when the key still held the
//! unique it named. Then a doctored copy of a real history, a `cas` replayed with the
//! unique another already used up, must be refused.
//!
//! `BLINK_LINEARIZABILITY_SEED=<n>` replays a given random seed.

use crate::common;

use std::time::Instant;

use blink_model::linearizability::{check, CasResult, OpKind, Operation};
use common::{Client, Server};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::linearizability::seed;

/// Clients in one run; with the sizes below, a few seconds on 2 cores, recording and
/// checking.
const CLIENTS: usize = 6;
/// Operations each client records (a read-modify-write loop is two or more).
const OPS_PER_CLIENT: usize = 1_500;
/// Keys they share: few, so that `cas` races are frequent.
const KEYS: usize = 3;

/// A `get` or `gets` reply: the value, and the unique if `gets` sent one.
fn read_values(client: &mut Client) -> Option<(Vec<u8>, Option<u64>)> {
    let header = String::from_utf8(client.read_line()).unwrap();
    if header == "END\r\n" {
        return None;
    }
    let fields: Vec<&str> = header.trim_end().split(' ').collect();
    let (len, cas) = match fields[..] {
        ["VALUE", _, _, len] => (len, None),
        ["VALUE", _, _, len, cas] => (len, Some(cas.parse().unwrap())),
        _ => panic!("not a VALUE line: {header:?}"),
    };
    let mut data = client.read_line();
    assert_eq!(data.len(), len.parse::<usize>().unwrap() + 2, "{data:?}");
    data.truncate(data.len() - 2);
    assert_eq!(client.read_line(), b"END\r\n", "one key asked, one value");
    Some((data, cas))
}

/// One client: its connection, and each request it made as the checker sees it.
struct Recorder {
    client: Client,
    id: usize,
    /// The clock's zero, shared by every client of the run.
    origin: Instant,
    history: Vec<Operation>,
}

impl Recorder {
    /// Times `run` (which sends a request and reads its reply) as one operation.
    fn record(&mut self, run: impl FnOnce(&mut Client) -> OpKind) {
        let nanos = |t: Instant| t.duration_since(self.origin).as_nanos() as u64;
        let call = nanos(Instant::now());
        let kind = run(&mut self.client);
        let ret = nanos(Instant::now());
        self.history.push(Operation {
            client: self.id,
            call,
            ret: Some(ret),
            kind,
        });
    }

    fn set(&mut self, key: &str, value: String) {
        self.record(|client| {
            let request = format!("set {key} 0 0 {}\r\n{value}\r\n", value.len());
            assert_eq!(client.request(request.as_bytes()), "STORED\r\n");
            OpKind::Set {
                key: key.into(),
                value: value.into_bytes(),
            }
        });
    }

    /// `gets`: the value and unique read, if any.
    fn gets(&mut self, key: &str) -> Option<(Vec<u8>, u64)> {
        let mut read = None;
        self.record(|client| {
            client.send(format!("gets {key}\r\n").as_bytes());
            let result = read_values(client).map(|(value, cas)| (value, cas.unwrap()));
            read.clone_from(&result);
            OpKind::Gets {
                key: key.into(),
                result,
            }
        });
        read
    }

    fn cas(&mut self, key: &str, value: String, unique: u64) {
        self.record(|client| {
            let request = format!("cas {key} 0 0 {} {unique}\r\n{value}\r\n", value.len());
            let result = match client.request(request.as_bytes()).as_str() {
                "STORED\r\n" => CasResult::Stored,
                "EXISTS\r\n" => CasResult::Exists,
                "NOT_FOUND\r\n" => CasResult::NotFound,
                other => panic!("cas answered {other:?}"),
            };
            OpKind::Cas {
                key: key.into(),
                value: value.into_bytes(),
                unique,
                result,
            }
        });
    }

    fn get(&mut self, key: &str) {
        self.record(|client| {
            client.send(format!("get {key}\r\n").as_bytes());
            OpKind::Get {
                key: key.into(),
                result: read_values(client).map(|(value, _)| value),
            }
        });
    }

    fn delete(&mut self, key: &str) {
        self.record(|client| {
            let existed = match client
                .request(format!("delete {key}\r\n").as_bytes())
                .as_str()
            {
                "DELETED\r\n" => true,
                "NOT_FOUND\r\n" => false,
                other => panic!("delete answered {other:?}"),
            };
            OpKind::Delete {
                key: key.into(),
                existed,
            }
        });
    }
}

/// Runs one client's random mix: mostly read-modify-write loops (`gets`, then `cas`
/// with a value unique to this client and step, retried up to three times while it
/// answers `EXISTS`), and plain reads, writes and deletes that race them.
fn run_client(client: Client, id: usize, seed: u64, origin: Instant) -> Vec<Operation> {
    let mut rng = SmallRng::seed_from_u64(seed ^ (id as u64 + 1).wrapping_mul(0x5851_f42d));
    let mut recorder = Recorder {
        client,
        id,
        origin,
        history: Vec::with_capacity(OPS_PER_CLIENT * 2),
    };
    let mut i = 0;
    let mut fresh = || {
        i += 1;
        format!("c{id}-{i}")
    };
    while recorder.history.len() < OPS_PER_CLIENT {
        let key = format!("mc-lin-k{}", rng.random_range(0..KEYS));
        match rng.random_range(0..100) {
            0..55 => {
                for _ in 0..3 {
                    let Some((_, unique)) = recorder.gets(&key) else {
                        recorder.set(&key, fresh());
                        break;
                    };
                    recorder.cas(&key, fresh(), unique);
                    let last = &recorder.history[recorder.history.len() - 1].kind;
                    if !matches!(
                        last,
                        OpKind::Cas {
                            result: CasResult::Exists,
                            ..
                        }
                    ) {
                        break;
                    }
                }
            }
            55..75 => recorder.get(&key),
            75..90 => recorder.set(&key, fresh()),
            _ => recorder.delete(&key),
        }
    }
    recorder.history
}

/// Runs the mix against a fresh server, half the clients over the memcached TCP
/// listener and half over its Unix socket, and returns the history.
fn record(seed: u64) -> Vec<Operation> {
    let server = Server::start_memcache(&[]);
    let origin = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let client = server.memcache_client(id % 2 == 1);
                scope.spawn(move || run_client(client, id, seed, origin))
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

/// How many operations of `history` are `cas` that answered `result`.
fn cas_count(history: &[Operation], result: CasResult) -> usize {
    let is = |op: &&Operation| matches!(op.kind, OpKind::Cas { result: r, .. } if r == result);
    history.iter().filter(is).count()
}

#[test]
fn gets_and_cas_over_memcached_are_linearizable() {
    let seed = seed();
    let started = Instant::now();
    let history = record(seed);
    let recorded = started.elapsed();
    let (stored, exists) = (
        cas_count(&history, CasResult::Stored),
        cas_count(&history, CasResult::Exists),
    );
    // Lost races are what the check is about: a run without any proves little.
    assert!(
        stored > 100 && exists > 0,
        "{stored} stored, {exists} EXISTS"
    );
    let started = Instant::now();
    let result = check(&history);
    eprintln!(
        "linearizability (memcached): {CLIENTS} clients, {} ops over {KEYS} keys (seed \
         {seed}), {stored} cas stored, {exists} EXISTS: recorded in {recorded:?}, checked in \
         {:?}",
        history.len(),
        started.elapsed()
    );
    if let Err(violation) = result {
        panic!("history is not linearizable (seed {seed}):\n{violation}");
    }
}

#[test]
fn a_replayed_cas_in_a_real_history_is_rejected() {
    let seed = seed();
    let mut history = record(seed);
    check(&history).unwrap_or_else(|v| panic!("seed {seed}: {v}"));

    // A second `cas` with the unique a stored one used up, answered STORED after
    // everything else: no order lets both store.
    let stored = history
        .iter()
        .find(|op| {
            matches!(
                op.kind,
                OpKind::Cas {
                    result: CasResult::Stored,
                    ..
                }
            )
        })
        .expect("a cas that stored")
        .clone();
    let end = history.iter().filter_map(|op| op.ret).max().unwrap();
    let OpKind::Cas { key, unique, .. } = stored.kind else {
        unreachable!()
    };
    history.push(Operation {
        client: CLIENTS,
        call: end + 1,
        ret: Some(end + 2),
        kind: OpKind::Cas {
            key: key.clone(),
            value: b"replayed".to_vec(),
            unique,
            result: CasResult::Stored,
        },
    });
    let violation = check(&history).expect_err("two cas with one unique cannot both store");
    eprintln!("rejected as expected:\n{violation}");
    assert_eq!(violation.keys, [key]);
}
