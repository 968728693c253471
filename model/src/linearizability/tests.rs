//! The checker's tests: legal and illegal histories of single-key operations, then of
//! transactions and batches, and long simulated histories that must check quickly.

use super::*;

fn set(client: usize, call: u64, ret: u64, value: &str) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind: OpKind::Set {
            key: b"k".to_vec(),
            value: value.as_bytes().to_vec(),
        },
    }
}

fn get(client: usize, call: u64, ret: u64, result: Option<&str>) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind: OpKind::Get {
            key: b"k".to_vec(),
            result: result.map(|v| v.as_bytes().to_vec()),
        },
    }
}

fn delete(client: usize, call: u64, ret: u64, existed: bool) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind: OpKind::Delete {
            key: b"k".to_vec(),
            existed,
        },
    }
}

fn gets(client: usize, call: u64, ret: u64, result: Option<(&str, u64)>) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind: OpKind::Gets {
            key: b"k".to_vec(),
            result: result.map(|(v, unique)| (v.as_bytes().to_vec(), unique)),
        },
    }
}

fn cas(
    client: usize,
    call: u64,
    ret: u64,
    value: &str,
    unique: u64,
    result: CasResult,
) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind: OpKind::Cas {
            key: b"k".to_vec(),
            value: value.as_bytes().to_vec(),
            unique,
            result,
        },
    }
}

fn on_key(mut op: Operation, key: &str) -> Operation {
    match &mut op.kind {
        OpKind::Set { key: k, .. }
        | OpKind::Get { key: k, .. }
        | OpKind::Delete { key: k, .. }
        | OpKind::Gets { key: k, .. }
        | OpKind::Cas { key: k, .. } => *k = key.as_bytes().to_vec(),
        OpKind::Transaction(_) | OpKind::Batch(_) => panic!("not a single-key operation"),
    }
    op
}

fn rejected(history: &[Operation]) -> Violation {
    match check(history) {
        Ok(()) => panic!("accepted a non-linearizable history: {history:#?}"),
        Err(violation) => *violation,
    }
}

#[test]
fn empty_and_sequential_histories_are_linearizable() {
    assert_eq!(check(&[]), Ok(()));
    let history = [
        get(0, 0, 1, None),
        set(0, 2, 3, "a"),
        get(0, 4, 5, Some("a")),
        delete(0, 6, 7, true),
        delete(0, 8, 9, false),
        get(0, 10, 11, None),
    ];
    assert_eq!(check(&history), Ok(()));
}

#[test]
fn overlapping_set_and_get_may_see_either_value() {
    for seen in [Some("a"), Some("b")] {
        let history = [set(0, 0, 1, "a"), set(1, 2, 10, "b"), get(2, 3, 9, seen)];
        assert_eq!(check(&history), Ok(()), "get saw {seen:?}");
    }
    // Two reads during one write: the second may not go back once the first saw "b".
    let history = [
        set(0, 0, 1, "a"),
        set(1, 2, 20, "b"),
        get(2, 3, 5, Some("b")),
        get(3, 6, 8, Some("b")),
    ];
    assert_eq!(check(&history), Ok(()));
}

#[test]
fn delete_racing_set_may_go_either_way() {
    // Delete before set: NOT_FOUND, then the value stays.
    let history = [
        set(0, 0, 10, "a"),
        delete(1, 1, 9, false),
        get(2, 11, 12, Some("a")),
    ];
    assert_eq!(check(&history), Ok(()));
    // Set before delete: OK, then the key is gone.
    let history = [
        set(0, 0, 10, "a"),
        delete(1, 1, 9, true),
        get(2, 11, 12, None),
    ];
    assert_eq!(check(&history), Ok(()));
}

#[test]
fn touching_intervals_overlap() {
    // The get's response time equals the set's invocation time: they are concurrent.
    let history = [get(0, 0, 5, Some("a")), set(1, 5, 6, "a")];
    assert_eq!(check(&history), Ok(()));
}

#[test]
fn a_read_from_the_future_is_rejected() {
    let history = [get(0, 0, 1, Some("a")), set(1, 2, 3, "a")];
    let violation = rejected(&history);
    assert_eq!(violation.keys, [b"k"]);
    assert_eq!(violation.linearized, 0);
    assert!(!violation.stuck.is_empty());
}

#[test]
fn a_stale_read_after_a_completed_set_is_rejected() {
    let history = [
        set(0, 0, 1, "a"),
        set(0, 2, 3, "b"),
        get(1, 4, 5, Some("a")),
    ];
    let violation = rejected(&history);
    assert_eq!(violation.linearized, 2);
    assert_eq!(violation.state, [(b"k".to_vec(), Some(b"b".to_vec()))]);
}

#[test]
fn a_delete_of_a_key_that_cannot_exist_is_rejected() {
    let history = [delete(0, 0, 1, true)];
    rejected(&history);
    let history = [
        set(0, 0, 1, "a"),
        delete(1, 2, 3, true),
        delete(0, 4, 5, true),
    ];
    rejected(&history);
}

#[test]
fn a_stale_read_after_a_completed_delete_is_rejected() {
    let history = [
        set(0, 0, 1, "a"),
        delete(1, 2, 3, true),
        get(0, 4, 5, Some("a")),
    ];
    rejected(&history);
}

#[test]
fn reads_may_not_flip_flop() {
    let history = [
        set(0, 0, 1, "a"),
        set(1, 2, 20, "b"),
        get(2, 3, 5, Some("b")),
        get(3, 6, 8, Some("a")),
    ];
    rejected(&history);
}

#[test]
fn a_value_never_written_is_rejected() {
    let history = [set(0, 0, 10, "a"), get(1, 1, 9, Some("z"))];
    rejected(&history);
}

#[test]
fn keys_are_independent_and_the_bad_key_is_named() {
    let history = [
        on_key(set(0, 0, 1, "a"), "x"),
        on_key(get(1, 2, 3, Some("a")), "x"),
        on_key(get(1, 4, 5, Some("a")), "y"),
    ];
    let violation = rejected(&history);
    assert_eq!(violation.keys, [b"y"]);
    assert!(violation.to_string().contains("GET y -> VALUE a"));
}

#[test]
fn pending_operations_may_or_may_not_take_effect() {
    let pending_set = Operation {
        ret: None,
        ..set(0, 0, 0, "a")
    };
    let pending_delete = Operation {
        ret: None,
        ..delete(1, 2, 0, false)
    };
    for history in [
        vec![pending_set.clone(), get(1, 5, 6, Some("a"))],
        vec![pending_set.clone(), get(1, 5, 6, None)],
        vec![
            set(0, 0, 1, "a"),
            pending_delete.clone(),
            get(2, 3, 4, None),
        ],
        vec![
            set(0, 0, 1, "a"),
            pending_delete.clone(),
            get(2, 3, 4, Some("a")),
        ],
    ] {
        assert_eq!(check(&history), Ok(()), "{history:#?}");
    }
    // Once a read has seen it take effect, it stays in effect.
    rejected(&[pending_set, get(1, 5, 6, Some("a")), get(1, 7, 8, None)]);
}

#[test]
fn a_response_before_its_invocation_is_malformed() {
    let violation = rejected(&[get(0, 5, 4, None)]);
    assert!(violation.reason.contains("malformed"));
}

/// A long, highly concurrent but linearizable history: simulated clients whose
/// operations take effect at a random instant inside their interval.
#[test]
fn a_long_concurrent_history_is_checked_quickly() {
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let clients = 8;
    let mut free_at = vec![0_u64; clients];
    // (effect time, client, call, ret, op index within client, kind code)
    let mut planned = Vec::new();
    for i in 0..4_000_u64 {
        let client = (random() % clients as u64) as usize;
        let call = free_at[client] + random() % 5;
        let ret = call + 1 + random() % 40;
        free_at[client] = ret + 1;
        let effect = call + random() % (ret - call + 1);
        planned.push((effect, client, call, ret, i, random() % 100));
    }
    planned.sort();
    let mut value: Option<String> = None;
    let mut history = Vec::new();
    for (_, client, call, ret, i, code) in planned {
        history.push(if code < 50 {
            get(client, call, ret, value.as_deref())
        } else if code < 85 {
            let v = format!("v{i}");
            value = Some(v.clone());
            set(client, call, ret, &v)
        } else {
            delete(client, call, ret, value.take().is_some())
        });
    }
    let start = std::time::Instant::now();
    assert_eq!(check(&history), Ok(()));
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());

    // Make one read return a value that was never written.
    let mut bad = history.clone();
    let reads: Vec<usize> = (0..bad.len())
        .filter(|&i| matches!(bad[i].kind, OpKind::Get { .. }))
        .collect();
    if let Some(op) = bad.get_mut(reads[reads.len() / 2]) {
        op.kind = OpKind::Get {
            key: b"k".to_vec(),
            result: Some(b"never".to_vec()),
        };
    }
    rejected(&bad);
}

// Multi-key histories.

fn s(key: &str, value: &str) -> OpKind {
    OpKind::Set {
        key: key.as_bytes().to_vec(),
        value: value.as_bytes().to_vec(),
    }
}

fn g(key: &str, result: Option<&str>) -> OpKind {
    OpKind::Get {
        key: key.as_bytes().to_vec(),
        result: result.map(|v| v.as_bytes().to_vec()),
    }
}

fn d(key: &str, existed: bool) -> OpKind {
    OpKind::Delete {
        key: key.as_bytes().to_vec(),
        existed,
    }
}

fn op(client: usize, call: u64, ret: u64, kind: OpKind) -> Operation {
    Operation {
        client,
        call,
        ret: Some(ret),
        kind,
    }
}

fn tx(client: usize, call: u64, ret: u64, ops: Vec<OpKind>) -> Operation {
    op(client, call, ret, OpKind::Transaction(ops))
}

fn batch(client: usize, call: u64, ret: u64, ops: Vec<OpKind>) -> Operation {
    op(client, call, ret, OpKind::Batch(ops))
}

/// Each key's operations alone, a transaction's accesses as separate operations: what
/// a check key by key would see.
fn per_key(history: &[Operation]) -> BTreeMap<Vec<u8>, Vec<Operation>> {
    let mut keys: BTreeMap<Vec<u8>, Vec<Operation>> = BTreeMap::new();
    for op in history {
        for access in op.kind.accesses() {
            keys.entry(access.key().to_vec())
                .or_default()
                .push(Operation {
                    kind: access.to_kind(),
                    ..op.clone()
                });
        }
    }
    keys
}

#[test]
fn a_transaction_takes_effect_at_one_instant() {
    let writer = tx(0, 0, 10, vec![s("a", "1"), s("b", "1")]);
    for seen in [None, Some("1")] {
        let history = [
            writer.clone(),
            tx(1, 2, 8, vec![g("a", seen), g("b", seen)]),
            batch(2, 3, 7, vec![g("b", seen), g("a", seen)]),
            op(3, 11, 12, g("b", Some("1"))),
        ];
        assert_eq!(check(&history), Ok(()), "reads saw {seen:?}");
    }
    // Its commands run in order: each sees the ones before it.
    let history = [tx(
        0,
        0,
        1,
        vec![
            g("a", None),
            s("a", "1"),
            g("a", Some("1")),
            d("a", true),
            d("a", false),
            s("b", "2"),
            g("b", Some("2")),
        ],
    )];
    assert_eq!(check(&history), Ok(()));
    rejected(&[tx(0, 0, 1, vec![s("a", "1"), g("a", None)])]);
    rejected(&[tx(0, 0, 1, vec![d("a", false), s("a", "1"), d("a", false)])]);
}

#[test]
fn a_torn_transaction_is_rejected() {
    let writer = tx(0, 0, 10, vec![s("a", "1"), s("b", "1")]);
    let history = [
        writer.clone(),
        tx(1, 2, 8, vec![g("a", Some("1")), g("b", None)]),
    ];
    let violation = rejected(&history);
    assert_eq!(violation.keys, [b"a", b"b"]);
    assert!(
        violation.to_string().contains("keys \"a\", \"b\""),
        "{violation}"
    );
    assert!(
        violation
            .to_string()
            .contains("EXEC [GET a -> VALUE 1; GET b -> NOT_FOUND]"),
        "{violation}"
    );
    // Two plain reads, one after the other, that see it half done.
    rejected(&[
        writer.clone(),
        op(1, 2, 3, g("a", Some("1"))),
        op(1, 4, 5, g("b", None)),
    ]);
    // A batch sees a transaction all or nothing too: no transaction between its keys.
    rejected(&[
        writer.clone(),
        batch(1, 2, 8, vec![g("a", Some("1")), g("b", None)]),
    ]);
    rejected(&[
        writer,
        batch(1, 2, 8, vec![g("a", None), g("b", Some("1"))]),
    ]);
}

#[test]
fn the_whole_state_rejects_what_each_key_alone_accepts() {
    // Write skew: each transaction reads the key the other writes, and both read it
    // absent. Either order makes one of them see the other's write.
    let skew = [
        tx(0, 0, 10, vec![g("a", None), s("b", "1")]),
        tx(1, 1, 9, vec![g("b", None), s("a", "2")]),
    ];
    // And a torn write seen by two reads in one transaction.
    let torn = [
        tx(0, 0, 10, vec![s("a", "1"), s("b", "1")]),
        tx(1, 2, 8, vec![g("a", None), g("b", Some("1"))]),
    ];
    for history in [&skew[..], &torn[..]] {
        for (key, ops) in per_key(history) {
            assert_eq!(check(&ops), Ok(()), "key {key:?} alone");
        }
        let violation = rejected(history);
        assert_eq!(violation.keys, [b"a", b"b"]);
        assert_eq!(violation.total, 2);
    }
}

#[test]
fn a_batch_runs_key_by_key_in_order() {
    // MSET racing MGET: the reader may see it half done, in the order it writes.
    let mset = batch(0, 0, 10, vec![s("a", "1"), s("b", "1")]);
    for (a, b) in [(None, None), (Some("1"), None), (Some("1"), Some("1"))] {
        let history = [mset.clone(), batch(1, 2, 8, vec![g("a", a), g("b", b)])];
        assert_eq!(check(&history), Ok(()), "MGET a b saw {a:?} {b:?}");
    }
    // b written means a was written before it, and the reader reads b first.
    rejected(&[
        mset.clone(),
        batch(1, 2, 8, vec![g("b", Some("1")), g("a", None)]),
    ]);
    // Plain writes may come between a batch's keys, each in its own interval.
    let history = [
        op(0, 0, 1, s("a", "old")),
        batch(1, 2, 20, vec![g("a", Some("old")), g("b", Some("new"))]),
        op(0, 3, 4, s("a", "new")),
        op(0, 5, 6, s("b", "new")),
    ];
    assert_eq!(check(&history), Ok(()));
    // But b is written after a: reading b first and seeing it written, a is written too.
    rejected(&[
        op(0, 0, 1, s("a", "old")),
        batch(1, 2, 20, vec![g("b", Some("new")), g("a", Some("old"))]),
        op(0, 3, 4, s("a", "new")),
        op(0, 5, 6, s("b", "new")),
    ]);
}

#[test]
fn pending_transactions_take_effect_whole_or_not_at_all() {
    let pending = Operation {
        ret: None,
        // Its reads' results were never seen: they constrain nothing.
        ..tx(
            0,
            0,
            0,
            vec![s("a", "1"), g("z", Some("never")), s("b", "1")],
        )
    };
    for seen in [None, Some("1")] {
        let history = [
            pending.clone(),
            op(1, 5, 6, g("a", seen)),
            op(1, 7, 8, g("b", seen)),
        ];
        assert_eq!(check(&history), Ok(()), "saw {seen:?}");
    }
    rejected(&[
        pending.clone(),
        op(1, 5, 6, g("a", Some("1"))),
        op(1, 7, 8, g("b", None)),
    ]);
    // A pending batch's writes may each take effect or not, in order.
    let pending = Operation {
        ret: None,
        ..batch(0, 0, 0, vec![s("a", "1"), s("b", "1")])
    };
    assert_eq!(
        check(&[
            pending.clone(),
            op(1, 5, 6, g("a", Some("1"))),
            op(1, 7, 8, g("b", None))
        ]),
        Ok(())
    );
    rejected(&[
        pending,
        op(1, 5, 6, g("b", Some("1"))),
        op(1, 7, 8, g("a", None)),
    ]);
}

#[test]
fn keys_no_transaction_touches_are_checked_alone() {
    let history = [
        tx(0, 0, 1, vec![s("a", "1"), s("b", "1")]),
        op(1, 2, 3, g("b", Some("1"))),
        op(1, 4, 5, s("c", "1")),
        op(1, 6, 7, g("c", Some("2"))),
    ];
    let violation = rejected(&history);
    assert_eq!(violation.keys, [b"c"]);
}

/// A long history over three keys mixing every kind of operation, each taking effect
/// at a random instant of its interval, must check in well under a second per thousand
/// operations; the same history with one read tampered with must be rejected.
#[test]
fn a_long_multi_key_history_is_checked_quickly() {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let keys = ["a", "b", "c"];
    let clients = 6;
    let mut free_at = vec![0_u64; clients];
    let mut planned = Vec::new();
    for i in 0..4_000_u64 {
        let client = random(clients as u64) as usize;
        let call = free_at[client] + random(5);
        let ret = call + 1 + random(40);
        free_at[client] = ret + 1;
        let effect = call + random(ret - call + 1);
        planned.push((effect, client, call, ret, i));
    }
    planned.sort();
    let mut state: BTreeMap<&str, String> = BTreeMap::new();
    let mut history = Vec::new();
    for (_, client, call, ret, i) in planned {
        let first = random(3) as usize;
        let shape = random(4);
        let mut access = |j: u64, key: &'static str| match random(10) {
            0..5 => g(key, state.get(key).map(String::as_str)),
            5..8 => {
                let value = format!("v{i}-{j}");
                state.insert(key, value.clone());
                s(key, &value)
            }
            _ => d(key, state.remove(key).is_some()),
        };
        let kind = match shape {
            0 => access(0, keys[first]),
            1 => OpKind::Transaction(vec![
                access(0, keys[first]),
                access(1, keys[(first + 1) % 3]),
            ]),
            // A batch that takes effect at one instant is one legal way to run it.
            2 => OpKind::Batch(
                (0..3)
                    .map(|j| g(keys[j], state.get(keys[j]).map(String::as_str)))
                    .collect(),
            ),
            _ => OpKind::Batch(vec![
                access(0, keys[first]),
                access(1, keys[(first + 2) % 3]),
            ]),
        };
        history.push(op(client, call, ret, kind));
    }
    let start = std::time::Instant::now();
    assert_eq!(check(&history), Ok(()));
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());

    // Make one transaction's read see a value that was never written.
    let mut bad = history.clone();
    let victim = bad
        .iter_mut()
        .filter_map(|op| match &mut op.kind {
            OpKind::Transaction(ops) => ops.iter_mut().find_map(|op| match op {
                OpKind::Get { result, .. } => Some(result),
                _ => None,
            }),
            _ => None,
        })
        .nth(200)
        .expect("enough transactions that read");
    *victim = Some(b"never".to_vec());
    let start = std::time::Instant::now();
    let violation = rejected(&bad);
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    assert_eq!(violation.keys, [b"a", b"b", b"c"]);
}

#[test]
fn two_cas_with_one_unique_cannot_both_store() {
    let read = [set(0, 0, 1, "a"), gets(0, 2, 3, Some(("a", 7)))];
    // Concurrent, both STORED over unique 7: one of them must have found another unique.
    let mut history = read.to_vec();
    history.push(cas(0, 4, 10, "b", 7, CasResult::Stored));
    history.push(cas(1, 5, 9, "c", 7, CasResult::Stored));
    assert_eq!(rejected(&history).reason, "no linearization exists");
    // One STORED and one EXISTS is legal, in either order, and so is what a gets sees.
    for (b, c, seen) in [
        (CasResult::Stored, CasResult::Exists, "b"),
        (CasResult::Exists, CasResult::Stored, "c"),
    ] {
        let mut history = read.to_vec();
        history.push(cas(0, 4, 10, "b", 7, b));
        history.push(cas(1, 5, 9, "c", 7, c));
        history.push(gets(2, 11, 12, Some((seen, 8))));
        history.push(get(2, 13, 14, Some(seen)));
        assert_eq!(check(&history), Ok(()), "{b:?} {c:?}");
    }
}

#[test]
fn a_cas_stores_only_over_the_unique_it_names() {
    // A SET after the gets changed the unique: the cas must answer EXISTS.
    let base = [
        set(0, 0, 1, "a"),
        gets(0, 2, 3, Some(("a", 7))),
        set(1, 4, 5, "b"),
    ];
    let mut stale = base.to_vec();
    stale.push(cas(0, 6, 7, "c", 7, CasResult::Stored));
    assert_eq!(rejected(&stale).reason, "no linearization exists");
    let mut refused = base.to_vec();
    refused.push(cas(0, 6, 7, "c", 7, CasResult::Exists));
    refused.push(get(0, 8, 9, Some("b")));
    assert_eq!(check(&refused), Ok(()));
    // EXISTS over the unique it names, with nothing in between, is wrong; so is
    // NOT_FOUND over a present key, and EXISTS over an absent one.
    let mut wrong = base[..2].to_vec();
    wrong.push(cas(0, 4, 5, "c", 7, CasResult::Exists));
    assert!(check(&wrong).is_err());
    let mut wrong = base[..2].to_vec();
    wrong.push(cas(0, 4, 5, "c", 7, CasResult::NotFound));
    assert!(check(&wrong).is_err());
    let history = [
        delete(0, 0, 1, false),
        cas(0, 2, 3, "c", 7, CasResult::NotFound),
        gets(0, 4, 5, None),
    ];
    assert_eq!(check(&history), Ok(()));
    assert!(check(&[cas(0, 0, 1, "c", 7, CasResult::Exists)]).is_err());
    // A unique no gets saw names no write: such a cas can never store.
    assert!(check(&[set(0, 0, 1, "a"), cas(0, 2, 3, "c", 99, CasResult::Stored)]).is_err());
}

#[test]
fn a_unique_names_one_write() {
    // Two gets of one value with different uniques and one write between them: illegal.
    let history = [
        set(0, 0, 1, "a"),
        gets(0, 2, 3, Some(("a", 7))),
        gets(0, 4, 5, Some(("a", 8))),
    ];
    assert!(check(&history).is_err());
    // The same value written twice, each seen with its own unique: refused as ambiguous.
    let history = [
        set(0, 0, 1, "a"),
        gets(0, 2, 3, Some(("a", 7))),
        set(0, 4, 5, "a"),
        gets(0, 6, 7, Some(("a", 8))),
    ];
    assert!(rejected(&history).reason.starts_with("ambiguous history"));
    // Writes whose uniques nobody saw are told apart by value alone, as before.
    let history = [
        set(0, 0, 1, "a"),
        set(0, 2, 3, "a"),
        get(0, 4, 5, Some("a")),
    ];
    assert_eq!(check(&history), Ok(()));
}

#[test]
fn a_pending_cas_may_or_may_not_have_stored() {
    let read = [set(0, 0, 1, "a"), gets(0, 2, 3, Some(("a", 7)))];
    let mut pending = cas(1, 4, 0, "b", 7, CasResult::Exists);
    pending.ret = None;
    for seen in ["a", "b"] {
        let mut history = read.to_vec();
        history.push(pending.clone());
        history.push(get(0, 10, 11, Some(seen)));
        assert_eq!(check(&history), Ok(()), "saw {seen}");
    }
}
