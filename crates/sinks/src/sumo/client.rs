//! The Sumo client: one POST of newline-delimited JSON to the HTTP Source
//! URL per batch, with the `X-Sumo-*` headers, classified per contract §5.
//! The URL is the credential: it never appears in an error, a log line or
//! `Debug` output, and error bodies are scrubbed of it before they become a
//! dead-letter reason.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, header};

use super::config::{Compression, Config};
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError},
    http::{concat, exchange, snippet},
    item::AuditItem,
    secret::Secret,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// A Sumo Logic HTTP Source sink.
pub struct Sumo {
    url: reqwest::Url,
    headers: HeaderMap,
    compression: Compression,
    client: reqwest::Client,
    /// Strings that must never leave in a reason: the URL and its path
    /// segments long enough to be a token.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Sumo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sumo")
            .field("url", &"[secret]")
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let v =
        HeaderValue::from_str(value).map_err(|_| format!("{name}: not a valid header value"))?;
    Ok((HeaderName::from_static(name), v))
}

/// Classifies one Sumo answer (`None`: delivered). `scrub` removes the
/// secret URL from the body before it is quoted.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    scrub: impl Fn(String) -> String,
) -> Option<SinkError> {
    if (200..300).contains(&status) {
        return None;
    }
    let text = scrub(snippet(body, 200));
    let reason = if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    };
    Some(match status {
        401 => SinkError::Permanent {
            reason: format!("{reason} (the HTTP Source URL or its token was refused)"),
        },
        413 => SinkError::TooLarge { reason },
        408 | 429 | 503 | 504 => SinkError::Retryable {
            reason,
            retry_after,
        },
        // Undocumented server errors: the server's side, so worth a retry.
        500..=599 => SinkError::Retryable {
            reason,
            retry_after,
        },
        _ => SinkError::Permanent { reason },
    })
}

impl Sumo {
    pub(crate) fn new(
        config: &Config,
        url: reqwest::Url,
        auth: Option<(String, Secret)>,
        client: reqwest::Client,
    ) -> Result<Sumo, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-sumo-category", &config.category),
            ("x-sumo-name", &config.name),
            ("x-sumo-host", &config.host),
        ] {
            if let Some(v) = value {
                let (k, v) = header(name, v)?;
                headers.insert(k, v);
            }
        }
        if let Some(fields) = config.fields_header() {
            let (k, v) = header("x-sumo-fields", &fields)?;
            headers.insert(k, v);
        }
        if let Some((name, value)) = auth {
            let k = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("auth_header.name {name:?} is not a header name"))?;
            let mut v = HeaderValue::from_str(value.expose())
                .map_err(|_| "auth_header.value: not a valid header value".to_owned())?;
            v.set_sensitive(true);
            headers.insert(k, v);
        }
        let mut secrets = vec![url.as_str().to_owned()];
        secrets.extend(
            url.path_segments()
                .into_iter()
                .flatten()
                .filter(|s| s.len() >= 16)
                .map(str::to_owned),
        );
        Ok(Sumo {
            url,
            headers,
            compression: config.compression,
            client,
            secrets,
        })
    }

    fn scrub(&self, mut text: String) -> String {
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "[redacted]");
            }
        }
        text
    }
}

impl Sink for Sumo {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            // Sumo caps bytes, not lines; the count only bounds one request.
            max_items: 10_000,
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
        super::encode::line_with(item, detail, out)
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let req = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(header::CONTENT_TYPE, "application/json");
        let answer = exchange(self.compression.body(req, concat(batch))).await?;
        match classify(answer.status, &answer.body, answer.retry_after, |t| {
            self.scrub(t)
        }) {
            None => Ok(Report::delivered()),
            Some(e) => Err(e),
        }
    }
}
