//! The bounded queue and its writer thread.
//!
//! Receivers `submit` a batch with a one-shot reply channel; the queue is
//! bounded in batches and in bytes (plus whatever else the process holds
//! that [`Pipeline::with_pressure`] reports, such as open prompt chains), so
//! a full queue is an immediate `Overloaded` (the client gets UNAVAILABLE /
//! 503 with `Retry-After` and retries), never unbounded memory.
//! The writer thread takes everything queued, writes it, flushes once, and
//! only then answers each submitter: group commit, so one flush covers many
//! requests under load.
//!
//! With a [`Journal`] (the write-ahead log), each batch of the group is
//! appended to it and the journal is committed once before the outputs are
//! written and anyone is answered; a full journal answers `Overloaded` for
//! the batches it could not take. Prompt chains are journaled too: a chain
//! that finds the journal full waits on the writer (and new batches are
//! refused) until there is room, so derived records are never dropped.
//!
//! After a group is acknowledged, each [`Stage`] (the correlator, the spend
//! meter) sees its batches in order, and every `tick` the stages are asked
//! to close what timed out; chain records they emit are written to the same
//! outputs. On close, the stages flush what they still hold.
//!
//! The journal always takes whole batches, even when the outputs leave the
//! events of prompt chains out (`raw_chain_events` off): until its chain
//! closes, the journal is the only place such an event is. The journal is
//! kept from the batch that opened the oldest open chain and replayed into
//! the stages on start (`runner_keep.rs`), so open chains survive a crash.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::Duration,
};

use cairn_core::{
    chain::PromptChain,
    ingest::{Ingest, SubmitError, SubmitFuture},
    record::Batch,
};
use tokio::sync::oneshot;

pub use crate::stage::Stage;
use crate::{
    journal::{Journal, JournalError},
    output::Output,
};

type Reply = oneshot::Sender<Result<(), SubmitError>>;
/// A queued batch, its size in the byte budget, and where its
/// acknowledgement goes.
type Queued = (Arc<Batch>, usize, Reply);

/// Other memory the byte budget counts (bytes held now).
pub type Pressure = Arc<dyn Fn() -> usize + Send + Sync>;

/// Queue settings.
#[derive(Clone, Copy, Debug)]
pub struct PipelineConfig {
    /// How many batches may wait for the writer.
    pub queue_batches: usize,
    /// How many bytes of records ([`Batch::approx_bytes`]) may wait for the
    /// writer, together with the [`Pressure`] reported.
    pub max_queued_bytes: usize,
    /// The `Retry-After` hint when the queue is full.
    pub retry_after: Duration,
    /// The most batches written before one flush.
    pub max_group: usize,
    /// How often stages are asked to close what timed out.
    pub tick: Duration,
    /// Whether events that belong to a prompt chain are also written as raw
    /// records (`false`: only their chain is).
    pub raw_chain_events: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_batches: 1024,
            max_queued_bytes: 256 << 20,
            retry_after: Duration::from_secs(1),
            max_group: 256,
            tick: Duration::from_secs(1),
            raw_chain_events: true,
        }
    }
}

/// The ingest receivers submit to. Cloning shares the same queue.
pub struct Pipeline {
    tx: Mutex<Option<mpsc::SyncSender<Queued>>>,
    closed: AtomicBool,
    retry_after: Duration,
    queued_bytes: Arc<AtomicUsize>,
    journal_failed: Arc<AtomicBool>,
    /// Set by the writer once open chains are rebuilt from the journal.
    replayed: Arc<AtomicBool>,
    max_bytes: usize,
    pressure: std::sync::OnceLock<Pressure>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Pipeline {
    /// Starts the writer thread over `output`, with no stages.
    pub fn start(
        config: PipelineConfig,
        output: Box<dyn Output>,
    ) -> std::io::Result<Arc<Pipeline>> {
        Pipeline::start_with(config, output, Vec::new())
    }

    /// Starts the writer thread over `output` and `stages`.
    pub fn start_with(
        config: PipelineConfig,
        output: Box<dyn Output>,
        stages: Vec<Box<dyn Stage>>,
    ) -> std::io::Result<Arc<Pipeline>> {
        Pipeline::start_journaled(config, None, output, stages)
    }

    /// Starts the writer thread: every batch goes to `journal` (when there
    /// is one), `output` and `stages` before it is acknowledged.
    pub fn start_journaled(
        config: PipelineConfig,
        journal: Option<Box<dyn Journal>>,
        output: Box<dyn Output>,
        stages: Vec<Box<dyn Stage>>,
    ) -> std::io::Result<Arc<Pipeline>> {
        let (tx, rx) = mpsc::sync_channel(config.queue_batches.max(1));
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let journal_failed = Arc::new(AtomicBool::new(false));
        let replayed = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            queued_bytes: Arc::clone(&queued_bytes),
            journal_failed: Arc::clone(&journal_failed),
            replayed: Arc::clone(&replayed),
            journal,
            waiting_chains: Vec::new(),
            retry_after: config.retry_after,
            output,
            stages,
            max_group: config.max_group.max(1),
            tick: config.tick.max(Duration::from_millis(1)),
            raw_chain_events: config.raw_chain_events,
        };
        let writer = std::thread::Builder::new()
            .name("cairn-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(Arc::new(Pipeline {
            tx: Mutex::new(Some(tx)),
            closed: AtomicBool::new(false),
            retry_after: config.retry_after,
            queued_bytes,
            journal_failed,
            replayed,
            max_bytes: config.max_queued_bytes.max(1),
            pressure: std::sync::OnceLock::new(),
            writer: Mutex::new(Some(writer)),
        }))
    }

    /// Counts `pressure` (bytes held elsewhere, e.g. open prompt chains)
    /// against the byte budget: receivers are pushed back while queued
    /// bytes plus pressure would pass it. Set once (at start, read without
    /// a lock on every submit); a second call is ignored.
    pub fn with_pressure(&self, pressure: Pressure) {
        let _ = self.pressure.set(pressure);
    }

    /// Whether the journal failed (a write or sync error): from then on
    /// every request is refused until a restart, so cairn is not ready.
    pub fn journal_failed(&self) -> bool {
        self.journal_failed.load(Ordering::SeqCst)
    }

    /// Whether the writer has rebuilt open prompt chains from the journal
    /// after a restart (at once when there is nothing to rebuild). Until
    /// then batches queue without being written, so cairn is not ready.
    pub fn replay_done(&self) -> bool {
        self.replayed.load(Ordering::SeqCst)
    }

    /// Bytes of records waiting for the writer now.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::SeqCst)
    }

    fn held_bytes(&self) -> usize {
        let extra = self.pressure.get().map_or(0, |f| f());
        self.queued_bytes() + extra
    }

    fn sender(&self) -> Option<mpsc::SyncSender<Queued>> {
        self.tx.lock().ok().and_then(|g| g.clone())
    }

    /// Stops taking batches, writes everything already queued, and waits for
    /// the writer thread. Call after the receivers have drained.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut g| g.take());
        if let Some(h) = handle
            && h.join().is_err()
        {
            tracing::error!("writer thread panicked");
        }
    }
}

impl Ingest for Pipeline {
    fn submit(&self, batch: Batch) -> SubmitFuture<'_> {
        Box::pin(async move {
            if self.closed.load(Ordering::SeqCst) {
                return Err(SubmitError::ShuttingDown);
            }
            let tx = self.sender().ok_or(SubmitError::ShuttingDown)?;
            let overloaded = SubmitError::Overloaded {
                retry_after: self.retry_after,
            };
            // One batch always fits when nothing is held, however large.
            let size = batch.approx_bytes();
            let held = self.held_bytes();
            if held > 0 && held.saturating_add(size) > self.max_bytes {
                return Err(overloaded);
            }
            self.queued_bytes.fetch_add(size, Ordering::SeqCst);
            let (reply, answer) = oneshot::channel();
            // The writer lets go of its reference before it answers, so the
            // records are freed here, on the thread that allocated them:
            // far cheaper for the allocator than frees from another thread.
            let batch = Arc::new(batch);
            if let Err(e) = tx.try_send((Arc::clone(&batch), size, reply)) {
                self.queued_bytes.fetch_sub(size, Ordering::SeqCst);
                return Err(match e {
                    mpsc::TrySendError::Full(_) => overloaded,
                    mpsc::TrySendError::Disconnected(_) => SubmitError::ShuttingDown,
                });
            }
            drop(tx);
            let answer = answer.await.unwrap_or(Err(SubmitError::ShuttingDown));
            drop(batch);
            answer
        })
    }
}

struct Writer {
    queued_bytes: Arc<AtomicUsize>,
    journal_failed: Arc<AtomicBool>,
    replayed: Arc<AtomicBool>,
    journal: Option<Box<dyn Journal>>,
    /// Chains the journal had no room for yet, oldest first.
    waiting_chains: Vec<PromptChain>,
    retry_after: Duration,
    output: Box<dyn Output>,
    stages: Vec<Box<dyn Stage>>,
    max_group: usize,
    tick: Duration,
    raw_chain_events: bool,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Queued>) {
        let mut group: Vec<Queued> = Vec::with_capacity(self.max_group);
        let mut chains: Vec<PromptChain> = Vec::new();
        self.replay(&mut chains);
        self.replayed.store(true, Ordering::SeqCst);
        let mut next_tick = std::time::Instant::now() + self.tick;
        loop {
            let wait = next_tick.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(wait) {
                Ok(first) => group.push(first),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            while !group.is_empty() && group.len() < self.max_group {
                match rx.try_recv() {
                    Ok(item) => group.push(item),
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                self.commit(&mut group, &mut chains);
            }
            if std::time::Instant::now() >= next_tick {
                if let Some(j) = self.journal.as_mut() {
                    j.maintain();
                }
                self.each_stage(|s, out| s.on_tick(out), &mut chains);
                self.write_chains(&mut chains);
                self.keep();
                next_tick = std::time::Instant::now() + self.tick;
            }
        }
        self.each_stage(|s, out| s.close(out), &mut chains);
        self.write_chains(&mut chains);
        self.keep();
        if !self.waiting_chains.is_empty() {
            tracing::error!(
                count = self.waiting_chains.len(),
                "prompt chains found the write-ahead log full at shutdown and were not journaled"
            );
        }
        if let Some(j) = self.journal.as_mut() {
            j.close();
        }
        if let Err(e) = self.output.flush() {
            tracing::error!(error = %e, "final flush failed");
        }
    }

    /// Appends the group to the journal and commits it: one answer per
    /// batch (`Ok` = durable), and the journal position where each starts.
    /// Without a journal, every batch passes.
    fn journal_group(
        &mut self,
        batches: &[&Arc<Batch>],
        positions: &mut Vec<u64>,
    ) -> Vec<Result<(), SubmitError>> {
        let mut answers: Vec<Result<(), SubmitError>> = vec![Ok(()); batches.len()];
        let Some(journal) = self.journal.as_mut() else {
            return answers;
        };
        let full = SubmitError::Overloaded {
            retry_after: self.retry_after,
        };
        // Chains waiting for room go first; until they are in, batches wait.
        let mut room = Self::journal_waiting(journal.as_mut(), &mut self.waiting_chains);
        let mut appended = false;
        for (batch, answer) in batches.iter().zip(answers.iter_mut()) {
            positions.push(journal.position());
            if !room {
                *answer = Err(full.clone());
                continue;
            }
            match journal.append(batch) {
                Ok(()) => appended = true,
                Err(JournalError::Full) => {
                    room = false;
                    *answer = Err(full.clone());
                }
                Err(JournalError::Failed(why)) => {
                    tracing::error!(error = %why, "the write-ahead log failed; requests are refused, not acknowledged");
                    self.journal_failed.store(true, Ordering::SeqCst);
                    return vec![Err(SubmitError::Storage(why)); batches.len()];
                }
            }
        }
        if appended && let Err(e) = journal.commit() {
            tracing::error!(error = %e, "committing the write-ahead log failed; requests are refused, not acknowledged");
            self.journal_failed.store(true, Ordering::SeqCst);
            let why = e.to_string();
            return vec![Err(SubmitError::Storage(why)); batches.len()];
        }
        answers
    }

    /// Journals the chains that were waiting for room; true when none is
    /// left waiting.
    fn journal_waiting(journal: &mut dyn Journal, waiting: &mut Vec<PromptChain>) -> bool {
        if waiting.is_empty() {
            return true;
        }
        match journal
            .append_chains(waiting)
            .and_then(|()| journal.commit())
        {
            Ok(()) => {
                waiting.clear();
                true
            }
            Err(JournalError::Full) => false,
            Err(JournalError::Failed(why)) => {
                tracing::error!(error = %why, count = waiting.len(), "journaling prompt chains failed");
                false
            }
        }
    }

    /// Journals, writes, flushes and acknowledges a group, then hands what
    /// was acknowledged to the stages.
    ///
    /// The journal always gets whole batches: with `raw_chain_events` off,
    /// the events of a chain still open exist nowhere else until it closes.
    /// The outputs (and the journal's readers) leave them out.
    fn commit(&mut self, group: &mut Vec<Queued>, chains: &mut Vec<PromptChain>) {
        let raw = self.raw_chain_events;
        let batches: Vec<&Arc<Batch>> = group.iter().map(|(batch, _, _)| batch).collect();
        let mut positions = Vec::with_capacity(batches.len());
        let mut answers = self.journal_group(&batches, &mut positions);
        // No journal, or a failed one, places no (or not every) batch.
        positions.resize(batches.len(), 0);
        let output = &mut self.output;
        let written = batches
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_ok())
            .try_for_each(|(batch, _)| {
                if raw || !batch.has_chain_events() {
                    output.write_shared(batch)
                } else {
                    output.write_shared(&Arc::new(batch.without_chain_events()))
                }
            })
            .and_then(|()| output.flush());
        if let Err(e) = written {
            tracing::error!(error = %e, "writing records failed; requests are refused, not acknowledged");
            let why = SubmitError::Storage(e.kind().to_string());
            answers.iter_mut().for_each(|a| *a = Err(why.clone()));
        }
        for (((batch, size, reply), answer), pos) in group.drain(..).zip(answers).zip(positions) {
            // Only what was acknowledged feeds the chains and counters: a
            // refused request will be resent. The stages see the batch
            // before the answer, so the writer holds no reference once the
            // receiver has its answer, and the records are freed there (see
            // `submit`).
            if answer.is_ok() {
                self.each_stage(|s, out| s.process_at(pos, &batch, out), chains);
            }
            drop(batch);
            // Released before the answer, so a client that was told its
            // batch is written never finds it still counted as queued.
            self.queued_bytes.fetch_sub(size, Ordering::SeqCst);
            let _ = reply.send(answer);
        }
        self.write_chains(chains);
        self.keep();
        self.release(chains);
    }

    /// Runs `f` on every stage. A stage that panics is taken out (logged,
    /// never with record content) instead of taking the writer thread, and
    /// with it every acknowledgement, down: the raw records keep flowing.
    fn each_stage(
        &mut self,
        mut f: impl FnMut(&mut dyn Stage, &mut Vec<PromptChain>),
        out: &mut Vec<PromptChain>,
    ) {
        guarded(&mut self.stages, |_| true, |s| f(s, out));
    }

    fn write_chains(&mut self, chains: &mut Vec<PromptChain>) {
        if let Some(journal) = self.journal.as_mut() {
            if !chains.is_empty() {
                self.waiting_chains.extend(chains.iter().cloned());
            }
            Self::journal_waiting(journal.as_mut(), &mut self.waiting_chains);
        }
        if chains.is_empty() {
            return;
        }
        if let Err(e) = self
            .output
            .write_chains(chains)
            .and_then(|()| self.output.flush())
        {
            tracing::error!(error = %e, count = chains.len(), "writing prompt chains failed");
        }
        chains.clear();
    }
}

/// Runs `f` on every stage that `which` selects; one that panics is taken
/// out (logged, never with record content).
fn guarded(
    stages: &mut Vec<Box<dyn Stage>>,
    which: impl Fn(&dyn Stage) -> bool,
    mut f: impl FnMut(&mut dyn Stage),
) {
    stages.retain_mut(|stage| {
        if !which(stage.as_ref()) {
            return true;
        }
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(stage.as_mut())));
        if ran.is_err() {
            tracing::error!("a pipeline stage failed and was stopped; raw records still flow");
        }
        ran.is_ok()
    });
}

#[path = "runner_keep.rs"]
mod keep;

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
