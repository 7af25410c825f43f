//! The Logs API v2 client: joins a batch's log objects into one JSON array,
//! sends it (gzip by default) with `DD-API-KEY`, and classifies the answer
//! per the contract: `202` accepted; `408`, `429` and 5xx sent again
//! (honouring `Retry-After` when given); `413` split; `400`, `401`, `403`
//! and other 4xx never again.
//!
//! The intake caps a request at 5 MB uncompressed and 1,000 entries. The
//! batch limits count only the units, so the array's brackets and commas
//! (one byte per entry plus one) are kept out of the byte budget here.
//! Datadog does not deduplicate: a resend after a lost `202` indexes the
//! logs twice, which `record_id` lets searches collapse.

use std::time::Duration;

use http::{HeaderValue, header};
use serde_json::Value;

use super::encode::Encoder;
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError, error::retry_after_seconds},
    http::{Compression, json_array, snippet, transport_error},
    item::AuditItem,
    secret::Secret,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// The intake's uncompressed request cap (5 MB, read as 5,000,000 bytes).
pub const MAX_REQUEST_BYTES: usize = 5_000_000;
/// The intake's entries per request.
pub const MAX_ENTRIES: usize = 1_000;

/// What [`Datadog::new`] needs (built by [`super::Config::build`]).
#[derive(Debug)]
pub struct Settings {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `<base>/api/v2/logs`.
    pub url: reqwest::Url,
    /// The API key.
    pub api_key: Secret,
    /// Request body compression.
    pub compression: Compression,
    /// Longest a partial batch waits.
    pub max_delay: Duration,
    /// The log mapping.
    pub encoder: Encoder,
}

/// The Datadog Logs API v2 sink.
pub struct Datadog {
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: HeaderValue,
    compression: Compression,
    max_delay: Duration,
    encoder: Encoder,
}

impl std::fmt::Debug for Datadog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datadog")
            .field("url", &self.url.as_str())
            .field("gzip", &self.compression.is_gzip())
            .finish_non_exhaustive()
    }
}

impl Datadog {
    /// A sink from resolved settings.
    pub fn new(s: Settings) -> Result<Datadog, String> {
        let mut api_key = HeaderValue::from_str(s.api_key.expose())
            .map_err(|_| "api_key holds characters not allowed in a header".to_owned())?;
        api_key.set_sensitive(true);
        Ok(Datadog {
            client: s.client,
            url: s.url,
            api_key,
            compression: s.compression,
            max_delay: s.max_delay,
            encoder: s.encoder,
        })
    }

    /// The log mapping (tests check it field by field).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

/// `HTTP <status> <errors…>` from an intake error body
/// (`{"errors":["…"]}`), bounded.
fn reason(status: u16, body: &[u8]) -> String {
    let errors = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let errors = snippet(errors.as_bytes(), 200);
    if errors.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {errors}")
    }
}

/// Classifies an intake answer.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Report, SinkError> {
    match status {
        200..=299 => Ok(Report::delivered()),
        413 => Err(SinkError::TooLarge {
            reason: reason(status, body),
        }),
        // 502 and 504 are not in Datadog's table but come from the proxies
        // in front of the intake and pass like 503.
        408 | 429 | 500..=599 => Err(SinkError::Retryable {
            reason: reason(status, body),
            retry_after,
        }),
        _ => Err(SinkError::Permanent {
            reason: reason(status, body),
        }),
    }
}

impl Sink for Datadog {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: MAX_ENTRIES,
            // `[` + `]` + a comma between entries: at most MAX_ENTRIES + 1.
            max_bytes: MAX_REQUEST_BYTES - (MAX_ENTRIES + 1),
            max_delay: self.max_delay,
        }
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
            .post(self.url.clone())
            .header("dd-api-key", self.api_key.clone())
            .header(header::CONTENT_TYPE, "application/json");
        let req = self.compression.body(req, json_array(batch));
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let retry_after = retry_after_seconds(resp.headers().get(header::RETRY_AFTER));
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            // Accepted is accepted: resending would index the logs twice.
            Err(_) if (200..300).contains(&status) => bytes::Bytes::new(),
            Err(e) => return Err(transport_error(e)),
        };
        classify(status, retry_after, &bytes)
    }
}
