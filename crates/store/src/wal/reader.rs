//! [`Reader`]: one consumer's view of the log, for its own thread.
//!
//! A reader opens segment files itself and reads only up to the committed
//! head it learns from the writer, so it never sees a frame whose commit
//! has not returned. Its read position runs ahead of its acked position:
//! `read` hands out frames, `ack` says (durably) that everything before a
//! position is done. After a restart a consumer resumes at its ack, so
//! frames read but not acked come again (at-least-once).

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use super::{
    Lsn, WalError, cursor,
    frame::{FrameReader, Next, segment_name},
    fs::ReadFile,
    io_at,
    shared::{Shared, bump},
};

/// The segment a reader has open.
struct Open {
    base: u64,
    file: Box<dyn ReadFile>,
    frames: FrameReader,
}

/// One consumer's cursor over the log. `Send`: move it to the consumer's
/// thread; it reads concurrently with the writer. Dropping it frees the
/// consumer for a later [`Wal::register`](super::Wal::register).
pub struct Reader {
    shared: Arc<Shared>,
    name: String,
    /// The next position to read.
    pos: u64,
    acked: Lsn,
    open: Option<Open>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("name", &self.name)
            .field("pos", &self.pos)
            .field("acked", &self.acked)
            .finish_non_exhaustive()
    }
}

impl Reader {
    pub(crate) fn new(shared: Arc<Shared>, name: String, acked: Lsn) -> Reader {
        Reader {
            shared,
            name,
            pos: acked.0,
            acked,
            open: None,
        }
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything before this position is done (durably).
    pub fn acked(&self) -> Lsn {
        self.acked
    }

    /// The next position `read` starts from.
    pub fn position(&self) -> Lsn {
        Lsn(self.pos)
    }

    /// The committed head now: the position just past the last committed
    /// frame (or past bytes cut at recovery, which hold nothing).
    pub fn head(&self) -> Lsn {
        self.shared.lock().head
    }

    /// Whether the writer is gone (dropped): once the reader has read to the
    /// head after this turned true, nothing more will come.
    pub fn writer_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Goes back to the acked position: frames read since come again.
    pub fn rewind(&mut self) {
        self.pos = self.acked.0;
        self.open = None;
    }

    /// Committed frames from the read position on, oldest first, as
    /// `(lsn, payload)`: at most `max_frames`, and stopping once `max_bytes`
    /// of payload are reached (at least one frame if any is there). Empty
    /// when the reader is at the head.
    ///
    /// A frame damaged after open (its checksum fails now) is skipped with
    /// the rest of its segment, logged and counted (`read_skips`): framing
    /// past it cannot be trusted.
    pub fn read(
        &mut self,
        max_frames: usize,
        max_bytes: usize,
    ) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < max_frames && (out.is_empty() || bytes < max_bytes) {
            // Where the read position is, under the lock; I/O outside it.
            let (base, limit, next_base) = {
                let state = self.shared.lock();
                if self.pos >= state.head.0 {
                    break;
                }
                let Some((&base, &len)) = state.segments.range(..=self.pos).next_back() else {
                    // Before the oldest segment kept: go to it.
                    match state.segments.keys().next() {
                        Some(&first) if first > self.pos => {
                            self.pos = first;
                            continue;
                        }
                        _ => break,
                    }
                };
                let next_base = state.segments.range(base + 1..).next().map(|(&b, _)| b);
                let limit = (base + len).min(next_base.unwrap_or(u64::MAX));
                (base, limit, next_base)
            };
            if self.pos >= limit {
                // Past this segment's frames (a gap left by quarantine).
                match next_base {
                    Some(next) => {
                        self.pos = next;
                        continue;
                    }
                    None => break,
                }
            }
            let offset = self.pos - base;
            if !matches!(&self.open, Some(o) if o.base == base && o.frames.pos() == offset) {
                let path = self.shared.dir.join(segment_name(base));
                let file = self.shared.fs.open_read(&path).map_err(io_at(&path))?;
                self.open = Some(Open {
                    base,
                    file,
                    frames: FrameReader::at(offset),
                });
            }
            let Some(open) = self.open.as_mut() else {
                break;
            };
            let path = || self.shared.dir.join(segment_name(base));
            while out.len() < max_frames && (out.is_empty() || bytes < max_bytes) {
                match open
                    .frames
                    .next(&*open.file, limit - base)
                    .map_err(|e| io_at(&path())(e))?
                {
                    Next::Frame { end, payload } => {
                        bytes += payload.len();
                        out.push((Lsn(base + end), payload.to_vec()));
                        self.pos = base + end;
                    }
                    Next::End => break,
                    Next::Incomplete | Next::Corrupt => {
                        bump(&self.shared.counters.read_skips, 1);
                        tracing::warn!(
                            consumer = %self.name,
                            segment = %path().display(),
                            offset = open.frames.pos(),
                            "WAL: damaged committed frame; skipping the rest of its segment"
                        );
                        self.pos = limit;
                        self.open = None;
                        break;
                    }
                }
            }
        }
        if out.is_empty() {
            // At the head: let go of the segment, so one that is deleted
            // while this consumer idles does not keep its disk space.
            self.open = None;
        }
        Ok(out)
    }

    /// Waits up to `timeout` for a committed frame past the read position.
    /// True if there is one; false on timeout or once the writer is gone
    /// and nothing is left.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.head.0 > self.pos {
                return true;
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                return false;
            }
            state = match self.shared.moved.wait_timeout(state, deadline - now) {
                Ok((s, _)) => s,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Durably records that everything before `lsn` (a frame's LSN from
    /// `read`) is done. The cursor file is synced before this returns;
    /// segments all consumers are past are deleted by the writer on its next
    /// commit. Acks at or before the current one are ignored.
    pub fn ack(&mut self, lsn: Lsn) -> Result<(), WalError> {
        if lsn <= self.acked {
            return Ok(());
        }
        let head = self.shared.lock().head;
        if lsn > head {
            return Err(WalError::AckBeyondHead { lsn, head });
        }
        cursor::store(&*self.shared.fs, &self.shared.dir, &self.name, lsn)?;
        if let Some(c) = self.shared.lock().consumers.get_mut(&self.name) {
            c.acked = lsn;
        }
        self.acked = lsn;
        if self.pos < lsn.0 {
            self.pos = lsn.0;
            self.open = None;
        }
        self.shared.acked_changed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(c) = self.shared.lock().consumers.get_mut(&self.name) {
            c.reader = false;
        }
    }
}
