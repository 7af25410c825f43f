//! cairn-pipeline: what happens between a receiver and the outputs.
//!
//! [`runner::Pipeline`] is the [`cairn_core::ingest::Ingest`] receivers
//! submit to: a bounded queue (full = pushback, never growth) drained by one
//! writer thread that writes every queued batch, flushes once (group commit),
//! and only then acknowledges them. [`records_file::RecordsFile`] is the
//! first output: one JSON line per record.

pub mod chain_stage;
pub mod correlate;
pub mod enrich;
mod ids;
pub mod journal;
pub mod output;
pub mod records_file;
pub mod redact;
pub mod runner;
pub mod stage;
#[cfg(test)]
mod test_events;
