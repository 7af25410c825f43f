//! Journal bench: what the writer thread does to each acknowledged batch
//! before the WAL append (`entry::encode_batch`: the batch back into its
//! OTLP request, as protobuf, behind a small header), and what each WAL
//! consumer does per frame (`entry::decode`: protobuf → typed `Batch`).
//! `Throughput::Bytes` of the entry.
//!
//! Input: the capture's log records repeated to about 100 KB (the size of
//! one peerbench request) and to about 1 MB.
//!
//! `cargo bench -p cairn-benches --bench journal -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use cairn_store::journal::entry;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal");
    for (name, target) in [("logs-100KB", 100_000), ("logs-1MB", 1_000_000)] {
        let batch = cairn_benches::repeated_logs_batch(target);
        let mut buf = Vec::new();
        entry::encode_batch(&batch, &mut buf);
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| {
                buf.clear();
                entry::encode_batch(&batch, &mut buf);
                buf.len()
            })
        });
        let frame = buf.clone();
        g.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| entry::decode(&frame).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
