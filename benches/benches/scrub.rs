//! Redaction stage bench: the receive path's `Scrubber::logs` (every string
//! of a logs request scanned, `user.email` hashed, per-request memo of
//! repeated values) on requests shaped like the pipeline's input: the
//! `http-protobuf` capture as 8 concurrent sessions of 4 prompts, ids made
//! distinct per session and prompt ([`cairn_benches::fixture_stream`]), in
//! requests of 100 and of 10 records. Throughput is the requests' protobuf
//! bytes; the request is cloned outside the timed part.
//!
//! `cargo bench -p cairn-benches --bench scrub -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

cairn_benches::gateway_allocator!();

use std::sync::Arc;

use cairn_benches::{Request, fixture_stream};
use cairn_core::{otlp::collector::logs::v1::ExportLogsServiceRequest, scrub::Scrubber};
use cairn_pipeline::redact::{Action, Policy, RedactStage, RedactionStats};
use cairn_redact::RedactorConfig;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

fn stage() -> RedactStage {
    RedactStage::new(
        Arc::new(RedactorConfig::default().build().unwrap()),
        Policy::new([("user.email".to_owned(), Action::Hash)]),
        Some(b"0123456789abcdef0123456789abcdef"),
        RedactionStats::default(),
    )
    .unwrap()
}

fn requests(per_request: usize) -> (Vec<ExportLogsServiceRequest>, u64) {
    let stream = fixture_stream(8, 4, per_request).unwrap();
    let mut bytes = 0u64;
    let reqs = stream
        .iter()
        .filter_map(|r| match r {
            Request::Logs(b) => {
                bytes += b.len() as u64;
                Some(ExportLogsServiceRequest::decode(&b[..]).unwrap())
            }
            Request::Traces(_) => None,
        })
        .collect();
    (reqs, bytes)
}

fn bench_scrub(c: &mut Criterion) {
    let stage = stage();
    let mut g = c.benchmark_group("scrub");
    for per_request in [100, 10] {
        let (reqs, bytes) = requests(per_request);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_with_input(
            BenchmarkId::new("requests", per_request),
            &reqs,
            |b, reqs| {
                b.iter_batched(
                    || reqs.clone(),
                    |mut reqs| {
                        for r in &mut reqs {
                            stage.logs(r);
                        }
                        reqs
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench_scrub);
criterion_main!(benches);
