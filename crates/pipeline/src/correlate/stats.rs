//! Correlator counters for `/metrics`: chains emitted by how they closed,
//! amendments, resent duplicates, unlinked spans, and open-chain gauges.

use cairn_core::chain::v1::Closure;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// Labels for emitted chains.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClosureLabels {
    /// `next_prompt`, `idle_timeout`, `evicted` or `shutdown`.
    pub closed_by: String,
}

/// The correlator's counters; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct CorrelatorStats {
    /// Chains emitted, by how they closed.
    pub emitted: Family<ClosureLabels, Counter>,
    /// Amendment records emitted.
    pub amendments: Counter,
    /// Resent events and spans dropped as duplicates.
    pub duplicates: Counter,
    /// Spans that linked to no prompt within the idle timeout.
    pub unlinked_spans: Counter,
    /// Chains open now.
    pub open: Gauge,
    /// Bytes held by open chains (estimate).
    pub open_bytes: Gauge,
}

fn closure_name(c: Closure) -> &'static str {
    match c {
        Closure::NextPrompt => "next_prompt",
        Closure::IdleTimeout => "idle_timeout",
        Closure::Evicted => "evicted",
        Closure::Shutdown => "shutdown",
        Closure::Unspecified => "unspecified",
    }
}

impl CorrelatorStats {
    /// Registers the counters.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cairn_chains",
            "Prompt chains emitted, by how they closed",
            self.emitted.clone(),
        );
        registry.register(
            "cairn_chain_amendments",
            "Amendments emitted for events that arrived after their chain closed",
            self.amendments.clone(),
        );
        registry.register(
            "cairn_chain_duplicate_events",
            "Resent events and spans recognised by content and dropped from chains",
            self.duplicates.clone(),
        );
        registry.register(
            "cairn_chain_unlinked_spans",
            "Spans that joined no prompt chain within the idle timeout",
            self.unlinked_spans.clone(),
        );
        registry.register("cairn_chains_open", "Prompt chains open", self.open.clone());
        registry.register(
            "cairn_chains_open_bytes",
            "Bytes held by open prompt chains (estimate)",
            self.open_bytes.clone(),
        );
    }

    fn emitted_counter(&self, c: Closure) -> Counter {
        self.emitted
            .get_or_create(&ClosureLabels {
                closed_by: closure_name(c).to_owned(),
            })
            .clone()
    }
    pub(crate) fn amended(&self) {
        self.amendments.inc();
    }
    pub(crate) fn duplicate(&self) {
        self.duplicates.inc();
    }
    pub(crate) fn unlinked_spans(&self, n: u64) {
        self.unlinked_spans.inc_by(n);
    }
    pub(crate) fn set_open(&self, chains: usize, bytes: usize) {
        self.open.set(i64::try_from(chains).unwrap_or(i64::MAX));
        self.open_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}

/// The `emitted` counter of each closure, looked up in the family once: the
/// handles share their value with the family's.
#[derive(Debug, Default)]
pub(crate) struct EmittedCounters([Option<Counter>; 5]);

impl EmittedCounters {
    /// Counts one chain closed by `c`.
    pub(crate) fn inc(&mut self, stats: &CorrelatorStats, c: Closure) {
        let i = match c {
            Closure::Unspecified => 0,
            Closure::NextPrompt => 1,
            Closure::IdleTimeout => 2,
            Closure::Evicted => 3,
            Closure::Shutdown => 4,
        };
        if let Some(slot) = self.0.get_mut(i) {
            slot.get_or_insert_with(|| stats.emitted_counter(c)).inc();
        }
    }
}
