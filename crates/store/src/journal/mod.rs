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
mod recent;

use std::sync::Arc;

use cairn_core::{chain::PromptChain, record::Batch};
use cairn_pipeline::journal::{Journal, JournalError};
pub use consumer::{ArchiveConsumer, ConsumeError, Consumer, consume, undecodable_frames};
pub use entry::{Entry, EntryError};
pub use recent::{DEFAULT_BYTES as RECENT_BYTES, Recent};

use crate::wal::{Lsn, Wal, WalError};

/// The pipeline's journal over a [`Wal`].
pub struct WalJournal {
    wal: Wal,
    buf: Vec<u8>,
    recent: Recent,
    /// Appended since the last commit: handed to `recent` once committed.
    pending: Vec<(Lsn, Entry, usize)>,
}

impl std::fmt::Debug for WalJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalJournal")
            .field("dir", self.wal.dir())
            .finish_non_exhaustive()
    }
}

impl WalJournal {
    /// Wraps an open log (its consumers already registered); committed
    /// entries are also kept, typed, in `recent` for the consumers.
    pub fn new(wal: Wal, recent: Recent) -> WalJournal {
        WalJournal {
            wal,
            buf: Vec::new(),
            recent,
            pending: Vec::new(),
        }
    }

    fn put(&mut self, entry: Entry) -> Result<(), JournalError> {
        match self.wal.append(&self.buf) {
            Ok(lsn) => {
                self.pending.push((lsn, entry, self.buf.len()));
                Ok(())
            }
            Err(WalError::Full { .. }) => Err(JournalError::Full),
            Err(e) => Err(JournalError::Failed(e.to_string())),
        }
    }
}

impl Journal for WalJournal {
    fn append(&mut self, batch: &Arc<Batch>) -> Result<(), JournalError> {
        self.buf.clear();
        entry::encode_batch(batch, &mut self.buf);
        self.put(Entry::Batch(Arc::clone(batch)))
    }

    fn append_chains(&mut self, chains: &[PromptChain]) -> Result<(), JournalError> {
        self.buf.clear();
        entry::encode_chains(chains, &mut self.buf);
        self.put(Entry::Chains(Arc::new(chains.to_vec())))
    }

    fn commit(&mut self) -> Result<(), JournalError> {
        match self.wal.commit() {
            Ok(_) => {
                self.recent.extend(self.pending.drain(..));
                Ok(())
            }
            Err(e) => {
                self.pending.clear();
                Err(JournalError::Failed(e.to_string()))
            }
        }
    }

    fn maintain(&mut self) {
        if let Err(e) = self.wal.reclaim() {
            tracing::warn!(error = %e, "WAL: freeing consumed segments failed");
        }
    }
}

#[cfg(test)]
mod tests;
