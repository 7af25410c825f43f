//! The archive as an output of the writer thread: one archive record per
//! typed record, in the records file's JSON, and one per prompt chain.
//!
//! `flush` is the archive's group fsync plus any checkpoint due, so a batch
//! acknowledged after `flush` is on disk in the archive. Dropping the output
//! seals and syncs what is unsealed.

use cairn_core::{
    chain::{CHAIN_EVENT_NAME, PromptChain},
    json::KeyStyle,
    record::Batch,
    render::SharedJson,
};
use cairn_pipeline::output::Output;

use crate::archive::writer::Archive;

/// Writes batches and chains into an [`Archive`].
#[derive(Debug)]
pub struct ArchiveOutput {
    archive: Archive,
}

impl ArchiveOutput {
    /// Wraps an open archive.
    pub fn new(archive: Archive) -> ArchiveOutput {
        ArchiveOutput { archive }
    }

    /// The archive.
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Seals, syncs and closes the archive.
    pub fn close(self) -> std::io::Result<()> {
        self.archive.close().map_err(Into::into)
    }
}

impl Output for ArchiveOutput {
    /// Each record as `record.to_json(&batch.origin)` serializes: the same
    /// JSON as a line of the records file, written straight into the
    /// archive's buffer by `Record::write_json`.
    /// The members a batch's records share (origin, resource, scope) are
    /// rendered once per batch: the same bytes.
    fn write(&mut self, batch: &Batch) -> std::io::Result<()> {
        let mut shared = SharedJson::default();
        for record in &batch.records {
            self.archive.append_with(|buf| {
                record.write_json_shared(&batch.origin, KeyStyle::Plain, &mut shared, buf)
            })?;
        }
        Ok(())
    }

    /// Each chain as `{"kind": "prompt_chain", "event":
    /// "cairn.prompt_chain", "chain": <proto3 JSON>}`, as in the records file.
    fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
        for chain in chains {
            let line = serde_json::json!({
                "kind": "prompt_chain",
                "event": CHAIN_EVENT_NAME,
                "chain": chain,
            });
            self.archive.append(&line)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.archive.flush().map_err(Into::into)
    }
}
