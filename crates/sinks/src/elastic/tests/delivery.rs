#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Delivery through the real driver against the contract fake: per-item
//! 429/400, lost replies answered by 409, request-level 429/503/drops,
//! 413 splits, wrong keys and 403s, Basic authentication.

use super::*;

fn driver_config(sink: &Elastic) -> DriverConfig {
    let mut c = DriverConfig::new(BatchLimits {
        max_delay: Duration::from_millis(20),
        ..sink.limits()
    });
    c.concurrency = 1;
    c.backoff = Backoff {
        initial: Duration::from_millis(2),
        max: Duration::from_millis(20),
        ..Backoff::default()
    };
    c
}

struct Outcome {
    received: u64,
    delivered: u64,
    dead_lettered: u64,
    retried: u64,
    dead: Vec<Value>,
    _dir: tempfile::TempDir,
}

/// The source document of a dead-lettered `_bulk` unit (stored as the
/// array of its action and document lines).
fn dead_doc(line: &Value) -> Value {
    assert!(line["record"][0]["create"].is_object(), "{line}");
    line["record"][1].clone()
}

async fn deliver(sink: Elastic, work: Vec<Work>) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let config = driver_config(&sink);
    let mut set = SinkSet::default();
    set.spawn(
        "es",
        sink,
        Route::everything(),
        config,
        16,
        dir.path(),
        &SinkStats::default(),
    )
    .unwrap();
    let counters = set.handles()[0].counters.clone();
    for w in work {
        set.handles()[0].queue.send(w).await.unwrap();
    }
    set.drain(Duration::from_secs(20)).await;
    let dead = std::fs::read_to_string(dir.path().join("dead-letter/es.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(counters.queued_now(), 0);
    assert_eq!(
        counters.received_total(),
        counters.delivered_total() + counters.dead_lettered_total()
    );
    Outcome {
        received: counters.received_total(),
        delivered: counters.delivered_total(),
        dead_lettered: counters.dead_lettered_total(),
        retried: counters.retried_total(),
        dead,
        _dir: dir,
    }
}

fn all_work() -> Vec<Work> {
    batches()
        .into_iter()
        .map(|b| Work::Batch(Arc::new(b)))
        .collect()
}

fn sorted_ids(items: &[AuditItem]) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(|i| i.record_id.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_fixture_record_lands_once_within_the_default_mapping_limits() {
    let fake = ElasticFake::builder()
        .api_key(KEY)
        .max_fields(1000)
        .start()
        .await;
    let mut items = all_items();
    items.push(AuditItem::from_chain(&sample_chain()));
    let mut work = all_work();
    work.push(Work::Chains(Arc::new(vec![sample_chain()])));
    let out = deliver(config(&fake.url(), "").build().unwrap(), work).await;
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert_eq!(fake.ids(), sorted_ids(&items));
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
    let batch = logs_batch();
    let items = items_of(&batch);
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
        vec![Work::Batch(Arc::new(batch))],
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
    let mut want: Vec<String> = items
        .iter()
        .map(|i| i.record_id.clone())
        .filter(|id| id != c)
        .collect();
    want.sort();
    assert_eq!(fake.ids(), want);
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
    let batch = logs_batch();
    let items = items_of(&batch);
    let started = std::time::Instant::now();
    let out = deliver(
        config(&fake.url(), "compression = \"none\"")
            .build()
            .unwrap(),
        vec![Work::Batch(Arc::new(batch))],
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
    assert_eq!(fake.ids(), sorted_ids(&items));
    assert!(out.dead.is_empty());
    assert_eq!(out.delivered, items.len() as u64);
    assert_eq!(out.retried, 4);
}

#[tokio::test]
async fn a_413_splits_down_and_only_the_document_that_never_fits_is_dead_lettered() {
    let items = all_items();
    let sink_for_size = offline_sink();
    let sizes: Vec<usize> = items
        .iter()
        .map(|i| {
            let mut out = Vec::new();
            sink_for_size.encode_item(i, &mut out).unwrap();
            out.len()
        })
        .collect();
    let largest = *sizes.iter().max().unwrap();
    assert_eq!(sizes.iter().filter(|s| **s == largest).count(), 1);
    let too_big = &items[sizes.iter().position(|s| *s == largest).unwrap()];
    let fake = ElasticFake::builder()
        .api_key(KEY)
        .max_content_length(largest - 1)
        .start()
        .await;
    let out = deliver(config(&fake.url(), "").build().unwrap(), all_work()).await;
    let mut want: Vec<String> = items
        .iter()
        .map(|i| i.record_id.clone())
        .filter(|id| *id != too_big.record_id)
        .collect();
    want.sort();
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
    let items = all_items();
    let out = deliver(config(&fake.url(), "").build().unwrap(), all_work()).await;
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
        vec![Work::Batch(Arc::new(batch))],
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
    let batch = logs_batch();
    let items = items_of(&batch);
    let sink = toml::from_str::<Config>(&format!(
        "url = {:?}\nusername = \"cairn\"\npassword = \"pw\"\ntarget_in_path = true",
        fake.url()
    ))
    .unwrap()
    .build()
    .unwrap();
    let out = deliver(sink, vec![Work::Batch(Arc::new(batch))]).await;
    assert_eq!(fake.ids(), sorted_ids(&items));
    assert_eq!(out.delivered, items.len() as u64);
    let req = &fake.requests()[0];
    assert_eq!(req.header("authorization"), Some("Basic Y2Fpcm46cHc="));
    assert_eq!(req.path, "/logs-cairn.audit-default/_bulk");
}
