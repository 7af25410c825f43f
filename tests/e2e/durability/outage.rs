//! A sink outage on the real binary: while the Splunk HEC answers 503, then
//! drops connections without an answer, for seconds on end, cairn keeps acknowledging every request (the WAL holds
//! them, well within its budget), `/metrics` shows received = delivered +
//! dead-lettered + queued at every scrape and the sink's WAL lag growing;
//! once HEC is back, every acknowledged record is delivered (same record id
//! for every copy), nothing is dead-lettered and queued and lag drop to 0.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, assert_delivered, delivered, grpc_client, marker, metric, scrape,
    send_grpc, send_http, write_config,
};
use crate::{binary::Gateway, util::http_client};

const SINK: &str = r#"{sink="splunk"}"#;

/// Asserts the sink's books balance in one scrape; returns (queued, lag).
fn balanced(m: &BTreeMap<String, f64>, when: &str) -> (f64, f64) {
    let get = |name: &str| metric(m, &format!("{name}{SINK}"));
    let received = get("cairn_sink_received_records_total");
    let delivered = get("cairn_sink_delivered_records_total");
    let dead = get("cairn_sink_dead_lettered_records_total");
    let queued = get("cairn_sink_queued_records");
    assert_eq!(
        received,
        delivered + dead + queued,
        "{when}: received {received} != delivered {delivered} + dead-lettered {dead} + queued {queued}"
    );
    assert_eq!(
        dead, 0.0,
        "{when}: a retryable outage dead-lettered records"
    );
    let lag = metric(m, r#"cairn_wal_consumer_lag_bytes{consumer="sink.splunk"}"#);
    (queued, lag)
}

/// Sends round `r`: eight HTTP/protobuf and two gRPC requests at once,
/// three records each; asserts every one is acknowledged.
async fn round(gw: &Gateway, r: usize, acked: &mut BTreeSet<String>) {
    let (http, grpc) = (gw.addr("http"), gw.addr("grpc"));
    let client = http_client();
    let sends = (0..10).map(|i| {
        let markers: Vec<String> = (0..3).map(|k| marker(r, i, 0, k)).collect();
        let client = client.clone();
        async move {
            let reply = if i < 8 {
                send_http(&client, http, &markers).await
            } else {
                send_grpc(&mut grpc_client(grpc), &markers).await
            };
            (markers, reply)
        }
    });
    for (markers, reply) in futures::future::join_all(sends).await {
        assert!(
            reply.acked(),
            "round {r}: {markers:?} not acknowledged: {reply:?}"
        );
        acked.extend(markers);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_outage_is_absorbed_by_the_wal_and_caught_up() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), true).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), &switch.url(), "");
    let mut gw = tokio::task::block_in_place(|| {
        Gateway::start_on(
            &data,
            &["--config", config.to_str().unwrap()],
            &dir.path().join("cairn.log"),
        )
    });
    let admin = gw.addr("admin");

    // The outage: at least 3 s, 20 rounds, and HEC refusing cairn's retries
    // (answering 503 at first, then dropping connections).
    let outage = Instant::now();
    let mut acked = BTreeSet::new();
    let mut lags = Vec::new();
    let mut r = 0;
    let mut busy = 0;
    while r < 20
        || outage.elapsed() < Duration::from_secs(3)
        || busy == 0
        || switch.refused() < busy + 5
    {
        assert!(
            outage.elapsed() < Duration::from_secs(60),
            "the outage round never ended"
        );
        if busy == 0 && outage.elapsed() >= Duration::from_millis(1500) && switch.refused() > 0 {
            busy = switch.refused();
            switch.set_dropping(true);
        }
        round(&gw, r, &mut acked).await;
        let (_, lag) = balanced(&scrape(admin).await, &format!("outage, round {r}"));
        lags.push(lag);
        r += 1;
    }
    assert!(hec.indexed().is_empty(), "HEC indexed something while down");
    assert!(
        lags.windows(2).all(|w| w[1] >= w[0]),
        "the sink's lag shrank while it could deliver nothing: {lags:?}"
    );
    assert!(
        lags.last().unwrap() > lags.first().unwrap() && lags[0] > 0.0,
        "the sink's lag did not grow: {lags:?}"
    );
    let m = scrape(admin).await;
    assert!(
        metric(&m, &format!("cairn_sink_retried_requests_total{SINK}")) > 0.0,
        "cairn never retried"
    );
    println!(
        "outage: {r} rounds, {} markers acknowledged in {:.1?}, HEC answered {busy} requests 503 \
         and dropped {}, sink lag {} -> {} B",
        acked.len(),
        outage.elapsed(),
        switch.refused() - busy,
        lags[0],
        lags[lags.len() - 1]
    );

    // HEC is back; records keep coming while the sink catches up.
    switch.set_down(false);
    round(&gw, r, &mut acked).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (queued, lag) = balanced(&scrape(admin).await, "recovery");
        let got = delivered(&hec);
        if queued == 0.0 && lag == 0.0 && acked.iter().all(|m| got.contains_key(m)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no catch-up within 60 s: queued {queued}, lag {lag} B, {} of {} markers delivered",
            got.len(),
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_delivered(&hec, &acked);
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
}
