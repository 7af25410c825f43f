//! cairn-benches: criterion benches for the hot path live in `benches/`.
//! Figures, machine and commands are in `BENCHMARKS.md`. This library holds
//! the inputs more than one bench builds.

use cairn_core::{
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
        common::v1::{AnyValue, KeyValue, any_value::Value},
        logs::v1::LogRecord,
        trace::v1::Span,
    },
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};
use cairn_testkit::fixtures;
use prost::Message;

/// The origin the benches give their batches: HTTP/protobuf, no tenant.
pub fn origin(signal: Signal) -> Origin {
    Origin {
        signal,
        protocol: Protocol::HttpProtobuf,
        tenant: None,
        received_unix_nano: 1,
    }
}

/// The baseline capture's logs request with its records repeated until it
/// is at least `target` bytes (the size of a busy export).
pub fn repeated_logs(target: usize) -> ExportLogsServiceRequest {
    let bytes =
        std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap_or_default();
    let mut req = ExportLogsServiceRequest::decode(&bytes[..]).unwrap_or_default();
    let Some(scope) = req
        .resource_logs
        .first_mut()
        .and_then(|r| r.scope_logs.first_mut())
    else {
        return req;
    };
    let records = scope.log_records.clone();
    if records.is_empty() {
        return req;
    }
    while req.encoded_len() < target {
        if let Some(scope) = req
            .resource_logs
            .first_mut()
            .and_then(|r| r.scope_logs.first_mut())
        {
            scope.log_records.extend(records.iter().cloned());
        }
    }
    req
}

/// [`repeated_logs`] typed into a batch.
pub fn repeated_logs_batch(target: usize) -> Batch {
    Batch::from_logs(origin(Signal::Logs), repeated_logs(target)).0
}

/// Makes a session's ids distinct: `-<n>` after every session and prompt id.
fn rename(attrs: &mut [KeyValue], n: usize) {
    for kv in attrs {
        if let Some(AnyValue {
            value: Some(Value::StringValue(s)),
        }) = &mut kv.value
            && matches!(
                kv.key.as_str(),
                "session.id" | "prompt.id" | "gen_ai.conversation.id"
            )
        {
            s.push_str(&format!("-{n}"));
        }
    }
}

/// A captured request's records with ids made distinct per session and
/// prompt: `-<session>` after the session ids, `-<session>.<prompt>` after
/// the prompt id, `-<prompt>` after the request and tool use ids,
/// `event.sequence` moved on by `seq` (so a session's prompts follow each
/// other), and the session and prompt numbers mixed into the trace and span
/// ids. Values keep their kind and grow by a few bytes at most.
fn retag(attrs: &mut [KeyValue], session: usize, prompt: usize, seq: i64) {
    for kv in attrs {
        let Some(AnyValue { value: Some(v) }) = &mut kv.value else {
            continue;
        };
        match (kv.key.as_str(), v) {
            ("session.id" | "gen_ai.conversation.id", Value::StringValue(s)) => {
                s.push_str(&format!("-{session}"));
            }
            ("prompt.id", Value::StringValue(s)) => s.push_str(&format!("-{session}.{prompt}")),
            ("request_id" | "gen_ai.response.id" | "tool_use_id", Value::StringValue(s)) => {
                s.push_str(&format!("-{prompt}"));
            }
            ("event.sequence", Value::IntValue(n)) => *n += seq,
            _ => {}
        }
    }
}

/// Mixes `session` and `prompt` into a trace id (16 bytes) or span id (8);
/// any other length (absent) is left alone.
fn retag_id(id: &mut [u8], session: usize, prompt: usize) {
    let mix = |bytes: &mut [u8], n: usize| {
        for (b, x) in bytes.iter_mut().zip((n as u32).to_le_bytes()) {
            *b ^= x;
        }
    };
    match id.len() {
        16 => {
            mix(&mut id[8..12], session);
            mix(&mut id[12..16], prompt);
        }
        8 => mix(&mut id[4..8], prompt),
        _ => {}
    }
}

/// One request of a [`fixture_stream`], encoded as it arrives.
#[derive(Clone, Debug)]
pub enum Request {
    /// An `ExportLogsServiceRequest`.
    Logs(Vec<u8>),
    /// An `ExportTraceServiceRequest`.
    Traces(Vec<u8>),
}

impl Request {
    /// Decodes and types the request, as the receive path does.
    pub fn batch(&self) -> Batch {
        match self {
            Request::Logs(b) => {
                Batch::from_logs(
                    origin(Signal::Logs),
                    ExportLogsServiceRequest::decode(&b[..]).unwrap_or_default(),
                )
                .0
            }
            Request::Traces(b) => {
                Batch::from_traces(
                    origin(Signal::Traces),
                    ExportTraceServiceRequest::decode(&b[..]).unwrap_or_default(),
                )
                .0
            }
        }
    }

    /// Records in the request.
    pub fn records(&self) -> usize {
        self.batch().records.len()
    }
}

/// The `http-protobuf` capture (11 events, 7 of them in the prompt's chain,
/// and 6 spans) as `sessions` clients that each run `prompts` prompts, in
/// requests of at most `per_request` records.
///
/// Every prompt of every session is the capture's records, its ids made
/// distinct ([`retag`]) and its `event.sequence` numbers following the
/// previous prompt's. Round `p` sends prompt `p` of every session: their
/// events in logs requests, then their spans in traces requests, each
/// filled in session order (so a request may hold the end of one session's
/// records and the start of the next, as behind a collector that batches
/// several clients). A session's next prompt closes its previous chain;
/// the last round's chains stay open. `None` when the capture cannot be
/// read.
pub fn fixture_stream(sessions: usize, prompts: usize, per_request: usize) -> Option<Vec<Request>> {
    fixture_stream_with(sessions, prompts, per_request, false)
}

/// [`fixture_stream`], and with `start_once` the capture's session-start
/// events (those without a `prompt.id`: settings resolved, plugins loaded)
/// only in each session's first prompt, as a real session sends them.
pub fn fixture_stream_with(
    sessions: usize,
    prompts: usize,
    per_request: usize,
    start_once: bool,
) -> Option<Vec<Request>> {
    let read = |p: &str| std::fs::read(fixtures::root().join(p)).ok();
    let logs = ExportLogsServiceRequest::decode(&read("http-protobuf/logs-001.pb")?[..]).ok()?;
    let traces =
        ExportTraceServiceRequest::decode(&read("http-protobuf/traces-001.pb")?[..]).ok()?;
    let log_records: Vec<LogRecord> = logs
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| s.log_records.iter().cloned())
        .collect();
    let spans: Vec<Span> = traces
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| s.spans.iter().cloned())
        .collect();
    // Each request keeps the capture's resource and scope.
    let mut log_shell = logs.resource_logs.first()?.clone();
    let mut log_scope = log_shell.scope_logs.first()?.clone();
    log_scope.log_records.clear();
    log_shell.scope_logs.clear();
    let mut span_shell = traces.resource_spans.first()?.clone();
    let mut span_scope = span_shell.scope_spans.first()?.clone();
    span_scope.spans.clear();
    span_shell.scope_spans.clear();
    let seq_step = i64::try_from(log_records.len()).ok()?;
    let per_request = per_request.max(1);
    let mut out = Vec::new();
    for p in 0..prompts {
        let seq = seq_step * i64::try_from(p).ok()?;
        let in_round = |r: &&LogRecord| {
            p == 0 || !start_once || r.attributes.iter().any(|kv| kv.key == "prompt.id")
        };
        let round_logs: Vec<LogRecord> = (0..sessions)
            .flat_map(|s| {
                log_records
                    .iter()
                    .filter(in_round)
                    .cloned()
                    .map(move |mut r| {
                        retag(&mut r.attributes, s, p, seq);
                        retag_id(&mut r.trace_id, s, p);
                        retag_id(&mut r.span_id, s, p);
                        r
                    })
            })
            .collect();
        for chunk in round_logs.chunks(per_request) {
            let mut scope = log_scope.clone();
            scope.log_records = chunk.to_vec();
            let mut rl = log_shell.clone();
            rl.scope_logs.push(scope);
            let req = ExportLogsServiceRequest {
                resource_logs: vec![rl],
            };
            out.push(Request::Logs(req.encode_to_vec()));
        }
        let round_spans: Vec<Span> = (0..sessions)
            .flat_map(|s| {
                spans.iter().cloned().map(move |mut sp| {
                    retag(&mut sp.attributes, s, p, seq);
                    retag_id(&mut sp.trace_id, s, p);
                    retag_id(&mut sp.span_id, s, p);
                    retag_id(&mut sp.parent_span_id, s, p);
                    sp
                })
            })
            .collect();
        for chunk in round_spans.chunks(per_request) {
            let mut scope = span_scope.clone();
            scope.spans = chunk.to_vec();
            let mut rs = span_shell.clone();
            rs.scope_spans.push(scope);
            let req = ExportTraceServiceRequest {
                resource_spans: vec![rs],
            };
            out.push(Request::Traces(req.encode_to_vec()));
        }
    }
    Some(out)
}

/// `sessions` copies of the `http-protobuf` capture's session (11 events, 6
/// spans), each under its own session and prompt ids: one logs batch and one
/// traces batch per session. `None` when the capture cannot be read.
pub fn fixture_sessions(sessions: usize) -> Option<Vec<Batch>> {
    let read = |p: &str| std::fs::read(fixtures::root().join(p)).ok();
    let logs = ExportLogsServiceRequest::decode(&read("http-protobuf/logs-001.pb")?[..]).ok()?;
    let traces =
        ExportTraceServiceRequest::decode(&read("http-protobuf/traces-001.pb")?[..]).ok()?;
    let mut out = Vec::with_capacity(2 * sessions);
    for n in 0..sessions {
        let mut l = logs.clone();
        for rl in &mut l.resource_logs {
            for sl in &mut rl.scope_logs {
                for r in &mut sl.log_records {
                    rename(&mut r.attributes, n);
                }
            }
        }
        let mut t = traces.clone();
        for rs in &mut t.resource_spans {
            for ss in &mut rs.scope_spans {
                for s in &mut ss.spans {
                    rename(&mut s.attributes, n);
                }
            }
        }
        out.push(Batch::from_logs(origin(Signal::Logs), l).0);
        out.push(Batch::from_traces(origin(Signal::Traces), t).0);
    }
    Some(out)
}

pub use mimalloc;

/// Makes mimalloc the bench binary's global allocator, as it is the `cairn`
/// binary's, so stage figures are what the gateway gets. (Not for benches
/// that count allocations with their own allocator.)
#[macro_export]
macro_rules! gateway_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::mimalloc::MiMalloc = $crate::mimalloc::MiMalloc;
    };
}
