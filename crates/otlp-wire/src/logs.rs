//! `opentelemetry.proto.logs.v1` and the logs export request.

use opentelemetry_proto::tonic::{
    collector::logs::v1::ExportLogsServiceRequest,
    common::v1::KeyValue,
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
};

use crate::{
    common::{merge_any_value, merge_resource, merge_scope, push_key_value, settle},
    fields::{envelope, fixed32, fixed64, optional, request},
    reader::{Reader, Result, WireError, bytes, message, string, varint},
};

/// Decodes an `ExportLogsServiceRequest`: the same value, or an error for
/// the same bytes, as `ExportLogsServiceRequest::decode` with prost.
pub fn decode_logs(buf: &[u8]) -> std::result::Result<ExportLogsServiceRequest, WireError> {
    Ok(ExportLogsServiceRequest {
        resource_logs: request(buf, merge_resource_logs)?,
    })
}

fn merge_resource_logs(rl: &mut ResourceLogs, buf: &[u8], ctx: u32) -> Result<()> {
    let fields = (&mut rl.resource, &mut rl.scope_logs, &mut rl.schema_url);
    envelope(buf, ctx, fields, merge_resource, merge_scope_logs)
}

fn merge_scope_logs(sl: &mut ScopeLogs, buf: &[u8], ctx: u32) -> Result<()> {
    // Each record's attributes are gathered here, then copied once into a
    // `Vec` of their exact size: cheaper than counting them first.
    let mut scratch = Vec::new();
    let fields = (&mut sl.scope, &mut sl.log_records, &mut sl.schema_url);
    envelope(buf, ctx, fields, merge_scope, |log, body, inner| {
        merge_log_record(log, body, inner, &mut scratch)
    })
}

fn merge_log_record(
    log: &mut LogRecord,
    buf: &[u8],
    ctx: u32,
    scratch: &mut Vec<KeyValue>,
) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => log.time_unix_nano = fixed64(&mut r, tag, wire)?,
            2 => log.severity_number = varint(&mut r, tag, wire)? as i32,
            3 => string(&mut r, tag, wire, &mut log.severity_text)?,
            5 => optional(&mut log.body, &mut r, (tag, wire), ctx, merge_any_value)?,
            6 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                push_key_value(scratch, body, inner)?;
            }
            7 => log.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            8 => log.flags = fixed32(&mut r, tag, wire)?,
            9 => bytes(&mut r, tag, wire, &mut log.trace_id)?,
            10 => bytes(&mut r, tag, wire, &mut log.span_id)?,
            11 => log.observed_time_unix_nano = fixed64(&mut r, tag, wire)?,
            12 => string(&mut r, tag, wire, &mut log.event_name)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    settle(&mut log.attributes, scratch);
    Ok(())
}
