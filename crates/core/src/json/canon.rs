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

use std::{borrow::Cow, ops::Range};

use serde::ser::{self, Serialize};
use serde_json::Error;

use super::{KeyStyle, key::KeyName};

/// Writes `value` as `serde_json::to_vec(&serde_json::to_value(value))`
/// would, keys written in `style`; `null` where `to_value` fails (as
/// `to_value(v).unwrap_or(Value::Null)`).
pub fn write_sorted<T: Serialize + ?Sized>(value: &T, style: KeyStyle, out: &mut Vec<u8>) {
    let start = out.len();
    if value.serialize(Canon { out, style }).is_err() {
        out.truncate(start);
        super::null(out);
    }
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
        let mut obj = Obj::open(self.out, self.style, false);
        obj.member(Cow::Borrowed(variant), value)?;
        ser::SerializeMap::end(obj)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, b"]"))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(Seq::open(self.out, self.style, b"]"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, Error> {
        open_variant(self.out, self.style, variant);
        Ok(Seq::open(self.out, self.style, b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Obj<'a>, Error> {
        Ok(Obj::open(self.out, self.style, false))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Obj<'a>, Error> {
        Ok(Obj::open(self.out, self.style, false))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Obj<'a>, Error> {
        open_variant(self.out, self.style, variant);
        Ok(Obj::open(self.out, self.style, true))
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
    first: bool,
    close: &'static [u8],
}

impl<'a> Seq<'a> {
    fn open(out: &'a mut Vec<u8>, style: KeyStyle, close: &'static [u8]) -> Seq<'a> {
        out.push(b'[');
        Seq {
            out,
            style,
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
            out: self.out,
            style: self.style,
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

/// One member written so far: its key as serialized (before the style)
/// and the bytes of `"key":value` in the buffer.
struct Member {
    key: Cow<'static, str>,
    span: Range<usize>,
}

/// An object: members written as they come, put in key order at the end.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    style: KeyStyle,
    /// Where its `{` is.
    open: usize,
    members: Vec<Member>,
    /// A map key waiting for its value.
    key: Option<String>,
    /// A struct variant: one more `}` for the object around it.
    variant: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>, style: KeyStyle, variant: bool) -> Obj<'a> {
        let open = out.len();
        out.push(b'{');
        Obj {
            out,
            style,
            open,
            members: Vec::new(),
            key: None,
            variant,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        if !self.members.is_empty() {
            self.out.push(b',');
        }
        let start = self.out.len();
        super::str(self.out, &self.style.apply(&key));
        self.out.push(b':');
        value.serialize(Canon {
            out: self.out,
            style: self.style,
        })?;
        self.members.push(Member {
            key,
            span: start..self.out.len(),
        });
        Ok(())
    }

    fn close(self) -> Result<(), Error> {
        let style = self.style;
        let members = &self.members;
        let ascending = members.windows(2).all(|w| {
            w[0].key < w[1].key
                && (style == KeyStyle::Plain || style.apply(&w[0].key) < style.apply(&w[1].key))
        });
        if !ascending {
            let order = map_order(members.iter().map(|m| m.key.as_ref()), style);
            let rebuilt = self.out.len();
            for (n, &i) in order.iter().enumerate() {
                if n > 0 {
                    self.out.push(b',');
                }
                self.out.extend_from_within(members[i].span.clone());
            }
            self.out.drain(self.open + 1..rebuilt);
        }
        self.out.push(b'}');
        if self.variant {
            self.out.push(b'}');
        }
        Ok(())
    }
}

/// The order a map would iterate members with these keys in (indices into
/// `keys`), each key once with the last value given for it; in
/// [`KeyStyle::NoDots`], then rekeyed by the rewritten keys the same way.
pub(super) fn map_order<'k>(keys: impl Iterator<Item = &'k str>, style: KeyStyle) -> Vec<usize> {
    let keys: Vec<&str> = keys.collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
    let order = keep_last(order, |a, b| keys[a] == keys[b]);
    match style {
        KeyStyle::Plain => order,
        KeyStyle::NoDots => {
            let styled: Vec<Cow<'_, str>> = keys.iter().map(|k| style.apply(k)).collect();
            let mut order = order;
            order.sort_by(|&a, &b| styled[a].cmp(&styled[b]));
            keep_last(order, |a, b| styled[a] == styled[b])
        }
    }
}

/// Of each run of equal neighbours, only the last.
fn keep_last(order: Vec<usize>, same: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(order.len());
    for i in order {
        match out.last_mut() {
            Some(last) if same(*last, i) => *last = i,
            _ => out.push(i),
        }
    }
    out
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
