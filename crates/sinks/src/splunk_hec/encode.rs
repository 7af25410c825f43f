//! AuditItem → one HEC `/event` envelope (contract §2): epoch-seconds `time`
//! with a millisecond fraction, `host`/`source`/`sourcetype`/`index`
//! metadata, an `event` object with Splunk CIM field names plus the full
//! record as `detail`, and `fields`, the flat string map HEC indexes.
//!
//! Each envelope is written followed by a newline, so a request body is the
//! units concatenated (HEC wants envelopes back to back, no array).

use std::collections::BTreeMap;

use serde::Serialize;

use super::config::Config;
use crate::{
    cim::{CimFields, session_host},
    item::AuditItem,
    sink::EncodeError,
};

/// The CIM-named event object: the fields shared with Sumo, and HEC's own.
#[derive(Serialize)]
struct CimEvent<'a> {
    #[serde(flatten)]
    cim: CimFields<'a>,
    signature: &'a str,
    result: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_category: Option<&'a str>,
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
fn epoch_seconds(item: &AuditItem) -> Option<f64> {
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
    let env = Envelope {
        time: epoch_seconds(item),
        host: config.host.as_deref().or(session_host(item)),
        source: &config.source,
        sourcetype: config.sourcetypes.of(item.kind),
        index: config.index.as_deref(),
        event: CimEvent {
            cim: CimFields::of(item),
            signature: &item.name,
            result: outcome,
            status: outcome,
            object: item.tool.as_deref(),
            object_category: item.tool.as_ref().map(|_| "tool"),
        },
        fields,
    };
    serde_json::to_writer(&mut *out, &env).map_err(|e| EncodeError(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}
