//! The journal end to end on a real directory: what the pipeline appends
//! reaches a consumer in order, acks let the log free segments, and what a
//! consumer had not finished when it stopped comes again on the next start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use cairn_core::record::Batch;
use cairn_pipeline::journal::{Journal, JournalError};

use super::*;
use crate::wal::{Durability, Lsn, Wal, WalConfig};

/// What a consumer was handed, in order.
type Taken = Arc<Mutex<Vec<(Lsn, Option<Entry>)>>>;

/// Records what it is handed; finishes only up to `finish_upto` frames.
#[derive(Clone, Default)]
struct Recorder {
    got: Taken,
    finish_upto: Option<usize>,
    closed: Arc<Mutex<bool>>,
}

impl Consumer for Recorder {
    fn take(&mut self, lsn: Lsn, entry: Option<Entry>) -> Result<(), ConsumeError> {
        self.got.lock().unwrap().push((lsn, entry));
        Ok(())
    }
    fn finished(&mut self) -> std::io::Result<Option<Lsn>> {
        let got = self.got.lock().unwrap();
        let n = self.finish_upto.map_or(got.len(), |k| k.min(got.len()));
        Ok(n.checked_sub(1).map(|i| got[i].0))
    }
    fn close(&mut self) -> Option<Lsn> {
        *self.closed.lock().unwrap() = true;
        self.finished().unwrap()
    }
}

fn batches() -> Vec<Arc<Batch>> {
    cairn_testkit::fixtures::scenario_batches("http-protobuf")
        .into_iter()
        .map(Arc::new)
        .collect()
}

fn config(budget: u64) -> WalConfig {
    WalConfig {
        segment_bytes: 16 << 10,
        budget_bytes: budget,
        durability: Durability::Buffered,
    }
}

fn entries(got: &[(Lsn, Option<Entry>)]) -> Vec<Entry> {
    got.iter().map(|(_, e)| e.clone().unwrap()).collect()
}

#[test]
fn what_the_pipeline_journals_reaches_the_consumer_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let reader = wal.register("archive").unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0));
    let rec = Recorder::default();
    let mut consumer = rec.clone();
    let thread = std::thread::spawn(move || consume(reader, &Recent::new(0), &mut consumer));
    let mut want = Vec::new();
    for round in 0..20 {
        for b in batches() {
            journal.append(&b).unwrap();
            want.push(Entry::Batch(b));
        }
        let chain = cairn_core::chain::PromptChain {
            prompt_id: format!("p{round}"),
            ..Default::default()
        };
        journal.append_chains(std::slice::from_ref(&chain)).unwrap();
        want.push(Entry::Chains(Arc::new(vec![chain])));
        journal.commit().unwrap();
    }
    drop(journal);
    thread.join().unwrap();
    assert!(*rec.closed.lock().unwrap());
    let got = rec.got.lock().unwrap();
    assert_eq!(entries(&got), want);
    // Segments everyone finished with were deleted: ~20 rounds of a few
    // KiB each passed through 16 KiB segments.
    let wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let stats = wal.stats();
    assert!(stats.segments <= 2, "{stats:?}");
    assert_eq!(stats.consumers[0].lag_bytes, 0, "{stats:?}");
}

#[test]
fn unfinished_entries_are_replayed_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let reader = wal.register("sink.a").unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0));
    let all = batches();
    for b in &all {
        journal.append(b).unwrap();
    }
    journal.commit().unwrap();
    drop(journal);
    // Finishes only the first 2 frames, then "crashes".
    let first = Recorder {
        finish_upto: Some(2),
        ..Recorder::default()
    };
    consume(reader, &Recent::new(0), &mut first.clone());
    assert_eq!(first.got.lock().unwrap().len(), all.len());

    let mut wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let reader = wal.register("sink.a").unwrap();
    drop(wal);
    let second = Recorder::default();
    consume(reader, &Recent::new(0), &mut second.clone());
    let again = entries(&second.got.lock().unwrap());
    let rest: Vec<Entry> = all[2..]
        .iter()
        .map(|b| Entry::Batch(Arc::clone(b)))
        .collect();
    assert_eq!(again, rest);
}

#[test]
fn a_full_log_refuses_instead_of_dropping_until_consumers_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(64 << 10)).unwrap();
    let reader = wal.register("slow").unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0));
    let b = &batches()[0];
    let mut accepted = 0;
    let full = loop {
        match journal.append(b) {
            Ok(()) => {
                accepted += 1;
                journal.commit().unwrap();
            }
            Err(e) => break e,
        }
        assert!(accepted < 10_000, "the budget never filled");
    };
    assert!(matches!(full, JournalError::Full), "{full:?}");
    // The consumer takes everything; then there is room again.
    let rec = Recorder::default();
    let mut consumer = rec.clone();
    let thread = std::thread::spawn(move || consume(reader, &Recent::new(0), &mut consumer));
    for _ in 0..1000 {
        if rec.got.lock().unwrap().len() == accepted {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(rec.got.lock().unwrap().len(), accepted);
    let mut room = false;
    for _ in 0..500 {
        journal.maintain();
        if journal.append(b).is_ok() {
            room = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(room, "no room after the consumer caught up");
    journal.commit().unwrap();
    drop(journal);
    thread.join().unwrap();
    assert_eq!(rec.got.lock().unwrap().len(), accepted + 1);
}

#[test]
fn an_undecodable_frame_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let reader = wal.register("c").unwrap();
    wal.append(b"\x09not an entry").unwrap();
    let mut journal = WalJournal::new(wal, Recent::new(0));
    journal.append(&batches()[0]).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let before = undecodable_frames();
    let rec = Recorder::default();
    consume(reader, &Recent::new(0), &mut rec.clone());
    let got = rec.got.lock().unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].1.is_none());
    assert!(matches!(got[1].1, Some(Entry::Batch(_))));
    assert!(undecodable_frames() > before);
}

#[test]
fn a_consumer_that_keeps_up_takes_the_writers_own_batch_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(1 << 20)).unwrap();
    let reader = wal.register("c").unwrap();
    let recent = Recent::new(RECENT_BYTES);
    let mut journal = WalJournal::new(wal, recent.clone());
    let batch = batches().remove(0);
    journal.append(&batch).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let rec = Recorder::default();
    consume(reader, &recent, &mut rec.clone());
    let got = rec.got.lock().unwrap();
    let Some(Entry::Batch(b)) = &got[0].1 else {
        panic!("{got:?}")
    };
    assert!(Arc::ptr_eq(b, &batch), "decoded again instead of shared");
}
