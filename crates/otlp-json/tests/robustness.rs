//! Hostile input: nothing may panic or overflow the stack; too-deep values
//! are refused with this crate's own error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cairn_otlp_json::{
    MAX_ANY_VALUE_DEPTH, decode_logs, decode_logs_response, decode_metrics,
    decode_metrics_response, decode_traces, decode_traces_response, encode_logs,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::prelude::*;
use serde_json::Value as Json;

/// Feeds `bytes` to every decoder; only panics (which fail the test) matter.
fn decode_all(bytes: &[u8]) {
    let _ = decode_logs(bytes);
    let _ = decode_metrics(bytes);
    let _ = decode_traces(bytes);
    let _ = decode_logs_response(bytes);
    let _ = decode_metrics_response(bytes);
    let _ = decode_traces_response(bytes);
}

/// A log body made of `depth` nested `arrayValue`s around a string.
fn nested_array_body(depth: usize) -> String {
    let mut s = String::from(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"#);
    for _ in 0..depth {
        s.push_str(r#"{"arrayValue":{"values":["#);
    }
    s.push_str(r#"{"stringValue":"leaf"}"#);
    for _ in 0..depth {
        s.push_str("]}}");
    }
    s.push_str("}]}]}]}");
    s
}

/// Exemplar filtered attributes (the deepest envelope) with `depth` nested `kvlistValue`s.
fn nested_kvlist_exemplar(depth: usize) -> String {
    let mut s = String::from(
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"k","value":"#,
    );
    for _ in 0..depth {
        s.push_str(r#"{"kvlistValue":{"values":[{"key":"k","value":"#);
    }
    s.push_str(r#"{"intValue":1}"#);
    for _ in 0..depth {
        s.push_str("}]}}");
    }
    s.push_str("}]}]}]}}]}]}]}");
    s
}

#[test]
fn nesting_up_to_the_limit_decodes() {
    let req = decode_logs(nested_array_body(MAX_ANY_VALUE_DEPTH).as_bytes()).unwrap();
    assert!(
        req.resource_logs[0].scope_logs[0].log_records[0]
            .body
            .is_some()
    );
    decode_metrics(nested_kvlist_exemplar(MAX_ANY_VALUE_DEPTH).as_bytes()).unwrap();
}

#[test]
fn nesting_past_the_limit_is_our_error() {
    for json in [
        nested_array_body(MAX_ANY_VALUE_DEPTH + 1),
        nested_array_body(100),
    ] {
        let err = decode_logs(json.as_bytes()).unwrap_err();
        assert!(err.message().contains("nested deeper"), "{err}");
    }
    let err =
        decode_metrics(nested_kvlist_exemplar(MAX_ANY_VALUE_DEPTH + 1).as_bytes()).unwrap_err();
    assert!(err.message().contains("nested deeper"), "{err}");
}

#[test]
fn ten_thousand_levels_do_not_overflow() {
    let err = decode_logs(nested_array_body(10_000).as_bytes()).unwrap_err();
    assert!(err.message().contains("nested deeper"), "{err}");
    let err = decode_metrics(nested_kvlist_exemplar(10_000).as_bytes()).unwrap_err();
    assert!(err.message().contains("nested deeper"), "{err}");
    // Deep raw nesting in an unknown field is skipped without recursion (serde_json's
    // skipper is iterative), so it is fine; in known fields serde_json's limit applies.
    let mut deep = String::from(r#"{"unknown":"#);
    deep.push_str(&"[".repeat(10_000));
    deep.push_str(&"]".repeat(10_000));
    deep.push('}');
    decode_all(deep.as_bytes());
    assert!(decode_logs(deep.as_bytes()).is_ok());
    let open = "{\"resourceLogs\":[".repeat(10_000);
    decode_all(open.as_bytes());
    assert!(decode_traces(open.as_bytes()).is_err());
    decode_all("[".repeat(100_000).as_bytes());
    decode_all("{\"a\":".repeat(100_000).as_bytes());
}

/// Builds an `AnyValue` of `depth` nested arrays without recursion.
fn deep_any_value(depth: usize) -> AnyValue {
    let mut value = AnyValue {
        value: Some(any_value::Value::StringValue("leaf".into())),
    };
    for _ in 0..depth {
        value = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![value],
            })),
        };
    }
    value
}

/// Takes a deep `AnyValue` apart level by level (the derived drop would recurse).
fn dismantle(mut value: AnyValue) {
    while let Some(any_value::Value::ArrayValue(mut array)) = value.value.take() {
        match array.values.pop() {
            Some(inner) => value = inner,
            None => break,
        }
    }
}

#[test]
fn encoding_a_very_deep_value_does_not_overflow() {
    let mut req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(deep_any_value(10_000)),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let json = encode_logs(&req);
    let text = String::from_utf8(json).unwrap();
    assert!(
        text.starts_with(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"arrayValue":"#)
    );
    assert!(text.ends_with("}]}]}]}"));
    assert!(
        !text.contains("leaf"),
        "cut below the encoder's depth bound"
    );
    assert_eq!(text.matches('[').count(), text.matches(']').count());
    assert!(decode_logs(text.as_bytes()).is_err());
    let body = req.resource_logs[0].scope_logs[0].log_records[0]
        .body
        .take()
        .unwrap();
    dismantle(body);
}

/// Keys of the OTLP/JSON vocabulary, so random trees hit real fields.
const KEYS: &[&str] = &[
    "resourceLogs",
    "resourceMetrics",
    "resourceSpans",
    "resource",
    "scopeLogs",
    "scopeMetrics",
    "scopeSpans",
    "scope",
    "logRecords",
    "metrics",
    "spans",
    "attributes",
    "key",
    "value",
    "stringValue",
    "intValue",
    "doubleValue",
    "boolValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
    "values",
    "traceId",
    "spanId",
    "parentSpanId",
    "timeUnixNano",
    "kind",
    "status",
    "code",
    "sum",
    "gauge",
    "histogram",
    "dataPoints",
    "asDouble",
    "asInt",
    "bucketCounts",
    "explicitBounds",
    "exemplars",
    "partialSuccess",
    "rejectedSpans",
    "severityNumber",
    "flags",
    "positive",
    "offset",
    "quantileValues",
    "entityRefs",
    "idKeys",
    "x",
];

fn json_leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        prop::sample::select(vec![
            "",
            "NaN",
            "Infinity",
            "-Infinity",
            "1",
            "-1",
            "1e400",
            "18446744073709551616",
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            "SPAN_KIND_SERVER",
            "AQI=",
            "zz",
            "\u{0}",
        ])
        .prop_map(|s| Json::String(s.to_owned())),
        any::<String>().prop_map(Json::String),
    ]
}

fn json_tree() -> impl Strategy<Value = Json> {
    json_leaf().prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|entries| {
                Json::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// Replaces the `n`th node (depth-first) of `tree` with `with`.
fn replace_nth(tree: &mut Json, n: &mut usize, with: &Json) -> bool {
    if *n == 0 {
        *tree = with.clone();
        return true;
    }
    *n -= 1;
    match tree {
        Json::Array(items) => items.iter_mut().any(|item| replace_nth(item, n, with)),
        Json::Object(map) => map.values_mut().any(|item| replace_nth(item, n, with)),
        _ => false,
    }
}

fn fixture_json(name: &str) -> Vec<u8> {
    common::read(&common::fixture_root().join("http-json").join(name))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn json_ish_text_never_panics(text in "[\\[\\]{}:,\"0-9a-fA-F\\-\\.eEnulrtsIfyNaV \\\\]{0,256}") {
        decode_all(text.as_bytes());
    }

    #[test]
    fn random_otlp_shaped_trees_never_panic(tree in json_tree()) {
        let bytes = serde_json::to_vec(&tree).unwrap();
        decode_all(&bytes);
    }

    #[test]
    fn fixture_with_one_node_replaced_never_panics(
        which in 0usize..3,
        node in 0usize..4000,
        with in json_tree(),
    ) {
        let name = ["logs-001.json", "metrics-001.json", "traces-001.json"][which];
        let mut tree: Json = serde_json::from_slice(&fixture_json(name)).unwrap();
        let mut n = node;
        replace_nth(&mut tree, &mut n, &with);
        decode_all(&serde_json::to_vec(&tree).unwrap());
    }

    #[test]
    fn fixture_with_bytes_mangled_never_panics(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let name = ["logs-001.json", "metrics-001.json", "traces-001.json"][which];
        let mut bytes = fixture_json(name);
        for (at, byte, op) in edits {
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        decode_all(&bytes);
    }
}
