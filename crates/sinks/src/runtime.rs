//! Running sinks: one driver task per sink behind a bounded queue, and one
//! WAL reader thread per sink ([`SinkFeed`]) that fills the queue from the
//! write-ahead log with what the sink's route wants and acknowledges what
//! the driver finished.
//!
//! Each sink reads at its own pace through its own cursor: a sink that is
//! down or slow only grows its backlog in the log (bounded by the log's
//! budget, which pushes back on receivers when full), never memory, and
//! never slows the other sinks. What a sink had not finished at a stop or
//! crash is read again on the next start.

use std::{path::Path, sync::Arc, time::Duration};

use cairn_store::{
    journal::{ConsumeError, Consumer, Entry, Recent, consume_events},
    wal::{Lsn, Wal, WalError},
};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    driver::{
        DriverConfig, Job, Work,
        dead_letter::DeadLetters,
        progress::AckPoint,
        run::Driver,
        stats::{SinkCounters, SinkStats},
    },
    route::Route,
    sink::Sink,
};

/// The WAL consumer name of a sink.
pub fn consumer_name(sink: &str) -> String {
    format!("sink.{sink}")
}

/// One running sink, as the topology holds it.
pub struct SinkHandle {
    /// Its configured name.
    pub name: String,
    /// What it takes.
    pub route: Route,
    /// Its queue, until a WAL reader takes it over.
    pub queue: Option<mpsc::Sender<Job>>,
    /// Its counters.
    pub counters: SinkCounters,
    point: Arc<AckPoint>,
    feeder: Option<std::thread::JoinHandle<()>>,
    task: JoinHandle<()>,
}

/// Every running sink, with the shared shutdown signal.
pub struct SinkSet {
    handles: Vec<SinkHandle>,
    abandon: watch::Sender<bool>,
    replays: bool,
}

impl Default for SinkSet {
    fn default() -> Self {
        SinkSet {
            handles: Vec::new(),
            abandon: watch::channel(false).0,
            replays: false,
        }
    }
}

/// Queue length (in work items: batches or chain groups) of each sink. The
/// backlog waits in the WAL; this only keeps the driver busy.
pub const DEFAULT_QUEUE: usize = 32;

impl SinkSet {
    /// Starts `sink` as a driver task on the current tokio runtime.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn<S: Sink>(
        &mut self,
        name: &str,
        sink: S,
        route: Route,
        config: DriverConfig,
        queue: usize,
        data_dir: &Path,
        stats: &SinkStats,
    ) -> std::io::Result<()> {
        let counters = stats.for_sink(name);
        let point = Arc::new(AckPoint::default());
        let driver = Driver {
            name: name.to_owned(),
            sink: Arc::new(sink),
            route: route.clone(),
            config,
            dead_letters: DeadLetters::open(data_dir, name)?,
            counters: counters.clone(),
            point: Arc::clone(&point),
            replays: self.replays,
        };
        let (tx, rx) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(driver.run(rx, self.abandon.subscribe()));
        self.handles.push(SinkHandle {
            name: name.to_owned(),
            route,
            queue: Some(tx),
            counters,
            point,
            feeder: None,
            task,
        });
        Ok(())
    }

    /// Feeds every sink from `wal`: registers each sink's consumer (a new
    /// one starts at the head; a known one at its cursor, so its unfinished
    /// backlog is read again) and starts its reader thread, which takes
    /// entries still in `recent` without decoding them. Call before the
    /// writer starts appending. With `chain_events` false, the events that
    /// belong to a prompt chain are left out (`chains.raw_events = false`).
    pub fn feed_from(
        &mut self,
        wal: &mut Wal,
        recent: &Recent,
        chain_events: bool,
    ) -> Result<(), WalError> {
        for h in &mut self.handles {
            let Some(tx) = h.queue.take() else {
                continue;
            };
            let reader = wal.register(&consumer_name(&h.name))?;
            let recent = recent.clone();
            let mut feed = SinkFeed {
                route: h.route.clone(),
                tx: Some(tx),
                point: Arc::clone(&h.point),
                abandon: self.abandon.subscribe(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("cairn-feed-{}", h.name))
                .spawn(move || consume_events(reader, &recent, &mut feed, chain_events))
                .map_err(|source| WalError::Io {
                    path: wal.dir().clone(),
                    source,
                })?;
            h.feeder = Some(thread);
        }
        Ok(())
    }

    /// The running sinks.
    pub fn handles(&self) -> &[SinkHandle] {
        &self.handles
    }

    /// Whether no sink is configured.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// A set whose sinks will be fed from the WAL ([`SinkSet::feed_from`]):
    /// work abandoned at shutdown stays in the log instead of being
    /// dead-lettered.
    pub fn replaying() -> SinkSet {
        SinkSet {
            replays: true,
            ..SinkSet::default()
        }
    }

    /// Waits for every sink to drain: WAL-fed sinks read to the head once
    /// the writer is gone; directly fed ones take what was queued. After
    /// `deadline`, reading stops and retries still pending are abandoned:
    /// kept in the WAL for the next start, or (fed directly) dead-lettered
    /// as "undelivered at shutdown".
    pub async fn drain(self, deadline: Duration) {
        let SinkSet {
            handles,
            abandon,
            replays,
        } = self;
        let mut tasks = Vec::new();
        let mut feeders = Vec::new();
        for mut h in handles {
            drop(h.queue.take());
            feeders.extend(h.feeder.take());
            tasks.push((h.name, h.task));
        }
        let all = futures::future::join_all(tasks.into_iter().map(|(name, task)| async move {
            if let Err(e) = task.await {
                tracing::error!(sink = %name, error = %e, "sink task failed");
            }
        }));
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => {}
            () = tokio::time::sleep(deadline) => {
                if replays {
                    tracing::warn!("sinks did not finish by the drain deadline; what they hold stays in the WAL for the next start");
                } else {
                    tracing::warn!("sinks did not finish by the drain deadline; pending retries are dead-lettered");
                }
                let _ = abandon.send(true);
                all.await;
            }
        }
        for feeder in feeders {
            let joined = tokio::task::spawn_blocking(move || feeder.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("a sink's WAL reader failed");
            }
        }
    }
}

/// A sink's WAL reader: hands the driver each frame's work (what the route
/// wants, or an empty job that only moves the finished point) and reports
/// the driver's finished point for acknowledgement.
struct SinkFeed {
    route: Route,
    tx: Option<mpsc::Sender<Job>>,
    point: Arc<AckPoint>,
    abandon: watch::Receiver<bool>,
}

/// How long a closing reader waits for its driver after the queue closed;
/// the drain deadline normally ends the driver well before.
const DRIVER_STOP_WAIT: Duration = Duration::from_secs(600);

impl SinkFeed {
    fn work(&self, entry: Entry) -> Option<Work> {
        match entry {
            Entry::Batch(batch) => {
                let wanted = self.route.takes_batches()
                    && batch
                        .records
                        .iter()
                        .any(|r| self.route.accepts_record(r, &batch.origin));
                wanted.then_some(Work::Batch(batch))
            }
            Entry::Chains(chains) => {
                let mine: Vec<_> = chains
                    .iter()
                    .filter(|c| self.route.accepts_chain(c))
                    .cloned()
                    .collect();
                (!mine.is_empty()).then(|| Work::Chains(Arc::new(mine)))
            }
        }
    }
}

impl Consumer for SinkFeed {
    fn take(&mut self, lsn: Lsn, entry: Option<Entry>) -> Result<(), ConsumeError> {
        let work = entry.and_then(|e| self.work(e));
        let tx = self.tx.as_ref().ok_or(ConsumeError::Gone)?;
        tx.blocking_send(Job { lsn: lsn.0, work })
            .map_err(|_| ConsumeError::Gone)
    }

    fn finished(&mut self) -> std::io::Result<Option<Lsn>> {
        Ok(self.point.done().map(Lsn))
    }

    fn should_stop(&self) -> bool {
        *self.abandon.borrow()
    }

    fn close(&mut self) -> Option<Lsn> {
        drop(self.tx.take());
        if !self.point.wait_stopped(DRIVER_STOP_WAIT) {
            tracing::error!("a sink driver did not stop; its position is kept where it was");
        }
        self.point.done().map(Lsn)
    }
}
