//! The extension events: `plugin_installed`, `plugin_loaded`,
//! `skill_activated` and `mcp_server_connection`.
//!
//! These say which code Claude Code loaded besides its own: plugins, skills
//! and MCP servers. Names are typed (they may arrive redacted to `custom`
//! unless tool details are on); connection error text is content and is not.

use serde::Serialize;

use super::{code, has_content, vocab::McpConnectionStatus};
use crate::value::Attrs;

/// `plugin_installed`: a plugin was installed from a marketplace.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PluginInstalled {
    /// `install.trigger`: what started the install.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_trigger: Option<String>,
    /// `marketplace.is_official`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_is_official: Option<bool>,
    /// `marketplace.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_name: Option<String>,
    /// `plugin.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_name: Option<String>,
    /// `plugin.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
}

impl PluginInstalled {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> PluginInstalled {
        PluginInstalled {
            plugin_name: a.string("plugin.name"),
            plugin_version: a.string("plugin.version"),
            marketplace_name: a.string("marketplace.name"),
            marketplace_is_official: a.bool("marketplace.is_official"),
            install_trigger: a.string("install.trigger"),
        }
    }
}

/// `plugin_loaded`: a plugin was loaded at startup (built-in plugins too).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PluginLoaded {
    /// `agent_path_count`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_path_count: Option<u64>,
    /// `command_path_count`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_path_count: Option<u64>,
    /// `enabled_via` (`default-enable`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_via: Option<String>,
    /// `has_hooks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_hooks: Option<bool>,
    /// `has_mcp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_mcp: Option<bool>,
    /// `host_owned_mcp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_owned_mcp: Option<bool>,
    /// `marketplace.name` (`builtin` for bundled plugins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_name: Option<String>,
    /// `plugin_id_hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_id_hash: Option<String>,
    /// `plugin.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_name: Option<String>,
    /// `plugin.scope` (`default-bundle`, `user`, `project`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_scope: Option<String>,
    /// `plugin.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
    /// `safe_mode` (sent as the string `"false"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_mode: Option<bool>,
    /// `skill_path_count`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_path_count: Option<u64>,
}

impl PluginLoaded {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> PluginLoaded {
        PluginLoaded {
            plugin_name: a.string("plugin.name"),
            plugin_version: a.string("plugin.version"),
            plugin_scope: a.string("plugin.scope"),
            marketplace_name: a.string("marketplace.name"),
            enabled_via: a.string("enabled_via"),
            plugin_id_hash: a.string("plugin_id_hash"),
            has_hooks: a.bool("has_hooks"),
            has_mcp: a.bool("has_mcp"),
            host_owned_mcp: a.bool("host_owned_mcp"),
            skill_path_count: a.u64("skill_path_count"),
            command_path_count: a.u64("command_path_count"),
            agent_path_count: a.u64("agent_path_count"),
            safe_mode: a.bool("safe_mode"),
        }
    }
}

/// `skill_activated`: a skill was invoked.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SkillActivated {
    /// `invocation_trigger`: who invoked it (user or model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_trigger: Option<String>,
    /// `skill.kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_kind: Option<String>,
    /// `skill.name` (`custom_skill` unless tool details are on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_name: Option<String>,
    /// `skill.source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_source: Option<String>,
}

impl SkillActivated {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> SkillActivated {
        SkillActivated {
            skill_name: a.string("skill.name"),
            invocation_trigger: a.string("invocation_trigger"),
            skill_source: a.string("skill.source"),
            skill_kind: a.string("skill.kind"),
        }
    }
}

/// `mcp_server_connection`: an MCP server connected, failed or disconnected.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct McpServerConnection {
    /// `duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `error_code`, as sent (string or number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Whether the gated `error` text was sent. The text is never copied.
    pub has_error: bool,
    /// `is_plugin`: the server comes from a plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_plugin: Option<bool>,
    /// `plugin_id_hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_id_hash: Option<String>,
    /// `plugin.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_name: Option<String>,
    /// `server_name` (gated behind tool details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// `server_scope` (`user`, `project`, `local`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_scope: Option<String>,
    /// `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<McpConnectionStatus>,
    /// `transport_type` (`stdio`, `http`, `sse`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_type: Option<String>,
}

impl McpServerConnection {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> McpServerConnection {
        McpServerConnection {
            status: McpConnectionStatus::read(a, "status"),
            transport_type: a.string("transport_type"),
            server_scope: a.string("server_scope"),
            server_name: a.string("server_name"),
            duration_ms: a.f64("duration_ms"),
            error_code: code(a, "error_code"),
            has_error: has_content(a, &["error"]),
            is_plugin: a.bool("is_plugin"),
            plugin_id_hash: a.string("plugin_id_hash"),
            plugin_name: a.string("plugin.name"),
        }
    }
}
