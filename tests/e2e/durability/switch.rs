//! A switch in front of the Splunk HEC fake, for outages: up, it forwards
//! every request to the fake and passes its answer back; down, it answers
//! 503 like a busy HEC or drops the connection, forwarding nothing.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::util::http_client;

/// A switch in front of the HEC fake: while up it forwards every request
/// to the fake and returns its answer; while down it answers as a busy HEC
/// does (503, code 9), or, when set to drop, closes the connection without
/// an answer; either way without forwarding. Counts the requests it refused.
pub struct HecSwitch {
    addr: std::net::SocketAddr,
    down: Arc<AtomicBool>,
    drop: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HecSwitch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HecSwitch {
    pub async fn start(target: &str, down: bool) -> HecSwitch {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(down));
        let drop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let (d, r, target) = (
            (Arc::clone(&down), Arc::clone(&drop)),
            Arc::clone(&refused),
            target.to_owned(),
        );
        let client = http_client();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (d, r, target, client) =
                    (d.clone(), Arc::clone(&r), target.clone(), client.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (d, r, target, client) =
                            (d.clone(), Arc::clone(&r), target.clone(), client.clone());
                        async move { switch_one(req, &d, &r, &target, &client).await }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
                });
            }
        });
        HecSwitch {
            addr,
            down,
            drop,
            refused,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// While down, drop connections instead of answering 503.
    pub fn set_dropping(&self, drop: bool) {
        self.drop.store(drop, Ordering::SeqCst);
    }

    /// How many requests were refused (503 or dropped) while down.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

async fn switch_one(
    req: http::Request<hyper::body::Incoming>,
    (down, drop): &(Arc<AtomicBool>, Arc<AtomicBool>),
    refused: &AtomicUsize,
    target: &str,
    client: &reqwest::Client,
) -> Result<http::Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if down.load(Ordering::SeqCst) {
        refused.fetch_add(1, Ordering::SeqCst);
        if drop.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("dropped by the test"));
        }
        let mut resp = http::Response::new(Full::new(Bytes::from_static(
            br#"{"text":"Server is busy","code":9}"#,
        )));
        *resp.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
        return Ok(resp);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut fwd = client.request(parts.method.clone(), format!("{target}{path}"));
    for (k, v) in &parts.headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            fwd = fwd.header(k, v);
        }
    }
    let answer = fwd.body(body).send().await.map_err(std::io::Error::other)?;
    let mut resp = http::Response::builder().status(answer.status());
    for (k, v) in answer.headers() {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            resp = resp.header(k, v);
        }
    }
    let bytes = answer.bytes().await.map_err(std::io::Error::other)?;
    resp.body(Full::new(bytes)).map_err(std::io::Error::other)
}
