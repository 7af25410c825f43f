//! Content hashes of whole records, for deduplication, and the attributes
//! the correlator reads, found on the same walk.
//!
//! A record's hash is xxh3-128 (seeded per correlator) over an unambiguous
//! encoding of every field: times, severity, body, every attribute (key and
//! value, length-prefixed, in order), trace and span ids, event name. A
//! length takes one byte below 255 (255 and eight bytes past that), so the
//! bytes hashed are mostly the record's own. The
//! attributes cairn's enricher writes (`cost_center`, `department`, `team`,
//! `manager`, `cairn.cost_center.source`) are left out: an exporter's retry
//! that arrives after a directory reload carries a different assignment but
//! is the same event.
//!
//! The encoding is built in one pass over the attributes (their count is
//! written last, into a slot reserved before them), and the same pass notes
//! where the keys the correlator reads sit ([`Found`]), so the record's data
//! is read once, while it is in cache, and no attribute list is scanned
//! again by key.

use cairn_core::content::put;
use cairn_core::otlp::{
    common::v1::{AnyValue, KeyValue, any_value::Value},
    logs::v1::LogRecord,
    trace::v1::Span,
};

use crate::{
    enrich::{COST_CENTER, DEPARTMENT, MANAGER, SOURCE, TEAM},
    ids::{Id, Seeded},
};

/// Log attributes the correlator reads: content shown in the chain, and the
/// cost-center assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Prompt,
    PromptText,
    ToolParameters,
    ToolInput,
    Error,
    CostCenter,
    Department,
    Team,
    TeamId,
    Manager,
    CostCenterSource,
}

const KEYS: usize = 11;

/// What a key is to the correlator: one it reads, and whether the enricher
/// writes it (so it is not content).
fn classify(key: &str) -> (Option<Key>, bool) {
    match key {
        "prompt" => (Some(Key::Prompt), false),
        "prompt_text" => (Some(Key::PromptText), false),
        "tool_parameters" => (Some(Key::ToolParameters), false),
        "tool_input" => (Some(Key::ToolInput), false),
        "error" => (Some(Key::Error), false),
        "team.id" => (Some(Key::TeamId), false),
        COST_CENTER => (Some(Key::CostCenter), true),
        DEPARTMENT => (Some(Key::Department), true),
        TEAM => (Some(Key::Team), true),
        MANAGER => (Some(Key::Manager), true),
        SOURCE => (Some(Key::CostCenterSource), true),
        _ => (None, false),
    }
}

/// The first attribute under each [`Key`], as `Attrs::get` would find it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Found<'a>([Option<&'a KeyValue>; KEYS]);

impl<'a> Found<'a> {
    fn note(&mut self, key: Key, kv: &'a KeyValue) {
        if let Some(slot) = self.0.get_mut(key as usize)
            && slot.is_none()
        {
            *slot = Some(kv);
        }
    }

    /// The string value under `key` (as `Attrs::str`: the first occurrence
    /// wins, and a non-string value is no string).
    pub fn str(&self, key: Key) -> Option<&'a str> {
        let kv = (*self.0.get(key as usize)?)?;
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

/// Computes content hashes with a per-correlator seed and a reused buffer.
#[derive(Debug)]
pub(crate) struct Content {
    h: Seeded,
}

impl Default for Content {
    fn default() -> Self {
        Content {
            h: Seeded::new(0x6361_6972_6e01),
        }
    }
}

impl Content {
    /// The content hash of a whole log record, and its attributes the
    /// correlator reads.
    pub fn log<'a>(&mut self, log: &'a LogRecord) -> (Id, Found<'a>) {
        let buf = &mut self.h.buf;
        buf.push(b'L');
        buf.extend_from_slice(&log.time_unix_nano.to_le_bytes());
        buf.extend_from_slice(&log.observed_time_unix_nano.to_le_bytes());
        buf.extend_from_slice(&log.severity_number.to_le_bytes());
        put(buf, log.severity_text.as_bytes());
        match &log.body {
            Some(b) => any(buf, b),
            None => buf.push(0),
        }
        let mut found = Found::default();
        attrs(buf, &log.attributes, Some(&mut found));
        put(buf, &log.trace_id);
        put(buf, &log.span_id);
        put(buf, log.event_name.as_bytes());
        (self.h.finish(), found)
    }

    /// The content hash of a whole span.
    pub fn span(&mut self, span: &Span) -> Id {
        let buf = &mut self.h.buf;
        buf.push(b'S');
        put(buf, &span.trace_id);
        put(buf, &span.span_id);
        put(buf, &span.parent_span_id);
        buf.extend_from_slice(&span.start_time_unix_nano.to_le_bytes());
        buf.extend_from_slice(&span.end_time_unix_nano.to_le_bytes());
        put(buf, span.name.as_bytes());
        attrs(buf, &span.attributes, None);
        self.h.finish()
    }
}

/// Content attributes: their count, then each key and value.
fn attrs<'a>(buf: &mut Vec<u8>, kvs: &'a [KeyValue], mut found: Option<&mut Found<'a>>) {
    let at = buf.len();
    buf.extend_from_slice(&0u64.to_le_bytes());
    let mut n = 0u64;
    for kv in kvs {
        let (key, enriched) = classify(&kv.key);
        if let (Some(k), Some(f)) = (key, found.as_deref_mut()) {
            f.note(k, kv);
        }
        if enriched {
            continue;
        }
        n += 1;
        let k = kv.key.as_bytes();
        match kv.value.as_ref().map(|v| &v.value) {
            // The common case, in one reservation.
            Some(Some(Value::StringValue(v))) => {
                let v = v.as_bytes();
                buf.reserve(19 + k.len() + v.len());
                put(buf, k);
                buf.push(1);
                put(buf, v);
            }
            // Numbers, as `any` writes them, without the call.
            Some(Some(Value::IntValue(i))) => {
                put(buf, k);
                buf.push(3);
                buf.extend_from_slice(&i.to_le_bytes());
            }
            Some(_) => {
                put(buf, k);
                if let Some(v) = &kv.value {
                    any(buf, v);
                }
            }
            None => {
                put(buf, k);
                buf.push(0);
            }
        }
    }
    if let Some(slot) = buf.get_mut(at..at + 8) {
        slot.copy_from_slice(&n.to_le_bytes());
    }
}

/// A key-value list inside a value: its attributes as content (the
/// enricher's keys left out at every depth).
fn nested(buf: &mut Vec<u8>, kvs: &[KeyValue]) {
    attrs(buf, kvs, None);
}

/// [`cairn_core::content::any`], nested lists as [`nested`].
fn any(buf: &mut Vec<u8>, v: &AnyValue) {
    cairn_core::content::any(buf, v, nested);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use cairn_core::value::{Attrs, kv_str};

    use super::*;

    #[test]
    fn record_hashes_see_every_field_but_the_enrichers() {
        let mut d = Content::default();
        let a = LogRecord {
            attributes: vec![kv_str("k", "v")],
            ..Default::default()
        };
        let mut b = a.clone();
        assert_eq!(d.log(&a).0, d.log(&b).0);
        b.attributes[0] = kv_str("k", "w");
        assert_ne!(d.log(&a).0, d.log(&b).0);
        let mut c = a.clone();
        c.observed_time_unix_nano = 1;
        assert_ne!(d.log(&a).0, d.log(&c).0);
        // Attribute boundaries and counts are part of the encoding.
        let two = LogRecord {
            attributes: vec![kv_str("k", "v"), kv_str("k", "v")],
            ..Default::default()
        };
        assert_ne!(d.log(&a).0, d.log(&two).0);
        // A different cost-center assignment is the same event.
        for key in [COST_CENTER, DEPARTMENT, TEAM, MANAGER, SOURCE] {
            let mut e = a.clone();
            e.attributes.push(kv_str(key, "cc-1"));
            let mut f = a.clone();
            f.attributes.insert(0, kv_str(key, "cc-2"));
            assert_eq!(d.log(&e).0, d.log(&f).0, "{key}");
            assert_eq!(d.log(&e).0, d.log(&a).0, "{key}");
        }
        // `team.id` is the sender's, not the enricher's.
        let mut g = a.clone();
        g.attributes.push(kv_str("team.id", "t"));
        assert_ne!(d.log(&g).0, d.log(&a).0);
    }

    #[test]
    fn span_hashes_see_every_field() {
        let mut d = Content::default();
        let a = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            attributes: vec![kv_str("k", "v")],
            ..Default::default()
        };
        assert_eq!(d.span(&a), d.span(&a.clone()));
        let mut b = a.clone();
        b.end_time_unix_nano = 5;
        assert_ne!(d.span(&a), d.span(&b));
        let mut c = a.clone();
        c.parent_span_id = vec![3; 8];
        assert_ne!(d.span(&a), d.span(&c));
    }

    #[test]
    fn found_keys_read_as_attrs_would() {
        let mut d = Content::default();
        let mut attrs = vec![
            kv_str("prompt", "first"),
            kv_str("tool_input", "x"),
            kv_str("prompt", "second"),
            kv_str("team.id", "t-1"),
            kv_str(SOURCE, "directory"),
        ];
        attrs.push(KeyValue {
            key: "error".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(3)),
            }),
            ..Default::default()
        });
        let log = LogRecord {
            attributes: attrs,
            ..Default::default()
        };
        let (_, found) = d.log(&log);
        let a = Attrs(&log.attributes);
        for (key, name) in [
            (Key::Prompt, "prompt"),
            (Key::PromptText, "prompt_text"),
            (Key::ToolParameters, "tool_parameters"),
            (Key::ToolInput, "tool_input"),
            (Key::Error, "error"),
            (Key::CostCenter, COST_CENTER),
            (Key::Department, DEPARTMENT),
            (Key::Team, TEAM),
            (Key::TeamId, "team.id"),
            (Key::Manager, MANAGER),
            (Key::CostCenterSource, SOURCE),
        ] {
            assert_eq!(found.str(key), a.str(name), "{name}");
        }
    }
}
