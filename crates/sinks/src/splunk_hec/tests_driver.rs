#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The HEC sink through the real driver (`SinkSet`) against the fake:
//! every record arrives exactly once through retries, splits and partial
//! answers; what HEC refuses for good lands in the dead-letter file with
//! its reason; acknowledgement delays and timeouts; the counters add up.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use cairn_testkit::siem::{
    Answer,
    splunk_hec::{self as fake, SplunkFake},
};
use serde_json::Value;

use super::tests::{chains, config, deliver_all, expected_ids, item, items};
use super::*;
use crate::{
    driver::DriverConfig,
    item::AuditItem,
    testing::{Outcome, largest, once_each},
};

/// The fixture through `sink` on the real driver.
async fn run(sink: SplunkHec, tweak: impl FnOnce(&mut DriverConfig)) -> Outcome {
    deliver_all("splunk", sink, tweak).await
}

#[tokio::test]
async fn every_record_and_chain_arrives_once_with_its_sourcetype() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .index("ai_audit")
        .start()
        .await;
    let out = run(
        config(&f.url(), "index = \"ai_audit\"").build().unwrap(),
        |_| {},
    )
    .await;
    let want = expected_ids();
    assert_eq!(once_each(&f.record_ids()), want);
    assert_eq!(out.delivered, want.len() as u64);
    assert!(out.dead.is_empty());
    assert_eq!(out.retried, 0);
    for e in f.events() {
        let kind = e["fields"]["record_kind"].as_str().unwrap();
        assert_eq!(e["sourcetype"], format!("anthropic:claude_code:{kind}"));
        assert_eq!(e["index"], "ai_audit");
    }
    assert!(
        f.requests()
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip"))
    );
}

#[tokio::test]
async fn throttling_busy_errors_and_a_dropped_connection_are_retried_without_loss() {
    let f = SplunkFake::builder().token("tok-1").start().await;
    f.inject(0, fake::answer(26).with_header("retry-after", "1"));
    f.inject(1, fake::answer(9));
    f.inject(2, fake::answer(8));
    f.inject(3, Answer::Drop);
    f.inject(4, fake::answer(23));
    let started = Instant::now();
    let out = run(config(&f.url(), "").build().unwrap(), |_| {}).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured over the 3 ms backoff"
    );
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert_eq!(out.retried, 5);
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(out.dead_lettered, 0);
}

#[tokio::test]
async fn too_large_requests_are_split_and_a_lone_oversized_event_is_dead_lettered() {
    // The limit sits just under the largest envelope: halving until each
    // request fits delivers every other one; the largest can never fit.
    let probe = config("http://127.0.0.1:9", "").build().unwrap();
    let mut all = items();
    all.extend(chains().iter().map(AuditItem::from_chain));
    let (largest, big) = largest(&probe, &all);
    let big_id = big.record_id.clone();
    let limit = largest - 1;

    let f = SplunkFake::builder()
        .token("tok-1")
        .max_content_length(limit)
        .start()
        .await;
    let out = run(config(&f.url(), "").build().unwrap(), |d| {
        d.limits.max_delay = Duration::from_secs(5);
    })
    .await;
    let delivered = once_each(&f.record_ids());
    let want: Vec<String> = expected_ids()
        .into_iter()
        .filter(|id| *id != big_id)
        .collect();
    assert_eq!(delivered, want);
    assert_eq!(out.dead.len(), 1);
    assert_eq!(out.dead[0]["record"]["event"]["record_id"], big_id.as_str());
    assert_eq!(
        out.dead[0]["reason"],
        "too large: HTTP 413: request over the collector's max_content_length"
    );
    assert!(
        f.requests()
            .iter()
            .any(|r| r.body.as_ref().unwrap().len() > limit)
    );
    assert_eq!(out.dead_lettered, 1);
}

#[tokio::test]
async fn a_bad_token_dead_letters_everything_with_the_code_and_never_the_token() {
    for (fake_builder, reason) in [
        (
            SplunkFake::builder().token("other"),
            "HTTP 403, HEC code 4: Invalid token",
        ),
        (
            SplunkFake::builder().disabled_token("tok-1"),
            "HTTP 403, HEC code 1: Token disabled",
        ),
    ] {
        let f = fake_builder.start().await;
        let out = run(config(&f.url(), "").build().unwrap(), |_| {}).await;
        assert!(f.events().is_empty());
        assert_eq!(out.delivered, 0);
        assert_eq!(out.dead_lettered, expected_ids().len() as u64);
        assert_eq!(out.dead.len(), expected_ids().len());
        assert!(out.dead.iter().all(|d| d["reason"] == reason), "{reason}");
        assert_eq!(out.retried, 0, "permanent: never resent");
        let dead_ids = out.dead_ids(|envelope| &envelope["event"]["record_id"]);
        assert_eq!(dead_ids, expected_ids());
        let text = serde_json::to_string(&out.dead).unwrap();
        assert!(!text.contains("tok-1"));
    }
}

#[tokio::test]
async fn a_refused_event_is_dead_lettered_its_prefix_kept_and_its_tail_resent_once() {
    let all = items();
    let events: Vec<&AuditItem> = all.iter().filter(|i| i.name == "tool_decision").collect();
    let bad = events[0].record_id.clone();
    let bad2 = item("api_request").record_id;
    let f = SplunkFake::builder()
        .token("tok-1")
        .poison(&bad, 6)
        .poison(&bad2, 15)
        .start()
        .await;
    let out = run(config(&f.url(), "").build().unwrap(), |d| {
        d.limits.max_delay = Duration::from_secs(5);
    })
    .await;
    let want: Vec<String> = expected_ids()
        .into_iter()
        .filter(|id| *id != bad && *id != bad2)
        .collect();
    assert_eq!(once_each(&f.record_ids()), want);
    assert_eq!(out.dead.len(), 2);
    let by_id: BTreeMap<&str, &str> = out
        .dead
        .iter()
        .map(|d| {
            (
                d["record"]["event"]["record_id"].as_str().unwrap(),
                d["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        by_id[bad.as_str()].starts_with("HTTP 400, HEC code 6: Invalid data format (event "),
        "{by_id:?}"
    );
    assert!(
        by_id[bad2.as_str()].starts_with("HTTP 400, HEC code 15: Error in handling indexed fields")
    );
    // The resend after a partial answer starts right after the bad event.
    let reqs = f.requests();
    let first: Vec<Value> = serde_json::Deserializer::from_slice(reqs[0].body.as_ref().unwrap())
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    let at = first
        .iter()
        .position(|e| e["event"]["record_id"] == bad.as_str())
        .unwrap();
    let second: Vec<Value> = serde_json::Deserializer::from_slice(reqs[1].body.as_ref().unwrap())
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(second[0], first[at + 1]);
    assert_eq!(out.delivered, want.len() as u64);
    assert_eq!(out.dead_lettered, 2);
}

#[tokio::test]
async fn with_ack_a_batch_is_delivered_only_once_hec_says_indexed() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .ack()
        .ack_false_times(2)
        .start()
        .await;
    let sink = config(&f.url(), "ack = true\nack_poll_ms = 5")
        .build()
        .unwrap();
    let channel = sink.channel().to_owned();
    let out = run(sink, |_| {}).await;
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert!(out.dead.is_empty());
    let posts = f
        .requests()
        .iter()
        .filter(|r| r.path == "/services/collector/event")
        .count();
    assert!(posts >= 1);
    assert_eq!(f.ack_polls(), posts * 3, "two false, then true, per batch");
    assert!(
        f.requests()
            .iter()
            .all(|r| r.header(CHANNEL_HEADER) == Some(channel.as_str()))
    );
    assert!(
        f.indexed()
            .iter()
            .all(|e| e.channel.as_deref() == Some(channel.as_str()))
    );
}

#[tokio::test]
async fn a_lost_ack_resends_the_batch_and_duplicates_share_the_record_id() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .ack()
        .lose_ack(0)
        .start()
        .await;
    let sink = config(
        &f.url(),
        "ack = true\nack_poll_ms = 50\nack_timeout_secs = 1",
    )
    .build()
    .unwrap();
    let out = run(sink, |d| {
        // One request carries everything, so ackId 0 covers every record.
        d.limits.max_delay = Duration::from_secs(5);
    })
    .await;
    let ids = f.record_ids();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &ids {
        *count.entry(id).or_default() += 1;
    }
    assert!(
        count.values().all(|n| *n == 2),
        "indexed, then resent: {count:?}"
    );
    assert_eq!(
        count.keys().map(|k| (*k).to_owned()).collect::<Vec<_>>(),
        expected_ids()
    );
    assert_eq!(out.delivered, expected_ids().len() as u64, "counted once");
    assert_eq!(out.retried, 1);
    assert!(out.dead.is_empty());
}

#[tokio::test]
async fn a_token_without_ack_still_delivers_when_ack_is_configured() {
    let f = SplunkFake::builder().token("tok-1").start().await;
    let sink = config(&f.url(), "ack = true\nack_poll_ms = 5")
        .build()
        .unwrap();
    let out = run(sink, |_| {}).await;
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert_eq!(f.ack_polls(), 0, "no ackId, nothing to poll");
    assert!(out.dead.is_empty());
}
