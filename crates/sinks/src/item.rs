//! The sink-neutral view of one record: what every SIEM encoder maps from.
//!
//! An [`AuditItem`] is built from a typed record (event, metric, span) or a
//! prompt chain. It holds the few fields every SIEM schema has a name for
//! (who, what, outcome, when, where, cost) already chosen, so the Splunk CIM,
//! ECS, Datadog, Sumo, Sentinel and CEF encoders only rename them, plus the
//! record's full canonical JSON (`detail`) for everything else. Values are
//! already redacted: the item is built after the receive path scrubbed them.
//!
//! `record_id` is stable for the same record content (a seeded xxh3-128 of
//! the tenant and every field of the record: an event's log record as
//! [`crate::content`] writes it, a metric's or span's protobuf bytes; or the
//! chain id and amendment number), so a resend by Claude Code's exporter or
//! by a sink retry carries the same id and downstream searches can
//! deduplicate on it.

use std::borrow::Cow;

use cairn_core::{
    chain::{PromptChain, lower_hex, rfc3339_millis, v1},
    event::{ClaudeEvent, Decision},
    record::{Origin, Record, RecordBody},
    source::SourceProduct,
    value::{Attrs, json_text},
};
use prost::Message;
use serde_json::Value;

/// What kind of record an item is; routing selects on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A Claude Code / Cowork event (OTLP log record).
    Event,
    /// A prompt-chain audit record (or an amendment to one).
    Chain,
    /// A metric with its points.
    Metric,
    /// A span.
    Span,
}

impl ItemKind {
    /// `event`, `chain`, `metric` or `span`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Event => "event",
            ItemKind::Chain => "chain",
            ItemKind::Metric => "metric",
            ItemKind::Span => "span",
        }
    }
}

/// Whether what the record describes worked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Success,
    /// It failed or was refused.
    Failure,
    /// The record does not say.
    Unknown,
}

impl Outcome {
    /// `success`, `failure` or `unknown` (the ECS / CIM vocabulary).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// How loud a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Normal activity.
    Info,
    /// A refusal or denial: worth a look.
    Warning,
    /// An error.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error` (Datadog's `status` vocabulary).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The RFC 5424 severity number (6 info, 4 warning, 3 err).
    pub fn syslog(self) -> u8 {
        match self {
            Severity::Info => 6,
            Severity::Warning => 4,
            Severity::Error => 3,
        }
    }
}

/// One record, ready for a SIEM encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditItem {
    /// Event, chain, metric or span.
    pub kind: ItemKind,
    /// Stable id for deduplication downstream (32 hex digits).
    pub record_id: String,
    /// When it happened, Unix nanoseconds (receipt time when the record has none).
    pub time_unix_nano: u64,
    /// Bare event name (`tool_decision`), metric or span name, or `prompt_chain`.
    pub name: String,
    /// The sending product as cairn names it (`claude-code`, `cowork`, …).
    pub source: &'static str,
    /// The product as an application name (`claude_code`, `cowork`, …).
    pub app: &'static str,
    /// The product as a human name (`Claude Code`).
    pub product: &'static str,
    /// The product's version.
    pub version: Option<String>,
    /// The tenant label of the token the record arrived with.
    pub tenant: Option<String>,
    /// `user.id`.
    pub user_id: Option<String>,
    /// `user.email` (or its pseudonym when configured).
    pub user_email: Option<String>,
    /// `user.account_uuid`.
    pub account_uuid: Option<String>,
    /// `organization.id`.
    pub organization_id: Option<String>,
    /// `session.id`.
    pub session_id: Option<String>,
    /// `prompt.id`.
    pub prompt_id: Option<String>,
    /// The host the session ran on (`host.name`).
    pub host: Option<String>,
    /// A verb in the CIM vocabulary where one fits (`allowed`, `blocked`,
    /// `success`, `failure`), else the event name.
    pub action: String,
    /// Whether it worked.
    pub outcome: Outcome,
    /// How loud it is.
    pub severity: Severity,
    /// A one-line summary without content (names and counts only).
    pub message: String,
    /// The tool involved, if any.
    pub tool: Option<String>,
    /// The model involved, if any.
    pub model: Option<String>,
    /// Cost in USD, if the record carries one.
    pub cost_usd: Option<f64>,
    /// Duration in milliseconds, if the record carries one.
    pub duration_ms: Option<f64>,
    /// The cost center the enricher assigned.
    pub cost_center: Option<String>,
    /// Trace id (hex), if any.
    pub trace_id: Option<String>,
    /// The full record as canonical JSON (the records-file form).
    pub detail: Value,
}

fn id_of(parts: &[&[u8]]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::with_seed(0x6361_6972_6e5f_6964);
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    // `{:032x}` of the digest, without the formatter.
    lower_hex(&h.digest128().to_be_bytes())
}

/// What an event says about action, outcome, severity and its summary.
struct Verdict {
    action: String,
    outcome: Outcome,
    severity: Severity,
    message: String,
    tool: Option<String>,
    model: Option<String>,
    cost_usd: Option<f64>,
    duration_ms: Option<f64>,
}

impl Verdict {
    fn plain(name: &str) -> Verdict {
        Verdict {
            action: name.to_owned(),
            outcome: Outcome::Unknown,
            severity: Severity::Info,
            message: name.to_owned(),
            tool: None,
            model: None,
            cost_usd: None,
            duration_ms: None,
        }
    }
}

fn event_verdict(event: &ClaudeEvent) -> Verdict {
    let name = event.name();
    let mut v = Verdict::plain(name);
    match event {
        ClaudeEvent::ToolDecision(d) => {
            let tool = d.tool_name.clone().unwrap_or_default();
            let (action, outcome, severity) = match &d.decision {
                Some(Decision::Accept) => ("allowed", Outcome::Success, Severity::Info),
                Some(Decision::Reject) => ("blocked", Outcome::Failure, Severity::Warning),
                _ => (name, Outcome::Unknown, Severity::Info),
            };
            v.action = action.to_owned();
            v.outcome = outcome;
            v.severity = severity;
            v.message = format!("tool {tool} {action}");
            v.tool = d.tool_name.clone();
        }
        ClaudeEvent::ToolResult(r) => {
            let tool = r.tool_name.clone().unwrap_or_default();
            let (action, outcome, severity) = match r.success {
                Some(true) => ("success", Outcome::Success, Severity::Info),
                Some(false) => ("failure", Outcome::Failure, Severity::Warning),
                None => ("executed", Outcome::Unknown, Severity::Info),
            };
            v.action = action.to_owned();
            v.outcome = outcome;
            v.severity = severity;
            v.message = format!("tool {tool} {action}");
            v.tool = r.tool_name.clone();
            v.duration_ms = r.duration_ms;
        }
        ClaudeEvent::ApiRequest(r) => {
            v.action = "success".into();
            v.outcome = Outcome::Success;
            v.model = r.model.clone();
            v.cost_usd = r.cost_usd;
            v.duration_ms = r.duration_ms;
            v.message = format!(
                "api request {} ({} in / {} out tokens)",
                r.model.as_deref().unwrap_or(""),
                r.input_tokens.unwrap_or(0),
                r.output_tokens.unwrap_or(0)
            );
        }
        ClaudeEvent::ApiError(e) => {
            v.action = "failure".into();
            v.outcome = Outcome::Failure;
            v.severity = Severity::Error;
            v.model = e.model.clone();
            v.duration_ms = e.duration_ms;
            v.message = match e.status_code {
                Some(code) => format!("api error {code}"),
                None => "api error".into(),
            };
        }
        ClaudeEvent::ApiRetriesExhausted(_) | ClaudeEvent::InternalError(_) => {
            v.action = "failure".into();
            v.outcome = Outcome::Failure;
            v.severity = Severity::Error;
        }
        ClaudeEvent::ApiRefusal(_) => {
            v.action = "blocked".into();
            v.outcome = Outcome::Failure;
            v.severity = Severity::Warning;
        }
        ClaudeEvent::UserPrompt(_) => {
            v.action = "created".into();
            v.message = "user prompt".into();
        }
        _ => {}
    }
    v
}

impl AuditItem {
    /// Builds the item for one typed record of a batch, its detail the
    /// record's canonical JSON as a tree.
    pub fn from_record(record: &Record, origin: &Origin) -> AuditItem {
        let mut item = AuditItem::without_detail(record, origin, &mut Vec::new());
        item.detail = record.to_json(origin);
        item
    }

    /// The item of a record without its detail (`Value::Null`): for an
    /// encoder handed the record as [`crate::detail::Detail::Record`].
    /// `scratch` is cleared and left holding the bytes hashed into its id
    /// (about the size of the record's protobuf).
    pub(crate) fn without_detail(
        record: &Record,
        origin: &Origin,
        scratch: &mut Vec<u8>,
    ) -> AuditItem {
        let tenant = origin.tenant.as_deref().unwrap_or("").as_bytes();
        scratch.clear();
        let (kind, name, time, verdict, trace, attrs) = match &record.body {
            RecordBody::Event(e) => {
                crate::content::log(scratch, &e.log);
                (
                    ItemKind::Event,
                    e.header.name.clone(),
                    e.log.time_unix_nano,
                    event_verdict(&e.event),
                    &e.log.trace_id[..],
                    &e.log.attributes[..],
                )
            }
            RecordBody::Metric(m) => {
                m.metric.encode(scratch).ok();
                let time = first_point_time(&m.metric);
                let mut v = Verdict::plain(&m.metric.name);
                v.message = format!("metric {}", m.metric.name);
                (
                    ItemKind::Metric,
                    m.metric.name.clone(),
                    time,
                    v,
                    &[][..],
                    &[][..],
                )
            }
            RecordBody::Span(s) => {
                s.span.encode(scratch).ok();
                let mut v = Verdict::plain(&s.span.name);
                v.message = format!("span {}", s.span.name);
                let dur = s
                    .span
                    .end_time_unix_nano
                    .saturating_sub(s.span.start_time_unix_nano);
                v.duration_ms = Some(dur as f64 / 1e6);
                (
                    ItemKind::Span,
                    s.span.name.clone(),
                    s.span.start_time_unix_nano,
                    v,
                    &s.span.trace_id[..],
                    &s.span.attributes[..],
                )
            }
        };
        let record_id = id_of(&[kind.as_str().as_bytes(), tenant, scratch]);
        let (app, product) = (record.source.app_name(), record.source.display_name());
        let id = &record.identity;
        AuditItem {
            kind,
            record_id,
            time_unix_nano: if time == 0 {
                origin.received_unix_nano
            } else {
                time
            },
            name,
            source: record.source.as_str(),
            app,
            product,
            version: id.app_version.as_deref().map(str::to_owned),
            tenant: origin.tenant.as_deref().map(str::to_owned),
            user_id: id.user_id.as_deref().map(str::to_owned),
            user_email: id.email.as_deref().map(str::to_owned),
            account_uuid: id.account_uuid.as_deref().map(str::to_owned),
            organization_id: id.organization_id.as_deref().map(str::to_owned),
            session_id: id.session_id.as_deref().map(str::to_owned),
            prompt_id: match &record.body {
                RecordBody::Event(e) => e.header.prompt_id.clone(),
                _ => None,
            },
            host: id.host_name.as_deref().map(str::to_owned),
            action: verdict.action,
            outcome: verdict.outcome,
            severity: verdict.severity,
            message: verdict.message,
            tool: verdict.tool,
            model: verdict.model,
            cost_usd: verdict.cost_usd,
            duration_ms: verdict.duration_ms,
            // The detail's `attributes` are the event's or span's.
            cost_center: Attrs(attrs)
                .get("cost_center")
                .and_then(json_text)
                .filter(|s| !s.is_empty())
                .map(Cow::into_owned),
            trace_id: (!trace.is_empty()).then(|| lower_hex(trace)),
            detail: Value::Null,
        }
    }

    /// Builds the item for a prompt chain (or one of its amendments).
    pub fn from_chain(chain: &PromptChain) -> AuditItem {
        let who = chain.who.clone().unwrap_or_default();
        let totals = chain.totals.clone().unwrap_or_default();
        let done = chain.completeness.clone().unwrap_or_default();
        let when = chain.when.clone().unwrap_or_default();
        let failures = totals.failed_tools + totals.api_errors;
        let (action, outcome, severity) = if totals.rejected_tools > 0 {
            ("blocked", Outcome::Failure, Severity::Warning)
        } else if failures > 0 {
            ("failure", Outcome::Failure, Severity::Warning)
        } else {
            ("success", Outcome::Success, Severity::Info)
        };
        let closed = v1::Closure::try_from(done.closed_by)
            .map(|c| {
                c.as_str_name()
                    .trim_start_matches("CLOSURE_")
                    .to_lowercase()
            })
            .unwrap_or_default();
        let message = format!(
            "prompt chain: {} tool calls ({} failed, {} rejected), {} api calls, ${:.4}{}{}",
            totals.tool_calls,
            totals.failed_tools,
            totals.rejected_tools,
            totals.api_calls,
            totals.cost_usd,
            if done.complete { "" } else { ", incomplete" },
            if closed.is_empty() {
                String::new()
            } else {
                format!(", closed by {closed}")
            },
        );
        let product_of = SourceProduct::from_label(&who.source_product);
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let amendment = chain.amendment.to_le_bytes();
        AuditItem {
            kind: ItemKind::Chain,
            record_id: id_of(&[b"chain", chain.chain_id.as_bytes(), &amendment]),
            time_unix_nano: when.last_unix_nano,
            name: "prompt_chain".into(),
            source: product_of.as_str(),
            app: product_of.app_name(),
            product: product_of.display_name(),
            version: opt(&who.source_version),
            tenant: opt(&who.tenant),
            user_id: opt(&who.user_id),
            user_email: opt(&who.email),
            account_uuid: opt(&who.account_uuid),
            organization_id: opt(&who.organization_id),
            session_id: opt(&chain.session_id),
            prompt_id: opt(&chain.prompt_id),
            host: opt(&who.host_name),
            action: action.into(),
            outcome,
            severity,
            message,
            tool: None,
            model: totals.models.first().cloned(),
            cost_usd: Some(totals.cost_usd),
            duration_ms: Some(when.duration_ms as f64),
            cost_center: chain.cost_center.as_ref().and_then(|c| opt(&c.cost_center)),
            trace_id: chain.trace_ids.first().cloned(),
            detail: chain.to_json(),
        }
    }

    /// The time as RFC 3339 with milliseconds, UTC (`…T10:00:00.123Z`).
    pub fn rfc3339(&self) -> String {
        rfc3339_millis(self.time_unix_nano)
    }

    /// The time as Unix milliseconds.
    pub fn unix_millis(&self) -> u64 {
        self.time_unix_nano / 1_000_000
    }

    /// The best user name: email (or pseudonym), else user id, else account.
    pub fn user(&self) -> Option<&str> {
        self.user_email
            .as_deref()
            .or(self.user_id.as_deref())
            .or(self.account_uuid.as_deref())
    }
}

fn first_point_time(metric: &opentelemetry_proto::tonic::metrics::v1::Metric) -> u64 {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    match &metric.data {
        Some(Data::Sum(s)) => s.data_points.first().map(|p| p.time_unix_nano),
        Some(Data::Gauge(g)) => g.data_points.first().map(|p| p.time_unix_nano),
        Some(Data::Histogram(h)) => h.data_points.first().map(|p| p.time_unix_nano),
        Some(Data::ExponentialHistogram(h)) => h.data_points.first().map(|p| p.time_unix_nano),
        Some(Data::Summary(s)) => s.data_points.first().map(|p| p.time_unix_nano),
        None => None,
    }
    .unwrap_or(0)
}
