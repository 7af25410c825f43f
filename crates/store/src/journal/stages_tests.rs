//! The stages' cursor on a real log: the position the pipeline keeps is
//! acked durably, replayed (with each batch's start position) on the next
//! start, and a log filled only by what the stages keep asks them to let go.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use cairn_core::{chain::PromptChain, record::Batch};
use cairn_pipeline::journal::{Journal, Replayed};

use super::*;
use crate::wal::{Durability, Wal, WalConfig};

fn config(budget: u64) -> WalConfig {
    WalConfig {
        segment_bytes: 16 << 10,
        budget_bytes: budget,
        durability: Durability::Buffered,
    }
}

fn batches() -> Vec<Arc<Batch>> {
    cairn_testkit::fixtures::scenario_batches("http-protobuf")
        .into_iter()
        .map(Arc::new)
        .collect()
}

fn open(dir: &std::path::Path, budget: u64) -> WalJournal {
    let mut wal = Wal::open(dir, config(budget)).unwrap();
    let stages = wal.register(STAGES_CONSUMER).unwrap();
    WalJournal::new(wal, Recent::new(0)).keeping_for_stages(stages)
}

#[derive(Debug, PartialEq)]
enum Seen {
    Batch(u64, usize),
    Chains(Vec<String>),
}

fn replayed(journal: &mut WalJournal) -> Vec<Seen> {
    let mut seen = Vec::new();
    journal.replay(&mut |e| match e {
        Replayed::Batch(pos, b) => seen.push(Seen::Batch(pos, b.records.len())),
        Replayed::Chains(c) => seen.push(Seen::Chains(
            c.iter().map(|c| c.prompt_id.clone()).collect(),
        )),
    });
    seen
}

#[test]
fn the_kept_position_is_replayed_with_each_batchs_start_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let all = batches();
    let mut journal = open(dir.path(), 1 << 20);
    assert!(
        replayed(&mut journal).is_empty(),
        "a new consumer has nothing"
    );
    let mut starts = Vec::new();
    for b in &all {
        starts.push(journal.position());
        journal.append(b).unwrap();
    }
    journal.commit().unwrap();
    let chain = PromptChain {
        prompt_id: "p".into(),
        ..Default::default()
    };
    journal.append_chains(&[chain]).unwrap();
    journal.commit().unwrap();
    // The stages still need everything from the third batch on.
    journal.keep_from(starts[2]);
    journal.maintain();
    drop(journal);

    let mut journal = open(dir.path(), 1 << 20);
    let mut want: Vec<Seen> = all[2..]
        .iter()
        .zip(&starts[2..])
        .map(|(b, &pos)| Seen::Batch(pos, b.records.len()))
        .collect();
    want.push(Seen::Chains(vec!["p".into()]));
    assert_eq!(replayed(&mut journal), want);
    // New batches continue the positions where the log ended.
    let head = journal.position();
    assert!(head > starts[all.len() - 1]);
    journal.append(&all[0]).unwrap();
    assert!(journal.position() > head);
}

#[test]
fn a_log_filled_by_what_the_stages_keep_asks_them_to_let_half_go() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(64 << 10)).unwrap();
    let mut sink = wal.register("sink.a").unwrap();
    let stages = wal.register(STAGES_CONSUMER).unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0)).keeping_for_stages(stages);
    let start = journal.position();
    journal.keep_from(start);
    let b = &batches()[0];
    while journal.release_target().is_none() {
        journal.append(b).unwrap();
        journal.commit().unwrap();
        // The sink keeps up; the stages keep everything.
        sink.ack(Lsn(journal.position())).unwrap();
        assert!(journal.position() - start < 64 << 10, "never asked");
    }
    let head = journal.position();
    let target = journal.release_target().unwrap();
    assert_eq!(target, start + (head - start) / 2);
    // Once the stages let go of it, the log frees space and stops asking.
    journal.keep_from(head);
    journal.maintain();
    assert_eq!(journal.release_target(), None);
    journal.append(b).unwrap();
    journal.commit().unwrap();
}

#[test]
fn a_log_filled_because_a_sink_is_behind_asks_nothing_of_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(64 << 10)).unwrap();
    let _sink = wal.register("sink.a").unwrap();
    let stages = wal.register(STAGES_CONSUMER).unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0)).keeping_for_stages(stages);
    let b = &batches()[0];
    // The stages need nothing; the sink acks nothing.
    while journal.append(b).is_ok() {
        journal.commit().unwrap();
        journal.keep_from(journal.position());
        assert_eq!(journal.release_target(), None);
    }
}
