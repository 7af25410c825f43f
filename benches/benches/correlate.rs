//! Correlator bench: events and spans per second through
//! `Correlator::process` and the fold at close, on chains shaped like the
//! real capture (the `http-protobuf` session: 11 events, 7 of them in the
//! prompt's chain, and 6 spans), repeated over many sessions.
//!
//! Also prints the bytes an open chain of that shape holds (the estimate the
//! byte cap works on).
//!
//! `cargo bench -p cairn-benches --bench correlate -- --warm-up-time 1 --measurement-time 3`
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
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

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

/// One logs batch and one traces batch per session.
fn sessions() -> Vec<Batch> {
    let read = |p: &str| std::fs::read(fixtures::root().join(p)).unwrap();
    let logs = ExportLogsServiceRequest::decode(&read("http-protobuf/logs-001.pb")[..]).unwrap();
    let traces =
        ExportTraceServiceRequest::decode(&read("http-protobuf/traces-001.pb")[..]).unwrap();
    let mut out = Vec::new();
    for n in 0..SESSIONS {
        let mut l = logs.clone();
        for r in &mut l.resource_logs[0].scope_logs[0].log_records {
            rename(&mut r.attributes, n);
        }
        let mut t = traces.clone();
        for s in &mut t.resource_spans[0].scope_spans[0].spans {
            rename(&mut s.attributes, n);
        }
        out.push(Batch::from_logs(origin(Signal::Logs), l).0);
        out.push(Batch::from_traces(origin(Signal::Traces), t).0);
    }
    out
}

fn run(batches: &[Batch]) -> (usize, Correlator) {
    let mut c = Correlator::new(CorrelatorConfig::default(), Arc::new(ManualClock::new(1)));
    let mut out = Vec::new();
    for b in batches {
        c.process(b, &mut out);
    }
    let open = c.open_chains();
    c.close_all(&mut out);
    assert_eq!(out.len(), SESSIONS);
    (open, c)
}

fn bench(c: &mut Criterion) {
    let batches = sessions();
    let records: usize = batches.iter().map(|b| b.records.len()).sum();
    {
        let mut probe = Correlator::new(CorrelatorConfig::default(), Arc::new(ManualClock::new(1)));
        let mut out = Vec::new();
        for b in &batches {
            probe.process(b, &mut out);
        }
        eprintln!(
            "open chains: {}, bytes held: {}, per open chain: {} bytes",
            probe.open_chains(),
            probe.open_bytes(),
            probe.open_bytes() / probe.open_chains().max(1)
        );
    }
    let mut g = c.benchmark_group("correlate");
    g.throughput(Throughput::Elements(records as u64));
    g.bench_function("fixture_sessions", |b| b.iter(|| run(&batches).0));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
