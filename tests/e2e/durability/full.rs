//! A full WAL on the real binary: with a 256 KiB budget and the Splunk HEC
//! down, cairn acknowledges until the WAL is full, then pushes back (HTTP
//! 503 with `Retry-After`, gRPC UNAVAILABLE with `RetryInfo`, counted in
//! `cairn_wal_full_rejections_total`) instead of losing or buffering
//! without bound, also after a SIGKILL and restart on the full WAL; once
//! HEC is back every acknowledged record is delivered and new requests are
//! accepted again.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, Reply, assert_delivered, delivered, grpc_client, marker, metric, scrape,
    send_grpc, send_http, write_config,
};
use crate::{binary::Gateway, util::http_client};

const BUDGET: f64 = 262_144.0;

fn all_delivered(hec: &SplunkFake, acked: &BTreeSet<String>) -> bool {
    let got = delivered(hec);
    acked.iter().all(|m| got.contains_key(m))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_wal_pushes_back_and_loses_nothing() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), true).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(
        dir.path(),
        &switch.url(),
        "[server]\nmax_body_bytes = 65536\n\n[wal]\nbudget = \"256 KiB\"\nsegment = \"64 KiB\"\n",
    );
    let mut gw = tokio::task::block_in_place(|| {
        Gateway::start_on(
            &data,
            &["--config", config.to_str().unwrap()],
            &dir.path().join("cairn.log"),
        )
    });
    let (http, grpc, admin) = (gw.addr("http"), gw.addr("grpc"), gw.addr("admin"));
    let client = http_client();

    // Fill it: HTTP requests of ten records each until cairn pushes back.
    let mut acked = BTreeSet::new();
    let mut n = 0;
    let refusal = loop {
        assert!(n < 2000, "2000 requests (~5 MiB) fitted in a 256 KiB WAL");
        let markers: Vec<String> = (0..10).map(|k| marker(0, 0, n, k)).collect();
        n += 1;
        match send_http(&client, http, &markers).await {
            Reply::Acked => acked.extend(markers),
            other => break other,
        }
    };
    let Reply::Refused {
        status,
        detail,
        retry_after,
    } = refusal
    else {
        panic!("after {n} requests: {refusal:?}")
    };
    assert_eq!(status, 503, "after {n} requests: {detail}");
    let secs: u64 = retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("a 503 without Retry-After: {detail}"))
        .parse()
        .unwrap();
    assert!(secs >= 1, "Retry-After: {secs}");
    assert!(!acked.is_empty(), "the very first request was refused");
    println!("full after {} acknowledged requests", n - 1);

    // gRPC gets UNAVAILABLE, with a RetryInfo (a request as large as the
    // refused one: a smaller one may still fit in what is left).
    let mut g = 0;
    loop {
        let markers: Vec<String> = (0..10).map(|k| marker(1, 0, g, k)).collect();
        g += 1;
        match send_grpc(&mut grpc_client(grpc), &markers).await {
            Reply::Acked if g < 20 => acked.extend(markers),
            Reply::Refused {
                status,
                detail,
                retry_after,
            } => {
                assert_eq!(status, tonic::Code::Unavailable as i32, "{detail}");
                assert!(
                    retry_after.is_some(),
                    "UNAVAILABLE without RetryInfo: {detail}"
                );
                break;
            }
            other => panic!("gRPC request {g} into a full WAL: {other:?}"),
        }
    }
    let m = scrape(admin).await;
    assert!(
        metric(&m, "cairn_wal_full_rejections_total") >= 2.0,
        "{m:?}"
    );
    assert_eq!(metric(&m, "cairn_wal_budget_bytes"), BUDGET);
    let used = metric(&m, "cairn_wal_used_bytes");
    assert!(used > 0.0 && used <= BUDGET, "used {used} of {BUDGET}");
    assert!(hec.indexed().is_empty(), "HEC indexed something while down");

    // A crash while full: cairn starts again on the full WAL and still
    // pushes back.
    tokio::task::block_in_place(|| gw.sigkill());
    gw = tokio::task::block_in_place(|| {
        Gateway::start_on(
            &data,
            &["--config", config.to_str().unwrap()],
            &dir.path().join("cairn.log"),
        )
    });
    let (http, grpc, admin) = (gw.addr("http"), gw.addr("grpc"), gw.addr("admin"));
    let markers: Vec<String> = (0..10).map(|k| marker(1, 1, 0, k)).collect();
    match send_http(&client, http, &markers).await {
        Reply::Refused { status: 503, .. } => {}
        Reply::Acked => panic!("a full WAL took a request after a restart"),
        other => panic!("after a restart on a full WAL: {other:?}"),
    }
    let m = scrape(admin).await;
    assert_eq!(metric(&m, "cairn_wal_used_bytes"), used, "{m:?}");

    // HEC is back: everything acknowledged arrives…
    switch.set_down(false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_delivered(&hec, &acked) {
        assert!(
            Instant::now() < deadline,
            "acknowledged records not delivered within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // …and the WAL takes requests again, over both protocols.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    loop {
        let markers: Vec<String> = (0..10).map(|k| marker(2, 0, i, k)).collect();
        let reply = send_http(&client, http, &markers).await;
        let g = [marker(2, 1, i, 0)];
        let greply = send_grpc(&mut grpc_client(grpc), &g).await;
        i += 1;
        if reply.acked() && greply.acked() {
            acked.extend(markers);
            acked.extend(g);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still refused 30 s after the sink caught up: {reply:?} {greply:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !all_delivered(&hec, &acked) {
        assert!(
            Instant::now() < deadline,
            "the new records were not delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_delivered(&hec, &acked);
    let m = scrape(admin).await;
    assert!(metric(&m, "cairn_wal_used_bytes") <= BUDGET);
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
}
