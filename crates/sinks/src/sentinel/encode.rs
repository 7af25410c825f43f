//! [`AuditItem`] → one row of the DCR input stream: a JSON object with the
//! PascalCase columns Sentinel analytics rules expect (contract §6, "Table /
//! column conventions"). Rows are joined into the request's JSON array by
//! the client.
//!
//! Columns: `TimeGenerated` (RFC 3339, ms, `Z`), `Action`, `Outcome`,
//! `EventName`, `RecordKind`, `UserEmail`, `UserId`, `OrgId`, `Tenant`,
//! `SessionId`, `PromptId`, `App`, `Host`, `Model`, `Tool`, `CostUsd`,
//! `DurationMs`, `CostCenter`, `Severity`, `Message`, `RecordId` (the dedupe
//! key: `summarize arg_max(TimeGenerated, *) by RecordId`) and `Attributes`
//! (dynamic: the record's full canonical JSON). Absent values are left out
//! (the column is then empty). `Tenant` is cairn's tenant label; the name
//! `TenantId` is reserved by Azure.
//!
//! The service truncates any field value over 64 KB, which would cut a
//! dynamic column's JSON in the middle. So every value is kept under
//! [`FIELD_BUDGET`] bytes here: long string columns are cut at a character
//! boundary with `…`, and an oversized `Attributes` has its long strings
//! shortened (4096, then 1024, 256, 64 characters) until it fits, with
//! `"cairn_truncated": {"original_bytes": N}` added; if even that is too big
//! (a huge number of small values), `Attributes` holds only that marker and
//! the record's other columns still arrive.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::{item::AuditItem, sink::EncodeError};

/// Most bytes a field value may take (64 KB minus a margin for escaping).
pub const FIELD_BUDGET: usize = 60_000;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row<'a> {
    time_generated: String,
    action: Cow<'a, str>,
    outcome: &'static str,
    event_name: Cow<'a, str>,
    record_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_email: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_id: Option<Cow<'a, str>>,
    app: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_center: Option<Cow<'a, str>>,
    severity: &'static str,
    message: Cow<'a, str>,
    record_id: &'a str,
    attributes: Cow<'a, Value>,
}

/// `s` cut to at most `max` bytes at a character boundary, ending in `…`
/// when cut.
fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let keep = max.saturating_sub('…'.len_utf8());
    let mut end = keep.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

fn column(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(|s| clip(s, FIELD_BUDGET))
}

/// Counts what serde writes, without keeping it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn json_len(v: &Value) -> usize {
    let mut c = Counter(0);
    match serde_json::to_writer(&mut c, v) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}

fn clip_strings(v: &mut Value, max: usize) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(cut) = clip(s, max) {
                *s = cut;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| clip_strings(i, max)),
        Value::Object(map) => map.values_mut().for_each(|i| clip_strings(i, max)),
        _ => {}
    }
}

/// The record's detail, made to fit one dynamic column.
pub fn fit_attributes(detail: &Value) -> Cow<'_, Value> {
    let size = json_len(detail);
    if size <= FIELD_BUDGET {
        return Cow::Borrowed(detail);
    }
    let marker = serde_json::json!({ "original_bytes": size });
    // The marker key and value, with separators.
    let room = FIELD_BUDGET.saturating_sub(64);
    let mut v = detail.clone();
    for max in [4096, 1024, 256, 64] {
        clip_strings(&mut v, max);
        if json_len(&v) <= room {
            return Cow::Owned(match v {
                Value::Object(mut map) => {
                    map.insert("cairn_truncated".into(), marker);
                    Value::Object(map)
                }
                other => serde_json::json!({ "value": other, "cairn_truncated": marker }),
            });
        }
    }
    Cow::Owned(serde_json::json!({ "cairn_truncated": marker }))
}

/// Writes one row.
pub fn encode(item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let row = Row {
        time_generated: item.rfc3339(),
        action: clip(&item.action, FIELD_BUDGET),
        outcome: item.outcome.as_str(),
        event_name: clip(&item.name, FIELD_BUDGET),
        record_kind: item.kind.as_str(),
        user_email: column(&item.user_email),
        user_id: column(&item.user_id),
        org_id: column(&item.organization_id),
        tenant: column(&item.tenant),
        session_id: column(&item.session_id),
        prompt_id: column(&item.prompt_id),
        app: item.app,
        host: column(&item.host),
        model: column(&item.model),
        tool: column(&item.tool),
        cost_usd: item.cost_usd.filter(|c| c.is_finite()),
        duration_ms: item.duration_ms.filter(|d| d.is_finite()),
        cost_center: column(&item.cost_center),
        severity: item.severity.as_str(),
        message: clip(&item.message, FIELD_BUDGET),
        record_id: &item.record_id,
        attributes: fit_attributes(&item.detail),
    };
    serde_json::to_writer(out, &row).map_err(|e| EncodeError(format!("sentinel row: {e}")))
}
