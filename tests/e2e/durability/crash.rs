//! The crash harness: cairn is SIGKILLed at a seeded random moment while
//! several clients stream OTLP logs into it (HTTP/protobuf and gRPC), then
//! restarted on the same data dir, over and over, with the Splunk HEC fake
//! up throughout (some cycles behind an outage: 503s or dropped
//! connections) and WAL segments small enough to rotate and be deleted. Proves: every request cairn acknowledged reaches the sink
//! at least once, every copy of a record carries the same record id (so
//! duplicates are identifiable), everything the sink got and everything
//! acknowledged is in `cairn archive export`, and `cairn verify` passes.
//!
//! The seed is printed; `CAIRN_CRASH_SEED=<n>` replays a run,
//! `CAIRN_CRASH_CYCLES=<n>` changes the number of crashes (default 30).

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, Reply, Rng, assert_delivered, assert_no_dead_letters, delivered,
    grpc_client, marker, metric, scrape, send_grpc, send_http, verified_archive_markers,
    write_config,
};
use crate::{binary::Gateway, util::http_client};

/// What the clients sent and what cairn acknowledged, across cycles.
#[derive(Default)]
struct Ledger {
    sent: Mutex<BTreeSet<String>>,
    acked: Mutex<BTreeSet<String>>,
    acks: AtomicUsize,
    /// Answers that were neither success nor a dead connection (pushback).
    refused: AtomicUsize,
}

/// One client: sends requests of 1–4 records until `stop`, over gRPC on
/// `grpc` clients, else HTTP/protobuf; each marker names its cycle, client,
/// request and record.
async fn client(
    gw: (std::net::SocketAddr, std::net::SocketAddr),
    cycle: usize,
    id: usize,
    grpc: bool,
    seed: u64,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) {
    let mut rng = Rng::new(seed);
    let http = http_client();
    let mut g = grpc_client(gw.1);
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let markers: Vec<String> = (0..rng.range(1, 5))
            .map(|k| marker(cycle, id, n, k))
            .collect();
        n += 1;
        ledger.sent.lock().unwrap().extend(markers.iter().cloned());
        let reply = if grpc {
            send_grpc(&mut g, &markers).await
        } else {
            send_http(&http, gw.0, &markers).await
        };
        match reply {
            Reply::Acked => {
                ledger.acked.lock().unwrap().extend(markers);
                ledger.acks.fetch_add(1, Ordering::SeqCst);
            }
            Reply::Refused { status, detail, .. } if !stop.load(Ordering::SeqCst) => {
                if ledger.refused.fetch_add(1, Ordering::SeqCst) < 5 {
                    println!("cycle {cycle} client {id}: refused {status} {detail}");
                }
            }
            // A dead cairn: stop until the next cycle.
            Reply::Failed(_) | Reply::Refused { .. } => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
    }
}

fn seed() -> u64 {
    match std::env::var("CAIRN_CRASH_SEED") {
        Ok(s) => s.trim().parse().expect("CAIRN_CRASH_SEED is a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// When to kill: right at start, after a few acks, or after many.
fn kill_after(rng: &mut Rng) -> usize {
    match rng.range(0, 10) {
        0 | 1 => 0,
        2..=4 => rng.range(1, 20),
        5..=7 => rng.range(20, 200),
        _ => rng.range(200, 1000),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_repeated_sigkill() {
    let seed = seed();
    let cycles: usize = std::env::var("CAIRN_CRASH_CYCLES")
        .ok()
        .map_or(30, |c| c.parse().unwrap());
    println!("crash harness: seed {seed} ({cycles} cycles); rerun with CAIRN_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let started = Instant::now();

    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), false).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Outside the temp dir, so a failing run leaves cairn's log behind.
    let log = std::env::temp_dir().join(format!("cairn-crash-{seed}.log"));
    let _ = std::fs::remove_file(&log);
    println!("cairn's log: {}", log.display());
    // Small segments, so that rotation and deletion happen under the kills.
    let config = write_config(
        dir.path(),
        &switch.url(),
        "[server]\nmax_body_bytes = 1048576\n\n\
         [wal]\ndurability = \"fsync\"\nsegment = \"64 KiB\"\nbudget = \"64 MiB\"\n",
    );
    let args = ["--config", config.to_str().unwrap()];
    let ledger = Arc::new(Ledger::default());

    for cycle in 0..cycles {
        let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
        let addrs = (gw.addr("http"), gw.addr("grpc"));
        let target = kill_after(&mut rng);
        let clients = rng.range(2, 5);
        // Some cycles crash in a sink outage (HEC answering 503 or dropping
        // connections), with work queued and retries pending.
        let outage = match rng.range(0, 10) {
            0 | 1 => "HEC busy",
            2 => "HEC dropping",
            _ => "",
        };
        switch.set_down(!outage.is_empty());
        switch.set_dropping(outage == "HEC dropping");
        let before = ledger.acks.load(Ordering::SeqCst);
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..clients)
            .map(|id| {
                tokio::spawn(client(
                    addrs,
                    cycle,
                    id,
                    id == 0 || rng.range(0, 4) == 0,
                    rng.next_u64(),
                    Arc::clone(&ledger),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        while ledger.acks.load(Ordering::SeqCst) - before < target {
            if let Some(status) = gw.exited() {
                panic!(
                    "cycle {cycle}: cairn exited on its own ({status}); see its log (seed {seed})"
                );
            }
            assert!(
                Instant::now() < deadline,
                "cycle {cycle}: {} of {target} acks in 30 s (seed {seed})",
                ledger.acks.load(Ordering::SeqCst) - before
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::task::block_in_place(|| gw.sigkill());
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("a client hung after the kill")
                .unwrap();
        }
        println!(
            "cycle {cycle}: {clients} clients, killed after {target} (+{} in flight) acks {outage}",
            ledger.acks.load(Ordering::SeqCst) - before - target
        );
    }

    // Once more, HEC up, to catch up: the sink and the archive read what
    // they had not finished.
    switch.set_down(false);
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let admin = gw.addr("admin");
    let acked = ledger.acked.lock().unwrap().clone();
    // (Waiting for the sink's lag to read 0 instead would hang whenever a
    // kill left a torn tail: see corruption::after_a_quarantine_….)
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = delivered(&hec);
        let missing = acked.iter().filter(|m| !got.contains_key(*m)).count();
        if missing == 0 {
            break;
        }
        let m = scrape(admin).await;
        assert!(
            Instant::now() < deadline,
            "no catch-up in 90 s: {missing} of {} acknowledged markers missing, sink lag {} B \
             (seed {seed})",
            acked.len(),
            metric(
                &m,
                r#"cairn_wal_consumer_lag_bytes{consumer="sink.splunk"}"#
            )
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "exit after SIGTERM: {status:?}");

    assert!(!acked.is_empty(), "nothing was acknowledged (seed {seed})");
    assert_delivered(&hec, &acked);
    assert_no_dead_letters(&data);
    let sent = ledger.sent.lock().unwrap().clone();
    let got: BTreeSet<String> = delivered(&hec).into_keys().collect();
    assert!(got.is_subset(&sent), "the sink got markers never sent");
    let archived = tokio::task::block_in_place(|| verified_archive_markers(&data));
    let not_archived: Vec<&String> = acked.difference(&archived).collect();
    assert!(
        not_archived.is_empty(),
        "{} acknowledged markers not in the archive, e.g. {:?} (seed {seed})",
        not_archived.len(),
        &not_archived[..not_archived.len().min(10)]
    );
    let sink_only: Vec<&String> = got.difference(&archived).collect();
    assert!(
        sink_only.is_empty(),
        "the sink delivered markers the archive lacks: {sink_only:?} (seed {seed})"
    );
    let copies = hec.indexed().len();
    let mut segments: Vec<String> = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("wal-"))
        .collect();
    segments.sort();
    println!(
        "WAL at the end: {segments:?}; {} torn tails quarantined over the run",
        std::fs::read_to_string(&log)
            .unwrap()
            .matches("quarantined with the rest of its segment")
            .count()
    );
    println!(
        "crash harness: {cycles} kills in {:.1?}; {} markers sent, {} acknowledged, {} delivered \
         ({copies} copies), {} refused answers; seed {seed}",
        started.elapsed(),
        sent.len(),
        acked.len(),
        got.len(),
        ledger.refused.load(Ordering::SeqCst)
    );
    std::fs::remove_file(&log).unwrap();
}
