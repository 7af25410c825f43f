//! The loop every WAL consumer runs on its own thread: read committed
//! frames from its cursor, decode each into an [`Entry`], hand it to the
//! [`Consumer`], and durably acknowledge what the consumer reports finished
//! (at most every [`ACK_EVERY`], and whenever it catches up), so the log can
//! delete segments every consumer is past.
//!
//! A frame that does not decode (written by a different format version, or
//! damaged in a way its checksum missed) is logged, counted, and handed on
//! as `None` so the consumer moves past it: one bad frame never stalls a
//! sink. The loop ends when the writer is gone and the reader has read to
//! the head, or when the consumer asks to stop (a drain deadline).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use cairn_pipeline::output::Output as _;

use super::{
    entry::{self, Entry},
    recent::Recent,
};
use crate::{
    archive::ArchiveOutput,
    wal::{Lsn, Reader},
};

/// Acks are written (and synced) at most this often while busy.
pub const ACK_EVERY: Duration = Duration::from_millis(100);
const MAX_FRAMES: usize = 256;
const MAX_BYTES: usize = 8 << 20;
const IDLE_WAIT: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

static UNDECODABLE: AtomicU64 = AtomicU64::new(0);

/// Frames no consumer could decode since start (all consumers together).
pub fn undecodable_frames() -> u64 {
    UNDECODABLE.load(Ordering::Relaxed)
}

/// Counts a frame that could not be decoded (also by the stages' replay).
pub(super) fn count_undecodable() {
    UNDECODABLE.fetch_add(1, Ordering::Relaxed);
}

/// Why a consumer could not take an entry.
#[derive(Debug)]
pub enum ConsumeError {
    /// A transient failure (disk): the loop rewinds to the last ack and
    /// tries again after a pause, so entries may come twice.
    Retry(std::io::Error),
    /// The consumer is gone for good (its sink stopped): the loop ends.
    Gone,
}

/// One reader of the log.
pub trait Consumer: Send {
    /// Takes the entry at `lsn`, in log order; `None` for a frame that could
    /// not be decoded (nothing to do but move past it).
    fn take(&mut self, lsn: Lsn, entry: Option<Entry>) -> Result<(), ConsumeError>;
    /// Makes what was taken safe where the consumer can, and says how far
    /// it is finished: every frame up to and including the returned LSN.
    fn finished(&mut self) -> std::io::Result<Option<Lsn>>;
    /// Whether to stop reading now (a shutdown deadline passed).
    fn should_stop(&self) -> bool {
        false
    }
    /// No more entries will come: finish what was taken (blocking) and say
    /// how far that got.
    fn close(&mut self) -> Option<Lsn>;
}

fn pause(failures: &mut u32) {
    *failures = failures.saturating_add(1);
    let ms = 50u64.saturating_mul(1 << (*failures).min(7));
    std::thread::sleep(Duration::from_millis(ms).min(MAX_BACKOFF));
}

fn ack(reader: &mut Reader, at: Option<Lsn>) {
    if let Some(lsn) = at
        && let Err(e) = reader.ack(lsn)
    {
        tracing::warn!(consumer = %reader.name(), error = %e, "WAL: storing a consumer's position failed; it is retried");
    }
}

/// Runs `consumer` over `reader` until the writer is gone and everything
/// committed was taken, or the consumer asks to stop; then closes it and
/// acknowledges how far it got.
pub fn consume(mut reader: Reader, recent: &Recent, consumer: &mut dyn Consumer) {
    let mut last_ack = Instant::now();
    let mut failures = 0u32;
    let mut last_taken: Option<Lsn> = None;
    'read: loop {
        if consumer.should_stop() {
            break;
        }
        // Looked at before reading: if the writer was already gone, an
        // empty read means everything it committed has been taken.
        let writer_gone = reader.writer_closed();
        // Every frame before this head is returned by the read below, so
        // after an empty read a consumer that finished all it was handed is
        // done with everything before it, bytes cut at recovery included
        // (they hold no frame, and would otherwise count as lag forever).
        let head = reader.head();
        let frames = match reader.read(MAX_FRAMES, MAX_BYTES) {
            Ok(frames) => frames,
            Err(e) => {
                tracing::error!(consumer = %reader.name(), error = %e, "WAL: reading failed; retrying");
                reader.rewind();
                pause(&mut failures);
                continue;
            }
        };
        let idle = frames.is_empty();
        for (lsn, payload) in frames {
            let entry = match recent.get(lsn).map_or_else(|| entry::decode(&payload), Ok) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    count_undecodable();
                    tracing::error!(consumer = %reader.name(), %lsn, error = %e, "WAL: a frame does not decode; skipped");
                    None
                }
            };
            match consumer.take(lsn, entry) {
                Ok(()) => {
                    failures = 0;
                    last_taken = Some(lsn);
                }
                Err(ConsumeError::Gone) => break 'read,
                Err(ConsumeError::Retry(e)) => {
                    tracing::error!(consumer = %reader.name(), error = %e, "WAL consumer failed; retrying from its last position");
                    reader.rewind();
                    pause(&mut failures);
                    continue 'read;
                }
            }
        }
        if idle || last_ack.elapsed() >= ACK_EVERY {
            match consumer.finished() {
                Ok(at) => {
                    let all_done = match (at, last_taken) {
                        (_, None) => true,
                        (Some(at), Some(taken)) => at >= taken,
                        (None, Some(_)) => false,
                    };
                    let at = if idle && all_done { Some(head) } else { at };
                    ack(&mut reader, at);
                }
                Err(e) => {
                    tracing::error!(consumer = %reader.name(), error = %e, "WAL consumer could not finish; retrying from its last position");
                    reader.rewind();
                    pause(&mut failures);
                    continue;
                }
            }
            last_ack = Instant::now();
        }
        if idle {
            if writer_gone {
                break;
            }
            reader.wait(IDLE_WAIT);
        }
    }
    let at = consumer.close();
    ack(&mut reader, at);
}

/// [`consume`], and with `chain_events` false the consumer is handed batches
/// without the events that belong to a prompt chain: with
/// `chains.raw_events` off, the log holds them (until their chain closes)
/// but only their chain record is written out.
pub fn consume_events(
    reader: Reader,
    recent: &Recent,
    consumer: &mut dyn Consumer,
    chain_events: bool,
) {
    if chain_events {
        consume(reader, recent, consumer);
    } else {
        consume(reader, recent, &mut WithoutChainEvents(consumer));
    }
}

struct WithoutChainEvents<'a>(&'a mut dyn Consumer);

impl Consumer for WithoutChainEvents<'_> {
    fn take(&mut self, lsn: Lsn, entry: Option<Entry>) -> Result<(), ConsumeError> {
        let entry = match entry {
            Some(Entry::Batch(b)) if b.has_chain_events() => {
                Some(Entry::Batch(std::sync::Arc::new(b.without_chain_events())))
            }
            other => other,
        };
        self.0.take(lsn, entry)
    }

    fn finished(&mut self) -> std::io::Result<Option<Lsn>> {
        self.0.finished()
    }

    fn should_stop(&self) -> bool {
        self.0.should_stop()
    }

    fn close(&mut self) -> Option<Lsn> {
        self.0.close()
    }
}

/// The archive as a WAL consumer: every batch and chain is appended, and
/// `finished` is the archive's group fsync.
#[derive(Debug)]
pub struct ArchiveConsumer {
    out: Option<ArchiveOutput>,
    taken: Option<Lsn>,
    dirty: bool,
}

impl ArchiveConsumer {
    /// Wraps an open archive.
    pub fn new(out: ArchiveOutput) -> ArchiveConsumer {
        ArchiveConsumer {
            out: Some(out),
            taken: None,
            dirty: false,
        }
    }
}

impl Consumer for ArchiveConsumer {
    fn take(&mut self, lsn: Lsn, entry: Option<Entry>) -> Result<(), ConsumeError> {
        let out = self.out.as_mut().ok_or(ConsumeError::Gone)?;
        match entry {
            Some(Entry::Batch(batch)) => out.write(&batch),
            Some(Entry::Chains(chains)) => out.write_chains(&chains),
            None => Ok(()),
        }
        .map_err(ConsumeError::Retry)?;
        self.taken = Some(lsn);
        self.dirty = true;
        Ok(())
    }

    fn finished(&mut self) -> std::io::Result<Option<Lsn>> {
        if self.dirty
            && let Some(out) = self.out.as_mut()
        {
            out.flush()?;
            self.dirty = false;
        }
        Ok(self.taken)
    }

    fn close(&mut self) -> Option<Lsn> {
        match self.out.take()?.close() {
            Ok(()) => self.taken,
            Err(e) => {
                tracing::error!(error = %e, "closing the archive failed; its tail is read again from the WAL on the next start");
                None
            }
        }
    }
}
