//! The delivery driver every sink shares: [`batch::Batcher`],
//! [`backoff::Backoff`], [`error::SinkError`] with the HTTP classification of
//! the OTLP contract, [`dead_letter::DeadLetters`], the per-sink counters in
//! [`stats`], and the loop in [`run`] that ties them together.

pub mod backoff;
pub mod batch;
pub mod dead_letter;
pub mod error;
pub mod progress;
pub mod run;
pub mod stats;

pub use backoff::Backoff;
pub use batch::BatchLimits;
pub use error::SinkError;
pub use run::{DriverConfig, Job, Work};
