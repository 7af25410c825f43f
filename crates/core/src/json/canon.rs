//! [`write_sorted`]: any `Serialize` value, written as the `serde_json::Value`
//! that `serde_json::to_value` would make of it, without making it.
//!
//! Arrays and scalars stream. An object's members are written in the order
//! the value serializes them, each as `"key":value` with its span noted;
//! when that order is not already the map's (keys strictly ascending), the
//! members are copied after the object in key order, keeping the last of
//! equal keys as a map insert would, and the first copy is cut out. The
//! same goes one level at a time, so a nested object is already in order
//! when its parent moves it.
//!
//! The members of the objects being written are noted on one stack per
//! call (each object its own top part, popped when it closes), and the
//! reordering goes through one scratch buffer, so an object costs no
//! allocation of its own; keys compare by their first eight bytes as one
//! integer before any byte-wise comparison.

use std::{borrow::Cow, cmp::Ordering, ops::Range};

use serde::ser::{self, Serialize};
use serde_json::Error;

use super::{KeyStyle, key::KeyName};

/// Writes `value` as `serde_json::to_vec(&serde_json::to_value(value))`
/// would, keys written in `style`; `null` where `to_value` fails (as
/// `to_value(v).unwrap_or(Value::Null)`).
pub fn write_sorted<T: Serialize + ?Sized>(value: &T, style: KeyStyle, out: &mut Vec<u8>) {
    STACK.with(|cell| match cell.try_borrow_mut() {
        Ok(mut stack) => write_with(value, style, out, &mut stack),
        // A `Serialize` impl that itself calls `write_sorted`.
        Err(_) => write_with(value, style, out, &mut Stack::default()),
    });
}

fn write_with<T: Serialize + ?Sized>(
    value: &T,
    style: KeyStyle,
    out: &mut Vec<u8>,
    stack: &mut Stack,
) {
    let start = out.len();
    let members = stack.members.len();
    let ok = value
        .serialize(Canon {
            out: &mut *out,
            style,
            stack: &mut *stack,
        })
        .is_ok();
    // An error leaves the objects it cut short on the stack.
    stack.members.truncate(members);
    if !ok {
        out.truncate(start);
        super::null(out);
    }
}

thread_local! {
    /// The stack and scratch of [`write_sorted`], kept per thread so their
    /// allocations are reused.
    static STACK: std::cell::RefCell<Stack> = std::cell::RefCell::new(Stack::default());
}

/// Where the objects being written keep their members, and the scratch
/// their reordering goes through.
#[derive(Default)]
struct Stack {
    /// The members of every open object, innermost last.
    members: Vec<Member>,
    /// The order an object's members are rewritten in.
    order: Vec<usize>,
    /// An object's members in key order, before they replace the originals.
    scratch: Vec<u8>,
}

fn json(out: &mut Vec<u8>) -> serde_json::Serializer<&mut Vec<u8>> {
    serde_json::Serializer::new(out)
}

fn out_of_range() -> Error {
    ser::Error::custom("number out of range")
}

struct Canon<'a> {
    out: &'a mut Vec<u8>,
    style: KeyStyle,
    stack: &'a mut Stack,
}

impl<'a> ser::Serializer for Canon<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Obj<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        super::bool(self.out, v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        super::i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        if let Ok(u) = u64::try_from(v) {
            self.serialize_u64(u)
        } else if let Ok(i) = i64::try_from(v) {
            self.serialize_i64(i)
        } else {
            Err(out_of_range())
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        super::u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        u64::try_from(v)
            .map_err(|_| out_of_range())
            .and_then(|u| self.serialize_u64(u))
    }
    /// A `Value` keeps an `f32` as the `f64` it widens to.
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        super::f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        super::str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        ser::Serializer::serialize_bytes(&mut json(self.out), v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        super::null(self.out);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut obj = Obj::open(self.out, self.style, self.stack, false);
        obj.member(Cow::Borrowed(variant), value)?;
        ser::SerializeMap::end(obj)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, self.stack, b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, self.stack, b"]"))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, self.stack, b"]"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, Error> {
        open_variant(self.out, self.style, variant);
        Ok(Seq::open(self.out, self.style, self.stack, b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Obj<'a>, Error> {
        Ok(Obj::open(self.out, self.style, self.stack, false))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Obj<'a>, Error> {
        Ok(Obj::open(self.out, self.style, self.stack, false))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Obj<'a>, Error> {
        open_variant(self.out, self.style, variant);
        Ok(Obj::open(self.out, self.style, self.stack, true))
    }
}

/// `{"variant":` (a one-member object around a variant's content).
fn open_variant(out: &mut Vec<u8>, style: KeyStyle, variant: &str) {
    out.push(b'{');
    super::str(out, &style.apply(variant));
    out.push(b':');
}

/// An array (or a tuple variant's array and its closing brace).
struct Seq<'a> {
    out: &'a mut Vec<u8>,
    style: KeyStyle,
    stack: &'a mut Stack,
    first: bool,
    close: &'static [u8],
}

impl<'a> Seq<'a> {
    fn open(
        out: &'a mut Vec<u8>,
        style: KeyStyle,
        stack: &'a mut Stack,
        close: &'static [u8],
    ) -> Seq<'a> {
        out.push(b'[');
        Seq {
            out,
            style,
            stack,
            first: true,
            close,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canon {
            out: &mut *self.out,
            style: self.style,
            stack: &mut *self.stack,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// One member written so far: its key as serialized (before the style),
/// the key's [`super::key_prefix`], and the bytes of `"key":value` in the buffer.
struct Member {
    key: Cow<'static, str>,
    prefix: u64,
    /// Whether the style writes the key otherwise.
    rewritten: bool,
    span: Range<usize>,
}

impl Member {
    /// Byte order of the keys, most decided by their prefixes.
    fn cmp(&self, other: &Member) -> Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.key.cmp(&other.key))
    }
}

/// An object: members written as they come, put in key order at the end.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    style: KeyStyle,
    stack: &'a mut Stack,
    /// Where its `{` is.
    open: usize,
    /// Where its members start on the stack.
    base: usize,
    /// A map key waiting for its value.
    key: Option<String>,
    /// A struct variant: one more `}` for the object around it.
    variant: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>, style: KeyStyle, stack: &'a mut Stack, variant: bool) -> Obj<'a> {
        let open = out.len();
        out.push(b'{');
        let base = stack.members.len();
        Obj {
            out,
            style,
            stack,
            open,
            base,
            key: None,
            variant,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        if self.stack.members.len() > self.base {
            self.out.push(b',');
        }
        let start = self.out.len();
        let rewritten = self.style.rewrites(&key);
        if rewritten {
            super::str(self.out, &self.style.apply(&key));
        } else {
            super::str(self.out, &key);
        }
        self.out.push(b':');
        value.serialize(Canon {
            out: &mut *self.out,
            style: self.style,
            stack: &mut *self.stack,
        })?;
        self.stack.members.push(Member {
            prefix: super::key_prefix(&key),
            key,
            rewritten,
            span: start..self.out.len(),
        });
        Ok(())
    }

    fn close(self) -> Result<(), Error> {
        let style = self.style;
        let Stack {
            members,
            order,
            scratch,
        } = self.stack;
        let mine = &members[self.base..];
        let ascending = mine.windows(2).all(|w| {
            w[0].cmp(&w[1]) == Ordering::Less
                && (!(w[0].rewritten || w[1].rewritten)
                    || style.apply(&w[0].key) < style.apply(&w[1].key))
        });
        if !ascending && let Some(p) = first_belongs_at(mine) {
            // Only the first member is out of place (an internally tagged
            // enum's tag before its fields): the ones before its place
            // move up over it, and it goes after them.
            let (first, last) = (mine[0].span.clone(), mine[p].span.end);
            scratch.clear();
            scratch.push(b',');
            scratch.extend_from_slice(&self.out[first.clone()]);
            self.out.copy_within(first.end + 1..last, first.start);
            self.out[last - scratch.len()..last].copy_from_slice(scratch);
        } else if !ascending {
            map_order(mine, style, order);
            scratch.clear();
            for (n, &i) in order.iter().enumerate() {
                if n > 0 {
                    scratch.push(b',');
                }
                scratch.extend_from_slice(&self.out[mine[i].span.clone()]);
            }
            self.out.truncate(self.open + 1);
            self.out.extend_from_slice(scratch);
        }
        members.truncate(self.base);
        self.out.push(b'}');
        if self.variant {
            self.out.push(b'}');
        }
        Ok(())
    }
}

/// When all members but the first are in key order and the first's key is
/// not among theirs (and the style rewrites none of them), the index of the
/// member the first belongs after.
fn first_belongs_at(members: &[Member]) -> Option<usize> {
    let (first, rest) = members.split_first()?;
    let in_order = rest.windows(2).all(|w| w[0].cmp(&w[1]) == Ordering::Less);
    if !in_order || members.iter().any(|m| m.rewritten) {
        return None;
    }
    let before = rest.partition_point(|m| m.cmp(first) == Ordering::Less);
    if before == 0 {
        return None;
    }
    match rest.get(before) {
        Some(next) if next.cmp(first) == Ordering::Equal => None,
        _ => Some(before),
    }
}

/// Sets `order` to the order a map would iterate `members` in (indices),
/// each key once with the last value given for it; in
/// [`KeyStyle::NoDots`], then rekeyed by the rewritten keys the same way.
fn map_order(members: &[Member], style: KeyStyle, order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..members.len());
    // Stable: of equal keys the later stays later, and keep_last keeps it.
    order.sort_by(|&a, &b| members[a].cmp(&members[b]));
    keep_last(order, |a, b| members[a].key == members[b].key);
    if members.iter().any(|m| m.rewritten) {
        let styled: Vec<Cow<'_, str>> = members.iter().map(|m| style.apply(&m.key)).collect();
        order.sort_by(|&a, &b| styled[a].cmp(&styled[b]));
        keep_last(order, |a, b| styled[a] == styled[b]);
    }
}

/// Of each run of equal neighbours in `order`, only the last.
fn keep_last(order: &mut Vec<usize>, same: impl Fn(usize, usize) -> bool) {
    let mut kept = 0;
    for n in 0..order.len() {
        let i = order[n];
        if kept > 0 && same(order[kept - 1], i) {
            order[kept - 1] = i;
        } else {
            order[kept] = i;
            kept += 1;
        }
    }
    order.truncate(kept);
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeyName)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value before its key"))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}
