//! Decode benches: OTLP protobuf and OTLP/JSON bodies into typed records
//! (the receivers' `decode`: wire bytes → request → `Batch` of `Record`s),
//! per signal, with `Throughput::Bytes` of the body.
//!
//! Inputs are the real Claude Code captures, and a ~1 MB logs body built by
//! repeating the capture's log records (the size of a busy export).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use cairn_benches::origin;
use cairn_core::signal::Signal;
use cairn_otlp::receiver::{Format, decode};
use cairn_testkit::fixtures;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixtures::root().join(path)).unwrap()
}

fn bench_decode(c: &mut Criterion) {
    let big = cairn_benches::repeated_logs(1_000_000);
    let inputs: Vec<(&str, Signal, Format, Vec<u8>)> = vec![
        (
            "logs-1MB",
            Signal::Logs,
            Format::Protobuf,
            big.encode_to_vec(),
        ),
        (
            "logs-1MB",
            Signal::Logs,
            Format::Json,
            cairn_otlp_json::encode_logs(&big),
        ),
        (
            "logs",
            Signal::Logs,
            Format::Protobuf,
            read("http-protobuf/logs-001.pb"),
        ),
        (
            "logs",
            Signal::Logs,
            Format::Json,
            read("http-json/logs-001.json"),
        ),
        (
            "metrics",
            Signal::Metrics,
            Format::Protobuf,
            read("http-protobuf/metrics-001.pb"),
        ),
        (
            "metrics",
            Signal::Metrics,
            Format::Json,
            read("http-json/metrics-001.json"),
        ),
        (
            "traces",
            Signal::Traces,
            Format::Protobuf,
            read("http-protobuf/traces-001.pb"),
        ),
        (
            "traces",
            Signal::Traces,
            Format::Json,
            read("http-json/traces-001.json"),
        ),
    ];
    let mut group = c.benchmark_group("decode");
    for (name, signal, format, body) in &inputs {
        let fmt = match format {
            Format::Protobuf => "protobuf",
            Format::Json => "json",
        };
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new(fmt, name), body, |b, body| {
            b.iter(|| decode(*signal, *format, body, origin(*signal)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
