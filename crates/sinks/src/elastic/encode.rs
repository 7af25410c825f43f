//! [`AuditItem`] → one `_bulk` unit: a `create` action line naming the data
//! stream and `_id` = record id, then the ECS source document, each line
//! ending in `\n` (so units concatenate into a valid NDJSON body).
//!
//! `_id` makes a resent record a per-item `409` instead of a second copy.
//! No `source.ip` is written: cairn has no client address for a record, and
//! an invalid value would fail the document's `ip` mapping.

use serde_json::{Map, Value, json};

use super::config::DetailMode;
use crate::{
    item::{AuditItem, ItemKind, Outcome},
    sink::EncodeError,
};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// Builds the units of one sink.
#[derive(Clone, Debug)]
pub struct Encoder {
    /// Where `create` actions point.
    pub data_stream: String,
    /// `event.dataset`.
    pub dataset: String,
    /// How `cairn.detail` is written.
    pub detail: DetailMode,
}

/// The dataset of a `logs-<dataset>-<namespace>` data stream, so
/// `event.dataset` agrees with the stream; `cairn.audit` otherwise.
pub fn dataset_of(data_stream: &str) -> String {
    data_stream
        .strip_prefix("logs-")
        .and_then(|rest| rest.rsplit_once('-'))
        .map(|(dataset, _)| dataset)
        .filter(|d| !d.is_empty())
        .unwrap_or("cairn.audit")
        .to_owned()
}

/// `event.category` and `event.type` (ECS vocabularies) for an item.
pub fn categorize(item: &AuditItem) -> (&'static str, &'static str) {
    let decided = match item.outcome {
        Outcome::Success => "allowed",
        Outcome::Failure => "denied",
        Outcome::Unknown => "info",
    };
    match item.kind {
        ItemKind::Chain => return ("session", "end"),
        ItemKind::Metric => return ("host", "info"),
        ItemKind::Span => return ("process", "info"),
        ItemKind::Event => {}
    }
    match item.name.as_str() {
        "tool_decision" => ("process", decided),
        "tool_result" | "hook_execution_complete" | "subagent_completed" => ("process", "end"),
        "hook_execution_start" => ("process", "start"),
        "api_request" => ("web", "access"),
        "api_error" | "api_retries_exhausted" => ("web", "error"),
        "api_refusal" => ("web", "denied"),
        "api_request_body" | "api_response_body" => ("web", "info"),
        "user_prompt" | "assistant_response" | "compaction" => ("session", "info"),
        "permission_mode_changed" => ("configuration", "change"),
        "managed_settings_resolved" => ("configuration", "info"),
        "hook_registered" => ("configuration", "creation"),
        "plugin_installed" => ("package", "installation"),
        "plugin_loaded" | "skill_activated" => ("package", "start"),
        "mcp_server_connection" => ("network", "connection"),
        "auth" => ("authentication", "info"),
        "at_mention" => ("file", "access"),
        _ => ("process", "info"),
    }
}

fn as_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        // proto3 JSON writes 64-bit integers as strings.
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Token counts of an item: an event's `typed` counters or a chain's
/// totals. `None` when the record has none.
pub fn tokens(item: &AuditItem) -> Option<Value> {
    let d = &item.detail;
    let (src, keys): (Option<&Value>, [(&str, &[&str]); 4]) = match item.kind {
        ItemKind::Chain => (
            d.get("totals").and_then(|t| t.get("tokens")),
            [
                ("input", &["input"]),
                ("output", &["output"]),
                ("cache_read", &["cacheRead", "cache_read"]),
                ("cache_creation", &["cacheCreation", "cache_creation"]),
            ],
        ),
        _ => (
            d.get("typed"),
            [
                ("input", &["input_tokens"]),
                ("output", &["output_tokens"]),
                ("cache_read", &["cache_read_tokens"]),
                ("cache_creation", &["cache_creation_tokens"]),
            ],
        ),
    };
    let src = src?;
    let mut out = Map::new();
    for (name, candidates) in keys {
        if let Some(n) = candidates.iter().find_map(|k| as_u64(src.get(*k))) {
            out.insert(name.into(), n.into());
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Rewrites object keys so Elasticsearch does not expand them into objects:
/// `.` becomes `_`, an empty key becomes `_empty`.
pub fn escape_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = if k.is_empty() {
                        "_empty".to_owned()
                    } else {
                        k.replace('.', "_")
                    };
                    (key, escape_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(escape_keys).collect()),
        other => other.clone(),
    }
}

/// Inserts `value` under `key` when there is one.
fn put(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.into(), v);
    }
}

fn text(s: &Option<String>) -> Option<Value> {
    s.as_deref().map(|s| Value::String(s.to_owned()))
}

fn nanos(ms: f64) -> Option<Value> {
    (ms.is_finite() && ms >= 0.0).then(|| Value::from((ms * 1e6).round() as u64))
}

impl Encoder {
    /// The `create` action line (without its newline).
    pub fn action(&self, item: &AuditItem) -> Value {
        json!({"create": {"_index": self.data_stream, "_id": item.record_id}})
    }

    /// The ECS source document.
    pub fn document(&self, item: &AuditItem) -> Value {
        let (category, kind_type) = categorize(item);
        let mut event = Map::new();
        event.insert(
            "kind".into(),
            if item.kind == ItemKind::Metric {
                "metric"
            } else {
                "event"
            }
            .into(),
        );
        event.insert("category".into(), json!([category]));
        event.insert("type".into(), json!([kind_type]));
        event.insert("action".into(), item.name.clone().into());
        event.insert("outcome".into(), item.outcome.as_str().into());
        event.insert("dataset".into(), self.dataset.clone().into());
        event.insert("module".into(), "cairn".into());
        event.insert("provider".into(), item.app.into());
        event.insert("id".into(), item.record_id.clone().into());
        put(&mut event, "duration", item.duration_ms.and_then(nanos));

        let mut user = Map::new();
        put(&mut user, "email", text(&item.user_email));
        put(&mut user, "id", text(&item.user_id));
        put(
            &mut user,
            "name",
            item.user().map(|u| Value::String(u.to_owned())),
        );

        let mut labels = Map::new();
        put(&mut labels, "cost_center", text(&item.cost_center));
        put(&mut labels, "tenant", text(&item.tenant));
        put(&mut labels, "session_id", text(&item.session_id));
        put(&mut labels, "prompt_id", text(&item.prompt_id));

        let mut related: Vec<&str> = Vec::new();
        for u in [&item.user_email, &item.user_id, &item.account_uuid]
            .into_iter()
            .flatten()
        {
            if !related.contains(&u.as_str()) {
                related.push(u);
            }
        }

        let mut cairn = Map::new();
        cairn.insert("kind".into(), item.kind.as_str().into());
        cairn.insert("action".into(), item.action.clone().into());
        cairn.insert("source".into(), item.source.into());
        cairn.insert("product".into(), item.product.into());
        put(&mut cairn, "version", text(&item.version));
        put(&mut cairn, "account_uuid", text(&item.account_uuid));
        put(&mut cairn, "tool", text(&item.tool));
        put(&mut cairn, "model", text(&item.model));
        put(&mut cairn, "cost_usd", item.cost_usd.map(Value::from));
        put(&mut cairn, "duration_ms", item.duration_ms.map(Value::from));
        put(&mut cairn, "tokens", tokens(item));
        match self.detail {
            DetailMode::Object => {
                cairn.insert("detail".into(), escape_keys(&item.detail));
            }
            DetailMode::String => {
                cairn.insert("detail_json".into(), item.detail.to_string().into());
            }
        }

        let mut doc = Map::new();
        doc.insert("@timestamp".into(), item.rfc3339().into());
        doc.insert("ecs".into(), json!({"version": ECS_VERSION}));
        doc.insert("event".into(), Value::Object(event));
        doc.insert("log".into(), json!({"level": item.severity.as_str()}));
        doc.insert("message".into(), item.message.clone().into());
        doc.insert("service".into(), json!({"name": "cairn"}));
        if !user.is_empty() {
            doc.insert("user".into(), Value::Object(user));
        }
        if !related.is_empty() {
            doc.insert("related".into(), json!({"user": related}));
        }
        put(
            &mut doc,
            "organization",
            text(&item.organization_id).map(|id| json!({"id": id})),
        );
        put(
            &mut doc,
            "host",
            text(&item.host).map(|h| json!({"name": h})),
        );
        put(
            &mut doc,
            "trace",
            text(&item.trace_id).map(|t| json!({"id": t})),
        );
        if !labels.is_empty() {
            doc.insert("labels".into(), Value::Object(labels));
        }
        doc.insert("cairn".into(), Value::Object(cairn));
        Value::Object(doc)
    }

    /// Writes the unit: action line and source line, each ending in `\n`.
    pub fn encode(&self, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let fail = |e: serde_json::Error| EncodeError(format!("elastic document: {e}"));
        serde_json::to_writer(&mut *out, &self.action(item)).map_err(fail)?;
        out.push(b'\n');
        serde_json::to_writer(&mut *out, &self.document(item)).map_err(fail)?;
        out.push(b'\n');
        Ok(())
    }
}
