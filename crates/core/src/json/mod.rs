//! JSON written straight into a byte buffer, byte for byte what
//! `serde_json::to_vec` writes for the equivalent `serde_json::Value`.
//!
//! cairn's JSON forms (the records-file line, the archive record, a sink's
//! `detail`) were first defined as `Value` trees. Building a tree per record
//! costs an allocation per key and value and a B-tree insert per key, so the
//! hot paths write the same bytes directly instead. The invariants that
//! keep the output identical:
//!
//! - objects come out with their keys in byte order and each key once, as a
//!   `serde_json::Map` without `preserve_order` (a `BTreeMap`) iterates;
//! - numbers go through `serde_json`'s own serializer, so their formatting
//!   (its float printer, `null` for a non-finite float) is serde_json's;
//!   strings are escaped here a word at a time (`escape.rs`), with exactly
//!   serde_json's escapes, which a test checks against it;
//! - [`write_sorted`] writes any `Serialize` value as
//!   `serde_json::to_value(v)` would become, keys sorted, without the tree.
//!
//! [`KeyStyle::NoDots`] is the Elasticsearch form of the same JSON: every
//! object key with `.` made `_` (and `""` made `_empty`), re-sorted, as
//! rewriting a `Value`'s keys and collecting them back into a map would.

use std::borrow::Cow;

mod canon;
mod escape;
mod key;

pub use canon::write_sorted;

/// How object keys are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyStyle {
    /// As they are.
    #[default]
    Plain,
    /// `.` becomes `_` and the empty key `_empty`; keys that collide after
    /// the rewrite keep the value of the greatest original key (the last
    /// one in key order), and keys are sorted by their rewritten form.
    NoDots,
}

impl KeyStyle {
    /// Whether this style writes `key` otherwise than it is.
    pub fn rewrites(self, key: &str) -> bool {
        match self {
            KeyStyle::Plain => false,
            // A byte loop: keys are short, and `contains` is a `memchr`.
            KeyStyle::NoDots => key.is_empty() || key.bytes().any(|b| b == b'.'),
        }
    }

    /// `key` as this style writes it.
    pub fn apply(self, key: &str) -> Cow<'_, str> {
        match self {
            KeyStyle::Plain => Cow::Borrowed(key),
            KeyStyle::NoDots if key.is_empty() => Cow::Borrowed("_empty"),
            KeyStyle::NoDots if self.rewrites(key) => Cow::Owned(key.replace('.', "_")),
            KeyStyle::NoDots => Cow::Borrowed(key),
        }
    }
}

/// The first eight bytes of `key`, big-endian, zero-padded: ordering by
/// it agrees with ordering by the key wherever it differs, so most key
/// comparisons are one integer compare.
pub(crate) fn key_prefix(key: &str) -> u64 {
    be_prefix(key.as_bytes())
}

/// [`key_prefix`] of bytes.
fn be_prefix(bytes: &[u8]) -> u64 {
    if let Some(head) = bytes.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    // Shifted in one by one (a copy loop would become a `memcpy` call).
    bytes
        .iter()
        .enumerate()
        .fold(0, |w, (i, &b)| w | u64::from(b) << (56 - 8 * i))
}

const LOWS: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// The high bit of each byte of `w` that is `.`, exact for every byte (no
/// borrow crosses a byte).
fn dots(w: u64) -> u64 {
    let x = w ^ u64::from_ne_bytes([b'.'; 8]);
    !(((x & LOWS) + LOWS) | x) & !LOWS
}

/// `w` with each `.` byte made `_`.
fn undot(w: u64) -> u64 {
    w ^ ((dots(w) >> 7) * u64::from(b'.' ^ b'_'))
}

/// Whether `a` as `style` writes it comes before `b` so written: mostly
/// decided by their first sixteen bytes as two numbers, else byte by
/// byte; no rewritten key is built.
pub(crate) fn styled_less(a: &str, b: &str, style: KeyStyle) -> bool {
    if !a.is_empty() && !b.is_empty() {
        let word = |k: &str, at: usize| {
            let w = be_prefix(k.as_bytes().get(at..).unwrap_or_default());
            match style {
                KeyStyle::Plain => w,
                KeyStyle::NoDots => undot(w),
            }
        };
        for at in [0, 8] {
            let (wa, wb) = (word(a, at), word(b, at));
            if wa != wb {
                return wa < wb;
            }
        }
    }
    styled_bytes(a, style).lt(styled_bytes(b, style))
}

/// `key` as `style` writes it, byte by byte.
fn styled_bytes(key: &str, style: KeyStyle) -> impl Iterator<Item = u8> + '_ {
    let bytes = match style {
        KeyStyle::NoDots if key.is_empty() => b"_empty",
        _ => key.as_bytes(),
    };
    bytes.iter().map(move |&b| match style {
        KeyStyle::NoDots if b == b'.' => b'_',
        _ => b,
    })
}

/// Appends `key` as a JSON string as `style` writes it, without building
/// the rewritten key: `.` is never part of an escape, so it is rewritten
/// in the escaped bytes.
pub(crate) fn styled_key(out: &mut Vec<u8>, key: &str, style: KeyStyle) {
    if !style.rewrites(key) {
        return str(out, key);
    }
    if key.is_empty() {
        return str(out, "_empty");
    }
    let at = out.len();
    str(out, key);
    for b in &mut out[at..] {
        if *b == b'.' {
            *b = b'_';
        }
    }
}

fn ser(out: &mut Vec<u8>) -> serde_json::Serializer<&mut Vec<u8>> {
    serde_json::Serializer::new(out)
}

// Writing into a `Vec<u8>` cannot fail, and serde_json's serializer only
// fails on I/O for the scalars below, so their results are dropped.

/// Appends `s` as a JSON string (serde_json's escapes).
#[inline]
pub fn str(out: &mut Vec<u8>, s: &str) {
    escape::string(out, s);
}

/// Appends an unsigned integer.
pub fn u64(out: &mut Vec<u8>, n: u64) {
    let _ = serde::Serializer::serialize_u64(&mut ser(out), n);
}

/// Appends a signed integer.
pub fn i64(out: &mut Vec<u8>, n: i64) {
    let _ = serde::Serializer::serialize_i64(&mut ser(out), n);
}

/// Appends a float as serde_json prints it (`null` when not finite).
pub fn f64(out: &mut Vec<u8>, n: f64) {
    let _ = serde::Serializer::serialize_f64(&mut ser(out), n);
}

/// Appends `true` or `false`.
pub fn bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Appends `null`.
pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// Appends an unsigned integer as a JSON string of its digits (how 64-bit
/// nanosecond times are written).
pub fn u64_string(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    u64(out, n);
    out.push(b'"');
}

/// Appends bytes as a string of lowercase hex digits.
pub fn hex_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut buf = [0u8; 64];
    out.push(b'"');
    for chunk in bytes.chunks(32) {
        let hex = &mut buf[..chunk.len() * 2];
        if hex::encode_to_slice(chunk, hex).is_ok() {
            out.extend_from_slice(hex);
        }
    }
    out.push(b'"');
}

/// An object being written member by member, in the caller's order (the
/// caller keeps keys sorted when the result must match a `Value`).
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    /// Writes `{`.
    pub fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes the separator and `"key":`, and returns the buffer for the
    /// value, which the caller must write next.
    #[inline]
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        escape::key(self.out, key);
        self.out
    }

    /// Members written elsewhere (`"k":v,"k2":v2`, no braces), spliced
    /// in with the separator they need.
    pub fn members(&mut self, raw: &[u8]) {
        if raw.is_empty() {
            return;
        }
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(raw);
    }

    /// A string member.
    #[inline]
    pub fn str(&mut self, key: &str, value: &str) {
        str(self.key(key), value);
    }

    /// A string member, left out when `None`.
    #[inline]
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    /// A float member (`null` when not finite).
    #[inline]
    pub fn f64(&mut self, key: &str, value: f64) {
        f64(self.key(key), value);
    }

    /// An unsigned integer member.
    #[inline]
    pub fn u64(&mut self, key: &str, value: u64) {
        u64(self.key(key), value);
    }

    /// Writes `}`.
    pub fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
pub(crate) mod tests;
