//! Every real capture under `../shared/fixtures/` replayed over its own
//! protocol (gRPC wire frames as captured, HTTP bodies with their captured
//! content type and encoding), and what cairn decoded checked against the
//! capture's own `summary.json`: event names and counts, every attribute's
//! wire type, metrics with their temporality, spans by kind.

use std::collections::BTreeMap;

use cairn_core::{
    event::ClaudeEvent,
    metric::{MetricKind, Temporality},
    otlp::common::v1::any_value::Value,
    record::{Batch, RecordBody},
    signal::Signal,
    source::SourceProduct,
    span::SpanKind,
};
use cairn_testkit::{
    fixtures::{self, Payload},
    gateway::TestGateway,
    grpc,
};
use prost::Message;

use crate::util::http_client;

fn summary() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures::root().join("summary.json")).unwrap())
        .unwrap()
}

fn kind_name(v: &Option<cairn_core::otlp::common::v1::AnyValue>) -> &'static str {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(_)) => "string_value",
        Some(Value::IntValue(_)) => "int_value",
        Some(Value::DoubleValue(_)) => "double_value",
        Some(Value::BoolValue(_)) => "bool_value",
        Some(Value::ArrayValue(_)) => "array_value",
        Some(Value::KvlistValue(_)) => "kvlist_value",
        Some(Value::BytesValue(_)) => "bytes_value",
        _ => "empty",
    }
}

/// Sends one captured request the way the CLI did; returns the response body.
async fn replay(gw: &TestGateway, p: &Payload) -> Vec<u8> {
    let auth = ("authorization", "Bearer test-token");
    if p.protocol == "grpc" {
        let mut headers = vec![auth];
        if p.content_encoding.as_deref() == Some("gzip") {
            headers.push(("grpc-encoding", "gzip"));
        }
        let reply = grpc::call(gw.grpc_addr, &p.request_path, p.body(), &headers).await;
        assert_eq!(reply.code, 0, "{}: {}", p.path, reply.message);
        grpc::response_message(&reply).to_vec()
    } else {
        let mut req = http_client()
            .post(gw.http_url(&p.request_path))
            .header("content-type", &p.content_type)
            .header(auth.0, auth.1)
            .body(p.body());
        if let Some(enc) = &p.content_encoding {
            req = req.header("content-encoding", enc);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", p.path);
        assert_eq!(
            r.headers()["content-type"],
            p.content_type.as_str(),
            "response in the request's encoding"
        );
        r.bytes().await.unwrap().to_vec()
    }
}

fn wire_payloads(scenario: &str) -> Vec<Payload> {
    fixtures::scenario(scenario)
        .into_iter()
        // For gRPC the frame files are the wire form; the .pb twins are the same messages.
        .filter(|p| p.protocol != "grpc" || p.is_grpc_frame())
        .collect()
}

fn check_scenario(name: &str, batches: &[Batch], expected: &serde_json::Value) {
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let mut metrics: BTreeMap<String, usize> = BTreeMap::new();
    let mut spans: BTreeMap<String, u64> = BTreeMap::new();
    for b in batches {
        for r in &b.records {
            assert_eq!(r.source, SourceProduct::ClaudeCode, "{name}");
            let user = r.identity.user_id.as_deref().unwrap_or_default();
            assert!(
                user.len() == 64 && user.bytes().all(|c| c.is_ascii_hexdigit()),
                "{name}: user.id {user:?}"
            );
            assert_eq!(
                r.identity.session_id.as_deref().map(str::len),
                Some(36),
                "{name}: session.id"
            );
            assert_eq!(r.identity.app_version.as_deref(), Some("2.1.330"));
            match &r.body {
                RecordBody::Event(e) => {
                    assert_eq!(b.origin.signal, Signal::Logs);
                    assert!(
                        e.event.is_known(),
                        "{name}: {} typed as unknown",
                        e.header.name
                    );
                    assert_eq!(e.event.name(), e.header.name);
                    assert!(e.header.sequence.is_some(), "{name}: event.sequence typed");
                    *events.entry(e.header.name.clone()).or_default() += 1;
                    let want = &expected["events"][&e.header.name]["attributes"];
                    for kv in &e.log.attributes {
                        let kinds = want[&kv.key]
                            .as_array()
                            .unwrap_or_else(|| panic!("{name}: unexpected key {}", kv.key));
                        assert!(
                            kinds.iter().any(|k| k == kind_name(&kv.value)),
                            "{name}: {}.{} arrived as {}, capture says {kinds:?}",
                            e.header.name,
                            kv.key,
                            kind_name(&kv.value)
                        );
                    }
                    if let ClaudeEvent::ApiRequest(api) = &e.event {
                        let v = serde_json::to_value(api).unwrap();
                        assert_eq!(v["input_tokens"], 1234, "{name}");
                        assert_eq!(v["output_tokens"], 42, "{name}");
                        assert!(v["cost_usd"].as_f64().unwrap() > 0.0);
                    }
                }
                RecordBody::Metric(m) => {
                    let want = &expected["metrics"][&m.metric.name];
                    assert!(
                        !matches!(m.typed.kind, MetricKind::Unknown(_)),
                        "{name}: {}",
                        m.metric.name
                    );
                    let t = want["temporality"][0].as_i64().unwrap();
                    let expect_t = if t == 2 {
                        Temporality::Cumulative
                    } else {
                        Temporality::Delta
                    };
                    assert_eq!(m.typed.temporality, expect_t, "{name}: {}", m.metric.name);
                    assert!(m.typed.monotonic);
                    *metrics.entry(m.metric.name.clone()).or_default() += m.typed.points.len();
                }
                RecordBody::Span(s) => {
                    assert!(
                        !matches!(s.typed.kind, SpanKind::Unknown(_)),
                        "{name}: {}",
                        s.span.name
                    );
                    *spans.entry(s.span.name.clone()).or_default() += 1;
                }
            }
        }
    }
    let want_events: BTreeMap<String, u64> = expected["events"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(events, want_events, "{name}: event names and counts");
    let want_spans: BTreeMap<String, u64> = expected["spans"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v["count"].as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(spans, want_spans, "{name}: spans");
    for (metric, want) in expected["metrics"].as_object().unwrap() {
        let got = metrics.get(metric).copied().unwrap_or(0);
        // A metric split over two exports (multibatch) has at least as many points.
        assert!(
            got >= want["points"].as_u64().unwrap() as usize,
            "{name}: {metric} points {got}"
        );
    }
}

#[tokio::test]
async fn every_capture_replays_over_its_own_protocol() {
    let summary = summary();
    let scenarios = summary.as_object().unwrap();
    assert!(scenarios.len() >= 12, "all scenarios present");
    for (name, expected) in scenarios {
        let gw = TestGateway::builder()
            .token("test-token", Some("fixtures"))
            .start()
            .await;
        let payloads = wire_payloads(name);
        assert!(!payloads.is_empty(), "{name} has payloads");
        for p in &payloads {
            let body = replay(&gw, p).await;
            // Full success: no partial_success in the response.
            let protobuf = p.protocol != "http/json";
            let partial = match (p.signal, protobuf) {
                (Signal::Logs, true) => {
                    cairn_core::otlp::collector::logs::v1::ExportLogsServiceResponse::decode(
                        &body[..],
                    )
                    .unwrap()
                    .partial_success
                    .is_some()
                }
                (Signal::Metrics, true) => {
                    cairn_core::otlp::collector::metrics::v1::ExportMetricsServiceResponse::decode(
                        &body[..],
                    )
                    .unwrap()
                    .partial_success
                    .is_some()
                }
                (Signal::Traces, true) => {
                    cairn_core::otlp::collector::trace::v1::ExportTraceServiceResponse::decode(
                        &body[..],
                    )
                    .unwrap()
                    .partial_success
                    .is_some()
                }
                (_, false) => {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    v.get("partialSuccess").is_some_and(|p| !p.is_null())
                }
            };
            assert!(!partial, "{}: unexpected partial success", p.path);
        }
        let batches = gw.ingest.batches();
        assert_eq!(
            batches.len(),
            payloads.len(),
            "{name}: one batch per request"
        );
        for b in &batches {
            assert_eq!(b.origin.tenant.as_deref(), Some("fixtures"));
            let want = if name.starts_with("grpc") {
                "grpc"
            } else if name.starts_with("http-json") {
                "http/json"
            } else {
                "http/protobuf"
            };
            assert_eq!(b.origin.protocol.as_str(), want, "{name}");
        }
        check_scenario(name, &batches, expected);
        gw.stop().await;
    }
}

#[tokio::test]
async fn the_prompt_chain_of_the_baseline_capture_is_decoded_in_order() {
    let gw = TestGateway::start().await;
    for p in wire_payloads("grpc")
        .iter()
        .filter(|p| p.signal == Signal::Logs)
    {
        replay(&gw, p).await;
    }
    let batches = gw.ingest.batches();
    let mut seq: Vec<(u64, String, Option<String>)> = batches
        .iter()
        .flat_map(|b| &b.records)
        .filter_map(|r| match &r.body {
            RecordBody::Event(e) => Some((
                e.header.sequence.unwrap(),
                e.header.name.clone(),
                e.header.prompt_id.clone(),
            )),
            _ => None,
        })
        .collect();
    seq.sort();
    let names: Vec<&str> = seq.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names[..4],
        [
            "managed_settings_resolved",
            "plugin_loaded",
            "plugin_loaded",
            "plugin_loaded"
        ]
    );
    assert_eq!(names[4], "user_prompt");
    // Everything from the prompt on shares one prompt.id; startup events have none.
    let prompt = seq[4].2.clone().expect("user_prompt has prompt.id");
    assert!(seq[..4].iter().all(|(_, _, p)| p.is_none()));
    assert!(
        seq[4..]
            .iter()
            .all(|(_, _, p)| p.as_deref() == Some(prompt.as_str()))
    );
    // The tool decision and result join on tool_use_id.
    let mut ids = batches
        .iter()
        .flat_map(|b| &b.records)
        .filter_map(|r| match &r.body {
            RecordBody::Event(e) => match &e.event {
                ClaudeEvent::ToolDecision(d) => d.tool_use_id.clone(),
                ClaudeEvent::ToolResult(t) => t.tool_use_id.clone(),
                _ => None,
            },
            _ => None,
        });
    let (a, b) = (ids.next().unwrap(), ids.next().unwrap());
    assert_eq!(a, b);
    assert!(a.starts_with("toolu_"));
    gw.stop().await;
}
