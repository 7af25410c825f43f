//! The tool events: `tool_decision` (permission) and `tool_result` (run).
//!
//! `tool_use_id` joins the two with the `claude_code.tool` span. The gated
//! `tool_parameters` and `tool_input` JSON strings and the `error` text are
//! content (commands, paths, file text): they stay only in the raw
//! attributes. From `tool_parameters` the typed view lifts only keys that
//! name things or flags ([`ToolParameters`]); `bash_command`, `full_command`
//! and `description` are derived from the command line and are not copied.

use serde::Serialize;
use serde_json::Value as Json;

use super::{
    has_content,
    vocab::{Decision, DecisionSource, PermissionMode, ToolSource},
};
use crate::value::Attrs;

/// `tool_parameters` larger than this is not parsed for typed keys (Claude
/// Code caps it near 4 KiB; anything far above is not what it sends).
const MAX_PARAMETERS_LEN: usize = 64 * 1024;

/// The non-content keys of the `tool_parameters` JSON document.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ToolParameters {
    /// `dangerouslyDisableSandbox` (Bash): the command asked to run unsandboxed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerously_disable_sandbox: Option<bool>,
    /// `git_commit_id` (Bash running `git commit`, `tool_result` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit_id: Option<String>,
    /// `mcp_server_name` (MCP tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_server_name: Option<String>,
    /// `mcp_tool_name` (MCP tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_tool_name: Option<String>,
    /// `skill_name` (Skill tool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_name: Option<String>,
    /// `subagent_type` (Task/Agent tool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subagent_type: Option<String>,
    /// `timeout` (Bash), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
}

impl ToolParameters {
    /// Lifts the typed keys out of the `tool_parameters` attribute. `None` when
    /// it is absent, not a JSON object, too large, or has none of these keys.
    pub fn read(a: Attrs<'_>) -> Option<ToolParameters> {
        let text = a.str("tool_parameters")?;
        if text.len() > MAX_PARAMETERS_LEN {
            return None;
        }
        let doc: Json = serde_json::from_str(text).ok()?;
        let obj = doc.as_object()?;
        let string = |k: &str| obj.get(k).and_then(Json::as_str).map(str::to_owned);
        let p = ToolParameters {
            mcp_server_name: string("mcp_server_name"),
            mcp_tool_name: string("mcp_tool_name"),
            skill_name: string("skill_name"),
            subagent_type: string("subagent_type"),
            git_commit_id: string("git_commit_id"),
            timeout: obj.get("timeout").and_then(json_u64),
            dangerously_disable_sandbox: obj.get("dangerouslyDisableSandbox").and_then(json_bool),
        };
        (p != ToolParameters::default()).then_some(p)
    }
}

/// A non-negative integer inside the JSON document, as number or string.
fn json_u64(v: &Json) -> Option<u64> {
    match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean inside the JSON document, as bool or `"true"`/`"false"`.
fn json_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `tool_result`: a tool finished (a rejected tool has no `tool_result`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ToolResult {
    /// `decision_source` (falls back to `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_source: Option<DecisionSource>,
    /// `decision_type` (falls back to `decision`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_type: Option<Decision>,
    /// `duration_ms` (sent as a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `error_type`: the error's class, not its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Whether the gated `error` text was sent. The text is never copied.
    pub has_error: bool,
    /// Whether the gated `tool_input` JSON was sent. It is never copied.
    pub has_tool_input: bool,
    /// Whether the gated `tool_parameters` JSON was sent.
    pub has_tool_parameters: bool,
    /// `mcp_server_scope` (MCP tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_server_scope: Option<String>,
    /// The non-content keys of `tool_parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ToolParameters>,
    /// `request_id` of the API response that asked for the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `success` (sent as the string `"true"`/`"false"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// `tool_input_size_bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_input_size_bytes: Option<u64>,
    /// `tool_name` (`mcp_tool` for user MCP servers unless tool details are on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// `tool_result_size_bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_result_size_bytes: Option<u64>,
    /// `tool_use_id`: joins `tool_decision` and the tool span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
}

impl ToolResult {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ToolResult {
        ToolResult {
            tool_name: a.string("tool_name"),
            tool_use_id: a.string("tool_use_id"),
            request_id: a.string("request_id"),
            success: a.bool("success"),
            duration_ms: a.f64("duration_ms"),
            error_type: a.string("error_type"),
            has_error: has_content(a, &["error"]),
            decision_type: Decision::read(a, "decision_type")
                .or_else(|| Decision::read(a, "decision")),
            decision_source: DecisionSource::read(a, "decision_source")
                .or_else(|| DecisionSource::read(a, "source")),
            tool_input_size_bytes: a.u64("tool_input_size_bytes"),
            tool_result_size_bytes: a.u64("tool_result_size_bytes"),
            mcp_server_scope: a.string("mcp_server_scope"),
            has_tool_input: has_content(a, &["tool_input"]),
            has_tool_parameters: has_content(a, &["tool_parameters"]),
            parameters: ToolParameters::read(a),
        }
    }
}

/// `tool_decision`: a tool call was allowed or refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ToolDecision {
    /// `decision` (falls back to `decision_type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Whether the gated `tool_parameters` JSON was sent.
    pub has_tool_parameters: bool,
    /// The non-content keys of `tool_parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ToolParameters>,
    /// `permission_mode` in force when the decision was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
    /// `request_id` of the API response that asked for the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `source` (falls back to `decision_source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<DecisionSource>,
    /// `tool_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// `tool_source` (≥2.1.214).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_source: Option<ToolSource>,
    /// `tool_use_id`: joins `tool_result` and the tool span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
}

impl ToolDecision {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ToolDecision {
        ToolDecision {
            tool_name: a.string("tool_name"),
            tool_use_id: a.string("tool_use_id"),
            request_id: a.string("request_id"),
            decision: Decision::read(a, "decision").or_else(|| Decision::read(a, "decision_type")),
            source: DecisionSource::read(a, "source")
                .or_else(|| DecisionSource::read(a, "decision_source")),
            tool_source: ToolSource::read(a, "tool_source"),
            permission_mode: PermissionMode::read(a, "permission_mode"),
            has_tool_parameters: has_content(a, &["tool_parameters"]),
            parameters: ToolParameters::read(a),
        }
    }
}
