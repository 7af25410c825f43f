//! Running sinks: one driver task per sink behind a bounded queue, and the
//! writer-thread [`Output`] that hands acknowledged batches and closed
//! chains to every sink whose route wants them.
//!
//! The queue is bounded and the writer blocks on a full one, so a sink that
//! falls behind pushes back through the writer's queue to the receivers
//! (503 / UNAVAILABLE) instead of growing memory. Until the write-ahead log
//! lands, that also means a stalled sink slows the others; each sink then
//! reads the log through its own cursor instead.

use std::{path::Path, sync::Arc, time::Duration};

use cairn_core::{chain::PromptChain, record::Batch};
use cairn_pipeline::output::Output;
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    driver::{
        DriverConfig, Work,
        dead_letter::DeadLetters,
        run::Driver,
        stats::{SinkCounters, SinkStats},
    },
    route::Route,
    sink::Sink,
};

/// One running sink, as the topology holds it.
pub struct SinkHandle {
    /// Its configured name.
    pub name: String,
    /// What it takes.
    pub route: Route,
    /// Its queue.
    pub queue: mpsc::Sender<Work>,
    /// Its counters.
    pub counters: SinkCounters,
    task: JoinHandle<()>,
}

/// Every running sink, with the shared shutdown signal.
pub struct SinkSet {
    handles: Vec<SinkHandle>,
    abandon: watch::Sender<bool>,
}

impl Default for SinkSet {
    fn default() -> Self {
        SinkSet {
            handles: Vec::new(),
            abandon: watch::channel(false).0,
        }
    }
}

/// Queue length (in work items: batches or chain groups) of each sink.
pub const DEFAULT_QUEUE: usize = 256;

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
        let driver = Driver {
            name: name.to_owned(),
            sink: Arc::new(sink),
            route: route.clone(),
            config,
            dead_letters: DeadLetters::open(data_dir, name)?,
            counters: counters.clone(),
        };
        let (tx, rx) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(driver.run(rx, self.abandon.subscribe()));
        self.handles.push(SinkHandle {
            name: name.to_owned(),
            route,
            queue: tx,
            counters,
            task,
        });
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

    /// The writer-thread output feeding every sink.
    pub fn output(&self) -> SinkOutput {
        SinkOutput {
            targets: self
                .handles
                .iter()
                .map(|h| (h.route.clone(), h.queue.clone()))
                .collect(),
        }
    }

    /// Waits for every sink to drain after the writer closed its queues.
    /// After `deadline`, retries still pending are abandoned: their records
    /// go to the dead-letter files as "undelivered at shutdown".
    pub async fn drain(self, deadline: Duration) {
        let SinkSet { handles, abandon } = self;
        let mut tasks = Vec::new();
        for h in handles {
            drop(h.queue);
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
                tracing::warn!("sinks did not drain in time; pending retries are dead-lettered");
                let _ = abandon.send(true);
                all.await;
            }
        }
    }
}

/// The writer thread's side of the sinks.
pub struct SinkOutput {
    targets: Vec<(Route, mpsc::Sender<Work>)>,
}

fn closed() -> std::io::Error {
    std::io::Error::other("a sink stopped")
}

impl Output for SinkOutput {
    fn write(&mut self, batch: &Batch) -> std::io::Result<()> {
        self.write_shared(&Arc::new(batch.clone()))
    }

    fn write_shared(&mut self, batch: &Arc<Batch>) -> std::io::Result<()> {
        for (route, tx) in &self.targets {
            let wanted = route.takes_batches()
                && batch
                    .records
                    .iter()
                    .any(|r| route.accepts_record(r, &batch.origin));
            if wanted {
                tx.blocking_send(Work::Batch(Arc::clone(batch)))
                    .map_err(|_| closed())?;
            }
        }
        Ok(())
    }

    fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
        for (route, tx) in &self.targets {
            let mine: Vec<PromptChain> = chains
                .iter()
                .filter(|c| route.accepts_chain(c))
                .cloned()
                .collect();
            if !mine.is_empty() {
                tx.blocking_send(Work::Chains(Arc::new(mine)))
                    .map_err(|_| closed())?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
