//! The part of receiving shared by gRPC and HTTP: decode the body, type it
//! into a batch, hand it to the ingest, and say what was accepted.
//!
//! Protocol modules only translate their transport into a call here and the
//! result back into their status codes, so both protocols behave the same.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use cairn_core::{
    ingest::Ingest,
    otlp::collector::{
        logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse},
        metrics::v1::{ExportMetricsPartialSuccess, ExportMetricsServiceResponse},
        trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse},
    },
    record::{Batch, Origin, Rejected},
    signal::{Protocol, Signal},
};
use prost::Message;

use cairn_core::scrub::Scrubber;

use crate::{ReceiveError, auth::Authenticator, body::Limits, stats::ReceiverStats};

/// How the body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Binary protobuf.
    Protobuf,
    /// OTLP/JSON.
    Json,
}

/// What an accepted request yielded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Records handed on.
    pub records: u64,
    /// Records rejected (partial success).
    pub rejected: Rejected,
}

/// Everything a receiver needs, shared by both protocols.
pub struct Receiver {
    ingest: Arc<dyn Ingest>,
    scrubber: Option<Arc<dyn Scrubber>>,
    /// Credentials check.
    pub auth: Authenticator,
    /// Body limits.
    pub limits: Limits,
    /// Counters.
    pub stats: ReceiverStats,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("auth", &self.auth)
            .field("limits", &self.limits)
            .finish()
    }
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn malformed(e: impl std::fmt::Display) -> ReceiveError {
    ReceiveError::Malformed(e.to_string())
}

impl Receiver {
    /// Builds a receiver that hands batches to `ingest`.
    pub fn new(
        ingest: Arc<dyn Ingest>,
        auth: Authenticator,
        limits: Limits,
        stats: ReceiverStats,
    ) -> Receiver {
        Receiver {
            ingest,
            scrubber: None,
            auth,
            limits,
            stats,
        }
    }

    /// Cleans every request with `scrubber` before it is typed or handed on.
    pub fn with_scrubber(mut self, scrubber: Arc<dyn Scrubber>) -> Receiver {
        self.scrubber = Some(scrubber);
        self
    }

    /// Decodes, types and submits one export request's (inflated) body.
    pub async fn export(
        &self,
        signal: Signal,
        protocol: Protocol,
        format: Format,
        tenant: Option<Arc<str>>,
        body: Bytes,
    ) -> Result<Accepted, ReceiveError> {
        let origin = Origin {
            signal,
            protocol,
            tenant,
            received_unix_nano: now_unix_nano(),
        };
        let (batch, rejected) =
            decode_scrubbed(signal, format, &body, origin, self.scrubber.as_deref())?;
        let records = batch.records.len() as u64;
        if records > 0 {
            self.ingest.submit(batch).await?;
        }
        Ok(Accepted { records, rejected })
    }
}

/// Decodes a body of `signal` in `format` and types it (no scrubbing).
pub fn decode(
    signal: Signal,
    format: Format,
    body: &[u8],
    origin: Origin,
) -> Result<(Batch, Rejected), ReceiveError> {
    decode_scrubbed(signal, format, body, origin, None)
}

/// Parses a body, cleans it with `scrubber`, then types it.
pub fn decode_scrubbed(
    signal: Signal,
    format: Format,
    body: &[u8],
    origin: Origin,
    scrubber: Option<&dyn Scrubber>,
) -> Result<(Batch, Rejected), ReceiveError> {
    Ok(match signal {
        Signal::Logs => {
            let mut req = match format {
                Format::Protobuf => cairn_otlp_wire::decode_logs(body).map_err(malformed)?,
                Format::Json => cairn_otlp_json::decode_logs(body).map_err(malformed)?,
            };
            if let Some(s) = scrubber {
                s.logs(&mut req);
            }
            Batch::from_logs(origin, req)
        }
        Signal::Metrics => {
            let mut req = match format {
                Format::Protobuf => cairn_otlp_wire::decode_metrics(body).map_err(malformed)?,
                Format::Json => cairn_otlp_json::decode_metrics(body).map_err(malformed)?,
            };
            if let Some(s) = scrubber {
                s.metrics(&mut req);
            }
            Batch::from_metrics(origin, req)
        }
        Signal::Traces => {
            let mut req = match format {
                Format::Protobuf => cairn_otlp_wire::decode_traces(body).map_err(malformed)?,
                Format::Json => cairn_otlp_json::decode_traces(body).map_err(malformed)?,
            };
            if let Some(s) = scrubber {
                s.traces(&mut req);
            }
            Batch::from_traces(origin, req)
        }
    })
}

/// The three `Export*ServiceResponse` types, built from an [`Accepted`].
pub trait ExportResponse: Message + Default + Send + 'static {
    /// The response for an accepted request, with partial success filled
    /// when records were rejected.
    fn from_accepted(accepted: &Accepted) -> Self;
    /// Encodes as OTLP/JSON.
    fn to_json(&self) -> Vec<u8>;
}

fn rejected_count(a: &Accepted) -> Option<(i64, String)> {
    (a.rejected.count > 0).then(|| {
        (
            i64::try_from(a.rejected.count).unwrap_or(i64::MAX),
            a.rejected.message.clone(),
        )
    })
}

impl ExportResponse for ExportLogsServiceResponse {
    fn from_accepted(a: &Accepted) -> Self {
        ExportLogsServiceResponse {
            partial_success: rejected_count(a).map(|(n, m)| ExportLogsPartialSuccess {
                rejected_log_records: n,
                error_message: m,
            }),
        }
    }
    fn to_json(&self) -> Vec<u8> {
        cairn_otlp_json::encode_logs_response(self)
    }
}

impl ExportResponse for ExportMetricsServiceResponse {
    fn from_accepted(a: &Accepted) -> Self {
        ExportMetricsServiceResponse {
            partial_success: rejected_count(a).map(|(n, m)| ExportMetricsPartialSuccess {
                rejected_data_points: n,
                error_message: m,
            }),
        }
    }
    fn to_json(&self) -> Vec<u8> {
        cairn_otlp_json::encode_metrics_response(self)
    }
}

impl ExportResponse for ExportTraceServiceResponse {
    fn from_accepted(a: &Accepted) -> Self {
        ExportTraceServiceResponse {
            partial_success: rejected_count(a).map(|(n, m)| ExportTracePartialSuccess {
                rejected_spans: n,
                error_message: m,
            }),
        }
    }
    fn to_json(&self) -> Vec<u8> {
        cairn_otlp_json::encode_traces_response(self)
    }
}
