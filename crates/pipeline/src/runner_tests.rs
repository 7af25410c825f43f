//! The writer thread's tests: pushback, journaling, chains, failing stages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_core::{
    record::{Origin, RecordBody},
    signal::{Protocol, Signal},
};

use super::*;
use crate::{chain_stage::ChainStage, correlate::Correlator};

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

/// A pipeline over a [`Gate`]: the pipeline, the barrier that opens the
/// gate, and the count of batches written.
fn gated(config: PipelineConfig) -> (Arc<Pipeline>, Arc<std::sync::Barrier>, Arc<AtomicUsize>) {
    let open = Arc::new(std::sync::Barrier::new(2));
    let writes = Arc::new(AtomicUsize::new(0));
    let gate = Gate {
        open: Arc::clone(&open),
        writes: Arc::clone(&writes),
        flushes: 0,
    };
    let p = Pipeline::start(config, Box::new(gate)).unwrap();
    (p, open, writes)
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
    let (p, open, writes) = gated(PipelineConfig {
        queue_batches: 1,
        retry_after: Duration::from_secs(3),
        max_group: 1,
        ..PipelineConfig::default()
    });
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
        vec![Box::new(ChainStage::new(correlator))],
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
        vec![Box::new(ChainStage::new(correlator))],
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
    let batches = cairn_testkit::fixtures::scenario_batches("http-protobuf");
    let big = batches
        .iter()
        .max_by_key(|b| b.approx_bytes())
        .unwrap()
        .clone();
    let size = big.approx_bytes();
    assert!(size > 1000, "{size}");
    let (p, open, writes) = gated(PipelineConfig {
        max_queued_bytes: size * 2,
        max_group: 1,
        ..PipelineConfig::default()
    });
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

#[path = "runner_replay_tests.rs"]
mod replay;

/// Keeps a weak reference to every batch it is given.
#[derive(Clone, Default)]
struct Watcher(Arc<Mutex<Vec<std::sync::Weak<Batch>>>>);
impl Output for Watcher {
    fn write(&mut self, _b: &Batch) -> std::io::Result<()> {
        Ok(())
    }
    fn write_shared(&mut self, b: &Arc<Batch>) -> std::io::Result<()> {
        self.0.lock().unwrap().push(Arc::downgrade(b));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A slow stage that counts what it saw.
struct Slow(Arc<AtomicUsize>);
impl Stage for Slow {
    fn process(&mut self, _b: &Batch, _out: &mut Vec<PromptChain>) {
        // Long enough that a writer answering before its stages would still
        // hold the batch when the submitter looks.
        std::thread::sleep(Duration::from_millis(100));
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_stages_see_a_batch_before_its_answer_and_the_submitter_frees_it() {
    let watcher = Watcher::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let p = Pipeline::start_with(
        PipelineConfig::default(),
        Box::new(watcher.clone()),
        vec![Box::new(Slow(Arc::clone(&seen)))],
    )
    .unwrap();
    for n in 1..=3 {
        assert_eq!(p.submit(batch()).await, Ok(()));
        assert_eq!(
            seen.load(Ordering::SeqCst),
            n,
            "processed before the answer"
        );
        let weak = watcher.0.lock().unwrap().pop().unwrap();
        assert!(
            weak.upgrade().is_none(),
            "the writer let go of the batch before answering"
        );
    }
    p.close();
}
