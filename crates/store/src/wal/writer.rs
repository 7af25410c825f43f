//! [`Wal`]: the one writer. Appends buffer frames in memory; a commit writes
//! them, syncs once, and only then publishes the new head to readers, so
//! nothing a reader sees can be lost to a crash (with `Durability::Fsync`)
//! and nothing uncommitted ever reaches the disk.

use std::{
    any::Any,
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use super::{
    Durability, Lsn, WalConfig, WalError, cursor,
    frame::{FRAME_HEADER, MAX_PAYLOAD, encode_frame, segment_name},
    fs::{Filesystem, RealFs, WriteFile},
    io_at,
    reader::Reader,
    recover::{QUARANTINE, recover},
    shared::{Consumer, Counters, Shared, State, WalStats, WalStatsHandle, bump},
};

/// The lock file inside the WAL directory: one writer at a time.
const LOCK_FILE: &str = "wal.lock";

/// The write-ahead log's writer. See the [module docs](super).
pub struct Wal {
    shared: Arc<Shared>,
    config: WalConfig,
    /// The segment being written, its base and its committed length.
    active: Box<dyn WriteFile>,
    active_base: u64,
    active_len: u64,
    /// Frames appended since the last commit.
    buf: Vec<u8>,
    /// `(offset in buf, base)`: a new segment starts at that frame.
    cuts: Vec<(usize, u64)>,
    pending_frames: u64,
    /// The log position after the last appended frame.
    tail: u64,
    /// Bytes in segment files (committed).
    used: u64,
    poisoned: bool,
    _lock: Box<dyn Any + Send>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.shared.dir)
            .field("config", &self.config)
            .field("active_base", &self.active_base)
            .field("tail", &self.tail)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens (creating or recovering) the log in `dir` on the real disk.
    pub fn open(dir: impl AsRef<Path>, config: WalConfig) -> Result<Wal, WalError> {
        Wal::open_with(dir, config, Arc::new(RealFs))
    }

    /// Opens (creating or recovering) the log in `dir` on `fs`: checks every
    /// frame, quarantines damage, loads the consumers' cursors.
    pub fn open_with(
        dir: impl AsRef<Path>,
        config: WalConfig,
        fs: Arc<dyn Filesystem>,
    ) -> Result<Wal, WalError> {
        if config.segment_bytes <= FRAME_HEADER as u64 {
            return Err(WalError::Config("segment_bytes must be more than 8"));
        }
        if config.budget_bytes < config.segment_bytes {
            return Err(WalError::Config(
                "budget_bytes must be at least segment_bytes",
            ));
        }
        let dir = dir.as_ref().to_path_buf();
        for d in [dir.clone(), dir.join(cursor::DIR), dir.join(QUARANTINE)] {
            fs.create_dir_all(&d).map_err(io_at(&d))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = fs
            .try_lock(&lock_path)
            .map_err(io_at(&lock_path))?
            .ok_or_else(|| WalError::Locked(dir.clone()))?;

        let counters = Counters::default();
        let mut state = State::default();
        for c in cursor::load_all(&*fs, &dir)? {
            if c.damaged {
                bump(&counters.damaged_cursors, 1);
            }
            let consumer = Consumer {
                acked: c.acked,
                reader: false,
            };
            state.consumers.insert(c.name, consumer);
        }
        let min_acked = state.consumers.values().map(|c| c.acked).min();
        let max_acked = state.consumers.values().map(|c| c.acked).max();
        let rec = recover(
            &*fs,
            &dir,
            min_acked,
            max_acked.unwrap_or_default(),
            &counters,
        )?;
        // Everything before `next` is settled: recovered frames, cut
        // garbage, positions consumers already acked.
        state.head = Lsn(rec.next);
        state.segments = rec.segments;

        let last = state.segments.last_key_value().map(|(&b, &l)| (b, l));
        let (active, active_base, active_len) = match last {
            Some((base, len)) if base + len == rec.next => {
                let path = dir.join(segment_name(base));
                let mut f = fs.open_append(&path).map_err(io_at(&path))?;
                // Frames that reached the disk but whose commit never
                // returned are whole and now visible: make them durable
                // before anyone reads them.
                f.sync_data().map_err(io_at(&path))?;
                (f, base, len)
            }
            _ => {
                let f = create_segment(&*fs, &dir, rec.next)?;
                state.segments.insert(rec.next, 0);
                (f, rec.next, 0)
            }
        };
        let used = state.segments.values().sum();
        counters.bytes_used.store(used, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            fs,
            dir,
            budget: config.budget_bytes,
            state: Mutex::new(state),
            moved: Condvar::new(),
            counters,
            acked_changed: AtomicBool::new(false),
        });
        let mut wal = Wal {
            shared,
            config,
            active,
            active_base,
            active_len,
            buf: Vec::new(),
            cuts: Vec::new(),
            pending_frames: 0,
            tail: rec.next,
            used,
            poisoned: false,
            _lock: lock,
        };
        wal.reclaim()?;
        Ok(wal)
    }

    /// The largest payload `append` takes.
    pub fn max_payload(&self) -> u64 {
        MAX_PAYLOAD.min(self.config.budget_bytes - FRAME_HEADER as u64)
    }

    /// Buffers one frame for the next [`commit`](Wal::commit) and returns its
    /// LSN. Nothing reaches the disk or a reader before the commit.
    ///
    /// [`WalError::Full`] when the frame would take the log past its budget
    /// even after deleting every segment all consumers are past.
    pub fn append(&mut self, payload: &[u8]) -> Result<Lsn, WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned);
        }
        if payload.len() as u64 > self.max_payload() {
            return Err(WalError::TooLarge {
                len: payload.len(),
                max: self.max_payload(),
            });
        }
        let size = (FRAME_HEADER + payload.len()) as u64;
        if self.in_use() + size > self.config.budget_bytes {
            self.reclaim()?;
            if self.in_use() + size > self.config.budget_bytes {
                bump(&self.shared.counters.full_rejections, 1);
                return Err(WalError::Full {
                    used: self.in_use(),
                    budget: self.config.budget_bytes,
                });
            }
        }
        let filled = match self.cuts.last() {
            Some(&(at, _)) => (self.buf.len() - at) as u64,
            None => self.active_len + self.buf.len() as u64,
        };
        if filled > 0 && filled + size > self.config.segment_bytes {
            self.cuts.push((self.buf.len(), self.tail));
        }
        encode_frame(payload, &mut self.buf);
        self.tail += size;
        self.pending_frames += 1;
        bump(&self.shared.counters.frames_appended, 1);
        self.publish_used();
        Ok(Lsn(self.tail))
    }

    /// Writes every frame appended since the last commit, syncs once
    /// (`Durability::Fsync`), and makes them visible to readers. Returns the
    /// new head: the LSN of the last committed frame. Answer a request only
    /// after the commit covering its frames returned `Ok`.
    ///
    /// After an error the writer is poisoned (see [`WalError::Poisoned`]):
    /// the frames of the failed commit may or may not be in the log after
    /// reopening, whole if they are.
    pub fn commit(&mut self) -> Result<Lsn, WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned);
        }
        if !self.buf.is_empty()
            && let Err(e) = self.write_pending()
        {
            self.poisoned = true;
            return Err(e);
        }
        if self.shared.acked_changed.swap(false, Ordering::Relaxed)
            && let Err(e) = self.reclaim()
        {
            // The frames are committed; freeing disk is retried later.
            tracing::warn!(error = %e, "WAL: deleting consumed segments failed");
            self.shared.acked_changed.store(true, Ordering::Relaxed);
        }
        Ok(Lsn(self.tail))
    }

    fn write_pending(&mut self) -> Result<(), WalError> {
        let fs = &*self.shared.fs;
        let dir = &self.shared.dir;
        let fsync = self.config.durability == Durability::Fsync;
        let mut finished = Vec::new();
        let mut start = 0;
        for &(at, base) in &self.cuts {
            let path = dir.join(segment_name(self.active_base));
            self.active
                .write_all(&self.buf[start..at])
                .map_err(io_at(&path))?;
            self.active_len += (at - start) as u64;
            if fsync {
                self.active.sync_data().map_err(io_at(&path))?;
                bump(&self.shared.counters.syncs, 1);
            }
            finished.push((self.active_base, self.active_len));
            self.active = create_segment(fs, dir, base)?;
            self.active_base = base;
            self.active_len = 0;
            start = at;
        }
        let path = dir.join(segment_name(self.active_base));
        self.active
            .write_all(&self.buf[start..])
            .map_err(io_at(&path))?;
        self.active_len += (self.buf.len() - start) as u64;
        if fsync {
            self.active.sync_data().map_err(io_at(&path))?;
            bump(&self.shared.counters.syncs, 1);
        }
        finished.push((self.active_base, self.active_len));

        let rotated = !self.cuts.is_empty();
        let c = &self.shared.counters;
        bump(&c.frames_committed, self.pending_frames);
        bump(&c.bytes_committed, self.buf.len() as u64);
        bump(&c.commits, 1);
        self.used += self.buf.len() as u64;
        self.buf.clear();
        self.cuts.clear();
        self.pending_frames = 0;
        {
            let mut state = self.shared.lock();
            state.segments.extend(finished);
            state.head = Lsn(self.tail);
        }
        self.shared.moved.notify_all();
        self.publish_used();
        if rotated {
            self.shared.acked_changed.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Deletes every segment all consumers are past (starting a new segment
    /// first if they are past the whole one being written). Runs on its own
    /// when appending would pass the budget, after commits that started a
    /// segment or followed an ack; call it on a timer to free disk sooner.
    /// With no consumer registered, nothing is deleted.
    pub fn reclaim(&mut self) -> Result<(), WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned);
        }
        let fs = &*self.shared.fs;
        let dir = self.shared.dir.clone();
        let (min, head) = {
            let state = self.shared.lock();
            match state.consumers.values().map(|c| c.acked).min() {
                Some(min) => (min.0, state.head.0),
                None => return Ok(()),
            }
        };
        if min >= head && self.active_len > 0 && self.cuts.is_empty() {
            // Everything written so far is done: move on to a new segment so
            // the current one can go. Buffered frames start at the head.
            let f = create_segment(fs, &dir, head)?;
            self.active = f;
            self.active_base = head;
            self.active_len = 0;
            self.shared.lock().segments.insert(head, 0);
        }
        let doomed: Vec<(u64, u64)> = {
            let state = self.shared.lock();
            let bases: Vec<(u64, u64)> = state.segments.iter().map(|(&b, &l)| (b, l)).collect();
            bases
                .windows(2)
                .take_while(|w| w[1].0 <= min)
                .map(|w| w[0])
                .collect()
        };
        if doomed.is_empty() {
            return Ok(());
        }
        let mut removed = Vec::new();
        let mut result = Ok(());
        for &(base, len) in &doomed {
            let path = dir.join(segment_name(base));
            if let Err(e) = fs.remove(&path) {
                result = Err(io_at(&path)(e));
                break;
            }
            removed.push((base, len));
        }
        if !removed.is_empty() {
            let mut state = self.shared.lock();
            for (base, len) in &removed {
                state.segments.remove(base);
                self.used -= len;
            }
            drop(state);
            bump(&self.shared.counters.segments_deleted, removed.len() as u64);
            self.publish_used();
            if result.is_ok() {
                result = fs.sync_dir(&dir).map_err(io_at(&dir));
            }
        }
        result
    }

    /// Registers a consumer and returns its reader. A new consumer starts at
    /// the committed head (it gets every frame committed from now on); a
    /// known one resumes after its cursor.
    pub fn register(&mut self, name: &str) -> Result<Reader, WalError> {
        cursor::check_name(name)?;
        let (acked, known) = {
            let mut state = self.shared.lock();
            let head = state.head;
            match state.consumers.get_mut(name) {
                Some(c) if c.reader => return Err(WalError::ConsumerBusy(name.to_owned())),
                Some(c) => {
                    c.reader = true;
                    (c.acked, true)
                }
                None => (head, false),
            }
        };
        if !known {
            cursor::store(&*self.shared.fs, &self.shared.dir, name, acked)?;
            self.shared.lock().consumers.insert(
                name.to_owned(),
                Consumer {
                    acked,
                    reader: true,
                },
            );
        }
        Ok(Reader::new(self.shared.clone(), name.to_owned(), acked))
    }

    /// Forgets a consumer (it left the config): its cursor is removed and it
    /// no longer holds segments. Refused while its reader lives.
    pub fn unregister(&mut self, name: &str) -> Result<(), WalError> {
        match self.shared.lock().consumers.get(name) {
            None => return Err(WalError::UnknownConsumer(name.to_owned())),
            Some(c) if c.reader => return Err(WalError::ConsumerBusy(name.to_owned())),
            Some(_) => {}
        }
        cursor::remove(&*self.shared.fs, &self.shared.dir, name)?;
        self.shared.lock().consumers.remove(name);
        self.shared.acked_changed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The registered consumers' names (loaded from their cursors at open),
    /// so the caller can unregister those no longer configured.
    pub fn consumers(&self) -> Vec<String> {
        self.shared.lock().consumers.keys().cloned().collect()
    }

    /// Bytes in use (segments plus frames buffered for the next commit)
    /// and the budget.
    pub fn fill(&self) -> (u64, u64) {
        (self.in_use(), self.config.budget_bytes)
    }

    /// The lowest acked position of the consumers other than `name` (`None`
    /// when there is none).
    pub fn min_acked_except(&self, name: &str) -> Option<Lsn> {
        let state = self.shared.lock();
        state
            .consumers
            .iter()
            .filter(|(n, _)| n.as_str() != name)
            .map(|(_, c)| c.acked)
            .min()
    }

    /// The LSN of the last committed frame.
    pub fn head(&self) -> Lsn {
        self.shared.lock().head
    }

    /// The log's directory.
    pub fn dir(&self) -> &PathBuf {
        &self.shared.dir
    }

    /// Counters and positions now.
    pub fn stats(&self) -> WalStats {
        self.stats_handle().snapshot()
    }

    /// A handle that reads the stats from any thread.
    pub fn stats_handle(&self) -> WalStatsHandle {
        WalStatsHandle(self.shared.clone())
    }

    fn in_use(&self) -> u64 {
        self.used + self.buf.len() as u64
    }

    fn publish_used(&self) {
        let used = self.in_use();
        self.shared
            .counters
            .bytes_used
            .store(used, Ordering::Relaxed);
    }
}

impl Drop for Wal {
    /// Frames not committed are dropped (they were never acknowledged);
    /// readers are told no more will come.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.moved.notify_all();
    }
}

/// Creates an empty segment at `base` and makes its name durable.
fn create_segment(
    fs: &dyn Filesystem,
    dir: &Path,
    base: u64,
) -> Result<Box<dyn WriteFile>, WalError> {
    let path = dir.join(segment_name(base));
    let f = fs.create(&path).map_err(io_at(&path))?;
    fs.sync_dir(dir).map_err(io_at(dir))?;
    Ok(f)
}
