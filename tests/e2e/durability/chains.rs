//! Open prompt chains through SIGKILL on the real binary, with
//! `chains.raw_events = false`: the events of a chain that has not closed
//! yet are acknowledged but exist in no output until the chain does, so
//! the WAL keeps them and a restarted cairn rebuilds the chain from it.
//! Every acknowledged prompt must end up in a chain record at the sink and
//! in the archive, and no raw chain event may be written anywhere.

use std::{
    collections::BTreeSet,
    path::Path,
    time::{Duration, Instant},
};

use cairn_core::otlp::{collector::logs::v1::ExportLogsServiceRequest, logs::v1::LogRecord};
use cairn_testkit::siem::splunk_hec::SplunkFake;
use prost::Message as _;

use super::{
    HEC_TOKEN, assert_delivered, delivered, kv, marker, request_of, verified_archive_markers,
};
use crate::{binary::Gateway, util::http_client};

/// One `user_prompt` per marker, each its own prompt in `session`, with
/// the marker (and its `;`) as the prompt text. `seq` numbers them.
fn prompts(session: &str, markers: &[String], seq: &mut u64) -> ExportLogsServiceRequest {
    let log_records = markers
        .iter()
        .map(|m| {
            *seq += 1;
            LogRecord {
                time_unix_nano: 1_760_000_000_000_000_000 + *seq,
                attributes: vec![
                    kv("event.name", "user_prompt"),
                    kv("session.id", session),
                    kv("prompt.id", &format!("prompt-{m}")),
                    kv("event.sequence", &seq.to_string()),
                    kv("prompt", &format!("{m};")),
                ],
                ..Default::default()
            }
        })
        .collect();
    request_of(log_records)
}

/// Chains on with raw events off and a long idle timeout (chains close on
/// the next prompt or at shutdown), events and chains to HEC, the archive.
fn config(dir: &Path, hec: &str) -> std::path::PathBuf {
    let path = dir.join("cairn.toml");
    std::fs::write(
        &path,
        format!(
            "[records]\nenabled = false\n\n\
             [chains]\nenabled = true\nraw_events = false\nidle_timeout_secs = 3600\n\n\
             [wal]\nsegment = \"64 KiB\"\nbudget = \"64 MiB\"\n\n\
             [[sinks]]\nname = \"splunk\"\n[sinks.route]\nrecords = [\"events\", \"chains\"]\n\
             [sinks.delivery]\nmax_delay_ms = 20\nretry_initial_ms = 20\nretry_max_ms = 200\n\
             [sinks.splunk_hec]\nurl = \"{hec}\"\ntoken = \"{HEC_TOKEN}\"\ncompression = \"none\"\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_chains_survive_sigkill_with_raw_events_off() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("cairn.log");
    let config = config(dir.path(), &hec.url());
    let args = ["--config", config.to_str().unwrap()];
    let client = http_client();
    let mut acked = BTreeSet::new();
    for cycle in 0..3 {
        let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
        // Two sessions per cycle, three requests each: every prompt closes
        // the one before it, and the last of each session is open at the
        // kill.
        for session in 0..2 {
            let id = format!("5f0c1a2b-0000-4000-8000-0000000{cycle}{session}00a");
            let mut seq = 0;
            for n in 0..3 {
                let markers: Vec<String> = (0..2).map(|k| marker(cycle, session, n, k)).collect();
                let body = prompts(&id, &markers, &mut seq).encode_to_vec();
                let reply = client
                    .post(format!("http://{}/v1/logs", gw.addr("http")))
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 200);
                acked.extend(markers);
            }
        }
        tokio::task::block_in_place(|| gw.sigkill());
    }
    // Started once more: the chains open at the last kill are rebuilt; the
    // SIGTERM closes them.
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    let mut gw = tokio::task::block_in_place(|| Gateway::start_on(&data, &args, &log));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !acked.iter().all(|m| delivered(&hec).contains_key(m)) {
        let got = delivered(&hec);
        let missing: Vec<_> = acked.iter().filter(|m| !got.contains_key(*m)).collect();
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged prompts in no chain at the sink, e.g. {:?}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_delivered(&hec, &acked);
    let kinds: BTreeSet<String> = hec
        .events()
        .iter()
        .map(|e| {
            e["fields"]["record_kind"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["chain".to_owned()]),
        "raw events are off: only chain records"
    );
    let (status, _) = tokio::task::block_in_place(|| gw.sigterm());
    assert!(status.success(), "{status:?}");
    let archived = tokio::task::block_in_place(|| verified_archive_markers(&data));
    let missing: Vec<_> = acked.difference(&archived).collect();
    assert!(missing.is_empty(), "not in the archive: {missing:?}");
}
