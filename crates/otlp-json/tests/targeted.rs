//! Hand-written cases for each wire rule: number forms, ids, keys, enums,
//! nulls, oneofs, responses and the exact encoded form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_otlp_json::{
    DecodeErrorKind, decode_logs, decode_logs_response, decode_metrics, decode_metrics_response,
    decode_traces, decode_traces_response, encode_logs, encode_logs_response, encode_metrics,
    encode_metrics_response, encode_status, encode_traces, encode_traces_response,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};

/// Wraps one log record's JSON in a request.
fn log_request(record: &str) -> String {
    format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{record}]}}]}}]}}"#)
}

fn one_record(json: &str) -> LogRecord {
    let req = decode_logs(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
    req.resource_logs[0].scope_logs[0].log_records[0].clone()
}

fn attr(json_value: &str) -> Option<Value> {
    let record = one_record(&log_request(&format!(
        r#"{{"attributes":[{{"key":"k","value":{json_value}}}]}}"#
    )));
    record.attributes[0].value.as_ref().unwrap().value.clone()
}

fn attr_err(json_value: &str) -> cairn_otlp_json::DecodeError {
    let json = log_request(&format!(
        r#"{{"attributes":[{{"key":"k","value":{json_value}}}]}}"#
    ));
    decode_logs(json.as_bytes()).expect_err(json_value)
}

fn sum_point_value(point: &str) -> Option<number_data_point::Value> {
    let json = format!(
        r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"m","sum":{{"dataPoints":[{point}]}}}}]}}]}}]}}"#
    );
    let req = decode_metrics(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
    match &req.resource_metrics[0].scope_metrics[0].metrics[0].data {
        Some(metric::Data::Sum(sum)) => sum.data_points[0].value,
        other => panic!("{other:?}"),
    }
}

#[test]
fn int64_as_number_or_string() {
    assert_eq!(attr(r#"{"intValue":42}"#), Some(Value::IntValue(42)));
    assert_eq!(attr(r#"{"intValue":"42"}"#), Some(Value::IntValue(42)));
    assert_eq!(attr(r#"{"intValue":-7}"#), Some(Value::IntValue(-7)));
    assert_eq!(
        attr(r#"{"intValue":"-9223372036854775808"}"#),
        Some(Value::IntValue(i64::MIN))
    );
    assert_eq!(
        attr(r#"{"intValue":9223372036854775807}"#),
        Some(Value::IntValue(i64::MAX))
    );
    assert_eq!(attr(r#"{"intValue":1e3}"#), Some(Value::IntValue(1000)));
    assert_eq!(attr(r#"{"intValue":"2.0"}"#), Some(Value::IntValue(2)));
    attr_err(r#"{"intValue":"9223372036854775808"}"#);
    attr_err(r#"{"intValue":1.5}"#);
    attr_err(r#"{"intValue":"seven"}"#);
    attr_err(r#"{"intValue":true}"#);
}

#[test]
fn uint64_and_uint32_forms_and_ranges() {
    let r = one_record(&log_request(
        r#"{"timeUnixNano":"18446744073709551615","observedTimeUnixNano":5,"droppedAttributesCount":"3","flags":"1"}"#,
    ));
    assert_eq!(r.time_unix_nano, u64::MAX);
    assert_eq!(r.observed_time_unix_nano, 5);
    assert_eq!(r.dropped_attributes_count, 3);
    assert_eq!(r.flags, 1);
    for bad in [
        r#"{"timeUnixNano":-1}"#,
        r#"{"timeUnixNano":"18446744073709551616"}"#,
        r#"{"flags":4294967296}"#,
        r#"{"droppedAttributesCount":-1}"#,
    ] {
        let err = decode_logs(log_request(bad).as_bytes()).expect_err(bad);
        assert_eq!(err.kind(), DecodeErrorKind::Data, "{bad}: {err}");
        assert!(err.message().contains("out of range"), "{bad}: {err}");
    }
}

#[test]
fn doubles_accept_numbers_strings_and_specials() {
    assert_eq!(
        sum_point_value(r#"{"asDouble":1}"#),
        Some(number_data_point::Value::AsDouble(1.0))
    );
    assert_eq!(
        sum_point_value(r#"{"asDouble":-2.5}"#),
        Some(number_data_point::Value::AsDouble(-2.5))
    );
    assert_eq!(
        sum_point_value(r#"{"asDouble":"0.25"}"#),
        Some(number_data_point::Value::AsDouble(0.25))
    );
    assert_eq!(
        sum_point_value(r#"{"asDouble":"Infinity"}"#),
        Some(number_data_point::Value::AsDouble(f64::INFINITY))
    );
    assert_eq!(
        sum_point_value(r#"{"asDouble":"-Infinity"}"#),
        Some(number_data_point::Value::AsDouble(f64::NEG_INFINITY))
    );
    match sum_point_value(r#"{"asDouble":"NaN"}"#) {
        Some(number_data_point::Value::AsDouble(v)) => assert!(v.is_nan()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sum_point_value(r#"{"asInt":"-3"}"#),
        Some(number_data_point::Value::AsInt(-3))
    );
    assert_eq!(sum_point_value(r#"{"asInt":null}"#), None);
    assert_eq!(attr(r#"{"doubleValue":3}"#), Some(Value::DoubleValue(3.0)));
    assert!(matches!(attr(r#"{"doubleValue":"NaN"}"#), Some(Value::DoubleValue(v)) if v.is_nan()));
    attr_err(r#"{"doubleValue":"lots"}"#);
}

#[test]
fn non_finite_doubles_encode_as_strings() {
    let mut req = ExportLogsServiceRequest::default();
    let mut record = LogRecord::default();
    for (key, v) in [
        ("nan", f64::NAN),
        ("inf", f64::INFINITY),
        ("ninf", f64::NEG_INFINITY),
        ("one", 1.0),
    ] {
        record.attributes.push(KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::DoubleValue(v)),
            }),
            key_strindex: 0,
        });
    }
    req.resource_logs.push(ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: vec![record],
            ..Default::default()
        }],
        ..Default::default()
    });
    let text = String::from_utf8(encode_logs(&req)).unwrap();
    assert!(text.contains(r#"{"doubleValue":"NaN"}"#), "{text}");
    assert!(text.contains(r#"{"doubleValue":"Infinity"}"#), "{text}");
    assert!(text.contains(r#"{"doubleValue":"-Infinity"}"#), "{text}");
    assert!(text.contains(r#"{"doubleValue":1.0}"#), "{text}");
}

#[test]
fn hex_ids_are_case_insensitive() {
    let lower = one_record(&log_request(
        r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}"#,
    ));
    let upper = one_record(&log_request(
        r#"{"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"B7AD6B7169203331"}"#,
    ));
    assert_eq!(lower.trace_id, upper.trace_id);
    assert_eq!(lower.span_id, upper.span_id);
    assert_eq!(lower.trace_id.len(), 16);
    assert_eq!(
        lower.span_id,
        vec![0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]
    );
    let empty = one_record(&log_request(r#"{"traceId":"","spanId":null}"#));
    assert!(empty.trace_id.is_empty() && empty.span_id.is_empty());
}

#[test]
fn bad_hex_ids_are_errors_with_a_path() {
    for bad in [
        r#"{"traceId":"0af7651916cd43dd8448eb211c80319"}"#, // 31 digits
        r#"{"traceId":"0af7651916cd43dd8448eb211c80319czz"}"#, // 34
        r#"{"traceId":"zzf7651916cd43dd8448eb211c80319c"}"#, // not hex
        r#"{"traceId":"S/dlGRbNQ92ESOshHIAxnA=="}"#,        // base64 is not accepted
        r#"{"spanId":"0af7651916cd43dd8448eb211c80319c"}"#, // a trace id where a span id goes
        r#"{"spanId":12}"#,
    ] {
        let err = decode_logs(log_request(bad).as_bytes()).expect_err(bad);
        assert_eq!(err.kind(), DecodeErrorKind::Data, "{bad}");
        assert!(
            err.path()
                .starts_with("resourceLogs[0].scopeLogs[0].logRecords[0]."),
            "{bad}: {err}"
        );
        assert!(err.line() == 1 && err.column() > 40, "{bad}: {err}");
    }
    let spans = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"},{"parentSpanId":"xx"}]}]}]}"#;
    let err = decode_traces(spans.as_bytes()).unwrap_err();
    assert_eq!(
        err.path(),
        "resourceSpans[0].scopeSpans[0].spans[1].parentSpanId"
    );
    assert!(
        err.to_string()
            .contains("resourceSpans[0].scopeSpans[0].spans[1].parentSpanId"),
        "{err}"
    );
    assert!(err.to_string().contains("span id"), "{err}");
}

#[test]
fn snake_case_keys_are_accepted() {
    let snake = r#"{"resource_logs":[{"resource":{"attributes":[{"key":"a","value":{"string_value":"x"}}],"dropped_attributes_count":1},"scope_logs":[{"scope":{"name":"s"},"log_records":[{"time_unix_nano":"5","observed_time_unix_nano":6,"severity_number":9,"severity_text":"INFO","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","event_name":"e","dropped_attributes_count":2,"attributes":[{"key":"b","value":{"kvlist_value":{"values":[{"key":"c","value":{"int_value":"1"}}]}}},{"key":"d","value":{"array_value":{"values":[{"bool_value":true},{"double_value":1.5},{"bytes_value":"AQI="}]}}}]}],"schema_url":"u"}],"schema_url":"v"}]}"#;
    let camel = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"a","value":{"stringValue":"x"}}],"droppedAttributesCount":1},"scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"5","observedTimeUnixNano":6,"severityNumber":9,"severityText":"INFO","traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","eventName":"e","droppedAttributesCount":2,"attributes":[{"key":"b","value":{"kvlistValue":{"values":[{"key":"c","value":{"intValue":"1"}}]}}},{"key":"d","value":{"arrayValue":{"values":[{"boolValue":true},{"doubleValue":1.5},{"bytesValue":"AQI="}]}}}]}],"schemaUrl":"u"}],"schemaUrl":"v"}]}"#;
    let a = decode_logs(snake.as_bytes()).unwrap();
    let b = decode_logs(camel.as_bytes()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.resource_logs[0].schema_url, "v");
    assert_eq!(
        a.resource_logs[0].scope_logs[0].log_records[0].event_name,
        "e"
    );

    let spans = r#"{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","parent_span_id":"b7ad6b7169203331","start_time_unix_nano":"1","end_time_unix_nano":"2","dropped_events_count":3,"dropped_links_count":4,"trace_state":"x=y"}]}]}]}"#;
    let span = &decode_traces(spans.as_bytes()).unwrap().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((span.start_time_unix_nano, span.end_time_unix_nano), (1, 2));
    assert_eq!(
        (span.dropped_events_count, span.dropped_links_count),
        (3, 4)
    );
    assert_eq!(span.trace_state, "x=y");
    assert_eq!(span.parent_span_id.len(), 8);
}

#[test]
fn unknown_fields_are_ignored_at_every_level() {
    let json = r#"{"x":1,"resourceLogs":[{"y":{"deep":[1,{"z":null}]},"resource":{"q":"r","attributes":[]},"scopeLogs":[{"w":[],"scope":{"name":"s","extra":true},"logRecords":[{"future":{"a":[[[]]]},"body":{"stringValue":"b","note":"x"},"attributes":[{"key":"k","value":{"intValue":1},"comment":"c"}]}]}]}],"trailer":"t"}"#;
    let req = decode_logs(json.as_bytes()).unwrap();
    let record = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(
        record.body.as_ref().unwrap().value,
        Some(Value::StringValue("b".into()))
    );
    assert_eq!(
        record.attributes[0].value.as_ref().unwrap().value,
        Some(Value::IntValue(1))
    );
    assert_eq!(
        req.resource_logs[0].scope_logs[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "s"
    );
}

#[test]
fn enums_accept_names() {
    let r = one_record(&log_request(r#"{"severityNumber":"SEVERITY_NUMBER_WARN"}"#));
    assert_eq!(r.severity_number, 13);
    let r = one_record(&log_request(r#"{"severityNumber":17}"#));
    assert_eq!(r.severity_number, 17);
    let err = decode_logs(log_request(r#"{"severityNumber":"LOUD"}"#).as_bytes()).unwrap_err();
    assert!(err.message().contains("SeverityNumber"), "{err}");

    let spans = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR","message":"m"}},{"kind":3,"status":{"code":1}}]}]}]}"#;
    let req = decode_traces(spans.as_bytes()).unwrap();
    let spans = &req.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans[0].kind, 2);
    assert_eq!(spans[0].status.as_ref().unwrap().code, 2);
    assert_eq!(spans[1].kind, 3);
    assert_eq!(spans[1].status.as_ref().unwrap().code, 1);

    let metrics = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}},{"histogram":{"aggregationTemporality":1}}]}]}]}"#;
    let req = decode_metrics(metrics.as_bytes()).unwrap();
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    assert!(
        matches!(&metrics[0].data, Some(metric::Data::Sum(s)) if s.aggregation_temporality == 2)
    );
    assert!(
        matches!(&metrics[1].data, Some(metric::Data::Histogram(h)) if h.aggregation_temporality == 1)
    );
}

#[test]
fn null_means_default() {
    let record = one_record(&log_request(
        r#"{"timeUnixNano":null,"observedTimeUnixNano":null,"severityNumber":null,"severityText":null,"body":null,"attributes":null,"droppedAttributesCount":null,"flags":null,"traceId":null,"spanId":null,"eventName":null}"#,
    ));
    assert_eq!(record, LogRecord::default());
    let req = decode_logs(br#"{"resourceLogs":[{"resource":null,"scopeLogs":[{"scope":null,"logRecords":null,"schemaUrl":null}],"schemaUrl":null}]}"#).unwrap();
    assert_eq!(req.resource_logs[0].resource, None);
    assert_eq!(req.resource_logs[0].scope_logs[0].scope, None);
    assert!(req.resource_logs[0].scope_logs[0].log_records.is_empty());
    assert_eq!(
        decode_logs(b"null").unwrap(),
        ExportLogsServiceRequest::default()
    );
    assert_eq!(
        decode_logs(b"{\"resourceLogs\":null}").unwrap(),
        ExportLogsServiceRequest::default()
    );
    assert_eq!(
        decode_logs(br#"{"resourceLogs":[null]}"#)
            .unwrap()
            .resource_logs,
        vec![ResourceLogs::default()]
    );
    // A key whose value is null has no value; one with `{}` has an empty one.
    let r = one_record(&log_request(
        r#"{"attributes":[{"key":"a","value":null},{"key":"b","value":{}},{"key":"c","value":{"stringValue":null}}]}"#,
    ));
    assert_eq!(r.attributes[0].value, None);
    assert_eq!(r.attributes[1].value, Some(AnyValue::default()));
    assert_eq!(r.attributes[2].value, Some(AnyValue::default()));
    let metrics = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":null,"sum":{"dataPoints":[{"asDouble":null,"asInt":"4","exemplars":null}],"isMonotonic":null}}]}]}]}"#;
    let req = decode_metrics(metrics).unwrap();
    match &req.resource_metrics[0].scope_metrics[0].metrics[0].data {
        Some(metric::Data::Sum(sum)) => {
            assert!(!sum.is_monotonic);
            assert_eq!(
                sum.data_points[0].value,
                Some(number_data_point::Value::AsInt(4))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn any_value_shapes() {
    assert_eq!(attr("{}"), None);
    assert_eq!(
        attr(r#"{"stringValue":""}"#),
        Some(Value::StringValue(String::new()))
    );
    assert_eq!(
        attr(r#"{"boolValue":false}"#),
        Some(Value::BoolValue(false))
    );
    assert_eq!(
        attr(r#"{"stringValueStrindex":3}"#),
        Some(Value::StringValueStrindex(3))
    );
    match attr(r#"{"arrayValue":{}}"#) {
        Some(Value::ArrayValue(a)) => assert!(a.values.is_empty()),
        other => panic!("{other:?}"),
    }
    match attr(r#"{"kvlistValue":{"values":[{"key":"x"},{"key":"y","value":{"intValue":"2"}}]}}"#) {
        Some(Value::KvlistValue(list)) => {
            assert_eq!(list.values.len(), 2);
            assert_eq!(list.values[0].value, None);
            assert_eq!(
                list.values[1].value.as_ref().unwrap().value,
                Some(Value::IntValue(2))
            );
        }
        other => panic!("{other:?}"),
    }
    let err = attr_err(r#"{"stringValue":"a","intValue":1}"#);
    assert!(err.message().contains("more than one"), "{err}");
    attr_err(r#"{"stringValue":5}"#);
    attr_err(r#"[]"#);
    attr_err(r#""text""#);
}

#[test]
fn bytes_value_is_base64_in_any_dialect() {
    let want = Some(Value::BytesValue(vec![0xfb, 0xff, 0xfe]));
    assert_eq!(attr(r#"{"bytesValue":"+//+"}"#), want);
    assert_eq!(attr(r#"{"bytesValue":"-__-"}"#), want);
    assert_eq!(
        attr(r#"{"bytesValue":"AQI="}"#),
        Some(Value::BytesValue(vec![1, 2]))
    );
    assert_eq!(
        attr(r#"{"bytesValue":"AQI"}"#),
        Some(Value::BytesValue(vec![1, 2]))
    );
    assert_eq!(
        attr(r#"{"bytesValue":""}"#),
        Some(Value::BytesValue(vec![]))
    );
    attr_err(r#"{"bytesValue":"not base64!"}"#);
}

#[test]
fn syntax_errors_report_position() {
    let err = decode_logs(b"{\"resourceLogs\":[\n{\"scopeLogs\": [}]}").unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Syntax);
    assert_eq!(err.line(), 2);
    assert!(err.to_string().contains("line 2"), "{err}");
    let err = decode_logs(b"{\"resourceLogs\":[").unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Eof);
    assert!(decode_logs(b"{} trailing").is_err());
    assert!(decode_logs(b"").is_err());
    assert!(decode_logs(b"[]").is_err());
    assert!(decode_logs(b"\xff\xfe").is_err());
    assert!(decode_logs(b"  {}  \n").is_ok());
    let err = decode_logs(b"{\"resourceLogs\":\n [{\"x\":\"\xc3\x28\"}]}").unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Syntax);
    assert_eq!((err.line(), err.column()), (2, 9), "{err}");
    assert!(err.to_string().contains("invalid UTF-8"), "{err}");
}

#[test]
fn encoded_form_follows_otlp_json() {
    let json = log_request(
        r#"{"timeUnixNano":1,"severityNumber":"SEVERITY_NUMBER_INFO","traceId":"0AF7651916CD43DD8448EB211C80319C","flags":1,"body":{"stringValue":"q\"\n"},"attributes":[{"key":"n","value":{"intValue":-3}},{"key":"e","value":{}}]}"#,
    );
    let req = decode_logs(json.as_bytes()).unwrap();
    let text = String::from_utf8(encode_logs(&req)).unwrap();
    assert_eq!(
        text,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","severityNumber":9,"body":{"stringValue":"q\"\n"},"attributes":[{"key":"n","value":{"intValue":"-3"}},{"key":"e","value":{}}],"flags":1,"traceId":"0af7651916cd43dd8448eb211c80319c"}]}]}]}"#
    );
    assert_eq!(encode_logs(&ExportLogsServiceRequest::default()), b"{}");
    assert_eq!(
        String::from_utf8(encode_metrics(&Default::default())).unwrap(),
        "{}"
    );
    assert_eq!(
        String::from_utf8(encode_traces(&Default::default())).unwrap(),
        "{}"
    );
}

#[test]
fn control_characters_are_escaped() {
    let mut record = LogRecord::default();
    let text: String = (0u8..0x20)
        .map(char::from)
        .chain("\"\\é€😀\u{7f}".chars())
        .collect();
    record.body = Some(AnyValue {
        value: Some(Value::StringValue(text.clone())),
    });
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let json = encode_logs(&req);
    let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        parsed["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"],
        serde_json::Value::String(text)
    );
    assert_eq!(decode_logs(&json).unwrap(), req);
}

#[test]
fn responses_round_trip_with_partial_success() {
    let body = br#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"x"}}"#;
    let resp = decode_logs_response(body).unwrap();
    assert_eq!(
        resp,
        ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 2,
                error_message: "x".into(),
            }),
        }
    );
    assert_eq!(encode_logs_response(&resp), body.to_vec());
    assert_eq!(
        decode_logs_response(br#"{"partial_success":{"rejected_log_records":2}}"#)
            .unwrap()
            .partial_success
            .unwrap()
            .rejected_log_records,
        2
    );
    assert_eq!(
        encode_logs_response(&ExportLogsServiceResponse::default()),
        b"{}"
    );
    assert_eq!(
        decode_logs_response(b"{}").unwrap(),
        ExportLogsServiceResponse::default()
    );

    let metrics = ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess {
            rejected_data_points: i64::MAX,
            error_message: "too \"many\"".into(),
        }),
    };
    let encoded = encode_metrics_response(&metrics);
    assert_eq!(
        encoded,
        br#"{"partialSuccess":{"rejectedDataPoints":"9223372036854775807","errorMessage":"too \"many\""}}"#.to_vec()
    );
    assert_eq!(decode_metrics_response(&encoded).unwrap(), metrics);

    let traces = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 5,
            error_message: String::new(),
        }),
    };
    let encoded = encode_traces_response(&traces);
    assert_eq!(
        encoded,
        br#"{"partialSuccess":{"rejectedSpans":"5"}}"#.to_vec()
    );
    assert_eq!(decode_traces_response(&encoded).unwrap(), traces);
    assert_eq!(
        decode_traces_response(br#"{"partialSuccess":{"rejectedSpans":7}}"#)
            .unwrap()
            .partial_success
            .unwrap()
            .rejected_spans,
        7
    );
    // An empty partialSuccess object is kept as present.
    let empty = decode_traces_response(br#"{"partialSuccess":{}}"#).unwrap();
    assert_eq!(
        empty.partial_success,
        Some(ExportTracePartialSuccess::default())
    );
    assert_eq!(
        encode_traces_response(&empty),
        br#"{"partialSuccess":{}}"#.to_vec()
    );
}

#[test]
fn status_body() {
    assert_eq!(
        encode_status(3, "bad \"json\""),
        br#"{"code":3,"message":"bad \"json\""}"#.to_vec()
    );
    assert_eq!(
        encode_status(-1, ""),
        br#"{"code":-1,"message":""}"#.to_vec()
    );
    let v: serde_json::Value = serde_json::from_slice(&encode_status(14, "unavailable\n")).unwrap();
    assert_eq!(v["code"], 14);
    assert_eq!(v["message"], "unavailable\n");
}

#[test]
fn a_oneof_metric_with_two_kinds_is_an_error() {
    let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{},"sum":{}}]}]}]}"#;
    let err = decode_metrics(json).unwrap_err();
    assert!(err.message().contains("more than one"), "{err}");
    assert_eq!(
        err.path(),
        "resourceMetrics[0].scopeMetrics[0].metrics[0].sum"
    );
}
