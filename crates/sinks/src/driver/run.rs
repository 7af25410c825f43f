//! The delivery loop every sink runs: one tokio task per sink.
//!
//! It takes [`Work`] (acknowledged batches and closed chains) from the
//! sink's bounded queue, encodes what the route accepts, batches the units
//! per lane by count, bytes and delay, and keeps at most `concurrency`
//! requests in flight. Each request is delivered by [`deliver`]: retryable
//! failures are resent with exponential backoff and jitter (never sooner
//! than the server's `Retry-After` / `RetryInfo`), per-item retries resend
//! only those items, "too large" splits the batch in halves, and permanent
//! failures go to the dead-letter file with their reason. Nothing is dropped
//! without a counter and a dead-letter line.
//!
//! While every request slot is busy the loop stops reading its queue, so a
//! slow destination fills the queue and its WAL reader waits, instead of
//! memory growing. Each [`Job`] carries its WAL position; [`Progress`]
//! publishes how far everything is delivered or dead-lettered, which the
//! reader acknowledges. At shutdown the queue is drained; once `abandon` is
//! signalled (the drain deadline), requests still retrying stop: a sink fed
//! from the WAL leaves them unfinished, to be read again on the next start,
//! and one fed directly dead-letters them as "undelivered at shutdown".

use std::{collections::VecDeque, sync::Arc, time::Duration};

use cairn_core::{chain::PromptChain, record::Batch};
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
    time::Instant,
};

use super::{
    backoff::{Backoff, Jitter},
    batch::{BatchLimits, Batcher},
    dead_letter::DeadLetters,
    error::SinkError,
    progress::{AckPoint, Progress, StopOnDrop},
    stats::SinkCounters,
};
use crate::{
    route::Route,
    sink::{EncodeError, Encoded, Sink},
};

/// What the writer hands a sink.
#[derive(Clone, Debug)]
pub enum Work {
    /// An acknowledged batch of records.
    Batch(Arc<Batch>),
    /// Closed prompt chains (already filtered by the sink's route).
    Chains(Arc<Vec<PromptChain>>),
}

/// One queued item with its position in the write-ahead log.
#[derive(Clone, Debug)]
pub struct Job {
    /// The LSN of the frame it came from (0 when fed directly).
    pub lsn: u64,
    /// What to deliver; `None` when the frame holds nothing for this sink
    /// (it still moves the finished point).
    pub work: Option<Work>,
}

impl Job {
    /// A job fed directly, not from the WAL.
    pub fn direct(work: Work) -> Job {
        Job {
            lsn: 0,
            work: Some(work),
        }
    }
}

/// How one sink delivers.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Batch caps (the sink's documented limits unless configured lower).
    pub limits: BatchLimits,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Retry delays.
    pub backoff: Backoff,
    /// Give up (dead-letter) after retrying this long; `None`: retry until
    /// delivered or shutdown.
    pub give_up_after: Option<Duration>,
}

impl DriverConfig {
    /// Defaults around a sink's limits.
    pub fn new(limits: BatchLimits) -> DriverConfig {
        DriverConfig {
            limits,
            concurrency: 4,
            backoff: Backoff::default(),
            give_up_after: None,
        }
    }
}

/// What [`deliver`] did with one batch.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Records delivered (including duplicates the server already had).
    pub records: u64,
    /// Units refused for good, with the reason.
    pub dead: Vec<(Encoded, String)>,
    /// Records refused without naming them (OTLP partial success).
    pub unattributed: Vec<(u64, String)>,
    /// Units still undelivered when shutdown abandoned retries, with why.
    pub abandoned: Vec<(Encoded, String)>,
}

/// Waits `delay`, or returns `false` at once if shutdown abandoned retries.
async fn wait_or_abandon(delay: Duration, abandon: &mut watch::Receiver<bool>) -> bool {
    if *abandon.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        _ = abandon.wait_for(|a| *a) => false,
    }
}

/// Delivers one batch: sends, retries, splits, and sorts what cannot be
/// delivered into dead letters. Never returns an error: every unit ends up
/// delivered or in [`Delivered::dead`].
pub async fn deliver<S: Sink>(
    sink: &S,
    units: Vec<Encoded>,
    config: &DriverConfig,
    mut abandon: watch::Receiver<bool>,
    counters: &SinkCounters,
) -> Delivered {
    let mut out = Delivered::default();
    let mut jitter = Jitter::new();
    let mut pending = vec![units];
    while let Some(mut batch) = pending.pop() {
        let started = Instant::now();
        let mut failures = 0u32;
        loop {
            if batch.is_empty() {
                break;
            }
            let (why, hint) = match sink.send(&batch).await {
                Ok(report) => {
                    let mut retry = Vec::new();
                    let mut refused = vec![false; batch.len()];
                    for &i in &report.retry {
                        if let Some(flag) = refused.get_mut(i)
                            && !*flag
                        {
                            *flag = true;
                            retry.push(batch[i].clone());
                        }
                    }
                    for (i, reason) in &report.rejected {
                        if let Some(flag) = refused.get_mut(*i)
                            && !*flag
                        {
                            *flag = true;
                            out.dead.push((batch[*i].clone(), reason.clone()));
                        }
                    }
                    let mut ok = 0u64;
                    for (unit, refused) in batch.iter().zip(&refused) {
                        if !refused {
                            ok += u64::from(unit.records);
                        }
                    }
                    if let Some((n, reason)) = report.rejected_unattributed {
                        let n = n.min(ok);
                        ok -= n;
                        out.unattributed.push((n, reason));
                    }
                    out.records += ok;
                    if retry.is_empty() {
                        break;
                    }
                    batch = retry;
                    (
                        format!("{} items asked to be resent", batch.len()),
                        report.retry_after,
                    )
                }
                Err(SinkError::TooLarge { reason }) => {
                    if batch.len() > 1 {
                        let second = batch.split_off(batch.len() / 2);
                        pending.push(second);
                        pending.push(batch);
                    } else {
                        out.dead
                            .extend(batch.drain(..).map(|u| (u, format!("too large: {reason}"))));
                    }
                    break;
                }
                Err(SinkError::Permanent { reason }) => {
                    out.dead
                        .extend(batch.drain(..).map(|u| (u, reason.clone())));
                    break;
                }
                Err(SinkError::Retryable {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
            };
            failures = failures.saturating_add(1);
            counters.retried(1);
            let elapsed = started.elapsed();
            if config.give_up_after.is_some_and(|limit| elapsed >= limit) {
                let reason = format!("retries exhausted after {}s: {why}", elapsed.as_secs());
                out.dead
                    .extend(batch.drain(..).map(|u| (u, reason.clone())));
                break;
            }
            let delay = config.backoff.delay(failures, jitter.unit(), hint);
            tracing::debug!(failures, ?delay, reason = %why, "retrying a sink request");
            if !wait_or_abandon(delay, &mut abandon).await {
                let reason = format!("undelivered at shutdown: {why}");
                out.abandoned
                    .extend(batch.drain(..).map(|u| (u, reason.clone())));
                break;
            }
        }
    }
    out
}

/// One running sink: its name, encoder/client, route and counters.
pub struct Driver<S: Sink> {
    /// The sink's configured name (labels, dead-letter file).
    pub name: String,
    /// The destination.
    pub sink: Arc<S>,
    /// What it receives.
    pub route: Route,
    /// How it delivers.
    pub config: DriverConfig,
    /// Where refused records go.
    pub dead_letters: DeadLetters,
    /// Its counters.
    pub counters: SinkCounters,
    /// How far it has finished, for its WAL reader.
    pub point: Arc<AckPoint>,
    /// Fed from the WAL: work abandoned at shutdown is left unfinished (read
    /// again on the next start) instead of dead-lettered.
    pub replays: bool,
}

/// Units batched together, each with its job's sequence number.
type Units = Vec<(Encoded, u64)>;

impl<S: Sink> Driver<S> {
    fn encode(
        &mut self,
        job: &Job,
        progress: &mut Progress,
        batchers: &mut [Batcher<(Encoded, u64)>],
        ready: &mut VecDeque<Units>,
    ) {
        let seq = progress.open(job.lsn);
        let mut units: Vec<Result<Encoded, EncodeError>> = Vec::new();
        match &job.work {
            Some(Work::Batch(batch)) => self.sink.encode_batch(batch, &self.route, &mut units),
            Some(Work::Chains(chains)) => {
                units.extend(chains.iter().map(|c| self.sink.encode_chain(c)));
            }
            None => {}
        }
        let now = std::time::Instant::now();
        let mut failed = Vec::new();
        for unit in units {
            match unit {
                Ok(unit) => {
                    self.counters.received(u64::from(unit.records));
                    let size = unit.bytes.len();
                    let lane = usize::from(unit.lane).min(batchers.len().saturating_sub(1));
                    if let Some(b) = batchers.get_mut(lane) {
                        progress.add(seq);
                        ready.extend(b.push((unit, seq), size, now));
                    }
                }
                Err(e) => failed.push(e.0),
            }
        }
        for reason in failed {
            self.counters.received(1);
            self.dead_letter_count(1, &format!("encode: {reason}"));
        }
        progress.advance(&self.point);
    }

    /// Books a finished request: counters, dead letters, progress.
    fn finished(&mut self, d: Delivered, seqs: Vec<u64>, progress: &mut Progress) {
        self.counters.delivered(d.records);
        for (n, reason) in d.unattributed {
            self.dead_letter_count(n, &format!("rejected by the server: {reason}"));
        }
        self.dead_letter(d.dead);
        if d.abandoned.is_empty() {
            seqs.into_iter().for_each(|seq| progress.finish(seq));
            progress.advance(&self.point);
        } else if self.replays {
            // Left unfinished: the WAL keeps them for the next start, and
            // they stay counted as queued.
            tracing::info!(sink = %self.name, units = d.abandoned.len(), "undelivered at shutdown; kept in the WAL for the next start");
        } else {
            self.dead_letter(d.abandoned);
        }
    }

    fn dead_letter(&mut self, dead: Vec<(Encoded, String)>) {
        let now = crate::now_unix_nano();
        for (unit, reason) in dead {
            let n = u64::from(unit.records);
            let record = payload_json(&unit.bytes);
            if let Err(e) = self.dead_letters.write(&reason, now, &[record]) {
                tracing::error!(sink = %self.name, error = %e, "writing a dead letter failed");
            }
            self.dead_letter_reason(&reason, n);
        }
    }

    fn dead_letter_reason(&self, reason: &str, n: u64) {
        // A server's reason can quote the record (Elastic's mapper errors
        // preview field values), so it is kept out of info-level logs: the
        // dead-letter file has it.
        tracing::warn!(sink = %self.name, records = n, "records dead-lettered; the reason is in the sink's dead-letter file");
        tracing::debug!(sink = %self.name, reason = %reason, "dead-letter reason");
        self.counters.dead_lettered(n);
    }

    fn dead_letter_count(&mut self, n: u64, reason: &str) {
        let now = crate::now_unix_nano();
        let note = serde_json::json!({"unattributed_records": n});
        if let Err(e) = self.dead_letters.write(reason, now, &[note]) {
            tracing::error!(sink = %self.name, error = %e, "writing a dead letter failed");
        }
        self.dead_letter_reason(reason, n);
    }

    /// Runs until the queue is closed and everything taken is delivered or
    /// dead-lettered.
    pub async fn run(mut self, mut queue: mpsc::Receiver<Job>, abandon: watch::Receiver<bool>) {
        let _stopped = StopOnDrop(Arc::clone(&self.point));
        let lanes = usize::from(self.sink.lanes().max(1));
        let mut batchers: Vec<Batcher<(Encoded, u64)>> = (0..lanes)
            .map(|_| Batcher::new(self.config.limits))
            .collect();
        let mut ready: VecDeque<Units> = VecDeque::new();
        let mut progress = Progress::default();
        let mut inflight: JoinSet<(Delivered, Vec<u64>)> = JoinSet::new();
        let concurrency = self.config.concurrency.max(1);
        let mut open = true;
        loop {
            while inflight.len() < concurrency
                && let Some(batch) = ready.pop_front()
            {
                let sink = Arc::clone(&self.sink);
                let config = self.config.clone();
                let abandon = abandon.clone();
                let counters = self.counters.clone();
                let (units, seqs): (Vec<Encoded>, Vec<u64>) = batch.into_iter().unzip();
                inflight.spawn(async move {
                    let d = deliver(sink.as_ref(), units, &config, abandon, &counters).await;
                    (d, seqs)
                });
            }
            if !open && ready.is_empty() && inflight.is_empty() {
                if batchers.iter().all(Batcher::is_empty) {
                    break;
                }
                ready.extend(batchers.iter_mut().filter_map(Batcher::take));
                continue;
            }
            let deadline = batchers.iter().filter_map(Batcher::deadline).min();
            let can_take = open && inflight.len() < concurrency && ready.is_empty();
            tokio::select! {
                Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                    match done {
                        Ok((d, seqs)) => self.finished(d, seqs, &mut progress),
                        Err(e) => tracing::error!(sink = %self.name, error = %e, "a delivery task failed"),
                    }
                }
                job = queue.recv(), if can_take => match job {
                    Some(job) => self.encode(&job, &mut progress, &mut batchers, &mut ready),
                    None => {
                        open = false;
                        ready.extend(batchers.iter_mut().filter_map(Batcher::take));
                    }
                },
                () = sleep_until_std(deadline), if deadline.is_some() && ready.is_empty() => {
                    let now = std::time::Instant::now();
                    ready.extend(batchers.iter_mut().filter_map(|b| b.due(now)));
                }
            }
        }
        tracing::info!(sink = %self.name, "sink drained");
    }
}

async fn sleep_until_std(deadline: Option<std::time::Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(Instant::from_std(d)).await;
    }
}

/// The dead-letter form of a unit: its JSON when it is JSON (an array of
/// the lines when it is several JSON lines, like an Elastic action and its
/// document), its text when it is text, base64 otherwise (OTLP protobuf).
fn payload_json(bytes: &[u8]) -> serde_json::Value {
    use base64::Engine as _;
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text.trim_end())
            .or_else(|_| {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(serde_json::from_str)
                    .collect::<Result<Vec<serde_json::Value>, _>>()
                    .map(serde_json::Value::Array)
            })
            .unwrap_or_else(|_| serde_json::Value::String(text.to_owned())),
        Err(_) => serde_json::json!({
            "protobuf_base64": base64::engine::general_purpose::STANDARD.encode(bytes)
        }),
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
