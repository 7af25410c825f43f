//! Splunk HTTP Event Collector sink (contract §2 of `siem-contracts.md`).
//!
//! Owns the `[sinks.splunk_hec]` settings ([`Config`]), the mapping of an
//! [`crate::item::AuditItem`] to a HEC `/event` envelope with Splunk CIM
//! field names ([`encode`]), and the client ([`SplunkHec`]): batches of
//! concatenated envelopes, gzip, the `{text, code}` answer table (code 6
//! and 12/13/15 with `invalid-event-number`: the prefix is delivered, the
//! bad envelope dead-lettered, the tail resent), `413` split, and optional
//! indexer acknowledgement on a per-instance channel.
//!
//! HEC truncates an event line at the sourcetype's `TRUNCATE` (10,000 bytes
//! by default): give the `anthropic:claude_code:*` sourcetypes a higher
//! `TRUNCATE` (or 0) so large chain records stay valid JSON.

mod client;
mod config;
pub mod encode;

pub use client::{CHANNEL_HEADER, SplunkHec, random_channel};
pub use config::{Compression, Config, Sourcetypes};

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_driver;
#[cfg(test)]
mod tests_fake;
