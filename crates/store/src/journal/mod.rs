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
use cairn_pipeline::journal::{Journal, JournalError, Replayed};
pub use consumer::{
    ArchiveConsumer, ConsumeError, Consumer, consume, consume_events, undecodable_frames,
};
pub use entry::{Entry, EntryError};
pub use recent::{DEFAULT_BYTES as RECENT_BYTES, Recent};

use crate::wal::{FRAME_HEADER, Lsn, Reader, Wal, WalError};

/// The WAL consumer that keeps what the pipeline's stages still hold (the
/// batches of open prompt chains).
pub const STAGES_CONSUMER: &str = "chains";

/// Past this share of the budget (in quarters), open chains that alone hold
/// the oldest part of the log are asked to finish.
const HIGH_WATER_QUARTERS: u64 = 3;

/// The stages' cursor: acked up to what they still need.
struct Keeper {
    reader: Reader,
    /// Everything before this the stages are done with (acked lazily).
    want: Lsn,
}

/// The pipeline's journal over a [`Wal`].
pub struct WalJournal {
    wal: Wal,
    buf: Vec<u8>,
    recent: Recent,
    /// Appended since the last commit: handed to `recent` once committed.
    pending: Vec<(Lsn, Entry, usize)>,
    /// Just past the last frame appended.
    tail: Lsn,
    keeper: Option<Keeper>,
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
            tail: wal.head(),
            wal,
            buf: Vec::new(),
            recent,
            pending: Vec::new(),
            keeper: None,
        }
    }

    /// Keeps the log for the pipeline's stages through `reader` (the
    /// [`STAGES_CONSUMER`]): from where they still need it, replayed to them
    /// on start.
    pub fn keeping_for_stages(mut self, reader: Reader) -> WalJournal {
        let want = reader.acked();
        self.keeper = Some(Keeper { reader, want });
        self
    }

    fn put(&mut self, entry: Entry) -> Result<(), JournalError> {
        match self.wal.append(&self.buf) {
            Ok(lsn) => {
                self.pending.push((lsn, entry, self.buf.len()));
                self.tail = lsn;
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
        self.ack_stages();
        if let Err(e) = self.wal.reclaim() {
            tracing::warn!(error = %e, "WAL: freeing consumed segments failed");
        }
    }

    fn close(&mut self) {
        self.ack_stages();
    }

    fn position(&self) -> u64 {
        self.tail.0
    }

    fn keep_from(&mut self, pos: u64) {
        let Some(k) = self.keeper.as_mut() else {
            return;
        };
        k.want = k.want.max(Lsn(pos));
        // Acks sync a file: lazily (each tick), unless the room is needed.
        if self.high_water() {
            self.ack_stages();
        }
    }

    fn replay(&mut self, f: &mut dyn FnMut(Replayed)) {
        let Some(k) = self.keeper.as_mut() else {
            return;
        };
        loop {
            let frames = match k.reader.read(256, 8 << 20) {
                Ok(frames) => frames,
                Err(e) => {
                    tracing::error!(error = %e, "WAL: reading what open prompt chains held failed; they are not rebuilt");
                    return;
                }
            };
            if frames.is_empty() {
                return;
            }
            for (lsn, payload) in frames {
                let start = lsn.0.saturating_sub((FRAME_HEADER + payload.len()) as u64);
                match entry::decode(&payload) {
                    Ok(Entry::Batch(batch)) => f(Replayed::Batch(start, batch)),
                    Ok(Entry::Chains(chains)) => f(Replayed::Chains(chains)),
                    Err(e) => {
                        consumer::count_undecodable();
                        tracing::error!(%lsn, error = %e, "WAL: a frame does not decode; open prompt chains are rebuilt without it");
                    }
                }
            }
        }
    }

    fn release_target(&self) -> Option<u64> {
        let k = self.keeper.as_ref()?;
        if !self.high_water() {
            return None;
        }
        let others = self
            .wal
            .min_acked_except(k.reader.name())
            .unwrap_or(self.tail);
        // Half of what the stages alone hold: enough to free segments,
        // without closing every open chain at once.
        (others > k.want).then(|| k.want.0 + (others.0 - k.want.0) / 2)
    }
}

impl WalJournal {
    /// Whether the log is past its high-water mark.
    fn high_water(&self) -> bool {
        let (used, budget) = self.wal.fill();
        used.saturating_mul(4) >= budget.saturating_mul(HIGH_WATER_QUARTERS)
    }

    /// Stores the stages' cursor (never past the committed head).
    fn ack_stages(&mut self) {
        let Some(k) = self.keeper.as_mut() else {
            return;
        };
        let at = k.want.min(k.reader.head());
        if at > k.reader.acked()
            && let Err(e) = k.reader.ack(at)
        {
            tracing::warn!(error = %e, "WAL: storing the open chains' position failed; it is retried");
        }
    }
}

#[cfg(test)]
mod stages_tests;
#[cfg(test)]
mod tests;
