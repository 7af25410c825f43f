//! Encoding the three `Export*ServiceResponse` bodies and the
//! `google.rpc.Status` error body.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};

use super::{Encode, Obj, write_str};
use crate::num::write_i64;

impl Encode for ExportLogsServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("partialSuccess", self.partial_success.as_ref());
        obj.end();
    }
}

impl Encode for ExportLogsPartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.i64("rejectedLogRecords", self.rejected_log_records);
        obj.str("errorMessage", &self.error_message);
        obj.end();
    }
}

impl Encode for ExportMetricsServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("partialSuccess", self.partial_success.as_ref());
        obj.end();
    }
}

impl Encode for ExportMetricsPartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.i64("rejectedDataPoints", self.rejected_data_points);
        obj.str("errorMessage", &self.error_message);
        obj.end();
    }
}

impl Encode for ExportTraceServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("partialSuccess", self.partial_success.as_ref());
        obj.end();
    }
}

impl Encode for ExportTracePartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.i64("rejectedSpans", self.rejected_spans);
        obj.str("errorMessage", &self.error_message);
        obj.end();
    }
}

/// Writes `{"code":<code>,"message":"<message>"}`; both are always present.
pub(crate) fn write_status(out: &mut Vec<u8>, code: i32, message: &str) {
    let mut obj = Obj::new(out);
    write_i64(obj.key("code"), i64::from(code));
    write_str(obj.key("message"), message);
    obj.end();
}
