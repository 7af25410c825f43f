//! The real OTLP receivers, in process, on loopback port 0, feeding a
//! [`MemoryIngest`].

use std::{net::SocketAddr, sync::Arc, time::Duration};

use cairn_otlp::{
    auth::{Authenticator, TokenEntry},
    body::Limits,
    grpc::OtlpGrpcService,
    receiver::Receiver,
    serve::{ConnLimits, serve},
    stats::ReceiverStats,
};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use crate::memory::MemoryIngest;

/// Builder for [`TestGateway`].
#[derive(Default)]
pub struct GatewayBuilder {
    tokens: Vec<TokenEntry>,
    limits: Option<Limits>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl GatewayBuilder {
    /// Requires `token`, tagging its records with `tenant`.
    pub fn token(mut self, token: &str, tenant: Option<&str>) -> Self {
        self.tokens.push(TokenEntry {
            token: token.into(),
            tenant: tenant.map(str::to_owned),
        });
        self
    }

    /// Sets body limits.
    pub fn limits(mut self, max_body_bytes: usize, body_timeout: Duration) -> Self {
        self.limits = Some(Limits {
            max_body_bytes,
            body_timeout,
        });
        self
    }

    /// Serves both listeners over TLS.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Binds and serves.
    pub async fn start(self) -> TestGateway {
        let ingest = MemoryIngest::new();
        let auth = if self.tokens.is_empty() {
            Authenticator::open()
        } else {
            Authenticator::new(http::header::AUTHORIZATION, &self.tokens)
        };
        let stats = ReceiverStats::default();
        let receiver = Arc::new(Receiver::new(
            ingest.clone(),
            auth,
            self.limits.unwrap_or_default(),
            stats.clone(),
        ));
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (grpc_addr, http_addr) = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
        let (stop, rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let mut tasks = JoinSet::new();
        let conn = ConnLimits {
            drain_timeout: Duration::from_secs(5),
            ..ConnLimits::default()
        };
        tasks.spawn(serve(
            grpc,
            self.tls.clone(),
            OtlpGrpcService::new(receiver.clone()),
            conn,
            stopped(rx.clone()),
        ));
        tasks.spawn(serve(
            http,
            self.tls,
            cairn_otlp::http::router(receiver),
            conn,
            stopped(rx),
        ));
        TestGateway {
            grpc_addr,
            http_addr,
            ingest,
            stats,
            stop,
            tasks,
        }
    }
}

/// Running receivers.
pub struct TestGateway {
    /// OTLP/gRPC address.
    pub grpc_addr: SocketAddr,
    /// OTLP/HTTP address.
    pub http_addr: SocketAddr,
    /// Everything accepted.
    pub ingest: Arc<MemoryIngest>,
    /// The receivers' counters.
    pub stats: ReceiverStats,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl TestGateway {
    /// A builder.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    /// Open receivers with default limits.
    pub async fn start() -> TestGateway {
        GatewayBuilder::default().start().await
    }

    /// `http://<http_addr><path>`
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http_addr, path)
    }

    /// Stops and drains.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
