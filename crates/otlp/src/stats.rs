//! What the receivers report on `/metrics`: requests and records by signal,
//! protocol and outcome, rejections by reason, and bytes in.
//!
//! Names follow one scheme for every component (`cairn_<component>_<what>_total`)
//! so dashboards can be written once.

use cairn_core::signal::{Protocol, Signal};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// Labels for request and record counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `logs`, `metrics` or `traces`.
    pub signal: &'static str,
    /// `grpc`, `http/protobuf` or `http/json`.
    pub protocol: &'static str,
    /// `accepted`, `partial` or a rejection reason.
    pub outcome: &'static str,
}

/// Labels for rejection counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `grpc`, `http/protobuf`, `http/json`, or `http` when the body type was not known yet.
    pub protocol: &'static str,
    /// The rejection reason (see `ReceiveError::reason`).
    pub reason: &'static str,
}

/// Labels for byte counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WireLabels {
    /// The signal.
    pub signal: &'static str,
    /// The protocol.
    pub protocol: &'static str,
}

/// The receivers' counters. Cheap to clone (the families are shared).
#[derive(Clone, Debug, Default)]
pub struct ReceiverStats {
    /// Requests by outcome.
    pub requests: Family<OutcomeLabels, Counter>,
    /// Records by outcome (`accepted` or `rejected`).
    pub records: Family<OutcomeLabels, Counter>,
    /// Refused requests by reason.
    pub rejections: Family<ReasonLabels, Counter>,
    /// Bytes received on the wire (before inflation).
    pub bytes: Family<WireLabels, Counter>,
    /// Authenticated requests being received or processed right now.
    pub inflight: Gauge,
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub struct InflightGuard(Gauge);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl ReceiverStats {
    /// Registers the counters under `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_receiver_requests",
            "OTLP export requests by outcome",
            self.requests.clone(),
        );
        registry.register(
            "cairn_receiver_records",
            "Records received by outcome",
            self.records.clone(),
        );
        registry.register(
            "cairn_receiver_rejections",
            "Refused requests by reason",
            self.rejections.clone(),
        );
        registry.register(
            "cairn_receiver_bytes",
            "Request bytes received on the wire",
            self.bytes.clone(),
        );
        registry.register(
            "cairn_receiver_inflight_requests",
            "Authenticated requests in progress",
            self.inflight.clone(),
        );
    }

    /// Marks a request in progress until the guard drops.
    pub fn enter(&self) -> InflightGuard {
        self.inflight.inc();
        InflightGuard(self.inflight.clone())
    }

    /// Counts a request's wire bytes.
    pub fn bytes_in(&self, signal: Signal, protocol: Protocol, n: usize) {
        self.bytes
            .get_or_create(&WireLabels {
                signal: signal.as_str(),
                protocol: protocol.as_str(),
            })
            .inc_by(n as u64);
    }

    /// Counts (and logs, in one short line) an accepted request with its
    /// accepted and rejected records.
    pub fn accepted(&self, signal: Signal, protocol: Protocol, records: u64, rejected: u64) {
        let l = |outcome| OutcomeLabels {
            signal: signal.as_str(),
            protocol: protocol.as_str(),
            outcome,
        };
        let outcome = if rejected > 0 { "partial" } else { "accepted" };
        tracing::info!(
            signal = signal.as_str(),
            protocol = protocol.as_str(),
            records,
            rejected,
            outcome,
            "export"
        );
        self.requests.get_or_create(&l(outcome)).inc();
        self.records.get_or_create(&l("accepted")).inc_by(records);
        if rejected > 0 {
            self.records.get_or_create(&l("rejected")).inc_by(rejected);
        }
    }

    /// Counts (and logs, in one short line) a refused request.
    pub fn refused(&self, signal: Option<Signal>, protocol: &'static str, reason: &'static str) {
        self.rejections
            .get_or_create(&ReasonLabels { protocol, reason })
            .inc();
        tracing::info!(
            signal = signal.map(Signal::as_str).unwrap_or("-"),
            protocol,
            reason,
            "export refused"
        );
        if let Some(signal) = signal {
            self.requests
                .get_or_create(&OutcomeLabels {
                    signal: signal.as_str(),
                    protocol,
                    outcome: reason,
                })
                .inc();
        }
    }
}
