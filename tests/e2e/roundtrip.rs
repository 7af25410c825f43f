//! Nothing is lost in decoding: every capture, decoded and typed, re-encodes
//! to exactly the request that was sent (protobuf and OTLP/JSON alike), and
//! arbitrary bytes never panic either decoder.

use cairn_core::{
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};
use cairn_otlp::receiver::{Format, decode};
use cairn_testkit::fixtures;
use proptest::prelude::*;
use prost::Message;

fn origin(signal: Signal) -> Origin {
    Origin {
        signal,
        protocol: Protocol::HttpProtobuf,
        tenant: None,
        received_unix_nano: 1,
    }
}

fn reencoded(batch: &Batch) -> Vec<u8> {
    match batch.origin.signal {
        Signal::Logs => batch.to_logs_request().encode_to_vec(),
        Signal::Metrics => batch.to_metrics_request().encode_to_vec(),
        Signal::Traces => batch.to_traces_request().encode_to_vec(),
    }
}

/// The sent request, parsed independently of cairn and re-encoded canonically.
fn original_canonical(signal: Signal, input: &[u8]) -> Vec<u8> {
    use cairn_core::otlp::collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    };
    match signal {
        Signal::Logs => ExportLogsServiceRequest::decode(input)
            .unwrap()
            .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceRequest::decode(input)
            .unwrap()
            .encode_to_vec(),
        Signal::Traces => ExportTraceServiceRequest::decode(input)
            .unwrap()
            .encode_to_vec(),
    }
}

#[test]
fn every_protobuf_capture_reencodes_to_its_input() {
    let mut checked = 0;
    for p in fixtures::payloads()
        .into_iter()
        .filter(|p| p.path.ends_with(".pb"))
    {
        let input = p.body();
        let (batch, rejected) =
            decode(p.signal, Format::Protobuf, &input, origin(p.signal)).unwrap();
        assert_eq!(rejected.count, 0, "{}", p.path);
        assert!(!batch.records.is_empty(), "{}", p.path);
        // Message equality with what was sent. (Not byte equality: the CLI's
        // protobufjs writes explicit zero defaults that prost omits.)
        let again = reencoded(&batch);
        assert_eq!(
            again,
            original_canonical(p.signal, &input),
            "{}: re-encoded request differs",
            p.path
        );
        let (batch2, _) = decode(p.signal, Format::Protobuf, &again, origin(p.signal)).unwrap();
        assert_eq!(batch2.records, batch.records, "{}", p.path);
        checked += 1;
    }
    assert!(checked >= 30, "checked {checked} captures");
}

#[test]
fn every_json_capture_reencodes_to_the_same_request() {
    let mut checked = 0;
    for p in fixtures::payloads()
        .into_iter()
        .filter(|p| p.protocol == "http/json")
    {
        let raw = p.body();
        let json = if p.content_encoding.as_deref() == Some("gzip") {
            cairn_otlp::body::gunzip(&raw, 1 << 26).unwrap().to_vec()
        } else {
            raw
        };
        let (batch, rejected) = decode(p.signal, Format::Json, &json, origin(p.signal)).unwrap();
        assert_eq!(rejected.count, 0);
        let reencoded_json = match p.signal {
            Signal::Logs => cairn_otlp_json::encode_logs(&batch.to_logs_request()),
            Signal::Metrics => cairn_otlp_json::encode_metrics(&batch.to_metrics_request()),
            Signal::Traces => cairn_otlp_json::encode_traces(&batch.to_traces_request()),
        };
        let (batch2, _) =
            decode(p.signal, Format::Json, &reencoded_json, origin(p.signal)).unwrap();
        assert_eq!(batch2.records, batch.records, "{}", p.path);
        // And the JSON means what the protobuf printer's view of it says.
        let original: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let n_in: usize = count_records(&original);
        assert_eq!(batch.records.len(), n_in, "{}", p.path);
        checked += 1;
    }
    assert_eq!(checked, 6);
}

fn count_records(v: &serde_json::Value) -> usize {
    let mut n = 0;
    for (outer, mid, inner) in [
        ("resourceLogs", "scopeLogs", "logRecords"),
        ("resourceMetrics", "scopeMetrics", "metrics"),
        ("resourceSpans", "scopeSpans", "spans"),
    ] {
        for r in v[outer].as_array().into_iter().flatten() {
            for s in r[mid].as_array().into_iter().flatten() {
                n += s[inner].as_array().map(Vec::len).unwrap_or(0);
            }
        }
    }
    n
}

#[test]
fn malformed_ids_are_rejected_as_partial_success() {
    let mut req = cairn_core::otlp::collector::logs::v1::ExportLogsServiceRequest::decode(
        &std::fs::read(fixtures::root().join("grpc/logs-001.pb")).unwrap()[..],
    )
    .unwrap();
    let total: usize = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    req.resource_logs[0].scope_logs[0].log_records[0].trace_id = vec![1, 2, 3];
    let (batch, rejected) = decode(
        Signal::Logs,
        Format::Protobuf,
        &req.encode_to_vec(),
        origin(Signal::Logs),
    )
    .unwrap();
    assert_eq!(rejected.count, 1);
    assert!(rejected.message.contains("trace_id"));
    assert_eq!(batch.records.len(), total - 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic_either_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for signal in Signal::ALL {
            for format in [Format::Protobuf, Format::Json] {
                let _ = decode(signal, format, &bytes, origin(signal));
            }
        }
    }

    #[test]
    fn mutated_captures_never_panic(idx in 0usize..9385, byte in any::<u8>(), cut in 0usize..9385) {
        let mut input = std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap();
        let i = idx % input.len();
        input[i] = byte;
        input.truncate(cut.max(1));
        let _ = decode(Signal::Logs, Format::Protobuf, &input, origin(Signal::Logs));
        let mut json = std::fs::read(fixtures::root().join("http-json/logs-001.json")).unwrap();
        let j = idx % json.len();
        json[j] = byte;
        let _ = decode(Signal::Logs, Format::Json, &json, origin(Signal::Logs));
    }
}
