//! Field-level reading on top of [`Reader`]: repeated, optional and oneof
//! message fields, fixed-width and zigzag numbers, packed runs, and the
//! request and envelope shapes the three signals share.

use crate::reader::{
    FIXED32, FIXED64, LEN, LIMIT, Reader, Result, count, expect, message, string, varint,
};

/// A repeated message field: its body merged by `merge` into a new element
/// of `out`, which is sized on its first element from the count of `tag`
/// in `parent`.
#[inline]
pub(crate) fn repeated<'a, T: Default>(
    out: &mut Vec<T>,
    r: &mut Reader<'a>,
    parent: &[u8],
    (tag, wire): (u32, u8),
    ctx: u32,
    merge: impl FnOnce(&mut T, &'a [u8], u32) -> Result<()>,
) -> Result<()> {
    let (body, inner) = message(r, tag, wire, ctx)?;
    if out.capacity() == 0 {
        out.reserve_exact(count(parent, tag));
    }
    let mut item = T::default();
    merge(&mut item, body, inner)?;
    out.push(item);
    Ok(())
}

/// A singular message field, merged into `slot` (created when absent, as
/// prost does).
#[inline]
pub(crate) fn optional<'a, T: Default>(
    slot: &mut Option<T>,
    r: &mut Reader<'a>,
    (tag, wire): (u32, u8),
    ctx: u32,
    merge: impl FnOnce(&mut T, &'a [u8], u32) -> Result<()>,
) -> Result<()> {
    let (body, inner) = message(r, tag, wire, ctx)?;
    merge(slot.get_or_insert_with(Default::default), body, inner)
}

/// A `fixed64` field.
#[inline]
pub(crate) fn fixed64(r: &mut Reader<'_>, tag: u32, wire: u8) -> Result<u64> {
    expect(tag, wire, FIXED64)?;
    r.fixed64()
}

/// A `fixed32` field.
#[inline]
pub(crate) fn fixed32(r: &mut Reader<'_>, tag: u32, wire: u8) -> Result<u32> {
    expect(tag, wire, FIXED32)?;
    r.fixed32()
}

/// The body of an export request: its repeated field 1 (`resource_logs`,
/// `resource_spans`), each merged by `merge`; other fields skipped.
#[inline]
pub(crate) fn request<T: Default>(
    buf: &[u8],
    mut merge: impl FnMut(&mut T, &[u8], u32) -> Result<()>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => repeated(&mut out, &mut r, buf, (tag, wire), LIMIT, &mut merge)?,
            _ => r.skip(wire, tag, LIMIT)?,
        }
    }
    Ok(out)
}

/// `ResourceLogs`/`ResourceSpans` and `ScopeLogs`/`ScopeSpans` share one
/// shape: a singular `head` (resource or scope) at 1, the repeated `items`
/// at 2 and the `schema_url` at 3.
pub(crate) fn envelope<H: Default, I: Default>(
    buf: &[u8],
    ctx: u32,
    (head, items, schema_url): (&mut Option<H>, &mut Vec<I>, &mut String),
    merge_head: impl Fn(&mut H, &[u8], u32) -> Result<()>,
    mut merge_item: impl FnMut(&mut I, &[u8], u32) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => optional(head, &mut r, (tag, wire), ctx, &merge_head)?,
            2 => repeated(items, &mut r, buf, (tag, wire), ctx, &mut merge_item)?,
            3 => string(&mut r, tag, wire, schema_url)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

/// A `double` field.
#[inline]
pub(crate) fn double(r: &mut Reader<'_>, tag: u32, wire: u8) -> Result<f64> {
    fixed64(r, tag, wire).map(f64::from_bits)
}

/// A `sint32` field (zigzag-encoded varint).
#[inline]
pub(crate) fn sint32(r: &mut Reader<'_>, tag: u32, wire: u8) -> Result<i32> {
    let v = varint(r, tag, wire)? as u32;
    Ok((v >> 1) as i32 ^ -((v & 1) as i32))
}

/// One occurrence of a repeated numeric field of wire type `own`: packed
/// (a length-delimited run of values) or a single value, as prost accepts
/// both; `read` reads one value.
#[inline]
pub(crate) fn numbers<T>(
    out: &mut Vec<T>,
    r: &mut Reader<'_>,
    (tag, wire): (u32, u8),
    own: u8,
    read: impl Fn(&mut Reader<'_>) -> Result<T>,
) -> Result<()> {
    if wire == LEN {
        let mut packed = Reader::new(r.bytes()?);
        while !packed.is_empty() {
            out.push(read(&mut packed)?);
        }
        Ok(())
    } else {
        expect(tag, wire, own)?;
        out.push(read(r)?);
        Ok(())
    }
}

/// `fn $name(&mut $enum) -> Option<&mut $ty>`: the oneof's `$variant`, if
/// that is what it holds (the `get` half of [`variant`]'s arms).
macro_rules! variant_of {
    ($name:ident, $enum:ident :: $variant:ident, $ty:ty) => {
        fn $name(d: &mut $enum) -> Option<&mut $ty> {
            match d {
                $enum::$variant(v) => Some(v),
                _ => None,
            }
        }
    };
}
pub(crate) use variant_of;

/// A message variant of a oneof in `slot`: merged into the variant when
/// `slot` already holds it (`get`), else decoded afresh and put there
/// (`wrap`), as prost does.
#[inline]
pub(crate) fn variant<'a, D, T: Default>(
    slot: &mut Option<D>,
    r: &mut Reader<'a>,
    (tag, wire): (u32, u8),
    ctx: u32,
    (get, wrap): (impl FnOnce(&mut D) -> Option<&mut T>, impl FnOnce(T) -> D),
    merge: impl FnOnce(&mut T, &'a [u8], u32) -> Result<()>,
) -> Result<()> {
    let (body, inner) = message(r, tag, wire, ctx)?;
    if let Some(held) = slot.as_mut().and_then(get) {
        return merge(held, body, inner);
    }
    let mut fresh = T::default();
    merge(&mut fresh, body, inner)?;
    *slot = Some(wrap(fresh));
    Ok(())
}
