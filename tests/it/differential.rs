//! Differential property test: random sequences of SET/GET/DELETE/USAGE/PING, sent to the
//! real server over a socket, must get exactly the replies the sequential reference model
//! (`blink_model::RefStore`) gives. Keys come from a small set so they collide; values
//! include spaces, empty values and non-UTF-8 bytes. Failures shrink to a minimal sequence.

use crate::common;

use blink_model::{Op, RefStore};
use common::Server;
use proptest::prelude::*;

/// Keys that collide often, including non-UTF-8 and punctuation.
const KEYS: [&[u8]; 6] = [
    b"a",
    b"b",
    b"user:1",
    b"k\xff\xfe",
    b"{x}",
    b"\xc3\xa9t\xc3\xa9",
];

/// A value the line protocol can carry: any bytes but LF, not ending in CR.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"hello world".to_vec()),
        proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..40),
    ]
    .prop_map(|mut value| {
        // Every trailing CR: a value of two CRs, less one, still ends in CR.
        while value.last() == Some(&b'\r') {
            value.pop();
        }
        value
    })
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    proptest::sample::select(&KEYS[..]).prop_map(<[u8]>::to_vec)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), value()).prop_map(|(key, value)| Op::Set { key, value }),
        4 => key().prop_map(|key| Op::Get { key }),
        2 => key().prop_map(|key| Op::Delete { key }),
        1 => Just(Op::Usage),
        1 => Just(Op::Ping),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn replies_match_the_reference_model(ops in proptest::collection::vec(op(), 1..120), unix in any::<bool>()) {
        let server = Server::start(&[]);
        let mut client = if unix { server.unix_client() } else { server.tcp_client() };
        let mut model = RefStore::new();
        for (step, op) in ops.iter().enumerate() {
            let expected = model.apply(op).to_line();
            client.send(&op.to_line());
            let reply = client.read_line();
            prop_assert_eq!(
                reply.escape_ascii().to_string(),
                expected.escape_ascii().to_string(),
                "step {} of {:?}", step, ops
            );
        }
        prop_assert_eq!(client.usage(), model.usage_bytes());
    }

    #[test]
    fn a_pipelined_batch_matches_the_reference_model(ops in proptest::collection::vec(op(), 1..200)) {
        let server = Server::start(&[]);
        let mut client = server.tcp_client();
        let mut model = RefStore::new();
        let batch: Vec<u8> = ops.iter().flat_map(Op::to_line).collect();
        let expected: Vec<u8> = ops.iter().flat_map(|op| model.apply(op).to_line()).collect();
        client.send(&batch);
        let mut replies = Vec::new();
        for _ in &ops {
            replies.extend(client.read_line());
        }
        prop_assert_eq!(replies.escape_ascii().to_string(), expected.escape_ascii().to_string());
    }
}

/// The checker can fail: a model that forgets deletes disagrees with the server.
#[test]
fn a_wrong_model_is_caught() {
    let server = Server::start(&[]);
    let mut client = server.tcp_client();
    let ops = [
        Op::Set {
            key: b"a".to_vec(),
            value: b"v".to_vec(),
        },
        Op::Delete { key: b"a".to_vec() },
        Op::Get { key: b"a".to_vec() },
    ];
    let mut model = RefStore::new();
    let mut disagreements = 0;
    for op in &ops {
        // The broken model skips deletes.
        let expected = match op {
            Op::Delete { .. } => b"OK\n".to_vec(),
            _ => model.apply(op).to_line(),
        };
        client.send(&op.to_line());
        if client.read_line() != expected {
            disagreements += 1;
        }
    }
    assert_eq!(disagreements, 1, "the stale GET must be noticed");
}
