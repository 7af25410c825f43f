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

use cairn_benches::fixture_sessions;
use cairn_core::clock::ManualClock;
use cairn_pipeline::correlate::{Correlator, CorrelatorConfig};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const SESSIONS: usize = 1000;

fn main() {
    let batches = fixture_sessions(SESSIONS).unwrap();
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
