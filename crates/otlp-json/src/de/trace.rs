//! Decoding `ExportTraceServiceRequest` and everything under it: spans, their
//! events, links and status.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use serde::de::MapAccess;

use super::common::ATTRIBUTES;
use super::{DecodeMsg, List, Msg, Opt, Str, fields, skip_value};
use crate::ids::{SPAN_ID, TRACE_ID};
use crate::num::{Enum, U32, U64};

const SPAN_KIND: Enum = Enum {
    name: "SpanKind",
    by_name: |name| SpanKind::from_str_name(name).map(|v| v as i32),
};

const STATUS_CODE: Enum = Enum {
    name: "StatusCode",
    by_name: |name| StatusCode::from_str_name(name).map(|v| v as i32),
};

fields! {
    pub(crate) enum RequestField {
        ResourceSpans = "resourceSpans" | "resource_spans",
    }
}

impl DecodeMsg for ExportTraceServiceRequest {
    type Field = RequestField;
    const EXPECTING: &'static str = "an ExportTraceServiceRequest object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: RequestField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            RequestField::ResourceSpans => {
                self.resource_spans = map.next_value_seed(List(Msg::new()))?
            }
            RequestField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ResourceSpansField {
        Resource = "resource",
        ScopeSpans = "scopeSpans" | "scope_spans",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ResourceSpans {
    type Field = ResourceSpansField;
    const EXPECTING: &'static str = "a ResourceSpans object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ResourceSpansField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceSpansField::Resource => self.resource = map.next_value_seed(Opt(Msg::new()))?,
            ResourceSpansField::ScopeSpans => {
                self.scope_spans = map.next_value_seed(List(Msg::new()))?
            }
            ResourceSpansField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ResourceSpansField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ScopeSpansField {
        Scope = "scope",
        Spans = "spans",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ScopeSpans {
    type Field = ScopeSpansField;
    const EXPECTING: &'static str = "a ScopeSpans object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ScopeSpansField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeSpansField::Scope => self.scope = map.next_value_seed(Opt(Msg::new()))?,
            ScopeSpansField::Spans => self.spans = map.next_value_seed(List(Msg::new()))?,
            ScopeSpansField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ScopeSpansField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum SpanField {
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        TraceState = "traceState" | "trace_state",
        ParentSpanId = "parentSpanId" | "parent_span_id",
        Flags = "flags",
        Name = "name",
        Kind = "kind",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        EndTimeUnixNano = "endTimeUnixNano" | "end_time_unix_nano",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Events = "events",
        DroppedEventsCount = "droppedEventsCount" | "dropped_events_count",
        Links = "links",
        DroppedLinksCount = "droppedLinksCount" | "dropped_links_count",
        Status = "status",
    }
}

impl DecodeMsg for Span {
    type Field = SpanField;
    const EXPECTING: &'static str = "a Span object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: SpanField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use SpanField as F;
        match field {
            F::TraceId => self.trace_id = map.next_value_seed(TRACE_ID)?,
            F::SpanId => self.span_id = map.next_value_seed(SPAN_ID)?,
            F::TraceState => self.trace_state = map.next_value_seed(Str)?,
            F::ParentSpanId => self.parent_span_id = map.next_value_seed(SPAN_ID)?,
            F::Flags => self.flags = map.next_value_seed(U32)?,
            F::Name => self.name = map.next_value_seed(Str)?,
            F::Kind => self.kind = map.next_value_seed(SPAN_KIND)?,
            F::StartTimeUnixNano => self.start_time_unix_nano = map.next_value_seed(U64)?,
            F::EndTimeUnixNano => self.end_time_unix_nano = map.next_value_seed(U64)?,
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            F::Events => self.events = map.next_value_seed(List(Msg::new()))?,
            F::DroppedEventsCount => self.dropped_events_count = map.next_value_seed(U32)?,
            F::Links => self.links = map.next_value_seed(List(Msg::new()))?,
            F::DroppedLinksCount => self.dropped_links_count = map.next_value_seed(U32)?,
            F::Status => self.status = map.next_value_seed(Opt(Msg::new()))?,
            F::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum EventField {
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        Name = "name",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    }
}

impl DecodeMsg for Event {
    type Field = EventField;
    const EXPECTING: &'static str = "a Span.Event object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: EventField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            EventField::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            EventField::Name => self.name = map.next_value_seed(Str)?,
            EventField::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            EventField::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            EventField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum LinkField {
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        TraceState = "traceState" | "trace_state",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Flags = "flags",
    }
}

impl DecodeMsg for Link {
    type Field = LinkField;
    const EXPECTING: &'static str = "a Span.Link object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: LinkField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            LinkField::TraceId => self.trace_id = map.next_value_seed(TRACE_ID)?,
            LinkField::SpanId => self.span_id = map.next_value_seed(SPAN_ID)?,
            LinkField::TraceState => self.trace_state = map.next_value_seed(Str)?,
            LinkField::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            LinkField::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            LinkField::Flags => self.flags = map.next_value_seed(U32)?,
            LinkField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum StatusField {
        Message = "message",
        Code = "code",
    }
}

impl DecodeMsg for Status {
    type Field = StatusField;
    const EXPECTING: &'static str = "a Status object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: StatusField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            StatusField::Message => self.message = map.next_value_seed(Str)?,
            StatusField::Code => self.code = map.next_value_seed(STATUS_CODE)?,
            StatusField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}
