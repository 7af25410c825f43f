#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every SIEM encoder's exact bytes on every fixture request, pinned.
//!
//! The digests below were taken from the encoders as they were when each
//! built a `serde_json::Value` per record (before the records were written
//! straight into the output). Any change to a sink's wire bytes, even one
//! the per-sink tests would not notice (key order, number formatting, an
//! escape), changes a digest. Both ways a record reaches an encoder are
//! checked: `encode_batch` (the pipeline's path) and `encode_item` on an
//! item built with `AuditItem::from_record`; chains through `encode_chain`.
//!
//! Re-pinned once since: the record digests (not the chains') when an
//! event's `record_id` came to hash its log record's fields
//! ([`crate::content`], the encoding of `cairn_core::content`) instead of its protobuf encoding, the only input
//! that changed.
//!
//! To re-pin after a deliberate change of a wire format, run
//! `cargo test -p cairn-sinks golden -- --nocapture` and copy the printed
//! table.

use cairn_core::record::Batch;
use cairn_testkit::fixtures;
use xxhash_rust::xxh3::Xxh3;

use crate::{
    config::{SinkConfig, SinkKind},
    item::AuditItem,
    route::Route,
    sink::Sink,
    testing::chains_of,
};

/// The sinks and settings pinned: each name with its TOML table.
pub(crate) const SINKS: &[(&str, &str)] = &[
    (
        "splunk_hec",
        "[splunk_hec]\nurl = \"http://127.0.0.1:8088\"\ntoken = \"t\"\n",
    ),
    (
        "splunk_hec-meta",
        "[splunk_hec]\nurl = \"http://127.0.0.1:8088\"\ntoken = \"t\"\nindex = \"main\"\nhost = \"gw-1\"\nsource = \"cairn:test\"\n[splunk_hec.fields]\nenv = \"prod\"\nrecord_kind = \"overridden\"\n",
    ),
    (
        "elastic",
        "[elastic]\nurl = \"http://127.0.0.1:9200\"\napi_key = \"a2V5\"\n",
    ),
    (
        "elastic-string",
        "[elastic]\nurl = \"http://127.0.0.1:9200\"\napi_key = \"a2V5\"\ndetail = \"string\"\ndata_stream = \"logs-claude.audit-prod\"\n",
    ),
    (
        "datadog",
        "[datadog]\nurl = \"http://127.0.0.1:8126\"\napi_key = \"k\"\n",
    ),
    (
        "datadog-tags",
        "[datadog]\nurl = \"http://127.0.0.1:8126\"\napi_key = \"k\"\ntags = [\"env:prod\", \"team:x\"]\nhostname = \"gw-1\"\nservice = \"svc\"\nddsource = \"src\"\n",
    ),
    (
        "sumo",
        "[sumo]\nurl = \"http://127.0.0.1:9999/receiver/v1/http/abc\"\n",
    ),
    (
        "sentinel",
        "[sentinel]\nendpoint = \"http://127.0.0.1:9998\"\nauthority = \"http://127.0.0.1:9997\"\ndcr_immutable_id = \"dcr-00000000000000000000000000000000\"\nstream = \"Custom-CairnAudit_CL\"\ntenant_id = \"00000000-0000-0000-0000-000000000000\"\nclient_id = \"00000000-0000-0000-0000-000000000000\"\nclient_secret = \"s\"\n",
    ),
    (
        "syslog",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"udp\"\nhostname = \"gw-1\"\n",
    ),
    (
        "syslog-detail",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"tcp\"\nhostname = \"gw-1\"\ninclude_detail = true\n",
    ),
    (
        "syslog-detail-cut",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"tcp\"\nhostname = \"gw-1\"\ninclude_detail = true\nmax_message_bytes = 900\n",
    ),
    (
        "syslog-cef",
        "[syslog]\naddress = \"127.0.0.1:514\"\ntransport = \"udp\"\nhostname = \"gw-1\"\nformat = \"cef\"\n",
    ),
];

/// The digests: sink, then `encode_batch` ∥ `encode_item` ∥ `encode_chain`.
const PINNED: &[(&str, &str)] = &[
    (
        "splunk_hec",
        "6aa3b1c56adf0aeb94b5819631d65412/450 6aa3b1c56adf0aeb94b5819631d65412/450 09bda831b5bfb53528c709f1d508822f/10",
    ),
    (
        "splunk_hec-meta",
        "7422e72a30fc450bb6bb64aef210bedb/450 7422e72a30fc450bb6bb64aef210bedb/450 46d6ffcbafe3b9529c1521288ef5bec8/10",
    ),
    (
        "elastic",
        "b94984e20f8e9b13a104c4d2c0bf732e/450 b94984e20f8e9b13a104c4d2c0bf732e/450 bcac9f61f6dabc3e380944d36d20dccc/10",
    ),
    (
        "elastic-string",
        "ede3944b905099da9f7256807e0ddab5/450 ede3944b905099da9f7256807e0ddab5/450 a111ba884f72137180dcfce723b27834/10",
    ),
    (
        "datadog",
        "032868bfe009adb9c4102e64e6772e84/450 032868bfe009adb9c4102e64e6772e84/450 94e015f64bdafe62898c2079e2685f3c/10",
    ),
    (
        "datadog-tags",
        "bcfcdf3c383923ad9a5e83de4132c971/450 bcfcdf3c383923ad9a5e83de4132c971/450 ddba165bcab37bdc592d47c0c2fdf7a8/10",
    ),
    (
        "sumo",
        "54f0462c95e28015fab59f5580ebad76/450 54f0462c95e28015fab59f5580ebad76/450 012c7a091343a1445d59d53e7896ba87/10",
    ),
    (
        "sentinel",
        "e001911cfd25cb51474edd45774d2c38/450 e001911cfd25cb51474edd45774d2c38/450 69ac1bccad194834812f5a0dbdb43b90/10",
    ),
    (
        "syslog",
        "8ffabe182b1ba1f5e04bf0e4b964da2b/450 8ffabe182b1ba1f5e04bf0e4b964da2b/450 f7a5e881de8dbdce30ca12b64d48396d/10",
    ),
    (
        "syslog-detail",
        "65e39a211a41a7e2d7d90e5a99130142/450 65e39a211a41a7e2d7d90e5a99130142/450 7af24661d37f54925e6568c4e32bd4ef/10",
    ),
    (
        "syslog-detail-cut",
        "423499221efedf60672e76cbabcf93f1/450 423499221efedf60672e76cbabcf93f1/450 b713e146733dfcf37f912b62ad282f40/10",
    ),
    (
        "syslog-cef",
        "643e1a1e61e50177f2b22f7e768ceb3a/450 643e1a1e61e50177f2b22f7e768ceb3a/450 dbff52d27fda06b07810c27684ae32ae/10",
    ),
];

/// Every fixture request as a batch, untagged and tagged, with a receipt
/// time of 0 (so record times are used) and of 1.
fn all_batches() -> Vec<Batch> {
    let mut out = Vec::new();
    for p in fixtures::payloads() {
        for (tenant, received) in [(None, 0), (Some("acme"), 1_767_607_200_000_000_001)] {
            if let Some(mut b) = p.batch(tenant) {
                b.origin.received_unix_nano = received;
                out.push(b);
            }
        }
    }
    assert!(out.len() > 20, "the fixture has requests");
    out
}

/// Syslog's PROCID, fixed for the test. It is this process's id in
/// production, and its length moves where a message over
/// `max_message_bytes` is cut: the digests were pinned under a five-digit
/// id, which the test then wrote as `PID`.
const PROCID: &str = "40404";

fn scrub_pid(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    text.replacen(&format!(" cairn {PROCID} "), " cairn PID ", 1)
        .into_bytes()
}

#[derive(Default)]
struct Digest {
    h: Xxh3,
    units: usize,
}

impl Digest {
    fn unit(&mut self, r: Result<Vec<u8>, String>) {
        let bytes = match r {
            Ok(b) => scrub_pid(&b),
            Err(e) => format!("error: {e}").into_bytes(),
        };
        self.h.update(&(bytes.len() as u64).to_le_bytes());
        self.h.update(&bytes);
        self.units += 1;
    }

    fn hex(&self) -> String {
        format!("{:032x}/{}", self.h.digest128(), self.units)
    }
}

fn digests<S: Sink>(sink: &S, batches: &[Batch]) -> String {
    let route = Route::everything();
    let (mut by_batch, mut by_item, mut by_chain) =
        (Digest::default(), Digest::default(), Digest::default());
    for b in batches {
        let mut units = Vec::new();
        sink.encode_batch(b, &route, &mut units);
        for u in units {
            by_batch.unit(u.map(|u| u.bytes).map_err(|e| e.to_string()));
        }
        for r in &b.records {
            let item = AuditItem::from_record(r, &b.origin);
            let mut out = Vec::new();
            let res = sink.encode_item(&item, &mut out).map(|()| out);
            by_item.unit(res.map_err(|e| e.to_string()));
        }
    }
    let logs: Vec<Batch> = batches.iter().take(40).cloned().collect();
    for c in chains_of(&logs) {
        by_chain.unit(
            sink.encode_chain(&c)
                .map(|u| u.bytes)
                .map_err(|e| e.to_string()),
        );
    }
    format!("{} {} {}", by_batch.hex(), by_item.hex(), by_chain.hex())
}

fn digest_of(table: &str, batches: &[Batch]) -> String {
    let text = format!("name = \"golden\"\n{table}");
    let config: SinkConfig = toml::from_str(&text).unwrap();
    match config.kind().unwrap() {
        SinkKind::SplunkHec(k) => digests(&k.build().unwrap(), batches),
        SinkKind::Elastic(k) => digests(&k.build().unwrap(), batches),
        SinkKind::Datadog(k) => digests(&k.build().unwrap(), batches),
        SinkKind::Sumo(k) => digests(&k.build().unwrap(), batches),
        SinkKind::Sentinel(k) => digests(&k.build().unwrap(), batches),
        SinkKind::Syslog(k) => digests(&k.build().unwrap().with_procid(PROCID), batches),
        SinkKind::Otlp(_) => unreachable!("OTLP is not an item encoder"),
    }
}

#[test]
fn golden_every_siem_encoder_writes_the_pinned_bytes() {
    let batches = all_batches();
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (name, toml) in SINKS {
        let got = digest_of(toml, &batches);
        table.push_str(&format!("    (\"{name}\", \"{got}\"),\n"));
        match PINNED.iter().find(|(n, _)| n == name) {
            Some((_, want)) if *want == got => {}
            Some((_, want)) => wrong.push(format!("{name}: {got}, pinned {want}")),
            None => wrong.push(format!("{name}: not pinned ({got})")),
        }
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
