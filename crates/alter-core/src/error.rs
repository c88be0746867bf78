//! The error family of the SDK.
//!
//! Skeleton: the error-classification work fills in every class of the reference client's
//! catalogue. Other modules rely only on the constructors defined here.

/// A JSON object carried as error details.
pub type Details = serde_json::Map<String, serde_json::Value>;

/// What the backend said in an error answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status of the answer.
    pub status: u16,
    /// The wire error code (`error` field), when there was one.
    pub code: Option<String>,
    /// Human-readable message.
    pub message: String,
    /// The parsed error body (after unwrapping a `detail` envelope) or the nested details.
    pub details: Details,
}

/// Every error the SDK returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `AlterSDKError`: a client-side failure that fits no narrower class.
    #[error("{message}")]
    Sdk {
        /// What went wrong.
        message: String,
    },
    /// `AlterValueError`: caller input rejected before any IO.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong with the input.
        message: String,
    },
    /// `BackendError`: a backend error answer not otherwise typed.
    #[error("backend error {}: {}", .0.status, .0.message)]
    Backend(Box<ApiError>),
    /// `BackendError`: a success answer whose body could not be read. The request was
    /// executed by the server.
    #[error("malformed response (status {status}): {message}")]
    MalformedResponse {
        /// HTTP status of the answer.
        status: u16,
        /// What could not be read (never the body itself).
        message: String,
    },
}

impl Error {
    /// An `AlterSDKError` with this message.
    pub fn sdk(message: impl Into<String>) -> Self {
        Self::Sdk { message: message.into() }
    }

    /// An `AlterValueError` with this message.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput { message: message.into() }
    }

    /// A `BackendError` for a success answer that could not be read.
    pub fn malformed(status: u16, message: impl Into<String>) -> Self {
        Self::MalformedResponse { status, message: message.into() }
    }

    /// A `BackendError` from a backend error answer.
    pub fn backend(api: ApiError) -> Self {
        Self::Backend(Box::new(api))
    }
}

/// The result type of the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;
