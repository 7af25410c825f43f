//! Routing: which records a sink gets.
//!
//! A route names the record types (events, chains, metrics, spans) and
//! optional filters: event names, source products, tenants, and for chains
//! "only those with a failure" (a failed or rejected tool, or an API error).
//! An empty filter list means "any". Filters on event names apply to events
//! only; source and tenant filters apply to every record type.

use std::collections::BTreeSet;

use cairn_core::{
    chain::PromptChain,
    record::{Origin, Record, RecordBody},
};
use serde::Deserialize;

/// A record type a route can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// Claude Code / Cowork events (OTLP logs).
    Events,
    /// Prompt-chain audit records.
    Chains,
    /// Metrics.
    Metrics,
    /// Spans (traces).
    Spans,
}

/// Which chains a route takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainFilter {
    /// Every chain.
    #[default]
    All,
    /// Only chains with a failed or rejected tool or an API error.
    WithFailures,
}

/// What one sink receives. Deserialized from a sink's `[sinks.route]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The record types sent (default: events and chains).
    #[serde(default = "default_records")]
    pub records: BTreeSet<RecordType>,
    /// Only these event names (bare, e.g. `tool_decision`); empty: all.
    #[serde(default)]
    pub event_names: BTreeSet<String>,
    /// Only these source products (`claude-code`, `cowork`, …); empty: all.
    #[serde(default)]
    pub sources: BTreeSet<String>,
    /// Only these tenants; empty: all.
    #[serde(default)]
    pub tenants: BTreeSet<String>,
    /// Which chains (when chains are selected).
    #[serde(default)]
    pub chains: ChainFilter,
}

fn default_records() -> BTreeSet<RecordType> {
    [RecordType::Events, RecordType::Chains]
        .into_iter()
        .collect()
}

impl Default for Route {
    fn default() -> Self {
        Route {
            records: default_records(),
            event_names: BTreeSet::new(),
            sources: BTreeSet::new(),
            tenants: BTreeSet::new(),
            chains: ChainFilter::All,
        }
    }
}

fn any_or(set: &BTreeSet<String>, value: &str) -> bool {
    set.is_empty() || set.contains(value)
}

impl Route {
    /// A route that takes every record type, unfiltered.
    pub fn everything() -> Route {
        Route {
            records: [
                RecordType::Events,
                RecordType::Chains,
                RecordType::Metrics,
                RecordType::Spans,
            ]
            .into_iter()
            .collect(),
            ..Route::default()
        }
    }

    /// Whether the route takes this record of a batch.
    pub fn accepts_record(&self, record: &Record, origin: &Origin) -> bool {
        let (kind, name_ok) = match &record.body {
            RecordBody::Event(e) => (
                RecordType::Events,
                any_or(&self.event_names, &e.header.name),
            ),
            RecordBody::Metric(_) => (RecordType::Metrics, true),
            RecordBody::Span(_) => (RecordType::Spans, true),
        };
        self.records.contains(&kind)
            && name_ok
            && any_or(&self.sources, record.source.as_str())
            && any_or(&self.tenants, origin.tenant.as_deref().unwrap_or(""))
    }

    /// Whether the route takes this chain.
    pub fn accepts_chain(&self, chain: &PromptChain) -> bool {
        if !self.records.contains(&RecordType::Chains) {
            return false;
        }
        let who = chain.who.as_ref();
        let source = who.map(|w| w.source_product.as_str()).unwrap_or("");
        let tenant = who.map(|w| w.tenant.as_str()).unwrap_or("");
        let failures_ok = match self.chains {
            ChainFilter::All => true,
            ChainFilter::WithFailures => chain
                .totals
                .as_ref()
                .is_some_and(|t| t.failed_tools > 0 || t.rejected_tools > 0 || t.api_errors > 0),
        };
        failures_ok && any_or(&self.sources, source) && any_or(&self.tenants, tenant)
    }

    /// Whether the route can take any batch record at all (false for
    /// chain-only routes, which then skip batches cheaply).
    pub fn takes_batches(&self) -> bool {
        self.records.iter().any(|r| *r != RecordType::Chains)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use cairn_core::chain::v1;

    use super::*;

    fn chain(
        source: &str,
        tenant: &str,
        failed: u32,
        rejected: u32,
        api_errors: u32,
    ) -> PromptChain {
        PromptChain {
            who: Some(v1::Who {
                source_product: source.into(),
                tenant: tenant.into(),
                ..Default::default()
            }),
            totals: Some(v1::Totals {
                failed_tools: failed,
                rejected_tools: rejected,
                api_errors,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn chain_filters_select_by_failures_source_and_tenant() {
        let r: Route = toml::from_str(
            "records = [\"chains\"]\nchains = \"with_failures\"\nsources = [\"cowork\"]\ntenants = [\"acme\"]",
        )
        .unwrap();
        assert!(!r.takes_batches());
        assert!(r.accepts_chain(&chain("cowork", "acme", 1, 0, 0)));
        assert!(r.accepts_chain(&chain("cowork", "acme", 0, 1, 0)));
        assert!(r.accepts_chain(&chain("cowork", "acme", 0, 0, 2)));
        assert!(!r.accepts_chain(&chain("cowork", "acme", 0, 0, 0)));
        assert!(!r.accepts_chain(&chain("claude-code", "acme", 1, 0, 0)));
        assert!(!r.accepts_chain(&chain("cowork", "other", 1, 0, 0)));
        let events_only: Route = toml::from_str("records = [\"events\"]").unwrap();
        assert!(!events_only.accepts_chain(&chain("cowork", "acme", 1, 0, 0)));
        assert!(Route::default().accepts_chain(&chain("x", "", 0, 0, 0)));
    }

    #[test]
    fn unknown_keys_and_record_types_are_refused() {
        assert!(toml::from_str::<Route>("record = [\"events\"]").is_err());
        assert!(toml::from_str::<Route>("records = [\"logs\"]").is_err());
    }
}
