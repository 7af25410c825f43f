//! The durable log the writer thread appends acknowledged work to.
//!
//! The writer appends every batch of a group, commits once (group commit),
//! and only then answers the receivers: a batch is acknowledged only when
//! the journal holds it. The sinks and the archive read the journal on their
//! own threads, each at its own pace, so none of them is on the
//! acknowledgement path. `cairn-store`'s WAL is the implementation; this
//! trait keeps the pipeline free of storage details and testable with fakes.

use std::sync::Arc;

use cairn_core::{chain::PromptChain, record::Batch};

/// Why the journal refused work.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The disk budget is used up until consumers catch up: push back
    /// (503 / UNAVAILABLE with `Retry-After`), never drop.
    #[error("the write-ahead log is full")]
    Full,
    /// Writing or syncing failed; what was appended since the last commit is
    /// not acknowledged.
    #[error("write-ahead log: {0}")]
    Failed(String),
}

/// An append-only, durable log of acknowledged work.
pub trait Journal: Send + 'static {
    /// Buffers one batch for the next commit (shared: a journal may keep it
    /// for its readers).
    fn append(&mut self, batch: &Arc<Batch>) -> Result<(), JournalError>;
    /// Buffers closed prompt chains for the next commit.
    fn append_chains(&mut self, chains: &[PromptChain]) -> Result<(), JournalError>;
    /// Makes everything appended durable (per the configured durability).
    fn commit(&mut self) -> Result<(), JournalError>;
    /// Periodic housekeeping on the writer thread (freeing what every
    /// consumer has finished with).
    fn maintain(&mut self) {}
    /// Called once when the writer stops, after the last commit.
    fn close(&mut self) {}

    /// The position just past everything appended: the next entry starts
    /// here. Positions only grow.
    fn position(&self) -> u64 {
        0
    }
    /// The stages still need the journal from `pos` on (their open work);
    /// what comes before may be freed once every other reader is past it.
    /// The journal may store this lazily (at `maintain`).
    fn keep_from(&mut self, pos: u64) {
        let _ = pos;
    }
    /// After a restart, before anything is appended: hands every entry from
    /// the kept position to the end to `f`, in order, so the stages rebuild
    /// what they held.
    fn replay(&mut self, f: &mut dyn FnMut(Replayed)) {
        let _ = f;
    }
    /// When what the stages keep is what fills the journal (it is running
    /// short of room and every other reader is further on): the position
    /// before which the stages should finish their work.
    fn release_target(&self) -> Option<u64> {
        None
    }
}

/// One entry met while the journal is replayed.
#[derive(Debug)]
pub enum Replayed {
    /// A batch and the position where its entry starts.
    Batch(u64, Arc<Batch>),
    /// Chain records that were journaled.
    Chains(Arc<Vec<PromptChain>>),
}
