//! cairn-otlp-json: the OTLP/JSON mapping, sans-IO.
//!
//! Decodes and encodes the OTLP/HTTP JSON bodies (requests and responses of
//! the logs, metrics and trace services) directly from and to the prost types
//! of `opentelemetry-proto`, following the OTLP spec's JSON rules rather than
//! protobuf's canonical JSON:
//!
//! - keys are lowerCamelCase; the proto's snake_case names are accepted too,
//!   and unknown keys are ignored;
//! - trace and span ids are hex (any case in, lowercase out; `""` is no id),
//!   checked for length (16 and 8 bytes);
//! - 64-bit integers are accepted as numbers or decimal strings and written as
//!   strings; doubles accept numbers, numeric strings, `"NaN"`, `"Infinity"`,
//!   `"-Infinity"` and write the last three for non-finite values;
//! - enums are integers (their names are accepted); `bytesValue` is base64;
//! - `null` anywhere means the field's default.
//!
//! Decoding never panics and bounds `AnyValue` nesting at
//! [`MAX_ANY_VALUE_DEPTH`]. Encoding leaves out fields holding their default.

mod de;
mod error;
mod ids;
mod num;
mod ser;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

pub use error::{DecodeError, DecodeErrorKind};

/// How many levels of `arrayValue` / `kvlistValue` may nest below a top-level
/// `AnyValue` (an attribute value or a log body) before decoding fails.
///
/// Chosen so that this error, not `serde_json`'s own limit of 128 nested JSON
/// containers, is what a too-deep value hits, even in the most deeply
/// enveloped position (exemplar attributes, where a `kvlistValue` level costs
/// four JSON containers).
pub const MAX_ANY_VALUE_DEPTH: usize = 24;

/// First allocation for an encoded request body.
const REQUEST_BUFFER: usize = 16 * 1024;
/// First allocation for an encoded response body.
const RESPONSE_BUFFER: usize = 128;

/// Decodes an OTLP/JSON `ExportLogsServiceRequest` (the body of `POST /v1/logs`).
pub fn decode_logs(bytes: &[u8]) -> Result<ExportLogsServiceRequest, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest` (the body of `POST /v1/metrics`).
pub fn decode_metrics(bytes: &[u8]) -> Result<ExportMetricsServiceRequest, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest` (the body of `POST /v1/traces`).
pub fn decode_traces(bytes: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Encodes an `ExportLogsServiceRequest` as compact OTLP/JSON.
pub fn encode_logs(req: &ExportLogsServiceRequest) -> Vec<u8> {
    ser::to_vec(req, REQUEST_BUFFER)
}

/// Encodes an `ExportMetricsServiceRequest` as compact OTLP/JSON.
pub fn encode_metrics(req: &ExportMetricsServiceRequest) -> Vec<u8> {
    ser::to_vec(req, REQUEST_BUFFER)
}

/// Encodes an `ExportTraceServiceRequest` as compact OTLP/JSON.
pub fn encode_traces(req: &ExportTraceServiceRequest) -> Vec<u8> {
    ser::to_vec(req, REQUEST_BUFFER)
}

/// Decodes an OTLP/JSON `ExportLogsServiceResponse`.
pub fn decode_logs_response(bytes: &[u8]) -> Result<ExportLogsServiceResponse, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Decodes an OTLP/JSON `ExportMetricsServiceResponse`.
pub fn decode_metrics_response(bytes: &[u8]) -> Result<ExportMetricsServiceResponse, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Decodes an OTLP/JSON `ExportTraceServiceResponse`.
pub fn decode_traces_response(bytes: &[u8]) -> Result<ExportTraceServiceResponse, DecodeError> {
    de::decode_with(bytes, de::Msg::new())
}

/// Encodes an `ExportLogsServiceResponse`: `{}` on full success, else
/// `{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"..."}}`.
pub fn encode_logs_response(resp: &ExportLogsServiceResponse) -> Vec<u8> {
    ser::to_vec(resp, RESPONSE_BUFFER)
}

/// Encodes an `ExportMetricsServiceResponse` (`rejectedDataPoints`).
pub fn encode_metrics_response(resp: &ExportMetricsServiceResponse) -> Vec<u8> {
    ser::to_vec(resp, RESPONSE_BUFFER)
}

/// Encodes an `ExportTraceServiceResponse` (`rejectedSpans`).
pub fn encode_traces_response(resp: &ExportTraceServiceResponse) -> Vec<u8> {
    ser::to_vec(resp, RESPONSE_BUFFER)
}

/// Encodes a `google.rpc.Status` error body, `{"code":3,"message":"..."}`,
/// as OTLP/HTTP sends with 4xx/5xx responses (`code` is a gRPC status code).
pub fn encode_status(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(RESPONSE_BUFFER + message.len());
    ser::response::write_status(&mut out, code, message);
    out
}
