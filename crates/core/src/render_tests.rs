#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! [`Record::write_json`] against `serde_json::to_vec(&record.to_json(..))`:
//! byte equality on every record of the real captures and on generated
//! records (nested arrays and maps, repeated and dotted keys, non-ASCII
//! and control characters, NaN and infinite doubles, bytes, empty ids).

use std::path::PathBuf;

use opentelemetry_proto::tonic::{
    collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    },
    common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
        number_data_point,
    },
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event},
};
use proptest::prelude::*;
use prost::Message;

use crate::{
    json::{KeyStyle, tests::escape_keys},
    record::{Batch, Origin},
    render::SharedJson,
    signal::{Protocol, Signal},
};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/claude-code-2.1.330"
);

fn origins(signal: Signal) -> Vec<Origin> {
    vec![
        Origin {
            signal,
            protocol: Protocol::HttpProtobuf,
            tenant: None,
            received_unix_nano: 0,
        },
        Origin {
            signal,
            protocol: Protocol::Grpc,
            tenant: Some("acme \"é\"\n".into()),
            received_unix_nano: u64::MAX,
        },
    ]
}

thread_local! {
    /// One cache for every batch a test thread checks: entries of other
    /// batches, origins and styles sit beside the ones in use.
    static SHARED: std::cell::RefCell<SharedJson> = std::cell::RefCell::new(SharedJson::default());
}

/// Asserts both key styles of every record of `batch` match the tree, also
/// with the shared members from a [`SharedJson`].
fn check(batch: &Batch) {
    for r in &batch.records {
        for style in [KeyStyle::Plain, KeyStyle::NoDots] {
            let mut want = Vec::new();
            r.write_json_styled(&batch.origin, style, &mut want);
            let mut got = b"x".to_vec();
            SHARED.with_borrow_mut(|shared| {
                r.write_json_shared(&batch.origin, style, shared, &mut got);
            });
            assert_eq!(
                String::from_utf8_lossy(&got[1..]),
                String::from_utf8_lossy(&want),
                "shared members, {style:?}"
            );
        }
        let tree = r.to_json(&batch.origin);
        let want = serde_json::to_vec(&tree).unwrap();
        let mut got = b"x".to_vec();
        r.write_json(&batch.origin, &mut got);
        assert_eq!(
            String::from_utf8_lossy(&got[1..]),
            String::from_utf8_lossy(&want)
        );
        let want = serde_json::to_vec(&escape_keys(&tree)).unwrap();
        let mut got = Vec::new();
        r.write_json_styled(&batch.origin, KeyStyle::NoDots, &mut got);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "no dots"
        );
    }
}

fn pb_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(FIXTURES).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "pb") {
                files.push(f);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_fixture_record_writes_the_bytes_of_its_tree() {
    let mut records = 0;
    for file in pb_files() {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let signal = if name.starts_with("logs-") {
            Signal::Logs
        } else if name.starts_with("metrics-") {
            Signal::Metrics
        } else if name.starts_with("traces-") {
            Signal::Traces
        } else {
            continue;
        };
        for origin in origins(signal) {
            let batch = match signal {
                Signal::Logs => Batch::from_logs(
                    origin,
                    ExportLogsServiceRequest::decode(&bytes[..]).unwrap(),
                ),
                Signal::Metrics => Batch::from_metrics(
                    origin,
                    ExportMetricsServiceRequest::decode(&bytes[..]).unwrap(),
                ),
                Signal::Traces => Batch::from_traces(
                    origin,
                    ExportTraceServiceRequest::decode(&bytes[..]).unwrap(),
                ),
            }
            .0;
            records += batch.records.len();
            check(&batch);
        }
    }
    assert!(records > 200, "only {records} fixture records");
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "event.name", "event.timestamp", "event.sequence", "prompt.id", "agent_id",
            "session.id", "user.id", "user.email", "organization.id", "user.account_uuid",
            "tool_name", "success", "duration_ms", "decision", "source", "model", "cost_usd",
            "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
            "status_code", "error", "mcp_server_name", "hook_event", "num_hooks",
            "deleted_sessions", "files.deleted", "plugin_id", "service.name", "host.name",
            "cost_center", "a.b", "a_b", "a.z", "a0", "",
        ]).prop_map(str::to_owned),
        1 => "[a-z._]{0,6}",
        1 => "\\PC{0,5}",
        1 => "[\\x00-\\x1f\"\\\\é]{1,3}",
    ]
}

fn scalar() -> impl Strategy<Value = any_value::Value> {
    use any_value::Value as V;
    prop_oneof![
        "\\PC{0,12}".prop_map(V::StringValue),
        prop::sample::select(vec![
            "true",
            "FALSE",
            "accept",
            "reject",
            "12",
            " 42.5 ",
            "1e3",
            "inf",
            "NaN",
            "claude_code.tool_result",
            "claude_code.api_request",
            "<REDACTED>",
            "",
        ])
        .prop_map(|s| V::StringValue(s.to_owned())),
        "[\\x00-\\x1f\\x7f\"\\\\/\u{2028}]{0,4}".prop_map(V::StringValue),
        any::<bool>().prop_map(V::BoolValue),
        any::<i64>().prop_map(V::IntValue),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(1.0),
            Just(12.0),
        ]
        .prop_map(V::DoubleValue),
        prop::collection::vec(any::<u8>(), 0..9).prop_map(V::BytesValue),
        any::<i32>().prop_map(V::StringValueStrindex),
    ]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        9 => scalar().prop_map(|v| AnyValue { value: Some(v) }),
        1 => Just(AnyValue { value: None }),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|values| AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
            }),
            prop::collection::vec((key(), prop::option::weighted(0.9, inner)), 0..5).prop_map(
                |kvs| AnyValue {
                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                        values: kvs.into_iter().map(kv).collect(),
                    })),
                }
            ),
        ]
    })
}

fn kv((key, value): (String, Option<AnyValue>)) -> KeyValue {
    KeyValue {
        key,
        value,
        ..Default::default()
    }
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((key(), prop::option::weighted(0.95, any_value())), 0..14)
        .prop_map(|kvs| kvs.into_iter().map(kv).collect())
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), prop::collection::vec(any::<u8>(), len)]
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    prop::option::of(attrs().prop_map(|attributes| Resource {
        attributes,
        ..Default::default()
    }))
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    prop::option::of(("\\PC{0,6}", "[0-9.]{0,5}").prop_map(|(name, version)| {
        InstrumentationScope {
            name,
            version,
            ..Default::default()
        }
    }))
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        attrs(),
        prop::option::of(any_value()),
        id(16),
        id(8),
        any::<u64>(),
        any::<i32>(),
        prop::sample::select(crate::event::KNOWN_EVENTS.to_vec()),
        any::<bool>(),
    )
        .prop_map(
            |(mut attributes, body, trace_id, span_id, time, severity, name, named)| {
                if named {
                    attributes.push(kv((
                        "event.name".into(),
                        Some(AnyValue {
                            value: Some(any_value::Value::StringValue(name.into())),
                        }),
                    )));
                }
                LogRecord {
                    time_unix_nano: time,
                    severity_number: severity,
                    body,
                    attributes,
                    trace_id,
                    span_id,
                    ..Default::default()
                }
            },
        )
}

fn point() -> impl Strategy<Value = NumberDataPoint> {
    (
        attrs(),
        any::<u64>(),
        any::<u64>(),
        prop::option::of(prop_oneof![
            any::<f64>().prop_map(number_data_point::Value::AsDouble),
            Just(number_data_point::Value::AsDouble(f64::NAN)),
            Just(number_data_point::Value::AsDouble(f64::NEG_INFINITY)),
            any::<i64>().prop_map(number_data_point::Value::AsInt),
        ]),
    )
        .prop_map(|(attributes, start, time, value)| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            value,
            ..Default::default()
        })
}

fn metric() -> impl Strategy<Value = Metric> {
    (
        prop::sample::select(vec![
            "claude_code.cost.usage",
            "claude_code.token.usage",
            "claude_code.session.count",
            "other.metric",
        ]),
        "\\PC{0,4}",
        prop::collection::vec(point(), 0..4),
        0..3u8,
    )
        .prop_map(|(name, unit, data_points, shape)| Metric {
            name: name.into(),
            unit,
            data: match shape {
                0 => Some(Data::Sum(Sum {
                    data_points,
                    ..Default::default()
                })),
                1 => Some(Data::Gauge(Gauge { data_points })),
                _ => None,
            },
            ..Default::default()
        })
}

fn span() -> impl Strategy<Value = Span> {
    (
        attrs(),
        prop::collection::vec(any::<u8>(), 16),
        prop::collection::vec(any::<u8>(), 8),
        id(8),
        "\\PC{0,8}",
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(
            (attrs(), "\\PC{0,6}", any::<u64>()).prop_map(|(attributes, name, time)| Event {
                attributes,
                name,
                time_unix_nano: time,
                ..Default::default()
            }),
            0..3,
        ),
    )
        .prop_map(
            |(attributes, trace_id, span_id, parent, name, start, end, events)| Span {
                attributes,
                trace_id,
                span_id,
                parent_span_id: parent,
                name,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                events,
                ..Default::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn generated_events_write_the_bytes_of_their_tree(
        resource in resource(), scope in scope(), logs in prop::collection::vec(log_record(), 1..4),
    ) {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource,
                scope_logs: vec![ScopeLogs { scope, log_records: logs, ..Default::default() }],
                ..Default::default()
            }],
        };
        for origin in origins(Signal::Logs) {
            check(&Batch::from_logs(origin, req.clone()).0);
        }
    }

    #[test]
    fn generated_metrics_write_the_bytes_of_their_tree(
        resource in resource(), scope in scope(), metrics in prop::collection::vec(metric(), 1..3),
    ) {
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource,
                scope_metrics: vec![ScopeMetrics { scope, metrics, ..Default::default() }],
                ..Default::default()
            }],
        };
        for origin in origins(Signal::Metrics) {
            check(&Batch::from_metrics(origin, req.clone()).0);
        }
    }

    #[test]
    fn generated_spans_write_the_bytes_of_their_tree(
        resource in resource(), scope in scope(), spans in prop::collection::vec(span(), 1..3),
    ) {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource,
                scope_spans: vec![ScopeSpans { scope, spans, ..Default::default() }],
                ..Default::default()
            }],
        };
        for origin in origins(Signal::Traces) {
            check(&Batch::from_traces(origin, req.clone()).0);
        }
    }
}
