//! `opentelemetry.proto.logs.v1` and the logs export request.

use opentelemetry_proto::tonic::{
    collector::logs::v1::ExportLogsServiceRequest,
    common::v1::KeyValue,
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
};

use crate::{
    common::{merge_any_value, merge_resource, merge_scope, push_key_value},
    reader::{
        FIXED32, FIXED64, LIMIT, Reader, Result, WireError, bytes, count, expect, message, string,
        varint,
    },
};

/// Decodes an `ExportLogsServiceRequest`: the same value, or an error for
/// the same bytes, as `ExportLogsServiceRequest::decode` with prost.
pub fn decode_logs(buf: &[u8]) -> std::result::Result<ExportLogsServiceRequest, WireError> {
    let mut req = ExportLogsServiceRequest::default();
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, LIMIT)?;
                if req.resource_logs.capacity() == 0 {
                    req.resource_logs.reserve_exact(count(buf, tag));
                }
                let mut rl = ResourceLogs::default();
                merge_resource_logs(&mut rl, body, inner)?;
                req.resource_logs.push(rl);
            }
            _ => r.skip(wire, tag, LIMIT)?,
        }
    }
    Ok(req)
}

fn merge_resource_logs(rl: &mut ResourceLogs, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_resource(
                    rl.resource.get_or_insert_with(Default::default),
                    body,
                    inner,
                )?;
            }
            2 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                if rl.scope_logs.capacity() == 0 {
                    rl.scope_logs.reserve_exact(count(buf, tag));
                }
                let mut sl = ScopeLogs::default();
                merge_scope_logs(&mut sl, body, inner)?;
                rl.scope_logs.push(sl);
            }
            3 => string(&mut r, tag, wire, &mut rl.schema_url)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_scope_logs(sl: &mut ScopeLogs, buf: &[u8], ctx: u32) -> Result<()> {
    // Each record's attributes are gathered here, then moved into a `Vec`
    // of their exact size: cheaper than counting them first.
    let mut scratch = Vec::new();
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_scope(sl.scope.get_or_insert_with(Default::default), body, inner)?;
            }
            2 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                if sl.log_records.capacity() == 0 {
                    sl.log_records.reserve_exact(count(buf, tag));
                }
                let mut log = LogRecord::default();
                merge_log_record(&mut log, body, inner, &mut scratch)?;
                sl.log_records.push(log);
            }
            3 => string(&mut r, tag, wire, &mut sl.schema_url)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
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
            1 => {
                expect(tag, wire, FIXED64)?;
                log.time_unix_nano = r.fixed64()?;
            }
            2 => log.severity_number = varint(&mut r, tag, wire)? as i32,
            3 => string(&mut r, tag, wire, &mut log.severity_text)?,
            5 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_any_value(log.body.get_or_insert_with(Default::default), body, inner)?;
            }
            6 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                push_key_value(scratch, body, inner)?;
            }
            7 => log.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            8 => {
                expect(tag, wire, FIXED32)?;
                log.flags = r.fixed32()?;
            }
            9 => bytes(&mut r, tag, wire, &mut log.trace_id)?,
            10 => bytes(&mut r, tag, wire, &mut log.span_id)?,
            11 => {
                expect(tag, wire, FIXED64)?;
                log.observed_time_unix_nano = r.fixed64()?;
            }
            12 => string(&mut r, tag, wire, &mut log.event_name)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    // One copy of the block into an exact-size `Vec` (`append` copies
    // bytes, where `drain` would move element by element).
    log.attributes.reserve_exact(scratch.len());
    log.attributes.append(scratch);
    Ok(())
}
