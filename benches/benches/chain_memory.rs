//! Heap held per open prompt chain, measured (not estimated): the heap in
//! use after 1000 fixture-shaped sessions are fed to a correlator and before
//! any closes, minus the heap before, divided by the open chains, with the
//! correlator's own byte estimate (what `max_open_bytes` caps) beside it.
//!
//! Measured with dhat's heap profiler as the global allocator, so it is a
//! separate binary from the timing benches.
//!
//! `cargo bench -p cairn-benches --bench chain_memory`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use cairn_core::{
    clock::ManualClock,
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
        common::v1::{AnyValue, KeyValue, any_value::Value},
    },
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};
use cairn_pipeline::correlate::{Correlator, CorrelatorConfig};
use cairn_testkit::fixtures;
use prost::Message;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const SESSIONS: usize = 1000;

fn origin(signal: Signal) -> Origin {
    Origin {
        signal,
        protocol: Protocol::HttpProtobuf,
        tenant: None,
        received_unix_nano: 1,
    }
}

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

fn main() {
    let read = |p: &str| std::fs::read(fixtures::root().join(p)).unwrap();
    let logs = ExportLogsServiceRequest::decode(&read("http-protobuf/logs-001.pb")[..]).unwrap();
    let traces =
        ExportTraceServiceRequest::decode(&read("http-protobuf/traces-001.pb")[..]).unwrap();
    let mut batches = Vec::new();
    for n in 0..SESSIONS {
        let mut l = logs.clone();
        for r in &mut l.resource_logs[0].scope_logs[0].log_records {
            rename(&mut r.attributes, n);
        }
        let mut t = traces.clone();
        for s in &mut t.resource_spans[0].scope_spans[0].spans {
            rename(&mut s.attributes, n);
        }
        batches.push(Batch::from_logs(origin(Signal::Logs), l).0);
        batches.push(Batch::from_traces(origin(Signal::Traces), t).0);
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut correlator =
        Correlator::new(CorrelatorConfig::default(), Arc::new(ManualClock::new(1)));
    let before = dhat::HeapStats::get().curr_bytes;
    let mut out = Vec::new();
    for b in &batches {
        correlator.process(b, &mut out);
    }
    let after = dhat::HeapStats::get().curr_bytes;
    let open = correlator.open_chains();
    assert_eq!(open, SESSIONS);
    assert!(out.is_empty());
    let measured = after.saturating_sub(before) / open;
    let estimated = correlator.open_bytes() / open;
    println!(
        "open chains: {open}; heap per open chain: {measured} bytes measured, {estimated} bytes \
         estimated (the max_open_bytes cap uses the estimate)"
    );
}
