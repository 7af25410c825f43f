//! AuditItem → one HEC `/event` envelope (contract §2): epoch-seconds `time`
//! with a millisecond fraction, `host`/`source`/`sourcetype`/`index`
//! metadata, an `event` object with Splunk CIM field names plus the full
//! record as `detail`, and `fields`, the flat string map HEC indexes.
//!
//! Each envelope is written followed by a newline, so a request body is the
//! units concatenated (HEC wants envelopes back to back, no array).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::config::Config;
use crate::{item::AuditItem, sink::EncodeError};

/// The target of an action, where the record names one: the MCP server of
/// an MCP tool call or connection. (Shared with the Sumo encoder.)
pub(crate) fn dest(item: &AuditItem) -> Option<&str> {
    let attrs = item.detail.get("attributes")?;
    ["mcp_server_name", "mcp_server.name", "server_name"]
        .iter()
        .find_map(|k| attrs.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The CIM-named event object.
#[derive(Serialize)]
struct CimEvent<'a> {
    action: &'a str,
    app: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest: Option<&'a str>,
    vendor_product: String,
    signature: &'a str,
    result: &'a str,
    status: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_category: Option<&'a str>,
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
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    detail: &'a Value,
}

#[derive(Serialize)]
struct Envelope<'a> {
    /// Epoch seconds with a millisecond fraction; absent: HEC uses receipt time.
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    source: &'a str,
    sourcetype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
    event: CimEvent<'a>,
    fields: BTreeMap<&'a str, &'a str>,
}

/// Epoch seconds with exactly the millisecond fraction: the f64 nearest to
/// `ms / 1000` prints back as that decimal (13 significant digits fit).
pub(crate) fn epoch_seconds(item: &AuditItem) -> Option<f64> {
    let ms = item.unix_millis();
    (ms > 0).then(|| ms as f64 / 1000.0)
}

/// Writes `item`'s envelope and a newline to `out`.
pub fn envelope(config: &Config, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = item.kind.as_str();
    let mut fields: BTreeMap<&str, &str> = config
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The record's own keys win over configured ones of the same name.
    fields.insert("record_id", &item.record_id);
    fields.insert("record_kind", kind);
    for (k, v) in [
        ("session_id", &item.session_id),
        ("prompt_id", &item.prompt_id),
        ("tenant", &item.tenant),
        ("cost_center", &item.cost_center),
        ("organization_id", &item.organization_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            fields.insert(k, v);
        }
    }
    let outcome = item.outcome.as_str();
    let session_host = item.host.as_deref().filter(|h| !h.is_empty());
    let env = Envelope {
        time: epoch_seconds(item),
        host: config.host.as_deref().or(session_host),
        source: &config.source,
        sourcetype: config.sourcetypes.of(item.kind),
        index: config.index.as_deref(),
        event: CimEvent {
            action: &item.action,
            app: item.app,
            user: item.user(),
            user_id: item.user_id.as_deref(),
            src: session_host,
            dest: dest(item),
            vendor_product: format!("Anthropic {}", item.product),
            signature: &item.name,
            result: outcome,
            status: outcome,
            severity: item.severity.as_str(),
            object: item.tool.as_deref(),
            object_category: item.tool.as_ref().map(|_| "tool"),
            duration: item.duration_ms.map(|ms| ms / 1000.0),
            message: &item.message,
            record_id: &item.record_id,
            record_kind: kind,
            session_id: item.session_id.as_deref(),
            prompt_id: item.prompt_id.as_deref(),
            tenant: item.tenant.as_deref(),
            organization_id: item.organization_id.as_deref(),
            cost_center: item.cost_center.as_deref(),
            model: item.model.as_deref(),
            cost_usd: item.cost_usd,
            trace_id: item.trace_id.as_deref(),
            version: item.version.as_deref(),
            detail: &item.detail,
        },
        fields,
    };
    serde_json::to_writer(&mut *out, &env).map_err(|e| EncodeError(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}
