//! Blink Store's specification, executable: a sequential reference model that says what
//! every command must answer, used as the oracle by the differential tests; a
//! linearizability checker for concurrent histories; and, under `--cfg blink_loom`, a
//! loom-visible map with the contract the store relies on from papaya.

pub mod linearizability;
#[cfg(blink_loom)]
pub mod loom_map;
pub mod lossy;
pub mod reference;

pub use reference::{Op, RefStore, Reply};
