//! A fake Sumo Logic HTTP Logs Source (contract §5).
//!
//! Routes by the URL token (`POST /receiver/v1/http/<token>`; an unknown
//! token answers `401`), or by a configured auth header on the bare
//! `/receiver/v1/http` path. It undoes `gzip` and `deflate` (`zstd` is not
//! implemented: no zstd decoder in the workspace; such a request gets `415`),
//! enforces the 1,000,000-byte uncompressed limit (answering `413` by
//! default: Sumo documents no over-limit code, so the status is
//! configurable), splits the body on newlines and records each request's
//! `X-Sumo-*` headers with its lines. [`answer`] builds the scriptable
//! `408`/`429`/`503`/`504` answers for injection.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use serde_json::Value;

use super::{Answer, FakeServer, Handler, Request};

/// The path prefix of an HTTP Source.
pub const PATH: &str = "/receiver/v1/http";

/// A scriptable answer (`408`, `429`, `503`, `504`, …) with a short body.
pub fn answer(status: u16) -> Answer {
    let text = match status {
        401 => "Unauthorized",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    Answer::text(status, text)
}

/// One request the fake accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// The request's index.
    pub request: usize,
    /// The source token it was routed by (the URL segment or the header).
    pub token: String,
    /// `X-Sumo-Category`.
    pub category: Option<String>,
    /// `X-Sumo-Name`.
    pub name: Option<String>,
    /// `X-Sumo-Host`.
    pub host: Option<String>,
    /// `X-Sumo-Fields`, as sent.
    pub fields: Option<String>,
    /// The non-empty lines of the body.
    pub lines: Vec<String>,
}

#[derive(Clone, Default)]
struct Settings {
    tokens: HashSet<String>,
    auth_header: Option<(String, String)>,
    max_bytes: usize,
    over_limit_status: u16,
}

/// Configures a [`SumoFake`].
#[derive(Clone)]
pub struct SumoFakeBuilder(Settings);

impl SumoFakeBuilder {
    /// Accepts `/receiver/v1/http/<token>`.
    pub fn token(mut self, token: &str) -> Self {
        self.0.tokens.insert(token.into());
        self
    }
    /// Accepts the bare path with this header (header-authenticated source).
    pub fn auth_header(mut self, name: &str, value: &str) -> Self {
        self.0.auth_header = Some((name.to_ascii_lowercase(), value.into()));
        self
    }
    /// The uncompressed limit (default 1,000,000 bytes).
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.0.max_bytes = bytes;
        self
    }
    /// The status over the limit (default 413; Sumo does not document it).
    pub fn over_limit_status(mut self, status: u16) -> Self {
        self.0.over_limit_status = status;
        self
    }
    /// Starts the fake on 127.0.0.1.
    pub async fn start(self) -> SumoFake {
        let (server, received) = FakeServer::start_with(|received| Logic {
            settings: self.0,
            received,
        })
        .await;
        SumoFake { server, received }
    }
}

/// A running fake HTTP Source.
pub struct SumoFake {
    server: FakeServer,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SumoFake {
    /// A builder with no tokens and the 1,000,000-byte limit.
    pub fn builder() -> SumoFakeBuilder {
        SumoFakeBuilder(Settings {
            max_bytes: 1_000_000,
            over_limit_status: 413,
            ..Settings::default()
        })
    }
    /// The source URL for `token`.
    pub fn source_url(&self, token: &str) -> String {
        format!("{}{PATH}/{token}", self.server.url())
    }
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }
    /// Answers request `index` with `answer` instead of the source logic.
    pub fn inject(&self, index: usize, answer: Answer) {
        self.server.inject(index, answer);
    }
    /// Every request received.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
    /// The requests accepted, with their headers and lines.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
    /// Every accepted line parsed as JSON (a non-JSON line as a string).
    pub fn records(&self) -> Vec<Value> {
        self.received()
            .iter()
            .flat_map(|r| r.lines.iter())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.clone())))
            .collect()
    }
    /// `record_id` of every accepted line, in order.
    pub fn record_ids(&self) -> Vec<String> {
        self.records()
            .iter()
            .filter_map(|r| r["record_id"].as_str().map(str::to_owned))
            .collect()
    }
}

struct Logic {
    settings: Settings,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Logic {
    fn token(&self, req: &Request) -> Option<String> {
        if let Some(t) = req
            .path
            .strip_prefix(PATH)
            .and_then(|p| p.strip_prefix('/'))
        {
            return self.settings.tokens.contains(t).then(|| t.to_owned());
        }
        let (name, value) = self.settings.auth_header.as_ref()?;
        (req.path == PATH && req.header(name) == Some(value.as_str())).then(|| value.clone())
    }
}

impl Handler for Logic {
    fn handle(&self, req: &Request) -> Answer {
        if req.method != http::Method::POST {
            return Answer::empty(405);
        }
        let Some(token) = self.token(req) else {
            return answer(401);
        };
        let encoding = req.header("content-encoding").unwrap_or("").trim();
        if encoding.eq_ignore_ascii_case("zstd") {
            return Answer::text(415, "zstd is not implemented by this fake");
        }
        let body = match &req.body {
            Ok(b) => b,
            Err(e) => return Answer::text(400, e),
        };
        if body.len() > self.settings.max_bytes {
            return Answer::text(
                self.settings.over_limit_status,
                "Payload exceeds the maximum allowed size",
            );
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Answer::text(400, "payload is not UTF-8");
        };
        let lines = text
            .split('\n')
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        let h = |name: &str| req.header(name).map(str::to_owned);
        self.received.lock().unwrap().push(Received {
            request: req.index,
            token,
            category: h("x-sumo-category"),
            name: h("x-sumo-name"),
            host: h("x-sumo-host"),
            fields: h("x-sumo-fields"),
            lines,
        });
        Answer::empty(200)
    }
}
