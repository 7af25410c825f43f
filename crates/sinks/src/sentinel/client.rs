//! The Logs Ingestion API client: one `POST` per batch with the rows as a
//! JSON array, and every answer classified per contract §6:
//!
//! | answer | result |
//! |---|---|
//! | 2xx (204) | delivered |
//! | 401 | drop the token, fetch a fresh one, resend once at once; see below |
//! | 400, 403, 404, other 4xx | permanent (dead letter) |
//! | 413; 400 `RecordsTimeRangeIsMoreThan30Minutes` | too large: the driver splits the batch |
//! | 408, 429, 5xx, no answer | retryable (429/5xx honour `Retry-After`) |
//!
//! 401 rule: a 401 that persists after the fresh-token resend is
//! retryable, and the sink counts such sends in a row (any other answer
//! from the ingestion endpoint resets the count). The
//! [`UNAUTHORIZED_LIMIT`]th in a row is permanent: tokens are being issued
//! but the API refuses them (wrong scope/audience or cloud), which waiting
//! does not fix. Each later batch still gets its own refresh and resend, so
//! delivery resumes by itself once access works again.
//!
//! Reasons carry the status and the service's `{"error":{"code","message"}}`
//! (never record content, never the token or client secret).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use cairn_core::clock::{Clock, SystemClock};
use serde_json::Value;

use super::{encode, token::TokenSource};
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError, error::retry_after_seconds},
    http::{Compression, json_array, snippet, transport_error},
    item::AuditItem,
    secret::Secret,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// Sends in a row refused with 401 even with a fresh token before the
/// batch is dead-lettered instead of retried.
pub const UNAUTHORIZED_LIMIT: u32 = 3;

/// Uncompressed bytes of rows per request: the 1,000,000-byte call limit
/// less 5 % (the array's brackets and commas fit in the margin).
pub const MAX_BYTES: usize = 950_000;

/// Rows per request (the byte limit usually binds first).
pub const MAX_ITEMS: usize = 5_000;

/// The 400 code of a call whose rows span 30 minutes or more of
/// `TimeGenerated` (Auxiliary-plan tables): halves span less, so it is
/// treated like 413 and split; a single row always fits.
const TIME_SPREAD: &str = "RecordsTimeRangeIsMoreThan30Minutes";

/// Where to send and as whom, resolved from the config.
pub(crate) struct Target {
    pub ingest_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
    pub compression: Compression,
}

/// The Sentinel sink.
pub struct Sentinel {
    http: reqwest::Client,
    url: String,
    compression: Compression,
    tokens: TokenSource,
    unauthorized: AtomicU32,
}

impl Sentinel {
    pub(crate) fn new(http: reqwest::Client, t: Target) -> Sentinel {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Sentinel {
            tokens: TokenSource::new(
                http.clone(),
                t.token_url,
                t.client_id,
                t.client_secret,
                t.scope,
                clock,
            ),
            http,
            url: t.ingest_url,
            compression: t.compression,
            unauthorized: AtomicU32::new(0),
        }
    }

    /// Uses `clock` for token expiry instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Sentinel {
        self.tokens.set_clock(clock);
        self
    }

    /// Access tokens fetched so far.
    pub async fn tokens_fetched(&self) -> u64 {
        self.tokens.fetched().await
    }

    async fn post(&self, body: &Bytes, bearer: &http::HeaderValue) -> Result<Answer, SinkError> {
        let mut req = self
            .http
            .post(&self.url)
            .header(http::header::AUTHORIZATION, bearer.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                "x-ms-client-request-id",
                uuid::Uuid::new_v4().hyphenated().to_string(),
            )
            .body(body.clone());
        req = self.compression.content_encoding(req);
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let retry_after = retry_after_seconds(resp.headers().get(http::header::RETRY_AFTER));
        // An error body is only read for its reason; losing it is harmless.
        let body = resp.bytes().await.unwrap_or_default();
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: Bytes,
}

impl Answer {
    /// `HTTP 400 InvalidPayload: …` from the service's error body.
    fn reason(&self) -> String {
        let head = format!("HTTP {}", self.status);
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(json) => {
                let err = &json["error"];
                let code = err["code"].as_str().unwrap_or("");
                let msg = err["message"].as_str().unwrap_or("");
                match (code.is_empty(), msg.is_empty()) {
                    (true, true) => head,
                    (false, true) => format!("{head} {code}"),
                    (_, false) => format!("{head} {code}: {}", snippet(msg.as_bytes(), 300)),
                }
            }
            Err(_) if self.body.is_empty() => head,
            Err(_) => format!("{head}: {}", snippet(&self.body, 200)),
        }
    }

    fn code(&self) -> Option<String> {
        let json: Value = serde_json::from_slice(&self.body).ok()?;
        json["error"]["code"].as_str().map(str::to_owned)
    }

    fn classify(&self) -> Result<Report, SinkError> {
        let reason = || self.reason();
        match self.status {
            200..=299 => Ok(Report::delivered()),
            413 => Err(SinkError::TooLarge { reason: reason() }),
            400 if self.code().as_deref() == Some(TIME_SPREAD) => {
                Err(SinkError::TooLarge { reason: reason() })
            }
            408 | 429 | 500..=599 => Err(SinkError::Retryable {
                reason: reason(),
                retry_after: self.retry_after,
            }),
            _ => Err(SinkError::Permanent { reason: reason() }),
        }
    }
}

impl Sink for Sentinel {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: MAX_ITEMS,
            max_bytes: MAX_BYTES,
            max_delay: Duration::from_secs(1),
        }
    }

    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        encode::encode_with(item, detail, out)
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        // Compressed once: a resend after a 401 sends the same bytes.
        let wire = Bytes::from(self.compression.encode(json_array(batch)));
        let bearer = self.tokens.bearer().await?;
        let mut answer = self.post(&wire, &bearer.header).await?;
        if answer.status == 401 {
            tracing::debug!("ingestion refused the token (401); fetching a fresh one");
            self.tokens.invalidate(bearer.generation).await;
            let fresh = self.tokens.bearer().await?;
            answer = self.post(&wire, &fresh.header).await?;
            if answer.status == 401 {
                let n = self.unauthorized.fetch_add(1, Ordering::SeqCst) + 1;
                self.tokens.invalidate(fresh.generation).await;
                let reason = format!(
                    "{} (with a fresh token; {n} such in a row)",
                    answer.reason()
                );
                return Err(if n >= UNAUTHORIZED_LIMIT {
                    SinkError::Permanent { reason }
                } else {
                    SinkError::Retryable {
                        reason,
                        retry_after: None,
                    }
                });
            }
        }
        self.unauthorized.store(0, Ordering::SeqCst);
        answer.classify()
    }
}
