#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Delivery through the real driver against the contract fake: retryable
//! answers (429 with Retry-After, 408, 500, 503, a dropped connection),
//! 413 splits by bytes and by entries, permanent 400/401/403.

use std::time::Duration;

use cairn_testkit::siem::datadog::DatadogFake;

use super::*;
use crate::{
    driver::Work,
    route::Route,
    testing::{Delivery, Outcome, fixture_batches, fixture_items, ids, items_of, largest, work},
};

/// Runs the sink built from `extra` against `fake` on the real driver.
async fn deliver(fake: &DatadogFake, extra: &str, work: Vec<Work>) -> Outcome {
    let sink = config(&fake.url(), extra).build().unwrap();
    Delivery::run("dd", sink, Route::everything(), |_| {}, work).await
}

#[tokio::test]
async fn every_fixture_record_is_accepted_once_with_the_contract_headers() {
    let fake = DatadogFake::builder().start().await;
    let mut items = fixture_items();
    items.push(AuditItem::from_chain(&sample_chain()));
    let out = deliver(&fake, "", work(fixture_batches(), vec![sample_chain()])).await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(fake.record_ids(), ids(&items));
    let chain = fake.log(&items.last().unwrap().record_id).unwrap();
    assert_eq!(chain.value["evt"]["name"], "prompt_chain");
    assert_eq!(chain.value["hostname"], "laptop-7");
    assert_eq!(out.delivered, items.len() as u64);
    assert_eq!(out.retried, 0);
    for req in fake.requests() {
        assert_eq!(req.path, "/api/v2/logs");
        assert_eq!(req.header("dd-api-key"), Some(KEY));
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("content-encoding"), Some("gzip"));
        let body: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
        assert!(body.is_array());
    }
    let first = &items[0];
    let log = fake.log(&first.record_id).unwrap();
    assert_eq!(log.value["evt"]["name"], first.name.as_str());
    assert!(!log.truncated);
}

#[tokio::test]
async fn retryable_answers_are_resent_until_accepted_and_retry_after_is_honoured() {
    let fake = DatadogFake::builder().start().await;
    fake.fail_request_retry_after(0, 429, 1);
    fake.fail_request(1, 408);
    fake.fail_request(2, 500);
    fake.fail_request(3, 503);
    fake.drop_request(4);
    let batches = vec![fixture_batches().remove(0)];
    let items = items_of(&batches);
    let started = std::time::Instant::now();
    let out = deliver(&fake, "compression = \"none\"", work(batches, vec![])).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(fake.requests().len(), 6);
    assert!(fake.requests()[5].header("content-encoding").is_none());
    assert_eq!(fake.record_ids(), ids(&items), "each record exactly once");
    assert_eq!(out.delivered, items.len() as u64);
    assert_eq!(out.retried, 5);
    assert!(out.dead.is_empty());
}

#[tokio::test]
async fn a_413_splits_by_bytes_and_entries_and_dead_letters_only_what_never_fits() {
    let items = fixture_items();
    let (largest, too_big) = largest(&offline_sink(""), &items);
    // A single log is `[` + log + `]`: the largest misses by one byte.
    let fake = DatadogFake::builder()
        .max_bytes(largest + 1)
        .max_entries(3)
        .start()
        .await;
    let out = deliver(&fake, "", work(fixture_batches(), vec![])).await;
    let want = ids(items.iter().filter(|i| i.record_id != too_big.record_id));
    assert_eq!(fake.record_ids(), want);
    assert_eq!(out.dead_lettered, 1);
    assert_eq!(out.dead.len(), 1);
    assert_eq!(out.dead[0]["record"]["record_id"], too_big.record_id);
    assert_eq!(out.dead[0]["record"]["evt"]["name"], too_big.name.as_str());
    assert_eq!(
        out.dead[0]["reason"],
        "too large: HTTP 413 Request Entity Too Large"
    );
    let mut per_request = std::collections::BTreeMap::new();
    for log in fake.logs() {
        *per_request.entry(log.request).or_insert(0) += 1;
    }
    assert!(per_request.values().all(|n| *n <= 3), "{per_request:?}");
}

#[tokio::test]
async fn a_wrong_key_and_scripted_400_401_are_permanent() {
    let fake = DatadogFake::builder().api_key("another").start().await;
    let items = fixture_items();
    let out = deliver(&fake, "", work(fixture_batches(), vec![])).await;
    assert!(fake.logs().is_empty());
    assert_eq!(out.dead_lettered, items.len() as u64);
    assert_eq!(out.retried, 0);
    assert!(out.dead.iter().all(|d| d["reason"] == "HTTP 403 Forbidden"));
    // Dead letters keep the log itself.
    assert_eq!(out.dead_ids(|log| &log["record_id"]), ids(&items));

    for (status, reason) in [
        (400, "HTTP 400 Bad Request: malformed payload"),
        (401, "HTTP 401 Unauthorized"),
    ] {
        let fake = DatadogFake::builder().start().await;
        fake.fail_request(0, status);
        let batch = fixture_batches().remove(0);
        let n = batch.records.len() as u64;
        let out = deliver(&fake, "", work(vec![batch], vec![])).await;
        assert_eq!(out.dead_lettered, n, "{status}");
        assert_eq!(fake.requests().len(), 1, "{status}: never resent");
        assert!(out.dead.iter().all(|d| d["reason"] == reason), "{status}");
    }
}
