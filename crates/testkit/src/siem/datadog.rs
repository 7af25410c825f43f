//! A fake Datadog Logs API v2 intake (contract §4 of `siem-contracts.md`).
//!
//! `POST /api/v2/logs` with `DD-API-KEY` (missing: `401`, wrong: `403`),
//! a gzip or deflate body (undone before measuring: the 5 MB cap is on the
//! uncompressed payload, `413` above it), a JSON array of log objects (or
//! one object) with `application/json`, or one log per line with
//! `text/plain` / `application/logplex-1`. More than 1,000 entries is `413`
//! (the real answer is undocumented). A log over 1 MB is kept truncated and
//! still answered `202 {}`. Errors carry `{"errors":[…]}`; tests script any
//! of `400/401/403/408/413/429/500/503` per request with
//! [`DatadogFake::fail_request`] (optionally with `Retry-After`).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Answer, FakeServer, Handler, Request};

/// The uncompressed request cap (5 MB, read as 5,000,000 bytes).
pub const MAX_REQUEST_BYTES: usize = 5_000_000;
/// Entries per request.
pub const MAX_ENTRIES: usize = 1_000;
/// A single log's size before it is truncated (1 MB, read as 1,000,000).
pub const MAX_LOG_BYTES: usize = 1_000_000;

/// One log as the fake keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    /// The request it came in.
    pub request: usize,
    /// The log as sent (for field-by-field checks, even when truncated).
    pub value: Value,
    /// Its serialized size as received.
    pub size: usize,
    /// Whether it was over the single-log cap.
    pub truncated: bool,
    /// What the intake keeps: the serialized log, cut at the cap.
    pub kept: String,
}

struct Logic {
    api_key: String,
    max_bytes: usize,
    max_entries: usize,
    max_log_bytes: usize,
    logs: Arc<Mutex<Vec<Log>>>,
}

/// Builds a [`DatadogFake`].
pub struct DatadogFakeBuilder {
    api_key: String,
    max_bytes: usize,
    max_entries: usize,
    max_log_bytes: usize,
}

impl DatadogFakeBuilder {
    /// The API key accepted in `DD-API-KEY`.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = key.to_owned();
        self
    }

    /// The uncompressed request cap (default 5,000,000 bytes).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// Entries per request (default 1,000).
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// The single-log truncation size (default 1,000,000 bytes).
    pub fn max_log_bytes(mut self, n: usize) -> Self {
        self.max_log_bytes = n;
        self
    }

    /// Starts the fake on 127.0.0.1.
    pub async fn start(self) -> DatadogFake {
        let (server, logs) = FakeServer::start_with(|logs| Logic {
            api_key: self.api_key,
            max_bytes: self.max_bytes,
            max_entries: self.max_entries,
            max_log_bytes: self.max_log_bytes,
            logs,
        })
        .await;
        DatadogFake { server, logs }
    }
}

/// A running fake intake.
pub struct DatadogFake {
    server: FakeServer,
    logs: Arc<Mutex<Vec<Log>>>,
}

fn errors(status: u16, message: &str) -> Answer {
    Answer::json(status, &json!({ "errors": [message] }))
}

impl DatadogFake {
    /// A builder accepting the API key `dd-test-key`.
    pub fn builder() -> DatadogFakeBuilder {
        DatadogFakeBuilder {
            api_key: "dd-test-key".into(),
            max_bytes: MAX_REQUEST_BYTES,
            max_entries: MAX_ENTRIES,
            max_log_bytes: MAX_LOG_BYTES,
        }
    }

    /// `http://127.0.0.1:<port>` (the sink appends `/api/v2/logs`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The underlying server (to inject arbitrary answers).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The intake's answer with `status` and its `{"errors":[…]}` body.
    pub fn error(status: u16) -> Answer {
        match status {
            400 => errors(400, "Bad Request: malformed payload"),
            401 => errors(401, "Unauthorized"),
            403 => errors(403, "Forbidden"),
            408 => errors(408, "Request Timeout"),
            413 => errors(413, "Request Entity Too Large"),
            429 => errors(429, "Too Many Requests"),
            500 => errors(500, "Internal Server Error"),
            503 => errors(503, "Service Unavailable"),
            s => errors(s, "scripted failure"),
        }
    }

    /// Answers request number `index` with `status`.
    pub fn fail_request(&self, index: usize, status: u16) {
        self.server.inject(index, Self::error(status));
    }

    /// Answers request number `index` with `status` and `Retry-After`.
    pub fn fail_request_retry_after(&self, index: usize, status: u16, secs: u64) {
        self.server.inject(
            index,
            Self::error(status).with_header("retry-after", &secs.to_string()),
        );
    }

    /// Closes the connection of request `index` without an answer, before
    /// anything is accepted.
    pub fn drop_request(&self, index: usize) {
        self.server.inject(index, Answer::Drop);
    }

    /// Every accepted log, in arrival order.
    pub fn logs(&self) -> Vec<Log> {
        self.logs.lock().unwrap().clone()
    }

    /// The `record_id` of every accepted log, sorted (duplicates kept).
    pub fn record_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .logs()
            .iter()
            .filter_map(|l| l.value.get("record_id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids
    }

    /// The accepted log with this `record_id`.
    pub fn log(&self, record_id: &str) -> Option<Log> {
        self.logs()
            .into_iter()
            .find(|l| l.value.get("record_id").and_then(Value::as_str) == Some(record_id))
    }
}

impl Handler for Logic {
    fn handle(&self, req: &Request) -> Answer {
        if req.path != "/api/v2/logs" {
            return errors(404, "Not Found");
        }
        if req.method != http::Method::POST {
            return errors(405, "Method Not Allowed");
        }
        match req.header("dd-api-key") {
            None => return errors(401, "Unauthorized"),
            Some(k) if k != self.api_key => return errors(403, "Forbidden"),
            Some(_) => {}
        }
        let body = match &req.body {
            Ok(b) => b,
            Err(_) => return errors(400, "Bad Request: the body could not be decompressed"),
        };
        if body.len() > self.max_bytes {
            return errors(413, "Request Entity Too Large");
        }
        let mime = req
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let entries: Vec<Value> = match mime.as_str() {
            "application/json" => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(a)) if a.iter().all(Value::is_object) => a,
                Ok(v @ Value::Object(_)) => vec![v],
                _ => return errors(400, "Bad Request: malformed JSON"),
            },
            "text/plain" | "application/logplex-1" => String::from_utf8_lossy(body)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| json!({ "message": l }))
                .collect(),
            _ => return errors(400, "Bad Request: unsupported content type"),
        };
        if entries.len() > self.max_entries {
            return errors(413, "Request Entity Too Large: too many entries");
        }
        let mut logs = self.logs.lock().unwrap();
        for value in entries {
            let text = value.to_string();
            let size = text.len();
            let truncated = size > self.max_log_bytes;
            let mut cut = size.min(self.max_log_bytes);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            logs.push(Log {
                request: req.index,
                value,
                size,
                truncated,
                kept: text[..cut].to_owned(),
            });
        }
        Answer::json(202, &json!({}))
    }
}
