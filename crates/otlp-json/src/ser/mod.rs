//! Encoding the prost structs as OTLP/JSON with a small hand-written writer.
//!
//! This module owns the writer: string escaping, the [`Obj`] helper that
//! writes one JSON object and leaves out fields holding their proto3 default
//! (as the protobuf JSON mapping does), and the [`Encode`] trait each message
//! implements in the per-signal files. Output is compact (no whitespace),
//! lowerCamelCase, with 64-bit integers quoted, ids in lowercase hex and enums
//! as integers.

use crate::ids::write_hex;
use crate::num::{write_f64, write_i64, write_u64};

pub(crate) mod common;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod response;
pub(crate) mod trace;

/// A message that can write itself as a JSON object.
pub(crate) trait Encode {
    /// Appends `self` as one JSON object.
    fn encode(&self, out: &mut Vec<u8>);
}

/// Encodes a whole message into a fresh buffer, sized by a first guess.
pub(crate) fn to_vec<T: Encode>(msg: &T, size_hint: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint);
    msg.encode(&mut out);
    out
}

/// Appends `s` as a quoted JSON string, escaping `"`, `\` and control characters.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes one JSON object: opened by [`Obj::new`], closed by [`Obj::end`].
///
/// The typed helpers skip proto3 defaults (empty strings, lists and ids,
/// zeros, `false`, absent messages); [`Obj::key`] writes any value.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Closes the object.
    pub(crate) fn end(self) {
        self.out.push(b'}');
    }

    /// Writes `"key":` (with a comma before all but the first) and returns
    /// the buffer for the value. Keys are static lowerCamelCase names and need
    /// no escaping.
    pub(crate) fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string field, left out when empty.
    pub(crate) fn str(&mut self, key: &'static str, value: &str) {
        if !value.is_empty() {
            write_str(self.key(key), value);
        }
    }

    /// A 64-bit unsigned field as a quoted decimal, left out when 0.
    pub(crate) fn u64(&mut self, key: &'static str, value: u64) {
        if value != 0 {
            let out = self.key(key);
            out.push(b'"');
            write_u64(out, value);
            out.push(b'"');
        }
    }

    /// A 64-bit signed field as a quoted decimal, left out when 0.
    pub(crate) fn i64(&mut self, key: &'static str, value: i64) {
        if value != 0 {
            write_quoted_i64(self.key(key), value);
        }
    }

    /// A 32-bit unsigned field as a number, left out when 0.
    pub(crate) fn u32(&mut self, key: &'static str, value: u32) {
        if value != 0 {
            write_u64(self.key(key), u64::from(value));
        }
    }

    /// A 32-bit signed field or an enum as a number, left out when 0.
    pub(crate) fn i32(&mut self, key: &'static str, value: i32) {
        if value != 0 {
            write_i64(self.key(key), i64::from(value));
        }
    }

    /// A double field, left out when 0.
    pub(crate) fn f64(&mut self, key: &'static str, value: f64) {
        if value != 0.0 {
            write_f64(self.key(key), value);
        }
    }

    /// An optional double field, written whenever present.
    pub(crate) fn opt_f64(&mut self, key: &'static str, value: Option<f64>) {
        if let Some(value) = value {
            write_f64(self.key(key), value);
        }
    }

    /// A bool field, left out when false.
    pub(crate) fn bool(&mut self, key: &'static str, value: bool) {
        if value {
            self.key(key).extend_from_slice(b"true");
        }
    }

    /// A trace or span id as lowercase hex, left out when empty.
    pub(crate) fn id(&mut self, key: &'static str, value: &[u8]) {
        if !value.is_empty() {
            write_hex(self.key(key), value);
        }
    }

    /// An optional message, written whenever present.
    pub(crate) fn msg<T: Encode>(&mut self, key: &'static str, value: Option<&T>) {
        if let Some(value) = value {
            value.encode(self.key(key));
        }
    }

    /// A repeated message field, left out when empty.
    pub(crate) fn list<T: Encode>(&mut self, key: &'static str, items: &[T]) {
        self.list_with(key, items, |out, item| item.encode(out));
    }

    /// A repeated field whose elements `each` writes, left out when empty.
    pub(crate) fn list_with<T>(
        &mut self,
        key: &'static str,
        items: &[T],
        mut each: impl FnMut(&mut Vec<u8>, &T),
    ) {
        if items.is_empty() {
            return;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            each(out, item);
        }
        out.push(b']');
    }
}

/// Appends `value` as a quoted decimal.
pub(crate) fn write_quoted_i64(out: &mut Vec<u8>, value: i64) {
    out.push(b'"');
    write_i64(out, value);
    out.push(b'"');
}
