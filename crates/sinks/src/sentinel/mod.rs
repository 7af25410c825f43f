//! Microsoft Sentinel sink: rows to a custom (or built-in) Log Analytics
//! table through the Azure Monitor Logs Ingestion API (contract §6).
//!
//! It owns the whole path from an [`AuditItem`](crate::item::AuditItem) to
//! an acknowledged `204`: the row mapping (`encode`), the Entra ID
//! client-credentials token with its cache and early refresh (`token`),
//! and the request plus the classification of every answer, including the
//! 401 refresh-and-resend rule (`client`). Batching, retries, splitting
//! on 413 and dead letters are the shared driver's.

mod client;
mod config;
pub mod encode;
mod token;

pub use client::{MAX_BYTES, MAX_ITEMS, Sentinel, UNAUTHORIZED_LIMIT};
pub use config::{Compression, Config};

#[cfg(test)]
mod tests;
