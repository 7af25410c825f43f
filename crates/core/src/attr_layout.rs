//! Attribute objects' layouts, remembered per thread by their keys.
//!
//! Writing an attribute list as a JSON object sorts its keys, keeps one
//! member per key and, in [`KeyStyle::NoDots`], rewrites the keys and
//! sorts them again. All of that depends only on the keys, in the order
//! they were sent, and the style. Records of one kind carry the same keys
//! in the same order, so the outcome (which attribute is written where,
//! and each member's `,"key":` bytes) is kept in a small per-thread table
//! and reused when a list's keys are exactly those of a kept layout. The
//! keys are compared in full, so a reused layout writes what the ordinary
//! path would; a list whose layout is not kept is written the ordinary way
//! and its layout is kept in its slot instead of whatever was there.
//!
//! The table is bounded: [`SLOTS`] layouts in sets of [`WAYS`], each of at
//! most [`MAX_KEYS`] keys and [`MAX_KEY_BYTES`] bytes of keys; larger
//! lists are not kept.

use std::{cell::RefCell, ops::Range};

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::json::KeyStyle;

/// How many layouts a thread keeps (a power of two).
const SLOTS: usize = 64;
/// How many slots a list's layout may be kept in (a power of two): a
/// list is looked for in those, and replaces the least recently used.
const WAYS: usize = 4;
/// The longest attribute list whose layout is kept.
pub(crate) const MAX_KEYS: usize = 48;
/// The most key bytes a kept layout holds.
const MAX_KEY_BYTES: usize = 1024;

/// What the ordinary writer notes of each member it writes: the
/// attribute's index and where its `"key":` is in the output.
pub(crate) type Notes = Vec<(usize, Range<usize>)>;

/// The written form of one list of keys.
#[derive(Default)]
struct Layout {
    /// Whether the slot holds a layout.
    kept: bool,
    /// When it was last written with (the table's clock).
    used: u64,
    /// [`fingerprint`] of the keys.
    fingerprint: u64,
    style: KeyStyle,
    /// The keys as sent, end to end.
    keys: Vec<u8>,
    /// Where each key ends in `keys`.
    ends: Vec<usize>,
    /// The members in written order: the attribute's index and where its
    /// `,"key":` ends in `written` (it starts where the previous ends).
    members: Vec<(usize, usize)>,
    /// Each member's `"key":`, after a `,` for all but the first.
    written: Vec<u8>,
}

#[derive(Default)]
struct Table {
    slots: Vec<Layout>,
    /// The notes of the list being written the ordinary way.
    notes: Notes,
    /// Counts the lists written through the table.
    clock: u64,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

/// Writes `kvs` as a JSON object: through a kept layout when one matches
/// their keys (`value` writes each value), else with `fresh`, the ordinary
/// writer (`{`, members, `}`), whose notes become the list's layout.
/// `fresh` alone when the table is in use further up the stack (a list
/// inside a value) or the list is too long to keep.
pub(crate) fn write(
    kvs: &[KeyValue],
    style: KeyStyle,
    out: &mut Vec<u8>,
    value: impl Fn(&KeyValue, &mut Vec<u8>),
    fresh: impl FnOnce(&mut Vec<u8>, Option<&mut Notes>),
) {
    if kvs.is_empty() || kvs.len() > MAX_KEYS {
        return fresh(out, None);
    }
    TABLE.with(|cell| {
        let Ok(mut table) = cell.try_borrow_mut() else {
            return fresh(out, None);
        };
        let Table {
            slots,
            notes,
            clock,
        } = &mut *table;
        if slots.is_empty() {
            slots.resize_with(SLOTS, Layout::default);
        }
        *clock += 1;
        let print = fingerprint(kvs, style);
        // The top bits pick the set: the multiply mixed every key into them.
        let set = (print >> (u64::BITS - (SLOTS / WAYS).trailing_zeros())) as usize * WAYS;
        let Some(ways) = slots.get_mut(set..set + WAYS) else {
            return fresh(out, None);
        };
        if let Some(layout) = ways.iter_mut().find(|l| l.matches(print, style, kvs)) {
            layout.used = *clock;
            layout.write(kvs, out, value);
            return;
        }
        let Some(layout) = ways.iter_mut().min_by_key(|l| l.used) else {
            return fresh(out, None);
        };
        notes.clear();
        let start = out.len();
        fresh(out, Some(notes));
        layout.used = *clock;
        layout.keep(print, style, kvs, &out[start..], start, notes);
    });
}

/// A hash of the list's length, style and key lengths, and its first and
/// last keys' leading bytes: it picks the slot, and tells most other lists
/// apart before their keys are compared.
fn fingerprint(kvs: &[KeyValue], style: KeyStyle) -> u64 {
    const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = kvs.len() as u64 ^ if style == KeyStyle::Plain { 0 } else { 1 << 40 };
    for kv in kvs {
        h = (h.rotate_left(7) ^ kv.key.len() as u64).wrapping_mul(MIX);
    }
    let (first, last) = match (kvs.first(), kvs.last()) {
        (Some(f), Some(l)) => (f.key.as_str(), l.key.as_str()),
        _ => ("", ""),
    };
    h ^= crate::json::key_prefix(first) ^ crate::json::key_prefix(last).rotate_left(29);
    h.wrapping_mul(MIX)
}

impl Layout {
    /// Whether this is the layout of exactly these keys in `style`.
    fn matches(&self, print: u64, style: KeyStyle, kvs: &[KeyValue]) -> bool {
        if !self.kept
            || self.fingerprint != print
            || self.style != style
            || self.ends.len() != kvs.len()
        {
            return false;
        }
        let mut from = 0;
        for (kv, &end) in kvs.iter().zip(&self.ends) {
            let Some(kept) = self.keys.get(from..end) else {
                return false;
            };
            if !same(kv.key.as_bytes(), kept) {
                return false;
            }
            from = end;
        }
        true
    }

    /// Writes the object: its members in the kept order and form.
    fn write(&self, kvs: &[KeyValue], out: &mut Vec<u8>, value: impl Fn(&KeyValue, &mut Vec<u8>)) {
        out.push(b'{');
        let mut from = 0;
        for &(i, end) in &self.members {
            if let (Some(key), Some(kv)) = (self.written.get(from..end), kvs.get(i)) {
                out.extend_from_slice(key);
                value(kv, out);
            }
            from = end;
        }
        out.push(b'}');
    }

    /// Keeps the layout the ordinary writer noted while writing `object`
    /// (which starts at `start` in its buffer), unless it is too large.
    fn keep(
        &mut self,
        print: u64,
        style: KeyStyle,
        kvs: &[KeyValue],
        object: &[u8],
        start: usize,
        notes: &Notes,
    ) {
        self.kept = false;
        let key_bytes: usize = kvs.iter().map(|kv| kv.key.len()).sum();
        if key_bytes > MAX_KEY_BYTES {
            return;
        }
        self.keys.clear();
        self.ends.clear();
        for kv in kvs {
            self.keys.extend_from_slice(kv.key.as_bytes());
            self.ends.push(self.keys.len());
        }
        self.members.clear();
        self.written.clear();
        for (n, (i, span)) in notes.iter().enumerate() {
            let Some(key) = object.get(span.start - start..span.end - start) else {
                return;
            };
            if n > 0 {
                self.written.push(b',');
            }
            self.written.extend_from_slice(key);
            self.members.push((*i, self.written.len()));
        }
        self.fingerprint = print;
        self.style = style;
        self.kept = true;
    }
}

/// Byte equality, a word at a time (keys are short; no `memcmp` call).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    if a8
        .by_ref()
        .zip(b8.by_ref())
        .any(|(x, y)| word(x) != word(y))
    {
        return false;
    }
    let (ra, rb) = (a8.remainder(), b8.remainder());
    match (a.len().checked_sub(8), ra.is_empty()) {
        // The last eight bytes, overlapping the words before.
        (Some(last), false) => word(&a[last..]) == word(&b[last..]),
        _ => ra == rb,
    }
}

/// The first eight bytes of `bytes` (at least eight) as a word.
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_ne_bytes(*w))
}

#[cfg(test)]
#[path = "attr_layout_tests.rs"]
mod tests;
