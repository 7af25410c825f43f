//! The WAL's own state files on the real binary. A damaged cursor (the sink's
//! and the archive's, after older segments were already deleted) reads as 0:
//! cairn starts, counts both (`cairn_wal_damaged_cursors_total`), and each
//! consumer reads everything still kept again: duplicates with the same
//! record id, nothing acknowledged lost, the archive still verifies. A
//! second gateway on the same data dir is refused (the WAL lock) and the
//! first keeps working.

use std::{
    collections::BTreeSet,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, assert_delivered, assert_no_dead_letters, delivered, marker, metric,
    scrape, send_http, verified_archive_markers, write_config,
};
use crate::{
    binary::{Gateway, cairn_bin},
    util::http_client,
};

const SMALL_WAL: &str = "[server]\ndrain_timeout_secs = 1\nmax_body_bytes = 65536\n\n\
                         [wal]\nsegment = \"64 KiB\"\nbudget = \"4 MiB\"\n";

async fn wait_delivered(hec: &SplunkFake, acked: &BTreeSet<String>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = delivered(hec);
        if acked.iter().all(|m| got.contains_key(m)) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not delivered in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_cursors_replay_what_is_kept_and_lose_nothing() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), false).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("cairn.log");
    let config = write_config(dir.path(), &switch.url(), SMALL_WAL);
    let args = ["--config", config.to_str().unwrap()];
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let client = http_client();

    // Delivered, over several segments, the first ones deleted…
    let mut acked = BTreeSet::new();
    for n in 0..40 {
        let markers: Vec<String> = (0..30).map(|k| marker(0, 0, n, k)).collect();
        assert!(send_http(&client, gw.addr("http"), &markers).await.acked());
        acked.extend(markers);
    }
    wait_delivered(&hec, &acked, "with HEC up").await;
    // …then some not delivered, HEC down.
    switch.set_down(true);
    for n in 0..10 {
        let markers: Vec<String> = (0..30).map(|k| marker(1, 0, n, k)).collect();
        assert!(send_http(&client, gw.addr("http"), &markers).await.acked());
        acked.extend(markers);
    }
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    let first = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("wal-")?
                .strip_suffix(".log")?
                .parse::<u64>()
                .ok()
        })
        .min()
        .unwrap();
    assert!(
        first > 0,
        "no segment was deleted: the test needs more data"
    );

    // Damage both cursors (one byte of the LSN each).
    for name in ["sink.splunk", "archive"] {
        let path = data.join(format!("wal/cursors/{name}.cursor"));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
    let copies_before = hec.indexed().len();
    switch.set_down(false);
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let m = scrape(gw.addr("admin")).await;
    assert_eq!(metric(&m, "cairn_wal_damaged_cursors_total"), 2.0, "{m:?}");
    wait_delivered(&hec, &acked, "after the restart").await;
    let fresh: Vec<String> = (0..3).map(|k| marker(2, 0, 0, k)).collect();
    assert!(send_http(&client, gw.addr("http"), &fresh).await.acked());
    acked.extend(fresh);
    wait_delivered(&hec, &acked, "a new request").await;
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");

    assert_delivered(&hec, &acked);
    assert_no_dead_letters(&data);
    let archived = tokio::task::block_in_place(|| verified_archive_markers(&data));
    assert!(acked.is_subset(&archived), "the archive lost records");
    println!(
        "damaged cursors: first kept segment at {first}; {} copies sent again after the restart",
        hec.indexed().len() - copies_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_on_the_same_data_dir_is_refused() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("cairn.log");
    let config = write_config(dir.path(), &hec.url(), "");
    let args = ["--config", config.to_str().unwrap()];
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let first: Vec<String> = (0..3).map(|k| marker(0, 0, 0, k)).collect();
    assert!(
        send_http(&http_client(), gw.addr("http"), &first)
            .await
            .acked()
    );

    // The same data dir, its own ports.
    let mut second = Command::new(cairn_bin())
        .args([
            "run",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("a second cairn kept running on the same data dir");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    assert!(err.contains("lock"), "the refusal names the lock: {err}");

    // The first one is unharmed.
    let more: Vec<String> = (0..3).map(|k| marker(0, 0, 1, k)).collect();
    assert!(
        send_http(&http_client(), gw.addr("http"), &more)
            .await
            .acked()
    );
    let acked: BTreeSet<String> = first.into_iter().chain(more).collect();
    wait_delivered(&hec, &acked, "the first gateway").await;
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    assert_delivered(&hec, &acked);
}
