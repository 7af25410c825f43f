//! Acknowledged work through the WAL: the writer thread's [`WalJournal`]
//! (the pipeline's [`Journal`]) appends each batch and closed chain as an
//! [`Entry`], and every consumer (each sink, the archive) reads the log on
//! its own thread through [`consume`], acknowledging what it finished so the
//! log can free it.
//!
//! On start, a consumer's reader begins at its durable cursor, so whatever
//! it had not finished before a stop or crash is read again (replay):
//! delivery is at least once, and duplicates carry the same record id.

mod consumer;
pub mod entry;

use cairn_core::{chain::PromptChain, record::Batch};
use cairn_pipeline::journal::{Journal, JournalError};
pub use consumer::{ArchiveConsumer, ConsumeError, Consumer, consume, undecodable_frames};
pub use entry::{Entry, EntryError};

use crate::wal::{Wal, WalError};

/// The pipeline's journal over a [`Wal`].
pub struct WalJournal {
    wal: Wal,
    buf: Vec<u8>,
}

impl std::fmt::Debug for WalJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalJournal")
            .field("dir", self.wal.dir())
            .finish_non_exhaustive()
    }
}

impl WalJournal {
    /// Wraps an open log (its consumers already registered).
    pub fn new(wal: Wal) -> WalJournal {
        WalJournal {
            wal,
            buf: Vec::new(),
        }
    }

    fn put(&mut self) -> Result<(), JournalError> {
        match self.wal.append(&self.buf) {
            Ok(_) => Ok(()),
            Err(WalError::Full { .. }) => Err(JournalError::Full),
            Err(e) => Err(JournalError::Failed(e.to_string())),
        }
    }
}

impl Journal for WalJournal {
    fn append(&mut self, batch: &Batch) -> Result<(), JournalError> {
        self.buf.clear();
        entry::encode_batch(batch, &mut self.buf);
        self.put()
    }

    fn append_chains(&mut self, chains: &[PromptChain]) -> Result<(), JournalError> {
        self.buf.clear();
        entry::encode_chains(chains, &mut self.buf);
        self.put()
    }

    fn commit(&mut self) -> Result<(), JournalError> {
        self.wal
            .commit()
            .map(|_| ())
            .map_err(|e| JournalError::Failed(e.to_string()))
    }

    fn maintain(&mut self) {
        if let Err(e) = self.wal.reclaim() {
            tracing::warn!(error = %e, "WAL: freeing consumed segments failed");
        }
    }
}

#[cfg(test)]
mod tests;
