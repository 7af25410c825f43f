#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Sumo sink through the real driver (`SinkSet`) against the fake:
//! every record once with the configured headers, retries on 408/429/503/504
//! and a dropped connection, 413 splits, a refused URL dead-letters
//! everything without ever writing the URL; the counters add up.

use std::time::{Duration, Instant};

use cairn_testkit::siem::{
    Answer,
    sumo::{self as fake, SumoFake},
};

use super::tests::{TOKEN, config};
use super::*;
use crate::{
    driver::DriverConfig,
    item::AuditItem,
    splunk_hec::tests::{chains, deliver_all, expected_ids, items},
    testing::{Outcome, largest, once_each},
};

/// The fixture through `sink` on the real driver.
async fn run(sink: Sumo, tweak: impl FnOnce(&mut DriverConfig)) -> Outcome {
    deliver_all("sumo", sink, tweak).await
}

#[tokio::test]
async fn every_record_arrives_once_with_the_sumo_headers() {
    let f = SumoFake::builder().token(TOKEN).start().await;
    let sink = config(
        &f.source_url(TOKEN),
        "category = \"security/ai/claude\"\nname = \"cairn\"\nhost = \"gw-1\"\n[fields]\nenv = \"prod\"\norg = \"o-1\"",
    )
    .build()
    .unwrap();
    let out = run(sink, |_| {}).await;
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert_eq!(out.delivered, expected_ids().len() as u64);
    assert!(out.dead.is_empty());
    for r in f.received() {
        assert_eq!(r.token, TOKEN);
        assert_eq!(r.category.as_deref(), Some("security/ai/claude"));
        assert_eq!(r.name.as_deref(), Some("cairn"));
        assert_eq!(r.host.as_deref(), Some("gw-1"));
        assert_eq!(r.fields.as_deref(), Some("env=prod,org=o-1"));
        assert!(r.lines.iter().all(|l| l.starts_with("{\"timestamp\":\"")));
    }
    assert!(
        f.requests()
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip"))
    );
}

#[tokio::test]
async fn timeouts_throttling_outages_and_drops_are_retried_without_loss() {
    let f = SumoFake::builder().token(TOKEN).start().await;
    f.inject(0, fake::answer(429).with_header("retry-after", "1"));
    f.inject(1, fake::answer(408));
    f.inject(2, fake::answer(503));
    f.inject(3, fake::answer(504));
    f.inject(4, Answer::Drop);
    let started = Instant::now();
    let out = run(
        config(&f.source_url(TOKEN), "compression = \"none\"")
            .build()
            .unwrap(),
        |_| {},
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert_eq!(out.retried, 5);
    assert!(out.dead.is_empty());
    assert!(
        f.requests()
            .iter()
            .all(|r| r.header("content-encoding").is_none())
    );
}

#[tokio::test]
async fn over_the_limit_is_split_and_a_lone_oversized_line_is_dead_lettered() {
    let probe = config(&format!("http://127.0.0.1:9/receiver/v1/http/{TOKEN}"), "")
        .build()
        .unwrap();
    let mut all = items();
    all.extend(chains().iter().map(AuditItem::from_chain));
    let (largest, big) = largest(&probe, &all);
    let big_id = big.record_id.clone();
    let f = SumoFake::builder()
        .token(TOKEN)
        .max_bytes(largest - 1)
        .start()
        .await;
    let out = run(config(&f.source_url(TOKEN), "").build().unwrap(), |d| {
        d.limits.max_delay = Duration::from_secs(5);
    })
    .await;
    let mut want = expected_ids();
    want.retain(|id| *id != big_id);
    assert_eq!(once_each(&f.record_ids()), want);
    assert_eq!(out.dead.len(), 1);
    assert_eq!(out.dead[0]["record"]["record_id"], big_id.as_str());
    assert_eq!(
        out.dead[0]["reason"],
        "too large: HTTP 413: Payload exceeds the maximum allowed size"
    );
    assert_eq!(out.dead_lettered, 1);
}

#[tokio::test]
async fn an_unknown_source_dead_letters_everything_and_never_writes_the_url() {
    let f = SumoFake::builder()
        .token("some-other-token-value")
        .start()
        .await;
    let url = f.source_url(TOKEN);
    // A server that echoes the URL in its error body.
    f.inject(0, Answer::text(401, &format!("no such source: {url}")));
    let out = run(config(&url, "").build().unwrap(), |d| {
        d.limits.max_delay = Duration::from_secs(5);
    })
    .await;
    assert!(f.received().is_empty());
    assert_eq!(out.delivered, 0);
    assert_eq!(out.retried, 0, "401 is permanent");
    assert_eq!(out.dead_lettered, expected_ids().len() as u64);
    assert_eq!(out.dead_ids(|line| &line["record_id"]), expected_ids());
    assert!(out.dead.iter().all(|d| {
        d["reason"]
            == "HTTP 401: no such source: [redacted] (the HTTP Source URL or its token was refused)"
    }));
    assert!(!out.dead_text.contains(TOKEN));
}

#[tokio::test]
async fn a_header_authenticated_source() {
    let f = SumoFake::builder()
        .auth_header("X-Sumo-Token", "hdr-secret")
        .start()
        .await;
    let sink = config(
        &format!("{}/receiver/v1/http", f.url()),
        "[auth_header]\nname = \"X-Sumo-Token\"\nvalue = \"hdr-secret\"",
    )
    .build()
    .unwrap();
    let out = run(sink, |_| {}).await;
    assert_eq!(once_each(&f.record_ids()), expected_ids());
    assert!(out.dead.is_empty());
}
