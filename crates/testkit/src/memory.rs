//! An ingest that keeps every batch in memory and can be told to push back.

use std::sync::{Arc, Mutex};

use cairn_core::{
    ingest::{Ingest, SubmitError, SubmitFuture},
    record::Batch,
};

/// How [`MemoryIngest`] answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keep the batch and acknowledge it.
    Accept,
    /// Refuse as if the queue were full.
    Overloaded,
}

/// Keeps batches; answers by [`Mode`].
#[derive(Debug)]
pub struct MemoryIngest {
    batches: Mutex<Vec<Batch>>,
    mode: Mutex<Mode>,
}

impl MemoryIngest {
    /// A new accepting ingest.
    pub fn new() -> Arc<MemoryIngest> {
        Arc::new(MemoryIngest {
            batches: Mutex::new(Vec::new()),
            mode: Mutex::new(Mode::Accept),
        })
    }

    /// Changes how later submissions are answered.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// A copy of every accepted batch.
    pub fn batches(&self) -> Vec<Batch> {
        self.batches.lock().unwrap().clone()
    }

    /// How many records were accepted in all.
    pub fn record_count(&self) -> usize {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.records.len())
            .sum()
    }

    /// Forgets every batch.
    pub fn clear(&self) {
        self.batches.lock().unwrap().clear();
    }
}

impl Ingest for MemoryIngest {
    fn submit(&self, batch: Batch) -> SubmitFuture<'_> {
        let mode = self.mode.lock().unwrap().clone();
        Box::pin(async move {
            match mode {
                Mode::Accept => {
                    self.batches.lock().unwrap().push(batch);
                    Ok(())
                }
                Mode::Overloaded => Err(SubmitError::Overloaded {
                    retry_after: std::time::Duration::from_secs(2),
                }),
            }
        })
    }
}
