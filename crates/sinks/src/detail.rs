//! The record's full canonical JSON as the SIEM encoders write it
//! (`detail`): from a tree, or straight from the record.
//!
//! A prompt chain, or an item a test built or edited, carries its detail as
//! a `serde_json::Value` ([`AuditItem::detail`]). A typed record on the
//! pipeline's path does not build that tree: [`Detail::Record`] writes the
//! record's JSON into the encoder's output with [`Record::write_json`], the
//! same bytes the tree would serialize to, and answers the few questions
//! the encoders ask of the detail (an attribute, a token counter) from the
//! record itself. Within a batch the members its records share (origin,
//! resource, scope) are rendered once ([`SharedJson`]). Tests hold both forms to the same bytes for every sink.
//!
//! [`AuditItem::detail`]: crate::item::AuditItem::detail

use std::{borrow::Cow, cell::RefCell};

use cairn_core::{
    event::ClaudeEvent,
    json::{self, KeyStyle},
    record::{Origin, Record, RecordBody},
    render::SharedJson,
    value::{Attrs, json_text},
};
use serde_json::Value;

/// Where an encoder takes an item's detail from.
#[derive(Clone, Copy, Debug)]
pub enum Detail<'a> {
    /// The item's tree (`AuditItem::detail`).
    Tree(&'a Value),
    /// The record the item was built from, rendered on demand.
    Record {
        /// The record.
        record: &'a Record,
        /// Its batch's origin.
        origin: &'a Origin,
        /// Where the members its batch's records share are rendered once
        /// (none: rendered for this record).
        shared: Option<&'a RefCell<SharedJson>>,
    },
}

impl<'a> Detail<'a> {
    /// Appends the detail as compact JSON (keys sorted).
    pub fn write(self, out: &mut Vec<u8>) {
        match self {
            Detail::Tree(v) => {
                // A `Value` always serializes (and a `Vec` never refuses).
                let _ = serde_json::to_writer(out, v);
            }
            Detail::Record {
                record,
                origin,
                shared,
            } => write_record(record, origin, KeyStyle::Plain, shared, out),
        }
    }

    /// Appends the detail with every key in `style`.
    pub fn write_styled(self, style: KeyStyle, out: &mut Vec<u8>) {
        match self {
            Detail::Tree(v) => json::write_sorted(v, style, out),
            Detail::Record {
                record,
                origin,
                shared,
            } => write_record(record, origin, style, shared, out),
        }
    }

    /// The detail as a tree (for the rare encoder path that edits it).
    pub fn to_value(self) -> Value {
        match self {
            Detail::Tree(v) => v.clone(),
            Detail::Record { record, origin, .. } => record.to_json(origin),
        }
    }

    /// The string under `key` in the detail's `attributes` (the first one
    /// sent); `None` when absent or not a JSON string. From a record, that
    /// is also a non-finite double or bytes, which the JSON holds as text.
    pub fn attr_str(self, key: &str) -> Option<Cow<'a, str>> {
        match self {
            Detail::Tree(v) => v
                .get("attributes")
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
                .map(Cow::Borrowed),
            Detail::Record { record, .. } => {
                let attrs = match &record.body {
                    RecordBody::Event(e) => &e.log.attributes,
                    RecordBody::Span(s) => &s.span.attributes,
                    RecordBody::Metric(_) => return None,
                };
                Attrs(attrs).get(key).and_then(json_text)
            }
        }
    }

    /// The counter under `key` in the detail's `typed` view, when it is a
    /// non-negative integer (or a string of one).
    pub fn typed_u64(self, key: &str) -> Option<u64> {
        match self {
            Detail::Tree(v) => as_u64(v.get("typed")?.get(key)),
            Detail::Record { record, .. } => match &record.body {
                // The only typed view with token counters.
                RecordBody::Event(e) => match &e.event {
                    ClaudeEvent::ApiRequest(r) => match key {
                        "input_tokens" => r.input_tokens,
                        "output_tokens" => r.output_tokens,
                        "cache_read_tokens" => r.cache_read_tokens,
                        "cache_creation_tokens" => r.cache_creation_tokens,
                        "cache_creation_5m_tokens" => r.cache_creation_5m_tokens,
                        "cache_creation_1h_tokens" => r.cache_creation_1h_tokens,
                        _ => None,
                    },
                    _ => None,
                },
                RecordBody::Metric(_) | RecordBody::Span(_) => None,
            },
        }
    }
}

/// Writes `record`'s JSON, its shared members from `shared` when there is
/// one (and it is not in use).
fn write_record(
    record: &Record,
    origin: &Origin,
    style: KeyStyle,
    shared: Option<&RefCell<SharedJson>>,
    out: &mut Vec<u8>,
) {
    match shared.and_then(|s| s.try_borrow_mut().ok()) {
        Some(mut shared) => record.write_json_shared(origin, style, &mut shared, out),
        None => record.write_json_styled(origin, style, out),
    }
}

/// A JSON number or numeric string as a `u64`.
pub(crate) fn as_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        // proto3 JSON writes 64-bit integers as strings.
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
