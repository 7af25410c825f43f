//! SIGTERM in a sink outage on the real binary: `[server]
//! drain_timeout_secs` bounds how long the sink keeps retrying at shutdown;
//! cairn then exits cleanly, dead-letters nothing (what the sink did not
//! deliver stays in the WAL) and, started again with the sink back,
//! delivers every acknowledged record.

use std::{
    collections::BTreeSet,
    path::PathBuf,
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, assert_delivered, assert_no_dead_letters, delivered, marker, metric,
    scrape, send_http, write_config,
};
use crate::{binary::Gateway, util::http_client};

/// A gateway stopped with SIGTERM while HEC was down and cairn retrying.
struct Stopped {
    hec: SplunkFake,
    switch: HecSwitch,
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    log: PathBuf,
    acked: BTreeSet<String>,
    /// How long the SIGTERM took.
    took: Duration,
}

async fn sigterm_in_an_outage() -> Stopped {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), true).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("cairn.log");
    let config = write_config(
        dir.path(),
        &switch.url(),
        "[server]\ndrain_timeout_secs = 1\n",
    );
    let mut gw = tokio::task::block_in_place(|| {
        Gateway::start_on(&data, &["--config", config.to_str().unwrap()], &log)
    });
    let client = http_client();
    let mut acked = BTreeSet::new();
    for n in 0..5 {
        let markers: Vec<String> = (0..4).map(|k| marker(0, 0, n, k)).collect();
        let reply = send_http(&client, gw.addr("http"), &markers).await;
        assert!(reply.acked(), "{reply:?}");
        acked.extend(markers);
    }
    // Wait until the sink holds all 20 records and is retrying against the
    // dead HEC.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = scrape(gw.addr("admin")).await;
        let queued = metric(&m, r#"cairn_sink_queued_records{sink="splunk"}"#);
        if queued == 20.0 && switch.refused() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queued {queued}, {} tries",
            switch.refused()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t = Instant::now();
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    let took = t.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(hec.indexed().is_empty(), "HEC indexed something while down");
    assert_no_dead_letters(&data);
    Stopped {
        hec,
        switch,
        _dir: dir,
        data,
        config,
        log,
        acked,
        took,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_an_outage_keeps_the_undelivered_in_the_wal() {
    let s = sigterm_in_an_outage().await;
    assert!(
        s.took < Duration::from_secs(10),
        "a 1 s drain deadline, yet SIGTERM took {:?}",
        s.took
    );
    s.switch.set_down(false);
    let mut gw = tokio::task::block_in_place(|| {
        Gateway::start_on(&s.data, &["--config", s.config.to_str().unwrap()], &s.log)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = delivered(&s.hec);
        if s.acked.iter().all(|m| got.contains_key(m)) {
            break;
        }
        assert!(Instant::now() < deadline, "not delivered after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_delivered(&s.hec, &s.acked);
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    assert_no_dead_letters(&s.data);
}

/// cairn's log at a drain deadline should say what happened: the records
/// were kept in the WAL, not dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_an_outage_does_not_claim_to_dead_letter() {
    let s = sigterm_in_an_outage().await;
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("kept in the WAL"), "{log}");
    let claims: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("dead-lettered"))
        .collect();
    assert!(
        claims.is_empty(),
        "nothing was dead-lettered, yet the log says: {claims:?}"
    );
}
