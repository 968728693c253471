//! MULTI, EXEC, DISCARD, WATCH, UNWATCH and RESET: the same sessions sent to a real
//! `redis-server` and to Blink Store, every reply compared; WATCH across connections; and
//! isolation: while transactions write two keys together, other clients never see one
//! written without the other.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{Reply, Resp, Server, SideBySide};

#[test]
fn queuing_errors_and_exec_answer_as_redis_does() {
    let mut both = SideBySide::start();
    both.assert_same(&[
        // Queued replies, then EXEC's array with each command's own reply or error.
        &[b"MULTI"],
        &[b"SET", b"a", b"1"],
        &[b"INCR", b"a"],
        &[b"SET", b"a", b"1", b"BAD"],
        &[b"GET", b"a"],
        &[b"ECHO", b"hello"],
        &[b"EXEC"],
        // A command refused while queuing fails the whole transaction.
        &[b"MULTI"],
        &[b"SET", b"b", b"1"],
        &[b"NOSUCHCOMMAND", b"x"],
        &[b"GET"],
        &[b"EXEC"],
        &[b"GET", b"b"],
        // Misplaced commands, which change nothing about the transaction.
        &[b"EXEC"],
        &[b"DISCARD"],
        &[b"MULTI"],
        &[b"MULTI"],
        &[b"WATCH", b"a"],
        &[b"SET", b"c", b"1"],
        &[b"EXEC"],
        &[b"MULTI"],
        &[b"SET", b"d", b"1"],
        &[b"DISCARD"],
        &[b"GET", b"d"],
        &[b"MULTI"],
        &[b"EXEC"],
        &[b"MULTI", b"extra"],
        &[b"EXEC", b"extra"],
        &[b"WATCH"],
        &[b"UNWATCH", b"extra"],
        // RESET ends a transaction; EXEC after it has none to run.
        &[b"MULTI"],
        &[b"SET", b"e", b"1"],
        &[b"RESET"],
        &[b"EXEC"],
        &[b"GET", b"e"],
    ]);
}

#[test]
fn watch_aborts_exec_only_when_a_watched_key_changed() {
    let mut both = SideBySide::start();
    both.assert_same(&[
        &[b"SET", b"w", b"1"],
        // Commands that change nothing do not abort.
        &[b"WATCH", b"w", b"missing"],
        &[b"GET", b"w"],
        &[b"DEL", b"missing"],
        &[b"SET", b"w", b"2", b"NX"],
        &[b"EXPIRE", b"missing", b"10"],
        &[b"SET", b"other", b"1"],
        &[b"MULTI"],
        &[b"GET", b"w"],
        &[b"EXEC"],
        // A write of the watched key, even by this connection, aborts.
        &[b"WATCH", b"w"],
        &[b"SET", b"w", b"1"],
        &[b"MULTI"],
        &[b"SET", b"w", b"3"],
        &[b"EXEC"],
        &[b"GET", b"w"],
        // EXEC ends the WATCH, aborted or not.
        &[b"MULTI"],
        &[b"GET", b"w"],
        &[b"EXEC"],
        // A key created after WATCH aborts too.
        &[b"WATCH", b"missing"],
        &[b"SET", b"missing", b"now"],
        &[b"MULTI"],
        &[b"EXEC"],
        // UNWATCH forgets; DISCARD too.
        &[b"WATCH", b"w"],
        &[b"UNWATCH"],
        &[b"INCR", b"w"],
        &[b"MULTI"],
        &[b"GET", b"w"],
        &[b"EXEC"],
        &[b"WATCH", b"w"],
        &[b"MULTI"],
        &[b"DISCARD"],
        &[b"APPEND", b"w", b"x"],
        &[b"MULTI"],
        &[b"GET", b"w"],
        &[b"EXEC"],
        // UNWATCH inside MULTI is queued, and EXEC still checks the watched keys.
        &[b"WATCH", b"w"],
        &[b"DEL", b"w"],
        &[b"MULTI"],
        &[b"UNWATCH"],
        &[b"EXEC"],
        // FLUSHALL marks the watched keys it removes.
        &[b"SET", b"f", b"1"],
        &[b"WATCH", b"f"],
        &[b"FLUSHALL"],
        &[b"MULTI"],
        &[b"EXEC"],
        &[b"WATCH", b"f"],
        &[b"FLUSHALL"],
        &[b"MULTI"],
        &[b"PING"],
        &[b"EXEC"],
    ]);
}

#[test]
fn an_expired_watched_key_aborts_exec() {
    let mut both = SideBySide::start();
    both.assert_same(&[&[b"SET", b"t", b"1", b"PX", b"30"], &[b"WATCH", b"t"]]);
    for client in [&mut both.theirs, &mut both.ours] {
        common::wait_for("the key to expire", || {
            client.call(&[b"PTTL", b"t"]) == Reply::Integer(-2)
        });
    }
    both.assert_same(&[&[b"MULTI"], &[b"GET", b"t"], &[b"EXEC"]]);
}

#[test]
fn a_write_by_another_connection_aborts_exec() {
    let mut both = SideBySide::start();
    let (mut redis_other, mut blink_other) = both.connect();
    both.assert_same(&[&[b"SET", b"k", b"1"], &[b"WATCH", b"k"], &[b"MULTI"]]);
    assert_eq!(
        redis_other.call(&[b"SET", b"k", b"2"]),
        blink_other.call(&[b"SET", b"k", b"2"])
    );
    both.assert_same(&[&[b"SET", b"k", b"mine"], &[b"EXEC"], &[b"GET", b"k"]]);
    // Without a conflicting write the same transaction runs.
    both.assert_same(&[
        &[b"WATCH", b"k"],
        &[b"MULTI"],
        &[b"SET", b"k", b"mine"],
        &[b"EXEC"],
    ]);
    // A transaction's writes mark other connections' watches too.
    for other in [&mut redis_other, &mut blink_other] {
        assert_eq!(other.call(&[b"WATCH", b"k"]), Reply::Simple("OK".into()));
    }
    both.assert_same(&[&[b"MULTI"], &[b"SET", b"k", b"again"], &[b"EXEC"]]);
    for other in [&mut redis_other, &mut blink_other] {
        assert_eq!(other.call(&[b"MULTI"]), Reply::Simple("OK".into()));
        assert_eq!(other.call(&[b"GET", b"k"]), Reply::Simple("QUEUED".into()));
        assert_eq!(other.call(&[b"EXEC"]), Reply::Array(None));
    }
}

/// Writers run `MULTI; SET a n; SET b n; EXEC` with a new `n` each time, while readers
/// read both keys with MGET and in their own transactions: no reader may ever see the two
/// differ. Without isolation a reader lands between the two SETs within a few hundred
/// rounds.
#[test]
fn other_clients_see_a_transaction_all_or_nothing() {
    const ROUNDS: u64 = 2_000;
    let server = Server::start(&[]);
    let addr = server.tcp.unwrap();
    let mut setup = Resp::connect(addr);
    setup.call(&[b"MSET", b"a", b"0", b"b", b"0"]);
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|reader| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut client = Resp::connect(addr);
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let pair = if reader == 0 {
                        client.call(&[b"MGET", b"a", b"b"])
                    } else {
                        client.queue(&[b"MULTI"]);
                        client.queue(&[b"GET", b"a"]);
                        client.queue(&[b"GET", b"b"]);
                        client.call(&[b"EXEC"]);
                        for _ in 0..2 {
                            client.read();
                        }
                        client.read().unwrap()
                    };
                    let Reply::Array(Some(values)) = pair else {
                        panic!("{pair:?}");
                    };
                    assert_eq!(values[0], values[1], "a torn read after {reads} reads");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let mut writer = Resp::connect(addr);
    for n in 1..=ROUNDS {
        let n = n.to_string();
        writer.queue(&[b"MULTI"]);
        writer.queue(&[b"SET", b"a", n.as_bytes()]);
        writer.queue(&[b"SET", b"b", n.as_bytes()]);
        let ok = writer.call(&[b"EXEC"]);
        assert_eq!(ok, Reply::Simple("OK".into()));
        for _ in 0..2 {
            writer.read();
        }
        let exec = writer.read().unwrap();
        assert_eq!(
            exec,
            Reply::Array(Some(vec![
                Reply::Simple("OK".into()),
                Reply::Simple("OK".into())
            ]))
        );
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        let reads = reader.join().expect("a reader saw a torn transaction");
        assert!(reads > 0, "every reader read");
    }
}
