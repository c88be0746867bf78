//! Sans-IO engine of the Alter Vault SDK.
//!
//! It builds every request, signs it, classifies every answer and decides every retry and
//! poll, but never opens a socket, sleeps, spawns, reads a clock or draws randomness: time
//! ([`Now`]), randomness ([`Entropy`]) and responses come in as inputs, and what to do next
//! comes out as a [`Step`].
#![deny(missing_docs)]

pub mod error;
pub mod io;
pub mod retrieve;
pub mod step;

pub use error::{ApiError, Error, Result};
pub use io::{Entropy, HttpRequest, HttpResponse, Now, Target, TransportError, TransportErrorKind};
pub use step::{Operation, Step};
