//! [`AuditItem`] → one Datadog log object (a JSON object; the client joins
//! them into the request's array).
//!
//! Reserved attributes: `ddsource`, `ddtags`, `hostname`, `service`,
//! `status` (the item's severity: `info`/`warning`/`error`), `message`,
//! `timestamp` (epoch milliseconds). Standard attributes: `usr.*`,
//! `evt.name`/`evt.outcome`, `duration` in nanoseconds, `trace_id`. Then
//! `record_id` (Datadog does not deduplicate; searches can), the session
//! and prompt ids, a `cairn` object and the full record as `detail`.
//!
//! The object is written member by member in key order (the order it had
//! when it was built as a `serde_json::Map`), the detail straight from the
//! record.

use cairn_core::json::{self, Object};

use crate::{detail::Detail, item::AuditItem, sink::EncodeError};

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
    let mut out = String::with_capacity(text.len().min(200));
    push_tag(&mut out, &[text]);
    out
}

/// Appends the [`tag`] of `parts` joined, without building the joined text
/// (the 200 characters count across the parts).
fn push_tag(out: &mut String, parts: &[&str]) {
    let mut left = 200usize;
    for part in parts {
        for c in part.chars() {
            if left == 0 {
                return;
            }
            left -= 1;
            out.push(if c.is_alphanumeric() || "_-:./".contains(c) {
                c
            } else {
                '_'
            });
        }
    }
}

impl Encoder {
    /// `ddtags`: the configured tags, then `source:`, `tenant:`,
    /// `cost_center:` and `org:` of the record.
    pub fn ddtags(&self, item: &AuditItem) -> String {
        let mut tags = String::new();
        self.write_ddtags(item, &mut tags);
        tags
    }

    /// Appends [`Encoder::ddtags`] to `out`, each tag written in place.
    fn write_ddtags(&self, item: &AuditItem, out: &mut String) {
        for t in &self.tags {
            out.push_str(t);
            out.push(',');
        }
        out.push_str("source:");
        push_tag(out, &[item.source]);
        for (name, value) in [
            ("tenant:", &item.tenant),
            ("cost_center:", &item.cost_center),
            ("org:", &item.organization_id),
        ] {
            if let Some(v) = value {
                out.push(',');
                push_tag(out, &[name, v]);
            }
        }
    }

    /// Writes the log object (no separator; the client adds `[`, `,`,
    /// `]`), its members sorted by name at every level.
    pub fn encode(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let mut log = Object::open(out);
        let mut cairn = Object::open(log.key("cairn"));
        cairn.opt_str("account_uuid", item.account_uuid.as_deref());
        cairn.str("action", &item.action);
        cairn.opt_str("cost_center", item.cost_center.as_deref());
        if let Some(cost) = item.cost_usd {
            cairn.f64("cost_usd", cost);
        }
        cairn.str("kind", item.kind.as_str());
        cairn.opt_str("model", item.model.as_deref());
        cairn.opt_str("organization_id", item.organization_id.as_deref());
        cairn.str("product", item.product);
        cairn.str("source", item.source);
        cairn.opt_str("tenant", item.tenant.as_deref());
        cairn.opt_str("tool", item.tool.as_deref());
        cairn.opt_str("version", item.version.as_deref());
        cairn.close();
        log.str("ddsource", &self.ddsource);
        let mut tags = String::with_capacity(128);
        self.write_ddtags(item, &mut tags);
        log.str("ddtags", &tags);
        detail.write(log.key("detail"));
        if let Some(ms) = item.duration_ms.filter(|d| d.is_finite() && *d >= 0.0) {
            log.u64("duration", (ms * 1e6).round() as u64);
        }
        let mut evt = Object::open(log.key("evt"));
        evt.str("name", &item.name);
        evt.str("outcome", item.outcome.as_str());
        evt.close();
        log.opt_str(
            "hostname",
            item.host
                .as_ref()
                .or(self.hostname.as_ref())
                .map(String::as_str),
        );
        log.str("message", &item.message);
        log.opt_str("prompt_id", item.prompt_id.as_deref());
        log.str("record_id", &item.record_id);
        log.str("service", &self.service);
        log.opt_str("session_id", item.session_id.as_deref());
        log.str("status", item.severity.as_str());
        json::u64(log.key("timestamp"), item.unix_millis());
        log.opt_str("trace_id", item.trace_id.as_deref());
        let user = item.user();
        if item.user_id.is_some() || item.user_email.is_some() || user.is_some() {
            let mut usr = Object::open(log.key("usr"));
            usr.opt_str("email", item.user_email.as_deref());
            usr.opt_str("id", item.user_id.as_deref());
            usr.opt_str("name", user);
            usr.close();
        }
        log.close();
        Ok(())
    }
}
