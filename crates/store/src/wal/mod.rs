//! The write-ahead log: what cairn has acknowledged, kept on disk until every
//! consumer (each sink, the archive) has taken it.
//!
//! - [`Wal`] is the one writer: [`Wal::append`] buffers a frame,
//!   [`Wal::commit`] writes everything buffered and, with
//!   [`Durability::Fsync`], `fdatasync`s once for all of it (group commit).
//!   Only committed frames are ever visible to readers; a receiver answers
//!   success only after `commit` returned.
//! - [`Reader`] is one consumer's cursor, movable to its own thread; it reads
//!   committed frames concurrently with the writer and [`Reader::ack`]s what
//!   it is done with, durably.
//! - [`Filesystem`] is everything the log does to disk: [`RealFs`] in
//!   production, [`SimFs`] in tests, which loses or tears what was not synced
//!   when it "crashes".
//!
//! The on-disk format, the LSN, recovery and the budget are described in the
//! crate's README (the crate docs), section "WAL".
//!
//! Invariants:
//! - An LSN is the byte position just past a frame in the log's global byte
//!   stream: unique, increasing, never reused (not even after a crash cut
//!   the tail), and directly a cursor ("everything before this position is
//!   done").
//! - A segment is deleted only when every registered consumer's durable
//!   cursor is at or past its end; cursors are synced before deletion.
//! - Bytes used by segments plus the frames buffered for the next commit
//!   never exceed the budget: [`WalError::Full`] says so instead.

mod cursor;
mod frame;
mod fs;
mod reader;
mod recover;
mod shared;
mod sim;
mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use frame::{FRAME_HEADER, encode_frame};
pub use fs::{Filesystem, ReadFile, RealFs, WriteFile};
pub use reader::Reader;
pub use shared::{ConsumerStats, WalStats, WalStatsHandle};
pub use sim::SimFs;
pub use writer::Wal;

/// A log sequence number: the byte position just past a frame in the log's
/// global byte stream (segment base + offset of the frame's end). `Lsn(0)`
/// is "before everything".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// When a commit counts as done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `fdatasync` once per commit: a committed frame survives power loss.
    #[default]
    Fsync,
    /// Write to the OS page cache only: survives a cairn crash, not a
    /// machine crash. The documented opt-out for throughput.
    Buffered,
}

/// The log's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalConfig {
    /// A segment is closed and a new one started before a frame would take
    /// it past this many bytes (a single larger frame gets a segment alone).
    pub segment_bytes: u64,
    /// The most bytes segments (plus frames buffered for the next commit)
    /// may take; past it `append` answers [`WalError::Full`].
    pub budget_bytes: u64,
    /// When a commit counts as done.
    pub durability: Durability,
}

impl Default for WalConfig {
    fn default() -> Self {
        WalConfig {
            segment_bytes: 64 << 20,
            budget_bytes: 1 << 30,
            durability: Durability::Fsync,
        }
    }
}

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// Appending would take the log past its budget: push back (503 /
    /// UNAVAILABLE) and retry once consumers have caught up.
    #[error("the WAL is full: {used} of {budget} bytes in use")]
    Full {
        /// Bytes in segments and buffered for the next commit.
        used: u64,
        /// The configured budget.
        budget: u64,
    },
    /// A frame that could never fit.
    #[error("a {len}-byte frame is larger than the WAL takes ({max} bytes)")]
    TooLarge {
        /// The payload's length.
        len: usize,
        /// The largest payload accepted.
        max: u64,
    },
    /// Settings that cannot work.
    #[error("invalid WAL config: {0}")]
    Config(&'static str),
    /// Consumer names are 1–64 of `[A-Za-z0-9_.-]`, not starting with `.`.
    #[error("invalid WAL consumer name {0:?}")]
    BadName(String),
    /// No consumer of that name is registered.
    #[error("WAL consumer {0:?} is not registered")]
    UnknownConsumer(String),
    /// The consumer already has a live [`Reader`].
    #[error("WAL consumer {0:?} already has a reader")]
    ConsumerBusy(String),
    /// An ack past what was committed.
    #[error("ack at {lsn} is past the committed head {head}")]
    AckBeyondHead {
        /// The acked position.
        lsn: Lsn,
        /// The committed head.
        head: Lsn,
    },
    /// Another writer holds the directory.
    #[error("the WAL at {0} is locked by another writer")]
    Locked(PathBuf),
    /// An earlier write or sync failed: what reached the disk is unknown, so
    /// the writer takes nothing more. Drop it and open the log again (that
    /// recovers from what is on disk).
    #[error("the WAL writer stopped after an I/O error; reopen it")]
    Poisoned,
    /// A filesystem operation failed.
    #[error("WAL I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Wraps an I/O error with its path.
pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}
