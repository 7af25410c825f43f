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

use cairn_benches::fixture_sessions;
use cairn_core::{clock::ManualClock, record::Batch};
use cairn_pipeline::correlate::{Correlator, CorrelatorConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SESSIONS: usize = 1000;

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
    let batches = fixture_sessions(SESSIONS).unwrap();
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
