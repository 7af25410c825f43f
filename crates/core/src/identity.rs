//! Who and where: the standard attributes Claude Code puts on every record.
//!
//! They are set on each record (not on the resource), but Cowork and other
//! senders may put some on the resource, so each lookup falls back to the
//! resource attributes. Values are copies for convenience; the original
//! attributes stay on the record untouched.

use serde::Serialize;

use crate::value::Attrs;

/// The standard identity attributes of one record. Every field is optional:
/// API-key sessions carry only `user.id` and `session.id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Identity {
    /// `user.id`: anonymous install id, or the IdP subject on gateway sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `session.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// `organization.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// `user.account_uuid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_uuid: Option<String>,
    /// `user.account_id` (the tagged `user_01…` form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `user.email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `enduser.id` (Cowork and 3P Desktop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enduser_id: Option<String>,
    /// `terminal.type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_type: Option<String>,
    /// `app.version`, else the resource's `service.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// `app.entrypoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_entrypoint: Option<String>,
    /// `host.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// `host.arch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_arch: Option<String>,
    /// `os.type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    /// `os.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

impl Identity {
    /// Reads identity from a record's attributes, falling back to the resource's.
    pub fn read(record: Attrs<'_>, resource: Attrs<'_>) -> Identity {
        let get = |key: &str| record.string(key).or_else(|| resource.string(key));
        Identity {
            user_id: get("user.id"),
            session_id: get("session.id"),
            organization_id: get("organization.id"),
            account_uuid: get("user.account_uuid"),
            account_id: get("user.account_id"),
            email: get("user.email"),
            enduser_id: get("enduser.id"),
            terminal_type: get("terminal.type"),
            app_version: get("app.version").or_else(|| resource.string("service.version")),
            app_entrypoint: get("app.entrypoint"),
            host_name: get("host.name"),
            host_arch: get("host.arch"),
            os_type: get("os.type"),
            os_version: get("os.version"),
        }
    }
}
