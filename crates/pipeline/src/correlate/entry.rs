//! What the correlator keeps of each record: a compact [`Entry`] per event
//! and a [`SpanEntry`] per span, each with a content hash for deduplication.
//!
//! An entry holds the typed event (identifiers, numbers, small vocabularies)
//! plus the few content strings the chain record shows (prompt text, tool
//! parameters and input, error text), all already redacted on the receive
//! path. The content hash covers the whole log record as received (time,
//! body, every attribute), so an exporter's retry of the same record is a
//! duplicate, while a resumed session's `event.sequence = 0` with different
//! content is not.

use cairn_core::{
    chain::parse_rfc3339,
    event::ClaudeEvent,
    otlp::{
        common::v1::{AnyValue, KeyValue, any_value::Value},
        logs::v1::LogRecord,
        trace::v1::Span,
    },
    record::EventRecord,
    span::{ClaudeSpan, SpanKind},
    value::Attrs,
};
use xxhash_rust::xxh3::Xxh3;

/// One event of a chain.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// `event.sequence` (`u64::MAX` when absent, so such events sort last).
    pub sequence: u64,
    /// Event time in Unix nanoseconds (`event.timestamp`, else the record's
    /// times).
    pub time: u64,
    /// Hash of the whole log record.
    pub hash: u128,
    /// `agent_id`, on subagent work.
    pub agent_id: Option<String>,
    /// The typed event.
    pub event: ClaudeEvent,
    /// Redacted content the chain shows.
    pub content: Content,
}

/// The content strings a chain record carries (already redacted).
#[derive(Clone, Debug, Default)]
pub(crate) struct Content {
    /// `prompt` / `prompt_text` of a `user_prompt`, when sent.
    pub prompt: Option<String>,
    /// `tool_parameters` of a tool event.
    pub parameters: Option<String>,
    /// `tool_input` of a `tool_result`.
    pub input: Option<String>,
    /// `error` of an API error or tool result.
    pub error: Option<String>,
}

/// Claude Code's placeholder for content it was told not to send.
const NOT_SENT: &str = "<REDACTED>";

fn content_of(a: Attrs<'_>, key: &str) -> Option<String> {
    a.str(key)
        .filter(|s| !s.trim().is_empty() && s.trim() != NOT_SENT)
        .map(str::to_owned)
}

impl Entry {
    /// Builds the entry of an event record.
    pub fn of(e: &EventRecord) -> Entry {
        let a = Attrs(&e.log.attributes);
        let content = match &e.event {
            ClaudeEvent::UserPrompt(_) => Content {
                prompt: content_of(a, "prompt").or_else(|| content_of(a, "prompt_text")),
                ..Content::default()
            },
            ClaudeEvent::ToolDecision(_) => Content {
                parameters: content_of(a, "tool_parameters"),
                ..Content::default()
            },
            ClaudeEvent::ToolResult(_) => Content {
                parameters: content_of(a, "tool_parameters"),
                input: content_of(a, "tool_input"),
                error: content_of(a, "error"),
                ..Content::default()
            },
            ClaudeEvent::ApiError(_) | ClaudeEvent::ApiRetriesExhausted(_) => Content {
                error: content_of(a, "error"),
                ..Content::default()
            },
            _ => Content::default(),
        };
        let time = e
            .header
            .timestamp
            .as_deref()
            .and_then(parse_rfc3339)
            .or((e.log.time_unix_nano != 0).then_some(e.log.time_unix_nano))
            .unwrap_or(e.log.observed_time_unix_nano);
        Entry {
            sequence: e.header.sequence.unwrap_or(u64::MAX),
            time,
            hash: log_hash(&e.log),
            agent_id: e.header.agent_id.clone(),
            event: e.event.clone(),
            content,
        }
    }

    /// An estimate of the heap and inline bytes this entry holds.
    pub fn size(&self) -> usize {
        let c = &self.content;
        let text = [&c.prompt, &c.parameters, &c.input, &c.error, &self.agent_id]
            .iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>();
        // The typed event's strings are identifiers (ids, names, models):
        // counted as a flat allowance rather than walked.
        std::mem::size_of::<Entry>() + text + 160
    }
}

/// What a span contributes to a chain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpanEntry {
    /// Which span.
    pub kind: SpanKind,
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The span id.
    pub span_id: [u8; 8],
    /// Start time, for ordering.
    pub start: u64,
    /// Join keys.
    pub prompt_id: Option<String>,
    /// `tool_use_id` of tool spans.
    pub tool_use_id: Option<String>,
    /// `request_id` of llm_request spans.
    pub request_id: Option<String>,
    /// `agent_id`: set on subagent work.
    pub agent_id: Option<String>,
    /// `tool_name` of tool spans.
    pub tool_name: Option<String>,
    /// Hash of the span.
    pub hash: u128,
}

impl SpanEntry {
    /// Builds the entry of a span; `None` for malformed ids.
    pub fn of(span: &Span, typed: &ClaudeSpan) -> Option<SpanEntry> {
        let mut h = Xxh3::new();
        h.update(&span.trace_id);
        h.update(&span.span_id);
        h.update(&span.start_time_unix_nano.to_le_bytes());
        h.update(&span.end_time_unix_nano.to_le_bytes());
        h.update(span.name.as_bytes());
        hash_attrs(&mut h, &span.attributes);
        Some(SpanEntry {
            kind: typed.kind.clone(),
            trace_id: span.trace_id.as_slice().try_into().ok()?,
            span_id: span.span_id.as_slice().try_into().ok()?,
            start: span.start_time_unix_nano,
            prompt_id: typed.prompt_id.clone(),
            tool_use_id: typed.tool_use_id.clone(),
            request_id: typed.request_id.clone(),
            agent_id: typed.agent_id.clone(),
            tool_name: typed.tool_name.clone(),
            hash: h.digest128(),
        })
    }

    /// An estimate of the bytes this span entry holds.
    pub fn size(&self) -> usize {
        std::mem::size_of::<SpanEntry>() + 96
    }
}

/// The content hash of a log record: times, severity, body, attributes,
/// ids. 128 bits, so two different records colliding is not a concern.
pub(crate) fn log_hash(log: &LogRecord) -> u128 {
    let mut h = Xxh3::new();
    h.update(&log.time_unix_nano.to_le_bytes());
    h.update(&log.observed_time_unix_nano.to_le_bytes());
    h.update(&log.severity_number.to_le_bytes());
    h.update(log.severity_text.as_bytes());
    h.update(&[0xff]);
    if let Some(body) = &log.body {
        hash_any(&mut h, body);
    }
    hash_attrs(&mut h, &log.attributes);
    h.update(&log.trace_id);
    h.update(&log.span_id);
    h.update(log.event_name.as_bytes());
    h.digest128()
}

fn hash_attrs(h: &mut Xxh3, kvs: &[KeyValue]) {
    h.update(&(kvs.len() as u64).to_le_bytes());
    for kv in kvs {
        h.update(&(kv.key.len() as u64).to_le_bytes());
        h.update(kv.key.as_bytes());
        match &kv.value {
            Some(v) => hash_any(h, v),
            None => h.update(&[0]),
        }
    }
}

fn hash_any(h: &mut Xxh3, v: &AnyValue) {
    match &v.value {
        None => h.update(&[0]),
        Some(Value::StringValue(s)) => {
            h.update(&[1]);
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Some(Value::BoolValue(b)) => h.update(&[2, u8::from(*b)]),
        Some(Value::IntValue(i)) => {
            h.update(&[3]);
            h.update(&i.to_le_bytes());
        }
        Some(Value::DoubleValue(d)) => {
            h.update(&[4]);
            h.update(&d.to_bits().to_le_bytes());
        }
        Some(Value::BytesValue(b)) => {
            h.update(&[5]);
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        }
        Some(Value::ArrayValue(a)) => {
            h.update(&[6]);
            h.update(&(a.values.len() as u64).to_le_bytes());
            for x in &a.values {
                hash_any(h, x);
            }
        }
        Some(Value::KvlistValue(kv)) => {
            h.update(&[7]);
            hash_attrs(h, &kv.values);
        }
        Some(Value::StringValueStrindex(i)) => {
            h.update(&[8]);
            h.update(&i.to_le_bytes());
        }
    }
}
