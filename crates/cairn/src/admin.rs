//! The admin listener: `GET /healthz` (the process is up), `GET /readyz`
//! (listeners bound and taking work; 503 while open prompt chains are
//! rebuilt from the write-ahead log after a restart, while draining, or once
//! the write-ahead log failed and every request is refused) and `GET /metrics`
//! (Prometheus text format).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use cairn_pipeline::runner::Pipeline;
use prometheus_client::registry::Registry;

/// Shared admin state.
#[derive(Debug)]
pub struct AdminState {
    /// Metrics to expose.
    pub registry: Registry,
    /// Whether cairn takes work.
    pub ready: AtomicBool,
    /// The pipeline, asked whether its journal failed.
    pub pipeline: Option<Arc<Pipeline>>,
}

/// Builds the admin router.
pub fn router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(s): State<Arc<AdminState>>) -> Response {
    if s.pipeline.as_ref().is_some_and(|p| p.journal_failed()) {
        let why = "not ready: the write-ahead log failed; requests are refused until a restart\n";
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    if s.pipeline.as_ref().is_some_and(|p| !p.replay_done()) {
        let why = "not ready: rebuilding open prompt chains from the write-ahead log\n";
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn metrics(State(s): State<Arc<AdminState>>) -> Response {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &s.registry) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}\n"),
        )
            .into_response();
    }
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use cairn_core::{
        chain::PromptChain,
        ingest::{Ingest as _, SubmitError},
        record::{Batch, Origin},
        signal::{Protocol, Signal},
    };
    use cairn_pipeline::{
        journal::{Journal, JournalError},
        output::Discard,
        runner::PipelineConfig,
    };
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    /// A journal whose commits fail once `broken` is set (a disk error).
    struct Breaking(Arc<AtomicBool>);
    impl Journal for Breaking {
        fn append(&mut self, _: &Arc<Batch>) -> Result<(), JournalError> {
            Ok(())
        }
        fn append_chains(&mut self, _: &[PromptChain]) -> Result<(), JournalError> {
            Ok(())
        }
        fn commit(&mut self) -> Result<(), JournalError> {
            if self.0.load(Ordering::SeqCst) {
                Err(JournalError::Failed("I/O error".into()))
            } else {
                Ok(())
            }
        }
    }

    async fn readyz(state: &Arc<AdminState>) -> (StatusCode, String) {
        let req = http::Request::get("/readyz")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = router(Arc::clone(state)).oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_failed_write_ahead_log_makes_cairn_not_ready() {
        let broken = Arc::new(AtomicBool::new(false));
        let pipeline = Pipeline::start_journaled(
            PipelineConfig::default(),
            Some(Box::new(Breaking(Arc::clone(&broken)))),
            Box::new(Discard),
            Vec::new(),
        )
        .unwrap();
        let state = Arc::new(AdminState {
            registry: Registry::default(),
            ready: true.into(),
            pipeline: Some(Arc::clone(&pipeline)),
        });
        let batch = Batch {
            origin: Origin {
                signal: Signal::Logs,
                protocol: Protocol::Grpc,
                tenant: None,
                received_unix_nano: 0,
            },
            records: Vec::new(),
        };
        assert_eq!(pipeline.submit(batch.clone()).await, Ok(()));
        assert_eq!(readyz(&state).await.0, StatusCode::OK);

        broken.store(true, Ordering::SeqCst);
        assert!(matches!(
            pipeline.submit(batch).await,
            Err(SubmitError::Storage(_))
        ));
        let (status, body) = readyz(&state).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("write-ahead log failed"), "{body}");
        pipeline.close();
    }

    /// A journal whose replay (after a restart) lasts until the test says.
    struct SlowReplay(std::sync::Mutex<std::sync::mpsc::Receiver<()>>);
    impl Journal for SlowReplay {
        fn append(&mut self, _: &Arc<Batch>) -> Result<(), JournalError> {
            Ok(())
        }
        fn append_chains(&mut self, _: &[PromptChain]) -> Result<(), JournalError> {
            Ok(())
        }
        fn commit(&mut self) -> Result<(), JournalError> {
            Ok(())
        }
        fn replay(&mut self, _f: &mut dyn FnMut(cairn_pipeline::journal::Replayed)) {
            let _ = self
                .0
                .lock()
                .unwrap()
                .recv_timeout(std::time::Duration::from_secs(30));
        }
    }

    /// A stage that keeps work across restarts, so the journal is replayed.
    struct Keeping;
    impl cairn_pipeline::stage::Stage for Keeping {
        fn process(&mut self, _: &Batch, _: &mut Vec<PromptChain>) {}
        fn keeps(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn cairn_is_not_ready_while_open_chains_are_rebuilt() {
        let (release, wait) = std::sync::mpsc::channel();
        let pipeline = Pipeline::start_journaled(
            PipelineConfig::default(),
            Some(Box::new(SlowReplay(std::sync::Mutex::new(wait)))),
            Box::new(Discard),
            vec![Box::new(Keeping)],
        )
        .unwrap();
        let state = Arc::new(AdminState {
            registry: Registry::default(),
            ready: true.into(),
            pipeline: Some(Arc::clone(&pipeline)),
        });
        let (status, body) = readyz(&state).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("rebuilding open prompt chains"), "{body}");

        release.send(()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while readyz(&state).await.0 != StatusCode::OK {
            assert!(std::time::Instant::now() < deadline, "never became ready");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        pipeline.close();
    }
}
