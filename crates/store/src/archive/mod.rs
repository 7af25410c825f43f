//! The tamper-evident archive: append-only, hash-chained segments with
//! Ed25519-signed seals under `<data-dir>/archive`, the verifier that proves
//! them intact, and the exporter investigators start from.
//!
//! The format and the threat model are in the crate's README (the crate
//! docs). In short: every line is an entry whose SHA-256 hash covers the
//! previous entry's hash, its seq and its exact bytes
//! ([`mod@format`]); seals sign the chain head at each segment's start
//! (anchoring it to the segment before, so retention can delete old
//! segments), every N records or T, at shutdown and at rotation.
//!
//! - [`Archive`] writes (open, append, flush, rotate, prune, recover).
//! - [`ArchiveOutput`] plugs it into the writer thread.
//! - [`verify()`] checks an archive and names the first bad entry.
//! - [`export()`] writes matching records as JSON lines.
//! - [`ArchiveKey`] loads or generates the signing key.

mod check;
mod export;
pub mod format;
mod key;
mod output;
pub mod segments;
mod verify;
mod writer;

pub use check::{BadEntry, Problem, SealPoint};
pub use export::{ExportError, Filter, export};
pub use key::{ArchiveKey, KeyError, parse_public_key, public_key_string};
pub use output::ArchiveOutput;
pub use verify::{KeySource, PUBKEY_FILE, VerifyError, VerifyReport, verify};
pub use writer::{Archive, ArchiveConfig, ArchiveError};

/// The archive's directory name inside the data dir.
pub const DIR_NAME: &str = "archive";

#[cfg(test)]
mod tests;
