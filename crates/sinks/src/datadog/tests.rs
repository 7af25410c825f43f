#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Datadog sink: the log mapping on real fixture records and a chain,
//! the answer table, the request caps to the byte, the example config, and
//! the fake's own contract.

use cairn_core::chain::PromptChain;
use cairn_testkit::siem::datadog::DatadogFake;
use serde_json::{Value, json};

use super::{
    client::{MAX_ENTRIES, MAX_REQUEST_BYTES, classify},
    *,
};
use crate::{
    driver::SinkError,
    item::AuditItem,
    sink::{Encoded, Report, Sink},
    testing::{self, example_sinks, fixture_items, named},
};

mod delivery;

const KEY: &str = "dd-test-key";

fn config(url: &str, extra: &str) -> Config {
    toml::from_str(&format!("url = {url:?}\napi_key = {KEY:?}\n{extra}")).unwrap()
}

fn offline_sink(extra: &str) -> Datadog {
    config("http://127.0.0.1:9", extra).build().unwrap()
}

fn encode(sink: &Datadog, item: &AuditItem) -> Value {
    let mut out = Vec::new();
    sink.encode_item(item, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn fixture_events_map_to_reserved_and_standard_attributes() {
    let sink = offline_sink("tags = [\"env:prod\", \"team:sec\"]\nhostname = \"gw-1\"");
    let items = fixture_items();
    let result = named(&items, "tool_result");
    let log = encode(&sink, result);
    let uid = result.user_id.clone().unwrap();
    assert_eq!(log["ddsource"], "claude_code");
    assert_eq!(
        log["ddtags"],
        "env:prod,team:sec,source:claude-code,cost_center:eng-123"
    );
    assert_eq!(log["hostname"], "gw-1", "the record has no host");
    assert_eq!(log["service"], "cairn");
    assert_eq!(log["status"], "info");
    assert_eq!(log["message"], "tool Bash success");
    assert_eq!(log["timestamp"], 1_795_458_664_467u64);
    assert_eq!(log["timestamp"], result.unix_millis());
    assert_eq!(log["usr"], json!({"id": uid, "name": uid}));
    assert_eq!(
        log["evt"],
        json!({"name": "tool_result", "outcome": "success"})
    );
    assert_eq!(log["duration"], 37_000_000u64, "nanoseconds");
    assert_eq!(log["trace_id"], "37530de9f0d9037ae2ec324031f119a9");
    assert_eq!(log["record_id"], result.record_id);
    assert_eq!(log["session_id"], "f5a8a3a2-f546-4cf2-822a-9d04c0cdf064");
    assert_eq!(log["prompt_id"], "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7");
    assert_eq!(log["cairn"]["tool"], "Bash");
    assert_eq!(log["cairn"]["kind"], "event");
    assert_eq!(log["detail"], result.detail);
    assert!(log.get("network").is_none(), "no client IP is known");

    let api = named(&items, "api_request");
    let log = encode(&sink, api);
    assert_eq!(log["duration"], 66_000_000u64);
    assert_eq!(log["cairn"]["model"], "claude-opus-5-5");
    assert_eq!(log["cairn"]["cost_usd"], 0.007376);

    // Without a configured hostname and without a host, no hostname.
    let bare = encode(&offline_sink(""), named(&items, "plugin_loaded"));
    assert!(bare.get("hostname").is_none());
    assert!(bare.get("duration").is_none());
    assert_eq!(bare["ddtags"], "source:claude-code,cost_center:eng-123");
    assert_eq!(bare["evt"]["outcome"], "unknown");

    for item in &items {
        let log = encode(&sink, item);
        assert_eq!(log["record_id"], item.record_id);
        assert!(matches!(
            log["status"].as_str().unwrap(),
            "info" | "warning" | "error"
        ));
    }
}

/// The shared sample chain, with an organization and a tenant a tag list
/// must not split on.
fn sample_chain() -> PromptChain {
    let mut chain = testing::sample_chain();
    let who = chain.who.as_mut().unwrap();
    who.organization_id = "org 9".into();
    who.tenant = "acme,eu".into();
    who.source_product = "cowork".into();
    chain
}

#[test]
fn a_chain_maps_identity_tags_and_severity() {
    let chain = sample_chain();
    let item = AuditItem::from_chain(&chain);
    let log = encode(&offline_sink("hostname = \"gw-1\""), &item);
    assert_eq!(log["hostname"], "laptop-7", "the record's host wins");
    assert_eq!(log["status"], "warning");
    assert_eq!(log["timestamp"], 1_767_607_200_123u64);
    assert_eq!(log["duration"], 1_500_000_000u64);
    assert_eq!(
        log["usr"],
        json!({"id": "u-1", "email": "alice@example.com", "name": "alice@example.com"})
    );
    assert_eq!(
        log["evt"],
        json!({"name": "prompt_chain", "outcome": "failure"})
    );
    // A comma or space in a value must not split or break the tag list.
    assert_eq!(
        log["ddtags"],
        "source:cowork,tenant:acme_eu,cost_center:cc-42,org:org_9"
    );
    assert_eq!(log["cairn"]["organization_id"], "org 9");
    assert_eq!(log["cairn"]["cost_usd"], 0.25);
    assert_eq!(log["detail"]["chainId"], "c1");
}

#[test]
fn the_answer_table() {
    for s in [408, 429, 500, 502, 503, 504] {
        assert!(
            matches!(classify(s, None, b""), Err(SinkError::Retryable { .. })),
            "{s}"
        );
    }
    for s in [400, 401, 403, 404] {
        assert!(
            matches!(classify(s, None, b""), Err(SinkError::Permanent { .. })),
            "{s}"
        );
    }
    assert_eq!(classify(202, None, b"{}"), Ok(Report::delivered()));
    assert_eq!(
        classify(413, None, br#"{"errors":["Request Entity Too Large"]}"#),
        Err(SinkError::TooLarge {
            reason: "HTTP 413 Request Entity Too Large".into()
        })
    );
    assert_eq!(
        classify(
            429,
            Some(std::time::Duration::from_secs(3)),
            br#"{"errors":["Too Many Requests"]}"#
        ),
        Err(SinkError::Retryable {
            reason: "HTTP 429 Too Many Requests".into(),
            retry_after: Some(std::time::Duration::from_secs(3)),
        })
    );
    assert_eq!(
        classify(403, None, br#"{"errors":["Forbidden","again"]}"#),
        Err(SinkError::Permanent {
            reason: "HTTP 403 Forbidden; again".into()
        })
    );
}

fn unit_of_len(len: usize) -> Encoded {
    // `{"m":"` + padding + `"}`
    let pad = "x".repeat(len - 8);
    let bytes = format!("{{\"m\":\"{pad}\"}}").into_bytes();
    assert_eq!(bytes.len(), len);
    Encoded::one(bytes)
}

#[tokio::test]
async fn a_full_batch_fits_the_intake_to_the_byte_brackets_and_commas_included() {
    let fake = DatadogFake::builder().start().await;
    let sink = config(&fake.url(), "").build().unwrap();
    let limits = sink.limits();
    assert_eq!(limits.max_items, MAX_ENTRIES);
    assert_eq!(limits.max_bytes + MAX_ENTRIES + 1, MAX_REQUEST_BYTES);

    // The largest batch the batcher can form: 1,000 units summing to max_bytes.
    let mut units: Vec<Encoded> = (0..MAX_ENTRIES - 1).map(|_| unit_of_len(4999)).collect();
    let rest = limits.max_bytes - units.iter().map(|u| u.bytes.len()).sum::<usize>();
    units.push(unit_of_len(rest));
    assert_eq!(crate::http::json_array(&units).len(), MAX_REQUEST_BYTES);
    assert_eq!(sink.send(&units).await, Ok(Report::delivered()));
    assert_eq!(fake.logs().len(), MAX_ENTRIES);

    // One byte more is refused by the intake, and the sink says split.
    let last = units.len() - 1;
    units[last] = unit_of_len(rest + 1);
    assert!(matches!(
        sink.send(&units).await,
        Err(SinkError::TooLarge { .. })
    ));
    // One entry more is refused too.
    let many: Vec<Encoded> = (0..=MAX_ENTRIES).map(|_| unit_of_len(10)).collect();
    assert!(matches!(
        sink.send(&many).await,
        Err(SinkError::TooLarge { .. })
    ));
    assert_eq!(fake.logs().len(), MAX_ENTRIES);
}

#[test]
fn config_checks() {
    assert!(
        config("https://http-intake.logs.datadoghq.eu", "")
            .check()
            .is_ok()
    );
    let c: Config = toml::from_str("api_key = \"k\"\nsite = \"us5.datadoghq.com\"").unwrap();
    assert!(c.check().is_ok());
    assert_eq!(
        format!("{:?}", c.build().unwrap()),
        "Datadog { url: \"https://http-intake.logs.us5.datadoghq.com/api/v2/logs\", gzip: true, .. }"
    );
    let d: Config = toml::from_str("api_key = \"k\"").unwrap();
    assert!(
        format!("{:?}", d.build().unwrap())
            .contains("https://http-intake.logs.datadoghq.com/api/v2/logs")
    );
    let bad = |extra: &str| {
        toml::from_str::<Config>(&format!("api_key = \"k\"\n{extra}"))
            .map_err(|e| e.to_string())
            .and_then(|c| c.check())
            .unwrap_err()
    };
    assert!(bad("url = \"https://a\"\nsite = \"b\"").contains("not both"));
    assert!(bad("tags = [\"env:prod,team:x\"]").contains("tag"));
    assert!(bad("tags = [\"has space\"]").contains("tag"));
    assert!(bad("site = \"evil/path\"").contains("site"));
    assert!(bad("service = \" \"").contains("service"));
    assert!(bad("url = \"ftp://x\"").contains("http"));
    assert!(bad("url = \"https://key@x\"").contains("not in the url"));
    assert!(bad("nope = 1").contains("nope"));
    assert!(
        toml::from_str::<Config>("url = \"https://x\"").is_err(),
        "api_key is required"
    );
    // The key never prints.
    let c = config("https://x", "");
    assert!(!format!("{c:?}").contains(KEY));
    assert!(!format!("{:?}", c.build().unwrap()).contains(KEY));
}

#[test]
fn the_example_config_parses_and_checks() {
    let sinks = example_sinks("sink-datadog.toml");
    assert_eq!(sinks.len(), 1);
    assert_eq!(sinks[0].name, "datadog");
    let c = sinks[0].datadog.as_ref().unwrap();
    c.check().unwrap();
    assert_eq!(
        c.api_key,
        crate::secret::SecretRef::Env {
            env: "CAIRN_DATADOG_API_KEY".into()
        }
    );
}

// ---- the fake's own contract ----

async fn post(
    fake: &DatadogFake,
    key: Option<&str>,
    ct: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v2/logs", fake.url()))
        .header("content-type", ct)
        .body(body);
    if let Some(k) = key {
        req = req.header("dd-api-key", k);
    }
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn the_fake_follows_the_intake_contract() {
    use std::io::Write;
    let fake = DatadogFake::builder().api_key("k").start().await;
    let json = "application/json";
    let one = br#"[{"message":"a","record_id":"r1"}]"#.to_vec();
    assert_eq!(
        post(&fake, None, json, None, one.clone()).await,
        (401, json!({"errors": ["Unauthorized"]}))
    );
    assert_eq!(
        post(&fake, Some("bad"), json, None, one.clone()).await,
        (403, json!({"errors": ["Forbidden"]}))
    );
    assert_eq!(
        post(&fake, Some("k"), json, None, b"[1,".to_vec()).await.0,
        400
    );

    // gzip and deflate are undone; a single object is accepted too.
    let gz = cairn_testkit::fixtures::gzip(&one);
    assert_eq!(
        post(&fake, Some("k"), json, Some("gzip"), gz).await,
        (202, json!({}))
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(br#"{"message":"b","record_id":"r2"}"#).unwrap();
    let deflated = z.finish().unwrap();
    assert_eq!(
        post(&fake, Some("k"), json, Some("deflate"), deflated)
            .await
            .0,
        202
    );
    assert_eq!(fake.record_ids(), vec!["r1", "r2"]);

    // Over 1 MB: kept truncated, still 202 {}.
    let big = json!([{"record_id": "big", "message": "y".repeat(1_200_000)}]).to_string();
    assert_eq!(
        post(&fake, Some("k"), json, None, big.into_bytes()).await,
        (202, json!({}))
    );
    let log = fake.log("big").unwrap();
    assert!(log.truncated);
    assert_eq!(log.kept.len(), 1_000_000);
    assert!(log.size > 1_200_000);

    // The caps: uncompressed bytes (even when the wire form is small) and entries.
    let huge = json!([{"message": "z".repeat(5_000_000)}]).to_string();
    let gz = cairn_testkit::fixtures::gzip(huge.as_bytes());
    assert!(gz.len() < 100_000);
    assert_eq!(
        post(&fake, Some("k"), json, Some("gzip"), gz).await,
        (413, json!({"errors": ["Request Entity Too Large"]}))
    );
    let many = Value::Array((0..1001).map(|_| json!({"message": "m"})).collect()).to_string();
    assert_eq!(
        post(&fake, Some("k"), json, None, many.into_bytes())
            .await
            .0,
        413
    );
    assert_eq!(fake.logs().len(), 3);
}

/// `ddtags` as it was built before it was written in place: each tag a
/// `String`, joined.
fn ddtags_reference(enc: &encode::Encoder, item: &AuditItem) -> String {
    let mut tags: Vec<String> = enc.tags.clone();
    tags.push(format!("source:{}", encode::tag(item.source)));
    for (name, value) in [
        ("tenant", &item.tenant),
        ("cost_center", &item.cost_center),
        ("org", &item.organization_id),
    ] {
        if let Some(v) = value {
            tags.push(encode::tag(&format!("{name}:{v}")));
        }
    }
    tags.join(",")
}

proptest::proptest! {
    #[test]
    fn ddtags_written_in_place_as_joined(
        tenant in proptest::option::of("\\PC{0,210}"),
        cost_center in proptest::option::of("[a-z, é😀._:/-]{0,30}"),
        org in proptest::option::of("\\PC{0,8}"),
        configured in proptest::collection::vec("[a-z:]{1,8}", 0..3),
    ) {
        let mut item = fixture_items().remove(0);
        item.tenant = tenant;
        item.cost_center = cost_center;
        item.organization_id = org;
        let enc = encode::Encoder {
            ddsource: "claude".into(),
            service: "cairn".into(),
            hostname: None,
            tags: configured,
        };
        proptest::prop_assert_eq!(enc.ddtags(&item), ddtags_reference(&enc, &item));
    }
}
