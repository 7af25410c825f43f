//! Prompt chains through the real binary: the real capture's logs and traces
//! go in over OTLP/HTTP, one redacted, complete chain record comes out in the
//! records file beside the raw events, closed by idle timeout or shutdown.

use std::time::{Duration, Instant};

use cairn_core::signal::Signal;

use crate::{binary::Gateway, util::send_capture};

async fn send_scenario(gw: &Gateway, scenario: &str) {
    send_capture(gw.addr("http"), scenario, &Signal::ALL).await;
}

fn chains(gw: &Gateway) -> Vec<serde_json::Value> {
    gw.records()
        .into_iter()
        .filter(|r| r["kind"] == "prompt_chain")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_one_redacted_chain_per_prompt_at_shutdown() {
    let mut gw = Gateway::start(&[]);
    send_scenario(&gw, "http-protobuf").await;
    let raw_events = gw.records().iter().filter(|r| r["kind"] == "event").count();
    assert_eq!(raw_events, 11, "the raw events flow too");
    let (status, log) = gw.sigterm();
    assert!(status.success(), "{log}");
    let chains = chains(&gw);
    assert_eq!(chains.len(), 1, "{chains:#?}");
    let line = &chains[0];
    assert_eq!(line["event"], "cairn.prompt_chain");
    let c = &line["chain"];
    assert_eq!(c["promptId"], "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7");
    assert_eq!(c["completeness"]["complete"], true);
    assert_eq!(c["completeness"]["closedBy"], "CLOSURE_SHUTDOWN");
    assert_eq!(c["totals"]["costUsd"], 0.014752);
    assert_eq!(c["totals"]["toolCalls"], 1);
    assert_eq!(c["steps"][0]["tool"]["toolName"], "Bash");
    assert_eq!(c["traceIds"][0], "37530de9f0d9037ae2ec324031f119a9");
    // The prompt was redacted on the receive path, so its chain copy is too.
    let text = c["prompt"]["text"].as_str().unwrap();
    assert!(text.contains("[REDACTED:aws_access_key_id]"), "{text}");
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(text.contains("[REDACTED:us_ssn]"), "{text}");
    // `user.email` is absent in the capture; the user id is kept.
    assert_eq!(c["who"]["sourceProduct"], "claude-code");
    assert_eq!(c["costCenter"]["costCenter"], "eng-123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_chain_is_written_without_a_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        "[chains]\nidle_timeout_secs = 1\nraw_events = false\n",
    )
    .unwrap();
    let gw = Gateway::start(&["--config", config.to_str().unwrap()]);
    send_scenario(&gw, "grpc-multibatch").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while chains(&gw).is_empty() {
        assert!(Instant::now() < deadline, "no chain after the idle timeout");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let chains = chains(&gw);
    assert_eq!(chains.len(), 1);
    let c = &chains[0]["chain"];
    assert_eq!(c["completeness"]["closedBy"], "CLOSURE_IDLE_TIMEOUT");
    assert_eq!(c["completeness"]["complete"], true);
    // raw_events = false: the prompt's events are only in their chain.
    let prompt_events = gw
        .records()
        .iter()
        .filter(|r| r["kind"] == "event" && r["attributes"]["prompt.id"].is_string())
        .count();
    assert_eq!(prompt_events, 0);
}
