//! Sink encoder benches: each sink's `encode_batch` (records → the
//! destination's wire units: OTLP protobuf, Splunk HEC events, Elastic bulk
//! lines, Datadog and Sumo JSON, Sentinel rows, syslog RFC 5424 and CEF),
//! on one core, over the capture's log records repeated to about 1 MB.
//! `Throughput::Bytes` is the batch's protobuf size, the same input for
//! every sink; each bench's output size is printed once.
//!
//! `cargo bench -p cairn-benches --bench sinks -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use cairn_core::record::Batch;
use cairn_sinks::{
    config::{SinkConfig, SinkKind},
    route::Route,
    sink::Sink,
};
use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use prost::Message;

const SINKS: &[(&str, &str)] = &[
    (
        "otlp",
        "[otlp]\nendpoint = \"http://127.0.0.1:4317\"\nprotocol = \"grpc\"\n",
    ),
    (
        "splunk_hec",
        "[splunk_hec]\nurl = \"http://127.0.0.1:8088\"\ntoken = \"00000000-1111-2222-3333-444444444444\"\n",
    ),
    (
        "elastic",
        "[elastic]\nurl = \"http://127.0.0.1:9200\"\napi_key = \"a2V5\"\n",
    ),
    (
        "datadog",
        "[datadog]\nurl = \"http://127.0.0.1:8126\"\napi_key = \"0123456789abcdef0123456789abcdef\"\n",
    ),
    (
        "sumo",
        "[sumo]\nurl = \"http://127.0.0.1:9999/receiver/v1/http/abc\"\n",
    ),
    (
        "sentinel",
        "[sentinel]\nendpoint = \"http://127.0.0.1:9998\"\nauthority = \"http://127.0.0.1:9997\"\ndcr_immutable_id = \"dcr-00000000000000000000000000000000\"\nstream = \"Custom-CairnAudit_CL\"\ntenant_id = \"00000000-0000-0000-0000-000000000000\"\nclient_id = \"00000000-0000-0000-0000-000000000000\"\nclient_secret = \"s\"\n",
    ),
    (
        "syslog",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"udp\"\n",
    ),
    (
        "syslog-cef",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"udp\"\nformat = \"cef\"\n",
    ),
];

fn one<S: Sink>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, sink: S, batch: &Batch) {
    let route = Route::everything();
    let mut units = Vec::new();
    sink.encode_batch(batch, &route, &mut units);
    let out: usize = units
        .iter()
        .map(|u| u.as_ref().map_or(0, |u| u.bytes.len()))
        .sum();
    assert!(units.iter().all(Result::is_ok), "{name}: encode errors");
    eprintln!("sinks/{name}: {} units, {out} bytes out", units.len());
    g.bench_function(name, |b| {
        b.iter(|| {
            units.clear();
            sink.encode_batch(batch, &route, &mut units);
            units.len()
        })
    });
}

fn bench(c: &mut Criterion) {
    // Some clients (tonic's channel) are built inside a runtime.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _inside = rt.enter();
    let batch = cairn_benches::repeated_logs_batch(1_000_000);
    let mut g = c.benchmark_group("sinks");
    g.throughput(Throughput::Bytes(
        batch.to_logs_request().encoded_len() as u64
    ));
    for (name, table) in SINKS {
        let text = format!("name = \"bench\"\n[route]\nrecords = [\"events\"]\n{table}");
        let config: SinkConfig = toml::from_str(&text).unwrap();
        match config.kind().unwrap() {
            SinkKind::Otlp(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::SplunkHec(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::Elastic(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::Datadog(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::Sumo(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::Sentinel(k) => one(&mut g, name, k.build().unwrap(), &batch),
            SinkKind::Syslog(k) => one(&mut g, name, k.build().unwrap(), &batch),
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
