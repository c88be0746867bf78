//! Building blocks of retrieve mode (`request()`, PROTOCOL §6): the SDK fetches a provider
//! credential from the backend, calls the provider itself, then uploads an audit row.
//!
//! Every function here is pure: time comes in as an argument, nothing reads a clock, draws
//! randomness or touches the network. The retrieve operation strings them together:
//!
//! 1. [`template::check_provider_url`] and [`template::template_url`] fix the provider URL;
//!    [`context::validate_context`] gives the `X-Alter-Context` header of the token call.
//! 2. After the token call, [`injection::plan_injection`] (or, for AWS credentials,
//!    [`injection::plan_sigv4_injection`] on a URL whose query [`query::append_query`] has
//!    already filled) builds the provider request's headers; [`query::append_query`] adds
//!    the query parameters.
//! 3. [`audit`] turns what was sent and received into the audit row, and
//!    [`challenge::insufficient_scope`] spots a provider's scope refusal.

pub mod audit;
pub mod challenge;
pub mod context;
pub mod injection;
pub mod query;
pub mod sigv4;
pub mod template;

use std::fmt;

/// The body the caller gave for the provider request.
#[derive(Clone, Copy)]
pub enum ProviderBody<'a> {
    /// No body.
    Empty,
    /// A JSON body (`json=`).
    Json(&'a serde_json::Value),
    /// Raw bytes (`body=`).
    Raw(&'a [u8]),
}

impl fmt::Debug for ProviderBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies may carry secrets: only their kind and size.
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Json(_) => f.write_str("Json(..)"),
            Self::Raw(bytes) => write!(f, "Raw({} bytes)", bytes.len()),
        }
    }
}
