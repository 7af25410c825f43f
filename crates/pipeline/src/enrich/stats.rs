//! Enrichment counters for `/metrics`: assignments by source, unassigned
//! records, directory reloads and failures, and the size of the directory
//! in force.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use super::Directory;

/// Label of [`EnrichStats::assignments`].
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// `directory`, `resource` or `unassigned`.
    pub source: String,
}

/// The stage's counters; cheap to clone (clones share the values).
#[derive(Clone, Debug, Default)]
pub struct EnrichStats {
    /// Events and data points assigned, by source.
    pub assignments: Family<SourceLabels, Counter>,
    /// Records (events, usage metrics) with a data point or event assigned
    /// to no cost center.
    pub unassigned: Counter,
    /// Directory reloads that took effect (the first load not counted).
    pub directory_reloads: Counter,
    /// Directory reloads refused because the new file was bad.
    pub directory_reload_failures: Counter,
    /// Users in the directory in force.
    pub directory_entries: Gauge,
    /// Duplicate keys in the directory in force (the later row won).
    pub directory_duplicates: Gauge,
}

impl EnrichStats {
    /// Registers the counters.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_enrichment_assignments",
            "Events and usage data points assigned a cost center, by source",
            self.assignments.clone(),
        );
        registry.register(
            "cairn_enrichment_unassigned",
            "Records whose user has no cost center in the directory or attributes",
            self.unassigned.clone(),
        );
        registry.register(
            "cairn_enrichment_directory_reloads",
            "Directory file reloads that took effect",
            self.directory_reloads.clone(),
        );
        registry.register(
            "cairn_enrichment_directory_reload_failures",
            "Directory file reloads refused (the previous directory stays)",
            self.directory_reload_failures.clone(),
        );
        registry.register(
            "cairn_enrichment_directory_entries",
            "Users in the directory in force",
            self.directory_entries.clone(),
        );
        registry.register(
            "cairn_enrichment_directory_duplicate_keys",
            "Repeated keys in the directory in force (the later row won)",
            self.directory_duplicates.clone(),
        );
    }

    pub(super) fn set_directory(&self, dir: &Directory) {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.directory_entries.set(n(dir.len()));
        self.directory_duplicates.set(n(dir.duplicates()));
    }
}
