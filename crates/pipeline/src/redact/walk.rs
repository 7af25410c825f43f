//! The traversal: every string of a request, where it sits, and what the
//! policy says about it.
//!
//! Covered: resource and scope attributes; log bodies, attributes, severity
//! text and event names; span names, attributes, status messages, events
//! (names and attributes) and links; metric data point and exemplar
//! attributes. Nested arrays and maps are walked to the bottom, map keys
//! included. Top-level attribute keys are schema, not data, and are kept.

use cairn_core::{
    otlp::{
        collector::{
            logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
            trace::v1::ExportTraceServiceRequest,
        },
        common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value},
        metrics::v1::metric::Data,
    },
    scrub::{REDACTED_ATTRIBUTE, Scrubber},
};
use cairn_redact::{KindSet, Outcome, Pseudonymizer, Unscannable};

use super::{
    Action, RedactStage,
    memo::{Memo, Rule, Verdict},
    stats::{KindLabels, ReasonLabels, label},
};

/// Where a value sits: a prefix (`resource:`, `event:`, or none) and a key.
/// Borrowed, so scanning builds no string; the `/metrics` label is made only
/// when something is counted.
#[derive(Clone, Copy)]
struct Loc<'a>(&'a str, &'a str);

impl Loc<'_> {
    fn label(self) -> String {
        label(self.0, self.1)
    }
}

/// What one record (or resource) accumulated.
#[derive(Default)]
struct Found {
    kinds: KindSet,
    unscannable: bool,
}

impl Found {
    fn any(&self) -> bool {
        !self.kinds.is_empty() || self.unscannable
    }
    fn merge(&mut self, other: &Found) {
        self.kinds = self.kinds.union(other.kinds);
        self.unscannable |= other.unscannable;
    }
}

fn reason(u: Unscannable) -> &'static str {
    match u {
        Unscannable::TooLarge { .. } => "too_large",
        Unscannable::NotUtf8 { .. } => "not_utf8",
        _ => "internal",
    }
}

impl RedactStage {
    fn count(&self, outcome: &Outcome<'_>, loc: Loc<'_>, found: &mut Found) {
        match outcome.unscannable() {
            Some(u) => {
                found.unscannable = true;
                self.stats
                    .unscannable
                    .get_or_create(&ReasonLabels {
                        reason: reason(u).into(),
                        attribute: loc.label(),
                    })
                    .inc();
            }
            None => {
                let kinds = outcome.kinds();
                for kind in kinds.iter() {
                    self.stats
                        .findings
                        .get_or_create(&KindLabels {
                            kind: self.redactor.kind_name(kind).to_owned(),
                            attribute: loc.label(),
                        })
                        .inc();
                }
                found.kinds = found.kinds.union(kinds);
            }
        }
    }

    /// Scans a string in place; allocates only when something was found.
    /// A short value seen before in this request takes its remembered
    /// verdict, counted as if it had been found again.
    fn string(&self, s: &mut String, loc: Loc<'_>, found: &mut Found, memo: &mut Memo) {
        let key = Memo::key(Rule::Scan, s);
        match memo.get(key, Rule::Scan, s) {
            Some(Verdict::Clean) => return,
            Some(Verdict::Changed(outcome)) => {
                self.count(outcome, loc, found);
                s.clear();
                s.push_str(outcome.text());
                return;
            }
            Some(Verdict::Replaced(_)) | None => {}
        }
        let outcome = self.redactor.redact(s);
        if outcome.is_clean() {
            memo.remember(key, Rule::Scan, s, Verdict::Clean);
            return;
        }
        self.count(&outcome, loc, found);
        if !key.rememberable() {
            // Long values (prompts, tool parameters) are not kept: no copy.
            *s = outcome.into_text().into_owned();
            return;
        }
        let outcome = outcome.into_owned();
        let original = std::mem::replace(s, outcome.text().to_owned());
        memo.remember(key, Rule::Scan, &original, Verdict::Changed(outcome));
    }

    /// Replaces a string with its pseudonym (`email`: normalised first, the
    /// way the directory indexes addresses, so the pseudonym still joins).
    fn pseudonym(&self, p: &Pseudonymizer, s: &mut String, email: bool, memo: &mut Memo) {
        let rule = if email { Rule::Email } else { Rule::Pseudonym };
        let key = Memo::key(rule, s);
        if let Some(Verdict::Replaced(t)) = memo.get(key, rule, s) {
            s.clear();
            s.push_str(t);
            return;
        }
        let t = if email {
            crate::enrich::email_pseudonym(p, s)
        } else {
            p.pseudonymize(s)
        };
        if !key.rememberable() {
            *s = t;
            return;
        }
        let original = std::mem::replace(s, t);
        memo.remember(key, rule, &original, Verdict::Replaced(s.clone()));
    }

    fn value(&self, v: &mut AnyValue, loc: Loc<'_>, found: &mut Found, memo: &mut Memo) {
        let Some(inner) = v.value.as_mut() else {
            return;
        };
        match inner {
            Value::StringValue(s) => self.string(s, loc, found, memo),
            Value::BytesValue(b) => {
                let outcome = self.redactor.redact_bytes(b);
                if !outcome.is_clean() {
                    self.count(&outcome, loc, found);
                    // Bytes that held a secret, or could not be read as text,
                    // become the (safe) text in their place.
                    *inner = Value::StringValue(outcome.into_text().into_owned());
                }
            }
            Value::ArrayValue(ArrayValue { values }) => {
                for v in values {
                    self.value(v, loc, found, memo);
                }
            }
            Value::KvlistValue(list) => {
                for kv in &mut list.values {
                    self.string(&mut kv.key, loc, found, memo);
                    if let Some(v) = kv.value.as_mut() {
                        self.value(v, loc, found, memo);
                    }
                }
            }
            Value::BoolValue(_)
            | Value::IntValue(_)
            | Value::DoubleValue(_)
            | Value::StringValueStrindex(_) => {}
        }
    }

    /// Applies the policy to an attribute list; `prefix` names where it sits.
    fn attributes(
        &self,
        attrs: &mut Vec<KeyValue>,
        prefix: &'static str,
        found: &mut Found,
        memo: &mut Memo,
    ) {
        attrs.retain_mut(|kv| {
            let action = self.policy.action(&kv.key);
            let loc = Loc(prefix, &kv.key);
            match action {
                Action::Keep => true,
                Action::Drop => {
                    self.stats
                        .policy
                        .get_or_create(&ReasonLabels {
                            reason: "drop".into(),
                            attribute: loc.label(),
                        })
                        .inc();
                    false
                }
                Action::Hash => {
                    if let (
                        Some(p),
                        Some(AnyValue {
                            value: Some(Value::StringValue(s)),
                        }),
                    ) = (&self.pseudonymizer, kv.value.as_mut())
                    {
                        self.pseudonym(p, s, kv.key == "user.email", memo);
                        self.stats
                            .policy
                            .get_or_create(&ReasonLabels {
                                reason: "hash".into(),
                                attribute: loc.label(),
                            })
                            .inc();
                    } else if let Some(v) = kv.value.as_mut() {
                        // Not a string (or no key): scan instead of passing it.
                        self.value(v, loc, found, memo);
                    }
                    true
                }
                Action::Scan => {
                    if let Some(v) = kv.value.as_mut() {
                        self.value(v, loc, found, memo);
                    }
                    true
                }
            }
        });
    }

    fn tag(&self, attrs: &mut Vec<KeyValue>, found: &Found) {
        if !found.any() {
            return;
        }
        let mut names: Vec<&str> = self.redactor.kind_names(&found.kinds);
        if found.unscannable {
            names.push("unscannable");
        }
        names.sort_unstable();
        names.dedup();
        attrs.retain(|kv| kv.key != REDACTED_ATTRIBUTE);
        attrs.push(KeyValue {
            key: REDACTED_ATTRIBUTE.into(),
            value: Some(AnyValue {
                value: Some(Value::ArrayValue(ArrayValue {
                    values: names
                        .into_iter()
                        .map(|n| AnyValue {
                            value: Some(Value::StringValue(n.to_owned())),
                        })
                        .collect(),
                })),
            }),
            ..Default::default()
        });
        self.stats.records.inc();
    }

    fn resource(
        &self,
        resource: Option<&mut cairn_core::otlp::resource::v1::Resource>,
        memo: &mut Memo,
    ) -> Found {
        let mut found = Found::default();
        if let Some(r) = resource {
            self.attributes(&mut r.attributes, "resource:", &mut found, memo);
        }
        found
    }

    fn scope(
        &self,
        scope: Option<&mut cairn_core::otlp::common::v1::InstrumentationScope>,
        found: &mut Found,
        memo: &mut Memo,
    ) {
        if let Some(s) = scope {
            self.attributes(&mut s.attributes, "scope:", found, memo);
        }
    }
}

impl Scrubber for RedactStage {
    fn logs(&self, req: &mut ExportLogsServiceRequest) {
        let memo = &mut Memo::default();
        for rl in &mut req.resource_logs {
            let mut shared = self.resource(rl.resource.as_mut(), memo);
            for sl in &mut rl.scope_logs {
                self.scope(sl.scope.as_mut(), &mut shared, memo);
                for log in &mut sl.log_records {
                    let mut found = Found::default();
                    found.merge(&shared);
                    if let Some(body) = log.body.as_mut() {
                        self.value(body, Loc("", "body"), &mut found, memo);
                    }
                    self.string(
                        &mut log.severity_text,
                        Loc("", "severity_text"),
                        &mut found,
                        memo,
                    );
                    self.string(&mut log.event_name, Loc("", "event_name"), &mut found, memo);
                    self.attributes(&mut log.attributes, "", &mut found, memo);
                    self.tag(&mut log.attributes, &found);
                }
            }
        }
    }

    fn metrics(&self, req: &mut ExportMetricsServiceRequest) {
        let memo = &mut Memo::default();
        for rm in &mut req.resource_metrics {
            let mut shared = self.resource(rm.resource.as_mut(), memo);
            for sm in &mut rm.scope_metrics {
                self.scope(sm.scope.as_mut(), &mut shared, memo);
                for metric in &mut sm.metrics {
                    // Points of every shape carry attributes and exemplars.
                    macro_rules! points {
                        ($points:expr) => {
                            for p in $points {
                                let mut found = Found::default();
                                found.merge(&shared);
                                self.attributes(&mut p.attributes, "", &mut found, memo);
                                for e in &mut p.exemplars {
                                    self.attributes(
                                        &mut e.filtered_attributes,
                                        "exemplar:",
                                        &mut found,
                                        memo,
                                    );
                                }
                                self.tag(&mut p.attributes, &found);
                            }
                        };
                    }
                    match metric.data.as_mut() {
                        Some(Data::Sum(s)) => points!(&mut s.data_points),
                        Some(Data::Gauge(g)) => points!(&mut g.data_points),
                        Some(Data::Histogram(h)) => points!(&mut h.data_points),
                        Some(Data::ExponentialHistogram(h)) => points!(&mut h.data_points),
                        Some(Data::Summary(s)) => {
                            for p in &mut s.data_points {
                                let mut found = Found::default();
                                found.merge(&shared);
                                self.attributes(&mut p.attributes, "", &mut found, memo);
                                self.tag(&mut p.attributes, &found);
                            }
                        }
                        None => {}
                    }
                    let mut ignored = Found::default();
                    self.attributes(&mut metric.metadata, "metadata:", &mut ignored, memo);
                }
            }
        }
    }

    fn traces(&self, req: &mut ExportTraceServiceRequest) {
        let memo = &mut Memo::default();
        for rs in &mut req.resource_spans {
            let mut shared = self.resource(rs.resource.as_mut(), memo);
            for ss in &mut rs.scope_spans {
                self.scope(ss.scope.as_mut(), &mut shared, memo);
                for span in &mut ss.spans {
                    let mut found = Found::default();
                    found.merge(&shared);
                    self.string(&mut span.name, Loc("", "span.name"), &mut found, memo);
                    self.attributes(&mut span.attributes, "", &mut found, memo);
                    if let Some(status) = span.status.as_mut() {
                        self.string(
                            &mut status.message,
                            Loc("", "status.message"),
                            &mut found,
                            memo,
                        );
                    }
                    for ev in &mut span.events {
                        self.string(&mut ev.name, Loc("", "event.name"), &mut found, memo);
                        self.attributes(&mut ev.attributes, "event:", &mut found, memo);
                    }
                    for link in &mut span.links {
                        self.attributes(&mut link.attributes, "link:", &mut found, memo);
                    }
                    self.tag(&mut span.attributes, &found);
                }
            }
        }
    }
}
