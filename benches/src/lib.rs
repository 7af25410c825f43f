//! cairn-benches: criterion benches for the hot path live in `benches/`.
//! Figures, machine and commands are in `BENCHMARKS.md`. This library holds
//! the inputs more than one bench builds.

use cairn_core::{
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
        common::v1::{AnyValue, KeyValue, any_value::Value},
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
