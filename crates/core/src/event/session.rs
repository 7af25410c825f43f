//! The in-session flow events: `permission_mode_changed`,
//! `subagent_completed`, `compaction` and `at_mention`.
//!
//! These describe how a session moved (mode switches, subagents, context
//! compaction, `@` mentions) rather than a single API call or tool. The
//! compaction `error` text is content: only its presence is typed.

use serde::Serialize;

use super::{has_content, vocab::PermissionMode};
use crate::value::Attrs;

/// `permission_mode_changed`: the permission mode switched.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PermissionModeChanged {
    /// `from_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_mode: Option<PermissionMode>,
    /// `to_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_mode: Option<PermissionMode>,
    /// `trigger`: what switched it (a key, a command, the SDK, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl PermissionModeChanged {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> PermissionModeChanged {
        PermissionModeChanged {
            from_mode: PermissionMode::read(a, "from_mode"),
            to_mode: PermissionMode::read(a, "to_mode"),
            trigger: a.string("trigger"),
        }
    }
}

/// `subagent_completed`: a subagent (Task/Agent tool) finished.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SubagentCompleted {
    /// `agent.source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_source: Option<String>,
    /// `agent_type` (`general-purpose`, a custom agent name, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    /// `duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `final_model` it ended with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_model: Option<String>,
    /// `is_async`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_async: Option<bool>,
    /// `is_built_in`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_built_in: Option<bool>,
    /// `model` the subagent started with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `model_swapped`: the model changed during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_swapped: Option<bool>,
    /// `total_tokens`: tokens of the subagent's final request only, not a sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// `total_tool_uses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tool_uses: Option<u64>,
}

impl SubagentCompleted {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> SubagentCompleted {
        SubagentCompleted {
            agent_type: a.string("agent_type"),
            agent_source: a.string("agent.source"),
            is_built_in: a.bool("is_built_in"),
            is_async: a.bool("is_async"),
            total_tokens: a.u64("total_tokens"),
            total_tool_uses: a.u64("total_tool_uses"),
            duration_ms: a.f64("duration_ms"),
            model: a.string("model"),
            final_model: a.string("final_model"),
            model_swapped: a.bool("model_swapped"),
        }
    }
}

/// `compaction`: the conversation context was compacted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Compaction {
    /// `duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Whether the `error` text was sent. The text is never copied.
    pub has_error: bool,
    /// `post_tokens`: context size after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_tokens: Option<u64>,
    /// `pre_tokens`: context size before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_tokens: Option<u64>,
    /// `precompute_reuse`: a precomputed summary was reused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precompute_reuse: Option<bool>,
    /// `success`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// `trigger` (`manual`, `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl Compaction {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> Compaction {
        Compaction {
            trigger: a.string("trigger"),
            success: a.bool("success"),
            duration_ms: a.f64("duration_ms"),
            pre_tokens: a.u64("pre_tokens"),
            post_tokens: a.u64("post_tokens"),
            has_error: has_content(a, &["error"]),
            precompute_reuse: a.bool("precompute_reuse"),
        }
    }
}

/// `at_mention`: the user `@`-mentioned something (a file, an agent, …).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AtMention {
    /// `mention_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mention_type: Option<String>,
    /// `success`: the mention resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}

impl AtMention {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> AtMention {
        AtMention {
            mention_type: a.string("mention_type"),
            success: a.bool("success"),
        }
    }
}
