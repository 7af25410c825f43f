#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The HEC encoder on real fixture records and chains, the answer table
//! against the fake's exact bodies, the fake's own contract behaviour, and
//! the config (including the shipped example).

use std::time::Duration;

use cairn_core::{chain::PromptChain, record::Batch};
use cairn_testkit::siem::{
    Answer,
    splunk_hec::{self as fake, SplunkFake},
};
use serde_json::{Value, json};

use super::{
    client::{Verdict, classify},
    *,
};
use crate::{
    driver::{DriverConfig, SinkError},
    item::{AuditItem, ItemKind},
    route::Route,
    sink::{Report, Sink},
    testing::{
        self, Delivery, Outcome, SCENARIO, chains_of, example_sinks, fixture_ids, items_of,
        json_line, named, work,
    },
};

/// The fixture's batches, tenant `acme` (shared with the Sumo tests).
pub(crate) fn batches() -> Vec<Batch> {
    testing::batches(SCENARIO, Some("acme"))
}

/// Every record of [`batches`] as an item.
pub(crate) fn items() -> Vec<AuditItem> {
    items_of(&batches())
}

/// The prompt chains the correlator builds from [`batches`].
pub(crate) fn chains() -> Vec<PromptChain> {
    chains_of(&batches())
}

/// The first item of [`items`] called `name`.
pub(crate) fn item(name: &str) -> AuditItem {
    named(&items(), name).clone()
}

/// Every record and chain id of the fixture, sorted.
pub(crate) fn expected_ids() -> Vec<String> {
    fixture_ids(&batches(), &chains())
}

/// Runs `sink` as `name` on the real driver with fast retries (and
/// `tweak`), feeds it the fixture's batches and chains, drains it.
pub(crate) async fn deliver_all<S: Sink>(
    name: &str,
    sink: S,
    tweak: impl FnOnce(&mut DriverConfig),
) -> Outcome {
    let work = work(batches(), chains());
    Delivery::run(name, sink, Route::everything(), tweak, work).await
}

pub(crate) fn config(url: &str, extra: &str) -> Config {
    toml::from_str(&format!("url = {url:?}\ntoken = \"tok-1\"\n{extra}")).unwrap()
}

fn envelope_of(c: &Config, item: &AuditItem) -> (String, Value) {
    let mut out = Vec::new();
    encode::envelope(c, item, &mut out).unwrap();
    json_line(out)
}

#[test]
fn a_tool_decision_maps_to_cim_fields() {
    let c = config("https://hec.example:8088", "index = \"ai_audit\"");
    let item = item("tool_decision");
    let (text, v) = envelope_of(&c, &item);
    // Epoch seconds with the millisecond fraction, written as a number.
    assert_eq!(item.time_unix_nano, 1_795_458_664_424_000_000);
    assert!(text.starts_with("{\"time\":1795458664.424,"), "{text}");
    assert_eq!(v["source"], "cairn");
    assert_eq!(v["sourcetype"], "anthropic:claude_code:event");
    assert_eq!(v["index"], "ai_audit");
    assert!(v.get("host").is_none(), "the fixture names no host");
    let e = &v["event"];
    assert_eq!(e["action"], "allowed");
    assert_eq!(e["app"], "claude_code");
    assert_eq!(e["user"], item.user_id.as_deref().unwrap());
    assert_eq!(e["vendor_product"], "Anthropic Claude Code");
    assert_eq!(e["signature"], "tool_decision");
    assert_eq!(e["result"], "success");
    assert_eq!(e["status"], "success");
    assert_eq!(e["object"], "Bash");
    assert_eq!(e["object_category"], "tool");
    assert_eq!(e["severity"], "info");
    assert_eq!(e["message"], "tool Bash allowed");
    assert_eq!(e["record_id"], item.record_id.as_str());
    assert_eq!(e["tenant"], "acme");
    assert_eq!(e["cost_center"], "eng-123");
    assert!(e.get("src").is_none() && e.get("dest").is_none());
    assert_eq!(e["detail"], item.detail, "the full record rides along");
    assert_eq!(
        v["fields"],
        json!({
            "record_id": item.record_id,
            "record_kind": "event",
            "session_id": item.session_id,
            "prompt_id": item.prompt_id,
            "tenant": "acme",
            "cost_center": "eng-123",
        })
    );
}

#[test]
fn api_requests_carry_duration_in_seconds_model_and_cost() {
    let c = config("https://hec.example:8088", "");
    let item = item("api_request");
    let (_, v) = envelope_of(&c, &item);
    let e = &v["event"];
    assert_eq!(e["duration"], item.duration_ms.unwrap() / 1000.0);
    assert_eq!(e["duration"], 0.066);
    assert_eq!(e["model"], "claude-opus-5-5");
    assert_eq!(e["cost_usd"], 0.007376);
    assert!(e.get("object").is_none());
    assert!(v.get("index").is_none(), "no index: the token's default");
}

#[test]
fn host_src_dest_and_configured_metadata() {
    let c = config(
        "https://hec.example:8088",
        "host = \"gw-1\"\nsource = \"cairn-eu\"\n[fields]\nenv = \"prod\"\nrecord_id = \"spoofed\"\n[sourcetypes]\nevent = \"claude:ev\"",
    );
    let mut item = item("tool_result");
    item.host = Some("dev-laptop-7".into());
    item.detail["attributes"]["mcp_server_name"] = json!("github");
    let (_, v) = envelope_of(&c, &item);
    assert_eq!(v["host"], "gw-1", "the configured host wins");
    assert_eq!(v["source"], "cairn-eu");
    assert_eq!(v["sourcetype"], "claude:ev");
    assert_eq!(v["event"]["src"], "dev-laptop-7");
    assert_eq!(v["event"]["dest"], "github");
    assert_eq!(v["fields"]["env"], "prod");
    assert_eq!(
        v["fields"]["record_id"],
        item.record_id.as_str(),
        "a configured field never overrides the record's own"
    );
    let (_, v) = envelope_of(&config("https://h:1", ""), &item);
    assert_eq!(v["host"], "dev-laptop-7", "default: the session's host");
}

#[test]
fn every_kind_gets_its_sourcetype_and_flat_fields() {
    let c = config("https://hec.example:8088", "");
    let mut all = items();
    all.extend(chains().iter().map(AuditItem::from_chain));
    let mut seen = std::collections::BTreeSet::new();
    for item in &all {
        let (_, v) = envelope_of(&c, item);
        let kind = item.kind.as_str();
        seen.insert(kind);
        assert_eq!(
            v["sourcetype"],
            format!("anthropic:claude_code:{kind}"),
            "{kind}"
        );
        assert_eq!(v["fields"]["record_kind"], kind);
        assert!(
            v["fields"]
                .as_object()
                .unwrap()
                .values()
                .all(Value::is_string),
            "fields must be flat strings: {}",
            v["fields"]
        );
        assert_eq!(v["event"]["record_id"], item.record_id.as_str());
    }
    assert_eq!(seen.len(), 4, "events, metrics, spans and chains: {seen:?}");
}

#[test]
fn a_chain_maps_its_totals() {
    let c = config("https://hec.example:8088", "");
    let chain = &chains()[0];
    let item = AuditItem::from_chain(chain);
    assert_eq!(item.kind, ItemKind::Chain);
    let (_, v) = envelope_of(&c, &item);
    let e = &v["event"];
    assert_eq!(v["sourcetype"], "anthropic:claude_code:chain");
    assert_eq!(e["signature"], "prompt_chain");
    assert_eq!(e["action"], item.action.as_str());
    assert_eq!(e["result"], item.outcome.as_str());
    assert_eq!(e["prompt_id"], chain.prompt_id.as_str());
    assert_eq!(e["session_id"], chain.session_id.as_str());
    assert_eq!(e["duration"], item.duration_ms.unwrap() / 1000.0);
    assert_eq!(e["detail"], chain.to_json());
    assert_eq!(v["fields"]["prompt_id"], chain.prompt_id.as_str());
    let ms = item.unix_millis();
    assert_eq!(
        v["time"].as_f64().unwrap(),
        ms as f64 / 1000.0,
        "chain time = its last event"
    );
}

fn parts(a: Answer) -> (u16, Vec<u8>) {
    match a {
        Answer::Respond { status, body, .. } => (status, body),
        _ => unreachable!(),
    }
}

#[test]
fn the_answer_table_classifies_every_code() {
    let ra = Some(Duration::from_secs(3));
    for code in 0..=27u8 {
        let (status, body) = parts(fake::answer(code));
        let verdict = classify(status, &body, ra, 5);
        let class = match &verdict {
            Verdict::Accepted { warning, .. } => {
                if warning.is_some() {
                    "warn"
                } else {
                    "ok"
                }
            }
            Verdict::Partial(_) => "partial",
            Verdict::Failed(SinkError::Retryable { retry_after, .. }) => {
                assert_eq!(*retry_after, ra, "code {code} keeps Retry-After");
                "retry"
            }
            Verdict::Failed(SinkError::Permanent { .. }) => "never",
            Verdict::Failed(SinkError::TooLarge { .. }) => "split",
        };
        let want = match code {
            0 | 17 => "ok",
            24 | 25 => "warn",
            8 | 9 | 18 | 19 | 20 | 23 | 26 | 27 => "retry",
            _ => "never",
        };
        assert_eq!(class, want, "code {code}: {verdict:?}");
    }
    let (status, body) = parts(fake::answer(4));
    assert_eq!(
        classify(status, &body, None, 1),
        Verdict::Failed(SinkError::Permanent {
            reason: "HTTP 403, HEC code 4: Invalid token".into()
        })
    );
}

#[test]
fn invalid_event_number_delivers_the_prefix_rejects_one_and_retries_the_tail() {
    for code in [6u8, 12, 13, 15] {
        let (status, body) = parts(fake::answer_at(code, 2));
        let Verdict::Partial(r) = classify(status, &body, None, 5) else {
            panic!("code {code}")
        };
        assert_eq!(r.retry, vec![3, 4]);
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].0, 2);
        assert!(
            r.rejected[0]
                .1
                .starts_with(&format!("HTTP 400, HEC code {code}: ")),
            "{:?}",
            r.rejected[0]
        );
    }
    // The last envelope bad: nothing to resend.
    let (status, body) = parts(fake::answer_at(6, 4));
    let Verdict::Partial(r) = classify(status, &body, None, 5) else {
        panic!()
    };
    assert!(r.retry.is_empty());
    // Out of range or absent: the whole request is refused.
    let (status, body) = parts(fake::answer_at(6, 9));
    assert!(matches!(
        classify(status, &body, None, 5),
        Verdict::Failed(SinkError::Permanent { .. })
    ));
}

#[test]
fn http_level_answers_without_the_json_body() {
    assert!(matches!(
        classify(413, b"<html>too large</html>", None, 3),
        Verdict::Failed(SinkError::TooLarge { .. })
    ));
    for s in [408, 429, 500, 502, 503, 504] {
        assert!(
            matches!(
                classify(s, b"<html>busy</html>", None, 1),
                Verdict::Failed(SinkError::Retryable { .. })
            ),
            "{s}"
        );
    }
    for s in [400, 401, 403, 404, 415] {
        assert!(
            matches!(
                classify(s, b"nope", None, 1),
                Verdict::Failed(SinkError::Permanent { .. })
            ),
            "{s}"
        );
    }
    assert_eq!(
        classify(200, br#"{"text":"Success","code":0,"ackId":7}"#, None, 1),
        Verdict::Accepted {
            ack_id: Some(7),
            warning: None
        }
    );
}

#[test]
fn config_checks_and_the_shipped_example() {
    assert!(config("https://hec.example:8088", "").check().is_ok());
    let err = config("https://hec.example:8088/services/collector/event", "")
        .check()
        .unwrap_err();
    assert!(err.contains("base URL"), "{err}");
    let err = config("https://admin:hunter2@hec.example", "")
        .check()
        .unwrap_err();
    assert!(!err.contains("hunter2"), "{err}");
    assert!(config("ftp://h", "").check().is_err());
    assert!(config("https://h", "index = \"\"").check().is_err());
    assert!(
        config("https://h", "ack = true\nack_timeout_secs = 0")
            .check()
            .is_err()
    );
    assert!(toml::from_str::<Config>("url = \"https://h\"\ntoken = \"t\"\nindx = \"x\"").is_err());
    assert!(
        toml::from_str::<Config>("url = \"https://h\"\ntoken = \"t\"\ncompression = \"deflate\"")
            .is_err(),
        "deflate is not offered: HEC answers 415"
    );

    let sinks = example_sinks("sink-splunk.toml");
    let hec = sinks[0].splunk_hec.as_ref().unwrap();
    hec.check().unwrap();
    assert!(matches!(hec.token, crate::secret::SecretRef::Env { .. }));
}

#[test]
fn the_channel_is_a_random_v4_guid() {
    let a = random_channel().unwrap();
    let b = random_channel().unwrap();
    assert_ne!(a, b);
    let parts: Vec<&str> = a.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
}

#[tokio::test]
async fn the_sink_health_check_follows_the_fake() {
    let good = SplunkFake::builder().token("tok-1").start().await;
    let sink = config(&good.url(), "").build().unwrap();
    sink.health().await.unwrap();
    let bad = Config {
        token: crate::secret::SecretRef::Inline("wrong".into()),
        ..config(&good.url(), "")
    }
    .build()
    .unwrap();
    let err = bad.health().await.unwrap_err();
    assert_eq!(
        err,
        SinkError::Permanent {
            reason: "HTTP 400, HEC code 21: Invalid token".into()
        }
    );
    let sick = SplunkFake::builder()
        .token("tok-1")
        .health(20)
        .start()
        .await;
    let err = config(&sick.url(), "")
        .build()
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn one_send_builds_one_gzip_request_with_the_token_header() {
    let f = SplunkFake::builder().token("tok-1").start().await;
    let sink = config(&f.url(), "").build().unwrap();
    let all = items();
    let units: Vec<_> = all[..3]
        .iter()
        .map(|i| {
            let mut b = Vec::new();
            sink.encode_item(i, &mut b).unwrap();
            crate::sink::Encoded::one(b)
        })
        .collect();
    assert_eq!(sink.send(&units).await.unwrap(), Report::delivered());
    let reqs = f.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/services/collector/event");
    assert_eq!(r.header("authorization"), Some("Splunk tok-1"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header(CHANNEL_HEADER).is_none(), "no channel without ack");
    let body = r.body.as_ref().unwrap();
    assert!(!body.starts_with(b"["), "concatenated, not an array");
    let want: Vec<String> = all[..3].iter().map(|i| i.record_id.clone()).collect();
    assert_eq!(f.record_ids(), want);
}

proptest::proptest! {
    /// `fields` merged in order byte for byte as the map it was built as:
    /// configured fields, the record's own inserted over them.
    #[test]
    fn fields_merge_as_the_map_did(
        configured in proptest::collection::btree_map(
            proptest::sample::select(vec![
                "a", "cost_center", "env", "prompt_id", "record_id", "record_kind",
                "region", "session_id", "t", "tenant", "zone",
            ]),
            "[a-z]{0,4}",
            0..8,
        ),
        own in proptest::collection::vec(proptest::option::of("[a-z]{0,3}"), 5),
    ) {
        let mut cfg = config("http://127.0.0.1:9", "");
        cfg.fields = configured.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let mut item = items().remove(0);
        item.cost_center = own[0].clone();
        item.organization_id = own[1].clone();
        item.prompt_id = own[2].clone();
        item.session_id = own[3].clone();
        item.tenant = own[4].clone();
        let mut want: std::collections::BTreeMap<&str, &str> =
            cfg.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        want.insert("record_id", &item.record_id);
        want.insert("record_kind", item.kind.as_str());
        for (k, v) in [
            ("session_id", &item.session_id),
            ("prompt_id", &item.prompt_id),
            ("tenant", &item.tenant),
            ("cost_center", &item.cost_center),
            ("organization_id", &item.organization_id),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                want.insert(k, v);
            }
        }
        let want = format!(",\"fields\":{}}}\n", serde_json::to_string(&want).unwrap());
        let mut out = Vec::new();
        encode::envelope(&cfg, &item, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        proptest::prop_assert!(out.ends_with(&want), "{out}\nwant {want}");
    }
}
