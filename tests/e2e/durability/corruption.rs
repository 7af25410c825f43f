//! A damaged WAL on the real binary: cairn stops (SIGTERM, short drain)
//! with records the Splunk HEC (down) never got, and nothing dead-lettered;
//! one byte of a committed frame is flipped, either mid-payload (its CRC
//! fails) or in its length, in a middle segment of several (it runs past the
//! segment's end). On restart cairn starts anyway, counts one quarantined
//! frame (`cairn_wal_quarantined_frames_total`), moves the bytes from that
//! frame to its segment's end to `<data>/wal/quarantine/` byte for byte,
//! cuts the segment there, delivers every other record (the frames before
//! it and every other segment) and none of the damaged frame's, keeps
//! taking and delivering new requests, and the archive still verifies.
//!
//! The archive's counterpart (one changed byte makes `cairn verify` fail) is
//! `archive::run_then_verify_then_tamper_then_export`.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{
    HEC_TOKEN, HecSwitch, assert_delivered, assert_no_dead_letters, delivered, marker, markers_in,
    metric, scrape, send_http, verified_archive_markers, write_config,
};
use crate::{binary::Gateway, util::http_client};

/// One frame of a WAL segment: where it starts, its length with header,
/// and the markers in its payload.
#[derive(Clone)]
struct Frame {
    offset: usize,
    len: usize,
    markers: BTreeSet<String>,
}

/// The segments (`wal-<base>.log`), in log order.
fn segments(wal: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("wal-") && name.ends_with(".log")
        })
        .collect();
    out.sort();
    out
}

/// Walks `len u32 LE | crc u32 LE | payload[len]` frames.
fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        assert!(
            at + 8 + len <= bytes.len(),
            "a torn frame at {at} after a clean stop"
        );
        let payload = String::from_utf8_lossy(&bytes[at + 8..at + 8 + len]);
        out.push(Frame {
            offset: at,
            len: 8 + len,
            markers: markers_in(&payload),
        });
        at += 8 + len;
    }
    assert_eq!(at, bytes.len(), "trailing bytes after the last frame");
    out
}

fn start(data: &Path, config: &Path, log: &Path) -> Gateway {
    tokio::task::block_in_place(|| {
        Gateway::start_on(data, &["--config", config.to_str().unwrap()], log)
    })
}

/// Where the byte is flipped.
#[derive(Clone, Copy, PartialEq)]
enum Flip {
    /// Mid-payload of the middle frame of a one-segment WAL: its CRC fails.
    Payload,
    /// The length of a middle frame of a middle segment (64 KiB segments):
    /// the frame runs past its segment's end. Later segments are intact.
    Length,
}

/// A gateway restarted (HEC up again) after one byte of its WAL, holding
/// only undelivered requests, was flipped.
struct Damaged {
    hec: SplunkFake,
    _switch: HecSwitch,
    dir: tempfile::TempDir,
    data: PathBuf,
    log: PathBuf,
    gw: Gateway,
    /// Every acknowledged marker.
    acked: BTreeSet<String>,
    /// The markers of every frame but those from the damaged one to its
    /// segment's end.
    kept: BTreeSet<String>,
    /// The damaged frame's markers.
    damaged: BTreeSet<String>,
    segment: PathBuf,
    /// Where the damaged frame started, and the bytes from there on.
    offset: usize,
    tail: Vec<u8>,
}

async fn damage_and_restart(flip: Flip) -> Damaged {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), true).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("cairn.log");
    let (extra, requests, per_request) = match flip {
        Flip::Payload => ("[server]\ndrain_timeout_secs = 1\n", 12, 3),
        Flip::Length => (
            "[server]\ndrain_timeout_secs = 1\nmax_body_bytes = 65536\n\n\
             [wal]\nsegment = \"64 KiB\"\nbudget = \"1 MiB\"\n",
            60,
            30,
        ),
    };
    let config = write_config(dir.path(), &switch.url(), extra);
    let mut gw = start(&data, &config, &log);

    // Requests one at a time (one frame each), HEC down throughout.
    let client = http_client();
    let mut acked = BTreeSet::new();
    for n in 0..requests {
        let markers: Vec<String> = (0..per_request).map(|k| marker(0, 0, n, k)).collect();
        let reply = send_http(&client, gw.addr("http"), &markers).await;
        assert!(reply.acked(), "request {n}: {reply:?}");
        acked.extend(markers);
    }
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    assert!(hec.indexed().is_empty(), "HEC indexed something while down");
    // The drain deadline passed with HEC down: the rest stays in the WAL.
    assert_no_dead_letters(&data);

    // Pick the segment and the frame, and flip the byte.
    let wal = data.join("wal");
    let all: Vec<(PathBuf, Vec<u8>, Vec<Frame>)> = segments(&wal)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let f = frames(&bytes);
            (p, bytes, f)
        })
        .filter(|(_, _, f)| f.iter().any(|f| !f.markers.is_empty()))
        .collect();
    let s = match flip {
        Flip::Payload => {
            assert_eq!(all.len(), 1, "one segment");
            0
        }
        Flip::Length => {
            assert!(all.len() >= 3, "{} segments", all.len());
            all.len() / 2
        }
    };
    let (segment, mut bytes, frames) = all[s].clone();
    let with_markers: Vec<&Frame> = frames.iter().filter(|f| !f.markers.is_empty()).collect();
    assert!(with_markers.len() >= 3, "{} frames", with_markers.len());
    let damaged = with_markers[with_markers.len() / 2];
    let gone: BTreeSet<String> = frames
        .iter()
        .filter(|f| f.offset >= damaged.offset)
        .flat_map(|f| f.markers.iter().cloned())
        .collect();
    let kept: BTreeSet<String> = acked.difference(&gone).cloned().collect();
    assert!(
        kept.len() > gone.len() / 2,
        "{} kept, {} gone",
        kept.len(),
        gone.len()
    );
    let original_tail = bytes[damaged.offset..].to_vec();
    let byte = match flip {
        // Mid-payload.
        Flip::Payload => damaged.offset + 8 + (damaged.len - 8) / 2,
        // The length's high byte: 1 GiB more than the segment holds.
        Flip::Length => damaged.offset + 3,
    };
    bytes[byte] ^= 0x40;
    let tail = bytes[damaged.offset..].to_vec();
    std::fs::write(&segment, &bytes).unwrap();
    assert_ne!(tail, original_tail);

    switch.set_down(false);
    let gw = start(&data, &config, &log);
    Damaged {
        hec,
        _switch: switch,
        dir,
        data,
        log,
        gw,
        acked,
        kept,
        damaged: damaged.markers.clone(),
        segment,
        offset: damaged.offset,
        tail,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_payload_byte_is_quarantined_and_the_frames_before_it_delivered() {
    quarantined_and_the_rest_delivered(Flip::Payload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_length_in_a_middle_segment_costs_only_that_segments_tail() {
    quarantined_and_the_rest_delivered(Flip::Length).await;
}

async fn quarantined_and_the_rest_delivered(flip: Flip) {
    let Damaged {
        hec,
        _switch,
        dir: _dir,
        data,
        log,
        mut gw,
        acked,
        kept,
        damaged,
        segment,
        offset,
        tail,
    } = damage_and_restart(flip).await;
    let wal = data.join("wal");
    // cairn started, quarantined, and delivers all but the damaged tail.
    let admin = gw.addr("admin");
    let m = scrape(admin).await;
    assert_eq!(
        metric(&m, "cairn_wal_quarantined_frames_total"),
        1.0,
        "{m:?}"
    );
    assert_eq!(
        metric(&m, "cairn_wal_quarantined_bytes_total"),
        tail.len() as f64
    );
    let quarantined: Vec<PathBuf> = std::fs::read_dir(wal.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(
        std::fs::read(&quarantined[0]).unwrap(),
        tail,
        "the quarantine holds the damaged bytes as they were"
    );
    match std::fs::metadata(&segment) {
        Ok(meta) => assert_eq!(
            meta.len(),
            offset as u64,
            "the segment is cut at the damage"
        ),
        // Already behind every cursor and deleted.
        Err(_) => assert!(metric(&scrape(admin).await, "cairn_wal_segments_deleted_total") > 0.0),
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = delivered(&hec);
        if kept.iter().all(|m| got.contains_key(m)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the records outside the damage were not delivered: {} of {}\n{}\n{:?}",
            kept.iter().filter(|m| got.contains_key(*m)).count(),
            kept.len(),
            std::fs::read_to_string(&log).unwrap(),
            scrape(admin).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // New requests go on and are delivered.
    let fresh: Vec<String> = (0..3).map(|k| marker(1, 0, 0, k)).collect();
    let reply = send_http(&http_client(), gw.addr("http"), &fresh).await;
    assert!(reply.acked(), "after the quarantine: {reply:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = scrape(admin).await;
        let lag = metric(
            &m,
            r#"cairn_wal_consumer_lag_bytes{consumer="sink.splunk"}"#,
        );
        let got = delivered(&hec);
        if lag == 0.0 && fresh.iter().all(|m| got.contains_key(m)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new request was not delivered (lag {lag})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");

    let expected: BTreeSet<String> = kept.iter().chain(&fresh).cloned().collect();
    assert_delivered(&hec, &expected);
    let got: BTreeSet<String> = delivered(&hec).into_keys().collect();
    let lost: Vec<&String> = damaged.intersection(&got).collect();
    assert!(
        lost.is_empty(),
        "records of the damaged frame were delivered: {lost:?}"
    );
    let after = acked
        .difference(&expected)
        .filter(|m| !got.contains(*m))
        .count();
    println!(
        "corruption: {} records outside the damage delivered, {after} from the damaged frame to \
         its segment's end quarantined ({} bytes)",
        kept.len(),
        tail.len()
    );
    // The archive had read everything before the damage happened: intact.
    let archived = tokio::task::block_in_place(|| verified_archive_markers(&data));
    assert!(acked.is_subset(&archived), "the archive lost records");
}

/// After a quarantine, with everything before the damage delivered and
/// nothing new coming in, the sink's lag should read 0: it has finished
/// every byte still in the WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_quarantine_an_idle_sink_that_caught_up_shows_no_lag() {
    let d = damage_and_restart(Flip::Payload).await;
    let admin = d.gw.addr("admin");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !d.kept.iter().all(|m| delivered(&d.hec).contains_key(m)) {
        assert!(
            Instant::now() < deadline,
            "the records before the damage were not delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = scrape(admin).await;
        let lag = metric(
            &m,
            r#"cairn_wal_consumer_lag_bytes{consumer="sink.splunk"}"#,
        );
        let queued = metric(&m, r#"cairn_sink_queued_records{sink="splunk"}"#);
        if lag == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sink lag {lag} B (queued {queued}) 10 s after catching up; {} B were quarantined, \
             used {} B",
            d.tail.len(),
            metric(&m, "cairn_wal_used_bytes")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
