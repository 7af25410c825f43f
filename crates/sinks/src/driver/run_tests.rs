#![allow(clippy::unwrap_used)]
//! The driver against a scripted in-memory sink: retries, per-item retries,
//! splits, dead letters, shutdown and backpressure, with the counters
//! checked to add up.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use cairn_core::chain::PromptChain;
use tokio::sync::{mpsc, watch};

use super::*;
use crate::driver::progress::AckPoint;
use crate::{
    detail::Detail,
    driver::stats::SinkStats,
    item::AuditItem,
    sink::{Report, Sink},
};

/// A sink whose answers are scripted per request; it records every unit it
/// was sent, and every unit it accepted.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<Report, SinkError>>>,
    sent: Mutex<Vec<Vec<String>>>,
    accepted: Mutex<Vec<String>>,
    gate: Option<tokio::sync::Semaphore>,
}

impl Scripted {
    /// A sink answering its first requests with `answers`, then delivered.
    fn answering(answers: impl IntoIterator<Item = Result<Report, SinkError>>) -> Scripted {
        let sink = Scripted::default();
        sink.script.lock().unwrap().extend(answers);
        sink
    }

    /// A sink whose every request fails with a retryable transport error.
    fn failing(reason: &str) -> Scripted {
        Scripted::answering((0..10_000).map(|_| Err(SinkError::transport(reason))))
    }
}

fn text(u: &Encoded) -> String {
    String::from_utf8(u.bytes.clone()).unwrap()
}

impl Sink for Scripted {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 4,
            max_bytes: 1 << 20,
            max_delay: Duration::from_millis(5),
        }
    }
    fn encode_with(
        &self,
        _item: &AuditItem,
        _detail: Detail<'_>,
        _out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        Err(EncodeError("unused".into()))
    }
    fn encode_chain(&self, chain: &PromptChain) -> Result<Encoded, EncodeError> {
        if chain.prompt_id == "bad" {
            return Err(EncodeError("refused by the test".into()));
        }
        Ok(Encoded::one(chain.prompt_id.clone().into_bytes()))
    }
    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        let names: Vec<String> = batch.iter().map(text).collect();
        self.sent.lock().unwrap().push(names.clone());
        let answer = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Report::delivered()));
        if let Ok(report) = &answer {
            let mut acc = self.accepted.lock().unwrap();
            for (i, n) in names.iter().enumerate() {
                let refused =
                    report.retry.contains(&i) || report.rejected.iter().any(|(j, _)| *j == i);
                if !refused {
                    acc.push(n.clone());
                }
            }
        }
        answer
    }
}

fn chains(names: &[&str]) -> Job {
    chains_at(0, names)
}

fn chains_at(lsn: u64, names: &[&str]) -> Job {
    Job {
        lsn,
        work: Some(chain_work(names)),
    }
}

fn chain_work(names: &[&str]) -> Work {
    Work::Chains(Arc::new(
        names
            .iter()
            .map(|n| PromptChain {
                prompt_id: (*n).into(),
                ..Default::default()
            })
            .collect(),
    ))
}

fn fast_config() -> DriverConfig {
    DriverConfig {
        limits: BatchLimits {
            max_items: 4,
            max_bytes: 1 << 20,
            max_delay: Duration::from_millis(5),
        },
        concurrency: 2,
        backoff: Backoff {
            initial: Duration::from_millis(2),
            max: Duration::from_millis(20),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(60),
        },
        give_up_after: None,
    }
}

struct Harness {
    sink: Arc<Scripted>,
    counters: crate::driver::stats::SinkCounters,
    dir: tempfile::TempDir,
    tx: mpsc::Sender<Job>,
    abandon: watch::Sender<bool>,
    point: Arc<AckPoint>,
    task: tokio::task::JoinHandle<()>,
}

fn start(sink: Scripted, config: DriverConfig, queue: usize) -> Harness {
    start_with(sink, config, queue, false)
}

fn start_with(sink: Scripted, config: DriverConfig, queue: usize, replays: bool) -> Harness {
    let sink = Arc::new(sink);
    let point = Arc::new(AckPoint::default());
    let dir = tempfile::tempdir().unwrap();
    let counters = SinkStats::default().for_sink("test");
    let driver = Driver {
        name: "test".into(),
        sink: Arc::clone(&sink),
        route: Route::everything(),
        config,
        dead_letters: DeadLetters::open(dir.path(), "test").unwrap(),
        counters: counters.clone(),
        point: Arc::clone(&point),
        replays,
    };
    let (tx, rx) = mpsc::channel(queue);
    let (abandon, abandon_rx) = watch::channel(false);
    let task = tokio::spawn(driver.run(rx, abandon_rx));
    Harness {
        sink,
        counters,
        dir,
        tx,
        abandon,
        point,
        task,
    }
}

impl Harness {
    async fn finish(
        self,
    ) -> (
        Arc<Scripted>,
        crate::driver::stats::SinkCounters,
        Vec<serde_json::Value>,
    ) {
        drop(self.tx);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap();
        let (_, dead) = crate::testing::dead_letters(self.dir.path(), "test");
        drop(self.abandon);
        (self.sink, self.counters, dead)
    }
}

/// Runs `sink` one request at a time on `work` (chain groups by name),
/// then drains it.
async fn one_at_a_time(
    sink: Scripted,
    work: &[&[&str]],
) -> (
    Arc<Scripted>,
    crate::driver::stats::SinkCounters,
    Vec<serde_json::Value>,
) {
    let mut config = fast_config();
    config.concurrency = 1;
    let h = start(sink, config, 8);
    for names in work {
        h.tx.send(chains(names)).await.unwrap();
    }
    h.finish().await
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i:02}")).collect()
}

#[tokio::test]
async fn retryable_failures_are_resent_until_delivered_exactly_once() {
    let sink = Scripted::answering([
        Err(SinkError::transport("connection reset")),
        Err(SinkError::Retryable {
            reason: "HTTP 503".into(),
            retry_after: Some(Duration::from_millis(30)),
        }),
    ]);
    let h = start(sink, fast_config(), 8);
    let all = names(10);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    h.tx.send(chains(&refs)).await.unwrap();
    let (sink, counters, dead) = h.finish().await;
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(sorted(sink.accepted.lock().unwrap().clone()), all);
    assert_eq!(counters.delivered_total(), 10);
    assert_eq!(counters.received_total(), 10);
    assert_eq!(counters.retried_total(), 2);
    assert_eq!(counters.queued_now(), 0);
    // Batches respect the item cap.
    assert!(sink.sent.lock().unwrap().iter().all(|b| b.len() <= 4));
}

#[tokio::test]
async fn per_item_retries_resend_only_those_items_and_rejects_are_dead_lettered() {
    let sink = Scripted::answering([Ok(Report {
        retry: vec![1, 3],
        rejected: vec![(2, "mapper_parsing_exception".into())],
        retry_after: None,
        ..Report::default()
    })]);
    let (sink, counters, dead) = one_at_a_time(sink, &[&["a", "b", "c", "d"]]).await;
    let sent = sink.sent.lock().unwrap().clone();
    assert_eq!(sent[0], vec!["a", "b", "c", "d"]);
    assert_eq!(
        sent[1],
        vec!["b", "d"],
        "only the items asked for are resent"
    );
    assert_eq!(
        sorted(sink.accepted.lock().unwrap().clone()),
        vec!["a", "b", "d"]
    );
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["record"], "c");
    assert_eq!(dead[0]["reason"], "mapper_parsing_exception");
    assert_eq!(counters.delivered_total(), 3);
    assert_eq!(counters.dead_lettered_total(), 1);
    assert_eq!(counters.queued_now(), 0);
}

#[tokio::test]
async fn too_large_splits_in_halves_and_a_single_oversized_unit_is_dead_lettered() {
    let too_large = || {
        Err(SinkError::TooLarge {
            reason: "HTTP 413".into(),
        })
    };
    // [a b c d] too large → [a b] ok, [c d] too large → [c] ok, [d] too large.
    let sink = Scripted::answering([
        too_large(),
        Ok(Report::delivered()),
        too_large(),
        Ok(Report::delivered()),
        too_large(),
    ]);
    let (sink, counters, dead) = one_at_a_time(sink, &[&["a", "b", "c", "d"]]).await;
    let sent = sink.sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        vec![
            vec!["a", "b", "c", "d"],
            vec!["a", "b"],
            vec!["c", "d"],
            vec!["c"],
            vec!["d"]
        ]
    );
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["record"], "d");
    assert_eq!(dead[0]["reason"], "too large: HTTP 413");
    assert_eq!(counters.delivered_total(), 3);
    assert_eq!(counters.dead_lettered_total(), 1);
}

#[tokio::test]
async fn permanent_failures_and_encode_errors_are_dead_lettered_with_their_reason() {
    let sink = Scripted::answering([Err(SinkError::Permanent {
        reason: "HTTP 403 Invalid token".into(),
    })]);
    let (sink, counters, dead) = one_at_a_time(sink, &[&["a", "b", "bad"], &["c"]]).await;
    let reasons: Vec<&str> = dead.iter().filter_map(|d| d["reason"].as_str()).collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "HTTP 403 Invalid token")
            .count(),
        3
    );
    assert!(
        reasons.contains(&"encode: refused by the test"),
        "{reasons:?}"
    );
    assert_eq!(dead.len(), 4);
    assert_eq!(
        counters.dead_lettered_total(),
        4,
        "a, b, c and the unencodable one"
    );
    assert_eq!(counters.received_total(), 4);
    assert_eq!(counters.delivered_total(), 0);
    assert_eq!(counters.queued_now(), 0);
    assert!(sink.accepted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unattributed_rejections_are_counted_not_resent() {
    let sink = Scripted::answering([Ok(Report {
        rejected_unattributed: Some((2, "2 log records had no timestamp".into())),
        ..Report::default()
    })]);
    let (sink, counters, dead) = one_at_a_time(sink, &[&["a", "b", "c"]]).await;
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
    assert_eq!(counters.delivered_total(), 1);
    assert_eq!(counters.dead_lettered_total(), 2);
    assert_eq!(dead[0]["record"]["unattributed_records"], 2);
}

#[tokio::test]
async fn shutdown_abandons_retries_into_dead_letters_instead_of_hanging() {
    let sink = Scripted::failing("connection refused");
    let mut config = fast_config();
    config.backoff.initial = Duration::from_secs(30);
    config.backoff.max = Duration::from_secs(30);
    let h = start(sink, config, 8);
    h.tx.send(chains(&["a", "b"])).await.unwrap();
    // Wait (bounded) until the first attempt failed and a retry is pending.
    for _ in 0..1000 {
        if h.counters.retried_total() > 0 || !h.sink.sent.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    h.abandon.send(true).unwrap();
    let (_sink, counters, dead) = h.finish().await;
    assert_eq!(counters.dead_lettered_total(), 2);
    assert!(
        dead.iter()
            .all(|d| d["reason"] == "undelivered at shutdown: connection refused"),
        "{dead:?}"
    );
}

#[tokio::test]
async fn a_stalled_destination_fills_the_queue_instead_of_memory() {
    let sink = Scripted {
        gate: Some(tokio::sync::Semaphore::new(0)),
        ..Scripted::default()
    };
    let mut config = fast_config();
    config.concurrency = 1;
    config.limits.max_items = 1;
    let h = start(sink, config, 2);
    // One request in flight, stalled; the driver then stops reading.
    let mut accepted = 0;
    for i in 0..50 {
        match h.tx.try_send(chains(&[&format!("r{i}")])) {
            Ok(()) => accepted += 1,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if h.tx.try_send(chains(&[&format!("r{i}")])).is_err() {
                    break;
                }
                accepted += 1;
            }
        }
    }
    assert!(accepted < 10, "the queue kept growing: {accepted} accepted");
    h.sink.gate.as_ref().unwrap().add_permits(1000);
    let (sink, counters, _) = h.finish().await;
    assert_eq!(sink.accepted.lock().unwrap().len(), accepted);
    assert_eq!(counters.delivered_total(), accepted as u64);
}

#[tokio::test]
async fn give_up_after_dead_letters_a_batch_that_never_gets_through() {
    let sink = Scripted::failing("HTTP 503");
    let mut config = fast_config();
    config.give_up_after = Some(Duration::from_millis(30));
    let h = start(sink, config, 8);
    h.tx.send(chains(&["a"])).await.unwrap();
    let (_sink, counters, dead) = h.finish().await;
    assert_eq!(counters.dead_lettered_total(), 1);
    assert!(
        dead[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("retries exhausted")
    );
}

#[tokio::test]
async fn the_finished_point_follows_the_oldest_unfinished_job() {
    // Nothing is answered until the test lets it: the point stays put;
    // then it passes all three jobs, the empty one included.
    let sink = Scripted {
        gate: Some(tokio::sync::Semaphore::new(0)),
        ..Scripted::default()
    };
    let mut config = fast_config();
    config.limits.max_items = 1;
    let h = start_with(sink, config, 8, true);
    h.tx.send(chains_at(100, &["slow"])).await.unwrap();
    h.tx.send(Job {
        lsn: 150,
        work: None,
    })
    .await
    .unwrap();
    h.tx.send(chains_at(200, &["x"])).await.unwrap();
    assert_eq!(h.point.done(), None);
    h.sink.gate.as_ref().unwrap().add_permits(2);
    for _ in 0..1000 {
        if h.point.done() == Some(200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(h.point.done(), Some(200));
    let point = Arc::clone(&h.point);
    let (_sink, counters, dead) = h.finish().await;
    assert_eq!(counters.delivered_total(), 2);
    assert!(dead.is_empty());
    assert!(point.wait_stopped(Duration::from_secs(1)));
}

#[tokio::test]
async fn wal_fed_work_abandoned_at_shutdown_stays_unfinished_not_dead() {
    let sink = Scripted::failing("connection refused");
    let mut config = fast_config();
    config.backoff.initial = Duration::from_secs(30);
    config.backoff.max = Duration::from_secs(30);
    let h = start_with(sink, config, 8, true);
    h.tx.send(Job {
        lsn: 10,
        work: None,
    })
    .await
    .unwrap();
    h.tx.send(chains_at(20, &["a", "b"])).await.unwrap();
    for _ in 0..1000 {
        if h.counters.retried_total() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(h.counters.retried_total() > 0);
    h.abandon.send(true).unwrap();
    let point = Arc::clone(&h.point);
    let (_sink, counters, dead) = h.finish().await;
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(counters.dead_lettered_total(), 0);
    assert_eq!(counters.queued_now(), 2, "still queued: the WAL keeps them");
    assert_eq!(
        point.done(),
        Some(10),
        "only the job before them is finished"
    );
}

/// A [`Scripted`] the test keeps a handle on after `SinkSet::spawn`.
struct Shared(Arc<Scripted>);

impl Sink for Shared {
    fn limits(&self) -> BatchLimits {
        self.0.limits()
    }
    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.0.encode_with(item, detail, out)
    }
    fn encode_chain(&self, chain: &PromptChain) -> Result<Encoded, EncodeError> {
        self.0.encode_chain(chain)
    }
    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        self.0.send(batch).await
    }
}

/// Runs one "process lifetime": a sink fed from the WAL in `dir`, the
/// writer appending `rounds` of chains, then shutdown with `deadline`.
async fn wal_lifetime(
    dir: &std::path::Path,
    sink: Arc<Scripted>,
    rounds: &[&[&str]],
    deadline: Duration,
) -> crate::driver::stats::SinkCounters {
    use cairn_pipeline::journal::Journal as _;
    use cairn_store::{
        journal::WalJournal,
        wal::{Wal, WalConfig},
    };
    let mut wal = Wal::open(dir.join("wal"), WalConfig::default()).unwrap();
    let stats = SinkStats::default();
    let mut set = crate::runtime::SinkSet::replaying();
    set.spawn(
        "s",
        Shared(sink),
        Route::everything(),
        fast_config(),
        8,
        dir,
        &stats,
    )
    .unwrap();
    let recent = cairn_store::journal::Recent::new(1 << 20);
    set.feed_from(&mut wal, &recent, true).unwrap();
    let counters = set.handles()[0].counters.clone();
    let mut journal = WalJournal::new(wal, recent);
    for names in rounds {
        let Work::Chains(c) = chain_work(names) else {
            unreachable!()
        };
        journal.append_chains(&c).unwrap();
        journal.commit().unwrap();
    }
    drop(journal);
    set.drain(deadline).await;
    counters
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wal_fed_sink_gets_everything_and_a_failed_one_gets_it_again_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // First life: the destination refuses everything; shutdown abandons.
    let down = Arc::new(Scripted::failing("connection refused"));
    let counters = wal_lifetime(
        dir.path(),
        Arc::clone(&down),
        &[&["a", "b"], &["c"]],
        Duration::from_millis(300),
    )
    .await;
    assert!(down.accepted.lock().unwrap().is_empty());
    assert_eq!(counters.dead_lettered_total(), 0, "kept, not dead-lettered");
    assert_eq!(counters.queued_now(), 3);
    // Second life: the backlog is read again and delivered, then new work.
    let up = Arc::new(Scripted::default());
    let counters = wal_lifetime(
        dir.path(),
        Arc::clone(&up),
        &[&["d"]],
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        sorted(up.accepted.lock().unwrap().clone()),
        ["a", "b", "c", "d"]
    );
    assert_eq!(counters.received_total(), 4);
    assert_eq!(counters.delivered_total(), 4);
    assert_eq!(counters.queued_now(), 0);
    // Third life: nothing is left to replay.
    let idle = Arc::new(Scripted::default());
    wal_lifetime(dir.path(), Arc::clone(&idle), &[], Duration::from_secs(10)).await;
    assert!(idle.sent.lock().unwrap().is_empty());
}
