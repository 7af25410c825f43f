//! A delivery failure, classified once: retry the same body later, or never
//! (the records go to the dead-letter file with the reason).

use std::time::Duration;

/// Why a delivery failed, and whether trying again can help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Send the same body again after a delay (at least `retry_after` when
    /// the server said so).
    #[error("retryable: {reason}")]
    Retryable {
        /// What happened, without record content.
        reason: String,
        /// The server's `Retry-After` / `RetryInfo`, when given.
        retry_after: Option<Duration>,
    },
    /// Never resend: dead-letter with the reason.
    #[error("permanent: {reason}")]
    Permanent {
        /// What happened, without record content.
        reason: String,
    },
    /// The request was over the server's size limit: the driver splits the
    /// batch in two and sends each half; a single unit that is still too
    /// large is dead-lettered.
    #[error("too large: {reason}")]
    TooLarge {
        /// What happened, without record content.
        reason: String,
    },
}

impl SinkError {
    /// Whether trying again can help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SinkError::Retryable { .. })
    }

    /// A connection that failed or dropped before any response: retryable.
    pub fn transport(reason: impl Into<String>) -> SinkError {
        SinkError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// The reason, without the class.
    pub fn reason(&self) -> &str {
        match self {
            SinkError::Retryable { reason, .. }
            | SinkError::Permanent { reason }
            | SinkError::TooLarge { reason } => reason,
        }
    }
}

/// Reads a `Retry-After` header given in seconds. (The HTTP-date form is not
/// used by the contracts cairn follows; it reads as absent, which falls back
/// to the exponential backoff.)
pub fn retry_after_seconds(value: Option<&http::HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// The OTLP/HTTP contract: only 429, 502, 503 and 504 are retryable; every
/// other 4xx and 5xx (notably 400 and 413) is permanent. `None` for success.
pub fn classify_otlp_http(
    status: http::StatusCode,
    retry_after: Option<&http::HeaderValue>,
) -> Option<SinkError> {
    if status.is_success() {
        return None;
    }
    let reason = format!("HTTP {}", status.as_u16());
    Some(match status.as_u16() {
        429 | 502 | 503 | 504 => SinkError::Retryable {
            reason,
            retry_after: retry_after_seconds(retry_after),
        },
        _ => SinkError::Permanent { reason },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use http::{HeaderValue, StatusCode};

    use super::*;

    #[test]
    fn the_otlp_http_table() {
        for code in [429, 502, 503, 504] {
            let e = classify_otlp_http(StatusCode::from_u16(code).unwrap(), None).unwrap();
            assert!(e.is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 500, 501] {
            let e = classify_otlp_http(StatusCode::from_u16(code).unwrap(), None).unwrap();
            assert!(!e.is_retryable(), "{code}");
        }
        assert_eq!(classify_otlp_http(StatusCode::OK, None), None);
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_only() {
        let h = HeaderValue::from_static("7");
        assert_eq!(
            classify_otlp_http(StatusCode::TOO_MANY_REQUESTS, Some(&h)),
            Some(SinkError::Retryable {
                reason: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(7)),
            })
        );
        let date = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after_seconds(Some(&date)), None);
        let huge = HeaderValue::from_static("999999999");
        assert_eq!(
            retry_after_seconds(Some(&huge)),
            Some(Duration::from_secs(3600))
        );
    }
}
