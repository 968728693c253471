//! The one place the store takes its map and atomics from, so that a model checker can
//! later swap them for instrumented versions without touching `store/`.

pub use papaya::{Guard as Reclaim, HashMap as Map, LocalGuard as Guard};
pub use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
