//! The flat Splunk CIM names two sinks write for one item: Splunk HEC (in
//! the envelope's `event` object) and Sumo Logic (the log line itself).
//! Each sink adds its own names around these: HEC `signature`, `result`,
//! `status` and `object`; Sumo `timestamp` (first), `event`, `outcome`,
//! `src_ip` and `tool`.

use serde::Serialize;
use serde_json::Value;

use crate::item::AuditItem;

/// The CIM-named fields of one item; absent values are left out.
#[derive(Serialize)]
pub(crate) struct CimFields<'a> {
    action: &'a str,
    app: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest: Option<&'a str>,
    vendor_product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    /// Seconds (CIM).
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    message: &'a str,
    record_id: &'a str,
    record_kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_center: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    /// The full record.
    detail: &'a Value,
}

impl<'a> CimFields<'a> {
    /// The fields of `item`.
    pub(crate) fn of(item: &'a AuditItem) -> CimFields<'a> {
        CimFields {
            action: &item.action,
            app: item.app,
            severity: item.severity.as_str(),
            user: item.user(),
            user_id: item.user_id.as_deref(),
            src: session_host(item),
            dest: dest(item),
            vendor_product: format!("Anthropic {}", item.product),
            model: item.model.as_deref(),
            cost_usd: item.cost_usd,
            duration: item.duration_ms.map(|ms| ms / 1000.0),
            message: &item.message,
            record_id: &item.record_id,
            record_kind: item.kind.as_str(),
            session_id: item.session_id.as_deref(),
            prompt_id: item.prompt_id.as_deref(),
            tenant: item.tenant.as_deref(),
            organization_id: item.organization_id.as_deref(),
            cost_center: item.cost_center.as_deref(),
            trace_id: item.trace_id.as_deref(),
            version: item.version.as_deref(),
            detail: &item.detail,
        }
    }
}

/// The host of the session (CIM `src`), when the record names one.
pub(crate) fn session_host(item: &AuditItem) -> Option<&str> {
    item.host.as_deref().filter(|h| !h.is_empty())
}

/// The target of an action, where the record names one: the MCP server of
/// an MCP tool call or connection.
pub(crate) fn dest(item: &AuditItem) -> Option<&str> {
    let attrs = item.detail.get("attributes")?;
    ["mcp_server_name", "mcp_server.name", "server_name"]
        .iter()
        .find_map(|k| attrs.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}
