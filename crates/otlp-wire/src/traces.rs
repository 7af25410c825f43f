//! `opentelemetry.proto.trace.v1` and the traces export request.

use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::KeyValue,
    trace::v1::{
        ResourceSpans, ScopeSpans, Span, Status,
        span::{Event, Link},
    },
};

use crate::{
    common::{attribute, merge_resource, merge_scope, push_key_value, settle},
    fields::{envelope, fixed32, fixed64, optional, repeated, request},
    reader::{Reader, Result, WireError, bytes, message, string, varint},
};

/// Decodes an `ExportTraceServiceRequest`: the same value, or an error for
/// the same bytes, as `ExportTraceServiceRequest::decode` with prost.
pub fn decode_traces(buf: &[u8]) -> std::result::Result<ExportTraceServiceRequest, WireError> {
    Ok(ExportTraceServiceRequest {
        resource_spans: request(buf, merge_resource_spans)?,
    })
}

fn merge_resource_spans(rs: &mut ResourceSpans, buf: &[u8], ctx: u32) -> Result<()> {
    let fields = (&mut rs.resource, &mut rs.scope_spans, &mut rs.schema_url);
    envelope(buf, ctx, fields, merge_resource, merge_scope_spans)
}

fn merge_scope_spans(ss: &mut ScopeSpans, buf: &[u8], ctx: u32) -> Result<()> {
    // Each span's attributes are gathered here, then copied once into a
    // `Vec` of their exact size.
    let mut scratch = Vec::new();
    let fields = (&mut ss.scope, &mut ss.spans, &mut ss.schema_url);
    envelope(buf, ctx, fields, merge_scope, |span, body, inner| {
        merge_span(span, body, inner, &mut scratch)
    })
}

fn merge_span(span: &mut Span, buf: &[u8], ctx: u32, scratch: &mut Vec<KeyValue>) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => bytes(&mut r, tag, wire, &mut span.trace_id)?,
            2 => bytes(&mut r, tag, wire, &mut span.span_id)?,
            3 => string(&mut r, tag, wire, &mut span.trace_state)?,
            4 => bytes(&mut r, tag, wire, &mut span.parent_span_id)?,
            5 => string(&mut r, tag, wire, &mut span.name)?,
            6 => span.kind = varint(&mut r, tag, wire)? as i32,
            7 => span.start_time_unix_nano = fixed64(&mut r, tag, wire)?,
            8 => span.end_time_unix_nano = fixed64(&mut r, tag, wire)?,
            9 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                push_key_value(scratch, body, inner)?;
            }
            10 => span.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            11 => repeated(&mut span.events, &mut r, buf, (tag, wire), ctx, merge_event)?,
            12 => span.dropped_events_count = varint(&mut r, tag, wire)? as u32,
            13 => repeated(&mut span.links, &mut r, buf, (tag, wire), ctx, merge_link)?,
            14 => span.dropped_links_count = varint(&mut r, tag, wire)? as u32,
            15 => optional(&mut span.status, &mut r, (tag, wire), ctx, merge_status)?,
            16 => span.flags = fixed32(&mut r, tag, wire)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    settle(&mut span.attributes, scratch);
    Ok(())
}

fn merge_event(event: &mut Event, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => event.time_unix_nano = fixed64(&mut r, tag, wire)?,
            2 => string(&mut r, tag, wire, &mut event.name)?,
            3 => attribute(&mut event.attributes, &mut r, buf, tag, wire, ctx)?,
            4 => event.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_link(link: &mut Link, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => bytes(&mut r, tag, wire, &mut link.trace_id)?,
            2 => bytes(&mut r, tag, wire, &mut link.span_id)?,
            3 => string(&mut r, tag, wire, &mut link.trace_state)?,
            4 => attribute(&mut link.attributes, &mut r, buf, tag, wire, ctx)?,
            5 => link.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            6 => link.flags = fixed32(&mut r, tag, wire)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_status(status: &mut Status, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            2 => string(&mut r, tag, wire, &mut status.message)?,
            3 => status.code = varint(&mut r, tag, wire)? as i32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}
