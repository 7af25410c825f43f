//! The hook that cleans a request in place after it is parsed and before it
//! is typed, queued, written or logged.
//!
//! Receivers call it on every request; the redaction stage implements it.
//! Because typing happens after scrubbing, typed fields are derived from
//! clean values only: no typed copy can hold what redaction removed.

use crate::otlp::collector::{
    logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
    trace::v1::ExportTraceServiceRequest,
};

/// Cleans requests in place. Must never fail open: a value it cannot
/// process is replaced or removed, never passed on as it was.
pub trait Scrubber: Send + Sync + 'static {
    /// Cleans a logs request.
    fn logs(&self, req: &mut ExportLogsServiceRequest);
    /// Cleans a metrics request.
    fn metrics(&self, req: &mut ExportMetricsServiceRequest);
    /// Cleans a traces request.
    fn traces(&self, req: &mut ExportTraceServiceRequest);
}

/// The attribute added to every record that had something redacted: an
/// array of the kinds found (never the content).
pub const REDACTED_ATTRIBUTE: &str = "cairn.redacted";
