//! The syslog sink (contract §7): every record as one RFC 5424 message,
//! over TCP with octet counting (the default), TLS (RFC 5425) or UDP
//! (RFC 5426), carrying either structured data (`format = "rfc5424"`) or
//! an ArcSight CEF line (`format = "cef"`).
//!
//! This module owns the `[sinks.syslog]` settings ([`config`]), the message
//! encoders ([`encode`] for RFC 5424, [`cef`] for CEF), the connection
//! ([`transport`]) and the [`Sink`](crate::sink::Sink) ([`client`]).
//!
//! Delivery: syslog has no acknowledgement. A connect or write failure is
//! retried by the driver with the whole batch, so the receiver may see a
//! message twice after a reconnect; `record_id` (an SD parameter, or CEF
//! `externalId`) is the same on both copies, so searches deduplicate on
//! it. UDP can lose messages without anyone knowing: use TCP or TLS for an
//! audit trail.

pub mod cef;
pub mod client;
pub mod config;
pub mod encode;
pub mod transport;

pub use client::Syslog;
pub use config::{Config, Facility, Transport};
pub use encode::{Encoder, Format};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_rsyslog;
