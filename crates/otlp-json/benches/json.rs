//! Throughput of the OTLP/JSON codec on real Claude Code payloads: decode and
//! encode of the http/json captures, plus a ~1 MB logs body made by repeating
//! the log records of `http-json/logs-001.json`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use cairn_otlp_json::{
    decode_logs, decode_metrics, decode_traces, encode_logs, encode_metrics, encode_traces,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

fn capture(name: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/claude-code-2.1.330/http-json")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `logs-001.json` with its log records repeated until the body is about `target` bytes,
/// written compactly like the CLI writes it (ints as numbers, ids in hex).
fn big_logs(target: usize) -> Vec<u8> {
    let mut tree: Value = serde_json::from_slice(&capture("logs-001.json")).unwrap();
    let records = tree["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        .as_array()
        .unwrap()
        .clone();
    let one: usize = records
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len() + 1)
        .sum();
    let mut all = Vec::new();
    while all.len() * one / records.len().max(1) < target {
        all.extend(records.iter().cloned());
    }
    tree["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = Value::Array(all);
    serde_json::to_vec(&tree).unwrap()
}

fn decode(c: &mut Criterion) {
    let logs = capture("logs-001.json");
    let metrics = capture("metrics-001.json");
    let traces = capture("traces-001.json");
    let big = big_logs(1 << 20);

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(logs.len() as u64));
    group.bench_function("logs-001", |b| {
        b.iter(|| decode_logs(black_box(&logs)).unwrap())
    });
    group.throughput(Throughput::Bytes(metrics.len() as u64));
    group.bench_function("metrics-001", |b| {
        b.iter(|| decode_metrics(black_box(&metrics)).unwrap())
    });
    group.throughput(Throughput::Bytes(traces.len() as u64));
    group.bench_function("traces-001", |b| {
        b.iter(|| decode_traces(black_box(&traces)).unwrap())
    });
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.bench_function("logs-1MB", |b| {
        b.iter(|| decode_logs(black_box(&big)).unwrap())
    });
    // Reference point: serde_json into its generic `Value` tree, same bytes.
    group.bench_function("logs-1MB-serde_json-Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&big)).unwrap())
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let logs = decode_logs(&big_logs(1 << 20)).unwrap();
    let metrics = decode_metrics(&capture("metrics-001.json")).unwrap();
    let traces = decode_traces(&capture("traces-001.json")).unwrap();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(encode_logs(&logs).len() as u64));
    group.bench_function("logs-1MB", |b| b.iter(|| encode_logs(black_box(&logs))));
    group.throughput(Throughput::Bytes(encode_metrics(&metrics).len() as u64));
    group.bench_function("metrics-001", |b| {
        b.iter(|| encode_metrics(black_box(&metrics)))
    });
    group.throughput(Throughput::Bytes(encode_traces(&traces).len() as u64));
    group.bench_function("traces-001", |b| {
        b.iter(|| encode_traces(black_box(&traces)))
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
