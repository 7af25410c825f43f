//! What the writer and the readers share: the committed head, the segment
//! list, the consumers' acked positions, and the counters.
//!
//! The writer is the only one that changes the head and the segment list;
//! readers change only their own consumer's acked position (after its cursor
//! file is synced). One mutex guards all of it, held for bookkeeping only,
//! never across I/O; a condvar wakes readers when the head moves.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use super::{Lsn, fs::Filesystem};

/// A registered consumer.
#[derive(Debug)]
pub(crate) struct Consumer {
    /// Everything before this position is done (and its cursor is synced).
    pub(crate) acked: Lsn,
    /// A live [`Reader`](super::Reader) holds this consumer.
    pub(crate) reader: bool,
}

/// The bookkeeping under the mutex.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The end of the last committed frame.
    pub(crate) head: Lsn,
    /// Segment base -> committed bytes in it, in log order; the last is the
    /// one being written.
    pub(crate) segments: BTreeMap<u64, u64>,
    pub(crate) consumers: BTreeMap<String, Consumer>,
    /// The writer is gone: no more frames will come.
    pub(crate) closed: bool,
}

/// Plain counters, bumped without the lock.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_used: AtomicU64,
    pub(crate) frames_appended: AtomicU64,
    pub(crate) frames_committed: AtomicU64,
    pub(crate) bytes_committed: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) full_rejections: AtomicU64,
    pub(crate) segments_deleted: AtomicU64,
    pub(crate) torn_tails: AtomicU64,
    pub(crate) corrupt_frames: AtomicU64,
    pub(crate) quarantined_bytes: AtomicU64,
    pub(crate) damaged_cursors: AtomicU64,
    pub(crate) read_skips: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The writer's and readers' common part.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) fs: Arc<dyn Filesystem>,
    pub(crate) dir: PathBuf,
    pub(crate) budget: u64,
    pub(crate) state: Mutex<State>,
    pub(crate) moved: Condvar,
    pub(crate) counters: Counters,
    /// A consumer acked since the writer last looked for segments to delete.
    pub(crate) acked_changed: AtomicBool,
}

impl Shared {
    /// The bookkeeping; a panic elsewhere while holding it leaves plain data
    /// behind, so a poisoned lock is used as is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One consumer's position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerStats {
    /// The consumer's name.
    pub name: String,
    /// Everything before this position is done.
    pub acked: Lsn,
    /// Committed bytes not yet acked (head minus acked; includes frame
    /// headers and any quarantined gap).
    pub lag_bytes: u64,
}

/// A snapshot of the log's counters and positions, for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalStats {
    /// The end of the last committed frame.
    pub head: Lsn,
    /// Bytes in segments plus frames buffered for the next commit.
    pub bytes_used: u64,
    /// The configured budget.
    pub budget_bytes: u64,
    /// Segment files kept.
    pub segments: u64,
    /// Frames accepted by `append`.
    pub frames_appended: u64,
    /// Frames made visible by `commit`.
    pub frames_committed: u64,
    /// Bytes (frames with headers) made visible by `commit`.
    pub bytes_committed: u64,
    /// Commits that wrote something.
    pub commits: u64,
    /// `fdatasync` calls on segments.
    pub syncs: u64,
    /// Appends refused with `Full`.
    pub full_rejections: u64,
    /// Segments deleted because every consumer was past them.
    pub segments_deleted: u64,
    /// Torn tails cut at open (a frame cut short at the end of a segment).
    pub torn_tails: u64,
    /// Frames that failed their checksum at open (the rest of their segment
    /// went to quarantine with them).
    pub corrupt_frames: u64,
    /// Bytes moved to `quarantine/`.
    pub quarantined_bytes: u64,
    /// Cursor files that failed their checksum at open.
    pub damaged_cursors: u64,
    /// Damaged committed frames readers met after open (skipped to the next
    /// segment).
    pub read_skips: u64,
    /// Every registered consumer, by name.
    pub consumers: Vec<ConsumerStats>,
}

impl WalStats {
    /// Damaged frames quarantined at open: torn tails plus corrupt frames.
    pub fn quarantined_frames(&self) -> u64 {
        self.torn_tails + self.corrupt_frames
    }
}

/// A cheap, cloneable handle that reads [`WalStats`] from any thread.
#[derive(Clone, Debug)]
pub struct WalStatsHandle(pub(crate) Arc<Shared>);

impl WalStatsHandle {
    /// The counters and positions now.
    pub fn snapshot(&self) -> WalStats {
        let shared = &self.0;
        let c = &shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let state = shared.lock();
        WalStats {
            head: state.head,
            bytes_used: get(&c.bytes_used),
            budget_bytes: shared.budget,
            segments: state.segments.len() as u64,
            frames_appended: get(&c.frames_appended),
            frames_committed: get(&c.frames_committed),
            bytes_committed: get(&c.bytes_committed),
            commits: get(&c.commits),
            syncs: get(&c.syncs),
            full_rejections: get(&c.full_rejections),
            segments_deleted: get(&c.segments_deleted),
            torn_tails: get(&c.torn_tails),
            corrupt_frames: get(&c.corrupt_frames),
            quarantined_bytes: get(&c.quarantined_bytes),
            damaged_cursors: get(&c.damaged_cursors),
            read_skips: get(&c.read_skips),
            consumers: state
                .consumers
                .iter()
                .map(|(name, c)| ConsumerStats {
                    name: name.clone(),
                    acked: c.acked,
                    lag_bytes: state.head.0.saturating_sub(c.acked.0),
                })
                .collect(),
        }
    }
}
