//! Per-sink counters for `/metrics`: records received (encoded for the
//! sink), delivered, dead-lettered, requests retried, and the records queued
//! now. Each sink's counts change together under one lock and a scrape reads
//! them together, so received = delivered + dead-lettered + queued in every
//! scrape (the e2e tests check it at each one).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
    registry::Registry,
};

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    received: u64,
    delivered: u64,
    dead_lettered: u64,
    retries: u64,
}

impl Counts {
    fn queued(&self) -> i64 {
        let done = self.delivered.saturating_add(self.dead_lettered);
        i64::try_from(self.received).unwrap_or(i64::MAX) - i64::try_from(done).unwrap_or(i64::MAX)
    }
}

type Shared = Arc<Mutex<Counts>>;

/// A counter family: name, help, and how to read it from the counts.
type Family = (&'static str, &'static str, fn(&Counts) -> u64);

fn lock(c: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every sink's counts; register once.
#[derive(Clone, Debug, Default)]
pub struct SinkStats {
    sinks: Arc<Mutex<BTreeMap<String, Shared>>>,
}

impl SinkStats {
    /// Registers the families (`cairn_sink_received_records`,
    /// `_delivered_records`, `_dead_lettered_records`, `_retried_requests`,
    /// `_queued_records`, each labelled `sink`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register_collector(Box::new(self.clone()));
    }

    /// The counters of one sink.
    pub fn for_sink(&self, sink: &str) -> SinkCounters {
        let mut sinks = self.sinks.lock().unwrap_or_else(PoisonError::into_inner);
        SinkCounters(Arc::clone(sinks.entry(sink.to_owned()).or_default()))
    }
}

impl Collector for SinkStats {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot: Vec<(String, Counts)> = self
            .sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, c)| (name.clone(), *lock(c)))
            .collect();
        let families: [Family; 4] = [
            (
                "cairn_sink_received_records",
                "Records handed to a sink",
                |c| c.received,
            ),
            (
                "cairn_sink_delivered_records",
                "Records a sink's destination accepted",
                |c| c.delivered,
            ),
            (
                "cairn_sink_dead_lettered_records",
                "Records refused for good and written to the sink's dead-letter file",
                |c| c.dead_lettered,
            ),
            (
                "cairn_sink_retried_requests",
                "Sink requests sent again after a retryable failure",
                |c| c.retries,
            ),
        ];
        for (name, help, get) in families {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (sink, c) in &snapshot {
                let labels = [("sink", sink.as_str())];
                ConstCounter::new(get(c)).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "cairn_sink_queued_records",
            "Records a sink holds that are neither delivered nor dead-lettered",
            None,
            MetricType::Gauge,
        )?;
        for (sink, c) in &snapshot {
            let labels = [("sink", sink.as_str())];
            ConstGauge::new(c.queued()).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// One sink's counters; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SinkCounters(Shared);

impl SinkCounters {
    pub(crate) fn received(&self, n: u64) {
        lock(&self.0).received += n;
    }
    pub(crate) fn delivered(&self, n: u64) {
        lock(&self.0).delivered += n;
    }
    pub(crate) fn dead_lettered(&self, n: u64) {
        lock(&self.0).dead_lettered += n;
    }
    pub(crate) fn retried(&self, n: u64) {
        lock(&self.0).retries += n;
    }

    /// Records handed to the sink so far.
    pub fn received_total(&self) -> u64 {
        lock(&self.0).received
    }
    /// Records delivered so far.
    pub fn delivered_total(&self) -> u64 {
        lock(&self.0).delivered
    }
    /// Records dead-lettered so far.
    pub fn dead_lettered_total(&self) -> u64 {
        lock(&self.0).dead_lettered
    }
    /// Requests retried so far.
    pub fn retried_total(&self) -> u64 {
        lock(&self.0).retries
    }
    /// Records held now.
    pub fn queued_now(&self) -> i64 {
        lock(&self.0).queued()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_scrape_shows_counts_that_add_up() {
        let stats = SinkStats::default();
        let mut registry = Registry::default();
        stats.register(&mut registry);
        let a = stats.for_sink("a");
        a.received(10);
        a.delivered(6);
        a.dead_lettered(1);
        a.retried(2);
        stats.for_sink("b").received(3);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "cairn_sink_received_records_total{sink=\"a\"} 10",
            "cairn_sink_delivered_records_total{sink=\"a\"} 6",
            "cairn_sink_dead_lettered_records_total{sink=\"a\"} 1",
            "cairn_sink_retried_requests_total{sink=\"a\"} 2",
            "cairn_sink_queued_records{sink=\"a\"} 3",
            "cairn_sink_queued_records{sink=\"b\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        assert_eq!(
            stats.for_sink("a").queued_now(),
            3,
            "same sink, same counts"
        );
    }
}
