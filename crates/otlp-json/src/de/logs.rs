//! Decoding `ExportLogsServiceRequest` and everything under it down to `LogRecord`.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use serde::de::MapAccess;

use super::common::{ANY_VALUE, ATTRIBUTES};
use super::{DecodeMsg, List, Msg, Opt, Str, fields, skip_value};
use crate::ids::{SPAN_ID, TRACE_ID};
use crate::num::{Enum, U32, U64};

const SEVERITY_NUMBER: Enum = Enum {
    name: "SeverityNumber",
    by_name: |name| SeverityNumber::from_str_name(name).map(|v| v as i32),
};

fields! {
    pub(crate) enum RequestField {
        ResourceLogs = "resourceLogs" | "resource_logs",
    }
}

impl DecodeMsg for ExportLogsServiceRequest {
    type Field = RequestField;
    const EXPECTING: &'static str = "an ExportLogsServiceRequest object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: RequestField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            RequestField::ResourceLogs => {
                self.resource_logs = map.next_value_seed(List(Msg::new()))?
            }
            RequestField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ResourceLogsField {
        Resource = "resource",
        ScopeLogs = "scopeLogs" | "scope_logs",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ResourceLogs {
    type Field = ResourceLogsField;
    const EXPECTING: &'static str = "a ResourceLogs object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ResourceLogsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceLogsField::Resource => self.resource = map.next_value_seed(Opt(Msg::new()))?,
            ResourceLogsField::ScopeLogs => {
                self.scope_logs = map.next_value_seed(List(Msg::new()))?
            }
            ResourceLogsField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ResourceLogsField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ScopeLogsField {
        Scope = "scope",
        LogRecords = "logRecords" | "log_records",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ScopeLogs {
    type Field = ScopeLogsField;
    const EXPECTING: &'static str = "a ScopeLogs object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ScopeLogsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeLogsField::Scope => self.scope = map.next_value_seed(Opt(Msg::new()))?,
            ScopeLogsField::LogRecords => {
                self.log_records = map.next_value_seed(List(Msg::new()))?
            }
            ScopeLogsField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ScopeLogsField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum LogRecordField {
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        ObservedTimeUnixNano = "observedTimeUnixNano" | "observed_time_unix_nano",
        SeverityNumber = "severityNumber" | "severity_number",
        SeverityText = "severityText" | "severity_text",
        Body = "body",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Flags = "flags",
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        EventName = "eventName" | "event_name",
    }
}

impl DecodeMsg for LogRecord {
    type Field = LogRecordField;
    const EXPECTING: &'static str = "a LogRecord object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: LogRecordField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use LogRecordField as F;
        match field {
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::ObservedTimeUnixNano => self.observed_time_unix_nano = map.next_value_seed(U64)?,
            F::SeverityNumber => self.severity_number = map.next_value_seed(SEVERITY_NUMBER)?,
            F::SeverityText => self.severity_text = map.next_value_seed(Str)?,
            F::Body => self.body = map.next_value_seed(Opt(ANY_VALUE))?,
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            F::Flags => self.flags = map.next_value_seed(U32)?,
            F::TraceId => self.trace_id = map.next_value_seed(TRACE_ID)?,
            F::SpanId => self.span_id = map.next_value_seed(SPAN_ID)?,
            F::EventName => self.event_name = map.next_value_seed(Str)?,
            F::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}
