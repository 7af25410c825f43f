//! The correlator as a pipeline [`Stage`] that keeps its open chains
//! durable through the journal.
//!
//! An open chain's events are acknowledged before its record exists; with
//! `chains.raw_events` off they reach no output until the chain closes, so
//! the journal (the WAL) must keep them until then. [`ChainStage`] maps
//! each open chain to the journal position of the batch that opened it
//! (chains open in serial order, batches arrive in position order, so a
//! queue of `(first serial a batch opened, its position)` suffices) and
//! reports the oldest position any open chain still needs. The writer
//! keeps the journal from there, replays it into the stage after a
//! restart, and, when the journal runs short of room, asks the stage to
//! emit the chains that pin its oldest part (as evicted).

use std::collections::VecDeque;

use cairn_core::{chain::PromptChain, record::Batch};

use crate::{correlate::Correlator, runner::Stage};

/// The correlator with the journal positions of its open chains.
pub struct ChainStage {
    correlator: Correlator,
    /// `(serial of the first chain a batch opened, the batch's position)`,
    /// oldest first; only batches that opened a chain.
    opened: VecDeque<(u64, u64)>,
}

impl std::fmt::Debug for ChainStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainStage")
            .field("correlator", &self.correlator)
            .field("opened", &self.opened.len())
            .finish()
    }
}

impl ChainStage {
    /// Wraps a correlator.
    pub fn new(correlator: Correlator) -> ChainStage {
        ChainStage {
            correlator,
            opened: VecDeque::new(),
        }
    }

    /// The correlator inside.
    pub fn correlator(&self) -> &Correlator {
        &self.correlator
    }

    /// Forgets positions no open chain needs; the front is then the
    /// position of the batch that opened the oldest open chain.
    fn prune(&mut self) {
        match self.correlator.oldest_open_serial() {
            None => self.opened.clear(),
            Some(oldest) => {
                while self.opened.get(1).is_some_and(|&(s, _)| s <= oldest) {
                    self.opened.pop_front();
                }
            }
        }
    }
}

impl Stage for ChainStage {
    fn process(&mut self, batch: &Batch, out: &mut Vec<PromptChain>) {
        self.correlator.process(batch, out);
    }

    fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        self.correlator.on_tick(out);
    }

    fn close(&mut self, out: &mut Vec<PromptChain>) {
        self.correlator.close_all(out);
        self.opened.clear();
    }

    fn keeps(&self) -> bool {
        true
    }

    fn process_at(&mut self, pos: u64, batch: &Batch, out: &mut Vec<PromptChain>) {
        let first = self.correlator.next_serial();
        self.correlator.process(batch, out);
        if self.correlator.next_serial() > first {
            self.opened.push_back((first, pos));
        }
    }

    fn needs_from(&mut self) -> Option<u64> {
        self.prune();
        self.opened.front().map(|&(_, pos)| pos)
    }

    fn settle(&mut self, chains: &[PromptChain]) {
        for chain in chains {
            self.correlator.settle(chain);
        }
    }

    fn release_before(&mut self, pos: u64, out: &mut Vec<PromptChain>) {
        // Chains opened by batches at or past `pos` stay open.
        let keep_from = self
            .opened
            .iter()
            .find(|&&(_, at)| at >= pos)
            .map_or(self.correlator.next_serial(), |&(serial, _)| serial);
        self.correlator.evict_before(keep_from, out);
        self.prune();
    }
}

#[cfg(test)]
#[path = "chain_stage_tests.rs"]
mod tests;
