//! Per-sink counters for `/metrics`: records received (encoded for the
//! sink), delivered, dead-lettered, requests retried, and the records queued
//! now. Received = delivered + dead-lettered + queued at every instant a
//! request is not mid-flight, which the tests check.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// The label every sink metric carries.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabel {
    /// The sink's configured name.
    pub sink: String,
}

/// The families shared by all sinks; register once.
#[derive(Clone, Debug, Default)]
pub struct SinkStats {
    received: Family<SinkLabel, Counter>,
    delivered: Family<SinkLabel, Counter>,
    dead_lettered: Family<SinkLabel, Counter>,
    retries: Family<SinkLabel, Counter>,
    queued: Family<SinkLabel, Gauge>,
}

impl SinkStats {
    /// Registers the families.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_sink_received_records",
            "Records handed to a sink",
            self.received.clone(),
        );
        registry.register(
            "cairn_sink_delivered_records",
            "Records a sink's destination accepted",
            self.delivered.clone(),
        );
        registry.register(
            "cairn_sink_dead_lettered_records",
            "Records refused for good and written to the sink's dead-letter file",
            self.dead_lettered.clone(),
        );
        registry.register(
            "cairn_sink_retried_requests",
            "Sink requests sent again after a retryable failure",
            self.retries.clone(),
        );
        registry.register(
            "cairn_sink_queued_records",
            "Records a sink holds that are neither delivered nor dead-lettered",
            self.queued.clone(),
        );
    }

    /// The counters of one sink.
    pub fn for_sink(&self, sink: &str) -> SinkCounters {
        let l = SinkLabel {
            sink: sink.to_owned(),
        };
        SinkCounters {
            received: self.received.get_or_create(&l).clone(),
            delivered: self.delivered.get_or_create(&l).clone(),
            dead_lettered: self.dead_lettered.get_or_create(&l).clone(),
            retries: self.retries.get_or_create(&l).clone(),
            queued: self.queued.get_or_create(&l).clone(),
        }
    }
}

/// One sink's counters; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SinkCounters {
    received: Counter,
    delivered: Counter,
    dead_lettered: Counter,
    retries: Counter,
    queued: Gauge,
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SinkCounters {
    pub(crate) fn received(&self, n: u64) {
        self.received.inc_by(n);
        self.queued.inc_by(as_i64(n));
    }
    pub(crate) fn delivered(&self, n: u64) {
        self.delivered.inc_by(n);
        self.queued.dec_by(as_i64(n));
    }
    pub(crate) fn dead_lettered(&self, n: u64) {
        self.dead_lettered.inc_by(n);
        self.queued.dec_by(as_i64(n));
    }
    pub(crate) fn retried(&self, n: u64) {
        self.retries.inc_by(n);
    }

    /// Records handed to the sink so far.
    pub fn received_total(&self) -> u64 {
        self.received.get()
    }
    /// Records delivered so far.
    pub fn delivered_total(&self) -> u64 {
        self.delivered.get()
    }
    /// Records dead-lettered so far.
    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.get()
    }
    /// Requests retried so far.
    pub fn retried_total(&self) -> u64 {
        self.retries.get()
    }
    /// Records held now.
    pub fn queued_now(&self) -> i64 {
        self.queued.get()
    }
}
