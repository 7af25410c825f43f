//! `opentelemetry.proto.common.v1` and `resource.v1`: values, attributes,
//! scopes and resources.

use opentelemetry_proto::tonic::{
    common::v1::{
        AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
        any_value::Value,
    },
    resource::v1::Resource,
};

use crate::fields::{double, repeated, variant, variant_of};
use crate::reader::{
    FIXED64, LEN, Reader, Result, VARINT, bytes, count, message, string, text, utf8, varint,
};

/// Appends one `KeyValue` message to `out`.
#[inline]
pub(crate) fn push_key_value(out: &mut Vec<KeyValue>, buf: &[u8], ctx: u32) -> Result<()> {
    if let Some(kv) = scalar_pair(buf, ctx) {
        out.push(kv);
        return Ok(());
    }
    let mut kv = KeyValue::default();
    merge_key_value(&mut kv, buf, ctx)?;
    out.push(kv);
    Ok(())
}

/// Moves a record's or span's attributes, gathered in `scratch`, into
/// `out` in one block copy of their exact size (cheaper than counting them
/// first; `append` copies bytes, where `drain` would move element by
/// element).
#[inline]
pub(crate) fn settle(out: &mut Vec<KeyValue>, scratch: &mut Vec<KeyValue>) {
    out.reserve_exact(scratch.len());
    out.append(scratch);
}

/// Decodes a repeated `KeyValue` field occurrence into `out`, sizing `out`
/// on the first one from the count of `tag` in the enclosing `parent`.
#[inline]
pub(crate) fn attribute(
    out: &mut Vec<KeyValue>,
    r: &mut Reader<'_>,
    parent: &[u8],
    tag: u32,
    wire: u8,
    ctx: u32,
) -> Result<()> {
    let (body, inner) = message(r, tag, wire, ctx)?;
    if out.capacity() == 0 {
        out.reserve_exact(count(parent, tag));
    }
    push_key_value(out, body, inner)
}

/// The shape nearly every attribute has, read straight through: a key,
/// then a value holding one string, bool, int or double, and nothing else.
/// Anything else (or anything wrong) is `None`, and the general path decodes
/// it, errors included; for this shape both give the same `KeyValue`.
#[inline]
fn scalar_pair(buf: &[u8], ctx: u32) -> Option<KeyValue> {
    let mut r = Reader::new(buf);
    if r.key().ok()? != (1, LEN) {
        return None;
    }
    let key = utf8(r.bytes().ok()?).ok()?;
    if r.key().ok()? != (2, LEN) || ctx == 0 {
        return None;
    }
    let mut v = Reader::new(r.bytes().ok()?);
    if !r.is_empty() {
        return None;
    }
    let value = match v.key().ok()? {
        (1, LEN) => Value::StringValue(utf8(v.bytes().ok()?).ok()?.to_owned()),
        (2, VARINT) => Value::BoolValue(v.varint().ok()? != 0),
        (3, VARINT) => Value::IntValue(v.varint().ok()? as i64),
        (4, FIXED64) => Value::DoubleValue(f64::from_bits(v.fixed64().ok()?)),
        _ => return None,
    };
    if !v.is_empty() {
        return None;
    }
    Some(KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        key_strindex: 0,
    })
}

fn merge_key_value(kv: &mut KeyValue, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => string(&mut r, tag, wire, &mut kv.key)?,
            2 => {
                let (body, inner) = message(&mut r, tag, wire, ctx)?;
                merge_any_value(kv.value.get_or_insert_with(Default::default), body, inner)?;
            }
            3 => kv.key_strindex = varint(&mut r, tag, wire)? as i32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

/// Merges an `AnyValue` message into `v`: a repeated variant of the oneof
/// replaces a scalar and merges into a message of the same variant.
pub(crate) fn merge_any_value(v: &mut AnyValue, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => {
                let s = text(&mut r, tag, wire)?;
                v.value = Some(Value::StringValue(s.to_owned()));
            }
            2 => v.value = Some(Value::BoolValue(varint(&mut r, tag, wire)? != 0)),
            3 => v.value = Some(Value::IntValue(varint(&mut r, tag, wire)? as i64)),
            4 => v.value = Some(Value::DoubleValue(double(&mut r, tag, wire)?)),
            5 => {
                let arms = (as_array, Value::ArrayValue);
                variant(&mut v.value, &mut r, (tag, wire), ctx, arms, merge_array)?
            }
            6 => {
                let arms = (as_kvlist, Value::KvlistValue);
                variant(&mut v.value, &mut r, (tag, wire), ctx, arms, merge_kvlist)?
            }
            7 => {
                let mut b = Vec::new();
                bytes(&mut r, tag, wire, &mut b)?;
                v.value = Some(Value::BytesValue(b));
            }
            8 => v.value = Some(Value::StringValueStrindex(varint(&mut r, tag, wire)? as i32)),
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

variant_of!(as_array, Value::ArrayValue, ArrayValue);
variant_of!(as_kvlist, Value::KvlistValue, KeyValueList);

fn merge_array(a: &mut ArrayValue, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => repeated(
                &mut a.values,
                &mut r,
                buf,
                (tag, wire),
                ctx,
                merge_any_value,
            )?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_kvlist(l: &mut KeyValueList, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => attribute(&mut l.values, &mut r, buf, tag, wire, ctx)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

/// Merges an `InstrumentationScope` message into `s`.
pub(crate) fn merge_scope(s: &mut InstrumentationScope, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => string(&mut r, tag, wire, &mut s.name)?,
            2 => string(&mut r, tag, wire, &mut s.version)?,
            3 => attribute(&mut s.attributes, &mut r, buf, tag, wire, ctx)?,
            4 => s.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

/// Merges a `Resource` message into `res`.
pub(crate) fn merge_resource(res: &mut Resource, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => attribute(&mut res.attributes, &mut r, buf, tag, wire, ctx)?,
            2 => res.dropped_attributes_count = varint(&mut r, tag, wire)? as u32,
            3 => repeated(
                &mut res.entity_refs,
                &mut r,
                buf,
                (tag, wire),
                ctx,
                merge_entity_ref,
            )?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_entity_ref(e: &mut EntityRef, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => string(&mut r, tag, wire, &mut e.schema_url)?,
            2 => string(&mut r, tag, wire, &mut e.r#type)?,
            3 => e.id_keys.push(text(&mut r, tag, wire)?.to_owned()),
            4 => e.description_keys.push(text(&mut r, tag, wire)?.to_owned()),
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}
