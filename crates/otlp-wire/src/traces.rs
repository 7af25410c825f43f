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
    common::{attribute, merge_resource, merge_scope, push_key_value},
    reader::{
        FIXED32, FIXED64, LIMIT, Reader, Result, WireError, bytes, count, expect, message, string,
        varint,
    },
};

/// Decodes an `ExportTraceServiceRequest`: the same value, or an error for
/// the same bytes, as `ExportTraceServiceRequest::decode` with prost.
pub fn decode_traces(buf: &[u8]) -> std::result::Result<ExportTraceServiceRequest, WireError> {
    let mut req = ExportTraceServiceRequest::default();
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, LIMIT)?;
                if req.resource_spans.capacity() == 0 {
                    req.resource_spans.reserve_exact(count(buf, tag));
                }
                let mut rs = ResourceSpans::default();
                merge_resource_spans(&mut rs, body, inner)?;
                req.resource_spans.push(rs);
            }
            _ => r.skip(wire, tag, LIMIT)?,
        }
    }
    Ok(req)
}

fn merge_resource_spans(rs: &mut ResourceSpans, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_resource(
                    rs.resource.get_or_insert_with(Default::default),
                    body,
                    inner,
                )?;
            }
            2 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                if rs.scope_spans.capacity() == 0 {
                    rs.scope_spans.reserve_exact(count(buf, tag));
                }
                let mut ss = ScopeSpans::default();
                merge_scope_spans(&mut ss, body, inner)?;
                rs.scope_spans.push(ss);
            }
            3 => string(&mut r, tag, wire, &mut rs.schema_url)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_scope_spans(ss: &mut ScopeSpans, buf: &[u8], ctx: u32) -> Result<()> {
    // Each span's attributes are gathered here, then copied once into a
    // `Vec` of their exact size.
    let mut scratch = Vec::new();
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_scope(ss.scope.get_or_insert_with(Default::default), body, inner)?;
            }
            2 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                if ss.spans.capacity() == 0 {
                    ss.spans.reserve_exact(count(buf, tag));
                }
                let mut span = Span::default();
                merge_span(&mut span, body, inner, &mut scratch)?;
                ss.spans.push(span);
            }
            3 => string(&mut r, tag, wire, &mut ss.schema_url)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
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
            7 => {
                expect(tag, wire, FIXED64)?;
                span.start_time_unix_nano = r.fixed64()?;
            }
            8 => {
                expect(tag, wire, FIXED64)?;
                span.end_time_unix_nano = r.fixed64()?;
            }
            9 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                push_key_value(scratch, body, inner)?;
            }
            10 => span.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            11 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                let mut event = Event::default();
                merge_event(&mut event, body, inner)?;
                span.events.push(event);
            }
            12 => span.dropped_events_count = varint(&mut r, tag, wire)? as u32,
            13 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                let mut link = Link::default();
                merge_link(&mut link, body, inner)?;
                span.links.push(link);
            }
            14 => span.dropped_links_count = varint(&mut r, tag, wire)? as u32,
            15 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_status(
                    span.status.get_or_insert_with(Default::default),
                    body,
                    inner,
                )?;
            }
            16 => {
                expect(tag, wire, FIXED32)?;
                span.flags = r.fixed32()?;
            }
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    span.attributes.reserve_exact(scratch.len());
    span.attributes.append(scratch);
    Ok(())
}

fn merge_event(event: &mut Event, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                expect(tag, wire, FIXED64)?;
                event.time_unix_nano = r.fixed64()?;
            }
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
            6 => {
                expect(tag, wire, FIXED32)?;
                link.flags = r.fixed32()?;
            }
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
