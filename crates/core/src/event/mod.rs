//! Typed Claude Code / Cowork events: one variant per event name.
//!
//! [`ClaudeEvent::parse`] turns a bare event name and the log record's
//! attributes into a typed view. The view is lossy on purpose: the record keeps
//! the original attributes, and the typed fields hold only identifiers,
//! numbers, flags and small vocabularies. Content (prompt and response text,
//! tool input and parameters, error messages, raw bodies, hook definitions)
//! is never copied into a typed field, only its presence or length, so that
//! redacting the raw attributes is enough to keep it out of the records file.
//!
//! Every attribute is optional and read through the coercing [`Attrs`]
//! getters: numbers may arrive as string, int or double, booleans as string or
//! bool. Unknown names become [`ClaudeEvent::Unknown`] with the name kept.
//!
//! This module owns the enum and the name dispatch; the event structs live in
//! [`prompt`], [`tool`], [`api`], [`hook`], [`plugin`], [`session`] and
//! [`admin`], and the small enums in [`vocab`].

use serde::Serialize;

use crate::value::{Attrs, as_str};

pub mod admin;
pub mod api;
pub mod hook;
pub mod plugin;
pub mod prompt;
pub mod session;
pub mod tool;
pub mod vocab;

#[cfg(test)]
mod shape_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unit_tests;

pub use admin::{Auth, FeedbackSurvey, InternalError, ManagedSettingsResolved, RetentionSweep};
pub use api::{ApiBody, ApiError, ApiRefusal, ApiRequest, ApiRetriesExhausted, Attribution};
pub use hook::{
    HookExecution, HookExecutionComplete, HookPluginMetrics, HookRegistered, PluginMetricValue,
};
pub use plugin::{McpServerConnection, PluginInstalled, PluginLoaded, SkillActivated};
pub use prompt::{AssistantResponse, UserPrompt};
pub use session::{AtMention, Compaction, PermissionModeChanged, SubagentCompleted};
pub use tool::{ToolDecision, ToolParameters, ToolResult};
pub use vocab::{
    CommandSource, Decision, DecisionSource, Effort, McpConnectionStatus, PermissionMode, Speed,
    ToolSource,
};

/// Every event name with a typed variant, in declaration order.
pub const KNOWN_EVENTS: &[&str] = &[
    "user_prompt",
    "assistant_response",
    "tool_result",
    "tool_decision",
    "api_request",
    "api_error",
    "api_retries_exhausted",
    "api_refusal",
    "api_request_body",
    "api_response_body",
    "permission_mode_changed",
    "subagent_completed",
    "compaction",
    "at_mention",
    "mcp_server_connection",
    "plugin_installed",
    "plugin_loaded",
    "skill_activated",
    "hook_execution_start",
    "hook_execution_complete",
    "hook_registered",
    "hook_plugin_metrics",
    "auth",
    "internal_error",
    "feedback_survey",
    "retention_sweep",
    "managed_settings_resolved",
];

/// A typed event. Serializes as `{"type": "<event name>", ...fields}`; unknown
/// names keep everything through the record's raw attributes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClaudeEvent {
    /// `user_prompt`.
    UserPrompt(UserPrompt),
    /// `assistant_response`.
    AssistantResponse(AssistantResponse),
    /// `tool_result`.
    ToolResult(ToolResult),
    /// `tool_decision`.
    ToolDecision(ToolDecision),
    /// `api_request`.
    ApiRequest(ApiRequest),
    /// `api_error`.
    ApiError(ApiError),
    /// `api_retries_exhausted`.
    ApiRetriesExhausted(ApiRetriesExhausted),
    /// `api_refusal`.
    ApiRefusal(ApiRefusal),
    /// `api_request_body`.
    ApiRequestBody(ApiBody),
    /// `api_response_body`.
    ApiResponseBody(ApiBody),
    /// `permission_mode_changed`.
    PermissionModeChanged(PermissionModeChanged),
    /// `subagent_completed`.
    SubagentCompleted(SubagentCompleted),
    /// `compaction`.
    Compaction(Compaction),
    /// `at_mention`.
    AtMention(AtMention),
    /// `mcp_server_connection`.
    McpServerConnection(McpServerConnection),
    /// `plugin_installed`.
    PluginInstalled(PluginInstalled),
    /// `plugin_loaded`.
    PluginLoaded(PluginLoaded),
    /// `skill_activated`.
    SkillActivated(SkillActivated),
    /// `hook_execution_start`.
    HookExecutionStart(HookExecution),
    /// `hook_execution_complete`.
    HookExecutionComplete(HookExecutionComplete),
    /// `hook_registered`.
    HookRegistered(HookRegistered),
    /// `hook_plugin_metrics`.
    HookPluginMetrics(HookPluginMetrics),
    /// `auth`.
    Auth(Auth),
    /// `internal_error`.
    InternalError(InternalError),
    /// `feedback_survey`.
    FeedbackSurvey(FeedbackSurvey),
    /// `retention_sweep`.
    RetentionSweep(RetentionSweep),
    /// `managed_settings_resolved`.
    ManagedSettingsResolved(ManagedSettingsResolved),
    /// An event name cairn has no typed form for.
    Unknown {
        /// The bare event name.
        name: String,
    },
}

impl ClaudeEvent {
    /// Builds the typed event for a bare event name (`tool_result`) from its
    /// attributes. Never fails: missing or mistyped attributes are `None`.
    pub fn parse(name: &str, attrs: Attrs<'_>) -> ClaudeEvent {
        use ClaudeEvent as E;
        let a = attrs;
        match name {
            "user_prompt" => E::UserPrompt(UserPrompt::read(a)),
            "assistant_response" => E::AssistantResponse(AssistantResponse::read(a)),
            "tool_result" => E::ToolResult(ToolResult::read(a)),
            "tool_decision" => E::ToolDecision(ToolDecision::read(a)),
            "api_request" => E::ApiRequest(ApiRequest::read(a)),
            "api_error" => E::ApiError(ApiError::read(a)),
            "api_retries_exhausted" => E::ApiRetriesExhausted(ApiRetriesExhausted::read(a)),
            "api_refusal" => E::ApiRefusal(ApiRefusal::read(a)),
            "api_request_body" => E::ApiRequestBody(ApiBody::read(a)),
            "api_response_body" => E::ApiResponseBody(ApiBody::read(a)),
            "permission_mode_changed" => E::PermissionModeChanged(PermissionModeChanged::read(a)),
            "subagent_completed" => E::SubagentCompleted(SubagentCompleted::read(a)),
            "compaction" => E::Compaction(Compaction::read(a)),
            "at_mention" => E::AtMention(AtMention::read(a)),
            "mcp_server_connection" => E::McpServerConnection(McpServerConnection::read(a)),
            "plugin_installed" => E::PluginInstalled(PluginInstalled::read(a)),
            "plugin_loaded" => E::PluginLoaded(PluginLoaded::read(a)),
            "skill_activated" => E::SkillActivated(SkillActivated::read(a)),
            "hook_execution_start" => E::HookExecutionStart(HookExecution::read(a)),
            "hook_execution_complete" => E::HookExecutionComplete(HookExecutionComplete::read(a)),
            "hook_registered" => E::HookRegistered(HookRegistered::read(a)),
            "hook_plugin_metrics" => E::HookPluginMetrics(HookPluginMetrics::read(a)),
            "auth" => E::Auth(Auth::read(a)),
            "internal_error" => E::InternalError(InternalError::read(a)),
            "feedback_survey" => E::FeedbackSurvey(FeedbackSurvey::read(a)),
            "retention_sweep" => E::RetentionSweep(RetentionSweep::read(a)),
            "managed_settings_resolved" => {
                E::ManagedSettingsResolved(ManagedSettingsResolved::read(a))
            }
            other => E::Unknown {
                name: other.to_owned(),
            },
        }
    }

    /// The bare event name (`tool_result`), also for [`ClaudeEvent::Unknown`].
    pub fn name(&self) -> &str {
        use ClaudeEvent as E;
        match self {
            E::UserPrompt(_) => "user_prompt",
            E::AssistantResponse(_) => "assistant_response",
            E::ToolResult(_) => "tool_result",
            E::ToolDecision(_) => "tool_decision",
            E::ApiRequest(_) => "api_request",
            E::ApiError(_) => "api_error",
            E::ApiRetriesExhausted(_) => "api_retries_exhausted",
            E::ApiRefusal(_) => "api_refusal",
            E::ApiRequestBody(_) => "api_request_body",
            E::ApiResponseBody(_) => "api_response_body",
            E::PermissionModeChanged(_) => "permission_mode_changed",
            E::SubagentCompleted(_) => "subagent_completed",
            E::Compaction(_) => "compaction",
            E::AtMention(_) => "at_mention",
            E::McpServerConnection(_) => "mcp_server_connection",
            E::PluginInstalled(_) => "plugin_installed",
            E::PluginLoaded(_) => "plugin_loaded",
            E::SkillActivated(_) => "skill_activated",
            E::HookExecutionStart(_) => "hook_execution_start",
            E::HookExecutionComplete(_) => "hook_execution_complete",
            E::HookRegistered(_) => "hook_registered",
            E::HookPluginMetrics(_) => "hook_plugin_metrics",
            E::Auth(_) => "auth",
            E::InternalError(_) => "internal_error",
            E::FeedbackSurvey(_) => "feedback_survey",
            E::RetentionSweep(_) => "retention_sweep",
            E::ManagedSettingsResolved(_) => "managed_settings_resolved",
            E::Unknown { name } => name,
        }
    }

    /// Whether cairn has a typed form for this event.
    pub fn is_known(&self) -> bool {
        !matches!(self, ClaudeEvent::Unknown { .. })
    }
}

/// The placeholder Claude Code sends instead of gated content.
pub const REDACTED_PLACEHOLDER: &str = "<REDACTED>";

/// Whether any of `keys` carries content: a non-empty string other than
/// [`REDACTED_PLACEHOLDER`], or any non-string value. Only presence is
/// reported; the value is never returned.
pub(crate) fn has_content(a: Attrs<'_>, keys: &[&str]) -> bool {
    keys.iter().any(|key| match a.get(key) {
        None => false,
        Some(v) => match as_str(v) {
            Some(s) => {
                let s = s.trim();
                !s.is_empty() && s != REDACTED_PLACEHOLDER
            }
            None => v.value.is_some(),
        },
    })
}

/// An HTTP status code sent as int, double or string; anything else
/// (Cowork's `undefined`, out-of-range numbers) is `None`.
pub(crate) fn status_code(a: Attrs<'_>, key: &str) -> Option<u16> {
    a.u64(key).and_then(|c| u16::try_from(c).ok())
}

/// An error code as text: a string as sent, or an integer's decimal form.
pub(crate) fn code(a: Attrs<'_>, key: &str) -> Option<String> {
    a.string(key).or_else(|| a.i64(key).map(|n| n.to_string()))
}
