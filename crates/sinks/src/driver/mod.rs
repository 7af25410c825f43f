//! The delivery driver's parts: [`batch::Batcher`], [`backoff::Backoff`],
//! [`error::SinkError`] with the HTTP classification of the OTLP contract,
//! and [`dead_letter::DeadLetters`].

pub mod backoff;
pub mod batch;
pub mod dead_letter;
pub mod error;
