//! What the writer needs to keep the correlator's open chains durable:
//! which chains are oldest (by creation serial, so the writer can map them
//! to the journal positions of the batches that opened them), closing the
//! oldest early when the journal needs its room back, and, while the
//! journal is replayed after a restart, learning which chains had already
//! been written before the stop ([`Correlator::settle`]).

use cairn_core::chain::{PromptChain, v1::Closure};

use super::{CHAIN, Correlator};

impl Correlator {
    /// The serial the next chain to open will get. Serials grow by one per
    /// chain opened, so the chains a `process` call opened are exactly those
    /// with serials between this value before and after it.
    pub fn next_serial(&self) -> u64 {
        self.serial
    }

    /// The serial of the oldest chain still open, if any.
    pub fn oldest_open_serial(&self) -> Option<u64> {
        self.order.first_key_value().map(|(s, _)| *s)
    }

    /// Closes, as evicted, every open chain with a serial below `serial`
    /// (oldest first); their records are appended to `out`.
    pub fn evict_before(&mut self, serial: u64, out: &mut Vec<PromptChain>) {
        let old: Vec<_> = self.order.range(..serial).map(|(_, c)| *c).collect();
        for cid in old {
            self.close(cid, Closure::Evicted, out);
        }
        self.stats.set_open(self.open.len(), self.bytes);
    }

    /// Records that `chain` was already written before a restart (met while
    /// the journal is replayed): an open chain with its key is closed
    /// without a new record, and later late events number their amendments
    /// after the one written. A chain this correlator never saw (all its
    /// events came before the replayed part of the journal) is not known
    /// afterwards: its late events form a chain of their own, marked as
    /// having no `user_prompt`, under the same `chain_id`.
    pub fn settle(&mut self, chain: &PromptChain) {
        // The tenant is the batch's, which every attribution carries.
        let tenant = chain.who.as_ref().map_or("", |w| w.tenant.as_str());
        let cid = self
            .ids
            .key(CHAIN, &[tenant, &chain.session_id, &chain.prompt_id]);
        if self.open.contains_key(&cid) {
            let mut discarded = Vec::with_capacity(1);
            self.close(cid, Closure::Unspecified, &mut discarded);
            self.stats.set_open(self.open.len(), self.bytes);
        }
        if let Some(closed) = self.closed.get_mut(&cid) {
            closed.amendments = closed.amendments.max(chain.amendment);
        }
    }
}
