//! Correlator bench: events and spans per second through
//! `Correlator::process` and the fold at close, on chains shaped like the
//! real capture (the `http-protobuf` session: 11 events, 7 of them in the
//! prompt's chain, and 6 spans), 17 000 records an iteration in both
//! benches.
//!
//! * `correlate/fixture_sessions` (cold input): 1000 sessions of one prompt,
//!   every batch typed before the clock starts (~60 MB of records, far past
//!   the last-level cache), so each record is read from memory. Times the
//!   whole run: a new correlator, every batch, `close_all`, and the drop.
//! * `correlate/requests/<n>` (warm input, as the pipeline feeds it): 100
//!   sessions of 10 prompts each (`cairn_benches::fixture_stream`), in requests of at
//!   most `n` records. Each request is decoded and typed just before
//!   `process` runs on it, as the receive path and then the writer (which
//!   journals and writes the batch right before the stages see it) leave
//!   it in cache; only `process` and the final `close_all` are timed, not
//!   the decoding or the drops. A session's next prompt closes its previous
//!   chain (`Closure::NextPrompt`), so ~100 chains are open at a time, and
//!   every record is content-hashed and checked for duplicates as in
//!   production. Decoding on this thread leaves malloc's fast bins empty
//!   when `process` runs, which the writer thread's are not; BENCHMARKS.md
//!   (correlator, round 5) measures what that and the input's repeated
//!   session-start events are worth.
//! * `correlate/requests-start-once/<n>`: the same, with the capture's
//!   four session-start events (no `prompt.id`) only in each session's
//!   first prompt, as a real session sends them: after the first prompt,
//!   every event belongs to a chain (7 of 7, not 7 of 11).
//!
//! Also prints the bytes an open chain of that shape holds (the estimate the
//! byte cap works on).
//!
//! `cargo bench -p cairn-benches --bench correlate -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use cairn_benches::{Request, fixture_sessions, fixture_stream_with};
use cairn_core::{chain::v1::Closure, clock::ManualClock, record::Batch};
use cairn_pipeline::correlate::{Correlator, CorrelatorConfig};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SESSIONS: usize = 1000;

/// The warm bench's clients and the prompts each runs (100 × 10 prompts:
/// the cold bench's 1000 chains).
const CLIENTS: usize = 100;
const PROMPTS: usize = 10;

fn correlator() -> Correlator {
    Correlator::new(CorrelatorConfig::default(), Arc::new(ManualClock::new(1)))
}

fn run(batches: &[Batch]) -> (usize, Correlator) {
    let mut c = correlator();
    let mut out = Vec::new();
    for b in batches {
        c.process(b, &mut out);
    }
    let open = c.open_chains();
    c.close_all(&mut out);
    assert_eq!(out.len(), SESSIONS);
    (open, c)
}

/// One pass over `stream`: each request decoded just before it is
/// processed; returns the time spent in the correlator.
fn run_warm(stream: &[Request]) -> Duration {
    let mut c = correlator();
    let mut out = Vec::new();
    let mut spent = Duration::ZERO;
    let mut chains = 0;
    for r in stream {
        let batch = r.batch();
        let t = Instant::now();
        c.process(&batch, &mut out);
        spent += t.elapsed();
        chains += out.len();
        out.clear();
    }
    let t = Instant::now();
    c.close_all(&mut out);
    spent += t.elapsed();
    chains += out.len();
    assert_eq!(chains, CLIENTS * PROMPTS);
    spent
}

fn bench(c: &mut Criterion) {
    let batches = fixture_sessions(SESSIONS).unwrap();
    let records: usize = batches.iter().map(|b| b.records.len()).sum();
    {
        let mut probe = correlator();
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
    for (name, start_once, per_request) in [
        ("requests", false, 100),
        ("requests", false, 10),
        ("requests-start-once", true, 100),
        ("requests-start-once", true, 10),
    ] {
        let stream = fixture_stream_with(CLIENTS, PROMPTS, per_request, start_once).unwrap();
        let records: usize = stream.iter().map(Request::records).sum();
        {
            // The stream's chains are whole and close as intended.
            let mut probe = correlator();
            let mut out = Vec::new();
            for r in &stream {
                probe.process(&r.batch(), &mut out);
            }
            let next = out.len();
            probe.close_all(&mut out);
            assert_eq!(next, CLIENTS * (PROMPTS - 1));
            assert!(out.iter().all(|c| {
                let done = c.completeness.as_ref().unwrap();
                let t = c.totals.as_ref().unwrap();
                done.complete
                    && t.events == 7
                    && t.api_calls == 2
                    && t.tool_calls == 1
                    && c.trace_ids.len() == 1
            }));
            assert!(out[..next].iter().all(|c| {
                c.completeness.as_ref().unwrap().closed_by == Closure::NextPrompt as i32
            }));
            eprintln!(
                "{name} of {per_request}: {} requests, {records} records",
                stream.len()
            );
        }
        g.throughput(Throughput::Elements(records as u64));
        // Decoding, untimed, takes several times what the correlator does:
        // fewer samples keep the run to about as long as the cold bench's.
        g.sample_size(30);
        g.bench_function(BenchmarkId::new(name, per_request), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run_warm(&stream)).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
