//! The synchronous stages the writer thread runs after each acknowledged
//! batch (the correlator, the spend meter), and the hooks a stage that
//! holds acknowledged work uses to keep it durable through the journal.

use cairn_core::{chain::PromptChain, record::Batch};

use crate::enrich::SpendMeter;

/// A synchronous stage on the writer thread. It sees every batch after the
/// batch was written and acknowledged, in order, and may emit chain records.
pub trait Stage: Send + 'static {
    /// Takes one batch.
    fn process(&mut self, batch: &Batch, out: &mut Vec<PromptChain>);
    /// Called every tick: close what timed out.
    fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        let _ = out;
    }
    /// Called once at shutdown: emit everything still held.
    fn close(&mut self, out: &mut Vec<PromptChain>) {
        let _ = out;
    }
    /// Whether the stage holds acknowledged work that only the journal
    /// keeps until the stage is done with it (the correlator's open
    /// chains). Such a stage is given each batch's journal position
    /// ([`Stage::process_at`]), says which part of the journal it still
    /// needs ([`Stage::needs_from`]), and after a restart is fed that part
    /// again ([`Stage::settle`] for what it had already emitted).
    fn keeps(&self) -> bool {
        false
    }
    /// Takes one batch that starts at `pos` in the journal.
    fn process_at(&mut self, pos: u64, batch: &Batch, out: &mut Vec<PromptChain>) {
        let _ = pos;
        self.process(batch, out);
    }
    /// The journal position of the oldest batch whose work the stage still
    /// holds (`None`: it holds none).
    fn needs_from(&mut self) -> Option<u64> {
        None
    }
    /// While the journal is replayed: these chain records were already
    /// journaled before the restart.
    fn settle(&mut self, chains: &[PromptChain]) {
        let _ = chains;
    }
    /// The journal needs its room back: finish (emit) whatever holds work
    /// from batches before `pos`.
    fn release_before(&mut self, pos: u64, out: &mut Vec<PromptChain>) {
        let _ = (pos, out);
    }
}

/// Spend counters count only acknowledged usage points.
impl Stage for SpendMeter {
    fn process(&mut self, batch: &Batch, _out: &mut Vec<PromptChain>) {
        self.observe(batch);
    }
}
