//! [`AuditItem`] → one `_bulk` unit: a `create` action line naming the data
//! stream and `_id` = record id, then the ECS source document, each line
//! ending in `\n` (so units concatenate into a valid NDJSON body).
//!
//! `_id` makes a resent record a per-item `409` instead of a second copy.
//! No `source.ip` is written: cairn has no client address for a record, and
//! an invalid value would fail the document's `ip` mapping.
//!
//! Both lines are written member by member in key order (the order they
//! had when built as `serde_json::Map`s); `cairn.detail` is the record's
//! JSON with dots in keys made `_`, written straight from the record.

use cairn_core::json::{self, KeyStyle, Object};

use super::config::DetailMode;
use crate::{
    detail::{Detail, as_u64},
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

/// Token counts of an item (`input`, `output`, `cache_read`,
/// `cache_creation`, each when known): an event's `typed` counters or a
/// chain's totals.
pub fn tokens(item: &AuditItem, detail: Detail<'_>) -> [(&'static str, Option<u64>); 4] {
    const NAMES: [&str; 4] = ["cache_creation", "cache_read", "input", "output"];
    let counts: [Option<u64>; 4] = match (item.kind, detail) {
        (ItemKind::Chain, Detail::Tree(d)) => {
            let src = d.get("totals").and_then(|t| t.get("tokens"));
            let get = |keys: &[&str]| src.and_then(|s| keys.iter().find_map(|k| as_u64(s.get(*k))));
            [
                get(&["cacheCreation", "cache_creation"]),
                get(&["cacheRead", "cache_read"]),
                get(&["input"]),
                get(&["output"]),
            ]
        }
        (ItemKind::Chain, Detail::Record { .. }) => [None; 4],
        _ => [
            detail.typed_u64("cache_creation_tokens"),
            detail.typed_u64("cache_read_tokens"),
            detail.typed_u64("input_tokens"),
            detail.typed_u64("output_tokens"),
        ],
    };
    [
        (NAMES[0], counts[0]),
        (NAMES[1], counts[1]),
        (NAMES[2], counts[2]),
        (NAMES[3], counts[3]),
    ]
}

/// Writes `{"id": v}` (or another single key) under `key`. Inlined, so
/// the literal keys are laid out where it is called.
#[inline(always)]
fn one(o: &mut Object<'_>, key: &str, inner: &str, value: &str) {
    let mut obj = Object::open(o.key(key));
    obj.str(inner, value);
    obj.close();
}

/// Writes `[v]` under `key`.
#[inline(always)]
fn list(o: &mut Object<'_>, key: &str, value: &str) {
    let out = o.key(key);
    out.push(b'[');
    json::str(out, value);
    out.push(b']');
}

impl Encoder {
    /// Writes the `create` action line (without its newline).
    fn action(&self, item: &AuditItem, out: &mut Vec<u8>) {
        let mut line = Object::open(out);
        let mut create = Object::open(line.key("create"));
        create.str("_id", &item.record_id);
        create.str("_index", &self.data_stream);
        create.close();
        line.close();
    }

    /// Writes the ECS source document, members sorted by name at every
    /// level (the order it had when built as a `serde_json::Map`).
    fn document(&self, item: &AuditItem, detail: Detail<'_>, out: &mut Vec<u8>) {
        let (category, kind_type) = categorize(item);
        let mut doc = Object::open(out);
        doc.str("@timestamp", &item.rfc3339());

        let mut cairn = Object::open(doc.key("cairn"));
        cairn.opt_str("account_uuid", item.account_uuid.as_deref());
        cairn.str("action", &item.action);
        if let Some(cost) = item.cost_usd {
            cairn.f64("cost_usd", cost);
        }
        match self.detail {
            DetailMode::Object => detail.write_styled(KeyStyle::NoDots, cairn.key("detail")),
            DetailMode::String => {
                let mut text = Vec::new();
                detail.write(&mut text);
                json::str(cairn.key("detail_json"), &String::from_utf8_lossy(&text));
            }
        }
        if let Some(ms) = item.duration_ms {
            cairn.f64("duration_ms", ms);
        }
        cairn.str("kind", item.kind.as_str());
        cairn.opt_str("model", item.model.as_deref());
        cairn.str("product", item.product);
        cairn.str("source", item.source);
        let tokens = tokens(item, detail);
        if tokens.iter().any(|(_, n)| n.is_some()) {
            let mut t = Object::open(cairn.key("tokens"));
            for (name, n) in tokens {
                if let Some(n) = n {
                    t.u64(name, n);
                }
            }
            t.close();
        }
        cairn.opt_str("tool", item.tool.as_deref());
        cairn.opt_str("version", item.version.as_deref());
        cairn.close();

        one(&mut doc, "ecs", "version", ECS_VERSION);

        let mut event = Object::open(doc.key("event"));
        event.str("action", &item.name);
        list(&mut event, "category", category);
        event.str("dataset", &self.dataset);
        if let Some(ns) = item.duration_ms.and_then(nanos) {
            event.u64("duration", ns);
        }
        event.str("id", &item.record_id);
        let kind = if item.kind == ItemKind::Metric {
            "metric"
        } else {
            "event"
        };
        event.str("kind", kind);
        event.str("module", "cairn");
        event.str("outcome", item.outcome.as_str());
        event.str("provider", item.app);
        list(&mut event, "type", kind_type);
        event.close();

        if let Some(h) = &item.host {
            one(&mut doc, "host", "name", h);
        }
        let labels = [
            ("cost_center", &item.cost_center),
            ("prompt_id", &item.prompt_id),
            ("session_id", &item.session_id),
            ("tenant", &item.tenant),
        ];
        if labels.iter().any(|(_, v)| v.is_some()) {
            let mut l = Object::open(doc.key("labels"));
            for (k, v) in labels {
                l.opt_str(k, v.as_deref());
            }
            l.close();
        }
        one(&mut doc, "log", "level", item.severity.as_str());
        doc.str("message", &item.message);
        if let Some(id) = &item.organization_id {
            one(&mut doc, "organization", "id", id);
        }

        let mut related: Vec<&str> = Vec::new();
        for u in [&item.user_email, &item.user_id, &item.account_uuid]
            .into_iter()
            .flatten()
        {
            if !related.contains(&u.as_str()) {
                related.push(u);
            }
        }
        if !related.is_empty() {
            let mut r = Object::open(doc.key("related"));
            let users = r.key("user");
            users.push(b'[');
            for (i, u) in related.iter().enumerate() {
                if i > 0 {
                    users.push(b',');
                }
                json::str(users, u);
            }
            users.push(b']');
            r.close();
        }
        one(&mut doc, "service", "name", "cairn");
        if let Some(t) = &item.trace_id {
            one(&mut doc, "trace", "id", t);
        }
        let user = item.user();
        if item.user_email.is_some() || item.user_id.is_some() || user.is_some() {
            let mut u = Object::open(doc.key("user"));
            u.opt_str("email", item.user_email.as_deref());
            u.opt_str("id", item.user_id.as_deref());
            u.opt_str("name", user);
            u.close();
        }
        doc.close();
    }

    /// Writes the unit: action line and source line, each ending in `\n`.
    pub fn encode(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.action(item, out);
        out.push(b'\n');
        self.document(item, detail, out);
        out.push(b'\n');
        Ok(())
    }
}

fn nanos(ms: f64) -> Option<u64> {
    (ms.is_finite() && ms >= 0.0).then(|| (ms * 1e6).round() as u64)
}
