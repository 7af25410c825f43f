//! A fake Elasticsearch `_bulk` endpoint (contract §3 of `siem-contracts.md`).
//!
//! It answers the way a cluster does: `413` over `http.max_content_length`
//! (measured on the decoded body, as the cluster's HTTP layer inflates
//! before aggregating), `401` without the exact `ApiKey`/`Basic` header,
//! `406` for a content type other than NDJSON/JSON, request-level `400` for
//! NDJSON that is not terminated by `\n` or has a malformed action line, and
//! otherwise `200` with `errors` and one item per action in request order.
//! Items follow the store: `create` on an existing `_id` is `409`, `index`
//! replaces; `logs-*-*` targets are data streams (only `create`, and
//! `@timestamp` required); dynamic mapping refuses an object/leaf conflict
//! (`prompt` a string and `prompt.id` in one index) and, when configured, a
//! total-field or depth limit. Tests script per-item `429`/`400`/… by `_id`
//! or position, request-level errors through [`ElasticFake::fail_request`],
//! and a reply lost after indexing through [`ElasticFake::drop_after_indexing`].
//! `filter_path` is honoured.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Answer, FakeServer, Handler, Request};

/// The cluster's default `http.max_content_length` (100 MB).
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 100 * 1024 * 1024;

/// A document the fake holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// The target it was written to (the data stream's name).
    pub index: String,
    /// Its `_id`.
    pub id: String,
    /// The source document.
    pub source: Value,
}

mod bulk;
mod store;

use bulk::{filter_path, parse_ndjson};
use store::State;

struct Logic {
    auth: Vec<String>,
    max_content_length: usize,
    max_fields: Option<usize>,
    max_depth: usize,
    state: Arc<Mutex<State>>,
}

/// Builds an [`ElasticFake`].
pub struct ElasticFakeBuilder {
    auth: Vec<String>,
    max_content_length: usize,
    max_fields: Option<usize>,
    max_depth: usize,
}

impl ElasticFakeBuilder {
    /// Accepts `Authorization: ApiKey <encoded>`.
    pub fn api_key(mut self, encoded: &str) -> Self {
        self.auth.push(format!("ApiKey {encoded}"));
        self
    }

    /// Accepts `Authorization: Basic base64(user:password)`.
    pub fn basic(mut self, user: &str, password: &str) -> Self {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.auth.push(format!("Basic {pair}"));
        self
    }

    /// `http.max_content_length` in bytes (default 100 MB).
    pub fn max_content_length(mut self, bytes: usize) -> Self {
        self.max_content_length = bytes;
        self
    }

    /// `index.mapping.total_fields.limit` (default: unlimited, as the
    /// `logs-*-*` template ignores dynamic fields beyond the limit).
    pub fn max_fields(mut self, n: usize) -> Self {
        self.max_fields = Some(n);
        self
    }

    /// `index.mapping.depth.limit` (default 20).
    pub fn max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }

    /// Starts the fake on 127.0.0.1.
    pub async fn start(self) -> ElasticFake {
        let (server, state) = FakeServer::start_with(|state| Logic {
            auth: self.auth,
            max_content_length: self.max_content_length,
            max_fields: self.max_fields,
            max_depth: self.max_depth,
            state,
        })
        .await;
        ElasticFake { server, state }
    }
}

/// A running fake cluster.
pub struct ElasticFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

fn es_error(status: u16, kind: &str, reason: &str) -> Answer {
    let cause = json!({"type": kind, "reason": reason});
    Answer::json(
        status,
        &json!({"error": {"root_cause": [cause], "type": kind, "reason": reason}, "status": status}),
    )
}

impl ElasticFake {
    /// A builder with no credentials accepted yet.
    pub fn builder() -> ElasticFakeBuilder {
        ElasticFakeBuilder {
            auth: Vec::new(),
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            max_fields: None,
            max_depth: 20,
        }
    }

    /// `http://127.0.0.1:<port>`.
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

    /// The answer a cluster gives at request level with `status`
    /// (400, 401, 403, 413, 429, 502, 503, 504, …).
    pub fn request_error(status: u16) -> Answer {
        match status {
            400 => es_error(400, "parse_exception", "request body is required"),
            401 => es_error(
                401,
                "security_exception",
                "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
            )
            .with_header("www-authenticate", "ApiKey")
            .with_header("www-authenticate", "Basic realm=\"security\", charset=\"UTF-8\""),
            403 => es_error(
                403,
                "security_exception",
                "action [indices:data/write/bulk] is unauthorized for API key id [k1] of user [cairn]",
            ),
            413 => Answer::empty(413),
            429 => es_error(
                429,
                "es_rejected_execution_exception",
                "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, max_coordinating_and_primary_bytes=0]",
            ),
            503 => es_error(
                503,
                "cluster_block_exception",
                "blocked by: [SERVICE_UNAVAILABLE/2/no master];",
            ),
            502 | 504 => Answer::text(status, "upstream unavailable"),
            _ => es_error(status, "exception", "scripted failure"),
        }
    }

    /// Answers request number `index` with a request-level `status`.
    pub fn fail_request(&self, index: usize, status: u16) {
        self.server.inject(index, Self::request_error(status));
    }

    /// Closes the connection of request `index` without an answer, before
    /// anything is indexed.
    pub fn drop_request(&self, index: usize) {
        self.server.inject(index, Answer::Drop);
    }

    /// Indexes request `index` as usual, then closes the connection without
    /// an answer (the reply is lost; the documents are stored).
    pub fn drop_after_indexing(&self, index: usize) {
        self.state.lock().unwrap().drop_after.insert(index);
    }

    /// The next `times` items carrying `_id` = `id` answer `status`.
    pub fn fail_id(&self, id: &str, status: u16, times: usize) {
        let mut s = self.state.lock().unwrap();
        let q = s.fail_ids.entry(id.to_owned()).or_default();
        q.extend(std::iter::repeat_n(status, times));
    }

    /// Item `position` (from 0) of request `request` answers `status`.
    pub fn fail_position(&self, request: usize, position: usize, status: u16) {
        self.state
            .lock()
            .unwrap()
            .fail_positions
            .insert((request, position), status);
    }

    /// Every stored document, ordered by (index, id).
    pub fn docs(&self) -> Vec<Doc> {
        self.state
            .lock()
            .unwrap()
            .docs
            .iter()
            .map(|((index, id), source)| Doc {
                index: index.clone(),
                id: id.clone(),
                source: source.clone(),
            })
            .collect()
    }

    /// The stored document with `_id` = `id` (any index).
    pub fn doc(&self, id: &str) -> Option<Value> {
        let s = self.state.lock().unwrap();
        s.docs
            .iter()
            .find(|((_, i), _)| i == id)
            .map(|(_, v)| v.clone())
    }

    /// The stored `_id`s, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.docs().into_iter().map(|d| d.id).collect();
        ids.sort();
        ids
    }

    /// The item statuses answered to request `index` (none for requests
    /// refused as a whole or answered by injection).
    pub fn item_statuses(&self, index: usize) -> Option<Vec<u16>> {
        self.state.lock().unwrap().statuses.get(&index).cloned()
    }
}

impl Handler for Logic {
    fn handle(&self, req: &Request) -> Answer {
        let target = match req.path.trim_end_matches('/').rsplit_once('/') {
            Some(("", "_bulk")) => None,
            Some((t, "_bulk")) if !t[1..].contains('/') => Some(t[1..].to_owned()),
            _ => {
                return Answer::json(
                    400,
                    &json!({"error": format!("no handler found for uri [{}] and method [{}]", req.path, req.method), "status": 400}),
                );
            }
        };
        if req.method != http::Method::POST && req.method != http::Method::PUT {
            return Answer::json(
                405,
                &json!({"error": format!("Incorrect HTTP method for uri [{}] and method [{}], allowed: [POST, PUT]", req.path, req.method), "status": 405}),
            );
        }
        let body = match &req.body {
            Ok(b) => b,
            Err(e) => return es_error(400, "parse_exception", e),
        };
        if body.len() > self.max_content_length {
            return Answer::empty(413);
        }
        let authorized = req
            .header("authorization")
            .is_some_and(|h| self.auth.iter().any(|a| a == h));
        if !authorized {
            let missing = req.header("authorization").is_none();
            let reason = if missing {
                format!(
                    "missing authentication credentials for REST request [{}]",
                    req.path
                )
            } else {
                "unable to authenticate with provided credentials and anonymous access is not allowed for this request".into()
            };
            return es_error(401, "security_exception", &reason)
                .with_header("www-authenticate", "ApiKey")
                .with_header(
                    "www-authenticate",
                    "Basic realm=\"security\", charset=\"UTF-8\"",
                );
        }
        let ct = req.header("content-type").unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            mime.as_str(),
            "application/x-ndjson"
                | "application/json"
                | "application/vnd.elasticsearch+x-ndjson"
                | "application/vnd.elasticsearch+json"
        ) {
            let error = if ct.is_empty() {
                "Content-Type header is missing".to_owned()
            } else {
                format!("Content-Type header [{ct}] is not supported")
            };
            return Answer::json(406, &json!({"error": error, "status": 406}));
        }
        let actions = match parse_ndjson(body, target.as_deref()) {
            Ok(a) => a,
            Err(reason) => return es_error(400, "illegal_argument_exception", &reason),
        };
        let items = self.apply(req.index, actions);
        let errors = items.iter().any(|(_, item)| item.get("error").is_some());
        let statuses: Vec<u16> = items
            .iter()
            .map(|(_, i)| i["status"].as_u64().unwrap_or(0) as u16)
            .collect();
        let drop = {
            let mut s = self.state.lock().unwrap();
            s.statuses.insert(req.index, statuses);
            s.drop_after.remove(&req.index)
        };
        if drop {
            return Answer::Drop;
        }
        let items: Vec<Value> = items
            .into_iter()
            .map(|(op, item)| json!({ op: item }))
            .collect();
        let reply = json!({"took": 3, "errors": errors, "items": items});
        let reply = match req.query_param("filter_path") {
            Some(f) => {
                let f = f
                    .replace("%2C", ",")
                    .replace("%2c", ",")
                    .replace("%2A", "*");
                filter_path(&reply, &f)
            }
            None => reply,
        };
        Answer::json(200, &reply)
    }
}
