//! The archive writer: appends entries to the active segment, seals,
//! rotates, prunes, and reopens itself from disk after a crash or an I/O
//! error.
//!
//! Invariants:
//! - Nothing already in a segment is ever rewritten. The one exception is a
//!   torn last line (bytes after the last newline, left by a crash mid-write
//!   and never acknowledged): it is copied to `quarantine/`, synced, and only
//!   then cut from the segment, and [`Archive::quarantined`] counts it.
//! - A last segment that fails any other check is not extended: opening
//!   fails with [`ArchiveError::Damaged`] naming the bad entry.
//! - A seal is written before the segments it reports as pruned are
//!   deleted, and a segment's close seal is synced before the next segment
//!   exists, so a crash at any step leaves an archive that verifies.
//! - After any I/O error the in-memory state is dropped (its buffer
//!   discarded, not written) and the next call reopens from disk.

use std::{
    fs::{self, File, OpenOptions},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use cairn_core::clock::Clock;
use serde::Serialize;

use crate::archive::{
    check::BadEntry,
    format::{
        EntryKind, FORMAT_VERSION, Hash, Seal, SealFields, SealKind, encode_line, seal_message,
    },
    key::{ArchiveKey, KeyError},
    segments::{segment_name, sync_dir},
};

mod recover;

/// Rotation, retention and checkpoint settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// Rotate before the active segment would grow past this many bytes
    /// (room is kept for a checkpoint and the close seal). A record too big
    /// for any segment gets one of its own.
    pub max_segment_bytes: u64,
    /// Rotate when the active segment is older than this (checked on append).
    pub max_segment_age: Option<Duration>,
    /// Delete closed segments closed longer ago than this (checked at open
    /// and at each rotation). `None` keeps everything.
    pub retention: Option<Duration>,
    /// Write a checkpoint seal after this many records.
    pub checkpoint_records: u64,
    /// Write a checkpoint seal on `flush` when unsealed records are older
    /// than this. Zero seals at every flush that has new records.
    pub checkpoint_interval: Duration,
}

impl Default for ArchiveConfig {
    fn default() -> ArchiveConfig {
        ArchiveConfig {
            max_segment_bytes: 128 * 1024 * 1024,
            max_segment_age: Some(Duration::from_secs(24 * 3600)),
            retention: None,
            checkpoint_records: 1000,
            checkpoint_interval: Duration::from_secs(10),
        }
    }
}

/// Why the archive could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file operation failed.
    #[error("archive {}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The signing key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The last segment was signed with another key.
    #[error(
        "archive {}: its segments are signed by {archive_key}, not by the configured key {key}; move the archive aside or configure its key",
        .segment.display()
    )]
    KeyMismatch {
        /// The segment.
        segment: PathBuf,
        /// The key its open seal names.
        archive_key: String,
        /// The configured key.
        key: String,
    },
    /// Another writer holds the archive open.
    #[error("archive {}: another cairn has it open", .0.display())]
    Locked(PathBuf),
    /// The last segment fails verification beyond a torn last line.
    #[error("refusing to extend a damaged archive (run `cairn verify`): {0}")]
    Damaged(Box<BadEntry>),
    /// A record did not serialise to one line of JSON.
    #[error("record cannot be archived: {0}")]
    InvalidRecord(String),
}

impl From<ArchiveError> for std::io::Error {
    fn from(e: ArchiveError) -> std::io::Error {
        match e {
            ArchiveError::Io { source, path } => std::io::Error::new(
                source.kind(),
                format!("archive {}: {source}", path.display()),
            ),
            other => std::io::Error::other(other),
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The lock file inside the archive directory.
const LOCK_FILE: &str = "archive.lock";

/// The most a record's line adds to its body: the fixed layout with a
/// 20-digit seq.
const RECORD_ENVELOPE: u64 = 190;
/// The most a seal's line takes (they are about 420 bytes).
const SEAL_LINE_MAX: u64 = 512;

/// A closed segment, for retention.
#[derive(Clone, Debug)]
struct Closed {
    path: PathBuf,
    first_seq: Option<u64>,
    /// When it was closed: the next segment's open time.
    closed_at: Option<u64>,
}

/// The active segment and the chain head.
struct State {
    file: BufWriter<File>,
    index: u64,
    path: PathBuf,
    bytes: u64,
    created: u64,
    first_seq: u64,
    seq: u64,
    head: Hash,
    pruned_through: u64,
    since_seal: u64,
    last_seal_time: u64,
    closed: Vec<Closed>,
    unsynced: bool,
    /// Bytes of the segment already dropped from the page cache.
    dropped: u64,
}

impl State {
    /// Drops the state without writing its buffer: after an error the
    /// buffer may hold half a line.
    fn discard(self) {
        let _ = self.file.into_parts();
    }
}

/// The tamper-evident archive of one directory (`<data-dir>/archive`).
pub struct Archive {
    dir: PathBuf,
    config: ArchiveConfig,
    key: ArchiveKey,
    public_key: String,
    clock: Arc<dyn Clock>,
    state: Option<State>,
    quarantined: u64,
    body: Vec<u8>,
    line: Vec<u8>,
    finished: bool,
    /// Holds an exclusive lock on `archive.lock` while open: two writers on
    /// one archive would fork its chain.
    _lock: File,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("dir", &self.dir)
            .field("last_seq", &self.last_seq())
            .finish_non_exhaustive()
    }
}

/// Writes one entry line into `line` and then the file.
fn put(st: &mut State, line: &mut Vec<u8>, kind: EntryKind, body: &[u8]) -> std::io::Result<()> {
    line.clear();
    let hash = encode_line(line, st.seq + 1, &st.head, kind, body);
    st.file.write_all(line)?;
    st.seq += 1;
    st.head = hash;
    st.bytes += line.len() as u64;
    st.unsynced = true;
    Ok(())
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Archive {
    /// Opens the archive in `dir` (created if absent), continuing its chain,
    /// or starts one. Seals are signed with `key`.
    pub fn open(
        dir: &Path,
        key: ArchiveKey,
        config: ArchiveConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Archive, ArchiveError> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_at(&lock_path))?;
        lock.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => ArchiveError::Locked(lock_path.clone()),
            std::fs::TryLockError::Error(source) => ArchiveError::Io {
                path: lock_path.clone(),
                source,
            },
        })?;
        let mut archive = Archive {
            dir: dir.to_owned(),
            config,
            public_key: key.public_key_string(),
            key,
            clock,
            state: None,
            quarantined: 0,
            body: Vec::with_capacity(4096),
            line: Vec::with_capacity(4096),
            finished: false,
            _lock: lock,
        };
        let st = archive.load()?;
        archive.state = Some(st);
        Ok(archive)
    }

    /// The archive directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Torn tails moved to `quarantine/` since this archive was opened.
    pub fn quarantined(&self) -> u64 {
        self.quarantined
    }

    /// The seq of the last entry written, when the state is loaded.
    pub fn last_seq(&self) -> Option<u64> {
        self.state.as_ref().map(|s| s.seq)
    }

    /// The chain hash of the last entry, hex.
    pub fn head(&self) -> Option<String> {
        self.state.as_ref().map(|s| hex::encode(s.head))
    }

    /// The index of the active segment.
    pub fn segment_index(&self) -> Option<u64> {
        self.state.as_ref().map(|s| s.index)
    }

    /// The signing key's public half, base64.
    pub fn public_key_string(&self) -> &str {
        &self.public_key
    }

    /// Appends one record (serialised as compact JSON) and returns its seq.
    /// Buffered: it is durable after [`flush`](Archive::flush).
    pub fn append<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<u64, ArchiveError> {
        self.body.clear();
        serde_json::to_writer(&mut self.body, record)
            .map_err(|e| ArchiveError::InvalidRecord(e.to_string()))?;
        self.append_written()
    }

    /// Appends one record that `write` writes as compact JSON into the
    /// archive's buffer (no intermediate value), as [`Archive::append`].
    pub fn append_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<u64, ArchiveError> {
        self.body.clear();
        write(&mut self.body);
        self.append_written()
    }

    fn append_written(&mut self) -> Result<u64, ArchiveError> {
        if memchr::memchr(b'\n', &self.body).is_some() {
            return Err(ArchiveError::InvalidRecord(
                "its JSON holds a raw newline".into(),
            ));
        }
        let mut st = self.take_state()?;
        let result = self.append_body(&mut st);
        self.restore(st, result)
    }

    fn append_body(&mut self, st: &mut State) -> Result<u64, ArchiveError> {
        let now = self.clock.now_unix_nano();
        let has_records = st.seq > st.first_seq;
        // Room for the record's line, a checkpoint after it and the close.
        let needed = self.body.len() as u64 + RECORD_ENVELOPE + 2 * SEAL_LINE_MAX;
        let too_big = st.bytes + needed > self.config.max_segment_bytes;
        let too_old = self
            .config
            .max_segment_age
            .is_some_and(|age| now.saturating_sub(st.created) >= nanos(age));
        if has_records && (too_big || too_old) {
            self.rotate(st, now)?;
        }
        put(st, &mut self.line, EntryKind::Record, &self.body).map_err(io_at(&st.path))?;
        st.since_seal += 1;
        if st.since_seal >= self.config.checkpoint_records.max(1) {
            self.seal(st, SealKind::Checkpoint, now)?;
        }
        Ok(st.seq)
    }

    /// Writes a checkpoint if one is due by time, then writes the buffer
    /// through and fsyncs the segment once for everything appended since
    /// the last flush (group commit).
    pub fn flush(&mut self) -> Result<(), ArchiveError> {
        let mut st = self.take_state()?;
        let result = self.flush_state(&mut st);
        self.restore(st, result)
    }

    /// For a timer: the same as [`flush`](Archive::flush), so that an idle
    /// archive still seals its last records within the checkpoint interval.
    pub fn tick(&mut self) -> Result<(), ArchiveError> {
        self.flush()
    }

    fn flush_state(&mut self, st: &mut State) -> Result<(), ArchiveError> {
        let now = self.clock.now_unix_nano();
        let due = now.saturating_sub(st.last_seal_time) >= nanos(self.config.checkpoint_interval);
        if st.since_seal > 0 && due {
            self.seal(st, SealKind::Checkpoint, now)?;
        }
        sync(st)
    }

    /// Seals what is unsealed with a checkpoint and syncs. Dropping the
    /// archive does the same, logging instead of returning an error.
    pub fn close(mut self) -> Result<(), ArchiveError> {
        self.finish()
    }

    /// How much of the active segment has been dropped from the page cache.
    #[cfg(test)]
    pub(crate) fn dropped_bytes(&self) -> Option<u64> {
        self.state.as_ref().map(|st| st.dropped)
    }

    /// A crash, for tests: the state is dropped without a seal and its
    /// buffer is lost, as when the process dies.
    #[cfg(test)]
    pub(crate) fn crash(mut self) {
        self.finished = true;
        if let Some(st) = self.state.take() {
            st.discard();
        }
    }

    /// What a failed write leaves, for tests: the state dropped, its
    /// buffer lost; the next call reopens from disk.
    #[cfg(test)]
    pub(crate) fn fail(&mut self) {
        if let Some(st) = self.state.take() {
            st.discard();
        }
    }

    fn finish(&mut self) -> Result<(), ArchiveError> {
        self.finished = true;
        let Some(mut st) = self.state.take() else {
            return Ok(());
        };
        let now = self.clock.now_unix_nano();
        let result = if st.since_seal > 0 {
            self.seal(&mut st, SealKind::Checkpoint, now)
        } else {
            Ok(())
        }
        .and_then(|()| sync(&mut st));
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                st.discard();
                Err(e)
            }
        }
    }

    fn take_state(&mut self) -> Result<State, ArchiveError> {
        if let Some(st) = self.state.take() {
            return Ok(st);
        }
        tracing::warn!(dir = %self.dir.display(), "reopening the archive after an error");
        self.load()
    }

    fn restore<T>(
        &mut self,
        st: State,
        result: Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        match result {
            Ok(v) => {
                self.state = Some(st);
                Ok(v)
            }
            Err(e) => {
                tracing::error!(error = %e, "archive write failed; it reopens from disk on the next call");
                st.discard();
                Err(e)
            }
        }
    }

    /// Signs and writes a seal.
    fn seal(&mut self, st: &mut State, kind: SealKind, now: u64) -> Result<(), ArchiveError> {
        let fields = SealFields {
            kind,
            segment: st.index,
            seq: st.seq + 1,
            prev: st.head,
            time_unix_nano: now,
            pruned_through: st.pruned_through,
        };
        let sig = self.key.sign(&seal_message(&fields));
        let seal = Seal {
            kind,
            version: FORMAT_VERSION,
            segment: st.index,
            time_unix_nano: now,
            pruned_through: st.pruned_through,
            key: self.public_key.clone(),
            sig: hex::encode(sig.to_bytes()),
        };
        let body =
            serde_json::to_vec(&seal).map_err(|e| ArchiveError::InvalidRecord(e.to_string()))?;
        put(st, &mut self.line, EntryKind::Seal, &body).map_err(io_at(&st.path))?;
        st.since_seal = 0;
        st.last_seal_time = now;
        Ok(())
    }

    /// Closes the active segment and starts the next, then applies retention.
    fn rotate(&mut self, st: &mut State, now: u64) -> Result<(), ArchiveError> {
        self.seal(st, SealKind::Close, now)?;
        sync(st)?;
        let mut closed = std::mem::take(&mut st.closed);
        closed.push(Closed {
            path: st.path.clone(),
            first_seq: Some(st.first_seq),
            closed_at: Some(now),
        });
        let next = self.start_segment(
            st.index + 1,
            st.seq,
            st.head,
            st.pruned_through,
            closed,
            now,
        )?;
        let old = std::mem::replace(st, next);
        drop(old);
        self.prune(st, now)
    }

    /// Creates segment `index` with its open seal, synced.
    fn start_segment(
        &mut self,
        index: u64,
        seq: u64,
        head: Hash,
        pruned_through: u64,
        closed: Vec<Closed>,
        now: u64,
    ) -> Result<State, ArchiveError> {
        let path = self.dir.join(segment_name(index));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let mut st = State {
            file: BufWriter::with_capacity(256 * 1024, file),
            index,
            path,
            bytes: 0,
            created: now,
            first_seq: seq + 1,
            seq,
            head,
            pruned_through,
            since_seal: 0,
            last_seal_time: now,
            closed,
            unsynced: false,
            dropped: 0,
        };
        self.seal(&mut st, SealKind::Open, now)?;
        sync(&mut st)?;
        sync_dir(&self.dir).map_err(io_at(&self.dir))?;
        Ok(st)
    }

    /// Deletes closed segments older than the retention age, after a
    /// synced checkpoint that records how far the archive is pruned.
    fn prune(&mut self, st: &mut State, now: u64) -> Result<(), ArchiveError> {
        let Some(retention) = self.config.retention else {
            return Ok(());
        };
        let cutoff = now.saturating_sub(nanos(retention));
        let expired = st
            .closed
            .iter()
            .take_while(|c| c.closed_at.is_some_and(|t| t <= cutoff))
            .count();
        if expired == 0 {
            return Ok(());
        }
        let next_first = match st.closed.get(expired) {
            Some(c) => c.first_seq,
            None => Some(st.first_seq),
        };
        let Some(next_first) = next_first else {
            return Ok(());
        };
        st.pruned_through = st.pruned_through.max(next_first.saturating_sub(1));
        self.seal(st, SealKind::Checkpoint, now)?;
        sync(st)?;
        for c in st.closed.drain(..expired) {
            fs::remove_file(&c.path).map_err(io_at(&c.path))?;
            tracing::info!(segment = %c.path.display(), "retention deleted an archive segment");
        }
        sync_dir(&self.dir).map_err(io_at(&self.dir))
    }
}

fn sync(st: &mut State) -> Result<(), ArchiveError> {
    if st.unsynced {
        st.file.flush().map_err(io_at(&st.path))?;
        st.file.get_ref().sync_data().map_err(io_at(&st.path))?;
        st.unsynced = false;
        drop_behind(st);
    }
    Ok(())
}

/// Segments are write-once and nothing on the hot path reads them back, so
/// once a range is on disk its pages are dropped from the page cache
/// (`POSIX_FADV_DONTNEED`), whole pages only: the next append never has to
/// read a partial page back. New appends then reuse freed pages instead of
/// growing the cache with data no one reads (cache that counts toward a
/// container's memory limit; on a VM, each fresh page is a host fault: the
/// kernel's copy into new pages was a quarter of cairn-full's core).
/// Advisory: a failure only leaves the pages cached. Linux only (the advice
/// does not exist on macOS; elsewhere the pages stay cached).
#[cfg(target_os = "linux")]
fn drop_behind(st: &mut State) {
    use std::num::NonZeroU64;
    const PAGE: u64 = 4096;
    let through = st.bytes / PAGE * PAGE;
    let Some(len) = NonZeroU64::new(through.saturating_sub(st.dropped)) else {
        return;
    };
    let advice = rustix::fs::Advice::DontNeed;
    if rustix::fs::fadvise(st.file.get_ref(), st.dropped, Some(len), advice).is_ok() {
        st.dropped = through;
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_behind(_: &mut State) {}

impl Drop for Archive {
    fn drop(&mut self) {
        if !self.finished
            && let Err(e) = self.finish()
        {
            tracing::error!(error = %e, "closing the archive failed");
        }
    }
}
