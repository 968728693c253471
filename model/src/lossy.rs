//! The "lossy register" check, for histories recorded under eviction pressure, where a
//! key may vanish at any moment and linearizability against a plain register does not
//! apply. What still must hold, for every read that returned a value (a GET, or one inside
//! a transaction or a batch):
//!
//! * some SET wrote exactly that value to that key (nothing torn, nothing invented);
//! * that SET was invoked before the GET returned (no reads from the future);
//! * no DELETE, and no SET of another value, ran entirely between that SET's response
//!   and the GET's invocation (no value comes back after it was deleted or overwritten).
//!
//! Values written to one key must be unique for the check to be exact.

use std::collections::HashMap;

use crate::linearizability::{Access, Operation};

/// Checks `history` against the lossy-register properties; the error describes the first
/// GET that breaks one.
///
/// # Errors
/// A description of the offending GET and the operation that rules its value out.
pub fn check_lossy(history: &[Operation]) -> Result<(), String> {
    let mut sets: HashMap<(&[u8], &[u8]), &Operation> = HashMap::new();
    for op in history {
        for access in op.kind.accesses() {
            if let Access::Set { key, value } = access {
                sets.insert((key, value), op);
            }
        }
    }
    for get in history {
        let Some(get_ret) = get.ret else {
            continue;
        };
        for access in get.kind.accesses() {
            let Access::Get {
                key,
                result: Some(value),
            } = access
            else {
                continue;
            };
            let Some(set) = sets.get(&(key, value)) else {
                return Err(format!("{get}: no SET wrote this value to this key"));
            };
            if set.call > get_ret {
                return Err(format!("{get}: reads a value written later, by {set}"));
            }
            let Some(set_ret) = set.ret else { continue };
            let clobbers = |access: &Access<'_>| match *access {
                Access::Delete { key: k, .. } => k == key,
                Access::Set { key: k, value: v } => k == key && v != value,
                Access::Cas {
                    key: k,
                    value: v,
                    result: crate::linearizability::CasResult::Stored,
                    ..
                } => k == key && v != value,
                Access::Get { .. } | Access::Gets { .. } | Access::Cas { .. } => false,
            };
            let superseded = history.iter().find(|other| {
                other.kind.accesses().iter().any(clobbers)
                    && other.call > set_ret
                    && other.ret.is_some_and(|ret| ret < get.call)
            });
            if let Some(other) = superseded {
                return Err(format!(
                    "{get}: returns {set}'s value after {other} completed"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizability::OpKind;

    fn op(call: u64, ret: u64, kind: OpKind) -> Operation {
        Operation {
            client: 0,
            call,
            ret: Some(ret),
            kind,
        }
    }
    fn set(call: u64, ret: u64, value: &str) -> Operation {
        op(
            call,
            ret,
            OpKind::Set {
                key: b"k".to_vec(),
                value: value.into(),
            },
        )
    }
    fn get(call: u64, ret: u64, value: Option<&str>) -> Operation {
        op(
            call,
            ret,
            OpKind::Get {
                key: b"k".to_vec(),
                result: value.map(Into::into),
            },
        )
    }
    fn delete(call: u64, ret: u64) -> Operation {
        op(
            call,
            ret,
            OpKind::Delete {
                key: b"k".to_vec(),
                existed: true,
            },
        )
    }

    #[test]
    fn a_key_may_vanish_but_never_go_back() {
        // Vanishing (eviction) is allowed at any time.
        assert!(check_lossy(&[set(0, 1, "a"), get(2, 3, None), get(4, 5, Some("a"))]).is_ok());
        // Overlapping operations may go either way.
        assert!(check_lossy(&[set(0, 1, "a"), set(2, 5, "b"), get(3, 4, Some("a"))]).is_ok());
        assert!(check_lossy(&[set(0, 1, "a"), delete(2, 5), get(3, 4, Some("a"))]).is_ok());
    }

    #[test]
    fn rejects_invented_future_deleted_and_overwritten_values() {
        let invented = [set(0, 1, "a"), get(2, 3, Some("a-torn"))];
        assert!(check_lossy(&invented).is_err());
        let future = [get(0, 1, Some("a")), set(2, 3, "a")];
        assert!(check_lossy(&future).is_err());
        let deleted = [set(0, 1, "a"), delete(2, 3), get(4, 5, Some("a"))];
        assert!(check_lossy(&deleted).is_err());
        let overwritten = [set(0, 1, "a"), set(2, 3, "b"), get(4, 5, Some("a"))];
        assert!(check_lossy(&overwritten).is_err());
    }
}
