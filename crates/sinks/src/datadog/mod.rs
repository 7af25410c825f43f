//! Datadog Logs API v2 sink (contract §4 of `siem-contracts.md`).
//!
//! Owns the `[sinks.datadog]` settings ([`Config`]), the log mapping
//! ([`encode`]: reserved and standard attributes, `record_id`, the full
//! record as `detail`) and the client ([`Datadog`]) that posts JSON arrays
//! within the intake's 5 MB / 1,000-entry caps and classifies its answers.
//! Batching, retries, splits and dead letters are the shared driver's.

pub mod client;
pub mod config;
pub mod encode;

pub use client::Datadog;
pub use config::{Config, DEFAULT_URL};

#[cfg(test)]
mod tests;
