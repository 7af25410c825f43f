//! Enricher bench: events per second through `Enricher::enrich`, on the
//! real capture's log records (the `http-protobuf` session, 11 events with
//! `cost_center`, `department` and `team.id` copied onto each) repeated to
//! 10,000 events in one request, decoded afresh for each iteration (the
//! decode is not timed).
//!
//! * `directory`: a 10,000-user directory keyed by `user.email` with a
//!   pseudonymizer (the hashed-e-mail path); each event carries the hashed
//!   e-mail of one of the users, one in ten of an unknown user.
//! * `attributes`: no directory, the assignment comes from the attributes.
//!
//! `cargo bench -p cairn-benches --bench enrich -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

cairn_benches::gateway_allocator!();

use std::{fmt::Write as _, path::PathBuf};

use cairn_core::{
    otlp::{
        collector::logs::v1::ExportLogsServiceRequest,
        common::v1::{AnyValue, any_value::Value},
    },
    record::{Batch, Origin, RecordBody},
    signal::{Protocol, Signal},
    value::kv_str,
};
use cairn_pipeline::enrich::{DirectoryKey, EnrichConfig, Enricher, email_pseudonym};
use cairn_redact::Pseudonymizer;
use cairn_testkit::fixtures;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

const EVENTS: usize = 10_000;
const USERS: usize = 10_000;

fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

/// The capture's logs request with its records repeated to `EVENTS`, each
/// with the hashed e-mail of user `n % USERS` (every tenth one unknown),
/// encoded once: each iteration decodes it, so the batch is laid out as a
/// receiver hands it on.
fn request(p: &Pseudonymizer) -> Vec<u8> {
    let body = std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap();
    let mut req = ExportLogsServiceRequest::decode(body.as_slice()).unwrap();
    let logs = &mut req.resource_logs[0].scope_logs[0].log_records;
    let base = std::mem::take(logs);
    for n in 0..EVENTS {
        let mut log = base[n % base.len()].clone();
        let user = if n % 10 == 9 {
            format!("stranger{n}@example.com")
        } else {
            email(n % USERS)
        };
        log.attributes
            .push(kv_str("user.email", email_pseudonym(p, &user)));
        logs.push(log);
    }
    req.encode_to_vec()
}

fn decode(body: &[u8]) -> Batch {
    let origin = Origin {
        signal: Signal::Logs,
        protocol: Protocol::HttpProtobuf,
        tenant: None,
        received_unix_nano: 1,
    };
    let req = ExportLogsServiceRequest::decode(body).unwrap();
    Batch::from_logs(origin, req).0
}

fn directory_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("cairn-enrich-bench-{}.csv", std::process::id()));
    let mut text = String::from("user.email,department,cost_center,team,manager\n");
    for i in 0..USERS {
        writeln!(
            text,
            "{},dept-{},cc-{},team-{},manager{}@example.com",
            email(i),
            i % 17,
            i % 101,
            i % 333,
            i % 50
        )
        .unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn bench_enrich(c: &mut Criterion) {
    let p = Pseudonymizer::new(b"bench-key-0123456789abcdef").unwrap();
    let body = request(&p);
    let path = directory_file();
    let with_dir = Enricher::new(
        EnrichConfig {
            directory: Some(path.clone()),
            directory_key: DirectoryKey::Email,
            ..EnrichConfig::default()
        },
        Some(p.clone()),
    )
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(with_dir.handle().unwrap().current().len(), USERS);
    let attrs_only = Enricher::new(EnrichConfig::default(), None).unwrap();

    // Sanity: the directory path really assigns from the directory.
    let mut probe = decode(&body);
    assert_eq!(probe.records.len(), EVENTS);
    with_dir.enrich(&mut probe);
    let RecordBody::Event(e) = &probe.records[0].body else {
        panic!("not an event")
    };
    let source = e
        .log
        .attributes
        .iter()
        .find(|kv| kv.key == "cairn.cost_center.source")
        .and_then(|kv| kv.value.clone());
    assert_eq!(
        source,
        Some(AnyValue {
            value: Some(Value::StringValue("directory".into()))
        })
    );

    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(EVENTS as u64));
    for (name, enricher) in [("directory", &with_dir), ("attributes", &attrs_only)] {
        group.bench_with_input(BenchmarkId::new("events", name), &body, |b, body| {
            b.iter_batched(
                || decode(body),
                |mut batch| {
                    enricher.enrich(&mut batch);
                    batch
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_enrich);
criterion_main!(benches);
