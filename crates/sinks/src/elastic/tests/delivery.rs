#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Delivery through the real driver against the contract fake: per-item
//! 429/400, lost replies answered by 409, request-level 429/503/drops,
//! 413 splits, wrong keys and 403s, Basic authentication.

use super::*;
use crate::{
    driver::Work,
    route::Route,
    testing::{Delivery, Outcome, fixture_batches, fixture_items, ids, items_of, largest, work},
};

/// The source document of a dead-lettered `_bulk` unit (stored as the
/// array of its action and document lines).
fn dead_doc(line: &Value) -> Value {
    assert!(line["record"][0]["create"].is_object(), "{line}");
    line["record"][1].clone()
}

/// Runs `sink` against the fake on the real driver.
async fn deliver(sink: Elastic, work: Vec<Work>) -> Outcome {
    Delivery::run("es", sink, Route::everything(), |_| {}, work).await
}

#[tokio::test]
async fn every_fixture_record_lands_once_within_the_default_mapping_limits() {
    let fake = ElasticFake::builder()
        .api_key(KEY)
        .max_fields(1000)
        .start()
        .await;
    let mut items = fixture_items();
    items.push(AuditItem::from_chain(&sample_chain()));
    let out = deliver(
        config(&fake.url(), "").build().unwrap(),
        work(fixture_batches(), vec![sample_chain()]),
    )
    .await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(fake.ids(), ids(&items));
    let chain = fake.doc(&items.last().unwrap().record_id).unwrap();
    assert_eq!(chain["event"]["action"], "prompt_chain");
    assert_eq!(chain["user"]["email"], "alice@example.com");
    assert_eq!(out.delivered, items.len() as u64);
    assert_eq!(out.received, items.len() as u64);
    for doc in fake.docs() {
        assert_eq!(doc.index, "logs-cairn.audit-default");
        assert_eq!(doc.source["event"]["id"], doc.id);
    }
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/_bulk");
    assert_eq!(req.query, "filter_path=errors,items.*.status,items.*.error");
    assert_eq!(
        req.header("authorization"),
        Some(format!("ApiKey {KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(req.header("content-encoding"), Some("gzip"));
    assert!(req.wire.len() < req.body.as_ref().unwrap().len());
}

#[tokio::test]
async fn per_item_429s_are_resent_alone_a_400_is_dead_lettered_and_a_lost_reply_reads_as_409s() {
    let fake = ElasticFake::builder().api_key(KEY).start().await;
    let batches = vec![logs_batch()];
    let items = items_of(&batches);
    let (a, b, c) = (
        &items[1].record_id,
        &items[3].record_id,
        &items[5].record_id,
    );
    // Request 0 is indexed but its reply is lost: the driver resends it all.
    fake.drop_after_indexing(0);
    // a and b are refused with 429 both times, c with 400 both times.
    fake.fail_id(a, 429, 2);
    fake.fail_id(b, 429, 2);
    fake.fail_id(c, 400, 2);
    let out = deliver(
        config(&fake.url(), "").build().unwrap(),
        work(batches, vec![]),
    )
    .await;

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3, "full send, full resend, the two 429s alone");
    let ids_in = |i: usize| -> Vec<String> {
        let body = String::from_utf8(reqs[i].body.clone().unwrap()).unwrap();
        body.lines()
            .step_by(2)
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["create"]["_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(ids_in(0).len(), items.len());
    assert_eq!(ids_in(1), ids_in(0));
    assert_eq!(ids_in(2), vec![a.clone(), b.clone()]);
    // The resend found everything else already indexed.
    let statuses = fake.item_statuses(1).unwrap();
    for (i, s) in statuses.iter().enumerate() {
        let want = match i {
            1 | 3 => 429,
            5 => 400,
            _ => 409,
        };
        assert_eq!(*s, want, "item {i}");
    }
    assert_eq!(fake.item_statuses(2).unwrap(), vec![201, 201]);

    // Each record once in the store, except the refused one.
    assert_eq!(fake.ids(), ids(items.iter().filter(|i| i.record_id != *c)));
    assert_eq!(fake.docs().len(), items.len() - 1);

    assert_eq!(out.dead.len(), 1);
    assert_eq!(dead_doc(&out.dead[0])["event"]["id"], c.as_str());
    assert_eq!(
        out.dead[0]["reason"],
        "item HTTP 400 document_parsing_exception: [1:2] failed to parse"
    );
    assert_eq!(out.dead[0]["sink"], "es");
    assert_eq!(out.received, items.len() as u64);
    assert_eq!(out.delivered, items.len() as u64 - 1);
    assert_eq!(out.dead_lettered, 1);
    assert_eq!(out.retried, 2, "one lost reply, one per-item resend");
}

#[tokio::test]
async fn request_429_with_retry_after_then_503_then_a_dropped_connection_still_lands_once() {
    let fake = ElasticFake::builder().api_key(KEY).start().await;
    fake.server().inject(
        0,
        ElasticFake::request_error(429).with_header("retry-after", "1"),
    );
    fake.fail_request(1, 503);
    fake.drop_request(2);
    // The first item of the next attempt meets a shard failure: resent alone.
    fake.fail_position(3, 0, 503);
    let batches = vec![logs_batch()];
    let items = items_of(&batches);
    let started = std::time::Instant::now();
    let out = deliver(
        config(&fake.url(), "compression = \"none\"")
            .build()
            .unwrap(),
        work(batches, vec![]),
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(fake.requests().len(), 5);
    assert!(fake.requests()[3].header("content-encoding").is_none());
    assert_eq!(fake.item_statuses(3).unwrap()[0], 503);
    assert_eq!(fake.item_statuses(4).unwrap(), vec![201]);
    assert_eq!(fake.ids(), ids(&items));
    assert!(out.dead.is_empty());
    assert_eq!(out.delivered, items.len() as u64);
    assert_eq!(out.retried, 4);
}

#[tokio::test]
async fn a_413_splits_down_and_only_the_document_that_never_fits_is_dead_lettered() {
    let items = fixture_items();
    let (largest, too_big) = largest(&offline_sink(), &items);
    let fake = ElasticFake::builder()
        .api_key(KEY)
        .max_content_length(largest - 1)
        .start()
        .await;
    let out = deliver(
        config(&fake.url(), "").build().unwrap(),
        work(fixture_batches(), vec![]),
    )
    .await;
    let want = ids(items.iter().filter(|i| i.record_id != too_big.record_id));
    assert_eq!(fake.ids(), want);
    assert_eq!(out.dead.len(), 1);
    assert_eq!(dead_doc(&out.dead[0])["event"]["id"], too_big.record_id);
    assert_eq!(
        out.dead[0]["reason"],
        "too large: HTTP 413 request over http.max_content_length"
    );
    assert_eq!(out.delivered, items.len() as u64 - 1);
    // Requests the fake processed fit; the others were answered 413.
    let reqs = fake.requests();
    assert!(reqs.iter().any(|r| fake.item_statuses(r.index).is_none()));
    for r in &reqs {
        let fits = r.body.as_ref().unwrap().len() < largest;
        assert_eq!(
            fake.item_statuses(r.index).is_some(),
            fits,
            "request {}",
            r.index
        );
    }
}

#[tokio::test]
async fn a_wrong_key_and_a_403_are_permanent() {
    let fake = ElasticFake::builder()
        .api_key("the-right-one")
        .start()
        .await;
    let items = fixture_items();
    let out = deliver(
        config(&fake.url(), "").build().unwrap(),
        work(fixture_batches(), vec![]),
    )
    .await;
    assert!(fake.ids().is_empty());
    assert_eq!(out.dead_lettered, items.len() as u64);
    assert_eq!(out.dead.len(), items.len());
    assert_eq!(out.retried, 0);
    for d in &out.dead {
        assert_eq!(
            d["reason"],
            "HTTP 401 security_exception: unable to authenticate with provided credentials and anonymous access is not allowed for this request"
        );
    }

    let fake = ElasticFake::builder().api_key(KEY).start().await;
    fake.fail_request(0, 403);
    let batch = logs_batch();
    let n = batch.records.len() as u64;
    let out = deliver(
        config(&fake.url(), "").build().unwrap(),
        work(vec![batch], vec![]),
    )
    .await;
    assert!(fake.ids().is_empty());
    assert_eq!(out.dead_lettered, n);
    assert_eq!(out.delivered, 0);
    assert!(
        out.dead
            .iter()
            .all(|d| d["reason"].as_str().unwrap().starts_with(
                "HTTP 403 security_exception: action [indices:data/write/bulk] is unauthorized"
            ))
    );
}

#[tokio::test]
async fn basic_authentication_is_accepted() {
    let fake = ElasticFake::builder().basic("cairn", "pw").start().await;
    let batches = vec![logs_batch()];
    let items = items_of(&batches);
    let sink = toml::from_str::<Config>(&format!(
        "url = {:?}\nusername = \"cairn\"\npassword = \"pw\"\ntarget_in_path = true",
        fake.url()
    ))
    .unwrap()
    .build()
    .unwrap();
    let out = deliver(sink, work(batches, vec![])).await;
    assert_eq!(fake.ids(), ids(&items));
    assert_eq!(out.delivered, items.len() as u64);
    let req = &fake.requests()[0];
    assert_eq!(req.header("authorization"), Some("Basic Y2Fpcm46cHc="));
    assert_eq!(req.path, "/logs-cairn.audit-default/_bulk");
}
