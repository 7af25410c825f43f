//! Contract-faithful local fakes of the SIEM intake APIs cairn's sinks
//! talk to (`../shared/siem-contracts.md`), on 127.0.0.1 port 0.
//!
//! This module is their shared base: an HTTP/1.1 server that records every
//! request (method, path, query, headers, the body as sent and decoded) and
//! lets a test inject an answer at a given request index (a status with
//! body and headers, a delay, or a dropped connection) ahead of the fake's
//! own contract logic. Each fake is a [`Handler`] deciding the answer the
//! way the real service does.

use std::{
    collections::HashMap,
    io::Read,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

pub mod datadog;
pub mod elastic;
pub mod sentinel;
pub mod splunk_hec;
pub mod sumo;
pub mod syslog;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::{net::TcpListener, task::JoinHandle};

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Its index among all requests this fake received (from 0).
    pub index: usize,
    /// `POST`, `GET`, …
    pub method: http::Method,
    /// The path (`/services/collector/event`).
    pub path: String,
    /// The raw query string, empty when none.
    pub query: String,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body as sent (possibly compressed).
    pub wire: Bytes,
    /// The body after `Content-Encoding` was undone, or why it could not be.
    pub body: Result<Vec<u8>, String>,
}

impl Request {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// What the fake answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A response.
    Respond {
        /// The status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Wait, then answer.
    Delay(Duration, Box<Answer>),
    /// Close the connection without an answer.
    Drop,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Answer {
        Answer::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: &str) -> Answer {
        Answer::Respond {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An empty answer.
    pub fn empty(status: u16) -> Answer {
        Answer::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// A fake's contract logic: decides the answer to a request the test did
/// not script.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, req: &Request) -> Answer;
}

impl<F: Fn(&Request) -> Answer + Send + Sync + 'static> Handler for F {
    fn handle(&self, req: &Request) -> Answer {
        self(req)
    }
}

/// Undoes `Content-Encoding` (gzip, deflate; identity), refusing to inflate
/// past `limit` bytes (a zip bomb is an error, not an allocation).
pub fn decode_body(
    headers: &http::HeaderMap,
    wire: &[u8],
    limit: usize,
) -> Result<Vec<u8>, String> {
    let enc = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let mut out = Vec::new();
    let cap = limit as u64 + 1;
    let read = match enc.as_str() {
        "" | "identity" => return Ok(wire.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(wire)
            .take(cap)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(wire)
            .take(cap)
            .read_to_end(&mut out),
        other => return Err(format!("unsupported content-encoding {other}")),
    };
    read.map_err(|e| format!("bad {enc} body: {e}"))?;
    if out.len() > limit {
        return Err(format!("decoded body over {limit} bytes"));
    }
    Ok(out)
}

/// A running fake.
pub struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    injected: Arc<Mutex<HashMap<usize, Answer>>>,
    task: JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bodies over this many decoded bytes are recorded as an error.
pub const DECODE_LIMIT: usize = 64 << 20;

impl FakeServer {
    /// Binds 127.0.0.1:0 and serves `handler`.
    pub async fn start(handler: impl Handler) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let injected: Arc<Mutex<HashMap<usize, Answer>>> = Arc::default();
        let handler = Arc::new(handler);
        let (reqs, inj) = (Arc::clone(&requests), Arc::clone(&injected));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (reqs, inj, handler) =
                    (Arc::clone(&reqs), Arc::clone(&inj), Arc::clone(&handler));
                tokio::spawn(async move {
                    let svc = service_fn(move |req: http::Request<Incoming>| {
                        let (reqs, inj, handler) =
                            (Arc::clone(&reqs), Arc::clone(&inj), Arc::clone(&handler));
                        async move { serve_one(req, &reqs, &inj, handler.as_ref()).await }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        FakeServer {
            addr,
            requests,
            injected,
            task,
        }
    }

    /// Starts the contract logic `logic` builds around fresh shared state
    /// (what the fake records), and returns the server with the test's
    /// handle on that state.
    pub async fn start_with<S, H>(
        logic: impl FnOnce(Arc<Mutex<S>>) -> H,
    ) -> (FakeServer, Arc<Mutex<S>>)
    where
        S: Default,
        H: Handler,
    {
        let state: Arc<Mutex<S>> = Arc::default();
        let server = FakeServer::start(logic(Arc::clone(&state))).await;
        (server, state)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers request number `index` (from 0) with `answer` instead of the
    /// contract logic.
    pub fn inject(&self, index: usize, answer: Answer) {
        self.injected.lock().expect("lock").insert(index, answer);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the test")
    }
}
impl std::error::Error for Dropped {}

async fn serve_one(
    req: http::Request<Incoming>,
    requests: &Mutex<Vec<Request>>,
    injected: &Mutex<HashMap<usize, Answer>>,
    handler: &dyn Handler,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let wire = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let recorded = {
        let mut all = requests.lock().map_err(|_| Dropped)?;
        let r = Request {
            index: all.len(),
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            body: decode_body(&parts.headers, &wire, DECODE_LIMIT),
            headers: parts.headers,
            wire,
        };
        all.push(r.clone());
        r
    };
    let scripted = injected
        .lock()
        .map_err(|_| Dropped)?
        .remove(&recorded.index);
    let mut answer = scripted.unwrap_or_else(|| handler.handle(&recorded));
    loop {
        match answer {
            Answer::Delay(d, next) => {
                tokio::time::sleep(d).await;
                answer = *next;
            }
            Answer::Drop => return Err(Dropped),
            Answer::Respond {
                status,
                headers,
                body,
            } => {
                let mut resp = http::Response::new(Full::new(Bytes::from(body)));
                *resp.status_mut() = http::StatusCode::from_u16(status)
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                for (k, v) in headers {
                    if let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(k.as_bytes()),
                        http::HeaderValue::from_str(&v),
                    ) {
                        resp.headers_mut().append(k, v);
                    }
                }
                return Ok(resp);
            }
        }
    }
}
