#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The OTLP exporter against a second, real OTLP receiver on loopback:
//! cairn's own tonic/axum receivers (`cairn_testkit::gateway`), over gRPC
//! and HTTP/protobuf, plain and TLS, with tokens, pushback and partial
//! success.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use cairn_core::{
    chain::{CHAIN_EVENT_NAME, PromptChain, v1},
    record::{Batch, RecordBody},
};
use cairn_testkit::{eventually, fixtures, gateway::TestGateway, memory::Mode};
use prost::Message;

use super::*;
use crate::{
    driver::{DriverConfig, Work},
    route::Route,
    testing::Delivery,
};

fn config(toml_text: &str) -> Config {
    toml::from_str(toml_text).unwrap()
}

/// Keeps the driver's default concurrency (several requests in flight).
fn in_parallel(d: &mut DriverConfig) {
    d.concurrency = DriverConfig::new(d.limits).concurrency;
}

/// An OTLP/gRPC (the default protocol) sink to `gw`.
fn grpc_sink(gw: &TestGateway) -> Otlp {
    config(&format!("endpoint = \"http://{}\"", gw.grpc_addr))
        .build()
        .unwrap()
}

fn start(sink: Otlp, route: Route) -> Delivery {
    Delivery::start("otlp", sink, route, in_parallel)
}

/// Every log record, metric and span of some batches, protobuf-encoded and
/// sorted: what a receiver must end up with, exactly once each.
fn contents(batches: &[Batch]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = batches
        .iter()
        .flat_map(|b| b.records.iter())
        .map(|r| match &r.body {
            RecordBody::Event(e) => e.log.encode_to_vec(),
            RecordBody::Metric(m) => m.metric.encode_to_vec(),
            RecordBody::Span(s) => s.span.encode_to_vec(),
        })
        .collect();
    out.sort();
    out
}

fn fixture_batches() -> Vec<Batch> {
    let mut b = fixtures::scenario_batches("http-protobuf");
    b.extend(fixtures::scenario_batches("grpc-multibatch"));
    assert!(b.iter().any(|b| {
        b.records
            .iter()
            .any(|r| matches!(r.body, RecordBody::Metric(_)))
    }));
    b
}

async fn forwards_everything_once(protocol: &str, compression: &str) {
    let gw = TestGateway::start().await;
    let endpoint = if protocol == "grpc" {
        format!("http://{}", gw.grpc_addr)
    } else {
        format!("http://{}", gw.http_addr)
    };
    let sink = config(&format!(
        "endpoint = {endpoint:?}\nprotocol = {protocol:?}\ncompression = {compression:?}"
    ))
    .build()
    .unwrap();
    let run = start(sink, Route::everything());
    let batches = fixture_batches();
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    let total: usize = batches.iter().map(|b| b.records.len()).sum();
    let out = run.finish().await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(out.delivered, total as u64);
    assert_eq!(out.received, total as u64);
    assert_eq!(contents(&gw.ingest.batches()), contents(&batches));
    // Resource attributes travel with their records.
    let got = gw.ingest.batches();
    let services: Vec<_> = got
        .iter()
        .flat_map(|b| b.records.iter())
        .filter_map(|r| r.resource.attrs().string("service.name"))
        .collect();
    assert_eq!(services.len(), total);
}

#[tokio::test]
async fn grpc_forwards_every_record_once_with_its_resource() {
    forwards_everything_once("grpc", "gzip").await;
}

#[tokio::test]
async fn http_protobuf_forwards_every_record_once_with_its_resource() {
    forwards_everything_once("http/protobuf", "gzip").await;
    forwards_everything_once("http/protobuf", "none").await;
}

fn chain(n: u32) -> PromptChain {
    PromptChain {
        chain_id: format!("c{n}"),
        session_id: "s".into(),
        prompt_id: format!("p{n}"),
        who: Some(v1::Who {
            email: "a@example.com".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn chains_arrive_as_log_records_named_cairn_prompt_chain() {
    let gw = TestGateway::start().await;
    let run = start(grpc_sink(&gw), Route::everything());
    run.feed(Work::Chains(Arc::new(vec![chain(1), chain(2)])))
        .await;
    let out = run.finish().await;
    assert_eq!(out.delivered, 2);
    let got = gw.ingest.batches();
    let mut ids: Vec<String> = got
        .iter()
        .flat_map(|b| b.records.iter())
        .map(|r| match &r.body {
            RecordBody::Event(e) => {
                assert_eq!(e.log.event_name, CHAIN_EVENT_NAME);
                assert_eq!(r.resource.attrs().str("service.name"), Some("cairn"));
                cairn_core::value::Attrs(&e.log.attributes)
                    .string("chain.id")
                    .unwrap()
            }
            _ => panic!("not a log record"),
        })
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["c1", "c2"]);
}

#[tokio::test]
async fn routes_filter_what_is_forwarded() {
    let gw = TestGateway::start().await;
    let sink = grpc_sink(&gw);
    let route: Route =
        toml::from_str("records = [\"events\"]\nevent_names = [\"api_request\"]").unwrap();
    let run = start(sink, route);
    let batches = fixture_batches();
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    let want = batches
        .iter()
        .flat_map(|b| b.records.iter())
        .filter(|r| matches!(&r.body, RecordBody::Event(e) if e.header.name == "api_request"))
        .count();
    assert!(want > 0);
    let out = run.finish().await;
    assert_eq!(out.delivered, want as u64);
    let got = gw.ingest.batches();
    let names: Vec<_> = got
        .iter()
        .flat_map(|b| b.records.iter())
        .map(|r| match &r.body {
            RecordBody::Event(e) => e.header.name.clone(),
            _ => "not an event".into(),
        })
        .collect();
    assert_eq!(names.len(), want);
    assert!(names.iter().all(|n| n == "api_request"), "{names:?}");
}

async fn pushback_then_delivery(protocol: &str) {
    let gw = TestGateway::start().await;
    gw.ingest.set_mode(Mode::Overloaded);
    let addr = if protocol == "grpc" {
        gw.grpc_addr
    } else {
        gw.http_addr
    };
    let sink = config(&format!(
        "endpoint = \"http://{addr}\"\nprotocol = {protocol:?}"
    ))
    .build()
    .unwrap();
    let run = start(sink, Route::everything());
    let batches = fixtures::scenario_batches("http-protobuf");
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    let counters = run.counters();
    eventually!(counters.retried_total() >= 1);
    assert!(gw.ingest.batches().is_empty());
    gw.ingest.set_mode(Mode::Accept);
    let out = run.finish().await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(contents(&gw.ingest.batches()), contents(&batches));
    assert_eq!(out.dead_lettered, 0);
}

#[tokio::test]
async fn unavailable_and_503_are_retried_until_the_receiver_takes_them() {
    pushback_then_delivery("grpc").await;
    pushback_then_delivery("http/protobuf").await;
}

#[tokio::test]
async fn partial_success_is_counted_and_dead_lettered_not_resent() {
    let gw = TestGateway::start().await;
    let run = start(grpc_sink(&gw), Route::everything());
    let mut batch = fixtures::scenario_batches("http-protobuf")
        .into_iter()
        .find(|b| {
            b.records
                .iter()
                .filter(|r| matches!(r.body, RecordBody::Event(_)))
                .count()
                > 2
        })
        .unwrap();
    batch
        .records
        .retain(|r| matches!(r.body, RecordBody::Event(_)));
    let n = batch.records.len() as u64;
    if let RecordBody::Event(e) = &mut batch.records[0].body {
        e.log.trace_id = vec![1, 2, 3];
    }
    run.feed(Work::Batch(Arc::new(batch))).await;
    let out = run.finish().await;
    assert_eq!(out.delivered, n - 1);
    assert_eq!(out.dead_lettered, 1);
    assert_eq!(out.retried, 0);
    assert_eq!(out.dead.len(), 1);
    assert_eq!(out.dead[0]["record"]["unattributed_records"], 1);
    assert!(
        out.dead[0]["reason"].as_str().unwrap().contains("trace_id"),
        "{:?}",
        out.dead
    );
    assert_eq!(gw.ingest.record_count() as u64, n - 1);
}

#[tokio::test]
async fn headers_authenticate_and_a_refused_token_is_permanent() {
    let gw = TestGateway::builder()
        .token("s3cret-token", Some("acme"))
        .start()
        .await;
    for (protocol, addr) in [("grpc", gw.grpc_addr), ("http/protobuf", gw.http_addr)] {
        let mut good = config(&format!(
            "endpoint = \"http://{addr}\"\nprotocol = {protocol:?}"
        ));
        good.headers = BTreeMap::from([(
            "authorization".to_owned(),
            crate::secret::SecretRef::Inline("Bearer s3cret-token".into()),
        )]);
        let run = start(good.build().unwrap(), Route::everything());
        run.feed(Work::Chains(Arc::new(vec![chain(1)]))).await;
        let out = run.finish().await;
        assert_eq!(out.delivered, 1, "{protocol}");

        let bad = config(&format!(
            "endpoint = \"http://{addr}\"\nprotocol = {protocol:?}"
        ));
        let run = start(bad.build().unwrap(), Route::everything());
        run.feed(Work::Chains(Arc::new(vec![chain(2)]))).await;
        let out = run.finish().await;
        assert_eq!(out.dead_lettered, 1, "{protocol}");
        assert_eq!(out.retried, 0, "{protocol}: auth failures are not retried");
        assert!(out.dead[0]["record"]["protobuf_base64"].is_string());
    }
    let got = gw.ingest.batches();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|b| b.origin.tenant.as_deref() == Some("acme"))
    );
}

#[tokio::test]
async fn tls_with_a_private_ca_over_both_transports() {
    let dir = tempfile::tempdir().unwrap();
    let pki = cairn_testkit::tls::write_pki(dir.path());
    let files = cairn_otlp::tls::TlsFiles {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
        client_ca: None,
    };
    let tls = cairn_otlp::tls::server_config(&files, &[b"h2", b"http/1.1"]).unwrap();
    let gw = TestGateway::builder().tls(tls).start().await;
    for (protocol, addr) in [("grpc", gw.grpc_addr), ("http/protobuf", gw.http_addr)] {
        let text = format!(
            "endpoint = \"https://localhost:{}\"\nprotocol = {protocol:?}\nca_file = {:?}",
            addr.port(),
            pki.ca_cert
        );
        let run = start(config(&text).build().unwrap(), Route::everything());
        run.feed(Work::Chains(Arc::new(vec![chain(1)]))).await;
        let out = run.finish().await;
        assert_eq!(out.delivered, 1, "{protocol}");

        // Without the CA the server is not trusted: nothing is delivered.
        let untrusted = format!(
            "endpoint = \"https://localhost:{}\"\nprotocol = {protocol:?}",
            addr.port()
        );
        let sink = config(&untrusted).build().unwrap();
        let run = Delivery::start("otlp", sink, Route::everything(), |d| {
            in_parallel(d);
            d.give_up_after = Some(Duration::from_millis(200));
        });
        run.feed(Work::Chains(Arc::new(vec![chain(2)]))).await;
        let out = run.finish().await;
        assert_eq!(out.delivered, 0, "{protocol}");
        assert_eq!(out.dead_lettered, 1, "{protocol}");
    }
    assert_eq!(gw.ingest.record_count(), 2);
}

#[test]
fn config_is_checked_without_secrets_or_network() {
    assert!(config("endpoint = \"ftp://x\"").check().is_err());
    assert!(
        config("endpoint = \"http://127.0.0.1:4317\"")
            .check()
            .is_ok()
    );
    let c: Config = toml::from_str(
        "endpoint = \"http://127.0.0.1:4317\"\nheaders = { Authorization = { env = \"X\" } }",
    )
    .unwrap();
    assert!(c.check().unwrap_err().contains("lower-case"));
    assert!(toml::from_str::<Config>("endpoint = \"http://x\"\nprotocol = \"http/json\"").is_err());
    assert!(toml::from_str::<Config>("endpoint = \"http://x\"\nbogus = 1").is_err());
    let c: Config = toml::from_str(
        "endpoint = \"http://127.0.0.1:4317\"\nheaders = { authorization = { env = \"CAIRN_SURELY_UNSET_OTLP\" } }",
    )
    .unwrap();
    assert!(c.check().is_ok());
    assert!(c.build().err().unwrap().contains("CAIRN_SURELY_UNSET_OTLP"));
}
