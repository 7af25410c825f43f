//! Cost-center enrichment through the real binary: a directory file assigns
//! users to cost centers, a change to the file is picked up without a
//! restart, `/metrics` keeps spend by cost center and model without counting
//! a resent metric twice, and chains carry the assignment.

use std::time::{Duration, Instant};

use cairn_core::signal::Signal;

use crate::{
    binary::Gateway,
    util::{http_client, send_capture},
};

const USER_1: &str = "c10db4eecc570e1f1ace4dd996249ee17c3d585a683231ad96ee5692a7908d88";
const USER_2: &str = "4ba09e7a4c16c02835265aaa8329ca92f9340edcf3ac7a4d82ef0a70a2910b02";

async fn send(gw: &Gateway, scenario: &str, signal: Signal) {
    send_capture(gw.addr("http"), scenario, &[signal]).await;
}

async fn metrics(gw: &Gateway) -> String {
    http_client()
        .get(format!("http://{}/metrics", gw.addr("admin")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the first sample line starting with `series`.
/// `/metrics` once `series` reads `want` (bounded wait): spend is counted
/// by a stage that runs just after the acknowledgement, so a scrape right
/// after the answer may come before it.
async fn metrics_when(gw: &Gateway, series: &str, want: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(gw).await;
        if sample(&text, series) == Some(want) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn user_prompts(gw: &Gateway, user: &str) -> Vec<serde_json::Value> {
    gw.records()
        .into_iter()
        .filter(|r| r["event"] == "user_prompt" && r["attributes"]["user.id"] == user)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_assigns_cost_centers_and_reloads_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("people.csv");
    std::fs::write(
        &directory,
        format!("user.id,cost_center,department,team,manager\n{USER_1},cc-dir-1,security,blue,Dana Smith\n"),
    )
    .unwrap();
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            "[enrichment]\ndirectory = {:?}\ndirectory_key = \"user.id\"\nreload_interval = 1\n",
            directory.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut gw = Gateway::start(&["--config", config.to_str().unwrap()]);

    for signal in [Signal::Logs, Signal::Metrics, Signal::Traces] {
        send(&gw, "http-protobuf", signal).await;
    }
    let prompt = &user_prompts(&gw, USER_1)[0];
    assert_eq!(prompt["attributes"]["cost_center"], "cc-dir-1");
    assert_eq!(prompt["attributes"]["department"], "security");
    assert_eq!(prompt["attributes"]["team"], "blue");
    assert_eq!(prompt["attributes"]["manager"], "Dana Smith");
    assert_eq!(
        prompt["attributes"]["cairn.cost_center.source"],
        "directory"
    );
    // A user the directory does not know keeps the cost center Claude Code
    // sent as a resource attribute.
    send(&gw, "grpc-multibatch", Signal::Logs).await;
    let other = &user_prompts(&gw, USER_2)[0];
    assert_eq!(other["attributes"]["cost_center"], "eng-123");
    assert_eq!(other["attributes"]["cairn.cost_center.source"], "resource");

    let spend = r#"cairn_spend_usd_total{cost_center="cc-dir-1",model="claude-opus-5-5"}"#;
    let text = metrics_when(&gw, spend, 0.014752).await;
    assert_eq!(sample(&text, spend), Some(0.014752), "{text}");
    let input =
        r#"cairn_spend_tokens_total{cost_center="cc-dir-1",model="claude-opus-5-5",type="input"}"#;
    assert_eq!(sample(&text, input), Some(2468.0), "{text}");
    // The exporter resends the metrics: spend does not move.
    send(&gw, "http-protobuf", Signal::Metrics).await;
    let text = metrics(&gw).await;
    assert_eq!(sample(&text, spend), Some(0.014752), "{text}");

    // The file changes: USER_1 moves, USER_2 is added. No restart.
    std::fs::write(
        &directory,
        format!(
            "user.id,cost_center,department,team,manager\n\
             {USER_1},cc-dir-1b,security,red,Dana Smith\n\
             {USER_2},cc-dir-2,research,green,Lee Wong\n"
        ),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while sample(
        &metrics(&gw).await,
        "cairn_enrichment_directory_reloads_total",
    )
    .unwrap_or(0.0)
        < 1.0
    {
        assert!(Instant::now() < deadline, "the directory was not reloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    send(&gw, "grpc-multibatch", Signal::Metrics).await;
    let spend_2 = r#"cairn_spend_usd_total{cost_center="cc-dir-2",model="claude-opus-5-5"}"#;
    let text = metrics_when(&gw, spend_2, 0.014752).await;
    assert_eq!(sample(&text, spend_2), Some(0.014752), "{text}");
    // Claude Code's exporter retries the first session's logs after the
    // reload: the raw copies carry the new assignment, but the chain
    // recognises them as the events it already has.
    send(&gw, "http-protobuf", Signal::Logs).await;
    let prompts = user_prompts(&gw, USER_1);
    assert_eq!(prompts.len(), 2);
    assert_eq!(prompts[1]["attributes"]["cost_center"], "cc-dir-1b");

    let (status, log) = gw.sigterm();
    assert!(status.success(), "{log}");
    let chain = gw
        .records()
        .into_iter()
        .find(|r| r["kind"] == "prompt_chain" && r["chain"]["who"]["userId"] == USER_1)
        .unwrap();
    let c = &chain["chain"];
    assert_eq!(c["costCenter"]["costCenter"], "cc-dir-1");
    assert_eq!(c["costCenter"]["source"], "directory");
    assert_eq!(c["costCenter"]["manager"], "Dana Smith");
    assert_eq!(
        c["totals"]["costUsd"], 0.014752,
        "a retry is not counted twice"
    );
    assert_eq!(c["totals"]["events"], 7);
}

#[test]
fn a_directory_that_cannot_match_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("people.json");
    std::fs::write(
        &directory,
        r#"[{"user.email": "a@example.com", "cost_center": "x"}]"#,
    )
    .unwrap();
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            "[redaction.attributes]\n\"user.email\" = \"drop\"\n\n[enrichment]\ndirectory = {:?}\n",
            directory.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(crate::binary::cairn_bin())
        .args(["validate", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cairn.toml:4: enrichment.directory_key"),
        "{err}"
    );
}
