//! Redaction counters for `/metrics`: findings by kind and attribute,
//! unscannable values by reason and attribute, policy actions by attribute.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

/// Longest value used as a metric label; longer ones count as `other`, so a
/// sender cannot blow up cardinality with invented keys or values. Shared by
/// every stage that labels by what it received.
pub(crate) const MAX_LABEL: usize = 64;

/// Labels for findings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The kind (`aws_access_key_id`, `us_ssn`, …).
    pub kind: String,
    /// Where it was found (`prompt`, `body`, `resource:os.version`, …).
    pub attribute: String,
}

/// Labels for unscannable values and policy actions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Why (`too_large`, `not_utf8`, `internal`) or the action (`drop`, `hash`).
    pub reason: String,
    /// The attribute.
    pub attribute: String,
}

/// The stage's counters; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct RedactionStats {
    /// Findings replaced.
    pub findings: Family<KindLabels, Counter>,
    /// Values dropped because they could not be scanned.
    pub unscannable: Family<ReasonLabels, Counter>,
    /// Values dropped or hashed by policy.
    pub policy: Family<ReasonLabels, Counter>,
    /// Records tagged `cairn.redacted`.
    pub records: Counter,
}

/// The attribute label `<prefix><key>`, or `other` past [`MAX_LABEL`].
pub(crate) fn label(prefix: &str, key: &str) -> String {
    if prefix.len() + key.len() <= MAX_LABEL {
        format!("{prefix}{key}")
    } else {
        "other".to_owned()
    }
}

impl RedactionStats {
    /// Registers the counters.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_redactions",
            "Secrets and PII replaced, by kind and attribute",
            self.findings.clone(),
        );
        registry.register(
            "cairn_redaction_unscannable",
            "Values dropped because they could not be scanned",
            self.unscannable.clone(),
        );
        registry.register(
            "cairn_redaction_policy",
            "Attributes dropped or hashed by policy",
            self.policy.clone(),
        );
        registry.register(
            "cairn_redacted_records",
            "Records tagged cairn.redacted",
            self.records.clone(),
        );
    }
}
