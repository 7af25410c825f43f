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

use cairn_core::json::Object;
use serde_json::Value;

use crate::{detail::Detail, item::AuditItem, sink::EncodeError};

/// Most bytes a field value may take (64 KB minus a margin for escaping).
pub const FIELD_BUDGET: usize = 60_000;

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

/// Writes a string column, cut to [`FIELD_BUDGET`].
fn text(row: &mut Object<'_>, name: &str, value: &str) {
    row.str(name, &clip(value, FIELD_BUDGET));
}

/// Writes a string column when there is a value.
fn opt_text(row: &mut Object<'_>, name: &str, value: &Option<String>) {
    if let Some(v) = column(value) {
        row.str(name, &v);
    }
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
    encode_with(item, Detail::Tree(&item.detail), out)
}

/// Writes one row, its `Attributes` from `detail`: the columns in a fixed
/// order, absent values left out.
pub fn encode_with(
    item: &AuditItem,
    detail: Detail<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut row = Object::open(out);
    row.str("TimeGenerated", &item.rfc3339());
    text(&mut row, "Action", &item.action);
    row.str("Outcome", item.outcome.as_str());
    text(&mut row, "EventName", &item.name);
    row.str("RecordKind", item.kind.as_str());
    opt_text(&mut row, "UserEmail", &item.user_email);
    opt_text(&mut row, "UserId", &item.user_id);
    opt_text(&mut row, "OrgId", &item.organization_id);
    opt_text(&mut row, "Tenant", &item.tenant);
    opt_text(&mut row, "SessionId", &item.session_id);
    opt_text(&mut row, "PromptId", &item.prompt_id);
    row.str("App", item.app);
    opt_text(&mut row, "Host", &item.host);
    opt_text(&mut row, "Model", &item.model);
    opt_text(&mut row, "Tool", &item.tool);
    if let Some(cost) = item.cost_usd.filter(|c| c.is_finite()) {
        row.f64("CostUsd", cost);
    }
    if let Some(ms) = item.duration_ms.filter(|d| d.is_finite()) {
        row.f64("DurationMs", ms);
    }
    opt_text(&mut row, "CostCenter", &item.cost_center);
    row.str("Severity", item.severity.as_str());
    text(&mut row, "Message", &item.message);
    row.str("RecordId", &item.record_id);
    let out = row.key("Attributes");
    let start = out.len();
    detail.write(out);
    if out.len() - start > FIELD_BUDGET {
        // Rare: shorten it on the tree, as it always was.
        out.truncate(start);
        let tree = detail.to_value();
        serde_json::to_writer(&mut *out, &fit_attributes(&tree))
            .map_err(|e| EncodeError(format!("sentinel row: {e}")))?;
    }
    row.close();
    Ok(())
}
