//! Records and batches: what one request becomes after typing.
//!
//! A [`Record`] keeps the original OTLP message (log record, metric, span)
//! untouched beside its typed view, and shares its resource and scope with the
//! other records of the same request through `Arc`s. That makes typing
//! lossless by construction: [`Batch::to_logs_request`] and friends rebuild
//! the exact request, which a test checks against every fixture.

use std::sync::Arc;

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::InstrumentationScope,
    logs::v1::LogRecord,
    metrics::v1::Metric,
    resource::v1::Resource,
    trace::v1::Span,
};
use serde::Serialize;

use crate::{
    event::ClaudeEvent,
    identity::Identity,
    metric::ClaudeMetric,
    signal::{Protocol, Signal},
    source::SourceProduct,
    span::ClaudeSpan,
    value::Attrs,
};

/// A resource as received, with its schema URL, shared by its records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceContext {
    /// The resource, absent when the sender sent none.
    pub resource: Option<Resource>,
    /// `ResourceLogs.schema_url` (or the metrics/traces equivalent).
    pub schema_url: String,
}

impl ResourceContext {
    /// The resource attributes (empty when no resource was sent).
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs(
            self.resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or(&[]),
        )
    }
}

/// An instrumentation scope as received, with its schema URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeContext {
    /// The scope, absent when the sender sent none.
    pub scope: Option<InstrumentationScope>,
    /// `ScopeLogs.schema_url` (or the metrics/traces equivalent).
    pub schema_url: String,
}

impl ScopeContext {
    /// The scope name, empty when absent.
    pub fn name(&self) -> &str {
        self.scope.as_ref().map(|s| s.name.as_str()).unwrap_or("")
    }
}

/// The event header every Claude Code event carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventHeader {
    /// Bare event name: body `claude_code.<name>`, else `event.name`, else
    /// `LogRecord.event_name`; empty when none of them is set.
    pub name: String,
    /// `event.timestamp` as sent (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `event.sequence`: monotonic per session, restarts at 0 on `--resume`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// `prompt.id`: absent on startup events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    /// `agent_id`: set on subagent work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

impl EventHeader {
    /// Reads the header of a log record.
    pub fn read(log: &LogRecord) -> EventHeader {
        let a = Attrs(&log.attributes);
        let from_body = log
            .body
            .as_ref()
            .and_then(crate::value::as_str)
            .and_then(|b| b.strip_prefix("claude_code."))
            .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace));
        let name = from_body
            .or_else(|| a.str("event.name"))
            .or_else(|| (!log.event_name.is_empty()).then_some(log.event_name.as_str()))
            .map(|n| n.strip_prefix("claude_code.").unwrap_or(n))
            .unwrap_or("")
            .to_owned();
        EventHeader {
            name,
            timestamp: a.string("event.timestamp"),
            sequence: a.u64("event.sequence"),
            prompt_id: a.string("prompt.id"),
            agent_id: a.string("agent_id"),
        }
    }
}

/// A log record and its typed event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The log record exactly as received.
    pub log: LogRecord,
    /// The header fields.
    pub header: EventHeader,
    /// The typed event.
    pub event: ClaudeEvent,
}

/// A metric and its typed view.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRecord {
    /// The metric exactly as received.
    pub metric: Metric,
    /// The typed view.
    pub typed: ClaudeMetric,
}

/// A span and its typed view.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRecord {
    /// The span exactly as received.
    pub span: Span,
    /// The typed view.
    pub typed: ClaudeSpan,
}

/// What a record holds, by signal.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordBody {
    /// An event (OTLP log record).
    Event(Box<EventRecord>),
    /// A metric with its points.
    Metric(Box<MetricRecord>),
    /// A span.
    Span(Box<SpanRecord>),
}

/// One typed record with its shared context.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The resource it arrived under.
    pub resource: Arc<ResourceContext>,
    /// The scope it arrived under.
    pub scope: Arc<ScopeContext>,
    /// The product that sent it.
    pub source: SourceProduct,
    /// Who and where.
    pub identity: Identity,
    /// The record itself.
    pub body: RecordBody,
}

impl Record {
    /// Whether this is an event that belongs to a prompt chain (it carries
    /// a `prompt.id`; the correlator folds it into that prompt's record).
    pub fn is_chain_event(&self) -> bool {
        matches!(&self.body, RecordBody::Event(e) if e.header.prompt_id.is_some())
    }
}

/// Where a batch came from, set by the receiver.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    /// The signal.
    pub signal: Signal,
    /// The protocol.
    pub protocol: Protocol,
    /// The tenant label of the token that authenticated the request.
    pub tenant: Option<Arc<str>>,
    /// When cairn received the request, in Unix nanoseconds.
    pub received_unix_nano: u64,
}

/// Records rejected while typing, for OTLP partial success.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    /// How many records were rejected.
    pub count: u64,
    /// Why, in one line naming the first problem.
    pub message: String,
}

impl Rejected {
    fn add(&mut self, why: &str) {
        if self.count == 0 {
            self.message = why.to_owned();
        }
        self.count += 1;
    }
}

/// All records of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Where it came from.
    pub origin: Origin,
    /// The records, in request order.
    pub records: Vec<Record>,
}

/// OTLP id rules: a trace id is 16 bytes and a span id 8. Log records may
/// omit them (`required = false`); spans may not.
fn valid_ids(trace_id: &[u8], span_id: &[u8], required: bool) -> Result<(), &'static str> {
    if !(trace_id.len() == 16 || (!required && trace_id.is_empty())) {
        return Err("trace_id must be 16 bytes");
    }
    if !(span_id.len() == 8 || (!required && span_id.is_empty())) {
        return Err("span_id must be 8 bytes");
    }
    Ok(())
}

fn record(
    resource: &Arc<ResourceContext>,
    scope: &Arc<ScopeContext>,
    identity: Identity,
    body: RecordBody,
) -> Record {
    let source = SourceProduct::detect(resource.attrs().str("service.name"), scope.name());
    Record {
        resource: Arc::clone(resource),
        scope: Arc::clone(scope),
        source,
        identity,
        body,
    }
}

impl Batch {
    /// Types a logs request. Records with malformed ids are rejected.
    pub fn from_logs(origin: Origin, req: ExportLogsServiceRequest) -> (Batch, Rejected) {
        let mut rejected = Rejected::default();
        let count = req
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum();
        let mut records = Vec::with_capacity(count);
        // Each record's identity shares the values equal to the previous one's.
        let none = Identity::default();
        for rl in req.resource_logs {
            let res = Arc::new(ResourceContext {
                resource: rl.resource,
                schema_url: rl.schema_url,
            });
            for sl in rl.scope_logs {
                let scope = Arc::new(ScopeContext {
                    scope: sl.scope,
                    schema_url: sl.schema_url,
                });
                for log in sl.log_records {
                    if let Err(why) = valid_ids(&log.trace_id, &log.span_id, false) {
                        rejected.add(why);
                        continue;
                    }
                    let header = EventHeader::read(&log);
                    let event = ClaudeEvent::parse(&header.name, Attrs(&log.attributes));
                    let prev = records.last().map_or(&none, |r: &Record| &r.identity);
                    let identity = Identity::read_after(Attrs(&log.attributes), res.attrs(), prev);
                    let body = RecordBody::Event(Box::new(EventRecord { log, header, event }));
                    records.push(record(&res, &scope, identity, body));
                }
            }
        }
        (Batch { origin, records }, rejected)
    }

    /// Types a metrics request. Metrics are never rejected.
    pub fn from_metrics(origin: Origin, req: ExportMetricsServiceRequest) -> (Batch, Rejected) {
        let mut records = Vec::new();
        let none = Identity::default();
        for rm in req.resource_metrics {
            let res = Arc::new(ResourceContext {
                resource: rm.resource,
                schema_url: rm.schema_url,
            });
            for sm in rm.scope_metrics {
                let scope = Arc::new(ScopeContext {
                    scope: sm.scope,
                    schema_url: sm.schema_url,
                });
                for metric in sm.metrics {
                    let typed = ClaudeMetric::read(&metric);
                    let prev = records.last().map_or(&none, |r: &Record| &r.identity);
                    let identity = Identity::read_after(
                        Attrs(crate::metric::first_point_attributes(&metric)),
                        res.attrs(),
                        prev,
                    );
                    let body = RecordBody::Metric(Box::new(MetricRecord { metric, typed }));
                    records.push(record(&res, &scope, identity, body));
                }
            }
        }
        (Batch { origin, records }, Rejected::default())
    }

    /// Types a traces request. Spans with malformed ids are rejected.
    pub fn from_traces(origin: Origin, req: ExportTraceServiceRequest) -> (Batch, Rejected) {
        let mut rejected = Rejected::default();
        let mut records = Vec::new();
        let none = Identity::default();
        for rs in req.resource_spans {
            let res = Arc::new(ResourceContext {
                resource: rs.resource,
                schema_url: rs.schema_url,
            });
            for ss in rs.scope_spans {
                let scope = Arc::new(ScopeContext {
                    scope: ss.scope,
                    schema_url: ss.schema_url,
                });
                for span in ss.spans {
                    if let Err(why) = valid_ids(&span.trace_id, &span.span_id, true) {
                        rejected.add(why);
                        continue;
                    }
                    let typed = ClaudeSpan::read(&span);
                    let prev = records.last().map_or(&none, |r: &Record| &r.identity);
                    let identity = Identity::read_after(Attrs(&span.attributes), res.attrs(), prev);
                    let body = RecordBody::Span(Box::new(SpanRecord { span, typed }));
                    records.push(record(&res, &scope, identity, body));
                }
            }
        }
        (Batch { origin, records }, rejected)
    }
}

/// Groups records back into resource → scope → items, keeping request order.
/// Consecutive records that share the same resource and scope `Arc`s go into
/// the same group, so a typed request re-encodes to exactly what was sent.
type Groups<T> = Vec<(Arc<ResourceContext>, Vec<(Arc<ScopeContext>, Vec<T>)>)>;

fn regroup<'a, T: 'a>(records: impl Iterator<Item = (&'a Record, T)>) -> Groups<T> {
    let mut out: Groups<T> = Vec::new();
    for (rec, item) in records {
        let same_res = out
            .last()
            .is_some_and(|(r, _)| Arc::ptr_eq(r, &rec.resource));
        if !same_res {
            out.push((Arc::clone(&rec.resource), Vec::new()));
        }
        if let Some((_, scopes)) = out.last_mut() {
            let same_scope = scopes
                .last()
                .is_some_and(|(s, _)| Arc::ptr_eq(s, &rec.scope));
            if same_scope {
                if let Some((_, items)) = scopes.last_mut() {
                    items.push(item);
                }
            } else {
                scopes.push((Arc::clone(&rec.scope), vec![item]));
            }
        }
    }
    out
}

impl Batch {
    /// About how many bytes the batch's records hold: the protobuf size of
    /// each log record, metric or span (resources and scopes are shared and
    /// not counted). The typed views roughly double it in memory; this is
    /// for budgets, which are set with that in mind.
    pub fn approx_bytes(&self) -> usize {
        use prost::Message as _;
        self.records
            .iter()
            .map(|r| match &r.body {
                RecordBody::Event(e) => e.log.encoded_len(),
                RecordBody::Metric(m) => m.metric.encoded_len(),
                RecordBody::Span(s) => s.span.encoded_len(),
            })
            .sum()
    }

    /// Whether an event of the batch belongs to a prompt chain (it carries
    /// a `prompt.id`).
    pub fn has_chain_events(&self) -> bool {
        self.records.iter().any(Record::is_chain_event)
    }

    /// The batch without the events that belong to a prompt chain: what is
    /// written when `chains.raw_events` is off (only their chain is).
    pub fn without_chain_events(&self) -> Batch {
        Batch {
            origin: self.origin.clone(),
            records: self
                .records
                .iter()
                .filter(|r| !r.is_chain_event())
                .cloned()
                .collect(),
        }
    }

    /// Rebuilds the logs request from the event records (other records are skipped).
    pub fn to_logs_request(&self) -> ExportLogsServiceRequest {
        use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
        let items = self.records.iter().filter_map(|r| match &r.body {
            RecordBody::Event(e) => Some((r, e.log.clone())),
            _ => None,
        });
        ExportLogsServiceRequest {
            resource_logs: regroup(items)
                .into_iter()
                .map(|(res, scopes)| ResourceLogs {
                    resource: res.resource.clone(),
                    schema_url: res.schema_url.clone(),
                    scope_logs: scopes
                        .into_iter()
                        .map(|(scope, log_records)| ScopeLogs {
                            scope: scope.scope.clone(),
                            schema_url: scope.schema_url.clone(),
                            log_records,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Rebuilds the metrics request from the metric records.
    pub fn to_metrics_request(&self) -> ExportMetricsServiceRequest {
        use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
        let items = self.records.iter().filter_map(|r| match &r.body {
            RecordBody::Metric(m) => Some((r, m.metric.clone())),
            _ => None,
        });
        ExportMetricsServiceRequest {
            resource_metrics: regroup(items)
                .into_iter()
                .map(|(res, scopes)| ResourceMetrics {
                    resource: res.resource.clone(),
                    schema_url: res.schema_url.clone(),
                    scope_metrics: scopes
                        .into_iter()
                        .map(|(scope, metrics)| ScopeMetrics {
                            scope: scope.scope.clone(),
                            schema_url: scope.schema_url.clone(),
                            metrics,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Rebuilds the traces request from the span records.
    pub fn to_traces_request(&self) -> ExportTraceServiceRequest {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
        let items = self.records.iter().filter_map(|r| match &r.body {
            RecordBody::Span(s) => Some((r, s.span.clone())),
            _ => None,
        });
        ExportTraceServiceRequest {
            resource_spans: regroup(items)
                .into_iter()
                .map(|(res, scopes)| ResourceSpans {
                    resource: res.resource.clone(),
                    schema_url: res.schema_url.clone(),
                    scope_spans: scopes
                        .into_iter()
                        .map(|(scope, spans)| ScopeSpans {
                            scope: scope.scope.clone(),
                            schema_url: scope.schema_url.clone(),
                            spans,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
