//! Sink configuration: the `[[sinks]]` tables of cairn's config.
//!
//! Each sink has a name, a route (`[sinks.route]`), delivery settings
//! (`[sinks.delivery]`) and exactly one destination table named after its
//! kind (`[sinks.otlp]`, `[sinks.splunk_hec]`, `[sinks.elastic]`,
//! `[sinks.datadog]`, `[sinks.sumo]`, `[sinks.sentinel]`, `[sinks.syslog]`).
//! [`SinkConfig::check`] validates without touching the network or reading
//! secrets (what `cairn validate` runs); [`spawn_all`] resolves secrets,
//! builds the clients and starts the drivers.

use std::{path::Path, time::Duration};

use serde::Deserialize;

use crate::{
    driver::{Backoff, BatchLimits, DriverConfig, stats::SinkStats},
    route::Route,
    runtime::{DEFAULT_QUEUE, SinkSet},
    sink::Sink,
};

/// `[sinks.delivery]`: overrides of a sink's batching and retry defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Records per request (capped at the destination's limit).
    pub max_items: Option<usize>,
    /// Uncompressed bytes per request (capped at the destination's limit).
    pub max_bytes: Option<usize>,
    /// How long a partial batch may wait, in milliseconds.
    pub max_delay_ms: Option<u64>,
    /// Requests in flight at once (default 4).
    pub concurrency: Option<usize>,
    /// Dead-letter a request still failing after this many seconds
    /// (default: keep retrying; the backlog waits in the WAL).
    pub give_up_after_secs: Option<u64>,
    /// First retry delay in milliseconds (default 500).
    pub retry_initial_ms: Option<u64>,
    /// Longest retry delay in milliseconds (default 30000).
    pub retry_max_ms: Option<u64>,
    /// Work items (batches or chain groups) the sink's WAL reader hands
    /// ahead to its driver (default 32).
    pub queue: Option<usize>,
}

impl DeliverySettings {
    /// The driver settings for a destination with `limits`.
    pub fn driver(&self, limits: BatchLimits) -> DriverConfig {
        let mut c = DriverConfig::new(BatchLimits {
            max_items: self
                .max_items
                .map_or(limits.max_items, |n| n.clamp(1, limits.max_items)),
            max_bytes: self
                .max_bytes
                .map_or(limits.max_bytes, |n| n.clamp(1, limits.max_bytes)),
            max_delay: self
                .max_delay_ms
                .map_or(limits.max_delay, Duration::from_millis),
        });
        if let Some(n) = self.concurrency {
            c.concurrency = n.max(1);
        }
        c.give_up_after = self.give_up_after_secs.map(Duration::from_secs);
        let d = Backoff::default();
        c.backoff = Backoff {
            initial: self
                .retry_initial_ms
                .map_or(d.initial, Duration::from_millis),
            max: self.retry_max_ms.map_or(d.max, Duration::from_millis),
            ..d
        };
        c
    }
}

/// One `[[sinks]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// The sink's name: metric label and dead-letter file name.
    pub name: String,
    /// Which records it gets.
    #[serde(default)]
    pub route: Route,
    /// Batching and retry overrides.
    #[serde(default)]
    pub delivery: DeliverySettings,
    /// An OTLP collector.
    pub otlp: Option<crate::otlp::Config>,
    /// Splunk HEC.
    pub splunk_hec: Option<crate::splunk_hec::Config>,
    /// Elasticsearch `_bulk`.
    pub elastic: Option<crate::elastic::Config>,
    /// Datadog Logs API v2.
    pub datadog: Option<crate::datadog::Config>,
    /// Sumo Logic HTTP Source.
    pub sumo: Option<crate::sumo::Config>,
    /// Microsoft Sentinel (Logs Ingestion API).
    pub sentinel: Option<crate::sentinel::Config>,
    /// Syslog (RFC 5424, optionally CEF).
    pub syslog: Option<crate::syslog::Config>,
}

/// The destination of a sink, once exactly one was given.
#[derive(Clone, Copy, Debug)]
pub enum SinkKind<'a> {
    /// `[sinks.otlp]`
    Otlp(&'a crate::otlp::Config),
    /// `[sinks.splunk_hec]`
    SplunkHec(&'a crate::splunk_hec::Config),
    /// `[sinks.elastic]`
    Elastic(&'a crate::elastic::Config),
    /// `[sinks.datadog]`
    Datadog(&'a crate::datadog::Config),
    /// `[sinks.sumo]`
    Sumo(&'a crate::sumo::Config),
    /// `[sinks.sentinel]`
    Sentinel(&'a crate::sentinel::Config),
    /// `[sinks.syslog]`
    Syslog(&'a crate::syslog::Config),
}

impl SinkConfig {
    /// The one destination table.
    pub fn kind(&self) -> Result<SinkKind<'_>, String> {
        let mut kinds = Vec::new();
        if let Some(c) = &self.otlp {
            kinds.push(SinkKind::Otlp(c));
        }
        if let Some(c) = &self.splunk_hec {
            kinds.push(SinkKind::SplunkHec(c));
        }
        if let Some(c) = &self.elastic {
            kinds.push(SinkKind::Elastic(c));
        }
        if let Some(c) = &self.datadog {
            kinds.push(SinkKind::Datadog(c));
        }
        if let Some(c) = &self.sumo {
            kinds.push(SinkKind::Sumo(c));
        }
        if let Some(c) = &self.sentinel {
            kinds.push(SinkKind::Sentinel(c));
        }
        if let Some(c) = &self.syslog {
            kinds.push(SinkKind::Syslog(c));
        }
        match kinds.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "sink {:?} names no destination: add one of [sinks.otlp], [sinks.splunk_hec], [sinks.elastic], [sinks.datadog], [sinks.sumo], [sinks.sentinel], [sinks.syslog]",
                self.name
            )),
            _ => Err(format!(
                "sink {:?} names more than one destination",
                self.name
            )),
        }
    }

    /// Validates without network or secrets.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("a sink needs a name".into());
        }
        // The name also names its WAL cursor and dead-letter file.
        let name_ok = self.name.len() <= 58
            && !self.name.starts_with('.')
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !name_ok {
            return Err(format!(
                "sink name {:?}: use 1-58 of A-Z a-z 0-9 _ . - (not starting with .)",
                self.name
            ));
        }
        if self.route.records.is_empty() {
            return Err(format!("sink {:?}: route.records is empty", self.name));
        }
        let r = match self.kind()? {
            SinkKind::Otlp(c) => c.check(),
            SinkKind::SplunkHec(c) => c.check(),
            SinkKind::Sumo(c) => c.check(),
            SinkKind::Sentinel(c) => c.check(),
            SinkKind::Elastic(c) => c.check(),
            SinkKind::Datadog(c) => c.check(),
            SinkKind::Syslog(c) => c.check(),
        };
        r.map_err(|e| format!("sink {:?}: {e}", self.name))
    }
}

/// Checks names are unique, then every sink.
pub fn check_all(sinks: &[SinkConfig]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for s in sinks {
        if !seen.insert(s.name.as_str()) {
            return Err(format!("two sinks are named {:?}", s.name));
        }
        s.check()?;
    }
    Ok(())
}

fn start<S: Sink>(
    set: &mut SinkSet,
    c: &SinkConfig,
    sink: S,
    data_dir: &Path,
    stats: &SinkStats,
) -> Result<(), String> {
    let driver = c.delivery.driver(sink.limits());
    set.spawn(
        &c.name,
        sink,
        c.route.clone(),
        driver,
        c.delivery.queue.unwrap_or(DEFAULT_QUEUE),
        data_dir,
        stats,
    )
    .map_err(|e| format!("sink {:?}: opening its dead-letter file: {e}", c.name))
}

/// Builds and starts every sink on the current tokio runtime, to be fed
/// from the WAL ([`SinkSet::feed_from`]).
pub fn spawn_all(
    sinks: &[SinkConfig],
    data_dir: &Path,
    stats: &SinkStats,
) -> Result<SinkSet, String> {
    check_all(sinks)?;
    let mut set = SinkSet::replaying();
    for c in sinks {
        let named = |e: String| format!("sink {:?}: {e}", c.name);
        match c.kind()? {
            SinkKind::Otlp(k) => start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?,
            SinkKind::SplunkHec(k) => {
                start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?
            }
            SinkKind::Sumo(k) => start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?,
            SinkKind::Sentinel(k) => {
                start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?
            }
            SinkKind::Elastic(k) => start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?,
            SinkKind::Datadog(k) => start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?,
            SinkKind::Syslog(k) => start(&mut set, c, k.build().map_err(named)?, data_dir, stats)?,
        }
    }
    Ok(set)
}
