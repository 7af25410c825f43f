//! The write-ahead log on the real binary: what cairn acknowledged survives
//! crashes (`crash`), sink outages (`outage`, and a SIGTERM during one:
//! `shutdown`), a full WAL budget (`full`) and a damaged segment
//! (`corruption`). This module holds what those tests share: the config,
//! OTLP requests whose every log record carries a unique marker, clients
//! that report whether a request was acknowledged, a Splunk HEC fake behind
//! a switch that can take it down (`switch`), `/metrics` scraping, `cairn
//! archive export` / `cairn verify`, and a seeded RNG.
//!
//! That one changed byte in an archive segment makes `cairn verify` fail
//! (the archive half of the corruption case) is proven by
//! `archive::run_then_verify_then_tamper_then_export`.

mod chains;
mod corruption;
mod crash;
mod full;
mod outage;
mod overload;
mod shutdown;
mod state;
mod switch;

pub use switch::HecSwitch;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use cairn_core::otlp::{
    collector::logs::v1::{ExportLogsServiceRequest, logs_service_client::LogsServiceClient},
    common::v1::{AnyValue, KeyValue, any_value::Value},
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    resource::v1::Resource,
};
use cairn_testkit::siem::splunk_hec::SplunkFake;
use prost::Message as _;

use crate::{binary::cairn_bin, util::http_client};

pub const HEC_TOKEN: &str = "00000000-1111-2222-3333-444444444444";
/// Every marker starts with this; nothing else cairn writes does.
pub const MARK: &str = "durmark-";

/// A config file with one Splunk HEC sink at `hec_url` (events only, short
/// batching and retry delays), the archive on, chains and the records file
/// off (the WAL, the archive and the sink are what is under test), and
/// `extra` TOML appended (e.g. a `[wal]` section).
pub fn write_config(dir: &Path, hec_url: &str, extra: &str) -> PathBuf {
    let path = dir.join("cairn.toml");
    std::fs::write(
        &path,
        format!(
            "[records]\nenabled = false\n\n[chains]\nenabled = false\n\n{extra}\n\n\
             [[sinks]]\nname = \"splunk\"\n[sinks.route]\nrecords = [\"events\"]\n\
             [sinks.delivery]\nmax_delay_ms = 20\nretry_initial_ms = 20\nretry_max_ms = 200\n\
             [sinks.splunk_hec]\nurl = \"{hec_url}\"\ntoken = \"{HEC_TOKEN}\"\ncompression = \"none\"\n"
        ),
    )
    .unwrap();
    path
}

/// The marker of record `k` of request `n` of writer `w` in cycle `c`:
/// plain words and digits, nothing redaction could take for a secret.
pub fn marker(c: usize, w: usize, n: usize, k: usize) -> String {
    format!("{MARK}c{c}-w{w}-n{n}-k{k}")
}

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.to_owned())),
    }
}

pub fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(s(v)),
        ..Default::default()
    }
}

/// A Claude Code `tool_result` event per marker, the marker in an
/// attribute and in the body, each time followed by `;` so that it can be
/// read out of any bytes, even a protobuf payload where the next field's
/// tag may be a letter or a digit.
pub fn logs_request(markers: &[String]) -> ExportLogsServiceRequest {
    request_of(
        markers
            .iter()
            .map(|m| LogRecord {
                time_unix_nano: 1_760_000_000_000_000_000,
                body: Some(s(&format!("claude_code.tool_result {m};"))),
                attributes: vec![
                    kv("event.name", "tool_result"),
                    kv("session.id", "5f0c1a2b-0000-4000-8000-00000000d00a"),
                    kv("tool_name", "Read"),
                    kv("audit.marker", &format!("{m};")),
                ],
                ..Default::default()
            })
            .collect(),
    )
}

/// A logs request from Claude Code (`service.name = claude-code`) holding
/// `log_records`.
pub fn request_of(log_records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "claude-code")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// How cairn answered one export request.
#[derive(Debug)]
pub enum Reply {
    /// 200 / OK: acknowledged.
    Acked,
    /// HTTP status and body, or gRPC code and message; `Retry-After`.
    Refused {
        status: i32,
        detail: String,
        retry_after: Option<String>,
    },
    /// No answer (connection refused or reset, timeout).
    /// (Read only through `Debug`, in failure messages.)
    Failed(#[allow(dead_code)] String),
}

impl Reply {
    pub fn acked(&self) -> bool {
        matches!(self, Reply::Acked)
    }
}

/// POSTs `markers` as OTLP/HTTP protobuf to `/v1/logs`.
pub async fn send_http(
    client: &reqwest::Client,
    http: std::net::SocketAddr,
    markers: &[String],
) -> Reply {
    let sent = client
        .post(format!("http://{http}/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .timeout(Duration::from_secs(15))
        .body(logs_request(markers).encode_to_vec())
        .send()
        .await;
    match sent {
        Err(e) => Reply::Failed(e.to_string()),
        Ok(r) if r.status() == 200 => match r.bytes().await {
            Ok(_) => Reply::Acked,
            Err(e) => Reply::Failed(format!("200 with a cut body: {e}")),
        },
        Ok(r) => {
            let status = i32::from(r.status().as_u16());
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let detail = format!("{:?}", r.bytes().await.unwrap_or_default());
            Reply::Refused {
                status,
                detail,
                retry_after,
            }
        }
    }
}

/// A gRPC Logs client to cairn (connects lazily: a dead cairn shows as a
/// failed call, not here).
pub fn grpc_client(grpc: std::net::SocketAddr) -> LogsServiceClient<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    LogsServiceClient::new(channel)
}

/// Exports `markers` over gRPC.
pub async fn send_grpc(
    client: &mut LogsServiceClient<tonic::transport::Channel>,
    markers: &[String],
) -> Reply {
    match client.export(logs_request(markers)).await {
        Ok(_) => Reply::Acked,
        // No answer from cairn: the transport failed (tonic keeps its error
        // as the source).
        Err(status) if std::error::Error::source(&status).is_some() => {
            Reply::Failed(status.to_string())
        }
        // gRPC's Retry-After is a `google.rpc.RetryInfo` detail.
        Err(status) => Reply::Refused {
            status: status.code() as i32,
            detail: status.message().to_owned(),
            retry_after: status
                .details()
                .windows(cairn_otlp::grpc::RETRY_INFO_TYPE.len())
                .any(|w| w == cairn_otlp::grpc::RETRY_INFO_TYPE.as_bytes())
                .then(|| "RetryInfo".to_owned()),
        },
    }
}

/// `/metrics` as `name{labels}` → value.
pub async fn scrape(admin: std::net::SocketAddr) -> BTreeMap<String, f64> {
    let text = http_client()
        .get(format!("http://{admin}/metrics"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect()
}

/// One value of a scrape, 0 when absent.
pub fn metric(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

/// Every distinct marker in `text` (up to its `;`).
pub fn markers_in(text: &str) -> BTreeSet<String> {
    text.match_indices(MARK)
        .filter_map(|(i, _)| {
            let rest = &text[i..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))?;
            rest[end..].starts_with(';').then(|| rest[..end].to_owned())
        })
        .collect()
}

/// What the HEC fake indexed: marker → the record id of every copy.
pub fn delivered(hec: &SplunkFake) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in hec.indexed() {
        let id = i.record_id().unwrap_or("<no record_id>").to_owned();
        let found = markers_in(&i.envelope.to_string());
        assert!(found.len() <= 1, "one record, one marker: {found:?}");
        for m in found {
            out.entry(m).or_default().push(id.clone());
        }
    }
    out
}

/// Asserts every marker in `acked` reached the HEC fake at least once and
/// that every copy of a marker carries the same record id.
pub fn assert_delivered(hec: &SplunkFake, acked: &BTreeSet<String>) {
    let got = delivered(hec);
    let missing: Vec<&String> = acked.iter().filter(|m| !got.contains_key(*m)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged markers never reached the sink, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    for (m, ids) in &got {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "copies of {m} differ in record id: {ids:?}"
        );
    }
}

/// Asserts the sink dead-lettered nothing (`<data>/dead-letter/splunk.jsonl`
/// absent or empty): everything it did not deliver stayed in the WAL.
pub fn assert_no_dead_letters(data: &Path) {
    let file = data.join("dead-letter/splunk.jsonl");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        text.is_empty(),
        "dead-lettered: {}",
        &text[..text.len().min(2000)]
    );
}

/// Runs the cairn CLI; (exit code, stdout, stderr).
pub fn cairn(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cairn_bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts `cairn verify <data>/archive` passes; returns every marker in
/// `cairn archive export <data>/archive`. A record archived twice (replayed
/// after a crash) must be the same record both times.
pub fn verified_archive_markers(data: &Path) -> BTreeSet<String> {
    let dir = data.join("archive");
    let dir = dir.to_str().unwrap();
    let (code, out, err) = cairn(&["verify", dir]);
    assert_eq!(code, 0, "cairn verify: {out}{err}");
    let (code, out, err) = cairn(&["archive", "export", dir]);
    assert_eq!(code, 0, "cairn archive export: {err}");
    let mut records: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut lines = 0;
    for line in out.lines().filter(|l| l.contains(MARK)) {
        lines += 1;
        let found = markers_in(line);
        assert_eq!(found.len(), 1, "one marker per archived record: {line}");
        let record = serde_json::from_str::<serde_json::Value>(line).unwrap()["record"].clone();
        let m = found.into_iter().next().unwrap();
        if let Some(first) = records.get(&m) {
            assert_eq!(first, &record, "{m} archived twice, differently");
        } else {
            records.insert(m, record);
        }
    }
    println!(
        "archive: {lines} records with a marker, {} distinct",
        records.len()
    );
    records.into_keys().collect()
}

/// A deterministic RNG (SplitMix64): the same seed, the same test.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo) as u64) as usize
    }
}
