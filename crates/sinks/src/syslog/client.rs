//! The syslog [`Sink`]: encodes each record as one message and writes a
//! batch over the [`Link`].
//!
//! Syslog answers nothing, so the only failure is the transport's: a
//! connect or write error is retryable and the driver resends the batch
//! (TCP/TLS: all of it, since a half-written stream cannot be told apart
//! from a delivered one; UDP: the datagrams not yet handed to the socket).
//! A resend can therefore duplicate messages the receiver already had;
//! they carry the same `record_id` (structured data, or CEF `externalId`)
//! for deduplication downstream.

use std::time::Duration;

use super::{encode::Encoder, transport::Link};
use crate::{
    detail::Detail,
    driver::{BatchLimits, SinkError},
    item::AuditItem,
    sink::{EncodeError, Encoded, Report, Sink},
};

/// Messages per batch: syslog has no request, so this only bounds one write.
pub const MAX_ITEMS: usize = 500;
/// Bytes per batch (1,000,000: one write).
pub const MAX_BYTES: usize = 1_000_000;
/// How long a message waits for company.
pub const MAX_DELAY: Duration = Duration::from_secs(1);

/// A syslog destination.
pub struct Syslog {
    encoder: Encoder,
    link: Link,
}

impl Syslog {
    /// A sink from its encoder and link (see [`super::Config::build`]).
    pub fn new(encoder: Encoder, link: Link) -> Syslog {
        Syslog { encoder, link }
    }

    /// The same sink writing `procid` as its PROCID instead of this
    /// process's id (whose length moves where a long message is cut).
    #[cfg(test)]
    pub(crate) fn with_procid(mut self, procid: &str) -> Syslog {
        self.encoder.procid = procid.to_owned();
        self
    }

    /// Its encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

impl Sink for Syslog {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: MAX_ITEMS,
            max_bytes: MAX_BYTES,
            max_delay: MAX_DELAY,
        }
    }

    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.encoder.encode_with(item, detail, out)
    }

    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let messages: Vec<&[u8]> = batch.iter().map(|u| u.bytes.as_slice()).collect();
        match self.link.send(&messages).await {
            Ok(()) => Ok(Report::delivered()),
            Err(e) if e.sent > 0 => {
                tracing::debug!(sent = e.sent, reason = %e.reason, "syslog batch cut short");
                Ok(Report {
                    retry: (e.sent..batch.len()).collect(),
                    ..Report::default()
                })
            }
            Err(e) => Err(SinkError::transport(e.reason)),
        }
    }
}
