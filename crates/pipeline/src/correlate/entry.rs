//! What the correlator keeps of each record: a compact [`Entry`] per event
//! and a [`SpanEntry`] per span, each with a content hash for deduplication.
//!
//! An entry holds only what the fold reads of the typed event (identifiers,
//! numbers, small vocabularies) plus the few content strings the chain record
//! shows (prompt text, tool parameters and input, error text), all already
//! redacted on the receive path. An entry's strings are byte ranges into its
//! chain's [`Text`] (an amendment's own), so an event costs no allocation of
//! its own; a span entry's share one buffer of the span's. The content hash
//! ([`Content`]) covers the whole log record as received (time, body, every
//! attribute), so an exporter's retry of the same record is a duplicate,
//! while a resumed session's `event.sequence = 0` with different content is
//! not.

use cairn_core::{
    chain::parse_rfc3339,
    event::ClaudeEvent,
    otlp::trace::v1::Span,
    record::EventRecord,
    span::{ClaudeSpan, SpanKind},
};

use super::content::{Content, Found, Key};
use crate::ids::Id;

/// Where a string sits in its owner's text buffer; `None` when absent.
pub(crate) type Str = Option<Piece>;

/// A byte range of a text buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    start: u32,
    end: u32,
}

/// The strings of one entry, in one allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Text(String);

impl Text {
    /// Packs `parts` into one buffer of their size.
    pub fn pack<const N: usize>(parts: [Option<&str>; N]) -> (Text, [Str; N]) {
        let mut text = Text(String::with_capacity(
            parts.iter().flatten().map(|s| s.len()).sum(),
        ));
        let pieces = text.append(parts);
        (text, pieces)
    }

    /// An empty buffer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Text {
        Text(String::with_capacity(n))
    }

    /// Appends `parts`; a part too far into the buffer for a `u32` offset
    /// (gigabytes, which the receivers never accept) is dropped rather than
    /// misplaced.
    pub fn append<const N: usize>(&mut self, parts: [Option<&str>; N]) -> [Str; N] {
        let buf = &mut self.0;
        buf.reserve(parts.iter().flatten().map(|s| s.len()).sum());
        parts.map(|p| {
            let p = p?;
            let start = u32::try_from(buf.len()).ok()?;
            let end = u32::try_from(buf.len() + p.len()).ok()?;
            buf.push_str(p);
            Some(Piece { start, end })
        })
    }

    /// The string at `s`.
    pub fn get(&self, s: Str) -> Option<&str> {
        let p = s?;
        self.0.get(p.start as usize..p.end as usize)
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

/// What the fold reads of an event, by kind. String fields are [`Str`]s
/// into the entry's [`Text`].
#[derive(Clone, Debug)]
pub(crate) enum Ev {
    UserPrompt {
        length: Option<u64>,
        /// `prompt` / `prompt_text`, when sent.
        prompt: Str,
        command_name: Str,
        command_source: Str,
        message_uuid: Str,
    },
    ToolDecision {
        tool_use_id: Str,
        tool_name: Str,
        decision: Str,
        source: Str,
        tool_source: Str,
        request_id: Str,
        /// `tool_parameters`.
        parameters: Str,
    },
    ToolResult {
        tool_use_id: Str,
        tool_name: Str,
        request_id: Str,
        error_type: Str,
        decision_source: Str,
        /// `tool_parameters`.
        parameters: Str,
        /// `tool_input`.
        input: Str,
        success: Option<bool>,
        duration_ms: Option<f64>,
        input_size_bytes: Option<u64>,
        result_size_bytes: Option<u64>,
    },
    ApiRequest {
        request_id: Str,
        model: Str,
        query_source: Str,
        speed: Str,
        effort: Str,
        cost_usd: f64,
        duration_ms: Option<f64>,
        ttft_ms: Option<f64>,
        /// Input, output, cache read, cache creation.
        tokens: [Option<u64>; 4],
    },
    ApiError {
        request_id: Str,
        model: Str,
        query_source: Str,
        /// `error`.
        error: Str,
        status_code: Option<u16>,
        attempt: Option<u64>,
        duration_ms: Option<f64>,
    },
    ApiRetriesExhausted {
        request_id: Str,
        model: Str,
        total_attempts: Option<u64>,
    },
    AssistantResponse {
        request_id: Str,
        model: Str,
        query_source: Str,
        response_length: Option<u64>,
    },
    HookStart {
        hook_event: Str,
        hook_name: Str,
        num_hooks: Option<u64>,
    },
    HookComplete {
        hook_event: Str,
        hook_name: Str,
        num_hooks: Option<u64>,
        num_success: Option<u64>,
        num_blocking: Option<u64>,
        num_non_blocking_error: Option<u64>,
        num_cancelled: Option<u64>,
        duration_ms: Option<f64>,
    },
    Compaction {
        trigger: Str,
        success: Option<bool>,
        duration_ms: Option<f64>,
        pre_tokens: Option<u64>,
        post_tokens: Option<u64>,
    },
    SubagentCompleted {
        agent_type: Str,
        model: Str,
        total_tokens: Option<u64>,
        total_tool_uses: Option<u64>,
        duration_ms: Option<f64>,
    },
    /// Any other event, by name.
    Other { name: Str },
}

/// Bytes an entry costs beyond itself: its slot in the chain's hash set,
/// its `event.sequence` in the session's index, a share of the session's
/// join ids. With the entry counted twice (a vector grows by doubling), the
/// estimate is calibrated against the heap measured by
/// `benches/benches/chain_memory.rs` so that it does not under-count: the
/// byte cap bounds real memory.
pub(crate) const INDEX_BYTES: usize = 96;

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
    pub agent_id: Str,
    /// What the fold reads of the event; its strings, and `agent_id`, are
    /// in the chain's [`Text`] (or its amendment's).
    pub event: Ev,
}

/// Claude Code's placeholder for content it was told not to send.
const NOT_SENT: &str = "<REDACTED>";

fn content_of<'a>(a: &Found<'a>, key: Key) -> Option<&'a str> {
    a.str(key)
        .filter(|s| !s.trim().is_empty() && s.trim() != NOT_SENT)
}

/// The event's fields the fold reads; its strings (with `agent_id`) are
/// appended to `text`.
fn compact(e: &EventRecord, a: &Found<'_>, text: &mut Text) -> (Str, Ev) {
    let agent = e.header.agent_id.as_deref();
    match &e.event {
        ClaudeEvent::UserPrompt(p) => {
            let prompt = content_of(a, Key::Prompt).or_else(|| content_of(a, Key::PromptText));
            let [agent, prompt, command_name, command_source, message_uuid] = text.append([
                agent,
                prompt,
                p.command_name.as_deref(),
                p.command_source.as_ref().map(|c| c.as_str()),
                p.message_uuid.as_deref(),
            ]);
            let ev = Ev::UserPrompt {
                length: p.prompt_length,
                prompt,
                command_name,
                command_source,
                message_uuid,
            };
            (agent, ev)
        }
        ClaudeEvent::ToolDecision(d) => {
            let [
                agent,
                tool_use_id,
                tool_name,
                decision,
                source,
                tool_source,
                request_id,
                parameters,
            ] = text.append([
                agent,
                d.tool_use_id.as_deref(),
                d.tool_name.as_deref(),
                d.decision.as_ref().map(|x| x.as_str()),
                d.source.as_ref().map(|x| x.as_str()),
                d.tool_source.as_ref().map(|x| x.as_str()),
                d.request_id.as_deref(),
                content_of(a, Key::ToolParameters),
            ]);
            let ev = Ev::ToolDecision {
                tool_use_id,
                tool_name,
                decision,
                source,
                tool_source,
                request_id,
                parameters,
            };
            (agent, ev)
        }
        ClaudeEvent::ToolResult(r) => {
            let [
                agent,
                tool_use_id,
                tool_name,
                request_id,
                error_type,
                decision_source,
                parameters,
                input,
            ] = text.append([
                agent,
                r.tool_use_id.as_deref(),
                r.tool_name.as_deref(),
                r.request_id.as_deref(),
                r.error_type.as_deref(),
                r.decision_source.as_ref().map(|x| x.as_str()),
                content_of(a, Key::ToolParameters),
                content_of(a, Key::ToolInput),
            ]);
            let ev = Ev::ToolResult {
                tool_use_id,
                tool_name,
                request_id,
                error_type,
                decision_source,
                parameters,
                input,
                success: r.success,
                duration_ms: r.duration_ms,
                input_size_bytes: r.tool_input_size_bytes,
                result_size_bytes: r.tool_result_size_bytes,
            };
            (agent, ev)
        }
        ClaudeEvent::ApiRequest(r) => {
            let [agent, request_id, model, query_source, speed, effort] = text.append([
                agent,
                r.request_id.as_deref(),
                r.model.as_deref(),
                r.query_source.as_deref(),
                r.speed.as_ref().map(|x| x.as_str()),
                r.effort.as_ref().map(|x| x.as_str()),
            ]);
            let ev = Ev::ApiRequest {
                request_id,
                model,
                query_source,
                speed,
                effort,
                cost_usd: r
                    .cost_usd
                    .or(r.cost_usd_micros.map(|m| m as f64 / 1e6))
                    .unwrap_or(0.0),
                duration_ms: r.duration_ms,
                ttft_ms: r.ttft_ms,
                tokens: [
                    r.input_tokens,
                    r.output_tokens,
                    r.cache_read_tokens,
                    r.cache_creation_tokens,
                ],
            };
            (agent, ev)
        }
        ClaudeEvent::ApiError(r) => {
            let [agent, request_id, model, query_source, error] = text.append([
                agent,
                r.request_id.as_deref(),
                r.model.as_deref(),
                r.query_source.as_deref(),
                content_of(a, Key::Error),
            ]);
            let ev = Ev::ApiError {
                request_id,
                model,
                query_source,
                error,
                status_code: r.status_code,
                attempt: r.attempt,
                duration_ms: r.duration_ms,
            };
            (agent, ev)
        }
        ClaudeEvent::ApiRetriesExhausted(r) => {
            let [agent, request_id, model] =
                text.append([agent, r.request_id.as_deref(), r.model.as_deref()]);
            let ev = Ev::ApiRetriesExhausted {
                request_id,
                model,
                total_attempts: r.total_attempts,
            };
            (agent, ev)
        }
        ClaudeEvent::AssistantResponse(r) => {
            let [agent, request_id, model, query_source] = text.append([
                agent,
                r.request_id.as_deref(),
                r.model.as_deref(),
                r.query_source.as_deref(),
            ]);
            let ev = Ev::AssistantResponse {
                request_id,
                model,
                query_source,
                response_length: r.response_length,
            };
            (agent, ev)
        }
        ClaudeEvent::HookExecutionStart(h) => {
            let [agent, hook_event, hook_name] =
                text.append([agent, h.hook_event.as_deref(), h.hook_name.as_deref()]);
            let ev = Ev::HookStart {
                hook_event,
                hook_name,
                num_hooks: h.num_hooks,
            };
            (agent, ev)
        }
        ClaudeEvent::HookExecutionComplete(h) => {
            let x = &h.execution;
            let [agent, hook_event, hook_name] =
                text.append([agent, x.hook_event.as_deref(), x.hook_name.as_deref()]);
            let ev = Ev::HookComplete {
                hook_event,
                hook_name,
                num_hooks: x.num_hooks,
                num_success: h.num_success,
                num_blocking: h.num_blocking,
                num_non_blocking_error: h.num_non_blocking_error,
                num_cancelled: h.num_cancelled,
                duration_ms: h.total_duration_ms,
            };
            (agent, ev)
        }
        ClaudeEvent::Compaction(c) => {
            let [agent, trigger] = text.append([agent, c.trigger.as_deref()]);
            let ev = Ev::Compaction {
                trigger,
                success: c.success,
                duration_ms: c.duration_ms,
                pre_tokens: c.pre_tokens,
                post_tokens: c.post_tokens,
            };
            (agent, ev)
        }
        ClaudeEvent::SubagentCompleted(s) => {
            let [agent, agent_type, model] =
                text.append([agent, s.agent_type.as_deref(), s.model.as_deref()]);
            let ev = Ev::SubagentCompleted {
                agent_type,
                model,
                total_tokens: s.total_tokens,
                total_tool_uses: s.total_tool_uses,
                duration_ms: s.duration_ms,
            };
            (agent, ev)
        }
        other => {
            let name = match other {
                ClaudeEvent::Unknown { name } => name.as_str(),
                known => known.name(),
            };
            let [agent, name] = text.append([agent, Some(name)]);
            (agent, Ev::Other { name })
        }
    }
}

impl Entry {
    /// Builds the entry of an event record whose content hash and read
    /// attributes are `hash` and `found` ([`Content::log`]); its strings
    /// are appended to `text`.
    pub fn of(e: &EventRecord, hash: Id, found: &Found<'_>, text: &mut Text) -> Entry {
        let time = e
            .header
            .timestamp
            .as_deref()
            .and_then(parse_rfc3339)
            .or((e.log.time_unix_nano != 0).then_some(e.log.time_unix_nano))
            .unwrap_or(e.log.observed_time_unix_nano);
        let (agent_id, event) = compact(e, found, text);
        Entry {
            sequence: e.header.sequence.unwrap_or(u64::MAX),
            time,
            hash,
            agent_id,
            event,
        }
    }

    /// An estimate of the heap and inline bytes an entry holds besides its
    /// strings, with what it costs around it (see [`INDEX_BYTES`]).
    pub const SIZE: usize = 2 * std::mem::size_of::<Entry>() + INDEX_BYTES;
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
    pub prompt_id: Str,
    /// `tool_use_id` of tool spans.
    pub tool_use_id: Str,
    /// `request_id` of llm_request spans.
    pub request_id: Str,
    /// `agent_id`: set on subagent work.
    pub agent_id: Str,
    /// `tool_name` of tool spans.
    pub tool_name: Str,
    /// Hash of the span.
    pub hash: Id,
    /// The strings the fields above point into.
    pub text: Text,
}

impl SpanEntry {
    /// Builds the entry of a span; `None` for malformed ids.
    pub fn of(span: &Span, typed: &ClaudeSpan, content: &mut Content) -> Option<SpanEntry> {
        let trace_id = span.trace_id.as_slice().try_into().ok()?;
        let span_id = span.span_id.as_slice().try_into().ok()?;
        let (text, [prompt_id, tool_use_id, request_id, agent_id, tool_name]) = Text::pack([
            typed.prompt_id.as_deref(),
            typed.tool_use_id.as_deref(),
            typed.request_id.as_deref(),
            typed.agent_id.as_deref(),
            typed.tool_name.as_deref(),
        ]);
        Some(SpanEntry {
            kind: typed.kind.clone(),
            trace_id,
            span_id,
            start: span.start_time_unix_nano,
            prompt_id,
            tool_use_id,
            request_id,
            agent_id,
            tool_name,
            hash: content.span(span),
            text,
        })
    }

    /// The string at `s`.
    pub fn str(&self, s: Str) -> Option<&str> {
        self.text.get(s)
    }

    /// An estimate of the bytes this span entry holds (as [`Entry::SIZE`],
    /// plus its strings).
    pub fn size(&self) -> usize {
        2 * std::mem::size_of::<SpanEntry>() + self.text.len() + INDEX_BYTES
    }
}
