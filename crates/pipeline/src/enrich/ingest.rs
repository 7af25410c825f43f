//! Enrichment on the receive path: an [`Ingest`] that assigns every batch's
//! records to their cost center before handing the batch on, so the queue,
//! the records file, the chains and every sink see enriched records.

use std::sync::Arc;

use cairn_core::{
    ingest::{Ingest, SubmitFuture},
    record::Batch,
};

use super::Enricher;

/// Enriches each batch, then submits it to `inner`.
pub struct Enriching {
    inner: Arc<dyn Ingest>,
    enricher: Arc<Enricher>,
}

impl Enriching {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Ingest>, enricher: Arc<Enricher>) -> Enriching {
        Enriching { inner, enricher }
    }
}

impl std::fmt::Debug for Enriching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enriching").finish_non_exhaustive()
    }
}

impl Ingest for Enriching {
    fn submit(&self, mut batch: Batch) -> SubmitFuture<'_> {
        self.enricher.enrich(&mut batch);
        self.inner.submit(batch)
    }
}
