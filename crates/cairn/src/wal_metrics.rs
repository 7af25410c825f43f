//! The write-ahead log on `/metrics`: disk use against the budget, pushback,
//! commits and syncs, damage found and quarantined, and each consumer's
//! backlog (each sink, the archive), read from the log at scrape time.

use cairn_store::wal::WalStatsHandle;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
    registry::Registry,
};

/// Reads the log's counters on every scrape.
#[derive(Debug)]
pub struct WalMetrics(pub WalStatsHandle);

fn gauge(n: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

fn one(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, None, kind)?;
    match kind {
        MetricType::Counter => ConstCounter::new(value).encode(metric),
        _ => gauge(value).encode(metric),
    }
}

impl Collector for WalMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.snapshot();
        let e = &mut encoder;
        use MetricType::{Counter, Gauge as G};
        one(
            e,
            "cairn_wal_used_bytes",
            "Bytes the WAL uses on disk",
            G,
            s.bytes_used,
        )?;
        one(
            e,
            "cairn_wal_budget_bytes",
            "The WAL's disk budget",
            G,
            s.budget_bytes,
        )?;
        one(
            e,
            "cairn_wal_segments",
            "WAL segment files kept",
            G,
            s.segments,
        )?;
        one(
            e,
            "cairn_wal_committed_frames",
            "Frames (batches, chain groups) committed",
            Counter,
            s.frames_committed,
        )?;
        one(
            e,
            "cairn_wal_commits",
            "Group commits that wrote something",
            Counter,
            s.commits,
        )?;
        one(
            e,
            "cairn_wal_syncs",
            "fdatasync calls on WAL segments",
            Counter,
            s.syncs,
        )?;
        one(
            e,
            "cairn_wal_full_rejections",
            "Appends refused because the WAL was at its budget (receivers pushed back)",
            Counter,
            s.full_rejections,
        )?;
        one(
            e,
            "cairn_wal_segments_deleted",
            "Segments deleted once every consumer was past them",
            Counter,
            s.segments_deleted,
        )?;
        one(
            e,
            "cairn_wal_quarantined_frames",
            "Torn or corrupt frames found at start and moved to quarantine",
            Counter,
            s.quarantined_frames(),
        )?;
        one(
            e,
            "cairn_wal_quarantined_bytes",
            "Bytes moved to the WAL's quarantine directory",
            Counter,
            s.quarantined_bytes,
        )?;
        one(
            e,
            "cairn_wal_damaged_cursors",
            "Consumer cursor files that failed their checksum at start",
            Counter,
            s.damaged_cursors,
        )?;
        one(
            e,
            "cairn_wal_read_skips",
            "Damaged committed frames a consumer met while reading (rest of the segment skipped)",
            Counter,
            s.read_skips,
        )?;
        one(
            e,
            "cairn_wal_undecodable_frames",
            "Frames with a valid checksum that did not decode (skipped)",
            Counter,
            cairn_store::journal::undecodable_frames(),
        )?;
        let mut family = e.encode_descriptor(
            "cairn_wal_consumer_lag_bytes",
            "Committed WAL bytes a consumer (sink.<name>, archive) has not finished",
            None,
            G,
        )?;
        for c in &s.consumers {
            let labels = [("consumer", c.name.as_str())];
            gauge(c.lag_bytes).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl WalMetrics {
    /// Adds the collector to `registry`.
    pub fn register(self, registry: &mut Registry) {
        registry.register_collector(Box::new(self));
    }
}
