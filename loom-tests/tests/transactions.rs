//! Loom models of transactions: a transaction's writes are seen all or none by a command
//! racing it, and a write racing WATCH is either seen by WATCH or aborts the EXEC. They
//! run the command layer's real code (`command::apply`, the store's isolation and the
//! watch registry); only the map, atomics and locks are loom's.
#![cfg(blink_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ops::Range;
use std::sync::Arc;

use blink_store::command::{apply, transaction, Context, Held, ServerInfo};
use blink_store::protocol::{Args, Reply, Request};
use blink_store::store::Store;
use common::model_bounded;
use loom::thread;

/// A store and the server's shared state, for two model threads.
fn server() -> (Arc<Store>, Arc<ServerInfo>) {
    (
        Arc::new(Store::new(1 << 20)),
        Arc::new(ServerInfo::default()),
    )
}

#[test]
fn a_transaction_is_seen_all_or_none() {
    model_bounded(3, || {
        let (store, server) = server();
        let writer = {
            let (store, server) = (store.clone(), server.clone());
            thread::spawn(move || {
                // What EXEC does: both SETs under the exclusive hold.
                let _held = store.isolation().exclusive();
                let mut session = server.session(1);
                let mut cx = Context::new(&store, &server, &mut session);
                cx.held = Held::Exclusive;
                let guard = store.guard();
                for key in [&b"a"[..], b"b"] {
                    let set = Request::Set { key, value: b"1" };
                    assert_eq!(apply(&set, &mut cx, &guard), Reply::Ok);
                }
            })
        };
        let keys = b"ab";
        let ranges: [Range<usize>; 2] = [0..1, 1..2];
        let mget = Request::MGet {
            keys: Args::new(keys, &ranges),
        };
        let mut session = server.session(0);
        let mut cx = Context::new(&store, &server, &mut session);
        let guard = store.guard();
        match apply(&mget, &mut cx, &guard) {
            Reply::Values(values) => assert_eq!(values[0], values[1], "a torn read"),
            other => panic!("{other:?}"),
        }
        writer.join().unwrap();
    });
}

#[test]
fn a_write_racing_watch_is_seen_by_it_or_aborts_exec() {
    model_bounded(3, || {
        let (store, server) = server();
        let writer = {
            let (store, server) = (store.clone(), server.clone());
            thread::spawn(move || {
                // A SET as a connection outside a transaction runs it.
                let mut session = server.session(1);
                let mut cx = Context::new(&store, &server, &mut session);
                let set = Request::Set {
                    key: b"k",
                    value: b"v",
                };
                assert_eq!(apply(&set, &mut cx, &store.guard()), Reply::Ok);
            })
        };
        let key = b"k";
        let range = 0..1;
        let mut session = server.session(0);
        let guard = store.guard();
        let watch = Request::Watch {
            keys: Args::new(key, std::slice::from_ref(&range)),
        };
        assert_eq!(
            apply(
                &watch,
                &mut Context::new(&store, &server, &mut session),
                &guard
            ),
            Reply::Ok
        );
        writer.join().unwrap();
        let existed = session.watching.as_ref().and_then(|w| w.existed(b"k"));
        let _held = store.isolation().exclusive();
        let mut cx = Context::new(&store, &server, &mut session);
        cx.held = Held::Exclusive;
        let outcome = transaction::begin(&transaction::Queue::default(), &mut cx, &guard);
        match existed {
            // WATCH ran first: the SET after it must abort the EXEC.
            Some(false) => assert_eq!(outcome, Err(Reply::TransactionAborted)),
            // The SET ran first, and nothing changed the key since WATCH.
            Some(true) => assert_eq!(outcome, Ok(())),
            None => panic!("the key is watched"),
        }
    });
}
