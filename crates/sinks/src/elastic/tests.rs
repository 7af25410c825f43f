#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Elasticsearch sink: ECS mapping on real fixture records, the answer
//! table, and delivery through the real driver against the contract fake
//! (per-item 429/400, lost replies answered by 409, 413 splits, bad keys).

use std::time::Duration;

use cairn_core::{
    chain::{PromptChain, v1},
    record::Batch,
};
use cairn_testkit::siem::elastic::ElasticFake;
use serde_json::{Value, json};

use super::{client::classify, encode::dataset_of, *};
use crate::{
    driver::SinkError,
    item::AuditItem,
    sink::Sink,
    testing::{self, example_sinks, fixture_batches, fixture_items, named},
};

mod delivery;

const KEY: &str = "a2V5LWlkOmtleS1zZWNyZXQ=";

fn config(url: &str, extra: &str) -> Config {
    toml::from_str(&format!("url = {url:?}\napi_key = {KEY:?}\n{extra}")).unwrap()
}

fn logs_batch() -> Batch {
    fixture_batches()
        .into_iter()
        .find(|b| b.origin.signal == cairn_core::signal::Signal::Logs)
        .unwrap()
}

fn encode(sink: &Elastic, item: &AuditItem) -> (Value, Value) {
    let mut out = Vec::new();
    sink.encode_item(item, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    assert_eq!(lines.len(), 2, "one action line and one source line");
    (
        serde_json::from_str(lines[0]).unwrap(),
        serde_json::from_str(lines[1]).unwrap(),
    )
}

fn offline_sink() -> Elastic {
    config("http://127.0.0.1:9", "").build().unwrap()
}

#[test]
fn fixture_events_map_to_ecs_field_by_field() {
    let sink = offline_sink();
    let items = fixture_items();
    let decision = named(&items, "tool_decision");
    let (action, doc) = encode(&sink, decision);
    assert_eq!(
        action,
        json!({"create": {"_index": "logs-cairn.audit-default", "_id": decision.record_id}})
    );
    assert_eq!(doc["@timestamp"], "2026-11-23T18:31:04.424Z");
    assert_eq!(doc["@timestamp"], decision.rfc3339());
    let event = &doc["event"];
    assert_eq!(event["kind"], "event");
    assert_eq!(event["category"], json!(["process"]));
    assert_eq!(event["type"], json!(["allowed"]));
    assert_eq!(event["action"], "tool_decision");
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["dataset"], "cairn.audit");
    assert_eq!(event["module"], "cairn");
    assert_eq!(event["provider"], "claude_code");
    assert_eq!(event["id"], decision.record_id);
    let uid = decision.user_id.clone().unwrap();
    assert_eq!(doc["user"], json!({"id": uid, "name": uid}));
    assert_eq!(doc["related"]["user"], json!([uid]));
    assert_eq!(doc["service"]["name"], "cairn");
    assert_eq!(doc["message"], "tool Bash allowed");
    assert_eq!(doc["log"]["level"], "info");
    assert_eq!(
        doc["labels"],
        json!({
            "cost_center": "eng-123",
            "session_id": "f5a8a3a2-f546-4cf2-822a-9d04c0cdf064",
            "prompt_id": "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7",
        })
    );
    assert_eq!(doc["trace"]["id"], "37530de9f0d9037ae2ec324031f119a9");
    assert_eq!(doc["cairn"]["tool"], "Bash");
    assert_eq!(doc["cairn"]["action"], "allowed");
    assert_eq!(doc["cairn"]["source"], "claude-code");
    assert_eq!(doc["cairn"]["version"], "2.1.330");
    // Never a source.ip we do not have; no organization or host when absent.
    for absent in ["source", "organization", "host"] {
        assert!(doc.get(absent).is_none(), "{absent} present: {doc}");
    }

    let api = named(&items, "api_request");
    let (_, doc) = encode(&sink, api);
    assert_eq!(doc["event"]["category"], json!(["web"]));
    assert_eq!(doc["event"]["type"], json!(["access"]));
    assert_eq!(doc["event"]["duration"], 66_000_000);
    assert_eq!(doc["cairn"]["model"], "claude-opus-5-5");
    assert_eq!(doc["cairn"]["cost_usd"], 0.007376);
    assert_eq!(
        doc["cairn"]["tokens"],
        json!({"input": 1234, "output": 42, "cache_read": 3000, "cache_creation": 200})
    );
    assert_eq!(
        doc["message"],
        "api request claude-opus-5-5 (1234 in / 42 out tokens)"
    );

    // The full record rides along, with dots in keys escaped: `prompt` and
    // `prompt.id` would otherwise conflict in the mapping.
    let prompt = named(&items, "user_prompt");
    let (_, doc) = encode(&sink, prompt);
    let attrs = &doc["cairn"]["detail"]["attributes"];
    assert!(attrs.get("prompt_id").is_some() && attrs.get("prompt").is_some());
    assert!(attrs.get("prompt.id").is_none());
    assert_eq!(attrs["event_name"], "user_prompt");
    assert_eq!(doc["event"]["category"], json!(["session"]));

    let metric = items
        .iter()
        .find(|i| i.kind == crate::item::ItemKind::Metric);
    let (_, doc) = encode(&sink, metric.unwrap());
    assert_eq!(doc["event"]["kind"], "metric");

    // Every fixture record: labels are flat strings, ids match.
    for item in &items {
        let (action, doc) = encode(&sink, item);
        assert_eq!(action["create"]["_id"], item.record_id);
        assert_eq!(doc["event"]["id"], item.record_id);
        for (k, v) in doc["labels"].as_object().into_iter().flatten() {
            assert!(v.is_string(), "labels.{k} = {v}");
        }
        assert!(doc["@timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn detail_as_string_and_a_custom_data_stream() {
    let sink = config(
        "http://127.0.0.1:9",
        "data_stream = \"logs-claude.security-prod\"\ndetail = \"string\"",
    )
    .build()
    .unwrap();
    let items = fixture_items();
    let (action, doc) = encode(&sink, &items[0]);
    assert_eq!(action["create"]["_index"], "logs-claude.security-prod");
    assert_eq!(doc["event"]["dataset"], "claude.security");
    assert!(doc["cairn"].get("detail").is_none());
    let back: Value = serde_json::from_str(doc["cairn"]["detail_json"].as_str().unwrap()).unwrap();
    assert_eq!(back, items[0].detail);
    assert_eq!(dataset_of("audit-index"), "cairn.audit");
}

/// The shared sample chain with an account, an organization, a tenant,
/// tokens and a rejected tool.
fn sample_chain() -> PromptChain {
    let mut chain = testing::sample_chain();
    let who = chain.who.as_mut().unwrap();
    who.account_uuid = "acc-1".into();
    who.organization_id = "org-9".into();
    who.tenant = "acme".into();
    who.source_product = "claude-code".into();
    chain.totals = Some(v1::Totals {
        cost_usd: 0.25,
        tokens: Some(v1::TokenCounts {
            input: 5000,
            output: 700,
            cache_read: 12,
            cache_creation: 3,
        }),
        tool_calls: 2,
        rejected_tools: 1,
        models: vec!["claude-opus-5-5".into()],
        ..Default::default()
    });
    chain
}

#[test]
fn a_chain_maps_identity_org_host_and_totals() {
    let chain = sample_chain();
    let item = AuditItem::from_chain(&chain);
    let (action, doc) = encode(&offline_sink(), &item);
    assert_eq!(action["create"]["_id"], item.record_id);
    assert_eq!(doc["@timestamp"], "2026-01-05T10:00:00.123Z");
    assert_eq!(doc["event"]["action"], "prompt_chain");
    assert_eq!(doc["event"]["category"], json!(["session"]));
    assert_eq!(doc["event"]["type"], json!(["end"]));
    assert_eq!(doc["event"]["outcome"], "failure");
    assert_eq!(doc["event"]["duration"], 1_500_000_000u64);
    assert_eq!(doc["log"]["level"], "warning");
    assert_eq!(
        doc["user"],
        json!({"email": "alice@example.com", "id": "u-1", "name": "alice@example.com"})
    );
    assert_eq!(
        doc["related"]["user"],
        json!(["alice@example.com", "u-1", "acc-1"])
    );
    assert_eq!(doc["organization"]["id"], "org-9");
    assert_eq!(doc["host"]["name"], "laptop-7");
    assert_eq!(
        doc["labels"],
        json!({"cost_center": "cc-42", "tenant": "acme", "session_id": "s1", "prompt_id": "p1"})
    );
    assert_eq!(doc["cairn"]["kind"], "chain");
    assert_eq!(doc["cairn"]["cost_usd"], 0.25);
    assert_eq!(doc["cairn"]["model"], "claude-opus-5-5");
    assert_eq!(
        doc["cairn"]["tokens"],
        json!({"input": 5000, "output": 700, "cache_read": 12, "cache_creation": 3})
    );
    assert_eq!(doc["cairn"]["detail"]["chainId"], "c1");
}

#[test]
fn the_answer_table() {
    let retryable = |s: u16| matches!(classify(s, None, b"", 1), Err(SinkError::Retryable { .. }));
    let permanent = |s: u16| matches!(classify(s, None, b"", 1), Err(SinkError::Permanent { .. }));
    for s in [429, 500, 502, 503, 504] {
        assert!(retryable(s), "{s}");
    }
    for s in [400, 401, 403, 404, 405, 406] {
        assert!(permanent(s), "{s}");
    }
    assert!(matches!(
        classify(413, None, b"", 3),
        Err(SinkError::TooLarge { .. })
    ));
    assert_eq!(
        classify(429, Some(Duration::from_secs(4)), b"{}", 1),
        Err(SinkError::Retryable {
            reason: "HTTP 429 {}".into(),
            retry_after: Some(Duration::from_secs(4)),
        })
    );
    let body = br#"{"error":{"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"},"status":401}"#;
    assert_eq!(
        classify(401, None, body, 1),
        Err(SinkError::Permanent {
            reason: "HTTP 401 security_exception: missing authentication credentials for REST request [/_bulk]".into()
        })
    );

    // Items: 201 ok, 409 duplicate, 429 and 503 resent, 400/404 refused,
    // a missing item resent; the reason never quotes the value.
    let body = json!({"errors": true, "items": [
        {"create": {"status": 201}},
        {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception", "reason": "[x]: version conflict"}}},
        {"create": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "rejected"}}},
        {"create": {"status": 400, "error": {"type": "document_parsing_exception",
            "reason": "[1:40] failed to parse field [source.ip] of type [ip] in document with id 'x'. Preview of field's value: 'secret-ish'",
            "caused_by": {"type": "illegal_argument_exception", "reason": "'secret-ish' is not an IP string literal."}}}},
        {"create": {"status": 503, "error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}}},
        {"create": {"status": 404, "error": {"type": "index_not_found_exception", "reason": "no such index [x]"}}},
    ]});
    let report = classify(200, None, body.to_string().as_bytes(), 7).unwrap();
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.retry, vec![2, 4, 6]);
    assert_eq!(report.rejected.len(), 2);
    assert_eq!(report.rejected[0].0, 3);
    assert_eq!(
        report.rejected[0].1,
        "item HTTP 400 document_parsing_exception: [1:40] failed to parse field [source.ip] of type [ip] in document with id 'x'. (caused by illegal_argument_exception)"
    );
    assert!(!report.rejected[0].1.contains("secret-ish"));
    assert_eq!(report.rejected[1].0, 5);
    assert!(
        report.rejected[1]
            .1
            .starts_with("item HTTP 404 index_not_found_exception")
    );

    assert_eq!(
        classify(200, None, br#"{"errors":false}"#, 5).unwrap(),
        crate::sink::Report::delivered()
    );
    assert!(matches!(
        classify(200, None, b"<html>", 2),
        Err(SinkError::Retryable { .. })
    ));
}

#[test]
fn config_checks() {
    let ok = config("https://es.example.com:9200/prefix/", "");
    assert!(ok.check().is_ok());
    let bad = |extra: &str, url: &str| {
        toml::from_str::<Config>(&format!("url = {url:?}\n{extra}"))
            .map_err(|e| e.to_string())
            .and_then(|c| c.check())
            .unwrap_err()
    };
    assert!(bad("", "https://es:9200").contains("api_key"));
    assert!(
        bad(
            "api_key = \"k\"\nusername = \"u\"\npassword = \"p\"",
            "https://es"
        )
        .contains("not both")
    );
    assert!(bad("username = \"u\"", "https://es").contains("go together"));
    assert!(bad("api_key = \"k\"\ndata_stream = \"Logs-X\"", "https://es").contains("lowercase"));
    assert!(bad("api_key = \"k\"", "ftp://es").contains("http"));
    assert!(bad("api_key = \"k\"", "https://u:p@es").contains("not in the url"));
    assert!(bad("api_key = \"k\"\nmax_docs = 0", "https://es").contains("max_docs"));
    assert!(bad("api_key = \"k\"\nbogus = 1", "https://es").contains("bogus"));
    // Secrets never show in Debug.
    let c = config("https://es", "");
    assert!(!format!("{c:?}").contains(KEY));
    assert!(!format!("{:?}", c.build().unwrap()).contains(KEY));
}

// ---- the fake's own contract ----

async fn post(fake: &ElasticFake, path: &str, ct: &str, auth: &str, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", fake.url()))
        .header("content-type", ct)
        .header("authorization", auth)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_fake_follows_the_bulk_contract() {
    let fake = ElasticFake::builder().api_key("k").start().await;
    let nd = "application/x-ndjson";
    let ok = "ApiKey k";
    let ts = r#""@timestamp":"2026-01-05T10:00:00.123Z""#;

    let (s, v) = post(
        &fake,
        "/_bulk",
        nd,
        ok,
        &format!("{{\"create\":{{\"_index\":\"logs-a-b\",\"_id\":\"1\"}}}}\n{{{ts}}}"),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["reason"],
        "The bulk request must be terminated by a newline [\\n]"
    );

    let (s, v) = post(&fake, "/_bulk", nd, "ApiKey wrong", "{}\n").await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["type"], "security_exception");
    let (s, _) = post(&fake, "/_bulk", "text/plain", ok, "{}\n").await;
    assert_eq!(s, 406);

    let body = format!(
        "{{\"create\":{{\"_index\":\"logs-a-b\",\"_id\":\"1\"}}}}\n{{{ts}}}\n\
         {{\"create\":{{\"_index\":\"logs-a-b\",\"_id\":\"1\"}}}}\n{{{ts}}}\n\
         {{\"index\":{{\"_index\":\"logs-a-b\",\"_id\":\"2\"}}}}\n{{{ts}}}\n\
         {{\"create\":{{\"_index\":\"logs-a-b\",\"_id\":\"3\"}}}}\n{{\"x\":1}}\n\
         {{\"create\":{{\"_id\":\"4\"}}}}\n{{{ts},\"a\":\"x\",\"a.b\":\"y\"}}\n\
         {{\"create\":{{\"_id\":\"5\"}}}}\n{{{ts},\"source\":{{\"ip\":\"not-an-ip\"}}}}\n\
         {{\"index\":{{\"_index\":\"plain\",\"_id\":\"6\"}}}}\n{{\"v\":1}}\n\
         {{\"index\":{{\"_index\":\"plain\",\"_id\":\"6\"}}}}\n{{\"v\":2}}\r\n"
    );
    let (s, v) = post(&fake, "/logs-a-b/_bulk", nd, ok, &body).await;
    assert_eq!(s, 200);
    assert_eq!(v["errors"], true);
    let statuses: Vec<u64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.as_object().unwrap().values().next().unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, vec![201, 409, 400, 400, 400, 400, 201, 200]);
    let reason = |i: usize, op: &str| {
        v["items"][i][op]["error"]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason(2, "index").contains("op_type of create"));
    assert!(reason(3, "create").contains("[@timestamp] is missing"));
    assert!(reason(4, "create").contains("non object mapping [a]"));
    assert!(reason(5, "create").contains("[source.ip] of type [ip]"));
    assert_eq!(
        v["items"][0]["create"]["_index"],
        ".ds-logs-a-b-2026.01.05-000001"
    );
    assert_eq!(fake.doc("6").unwrap(), json!({"v": 2}));

    // filter_path keeps only what was asked.
    let (_, v) = post(
        &fake,
        "/_bulk?filter_path=errors,items.*.status",
        nd,
        ok,
        &format!("{{\"create\":{{\"_index\":\"logs-a-b\",\"_id\":\"9\"}}}}\n{{{ts}}}\n"),
    )
    .await;
    assert_eq!(
        v,
        json!({"errors": false, "items": [{"create": {"status": 201}}]})
    );

    // A field limit and the 413 limit are measured like the cluster does.
    let small = ElasticFake::builder()
        .api_key("k")
        .max_fields(2)
        .max_content_length(200)
        .start()
        .await;
    let (_, v) = post(
        &small,
        "/_bulk",
        nd,
        ok,
        &format!("{{\"create\":{{\"_index\":\"logs-a-b\"}}}}\n{{{ts},\"b\":1,\"c\":2}}\n"),
    )
    .await;
    assert!(
        v["items"][0]["create"]["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("Limit of total fields [2]")
    );
    let (s, _) = post(&small, "/_bulk", nd, ok, &format!("{}\n", "x".repeat(300))).await;
    assert_eq!(s, 413);
}

#[tokio::test]
async fn the_fake_mapping_refuses_the_raw_detail_and_accepts_the_escaped_one() {
    let fake = ElasticFake::builder().api_key("k").start().await;
    let sink = offline_sink();
    let items = fixture_items();
    let prompt = named(&items, "user_prompt");
    let (action, escaped) = encode(&sink, prompt);
    let mut raw = escaped.clone();
    raw["cairn"]["detail"] = prompt.detail.clone();
    raw["event"]["id"] = "raw".into();
    let raw_action = json!({"create": {"_index": "logs-cairn.audit-default", "_id": "raw"}});
    let body = format!("{raw_action}\n{raw}\n{action}\n{escaped}\n");
    let (status, v) = post(&fake, "/_bulk", "application/x-ndjson", "ApiKey k", &body).await;
    assert_eq!(status, 200);
    assert_eq!(v["items"][0]["create"]["status"], 400);
    assert_eq!(
        v["items"][0]["create"]["error"]["reason"],
        "can't merge a non object mapping [cairn.detail.attributes.prompt] with an object mapping"
    );
    assert_eq!(v["items"][1]["create"]["status"], 201);
    assert_eq!(fake.ids(), vec![prompt.record_id.clone()]);
}

#[test]
fn the_example_config_parses_and_checks() {
    let sinks = example_sinks("sink-elastic.toml");
    assert_eq!(sinks.len(), 1);
    let s = &sinks[0];
    assert_eq!(s.name, "elastic");
    let c = s.elastic.as_ref().unwrap();
    c.check().unwrap();
    assert_eq!(c.data_stream, DEFAULT_DATA_STREAM);
    assert_eq!(
        c.api_key,
        Some(crate::secret::SecretRef::Env {
            env: "CAIRN_ELASTIC_API_KEY".into()
        })
    );
}
