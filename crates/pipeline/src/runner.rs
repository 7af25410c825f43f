//! The bounded queue and its writer thread.
//!
//! Receivers `submit` a batch with a one-shot reply channel; the queue is
//! bounded, so a full queue is an immediate `Overloaded` (the client gets
//! UNAVAILABLE / 503 with `Retry-After` and retries), never unbounded memory.
//! The writer thread takes everything queued, writes it, flushes once, and
//! only then answers each submitter: group commit, so one flush covers many
//! requests under load.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use cairn_core::{
    ingest::{Ingest, SubmitError, SubmitFuture},
    record::Batch,
};
use tokio::sync::{mpsc, oneshot};

use crate::output::Output;

type Reply = oneshot::Sender<Result<(), SubmitError>>;

/// Queue settings.
#[derive(Clone, Copy, Debug)]
pub struct PipelineConfig {
    /// How many batches may wait for the writer.
    pub queue_batches: usize,
    /// The `Retry-After` hint when the queue is full.
    pub retry_after: Duration,
    /// The most batches written before one flush.
    pub max_group: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_batches: 1024,
            retry_after: Duration::from_secs(1),
            max_group: 256,
        }
    }
}

/// The ingest receivers submit to. Cloning shares the same queue.
pub struct Pipeline {
    tx: Mutex<Option<mpsc::Sender<(Batch, Reply)>>>,
    closed: AtomicBool,
    retry_after: Duration,
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
    /// Starts the writer thread over `output`.
    pub fn start(
        config: PipelineConfig,
        output: Box<dyn Output>,
    ) -> std::io::Result<Arc<Pipeline>> {
        let (tx, rx) = mpsc::channel(config.queue_batches.max(1));
        let max_group = config.max_group.max(1);
        let writer = std::thread::Builder::new()
            .name("cairn-writer".into())
            .spawn(move || write_loop(rx, output, max_group))?;
        Ok(Arc::new(Pipeline {
            tx: Mutex::new(Some(tx)),
            closed: AtomicBool::new(false),
            retry_after: config.retry_after,
            writer: Mutex::new(Some(writer)),
        }))
    }

    fn sender(&self) -> Option<mpsc::Sender<(Batch, Reply)>> {
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
            let (reply, answer) = oneshot::channel();
            match tx.try_send((batch, reply)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return Err(SubmitError::Overloaded {
                        retry_after: self.retry_after,
                    });
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(SubmitError::ShuttingDown),
            }
            drop(tx);
            answer.await.unwrap_or(Err(SubmitError::ShuttingDown))
        })
    }
}

fn write_loop(
    mut rx: mpsc::Receiver<(Batch, Reply)>,
    mut output: Box<dyn Output>,
    max_group: usize,
) {
    let mut group: Vec<(Batch, Reply)> = Vec::with_capacity(max_group);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < max_group {
            match rx.try_recv() {
                Ok(item) => group.push(item),
                Err(_) => break,
            }
        }
        let result = group
            .iter()
            .try_for_each(|(batch, _)| output.write(batch))
            .and_then(|()| output.flush())
            .map_err(|e| {
                tracing::error!(error = %e, "writing records failed; requests are refused, not acknowledged");
                SubmitError::Storage(e.kind().to_string())
            });
        for (_, reply) in group.drain(..) {
            let _ = reply.send(result.clone());
        }
    }
    if let Err(e) = output.flush() {
        tracing::error!(error = %e, "final flush failed");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::atomic::AtomicUsize;

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
}
