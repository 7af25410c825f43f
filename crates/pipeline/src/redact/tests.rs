//! The stage's policy and fail-closed behaviour, value by value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use cairn_core::{
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
        common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value},
        logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
        resource::v1::Resource,
        trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event},
    },
    scrub::{REDACTED_ATTRIBUTE, Scrubber},
    value::Attrs,
};
use cairn_redact::RedactorConfig;

use super::{Action, Policy, RedactStage, RedactionStats, StageError};

pub(super) const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

pub(super) fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

pub(super) fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}

pub(super) fn stage(policy: Vec<(&str, Action)>, max_scan: usize) -> RedactStage {
    let redactor = RedactorConfig {
        max_scan_bytes: max_scan,
        ..RedactorConfig::default()
    }
    .build()
    .unwrap();
    RedactStage::new(
        Arc::new(redactor),
        Policy::new(policy.into_iter().map(|(k, a)| (k.to_owned(), a))),
        Some(b"0123456789abcdef0123456789abcdef"),
        RedactionStats::default(),
    )
    .unwrap()
}

fn logs(attrs: Vec<KeyValue>, resource: Vec<KeyValue>) -> ExportLogsServiceRequest {
    request(resource, vec![attrs])
}

/// A logs request: one resource, one scope, a record per attribute list.
pub(super) fn request(
    resource: Vec<KeyValue>,
    records: Vec<Vec<KeyValue>>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records
                    .into_iter()
                    .map(|attributes| LogRecord {
                        attributes,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub(super) fn record_attrs(req: &ExportLogsServiceRequest) -> &[KeyValue] {
    &req.resource_logs[0].scope_logs[0].log_records[0].attributes
}

pub(super) fn tag(attrs: &[KeyValue]) -> Vec<String> {
    Attrs(attrs).strings(REDACTED_ATTRIBUTE).unwrap_or_default()
}

#[test]
fn scan_is_the_default_and_tags_the_record() {
    let st = stage(vec![], 1 << 20);
    let mut req = logs(
        vec![
            kv("prompt", s(&format!("my key is {AWS} ok"))),
            kv("session.id", s("abc")),
        ],
        vec![],
    );
    st.logs(&mut req);
    let a = Attrs(record_attrs(&req));
    assert_eq!(
        a.str("prompt"),
        Some("my key is [REDACTED:aws_access_key_id] ok")
    );
    assert_eq!(a.str("session.id"), Some("abc"));
    assert_eq!(tag(record_attrs(&req)), vec!["aws_access_key_id"]);
    assert_eq!(st.stats().records.get(), 1);
}

#[test]
fn a_clean_record_is_left_untouched_and_untagged() {
    let st = stage(vec![], 1 << 20);
    let original = logs(
        vec![
            kv("prompt", s("run echo hello")),
            kv(
                "n",
                AnyValue {
                    value: Some(Value::IntValue(3)),
                },
            ),
        ],
        vec![],
    );
    let mut req = original.clone();
    st.logs(&mut req);
    assert_eq!(req, original);
}

#[test]
fn drop_keep_and_hash_follow_the_policy() {
    let st = stage(
        vec![
            ("tool_input", Action::Drop),
            ("model", Action::Keep),
            ("user.email", Action::Hash),
        ],
        1 << 20,
    );
    let mut req = logs(
        vec![
            kv("tool_input", s("whatever")),
            kv("model", s(AWS)),
            kv("user.email", s("alice@example.com")),
        ],
        vec![],
    );
    st.logs(&mut req);
    let a = Attrs(record_attrs(&req));
    assert!(!a.contains("tool_input"), "dropped");
    assert_eq!(a.str("model"), Some(AWS), "kept verbatim by policy");
    let pseudo = a.str("user.email").unwrap();
    assert!(!pseudo.contains("alice"), "{pseudo}");
    // Same input, same pseudonym: joinable.
    let mut again = logs(vec![kv("user.email", s("alice@example.com"))], vec![]);
    st.logs(&mut again);
    assert_eq!(Attrs(record_attrs(&again)).str("user.email"), Some(pseudo));
    let mut other = logs(vec![kv("user.email", s("bob@example.com"))], vec![]);
    st.logs(&mut other);
    assert_ne!(Attrs(record_attrs(&other)).str("user.email"), Some(pseudo));
    // E-mail case and padding do not split one person into two pseudonyms.
    let mut shouted = logs(vec![kv("user.email", s(" Alice@Example.COM"))], vec![]);
    st.logs(&mut shouted);
    assert_eq!(
        Attrs(record_attrs(&shouted)).str("user.email"),
        Some(pseudo)
    );
}

#[test]
fn hashing_needs_a_key() {
    let redactor = Arc::new(RedactorConfig::default().build().unwrap());
    let err = RedactStage::new(
        redactor,
        Policy::new([("user.email".to_owned(), Action::Hash)]),
        None,
        RedactionStats::default(),
    )
    .unwrap_err();
    assert!(matches!(err, StageError::MissingKey));
}

#[test]
fn unscannable_values_fail_closed() {
    let st = stage(vec![], 1024);
    let mut req = logs(
        vec![
            kv("big", s(&"a".repeat(4096))),
            kv(
                "raw",
                AnyValue {
                    value: Some(Value::BytesValue(vec![0xff, 0xfe, 0x00, 0x41])),
                },
            ),
            kv(
                "utf8_bytes",
                AnyValue {
                    value: Some(Value::BytesValue(format!("k={AWS}").into_bytes())),
                },
            ),
        ],
        vec![],
    );
    st.logs(&mut req);
    let a = Attrs(record_attrs(&req));
    assert_eq!(a.str("big"), Some("[DROPPED:unscannable]"));
    assert_eq!(a.str("raw"), Some("[DROPPED:unscannable]"));
    assert_eq!(a.str("utf8_bytes"), Some("k=[REDACTED:aws_access_key_id]"));
    let t = tag(record_attrs(&req));
    assert!(
        t.contains(&"unscannable".to_owned()) && t.contains(&"aws_access_key_id".to_owned()),
        "{t:?}"
    );
}

#[test]
fn nested_values_keys_and_resource_attributes_are_scanned() {
    let st = stage(vec![], 1 << 20);
    let nested = AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: vec![
                kv(&format!("key-{AWS}"), s("v")),
                kv("list", s(&format!("x {AWS}"))),
            ],
        })),
    };
    let mut req = logs(
        vec![kv("tool_parameters", nested)],
        vec![kv("host.note", s("ssn 078-05-1120"))],
    );
    st.logs(&mut req);
    let text = format!("{req:?}");
    assert!(
        !text.contains(AWS) && !text.contains("078-05-1120"),
        "{text}"
    );
    // A resource finding tags every record under it.
    let t = tag(record_attrs(&req));
    assert!(t.contains(&"us_ssn".to_owned()), "{t:?}");
}

#[test]
fn span_names_events_and_attributes_are_scanned() {
    let st = stage(vec![], 1 << 20);
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: format!("span {AWS}"),
                    events: vec![Event {
                        name: "tool.output".into(),
                        attributes: vec![kv("output", s(AWS))],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    st.traces(&mut req);
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    assert!(!format!("{span:?}").contains(AWS));
    assert_eq!(tag(&span.attributes), vec!["aws_access_key_id"]);
}

#[test]
fn the_policy_answers_listed_keys_and_only_them() {
    let long = "k".repeat(70);
    let policy = Policy::new([
        ("user.email".to_owned(), Action::Hash),
        ("x".to_owned(), Action::Drop),
        (long.clone(), Action::Keep),
    ]);
    assert_eq!(policy.action("user.email"), Action::Hash);
    assert_eq!(policy.action("x"), Action::Drop);
    assert_eq!(policy.action(&long), Action::Keep);
    // Same lengths as listed keys, not listed.
    assert_eq!(policy.action("session.id"), Action::Scan);
    assert_eq!(policy.action("y"), Action::Scan);
    assert_eq!(policy.action(&"k".repeat(64)), Action::Scan);
    assert_eq!(policy.action(&"j".repeat(70)), Action::Scan);
    // Lengths no listed key has.
    assert_eq!(policy.action("model"), Action::Scan);
    assert_eq!(policy.action(""), Action::Scan);
    assert_eq!(Policy::default().action("user.email"), Action::Scan);
}
