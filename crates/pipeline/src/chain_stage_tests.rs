#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use cairn_core::{
    chain::{PromptChain, v1::Closure},
    clock::ManualClock,
};

use super::*;
use crate::{
    correlate::CorrelatorConfig,
    test_events::{batch, event},
};

fn stage() -> ChainStage {
    let clock = Arc::new(ManualClock::new(1));
    ChainStage::new(Correlator::new(CorrelatorConfig::default(), clock))
}

fn prompt(session: &str, p: &str, seq: u64) -> Batch {
    batch(vec![event(session, Some(p), seq, "user_prompt", &[])])
}

fn closure(c: &PromptChain) -> i32 {
    c.completeness.as_ref().unwrap().closed_by
}

#[test]
fn the_kept_position_is_the_batch_that_opened_the_oldest_open_chain() {
    let mut st = stage();
    let mut out = Vec::new();
    assert_eq!(st.needs_from(), None);
    st.process_at(10, &prompt("a", "p1", 1), &mut out);
    assert_eq!(st.needs_from(), Some(10));
    st.process_at(20, &prompt("b", "q1", 1), &mut out);
    // A batch that opens no chain (an event of an open one) moves nothing.
    st.process_at(
        25,
        &batch(vec![event("a", Some("p1"), 2, "api_request", &[])]),
        &mut out,
    );
    assert_eq!(st.needs_from(), Some(10));
    // p2 closes p1: q1 (opened at 20) is now the oldest.
    st.process_at(30, &prompt("a", "p2", 3), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(st.needs_from(), Some(20));
    st.process_at(40, &prompt("b", "q2", 2), &mut out);
    assert_eq!(st.needs_from(), Some(30));
    st.close(&mut out);
    assert_eq!(out.len(), 4);
    assert_eq!(st.needs_from(), None);
}

#[test]
fn releasing_emits_only_the_chains_opened_before_the_position() {
    let mut st = stage();
    let mut out = Vec::new();
    st.process_at(10, &prompt("a", "p1", 1), &mut out);
    st.process_at(20, &prompt("b", "q1", 1), &mut out);
    st.process_at(30, &prompt("c", "r1", 1), &mut out);
    st.release_before(25, &mut out);
    let released: Vec<_> = out.iter().map(|c| c.prompt_id.as_str()).collect();
    assert_eq!(released, ["p1", "q1"]);
    assert!(out.iter().all(|c| closure(c) == Closure::Evicted as i32));
    assert_eq!(st.needs_from(), Some(30));
    assert_eq!(st.correlator().open_chains(), 1);
    // Past every batch: all of them.
    st.release_before(31, &mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(st.needs_from(), None);
}

#[test]
fn a_settled_chain_is_not_emitted_again_and_its_amendments_continue() {
    // Before the restart: p1 closes (the next prompt), then a late event
    // amends it.
    let mut before = stage();
    let mut written = Vec::new();
    let p1 = prompt("a", "p1", 1);
    let p2 = prompt("a", "p2", 3);
    let late = batch(vec![event("a", Some("p1"), 2, "api_request", &[])]);
    before.process_at(10, &p1, &mut written);
    before.process_at(20, &p2, &mut written);
    before.process_at(30, &late, &mut written);
    assert_eq!(written.len(), 2);
    assert_eq!(written[1].amendment, 1);

    // After it, the journal replays p1's batch and then the chain record
    // written before: p1 is closed without a second record.
    let mut after = stage();
    let mut out = Vec::new();
    after.process_at(10, &p1, &mut out);
    after.settle(&written[..1]);
    assert!(out.is_empty());
    assert_eq!(after.correlator().open_chains(), 0);
    // A late event met after the settle numbers its amendment after the
    // one written; the amendment written is settled too.
    after.settle(&written[1..]);
    after.process_at(
        40,
        &batch(vec![event("a", Some("p1"), 4, "compaction", &[])]),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].chain_id, written[0].chain_id);
    assert_eq!(out[0].amendment, 2);
    after.close(&mut out);
    assert_eq!(out.len(), 1, "p1 is not emitted again at shutdown");
}
