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
    record::{Batch, RecordBody},
};
use tokio::sync::oneshot;

use crate::{
    correlate::Correlator,
    enrich::SpendMeter,
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

/// A synchronous stage on the writer thread. It sees every batch after the
/// batch was written and acknowledged, in order, and may emit chain records.
pub trait Stage: Send + 'static {
    /// Takes one batch.
    fn process(&mut self, batch: &Batch, out: &mut Vec<PromptChain>);
    /// Called every tick: close what timed out.
    fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        let _ = out;
    }
    /// Called once at shutdown: emit everything still held.
    fn close(&mut self, out: &mut Vec<PromptChain>) {
        let _ = out;
    }
}

/// Spend counters count only acknowledged usage points.
impl Stage for SpendMeter {
    fn process(&mut self, batch: &Batch, _out: &mut Vec<PromptChain>) {
        self.observe(batch);
    }
}

impl Stage for Correlator {
    fn process(&mut self, batch: &Batch, out: &mut Vec<PromptChain>) {
        Correlator::process(self, batch, out);
    }
    fn on_tick(&mut self, out: &mut Vec<PromptChain>) {
        Correlator::on_tick(self, out);
    }
    fn close(&mut self, out: &mut Vec<PromptChain>) {
        self.close_all(out);
    }
}

/// The ingest receivers submit to. Cloning shares the same queue.
pub struct Pipeline {
    tx: Mutex<Option<mpsc::SyncSender<Queued>>>,
    closed: AtomicBool,
    retry_after: Duration,
    queued_bytes: Arc<AtomicUsize>,
    max_bytes: usize,
    pressure: Mutex<Option<Pressure>>,
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
    /// is one) and `output` before it is acknowledged, then to `stages`.
    pub fn start_journaled(
        config: PipelineConfig,
        journal: Option<Box<dyn Journal>>,
        output: Box<dyn Output>,
        stages: Vec<Box<dyn Stage>>,
    ) -> std::io::Result<Arc<Pipeline>> {
        let (tx, rx) = mpsc::sync_channel(config.queue_batches.max(1));
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let writer = Writer {
            queued_bytes: Arc::clone(&queued_bytes),
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
            max_bytes: config.max_queued_bytes.max(1),
            pressure: Mutex::new(None),
            writer: Mutex::new(Some(writer)),
        }))
    }

    /// Counts `pressure` (bytes held elsewhere, e.g. open prompt chains)
    /// against the byte budget: receivers are pushed back while queued
    /// bytes plus pressure would pass it.
    pub fn with_pressure(&self, pressure: Pressure) {
        if let Ok(mut p) = self.pressure.lock() {
            *p = Some(pressure);
        }
    }

    /// Bytes of records waiting for the writer now.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::SeqCst)
    }

    fn held_bytes(&self) -> usize {
        let extra = self
            .pressure
            .lock()
            .ok()
            .and_then(|p| p.as_ref().map(|f| f()))
            .unwrap_or(0);
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
            if let Err(e) = tx.try_send((Arc::new(batch), size, reply)) {
                self.queued_bytes.fetch_sub(size, Ordering::SeqCst);
                return Err(match e {
                    mpsc::TrySendError::Full(_) => overloaded,
                    mpsc::TrySendError::Disconnected(_) => SubmitError::ShuttingDown,
                });
            }
            drop(tx);
            answer.await.unwrap_or(Err(SubmitError::ShuttingDown))
        })
    }
}

struct Writer {
    queued_bytes: Arc<AtomicUsize>,
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

/// The batch without the events that belong to a prompt chain.
fn without_chain_events(batch: &Batch) -> Batch {
    Batch {
        origin: batch.origin.clone(),
        records: batch
            .records
            .iter()
            .filter(|r| !matches!(&r.body, RecordBody::Event(e) if e.header.prompt_id.is_some()))
            .cloned()
            .collect(),
    }
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Queued>) {
        let mut group: Vec<Queued> = Vec::with_capacity(self.max_group);
        let mut chains: Vec<PromptChain> = Vec::new();
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
                next_tick = std::time::Instant::now() + self.tick;
            }
        }
        self.each_stage(|s, out| s.close(out), &mut chains);
        self.write_chains(&mut chains);
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
    /// batch (`Ok` = durable). Without a journal, every batch passes.
    fn journal_group(&mut self, batches: &[Arc<Batch>]) -> Vec<Result<(), SubmitError>> {
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
                    return vec![Err(SubmitError::Storage(why)); batches.len()];
                }
            }
        }
        if appended && let Err(e) = journal.commit() {
            tracing::error!(error = %e, "committing the write-ahead log failed; requests are refused, not acknowledged");
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
    fn commit(&mut self, group: &mut Vec<Queued>, chains: &mut Vec<PromptChain>) {
        let raw = self.raw_chain_events;
        let kept: Vec<Arc<Batch>> = group
            .iter()
            .map(|(batch, _, _)| {
                if raw {
                    Arc::clone(batch)
                } else {
                    Arc::new(without_chain_events(batch))
                }
            })
            .collect();
        let mut answers = self.journal_group(&kept);
        let output = &mut self.output;
        let written = kept
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_ok())
            .try_for_each(|(batch, _)| output.write_shared(batch))
            .and_then(|()| output.flush());
        if let Err(e) = written {
            tracing::error!(error = %e, "writing records failed; requests are refused, not acknowledged");
            let why = SubmitError::Storage(e.kind().to_string());
            answers.iter_mut().for_each(|a| *a = Err(why.clone()));
        }
        for ((batch, size, reply), answer) in group.drain(..).zip(answers) {
            let ok = answer.is_ok();
            let _ = reply.send(answer);
            self.queued_bytes.fetch_sub(size, Ordering::SeqCst);
            // Only what was acknowledged feeds the chains and counters: a
            // refused request will be resent.
            if ok {
                self.each_stage(|s, out| s.process(&batch, out), chains);
            }
        }
        self.write_chains(chains);
    }

    /// Runs `f` on every stage. A stage that panics is taken out (logged,
    /// never with record content) instead of taking the writer thread, and
    /// with it every acknowledgement, down: the raw records keep flowing.
    fn each_stage(
        &mut self,
        mut f: impl FnMut(&mut dyn Stage, &mut Vec<PromptChain>),
        out: &mut Vec<PromptChain>,
    ) {
        self.stages.retain_mut(|stage| {
            let ran =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(stage.as_mut(), out)));
            if ran.is_err() {
                tracing::error!("a pipeline stage failed and was stopped; raw records still flow");
            }
            ran.is_ok()
        });
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use cairn_core::{
        record::Origin,
        signal::{Protocol, Signal},
    };

    use super::*;

    fn batch() -> Batch {
        Batch {
            origin: Origin {
                signal: Signal::Logs,
                protocol: Protocol::Grpc,
                tenant: None,
                received_unix_nano: 0,
            },
            records: Vec::new(),
        }
    }

    /// Blocks its first two flushes until the test opens the barrier (the
    /// final flush on close passes).
    struct Gate {
        open: Arc<std::sync::Barrier>,
        writes: Arc<AtomicUsize>,
        flushes: usize,
    }
    impl Output for Gate {
        fn write(&mut self, _b: &Batch) -> std::io::Result<()> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            if self.flushes < 2 {
                self.open.wait();
            }
            self.flushes += 1;
            Ok(())
        }
    }

    struct Failing;
    impl Output for Failing {
        fn write(&mut self, _b: &Batch) -> std::io::Result<()> {
            Err(std::io::Error::other("disk gone"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn full_queue_pushes_back_instead_of_growing() {
        let open = Arc::new(std::sync::Barrier::new(2));
        let writes = Arc::new(AtomicUsize::new(0));
        let p = Pipeline::start(
            PipelineConfig {
                queue_batches: 1,
                retry_after: Duration::from_secs(3),
                max_group: 1,
                ..PipelineConfig::default()
            },
            Box::new(Gate {
                open: Arc::clone(&open),
                writes: Arc::clone(&writes),
                flushes: 0,
            }),
        )
        .unwrap();
        // First batch: taken by the writer, which then blocks in flush.
        let p1 = Arc::clone(&p);
        let first = tokio::spawn(async move { p1.submit(batch()).await });
        // Wait (bounded) until the writer holds it.
        for _ in 0..500 {
            if writes.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(writes.load(Ordering::SeqCst), 1);
        // Two more race for the one queue slot: exactly one gets it, the
        // other is refused at once (whichever order they run in).
        let p2 = Arc::clone(&p);
        let second = tokio::spawn(async move { p2.submit(batch()).await });
        let p3 = Arc::clone(&p);
        let third = tokio::spawn(async move { p3.submit(batch()).await });
        for _ in 0..500 {
            if second.is_finished() || third.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (refused, queued) = if second.is_finished() {
            (second, third)
        } else {
            (third, second)
        };
        assert!(
            refused.is_finished(),
            "one submit must be refused while the queue is full"
        );
        assert_eq!(
            refused.await.unwrap(),
            Err(SubmitError::Overloaded {
                retry_after: Duration::from_secs(3)
            })
        );
        let opener = std::thread::spawn(move || {
            open.wait();
            open.wait();
        });
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(queued.await.unwrap(), Ok(()));
        opener.join().unwrap();
        p.close();
        assert_eq!(p.submit(batch()).await, Err(SubmitError::ShuttingDown));
    }

    #[tokio::test]
    async fn write_errors_are_not_acknowledged() {
        let p = Pipeline::start(PipelineConfig::default(), Box::new(Failing)).unwrap();
        assert!(matches!(
            p.submit(batch()).await,
            Err(SubmitError::Storage(_))
        ));
        p.close();
    }

    /// Records what reaches it: raw records and chains.
    #[derive(Clone, Default)]
    struct Recorder {
        records: Arc<Mutex<Vec<String>>>,
        chains: Arc<Mutex<Vec<PromptChain>>>,
    }
    impl Output for Recorder {
        fn write(&mut self, b: &Batch) -> std::io::Result<()> {
            let mut r = self.records.lock().unwrap();
            for rec in &b.records {
                if let RecordBody::Event(e) = &rec.body {
                    r.push(e.header.name.clone());
                }
            }
            Ok(())
        }
        fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
            self.chains.lock().unwrap().extend_from_slice(chains);
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn wait_for(what: &str, f: impl Fn() -> bool) {
        for _ in 0..1000 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn pipeline_with_chains(
        raw: bool,
    ) -> (Arc<Pipeline>, Recorder, Arc<cairn_core::clock::ManualClock>) {
        let clock = Arc::new(cairn_core::clock::ManualClock::new(1));
        let correlator = Correlator::new(
            crate::correlate::CorrelatorConfig {
                idle_timeout: Duration::from_secs(60),
                ..Default::default()
            },
            clock.clone(),
        );
        let rec = Recorder::default();
        let p = Pipeline::start_with(
            PipelineConfig {
                tick: Duration::from_millis(5),
                raw_chain_events: raw,
                ..PipelineConfig::default()
            },
            Box::new(rec.clone()),
            vec![Box::new(correlator)],
        )
        .unwrap();
        (p, rec, clock)
    }

    #[tokio::test]
    async fn chains_close_on_the_writer_tick_and_at_shutdown() {
        let (p, rec, clock) = pipeline_with_chains(true);
        for b in cairn_testkit::fixtures::scenario_batches("http-protobuf") {
            p.submit(b).await.unwrap();
        }
        assert_eq!(
            rec.records.lock().unwrap().len(),
            11,
            "raw events still flow"
        );
        // Idle for the timeout on the injected clock: the tick closes it.
        clock.advance(61_000_000_000);
        wait_for("the idle chain", || rec.chains.lock().unwrap().len() == 1).await;
        // A second session's chain is still open at shutdown: close emits it.
        for b in cairn_testkit::fixtures::scenario_batches("grpc-multibatch") {
            p.submit(b).await.unwrap();
        }
        p.close();
        let chains = rec.chains.lock().unwrap();
        assert_eq!(chains.len(), 2);
        let closed: Vec<i32> = chains
            .iter()
            .map(|c| c.completeness.as_ref().unwrap().closed_by)
            .collect();
        use cairn_core::chain::v1::Closure;
        assert_eq!(
            closed,
            [Closure::IdleTimeout as i32, Closure::Shutdown as i32]
        );
    }

    #[tokio::test]
    async fn chain_events_can_be_left_to_their_chain() {
        let (p, rec, _) = pipeline_with_chains(false);
        for b in cairn_testkit::fixtures::scenario_batches("http-protobuf") {
            p.submit(b).await.unwrap();
        }
        p.close();
        // Only the session-level events are written raw; the seven prompt
        // events are in the chain.
        let raw = rec.records.lock().unwrap().clone();
        assert_eq!(
            raw,
            [
                "managed_settings_resolved",
                "plugin_loaded",
                "plugin_loaded",
                "plugin_loaded"
            ]
        );
        let chains = rec.chains.lock().unwrap();
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0].totals.as_ref().unwrap().events, 7);
    }

    /// Panics on its second batch.
    struct Fragile(usize);
    impl Stage for Fragile {
        fn process(&mut self, _b: &Batch, _out: &mut Vec<PromptChain>) {
            self.0 += 1;
            assert!(self.0 < 2, "stage bug");
        }
    }

    #[tokio::test]
    async fn a_failing_stage_does_not_stop_acknowledgements() {
        let rec = Recorder::default();
        let p = Pipeline::start_with(
            PipelineConfig::default(),
            Box::new(rec.clone()),
            vec![Box::new(Fragile(0))],
        )
        .unwrap();
        let batches = cairn_testkit::fixtures::scenario_batches("http-protobuf");
        for b in batches.iter().chain(batches.iter()) {
            assert_eq!(p.submit(b.clone()).await, Ok(()));
        }
        p.close();
        assert_eq!(
            rec.records.lock().unwrap().len(),
            22,
            "every batch was written"
        );
    }
    /// A journal that is full while `full` is set, and records what it took.
    #[derive(Clone, Default)]
    struct FakeJournal {
        full: Arc<AtomicBool>,
        taken: Arc<Mutex<Vec<String>>>,
        pending: Vec<String>,
    }
    impl Journal for FakeJournal {
        fn append(&mut self, b: &Arc<Batch>) -> Result<(), JournalError> {
            if self.full.load(Ordering::SeqCst) {
                return Err(JournalError::Full);
            }
            self.pending.push(format!("batch:{}", b.records.len()));
            Ok(())
        }
        fn append_chains(&mut self, c: &[PromptChain]) -> Result<(), JournalError> {
            if self.full.load(Ordering::SeqCst) {
                return Err(JournalError::Full);
            }
            self.pending.push(format!("chains:{}", c.len()));
            Ok(())
        }
        fn commit(&mut self) -> Result<(), JournalError> {
            self.taken.lock().unwrap().append(&mut self.pending);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_full_journal_pushes_back_and_chains_wait_for_room() {
        let clock = Arc::new(cairn_core::clock::ManualClock::new(1));
        let correlator = Correlator::new(
            crate::correlate::CorrelatorConfig {
                idle_timeout: Duration::from_secs(60),
                ..Default::default()
            },
            clock.clone(),
        );
        let journal = FakeJournal::default();
        let rec = Recorder::default();
        let p = Pipeline::start_journaled(
            PipelineConfig {
                tick: Duration::from_millis(5),
                retry_after: Duration::from_secs(2),
                ..PipelineConfig::default()
            },
            Some(Box::new(journal.clone())),
            Box::new(rec.clone()),
            vec![Box::new(correlator)],
        )
        .unwrap();
        let batches = cairn_testkit::fixtures::scenario_batches("http-protobuf");
        for b in &batches {
            assert_eq!(p.submit(b.clone()).await, Ok(()));
        }
        let journaled = journal.taken.lock().unwrap().len();
        assert_eq!(
            journaled,
            batches.len(),
            "each acknowledged batch was journaled"
        );
        // Full: refused with the configured hint, and not written anywhere.
        journal.full.store(true, Ordering::SeqCst);
        let written = rec.records.lock().unwrap().len();
        assert_eq!(
            p.submit(batches[0].clone()).await,
            Err(SubmitError::Overloaded {
                retry_after: Duration::from_secs(2)
            })
        );
        assert_eq!(rec.records.lock().unwrap().len(), written);
        // The chain closes while the journal is full: it waits, and batches
        // are refused until it is in, so it is never dropped.
        clock.advance(61_000_000_000);
        wait_for("the idle chain", || rec.chains.lock().unwrap().len() == 1).await;
        journal.full.store(false, Ordering::SeqCst);
        wait_for("the waiting chain to be journaled", || {
            journal.taken.lock().unwrap().len() == journaled + 1
        })
        .await;
        assert_eq!(journal.taken.lock().unwrap()[journaled], "chains:1");
        assert_eq!(p.submit(batches[0].clone()).await, Ok(()));
        p.close();
        assert_eq!(journal.taken.lock().unwrap().len(), journaled + 2);
    }

    #[tokio::test]
    async fn the_byte_budget_pushes_back_counting_other_pressure() {
        let open = Arc::new(std::sync::Barrier::new(2));
        let writes = Arc::new(AtomicUsize::new(0));
        let batches = cairn_testkit::fixtures::scenario_batches("http-protobuf");
        let big = batches
            .iter()
            .max_by_key(|b| b.approx_bytes())
            .unwrap()
            .clone();
        let size = big.approx_bytes();
        assert!(size > 1000, "{size}");
        let p = Pipeline::start(
            PipelineConfig {
                max_queued_bytes: size * 2,
                max_group: 1,
                ..PipelineConfig::default()
            },
            Box::new(Gate {
                open: Arc::clone(&open),
                writes: Arc::clone(&writes),
                flushes: 0,
            }),
        )
        .unwrap();
        // The writer holds the first (blocked in flush): it still counts.
        let p1 = Arc::clone(&p);
        let b1 = big.clone();
        let first = tokio::spawn(async move { p1.submit(b1).await });
        wait_for("the writer to hold it", || {
            writes.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(p.queued_bytes(), size);
        let p2 = Arc::clone(&p);
        let b2 = big.clone();
        let second = tokio::spawn(async move { p2.submit(b2).await });
        wait_for("the second to queue", || p.queued_bytes() == 2 * size).await;
        // A third would pass the budget: refused at once.
        assert!(matches!(
            p.submit(big.clone()).await,
            Err(SubmitError::Overloaded { .. })
        ));
        let opener = std::thread::spawn(move || {
            open.wait();
            open.wait();
        });
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(second.await.unwrap(), Ok(()));
        opener.join().unwrap();
        assert_eq!(p.queued_bytes(), 0, "released once written");
        // Other memory counts too.
        let held = Arc::new(AtomicUsize::new(2 * size));
        let h = Arc::clone(&held);
        p.with_pressure(Arc::new(move || h.load(Ordering::SeqCst)));
        assert!(matches!(
            p.submit(big.clone()).await,
            Err(SubmitError::Overloaded { .. })
        ));
        held.store(0, Ordering::SeqCst);
        assert_eq!(p.submit(big).await, Ok(()));
        p.close();
    }
}
