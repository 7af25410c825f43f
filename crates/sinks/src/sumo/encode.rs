//! AuditItem → one Sumo log line (contract §5): a JSON object whose first
//! key is the ISO 8601 `timestamp` (Sumo reads the time from the start of
//! the message), then flat names shared with the Splunk CIM list (`user`,
//! `action`, `src`/`src_ip`, `app`, `dest`, `outcome`, `record_id`, …) and
//! the full record as `detail`. One line per record, newline-terminated;
//! JSON escapes any newline inside a value, so a record never spans lines.

use serde::Serialize;

use crate::{
    cim::{CimFields, session_host},
    item::AuditItem,
    sink::EncodeError,
};

#[derive(Serialize)]
struct Line<'a> {
    /// First, so Sumo's timestamp detection finds it.
    timestamp: String,
    event: &'a str,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<&'a str>,
    /// The names shared with the Splunk mapping (`duration` in seconds).
    #[serde(flatten)]
    cim: CimFields<'a>,
}

/// Writes `item` as one JSON line (with its newline) to `out`.
pub fn line(item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let line = Line {
        timestamp: item.rfc3339(),
        event: &item.name,
        outcome: item.outcome.as_str(),
        src_ip: session_host(item).filter(|h| h.parse::<std::net::IpAddr>().is_ok()),
        tool: item.tool.as_deref(),
        cim: CimFields::of(item),
    };
    serde_json::to_writer(&mut *out, &line).map_err(|e| EncodeError(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}
