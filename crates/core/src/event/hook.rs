//! The hook events: `hook_execution_start`, `hook_execution_complete`,
//! `hook_registered` and `hook_plugin_metrics`.
//!
//! Hook definitions (commands, scripts) are content and stay only in the raw
//! attributes; the typed view keeps the hook's event, name, source and the
//! outcome counters.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use serde::Serialize;

use super::has_content;
use crate::value::{Attrs, as_bool, as_f64};

/// `hook_plugin_metrics` carries at most this many metric keys.
const MAX_PLUGIN_METRICS: usize = 20;

/// The fields shared by `hook_execution_start` and `hook_execution_complete`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HookExecution {
    /// Whether `hook_definitions` was sent. It is never copied.
    pub has_hook_definitions: bool,
    /// `hook_event`: the lifecycle point (`PreToolUse`, `Stop`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_event: Option<String>,
    /// `hook_name`, e.g. `PreToolUse:Write`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_name: Option<String>,
    /// `hook_source`: where the hooks were configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_source: Option<String>,
    /// `managed_only`: only managed (policy) hooks were allowed to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_only: Option<bool>,
    /// `num_hooks`: how many hooks matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_hooks: Option<u64>,
    /// `safe_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_mode: Option<bool>,
}

impl HookExecution {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> HookExecution {
        HookExecution {
            hook_event: a.string("hook_event"),
            hook_name: a.string("hook_name"),
            num_hooks: a.u64("num_hooks"),
            managed_only: a.bool("managed_only"),
            hook_source: a.string("hook_source"),
            safe_mode: a.bool("safe_mode"),
            has_hook_definitions: has_content(a, &["hook_definitions"]),
        }
    }
}

/// `hook_execution_complete`: the hooks of one lifecycle point finished.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HookExecutionComplete {
    /// The fields shared with `hook_execution_start`.
    #[serde(flatten)]
    pub execution: HookExecution,
    /// `num_success`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_success: Option<u64>,
    /// `num_blocking`: hooks that blocked the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_blocking: Option<u64>,
    /// `num_non_blocking_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_non_blocking_error: Option<u64>,
    /// `num_cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_cancelled: Option<u64>,
    /// `total_duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_duration_ms: Option<f64>,
}

impl HookExecutionComplete {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> HookExecutionComplete {
        HookExecutionComplete {
            execution: HookExecution::read(a),
            num_success: a.u64("num_success"),
            num_blocking: a.u64("num_blocking"),
            num_non_blocking_error: a.u64("num_non_blocking_error"),
            num_cancelled: a.u64("num_cancelled"),
            total_duration_ms: a.f64("total_duration_ms"),
        }
    }
}

/// `hook_registered`: a hook was loaded from configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HookRegistered {
    /// `hook_event`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_event: Option<String>,
    /// `hook_matcher`: the tool matcher pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_matcher: Option<String>,
    /// `hook_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_source: Option<String>,
    /// `hook_type` (`command`, `prompt`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_type: Option<String>,
}

impl HookRegistered {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> HookRegistered {
        HookRegistered {
            hook_event: a.string("hook_event"),
            hook_type: a.string("hook_type"),
            hook_source: a.string("hook_source"),
            hook_matcher: a.string("hook_matcher"),
        }
    }
}

/// One value of `hook_plugin_metrics`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PluginMetricValue {
    /// A number (int or double on the wire).
    Number(f64),
    /// A flag.
    Flag(bool),
}

/// `hook_plugin_metrics`: counters a plugin's hooks reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HookPluginMetrics {
    /// The plugin's numeric and boolean keys, by name (at most 20). Only
    /// values sent as int, double or bool are taken, never strings, and the
    /// standard `event.*`/`anthropic.*` keys are left out.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, PluginMetricValue>,
    /// `plugin_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_id: Option<String>,
}

impl HookPluginMetrics {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> HookPluginMetrics {
        let mut metrics = BTreeMap::new();
        for kv in a.0 {
            if metrics.len() >= MAX_PLUGIN_METRICS {
                break;
            }
            if kv.key.starts_with("event.") || kv.key.starts_with("anthropic.") {
                continue;
            }
            let Some(v) = kv.value.as_ref() else { continue };
            let value = match v.value.as_ref() {
                Some(Value::IntValue(_) | Value::DoubleValue(_)) => {
                    as_f64(v).map(PluginMetricValue::Number)
                }
                Some(Value::BoolValue(_)) => as_bool(v).map(PluginMetricValue::Flag),
                _ => None,
            };
            if let Some(value) = value {
                // The first occurrence of a key wins, as in `Attrs::get`.
                metrics.entry(kv.key.clone()).or_insert(value);
            }
        }
        HookPluginMetrics {
            plugin_id: a.string("plugin_id"),
            metrics,
        }
    }
}
