//! The housekeeping events: `auth`, `internal_error`, `feedback_survey`,
//! `retention_sweep` and `managed_settings_resolved`.
//!
//! None of these belongs to a prompt: they report on the installation
//! (login, settings, local data retention) and on Claude Code itself. The
//! survey `response` is user input and is not copied.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{code, has_content, status_code};
use crate::value::Attrs;

/// `auth`: a login, logout or token refresh.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Auth {
    /// `action`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `auth_method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// `error_category`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_category: Option<String>,
    /// `status_code` (sent as a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// `success`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}

impl Auth {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> Auth {
        Auth {
            action: a.string("action"),
            success: a.bool("success"),
            auth_method: a.string("auth_method"),
            error_category: a.string("error_category"),
            status_code: status_code(a, "status_code"),
        }
    }
}

/// `internal_error`: Claude Code caught an error of its own.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InternalError {
    /// `error_code`, as sent (string or number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `error_name`: the error's class (`TypeError`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_name: Option<String>,
}

impl InternalError {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> InternalError {
        InternalError {
            error_name: a.string("error_name"),
            error_code: code(a, "error_code"),
        }
    }
}

/// `feedback_survey`: the in-app survey was shown or answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FeedbackSurvey {
    /// `appearance_id`: joins the events of one survey showing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appearance_id: Option<String>,
    /// `enabled_via_override` (a real bool on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_via_override: Option<bool>,
    /// `event_type` (shown, answered, dismissed, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Whether a `response` was sent. It is never copied.
    pub has_response: bool,
    /// `survey_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_type: Option<String>,
}

impl FeedbackSurvey {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> FeedbackSurvey {
        FeedbackSurvey {
            event_type: a.string("event_type"),
            appearance_id: a.string("appearance_id"),
            survey_type: a.string("survey_type"),
            has_response: has_content(a, &["response"]),
            enabled_via_override: a.bool("enabled_via_override"),
        }
    }
}

/// `retention_sweep` (≥2.1.227): old local transcripts and data were cleaned.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetentionSweep {
    /// The deletion counters: every attribute whose key mentions `delet`
    /// (`deleted_sessions`, `files_deleted`, …) and reads as a count. Their
    /// exact names are undocumented.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub deleted: BTreeMap<String, u64>,
    /// `error_count`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<u64>,
    /// `period_days`: the retention period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u64>,
    /// `result`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl RetentionSweep {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> RetentionSweep {
        let mut deleted = BTreeMap::new();
        for kv in a.0.iter().filter(|kv| kv.key.contains("delet")) {
            if let Some(n) = a.u64(&kv.key) {
                deleted.entry(kv.key.clone()).or_insert(n);
            }
        }
        RetentionSweep {
            result: a.string("result"),
            period_days: a.u64("period_days"),
            error_count: a.u64("error_count"),
            deleted,
        }
    }
}

/// `managed_settings_resolved` (seen on the wire at startup, undocumented):
/// how the managed (policy) settings were resolved.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ManagedSettingsResolved {
    /// `managed_settings.helper.applied` (`none`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper_applied: Option<String>,
    /// `managed_settings.helper.state` (`none`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper_state: Option<String>,
    /// `managed_settings.source_behavior` (`first-wins`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_behavior: Option<String>,
    /// `managed_settings.sources`: the sources that supplied settings (an
    /// empty array when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// `managed_settings.trigger` (`startup`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl ManagedSettingsResolved {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ManagedSettingsResolved {
        ManagedSettingsResolved {
            trigger: a.string("managed_settings.trigger"),
            sources: a.strings("managed_settings.sources"),
            source_behavior: a.string("managed_settings.source_behavior"),
            helper_state: a.string("managed_settings.helper.state"),
            helper_applied: a.string("managed_settings.helper.applied"),
        }
    }
}
