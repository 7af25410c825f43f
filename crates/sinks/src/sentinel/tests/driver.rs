//! The sink through the real driver (`SinkSet::spawn`, queue, drain)
//! against the fake: faults injected, every record counted by `RecordId`,
//! dead letters checked line by line, counters added up.

use std::{collections::BTreeMap, time::Duration};

use cairn_core::clock::ManualClock;

use super::*;
use crate::{
    driver::Work,
    route::Route,
    testing::{Delivery, chains_of, fixture_ids},
};

/// Starts `sink` on the real driver: `concurrency` requests in flight, at
/// most `max_items` rows a request, batches closed after 5 ms.
fn start(sink: Sentinel, concurrency: usize, max_items: usize) -> Delivery {
    Delivery::start("sentinel", sink, Route::everything(), |d| {
        d.limits.max_items = max_items;
        d.limits.max_delay = Duration::from_millis(5);
        d.concurrency = concurrency;
    })
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ingest_ids(fake: &SentinelFake, ingest: usize) -> Vec<String> {
    let req = fake
        .server()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/dataCollectionRules/"))
        .nth(ingest)
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    rows.iter()
        .map(|r| r["RecordId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_record_and_chain_arrives_once_through_throttling_outages_and_a_401() {
    let fake = SentinelFake::builder().start().await;
    fake.script_ingest(
        0,
        azure(429, "TooManyRequests", "per-DCR limit").with_header("retry-after", "1"),
    );
    fake.script_ingest(1, azure(503, "ServiceUnavailable", "busy"));
    fake.script_ingest(2, Answer::Drop);
    fake.script_ingest(3, azure(401, "InvalidAuthenticationToken", "expired"));
    let batches = batches(3);
    let chains = chains_of(&batches);
    assert_eq!(chains.len(), 3);
    let run = start(sink(&fake), 1, 10);
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    run.feed(Work::Chains(Arc::new(chains.clone()))).await;
    let out = run.finish().await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    let want = fixture_ids(&batches, &chains);
    assert_eq!(want.len(), 66);
    assert_eq!(sorted(fake.record_ids()), want, "each record exactly once");
    assert_eq!(out.totals(), (66, 66, 0));
    let ingests = fake.ingests();
    let statuses: Vec<u16> = ingests.iter().take(5).map(|i| i.status).collect();
    assert_eq!(statuses, vec![429, 503, 0, 401, 204]);
    assert!(
        ingests[1].at - ingests[0].at >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(
        fake.tokens_issued(),
        2,
        "the first token, and one after the 401"
    );
    let chain_rows: Vec<Value> = fake
        .rows()
        .into_iter()
        .filter(|r| r["RecordKind"] == "chain")
        .collect();
    assert_eq!(chain_rows.len(), 3);
}

#[tokio::test]
async fn a_413_is_split_until_every_request_fits() {
    // A 20,000-byte limit, measured after gunzip: the compressed bodies are
    // far smaller, so only a sink counting uncompressed bytes gets through.
    let fake = SentinelFake::builder().max_bytes(20_000).start().await;
    let batches = batches(2);
    let run = start(sink(&fake), 2, 1000);
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    let out = run.finish().await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(sorted(fake.record_ids()), fixture_ids(&batches, &[]));
    assert_eq!(out.totals(), (42, 42, 0));
    assert!(fake.answered(413) >= 1);
    let reqs = fake.server().requests();
    for r in reqs
        .iter()
        .filter(|r| r.path.starts_with("/dataCollectionRules/"))
    {
        assert!(r.wire.len() < 20_000);
    }
    for i in fake.ingests().iter().filter(|i| i.status == 204) {
        let body = reqs
            .iter()
            .filter(|r| r.path.starts_with("/data"))
            .nth(i.index)
            .unwrap();
        assert!(body.body.as_ref().unwrap().len() <= 20_000);
    }
}

#[tokio::test]
async fn rows_spanning_thirty_minutes_are_split_like_a_413() {
    use cairn_core::record::RecordBody;
    const MIN: u64 = 60 * 1_000_000_000;
    let fake = SentinelFake::builder()
        .max_time_spread(Duration::from_secs(30 * 60))
        .start()
        .await;
    // The 11 events, 10 minutes apart: 100 minutes in one batch.
    let mut logs = batches(1).remove(0);
    for (i, r) in logs.records.iter_mut().enumerate() {
        let RecordBody::Event(e) = &mut r.body else {
            panic!("the first fixture batch is events")
        };
        e.log.time_unix_nano += i as u64 * 10 * MIN;
    }
    let run = start(sink(&fake), 1, 100);
    run.feed(Work::Batch(Arc::new(logs.clone()))).await;
    let out = run.finish().await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(out.totals(), (11, 11, 0));
    assert_eq!(sorted(fake.record_ids()), fixture_ids(&[logs], &[]));
    assert!(fake.answered(400) >= 2, "split more than once");
    let reqs: Vec<_> = fake
        .server()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/data"))
        .collect();
    for i in fake.ingests().iter().filter(|i| i.status == 204) {
        let rows: Vec<Value> =
            serde_json::from_slice(reqs[i.index].body.as_ref().unwrap()).unwrap();
        let t: Vec<u64> = rows
            .iter()
            .map(|r| {
                cairn_core::chain::parse_rfc3339(r["TimeGenerated"].as_str().unwrap()).unwrap()
            })
            .collect();
        let spread = t.iter().max().unwrap() - t.iter().min().unwrap();
        assert!(spread < 30 * MIN, "{spread}");
    }
}

#[tokio::test]
async fn refused_batches_are_dead_lettered_with_their_reason_and_nothing_else() {
    let fake = SentinelFake::builder().start().await;
    fake.script_ingest(1, azure(400, "InvalidPayload", "column type mismatch"));
    // 21 records at most 7 a request: at least three requests, whatever
    // the batching timer does.
    fake.script_ingest(2, azure(404, "NotFound", "no such stream"));
    let batches = batches(1);
    let run = start(sink(&fake), 1, 7);
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
    }
    let out = run.finish().await;
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in &out.dead {
        assert_eq!(d["sink"], "sentinel");
        let id = d["record"]["RecordId"].as_str().unwrap().to_owned();
        reasons
            .entry(d["reason"].as_str().unwrap().into())
            .or_default()
            .push(id);
    }
    let refused_400 = sorted(ingest_ids(&fake, 1));
    let refused_404 = sorted(ingest_ids(&fake, 2));
    assert!(!refused_400.is_empty() && !refused_404.is_empty());
    assert_eq!(
        reasons.keys().collect::<Vec<_>>(),
        vec![
            "HTTP 400 InvalidPayload: column type mismatch",
            "HTTP 404 NotFound: no such stream"
        ]
    );
    assert_eq!(
        sorted(reasons["HTTP 400 InvalidPayload: column type mismatch"].clone()),
        refused_400
    );
    assert_eq!(
        sorted(reasons["HTTP 404 NotFound: no such stream"].clone()),
        refused_404
    );
    // Delivered and dead-lettered are disjoint and together are everything.
    let mut all = fake.record_ids();
    all.extend(refused_400.iter().cloned());
    all.extend(refused_404.iter().cloned());
    assert_eq!(sorted(all), fixture_ids(&batches, &[]));
    let n_dead = (refused_400.len() + refused_404.len()) as u64;
    assert_eq!(out.totals(), (21, 21 - n_dead, n_dead));
}

#[tokio::test]
async fn without_the_role_or_with_a_bad_secret_everything_is_dead_lettered_without_the_secret() {
    let fake = SentinelFake::builder().start().await;
    fake.set_forbidden(true);
    let batches = batches(1);
    let run = start(sink(&fake), 2, 10);
    run.feed(Work::Batch(Arc::new(batches[0].clone()))).await;
    let out = run.finish().await;
    let n = batches[0].records.len() as u64;
    assert_eq!(out.totals(), (n, 0, n));
    assert_eq!(out.dead.len() as u64, n);
    assert!(out.dead.iter().all(|d| {
        d["reason"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 403 OperationFailed: ")
    }));
    assert!(fake.rows().is_empty());

    let secret = "Leaky~Secret~Value~0123456789";
    let run = start(sink_with(&fake, secret, ""), 2, 10);
    run.feed(Work::Batch(Arc::new(batches[1].clone()))).await;
    let out = run.finish().await;
    let n = batches[1].records.len() as u64;
    assert_eq!(out.totals(), (n, 0, n));
    let text = serde_json::to_string(&out.dead).unwrap();
    assert!(text.contains("invalid_client (AADSTS7000215"), "{text}");
    assert!(!text.contains(secret));
}

#[tokio::test]
async fn tokens_are_refreshed_before_expiry_over_four_lifetimes_on_a_moved_clock() {
    let clock = Arc::new(ManualClock::new(1_795_458_664_000_000_000));
    let fake = SentinelFake::builder()
        .token_lifetime(3600)
        .clock(clock.clone())
        .start()
        .await;
    let batches = batches(13);
    let run = start(sink(&fake).with_clock(clock.clone()), 2, 100);
    let mut sent = 0;
    // One batch every 7 minutes: 39 batches over 4.4 hours.
    for b in &batches {
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
        sent += b.records.len();
        cairn_testkit::eventually!(fake.rows().len() == sent);
        clock.advance(7 * 60 * 1_000_000_000);
    }
    let out = run.finish().await;
    assert!(out.dead.is_empty());
    assert_eq!(out.totals(), (273, 273, 0));
    assert_eq!(sorted(fake.record_ids()), fixture_ids(&batches, &[]));
    // At 0, 56, 112, 168 and 224 min (the last batch goes at 266 min).
    assert_eq!(fake.tokens_issued(), 5);
    assert_eq!(
        fake.answered(401),
        0,
        "no request ever carried an expired token"
    );
    assert_eq!(
        fake.min_token_remaining(),
        Some(Duration::from_secs(11 * 60))
    );
}

#[tokio::test]
async fn a_two_second_token_is_refreshed_in_real_time_without_a_401() {
    let fake = SentinelFake::builder().token_lifetime(2).start().await;
    let batches = batches(6);
    let run = start(sink(&fake), 2, 100);
    let mut sent = 0;
    let began = std::time::Instant::now();
    // Pacing, not waiting for an outcome: 18 batches 250 ms apart span more
    // than two token lifetimes of real time.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    for b in &batches {
        tick.tick().await;
        run.feed(Work::Batch(Arc::new(b.clone()))).await;
        sent += b.records.len();
        cairn_testkit::eventually!(fake.rows().len() == sent);
    }
    assert!(began.elapsed() >= Duration::from_millis(4250));
    let out = run.finish().await;
    assert!(out.dead.is_empty());
    assert_eq!(out.totals(), (126, 126, 0));
    assert_eq!(sorted(fake.record_ids()), fixture_ids(&batches, &[]));
    // Refreshed once a second (half the lifetime), well before the fake
    // expires a token, so none was ever refused.
    assert!(fake.tokens_issued() >= 3, "{}", fake.tokens_issued());
    assert_eq!(fake.answered(401), 0);
    assert!(fake.min_token_remaining().unwrap() >= Duration::from_millis(500));
}
