//! The enrichment stage: which cost center, department, team and manager
//! each record belongs to, and the spend counters built on it.
//!
//! [`Enricher::enrich`] runs on the receive path after redaction. For every
//! event and every `claude_code.cost.usage` / `claude_code.token.usage`
//! data point it settles an [`Assignment`], field by field:
//!
//! 1. the [`Directory`] entry of the record's user (looked up by the
//!    configured [`DirectoryKey`], as sent or as its pseudonym), else
//! 2. the record's own attributes named by [`ResourceKeys`] (Claude Code
//!    copies `OTEL_RESOURCE_ATTRIBUTES` onto every record), else
//! 3. the resource's attributes under the same keys.
//!
//! With no cost center anywhere the record gets `cost_center =
//! "unassigned"` and is counted. The result is written onto the log record
//! or data point as `cost_center`, `department`, `team`, `manager` (those
//! known; each replaces any value already there, so there is one) and
//! `cairn.cost_center.source` (`directory`, `resource` or `unassigned`).
//! Enriching twice gives the same attributes: a cost center of
//! `unassigned` read back from a record counts as none.
//!
//! Other metrics and spans are left alone; chains take their assignment
//! from their events (or from [`Enricher::assignment`]). [`SpendMeter`]
//! turns the enriched usage metrics into `/metrics` spend counters.

mod config;
mod directory;
mod handle;
mod ingest;
mod spend;
mod stats;
#[cfg(test)]
mod tests;

use std::{sync::Arc, thread::JoinHandle, time::Duration};

use cairn_core::{
    identity::Identity,
    metric::MetricKind,
    otlp::{
        common::v1::{AnyValue, KeyValue, any_value::Value},
        metrics::v1::metric::Data,
    },
    record::{Batch, RecordBody},
    value::{Attrs, kv_str},
};
use cairn_redact::Pseudonymizer;
use prometheus_client::metrics::counter::Counter;

pub use config::{EnrichConfig, ResourceKeys};
pub use directory::{
    Directory, DirectoryError, DirectoryKey, Entry, email_pseudonym, normalise_email,
};
pub use handle::DirectoryHandle;
pub use ingest::Enriching;
pub use spend::{DEFAULT_MAX_ENTRIES, SpendLabels, SpendMeter};
pub use stats::{EnrichStats, SourceLabels};

/// Attribute written with the cost center.
pub const COST_CENTER: &str = "cost_center";
/// Attribute written with the department.
pub const DEPARTMENT: &str = "department";
/// Attribute written with the team.
pub const TEAM: &str = "team";
/// Attribute written with the manager.
pub const MANAGER: &str = "manager";
/// Attribute written with where the cost center came from.
pub const SOURCE: &str = "cairn.cost_center.source";
/// The cost center of a user found nowhere.
pub const UNASSIGNED: &str = "unassigned";

/// Where a cost center came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssignmentSource {
    /// The directory entry of the user.
    Directory,
    /// The record's or the resource's attributes.
    Resource,
    /// Nowhere: the cost center is [`UNASSIGNED`].
    Unassigned,
}

impl AssignmentSource {
    /// The value of `cairn.cost_center.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentSource::Directory => "directory",
            AssignmentSource::Resource => "resource",
            AssignmentSource::Unassigned => UNASSIGNED,
        }
    }
}

/// Who pays for one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The cost center, [`UNASSIGNED`] when found nowhere.
    pub cost_center: String,
    /// The department, if known.
    pub department: Option<String>,
    /// The team, if known.
    pub team: Option<String>,
    /// The manager, if known.
    pub manager: Option<String>,
    /// Where the cost center came from.
    pub source: AssignmentSource,
}

/// The stage: resource keys, the live directory, counters. `Send + Sync`.
#[derive(Debug)]
pub struct Enricher {
    keys: ResourceKeys,
    key: DirectoryKey,
    reload_interval: Duration,
    handle: Option<Arc<DirectoryHandle>>,
    stats: EnrichStats,
    /// `stats.assignments` by [`AssignmentSource`], resolved once.
    by_source: [Counter; 3],
}

impl Enricher {
    /// Builds the stage, loading the directory once: a bad file fails here.
    /// The pseudonymizer must be the redaction stage's, so hashed e-mails
    /// match. No thread is started (see [`Enricher::spawn_watcher`]).
    pub fn new(
        config: EnrichConfig,
        pseudonymizer: Option<Pseudonymizer>,
    ) -> Result<Enricher, DirectoryError> {
        let stats = EnrichStats::default();
        let handle = match &config.directory {
            Some(path) => Some(Arc::new(DirectoryHandle::open(
                path,
                config.directory_key,
                pseudonymizer,
                stats.clone(),
            )?)),
            None => None,
        };
        let by_source = [
            AssignmentSource::Directory,
            AssignmentSource::Resource,
            AssignmentSource::Unassigned,
        ]
        .map(|s| {
            stats
                .assignments
                .get_or_create(&SourceLabels {
                    source: s.as_str().to_owned(),
                })
                .clone()
        });
        Ok(Enricher {
            by_source,
            keys: config.resource_keys,
            key: config.directory_key,
            reload_interval: config.reload_interval,
            handle,
            stats,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &EnrichStats {
        &self.stats
    }

    /// The live directory, when one is configured.
    pub fn handle(&self) -> Option<Arc<DirectoryHandle>> {
        self.handle.clone()
    }

    /// Starts the reload thread at the configured interval (none without a
    /// directory). Stop it with [`DirectoryHandle::stop`].
    pub fn spawn_watcher(&self) -> std::io::Result<Option<JoinHandle<()>>> {
        self.handle
            .as_ref()
            .map(|h| h.spawn_watcher(self.reload_interval))
            .transpose()
    }

    /// The assignment of one record, with the directory in force. Counts
    /// nothing (for the correlator; [`Enricher::enrich`] counts).
    pub fn assignment(
        &self,
        identity: &Identity,
        record_attrs: Attrs<'_>,
        resource: Attrs<'_>,
    ) -> Assignment {
        let dir = self.handle.as_ref().map(|h| h.current());
        let user = self.key.of(identity);
        self.assign(dir.as_deref(), user, record_attrs, resource)
    }

    /// Enriches the events and usage-metric data points of a batch in place.
    pub fn enrich(&self, batch: &mut Batch) {
        let dir = self.handle.as_ref().map(|h| h.current());
        let dir = dir.as_deref();
        for rec in &mut batch.records {
            let resource = rec.resource.attrs();
            let user = self.key.of(&rec.identity);
            match &mut rec.body {
                RecordBody::Event(e) => {
                    let a = self.assign(dir, user, Attrs(&e.log.attributes), resource);
                    if self.count(&a) {
                        self.stats.unassigned.inc();
                    }
                    write(&mut e.log.attributes, a);
                }
                RecordBody::Metric(m)
                    if matches!(m.typed.kind, MetricKind::CostUsage | MetricKind::TokenUsage) =>
                {
                    let points = match &mut m.metric.data {
                        Some(Data::Sum(s)) => s.data_points.as_mut_slice(),
                        Some(Data::Gauge(g)) => g.data_points.as_mut_slice(),
                        _ => &mut [],
                    };
                    let mut unassigned = false;
                    for p in points {
                        let attrs = Attrs(&p.attributes);
                        // Each point names its user; the record's identity
                        // (first point, then resource) is the fallback.
                        let point_user = attrs.str(self.key.attribute()).or(user);
                        let a = self.assign(dir, point_user, attrs, resource);
                        unassigned |= self.count(&a);
                        write(&mut p.attributes, a);
                    }
                    if unassigned {
                        self.stats.unassigned.inc();
                    }
                }
                _ => {}
            }
        }
    }

    /// Counts one assignment by source; true when unassigned.
    fn count(&self, a: &Assignment) -> bool {
        let i = match a.source {
            AssignmentSource::Directory => 0,
            AssignmentSource::Resource => 1,
            AssignmentSource::Unassigned => 2,
        };
        if let Some(c) = self.by_source.get(i) {
            c.inc();
        }
        a.source == AssignmentSource::Unassigned
    }

    fn assign(
        &self,
        dir: Option<&Directory>,
        user: Option<&str>,
        record: Attrs<'_>,
        resource: Attrs<'_>,
    ) -> Assignment {
        let entry = dir.zip(user).and_then(|(d, u)| d.get(u));
        let attr = |key: &str| {
            [record, resource]
                .into_iter()
                .filter_map(|a| a.str(key))
                .map(str::trim)
                .find(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let field = |from_dir: Option<&Option<String>>, key: &str| {
            from_dir.and_then(Clone::clone).or_else(|| attr(key))
        };
        let (cost_center, source) = match entry.and_then(|e| e.cost_center.clone()) {
            Some(cc) => (cc, AssignmentSource::Directory),
            None => match attr(&self.keys.cost_center).filter(|cc| cc != UNASSIGNED) {
                Some(cc) => (cc, AssignmentSource::Resource),
                None => (UNASSIGNED.to_owned(), AssignmentSource::Unassigned),
            },
        };
        Assignment {
            cost_center,
            department: field(entry.map(|e| &e.department), &self.keys.department),
            team: field(entry.map(|e| &e.team), &self.keys.team),
            manager: field(entry.map(|e| &e.manager), &self.keys.manager),
            source,
        }
    }
}

/// Writes an assignment onto an attribute list in one pass: for each known
/// field the first attribute of that key gets the value, later ones are
/// removed, and the attribute is appended when absent. Unknown fields leave
/// the list alone.
fn write(attrs: &mut Vec<KeyValue>, a: Assignment) {
    let mut slots = [
        (COST_CENTER, Some(a.cost_center), false),
        (DEPARTMENT, a.department, false),
        (TEAM, a.team, false),
        (MANAGER, a.manager, false),
        (SOURCE, Some(a.source.as_str().to_owned()), false),
    ];
    attrs.retain_mut(|kv| {
        let Some((_, value, seen)) = slots
            .iter_mut()
            .find(|(key, value, seen)| kv.key == *key && (value.is_some() || *seen))
        else {
            return true;
        };
        if *seen {
            return false;
        }
        *seen = true;
        kv.value = value.take().map(|v| AnyValue {
            value: Some(Value::StringValue(v)),
        });
        true
    });
    attrs.reserve(slots.iter().filter(|(_, v, _)| v.is_some()).count());
    for (key, value, _) in slots {
        if let Some(v) = value {
            attrs.push(kv_str(key, v));
        }
    }
}
