//! The hand-off from receivers to the rest of cairn, and its errors.
//!
//! A receiver answers its client only after [`Ingest::submit`] returns: `Ok`
//! means the batch is safely accepted (written, and later durable), so
//! nothing acknowledged can be lost. The error says how the receiver must
//! push back; receivers map it to gRPC status and HTTP codes in one place.

use std::{future::Future, pin::Pin, time::Duration};

use crate::record::Batch;

/// Why a batch was not accepted. Every variant is retryable by the client.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// The bounded queue is full: the client should retry later.
    #[error("overloaded, retry after {}s", retry_after.as_secs())]
    Overloaded {
        /// How long the client should wait.
        retry_after: Duration,
    },
    /// cairn is shutting down and takes no new work.
    #[error("shutting down")]
    ShuttingDown,
    /// Storing the batch failed (disk error); nothing was acknowledged.
    #[error("storage unavailable: {0}")]
    Storage(String),
}

/// A boxed future, so `Ingest` stays object-safe.
pub type SubmitFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SubmitError>> + Send + 'a>>;

/// Where receivers put typed batches.
pub trait Ingest: Send + Sync + 'static {
    /// Accepts a batch; resolves once it is safe to acknowledge.
    fn submit(&self, batch: Batch) -> SubmitFuture<'_>;
}
