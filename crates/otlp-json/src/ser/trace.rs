//! Encoding `ExportTraceServiceRequest` down to spans, events, links and status.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{Encode, Obj};

impl Encode for ExportTraceServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("resourceSpans", &self.resource_spans);
        obj.end();
    }
}

impl Encode for ResourceSpans {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("resource", self.resource.as_ref());
        obj.list("scopeSpans", &self.scope_spans);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for ScopeSpans {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("scope", self.scope.as_ref());
        obj.list("spans", &self.spans);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for Span {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.id("traceId", &self.trace_id);
        obj.id("spanId", &self.span_id);
        obj.str("traceState", &self.trace_state);
        obj.id("parentSpanId", &self.parent_span_id);
        obj.u32("flags", self.flags);
        obj.str("name", &self.name);
        obj.i32("kind", self.kind);
        obj.u64("startTimeUnixNano", self.start_time_unix_nano);
        obj.u64("endTimeUnixNano", self.end_time_unix_nano);
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.list("events", &self.events);
        obj.u32("droppedEventsCount", self.dropped_events_count);
        obj.list("links", &self.links);
        obj.u32("droppedLinksCount", self.dropped_links_count);
        obj.msg("status", self.status.as_ref());
        obj.end();
    }
}

impl Encode for Event {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.u64("timeUnixNano", self.time_unix_nano);
        obj.str("name", &self.name);
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.end();
    }
}

impl Encode for Link {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.id("traceId", &self.trace_id);
        obj.id("spanId", &self.span_id);
        obj.str("traceState", &self.trace_state);
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.u32("flags", self.flags);
        obj.end();
    }
}

impl Encode for Status {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("message", &self.message);
        obj.i32("code", self.code);
        obj.end();
    }
}
