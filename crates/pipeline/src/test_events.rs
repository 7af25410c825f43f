//! Test helpers: Claude Code event log records and batches built from
//! them, for the tests of the correlator and the stages around it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_core::{
    otlp::{
        collector::logs::v1::ExportLogsServiceRequest,
        common::v1::{AnyValue, KeyValue, any_value::Value},
        logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    },
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};

/// A string value.
pub fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

/// A string attribute.
pub fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(s(v)),
        ..Default::default()
    }
}

/// A Claude Code event: `event.name`, `session.id`, `user.id`,
/// `event.sequence`, `event.timestamp`, `prompt.id` when given, and
/// `extra`.
pub fn event(
    session: &str,
    prompt: Option<&str>,
    seq: u64,
    name: &str,
    extra: &[(&str, &str)],
) -> LogRecord {
    let mut attributes = vec![
        kv("session.id", session),
        kv("user.id", "u1"),
        kv("event.name", name),
        kv("event.sequence", &seq.to_string()),
        kv(
            "event.timestamp",
            &format!("2026-11-23T18:31:{:02}.000Z", seq % 60),
        ),
    ];
    if let Some(p) = prompt {
        attributes.push(kv("prompt.id", p));
    }
    attributes.extend(extra.iter().map(|(k, v)| kv(k, v)));
    LogRecord {
        body: Some(s(&format!("claude_code.{name}"))),
        attributes,
        ..Default::default()
    }
}

/// The batch of an OTLP/gRPC logs request holding `logs`.
pub fn batch(logs: Vec<LogRecord>) -> Batch {
    let origin = Origin {
        signal: Signal::Logs,
        protocol: Protocol::Grpc,
        tenant: None,
        received_unix_nano: 0,
    };
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: logs,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    Batch::from_logs(origin, req).0
}
