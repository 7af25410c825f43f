//! The decoder against prost itself: for every input, both fail or both give
//! the same request (compared through prost's encoding, so NaN doubles
//! compare by bits).
//!
//! Inputs are (1) the real Claude Code captures, (2) wire-level messages
//! generated from the logs, traces and metrics schemas with the irregular
//! parts protobuf allows: unknown fields and groups, repeated singular
//! fields, repeated oneof variants, non-canonical varints, packed and
//! unpacked numbers, wrong wire types and invalid UTF-8, each also
//! truncated, bit-flipped and spliced, and (3) the depth limit, where both
//! must start failing at the same nesting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_otlp_wire::{decode_logs, decode_metrics, decode_traces};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::prelude::*;
use prost::Message;
use wire_gen::{Kind, Rng, message, mutate, put_key, put_varint};

mod wire_gen;

/// Both decoders' verdicts on `bytes` as a request of type `M`, each as the
/// prost encoding of the result (`None` for an error).
fn verdicts<M: Message + Default>(
    bytes: &[u8],
    ours: impl Fn(&[u8]) -> Result<M, cairn_otlp_wire::WireError>,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let theirs = M::decode(bytes).ok().map(|r| r.encode_to_vec());
    (theirs, ours(bytes).ok().map(|r| r.encode_to_vec()))
}

/// Both verdicts on a logs request.
fn both(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    verdicts::<ExportLogsServiceRequest>(bytes, decode_logs)
}

/// Both verdicts on a traces request.
fn both_traces(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    verdicts::<ExportTraceServiceRequest>(bytes, decode_traces)
}

/// Both verdicts on a metrics request.
fn both_metrics(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    verdicts::<ExportMetricsServiceRequest>(bytes, decode_metrics)
}

/// Both verdicts for a request of `kind` (logs, traces or metrics).
fn both_of(kind: Kind, bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match kind {
        Kind::TraceRequest => both_traces(bytes),
        Kind::MetricsRequest => both_metrics(bytes),
        _ => both(bytes),
    }
}

#[test]
fn every_captured_body_decodes_as_prost_decodes_it() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
    let (mut seen, mut seen_traces, mut seen_metrics) = (0, 0, 0);
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with("logs") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_logs(&bytes).unwrap();
                assert_eq!(ours, theirs, "{}", path.display());
                assert!(!ours.resource_logs.is_empty(), "{}", path.display());
                seen += 1;
            } else if name.starts_with("metrics") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_metrics(&bytes).unwrap();
                // Compared through the encoding: NaN points compare by bits.
                assert_eq!(
                    ours.encode_to_vec(),
                    theirs.encode_to_vec(),
                    "{}",
                    path.display()
                );
                assert!(!ours.resource_metrics.is_empty(), "{}", path.display());
                seen_metrics += 1;
            } else if name.starts_with("traces") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_traces(&bytes).unwrap();
                assert_eq!(ours, theirs, "{}", path.display());
                assert!(!ours.resource_spans.is_empty(), "{}", path.display());
                seen_traces += 1;
            }
        }
    }
    assert!(seen >= 5, "only {seen} captured logs bodies found");
    assert!(seen_traces >= 1, "no captured traces body found");
    assert!(seen_metrics >= 1, "no captured metrics body found");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    #[test]
    fn generated_and_damaged_messages_decode_as_prost_decodes_them(
        seed in any::<u64>(),
        signal in 0..3u8,
    ) {
        let kind = [Kind::Request, Kind::TraceRequest, Kind::MetricsRequest][usize::from(signal)];
        let mut rng = Rng::new(seed);
        let body = message(kind, &mut rng, 0);
        let (theirs, ours) = both_of(kind, &body);
        prop_assert_eq!(&ours, &theirs, "generated {:?} body {:02x?}", kind, body);
        for _ in 0..4 {
            let damaged = mutate(&body, &mut rng);
            let (theirs, ours) = both_of(kind, &damaged);
            prop_assert_eq!(&ours, &theirs, "damaged {:?} body {:02x?}", kind, damaged);
        }
    }

    #[test]
    fn arbitrary_bytes_decode_as_prost_decodes_them(
        bytes in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        let (theirs, ours) = both(&bytes);
        prop_assert_eq!(ours, theirs);
        let (theirs, ours) = both_traces(&bytes);
        prop_assert_eq!(ours, theirs);
        let (theirs, ours) = both_metrics(&bytes);
        prop_assert_eq!(ours, theirs);
    }
}

/// The generator is worth something only if it reaches both outcomes.
#[test]
fn the_generator_produces_both_valid_and_invalid_bodies() {
    let (mut ok, mut err, mut records) = (0, 0, 0);
    let (mut span_ok, mut spans) = (0, 0);
    let (mut metric_ok, mut points) = (0, 0);
    for seed in 1..2000u64 {
        let body = message(Kind::MetricsRequest, &mut Rng::new(seed), 0);
        if let Ok(r) = ExportMetricsServiceRequest::decode(body.as_slice()) {
            metric_ok += 1;
            points += r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .filter(|m| m.data.is_some())
                .count();
        }
        let body = message(Kind::TraceRequest, &mut Rng::new(seed), 0);
        if let Ok(r) = ExportTraceServiceRequest::decode(body.as_slice()) {
            span_ok += 1;
            spans += r
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum::<usize>();
        }
        let body = message(Kind::Request, &mut Rng::new(seed), 0);
        match ExportLogsServiceRequest::decode(body.as_slice()) {
            Ok(r) => {
                ok += 1;
                records += r
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .map(|sl| sl.log_records.len())
                    .sum::<usize>();
            }
            Err(_) => err += 1,
        }
    }
    assert!(ok > 200 && err > 200, "ok {ok}, err {err}");
    assert!(records > 500, "only {records} log records in valid bodies");
    assert!(
        span_ok > 200 && span_ok < 1800,
        "{span_ok} valid traces bodies"
    );
    assert!(spans > 500, "only {spans} spans in valid traces bodies");
    assert!(
        metric_ok > 200 && metric_ok < 1800,
        "{metric_ok} valid metrics bodies"
    );
    assert!(
        points > 300,
        "only {points} metrics with data in valid bodies"
    );
}

// ---- depth ----------------------------------------------------------------

/// A request whose one log record's body is `depth` arrays deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut v = AnyValue {
        value: Some(Value::StringValue("leaf".into())),
    };
    for _ in 0..depth {
        v = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
        };
    }
    request_with_body(v)
}

/// A body of `arrays` arrays around `lists` key-value lists around a
/// scalar: each list puts a `KeyValue` one level deeper, and the arrays
/// shift where the innermost one falls against the limit.
fn nested_lists(lists: usize, arrays: usize, leaf: Value) -> Vec<u8> {
    let mut v = AnyValue { value: Some(leaf) };
    for _ in 0..lists {
        v = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "k".into(),
                    value: Some(v),
                    key_strindex: 0,
                }],
            })),
        };
    }
    for _ in 0..arrays {
        v = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
        };
    }
    request_with_body(v)
}

fn request_with_body(v: AnyValue) -> Vec<u8> {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(v),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn nesting_fails_at_the_same_depth_as_prost() {
    let mut outcomes = Vec::new();
    for depth in 40..56 {
        let body = nested(depth);
        let (theirs, ours) = both(&body);
        assert_eq!(ours, theirs, "depth {depth}");
        outcomes.push(theirs.is_some());
    }
    // The range straddles the limit: the shallow ones decode, the deep fail.
    assert!(outcomes.first() == Some(&true) && outcomes.last() == Some(&false));
}

#[test]
fn key_values_at_the_depth_limit_fail_as_in_prost() {
    // Every alignment of the innermost `KeyValue` against the limit, with
    // each scalar a value can hold.
    let leaves = [
        Value::StringValue("v".into()),
        Value::IntValue(7),
        Value::BoolValue(true),
        Value::DoubleValue(0.5),
    ];
    let (mut ok, mut err) = (0, 0);
    for leaf in leaves {
        for arrays in 0..3 {
            for lists in 28..36 {
                let body = nested_lists(lists, arrays, leaf.clone());
                let (theirs, ours) = both(&body);
                assert_eq!(ours, theirs, "{lists} lists, {arrays} arrays");
                if theirs.is_some() { ok += 1 } else { err += 1 }
            }
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn deep_unknown_groups_fail_at_the_same_depth_as_prost() {
    let mut outcomes = Vec::new();
    for depth in 95..104 {
        let mut body = Vec::new();
        for _ in 0..depth {
            put_key(&mut body, 15, 3);
        }
        for _ in 0..depth {
            put_key(&mut body, 15, 4);
        }
        let (theirs, ours) = both(&body);
        assert_eq!(ours, theirs, "depth {depth}");
        outcomes.push(theirs.is_some());
    }
    assert!(outcomes.first() == Some(&true) && outcomes.last() == Some(&false));
}

#[test]
fn a_ten_thousand_deep_body_is_an_error_not_a_stack_overflow() {
    let mut body = Vec::new();
    for _ in 0..10_000 {
        put_key(&mut body, 1, 3);
    }
    assert!(decode_logs(&body).is_err());
    // Arrays 10,000 deep in a log record's body, built as bytes: a value
    // that deep could not even be dropped without overflowing the stack.
    let mut value = vec![0x0a, 0x01, b'x'];
    for _ in 0..10_000 {
        let mut array = Vec::new();
        put_key(&mut array, 1, 2);
        put_varint(&mut array, value.len() as u64);
        array.extend_from_slice(&value);
        value.clear();
        put_key(&mut value, 5, 2);
        put_varint(&mut value, array.len() as u64);
        value.extend_from_slice(&array);
    }
    let mut body = Vec::new();
    for tag in [5, 2, 2, 1] {
        // body of LogRecord, log_records, scope_logs, resource_logs
        let mut outer = Vec::new();
        put_key(&mut outer, tag, 2);
        put_varint(&mut outer, value.len() as u64);
        outer.extend_from_slice(&value);
        value = outer;
    }
    body.extend_from_slice(&value);
    assert!(ExportLogsServiceRequest::decode(body.as_slice()).is_err());
    assert!(decode_logs(&body).is_err());
}
