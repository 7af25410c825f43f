#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every SIEM encoder writes the same bytes whether it takes the detail
//! from the record ([`Detail::Record`], the pipeline's path) or from the
//! item's tree ([`Detail::Tree`], `AuditItem::from_record`), on generated
//! events and spans: the attributes the encoders read (MCP server, cost
//! center, token counters) in every wire type, dotted and colliding keys,
//! control characters, non-finite doubles, and details over Sentinel's
//! field budget.

use cairn_core::{
    event::KNOWN_EVENTS,
    otlp::{
        collector::{logs::v1::ExportLogsServiceRequest, trace::v1::ExportTraceServiceRequest},
        common::v1::{AnyValue, KeyValue, any_value::Value},
        logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
        resource::v1::Resource,
        trace::v1::{ResourceSpans, ScopeSpans, Span},
    },
    record::{Batch, Origin},
    signal::{Protocol, Signal},
};
use proptest::{prelude::*, test_runner::TestCaseError};

use crate::{
    config::{SinkConfig, SinkKind},
    detail::Detail,
    golden_tests::SINKS,
    item::AuditItem,
    sink::Sink,
};

fn same<S: Sink>(name: &str, sink: &S, batch: &Batch) -> Result<(), TestCaseError> {
    for r in &batch.records {
        let via_record = sink.encode_record(r, &batch.origin).map(|u| u.bytes);
        let item = AuditItem::from_record(r, &batch.origin);
        let mut out = Vec::new();
        let via_tree = sink.encode_item(&item, &mut out).map(|()| out);
        let show = |r: &Result<Vec<u8>, crate::sink::EncodeError>| match r {
            Ok(b) => String::from_utf8_lossy(b).into_owned(),
            Err(e) => format!("error {e}"),
        };
        prop_assert_eq!(show(&via_record), show(&via_tree), "{}", name);
        // And through `encode_with` with the tree given explicitly.
        let mut out = Vec::new();
        let with_tree = sink
            .encode_with(&item, Detail::Tree(&item.detail), &mut out)
            .map(|()| out);
        prop_assert_eq!(show(&with_tree), show(&via_tree), "{}", name);
    }
    Ok(())
}

fn every_sink(batch: &Batch) -> Result<(), TestCaseError> {
    for (name, table) in SINKS {
        let config: SinkConfig = toml::from_str(&format!("name = \"p\"\n{table}")).unwrap();
        match config.kind().unwrap() {
            SinkKind::SplunkHec(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Elastic(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Datadog(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Sumo(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Sentinel(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Syslog(k) => same(name, &k.build().unwrap(), batch)?,
            SinkKind::Otlp(_) => {}
        }
    }
    Ok(())
}

fn value() -> impl Strategy<Value = Option<AnyValue>> {
    let v = prop_oneof![
        "\\PC{0,10}".prop_map(Value::StringValue),
        prop::sample::select(vec![
            "",
            "github",
            "12",
            "1e3",
            "true",
            "<REDACTED>",
            "eng-1"
        ])
        .prop_map(|s| Value::StringValue(s.into())),
        "[\\x00-\\x1f\"\\\\]{1,3}".prop_map(Value::StringValue),
        any::<i64>().prop_map(Value::IntValue),
        (0..100_000i64).prop_map(Value::IntValue),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(12.0)
        ]
        .prop_map(Value::DoubleValue),
        any::<bool>().prop_map(Value::BoolValue),
        // Over Sentinel's 60 kB field budget.
        (1usize..3).prop_map(|n| Value::StringValue("x".repeat(n * 40_000))),
    ];
    prop::option::weighted(0.95, v.prop_map(|v| AnyValue { value: Some(v) }))
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    let key = prop_oneof![
        4 => prop::sample::select(vec![
            "mcp_server_name", "mcp_server.name", "server_name", "cost_center", "tool_name",
            "success", "decision", "duration_ms", "model", "cost_usd", "input_tokens",
            "output_tokens", "cache_read_tokens", "cache_creation_tokens", "status_code",
            "session.id", "prompt.id", "user.email", "user.id", "organization.id",
            "host.name", "app.version", "a.b", "a_b", "",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z._]{0,5}",
    ];
    prop::collection::vec((key, value()), 0..12).prop_map(|kvs| {
        kvs.into_iter()
            .map(|(key, value)| KeyValue {
                key,
                value,
                ..Default::default()
            })
            .collect()
    })
}

fn origin(signal: Signal, tenant: bool) -> Origin {
    Origin {
        signal,
        protocol: Protocol::HttpProtobuf,
        tenant: tenant.then(|| "acme".into()),
        received_unix_nano: 1_767_607_200_000_000_000,
    }
}

fn resource(attributes: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes,
        ..Default::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn events_encode_the_same_from_the_record_and_from_the_tree(
        name in prop::sample::select(KNOWN_EVENTS.to_vec()),
        attributes in attrs(),
        res in attrs(),
        time in prop_oneof![Just(0u64), any::<u64>()],
        tenant in any::<bool>(),
    ) {
        let mut attributes = attributes;
        attributes.push(cairn_core::value::kv_str("event.name", name));
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(res),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: time,
                        attributes,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        every_sink(&Batch::from_logs(origin(Signal::Logs, tenant), req).0)?;
    }

    #[test]
    fn spans_encode_the_same_from_the_record_and_from_the_tree(
        attributes in attrs(),
        start in any::<u64>(),
        end in any::<u64>(),
        tenant in any::<bool>(),
    ) {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(Vec::new()),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "claude_code.tool".into(),
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        start_time_unix_nano: start,
                        end_time_unix_nano: end,
                        attributes,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        every_sink(&Batch::from_traces(origin(Signal::Traces, tenant), req).0)?;
    }
}
