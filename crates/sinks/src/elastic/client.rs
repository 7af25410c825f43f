//! The `_bulk` client: joins a batch's units into one NDJSON body, sends it
//! (gzip by default) with `filter_path` so the reply carries only `errors`
//! and each item's status and error, and classifies the answer per the
//! contract: per-item `409` on `create` is a duplicate (delivered), per-item
//! `429`/5xx are resent alone, other per-item errors are dead-lettered;
//! request `413` splits, `429` and 5xx retry, other 4xx are permanent.
//!
//! Every resend is safe: each unit is a `create` with `_id` = record id, so
//! a document the cluster already holds answers `409` instead of a copy.

use std::time::Duration;

use http::{HeaderValue, header};
use serde_json::Value;

use super::{
    config::DetailMode,
    encode::{Encoder, dataset_of},
};
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError},
    http::{Compression, concat, exchange, snippet},
    item::AuditItem,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// The `Authorization` header value, marked sensitive so it never prints.
#[derive(Clone)]
pub struct Auth(HeaderValue);

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth([secret])")
    }
}

impl Auth {
    /// A header value from `ApiKey …` / `Basic …` text.
    pub fn header(value: &str) -> Result<Auth, String> {
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| "the credentials hold characters not allowed in a header".to_owned())?;
        v.set_sensitive(true);
        Ok(Auth(v))
    }
}

/// What [`Elastic::new`] needs (built by [`super::Config::build`]).
#[derive(Debug)]
pub struct Settings {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `<url>/_bulk?filter_path=…`.
    pub bulk_url: reqwest::Url,
    /// The `Authorization` value.
    pub auth: Auth,
    /// Request body compression.
    pub compression: Compression,
    /// The data stream written.
    pub data_stream: String,
    /// Uncompressed bytes per request.
    pub max_bytes: usize,
    /// Documents per request.
    pub max_docs: usize,
    /// Longest a partial batch waits.
    pub max_delay: Duration,
    /// How `cairn.detail` is written.
    pub detail: DetailMode,
}

/// The Elasticsearch `_bulk` sink.
#[derive(Debug)]
pub struct Elastic {
    client: reqwest::Client,
    bulk_url: reqwest::Url,
    auth: Auth,
    compression: Compression,
    encoder: Encoder,
    limits: BatchLimits,
}

impl Elastic {
    /// A sink from resolved settings.
    pub fn new(s: Settings) -> Elastic {
        Elastic {
            client: s.client,
            bulk_url: s.bulk_url,
            auth: s.auth,
            compression: s.compression,
            encoder: Encoder {
                dataset: dataset_of(&s.data_stream),
                data_stream: s.data_stream,
                detail: s.detail,
            },
            limits: BatchLimits {
                max_items: s.max_docs.max(1),
                max_bytes: s.max_bytes.max(1),
                max_delay: s.max_delay,
            },
        }
    }

    /// The encoder (tests check documents field by field).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

/// Where an Elasticsearch message may start quoting document content
/// (mapping failures preview the value, JSON parse errors quote the
/// source); the reason is cut there so dead-letter reasons and logs never
/// carry record content.
const CONTENT_MARKERS: [&str; 3] = ["Preview of field's value", "[Source:", "value ["];

/// A server reason made safe to log: cut before quoted content, bounded.
pub fn clean_reason(reason: &str) -> String {
    let cut = CONTENT_MARKERS
        .iter()
        .filter_map(|m| reason.find(m))
        .min()
        .unwrap_or(reason.len());
    snippet(reason[..cut].trim_end().as_bytes(), 200)
}

/// `type: reason` of an Elasticsearch error object (or its text).
fn describe(error: &Value) -> String {
    match error {
        Value::String(s) => clean_reason(s),
        Value::Object(e) => {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let reason = e
                .get("reason")
                .and_then(Value::as_str)
                .map(clean_reason)
                .unwrap_or_default();
            // The cause's type names the real problem (a mapping type, a
            // parse failure); its reason may quote the value, so it stays out.
            let cause = e
                .get("caused_by")
                .and_then(|c| c.get("type"))
                .and_then(Value::as_str)
                .map(|t| format!(" (caused by {t})"))
                .unwrap_or_default();
            if reason.is_empty() {
                format!("{kind}{cause}")
            } else {
                format!("{kind}: {reason}{cause}")
            }
        }
        _ => "error".into(),
    }
}

fn request_reason(status: u16, body: &[u8]) -> String {
    let detail = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").map(describe))
        .unwrap_or_else(|| clean_reason(&String::from_utf8_lossy(body)));
    if detail.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {detail}")
    }
}

/// Reads a `200` `_bulk` reply for a batch of `n` units.
fn items_report(body: &[u8], n: usize) -> Result<Report, SinkError> {
    // Without a readable reply nothing is known; resending is safe (409s).
    let unreadable = || SinkError::Retryable {
        reason: "HTTP 200 with an unreadable _bulk reply".into(),
        retry_after: None,
    };
    let reply: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    if reply.get("errors").and_then(Value::as_bool) == Some(false) {
        return Ok(Report::delivered());
    }
    let items = reply
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(unreadable)?;
    let mut report = Report::default();
    for i in 0..n {
        // Each item is `{"<action>": {...}}`; the action is always `create`.
        let item = items
            .get(i)
            .and_then(Value::as_object)
            .and_then(|m| m.values().next());
        let status = item
            .and_then(|it| it.get("status"))
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok());
        match status {
            Some(200..=299) => {}
            Some(409) => report.duplicates += 1,
            Some(s) if s == 429 || s >= 500 => report.retry.push(i),
            Some(s) => {
                let why = item
                    .and_then(|it| it.get("error"))
                    .map(describe)
                    .unwrap_or_else(|| "error".into());
                report.rejected.push((i, format!("item HTTP {s} {why}")));
            }
            // A missing item: not known to be stored, so send it again.
            None => report.retry.push(i),
        }
    }
    Ok(report)
}

/// Classifies a `_bulk` answer for a batch of `n` units.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    n: usize,
) -> Result<Report, SinkError> {
    match status {
        200..=299 => items_report(body, n),
        413 => Err(SinkError::TooLarge {
            reason: "HTTP 413 request over http.max_content_length".into(),
        }),
        // 5xx beyond 502/503/504 are retried too: resends are idempotent
        // (create + _id) and give_up_after bounds them.
        429 | 500..=599 => Err(SinkError::Retryable {
            reason: request_reason(status, body),
            retry_after,
        }),
        _ => Err(SinkError::Permanent {
            reason: request_reason(status, body),
        }),
    }
}

impl Sink for Elastic {
    fn limits(&self) -> BatchLimits {
        self.limits
    }

    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.encoder.encode(item, detail, out)
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let req = self
            .client
            .post(self.bulk_url.clone())
            .header(header::AUTHORIZATION, self.auth.0.clone())
            .header(header::CONTENT_TYPE, "application/x-ndjson");
        let answer = exchange(self.compression.body(req, concat(batch))).await?;
        classify(answer.status, answer.retry_after, &answer.body, batch.len())
    }
}
