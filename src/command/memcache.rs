//! Runs memcached's requests against the store.
use super::Context;
use crate::protocol::memcache::McRequest;
use crate::protocol::Reply;
use crate::sync::Guard;

/// Runs one memcached request.
pub fn apply<'a>(
    _request: McRequest<'a>,
    _cx: &mut Context<'_>,
    _guard: &'a Guard<'_>,
) -> Reply<'a> {
    Reply::Silent
}
