//! Sumo Logic HTTP Logs Source sink (contract §5 of `siem-contracts.md`).
//!
//! Owns the `[sinks.sumo]` settings ([`Config`]; the source URL is a secret),
//! the mapping of an [`crate::item::AuditItem`] to one JSON log line with the
//! timestamp first ([`encode`]), and the client ([`Sumo`]): newline-delimited
//! JSON, gzip, the `X-Sumo-Category` / `-Name` / `-Host` / `-Fields` headers,
//! requests of at most 1,000,000 bytes before compression, and the answer
//! table (401 permanent; 408, 429, 503, 504 retried; an over-limit 413
//! split). Sumo has no idempotency: duplicates after a retry share
//! `record_id`.

mod client;
mod config;
pub mod encode;

pub use client::Sumo;
pub use config::{AuthHeader, Compression, Config};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_driver;
