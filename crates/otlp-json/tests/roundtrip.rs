//! Property: any request survives encode → decode. Compared through the
//! protobuf encoding so that NaN (which is not equal to itself) compares by
//! bits; generated NaNs are the canonical one, which is what "NaN" decodes to.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_otlp_json::{
    decode_logs, decode_metrics, decode_traces, encode_logs, encode_metrics, encode_traces,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message;

fn f64s() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>().prop_map(|v| if v.is_nan() { f64::NAN } else { v }),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1.0, f64::MAX, f64::MIN,
            f64::MIN_POSITIVE, 5e-324, 1e15, 1e16, 0.1, 123_456_789.125,
        ]),
    ]
}

fn i64s() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1, 1])
    ]
}

fn u64s() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        prop::sample::select(vec![u64::MAX, 0, 1, 1_795_458_669_382_000_000])
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z._]{0,12}", Just(String::new())]
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), vec(any::<u8>(), len)]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    use any_value::Value as V;
    let leaf = option::of(prop_oneof![
        text().prop_map(V::StringValue),
        any::<bool>().prop_map(V::BoolValue),
        i64s().prop_map(V::IntValue),
        f64s().prop_map(V::DoubleValue),
        vec(any::<u8>(), 0..12).prop_map(V::BytesValue),
        any::<i32>().prop_map(V::StringValueStrindex),
    ])
    .prop_map(|value| AnyValue { value });
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                value: Some(V::ArrayValue(ArrayValue { values })),
            }),
            vec((text(), option::of(inner), any::<i32>()), 0..4).prop_map(|entries| AnyValue {
                value: Some(V::KvlistValue(KeyValueList {
                    values: entries
                        .into_iter()
                        .map(|(key, value, key_strindex)| KeyValue {
                            key,
                            value,
                            key_strindex
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(
        (
            text(),
            option::of(any_value()),
            prop_oneof![3 => Just(0), 1 => any::<i32>()],
        ),
        0..4,
    )
    .prop_map(|entries| {
        entries
            .into_iter()
            .map(|(key, value, key_strindex)| KeyValue {
                key,
                value,
                key_strindex,
            })
            .collect()
    })
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    let entity = (text(), text(), vec(text(), 0..3), vec(text(), 0..3)).prop_map(
        |(schema_url, r#type, id_keys, description_keys)| EntityRef {
            schema_url,
            r#type,
            id_keys,
            description_keys,
        },
    );
    option::of((attributes(), any::<u32>(), vec(entity, 0..2)).prop_map(
        |(attributes, dropped_attributes_count, entity_refs)| Resource {
            attributes,
            dropped_attributes_count,
            entity_refs,
        },
    ))
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    option::of((text(), text(), attributes(), any::<u32>()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    ))
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (
            u64s(),
            u64s(),
            any::<i32>(),
            text(),
            option::of(any_value()),
        ),
        (
            attributes(),
            any::<u32>(),
            any::<u32>(),
            id(16),
            id(8),
            text(),
        ),
    )
        .prop_map(
            |(
                (time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body),
                (attributes, dropped_attributes_count, flags, trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano,
                observed_time_unix_nano,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    let scope_logs =
        (scope(), vec(log_record(), 0..4), text()).prop_map(|(scope, log_records, schema_url)| {
            ScopeLogs {
                scope,
                log_records,
                schema_url,
            }
        });
    let resource_logs = (resource(), vec(scope_logs, 0..3), text()).prop_map(
        |(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    );
    vec(resource_logs, 0..3).prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

fn span() -> impl Strategy<Value = Span> {
    let event = (u64s(), text(), attributes(), any::<u32>()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    );
    let link = (
        id(16),
        id(8),
        text(),
        attributes(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count,
                flags,
            },
        );
    let status =
        option::of((text(), any::<i32>()).prop_map(|(message, code)| Status { message, code }));
    (
        (
            id(16),
            id(8),
            text(),
            id(8),
            any::<u32>(),
            text(),
            any::<i32>(),
            u64s(),
            u64s(),
        ),
        (
            attributes(),
            any::<u32>(),
            vec(event, 0..3),
            any::<u32>(),
            vec(link, 0..2),
            any::<u32>(),
            status,
        ),
    )
        .prop_map(
            |(
                (
                    trace_id,
                    span_id,
                    trace_state,
                    parent_span_id,
                    flags,
                    name,
                    kind,
                    start_time_unix_nano,
                    end_time_unix_nano,
                ),
                (
                    attributes,
                    dropped_attributes_count,
                    events,
                    dropped_events_count,
                    links,
                    dropped_links_count,
                    status,
                ),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano,
                end_time_unix_nano,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status,
            },
        )
}

fn traces_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let scope_spans =
        (scope(), vec(span(), 0..4), text()).prop_map(|(scope, spans, schema_url)| ScopeSpans {
            scope,
            spans,
            schema_url,
        });
    let resource_spans = (resource(), vec(scope_spans, 0..3), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    vec(resource_spans, 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

fn exemplar() -> impl Strategy<Value = Exemplar> {
    let value = option::of(prop_oneof![
        f64s().prop_map(exemplar::Value::AsDouble),
        i64s().prop_map(exemplar::Value::AsInt),
    ]);
    (attributes(), u64s(), id(8), id(16), value).prop_map(
        |(filtered_attributes, time_unix_nano, span_id, trace_id, value)| Exemplar {
            filtered_attributes,
            time_unix_nano,
            span_id,
            trace_id,
            value,
        },
    )
}

fn number_point() -> impl Strategy<Value = NumberDataPoint> {
    let value = option::of(prop_oneof![
        f64s().prop_map(number_data_point::Value::AsDouble),
        i64s().prop_map(number_data_point::Value::AsInt),
    ]);
    (
        attributes(),
        u64s(),
        u64s(),
        vec(exemplar(), 0..2),
        any::<u32>(),
        value,
    )
        .prop_map(
            |(attributes, start_time_unix_nano, time_unix_nano, exemplars, flags, value)| {
                NumberDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    exemplars,
                    flags,
                    value,
                }
            },
        )
}

fn histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        (attributes(), u64s(), u64s(), u64s(), option::of(f64s())),
        (
            vec(u64s(), 0..5),
            vec(f64s(), 0..5),
            vec(exemplar(), 0..2),
            any::<u32>(),
            option::of(f64s()),
            option::of(f64s()),
        ),
    )
        .prop_map(
            |(
                (attributes, start_time_unix_nano, time_unix_nano, count, sum),
                (bucket_counts, explicit_bounds, exemplars, flags, min, max),
            )| HistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                bucket_counts,
                explicit_bounds,
                exemplars,
                flags,
                min,
                max,
            },
        )
}

fn buckets() -> impl Strategy<Value = Option<Buckets>> {
    option::of(
        (any::<i32>(), vec(u64s(), 0..4)).prop_map(|(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        }),
    )
}

fn exp_histogram_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    (
        (
            attributes(),
            u64s(),
            u64s(),
            u64s(),
            option::of(f64s()),
            any::<i32>(),
            u64s(),
        ),
        (
            buckets(),
            buckets(),
            any::<u32>(),
            vec(exemplar(), 0..2),
            option::of(f64s()),
            option::of(f64s()),
            f64s(),
        ),
    )
        .prop_map(
            |(
                (attributes, start_time_unix_nano, time_unix_nano, count, sum, scale, zero_count),
                (positive, negative, flags, exemplars, min, max, zero_threshold),
            )| ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                scale,
                zero_count,
                positive,
                negative,
                flags,
                exemplars,
                min,
                max,
                zero_threshold,
            },
        )
}

fn summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    let quantile =
        (f64s(), f64s()).prop_map(|(quantile, value)| ValueAtQuantile { quantile, value });
    (
        attributes(),
        u64s(),
        u64s(),
        u64s(),
        f64s(),
        vec(quantile, 0..3),
        any::<u32>(),
    )
        .prop_map(
            |(
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                quantile_values,
                flags,
            )| SummaryDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                quantile_values,
                flags,
            },
        )
}

fn metric() -> impl Strategy<Value = Metric> {
    use metric::Data;
    let data = option::of(prop_oneof![
        vec(number_point(), 0..3).prop_map(|data_points| Data::Gauge(Gauge { data_points })),
        (vec(number_point(), 0..3), any::<i32>(), any::<bool>()).prop_map(
            |(data_points, aggregation_temporality, is_monotonic)| Data::Sum(Sum {
                data_points,
                aggregation_temporality,
                is_monotonic,
            })
        ),
        (vec(histogram_point(), 0..3), any::<i32>()).prop_map(
            |(data_points, aggregation_temporality)| {
                Data::Histogram(Histogram {
                    data_points,
                    aggregation_temporality,
                })
            }
        ),
        (vec(exp_histogram_point(), 0..3), any::<i32>()).prop_map(
            |(data_points, aggregation_temporality)| {
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points,
                    aggregation_temporality,
                })
            }
        ),
        vec(summary_point(), 0..3).prop_map(|data_points| Data::Summary(Summary { data_points })),
    ]);
    (text(), text(), text(), attributes(), data).prop_map(
        |(name, description, unit, metadata, data)| Metric {
            name,
            description,
            unit,
            metadata,
            data,
        },
    )
}

fn metrics_request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let scope_metrics =
        (scope(), vec(metric(), 0..4), text()).prop_map(|(scope, metrics, schema_url)| {
            ScopeMetrics {
                scope,
                metrics,
                schema_url,
            }
        });
    let resource_metrics = (resource(), vec(scope_metrics, 0..3), text()).prop_map(
        |(resource, scope_metrics, schema_url)| ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        },
    );
    vec(resource_metrics, 0..3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

proptest! {
    #[test]
    fn logs_round_trip(req in logs_request()) {
        let json = encode_logs(&req);
        let back = decode_logs(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&json))))?;
        prop_assert_eq!(back.encode_to_vec(), req.encode_to_vec());
    }

    #[test]
    fn traces_round_trip(req in traces_request()) {
        let json = encode_traces(&req);
        let back = decode_traces(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&json))))?;
        prop_assert_eq!(back.encode_to_vec(), req.encode_to_vec());
    }

    #[test]
    fn metrics_round_trip(req in metrics_request()) {
        let json = encode_metrics(&req);
        let back = decode_metrics(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&json))))?;
        prop_assert_eq!(back.encode_to_vec(), req.encode_to_vec());
    }
}
