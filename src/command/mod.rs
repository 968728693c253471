//! Executes requests against the store. The only module that knows both
//! [`Request`] and [`Store`]; it never fails: a refusal is a [`Reply::Error`].

use crate::protocol::{Reply, Request};
use crate::store::Store;
use crate::sync::Guard;

/// Applies one request. A returned value borrows from the store under `guard`.
pub fn apply<'g>(request: Request<'_>, store: &Store, guard: &'g Guard<'_>) -> Reply<'g> {
    match request {
        Request::Get { key } => {
            tracing::debug!(key_len = key.len(), "get");
            store.get(key, guard).map_or(Reply::NotFound, Reply::Value)
        }
        Request::Set { key, value } => {
            tracing::debug!(key_len = key.len(), value_len = value.len(), "set");
            match store.set(key, value) {
                Ok(()) => Reply::Ok,
                Err(err) => Reply::Error(err.into()),
            }
        }
        Request::Delete { key } => {
            tracing::debug!(key_len = key.len(), "delete");
            Reply::Deleted(u64::from(store.delete(key)))
        }
        Request::Usage => Reply::Usage(store.usage_bytes()),
        Request::Ping => Reply::Pong,
        Request::Quit => Reply::Close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ClientError;
    use crate::store::StoreError;

    #[test]
    fn the_quick_start_session() {
        let store = Store::new(1024);
        let guard = store.guard();
        let run = |request| apply(request, &store, &guard);
        assert_eq!(
            run(Request::Set {
                key: b"user",
                value: b"alice"
            }),
            Reply::Ok
        );
        assert_eq!(run(Request::Get { key: b"user" }), Reply::Value(b"alice"));
        assert_eq!(run(Request::Usage), Reply::Usage(9));
        assert_eq!(run(Request::Delete { key: b"user" }), Reply::Deleted(1));
        assert_eq!(run(Request::Delete { key: b"user" }), Reply::Deleted(0));
        assert_eq!(run(Request::Get { key: b"user" }), Reply::NotFound);
        assert_eq!(run(Request::Ping), Reply::Pong);
        assert_eq!(run(Request::Quit), Reply::Close);
    }

    #[test]
    fn a_store_refusal_is_an_error_reply() {
        let store = Store::new(4);
        let guard = store.guard();
        assert_eq!(
            apply(
                Request::Set {
                    key: b"k",
                    value: b"long"
                },
                &store,
                &guard
            ),
            Reply::Error(ClientError::Store(StoreError::LargerThanLimit {
                max_bytes: 4
            }))
        );
    }
}
