#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Sentinel sink tests: the row mapping on real fixture records and a
//! chain, the config checks, the answer table and the 401 rule through
//! `send`, and (in `tests/`) the token cache and the real driver against
//! the fake.

use std::sync::Arc;

use cairn_core::record::Batch;
use cairn_testkit::siem::{
    Answer,
    sentinel::{self as fake, SentinelFake},
};
use serde_json::{Value, json};

use super::{encode::FIELD_BUDGET, *};
use crate::{
    driver::SinkError,
    item::{AuditItem, ItemKind},
    sink::{Encoded, Sink},
    testing::{self, SCENARIO, chains_of, example_sinks, items_of},
};

mod driver;
mod fake_contract;
mod token;

/// Fixture batches, each copy under its own tenant label so record ids
/// differ between copies.
pub(super) fn batches(copies: usize) -> Vec<Batch> {
    (0..copies)
        .flat_map(|copy| testing::batches(SCENARIO, Some(&format!("acme-{copy}"))))
        .collect()
}

pub(super) fn items(copies: usize) -> Vec<AuditItem> {
    items_of(&batches(copies))
}

pub(super) fn toml_for(url: &str, secret: &str, extra: &str) -> String {
    format!(
        r#"
endpoint = "{url}"
authority = "{url}"
dcr_immutable_id = "{}"
stream = "{}"
tenant_id = "{}"
client_id = "{}"
client_secret = "{secret}"
{extra}
"#,
        fake::DCR,
        fake::STREAM,
        fake::TENANT,
        fake::CLIENT_ID,
    )
}

pub(super) fn sink_with(fake: &SentinelFake, secret: &str, extra: &str) -> Sentinel {
    let c: Config = toml::from_str(&toml_for(&fake.url(), secret, extra)).unwrap();
    c.build().unwrap()
}

pub(super) fn sink(fake: &SentinelFake) -> Sentinel {
    sink_with(fake, fake::CLIENT_SECRET, "")
}

pub(super) fn units(sink: &Sentinel, items: &[AuditItem]) -> Vec<Encoded> {
    items
        .iter()
        .map(|i| {
            let mut buf = Vec::new();
            sink.encode_item(i, &mut buf).unwrap();
            Encoded::one(buf)
        })
        .collect()
}

fn row(item: &AuditItem) -> Value {
    let mut buf = Vec::new();
    encode::encode(item, &mut buf).unwrap();
    serde_json::from_slice(&buf).unwrap()
}

pub(super) fn azure(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

const COLUMNS: [&str; 22] = [
    "TimeGenerated",
    "Action",
    "Outcome",
    "EventName",
    "RecordKind",
    "UserEmail",
    "UserId",
    "OrgId",
    "Tenant",
    "SessionId",
    "PromptId",
    "App",
    "Host",
    "Model",
    "Tool",
    "CostUsd",
    "DurationMs",
    "CostCenter",
    "Severity",
    "Message",
    "RecordId",
    "Attributes",
];

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

#[test]
fn every_fixture_record_maps_column_by_column() {
    let items = items(1);
    assert_eq!(items.len(), 21);
    for item in &items {
        let r = row(item);
        let obj = r.as_object().unwrap();
        assert!(obj.keys().all(|k| COLUMNS.contains(&k.as_str())), "{obj:?}");
        assert_eq!(r["TimeGenerated"], item.rfc3339());
        assert!(r["TimeGenerated"].as_str().unwrap().ends_with('Z'));
        assert_eq!(r["Action"], item.action);
        assert_eq!(r["Outcome"], item.outcome.as_str());
        assert_eq!(r["EventName"], item.name);
        assert_eq!(r["RecordKind"], item.kind.as_str());
        assert_eq!(r["App"], "claude_code");
        assert_eq!(r["Severity"], item.severity.as_str());
        assert_eq!(r["Message"], item.message);
        assert_eq!(r["RecordId"], item.record_id);
        assert_eq!(r["Tenant"], "acme-0");
        assert_eq!(
            r["Attributes"], item.detail,
            "Attributes is the whole record"
        );
        let column = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
        assert_eq!(column("UserId"), opt(&item.user_id));
        assert_eq!(column("SessionId"), opt(&item.session_id));
        assert_eq!(column("PromptId"), opt(&item.prompt_id));
        assert_eq!(column("Tool"), opt(&item.tool));
        assert_eq!(column("Model"), opt(&item.model));
        assert_eq!(column("CostCenter"), opt(&item.cost_center));
        assert_eq!(
            column("UserEmail"),
            Value::Null,
            "absent values are left out"
        );
    }
    let by_name = |n: &str| items.iter().find(|i| i.name == n).map(row).unwrap();
    let d = by_name("tool_decision");
    assert_eq!(
        (&d["Action"], &d["Outcome"], &d["Tool"], &d["Severity"]),
        (
            &json!("allowed"),
            &json!("success"),
            &json!("Bash"),
            &json!("info")
        )
    );
    let a = by_name("api_request");
    assert_eq!(a["Model"], "claude-opus-5-5");
    assert_eq!(a["CostUsd"], 0.007376);
    assert_eq!(a["DurationMs"], 66.0);
    assert_eq!(a["TimeGenerated"], "2026-11-23T18:31:04.441Z");
    assert_eq!(a["SessionId"], "f5a8a3a2-f546-4cf2-822a-9d04c0cdf064");
    assert_eq!(a["PromptId"], "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7");
    assert_eq!(a["CostCenter"], "eng-123");
    let m = by_name("claude_code.cost.usage");
    assert_eq!(
        (&m["RecordKind"], m.get("CostUsd")),
        (&json!("metric"), None)
    );
    let s = by_name("claude_code.interaction");
    assert_eq!(s["RecordKind"], "span");
    // Identity columns the fixtures leave empty, from a filled-in item.
    let mut i = items[0].clone();
    i.user_email = Some("a@example.com".into());
    i.organization_id = Some("org-1".into());
    i.host = Some("laptop-7".into());
    let r = row(&i);
    assert_eq!(
        (&r["UserEmail"], &r["OrgId"], &r["Host"]),
        (&json!("a@example.com"), &json!("org-1"), &json!("laptop-7"))
    );
}

#[test]
fn a_prompt_chain_maps_to_one_row() {
    let chains = chains_of(&batches(1));
    let chain = chains.first().expect("the fixture session has a prompt");
    let item = AuditItem::from_chain(chain);
    assert_eq!(item.kind, ItemKind::Chain);
    let r = row(&item);
    assert_eq!(r["RecordKind"], "chain");
    assert_eq!(r["EventName"], "prompt_chain");
    assert_eq!(r["PromptId"], "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7");
    assert_eq!(r["SessionId"], "f5a8a3a2-f546-4cf2-822a-9d04c0cdf064");
    assert_eq!(r["Tenant"], "acme-0");
    assert_eq!(r["Action"], "success");
    assert_eq!(r["Outcome"], "success");
    assert_eq!(r["Model"], "claude-opus-5-5");
    assert!(
        (r["CostUsd"].as_f64().unwrap() - 0.014752).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(r["RecordId"], item.record_id);
    assert_eq!(r["TimeGenerated"], item.rfc3339());
    assert_eq!(r["Attributes"], chain.to_json());
    assert!(
        r["Message"]
            .as_str()
            .unwrap()
            .starts_with("prompt chain: 1 tool calls")
    );
}

#[test]
fn oversized_values_are_cut_to_fit_one_column() {
    let mut item = items(1).remove(0);
    item.message = "é".repeat(40_000); // 80,000 bytes
    item.detail = json!({"attributes": {"big": "x".repeat(200_000), "small": "kept"}});
    let r = row(&item);
    let msg = r["Message"].as_str().unwrap();
    assert!(
        msg.len() <= FIELD_BUDGET && msg.ends_with('…'),
        "{}",
        msg.len()
    );
    let attrs = &r["Attributes"];
    assert!(attrs.to_string().len() <= FIELD_BUDGET);
    assert_eq!(attrs["attributes"]["small"], "kept");
    let big = attrs["attributes"]["big"].as_str().unwrap();
    assert!(big.len() == 4096 && big.ends_with("x…"), "{}", big.len());
    assert_eq!(
        attrs["cairn_truncated"]["original_bytes"],
        item.detail.to_string().len()
    );
    // Too many values to fit even when cut: only the marker remains.
    let many: serde_json::Map<String, Value> =
        (0..20_000).map(|i| (format!("k{i}"), json!(i))).collect();
    item.detail = Value::Object(many);
    let r = row(&item);
    let obj = r["Attributes"].as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), vec!["cairn_truncated"]);
    assert_eq!(
        r["RecordId"], item.record_id,
        "the other columns still arrive"
    );
}

#[test]
fn config_defaults_and_checks() {
    let good = toml_for("https://dce-1.eastus-1.ingest.monitor.azure.com", "s", "");
    let c: Config = toml::from_str(&good).unwrap();
    c.check().unwrap();
    assert_eq!(
        c.authority,
        "https://dce-1.eastus-1.ingest.monitor.azure.com"
    );
    let mut d: Config = toml::from_str(&good.replace("authority = ", "# ")).unwrap();
    assert_eq!(d.authority, "https://login.microsoftonline.com");
    assert_eq!(d.scope, "https://monitor.azure.com//.default");
    assert_eq!(d.api_version, "2023-01-01");
    assert_eq!(d.compression, Compression::Gzip);
    d.tenant_id = "contoso.onmicrosoft.com".into();
    d.stream = "Microsoft-CommonSecurityLog".into();
    d.check().unwrap();
    let bad = |from: &str, to: &str, needle: &str| {
        let c: Result<Config, _> = toml::from_str(&good.replace(from, to));
        let err = match c {
            Ok(c) => c.check().unwrap_err(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(needle), "{from} -> {to}: {err}");
    };
    bad(fake::DCR, "dcr-0011", "dcr_immutable_id");
    bad(
        fake::DCR,
        "00112233445566778899aabbccddeeff0000",
        "dcr_immutable_id",
    );
    bad(fake::STREAM, "CairnAudit_CL", "stream");
    bad(fake::STREAM, "Custom-Cairn-Audit", "stream");
    bad(fake::CLIENT_ID, "my-app", "client_id");
    bad(fake::TENANT, "common", "tenant_id");
    bad("https://dce-1", "http://dce-1", "https://");
    bad(
        "client_secret",
        "compression = \"zstd\"\nclient_secret",
        "zstd",
    );
    bad("client_secret", "colour = 1\nclient_secret", "colour");
    let http_loopback = toml_for("http://127.0.0.1:9", "s", "api_version = \"2099-13\"");
    let c: Config = toml::from_str(&http_loopback).unwrap();
    assert!(c.check().unwrap_err().contains("api_version"));
    let c: Config = toml::from_str(&toml_for("http://127.0.0.1:9", "s", "")).unwrap();
    c.check().unwrap();
    // build() needs the secret; the error names where it looked, not a value.
    let env = good.replace(
        "client_secret = \"s\"",
        "client_secret = { env = \"CAIRN_TEST_NO_SUCH_SECRET\" }",
    );
    let err = toml::from_str::<Config>(&env)
        .unwrap()
        .build()
        .err()
        .unwrap();
    assert!(err.contains("CAIRN_TEST_NO_SUCH_SECRET"), "{err}");
}

#[test]
fn the_example_config_parses_and_checks() {
    let sink = example_sinks("sink-sentinel.toml").remove(0);
    sink.sentinel.as_ref().unwrap().check().unwrap();
    use crate::route::RecordType;
    assert_eq!(
        sink.route.records.iter().copied().collect::<Vec<_>>(),
        vec![RecordType::Events, RecordType::Chains]
    );
    assert_eq!(sink.name, "sentinel");
}

#[tokio::test]
async fn a_batch_is_one_json_array_with_the_contract_headers() {
    let fake = SentinelFake::builder().start().await;
    let sink = sink(&fake);
    let items = items(1);
    sink.send(&units(&sink, &items)).await.unwrap();
    let reqs = fake.server().requests();
    assert_eq!(reqs.len(), 2, "one token request, one ingestion");
    let token = &reqs[0];
    assert_eq!(token.path, format!("/{}/oauth2/v2.0/token", fake::TENANT));
    let form = String::from_utf8(token.body.clone().unwrap()).unwrap();
    assert!(
        form.contains("scope=https%3A%2F%2Fmonitor.azure.com%2F%2F.default"),
        "{form}"
    );
    assert!(form.contains("grant_type=client_credentials"));
    let ingest = &reqs[1];
    assert_eq!(
        ingest.path,
        format!(
            "/dataCollectionRules/{}/streams/{}",
            fake::DCR,
            fake::STREAM
        )
    );
    assert_eq!(ingest.query, "api-version=2023-01-01");
    assert!(
        ingest
            .header("authorization")
            .unwrap()
            .starts_with("Bearer eyJ")
    );
    assert_eq!(ingest.header("content-type"), Some("application/json"));
    assert_eq!(ingest.header("content-encoding"), Some("gzip"));
    let id = ingest.header("x-ms-client-request-id").unwrap();
    assert!(uuid::Uuid::try_parse(id).is_ok() && id.len() == 36, "{id}");
    let body: Value = serde_json::from_slice(ingest.body.as_ref().unwrap()).unwrap();
    assert_eq!(body.as_array().unwrap().len(), 21);
    assert_eq!(fake.rows(), *body.as_array().unwrap());
    assert_eq!(fake.ingests()[0].status, 204);
    // Uncompressed when configured.
    let plain = sink_with(&fake, fake::CLIENT_SECRET, "compression = \"none\"");
    plain.send(&units(&plain, &items[..2])).await.unwrap();
    let last = fake.server().requests().pop().unwrap();
    assert_eq!(last.header("content-encoding"), None);
    assert_eq!(last.wire.first(), Some(&b'['));
}

#[tokio::test]
async fn every_answer_is_classified_per_the_contract_table() {
    let fake = SentinelFake::builder().start().await;
    let sink = sink(&fake);
    let one = units(&sink, &items(1)[..1]);
    let cases: Vec<(Answer, &str)> = vec![
        (
            azure(400, "InvalidPayload", "bad row"),
            "permanent: HTTP 400 InvalidPayload: bad row",
        ),
        (
            azure(403, "OperationFailed", "no role"),
            "permanent: HTTP 403 OperationFailed: no role",
        ),
        (
            azure(404, "NotFound", "no dcr"),
            "permanent: HTTP 404 NotFound: no dcr",
        ),
        (
            azure(413, "ContentLengthLimitExceeded", "1 MB"),
            "too large: HTTP 413 ContentLengthLimitExceeded: 1 MB",
        ),
        (
            azure(400, "RecordsTimeRangeIsMoreThan30Minutes", "span"),
            "too large: HTTP 400 RecordsTimeRangeIsMoreThan30Minutes: span",
        ),
        (
            azure(429, "TooManyRequests", "slow down").with_header("retry-after", "7"),
            "retryable: HTTP 429 TooManyRequests: slow down",
        ),
        (
            azure(503, "ServiceUnavailable", "busy"),
            "retryable: HTTP 503 ServiceUnavailable: busy",
        ),
        (Answer::text(500, "oops"), "retryable: HTTP 500: oops"),
        (Answer::Drop, "retryable: "),
    ];
    for (i, (answer, want)) in cases.into_iter().enumerate() {
        fake.script_ingest(i, answer);
        let err = sink.send(&one).await.unwrap_err();
        assert!(err.to_string().starts_with(want), "case {i}: {err}");
        if want.contains("429") {
            assert_eq!(
                err,
                SinkError::Retryable {
                    reason: "HTTP 429 TooManyRequests: slow down".into(),
                    retry_after: Some(std::time::Duration::from_secs(7)),
                }
            );
        }
    }
    sink.send(&one).await.unwrap();
    assert_eq!(
        fake.rows().len(),
        1,
        "only the unscripted send was accepted"
    );
    assert_eq!(fake.tokens_issued(), 1);
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_resends_once() {
    let fake = SentinelFake::builder().start().await;
    let sink = sink(&fake);
    let batch = units(&sink, &items(1)[..3]);
    fake.script_ingest(0, azure(401, "InvalidAuthenticationToken", "expired"));
    sink.send(&batch).await.unwrap();
    let statuses: Vec<u16> = fake.ingests().iter().map(|i| i.status).collect();
    assert_eq!(statuses, vec![401, 204]);
    assert_eq!(fake.tokens_issued(), 2);
    assert_eq!(fake.rows().len(), 3);
    // A real 401: the fake forgot every token.
    fake.revoke_tokens();
    sink.send(&batch).await.unwrap();
    assert_eq!(fake.tokens_issued(), 3);
    assert_eq!(fake.answered(401), 2);
    assert_eq!(fake.rows().len(), 6);
}

#[tokio::test]
async fn a_401_that_persists_is_retried_then_dead_lettered() {
    let fake = SentinelFake::builder().start().await;
    let sink = sink(&fake);
    let batch = units(&sink, &items(1)[..1]);
    for i in 0..(2 * UNAUTHORIZED_LIMIT as usize) {
        fake.script_ingest(i, azure(401, "InvalidAuthenticationToken", "audience"));
    }
    for n in 1..=UNAUTHORIZED_LIMIT {
        let err = sink.send(&batch).await.unwrap_err();
        assert_eq!(
            err.is_retryable(),
            n < UNAUTHORIZED_LIMIT,
            "send {n}: {err}"
        );
        assert!(
            err.reason()
                .ends_with(&format!("(with a fresh token; {n} such in a row)")),
            "{err}"
        );
        assert!(
            err.reason()
                .starts_with("HTTP 401 InvalidAuthenticationToken: audience")
        );
    }
    assert_eq!(
        fake.tokens_issued(),
        2 * UNAUTHORIZED_LIMIT as usize,
        "one refresh per 401"
    );
    // Access works again: delivered, and the count starts over.
    sink.send(&batch).await.unwrap();
    fake.script_ingest(
        fake.ingests().len(),
        azure(401, "InvalidAuthenticationToken", "x"),
    );
    fake.script_ingest(
        fake.ingests().len() + 1,
        azure(401, "InvalidAuthenticationToken", "x"),
    );
    assert!(sink.send(&batch).await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn a_bad_client_secret_is_permanent_and_never_quoted() {
    let fake = SentinelFake::builder().start().await;
    let secret = "Wr0ng~s3cret~value~that~must~not~leak";
    let sink = sink_with(&fake, secret, "");
    let err = sink.send(&units(&sink, &items(1)[..1])).await.unwrap_err();
    let SinkError::Permanent { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.starts_with(
            "token request refused: HTTP 401 invalid_client (AADSTS7000215: Invalid client secret"
        ),
        "{reason}"
    );
    assert!(
        !reason.contains(secret) && !reason.contains("Trace ID"),
        "{reason}"
    );
    assert!(!format!("{err:?}").contains(secret));
    assert_eq!(fake.tokens_issued(), 0);
    assert!(fake.ingests().is_empty(), "nothing sent without a token");
}

#[tokio::test]
async fn token_endpoint_outages_are_retryable_and_honour_retry_after() {
    let fake = SentinelFake::builder().start().await;
    let sink = sink(&fake);
    let batch = units(&sink, &items(1)[..1]);
    let server = fake.server();
    server.inject(
        0,
        Answer::json(429, &json!({"error": "temporarily_unavailable"}))
            .with_header("retry-after", "9"),
    );
    server.inject(1, Answer::text(503, "down"));
    server.inject(2, Answer::Drop);
    let e = sink.send(&batch).await.unwrap_err();
    assert_eq!(
        e,
        SinkError::Retryable {
            reason: "token request refused: HTTP 429 temporarily_unavailable".into(),
            retry_after: Some(std::time::Duration::from_secs(9)),
        }
    );
    let e = sink.send(&batch).await.unwrap_err();
    assert_eq!(e.to_string(), "retryable: token request refused: HTTP 503");
    let e = sink.send(&batch).await.unwrap_err();
    assert!(
        e.is_retryable() && e.reason().starts_with("token request: "),
        "{e}"
    );
    sink.send(&batch).await.unwrap();
    let token_requests = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!((token_requests, fake.tokens_issued()), (4, 1));
    assert_eq!(fake.rows().len(), 1);
}
