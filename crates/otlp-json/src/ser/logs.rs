//! Encoding `ExportLogsServiceRequest` down to `LogRecord`.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::{Encode, Obj};

impl Encode for ExportLogsServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("resourceLogs", &self.resource_logs);
        obj.end();
    }
}

impl Encode for ResourceLogs {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("resource", self.resource.as_ref());
        obj.list("scopeLogs", &self.scope_logs);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for ScopeLogs {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("scope", self.scope.as_ref());
        obj.list("logRecords", &self.log_records);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for LogRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.u64("timeUnixNano", self.time_unix_nano);
        obj.u64("observedTimeUnixNano", self.observed_time_unix_nano);
        obj.i32("severityNumber", self.severity_number);
        obj.str("severityText", &self.severity_text);
        obj.msg("body", self.body.as_ref());
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.u32("flags", self.flags);
        obj.id("traceId", &self.trace_id);
        obj.id("spanId", &self.span_id);
        obj.str("eventName", &self.event_name);
        obj.end();
    }
}
