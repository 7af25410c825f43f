//! Open chains survive a restart through the journal: the writer keeps the
//! journal from the batch that opened the oldest open chain, and a new
//! writer replays it, writing each chain record exactly once.

use cairn_core::clock::ManualClock;

use super::*;
use crate::{
    correlate::CorrelatorConfig,
    journal::Replayed,
    test_events::{batch, event},
};

#[derive(Clone, Debug)]
enum Logged {
    Batch(u64, Arc<Batch>),
    Chains(Arc<Vec<PromptChain>>),
}

/// An in-memory journal: what was committed (with positions), and where the
/// stages asked it to keep from. Cloning shares it; [`MemJournal::crashed`]
/// is what a new process would find.
#[derive(Clone, Default)]
struct MemJournal {
    log: Arc<Mutex<Vec<Logged>>>,
    kept: Arc<std::sync::atomic::AtomicU64>,
    pending: Vec<Logged>,
    next: u64,
}

impl MemJournal {
    /// A copy of the committed state, `drop_last` entries cut off (lost with
    /// the crash, as if their commit never happened).
    fn crashed(&self, drop_last: usize) -> MemJournal {
        let mut log = self.log.lock().unwrap().clone();
        log.truncate(log.len() - drop_last);
        MemJournal {
            next: 1000 * (log.len() as u64 + 2),
            log: Arc::new(Mutex::new(log)),
            kept: Arc::new(self.kept.load(Ordering::SeqCst).into()),
            pending: Vec::new(),
        }
    }

    fn chain_entries(&self) -> usize {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|e| matches!(e, Logged::Chains(_)))
            .count()
    }
}

impl Journal for MemJournal {
    fn append(&mut self, b: &Arc<Batch>) -> Result<(), JournalError> {
        self.pending.push(Logged::Batch(self.next, Arc::clone(b)));
        self.next += 1000;
        Ok(())
    }
    fn append_chains(&mut self, c: &[PromptChain]) -> Result<(), JournalError> {
        self.pending.push(Logged::Chains(Arc::new(c.to_vec())));
        self.next += 1000;
        Ok(())
    }
    fn commit(&mut self) -> Result<(), JournalError> {
        self.log.lock().unwrap().append(&mut self.pending);
        Ok(())
    }
    fn position(&self) -> u64 {
        self.next
    }
    fn keep_from(&mut self, pos: u64) {
        self.kept.store(pos, Ordering::SeqCst);
    }
    fn replay(&mut self, f: &mut dyn FnMut(Replayed)) {
        let kept = self.kept.load(Ordering::SeqCst);
        let log = self.log.lock().unwrap().clone();
        let mut pos = 0;
        for e in log {
            match e {
                Logged::Batch(at, b) => {
                    pos = at;
                    if at >= kept {
                        f(Replayed::Batch(at, b));
                    }
                }
                Logged::Chains(c) if pos >= kept => f(Replayed::Chains(c)),
                Logged::Chains(_) => {}
            }
        }
    }
}

fn start(journal: &MemJournal) -> (Arc<Pipeline>, Recorder) {
    let clock = Arc::new(ManualClock::new(1));
    let correlator = Correlator::new(
        CorrelatorConfig {
            idle_timeout: Duration::from_secs(3600),
            ..Default::default()
        },
        clock,
    );
    let rec = Recorder::default();
    let p = Pipeline::start_journaled(
        PipelineConfig {
            raw_chain_events: false,
            ..PipelineConfig::default()
        },
        Some(Box::new(journal.clone())),
        Box::new(rec.clone()),
        vec![Box::new(ChainStage::new(correlator))],
    )
    .unwrap();
    (p, rec)
}

fn prompts(chains: &[PromptChain]) -> Vec<String> {
    let mut p: Vec<String> = chains.iter().map(|c| c.prompt_id.clone()).collect();
    p.sort();
    p
}

/// r1 (session c) opens first and stays open, so everything after it is
/// kept; p1 gets two events and is closed by p2, so its chain record is
/// journaled after them.
async fn first_run() -> MemJournal {
    let journal = MemJournal {
        next: 1000,
        ..MemJournal::default()
    };
    let (p, rec) = start(&journal);
    let requests = [
        batch(vec![event("c", Some("r1"), 1, "user_prompt", &[])]),
        batch(vec![
            event("a", Some("p1"), 1, "user_prompt", &[]),
            event("a", Some("p1"), 2, "api_request", &[("request_id", "x")]),
        ]),
        batch(vec![event("b", Some("q1"), 1, "user_prompt", &[])]),
        batch(vec![event("a", Some("p2"), 3, "user_prompt", &[])]),
    ];
    for b in &requests {
        assert_eq!(p.submit(b.clone()).await, Ok(()));
    }
    // The chain is journaled just after the answer to the batch closing it.
    wait_for("p1's record in the journal", || {
        journal.chain_entries() == 1
    })
    .await;
    wait_for("the kept position", || {
        journal.kept.load(Ordering::SeqCst) == 1000
    })
    .await;
    // raw_events off: the outputs get no chain event, the journal every one.
    assert!(rec.records.lock().unwrap().is_empty());
    let logged: usize = journal
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|e| match e {
            Logged::Batch(_, b) => b.records.len(),
            Logged::Chains(_) => 0,
        })
        .sum();
    assert_eq!(logged, 5);
    let crashed = journal.crashed(0);
    p.close();
    crashed
}

#[tokio::test]
async fn open_chains_are_rebuilt_after_a_crash_and_written_once() {
    let journal = first_run().await;
    let (p, rec) = start(&journal);
    p.close();
    let chains = rec.chains.lock().unwrap().clone();
    assert_eq!(
        prompts(&chains),
        ["p2", "q1", "r1"],
        "the chains open at the crash, and not p1 again"
    );
    let r1 = chains.iter().find(|c| c.prompt_id == "r1").unwrap();
    assert!(r1.prompt.is_some(), "rebuilt from its replayed user_prompt");
    assert_eq!(journal.chain_entries(), 2);
}

#[tokio::test]
async fn a_chain_record_lost_with_the_crash_is_written_at_the_restart() {
    // The crash came after p2's batch was committed, before p1's record.
    let journal = first_run().await.crashed(1);
    assert_eq!(journal.chain_entries(), 0);
    let (p, rec) = start(&journal);
    wait_for("p1's record", || rec.chains.lock().unwrap().len() == 1).await;
    let p1 = rec.chains.lock().unwrap()[0].clone();
    assert_eq!(p1.prompt_id, "p1");
    assert_eq!(p1.totals.as_ref().unwrap().events, 2);
    assert_eq!(journal.chain_entries(), 1, "journaled before anything else");
    p.close();
    assert_eq!(
        prompts(&rec.chains.lock().unwrap()),
        ["p1", "p2", "q1", "r1"]
    );
}
