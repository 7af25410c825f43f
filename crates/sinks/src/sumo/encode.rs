//! AuditItem → one Sumo log line (contract §5): a JSON object whose first
//! key is the ISO 8601 `timestamp` (Sumo reads the time from the start of
//! the message), then flat names shared with the Splunk CIM list (`user`,
//! `action`, `src`/`src_ip`, `app`, `dest`, `outcome`, `record_id`, …) and
//! the full record as `detail`. One line per record, newline-terminated;
//! JSON escapes any newline inside a value, so a record never spans lines.

use serde::Serialize;
use serde_json::Value;

use crate::{item::AuditItem, sink::EncodeError};

#[derive(Serialize)]
struct Line<'a> {
    /// First, so Sumo's timestamp detection finds it.
    timestamp: String,
    event: &'a str,
    action: &'a str,
    outcome: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest: Option<&'a str>,
    app: &'a str,
    vendor_product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    /// Seconds, as in the Splunk mapping.
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
    detail: &'a Value,
}

/// Writes `item` as one JSON line (with its newline) to `out`.
pub fn line(item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let host = item.host.as_deref().filter(|h| !h.is_empty());
    let line = Line {
        timestamp: item.rfc3339(),
        event: &item.name,
        action: &item.action,
        outcome: item.outcome.as_str(),
        severity: item.severity.as_str(),
        user: item.user(),
        user_id: item.user_id.as_deref(),
        src: host,
        src_ip: host.filter(|h| h.parse::<std::net::IpAddr>().is_ok()),
        dest: crate::splunk_hec::encode::dest(item),
        app: item.app,
        vendor_product: format!("Anthropic {}", item.product),
        tool: item.tool.as_deref(),
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
    };
    serde_json::to_writer(&mut *out, &line).map_err(|e| EncodeError(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}
