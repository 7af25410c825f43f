//! The decoder against real Claude Code captures: protobuf and OTLP/JSON views
//! of the same requests must agree, raw http/json bodies must decode, and
//! every fixture request must survive encode → decode.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cairn_otlp_json::{
    decode_logs, decode_metrics, decode_traces, encode_logs, encode_metrics, encode_traces,
};
use common::{Signal, decoded_sibling, fixtures_ending, read, signal_of};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;

#[test]
fn decoded_json_equals_protobuf() {
    let pbs = fixtures_ending(".pb");
    assert!(
        pbs.len() >= 30,
        "expected the capture set, found {} .pb files",
        pbs.len()
    );
    for pb_path in &pbs {
        let pb = read(pb_path);
        let json = read(&decoded_sibling(pb_path));
        let where_ = pb_path.display();
        match signal_of(pb_path) {
            Signal::Logs => {
                let want = ExportLogsServiceRequest::decode(&pb[..]).unwrap();
                let got = decode_logs(&json).unwrap_or_else(|e| panic!("{where_}: {e}"));
                assert!(!want.resource_logs.is_empty(), "{where_}");
                assert_eq!(got, want, "{where_}");
            }
            Signal::Metrics => {
                let want = ExportMetricsServiceRequest::decode(&pb[..]).unwrap();
                let got = decode_metrics(&json).unwrap_or_else(|e| panic!("{where_}: {e}"));
                assert!(!want.resource_metrics.is_empty(), "{where_}");
                assert_eq!(got, want, "{where_}");
            }
            Signal::Traces => {
                let want = ExportTraceServiceRequest::decode(&pb[..]).unwrap();
                let got = decode_traces(&json).unwrap_or_else(|e| panic!("{where_}: {e}"));
                assert!(!want.resource_spans.is_empty(), "{where_}");
                assert_eq!(got, want, "{where_}");
            }
        }
    }
}

#[test]
fn every_fixture_round_trips_through_encode() {
    let pbs = fixtures_ending(".pb");
    for pb_path in &pbs {
        let pb = read(pb_path);
        let where_ = pb_path.display();
        match signal_of(pb_path) {
            Signal::Logs => {
                let req = ExportLogsServiceRequest::decode(&pb[..]).unwrap();
                let json = encode_logs(&req);
                serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
                assert_eq!(decode_logs(&json).unwrap(), req, "{where_}");
            }
            Signal::Metrics => {
                let req = ExportMetricsServiceRequest::decode(&pb[..]).unwrap();
                let json = encode_metrics(&req);
                serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
                assert_eq!(decode_metrics(&json).unwrap(), req, "{where_}");
            }
            Signal::Traces => {
                let req = ExportTraceServiceRequest::decode(&pb[..]).unwrap();
                let json = encode_traces(&req);
                serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
                assert_eq!(decode_traces(&json).unwrap(), req, "{where_}");
            }
        }
    }
}

/// Raw bodies the CLI sent with http/json (plain and gzip'd).
fn raw_json_captures() -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = fixtures_ending(".json")
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let signal_file = ["logs-", "metrics-", "traces-"]
                .iter()
                .any(|p| name.starts_with(p));
            signal_file && !name.ends_with(".decoded.json") && !name.ends_with(".meta.json")
        })
        .collect();
    out.extend(fixtures_ending(".json.gz"));
    out.sort();
    out
}

#[test]
fn raw_http_json_captures_decode_like_their_decoded_view() {
    let raws = raw_json_captures();
    assert_eq!(raws.len(), 6, "{raws:?}");
    for path in &raws {
        let raw = read(path);
        let view = read(&decoded_sibling(path));
        let where_ = path.display();
        match signal_of(path) {
            Signal::Logs => assert_eq!(
                decode_logs(&raw).unwrap_or_else(|e| panic!("{where_}: {e}")),
                decode_logs(&view).unwrap(),
                "{where_}"
            ),
            Signal::Metrics => assert_eq!(
                decode_metrics(&raw).unwrap_or_else(|e| panic!("{where_}: {e}")),
                decode_metrics(&view).unwrap(),
                "{where_}"
            ),
            Signal::Traces => assert_eq!(
                decode_traces(&raw).unwrap_or_else(|e| panic!("{where_}: {e}")),
                decode_traces(&view).unwrap(),
                "{where_}"
            ),
        }
    }
}

#[test]
fn raw_traces_have_binary_ids_and_the_known_trace_id() {
    let root = common::fixture_root();
    for path in [
        root.join("http-json/traces-001.json"),
        root.join("http-json-gzip/traces-001.json.gz"),
    ] {
        let req = decode_traces(&read(&path)).unwrap();
        let spans: Vec<_> = req
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        assert!(spans.len() >= 4, "{}", path.display());
        for span in &spans {
            assert_eq!(span.trace_id.len(), 16);
            assert_eq!(span.span_id.len(), 8);
            assert!(span.parent_span_id.is_empty() || span.parent_span_id.len() == 8);
            assert_eq!(span.kind, 1, "INTERNAL");
            assert_eq!(span.flags, 257);
        }
        let all_one_trace = spans.iter().all(|s| s.trace_id == spans[0].trace_id);
        assert!(all_one_trace, "one interaction, one trace");
    }
    let req = decode_traces(&read(&root.join("http-json/traces-001.json"))).unwrap();
    let first = &req.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(
        hex::encode(&first.trace_id),
        "07f6c185c9ce47367d3b62a91ef22929"
    );
    assert_eq!(hex::encode(&first.span_id), "2d66436179d1816b");
    assert_eq!(hex::encode(&first.parent_span_id), "c1223868219559a1");
    assert_eq!(first.name, "claude_code.tool.blocked_on_user");
    assert_eq!(first.start_time_unix_nano, 1_795_458_669_662_000_000);
    let duration = first
        .attributes
        .iter()
        .find(|kv| kv.key == "duration_ms")
        .unwrap();
    assert_eq!(
        duration.value.as_ref().unwrap().value,
        Some(Value::IntValue(17))
    );
}

#[test]
fn raw_logs_take_int_values_as_numbers() {
    let root = common::fixture_root();
    let req = decode_logs(&read(&root.join("http-json/logs-001.json"))).unwrap();
    let records: Vec<_> = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .collect();
    assert!(records.len() > 5);
    let first = records[0];
    assert_eq!(first.time_unix_nano, 1_795_458_669_382_000_000);
    assert_eq!(
        first.body.as_ref().unwrap().value,
        Some(Value::StringValue(
            "claude_code.managed_settings_resolved".into()
        ))
    );
    let seq = first
        .attributes
        .iter()
        .find(|kv| kv.key == "event.sequence")
        .unwrap();
    assert_eq!(seq.value.as_ref().unwrap().value, Some(Value::IntValue(0)));
    let sources = first
        .attributes
        .iter()
        .find(|kv| kv.key == "managed_settings.sources")
        .unwrap();
    match &sources.value.as_ref().unwrap().value {
        Some(Value::ArrayValue(array)) => assert!(array.values.is_empty()),
        other => panic!("expected an empty arrayValue, got {other:?}"),
    }
    let with_ids: Vec<_> = records.iter().filter(|r| !r.trace_id.is_empty()).collect();
    assert!(
        !with_ids.is_empty(),
        "records inside the interaction carry ids"
    );
    for record in records {
        assert!(record.trace_id.is_empty() || record.trace_id.len() == 16);
        assert!(record.span_id.is_empty() || record.span_id.len() == 8);
        let seq = record
            .attributes
            .iter()
            .find(|kv| kv.key == "event.sequence")
            .unwrap();
        assert!(matches!(
            seq.value.as_ref().unwrap().value,
            Some(Value::IntValue(_))
        ));
    }
}

#[test]
fn raw_metrics_take_integral_as_double() {
    let root = common::fixture_root();
    let req = decode_metrics(&read(&root.join("http-json/metrics-001.json"))).unwrap();
    let metrics: Vec<_> = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    let session = metrics
        .iter()
        .find(|m| m.name == "claude_code.session.count")
        .unwrap();
    match &session.data {
        Some(metric::Data::Sum(sum)) => {
            assert_eq!(sum.aggregation_temporality, 1, "DELTA");
            assert!(sum.is_monotonic);
            assert_eq!(
                sum.data_points[0].value,
                Some(number_data_point::Value::AsDouble(1.0))
            );
        }
        other => panic!("expected a Sum, got {other:?}"),
    }
}
