//! cairn-sinks: where records go after the writer has acknowledged them.
//!
//! [`driver`] is shared by every sink: it batches by count, bytes and delay,
//! classifies failures as retryable or permanent (a type, not a guess from a
//! message), backs off exponentially with jitter while honouring the
//! server's own `Retry-After` / `RetryInfo`, splits requests that were too
//! large, and writes what can never be delivered to a dead-letter file with
//! its reason. A destination implements [`sink::Sink`]: an encoder from
//! records (or the sink-neutral [`item::AuditItem`]) to its wire unit, and a
//! client that sends one batch. [`route::Route`] decides which records a sink
//! gets.

pub(crate) mod cim;
pub mod config;
mod content;
pub mod detail;
#[cfg(test)]
mod detail_tests;
pub mod driver;
#[cfg(test)]
mod golden_tests;
pub mod http;
pub mod item;
pub mod route;
pub mod runtime;
pub mod secret;
pub mod sink;
#[cfg(test)]
pub(crate) mod testing;

pub mod datadog;
pub mod elastic;
pub mod otlp;
pub mod sentinel;
pub mod splunk_hec;
pub mod sumo;
pub mod syslog;

/// The wall clock in Unix nanoseconds (dead-letter timestamps).
pub(crate) fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
