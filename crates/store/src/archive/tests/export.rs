//! Export through the writer-thread output: real typed records and a chain,
//! filtered by time, user and session.

use cairn_core::{
    chain::{
        PromptChain,
        v1::{When, Who},
    },
    otlp::{
        collector::logs::v1::ExportLogsServiceRequest,
        logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    },
    record::{Batch, Origin},
    signal::{Protocol, Signal},
    value::kv_str,
};
use cairn_pipeline::output::Output;
use serde_json::Value;

use super::*;
use crate::archive::{
    ArchiveOutput, Filter, export,
    format::{EntryKind, entry_hash},
};

fn event(email: &str, user_id: &str, session: &str, prompt: &str, at: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: at,
        attributes: vec![
            kv_str("event.name", "user_prompt"),
            kv_str("user.email", email),
            kv_str("user.id", user_id),
            kv_str("user.account_uuid", format!("acct-{user_id}")),
            kv_str("session.id", session),
            kv_str("prompt.id", prompt),
        ],
        ..Default::default()
    }
}

fn batch() -> Batch {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    event("alice@example.com", "uid-a", "s1", "p1", T0),
                    event("bob@example.com", "uid-b", "s2", "p9", T0 + 60 * SEC),
                    event("alice@example.com", "uid-a", "s1", "p2", T0 + 120 * SEC),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let origin = Origin {
        signal: Signal::Logs,
        protocol: Protocol::HttpJson,
        tenant: None,
        received_unix_nano: T0 + 500 * SEC,
    };
    Batch::from_logs(origin, req).0
}

fn chain() -> PromptChain {
    PromptChain {
        session_id: "s1".into(),
        prompt_id: "p1".into(),
        who: Some(Who {
            email: "alice@example.com".into(),
            user_id: "uid-a".into(),
            ..Default::default()
        }),
        when: Some(When {
            first_unix_nano: T0 + SEC,
            last_unix_nano: T0 + 2 * SEC,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The archive holds the batch's three events, then the chain.
fn archived() -> (Fx, Batch) {
    let fx = Fx::new();
    let mut out = ArchiveOutput::new(fx.open(config()));
    let b = batch();
    out.write(&b).unwrap();
    out.write_chains(&[chain()]).unwrap();
    out.flush().unwrap();
    out.close().unwrap();
    fx.verify().unwrap();
    (fx, b)
}

fn rows(fx: &Fx, filter: &Filter) -> Vec<Value> {
    let mut out = Vec::new();
    let n = export(&fx.dir(), filter, &mut out).unwrap();
    let rows: Vec<Value> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(n as usize, rows.len());
    rows
}

fn prompts(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r["prompt.id"].as_str().unwrap())
        .collect()
}

fn at(secs: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(T0 + secs * SEC)).unwrap()
}

#[test]
fn export_writes_every_record_with_its_ids_and_the_exact_archived_bytes() {
    let (fx, b) = archived();
    let all = rows(&fx, &Filter::default());
    assert_eq!(prompts(&all), ["p1", "p9", "p2", "p1"]);
    let first = &all[0];
    assert_eq!(first["time"], "2025-06-15T16:00:00Z");
    assert_eq!(first["session.id"], "s1");
    assert_eq!(first["user.email"], "alice@example.com");
    assert_eq!(first["user.id"], "uid-a");
    assert_eq!(first["user.account_uuid"], "acct-uid-a");
    assert_eq!(
        (first["kind"].as_str(), first["event"].as_str()),
        (Some("event"), Some("user_prompt"))
    );
    // The record is what the records file would hold for it.
    assert_eq!(first["record"], b.records[0].to_json(&b.origin));
    // ... and its hash can be recomputed from the exported line alone.
    let body = serde_json::to_vec(&first["record"]).unwrap();
    let mut prev = [0u8; 32];
    hex::decode_to_slice(first["prev"].as_str().unwrap(), &mut prev).unwrap();
    let seq = first["seq"].as_u64().unwrap();
    assert_eq!(
        hex::encode(entry_hash(&prev, seq, EntryKind::Record, &body)),
        first["hash"]
    );
    let chain = &all[3];
    assert_eq!(
        (chain["kind"].as_str(), chain["event"].as_str()),
        (Some("prompt_chain"), Some("cairn.prompt_chain"))
    );
    assert_eq!(chain["time"], "2025-06-15T16:00:01Z");
    assert_eq!(chain["user.email"], "alice@example.com");
    assert_eq!(chain["record"]["chain"]["sessionId"], "s1");
}

#[test]
fn export_filters_by_time() {
    let (fx, _) = archived();
    let since = Filter {
        since: Some(at(30)),
        ..Filter::default()
    };
    assert_eq!(prompts(&rows(&fx, &since)), ["p9", "p2"]);
    let until = Filter {
        until: Some(at(60)),
        ..Filter::default()
    };
    assert_eq!(
        prompts(&rows(&fx, &until)),
        ["p1", "p1"],
        "until is exclusive"
    );
    let window = Filter {
        since: Some(at(60)),
        until: Some(at(61)),
        ..Filter::default()
    };
    assert_eq!(prompts(&rows(&fx, &window)), ["p9"], "since is inclusive");
    assert_eq!(Filter::parse_time("2025-06-15T16:01:00Z").unwrap(), at(60));
    assert!(Filter::parse_time("yesterday").is_err());
}

#[test]
fn export_filters_by_user_and_session() {
    let (fx, _) = archived();
    let user = |u: &str| Filter {
        user: Some(u.into()),
        ..Filter::default()
    };
    assert_eq!(
        prompts(&rows(&fx, &user("ALICE@example.com"))),
        ["p1", "p2", "p1"]
    );
    assert_eq!(prompts(&rows(&fx, &user("uid-b"))), ["p9"]);
    assert_eq!(prompts(&rows(&fx, &user("acct-uid-a"))), ["p1", "p2"]);
    assert!(rows(&fx, &user("mallory@example.com")).is_empty());
    let session = Filter {
        session: Some("s2".into()),
        ..Filter::default()
    };
    assert_eq!(prompts(&rows(&fx, &session)), ["p9"]);
    let both = Filter {
        user: Some("alice@example.com".into()),
        session: Some("s1".into()),
        since: Some(at(60)),
        until: None,
    };
    assert_eq!(prompts(&rows(&fx, &both)), ["p2"]);
}
