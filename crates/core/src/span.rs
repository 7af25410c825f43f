//! Typed views of Claude Code's beta trace spans.

use opentelemetry_proto::tonic::trace::v1::Span;
use serde::Serialize;

use crate::value::Attrs;

/// Which span of the Claude Code span tree this is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// `claude_code.interaction`: one per prompt, the root.
    Interaction,
    /// `claude_code.llm_request`.
    LlmRequest,
    /// `claude_code.tool`.
    Tool,
    /// `claude_code.tool.blocked_on_user`.
    ToolBlockedOnUser,
    /// `claude_code.tool.execution`.
    ToolExecution,
    /// `claude_code.hook`.
    Hook,
    /// Any other span; the name is kept.
    Unknown(String),
}

impl SpanKind {
    /// Classifies a span by name.
    pub fn from_name(name: &str) -> SpanKind {
        match name {
            "claude_code.interaction" => SpanKind::Interaction,
            "claude_code.llm_request" => SpanKind::LlmRequest,
            "claude_code.tool" => SpanKind::Tool,
            "claude_code.tool.blocked_on_user" => SpanKind::ToolBlockedOnUser,
            "claude_code.tool.execution" => SpanKind::ToolExecution,
            "claude_code.hook" => SpanKind::Hook,
            other => SpanKind::Unknown(other.to_owned()),
        }
    }
}

/// The typed view of one span: its kind and the join keys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaudeSpan {
    /// Which span.
    pub kind: SpanKind,
    /// `prompt.id`, when the span carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    /// `tool_use_id` (tool and tool.execution spans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    /// `request_id` (llm_request spans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `tool_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `agent_id`: absent on the main agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// `duration_ms` (or `interaction.duration_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `success`, where the span reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Whether the span's status is ERROR.
    pub error: bool,
}

impl ClaudeSpan {
    /// Builds the typed view of a span.
    pub fn read(span: &Span) -> ClaudeSpan {
        let a = Attrs(&span.attributes);
        ClaudeSpan {
            kind: SpanKind::from_name(&span.name),
            prompt_id: a.string("prompt.id"),
            tool_use_id: a
                .string("tool_use_id")
                .or_else(|| a.string("gen_ai.tool.call.id")),
            request_id: a
                .string("request_id")
                .or_else(|| a.string("gen_ai.response.id")),
            tool_name: a.string("tool_name"),
            model: a
                .string("model")
                .or_else(|| a.string("gen_ai.request.model")),
            agent_id: a.string("agent_id"),
            duration_ms: a
                .f64("duration_ms")
                .or_else(|| a.f64("interaction.duration_ms")),
            success: a.bool("success"),
            error: span.status.as_ref().is_some_and(|s| s.code == 2),
        }
    }
}
