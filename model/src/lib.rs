//! Blink Store's specification, executable: a sequential reference model that says what
//! every command must answer, used as the oracle by the differential tests.

pub mod linearizability;
pub mod reference;

pub use reference::{Op, RefStore, Reply};
