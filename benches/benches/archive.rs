//! Archive bench: bytes per second appended into the tamper-evident archive
//! (`cairn_store::archive::Archive`): each record's JSON hashed into the
//! chain (SHA-256 over prev, seq and the exact bytes), framed as a line and
//! written to the segment, with the default checkpoint (an Ed25519 seal
//! every 1,000 records) and 128 MiB rotation. Throughput is the records'
//! JSON bytes.
//!
//! The input is the `http-protobuf` capture's session repeated (11 events
//! and 6 spans a session, each under its own ids), rendered once with
//! `Record::to_json` as the records file and the archive output do.
//!
//! * `record_tree`: `append(&record.to_json(origin))`, rendering included,
//!   as `ArchiveOutput` did it before records were written straight out.
//! * `record_write`: `append_with(|buf| record.write_json(origin, buf))`,
//!   rendering included, as `ArchiveOutput` does it; the same bytes.
//! * `append_value`: `append(&Value)` of the pre-rendered trees (serialising
//!   the tree is timed, building it is not); buffered, no fsync.
//! * `append_bytes`: the same records pre-serialised (`RawValue`): hashing,
//!   framing and the buffered write alone.
//! * `append_group_flush_100`: `append_bytes` plus `flush` (write-through and
//!   one `fdatasync`) every 100 records, as the writer thread's group commit.
//!
//! `cargo bench -p cairn-benches --bench archive -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use std::{path::PathBuf, sync::Arc};

use cairn_benches::fixture_sessions;
use cairn_core::clock::SystemClock;
use cairn_store::archive::{Archive, ArchiveConfig, ArchiveKey};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, value::RawValue};

const SESSIONS: usize = 60; // 1,020 records

fn open(dir: &PathBuf) -> Archive {
    let _ = std::fs::remove_dir_all(dir);
    Archive::open(
        dir,
        ArchiveKey::from_seed(&[7; 32]),
        ArchiveConfig::default(),
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let batches = fixture_sessions(SESSIONS).unwrap();
    let values: Vec<Value> = batches
        .iter()
        .flat_map(|b| b.records.iter().map(|r| r.to_json(&b.origin)))
        .collect();
    let raws: Vec<Box<RawValue>> = values
        .iter()
        .map(|v| RawValue::from_string(serde_json::to_string(v).unwrap()).unwrap())
        .collect();
    let bytes: usize = raws.iter().map(|r| r.get().len()).sum();
    eprintln!("{} records, {bytes} bytes of JSON", raws.len());
    let root = std::env::temp_dir().join(format!("cairn-archive-bench-{}", std::process::id()));

    let mut g = c.benchmark_group("archive");
    g.throughput(Throughput::Bytes(bytes as u64));
    {
        let mut a = open(&root.join("tree"));
        g.bench_function("record_tree", |b| {
            b.iter(|| {
                for batch in &batches {
                    for r in &batch.records {
                        a.append(&r.to_json(&batch.origin)).unwrap();
                    }
                }
            })
        });
    }
    {
        let mut a = open(&root.join("write"));
        g.bench_function("record_write", |b| {
            b.iter(|| {
                for batch in &batches {
                    for r in &batch.records {
                        a.append_with(|buf| r.write_json(&batch.origin, buf))
                            .unwrap();
                    }
                }
            })
        });
    }
    {
        let mut a = open(&root.join("value"));
        g.bench_function("append_value", |b| {
            b.iter(|| {
                for v in &values {
                    a.append(v).unwrap();
                }
            })
        });
    }
    {
        let mut a = open(&root.join("bytes"));
        g.bench_function("append_bytes", |b| {
            b.iter(|| {
                for r in &raws {
                    a.append(&**r).unwrap();
                }
            })
        });
    }
    {
        let mut a = open(&root.join("flush"));
        g.bench_function("append_group_flush_100", |b| {
            b.iter(|| {
                for chunk in raws.chunks(100) {
                    for r in chunk {
                        a.append(&**r).unwrap();
                    }
                    a.flush().unwrap();
                }
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, bench);
criterion_main!(benches);
