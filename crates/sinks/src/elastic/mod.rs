//! Elasticsearch `_bulk` sink (contract §3 of `siem-contracts.md`).
//!
//! Owns the `[sinks.elastic]` settings ([`Config`]), the ECS document
//! mapping ([`encode`]: one `create` action with `_id` = record id plus the
//! source document per record, into the `logs-cairn.audit-default` data
//! stream by default) and the client ([`Elastic`]) that sends NDJSON bodies
//! and reads the per-item statuses of the reply. Batching, retries, splits
//! and dead letters are the shared driver's.

pub mod client;
pub mod config;
pub mod encode;

pub use client::Elastic;
pub use config::{Config, DEFAULT_DATA_STREAM, DetailMode};

#[cfg(test)]
mod tests;
