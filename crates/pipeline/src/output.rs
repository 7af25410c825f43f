//! The synchronous interface every output of the writer thread implements.

use std::sync::Arc;

use cairn_core::{chain::PromptChain, record::Batch};

/// A place batches are written to, on the writer thread.
///
/// `write` may buffer; a batch counts as safe only after `flush` returns
/// `Ok`, and only then is it acknowledged to the client.
pub trait Output: Send + 'static {
    /// Writes (or buffers) a batch.
    fn write(&mut self, batch: &Batch) -> std::io::Result<()>;
    /// Writes a shared batch; outputs that hand batches on to other threads
    /// (the sinks) keep the `Arc` instead of copying the records.
    fn write_shared(&mut self, batch: &Arc<Batch>) -> std::io::Result<()> {
        self.write(batch)
    }
    /// Writes (or buffers) prompt-chain records. Outputs that only take raw
    /// records ignore them.
    fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
        let _ = chains;
        Ok(())
    }
    /// Makes everything written so far safe.
    fn flush(&mut self) -> std::io::Result<()>;
}

/// An output that discards everything (benchmarks, `--blackhole`).
#[derive(Debug, Default)]
pub struct Discard;

impl Output for Discard {
    fn write(&mut self, _batch: &Batch) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes to several outputs in order; the first error wins.
#[derive(Default)]
pub struct Fanout(pub Vec<Box<dyn Output>>);

impl Output for Fanout {
    fn write(&mut self, batch: &Batch) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|o| o.write(batch))
    }
    fn write_shared(&mut self, batch: &Arc<Batch>) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|o| o.write_shared(batch))
    }
    fn write_chains(&mut self, chains: &[PromptChain]) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|o| o.write_chains(chains))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|o| o.flush())
    }
}
