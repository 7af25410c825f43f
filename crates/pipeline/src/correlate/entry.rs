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
    otlp::trace::v1::Span,
    record::EventRecord,
    span::{ClaudeSpan, SpanKind},
    value::Attrs,
};

use super::ids::{Digest, Id};

/// One event of a chain.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// `event.sequence` (`u64::MAX` when absent, so such events sort last).
    pub sequence: u64,
    /// Event time in Unix nanoseconds (`event.timestamp`, else the record's
    /// times).
    pub time: u64,
    /// Hash of the whole log record.
    pub hash: Id,
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
    pub fn of(e: &EventRecord, digest: &mut Digest) -> Entry {
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
            hash: digest.log(&e.log),
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
    pub hash: Id,
}

impl SpanEntry {
    /// Builds the entry of a span; `None` for malformed ids.
    pub fn of(span: &Span, typed: &ClaudeSpan, digest: &mut Digest) -> Option<SpanEntry> {
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
            hash: digest.span(span),
        })
    }

    /// An estimate of the bytes this span entry holds.
    pub fn size(&self) -> usize {
        std::mem::size_of::<SpanEntry>() + 96
    }
}
