//! Builds and runs the gateway from a [`Plan`]: binds every listener first
//! (so a bad address fails before anything starts), opens the write-ahead
//! log and starts its consumers (each sink, the archive), starts the
//! pipeline, serves, and on shutdown drains receivers before closing the
//! pipeline so every acknowledged batch is in the log, then lets the
//! consumers finish (the archive to the head; the sinks until the drain
//! deadline, leaving the rest in the log for the next start).

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
};

use anyhow::Context as _;
use cairn_core::{clock::SystemClock, ingest::Ingest};
use cairn_otlp::{
    auth::Authenticator, grpc::OtlpGrpcService, receiver::Receiver, serve::serve,
    stats::ReceiverStats,
};
use cairn_pipeline::{
    chain_stage::ChainStage,
    correlate::Correlator,
    enrich::{Enricher, Enriching, SpendMeter},
    journal::Journal,
    output::{Discard, Output},
    records_file::RecordsFile,
    redact::{RedactStage, RedactionStats},
    runner::{Pipeline, Stage},
};
use cairn_sinks::{
    driver::stats::SinkStats,
    runtime::{SinkSet, consumer_name},
};
use cairn_store::{
    archive::{Archive, ArchiveKey, ArchiveOutput},
    journal::{ArchiveConsumer, RECENT_BYTES, Recent, STAGES_CONSUMER, WalJournal, consume_events},
    wal::Wal,
};
use prometheus_client::registry::Registry;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use crate::{admin::AdminState, config::plan::Plan};

/// The addresses actually bound (port 0 resolved).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Bound {
    /// OTLP/gRPC.
    pub grpc: SocketAddr,
    /// OTLP/HTTP.
    pub http: SocketAddr,
    /// Admin.
    pub admin: SocketAddr,
}

/// A running gateway.
pub struct Running {
    /// Where it listens.
    pub bound: Bound,
    stop: watch::Sender<bool>,
    stop_admin: watch::Sender<bool>,
    receivers: JoinSet<()>,
    admin: JoinSet<()>,
    pipeline: Arc<Pipeline>,
    admin_state: Arc<AdminState>,
    enricher: Arc<Enricher>,
    sinks: SinkSet,
    sink_drain_timeout: std::time::Duration,
    archive: ArchiveThread,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("bound", &self.bound)
            .finish()
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} listener on {addr}"))
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Starts everything the plan describes.
pub async fn start(plan: &Plan) -> anyhow::Result<Running> {
    let tokens = plan.resolve_tokens()?;
    let auth = if tokens.is_empty() {
        Authenticator::open()
    } else {
        Authenticator::new(plan.auth_header.clone(), &tokens)
    };
    let (grpc_tls, http_tls) = match &plan.tls {
        None => (None, None),
        Some(files) => (
            Some(cairn_otlp::tls::server_config(files, &[b"h2"])?),
            Some(cairn_otlp::tls::server_config(
                files,
                &[b"h2", b"http/1.1"],
            )?),
        ),
    };

    // Redaction's key also pseudonymizes the directory's keys, so a hashed
    // `user.email` still finds its entry. The directory is loaded (and
    // checked) before any socket opens.
    let hash_key = plan.resolve_hash_key()?;
    let pseudonymizer = hash_key
        .as_deref()
        .map(cairn_redact::Pseudonymizer::new)
        .transpose()?;
    let enricher = Arc::new(
        Enricher::new(plan.enrichment.clone(), pseudonymizer)
            .context("loading the enrichment directory")?,
    );

    let grpc_listener = bind(plan.grpc_addr, "OTLP/gRPC").await?;
    let http_listener = bind(plan.http_addr, "OTLP/HTTP").await?;
    let admin_listener = bind(plan.admin_addr, "admin").await?;
    let bound = Bound {
        grpc: grpc_listener.local_addr()?,
        http: http_listener.local_addr()?,
        admin: admin_listener.local_addr()?,
    };

    let output: Box<dyn Output> = match plan.records_max_file_bytes {
        Some(max) => Box::new(RecordsFile::create(&plan.data_dir, max).with_context(|| {
            format!(
                "creating the records directory under {}",
                plan.data_dir.display()
            )
        })?),
        None => Box::new(Discard),
    };
    let archive = match &plan.archive {
        Some(a) => {
            let key = match &a.key_file {
                Some(path) => ArchiveKey::from_file(path),
                None => ArchiveKey::load_or_generate(&plan.data_dir),
            }
            .context("loading the archive signing key")?;
            let archive = Archive::open(
                &plan.data_dir.join(cairn_store::archive::DIR_NAME),
                key,
                a.config.clone(),
                Arc::new(SystemClock),
            )
            .context("opening the archive")?;
            Some(ArchiveOutput::new(archive))
        }
        None => None,
    };
    let mut registry = Registry::default();
    let sink_stats = SinkStats::default();
    sink_stats.register(&mut registry);
    let mut sinks = cairn_sinks::config::spawn_all(&plan.sinks, &plan.data_dir, &sink_stats)
        .map_err(anyhow::Error::msg)
        .context("starting the sinks")?;
    let (journal, archive) = open_wal(plan, archive, &mut sinks, &mut registry)?;
    enricher.stats().register(&mut registry);
    let spend = SpendMeter::new(plan.spend_per_user);
    spend.register(&mut registry);
    let mut stages: Vec<Box<dyn Stage>> = vec![Box::new(spend)];
    let mut chain_bytes = None;
    if let Some(chains) = plan.chains {
        let correlator = Correlator::new(chains, Arc::new(SystemClock));
        correlator.stats().register(&mut registry);
        chain_bytes = Some(correlator.stats().open_bytes);
        stages.push(Box::new(ChainStage::new(correlator)));
    }
    let pipeline = Pipeline::start_journaled(plan.queue, journal, output, stages)?;
    // Open chains share the memory limit with the queue: while they hold
    // much of it, receivers are pushed back instead of memory growing.
    if let Some(open) = chain_bytes {
        pipeline.with_pressure(Arc::new(move || usize::try_from(open.get()).unwrap_or(0)));
    }

    let stats = ReceiverStats::default();
    stats.register(&mut registry);
    let redaction_stats = RedactionStats::default();
    redaction_stats.register(&mut registry);
    let redactor = Arc::new(plan.redaction.engine.build()?);
    let stage = RedactStage::new(
        redactor,
        plan.redaction.policy.clone(),
        hash_key.as_deref(),
        redaction_stats,
    )?;
    let ingest: Arc<dyn Ingest> = Arc::new(Enriching::new(pipeline.clone(), enricher.clone()));
    let receiver =
        Arc::new(Receiver::new(ingest, auth, plan.limits, stats).with_scrubber(Arc::new(stage)));
    enricher
        .spawn_watcher()
        .context("starting the directory watcher")?;

    let (stop, stop_rx) = watch::channel(false);
    let mut receivers = JoinSet::new();
    receivers.spawn(serve(
        grpc_listener,
        grpc_tls,
        OtlpGrpcService::new(Arc::clone(&receiver)),
        plan.conn,
        stopped(stop_rx.clone()),
    ));
    receivers.spawn(serve(
        http_listener,
        http_tls,
        cairn_otlp::http::router(Arc::clone(&receiver)),
        plan.conn,
        stopped(stop_rx.clone()),
    ));

    // The admin listener outlives the receivers, so `/readyz` answers 503
    // and `/metrics` stays readable while in-flight requests drain.
    let (stop_admin, stop_admin_rx) = watch::channel(false);
    let admin_state = Arc::new(AdminState {
        registry,
        ready: false.into(),
        pipeline: Some(Arc::clone(&pipeline)),
    });
    let mut admin = JoinSet::new();
    admin.spawn(serve(
        admin_listener,
        None,
        crate::admin::router(Arc::clone(&admin_state)),
        plan.conn,
        stopped(stop_admin_rx),
    ));
    drop(stop_rx);
    admin_state.ready.store(true, Ordering::SeqCst);
    tracing::info!(grpc = %bound.grpc, http = %bound.http, admin = %bound.admin, "cairn listening");
    Ok(Running {
        bound,
        stop,
        stop_admin,
        receivers,
        admin,
        pipeline,
        admin_state,
        enricher,
        sinks,
        sink_drain_timeout: plan.sink_drain_timeout,
        archive,
    })
}

/// The archive's WAL reader thread, when there is an archive.
type ArchiveThread = Option<std::thread::JoinHandle<()>>;

/// Opens the write-ahead log when something reads it (a sink, the
/// archive): releases consumers no longer configured, registers the archive
/// and every sink (each resumes at its durable cursor: replay), and starts
/// the archive's reader thread. Without consumers there is nothing to keep,
/// and no log.
fn open_wal(
    plan: &Plan,
    archive: Option<ArchiveOutput>,
    sinks: &mut SinkSet,
    registry: &mut Registry,
) -> anyhow::Result<(Option<Box<dyn Journal>>, ArchiveThread)> {
    const ARCHIVE: &str = "archive";
    let mut wanted: Vec<String> = sinks
        .handles()
        .iter()
        .map(|h| consumer_name(&h.name))
        .collect();
    if archive.is_some() {
        wanted.push(ARCHIVE.to_owned());
    }
    if wanted.is_empty() {
        return Ok((None, None));
    }
    // Open prompt chains keep the log from the batch that opened the oldest
    // (their events may exist nowhere else until the chain closes), and are
    // rebuilt from it on start.
    if plan.chains.is_some() {
        wanted.push(STAGES_CONSUMER.to_owned());
    }
    let chain_events = plan.queue.raw_chain_events;
    let dir = plan.data_dir.join("wal");
    let mut wal = Wal::open(&dir, plan.wal)
        .with_context(|| format!("opening the write-ahead log in {}", dir.display()))?;
    let stats = wal.stats();
    if stats.quarantined_frames() > 0 {
        tracing::warn!(
            frames = stats.quarantined_frames(),
            bytes = stats.quarantined_bytes,
            "WAL: damaged frames were found and moved to wal/quarantine"
        );
    }
    for c in stats.consumers {
        if !wanted.contains(&c.name) {
            tracing::warn!(consumer = %c.name, backlog_bytes = c.lag_bytes, "WAL: a consumer is no longer configured; its backlog is released");
            wal.unregister(&c.name)?;
        }
    }
    // Typed batches kept for readers that keep up count against memory:
    // at most a sixteenth of the limit.
    let recent = Recent::new(RECENT_BYTES.min(plan.memory_limit / 16));
    let archive = match archive {
        Some(out) => {
            let reader = wal.register(ARCHIVE)?;
            let mut consumer = ArchiveConsumer::new(out);
            let recent = recent.clone();
            Some(
                std::thread::Builder::new()
                    .name("cairn-archive".into())
                    .spawn(move || consume_events(reader, &recent, &mut consumer, chain_events))?,
            )
        }
        None => None,
    };
    sinks.feed_from(&mut wal, &recent, chain_events)?;
    let stages = match plan.chains {
        Some(_) => Some(wal.register(STAGES_CONSUMER)?),
        None => None,
    };
    crate::wal_metrics::WalMetrics(wal.stats_handle()).register(registry);
    let journal = WalJournal::new(wal, recent);
    let journal = match stages {
        Some(reader) => journal.keeping_for_stages(reader),
        None => journal,
    };
    Ok((Some(Box::new(journal)), archive))
}

impl Running {
    /// Drains in-flight requests, writes everything acknowledged, and stops.
    pub async fn shutdown(mut self) {
        tracing::info!("shutting down: draining in-flight requests");
        self.admin_state.ready.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        while self.receivers.join_next().await.is_some() {}
        let pipeline = Arc::clone(&self.pipeline);
        if tokio::task::spawn_blocking(move || pipeline.close())
            .await
            .is_err()
        {
            tracing::error!("closing the pipeline failed");
        }
        if let Some(handle) = self.enricher.handle() {
            handle.stop();
        }
        // The writer is gone: the archive reads the log to its head; the
        // sinks deliver until the deadline, and what they have not finished
        // stays in the log for the next start.
        self.sinks.drain(self.sink_drain_timeout).await;
        if let Some(archive) = self.archive.take()
            && tokio::task::spawn_blocking(move || archive.join())
                .await
                .map_or(true, |joined| joined.is_err())
        {
            tracing::error!("the archive's WAL reader failed");
        }
        let _ = self.stop_admin.send(true);
        while self.admin.join_next().await.is_some() {}
        tracing::info!("stopped");
    }
}
