//! The writer's side of stages that hold acknowledged work (open prompt
//! chains): telling the journal what it must keep, asking the stages to let
//! go when that fills the journal, and rebuilding them from the journal
//! after a restart.

use cairn_core::chain::PromptChain;

use super::{Writer, guarded};
use crate::journal::Replayed;

impl Writer {
    /// Tells the journal where the stages' open work starts. Not while
    /// chains wait for room: the batches they came from must stay.
    pub(super) fn keep(&mut self) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        if !self.waiting_chains.is_empty() {
            return;
        }
        let needed = self.stages.iter_mut().filter_map(|s| s.needs_from()).min();
        journal.keep_from(needed.unwrap_or_else(|| journal.position()));
    }

    /// When open chains are what fills the journal, emits (as evicted) those
    /// that hold its oldest part, so it can be freed.
    pub(super) fn release(&mut self, chains: &mut Vec<PromptChain>) {
        let Some(target) = self.journal.as_ref().and_then(|j| j.release_target()) else {
            return;
        };
        self.each_stage(|s, out| s.release_before(target, out), chains);
        if !chains.is_empty() {
            tracing::warn!(
                chains = chains.len(),
                "the write-ahead log is filling up with open prompt chains; the oldest are emitted as evicted"
            );
        }
        self.write_chains(chains);
        self.keep();
    }

    /// After a restart: feeds the journal from the stages' kept position
    /// back to the stages that keep work, so open chains are rebuilt. Chain
    /// records the replay produces that were journaled before the restart
    /// are dropped; the others (lost with the stop) are written now.
    pub(super) fn replay(&mut self, chains: &mut Vec<PromptChain>) {
        if !self.stages.iter().any(|s| s.keeps()) {
            return;
        }
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        let stages = &mut self.stages;
        let mut journaled: std::collections::HashSet<(String, u32)> = Default::default();
        let mut batches = 0u64;
        journal.replay(&mut |entry| match entry {
            Replayed::Batch(pos, batch) => {
                batches += 1;
                guarded(stages, |s| s.keeps(), |s| s.process_at(pos, &batch, chains));
            }
            Replayed::Chains(done) => {
                journaled.extend(done.iter().map(|c| (c.chain_id.clone(), c.amendment)));
                guarded(stages, |s| s.keeps(), |s| s.settle(&done));
            }
        });
        let rebuilt = chains.len();
        chains.retain(|c| !journaled.contains(&(c.chain_id.clone(), c.amendment)));
        if batches > 0 {
            tracing::info!(
                batches,
                already_written = rebuilt - chains.len(),
                written_now = chains.len(),
                "open prompt chains rebuilt from the write-ahead log"
            );
        }
        self.write_chains(chains);
        self.keep();
    }
}
