//! The HEC client: one POST to `/services/collector/event` per batch, its
//! answer classified by the `{text, code}` table of contract §2, and the
//! optional indexer acknowledgement (channel header, `ackId`, polling
//! `/services/collector/ack` until `true` or a timeout).

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use http::{HeaderValue, header};
use serde::Deserialize;
use tokio::time::Instant;

use super::config::Config;
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError},
    http::{Answer, concat, exchange, snippet},
    item::AuditItem,
    secret::Secret,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// The channel header HEC reads (acknowledgement needs it on every request).
pub const CHANNEL_HEADER: &str = "x-splunk-request-channel";

/// A Splunk HEC sink.
pub struct SplunkHec {
    config: Config,
    event_url: reqwest::Url,
    ack_url: reqwest::Url,
    health_url: reqwest::Url,
    auth: HeaderValue,
    channel: HeaderValue,
    client: reqwest::Client,
    warned_no_ack_id: AtomicBool,
}

impl std::fmt::Debug for SplunkHec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplunkHec")
            .field("event_url", &self.event_url.as_str())
            .field("ack", &self.config.ack)
            .finish_non_exhaustive()
    }
}

/// A random version-4 GUID: the channel of this sink instance.
pub fn random_channel() -> Result<String, String> {
    Ok(uuid::Uuid::new_v4().to_string())
}

/// HEC's JSON answer.
#[derive(Debug, Default, Deserialize)]
struct HecAnswer {
    #[serde(default)]
    text: String,
    code: Option<i64>,
    #[serde(rename = "ackId")]
    ack_id: Option<u64>,
    #[serde(rename = "invalid-event-number")]
    invalid_event: Option<usize>,
}

/// What an `/event` answer means.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Accepted (and, with acknowledgement, the id to poll for).
    Accepted {
        /// `ackId`, when HEC gave one.
        ack_id: Option<u64>,
        /// A capacity warning (codes 24, 25) to log.
        warning: Option<String>,
    },
    /// Envelopes before `invalid-event-number` taken; that one refused, the
    /// rest to resend.
    Partial(Report),
    /// Nothing taken.
    Failed(SinkError),
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Classifies one HEC answer for a batch of `units` envelopes.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    units: usize,
) -> Verdict {
    if status == 413 {
        return Verdict::Failed(SinkError::TooLarge {
            reason: "HTTP 413: request over the collector's max_content_length".into(),
        });
    }
    let answer: Option<HecAnswer> = serde_json::from_slice(body).ok();
    let reason = match &answer {
        Some(HecAnswer {
            code: Some(code),
            text,
            ..
        }) => format!(
            "HTTP {status}, HEC code {code}: {}",
            snippet(text.as_bytes(), 200)
        ),
        _ => format!("HTTP {status}: {}", snippet(body, 200)),
    };
    let code = answer.as_ref().and_then(|a| a.code);
    if (200..300).contains(&status) {
        let answer = answer.unwrap_or_default();
        return Verdict::Accepted {
            ack_id: answer.ack_id,
            warning: matches!(code, Some(24 | 25)).then_some(reason),
        };
    }
    let retryable = || SinkError::Retryable {
        reason: reason.clone(),
        retry_after,
    };
    match code {
        Some(6 | 12 | 13 | 15) => match answer.and_then(|a| a.invalid_event) {
            Some(i) if i < units => Verdict::Partial(Report {
                retry: (i + 1..units).collect(),
                rejected: vec![(i, format!("{reason} (event {i} of the request)"))],
                ..Report::default()
            }),
            _ => Verdict::Failed(SinkError::Permanent { reason }),
        },
        Some(8 | 9 | 18 | 19 | 20 | 23 | 26 | 27) => Verdict::Failed(retryable()),
        Some(1 | 2 | 3 | 4 | 5 | 7 | 10 | 11 | 14 | 16 | 21 | 22) => {
            Verdict::Failed(SinkError::Permanent { reason })
        }
        _ if is_retryable_status(status) => Verdict::Failed(retryable()),
        _ => Verdict::Failed(SinkError::Permanent { reason }),
    }
}

impl SplunkHec {
    /// A sink for the collector at `base` with `token`.
    pub(crate) fn new(
        config: Config,
        base: &reqwest::Url,
        token: Secret,
        client: reqwest::Client,
    ) -> Result<SplunkHec, String> {
        let join = |path: &str| {
            base.join(path)
                .map_err(|e| format!("url: cannot append {path}: {e}"))
        };
        let channel = random_channel()?;
        let mut ack_url = join("/services/collector/ack")?;
        ack_url.query_pairs_mut().append_pair("channel", &channel);
        let mut auth = HeaderValue::from_str(&format!("Splunk {}", token.expose()))
            .map_err(|_| "token: it holds characters not allowed in an HTTP header".to_owned())?;
        auth.set_sensitive(true);
        Ok(SplunkHec {
            event_url: join("/services/collector/event")?,
            ack_url,
            health_url: join("/services/collector/health")?,
            auth,
            channel: HeaderValue::from_str(&channel).map_err(|e| e.to_string())?,
            client,
            warned_no_ack_id: AtomicBool::new(false),
            config,
        })
    }

    /// The channel GUID sent with every request when acknowledgement is on.
    pub fn channel(&self) -> &str {
        self.channel.to_str().unwrap_or_default()
    }

    fn request(&self, url: &reqwest::Url) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .post(url.clone())
            .header(header::AUTHORIZATION, self.auth.clone())
            .header(header::CONTENT_TYPE, "application/json");
        if self.config.ack {
            req = req.header(CHANNEL_HEADER, self.channel.clone());
        }
        req
    }

    /// `GET /services/collector/health` with the token: `Ok` when HEC is
    /// healthy and takes the token. For readiness, not as a send gate.
    pub async fn health(&self) -> Result<(), SinkError> {
        let req = self
            .client
            .get(self.health_url.clone())
            .header(header::AUTHORIZATION, self.auth.clone());
        let Answer {
            status,
            retry_after,
            body,
        } = exchange(req).await?;
        match classify(status, &body, retry_after, 0) {
            Verdict::Accepted { .. } => Ok(()),
            Verdict::Failed(e) => Err(e),
            Verdict::Partial(_) => Err(SinkError::Permanent {
                reason: format!("HTTP {status}: unexpected health answer"),
            }),
        }
    }

    /// Asks once whether `ack_id` was indexed.
    async fn ack_status(&self, ack_id: u64) -> Result<bool, SinkError> {
        let body = serde_json::json!({ "acks": [ack_id] }).to_string();
        let Answer {
            status,
            retry_after,
            body: bytes,
        } = exchange(self.request(&self.ack_url).body(body)).await?;
        if !(200..300).contains(&status) {
            return Err(match classify(status, &bytes, retry_after, 0) {
                Verdict::Failed(e) => e,
                _ => SinkError::transport(format!("HTTP {status} from /ack")),
            });
        }
        #[derive(Deserialize)]
        struct Acks {
            acks: std::collections::HashMap<String, bool>,
        }
        let acks: Acks = serde_json::from_slice(&bytes).map_err(|_| {
            SinkError::transport(format!("unreadable /ack answer: {}", snippet(&bytes, 200)))
        })?;
        Ok(acks.acks.get(&ack_id.to_string()).copied().unwrap_or(false))
    }

    /// Polls until `ack_id` reads `true`. Any failure or the timeout makes
    /// the whole batch retryable: HEC may or may not have indexed it, and a
    /// resend is identifiable downstream by `record_id`.
    async fn await_ack(&self, ack_id: u64) -> Result<(), SinkError> {
        let timeout = Duration::from_secs(self.config.ack_timeout_secs);
        let poll = Duration::from_millis(self.config.ack_poll_ms);
        let deadline = Instant::now() + timeout;
        loop {
            tokio::time::sleep(poll.min(deadline.saturating_duration_since(Instant::now()))).await;
            let last = match self.ack_status(ack_id).await {
                Ok(true) => return Ok(()),
                Ok(false) => "not yet indexed".to_owned(),
                Err(e) => e.reason().to_owned(),
            };
            if Instant::now() >= deadline {
                return Err(SinkError::Retryable {
                    reason: format!(
                        "no indexer acknowledgement for ackId {ack_id} within {}s ({last}); resending, duplicates carry the same record_id",
                        timeout.as_secs()
                    ),
                    retry_after: None,
                });
            }
        }
    }
}

impl Sink for SplunkHec {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 1000,
            max_bytes: 1_000_000,
            max_delay: Duration::from_secs(1),
        }
    }

    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        super::encode::envelope_with(&self.config, item, detail, out)
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let req = self.request(&self.event_url);
        let req = self.config.compression.body(req, concat(batch));
        let Answer {
            status,
            retry_after,
            body,
        } = exchange(req).await?;
        match classify(status, &body, retry_after, batch.len()) {
            Verdict::Failed(e) => Err(e),
            Verdict::Partial(report) => Ok(report),
            Verdict::Accepted { ack_id, warning } => {
                if let Some(w) = warning {
                    tracing::warn!(warning = %w, "Splunk HEC accepted a batch near capacity");
                }
                match (self.config.ack, ack_id) {
                    (true, Some(id)) => self.await_ack(id).await.map(|()| Report::delivered()),
                    (true, None) => {
                        if !self.warned_no_ack_id.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                "ack = true but HEC answered without an ackId: the token has acknowledgement off, so delivery means accepted, not indexed"
                            );
                        }
                        Ok(Report::delivered())
                    }
                    (false, _) => Ok(Report::delivered()),
                }
            }
        }
    }
}
