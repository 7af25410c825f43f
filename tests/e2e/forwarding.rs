//! The sidecar case on the real binaries: one cairn forwards the redacted,
//! enriched stream and its prompt-chain records over OTLP (gRPC and
//! HTTP/protobuf) to a second cairn, which is the "existing collector".

use cairn_core::signal::Signal;

use crate::{binary::Gateway, util::send_capture};

fn forwarding_config(dir: &std::path::Path, protocol: &str, endpoint: &str) -> std::path::PathBuf {
    let path = dir.join("upstream.toml");
    std::fs::write(
        &path,
        format!(
            "[[sinks]]\nname = \"collector\"\n[sinks.route]\nrecords = [\"events\", \"chains\", \"metrics\", \"spans\"]\n\
             [sinks.otlp]\nendpoint = \"{endpoint}\"\nprotocol = \"{protocol}\"\n"
        ),
    )
    .unwrap();
    path
}

async fn forwards(protocol: &str) {
    let mut downstream = Gateway::start(&[]);
    let which = if protocol == "grpc" { "grpc" } else { "http" };
    let endpoint = format!("http://{}", downstream.addr(which));
    let dir = tempfile::tempdir().unwrap();
    let config = forwarding_config(dir.path(), protocol, &endpoint);
    let mut upstream = Gateway::start(&["--config", config.to_str().unwrap()]);
    send_capture(upstream.addr("http"), "http-protobuf", &Signal::ALL).await;
    // SIGTERM drains the receivers, closes the chains and drains the sinks.
    let (status, log_up) = upstream.sigterm();
    assert!(status.success(), "{log_up}");
    let (status, log) = downstream.sigterm();
    assert!(status.success(), "{log}");

    let sent = upstream.records();
    let got = downstream.records();
    let count = |records: &[serde_json::Value], kind: &str| {
        records.iter().filter(|r| r["kind"] == kind).count()
    };
    assert_eq!(count(&got, "metric"), count(&sent, "metric"), "{protocol}");
    assert_eq!(count(&got, "span"), count(&sent, "span"), "{protocol}");
    // Every event arrived once, plus the chain as a `cairn.prompt_chain` event.
    let mut sent_events: Vec<String> = sent
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| r["attributes"]["event.sequence"].to_string())
        .collect();
    let mut got_events: Vec<String> = got
        .iter()
        .filter(|r| r["kind"] == "event" && r["event"] != "cairn.prompt_chain")
        .map(|r| r["attributes"]["event.sequence"].to_string())
        .collect();
    sent_events.sort();
    got_events.sort();
    assert_eq!(got_events, sent_events, "{protocol}");
    // The chain arrives as an event; the second cairn also rebuilds its own
    // chain line from the forwarded raw events.
    let chains: Vec<&serde_json::Value> = got
        .iter()
        .filter(|r| r["kind"] == "event" && r["event"] == "cairn.prompt_chain")
        .collect();
    assert_eq!(count(&got, "prompt_chain"), 1, "{protocol}");
    assert_eq!(chains.len(), 1, "{protocol}: {log_up}");
    assert_eq!(
        chains[0]["attributes"]["prompt.id"],
        "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7"
    );
    // What left the first cairn was already redacted.
    let text = serde_json::to_string(&got).unwrap();
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{protocol}");
    assert!(text.contains("[REDACTED:aws_access_key_id]"), "{protocol}");
    assert!(
        !upstream
            .data_dir()
            .join("dead-letter/collector.jsonl")
            .exists()
            || std::fs::read_to_string(upstream.data_dir().join("dead-letter/collector.jsonl"))
                .unwrap()
                .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cairn_forwards_everything_to_a_second_cairn_over_grpc() {
    forwards("grpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cairn_forwards_everything_to_a_second_cairn_over_http_protobuf() {
    forwards("http/protobuf").await;
}
