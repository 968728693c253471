//! Commands on the keyspace as a whole or on two keys: KEYS, SCAN, RANDOMKEY, RENAME,
//! RENAMENX and COPY.

use super::glob::Glob;
use crate::protocol::{ClientError, Reply};
use crate::store::keyspace::Transfer;
use crate::store::Store;
use crate::sync::Guard;

/// The only type a value has here, as TYPE names it.
const STRING_TYPE: &[u8] = b"string";

/// KEYS: every live key matching the pattern (`*` alone matches every key, the empty one
/// included, as in Redis). One walk of the whole map, as Redis's KEYS is.
pub fn keys<'a>(store: &Store, pattern: &[u8], guard: &'a Guard<'_>) -> Reply<'a> {
    let glob = Glob::new(pattern);
    let all = glob.matches_everything();
    let found = store.keys(|key| all || glob.matches(key), guard);
    Reply::Values(found.into_iter().map(Some).collect())
}

/// SCAN: one step from `cursor`, with MATCH and TYPE applied while walking (see
/// [`crate::store::scan`] for the cursor and its guarantee). Every value is a string, so
/// a TYPE other than `string` (in any case, known to Redis or not) finds nothing.
pub fn scan<'a>(
    store: &Store,
    cursor: u64,
    (pattern, type_name): (Option<&[u8]>, Option<&[u8]>),
    count: usize,
    guard: &'a Guard<'_>,
) -> Reply<'a> {
    if type_name.is_some_and(|name| !name.eq_ignore_ascii_case(STRING_TYPE)) {
        return Reply::Scan {
            cursor: 0,
            keys: Vec::new(),
        };
    }
    let glob = pattern
        .map(Glob::new)
        .filter(|glob| !glob.matches_everything());
    let step = store.scan(
        cursor,
        count,
        |key| glob.as_ref().is_none_or(|glob| glob.matches(key)),
        guard,
    );
    Reply::Scan {
        cursor: step.cursor,
        keys: step.keys,
    }
}

/// RANDOMKEY: a live key drawn at random, or nil when there is none.
pub fn random_key<'a>(store: &Store, guard: &'a Guard<'_>) -> Reply<'a> {
    store
        .random_key(guard)
        .map_or(Reply::NotFound, Reply::Value)
}

/// RENAME (`replace`: `OK`) and RENAMENX (1 if moved, 0 if the new name was taken): the
/// value moves with its expiry. A missing key is Redis's `ERR no such key`; a key renamed
/// to itself is left as it is.
pub fn rename<'a>(
    store: &Store,
    (from, to): (&[u8], &[u8]),
    replace: bool,
    guard: &Guard<'_>,
) -> Reply<'a> {
    match store.rename(from, to, replace, guard) {
        Ok(Transfer::NoSource) => Reply::Error(ClientError::NoSuchKey),
        Ok(_) if replace => Reply::Ok,
        Ok(transfer) => Reply::Integer(i64::from(transfer == Transfer::Done)),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// COPY: 1 if the value and its expiry were copied, 0 if the source is missing or the
/// destination exists without REPLACE.
pub fn copy<'a>(
    store: &Store,
    (from, to): (&[u8], &[u8]),
    replace: bool,
    guard: &Guard<'_>,
) -> Reply<'a> {
    if from == to {
        return Reply::Error(ClientError::SameObject);
    }
    match store.copy(from, to, replace, guard) {
        Ok(transfer) => Reply::Integer(i64::from(transfer == Transfer::Done)),
        Err(err) => Reply::Refused(err.into()),
    }
}
