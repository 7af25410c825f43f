//! The OTLP exporter sink: the sidecar case, forwarding the redacted and
//! enriched stream (events, metrics, spans) and the prompt-chain records to
//! an existing OpenTelemetry Collector over gRPC or HTTP/protobuf, with
//! headers, TLS and gzip (contract §1 of `siem-contracts.md`).
//!
//! One [`Encoded`](crate::sink::Encoded) unit is one acknowledged request's
//! records of one signal, already protobuf-encoded; signals are lanes, so a
//! request never mixes them. Concatenated encodings of the same protobuf
//! message merge (repeated fields append), so a batch's body is the units'
//! bytes back to back: no decode and re-encode on the way out.

mod client;
mod config;
mod encode;
mod status;

pub use client::Otlp;
pub use config::{Config, Protocol};
pub use encode::{LANE_LOGS, LANE_METRICS, LANE_TRACES};

#[cfg(test)]
mod tests;
