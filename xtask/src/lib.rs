//! Developer tasks for alter-rs, as a library so that tests can drive them.
//!
//! The `xtask` binary (`cargo xtask …`) parses the command line and calls into these modules.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod bench;
pub mod ci;
pub mod conformance;
pub mod fault_matrix;
pub mod fuzz;
pub mod tools;
