//! [`AuditItem`] → one Datadog log object (a JSON object; the client joins
//! them into the request's array).
//!
//! Reserved attributes: `ddsource`, `ddtags`, `hostname`, `service`,
//! `status` (the item's severity: `info`/`warning`/`error`), `message`,
//! `timestamp` (epoch milliseconds). Standard attributes: `usr.*`,
//! `evt.name`/`evt.outcome`, `duration` in nanoseconds, `trace_id`. Then
//! `record_id` (Datadog does not deduplicate; searches can), the session
//! and prompt ids, a `cairn` object and the full record as `detail`.

use serde_json::{Map, Value, json};

use crate::{item::AuditItem, sink::EncodeError};

/// The reserved attributes every log of a sink gets.
#[derive(Clone, Debug)]
pub struct Encoder {
    /// `ddsource`.
    pub ddsource: String,
    /// `service`.
    pub service: String,
    /// `hostname` when the record carries none.
    pub hostname: Option<String>,
    /// Tags added to every log.
    pub tags: Vec<String>,
}

/// A tag made safe for `ddtags`: characters Datadog would rewrite (and the
/// comma, which would split the list) become `_`; at most 200 characters.
pub fn tag(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| {
            if c.is_alphanumeric() || "_-:./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn put(obj: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        obj.insert(key.into(), v.clone().into());
    }
}

impl Encoder {
    /// `ddtags`: the configured tags, then `source:`, `tenant:`,
    /// `cost_center:` and `org:` of the record.
    pub fn ddtags(&self, item: &AuditItem) -> String {
        let mut tags: Vec<String> = self.tags.clone();
        tags.push(format!("source:{}", tag(item.source)));
        for (name, value) in [
            ("tenant", &item.tenant),
            ("cost_center", &item.cost_center),
            ("org", &item.organization_id),
        ] {
            if let Some(v) = value {
                tags.push(tag(&format!("{name}:{v}")));
            }
        }
        tags.join(",")
    }

    /// The log object.
    pub fn log(&self, item: &AuditItem) -> Value {
        let mut log = Map::new();
        log.insert("ddsource".into(), self.ddsource.clone().into());
        log.insert("ddtags".into(), self.ddtags(item).into());
        if let Some(host) = item.host.as_ref().or(self.hostname.as_ref()) {
            log.insert("hostname".into(), host.clone().into());
        }
        log.insert("service".into(), self.service.clone().into());
        log.insert("status".into(), item.severity.as_str().into());
        log.insert("message".into(), item.message.clone().into());
        log.insert("timestamp".into(), item.unix_millis().into());

        let mut usr = Map::new();
        put(&mut usr, "id", &item.user_id);
        put(&mut usr, "email", &item.user_email);
        put(&mut usr, "name", &item.user().map(str::to_owned));
        if !usr.is_empty() {
            log.insert("usr".into(), Value::Object(usr));
        }
        log.insert(
            "evt".into(),
            json!({"name": item.name, "outcome": item.outcome.as_str()}),
        );
        if let Some(ms) = item.duration_ms.filter(|d| d.is_finite() && *d >= 0.0) {
            log.insert("duration".into(), ((ms * 1e6).round() as u64).into());
        }
        put(&mut log, "trace_id", &item.trace_id);
        log.insert("record_id".into(), item.record_id.clone().into());
        put(&mut log, "session_id", &item.session_id);
        put(&mut log, "prompt_id", &item.prompt_id);

        let mut cairn = Map::new();
        cairn.insert("kind".into(), item.kind.as_str().into());
        cairn.insert("action".into(), item.action.clone().into());
        cairn.insert("source".into(), item.source.into());
        cairn.insert("product".into(), item.product.into());
        put(&mut cairn, "version", &item.version);
        put(&mut cairn, "tenant", &item.tenant);
        put(&mut cairn, "cost_center", &item.cost_center);
        put(&mut cairn, "organization_id", &item.organization_id);
        put(&mut cairn, "account_uuid", &item.account_uuid);
        put(&mut cairn, "tool", &item.tool);
        put(&mut cairn, "model", &item.model);
        if let Some(cost) = item.cost_usd {
            cairn.insert("cost_usd".into(), cost.into());
        }
        log.insert("cairn".into(), Value::Object(cairn));
        log.insert("detail".into(), item.detail.clone());
        Value::Object(log)
    }

    /// Writes the log object (no separator; the client adds `[`, `,`, `]`).
    pub fn encode(&self, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        serde_json::to_writer(out, &self.log(item))
            .map_err(|e| EncodeError(format!("datadog log: {e}")))
    }
}
