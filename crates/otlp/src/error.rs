//! Why a request was refused, as one type both receivers map from.
//!
//! The gRPC status and HTTP code of each variant are decided in
//! `grpc::status_of` and `http::response_of`; the reason label used on
//! `/metrics` is decided here, once.

use std::time::Duration;

use cairn_core::ingest::SubmitError;

/// A refused request. Nothing of a refused request is acknowledged.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReceiveError {
    /// Missing or wrong credentials. The message never says which.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The body is not valid protobuf / OTLP JSON, or the gzip stream is corrupt.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A content type or encoding cairn does not take.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The body, compressed or inflated, is over the limit.
    #[error("request body over the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The client did not send its body in time.
    #[error("request body not received within {}s", .0.as_secs())]
    Timeout(Duration),
    /// The queue is full; retry later.
    #[error("overloaded, retry later")]
    Overloaded {
        /// How long the client should wait.
        retry_after: Duration,
    },
    /// cairn cannot take the request now (shutting down, storage error).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl ReceiveError {
    /// The `reason` label for rejection counters.
    pub fn reason(&self) -> &'static str {
        match self {
            ReceiveError::Unauthenticated => "unauthenticated",
            ReceiveError::Malformed(_) => "malformed",
            ReceiveError::UnsupportedMediaType(_) => "unsupported_media_type",
            ReceiveError::TooLarge { .. } => "too_large",
            ReceiveError::Timeout(_) => "timeout",
            ReceiveError::Overloaded { .. } => "overloaded",
            ReceiveError::Unavailable(_) => "unavailable",
        }
    }

    /// The wait hint for pushback errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ReceiveError::Overloaded { retry_after } => Some(*retry_after),
            ReceiveError::Unavailable(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

impl From<SubmitError> for ReceiveError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Overloaded { retry_after } => ReceiveError::Overloaded { retry_after },
            SubmitError::ShuttingDown => ReceiveError::Unavailable("shutting down".into()),
            SubmitError::Storage(why) => ReceiveError::Unavailable(why),
        }
    }
}
